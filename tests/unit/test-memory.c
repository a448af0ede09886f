/*
 * Unit tests of the memory core: region tree lookup, aliases, priorities,
 * I/O splitting and widening, endianness, dirty tracking, info mtree.
 */
#include <string.h>

#include "core.h"

#define MAX_CALLS 16

typedef struct call {
    bool write;
    uint64_t off, val;
    unsigned size;
} call;

/* A fake device register file: 64 bytes, logging every callback. */
typedef struct fake_dev {
    uint8_t regs[64];
    call calls[MAX_CALLS];
    unsigned n;
} fake_dev;

static uint64_t fake_read(void *opaque, uint64_t off, unsigned size)
{
    fake_dev *d = opaque;
    uint64_t v = 0;

    memcpy(&v, d->regs + off, size);
    if (d->n < MAX_CALLS) {
        d->calls[d->n++] = (call){false, off, v, size};
    }
    return v;
}

static void fake_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    fake_dev *d = opaque;

    memcpy(d->regs + off, &val, size);
    if (d->n < MAX_CALLS) {
        d->calls[d->n++] = (call){true, off, val, size};
    }
}

static tes_mem_ops ops_for(uint8_t vmin, uint8_t vmax, uint8_t imin, uint8_t imax,
                           tes_endian e)
{
    return (tes_mem_ops){sizeof(tes_mem_ops), fake_read, fake_write, e, vmin, vmax, imin, imax};
}

static uint64_t rd(uint64_t addr, unsigned size)
{
    uint64_t v = 0;

    as_access(memory_system(), addr, &v, size, false);
    return v;
}

static void wr(uint64_t addr, uint64_t v, unsigned size)
{
    as_access(memory_system(), addr, &v, size, true);
}

static void test_ram_round_trip(void)
{
    tes_region *ram = region_new_ram(NULL, "ram", 0x10000);
    uint8_t in[300], out[300];

    memory_reset();
    region_add(memory_system(), 0x1000, ram, 0);
    for (unsigned i = 0; i < sizeof(in); i++) {
        in[i] = i * 7;
    }
    g_assert_cmpint(as_write(memory_system(), 0x1ff0, in, sizeof(in)), ==, TES_MEM_OK);
    g_assert_cmpint(as_read(memory_system(), 0x1ff0, out, sizeof(out)), ==, TES_MEM_OK);
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
    /* Lands at the right offset of the backing store, little-endian. */
    g_assert_cmpint(((uint8_t *)region_ram_ptr(ram))[0xff0 + 5], ==, 35);
    wr(0x1000, 0x1122334455667788ull, 8);
    g_assert_cmphex(((uint8_t *)region_ram_ptr(ram))[0], ==, 0x88);
    g_assert_cmphex(rd(0x1002, 2), ==, 0x5566);
    region_free(ram);
}

static void test_alias_offset(void)
{
    tes_region *ram = region_new_ram(NULL, "ram", 0x4000);
    tes_region *al = region_new_alias(NULL, "win", ram, 0x1000, 0x1000);
    uint64_t gen;

    memory_reset();
    region_add(memory_system(), 0, ram, 0);
    region_add(memory_system(), 0x100000, al, 0);
    wr(0x1010, 0xabcd, 2);
    g_assert_cmphex(rd(0x100010, 2), ==, 0xabcd);
    gen = memory_generation();
    region_set_alias_offset(al, 0x2000);
    g_assert_cmpuint(memory_generation(), >, gen);
    wr(0x2010, 0x5a, 1);
    g_assert_cmphex(rd(0x100010, 1), ==, 0x5a);
    /* Past the alias window is a hole, though the target goes on. */
    g_assert_cmphex(rd(0x101000, 1), ==, 0xff);
    region_free(al);
    region_free(ram);
}

