/*
 * pc-platform: the ICH9 TCO watchdog of ICH9-LPC (ICH9 datasheet 13.9;
 * QEMU's hw/acpi/tco.c), with the two registers outside its block that
 * it answers to: SMI_EN/SMI_STS in the PM block and GCS in the chipset
 * configuration registers. Linux's lpc_ich finds the block at PMBASE +
 * 0x60, SMI_EN at PMBASE + 0x30 and GCS at RCBA (config 0xf0) + 0x3410,
 * and hands them to iTCO_wdt (TCO version 2).
 *
 * TCO block (offsets from PMBASE + 0x60; reset values as QEMU's)
 *
 *   0x00 TCO_RLD       16  reads the ticks left while the timer runs; a
 *                          write reloads it from TCO_TMR (and forgets a
 *                          first expiry)
 *   0x02 TCO_DAT_IN     8  a write sets SW_TCO_SMI (TCO1_STS bit 1)
 *   0x03 TCO_DAT_OUT    8  a write sets TCO_INT_STS (bit 2)
 *   0x04 TCO1_STS      16  TIMEOUT (bit 3), TCO_INT_STS, SW_TCO_SMI; write
 *                          1 to clear
 *   0x06 TCO2_STS      16  SECOND_TO_STS (bit 1), BOOT_STS (bit 2); write
 *                          1 to clear; kept across a reset (resume well)
 *   0x08 TCO1_CNT      16  TCO_TMR_HLT (bit 11) halts the timer, TCO_LOCK
 *                          (bit 12) once set stays set until reset and
 *                          freezes SMI_EN's TCO_EN; writing it with HLT
 *                          clear (re)starts the count
 *   0x0a TCO2_CNT      16  0x0008 at reset, plain storage
 *   0x0c TCO_MESSAGE1/2, 0x0e TCO_WDCNT, 0x10 SW_IRQ_GEN (0x03)  storage
 *   0x12 TCO_TMR       16  the reload value, 10 bits (0x0004 at reset);
 *                          0 and 1 do not start the timer
 *
 * The timer counts TCO_TMR ticks of 0.6 s of virtual time. Its first
 * expiry sets TIMEOUT (and, with SMI_EN.TCO_EN, SMI_STS.TCO_STS and a
 * pulse on SMI#, output 1: the q35 board wires it to vCPU 0's SMI line)
 * and reloads; the second sets SECOND_TO_STS and BOOT_STS and, unless
 * GCS.NO_REBOOT or the noreboot strap (property noreboot=on, QEMU's
 * -global ICH9-LPC.noreboot=true) is set, performs the watchdog action
 * (-watchdog-action, reset by default; QMP WATCHDOG) and halts. After a
 * reset the timer is halted until the guest writes TCO_RLD or TCO1_CNT,
 * as QEMU's (hardware would run it: the firmware halts it).
 *
 * Where this differs from QEMU: the status bits are write-1-to-clear (the
 * datasheet's, and what iTCO_wdt writes) instead of QEMU's stored value,
 * byte accesses reach the high byte of 16-bit registers, TCO_LOCK guards
 * TCO_EN, and SMI# follows TCO_EN (QEMU raises SMI on every TCO_DAT_IN
 * write).
 */
#include "pc-platform.h"
#include "pc-trace.h"

enum {
    TCO_RLD = 0x00, TCO_DAT_IN = 0x02, TCO_DAT_OUT = 0x03, TCO1_STS = 0x04, TCO2_STS = 0x06,
    TCO1_CNT = 0x08, TCO2_CNT = 0x0a, TCO_MESSAGE1 = 0x0c, TCO_MESSAGE2 = 0x0d, TCO_WDCNT = 0x0e,
    SW_IRQ_GEN = 0x10, TCO_TMR = 0x12,
};

