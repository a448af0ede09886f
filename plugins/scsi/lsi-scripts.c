/*
 * lsi53c895a: the SCRIPTS processor (block move, I/O, read-write,
 * transfer control, memory move, load and store instructions), its DMA
 * with the chip's own BARs served in place, interrupts, and the SCSI
 * phases of the target it is connected to, driven by requests of the SCSI
 * bus. lsi53c895a.c has the user manual.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/pci.h>

#include "lsi-int.h"
#include "scsi-trace.h"

/* ---- interrupts ---- */

void lsi_update_irq(lsi *s)
{
    bool level = false;

    if (s->r[R_DSTAT]) {
        level |= (s->r[R_DSTAT] & s->r[R_DIEN]) != 0;
        s->r[R_ISTAT0] |= ISTAT0_DIP;
    } else {
        s->r[R_ISTAT0] &= ~ISTAT0_DIP;
    }
    if (s->r[R_SIST0] || s->r[R_SIST1]) {
        level |= (s->r[R_SIST0] & s->r[R_SIEN0]) || (s->r[R_SIST1] & s->r[R_SIEN1]);
        s->r[R_ISTAT0] |= ISTAT0_SIP;
    } else {
        s->r[R_ISTAT0] &= ~ISTAT0_SIP;
    }
    level |= (s->r[R_ISTAT0] & ISTAT0_INTF) != 0;
    trace_lsi_irq(level);
    H->pci_set_irq(s->dev, level);
}

static void scripts_stop(lsi *s)
{
    s->r[R_ISTAT1] &= ~ISTAT1_SRUN;
    if (s->waiting == W_RESELECT) {
        s->waiting = W_NONE;
    }
}

/* A SCSI interrupt stops the processor unless it is one of those that
 * only report (CMP, SEL, RSL, GEN, HTH) and masked; a selection timeout
 * stops it at the next instruction that needs the bus (see op_transfer),
 * where the driver looks for it. */
void lsi_scsi_interrupt(lsi *s, uint8_t stat0, uint8_t stat1)
{
    uint8_t mask0 = s->r[R_SIEN0] | ~(SIST0_CMP | SIST0_SEL | SIST0_RSL);
    uint8_t mask1 = (s->r[R_SIEN1] | ~(SIST1_GEN | SIST1_HTH)) & ~SIST1_STO;

    s->r[R_SIST0] |= stat0;
    s->r[R_SIST1] |= stat1;
    if ((s->r[R_SIST0] & mask0) || (s->r[R_SIST1] & mask1)) {
        scripts_stop(s);
    }
    lsi_update_irq(s);
}

void lsi_dma_interrupt(lsi *s, uint8_t stat)
{
    s->r[R_DSTAT] |= stat;
    scripts_stop(s);
    lsi_update_irq(s);
}

/* ---- DMA, with the chip's own BARs served in place ---- */

static uint64_t bar_base(lsi *s, int bar)
{
    const uint8_t *cfg = H->pci_config(s->dev);
    uint32_t v;

    if (!(cfg[TES_PCI_COMMAND] & TES_PCI_COMMAND_MEMORY)) {
        return 0;
    }
    memcpy(&v, cfg + TES_PCI_BAR0 + 4 * bar, 4);
    v = le32toh(v) & ~0xfu;
    return v;
}

static bool overlaps(uint64_t a, uint64_t len, uint64_t base, uint64_t size)
{
    return base && a < base + size && base < a + len;
}

static bool inside(uint64_t a, uint64_t len, uint64_t base, uint64_t size)
{
    return base && a >= base && a + len <= base + size;
}

static bool dma_fault(lsi *s, const char *what, uint64_t addr, uint64_t len)
{
    H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: %s of %llu bytes at 0x%llx: bus fault",
           id_of(s), what, (unsigned long long)len, (unsigned long long)addr);
    lsi_dma_interrupt(s, DSTAT_BF);
    return false;
}

/* The registers as a memory move, load or store reaches them: bytes in
 * address order, as the script's own register writes (which never start
 * the processor again: it is running). */
static void dma_regs(lsi *s, unsigned off, uint8_t *buf, uint64_t len, bool write)
{
    for (uint64_t i = 0; i < len; i++) {
        if (write) {
            lsi_reg_write(s, (off + i) & 0xff, buf[i], true);
        } else {
            buf[i] = lsi_reg_read(s, (off + i) & 0xff);
        }
    }
}

/* Guest memory: RAM through a mapping, copied at once; what is not RAM (a
 * device's registers, the MSI window) through the memory map, access by
 * access, so at most NONRAM_DMA_MAX bytes of it per instruction: more is
 * a bus fault rather than millions of register accesses with the machine
 * stopped. */