static void test_priority_overlap(void)
{
    tes_region *low = region_new_ram(NULL, "low", 0x2000);
    tes_region *high = region_new_ram(NULL, "high", 0x1000);
    tes_region *later = region_new_ram(NULL, "later", 0x1000);
    uint8_t buf[2];

    memory_reset();
    memset(region_ram_ptr(low), 0x11, 0x2000);
    memset(region_ram_ptr(high), 0x22, 0x1000);
    memset(region_ram_ptr(later), 0x33, 0x1000);
    region_add(memory_system(), 0, high, 1);
    region_add(memory_system(), 0, low, 0);
    g_assert_cmphex(rd(0x800, 1), ==, 0x22);
    g_assert_cmphex(rd(0x1800, 1), ==, 0x11);
    /* A bulk read across the boundary sees both. */
    as_read(memory_system(), 0xfff, buf, 2);
    g_assert_cmphex(buf[0], ==, 0x22);
    g_assert_cmphex(buf[1], ==, 0x11);
    /* Equal priority: the one added last wins. */
    region_add(memory_system(), 0, later, 1);
    g_assert_cmphex(rd(0x800, 1), ==, 0x33);
    region_del(memory_system(), later);
    region_del(memory_system(), high);
    g_assert_cmphex(rd(0x800, 1), ==, 0x11);
    region_free(low);
    region_free(high);
    region_free(later);
}

static void test_disabled_invisible(void)
{
    tes_region *low = region_new_ram(NULL, "low", 0x1000);
    tes_region *high = region_new_ram(NULL, "high", 0x1000);
    uint64_t len = 0x1000;

    memory_reset();
    memset(region_ram_ptr(low), 0x11, 0x1000);
    memset(region_ram_ptr(high), 0x22, 0x1000);
    region_add(memory_system(), 0, low, 0);
    region_add(memory_system(), 0, high, 1);
    region_set_enabled(high, false);
    g_assert_cmphex(rd(0x10, 1), ==, 0x11);
    g_assert_true(as_ram_ptr(memory_system(), 0x10, &len, true) ==
                  (uint8_t *)region_ram_ptr(low) + 0x10);
    g_assert_cmpuint(len, ==, 0xff0);
    region_set_enabled(high, true);
    g_assert_cmphex(rd(0x10, 1), ==, 0x22);
    region_free(low);
    region_free(high);
}

/* Repeated lookups are cached per thread (memory.c resolve_cached): the
 * answers must stay those of a walk from the root, across window ends,
 * more windows than the cache holds, and map changes between accesses. */
static void test_lookup_cache_tracks_map(void)
{
    tes_region *r[6];
    uint8_t buf[2];

    memory_reset();
    for (unsigned i = 0; i < 6; i++) {
        r[i] = region_new_ram(NULL, "r", 0x1000);
        memset(region_ram_ptr(r[i]), 0x10 + i, 0x1000);
        region_add(memory_system(), 0x10000 * (i + 1), r[i], 0);
    }
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < 6; i++) {
            g_assert_cmphex(rd(0x10000 * (i + 1) + 0x800, 1), ==, 0x10 + i);
            g_assert_cmphex(rd(0x10000 * (i + 1) + 0xfff, 1), ==, 0x10 + i);
            g_assert_cmphex(rd(0x10000 * (i + 1) + 0x1000, 1), ==, 0xff); /* hole after */
            g_assert_cmphex(rd(0x10000 * (i + 1) + 0x10, 1), ==, 0x10 + i); /* below the first */
        }
    }
    /* A window cached from 0x10800 ends where r[0] ends, whatever comes next. */
    region_add(memory_system(), 0x11000, r[5], 0);
    g_assert_cmphex(rd(0x10800, 1), ==, 0x10);
    g_assert_cmphex(rd(0x11000, 1), ==, 0x15);
    as_read(memory_system(), 0x10fff, buf, 2);
    g_assert_cmphex(buf[0], ==, 0x10);
    g_assert_cmphex(buf[1], ==, 0x15);
    /* Map changes between two accesses to the same cached address. */
    region_add(memory_system(), 0x10000, r[4], 1);
    g_assert_cmphex(rd(0x10800, 1), ==, 0x14);
    region_set_enabled(r[4], false);
    g_assert_cmphex(rd(0x10800, 1), ==, 0x10);
    region_del(memory_system(), r[0]);
    g_assert_cmphex(rd(0x10800, 1), ==, 0xff);
    for (unsigned i = 0; i < 6; i++) {
        region_free(r[i]);
    }
}

