/*
 * arm-gicv3: the ITS (Arm IHI 0069, chapters 5 and 6), which turns an MSI
 * written to GITS_TRANSLATER into an LPI pending on a redistributor.
 *
 * User manual: region 2 of arm-gicv3 with its=on (128 KiB: the control
 * frame, then the translation frame with GITS_TRANSLATER at 0x10040). The
 * DeviceID of an MSI is the PCI requester id of the function whose DMA
 * wrote it (host->dma_requester, SDK 1.6; boards map it 1:1 with msi-map);
 * a write by a CPU or a device that is not PCI is DeviceID 0, as QEMU's.
 *
 * Model: the device table (GITS_BASER0) and the collection table
 * (GITS_BASER1) are flat tables in guest memory (Indirect is RAZ/WI), and
 * so are the ITTs that MAPD names: every translation reads them, so
 * nothing is cached and nothing but the registers migrates. Entries are
 * 8 bytes of our own layout (GITS_TYPER.ITT_entry_size and BASER's
 * Entry_Size say 8): device  V(63) | ITT address (51:8) | Size (4:0);
 * collection  V(63) | processor number (15:0) (GITS_TYPER.PTA = 0, so
 * RDbase is GICR_TYPER.Processor_Number); ITE  V(63) | ICID (47:32) |
 * pINTID (23:0). DeviceIDs, EventIDs and ICIDs have 16 bits. Commands run
 * to completion when GITS_CWRITER is written (or the ITS is enabled), so
 * GITS_CREADR catches up at once and GITS_CTLR.Quiescent always reads 1.
 * A bad command (an ID past its table, an unmapped device or collection,
 * a table that is not RAM) is logged under -d guest_errors and skipped;
 * an MSI that does not translate is dropped. Every guest value is
 * bounded: a queue of at most 256 pages is walked at most once per write.
 */
#include <errno.h>

#include "gicv3.h"

#define GITS_CTLR_ENABLED 0x1
#define GITS_CTLR_QUIESCENT (1u << 31)
#define GITS_IIDR_VAL 0x0000043b

#define ITS_ID_BITS 16
#define ITS_ENTRY 8
#define ITS_CMD_SIZE 32

/* GITS_TYPER: Physical, ITT_entry_size 8, IDbits and Devbits 16, no
 * collections held in hardware (HCC 0), PTA 0, CIL 0 (16-bit ICIDs). */
#define GITS_TYPER_VAL (1ull | (ITS_ENTRY - 1) << 4 | (ITS_ID_BITS - 1ull) << 8 | \
                        (ITS_ID_BITS - 1ull) << 13)

#define BASER_VALID (1ull << 63)
#define BASER_TYPE_DEVICE 1ull
#define BASER_TYPE_COLLECTION 4ull
/* Writable: Valid, caches, PA 47:12, shareability, page size, size. */
#define BASER_RW 0xb8e0ffffffffffffull
#define CBASER_RW 0xb8effffffffffcffull
#define ENTRY_VALID (1ull << 63)

enum {
    CMD_MOVI = 0x01, CMD_INT = 0x03, CMD_CLEAR = 0x04, CMD_SYNC = 0x05, CMD_MAPD = 0x08,
    CMD_MAPC = 0x09, CMD_MAPTI = 0x0a, CMD_MAPI = 0x0b, CMD_INV = 0x0c, CMD_INVALL = 0x0d,
    CMD_MOVALL = 0x0e, CMD_DISCARD = 0x0f,
};

/* ---- tables in guest memory ---- */

static bool mem_rd64(uint64_t addr, uint64_t *v)
{
    uint8_t b[8];

    if (H->as_read(H->system_memory(), addr, b, 8) != TES_MEM_OK) {
        return false;
    }
    *v = 0;
    for (int i = 7; i >= 0; i--) {
        *v = *v << 8 | b[i];
    }
    return true;
}

static bool mem_wr64(uint64_t addr, uint64_t v)
{
    uint8_t b[8];

    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
    return H->as_write(H->system_memory(), addr, b, 8) == TES_MEM_OK;
}

/* Address of entry id of table t (0 devices, 1 collections), or 0 when
 * the table is not valid or id lies past its end. */
