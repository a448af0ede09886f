/*
 * lsi53c895a: the Symbios Logic / LSI 53C895A PCI-SCSI controller (PCI
 * 1000:0012), Linux's sym53c8xx driver, an HBA of the SCSI bus through the
 * "scsi" interface. It is a SCRIPTS processor: the driver writes a program
 * into host memory or the chip's own RAM and the chip runs it, moving the
 * SCSI phases of each command by block moves.
 *
 * User manual
 *
 *   -device lsi53c895a,id=scsi0
 *   -device scsi-hd,drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0
 *
 * No properties of its own. The child SCSI bus is "ID.0": one channel,
 * targets 0..6 (7 is the controller's own id), LUN 0 only (QEMU's limits,
 * so the guest finds the same <host:0:id:0> tuples). The BARs are QEMU's:
 * BAR0 256 bytes of I/O ports and BAR1 1 KiB of memory with the register
 * file (mirrored every 256 bytes), BAR2 the 8 KiB SCRIPTS RAM. INTx only
 * (INTA#). A target answers a selection with ATN in MESSAGE OUT; IDENTIFY,
 * the queue tag messages, negotiation (ignored: the target stays
 * asynchronous and narrow) and ABORT, ABORT TAG, CLEAR QUEUE and BUS
 * DEVICE RESET are understood, anything else is answered with MESSAGE
 * REJECT. Targets never disconnect: a command holds the bus from
 * selection to COMMAND COMPLETE, the SCRIPTS processor waiting while the
 * block I/O runs. Data is staged in a buffer of the size the CDB asks
 * for, at most 16 MiB (larger commands end with CHECK CONDITION, ILLEGAL
 * REQUEST). After CHECK CONDITION the sense data waits for the
 * initiator's REQUEST SENSE, as on a parallel SCSI bus.
 *
 * The SCRIPTS processor runs at most 2000 instructions or 4 MiB of data
 * per turn, then yields and goes on: 100 us of virtual time, doubling for
 * each turn in a row that spent its budget up to 25.6 ms, plus 4 ns per
 * byte moved. A script looping forever keeps the chip busy (ISTAT1 SRUN)
 * as on hardware, never the emulator (a few percent of a host CPU), and
 * the driver's abort (ISTAT ABRT) stops it. Its DMA to the chip's own
 * BARs never goes back through the memory map: SCRIPTS RAM is read and
 * written in place, and a memory move, load or store onto the register
 * BAR applies the bytes as register writes (instruction fetch and block
 * moves into the registers are refused with a bus fault, as is DMA with
 * bus mastering off, to unassigned addresses, or of more than 4 KiB at
 * once to what is not RAM, such as another device's registers). Block moves take 32-bit, 40-bit
 * (table) and 64-bit (DBMS, table selectors) addresses. A selection of an
 * absent target times out at once (SIST1 STO); the general purpose timer
 * expires as soon as it is set. What a guest gets wrong is logged under
 * -d guest_errors; an unimplemented feature (target mode, low-level mode,
 * DMA into I/O space) under -d unimp. Reset and migration wait for the
 * command in flight; a migration keeps the SCRIPTS position, the staged
 * data and a pending sense.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/pci.h>

#include "lsi-int.h"
#include "scsi-trace.h"

/* ---- resets ---- */

static void regs_reset(lsi *s)
{
    memset(s->r, 0, sizeof(s->r));
    s->r[R_DCMD] = 0x40;
    s->r[R_CTEST2] = CTEST2_DACK;
    s->r[R_SCNTL0] = 0xc0;
    s->r[R_SCID] = 7;
    s->r[R_RESPID0] = 0x80;
    s->carry = 0;
    s->waiting = W_NONE;
    s->msg_len = 0;
    s->msg_action = A_CMD;
    s->resume_phase = PHASE_CMD;
    s->status = 0;
    s->tag = 0;
    s->cur_id = s->cur_lun = 0;
}