static void test_unassigned_reads_ones(void)
{
    uint8_t buf[4] = {0};
    uint64_t v = 0;

    memory_reset();
    g_assert_cmpint(as_read(memory_system(), 0x5000, buf, 4), ==, TES_MEM_UNASSIGNED);
    g_assert_cmphex(buf[0] & buf[1] & buf[2] & buf[3], ==, 0xff);
    g_assert_cmpint(as_access(memory_system(), 0x5000, &v, 4, false), ==, TES_MEM_UNASSIGNED);
    g_assert_cmphex(v, ==, 0xffffffff);
    v = 1;
    g_assert_cmpint(as_access(memory_system(), 0x5000, &v, 4, true), ==, TES_MEM_UNASSIGNED);
}

static void test_io_split(void)
{
    static fake_dev d;
    tes_mem_ops ops = ops_for(1, 8, 4, 4, TES_ENDIAN_LITTLE);
    tes_region *io = region_new_io(NULL, "dev", 64, &ops, &d);

    memory_reset();
    memset(&d, 0, sizeof(d));
    region_add(memory_system(), 0x10000, io, 0);
    wr(0x10008, 0x1122334455667788ull, 8);
    g_assert_cmpuint(d.n, ==, 2);
    g_assert_true(d.calls[0].write && d.calls[0].size == 4 && d.calls[0].off == 8);
    g_assert_cmphex(d.calls[0].val, ==, 0x55667788);
    g_assert_cmpuint(d.calls[1].off, ==, 12);
    g_assert_cmphex(d.calls[1].val, ==, 0x11223344);
    d.n = 0;
    g_assert_cmphex(rd(0x10008, 8), ==, 0x1122334455667788ull);
    g_assert_cmpuint(d.n, ==, 2);
    region_free(io);
}

static void test_io_widen_rmw(void)
{
    static fake_dev d;
    tes_mem_ops ops = ops_for(1, 4, 4, 4, TES_ENDIAN_LITTLE);
    tes_region *io = region_new_io(NULL, "dev", 64, &ops, &d);

    memory_reset();
    memset(&d, 0, sizeof(d));
    d.regs[4] = 0x11, d.regs[5] = 0x22, d.regs[6] = 0x33, d.regs[7] = 0x44;
    region_add(memory_system(), 0x10000, io, 0);
    wr(0x10006, 0xee, 1);
    /* Read the word, then write it back with byte 2 replaced. */
    g_assert_cmpuint(d.n, ==, 2);
    g_assert_false(d.calls[0].write);
    g_assert_cmpuint(d.calls[0].off, ==, 4);
    g_assert_true(d.calls[1].write && d.calls[1].size == 4 && d.calls[1].off == 4);
    g_assert_cmphex(d.calls[1].val, ==, 0x44ee2211);
    g_assert_cmphex(rd(0x10005, 1), ==, 0x22);
    region_free(io);
}