#define SW_TCO_SMI 0x0002
#define TCO_INT_STS 0x0004
#define TCO_TIMEOUT 0x0008
#define TCO1_STS_W1C (SW_TCO_SMI | TCO_INT_STS | TCO_TIMEOUT)
#define TCO_SECOND_TO_STS 0x0002
#define TCO_BOOT_STS 0x0004
#define TCO2_STS_W1C (TCO_SECOND_TO_STS | TCO_BOOT_STS)
#define TCO_TMR_HLT 0x0800
#define TCO_LOCK 0x1000
#define TCO1_CNT_MASK 0xfeff /* QEMU's: bit 8 (NMI_NOW) does nothing */
#define TCO_TMR_MASK 0x03ff
#define SMI_EN_APMC_EN 0x0020
#define SMI_EN_TCO_EN 0x2000
#define SMI_STS_TCO_STS 0x2000

/* The register holding byte off of the block, its offset and width. */
static const struct {
    uint8_t off, width;
} tco_regs[] = {
    {TCO_RLD, 2},      {TCO_DAT_IN, 1},   {TCO_DAT_OUT, 1},  {TCO1_STS, 2}, {TCO2_STS, 2},
    {TCO1_CNT, 2},     {TCO2_CNT, 2},     {TCO_MESSAGE1, 1}, {TCO_MESSAGE2, 1},
    {TCO_WDCNT, 1},    {SW_IRQ_GEN, 1},   {TCO_TMR, 2},
};

static void tco_reload(ich9_tco *t)
{
    int ticks = t->tmr & TCO_TMR_MASK;

    trace_tco_timer_reload(ticks, (int)(ticks * (TCO_TICK_NS / 1000000)));
    t->expire_ns = H->clock_ns() + ticks * TCO_TICK_NS;
    H->timer_mod(t->timer, t->expire_ns);
}

static void tco_stop(ich9_tco *t)
{
    t->expire_ns = -1;
    H->timer_del(t->timer);
}

/* ICH9 13.9.8: TCO_TMR values 0 and 1 are ignored. */
static bool tco_can_start(const ich9_tco *t)
{
    return !(t->cnt1 & TCO_TMR_HLT) && t->tmr > 1;
}

static void smi_raise(ich9_tco *t)
{
    t->smi_sts |= SMI_STS_TCO_STS;
    H->dev_set_irq(t->dev, 1, 1);
    H->dev_set_irq(t->dev, 1, 0);
}

static void tco_expired(void *opaque)
{
    ich9_tco *t = opaque;
    bool no_reboot = (t->gcs & ICH9_CC_GCS_NO_REBOOT) != 0;

    trace_tco_timer_expired(t->timeouts, t->noreboot, no_reboot);
    t->rld = 0;
    t->sts1 |= TCO_TIMEOUT;
    if (++t->timeouts == 2) {
        t->sts2 |= TCO_SECOND_TO_STS | TCO_BOOT_STS;
        t->timeouts = 0;
        if (!t->noreboot && !no_reboot) {
            tco_stop(t);
            if (H->size >= offsetof(tes_host, watchdog_perform_action) + sizeof(void *)) {
                H->watchdog_perform_action();
            } else {
                H->request_reset(); /* a 1.8 core: QEMU's default action */
            }
            return;
        }
    }
    if (t->smi_en & SMI_EN_TCO_EN) {
        smi_raise(t);
    }
    t->rld = t->tmr;
    tco_reload(t);
}

static uint16_t tco_reg_read(ich9_tco *t, unsigned reg)
{
    switch (reg) {
    case TCO_RLD:
        if (t->expire_ns >= 0) {
            int64_t left = (t->expire_ns - H->clock_ns()) / TCO_TICK_NS;

            return (uint16_t)((left < 0 ? 0 : left) | (t->rld & ~TCO_TMR_MASK));
        }
        return t->rld;
    case TCO_DAT_IN: return t->din;
    case TCO_DAT_OUT: return t->dout;
    case TCO1_STS: return t->sts1;
    case TCO2_STS: return t->sts2;
    case TCO1_CNT: return t->cnt1;
    case TCO2_CNT: return t->cnt2;
    case TCO_MESSAGE1: return t->msg1;
    case TCO_MESSAGE2: return t->msg2;
    case TCO_WDCNT: return t->wdcnt;
    case SW_IRQ_GEN: return t->sw_irq_gen;
    case TCO_TMR: return t->tmr;
    }
    return 0;
}

