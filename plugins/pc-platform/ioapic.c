/*
 * ioapic: the I/O APIC of the ICH9 (82093AA programming model, version
 * 0x20 with the EOI register), 24 redirection entries.
 *
 * User manual
 *
 *   -device ioapic   (the q35 machine creates it; one per machine)
 *
 * The board maps region 0 (host->dev_mmio, 4 KiB) at 0xfec00000 and wires
 * ISA/PCI interrupt lines to inputs n < 24 (host->dev_irq_in). Interrupts
 * go to the LAPICs as messages, MSI writes to the 0xfee00000 window
 * (host->msi_send: address bits 19:4 from entry bits 63:48, so bits 19:12
 * the destination, bit 2 logical; data vector, delivery mode, level,
 * trigger mode), as the ICH9's IOAPIC sends them. Entry bits 55:48 are
 * reserved in the compatibility format; in VT-d's remappable format (bit
 * 48 set, VT-d 5.1.5.1) bits 63:49 are the handle and bit 11 its bit 15,
 * which land where a remappable MSI carries them (address bits 19:5, 4
 * and 2), so an intel-iommu with interrupt remapping reads them from the
 * message. Input levels are
 * logical (asserted = 1): the polarity bit is stored, not applied, as the
 * machine drives every line active high.
 *
 * Registers: IOREGSEL (0x00), IOWIN (0x10), EOI (0x40). Indirect: ID (0),
 * VER (1: 0x00170020), ARB (2), redirection table (0x10 + 2n low, +1
 * high). Edge inputs deliver on a rising edge while unmasked (a masked
 * edge is lost, as on hardware); level inputs deliver while asserted and
 * remote IRR is clear, set remote IRR, and deliver again after the LAPIC's
 * EOI broadcast (the TES_X86_SYSREG_EOI register it serves for every vCPU)
 * or a write to the EOI register if still asserted.
 */
#include <inttypes.h>
#include <stdio.h>

#include "pc-platform.h"
#include "pc-trace.h"

#define IOAPIC_PINS 24
#define IOAPIC_VER 0x00170020u

#define RTE_DM_LOGICAL (1ull << 11)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LEVEL (1ull << 15)
#define RTE_MASKED (1ull << 16)
#define RTE_WMASK_LO 0x1afffull /* vector, mode, dest mode, polarity, trigger, mask */

#define MSI_BASE 0xfee00000ull

typedef struct ioapic {
    tes_device *dev;
    tes_region *mmio;
    uint32_t regsel, id;
    uint32_t irr;    /* pending requests, one bit per pin */
    uint32_t level;  /* input levels */
    uint64_t rte[IOAPIC_PINS];
} ioapic;

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
        /* The message: edge or level (asserted), as an MSI (SDM 10.11). */
        H->msi_send(s->dev, MSI_BASE | ((e >> 48) & 0xffff) << 4 | (e & RTE_DM_LOGICAL ? 4 : 0),
                    (uint32_t)(e & 0x7ff) | 1u << 14 | (lvl ? 1u << 15 : 0));
    }
}

static void ioapic_set_irq(void *opaque, int n, int level)
{
    ioapic *s = opaque;
    uint32_t bit = 1u << n;
    bool old = s->level & bit;

    trace_ioapic_set_irq(n, level);

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

/* The LAPICs' EOI broadcast (TES_X86_SYSREG_EOI). Not claimed (false):
 * a broadcast is for every I/O APIC. */
static bool eoi_read(void *opaque, tes_cpu *cpu, uint32_t reg, uint64_t *val)
{
    return false;
}

static bool eoi_write(void *opaque, tes_cpu *cpu, uint32_t reg, uint64_t val)
{
    if (reg == TES_X86_SYSREG_EOI) {
        eoi_vector(opaque, (int)(val & 0xff));
    }
    return false;
}

static const tes_cpu_sysregs eoi_ops = {
    .size = sizeof(tes_cpu_sysregs), .read = eoi_read, .write = eoi_write,
};

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
        e = (e & 0xffffffffull) | ((uint64_t)(v & 0xffff0000u) << 32);
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
    uint32_t v = off == 0x00 ? s->regsel : off == 0x10 ? ind_read(s) : 0;

    trace_ioapic_mem_read(off, s->regsel, size, v);
    return v;
}