static uint64_t table_entry(gicv3 *g, unsigned t, uint32_t id)
{
    static const uint64_t page[] = {0x1000, 0x4000, 0x10000, 0x10000};
    uint64_t b = g->its_baser[t], ps = page[(b >> 8) & 3];
    uint64_t base = b & 0x0000fffffffff000ull & ~(ps - 1);

    if (!(b & BASER_VALID) || (uint64_t)id * ITS_ENTRY >= ((b & 0xff) + 1) * ps) {
        return 0;
    }
    return base + (uint64_t)id * ITS_ENTRY;
}

static bool its_error(const char *what, uint32_t a, uint32_t b)
{
    H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: ITS: %s (0x%x, 0x%x)", what, a, b);
    return false;
}

/* Device devid's ITT entry for event: *ite_addr. */
static bool ite_addr(gicv3 *g, uint32_t devid, uint32_t event, uint64_t *addr)
{
    uint64_t e = table_entry(g, 0, devid), dte;

    if (!e || !mem_rd64(e, &dte)) {
        return its_error("DeviceID past the device table (or no table)", devid, event);
    }
    if (!(dte & ENTRY_VALID)) {
        return its_error("DeviceID not mapped", devid, event);
    }
    if ((uint64_t)event >= (1ull << ((dte & 0x1f) + 1))) { /* ITT_size 31: 2^32 events */
        return its_error("EventID past the device's ITT", devid, event);
    }
    *addr = (dte & 0x000fffffffffff00ull) + (uint64_t)event * ITS_ENTRY;
    return true;
}

/* The valid ITE of (devid, event). */
static bool ite_read(gicv3 *g, uint32_t devid, uint32_t event, uint64_t *ite)
{
    uint64_t a;

    if (!ite_addr(g, devid, event, &a) || !mem_rd64(a, ite)) {
        return false;
    }
    return (*ite & ENTRY_VALID) ? true : its_error("EventID not mapped", devid, event);
}

/* The vCPU collection icid maps to. */
static bool collection(gicv3 *g, uint32_t icid, unsigned *cpu)
{
    uint64_t e = table_entry(g, 1, icid), cte;

    if (!e || !mem_rd64(e, &cte) || !(cte & ENTRY_VALID)) {
        return its_error("collection not mapped", icid, 0);
    }
    if ((cte & 0xffff) >= g->num_cpu) {
        return its_error("collection maps to no redistributor", icid, (uint32_t)(cte & 0xffff));
    }
    *cpu = (unsigned)(cte & 0xffff);
    return true;
}

static uint32_t ite_intid(uint64_t ite)
{
    return (uint32_t)(ite & 0xffffff);
}

static uint32_t ite_icid(uint64_t ite)
{
    return (uint32_t)((ite >> 32) & 0xffff);
}

/* (devid, event) to the LPI and the vCPU whose redistributor takes it. */
static bool translate(gicv3 *g, uint32_t devid, uint32_t event, uint32_t *intid, unsigned *cpu,
                      uint64_t *ite)
{
    if (!ite_read(g, devid, event, ite) || !collection(g, ite_icid(*ite), cpu)) {
        return false;
    }
    *intid = ite_intid(*ite);
    return true;
}

/* ---- commands ---- */

static uint32_t cmd_devid(const uint64_t *c)
{
    return (uint32_t)(c[0] >> 32);
}

static uint32_t cmd_event(const uint64_t *c)
{
    return (uint32_t)c[1];
}

static uint32_t cmd_icid(const uint64_t *c)
{
    return (uint32_t)(c[2] & 0xffff);
}

static bool cmd_mapd(gicv3 *g, const uint64_t *c)
{
    uint64_t e = table_entry(g, 0, cmd_devid(c));
    unsigned size = c[1] & 0x1f;

    if (!e) {
        return its_error("MAPD: DeviceID past the device table", cmd_devid(c), 0);
    }
    if (size + 1 > ITS_ID_BITS) {
        return its_error("MAPD: ITT of more EventID bits than the ITS has", cmd_devid(c), size);
    }
    return mem_wr64(e, (c[2] & ENTRY_VALID) ? ENTRY_VALID | (c[2] & 0x000fffffffffff00ull) | size
                                            : 0);
}