static void test_io_valid_max_rejects(void)
{
    static fake_dev d;
    tes_mem_ops ops = ops_for(4, 4, 0, 0, TES_ENDIAN_LITTLE);
    tes_region *io = region_new_io(NULL, "dev", 64, &ops, &d);

    memory_reset();
    memset(&d, 0, sizeof(d));
    region_add(memory_system(), 0x10000, io, 0);
    g_assert_cmphex(rd(0x10000, 8), ==, UINT64_MAX);
    g_assert_cmphex(rd(0x10000, 1), ==, 0xff);
    wr(0x10000, 1, 2);
    g_assert_cmpuint(d.n, ==, 0);
    wr(0x10000, 0x12345678, 4);
    g_assert_cmpuint(d.n, ==, 1);
    /* A bulk write (DMA into a doorbell or table) uses the widest valid size. */
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    g_assert_cmpint(as_write(memory_system(), 0x10008, buf, 8), ==, TES_MEM_OK);
    g_assert_cmpuint(d.n, ==, 3);
    g_assert_true(d.calls[1].size == 4 && d.calls[1].off == 8 && d.calls[1].val == 0x04030201);
    g_assert_true(d.calls[2].size == 4 && d.calls[2].off == 12);
    region_free(io);
}

static void test_io_big_endian_swaps(void)
{
    static fake_dev d;
    tes_mem_ops ops = ops_for(0, 0, 4, 4, TES_ENDIAN_BIG);
    tes_region *io = region_new_io(NULL, "dev", 64, &ops, &d);

    memory_reset();
    memset(&d, 0, sizeof(d));
    region_add(memory_system(), 0x10000, io, 0);
    wr(0x10000, 0x11223344, 4);
    g_assert_cmphex(d.calls[0].val, ==, 0x44332211);
    g_assert_cmphex(rd(0x10000, 4), ==, 0x11223344);
    region_free(io);
}

static bool dirty(tes_region *r, uint64_t page)
{
    return r->dirty[page / (8 * sizeof(long))] & (1ul << (page % (8 * sizeof(long))));
}

static void test_dirty_on_write(void)
{
    tes_region *ram = region_new_ram(NULL, "ram", 0x10000);
    uint8_t b = 1;

    memory_reset();
    region_add(memory_system(), 0, ram, 0);
    memory_dirty_log(true);
    g_assert_false(dirty(ram, 3));
    as_write(memory_system(), 0x3fff, &b, 1);
    g_assert_true(dirty(ram, 3));
    g_assert_false(dirty(ram, 4));
    wr(0x5000, 1, 4);
    g_assert_true(dirty(ram, 5));
    as_set_dirty(memory_system(), 0x7000, 0x2001);
    g_assert_true(dirty(ram, 7) && dirty(ram, 8) && dirty(ram, 9));
    g_assert_false(dirty(ram, 10));
    g_assert_false(dirty(ram, 6));
    memory_dirty_log(false);
    region_free(ram);
}

/* Only a migration reads the bits, and it clears them when it turns
 * logging on: with logging off no write marks anything, from the core,
 * a device's unmap or a plugin. */
static void test_dirty_only_while_logging(void)
{
    tes_region *ram = region_new_ram(NULL, "ram", 0x10000);
    uint8_t *base = region_ram_ptr(ram), b = 1;

    memory_reset();
    region_add(memory_system(), 0, ram, 0);
    as_write(memory_system(), 0x1000, &b, 1);
    wr(0x2000, 1, 4);
    memory_set_dirty_ptr(base + 0x3000, 0x100);
    as_set_dirty(memory_system(), 0x4000, 8);
    g_assert_cmpuint(memory_dirty_sync(ram, NULL), ==, 0);
    memory_dirty_log(true);
    memory_set_dirty_ptr(base + 0x3000, 0x100);
    as_write(memory_system(), 0x1000, &b, 1);
    g_assert_cmpuint(memory_dirty_sync(ram, NULL), ==, 2);
    memory_dirty_log(false);
    as_write(memory_system(), 0x1000, &b, 1);
    g_assert_false(dirty(ram, 1));
    region_free(ram);
}

/* What the ram_write_watch callback saw last, and how often it ran. */
typedef struct watch_log {
    const void *host;
    uint64_t len;
    unsigned calls;
} watch_log;

static void watch_cb(void *opaque, const void *host, uint64_t len)
{
    watch_log *w = opaque;

    w->host = host;
    w->len = len;
    w->calls++;
}