static bool dma_mem(lsi *s, uint64_t addr, void *buf, uint64_t len, bool write)
{
    uint8_t *b = buf;

    while (len) {
        uint64_t n = len;
        void *p = H->dma_map(s->dev, addr, &n, write);

        if (!p) {
            break;
        }
        n = n < len ? n : len;
        if (write) {
            memcpy(p, b, n);
        } else {
            memcpy(b, p, n);
        }
        H->dma_unmap(s->dev, p, n, write);
        addr += n, b += n, len -= n;
    }
    if (!len) {
        return true;
    }
    if (len > NONRAM_DMA_MAX - s->nonram) {
        return dma_fault(s, write ? "DMA write to no RAM" : "DMA read from no RAM", addr, len);
    }
    s->nonram += len;
    s->bytes_left -= (int64_t)len * NONRAM_COST; /* register accesses, not copies */
    if (write ? H->dma_write(s->dev, addr, b, len) : H->dma_read(s->dev, addr, b, len)) {
        return dma_fault(s, write ? "DMA write" : "DMA read", addr, len);
    }
    return true;
}

/* Read (write false) or write guest memory; false after a bus fault. */
static bool dma_rw(lsi *s, uint64_t addr, void *buf, uint64_t len, bool write, bool regs_ok)
{
    uint64_t ram = bar_base(s, 2), mmio = bar_base(s, 1);
    const uint8_t *cfg = H->pci_config(s->dev);

    if (!len) {
        return true;
    }
    if (s->r[R_DMODE] & (DMODE_SIOM | DMODE_DIOM)) {
        H->log(TES_LOG_UNIMP, "lsi53c895a %s: DMA to I/O space: memory used", id_of(s));
    }
    if (!(cfg[TES_PCI_COMMAND] & TES_PCI_COMMAND_MASTER)) {
        return dma_fault(s, "DMA without bus mastering", addr, len);
    }
    if (inside(addr, len, ram, RAM_SIZE)) {
        if (write) {
            memcpy(s->ram + (addr - ram), buf, len);
        } else {
            memcpy(buf, s->ram + (addr - ram), len);
        }
        return true;
    }
    if (inside(addr, len, mmio, MMIO_SIZE) && regs_ok && len <= REG_DMA_MAX) {
        dma_regs(s, (unsigned)(addr - mmio), buf, len, write);
        return true;
    }
    if (overlaps(addr, len, ram, RAM_SIZE) || overlaps(addr, len, mmio, MMIO_SIZE)) {
        return dma_fault(s, "DMA onto the chip's own BAR", addr, len);
    }
    return dma_mem(s, addr, buf, len, write);
}

