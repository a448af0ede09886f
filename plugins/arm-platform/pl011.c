/*
 * pl011: the ARM PrimeCell UART PL011 (ARM DDI 0183), as Linux's
 * amba-pl011 driver and its earlycon use it.
 *
 * User manual
 *
 *   -device pl011,addr=A,irq=N[,chardev=serialN]
 *
 *   chardev  (chr, default none) where transmitted bytes go and received
 *            bytes come from. Without one, output is discarded and nothing
 *            is received. Boards give their stock UART chardev=serial0.
 *   addr, irq  (platform device, <tessera/platform.h>) where a board that
 *            places platform devices (virt) maps it and which of its
 *            interrupt lines it drives; the board adds its DT node.
 *
 * A platform device: one 4 KiB register region (host->dev_mmio(dev, 0))
 * and interrupt output 0 (level: RIS & IMSC != 0); DT "arm,pl011",
 * "arm,primecell" with the uartclk and apb_pclk clocks.
 *
 * Model: transmission is instant, so the TX FIFO is always empty: FR reads
 * TXFE set, TXFF and BUSY clear, and every write to DR raises TXRIS (the
 * FIFO has fallen to its trigger level); Linux's driver fills the FIFO
 * while TXFF is clear and keeps TXIM on while it has more to send, so
 * output never stalls. The RX FIFO holds 16 bytes (the depth Linux derives
 * from PeriphID revision 1) when LCR_H.FEN is set, 1 otherwise. RXRIS is
 * set at the IFLS trigger level; below it, data waiting raises RTRIS at
 * once (the receive timeout with no delay). Loopback (CR.LBE) feeds
 * transmitted bytes back to the RX FIFO. Baud rate and line settings are
 * stored, not used. Byte and halfword accesses (Linux's 16-bit ones) reach
 * the register they fall in; a narrow write never reads DR. Guest mistakes
 * are logged under -d guest_errors.
 */
#include "platform.h"
#include "plat-trace.h"

#define PL011_SIZE 0x1000
#define FIFO_DEPTH 16

#define FR_BUSY (1u << 3)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define FR_RXFF (1u << 6)
#define FR_TXFE (1u << 7)

#define LCRH_FEN (1u << 4)
#define CR_LBE (1u << 7)

#define INT_RX (1u << 4)
#define INT_TX (1u << 5)
#define INT_RT (1u << 6)
#define INT_ALL 0x7ffu

typedef struct pl011 {
    tes_region *mmio;
    tes_device *dev;
    tes_chr *chr; /* property */

    uint32_t rsr, ilpr, ibrd, fbrd, lcr_h, cr, ifls, imsc, ris, dmacr;
    uint8_t rx_fifo[FIFO_DEPTH];
    uint32_t rx_head, rx_count;
} pl011;

