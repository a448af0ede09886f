/*
 * Migration round trips of the memory modules over memory backends
 * (plugins/nvdimm: nvdimm, pc-dimm; migtest.h), built as a command line
 * would: -object memory-backend-ram (QMP object-add), -device on it.
 *
 * The harness hosts no machine, so the test plays the x86 board's part
 * as board-x86 does it (devmem.c, x86-nvdimm.c): it maps each module's
 * region 0 where the board would place it, tells the plugin through the
 * "memory-device" interface (placed), and answers the label _DSM with
 * the board's own x86_nvdimm_dsm (nvdimm-acpi.c, compiled in as the
 * fuzz target does) on a write to I/O 0x0a18, over a 4 KiB page in guest
 * RAM, reaching the labels through the interface's label_access. What
 * must cross the cut is the modules': their backends' bytes, the label
 * area at the end of an nvdimm's included (it is not mapped: the stream
 * carries the whole backend behind the guest's alias).
 *
 * The machine's own memory hotplug state (the 0x0a00 block: selector,
 * slot flags, _OST) is the q35/pc machine's section, which the harness
 * cannot build; it is not covered here.
 */
#include <string.h>
#include <tessera/memory-device.h>

#include "migtest.h"
#include "board-q35/nvdimm-acpi.h"

#define GiB (1ull << 30)
#define NV_BASE (1 * GiB)          /* where the board would place module 0 */
#define DIMM_BASE (2 * GiB)
#define DSM_PAGE 0x100000ull       /* the _DSM page (the board's, at 0xfef00000) */
#define MAX_XFER 4076u             /* 4096 - the request's 12 - the answer's 8 */
#define LABEL (128u << 10)

/* ---- the board's part ---- */

typedef struct board {
    mt *m;
    tes_device *nv[2];
    x86_nvdimm nvd[2];
    unsigned n;
} board;

static board brd; /* one harness at a time */

static const tes_memory_device_iface *md(mt *m)
{
    const tes_memory_device_iface *i = tes_harness_host(m->h)->iface_lookup(
        TES_MEMORY_DEVICE_IFACE, TES_MEMORY_DEVICE_IFACE_VERSION);

    g_assert(i && i->size >= sizeof(*i));
    return i;
}

static bool label_rw(void *opaque, unsigned idx, uint64_t off, void *buf, uint32_t len,
                     bool write)
{
    board *b = opaque;

    return idx < b->n && md(b->m)->label_access(b->nv[idx], off, buf, len, write);
}

static uint64_t dsm_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void dsm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    board *b = opaque;

    x86_nvdimm_dsm(b->m->ram + DSM_PAGE, b->nvd, b->n, label_rw, b);
}