static bool rd32(lsi *s, uint64_t addr, uint32_t *v)
{
    uint8_t b[4];

    if (!dma_rw(s, addr, b, 4, false, false)) {
        return false;
    }
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

/* ---- the SCSI side: phases of the target we are connected to ---- */

static void set_phase(lsi *s, uint8_t ph)
{
    ph &= PHASE_MASK;
    s->r[R_SBCL] = (s->r[R_SBCL] & ~PHASE_MASK) | ph | SBCL_REQ;
    s->r[R_SSTAT1] = (s->r[R_SSTAT1] & ~PHASE_MASK) | ph;
}

/* End the command: its staged data goes. A request still in flight
 * writes into buf, so it is waited for first. */
void lsi_drop_command(lsi *s)
{
    if (s->req) {
        s->req = NULL; /* complete() ignores it */
        scsi_ops.drain(s->sbus);
    }
    free(s->buf);
    s->buf = NULL;
    s->buf_alloc = 0;
    s->buf_len = s->pos = s->valid = 0;
    s->cmd_active = s->mismatch = false;
    s->dir = TES_SCSI_DIR_NONE;
}

static void disconnect(lsi *s)
{
    if (s->cmd_active) {
        lsi_drop_command(s);
    }
    s->r[R_SCNTL1] &= ~SCNTL1_CON;
    s->r[R_SSTAT1] &= ~PHASE_MASK;
    s->r[R_SBCL] = 0;
    s->r[R_SOCL] &= ~SOCL_ATN;
    s->msg_len = 0;
}

static void msgin_queue(lsi *s, uint8_t b, uint8_t action)
{
    if (s->msg_len < MSG_MAX) {
        s->msg[s->msg_len++] = b;
    }
    s->msg_action = action;
    set_phase(s, PHASE_MI);
}

/* The target changed phase with DBC bytes of the block move left: jump to
 * the driver's phase mismatch handler, or interrupt (SIST0 MA). IA holds
 * the interrupted instruction, UA the next address, RBC what is left. */
static void bad_phase(lsi *s, bool out)
{
    w32(s, R_RBC, get_dbc(s) | (uint32_t)s->r[R_DNAD64] << 24);
    w32(s, R_UA, r32(s, R_DNAD));
    if (s->r[R_CCNTL0] & CCNTL0_ENPMJ) {
        unsigned reg = s->r[R_CCNTL0] & CCNTL0_PMJCTL ? (out ? R_PMJAD1 : R_PMJAD2)
                       : s->r[R_SCNTL2] & SCNTL2_WSR ? R_PMJAD2 : R_PMJAD1;
        w32(s, R_DSP, r32(s, reg));
    } else {
        lsi_scsi_interrupt(s, SIST0_MA, 0);
        scripts_stop(s);
    }
}

/* After a completion or a budget spent: go on from the main loop, never
 * from inside the block layer's callback or the processor itself. */
static void resume_later(lsi *s, int64_t delay)
{
    s->waiting = W_RESUME;
    H->timer_mod(s->timer, H->clock_ns() + delay);
}

static void save_sense(lsi *s, const uint8_t *sense, unsigned len)
{
    unsigned id = s->cur_id % NTARGETS;

    len = len < SENSE_SAVE ? len : SENSE_SAVE;
    memcpy(s->sense + id * SENSE_SAVE, sense, len);
    s->sense_len[id] = len;
}

static void fail_command(lsi *s, scsi_sense sn)
{
    uint8_t sense[18];

    sense_fixed(sense, sn);
    save_sense(s, sense, sizeof(sense));
    s->status = TES_SCSI_CHECK_CONDITION;
    set_phase(s, PHASE_ST);
}

void lsi_hba_complete(void *opaque, tes_scsi_req *req)
{
    lsi *s = opaque;

    if (req != s->req) {
        return;
    }
    s->req = NULL;
    s->status = req->status;
    if (req->host_status != TES_SCSI_HOST_OK) {
        fail_command(s, SENSE_IO_ERROR);
    } else if (req->status == TES_SCSI_CHECK_CONDITION && req->sense_len) {
        save_sense(s, req->sense, req->sense_len);
    }
    if (s->dir == TES_SCSI_DIR_FROM_DEV && req->host_status == TES_SCSI_HOST_OK) {
        s->valid = s->buf_len - (req->residual < s->buf_len ? (uint32_t)req->residual
                                                            : s->buf_len);
    }
    set_phase(s, s->valid ? PHASE_DI : PHASE_ST);
    if (s->mismatch) {
        s->mismatch = false;
        bad_phase(s, true);
    }
    resume_later(s, 0);
}

static void submit(lsi *s, tes_scsi_req *req)
{
    s->iov = (struct iovec){.iov_base = s->buf, .iov_len = s->buf_len};
    req->dir = s->buf_len ? s->dir : TES_SCSI_DIR_NONE;
    req->iov = &s->iov;
    req->iovcnt = s->buf_len ? 1 : 0;
    s->req = req;
    s->waiting = W_TARGET;
    scsi_ops.req_submit(req); /* may complete before it returns */
}

static tes_scsi_req *new_req(lsi *s)
{
    uint32_t n = s->cdb_len < CDB_MAX ? s->cdb_len : CDB_MAX;

    return scsi_ops.req_new(s->sbus, 0, s->cur_id, s->cur_lun, s->tag, s->cdb, n, 0);
}

/* REQUEST SENSE after CHECK CONDITION: the sense kept for the target. */
static void answer_sense(lsi *s, unsigned id)
{
    unsigned n = s->sense_len[id] < s->cdb[4] ? s->sense_len[id] : s->cdb[4];

    n = n < SENSE_SAVE ? n : SENSE_SAVE;

    s->buf = malloc(SENSE_SAVE);
    if (!s->buf) {
        fail_command(s, SENSE_IO_ERROR);
        return;
    }
    memcpy(s->buf, s->sense + id * SENSE_SAVE, SENSE_SAVE);
    s->sense_len[id] = 0;
    s->buf_len = s->buf_alloc = SENSE_SAVE;
    s->dir = TES_SCSI_DIR_FROM_DEV;
    s->valid = n;
    s->status = TES_SCSI_GOOD;
    set_phase(s, n ? PHASE_DI : PHASE_ST);
}

static void start_command(lsi *s)
{
    unsigned id = s->cur_id % NTARGETS;
    tes_scsi_req *req;
    tes_scsi_dir dir;
    uint64_t len;

    s->cmd_active = true;
    s->status = TES_SCSI_GOOD;
    if (s->cdb[0] == 0x03 && s->sense_len[id] && s->cur_lun == 0) {
        answer_sense(s, id);
        return;
    }
    s->sense_len[id] = 0;
    req = new_req(s);
    if (!req) {
        fail_command(s, SENSE_IO_ERROR);
        return;
    }
    scsi_ops.req_xfer(req, &dir, &len);
    if (len > MAX_XFER || (len && !(s->buf = calloc(1, len)))) {
        H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: command 0x%02x moves %llu bytes, more "
               "than %u", id_of(s), s->cdb[0], (unsigned long long)len, MAX_XFER);
        scsi_ops.req_free(req);
        fail_command(s, SENSE_INVALID_FIELD);
        return;
    }
    s->buf_len = s->buf_alloc = (uint32_t)len;
    s->dir = len ? dir : TES_SCSI_DIR_NONE;
    if (s->dir == TES_SCSI_DIR_TO_DEV) {
        scsi_ops.req_free(req); /* a new one goes once the data is in */
        set_phase(s, PHASE_DO);
        return;
    }
    submit(s, req);
}

