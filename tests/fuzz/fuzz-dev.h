/*
 * Device fuzzing through the harness: a shared action interpreter that
 * turns the fuzzer's byte string into what a hostile guest does to a
 * device, and asserts the invariants after each action.
 *
 * A device target (tests/fuzz/fuzz-DEV.c) fills a fz_target and ends with
 * FZ_TARGET(that_target). Per input, fz_run() makes a fresh harness, calls
 * setup() (create the devices, map their windows with fz_window_add(),
 * list what may be migrated with fz_device_add()), then reads actions until
 * the input ends (at most FZ_MAX_ACTIONS):
 *
 *   generic  MMIO and PIO reads and writes in the windows (and anywhere),
 *            config-space reads and writes of PCI devices, RAM scribbles,
 *            guest-address "pointers" planted in RAM (in RAM, at its end,
 *            beyond it, into the device's own windows, into the MSI window),
 *            clock steps, system resets, migration round trips of a
 *            device (tes_harness_migrate), block completions;
 *   target   n_ops operations of the target's own (op(f, i)): structured
 *            commands (an NVMe SQE, a virtqueue chain, ...) and checks that
 *            need a driver (data written through the device is on the file).
 *
 * After every action: check() (optional), and the action must have taken
 * less than $FUZZ_ACTION_MS (default 1000) ms of CPU time. A failed
 * invariant is fz_fail(): one line on stderr and abort(), which libFuzzer
 * records as a crash with the input that caused it.
 */
#ifndef FUZZ_DEV_H
#define FUZZ_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/harness.h>

#define FZ_MAX_ACTIONS 512
#define FZ_MAX_WINDOWS 16
#define FZ_MAX_DEVICES 16

typedef struct fz fz;

/* How a device's sysbus regions are put back after a migration round trip
 * re-created it (PCI devices keep their BARs through the stream: NULL). */
typedef void (*fz_map_fn)(fz *f, tes_device *dev);

typedef struct fz_window {
    uint64_t base, size;
    bool io; /* I/O port space rather than memory */
} fz_window;

typedef struct fz_target {
    /* Plugins to load, by their build-tree name, NULL-terminated. */
    const char *plugins[6];
    uint64_t ram_size;
    /* Once per process, before any input (e.g. make a backing image). */
    void (*init)(void);
    /* Per input: create and map devices. */
    void (*setup)(fz *f);
    /* Target actions 0..n_ops-1. */
    unsigned n_ops;
    void (*op)(fz *f, unsigned op);
    /* Invariants after each action (may be NULL). */
    void (*check)(fz *f);
    /* Per input, before the harness goes (may be NULL). */
    void (*teardown)(fz *f);
} fz_target;

struct fz {
    const fz_target *t;
    tes_harness *h;
    const tes_host *host;
    uint8_t *ram;
    uint64_t ram_size;
    const uint8_t *in;
    size_t len, pos;
    fz_window win[FZ_MAX_WINDOWS];
    unsigned n_win;
    tes_device *dev[FZ_MAX_DEVICES]; /* current instance (migration replaces it) */
    fz_map_fn map[FZ_MAX_DEVICES];
    bool fixed[FZ_MAX_DEVICES];
    unsigned n_dev;
    unsigned actions;
    unsigned op; /* the action running (generic ones first, then the target's) */
    void *priv; /* the target's own state */
};

/* Input bytes, little endian; 0 once the input is exhausted. */
bool fz_more(fz *f);
uint8_t fz_u8(fz *f);
uint16_t fz_u16(fz *f);
uint32_t fz_u32(fz *f);
uint64_t fz_u64(fz *f);
/* A guest physical address worth trying: mostly in RAM (aligned or not, at
 * page ends), sometimes at or past its end, in a window of the device
 * (DMA into its own registers), in the MSI window, or near 2^64. */
uint64_t fz_addr(fz *f);
/* A DMA length: mostly under 4 KiB, sometimes any 32-bit value. */
uint32_t fz_len(fz *f);
/* A clock step: 16 bits of ns shifted left by up to shifts - 1. */
int64_t fz_ns(fz *f, unsigned shifts);
/* An access size: 1, 2, 4 or 8. */
unsigned fz_size(fz *f);

void fz_window_add(fz *f, uint64_t base, uint64_t size, bool io);
/* Register dev for config accesses (when PCI) and migration; map (may be
 * NULL) re-maps its sysbus regions. Returns its index in f->dev. */
unsigned fz_device_add(fz *f, tes_device *dev, fz_map_fn map);
/* Keep device idx out of migration round trips (config accesses still
 * reach it): a bridge, whose round trip in the harness would drop what
 * sits behind it (a real migration moves the whole machine). */
void fz_device_fixed(fz *f, unsigned idx);
/* Map sysbus region idx of dev at addr in system memory and add a window. */
void fz_map_mmio(fz *f, tes_device *dev, unsigned idx, uint64_t addr);

/* Firmware's part of a driver's re-initialisation after a fuzzed input:
 * every memory BAR of PCI device dev but BAR keep goes back to a place of
 * its own (FZ_PARK_BASE + 16 MiB per BAR number), so that no BAR the input
 * moved overlaps the one the driver is about to map (overlapping BARs are
 * a guest's mistake, PCI 3.0 section 6.2.5.1, not the device's). */
#define FZ_PARK_BASE 0xe0000000ull
void fz_pci_park_bars(fz *f, tes_device *dev, int keep);

/* Display targets: QMP screendump of the first console must answer and
 * write one whole P6 whose pixels (at 2 bytes each, the smallest format)
 * fit in max_bytes;
 * else fz_fail naming who. The surface the core reads stays under the
 * sanitizers' eyes. */
void fz_check_screendump(fz *f, const char *who, uint64_t max_bytes);

/* Whether the action running is a generic one that may have changed guest
 * memory or device state behind a driver's back (writes to registers,
 * config space or RAM, a reset): a target's driver bookkeeping no longer
 * holds after it. */
bool fz_generic_pokes(fz *f);

/* Reap block completions until none is in flight (bounded). */
void fz_block_drain(fz *f);

/* A broken invariant: print the message (and the action number), abort. */
void fz_fail(fz *f, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* One input through target t (what LLVMFuzzerTestOneInput calls). */
int fz_run(const fz_target *t, const uint8_t *data, size_t size);
/* Load t's plugins and run its init (what LLVMFuzzerInitialize calls). */
void fz_init(const fz_target *t);

#define FZ_TARGET(t)                                                         \
    int LLVMFuzzerInitialize(int *argc, char ***argv);                       \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);            \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                        \
    {                                                                        \
        fz_init(&(t));                                                       \
        return 0;                                                            \
    }                                                                        \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)             \
    {                                                                        \
        return fz_run(&(t), data, size);                                     \
    }

#endif