static bool cmd_mapc(gicv3 *g, const uint64_t *c)
{
    uint64_t e = table_entry(g, 1, cmd_icid(c));
    uint64_t rd = (c[2] >> 16) & 0xfffffffffull;

    if (!e) {
        return its_error("MAPC: ICID past the collection table", cmd_icid(c), 0);
    }
    if ((c[2] & ENTRY_VALID) && rd >= g->num_cpu) {
        return its_error("MAPC: no such redistributor", cmd_icid(c), (uint32_t)rd);
    }
    return mem_wr64(e, (c[2] & ENTRY_VALID) ? ENTRY_VALID | rd : 0);
}

static bool cmd_mapti(gicv3 *g, const uint64_t *c, bool mapi)
{
    uint32_t intid = mapi ? cmd_event(c) : (uint32_t)(c[1] >> 32);
    uint64_t a;

    if (intid < GICV3_LPI_BASE || intid >= GICV3_NUM_IDS) {
        return its_error("MAPTI: pINTID is no LPI", cmd_devid(c), intid);
    }
    if (!ite_addr(g, cmd_devid(c), cmd_event(c), &a)) {
        return false;
    }
    return mem_wr64(a, ENTRY_VALID | (uint64_t)cmd_icid(c) << 32 | intid);
}

/* INT, CLEAR, DISCARD, INV: one event's LPI on its redistributor. */
static bool cmd_event_op(gicv3 *g, const uint64_t *c, unsigned op)
{
    uint32_t intid;
    unsigned cpu;
    uint64_t ite, a;

    if (!translate(g, cmd_devid(c), cmd_event(c), &intid, &cpu, &ite)) {
        return false;
    }
    switch (op) {
    case CMD_INT:
        if (gicv3_lpi_ok(g, cpu, intid)) {
            gicv3_lpi_set(g, cpu, intid, true);
        }
        return true;
    case CMD_INV:
        gicv3_lpi_load_cfg(g, cpu, intid, 1);
        return true;
    case CMD_DISCARD:
        if (!ite_addr(g, cmd_devid(c), cmd_event(c), &a) || !mem_wr64(a, 0)) {
            return false;
        }
        break;
    }
    gicv3_lpi_set(g, cpu, intid, false); /* CLEAR, DISCARD */
    return true;
}

/* MOVI: the event goes to another collection, its pending state along. */
static bool cmd_movi(gicv3 *g, const uint64_t *c)
{
    uint32_t intid;
    unsigned from, to;
    uint64_t ite, a;

    if (!translate(g, cmd_devid(c), cmd_event(c), &intid, &from, &ite) ||
        !collection(g, cmd_icid(c), &to) || !ite_addr(g, cmd_devid(c), cmd_event(c), &a) ||
        !mem_wr64(a, (ite & ~(0xffffull << 32)) | (uint64_t)cmd_icid(c) << 32)) {
        return false;
    }
    if (from != to && gicv3_lpi_pending(g, from, intid)) {
        gicv3_lpi_set(g, from, intid, false);
        if (gicv3_lpi_ok(g, to, intid)) {
            gicv3_lpi_set(g, to, intid, true);
        }
    }
    return true;
}

static bool cmd_movall(gicv3 *g, const uint64_t *c)
{
    uint64_t from = (c[2] >> 16) & 0xfffffffffull, to = (c[3] >> 16) & 0xfffffffffull;

    if (from >= g->num_cpu || to >= g->num_cpu) {
        return its_error("MOVALL: no such redistributor", (uint32_t)from, (uint32_t)to);
    }
    for (uint32_t id = GICV3_LPI_BASE; from != to && id < GICV3_NUM_IDS; id++) {
        if (gicv3_lpi_pending(g, (unsigned)from, id)) {
            gicv3_lpi_set(g, (unsigned)from, id, false);
            if (gicv3_lpi_ok(g, (unsigned)to, id)) {
                gicv3_lpi_set(g, (unsigned)to, id, true);
            }
        }
    }
    return true;
}

