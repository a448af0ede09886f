/*
 * i8259: the PC's cascaded pair of 8259A programmable interrupt
 * controllers (Intel 8259A datasheet; ELCR from the PIIX/ICH datasheets).
 *
 * User manual
 *
 *   -device i8259   (the q35 machine creates it; one per machine)
 *
 * The device maps its own ports in the I/O space: master 0x20-0x21, slave
 * 0xa0-0xa1, ELCR 0x4d0-0x4d1. Inputs (host->dev_irq_in(dev, n)): ISA IRQ
 * n, 0..15 (the slave's INT output is cascaded on master input 2
 * internally). Output 0 is the master's INT, which the board wires to the
 * BSP's INTR input (host->cpu_irq_in(cpu, TES_X86_INTR)). The CPU takes the
 * vector with an interrupt-acknowledge cycle: the 8259 serves the
 * TES_X86_SYSREG_INTA (and _PEEK) register of every vCPU
 * (host->cpu_set_sysregs(NULL, ...)); only the CPU whose INTR it drives
 * asks. One 8259 pair per machine.
 *
 * Model: ICW1-4, OCW1-3 (specific/non-specific EOI, rotations, priority
 * set, read IRR/ISR, poll, special mask), auto-EOI, special fully nested
 * mode, edge or level triggering per input from the ELCR (the ICW1 LTIM bit
 * is ignored, as on PIIX/ICH). No interrupt at ack time gives the spurious
 * IRQ 7 (or 15 for the slave).
 */
#include <stddef.h>
#include <string.h>

#include <stdio.h>

#include "pc-platform.h"
#include "pc-trace.h"

typedef struct pic_chip {
    uint8_t irr, isr, imr, last_irr, elcr, elcr_mask;
    uint8_t priority_add, irq_base, init_state;
    bool read_isr, poll, special_mask, init4, single_mode, auto_eoi;
    bool rotate_on_aeoi, sfnm;
} pic_chip;

typedef struct i8259 {
    tes_device *dev;
    pic_chip chip[2]; /* master, slave */
    bool intr;        /* the master's INT output level */
} i8259;

/* Lowest priority number among mask's bits, rotation applied; 8 when none. */
static int get_priority(pic_chip *p, uint8_t mask)
{
    int prio = 0;

    if (!mask) {
        return 8;
    }
    while (!(mask & (1u << ((prio + p->priority_add) & 7)))) {
        prio++;
    }
    return prio;
}

/* The IRQ the chip would raise now, or -1. */
static int get_irq(pic_chip *p, bool master)
{
    int prio = get_priority(p, p->irr & ~p->imr), cur;
    uint8_t isr = p->isr;

    if (prio == 8) {
        return -1;
    }
    if (p->special_mask) {
        isr &= ~p->imr;
    }
    if (master && p->sfnm) {
        isr &= ~(1u << 2); /* the slave may interrupt its own service */
    }
    cur = get_priority(p, isr);
    return prio < cur ? (prio + p->priority_add) & 7 : -1;
}

static void chip_set(pic_chip *p, int irq, int level)
{
    uint8_t bit = 1u << irq;

    if (p->elcr & bit) {
        p->irr = level ? p->irr | bit : p->irr & ~bit;
        p->last_irr = level ? p->last_irr | bit : p->last_irr & ~bit;
        return;
    }
    if (level) {
        if (!(p->last_irr & bit)) {
            p->irr |= bit; /* rising edge */
        }
        p->last_irr |= bit;
    } else {
        p->last_irr &= ~bit;
    }
}

static void update(i8259 *s)
{
    bool old = s->intr;

    /* The slave's INT output is a level: the master's input 2 follows it
     * (a request withdrawn before the acknowledge is not latched). */
    if (get_irq(&s->chip[1], false) >= 0) {
        s->chip[0].irr |= 1u << 2;
    } else {
        s->chip[0].irr &= ~(1u << 2);
    }
    s->intr = get_irq(&s->chip[0], true) >= 0;
    if (s->intr != old) {
        H->dev_set_irq(s->dev, 0, s->intr);
    }
}