/* The chip's own reset (ISTAT SRST, PCI reset): the command goes with it. */
static void chip_reset(lsi *s)
{
    lsi_drop_command(s);
    H->timer_del(s->timer);
    regs_reset(s);
    memset(s->sense_len, 0, sizeof(s->sense_len));
    lsi_update_irq(s);
}

/* SCNTL1 RST: every target resets (unit attention), the command ends. */
static void scsi_bus_reset(lsi *s)
{
    lsi_drop_command(s);
    scsi_ops.tmf(s->sbus, TES_SCSI_TMF_BUS_RESET, 0, 0, 0, 0);
    memset(s->sense_len, 0, sizeof(s->sense_len));
    s->r[R_SCNTL1] &= ~SCNTL1_CON;
    s->r[R_SSTAT1] &= ~PHASE_MASK;
    s->r[R_SBCL] = 0;
    s->msg_len = 0;
    s->r[R_SSTAT0] |= SSTAT0_RST;
    lsi_scsi_interrupt(s, SIST0_RST, 0);
}

/* ---- register reads and writes ---- */

uint8_t lsi_reg_read(lsi *s, unsigned off)
{
    uint8_t v;

    switch (off) {
    case R_GPREG: return 0x7f;
    case R_DSTAT:
        v = s->r[R_DSTAT] | DSTAT_DFE;
        if (!(s->r[R_ISTAT0] & ISTAT0_INTF)) {
            s->r[R_DSTAT] = 0;
        }
        lsi_update_irq(s);
        return v;
    case R_SSTAT2: return connected(s) ? 0 : 2;
    case R_CTEST0: return 0xff;
    case R_CTEST1: case R_CTEST6: return 0;
    case R_CTEST2:
        v = s->r[R_CTEST2] | CTEST2_DACK | CTEST2_CM;
        if (s->r[R_ISTAT0] & ISTAT0_SIGP) {
            s->r[R_ISTAT0] &= ~ISTAT0_SIGP;
            v |= CTEST2_SIGP;
        }
        return v;
    case R_SIST0: case R_SIST1:
        v = s->r[off];
        s->r[off] = 0;
        lsi_update_irq(s);
        return v;
    case R_MACNTL: case R_GPCNTL: return 0x0f;
    case R_STEST4: return 0xe0; /* clock multiplier locked (LCKFRQ) */
    case R_SBDL: return phase(s) == PHASE_MI && s->msg_len ? s->msg[0] : 0;
    default:
        if (off >= R_END) {
            H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: read of register 0x%02x", id_of(s),
                   off);
            return 0xff;
        }
        return s->r[off];
    }
}

static void write_istat(lsi *s, uint8_t val, bool script)
{
    s->r[R_ISTAT0] = (s->r[R_ISTAT0] & 0x0f) | (val & 0xf0);
    if (val & ISTAT0_ABRT) {
        lsi_dma_interrupt(s, DSTAT_ABRT);
    }
    if (val & ISTAT0_INTF) {
        s->r[R_ISTAT0] &= ~ISTAT0_INTF;
        lsi_update_irq(s);
    }
    if (s->waiting == W_RESELECT && (val & ISTAT0_SIGP)) {
        s->waiting = W_NONE;
        w32(s, R_DSP, r32(s, R_DNAD));
        lsi_scripts_run(s);
    }
    if (val & ISTAT0_SRST) {
        if (script) {
            H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: SCRIPTS reset the chip: ignored",
                   id_of(s));
            s->r[R_ISTAT0] &= ~ISTAT0_SRST;
            return;
        }
        chip_reset(s);
    }
}

static void write_scntl1(lsi *s, uint8_t val, bool script)
{
    s->r[R_SCNTL1] = val & ~SCNTL1_SST;
    if (!(val & SCNTL1_RST)) {
        s->r[R_SSTAT0] &= ~SSTAT0_RST;
    } else if (script) {
        H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: SCRIPTS reset the SCSI bus: ignored",
               id_of(s));
        s->r[R_SCNTL1] &= ~SCNTL1_RST;
    } else if (!(s->r[R_SSTAT0] & SSTAT0_RST)) {
        scsi_bus_reset(s);
    }
}