static bool run_cmd(gicv3 *g, const uint64_t *c)
{
    unsigned op = c[0] & 0xff, cpu;

    switch (op) {
    case CMD_MAPD: return cmd_mapd(g, c);
    case CMD_MAPC: return cmd_mapc(g, c);
    case CMD_MAPTI: return cmd_mapti(g, c, false);
    case CMD_MAPI: return cmd_mapti(g, c, true);
    case CMD_INT: case CMD_CLEAR: case CMD_DISCARD: case CMD_INV:
        return cmd_event_op(g, c, op);
    case CMD_MOVI: return cmd_movi(g, c);
    case CMD_MOVALL: return cmd_movall(g, c);
    case CMD_INVALL:
        if (!collection(g, cmd_icid(c), &cpu)) {
            return false;
        }
        gicv3_lpi_load_cfg(g, cpu, GICV3_LPI_BASE, GICV3_NUM_IDS - GICV3_LPI_BASE);
        return true;
    case CMD_SYNC:
        return true; /* everything before it is done already */
    }
    return its_error("unknown or virtual-LPI command", op, 0);
}

static uint64_t queue_size(gicv3 *g)
{
    return ((g->its_cbaser & 0xff) + 1) * 0x1000;
}

/* Run the commands from CREADR up to CWRITER. An offset past the queue
 * (the guest shrank CBASER or wrote a bad CWRITER) stops processing. */
static void process(gicv3 *g)
{
    uint64_t base = g->its_cbaser & 0x000ffffffffff000ull, size = queue_size(g);

    if (!(g->its_ctlr & GITS_CTLR_ENABLED) || !(g->its_cbaser & BASER_VALID)) {
        return;
    }
    if (g->its_cwriter >= size || g->its_creadr >= size) {
        its_error("GITS_CWRITER or CREADR past the command queue", (uint32_t)g->its_cwriter,
                  (uint32_t)g->its_creadr);
        return;
    }
    while (g->its_creadr != g->its_cwriter) {
        uint64_t c[4];
        uint8_t b[ITS_CMD_SIZE];

        if (H->as_read(H->system_memory(), base + g->its_creadr, b, sizeof(b)) != TES_MEM_OK) {
            its_error("command queue is not RAM", (uint32_t)g->its_creadr, 0);
        } else {
            for (unsigned i = 0; i < 4; i++) {
                c[i] = 0;
                for (int k = 7; k >= 0; k--) {
                    c[i] = c[i] << 8 | b[i * 8 + (unsigned)k];
                }
            }
            run_cmd(g, c);
        }
        g->its_creadr = (g->its_creadr + ITS_CMD_SIZE) % size;
    }
}

/* ---- MSI doorbell ---- */

static void translater(gicv3 *g, uint32_t event)
{
    int32_t rid = H->dma_requester();
    uint32_t devid = rid < 0 ? 0 : (uint32_t)rid, intid;
    unsigned cpu;
    uint64_t ite;

    if (!(g->its_ctlr & GITS_CTLR_ENABLED)) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: MSI 0x%x of DeviceID 0x%x with the ITS disabled",
               event, devid);
        return;
    }
    if (!translate(g, devid, event, &intid, &cpu, &ite)) {
        return;
    }
    if (!gicv3_lpi_ok(g, cpu, intid)) {
        its_error("LPI not enabled or past GICR_PROPBASER.IDbits", intid, cpu);
        return;
    }
    gicv3_lpi_set(g, cpu, intid, true);
}

/* ---- registers ---- */

static uint64_t baser_read(gicv3 *g, unsigned n)
{
    static const uint64_t type[] = {BASER_TYPE_DEVICE, BASER_TYPE_COLLECTION};

    if (n >= 2) {
        return 0; /* Type 0: not implemented */
    }
    return g->its_baser[n] | type[n] << 56 | (uint64_t)(ITS_ENTRY - 1) << 48;
}

static uint64_t reg_read(gicv3 *g, uint64_t off)
{
    switch (off) {
    case 0x0000: return g->its_ctlr | GITS_CTLR_QUIESCENT;
    case 0x0004: return GITS_IIDR_VAL;
    case 0x0008: return GITS_TYPER_VAL;
    case 0x0080: return g->its_cbaser;
    case 0x0088: return g->its_cwriter;
    case 0x0090: return g->its_creadr;
    }
    if (off >= 0x100 && off < 0x140) {
        return baser_read(g, (unsigned)(off - 0x100) / 8);
    }
    return off >= 0xffd0 && off < 0x10000 ? gicv3_id_read(off) : 0;
}