static void pic_set_irq(void *opaque, int n, int level)
{
    i8259 *s = opaque;

    trace_pic_set_irq(n < 8, n & 7, level);
    chip_set(&s->chip[n >> 3], n & 7, level);
    update(s);
}

static void intack(pic_chip *p, int irq)
{
    if (p->auto_eoi) {
        if (p->rotate_on_aeoi) {
            p->priority_add = (irq + 1) & 7;
        }
    } else {
        p->isr |= 1u << irq;
    }
    if (!(p->elcr & (1u << irq))) {
        p->irr &= ~(1u << irq); /* edge: the request is consumed */
    }
}

/* Vector of the highest request (spurious 7 / 15 when withdrawn). */
static int vector(i8259 *s, bool ack)
{
    int irq = get_irq(&s->chip[0], true), irq2;

    if (irq < 0) {
        return s->chip[0].irq_base + 7; /* spurious IRQ 7 */
    }
    if (ack) {
        intack(&s->chip[0], irq);
    }
    if (irq != 2) {
        return s->chip[0].irq_base + irq;
    }
    irq2 = get_irq(&s->chip[1], false);
    if (irq2 < 0) {
        return s->chip[1].irq_base + 7; /* spurious IRQ 15 */
    }
    if (ack) {
        intack(&s->chip[1], irq2);
    }
    return s->chip[1].irq_base + irq2;
}

/* The CPU's interrupt-acknowledge cycle (TES_X86_SYSREG_INTA). */
static bool inta_read(void *opaque, tes_cpu *cpu, uint32_t reg, uint64_t *val)
{
    i8259 *s = opaque;

    if (reg == TES_X86_SYSREG_INTA_PEEK) {
        *val = (uint64_t)vector(s, false);
        return true;
    }
    if (reg != TES_X86_SYSREG_INTA) {
        return false;
    }
    *val = (uint64_t)vector(s, true);
    update(s);
    return true;
}

static bool inta_write(void *opaque, tes_cpu *cpu, uint32_t reg, uint64_t val)
{
    return false;
}

static const tes_cpu_sysregs inta_ops = {
    .size = sizeof(tes_cpu_sysregs), .read = inta_read, .write = inta_write,
};

/* ---- registers ---- */

static void chip_init_reset(pic_chip *p)
{
    uint8_t elcr = p->elcr, mask = p->elcr_mask;

    memset(p, 0, sizeof(*p));
    p->elcr = elcr;
    p->elcr_mask = mask;
}

static void write_icw1(pic_chip *p, uint8_t v)
{
    chip_init_reset(p);
    p->init_state = 1;
    p->init4 = v & 1;
    p->single_mode = v & 2;
    if (v & 8) {
        H->log(TES_LOG_UNIMP, "i8259: ICW1 level-triggered mode ignored (ELCR rules)");
    }
}

static void write_ocw2(pic_chip *p, uint8_t v)
{
    int cmd = v >> 5, irq = v & 7, prio;

    switch (cmd) {
    case 0: case 4: p->rotate_on_aeoi = cmd >> 2; break;
    case 1: case 5: /* non-specific EOI: the highest priority in service */
        prio = get_priority(p, p->isr);
        if (prio != 8) {
            irq = (prio + p->priority_add) & 7;
            p->isr &= ~(1u << irq);
            if (cmd == 5) {
                p->priority_add = (irq + 1) & 7;
            }
        }
        break;
    case 3: p->isr &= ~(1u << irq); break;
    case 6: p->priority_add = (irq + 1) & 7; break;
    case 7: p->isr &= ~(1u << irq); p->priority_add = (irq + 1) & 7; break;
    default: break; /* 2: no operation */
    }
}