static void write_dsp_high(lsi *s, uint8_t val)
{
    s->r[R_DSP + 3] = val;
    if (!(s->r[R_DMODE] & DMODE_MAN)) {
        lsi_scripts_start(s);
    }
}

/* Registers with side effects; false for the plain ones. */
static bool reg_write_special(lsi *s, unsigned off, uint8_t val, bool script)
{
    switch (off) {
    case R_SCNTL1: write_scntl1(s, val, script); return true;
    case R_SCNTL2: s->r[off] = val & ~(SCNTL2_WSR | SCNTL2_WSS); return true;
    case R_SDID: s->r[off] = val & 0xf; return true;
    case R_GPREG: case R_SSID: case R_SBCL: case R_DSTAT: case R_SSTAT0: case R_SSTAT1:
    case R_SSTAT2: case R_ISTAT1: case R_CTEST0: case R_CTEST1: case R_DFIFO: case R_CTEST6:
    case R_SIST0: case R_SIST1: case R_MACNTL: case R_GPCNTL: case R_STEST0: case R_SIDL:
    case R_STEST4: case R_SBDL:
        return true; /* read-only: Linux writes some at start-up */
    case R_ISTAT0: write_istat(s, val, script); return true;
    case R_CTEST2: s->r[off] = val & CTEST2_PCICIE; return true;
    case R_CTEST3: s->r[off] = val & 0x0f; return true;
    case R_DSP + 3: write_dsp_high(s, val); return true;
    case R_DIEN: case R_SIEN0: case R_SIEN1: s->r[off] = val; lsi_update_irq(s); return true;
    case R_DCNTL:
        s->r[off] = val & ~(DCNTL_PFF | DCNTL_STD);
        if (val & DCNTL_STD) {
            lsi_scripts_start(s);
        }
        return true;
    case R_STIME1:
        s->r[off] = val;
        if (val & 0xf) { /* the general purpose timer expires at once */
            lsi_scsi_interrupt(s, 0, SIST1_GEN);
        }
        return true;
    case R_STEST2:
        if (val & 1) {
            H->log(TES_LOG_UNIMP, "lsi53c895a %s: low-level mode", id_of(s));
        }
        s->r[off] = val;
        return true;
    default:
        return false;
    }
}

void lsi_reg_write(lsi *s, unsigned off, uint8_t val, bool script)
{
    if (reg_write_special(s, off, val, script)) {
        return;
    }
    if (off >= R_END || off == 0x45 || off == 0x51 || off == 0x53 || (off > 0x58 && off < 0x5c)) {
        H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: write of 0x%02x to register 0x%02x",
               id_of(s), val, off);
        return;
    }
    s->r[off] = val;
}

/* ---- BARs ---- */

static uint64_t regs_read(void *opaque, uint64_t off, unsigned size)
{
    lsi *s = opaque;
    uint64_t v = 0;

    if (s->running) {
        H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: re-entrant register read", id_of(s));
        return ~0ull;
    }
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)lsi_reg_read(s, (off + i) & 0xff) << (8 * i);
    }
    return v;
}

/* Bytes in ascending order: the DSP write that starts the processor is
 * the last byte of the register. */
static void regs_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    lsi *s = opaque;

    if (s->running) {
        H->log(TES_LOG_GUEST_ERROR, "lsi53c895a %s: re-entrant register write", id_of(s));
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        lsi_reg_write(s, (off + i) & 0xff, (uint8_t)(val >> (8 * i)), false);
    }
}

TES_TRACE_RW_WRAP(regs, regs_read, regs_write, lsi_reg_read, lsi_reg_write)

static const tes_mem_ops regs_ops = {
    .size = sizeof(tes_mem_ops),
    .read = regs_traced_read,
    .write = regs_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8,
};

static uint64_t ram_read(void *opaque, uint64_t off, unsigned size)
{
    lsi *s = opaque;
    uint64_t v = 0;

    for (unsigned i = 0; i < size && off + i < RAM_SIZE; i++) {
        v |= (uint64_t)s->ram[off + i] << (8 * i);
    }
    return v;
}