static void reg_write(gicv3 *g, uint64_t off, uint64_t v)
{
    switch (off) {
    case 0x0000:
        g->its_ctlr = (uint32_t)v & GITS_CTLR_ENABLED;
        process(g);
        return;
    case 0x0080:
        if (g->its_ctlr & GITS_CTLR_ENABLED) {
            its_error("GITS_CBASER written while enabled", 0, 0);
            return;
        }
        g->its_cbaser = v & CBASER_RW;
        g->its_creadr = 0; /* 6.2: writing CBASER resets CREADR */
        return;
    case 0x0088:
        g->its_cwriter = v & 0xfffe0;
        process(g);
        return;
    }
    if (off >= 0x100 && off < 0x110 && !(g->its_ctlr & GITS_CTLR_ENABLED)) {
        g->its_baser[(off - 0x100) / 8] = v & BASER_RW;
    } else if (!(off >= 0x110 && off < 0x140)) {
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: ITS write of 0x%llx to 0x%llx ignored",
               (unsigned long long)v, (unsigned long long)off);
    }
}

/* 64-bit registers (TYPER, CBASER, CWRITER, CREADR, BASERn) may be reached
 * as two 32-bit halves; the others are 32-bit. */
static bool is_reg64(uint64_t off)
{
    off &= ~7ull;
    return off == 0x8 || (off >= 0x80 && off < 0x98) || (off >= 0x100 && off < 0x140);
}

uint64_t gicv3_its_read(void *opaque, uint64_t off, unsigned size)
{
    gicv3 *g = opaque;

    if (size == 8 && !(off & 7) && is_reg64(off)) {
        return reg_read(g, off);
    }
    if (size == 4 && !(off & 3)) {
        return is_reg64(off) ? reg_read(g, off & ~7ull) >> (off & 4 ? 32 : 0) & 0xffffffff
                             : reg_read(g, off) & 0xffffffff;
    }
    H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: %u-byte ITS read at 0x%llx", size,
           (unsigned long long)off);
    return 0;
}

void gicv3_its_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    gicv3 *g = opaque;

    if (off == 0x10040 && (size == 2 || size == 4)) {
        translater(g, (uint32_t)val);
    } else if (size == 8 && !(off & 7) && is_reg64(off)) {
        reg_write(g, off, val);
    } else if (size == 4 && !(off & 3) && is_reg64(off)) {
        uint64_t old = reg_read(g, off & ~7ull), sh = off & 4 ? 32 : 0;

        reg_write(g, off & ~7ull, (old & ~(0xffffffffull << sh)) | (val & 0xffffffff) << sh);
    } else if (size == 4 && !(off & 3)) {
        reg_write(g, off, val);
    } else {
        H->log(TES_LOG_GUEST_ERROR, "arm-gicv3: %u-byte ITS write at 0x%llx", size,
               (unsigned long long)off);
    }
}

void gicv3_its_reset(gicv3 *g)
{
    g->its_ctlr = 0;
    g->its_baser[0] = g->its_baser[1] = 0;
    g->its_cbaser = g->its_cwriter = g->its_creadr = 0;
}

/* A loaded stream holds only what register writes can leave: CREADR and
 * CWRITER on the 32-byte command grid (off it, process() would never see
 * them meet and spin for ever), GITS_CTLR's Enabled, the writable bits
 * of CBASER and the BASERs. 0, or -EINVAL after one error line. */
int gicv3_its_check(gicv3 *g)
{
    if ((g->its_creadr | g->its_cwriter) & ~0xfffe0ull || g->its_ctlr & ~GITS_CTLR_ENABLED ||
        g->its_cbaser & ~CBASER_RW || (g->its_baser[0] | g->its_baser[1]) & ~BASER_RW) {
        H->error(g->dev, "arm-gicv3: ITS registers in the stream out of range (CTLR 0x%x, "
                 "CREADR 0x%llx, CWRITER 0x%llx, CBASER 0x%llx, BASER 0x%llx/0x%llx)",
                 g->its_ctlr, (unsigned long long)g->its_creadr,
                 (unsigned long long)g->its_cwriter, (unsigned long long)g->its_cbaser,
                 (unsigned long long)g->its_baser[0], (unsigned long long)g->its_baser[1]);
        return -EINVAL;
    }
    return 0;
}