static void write_ocw3(pic_chip *p, uint8_t v)
{
    if (v & 4) {
        p->poll = true;
    }
    if (v & 2) {
        p->read_isr = v & 1;
    }
    if (v & 0x40) {
        p->special_mask = (v >> 5) & 1;
    }
}

static void write_data(pic_chip *p, uint8_t v)
{
    switch (p->init_state) {
    case 0: p->imr = v; break;
    case 1:
        p->irq_base = v & 0xf8;
        p->init_state = p->single_mode ? (p->init4 ? 3 : 0) : 2;
        break;
    case 2: p->init_state = p->init4 ? 3 : 0; break; /* ICW3: cascade wiring is fixed */
    default:
        p->sfnm = (v >> 4) & 1;
        p->auto_eoi = (v >> 1) & 1;
        p->init_state = 0;
        break;
    }
}

static void chip_write(i8259 *s, int n, uint64_t off, uint8_t v)
{
    pic_chip *p = &s->chip[n];

    if (off == 1) {
        write_data(p, v);
    } else if (v & 0x10) {
        write_icw1(p, v);
    } else if (v & 0x08) {
        write_ocw3(p, v);
    } else {
        write_ocw2(p, v);
    }
    update(s);
}

/* Poll command (OCW3 P): the read acknowledges the highest request. */
static uint8_t poll_read(i8259 *s, int n)
{
    pic_chip *p = &s->chip[n];
    int irq = get_irq(p, n == 0);

    p->poll = false;
    if (irq < 0) {
        return 0;
    }
    intack(p, irq);
    update(s);
    return 0x80 | irq;
}

static uint8_t chip_read(i8259 *s, int n, uint64_t off)
{
    pic_chip *p = &s->chip[n];

    if (off == 1) {
        return p->imr;
    }
    if (p->poll) {
        return poll_read(s, n);
    }
    return p->read_isr ? p->isr : p->irr;
}

static uint64_t master_read(void *o, uint64_t off, unsigned size)
{
    uint64_t v = chip_read(o, 0, off);

    trace_pic_ioport_read(true, off, (int)v);
    return v;
}

static void master_write(void *o, uint64_t off, uint64_t v, unsigned size)
{
    trace_pic_ioport_write(true, off, v);
    chip_write(o, 0, off, v);
}

static uint64_t slave_read(void *o, uint64_t off, unsigned size)
{
    uint64_t v = chip_read(o, 1, off);

    trace_pic_ioport_read(false, off, (int)v);
    return v;
}

static void slave_write(void *o, uint64_t off, uint64_t v, unsigned size)
{
    trace_pic_ioport_write(false, off, v);
    chip_write(o, 1, off, v);
}

static uint64_t elcr_read(void *o, uint64_t off, unsigned size)
{
    i8259 *s = o;

    return s->chip[off & 1].elcr;
}

static void elcr_write(void *o, uint64_t off, uint64_t v, unsigned size)
{
    i8259 *s = o;
    pic_chip *p = &s->chip[off & 1];

    p->elcr = v & p->elcr_mask;
    update(s);
}

#define PIC_OPS(rd, wr) { .size = sizeof(tes_mem_ops), .read = rd, .write = wr, \
    .endian = TES_ENDIAN_LITTLE, .valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1 }
static const tes_mem_ops master_ops = PIC_OPS(master_read, master_write);
static const tes_mem_ops slave_ops = PIC_OPS(slave_read, slave_write);
static const tes_mem_ops elcr_ops = PIC_OPS(elcr_read, elcr_write);

/* ---- life cycle ---- */

static void pic_reset(tes_device *dev, void *opaque)
{
    i8259 *s = opaque;

    for (int i = 0; i < 2; i++) {
        s->chip[i].elcr = 0;
        chip_init_reset(&s->chip[i]);
    }
    s->intr = false;
    H->dev_set_irq(dev, 0, 0);
}