static const tes_mem_ops dsm_ops = {
    .size = sizeof(tes_mem_ops),
    .read = dsm_read,
    .write = dsm_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

/* -object memory-backend-ram,id=ID,size=SIZE */
static void backend(mt *m, const char *id, uint64_t size)
{
    char *cmd = g_strdup_printf("{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": "
                                "\"memory-backend-ram\", \"id\": \"%s\", \"size\": %" G_GUINT64_FORMAT
                                "}}", id, size);
    char *r = tes_harness_qmp(m->h, cmd);

    g_assert_cmpstr(r, ==, "{\"return\":{}}");
    free(r);
    g_free(cmd);
}

/* The board places d at addr in slot: its region mapped, the plugin told. */
static void place(mt *m, tes_device *d, uint64_t addr, int32_t slot)
{
    mt_map(m, d, 0, addr);
    md(m)->placed(d, addr, slot);
}

/* An nvdimm as module n of the NFIT, the _DSM port up. */
static void nvdimm_module(mt *m, tes_device *d, uint64_t addr)
{
    const tes_host *host = tes_harness_host(m->h);
    tes_memory_device_info mi = {.size = sizeof(mi)};

    g_assert(md(m)->info(d, &mi) && mi.kind == TES_MEMORY_DEVICE_NVDIMM);
    place(m, d, addr, (int32_t)brd.n);
    brd.nv[brd.n] = d;
    brd.nvd[brd.n++] = (x86_nvdimm){
        .addr = addr, .size = host->region_size(host->dev_mmio(d, 0)),
        .label_size = mi.label_size};
    if (brd.n == 1) {
        tes_region *io = host->region_new_io(d, "nvdimm-dsm-io", 4, &dsm_ops, &brd);

        host->region_add(host->system_io(), X86_NVDIMM_DSM_IO, io, 0);
    }
}

static void board_reset(mt *m)
{
    brd = (board){.m = m};
}

/* ---- the guest's side: NCAL of the DSDT ---- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* One _DSM call of module handle (1-based), function func with Arg3's
 * offset, length and data; the answer recorded: length, status and a
 * digest of its data. Returns the status. */
static uint32_t dsm(mt *m, uint32_t handle, uint32_t func, uint32_t off, uint32_t len,
                    const uint8_t *data)
{
    uint8_t *page = m->ram + DSM_PAGE;
    uint32_t alen, status;

    memset(page, 0, X86_NVDIMM_DSM_SIZE);
    put32(page, handle);
    put32(page + 4, 1);
    put32(page + 8, func);
    put32(page + 12, off);
    put32(page + 16, len);
    if (data) {
        memcpy(page + 20, data, len);
    }
    mt_out(m, X86_NVDIMM_DSM_IO, DSM_PAGE, 4);
    alen = mt_get32(m, DSM_PAGE);
    status = mt_get32(m, DSM_PAGE + 4);
    mt_note(m, "dsm %u/%u +%u+%u: length %u status %#x", handle, func, off, len, alen, status);
    g_assert_cmpuint(alen, >=, 8);
    g_assert_cmpuint(alen, <=, X86_NVDIMM_DSM_SIZE);
    mt_ram(m, DSM_PAGE + 8, alen - 8);
    return status;
}

/* Label bytes a namespace driver would write: index blocks, labels. */
static uint8_t *label_data(uint32_t len, uint8_t seed)
{
    uint8_t *b = g_malloc(len);

    for (uint32_t i = 0; i < len; i++) {
        b[i] = (uint8_t)(i * 13 + seed);
    }
    return b;
}

static void label_write(mt *m, uint32_t off, uint32_t len, uint8_t seed)
{
    uint8_t *b = label_data(len, seed);

    dsm(m, 1, 6, off, len, b);
    g_free(b);
}

/* The guest's view of a module's memory: words spread over it. */
static void pmem_read(mt *m, uint64_t base, uint64_t size)
{
    for (uint64_t off = 0; off < size; off += size / 8) {
        mt_rd(m, base + off, 8);
        mt_rd(m, base + off + size / 8 - 8, 8);
    }
}

static void pmem_write(mt *m, uint64_t base, uint64_t size, uint64_t seed)
{
    for (uint64_t off = 0; off < size; off += size / 4) {
        mt_wr(m, base + off, seed ^ off, 8);
        mt_wr(m, base + off + size / 4 - 8, ~seed ^ off, 8);
    }
}

/* ---- nvdimm without labels: one pmem region of the whole backend ---- */

static void nv_build(mt *m)
{
    board_reset(m);
    backend(m, "nv0", 4 << 20);
    nvdimm_module(m, mt_dev(m, "nvdimm", "memdev=nv0,id=nvdimm0"), NV_BASE);
}

/* A file system's first writes; the _DSM says there is nothing to ask. */
static void nv_write(mt *m)
{
    pmem_write(m, NV_BASE, 4 << 20, 0x1111);
    dsm(m, 1, 0, 0, 0, NULL);
    dsm(m, 1, 4, 0, 0, NULL);
    pmem_read(m, NV_BASE, 4 << 20);
}

static void nv_more(mt *m)
{
    pmem_read(m, NV_BASE, 4 << 20);
    pmem_write(m, NV_BASE + (1 << 20), 1 << 20, 0x2222);
}

static void nv_end(mt *m)
{
    pmem_read(m, NV_BASE, 4 << 20);
    mt_rd(m, NV_BASE + (4 << 20) - 4, 4);
}

static const mt_case nv = {
    .name = "nvdimm",
    .plugins = {"nvdimm"},
    .build = nv_build,
    .steps = {nv_write, nv_more, nv_end},
};

/* ---- nvdimm with labels: ndctl init-labels, then a namespace ---- */

static void nvl_build(mt *m)
{
    board_reset(m);
    backend(m, "nv0", 4 << 20);
    nvdimm_module(m, mt_dev(m, "nvdimm", "memdev=nv0,id=nvdimm0,label-size=128K"), NV_BASE);
}

/* The label area's size, then the first transfer of a label write that
 * takes two (the second comes after the cut); data written too. */
static void nvl_first(mt *m)
{
    dsm(m, 1, 0, 0, 0, NULL);
    dsm(m, 1, 4, 0, 0, NULL);
    label_write(m, 0, MAX_XFER, 0x30);
    pmem_write(m, NV_BASE, 2 << 20, 0x3333);
    dsm(m, 1, 5, 0, 64, NULL);
}

/* The second transfer; the first read back, and across both. */
static void nvl_second(mt *m)
{
    label_write(m, MAX_XFER, MAX_XFER, 0x40);
    dsm(m, 1, 5, 0, MAX_XFER, NULL);
    dsm(m, 1, 5, MAX_XFER - 100, 200, NULL);
    pmem_read(m, NV_BASE, 2 << 20);
}

/* The last label of the area; requests past it or over one transfer
 * refused (status 3); everything read back. */
static void nvl_end(mt *m)
{
    label_write(m, LABEL - 256, 256, 0x50);
    dsm(m, 1, 5, LABEL - 256, 256, NULL);
    dsm(m, 1, 5, LABEL - 100, 200, NULL);
    dsm(m, 1, 5, 0, MAX_XFER + 1, NULL);
    dsm(m, 1, 5, MAX_XFER, MAX_XFER, NULL);
    dsm(m, 2, 4, 0, 0, NULL); /* no such module */
    pmem_read(m, NV_BASE, 2 << 20);
}

static const mt_case nvl = {
    .name = "nvdimm/label-size",
    .plugins = {"nvdimm"},
    .build = nvl_build,
    .steps = {nvl_first, nvl_second, nvl_end},
};

/* ---- pc-dimm: two DIMMs, each its own backend ---- */

static void dimm_build(mt *m)
{
    board_reset(m);
    backend(m, "m0", 2 << 20);
    backend(m, "m1", 2 << 20);
    place(m, mt_dev(m, "pc-dimm", "memdev=m0,id=dimm0"), DIMM_BASE, 0);
    place(m, mt_dev(m, "pc-dimm", "memdev=m1,id=dimm1,node=0"), DIMM_BASE + (128 << 20), 1);
}

static void dimm_info(mt *m)
{
    for (unsigned i = 0; i < 2; i++) {
        tes_memory_device_info mi = {.size = sizeof(mi)};

        g_assert(md(m)->info(m->dev[i], &mi));
        mt_note(m, "dimm%u kind %d addr %#" G_GINT64_MODIFIER "x slot %d node %u", i,
                (int)mi.kind, mi.addr, mi.slot, mi.node);
    }
}

/* The guest onlines the first DIMM and fills it half way. */
static void dimm_online(mt *m)
{
    dimm_info(m);
    pmem_write(m, DIMM_BASE, 1 << 20, 0x4444);
    pmem_read(m, DIMM_BASE, 2 << 20);
}

/* The rest of it, then the second DIMM: each backend keeps its own. */
static void dimm_second(mt *m)
{
    pmem_write(m, DIMM_BASE + (1 << 20), 1 << 20, 0x5555);
    pmem_write(m, DIMM_BASE + (128 << 20), 2 << 20, 0x6666);
    pmem_read(m, DIMM_BASE, 2 << 20);
}

static void dimm_end(mt *m)
{
    dimm_info(m);
    pmem_read(m, DIMM_BASE, 2 << 20);
    pmem_read(m, DIMM_BASE + (128 << 20), 2 << 20);
}

static const mt_case dimm = {
    .name = "pc-dimm",
    .plugins = {"nvdimm"},
    .build = dimm_build,
    .steps = {dimm_online, dimm_second, dimm_end},
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mt_add(&nv);
    mt_add(&nvl);
    mt_add(&dimm);
    return g_test_run();
}
