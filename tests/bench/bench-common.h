/*
 * What the IOPS benchmarks (nvme-iops.c, virtio-blk-iops.c) share: the raw
 * io_uring side, the scratch file, the timed loop, argument parsing and the
 * printed figures. Each benchmark supplies only its in-process driver for
 * the device, as a bench_driver.
 */
#ifndef TESSERA_BENCH_COMMON_H
#define TESSERA_BENCH_COMMON_H

#include <stdint.h>
#include <tessera/harness.h>

#define QD 32                /* requests kept in flight on either side */
#define BS 4096              /* bytes per random read */
#define QSIZE 128            /* entries in the device's I/O queue */
#define DATA 0x1000000ull    /* guest address of the QD read buffers */

/* The -drive option string for path: raw, and cache=none under --direct
 * (O_DIRECT, as the raw side then opens the file). The caller frees it. */
char *bench_drive_opts(const char *path);

/* The random block sequence, the same on both sides. */
typedef struct bench_rand {
    uint64_t state, nblocks;
} bench_rand;

/* The next random 4 KiB block of the file, as a 512-byte sector number. */
uint64_t bench_next_sector(bench_rand *r);

/* Waits for the device's completions and drops the MSI-X messages raised
 * (the interrupts a guest would take). */
void bench_wait_irq(tes_harness *h);

typedef struct bench_driver {
    const char *name;       /* "--only NAME" and the ratio line */
    const char *title;      /* the IOPS line: "TITLE (harness):" */
    const char *plugin_env; /* environment variable naming the plugin */
    const char *plugin_so;  /* the plugin's file name, for the usage line */
    const char *image;      /* scratch file made in $TMPDIR without FILE */
    double aim;             /* the ratio to reach (0: 0.8) */
    /* Loads plugin, attaches path as the device's drive; exits on failure. */
    void *(*up)(const char *plugin, const char *path);
    /* Queues a BS read of sector into buffer slot (no doorbell yet). */
    void (*submit)(void *d, unsigned slot, uint64_t sector);
    /* Rings the doorbell for what was queued. */
    void (*kick)(void *d);
    /* Waits, requeues each completed slot at bench_next_sector(r), rings
     * once; returns how many completed. Exits if a read failed. */
    unsigned (*reap)(void *d, bench_rand *r);
    /* Resets the device (draining what is in flight) and frees the harness. */
    void (*down)(void *d);
} bench_driver;

/* The whole benchmark: parses argv, runs raw io_uring then drv, prints. */
int bench_main(int argc, char **argv, const bench_driver *drv);

#endif