/* ---- block moves, phase by phase ---- */

static void do_command(lsi *s, uint64_t addr)
{
    uint32_t dbc = get_dbc(s), n = dbc < CDB_MAX ? dbc : CDB_MAX;

    if (!n) {
        H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: empty COMMAND block move", id_of(s));
        return;
    }
    if (s->cmd_active) {
        lsi_drop_command(s);
    }
    memset(s->cdb, 0, sizeof(s->cdb));
    if (!dma_rw(s, addr, s->cdb, n, false, false)) {
        return;
    }
    if (dbc > CDB_MAX) {
        H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: %u-byte CDB cut to %u", id_of(s), dbc,
               CDB_MAX);
    }
    s->cdb_len = n;
    s->r[R_SFBR] = s->cdb[0];
    w32(s, R_DNAD, r32(s, R_DNAD) + dbc);
    set_dbc(s, 0);
    start_command(s);
}

static void do_data(lsi *s, uint64_t addr, bool out)
{
    uint32_t dbc = get_dbc(s), end = out ? s->buf_len : s->valid;
    uint32_t n = end - s->pos < dbc ? end - s->pos : dbc;
    tes_scsi_req *req;

    if (!s->buf || end > s->buf_alloc || s->buf_len > s->buf_alloc || s->pos > end) {
        /* only a forged state gets here */
        lsi_scsi_interrupt(s, SIST0_MA, 0);
        return;
    }
    if (!dma_rw(s, addr, s->buf + s->pos, n, !out, false)) {
        return;
    }
    s->pos += n;
    s->bytes_left -= n;
    w32(s, R_DNAD, r32(s, R_DNAD) + n);
    w32(s, R_CSBC, r32(s, R_CSBC) + n);
    set_dbc(s, dbc - n);
    if (s->pos < end) {
        return;
    }
    if (!out) {
        set_phase(s, PHASE_ST);
        if (dbc - n) {
            bad_phase(s, false);
        }
        return;
    }
    /* All the data is in: the target runs the command now. */
    s->mismatch = dbc - n != 0;
    req = new_req(s);
    if (!req) {
        fail_command(s, SENSE_IO_ERROR);
        return;
    }
    submit(s, req);
}

static void do_status(lsi *s, uint64_t addr)
{
    uint32_t dbc = get_dbc(s);

    if (!dbc) {
        return;
    }
    if (!dma_rw(s, addr, &s->status, 1, true, false)) {
        return;
    }
    s->r[R_SFBR] = s->status;
    w32(s, R_DNAD, r32(s, R_DNAD) + 1);
    set_dbc(s, dbc - 1);
    lsi_drop_command(s);
    s->msg_len = 0;
    msgin_queue(s, 0x00, A_DISCONNECT); /* COMMAND COMPLETE */
}

static void do_msgin(lsi *s, uint64_t addr)
{
    uint32_t dbc = get_dbc(s), n;

    s->msg_len = s->msg_len < MSG_MAX ? s->msg_len : MSG_MAX;
    n = s->msg_len < dbc ? s->msg_len : dbc;
    if (!n) {
        return;
    }
    if (!dma_rw(s, addr, s->msg, n, true, false)) {
        return;
    }
    s->r[R_SFBR] = s->msg[0];
    s->r[R_SIDL] = s->msg[n - 1]; /* Linux reads the last byte there */
    w32(s, R_DNAD, r32(s, R_DNAD) + n);
    set_dbc(s, dbc - n);
    s->msg_len -= n;
    memmove(s->msg, s->msg + n, s->msg_len);
    if (s->msg_len) {
        return;
    }
    switch (s->msg_action) {
    case A_DISCONNECT: disconnect(s); break;
    case A_RESUME: set_phase(s, s->resume_phase); break;
    default: set_phase(s, PHASE_CMD); break;
    }
}