static void test_write_watch_sees_core_writes(void)
{
    static watch_log w; /* watchers stay registered: keep it alive */
    tes_region *ram = region_new_ram(NULL, "ram", 0x10000);
    uint8_t *base = region_ram_ptr(ram), buf[16] = {0};

    memory_reset();
    region_add(memory_system(), 0, ram, 0);
    memory_ram_write_watch(watch_cb, &w);
    memory_ram_write_watch(watch_cb, &w); /* the same pair registers once */
    as_write(memory_system(), 0x2ff8, buf, 16);
    g_assert_cmpuint(w.calls, ==, 1);
    g_assert_true(w.host == base + 0x2ff8 && w.len == 16);
    wr(0x4000, 1, 4);
    g_assert_true(w.calls == 2 && w.host == base + 0x4000 && w.len == 4);
    memory_set_dirty_ptr(base + 0x8000, 0x100); /* dma_unmap of a written mapping */
    g_assert_true(w.calls == 3 && w.host == base + 0x8000 && w.len == 0x100);
    as_set_dirty(memory_system(), 0x9000, 8);
    g_assert_true(w.calls == 4 && w.host == base + 0x9000);
    as_read(memory_system(), 0x2ff8, buf, 16); /* reads are not reported */
    rd(0x4000, 4);
    g_assert_cmpuint(w.calls, ==, 4);
    /* Freeing RAM drops translations of code in it (an unplugged DIMM's
     * mapping may come back at the same host address for the next one). */
    region_free(ram);
    g_assert_true(w.calls == 5 && w.host == base && w.len == 0x10000);
    ram = region_new_ram(NULL, "ram", 0x1000);
    memory_reset(); /* the watch survives a fresh address space */
    region_add(memory_system(), 0, ram, 0);
    wr(0x10, 1, 1);
    g_assert_true(w.calls == 6 && w.host == (uint8_t *)region_ram_ptr(ram) + 0x10);
    region_free(ram);
}

static void test_generation_bumps(void)
{
    tes_region *ram = region_new_ram(NULL, "ram", 0x1000);
    uint64_t g0;

    memory_reset();
    g0 = memory_generation();
    region_add(memory_system(), 0, ram, 0);
    g_assert_cmpuint(memory_generation(), >, g0);
    g0 = memory_generation();
    region_set_enabled(ram, false);
    g_assert_cmpuint(memory_generation(), >, g0);
    g0 = memory_generation();
    region_del(memory_system(), ram);
    g_assert_cmpuint(memory_generation(), >, g0);
    region_free(ram);
}

static void test_owner_registry(void)
{
    tes_device dev = {0};
    tes_region *r = region_new_ram(&dev, "owned", 0x1000);

    g_assert_nonnull(dev.regions);
    g_assert_cmpuint(dev.regions->len, ==, 1);
    region_free(r);
    g_assert_cmpuint(dev.regions->len, ==, 0);
    g_ptr_array_free(dev.regions, TRUE);
}

static void test_mtree_lines(void)
{
    static fake_dev d;
    tes_mem_ops ops = ops_for(0, 0, 0, 0, TES_ENDIAN_LITTLE);
    tes_region *io = region_new_io(NULL, "edu-mmio", 0x10000, &ops, &d);
    tes_region *ram = region_new_ram(NULL, "pc.ram", 0x100000);
    tes_region *al = region_new_alias(NULL, "lowmem", ram, 0, 0x1000);
    GString *out = g_string_new(NULL);

    memory_reset();
    region_add(memory_system(), 0x10000000, io, 0);
    region_add(memory_system(), 0, ram, 0);
    region_add(memory_system(), 0x20000000, al, 2);
    mtree_print(out);
    g_assert_nonnull(strstr(out->str, "address-space: memory\n"));
    g_assert_nonnull(strstr(out->str, "address-space: I/O\n"));
    g_assert_nonnull(strstr(out->str, "  0000000000000000-ffffffffffffffff (prio 0, container): system\n"));
    g_assert_nonnull(strstr(out->str, "    0000000010000000-000000001000ffff (prio 0, i/o): edu-mmio\n"));
    g_assert_nonnull(strstr(out->str, "    0000000000000000-00000000000fffff (prio 0, ram): pc.ram\n"));
    g_assert_nonnull(strstr(out->str, "(prio 2, alias): alias lowmem @pc.ram 0000000000000000-0000000000000fff\n"));
    g_assert_nonnull(strstr(out->str, "  0000000000000000-000000000000ffff (prio 0, container): io\n"));
    g_string_free(out, TRUE);
    region_free(al);
    region_free(io);
    region_free(ram);
}