static const uint8_t pl011_id[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

static void update_irq(pl011 *s)
{
    trace_pl011_irq_state((s->ris & s->imsc) != 0);
    H->dev_set_irq(s->dev, 0, (s->ris & s->imsc) != 0);
}

static unsigned fifo_depth(pl011 *s)
{
    return (s->lcr_h & LCRH_FEN) ? FIFO_DEPTH : 1;
}

/* IFLS.RXIFLSEL: 1/8, 1/4, 1/2, 3/4, 7/8 of the FIFO; 1 without FIFO. */
static unsigned rx_trigger(pl011 *s)
{
    static const unsigned eighths[8] = {1, 2, 4, 6, 7, 4, 4, 4};

    if (!(s->lcr_h & LCRH_FEN)) {
        return 1;
    }
    return FIFO_DEPTH * eighths[(s->ifls >> 3) & 7] / 8;
}

/* Recompute RX/RT from the FIFO level; called when the level changes. */
static void rx_status(pl011 *s)
{
    s->ris &= ~(INT_RX | INT_RT);
    if (s->rx_count >= rx_trigger(s)) {
        s->ris |= INT_RX;
    } else if (s->rx_count) {
        s->ris |= INT_RT;
    }
    update_irq(s);
}

static void rx_push(pl011 *s, uint8_t c)
{
    if (s->rx_count >= fifo_depth(s)) {
        s->rsr |= 0x8; /* overrun: the byte is lost (OE) */
        s->ris |= 1u << 10;
        update_irq(s);
        return;
    }
    s->rx_fifo[(s->rx_head + s->rx_count) % FIFO_DEPTH] = c;
    s->rx_count++;
    rx_status(s);
}

static uint32_t read_dr(pl011 *s)
{
    uint32_t c;

    if (!s->rx_count) {
        return 0;
    }
    c = s->rx_fifo[s->rx_head];
    s->rx_head = (s->rx_head + 1) % FIFO_DEPTH;
    s->rx_count--;
    rx_status(s);
    return c;
}

static void write_dr(pl011 *s, uint8_t c)
{
    if (s->cr & CR_LBE) {
        rx_push(s, c);
    } else if (s->chr) {
        H->chr_write(s->chr, &c, 1);
    }
    s->ris |= INT_TX;
    update_irq(s);
}

static uint32_t read_fr(pl011 *s)
{
    uint32_t fr = FR_TXFE;

    if (!s->rx_count) {
        fr |= FR_RXFE;
    }
    if (s->rx_count >= fifo_depth(s)) {
        fr |= FR_RXFF;
    }
    return fr;
}

static uint64_t pl011_read(void *opaque, uint64_t off, unsigned size)
{
    pl011 *s = opaque;

    if (off >= 0xfe0 && off < 0x1000) {
        return pl011_id[(off - 0xfe0) / 4];
    }
    switch (off) {
    case 0x000: return read_dr(s);
    case 0x004: return s->rsr;
    case 0x018: return read_fr(s);
    case 0x020: return s->ilpr;
    case 0x024: return s->ibrd;
    case 0x028: return s->fbrd;
    case 0x02c: return s->lcr_h;
    case 0x030: return s->cr;
    case 0x034: return s->ifls;
    case 0x038: return s->imsc;
    case 0x03c: return s->ris;
    case 0x040: return s->ris & s->imsc;
    case 0x048: return s->dmacr;
    }
    H->log(TES_LOG_GUEST_ERROR, "pl011: read of unknown register 0x%llx",
           (unsigned long long)off);
    return 0;
}

static void write_lcr_h(pl011 *s, uint32_t v)
{
    /* Toggling FEN empties the FIFO (the data is not meaningful across
     * the change of depth). */
    if ((v ^ s->lcr_h) & LCRH_FEN) {
        s->rx_head = s->rx_count = 0;
    }
    s->lcr_h = v & 0xff;
    rx_status(s);
}

static void pl011_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    pl011 *s = opaque;
    uint32_t v = val;

    switch (off) {
    case 0x000: write_dr(s, v); return;
    case 0x004: s->rsr = 0; return; /* ECR: any write clears the errors */
    case 0x020: s->ilpr = v & 0xff; return;
    case 0x024: s->ibrd = v & 0xffff; return;
    case 0x028: s->fbrd = v & 0x3f; return;
    case 0x02c: write_lcr_h(s, v); return;
    case 0x030: s->cr = v & 0xff87; return;
    case 0x034: s->ifls = v & 0x3f; rx_status(s); return;
    case 0x038: s->imsc = v & INT_ALL; break;
    case 0x044: s->ris &= ~(v & INT_ALL); break;
    case 0x048: s->dmacr = v & 7; return;
    default:
        H->log(TES_LOG_GUEST_ERROR, "pl011: write of 0x%x to %s register 0x%llx", v,
               off == 0x018 || off == 0x03c || off == 0x040 || off >= 0xfe0 ? "read-only"
                                                                              : "unknown",
               (unsigned long long)off);
        return;
    }
    update_irq(s);
}

/*
 * Byte and halfword accesses (Linux's driver uses 16-bit ones on virt) are
 * taken here, not widened by the core: its read-modify-write of a narrow
 * write would read DR first and so swallow a received byte each time the
 * console prints while input waits. A narrow access covers the bytes of
 * the register at off & ~3 that it names; a narrow write keeps the
 * register's other bytes (read back without side effect: never DR, whose
 * upper bits are not data, nor the write-only ICR, where zeros clear
 * nothing).
 */
static uint64_t pl011_sized_read(void *opaque, uint64_t off, unsigned size)
{
    uint64_t reg = off & ~3ull;
    unsigned shift = (off & 3) * 8;

    if (reg == 0x000 && shift) {
        return 0; /* DR's error flags: kept in RSR by this model */
    }
    return pl011_read(opaque, reg, 4) >> shift;
}