static void ioapic_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ioapic *s = opaque;

    trace_ioapic_mem_write(off, s->regsel, size, val);
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

    s->dev = dev;
    if (H->cpu_set_sysregs(NULL, &eoi_ops, s) < 0) {
        H->error(dev, "ioapic: cannot listen to the LAPICs' EOI broadcasts");
        return -1;
    }
    s->mmio = H->region_new_io(dev, "ioapic", 0x1000, &ioapic_ops, s);
    H->dev_init_mmio(dev, s->mmio);
    H->dev_init_irq_in(dev, ioapic_set_irq, s, IOAPIC_PINS);
    ioapic_reset(dev, s);
    return 0;
}

static void ioapic_unrealize(tes_device *dev, void *opaque)
{
    H->cpu_set_sysregs(NULL, NULL, opaque);
}

static const tes_state_field ioapic_fields[] = {
    TES_FIELD_U32(ioapic, regsel),
    TES_FIELD_U32(ioapic, id),
    TES_FIELD_U32(ioapic, irr),
    TES_FIELD_U32(ioapic, level),
    TES_FIELD_ARRAY(ioapic, rte, TES_FIELD_U64, IOAPIC_PINS),
    TES_FIELD_END,
};

/* IOREGSEL keeps 8 bits; the lines' state is re-driven by the sources. */
static int ioapic_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    ioapic *s = opaque;

    if (s->regsel > 0xff || s->id > 0xf || (s->irr | s->level) >> IOAPIC_PINS) {
        H->error(dev, "ioapic: IOREGSEL 0x%x, IRR 0x%x or level 0x%x in the stream out of "
                 "range", s->regsel, s->irr, s->level);
        return -1;
    }
    return 0;
}

static const tes_state_info ioapic_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = ioapic_fields,
    .post_load = ioapic_post_load,
};

/* ---- HMP info pic: QEMU's layout (the destination is the whole 8-bit
 * field we deliver to, where QEMU shows 4 bits in physical mode) ---- */

static void pins_line(void (*out)(void *, const char *), void *ctx, const char *name,
                      uint32_t pins)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%-10s ", name);
    out(ctx, buf);
    for (unsigned i = 0; i < IOAPIC_PINS; i++) {
        if (pins & (1u << i)) {
            snprintf(buf, sizeof(buf), "%-2u ", i);
            out(ctx, buf);
        }
    }
    out(ctx, pins ? "\n" : "(none)\n");
}

static void ioapic_print_info(tes_device *dev, void *opaque,
                              void (*out)(void *ctx, const char *text), void *ctx)
{
    static const char *const mode[8] = {"fixed", "lowest", "SMI", "...",
                                        "NMI",   "INIT",   "...", "extINT"};
    ioapic *s = opaque;
    uint32_t remote = 0;
    char line[160];

    snprintf(line, sizeof(line), "ioapic0: ver=0x%x id=0x%02x sel=0x%02x", IOAPIC_VER & 0xff,
             s->id, s->regsel);
    out(ctx, line);
    if (s->regsel >= 0x10 && s->regsel < 0x10 + 2 * IOAPIC_PINS) {
        snprintf(line, sizeof(line), " (redir[%u])", (s->regsel - 0x10) / 2);
        out(ctx, line);
    }
    out(ctx, "\n");
    for (unsigned i = 0; i < IOAPIC_PINS; i++) {
        uint64_t e = s->rte[i];

        snprintf(line, sizeof(line),
                 "  pin %-2u 0x%016" PRIx64 " dest=%x vec=%-3u %s %-5s %-6s %-6s %s\n", i, e,
                 (unsigned)(e >> 56), (unsigned)(e & 0xff),
                 e & (1u << 13) ? "active-lo" : "active-hi",
                 e & RTE_LEVEL ? "level" : "edge", e & RTE_MASKED ? "masked" : "",
                 mode[(e >> 8) & 7], e & RTE_DM_LOGICAL ? "logical" : "physical");
        out(ctx, line);
        remote |= (e & RTE_LEVEL) && (e & RTE_REMOTE_IRR) ? 1u << i : 0;
    }
    pins_line(out, ctx, "  IRR", s->irr);
    pins_line(out, ctx, "  Remote IRR", remote);
}

const tes_type_info ioapic_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "ioapic",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "I/O APIC (24 pins, version 0x20)",
    .instance_size = sizeof(ioapic),
    .realize = ioapic_realize,
    .unrealize = ioapic_unrealize,
    .reset = ioapic_reset,
    .state = &ioapic_state,
    .print_info = ioapic_print_info,
};
