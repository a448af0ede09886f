/*
 * apic: the local APIC of each vCPU in xAPIC mode (Intel SDM vol. 3A,
 * chapter 10), and the MSI doorbell that shares its address window.
 *
 * One I/O region covers 0xfee00000..0xfeefffff in system memory. Register
 * accesses go to the LAPIC of the vCPU running the access
 * (x86_current_cpu; CPU 0 when none). Writes outside the register page,
 * or to its first 16 bytes, are MSI messages (PCI 3.0 6.8.1 / SDM 10.11:
 * address bits 19:12 destination, bit 2 destination mode; data bits 7:0
 * vector, 10:8 delivery mode, 14 level, 15 trigger mode). That split is
 * exact: the APIC register at offset 0 is reserved and an MSI address has
 * bits 11:4 clear, so both can live at the same place, as QEMU does.
 *
 * Model: IPIs and MSIs are delivered at once (ICR delivery status always
 * reads idle). Lowest-priority delivery goes to the first CPU of the
 * destination set. The timer counts at 1 GHz on the virtual clock divided
 * by the divide configuration; one-shot and periodic modes (TSC-deadline is
 * not advertised). With no firmware in front of Linux, the BSP comes out
 * of reset as SeaBIOS leaves it: LINT0 in ExtINT (virtual wire to the
 * 8259) and LINT1 in NMI mode. SMI is ignored.
 */
#include <stdlib.h>

#include "x86.h"

#define APIC_BASE_ADDR 0xfee00000ull
#define APIC_WINDOW 0x100000ull
#define APIC_VERSION 0x00050014u /* version 0x14, 6 LVT entries (max LVT 5) */
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_ENABLE (1ull << 11)

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define LVT_DM(v) (((v) >> 8) & 7)

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

/* ESR bits (SDM 10.5.3) */
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REG (1u << 7)

x86_cpu *x86_current_cpu;
static tes_region *apic_mmio;

/* ---- bit arrays of 256 vectors (IRR/ISR/TMR) ---- */

static void vset(uint32_t *a, int v)
{
    a[v >> 5] |= 1u << (v & 31);
}

static void vclr(uint32_t *a, int v)
{
    a[v >> 5] &= ~(1u << (v & 31));
}

static bool vtest(const uint32_t *a, int v)
{
    return (a[v >> 5] >> (v & 31)) & 1;
}

static int vhighest(const uint32_t *a)
{
    for (int i = 7; i >= 0; i--) {
        if (a[i]) {
            return i * 32 + 31 - __builtin_clz(a[i]);
        }
    }
    return -1;
}

/* ---- priorities (SDM 10.8.3.1) ---- */