static void tco_cnt1_write(ich9_tco *t, uint16_t val)
{
    /* TCO_LOCK: only a reset clears it. */
    t->cnt1 = (uint16_t)((val & TCO1_CNT_MASK) | (t->cnt1 & TCO_LOCK));
    if (tco_can_start(t)) {
        t->rld = t->tmr;
        tco_reload(t);
    } else {
        tco_stop(t);
    }
}

/* val: the register's new value; for the write-1-to-clear registers the
 * bits written as 1 (bytes not written are 0). */
static void tco_reg_write(ich9_tco *t, unsigned reg, uint16_t val)
{
    switch (reg) {
    case TCO_RLD:
        t->timeouts = 0;
        if (tco_can_start(t)) {
            t->rld = t->tmr;
            tco_reload(t);
        } else {
            t->rld = val;
        }
        break;
    case TCO_DAT_IN:
        t->din = (uint8_t)val;
        t->sts1 |= SW_TCO_SMI;
        if (t->smi_en & SMI_EN_TCO_EN) {
            smi_raise(t);
        }
        break;
    case TCO_DAT_OUT:
        t->dout = (uint8_t)val;
        t->sts1 |= TCO_INT_STS;
        break;
    case TCO1_STS: t->sts1 &= (uint16_t)~(val & TCO1_STS_W1C); break;
    case TCO2_STS: t->sts2 &= (uint16_t)~(val & TCO2_STS_W1C); break;
    case TCO1_CNT: tco_cnt1_write(t, val); break;
    case TCO2_CNT: t->cnt2 = val; break;
    case TCO_MESSAGE1: t->msg1 = (uint8_t)val; break;
    case TCO_MESSAGE2: t->msg2 = (uint8_t)val; break;
    case TCO_WDCNT: t->wdcnt = (uint8_t)val; break;
    case SW_IRQ_GEN: t->sw_irq_gen = (uint8_t)val; break;
    case TCO_TMR: t->tmr = val & TCO_TMR_MASK; break;
    }
}

uint64_t ich9_tco_read(ich9_tco *t, uint64_t off, unsigned size)
{
    uint64_t v = 0;

    for (size_t i = 0; i < sizeof(tco_regs) / sizeof(tco_regs[0]); i++) {
        unsigned r = tco_regs[i].off, w = tco_regs[i].width;

        if (r + w <= off || r >= off + size) {
            continue;
        }
        uint64_t rv = tco_reg_read(t, r);
        /* place the register's bytes that fall inside the access */
        v |= (r >= off ? rv << (8 * (r - off)) : rv >> (8 * (off - r))) &
             (size >= 8 ? ~0ull : (1ull << (8 * size)) - 1);
    }
    trace_tco_io_read(off, (uint32_t)v);
    return v;
}

void ich9_tco_write(ich9_tco *t, uint64_t off, uint64_t val, unsigned size)
{
    trace_tco_io_write(off, (uint32_t)val);
    for (size_t i = 0; i < sizeof(tco_regs) / sizeof(tco_regs[0]); i++) {
        unsigned r = tco_regs[i].off, w = tco_regs[i].width;
        uint16_t mask = 0, bits = 0, nv;

        if (r + w <= off || r >= off + size) {
            continue;
        }
        for (unsigned b = 0; b < w; b++) {
            if (r + b >= off && r + b < off + size) {
                mask |= (uint16_t)(0xff << (8 * b));
                bits |= (uint16_t)(((val >> (8 * (r + b - off))) & 0xff) << (8 * b));
            }
        }
        if (r == TCO1_STS || r == TCO2_STS) {
            nv = bits;
        } else {
            nv = (uint16_t)((tco_reg_read(t, r) & ~mask) | bits);
        }
        tco_reg_write(t, r, nv);
    }
}

/* SMI_EN (0x30, 32 bits, read/write; TCO_EN frozen by TCO_LOCK) and
 * SMI_STS (0x34; TCO_STS write 1 to clear). off is from 0x30. */
uint64_t ich9_smi_read(ich9_tco *t, uint64_t off, unsigned size)
{
    uint64_t both = (uint64_t)t->smi_sts << 32 | t->smi_en;

    return (both >> (8 * off)) & (size >= 8 ? ~0ull : (1ull << (8 * size)) - 1);
}

