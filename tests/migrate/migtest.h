/*
 * Migration round-trip tests of device types through the harness: a
 * reference run against migrated runs, compared by what the guest sees.
 *
 * A case is a driver-like script: build() creates the devices on a fresh
 * harness (the "command line"), steps[] are what a driver does, one after
 * the other, reading registers through mt_rd()/mt_in()/mt_cfg_rd() and
 * guest memory through mt_ram(), which record what they read in a trace.
 * After every step the runner records, by itself, the interrupt lines of
 * every device made with mt_dev() (sysbus outputs, PCI INTx), the MSIs
 * received (each distinct message once per step: how many a device sends
 * for requests that complete together is the host's timing), and the
 * frames sent on every netdev made with mt_netdev().
 *
 * mt_run() runs the script once unmigrated (the reference), then once per
 * cut point k (after step k-1, 1 <= k < n): steps before k on a source
 * harness, then the whole machine saved (tes_harness_machine_save), the
 * harness freed, a FRESH one built by the same build() and loaded, and the
 * steps from k on there. Each trace must equal the reference line by line.
 * So a step should leave work mid-way (a request submitted and not yet
 * reaped, an interrupt pending and not acknowledged, a timer armed, a FIFO
 * half full, registers away from their reset values) for the next step to
 * finish after the cut.
 *
 * Between steps every run does what a save would: block I/O is drained and
 * timers due now fire (a clock step of 0), so that the reference and the
 * migrated runs see the same device at each cut.
 */
#ifndef MIGTEST_H
#define MIGTEST_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <tessera/harness.h>

#define MT_MAX_STEPS 16
#define MT_MAX_DEVS 16
#define MT_MAX_NETS 4

typedef struct mt mt;
typedef void (*mt_fn)(mt *m);

typedef struct mt_case {
    const char *name;     /* test path component */
    const char *plugins[6]; /* by build-tree name: "edu", "net/e1000" */
    uint64_t ram_size;    /* 0: 2 MiB (a save copies it all: keep it small) */
    mt_fn prepare;        /* once per run, before the first build (files) */
    mt_fn build;          /* per harness: drives, netdevs, devices, maps */
    mt_fn steps[MT_MAX_STEPS]; /* NULL-terminated */
    const void *data;     /* the script's own parameters */
} mt_case;

struct mt {
    const mt_case *c;
    tes_harness *h;
    uint8_t *ram;
    tes_device *dev[MT_MAX_DEVS];
    unsigned n_dev;
    tes_cpu *cpu[2];
    unsigned n_cpu;
    char *net[MT_MAX_NETS];
    unsigned n_net;
    GString *trace;
    GPtrArray *set; /* mt_set_add's notes, not yet recorded */
    unsigned step;
    char *dir;       /* a temporary directory of this run (images) */
    uint64_t u[32];  /* the script's own bookkeeping: a guest driver's
                      * variables, which live in guest RAM and so survive */
    bool migrated;   /* this run has crossed its cut */
};

/* Run case c as a GTest (adds it under /migrate/<c->name>). */
void mt_add(const mt_case *c);

/* Set-up, for build(). */
tes_device *mt_dev(mt *m, const char *type, const char *props);
void mt_drive(mt *m, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void mt_netdev(mt *m, const char *id);
tes_cpu *mt_cpu(mt *m, const char *model);
/* Run vCPU i for budget instructions; the status and count recorded. */
void mt_exec(mt *m, unsigned i, uint64_t budget);
void mt_map(mt *m, tes_device *d, unsigned idx, uint64_t addr);
/* An image file in the run's directory, n bytes, byte i = (i * 7 + seed). */
char *mt_image(mt *m, const char *name, size_t n, uint8_t seed);

/* Guest-visible results, recorded. */
uint64_t mt_rd(mt *m, uint64_t addr, unsigned size);
uint64_t mt_in(mt *m, uint64_t port, unsigned size);
uint32_t mt_cfg_rd(mt *m, tes_device *d, uint32_t off, unsigned size);
void mt_ram(mt *m, uint64_t addr, size_t len); /* a digest of guest RAM */
void mt_file(mt *m, const char *path, uint64_t off, size_t len); /* of a file */
void mt_note(mt *m, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Completions of requests in flight together (on different drives, or
 * reordered by the host's I/O) arrive in the host's order: collect their
 * notes with mt_set_add and record them sorted with mt_set_flush. */
void mt_set_add(mt *m, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void mt_set_flush(mt *m);

/* Actions, not recorded. */
void mt_wr(mt *m, uint64_t addr, uint64_t val, unsigned size);
void mt_out(mt *m, uint64_t port, uint64_t val, unsigned size);
void mt_cfg_wr(mt *m, tes_device *d, uint32_t off, uint32_t val, unsigned size);
void mt_clock(mt *m, int64_t ns);
/* Drive input line n of d (an interrupt controller's pin, a button). */
void mt_irq_in(mt *m, tes_device *d, unsigned n, int level);
void mt_inject(mt *m, const char *id, const void *frame, size_t len); /* its answer recorded */

/* Guest RAM, little-endian. */
void mt_put32(mt *m, uint64_t addr, uint32_t v);
void mt_put64(mt *m, uint64_t addr, uint64_t v);
uint32_t mt_get32(mt *m, uint64_t addr);

/* Migrate now, from inside a step: what `migrate` does with requests still
 * in flight (the cut between steps comes after they are reaped). The
 * machine is rebuilt with build(); the run counts as migrated. */
void mt_cut(mt *m);

/* Map PCI device d's BAR bar at addr (decoding and bus mastering on). */
uint64_t mt_bar(mt *m, tes_device *d, int bar, uint64_t addr);

#endif