/* ABORT, ABORT TAG, CLEAR QUEUE, BUS DEVICE RESET: the target drops what
 * it holds for us and goes bus free. */
static void msgout_abort(lsi *s, uint8_t m)
{
    if (s->cmd_active) {
        lsi_drop_command(s);
    }
    if (m == 0x0c) {
        scsi_ops.tmf(s->sbus, TES_SCSI_TMF_TARGET_RESET, 0, s->cur_id, 0, 0);
    } else if (m != 0x0d) {
        scsi_ops.tmf(s->sbus, TES_SCSI_TMF_ABORT_TASK_SET, 0, s->cur_id, s->cur_lun, 0);
    }
    disconnect(s);
}

/* One message byte at m[*i]; false when the target left MESSAGE OUT. */
static bool msgout_one(lsi *s, const uint8_t *m, unsigned n, unsigned *i, uint8_t *next)
{
    uint8_t b = m[(*i)++];

    s->r[R_SFBR] = b;
    if (b & 0x80) { /* IDENTIFY */
        s->cur_lun = b & 0x3f;
        *next = PHASE_CMD;
        return true;
    }
    switch (b) {
    case 0x20: case 0x21: case 0x22: /* SIMPLE, HEAD OF, ORDERED QUEUE TAG */
        if (*i < n) {
            s->tag = m[(*i)++] | TAG_VALID;
        }
        return true;
    case 0x01: /* extended: negotiations stay at their defaults */
        if (*i < n) {
            unsigned len = m[(*i)++];
            *i += len ? len : 256;
        }
        return true;
    case 0x07: /* MESSAGE REJECT of nothing we sent */
    case 0x08: /* NO OPERATION */
        return true;
    case 0x06: case 0x0c: case 0x0d: case 0x0e:
        msgout_abort(s, b);
        return false;
    default:
        H->log(TES_LOG_UNIMP, "lsi53c895a %s: message 0x%02x rejected", id_of(s), b);
        s->msg_len = 0;
        s->resume_phase = *next;
        msgin_queue(s, 0x07, A_RESUME);
        return false;
    }
}

static void do_msgout(lsi *s, uint64_t addr)
{
    uint32_t dbc = get_dbc(s), n = dbc < MSGOUT_MAX ? dbc : MSGOUT_MAX;
    uint8_t m[MSGOUT_MAX], next = s->resume_phase;
    unsigned i = 0;

    if (!n || !dma_rw(s, addr, m, n, false, false)) {
        return;
    }
    w32(s, R_DNAD, r32(s, R_DNAD) + dbc);
    set_dbc(s, 0);
    s->r[R_SOCL] &= ~SOCL_ATN;
    s->r[R_SBCL] &= ~SBCL_ATN;
    while (i < n) {
        if (!msgout_one(s, m, n, &i, &next)) {
            return;
        }
    }
    set_phase(s, next);
}

/* Bits 39..32 (or 63..32) of a table indirect move's address: none, the
 * table's top byte (40-bit mode), or the register that byte selects
 * (SCRATCHC..R, MMRS, MMWS, SFS, DRS, SBMS, DBMS). */
static uint32_t table_high(lsi *s, uint8_t top)
{
    uint8_t mode = s->r[R_CCNTL1] & (CCNTL1_EN64TIBMV | CCNTL1_64TIMOD);

    if (mode == (CCNTL1_EN64TIBMV | CCNTL1_64TIMOD)) {
        return top;
    }
    if (!(mode & CCNTL1_EN64TIBMV)) {
        return 0;
    }
    top &= 0x1f;
    if (top > 0x15) {
        H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: 64-bit table selector 0x%x", id_of(s), top);
        return 0;
    }
    return r32(s, top < 0x10 ? R_SCRATCHB + 4 + 4 * top : R_MMRS + 4 * (top - 0x10));
}

/* Block move (and chained move): addressing, then the phase's transfer. */
/* Where a block move's data is and how much: direct (with a third word
 * in 64-bit direct mode), indirect, or from the DSA-relative table. */
