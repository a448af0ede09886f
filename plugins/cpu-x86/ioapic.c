/*
 * ioapic: the I/O APIC of the ICH9 (82093AA programming model, version
 * 0x20 with the EOI register), 24 redirection entries.
 *
 * User manual
 *
 *   -device ioapic   (the q35 machine creates it; one per machine)
 *
 * The machine maps ioapic_region(s) (4 KiB) at 0xfec00000 and wires
 * ISA/PCI interrupt lines to ioapic_pin(s, n), n < 24. Input levels are
 * logical (asserted = 1): the polarity bit is stored, not applied, as the
 * machine drives every line active high.
 *
 * Registers: IOREGSEL (0x00), IOWIN (0x10), EOI (0x40). Indirect: ID (0),
 * VER (1: 0x00170020), ARB (2), redirection table (0x10 + 2n low, +1
 * high). Edge inputs deliver on a rising edge while unmasked (a masked
 * edge is lost, as on hardware); level inputs deliver while asserted and
 * remote IRR is clear, set remote IRR, and deliver again after the LAPIC's
 * EOI (ioapic_eoi) or a write to the EOI register if still asserted.
 */
#include "x86.h"

#define IOAPIC_PINS 24
#define IOAPIC_VER 0x00170020u

#define RTE_DM_LOGICAL (1ull << 11)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LEVEL (1ull << 15)
#define RTE_MASKED (1ull << 16)
#define RTE_WMASK_LO 0x1afffull /* vector, mode, dest mode, polarity, trigger, mask */

typedef struct ioapic {
    x86_irqchip_pub pub; /* first (x86.h): region and input pins */
    tes_device *dev;
    uint32_t regsel, id;
    uint32_t irr;    /* pending requests, one bit per pin */
    uint32_t level;  /* input levels */
    uint64_t rte[IOAPIC_PINS];
} ioapic;

static ioapic *the_ioapic; /* receives the LAPICs' EOI broadcasts */

static void service(ioapic *s)
{
    for (unsigned i = 0; i < IOAPIC_PINS; i++) {
        uint64_t e = s->rte[i];
        bool lvl = e & RTE_LEVEL;

        if (!(s->irr & (1u << i)) || (e & RTE_MASKED) || (lvl && (e & RTE_REMOTE_IRR))) {
            continue;
        }
        if (lvl) {
            s->rte[i] |= RTE_REMOTE_IRR;
        } else {
            s->irr &= ~(1u << i);
        }
        x86_apic_deliver(e >> 56, e & RTE_DM_LOGICAL, (e >> 8) & 7, e & 0xff, true, lvl);
    }
}

static void ioapic_set_irq(void *opaque, int n, int level)
{
    ioapic *s = opaque;
    uint32_t bit = 1u << n;
    bool old = s->level & bit;

    s->level = level ? s->level | bit : s->level & ~bit;
    if (s->rte[n] & RTE_LEVEL) {
        s->irr = level ? s->irr | bit : s->irr & ~bit;
    } else if (level && !old && !(s->rte[n] & RTE_MASKED)) {
        s->irr |= bit;
    }
    service(s);
}

static void eoi_vector(ioapic *s, int vector)
{
    for (unsigned i = 0; i < IOAPIC_PINS; i++) {
        if ((s->rte[i] & RTE_REMOTE_IRR) && (s->rte[i] & 0xff) == (uint64_t)vector) {
            s->rte[i] &= ~RTE_REMOTE_IRR;
        }
    }
    service(s);
}

void ioapic_eoi(int vector)
{
    if (the_ioapic) {
        eoi_vector(the_ioapic, vector);
    }
}

static uint32_t ind_read(ioapic *s)
{
    unsigned r = s->regsel & 0xff, pin = (r - 0x10) / 2;

    switch (r) {
    case 0: return s->id << 24;
    case 1: return IOAPIC_VER;
    case 2: return s->id << 24; /* ARB: the ID, as after a reset */
    }
    if (r >= 0x10 && pin < IOAPIC_PINS) {
        return (r & 1) ? s->rte[pin] >> 32 : (uint32_t)s->rte[pin];
    }
    H->log(TES_LOG_GUEST_ERROR, "ioapic: read of register 0x%x", r);
    return 0;
}