static void ram_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    lsi *s = opaque;

    for (unsigned i = 0; i < size && off + i < RAM_SIZE; i++) {
        s->ram[off + i] = (uint8_t)(val >> (8 * i));
    }
}

TES_TRACE_RW_WRAP(ram, ram_read, ram_write, lsi_ram_read, lsi_ram_write)

static const tes_mem_ops ram_ops = {
    .size = sizeof(tes_mem_ops),
    .read = ram_traced_read,
    .write = ram_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8,
};

static const tes_scsi_hba_ops hba_ops = {
    .size = sizeof(tes_scsi_hba_ops),
    .complete = lsi_hba_complete,
};

/* ---- lifecycle ---- */

static int lsi_realize(tes_device *dev, void *st)
{
    lsi *s = st;
    tes_scsi_bus_info bi = {.size = sizeof(bi), .max_channel = 0, .max_target = MAX_TARGET,
                            .max_lun = 0, .ops = &hba_ops, .opaque = s};
    tes_region *io = H->region_new_io(dev, "lsi-io", IO_SIZE, &regs_ops, s);
    tes_region *mmio = H->region_new_io(dev, "lsi-mmio", MMIO_SIZE, &regs_ops, s);
    tes_region *ram = H->region_new_io(dev, "lsi-ram", RAM_SIZE, &ram_ops, s);
    int ret;

    s->dev = dev;
    H->pci_config(dev)[0x0d] = 0xff; /* latency timer, as QEMU */
    ret = H->pci_register_bar(dev, 0, TES_PCI_BAR_IO, io);
    ret = ret ?: H->pci_register_bar(dev, 1, TES_PCI_BAR_MEM32, mmio);
    ret = ret ?: H->pci_register_bar(dev, 2, TES_PCI_BAR_MEM32, ram);
    if (ret < 0) {
        H->error(dev, "lsi53c895a: cannot register the BARs (%d)", ret);
        return ret;
    }
    s->sbus = scsi_ops.bus_new(dev, NULL, &bi);
    if (!s->sbus) {
        return -EINVAL;
    }
    s->timer = H->timer_new(lsi_resume_cb, s);
    regs_reset(s);
    return 0;
}

static void lsi_unrealize(tes_device *dev, void *st)
{
    lsi *s = st;

    s->req = NULL; /* complete() ignores it */
    scsi_ops.bus_free(s->sbus); /* drains */
    s->sbus = NULL;
    if (s->timer) {
        H->timer_free(s->timer);
        s->timer = NULL;
    }
    free(s->buf);
    s->buf = NULL;
    s->buf_alloc = 0;
}

static void lsi_reset(tes_device *dev, void *st)
{
    lsi *s = st;

    chip_reset(s);
    scsi_ops.tmf(s->sbus, TES_SCSI_TMF_BUS_RESET, 0, 0, 0, 0);
}

/* ---- migration ---- */

static int lsi_pre_save(tes_device *dev, void *st)
{
    lsi *s = st;

    scsi_ops.drain(s->sbus); /* the request completes: W_RESUME */
    return 0;
}

static int lsi_save(tes_device *dev, void *st, tes_stream *out)
{
    lsi *s = st;

    if (s->cmd_active && s->buf_len) {
        H->stream_write(out, s->buf, s->buf_len);
    }
    return 0;
}

/* A refused stream may have left forged fields behind: the chip as after
 * a soft reset, without the command, stopped. */
static void sanitize(lsi *s)
{
    free(s->buf);
    s->buf = NULL;
    s->buf_alloc = 0;
    s->buf_len = s->pos = s->valid = 0;
    s->cmd_active = s->mismatch = false;
    s->dir = TES_SCSI_DIR_NONE;
    s->cdb_len = 0;
    memset(s->sense_len, 0, sizeof(s->sense_len));
    regs_reset(s);
    lsi_update_irq(s);
}

