/*
 * tessera: the command line of the tessera binary (QEMU's grammar).
 *
 * cli_parse() only records what was asked for; main.c acts on it in a
 * fixed order (log, plugins, help requests, backends, machine, devices,
 * monitors, start).
 */
#ifndef TESSERA_CLI_H
#define TESSERA_CLI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct cli_opts {
    char *machine;      /* -M TYPE[,props]; NULL: cli_default_machine() */
    char *cpu;          /* -cpu MODEL */
    unsigned smp;       /* -smp total vCPUs; 0 when not given */
    unsigned smp_max;   /* -smp maxcpus (given or implied); 0 when not given */
    struct cli_smp {
        /* The whole -smp topology as QEMU completes it; all 0 without -smp.
         * Each level counts per parent level: maxcpus = product. */
        unsigned cpus, max_cpus, sockets, dies, clusters, cores, threads;
    } smp_topo;
    GPtrArray *numas;    /* -numa optargs, command-line order */
    GPtrArray *objects;  /* -object optargs */
    uint64_t ram_size;  /* -m, bytes; 0 when not given */
    uint64_t maxmem;    /* -m maxmem=, bytes; 0 when not given */
    unsigned ram_slots; /* -m slots= */
    char *kernel, *initrd, *append, *dtb;
    GPtrArray *drives;   /* -drive optargs; -hda.. -cdrom as "index=N,media=M,file=F" */
    GPtrArray *blockdevs; /* -blockdev optargs (dotted keys or JSON) */
    GPtrArray *devices;  /* -device optargs, command-line order */
    GPtrArray *netdevs;  /* -netdev optargs */
    GPtrArray *nics;     /* -nic optargs */
    GPtrArray *nets;     /* -net optargs (legacy) */
    GPtrArray *serials;  /* -serial specs */
    GPtrArray *monitors; /* -monitor specs */
    GPtrArray *qmps;     /* -qmp specs */
    GPtrArray *plugins;  /* -plugin files */
    char *log_mask;      /* -d */
    char *log_file;      /* -D */
    GPtrArray *traces;   /* -trace args */
    char *msg;           /* -msg timestamp=on|off */
    char *incoming;      /* -incoming URI */
    char *display;       /* -display (accepted: none) */
    char *vga;           /* -vga std|virtio|none (vga-cli.c) */
    char *vnc;           /* -vnc [HOST]:N | unix:PATH | none */
    int accel_jit;       /* -accel tcg,jit=: -1 when not given, 0 off, 1 on */
    uint64_t tb_size;    /* -accel tcg,tb-size= in MiB; 0 when not given */
    bool accel_help;     /* -accel help */
    GPtrArray *accels;   /* accelerator names in the order to try them */
    char *accel_warning; /* kvm skipped for a later tcg: main() prints it */
    bool nographic;
    bool start_paused;   /* -S */
    char *gdb;           /* -gdb DEV */
    bool gdb_default;    /* -s: -gdb tcp::1234 */
    bool no_reboot;
    char *watchdog_action; /* -watchdog-action (checked by cli_parse) */
    GPtrArray *globals;    /* -global DRIVER.PROP=VALUE (cli_parse registers them) */
    bool nodefaults;
    bool list_plugins;
    bool version;
    bool help;
} cli_opts;

/* Fill o from argv. false with a one-line message in *errp (without the
 * "tessera: " prefix) on an unknown option, a missing argument or a bad
 * value. */
bool cli_parse(int argc, char **argv, cli_opts *o, char **errp);
void cli_opts_free(cli_opts *o);
void cli_print_help(FILE *out);
/* Sizes as -m takes them: a bare number is MiB; K/M/G/T suffixes. */
bool cli_parse_size(const char *s, uint64_t *bytes, char **errp);
/* -smp N[,cpus=N,maxcpus=M,sockets=S,cores=C,threads=T] -> vCPUs at start
 * and maxcpus (NULL: not wanted), as QEMU computes them; false when the
 * topology does not multiply out to maxcpus or exceeds 4096. */
bool cli_parse_smp(const char *s, unsigned *cpus, unsigned *maxcpus, char **errp);
/* The same, keeping the topology (dies= and clusters= as well: the
 * machine decides whether it has those levels). */
typedef struct cli_smp cli_smp;
bool cli_parse_smp_topo(const char *s, cli_smp *out, char **errp);
/* A size with K/M/G/T suffixes whose bare number means bare_mult bytes
 * (1 for -object size=, MiB for -numa mem=); opt names the option in the
 * error line. */
bool cli_parse_size_unit(const char *s, uint64_t bare_mult, const char *opt, uint64_t *bytes,
                         char **errp);

/* The machine when -M names no type, from the binary's name (argv[0]):
 * "pc" for tessera-system-x86_64, "none" for tessera; NULL with QEMU's
 * "No machine specified" line in *errp for tessera-system-aarch64. */
const char *cli_default_machine(const char *argv0, char **errp);

#endif