static int pic_realize(tes_device *dev, void *opaque)
{
    i8259 *s = opaque;
    tes_region *io = H->system_io();

    s->dev = dev;
    if (H->cpu_set_sysregs(NULL, &inta_ops, s) < 0) {
        H->error(dev, "i8259: cannot serve the CPUs' interrupt acknowledge");
        return -1;
    }
    H->dev_init_irq_in(dev, pic_set_irq, s, 16);
    H->dev_init_irqs(dev, 1); /* INT */
    /* PIIX/ICH: IRQ 0, 1, 2, 8 and 13 are edge only. */
    s->chip[0].elcr_mask = 0xf8; /* pic_post_load() checks these */
    s->chip[1].elcr_mask = 0xde;
    H->region_add(io, 0x20, H->region_new_io(dev, "pic-master", 2, &master_ops, s), 0);
    H->region_add(io, 0xa0, H->region_new_io(dev, "pic-slave", 2, &slave_ops, s), 0);
    H->region_add(io, 0x4d0, H->region_new_io(dev, "elcr", 2, &elcr_ops, s), 0);
    pic_reset(dev, s);
    return 0;
}

static void pic_unrealize(tes_device *dev, void *opaque)
{
    H->cpu_set_sysregs(NULL, NULL, opaque);
}

/* Bytes of a loaded bool, read without reading a bool (2 would be UB). */
static bool bools_ok(const bool *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t v;

        memcpy(&v, &b[i], 1);
        if (v > 1) {
            return false;
        }
    }
    return true;
}

_Static_assert(offsetof(pic_chip, sfnm) == offsetof(pic_chip, read_isr) + 7,
               "pic_chip's eight bools are contiguous");

/* The ELCR masks are the board's wiring (realize), not guest state; the
 * rest as the ICW/OCW writes leave it. */
static bool chip_ok(const pic_chip *p, uint8_t elcr_mask)
{
    return p->elcr_mask == elcr_mask && !(p->elcr & ~elcr_mask) && p->priority_add <= 7 &&
           !(p->irq_base & 7) && p->init_state <= 3 && bools_ok(&p->read_isr, 8);
}

static int pic_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    i8259 *s = opaque;

    if (!chip_ok(&s->chip[0], 0xf8) || !chip_ok(&s->chip[1], 0xde)) {
        H->error(dev, "i8259: chip state in the stream is out of range (ELCR masks 0x%x/0x%x, "
                 "init states %u/%u)", s->chip[0].elcr_mask, s->chip[1].elcr_mask,
                 s->chip[0].init_state, s->chip[1].init_state);
        return -1;
    }

    H->dev_set_irq(dev, 0, s->intr);
    return 0;
}

static const tes_state_field pic_fields[] = {
    TES_FIELD_BYTES(i8259, chip),
    TES_FIELD_BOOL(i8259, intr),
    TES_FIELD_END,
};

/* HMP info pic: QEMU's line for each chip (rr_sel: OCW3 selected ISR
 * reads; fnm: special fully nested mode). */
static void pic_print_info(tes_device *dev, void *opaque,
                           void (*out)(void *ctx, const char *text), void *ctx)
{
    i8259 *s = opaque;
    char line[128];

    for (int n = 0; n < 2; n++) {
        const pic_chip *p = &s->chip[n];

        snprintf(line, sizeof(line),
                 "pic%d: irr=%02x imr=%02x isr=%02x hprio=%u irq_base=%02x rr_sel=%d "
                 "elcr=%02x fnm=%d\n",
                 n, p->irr, p->imr, p->isr, p->priority_add, p->irq_base, p->read_isr,
                 p->elcr, p->sfnm);
        out(ctx, line);
    }
}

static const tes_state_info pic_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = pic_fields,
    .post_load = pic_post_load,
};

const tes_type_info i8259_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "i8259",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "cascaded 8259A interrupt controllers with ELCR",
    .instance_size = sizeof(i8259),
    .realize = pic_realize,
    .unrealize = pic_unrealize,
    .reset = pic_reset,
    .state = &pic_state,
    .print_info = pic_print_info,
};