static bool block_addr(lsi *s, uint32_t insn, uint32_t *addr, uint32_t *count, uint32_t *high)
{
    uint32_t t[2];

    if (insn & (1u << 29)) { /* indirect */
        return rd32(s, *addr, addr);
    }
    if (insn & (1u << 28)) { /* table indirect */
        if (!dma_rw(s, (uint32_t)(r32(s, R_DSA) + sext24(*addr)), t, 8, false, false)) {
            return false;
        }
        *count = le32toh(t[0]) & 0xffffff;
        *addr = le32toh(t[1]);
        *high = table_high(s, le32toh(t[0]) >> 24);
    } else if (s->r[R_CCNTL1] & CCNTL1_EN64DBMV) {
        if (!rd32(s, r32(s, R_DSP), high)) {
            return false;
        }
        w32(s, R_DBMS, *high);
        w32(s, R_DSP, r32(s, R_DSP) + 4);
    }
    return true;
}

static void op_block_move(lsi *s, uint32_t insn, uint32_t addr, uint32_t pc)
{
    uint32_t count = insn & 0xffffff, high = 0;
    uint8_t ph = (insn >> 24) & PHASE_MASK;

    if (s->r[R_SIST1] & SIST1_STO) {
        scripts_stop(s);
        return;
    }
    w32(s, R_IA, pc);
    if (!block_addr(s, insn, &addr, &count, &high)) {
        return;
    }
    set_dbc(s, count);
    w32(s, R_DNAD, addr);
    w32(s, R_DNAD64, high);
    if (!connected(s) || phase(s) != ph) {
        if (!connected(s)) {
            H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: block move on a free bus", id_of(s));
        }
        lsi_scsi_interrupt(s, SIST0_MA, 0);
        return;
    }
    switch (ph) {
    case PHASE_DO: do_data(s, addr | (uint64_t)high << 32, true); break;
    case PHASE_DI: do_data(s, addr | (uint64_t)high << 32, false); break;
    case PHASE_CMD: do_command(s, addr); break;
    case PHASE_ST: do_status(s, addr); break;
    case PHASE_MO: do_msgout(s, addr); break;
    case PHASE_MI: do_msgin(s, addr); break;
    }
    s->r[R_DFIFO] = get_dbc(s) & 0xff;
    w32(s, R_SBC, get_dbc(s));
}

/* ---- I/O instructions ---- */

static bool target_present(lsi *s, uint32_t id)
{
    uint32_t ch, t, lun;

    for (unsigned i = 0; scsi_ops.lun_at(s->sbus, i, &ch, &t, &lun); i++) {
        if (ch == 0 && t == id) {
            return true;
        }
    }
    return false;
}

static void op_select(lsi *s, uint32_t insn, uint32_t id)
{
    s->r[R_SDID] = id;
    if (connected(s)) { /* reselected meanwhile: the alternate address */
        w32(s, R_DSP, r32(s, R_DNAD));
        return;
    }
    s->r[R_SSTAT0] |= SSTAT0_WOA;
    s->r[R_SCNTL1] &= ~SCNTL1_IARB;
    if (id == (s->r[R_SCID] & 0xf) || !target_present(s, id)) {
        lsi_scsi_interrupt(s, 0, SIST1_STO);
        disconnect(s);
        return;
    }
    s->r[R_SCNTL1] |= SCNTL1_CON;
    s->cur_id = id;
    s->cur_lun = 0;
    s->tag = 0;
    s->msg_len = 0;
    s->resume_phase = PHASE_CMD;
    s->r[R_SBCL] |= SBCL_BSY;
    if (insn & (1u << 24)) { /* with ATN: the target asks for a message */
        s->r[R_SOCL] |= SOCL_ATN;
        s->r[R_SBCL] |= SBCL_ATN;
        set_phase(s, PHASE_MO);
    } else {
        set_phase(s, PHASE_CMD);
    }
}

static void op_set_clear(lsi *s, uint32_t insn, bool set)
{
    if (insn & (1u << 3)) { /* ATN */
        if (set) {
            s->r[R_SOCL] |= SOCL_ATN;
            s->r[R_SBCL] |= SBCL_ATN;
            if (connected(s) && phase(s) != PHASE_MO) {
                s->resume_phase = phase(s);
                set_phase(s, PHASE_MO);
            }
        } else {
            s->r[R_SOCL] &= ~SOCL_ATN;
            s->r[R_SBCL] &= ~SBCL_ATN;
        }
    }
    if (insn & (1u << 6)) { /* ACK */
        s->r[R_SBCL] = set ? s->r[R_SBCL] | SBCL_ACK : s->r[R_SBCL] & ~SBCL_ACK;
    }
    if (insn & (1u << 9)) {
        H->log(TES_LOG_UNIMP, "lsi53c895a %s: target mode", id_of(s));
    }
    if (insn & (1u << 10)) {
        s->carry = set;
    }
}