static bool state_ok(lsi *s)
{
    for (unsigned i = 0; i < NTARGETS; i++) {
        if (s->sense_len[i] > SENSE_SAVE) {
            return false;
        }
    }
    if (s->waiting > W_RESUME || s->waiting == W_TARGET || s->msg_len > MSG_MAX ||
        s->msg_action > A_RESUME || s->cdb_len > CDB_MAX || s->dir > TES_SCSI_DIR_TO_DEV ||
        s->buf_len > MAX_XFER || s->pos > s->buf_len || s->valid > s->buf_len ||
        s->resume_phase > PHASE_MASK || s->carry > 1 || s->cur_id >= NTARGETS) {
        return false;
    }
    return s->cmd_active || (!s->buf_len && !s->mismatch);
}

static int lsi_load(tes_device *dev, void *st, tes_stream *in, uint32_t version)
{
    lsi *s = st;
    int ret;

    if (s->req) {
        scsi_ops.drain(s->sbus);
    }
    free(s->buf);
    s->buf = NULL;
    s->buf_alloc = 0;
    if (!state_ok(s)) {
        sanitize(s);
        H->error(dev, "lsi53c895a: inconsistent command state in the stream");
        return -EINVAL;
    }
    if (!s->cmd_active || !s->buf_len) {
        return 0;
    }
    s->buf = malloc(s->buf_len);
    s->buf_alloc = s->buf ? s->buf_len : 0;
    ret = s->buf ? H->stream_read(in, s->buf, s->buf_len) : -ENOMEM;
    if (ret < 0) {
        sanitize(s);
        H->error(dev, "lsi53c895a: staged data missing from the stream");
    }
    return ret;
}

static int lsi_post_load(tes_device *dev, void *st, uint32_t version)
{
    lsi *s = st;

    s->running = false;
    if (!state_ok(s) ||
        (s->cmd_active && s->buf_len && (!s->buf || s->buf_alloc != s->buf_len))) {
        sanitize(s);
        H->error(dev, "lsi53c895a: inconsistent command state in the stream");
        return -EINVAL;
    }
    H->timer_del(s->timer);
    if (s->waiting == W_RESUME) {
        H->timer_mod(s->timer, H->clock_ns());
    }
    lsi_update_irq(s);
    return 0;
}

static const tes_state_field lsi_fields[] = {
    TES_FIELD_BYTES(lsi, r),
    TES_FIELD_BYTES(lsi, ram),
    TES_FIELD_U8(lsi, carry),
    TES_FIELD_U8(lsi, waiting),
    TES_FIELD_U8(lsi, msg_action),
    TES_FIELD_U8(lsi, msg_len),
    TES_FIELD_U8(lsi, resume_phase),
    TES_FIELD_U8(lsi, status),
    TES_FIELD_U8(lsi, dir),
    TES_FIELD_BYTES(lsi, msg),
    TES_FIELD_BOOL(lsi, cmd_active),
    TES_FIELD_BOOL(lsi, mismatch),
    TES_FIELD_BYTES(lsi, cdb),
    TES_FIELD_U8(lsi, cdb_len),
    TES_FIELD_U8(lsi, cur_id),
    TES_FIELD_U8(lsi, cur_lun),
    TES_FIELD_U32(lsi, tag),
    TES_FIELD_U32(lsi, buf_len),
    TES_FIELD_U32(lsi, pos),
    TES_FIELD_U32(lsi, valid),
    TES_FIELD_BYTES(lsi, sense),
    TES_FIELD_BYTES(lsi, sense_len),
    TES_FIELD_END,
};

static const tes_state_info lsi_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = lsi_fields,
    .pre_save = lsi_pre_save,
    .post_load = lsi_post_load,
    .save = lsi_save,
    .load = lsi_load,
};

static const tes_pci_info lsi_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = LSI_VENDOR,
    .device_id = LSI_DEVICE,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .class_id = 0x0100, /* SCSI storage controller */
    .irq_pin = 1,
};

const tes_type_info lsi53c895a_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "lsi53c895a",
    .desc = "LSI53C895A SCSI host bus adapter (sym53c8xx)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(lsi),
    .realize = lsi_realize,
    .unrealize = lsi_unrealize,
    .reset = lsi_reset,
    .state = &lsi_state,
    .class_info = &lsi_pci,
};