static void count_ram(tes_region *r, void *opaque)
{
    GPtrArray *seen = opaque;

    g_ptr_array_add(seen, r);
}

static void test_foreach_ram_once(void)
{
    tes_region *ram = region_new_ram(NULL, "ram", 0x1000);
    tes_region *rom = region_new_rom(NULL, "rom", 0x1000);
    tes_region *al = region_new_alias(NULL, "ram-alias", ram, 0, 0x1000);
    tes_region *c = region_new_container(NULL, "box", 0x10000);
    GPtrArray *seen = g_ptr_array_new();
    uint64_t len = 16, v = 0x55;

    memory_reset();
    region_add(memory_system(), 0, ram, 0);
    region_add(memory_system(), 0x100000, c, 0);
    region_add(c, 0, al, 0);
    region_add(c, 0x1000, rom, 0);
    memory_foreach_ram(count_ram, seen);
    g_assert_cmpuint(seen->len, ==, 2);
    g_assert_true(g_ptr_array_find(seen, ram, NULL) && g_ptr_array_find(seen, rom, NULL));
    /* ROM: readable through a host pointer, never writable. */
    g_assert_null(as_ram_ptr(memory_system(), 0x101000, &len, true));
    len = 16;
    g_assert_nonnull(as_ram_ptr(memory_system(), 0x101000, &len, false));
    wr(0x101000, v, 1);
    g_assert_cmphex(rd(0x101000, 1), ==, 0);
    g_ptr_array_free(seen, TRUE);
    region_free(al);
    region_free(rom);
    region_free(c);
    region_free(ram);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memory/ram/round-trip", test_ram_round_trip);
    g_test_add_func("/memory/alias/maps-target-at-offset", test_alias_offset);
    g_test_add_func("/memory/priority/higher-wins-removal-reveals-lower", test_priority_overlap);
    g_test_add_func("/memory/enabled/disabled-region-invisible", test_disabled_invisible);
    g_test_add_func("/memory/lookup/cache-follows-window-ends-and-map-changes",
                    test_lookup_cache_tracks_map);
    g_test_add_func("/memory/unassigned/reads-all-ones", test_unassigned_reads_ones);
    g_test_add_func("/memory/io/wide-access-split-to-impl-max", test_io_split);
    g_test_add_func("/memory/io/narrow-write-widened-read-modify-write", test_io_widen_rmw);
    g_test_add_func("/memory/io/size-outside-valid-dropped", test_io_valid_max_rejects);
    g_test_add_func("/memory/io/big-endian-ops-swapped", test_io_big_endian_swaps);
    g_test_add_func("/memory/dirty/write-marks-pages", test_dirty_on_write);
    g_test_add_func("/memory/dirty/only-while-logging", test_dirty_only_while_logging);
    g_test_add_func("/memory/generation/bumps-on-map-change", test_generation_bumps);
    g_test_add_func("/memory/owner/regions-registered-and-removed", test_owner_registry);
    g_test_add_func("/memory/walk/each-ram-and-rom-once", test_foreach_ram_once);
    g_test_add_func("/memory/mtree/prints-qemu-like-lines", test_mtree_lines);
    g_test_add_func("/memory/watch/core-writes-to-ram-reported", test_write_watch_sees_core_writes);
    return g_test_run();
}