void ich9_smi_write(ich9_tco *t, uint64_t off, uint64_t val, unsigned size)
{
    uint64_t mask = (size >= 8 ? ~0ull : (1ull << (8 * size)) - 1) << (8 * off);
    uint64_t bits = (val << (8 * off)) & mask;
    uint32_t en_mask = (uint32_t)mask, en = (uint32_t)bits;

    if (t->cnt1 & TCO_LOCK) {
        en_mask &= ~SMI_EN_TCO_EN;
    }
    t->smi_en = (t->smi_en & ~en_mask) | (en & en_mask);
    t->smi_sts &= ~((uint32_t)(bits >> 32) & SMI_STS_TCO_STS);
}

/* ---- the chipset configuration registers (RCRB at RCBA): GCS only ---- */

static uint64_t rcrb_read(void *opaque, uint64_t off, unsigned size)
{
    ich9_tco *t = opaque;

    if (off >= ICH9_CC_GCS && off + size <= ICH9_CC_GCS + 4) {
        return (t->gcs >> (8 * (off - ICH9_CC_GCS))) & ((1ull << (8 * size)) - 1);
    }
    return 0;
}

static void rcrb_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ich9_tco *t = opaque;

    if (off >= ICH9_CC_GCS && off + size <= ICH9_CC_GCS + 4) {
        unsigned sh = 8 * (unsigned)(off - ICH9_CC_GCS);
        uint32_t mask = (uint32_t)(((1ull << (8 * size)) - 1) << sh) & ICH9_CC_GCS_NO_REBOOT;

        t->gcs = (t->gcs & ~mask) | ((uint32_t)(val << sh) & mask);
        return;
    }
    H->log(TES_LOG_UNIMP, "ICH9-LPC: write 0x%llx to chipset config register 0x%llx ignored",
           (unsigned long long)val, (unsigned long long)off);
}

const tes_mem_ops ich9_rcrb_ops = {
    .size = sizeof(tes_mem_ops),
    .read = rcrb_read,
    .write = rcrb_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

/* ---- life cycle ---- */

bool ich9_tco_init(ich9_tco *t, tes_device *dev)
{
    t->dev = dev;
    t->timer = H->timer_new(tco_expired, t);
    t->sts2 = 0;
    return t->timer != NULL;
}

/* QEMU's reset values; SECOND_TO_STS and BOOT_STS live in the resume
 * well and say after the reset that the watchdog caused it. SMI_EN as
 * QEMU without SMM: APMC_EN set ("SMM already initialised"). */
void ich9_tco_reset(ich9_tco *t)
{
    tco_stop(t);
    t->rld = 0;
    t->din = t->dout = 0;
    t->sts1 = 0;
    t->sts2 &= TCO2_STS_W1C;
    t->cnt1 = 0;
    t->cnt2 = 0x0008;
    t->msg1 = t->msg2 = t->wdcnt = 0;
    t->tmr = 0x0004;
    t->sw_irq_gen = 0x03;
    t->timeouts = 0;
    t->smi_en = SMI_EN_APMC_EN;
    t->smi_sts = 0;
    t->gcs = t->noreboot ? ICH9_CC_GCS_NO_REBOOT : 0;
    H->dev_set_irq(t->dev, 1, 0);
}

bool ich9_tco_post_load(ich9_tco *t)
{
    int64_t now = H->clock_ns();

    if (t->timeouts > 1 || t->tmr > TCO_TMR_MASK || (t->gcs & ~ICH9_CC_GCS_NO_REBOOT) ||
        t->expire_ns < -1 || (t->expire_ns >= 0 && t->expire_ns > now + TCO_TMR_MASK * TCO_TICK_NS)) {
        H->error(t->dev, "ICH9-LPC: TCO state in the stream out of range (timeouts %u, TCO_TMR "
                 "0x%x, GCS 0x%x, expiry at %lld ns, now %lld ns)", t->timeouts, t->tmr, t->gcs,
                 (long long)t->expire_ns, (long long)now);
        return false;
    }
    if (t->expire_ns >= 0) {
        H->timer_mod(t->timer, t->expire_ns);
    } else {
        H->timer_del(t->timer);
    }
    return true;
}