static uint32_t ppr(x86_lapic *l)
{
    int isrv = vhighest(l->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

    return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

static x86_cpu *cpu_at(unsigned i)
{
    tes_cpu *cpu = H->cpu_by_index(i);

    return cpu ? x86_cpu_of(cpu) : NULL;
}

static void kick(x86_lapic *l)
{
    x86_jit_kick(l->cpu); /* a running block leaves at its next entry */
    H->cpu_kick(l->cpu->cpu);
}

/* A fixed/lowest-priority interrupt arrives: IRR, and TMR for its trigger. */
static void accept_irq(x86_lapic *l, int vec, bool level_trig)
{
    if (vec < 16) {
        l->esr |= ESR_RECV_ILLEGAL;
        H->log(TES_LOG_GUEST_ERROR, "apic: illegal vector %d for CPU %u", vec,
               l->cpu->index);
        return;
    }
    vset(l->irr, vec);
    if (level_trig) {
        vset(l->tmr, vec);
    } else {
        vclr(l->tmr, vec);
    }
    kick(l);
}

/* ---- the timer (SDM 10.5.4) ---- */

static unsigned timer_shift(x86_lapic *l)
{
    unsigned v = (l->timer_divide & 3) | ((l->timer_divide >> 1) & 4);

    return (v + 1) & 7; /* 0b111 divides by 1, else by 2 << v */
}

static void timer_arm(x86_lapic *l)
{
    int64_t period, elapsed;

    if (!l->timer_initial) {
        H->timer_del(l->timer);
        return;
    }
    period = (int64_t)l->timer_initial << timer_shift(l);
    elapsed = H->clock_ns() - l->timer_start;
    if (l->lvt[LVT_TIMER] & LVT_PERIODIC) {
        H->timer_mod(l->timer, l->timer_start + (elapsed / period + 1) * period);
    } else if (elapsed < period) {
        H->timer_mod(l->timer, l->timer_start + period);
    } else {
        H->timer_del(l->timer);
    }
}

static uint32_t timer_current(x86_lapic *l)
{
    uint64_t ticks;

    if (!l->timer_initial) {
        return 0;
    }
    ticks = (uint64_t)(H->clock_ns() - l->timer_start) >> timer_shift(l);
    if (l->lvt[LVT_TIMER] & LVT_PERIODIC) {
        return l->timer_initial - (uint32_t)(ticks % l->timer_initial);
    }
    return ticks >= l->timer_initial ? 0 : l->timer_initial - (uint32_t)ticks;
}

static void timer_fire(void *opaque)
{
    x86_lapic *l = opaque;

    if (!(l->lvt[LVT_TIMER] & LVT_MASKED)) {
        accept_irq(l, l->lvt[LVT_TIMER] & 0xff, false);
    }
    if (l->lvt[LVT_TIMER] & LVT_PERIODIC) {
        timer_arm(l);
    }
}

/* ---- reset, INIT and SIPI ---- */

/* Power-on and INIT state (SDM 10.4.7.1); the APIC ID survives INIT. */
static void lapic_reset(x86_lapic *l)
{
    x86_cpu *c = l->cpu;

    memset(l->isr, 0, sizeof(l->isr));
    memset(l->tmr, 0, sizeof(l->tmr));
    memset(l->irr, 0, sizeof(l->irr));
    l->tpr = l->ldr = l->esr = l->icr_lo = l->icr_hi = 0;
    l->dfr = 0xffffffffu;
    l->svr = 0xff;
    for (int i = 0; i < 6; i++) {
        l->lvt[i] = LVT_MASKED;
    }
    l->timer_initial = l->timer_divide = 0;
    l->timer_start = 0;
    l->extint = false;
    H->timer_del(l->timer);
    if (c->index == 0) {
        /* What firmware leaves for the OS: virtual wire mode (MP spec 3.6.2.2). */
        l->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
        l->lvt[LVT_LINT1] = APIC_DM_NMI << 8;
    }
}

static void do_init(x86_lapic *l)
{
    x86_cpu *c = l->cpu;
    uint64_t base = c->apic_base, tsc = c->tsc_offset;
    uint32_t id = l->id;

    if (c == x86_current_cpu) {
        H->log(TES_LOG_GUEST_ERROR, "apic: INIT to the sending CPU %u ignored", c->index);
        return;
    }
    x86_cpu_reset(c);
    c->apic_base = base;
    c->tsc_offset = tsc; /* INIT leaves the TSC alone (SDM vol. 3, table 9-1) */
    lapic_reset(l);
    l->id = id;
    c->wait_sipi = true;
    H->cpu_set_running(c->cpu, false);
}

/* STARTUP IPI: real mode at VV00:0000 (SDM 8.4.4.1, 10.6.1). */
static void do_sipi(x86_lapic *l, int vec)
{
    x86_cpu *c = l->cpu;

    if (!c->wait_sipi) {
        return; /* SIPIs to a CPU not waiting for one are ignored */
    }
    c->seg[S_CS].sel = (uint16_t)(vec << 8);
    c->seg[S_CS].base = (uint64_t)vec << 12;
    c->rip = c->next_rip = 0;
    c->wait_sipi = false;
    H->cpu_set_running(c->cpu, true);
    kick(l);
}

/* ---- delivery (SDM 10.6.2) ---- */

static bool match_dest(x86_lapic *l, uint32_t dest, bool logical)
{
    uint8_t d = dest & 0xff, ldr = l->ldr >> 24;

    if (d == 0xff) {
        return true; /* broadcast, in physical and both logical models */
    }
    if (!logical) {
        return d == (l->id >> 24);
    }
    if ((l->dfr >> 28) == 0xf) {
        return (ldr & d) != 0; /* flat model */
    }
    return (d >> 4) == (ldr >> 4) && (d & ldr & 0xf); /* cluster model */
}

static void deliver_one(x86_lapic *l, int dm, int vec, bool level, bool trig)
{
    switch (dm) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        accept_irq(l, vec, trig);
        break;
    case APIC_DM_NMI:
        l->cpu->nmi_pending = true;
        kick(l);
        break;
    case APIC_DM_INIT:
        /* INIT level de-assert (level 0, level trigger) only synchronises
         * arbitration IDs on old P6 systems. */
        if (level || !trig) {
            do_init(l);
        }
        break;
    case APIC_DM_SIPI:
        do_sipi(l, vec);
        break;
    case APIC_DM_EXTINT:
        l->extint = true;
        kick(l);
        break;
    default: /* SMI and reserved modes */
        H->log(TES_LOG_UNIMP, "apic: delivery mode %d ignored", dm);
        break;
    }
}

void x86_apic_deliver(uint32_t dest, bool logical, int delivery_mode, int vector,
                      bool level, bool trigger_level)
{
    unsigned n = H->cpu_count();

    for (unsigned i = 0; i < n; i++) {
        x86_cpu *c = cpu_at(i);

        if (!c || !c->lapic || !match_dest(c->lapic, dest, logical)) {
            continue;
        }
        deliver_one(c->lapic, delivery_mode, vector & 0xff, level, trigger_level);
        if (delivery_mode == APIC_DM_LOWEST) {
            return; /* the first CPU of the set takes it */
        }
    }
}

/* ICR write: the shorthand picks self / all / all but self (SDM 10.6.1). */
static void send_ipi(x86_lapic *l)
{
    uint32_t lo = l->icr_lo;
    int dm = LVT_DM(lo), vec = lo & 0xff, sh = (lo >> 18) & 3;
    bool level = lo & (1u << 14), trig = lo & (1u << 15);
    unsigned n = H->cpu_count();

    if (sh == 0) {
        x86_apic_deliver(l->icr_hi >> 24, lo & (1u << 11), dm, vec, level, trig);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        x86_cpu *c = cpu_at(i);

        if (!c || !c->lapic || (sh == 1 && c != l->cpu) || (sh == 3 && c == l->cpu)) {
            continue;
        }
        deliver_one(c->lapic, dm, vec, level, trig);
    }
}

/* ---- the 8259 and I/O APIC, other plugins, through the SDK ---- */

bool x86_pic_has_intr(void)
{
    x86_cpu *c = cpu_at(0);

    return c && c->lapic && c->lapic->intr;
}

/* The interrupt-acknowledge cycle, served by the 8259 plugin. */
static int inta_vector(uint32_t reg)
{
    x86_cpu *c = cpu_at(0);
    uint64_t v;

    if (!c || !H->cpu_sysreg_read(c->cpu, reg, &v)) {
        return 0x0f; /* no 8259: what a floating bus would give */
    }
    return (int)(v & 0xff);
}

int x86_pic_peek(void)
{
    return inta_vector(TES_X86_SYSREG_INTA_PEEK);
}

int x86_pic_ack(void)
{
    return inta_vector(TES_X86_SYSREG_INTA);
}

static void msi_write(uint64_t addr, uint32_t data)
{
    x86_apic_deliver((addr >> 12) & 0xff, addr & 4, (data >> 8) & 7, data & 0xff,
                     data & (1u << 14), data & (1u << 15));
}

/* ---- interrupt acceptance by the CPU ---- */

static bool pic_routed(x86_cpu *c, x86_lapic *l)
{
    uint32_t lint0 = l->lvt[LVT_LINT0];

    if (l->extint) {
        return true;
    }
    if (c->index != 0) {
        return false; /* the 8259's INTR is wired to the BSP's LINT0 */
    }
    if (!(c->apic_base & APIC_BASE_ENABLE)) {
        return true; /* APIC off: INTR goes straight to the core */
    }
    return !(lint0 & LVT_MASKED) && LVT_DM(lint0) == APIC_DM_EXTINT;
}

int x86_apic_pending(x86_cpu *c)
{
    x86_lapic *l = c->lapic;
    int v;

    if (!l) {
        return -1;
    }
    l->from_pic = pic_routed(c, l) && x86_pic_has_intr();
    if (l->from_pic) {
        return x86_pic_peek(); /* ExtINT comes before the APIC's priorities */
    }
    if (!(c->apic_base & APIC_BASE_ENABLE) || !(l->svr & SVR_ENABLE)) {
        return -1;
    }
    v = vhighest(l->irr);
    if (v < 0 || (uint32_t)(v & 0xf0) <= (ppr(l) & 0xf0)) {
        return -1;
    }
    return v;
}

/* Acknowledges what the x86_apic_pending() just before returned. */
void x86_apic_ack(x86_cpu *c, int vec)
{
    x86_lapic *l = c->lapic;

    if (!l || vec < 0 || vec > 255) {
        return;
    }
    if (l->from_pic) {
        l->from_pic = l->extint = false;
        x86_pic_ack();
        return;
    }
    vclr(l->irr, vec);
    vset(l->isr, vec);
}

int x86_apic_take(x86_cpu *c)
{
    int v = x86_apic_pending(c);

    if (v >= 0) {
        x86_apic_ack(c, v);
    }
    return v;
}

void x86_apic_pic_changed(void)
{
    x86_cpu *c = cpu_at(0);

    if (c && c->lapic && x86_pic_has_intr()) {
        kick(c->lapic);
    }
}

static void eoi(x86_lapic *l)
{
    int v = vhighest(l->isr);

    if (v < 0) {
        return;
    }
    vclr(l->isr, v);
    if (vtest(l->tmr, v)) {
        /* EOI broadcast: the I/O APICs clear remote IRR (ioapic plugin). */
        H->cpu_sysreg_write(l->cpu->cpu, TES_X86_SYSREG_EOI, (uint64_t)v);
    }
    if (x86_apic_pending(l->cpu) >= 0) {
        kick(l);
    }
}

uint8_t x86_apic_get_tpr(x86_cpu *c)
{
    return c->lapic ? (uint8_t)c->lapic->tpr : 0;
}

void x86_apic_set_tpr(x86_cpu *c, uint8_t tpr)
{
    if (c->lapic) {
        c->lapic->tpr = tpr;
        if (x86_apic_pending(c) >= 0) {
            kick(c->lapic);
        }
    }
}

/* ---- registers ---- */

static uint32_t reg_read(x86_lapic *l, unsigned r)
{
    switch (r) {
    case 0x02: return l->id;
    case 0x03: return APIC_VERSION;
    case 0x08: return l->tpr;
    case 0x09: return 0; /* APR: arbitration priority is not modelled */
    case 0x0a: return ppr(l);
    case 0x0d: return l->ldr;
    case 0x0e: return l->dfr;
    case 0x0f: return l->svr;
    case 0x10 ... 0x17: return l->isr[r - 0x10];
    case 0x18 ... 0x1f: return l->tmr[r - 0x18];
    case 0x20 ... 0x27: return l->irr[r - 0x20];
    case 0x28: return l->esr;
    case 0x30: return l->icr_lo & ~(1u << 12); /* delivery is instant: idle */
    case 0x31: return l->icr_hi;
    case 0x32 ... 0x37: return l->lvt[r - 0x32];
    case 0x38: return l->timer_initial;
    case 0x39: return timer_current(l);
    case 0x3e: return l->timer_divide;
    case 0x0b: /* EOI is write-only */
    default:
        return 0;
    }
}

/* What the guest would read (monitor.c's info lapic): PPR and the
 * current count are computed as for the guest. */
uint32_t x86_apic_read_reg(x86_lapic *l, unsigned reg)
{
    return reg_read(l, reg & 0xff);
}

static void write_lvt(x86_lapic *l, unsigned i, uint32_t v)
{
    static const uint32_t wmask[6] = {0x300ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff};

    l->lvt[i] = v & wmask[i];
    if (i == LVT_TIMER) {
        timer_arm(l);
    } else if (i == LVT_LINT0) {
        x86_apic_pic_changed();
    }
}

static void reg_write(x86_lapic *l, unsigned r, uint32_t v)
{
    switch (r) {
    case 0x02: l->id = v & 0xff000000u; break;
    case 0x08: x86_apic_set_tpr(l->cpu, v & 0xff); break;
    case 0x0b: eoi(l); break;
    case 0x0d: l->ldr = v & 0xff000000u; break;
    case 0x0e: l->dfr = v | 0x0fffffffu; break;
    case 0x0f: l->svr = v & 0x3ff; break;
    case 0x28: l->esr = 0; break; /* a write re-arms (clears) the errors */
    case 0x30: l->icr_lo = v & 0x000ccfffu; send_ipi(l); break;
    case 0x31: l->icr_hi = v & 0xff000000u; break;
    case 0x32 ... 0x37: write_lvt(l, r - 0x32, v); break;
    case 0x38:
        l->timer_initial = v;
        l->timer_start = H->clock_ns();
        timer_arm(l);
        break;
    case 0x3e: l->timer_divide = v & 0xb; timer_arm(l); break;
    case 0x03: case 0x09: case 0x0a: case 0x0c: case 0x10 ... 0x27: case 0x39:
        break; /* read-only registers ignore writes */
    default:
        l->esr |= ESR_ILLEGAL_REG;
        H->log(TES_LOG_GUEST_ERROR, "apic: write of 0x%x to register 0x%x", v, r << 4);
        break;
    }
}

static x86_lapic *current_lapic(void)
{
    x86_cpu *c = x86_current_cpu ? x86_current_cpu : cpu_at(0);

    return c ? c->lapic : NULL;
}

static uint64_t apic_read(void *opaque, uint64_t off, unsigned size)
{
    x86_lapic *l = current_lapic();

    if (!l || off >= 0x1000) {
        return 0;
    }
    return reg_read(l, (unsigned)(off >> 4) & 0xff);
}

static void apic_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    x86_lapic *l;

    if (off >= 0x1000 || (off >> 4) == 0) {
        msi_write(APIC_BASE_ADDR + off, (uint32_t)val);
        return;
    }
    l = current_lapic();
    if (l) {
        reg_write(l, (unsigned)(off >> 4) & 0xff, (uint32_t)val);
    }
}

