/*
 * The shared action interpreter of the device fuzz targets (fuzz-dev.h is
 * the contract, tests/fuzz/README.md the guide).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuzz-dev.h"

/* Generic actions; target actions follow them in the opcode space. */
enum {
    ACT_MMIO_READ,
    ACT_MMIO_WRITE,
    ACT_MMIO_WRITE_ANY, /* anywhere in system memory, not just the windows */
    ACT_CFG_READ,
    ACT_CFG_WRITE,
    ACT_RAM_SCRIBBLE,
    ACT_RAM_POINTER,
    ACT_CLOCK_STEP,
    ACT_RESET,
    ACT_MIGRATE,
    ACT_BLOCK,
    ACT_GENERIC
};

static const fz_target *loaded;
static long action_ms_limit;

/* ---- input ---- */

bool fz_more(fz *f)
{
    return f->pos < f->len;
}

uint8_t fz_u8(fz *f)
{
    return f->pos < f->len ? f->in[f->pos++] : 0;
}

/* The operands of | are unsequenced: one byte, then the next, so that an
 * input means the same in every compiler's build (gcc replays what clang
 * fuzzed). The same rule holds for function arguments below. */
uint16_t fz_u16(fz *f)
{
    uint16_t lo = fz_u8(f);

    return lo | (uint16_t)fz_u8(f) << 8;
}

uint32_t fz_u32(fz *f)
{
    uint32_t lo = fz_u16(f);

    return lo | (uint32_t)fz_u16(f) << 16;
}

uint64_t fz_u64(fz *f)
{
    uint64_t lo = fz_u32(f);

    return lo | (uint64_t)fz_u32(f) << 32;
}

uint32_t fz_len(fz *f)
{
    uint8_t k = fz_u8(f);

    return k & 0x80 ? fz_u32(f) : (uint32_t)k * 16 + (fz_u8(f) & 0xf);
}

unsigned fz_size(fz *f)
{
    return 1u << (fz_u8(f) & 3);
}

uint64_t fz_addr(fz *f)
{
    uint8_t kind = fz_u8(f);
    uint64_t x;

    switch (kind & 15) {
    case 0 ... 5:
        return fz_u32(f) % f->ram_size;
    case 6:
        return (fz_u32(f) % f->ram_size) & ~0xfffull; /* a page */
    case 7:
        return ((fz_u32(f) % f->ram_size) | 0xff8) - (kind >> 4) * 8; /* page end */
    case 8:
        return f->ram_size - (fz_u8(f) & 0x7f); /* straddles the end of RAM */
    case 9:
        return f->ram_size + fz_u32(f); /* past RAM */
    case 10:
        if (f->n_win) {
            const fz_window *w = &f->win[fz_u8(f) % f->n_win];

            if (!w->io) {
                return w->base + fz_u32(f) % w->size; /* DMA into registers */
            }
        }
        return fz_u64(f);
    case 11:
        return TES_HARNESS_MSI_BASE + (fz_u16(f) & 0xffc);
    case 12:
        return UINT64_MAX - fz_u16(f);
    case 13:
        return fz_u64(f);
    default:
        x = fz_u16(f);
        return (x << 12) % f->ram_size; /* small page numbers: rings overlap */
    }
}

/* ---- set-up ---- */

void fz_window_add(fz *f, uint64_t base, uint64_t size, bool io)
{
    if (f->n_win < FZ_MAX_WINDOWS && size) {
        f->win[f->n_win++] = (fz_window){base, size, io};
    }
}

unsigned fz_device_add(fz *f, tes_device *dev, fz_map_fn map)
{
    g_assert(f->n_dev < FZ_MAX_DEVICES);
    f->dev[f->n_dev] = dev;
    f->map[f->n_dev] = map;
    return f->n_dev++;
}

void fz_device_fixed(fz *f, unsigned idx)
{
    g_assert(idx < f->n_dev);
    f->fixed[idx] = true;
}

void fz_map_mmio(fz *f, tes_device *dev, unsigned idx, uint64_t addr)
{
    tes_region *r = f->host->dev_mmio(dev, idx);

    g_assert(r);
    f->host->region_add(f->host->system_memory(), addr, r, 0);
    fz_window_add(f, addr, f->host->region_size(r), false);
}

void fz_pci_park_bars(fz *f, tes_device *dev, int keep)
{
    for (int i = 0; i < 6; i++) {
        /* The type bits are read-only: what the device registered. */
        uint32_t v = tes_harness_cfg_read(f->h, dev, TES_PCI_BAR0 + 4 * i, 4);

        if (!(v & 1) && i != keep) {
            tes_harness_bar_map(f->h, dev, i, FZ_PARK_BASE + ((uint64_t)i << 24));
        }
        if ((v & 7) == 4) {
            i++; /* the upper half of a 64-bit BAR */
        }
    }
}