static void pl011_sized_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    uint64_t reg = off & ~3ull, mask = size >= 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
    unsigned shift = (off & 3) * 8;
    uint64_t v = (val & mask) << shift;

    if (reg == 0x000) {
        if (!shift) {
            pl011_write(opaque, reg, v & 0xff, 4);
        }
        return;
    }
    if (size < 4 && reg != 0x044) {
        v |= pl011_read(opaque, reg, 4) & ~(mask << shift);
    }
    pl011_write(opaque, reg, v & 0xffffffffu, 4);
}

TES_TRACE_RW_WRAP(pl011, pl011_sized_read, pl011_sized_write, pl011_read, pl011_write)

static const tes_mem_ops pl011_ops = {
    .size = sizeof(tes_mem_ops),
    .read = pl011_traced_read,
    .write = pl011_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

/* ---- character backend input ---- */

static int pl011_can_read(void *opaque)
{
    pl011 *s = opaque;

    return (int)(fifo_depth(s) - s->rx_count);
}

static void pl011_receive(void *opaque, const uint8_t *buf, int len)
{
    pl011 *s = opaque;

    for (int i = 0; i < len; i++) {
        rx_push(s, buf[i]);
    }
}

/* ---- life cycle ---- */

static void pl011_reset(tes_device *dev, void *opaque)
{
    pl011 *s = opaque;

    s->rsr = s->ilpr = s->ibrd = s->fbrd = s->lcr_h = 0;
    s->imsc = s->ris = s->dmacr = 0;
    s->cr = 0x300;  /* TXE | RXE (DDI 0183 3.3.8) */
    s->ifls = 0x12; /* both triggers at 1/2 */
    s->rx_head = s->rx_count = 0;
    update_irq(s);
}

static int pl011_realize(tes_device *dev, void *opaque)
{
    pl011 *s = opaque;

    s->dev = dev;
    s->mmio = H->region_new_io(dev, "pl011", PL011_SIZE, &pl011_ops, s);
    H->dev_init_mmio(dev, s->mmio);
    H->dev_init_irqs(dev, 1);
    if (s->chr) {
        H->chr_set_handlers(s->chr, pl011_can_read, pl011_receive, s);
    }
    pl011_reset(dev, s);
    return 0;
}

static void pl011_unrealize(tes_device *dev, void *opaque)
{
    pl011 *s = opaque;

    if (s->chr) {
        H->chr_set_handlers(s->chr, NULL, NULL, NULL);
    }
}

static const tes_state_field pl011_fields[] = {
    TES_FIELD_U32(pl011, rsr),
    TES_FIELD_U32(pl011, ilpr),
    TES_FIELD_U32(pl011, ibrd),
    TES_FIELD_U32(pl011, fbrd),
    TES_FIELD_U32(pl011, lcr_h),
    TES_FIELD_U32(pl011, cr),
    TES_FIELD_U32(pl011, ifls),
    TES_FIELD_U32(pl011, imsc),
    TES_FIELD_U32(pl011, ris),
    TES_FIELD_U32(pl011, dmacr),
    TES_FIELD_BYTES(pl011, rx_fifo),
    TES_FIELD_U32(pl011, rx_head),
    TES_FIELD_U32(pl011, rx_count),
    TES_FIELD_END,
};

static int pl011_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    pl011 *s = opaque;

    if (s->rx_head >= FIFO_DEPTH || s->rx_count > FIFO_DEPTH) {
        H->error(dev, "pl011: migrated RX FIFO state %u/%u is out of range", s->rx_head,
                 s->rx_count);
        return -1;
    }
    update_irq(s);
    return 0;
}

static const tes_state_info pl011_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = pl011_fields,
    .post_load = pl011_post_load,
};

static const tes_prop_info pl011_props[] = {
    TES_PROP("chardev", TES_PROP_CHR, pl011, chr, NULL, 0, 0,
             "serial backend (serialN); default none (output discarded)"),
    TES_PROP_END,
};

static const tes_platform_info pl011_platform = {
    .size = sizeof(tes_platform_info),
    .magic = TES_PLATFORM_MAGIC,
    .compatible = "arm,pl011\0arm,primecell\0",
    .node_name = "pl011",
    .num_mmio = 1,
    .num_irqs = 1,
    .clock_names = "uartclk\0apb_pclk\0",
};

const tes_type_info pl011_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "pl011",
    .desc = "ARM PrimeCell PL011 UART",
    .bus = NULL,
    .instance_size = sizeof(pl011),
    .props = pl011_props,
    .realize = pl011_realize,
    .unrealize = pl011_unrealize,
    .reset = pl011_reset,
    .state = &pl011_state,
    .class_info = &pl011_platform,
};
