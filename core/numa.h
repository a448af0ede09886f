/*
 * tessera core: the CPU topology (-smp) and NUMA (-numa) of the machine,
 * and the memory backends (-object memory-backend-*) nodes and devices
 * take their RAM from.
 *
 * Order of use (main.c, machine.c): topology_set() from -smp, memdevs from
 * -object, numa_parse() for each -numa (which needs maxcpus and the
 * backends), then numa_complete() once the machine's defaults (RAM size,
 * architecture) are known. machine_topology() is what the SDK hands out.
 */
#ifndef TESSERA_NUMA_H
#define TESSERA_NUMA_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <tessera/tessera.h>

#include "cli.h"

#define NUMA_MAX_NODES 128 /* QEMU's MAX_NODES */

/* -smp as parsed (NULL or all zero: one CPU). */
void topology_set(const cli_smp *smp);
/* -m maxmem= and slots= (0, 0: none), for machine_topology(). */
void topology_set_memory(uint64_t maxmem, unsigned slots);
/* One -numa argument: node, dist or cpu. false with QEMU's line. */
bool numa_parse(const char *arg, char **errp);
/* Check and complete -numa against the machine: node memory adds up to
 * ram_size, no node ID missing, distances, every CPU on a node; arch
 * ("x86_64", "aarch64", NULL) decides whether dies/clusters exist; cpus
 * (the machine's vCPU count) stands in for a -smp never given. */
bool numa_complete(uint64_t ram_size, const char *arch, unsigned cpus, char **errp);
const tes_topology *machine_topology(void);
/* -numa node options given so far (before numa_complete too). */
unsigned numa_nodes_given(void);
/* Node i's memdev= backend, NULL when the nodes use mem= (or none). */
const char *numa_node_memdev(unsigned i);
/* HMP "info numa", QEMU's lines. */
void numa_info_print(GString *out);
/* Forget -smp and -numa (unit tests). */
void numa_reset(void);

/* ---- memory backends (memdev.c) ---- */
/* -object memory-backend-ram|file|memfd,id=,size=,...; other types are
 * refused with QEMU's line. */
bool memdev_add(const char *optarg, char **errp);
bool memdev_exists(const char *id);
/* Size of backend id, 0 when there is none. */
uint64_t memdev_size(const char *id);
/* Mark id used by user (a description for errors): false with QEMU's
 * "already busy" line when it is in use, or when it does not exist. */
bool memdev_claim(const char *id, const char *user, char **errp);
/* Map backend id (claimed) at host address at (MAP_FIXED over a
 * reservation), or anywhere when at is NULL. NULL with a message. */
void *memdev_map(const char *id, void *at, char **errp);
void memdevs_reset(void);
/* dev_free: the backends dev took with memdev_region are free again. */
void memdev_release_owner(tes_device *owner);
/* object_del: false with QEMU's line when id is unknown or in use. */
bool memdev_del(const char *id, char **errp);

/* ---- the board's RAM (memdev.c) ---- */
/* The SDK's machine_ram_new and memdev_region (host.h), with a message
 * in *errp instead of host->error. */
tes_region *machine_ram_new(tes_device *machine, const char *name, char **errp);
tes_region *memdev_region(tes_device *owner, const char *id, char **errp);

#endif