static void write_rte(ioapic *s, unsigned pin, bool high, uint32_t v)
{
    uint64_t e = s->rte[pin];

    if (high) {
        e = (e & 0xffffffffull) | ((uint64_t)(v & 0xff000000u) << 32);
    } else {
        e = (e & ~RTE_WMASK_LO) | (v & RTE_WMASK_LO);
        if (!(e & RTE_LEVEL)) {
            e &= ~RTE_REMOTE_IRR;
            s->irr &= ~(1u << pin); /* a level request does not survive as an edge */
        } else if (s->level & (1u << pin)) {
            s->irr |= 1u << pin;
        }
    }
    s->rte[pin] = e;
    service(s);
}

static void ind_write(ioapic *s, uint32_t v)
{
    unsigned r = s->regsel & 0xff, pin = (r - 0x10) / 2;

    if (r == 0) {
        s->id = (v >> 24) & 0xf;
    } else if (r >= 0x10 && pin < IOAPIC_PINS) {
        write_rte(s, pin, r & 1, v);
    } else if (r != 1 && r != 2) {
        H->log(TES_LOG_GUEST_ERROR, "ioapic: write of 0x%x to register 0x%x", v, r);
    }
}

static uint64_t ioapic_read(void *opaque, uint64_t off, unsigned size)
{
    ioapic *s = opaque;

    switch (off) {
    case 0x00: return s->regsel;
    case 0x10: return ind_read(s);
    }
    return 0;
}

static void ioapic_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ioapic *s = opaque;

    switch (off) {
    case 0x00: s->regsel = val & 0xff; break;
    case 0x10: ind_write(s, (uint32_t)val); break;
    case 0x40: eoi_vector(s, val & 0xff); break;
    default:
        H->log(TES_LOG_GUEST_ERROR, "ioapic: write to offset 0x%llx", (unsigned long long)off);
        break;
    }
}

static const tes_mem_ops ioapic_ops = {
    .size = sizeof(tes_mem_ops),
    .read = ioapic_read,
    .write = ioapic_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 4, .impl_max = 4,
};

/* ---- life cycle ---- */

tes_region *ioapic_region(void *opaque)
{
    ioapic *s = opaque;

    return s ? s->pub.mmio : NULL;
}

tes_irq *ioapic_pin(void *opaque, unsigned n)
{
    ioapic *s = opaque;

    return s && n < IOAPIC_PINS ? s->pub.in[n] : NULL;
}

static void ioapic_reset(tes_device *dev, void *opaque)
{
    ioapic *s = opaque;

    s->regsel = s->id = s->irr = 0;
    for (unsigned i = 0; i < IOAPIC_PINS; i++) {
        s->rte[i] = RTE_MASKED;
    }
}

static int ioapic_realize(tes_device *dev, void *opaque)
{
    ioapic *s = opaque;

    if (the_ioapic) {
        H->error(dev, "ioapic: only one I/O APIC per machine");
        return -1;
    }
    s->dev = dev;
    s->pub.mmio = H->region_new_io(dev, "ioapic", 0x1000, &ioapic_ops, s);
    for (int i = 0; i < IOAPIC_PINS; i++) {
        s->pub.in[i] = H->irq_new(ioapic_set_irq, s, i);
    }
    ioapic_reset(dev, s);
    the_ioapic = s;
    return 0;
}

static void ioapic_unrealize(tes_device *dev, void *opaque)
{
    if (the_ioapic == opaque) {
        the_ioapic = NULL;
    }
}

static const tes_state_field ioapic_fields[] = {
    TES_FIELD_U32(ioapic, regsel),
    TES_FIELD_U32(ioapic, id),
    TES_FIELD_U32(ioapic, irr),
    TES_FIELD_U32(ioapic, level),
    TES_FIELD_ARRAY(ioapic, rte, TES_FIELD_U64, IOAPIC_PINS),
    TES_FIELD_END,
};

static const tes_state_info ioapic_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = ioapic_fields,
};

const tes_type_info ioapic_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "ioapic",
    .desc = "I/O APIC (24 pins, version 0x20)",
    .instance_size = sizeof(ioapic),
    .realize = ioapic_realize,
    .unrealize = ioapic_unrealize,
    .reset = ioapic_reset,
    .state = &ioapic_state,
};