static void op_io(lsi *s, uint32_t insn, uint32_t addr)
{
    unsigned op = (insn >> 27) & 7;
    uint32_t id = insn;

    if (insn & (1u << 25)) { /* table indirect: ID, SCNTL3, SXFER from the DSA table */
        if (!rd32(s, (uint32_t)(r32(s, R_DSA) + sext24(insn)), &id)) {
            return;
        }
        if (op == 0) {
            s->r[R_SCNTL3] = id >> 24;
            s->r[R_SXFER] = id >> 8;
        }
    }
    id = (id >> 16) & 0xf;
    if (insn & (1u << 26)) { /* relative alternate address */
        addr = r32(s, R_DSP) + sext24(addr);
    }
    w32(s, R_DNAD, addr);
    switch (op) {
    case 0: op_select(s, insn, id); break;
    case 1: /* WAIT DISCONNECT */
        if (s->cmd_active) {
            H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: disconnect in the middle of a "
                   "command", id_of(s));
        }
        disconnect(s);
        break;
    case 2: /* WAIT RESELECT: targets never disconnect, only SIGP ends it */
        if (s->r[R_ISTAT0] & ISTAT0_SIGP) {
            w32(s, R_DSP, addr);
        } else {
            s->waiting = W_RESELECT;
        }
        break;
    case 3: op_set_clear(s, insn, true); break;
    default: op_set_clear(s, insn, false); break;
    }
}

static uint8_t alu(lsi *s, unsigned op, uint8_t a, uint8_t b)
{
    unsigned v;

    switch (op) {
    case 0: return b;
    case 1: v = (unsigned)a << 1 | s->carry; s->carry = a >> 7; return (uint8_t)v;
    case 2: return a | b;
    case 3: return a ^ b;
    case 4: return a & b;
    case 5: v = a >> 1 | s->carry << 7; s->carry = a & 1; return (uint8_t)v;
    case 6: v = (unsigned)a + b; s->carry = v > 0xff; return (uint8_t)v;
    default: v = (unsigned)a + b + s->carry; s->carry = v > 0xff; return (uint8_t)v;
    }
}

/* Read-write instructions: move from SFBR, to SFBR, read-modify-write. */
static void op_regmove(lsi *s, uint32_t insn)
{
    unsigned op = (insn >> 27) & 7, alu_op = (insn >> 24) & 7;
    unsigned reg = ((insn >> 16) & 0x7f) | (insn & 0x80);
    uint8_t data = (insn >> 8) & 0xff, a = 0, b = data;

    if (op == 5) {
        a = s->r[R_SFBR];
    } else {
        a = alu_op ? lsi_reg_read(s, reg) : 0;
        if (op == 7 && (insn & (1u << 23))) {
            b = s->r[R_SFBR];
        }
    }
    a = alu(s, alu_op, a, b);
    if (op == 6) {
        s->r[R_SFBR] = a;
    } else {
        lsi_reg_write(s, reg, a, true);
    }
}

/* ---- transfer control ---- */

static bool condition(lsi *s, uint32_t insn)
{
    bool ok = true;

    if (insn & (1u << 21)) {
        ok = ok && s->carry;
    }
    if (insn & (1u << 17)) { /* no phase on a free bus */
        ok = ok && connected(s) && phase(s) == ((insn >> 24) & PHASE_MASK);
    }
    if (insn & (1u << 18)) {
        uint8_t mask = ~(insn >> 8) & 0xff;
        ok = ok && (s->r[R_SFBR] & mask) == (insn & mask);
    }
    return ok == ((insn & (1u << 19)) != 0);
}

static void op_transfer(lsi *s, uint32_t insn, uint32_t addr)
{
    unsigned op = (insn >> 27) & 7;

    if (op > 3) {
        H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: transfer control opcode %u", id_of(s), op);
        lsi_dma_interrupt(s, DSTAT_IID);
        return;
    }
    /* A timed-out selection stops at the first instruction waiting for a
     * phase: the driver expects DSP just past it. */
    if ((insn & (3u << 16)) && (s->r[R_SIST1] & SIST1_STO)) {
        scripts_stop(s);
        return;
    }
    if (!condition(s, insn)) {
        return;
    }
    if (insn & (1u << 23)) {
        addr = r32(s, R_DSP) + sext24(addr);
    }
    switch (op) {
    case 0: w32(s, R_ADDER, addr); w32(s, R_DSP, addr); break;
    case 1: w32(s, R_TEMP, r32(s, R_DSP)); w32(s, R_DSP, addr); break;
    case 2: w32(s, R_DSP, r32(s, R_TEMP)); break;
    default:
        if (insn & (1u << 20)) { /* interrupt on the fly: go on */
            s->r[R_ISTAT0] |= ISTAT0_INTF;
            lsi_update_irq(s);
        } else {
            lsi_dma_interrupt(s, DSTAT_SIR);
        }
        break;
    }
}