static const tes_mem_ops apic_ops = {
    .size = sizeof(tes_mem_ops),
    .read = apic_read,
    .write = apic_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 4, .impl_max = 4,
};

/* ---- life cycle ---- */

/* Allocates c->lapic on first call (a new vCPU), resets it on every call.
 * The first CPU maps the shared register window (one per machine). */
void x86_apic_init_cpu(x86_cpu *c)
{
    x86_lapic *l = c->lapic;

    if (!l) {
        l = &c->lapic_mem;
        memset(l, 0, sizeof(*l));
        l->cpu = c;
        l->timer = H->timer_new(timer_fire, l);
        c->lapic = l;
        if (c->index == 0) {
            /* Above whatever else claims the MSI window (priority 1). */
            apic_mmio = H->region_new_io(NULL, "apic", APIC_WINDOW, &apic_ops, NULL);
            H->region_add(H->system_memory(), APIC_BASE_ADDR, apic_mmio, 1);
        }
    }
    c->apic_base = APIC_BASE_ADDR | APIC_BASE_ENABLE | (c->index == 0 ? APIC_BASE_BSP : 0);
    lapic_reset(l);
    l->id = c->apic_id << 24;
}

bool x86_apic_post_load(x86_cpu *c, uint32_t version)
{
    x86_lapic *l = c->lapic;

    if (version < 2) {
        return true;
    }
    /* Divide configuration bits 0, 1 and 3 (SDM 10.5.4); the count was
     * loaded at a virtual time at or before the stream's clock. */
    if ((l->timer_divide & ~0xbu) || l->timer_start < 0 || l->timer_start > H->clock_ns()) {
        return false;
    }
    l->cpu = c;
    timer_arm(l);
    return true;
}

void x86_apic_free_cpu(x86_cpu *c)
{
    if (c->lapic) {
        H->timer_free(c->lapic->timer);
        c->lapic = NULL;
    }
}