void fz_fail(fz *f, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz: invariant broken at action %u: ", f ? f->actions : 0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

void fz_block_drain(fz *f)
{
    /* block_wait returns at once when nothing is in flight; each call
     * otherwise completes at least one request. */
    for (int i = 0; i < 1024; i++) {
        tes_harness_block_wait(f->h);
    }
}

/* ---- generic actions ---- */

static const fz_window *pick_window(fz *f)
{
    return f->n_win ? &f->win[fz_u8(f) % f->n_win] : NULL;
}

static void act_mmio(fz *f, bool write)
{
    const fz_window *w = pick_window(f);
    unsigned size = fz_size(f);
    uint64_t off, val;

    if (!w) {
        return;
    }
    off = fz_u32(f) % w->size;
    val = fz_u64(f);
    if (w->io) {
        write ? tes_harness_io_write(f->h, w->base + off, val, size)
              : (void)tes_harness_io_read(f->h, w->base + off, size);
    } else {
        write ? tes_harness_write(f->h, w->base + off, val, size)
              : (void)tes_harness_read(f->h, w->base + off, size);
    }
}

static bool is_pci(fz *f, tes_device *d)
{
    return tes_harness_cfg_read(f->h, d, 0, 2) != 0xffff;
}

static void act_cfg(fz *f, bool write)
{
    tes_device *d = f->n_dev ? f->dev[fz_u8(f) % f->n_dev] : NULL;
    unsigned size = 1u << (fz_u8(f) % 3);
    uint32_t off = fz_u16(f) & 0xfff & ~(size - 1);
    uint32_t val = fz_u32(f);

    if (!d || !is_pci(f, d)) {
        return;
    }
    if (write) {
        tes_harness_cfg_write(f->h, d, off, val, size);
    } else {
        tes_harness_cfg_read(f->h, d, off, size);
    }
}

static void act_scribble(fz *f)
{
    uint64_t addr = fz_u32(f) % f->ram_size;
    unsigned len = fz_u8(f) % 65;

    for (unsigned i = 0; i < len && addr + i < f->ram_size; i++) {
        f->ram[addr + i] = fz_u8(f);
    }
}

static void act_pointer(fz *f)
{
    uint64_t at = (fz_u32(f) % f->ram_size) & ~7ull;
    uint64_t p = fz_addr(f);

    if (at + 8 <= f->ram_size) {
        memcpy(f->ram + at, &p, 8);
    }
}

bool fz_generic_pokes(fz *f)
{
    switch (f->op) {
    case ACT_MMIO_WRITE:
    case ACT_MMIO_WRITE_ANY:
    case ACT_CFG_WRITE:
    case ACT_RAM_SCRIBBLE:
    case ACT_RAM_POINTER:
    case ACT_RESET:
        return true;
    default:
        return false;
    }
}

static void act_write_any(fz *f)
{
    uint64_t addr = fz_addr(f), val = fz_u64(f);

    tes_harness_write(f->h, addr, val, fz_size(f));
}

static void act_migrate(fz *f)
{
    unsigned i;
    size_t bytes = 0;
    tes_device *nd;

    if (!f->n_dev) {
        return;
    }
    i = fz_u8(f) % f->n_dev;
    if (f->fixed[i]) {
        return;
    }
    fz_block_drain(f); /* as the migration code does before saving */
    nd = tes_harness_migrate(f->h, f->dev[i], &bytes);
    if (!nd) {
        /* Nothing a guest does may make its device unmigratable. */
        fz_fail(f, "migration round trip refused: %s", tes_harness_error(f->h));
    }
    f->dev[i] = nd;
    if (f->map[i]) {
        f->map[i](f, nd);
    }
}

int64_t fz_ns(fz *f, unsigned shifts)
{
    int64_t ns = fz_u16(f);

    return ns << (fz_u8(f) % shifts);
}

static void generic(fz *f, unsigned op)
{
    switch (op) {
    case ACT_MMIO_READ:
    case ACT_MMIO_WRITE:
        act_mmio(f, op == ACT_MMIO_WRITE);
        break;
    case ACT_MMIO_WRITE_ANY:
        act_write_any(f);
        break;
    case ACT_CFG_READ:
    case ACT_CFG_WRITE:
        act_cfg(f, op == ACT_CFG_WRITE);
        break;
    case ACT_RAM_SCRIBBLE:
        act_scribble(f);
        break;
    case ACT_RAM_POINTER:
        act_pointer(f);
        break;
    case ACT_CLOCK_STEP:
        /* Up to ~4 s of virtual time, in steps a timer can fire in. */
        tes_harness_clock_step(f->h, fz_ns(f, 17));
        break;
    case ACT_RESET:
        tes_harness_reset(f->h);
        break;
    case ACT_MIGRATE:
        act_migrate(f);
        break;
    case ACT_BLOCK:
        tes_harness_block_poll(f->h);
        break;
    }
}

/* ---- the run ---- */

/* CPU time of this thread: what a device burns on one guest action,
 * whatever else the machine runs (CI shares its cores). A hang waiting for
 * something never coming is libFuzzer's -timeout's to catch. */
static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void action(fz *f)
{
    unsigned op = fz_u8(f) % (ACT_GENERIC + f->t->n_ops);
    long t0 = now_ms(), dt;

    f->op = op;
    if (op < ACT_GENERIC) {
        generic(f, op);
    } else {
        f->t->op(f, op - ACT_GENERIC);
    }
    if (f->t->check) {
        f->t->check(f);
    }
    dt = now_ms() - t0;
    if (dt > action_ms_limit) {
        fz_fail(f, "action (opcode %u) took %ld ms of CPU (limit %ld)", op, dt, action_ms_limit);
    }
}

static char *plugin_path(const char *name)
{
    const char *dir = g_getenv("TESSERA_FUZZ_PLUGINDIR");

    /* "virtio": plugins/virtio/virtio.so; "net/e1000": plugins/net/e1000.so. */
    if (strchr(name, '/')) {
        return g_strdup_printf("%s/%s.so", dir ? dir : FUZZ_BUILD_PLUGINDIR, name);
    }
    return g_strdup_printf("%s/%s/%s.so", dir ? dir : FUZZ_BUILD_PLUGINDIR, name, name);
}

void fz_init(const fz_target *t)
{
    /* Plugins stay loaded across harnesses: load them once, here, so
     * libFuzzer sees their coverage counters before it starts. */
    tes_harness *h = tes_harness_new(1 << 20);
    const char *ms = g_getenv("FUZZ_ACTION_MS");

    for (int i = 0; t->plugins[i]; i++) {
        char *p = plugin_path(t->plugins[i]);

        if (!tes_harness_load(h, p)) {
            fprintf(stderr, "fuzz: %s\n", tes_harness_error(h));
            exit(1);
        }
        g_free(p);
    }
    tes_harness_free(h);
    action_ms_limit = ms ? atol(ms) : 1000;
    if (t->init) {
        t->init();
    }
    loaded = t;
}

int fz_run(const fz_target *t, const uint8_t *data, size_t size)
{
    fz f = {.t = t, .in = data, .len = size};

    if (loaded != t) {
        fz_init(t);
    }
    f.h = tes_harness_new(t->ram_size);
    f.host = tes_harness_host(f.h);
    f.ram = tes_harness_ram(f.h);
    f.ram_size = t->ram_size;
    t->setup(&f);
    while (fz_more(&f) && f.actions < FZ_MAX_ACTIONS) {
        action(&f);
        f.actions++;
    }
    fz_block_drain(&f);
    if (t->teardown) {
        t->teardown(&f);
    }
    tes_harness_free(f.h);
    return 0;
}

void fz_check_screendump(fz *f, const char *who, uint64_t max_bytes)
{
    static char shot[64];
    char cmd[160];
    char *r, *data = NULL;
    gsize len = 0;
    unsigned w, h;
    int n = 0;

    if (!shot[0]) {
        snprintf(shot, sizeof(shot), "/tmp/fuzz-screendump-%d.ppm", (int)getpid());
    }
    snprintf(cmd, sizeof(cmd),
             "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"%s\"}}", shot);
    r = tes_harness_qmp(f->h, cmd);
    if (!strstr(r, "\"return\"")) {
        fz_fail(f, "%s: screendump failed: %s", who, r);
    }
    free(r);
    if (!g_file_get_contents(shot, &data, &len, NULL)) {
        data = NULL;
    }
    /* The header is three lines; "\n" in a scanf format would also eat
     * a first pixel byte that happens to be white space. */
    for (gsize i = 0, lines = 0; data && i < len && lines < 3; i++) {
        if (data[i] == '\n' && ++lines == 3) {
            n = (int)(i + 1);
        }
    }
    if (!data || !n || sscanf(data, "P6 %u %u 255", &w, &h) != 2 ||
        len != (gsize)n + (gsize)w * h * 3 || (uint64_t)w * h * 2 > max_bytes) {
        fz_fail(f, "%s: screendump wrote %zu bytes that are not one picture", who,
                (size_t)len);
    }
    g_free(data);
    g_unlink(shot);
}