/* ---- memory move, load and store ---- */

static void op_memmove(lsi *s, uint32_t insn, uint32_t src)
{
    uint32_t count = insn & 0xffffff, dst, n;
    uint8_t chunk[4096];

    if (!rd32(s, r32(s, R_DSP), &dst)) {
        return;
    }
    w32(s, R_DSP, r32(s, R_DSP) + 4);
    s->bytes_left -= count;
    while (count) {
        n = count < sizeof(chunk) ? count : sizeof(chunk);
        if (!dma_rw(s, src, chunk, n, false, true) || !dma_rw(s, dst, chunk, n, true, true)) {
            return;
        }
        src += n, dst += n, count -= n;
    }
}

static void op_loadstore(lsi *s, uint32_t insn, uint32_t addr)
{
    unsigned n = insn & 7, reg = (insn >> 16) & 0xff;
    uint8_t data[4];

    if (n == 0 || n > 4) {
        H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: load/store of %u bytes", id_of(s), n);
        lsi_dma_interrupt(s, DSTAT_IID);
        return;
    }
    if (insn & (1u << 28)) {
        addr = r32(s, R_DSA) + sext24(addr);
    }
    if (insn & (1u << 24)) {
        if (dma_rw(s, addr, data, n, false, true)) {
            dma_regs(s, reg, data, n, true);
        }
    } else {
        dma_regs(s, reg, data, n, false);
        dma_rw(s, addr, data, n, true, true);
    }
}

/* ---- the processor ---- */

static void step(lsi *s)
{
    uint32_t pc = r32(s, R_DSP), insn, arg;
    uint8_t b[8];

    s->nonram = 0;
    if (!dma_rw(s, pc, b, 8, false, false)) {
        return;
    }
    insn = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    arg = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    w32(s, R_DSPS, arg);
    s->r[R_DCMD] = insn >> 24;
    w32(s, R_DSP, pc + 8);
    switch (insn >> 30) {
    case 0: op_block_move(s, insn, arg, pc); break;
    case 1:
        if (((insn >> 27) & 7) < 5) {
            op_io(s, insn, arg);
        } else {
            op_regmove(s, insn);
        }
        break;
    case 2: op_transfer(s, insn, arg); break;
    default:
        if (insn & (1u << 29)) {
            op_loadstore(s, insn, arg);
        } else {
            op_memmove(s, insn, arg);
        }
        break;
    }
}

void lsi_scripts_run(lsi *s)
{
    unsigned n = 0;

    if (s->running) {
        return; /* our own DMA reached our registers: the loop goes on */
    }
    s->running = true;
    s->bytes_left = BYTE_BUDGET;
    while ((s->r[R_ISTAT1] & ISTAT1_SRUN) && s->waiting == W_NONE) {
        if (n++ == INSN_BUDGET || s->bytes_left <= 0) {
            int64_t moved = BYTE_BUDGET - s->bytes_left;
            resume_later(s, ((int64_t)YIELD_NS << s->spin) + moved * NS_PER_BYTE);
            s->spin += s->spin < SPIN_MAX;
            s->running = false;
            return;
        }
        step(s);
        if ((s->r[R_DCNTL] & DCNTL_SSM) && (s->r[R_ISTAT1] & ISTAT1_SRUN) &&
            s->waiting == W_NONE) {
            lsi_dma_interrupt(s, DSTAT_SSI);
        }
    }
    s->spin = 0; /* stopped, or waiting for a target or SIGP */
    s->running = false;
}

void lsi_scripts_start(lsi *s)
{
    if (s->r[R_ISTAT1] & ISTAT1_SRUN) {
        return;
    }
    if (s->req) {
        /* Restarted after an abort while the target still works. */
        scsi_ops.drain(s->sbus);
    }
    H->timer_del(s->timer);
    s->waiting = W_NONE;
    s->spin = 0;
    s->r[R_ISTAT1] |= ISTAT1_SRUN;
    lsi_scripts_run(s);
}

void lsi_resume_cb(void *opaque)
{
    lsi *s = opaque;

    if (s->waiting == W_RESUME) {
        s->waiting = W_NONE;
        lsi_scripts_run(s);
    }
}

