/*
 * isa-serial: a 16550A UART on the ISA bus (National PC16550D datasheet),
 * as Linux's 8250 driver probes and drives it.
 *
 * User manual
 *
 *   -device isa-serial[,iobase=0x3f8][,irq=4][,chardev=serialN]
 *
 *   iobase   (u32, default 0x3f8) first of the 8 I/O ports, mapped by the
 *            device itself.
 *   irq      (u32, default 4) the ISA IRQ the machine wires output 0 to
 *            (stored for the machine's ACPI tables; the wiring is its job).
 *   chardev  (chr) backend; by default serial0 for 0x3f8, serial1 for
 *            0x2f8, serial2 for 0x3e8, serial3 for 0x2e8. None: output is
 *            dropped and nothing is received.
 *
 * Model: transmission is instant (LSR THRE and TEMT always read set), and
 * the THRE interrupt follows the datasheet: it is set when THR empties
 * (at once after each write) and when IER.ETBEI goes from 0 to 1 with THR
 * empty, and cleared by a THR write or an IIR read that reports it —
 * Linux's startup test for UART_BUG_THRE (IER=THRI, read IIR, IER=0,
 * IER=THRI, read IIR) must see it asserted both times. The RX FIFO holds
 * 16 bytes with FCR's trigger levels (1 byte without FIFO); below the
 * trigger, waiting data raises the character timeout at once. IIR reports
 * the highest of RLS, RDA/timeout, THRE, MSI, with bits 7:6 set when the
 * FIFOs are enabled and bits 5:4 clear, so autoconfig finds a 16550A (not a
 * 16650/16750/NS16550/XScale). Loopback (MCR bit 4) feeds THR into the RX
 * FIFO and maps DTR/RTS/OUT1/OUT2 onto DSR/CTS/RI/DCD; out of loopback the
 * modem lines read CTS, DSR and DCD asserted. As on the PC, the interrupt
 * output is gated by MCR OUT2 (and off in loopback). Line settings and the
 * divisor are stored, not used.
 */
#include "pc-platform.h"
#include "pc-trace.h"

#define FIFO_SIZE 16

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define IIR_NO_INT 0x01
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_ERRORS 0x1e /* OE PE FE BI */
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define FCR_ENABLE 0x01

typedef struct uart {
    tes_device *dev;
    tes_chr *chr;
    uint32_t iobase, irq; /* properties */
    bool irq_level;       /* for the trace only: the line as last set */

    uint8_t ier, lcr, mcr, lsr_err, msr, scr, fcr, dll, dlm;
    bool thr_ipending;
    uint8_t rx[FIFO_SIZE];
    uint8_t rx_head, rx_count;
} uart;

static unsigned rx_capacity(uart *s)
{
    return (s->fcr & FCR_ENABLE) ? FIFO_SIZE : 1;
}

static unsigned rx_trigger(uart *s)
{
    static const unsigned level[4] = {1, 4, 8, 14};

    return (s->fcr & FCR_ENABLE) ? level[s->fcr >> 6] : 1;
}

static uint8_t iir_id(uart *s)
{
    if ((s->ier & IER_RLSI) && (s->lsr_err & LSR_ERRORS)) {
        return 0x06;
    }
    if ((s->ier & IER_RDI) && s->rx_count) {
        return s->rx_count >= rx_trigger(s) ? 0x04 : 0x0c;
    }
    if ((s->ier & IER_THRI) && s->thr_ipending) {
        return 0x02;
    }
    if ((s->ier & IER_MSI) && (s->msr & 0x0f)) {
        return 0x00;
    }
    return IIR_NO_INT;
}

static void update_irq(uart *s)
{
    bool out2 = (s->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
    bool level = out2 && iir_id(s) != IIR_NO_INT;

    if (level != s->irq_level) {
        trace_serial_irq(level);
        s->irq_level = level;
    }
    H->dev_set_irq(s->dev, 0, level);
}

/* Modem status inputs: from MCR in loopback, else a connected peer. */
static void set_modem_inputs(uart *s)
{
    uint8_t in = 0xb0, old = s->msr;

    if (s->mcr & MCR_LOOP) {
        in = ((s->mcr & MCR_RTS) ? 0x10 : 0) | ((s->mcr & MCR_DTR) ? 0x20 : 0) |
             ((s->mcr & MCR_OUT1) ? 0x40 : 0) | ((s->mcr & MCR_OUT2) ? 0x80 : 0);
    }
    s->msr = (old & 0x0f) | in;
    /* Deltas: DCTS, DDSR, TERI (RI trailing edge), DDCD. */
    s->msr |= (((old ^ in) >> 4) & 0x0b) | ((old & ~in & 0x40) ? 0x04 : 0);
}

static void rx_push(uart *s, uint8_t c)
{
    if (s->rx_count >= rx_capacity(s)) {
        s->lsr_err |= LSR_OE; /* the new byte is lost */
        return;
    }
    s->rx[(s->rx_head + s->rx_count) % FIFO_SIZE] = c;
    s->rx_count++;
}

static uint8_t rx_pop(uart *s)
{
    uint8_t c;

    if (!s->rx_count) {
        return 0;
    }
    c = s->rx[s->rx_head];
    s->rx_head = (s->rx_head + 1) % FIFO_SIZE;
    s->rx_count--;
    return c;
}

static void write_thr(uart *s, uint8_t c)
{
    if (s->mcr & MCR_LOOP) {
        rx_push(s, c);
    } else if (s->chr) {
        H->chr_write(s->chr, &c, 1);
    }
    s->thr_ipending = true; /* THR is empty again at once */
}

static void write_ier(uart *s, uint8_t v)
{
    uint8_t old = s->ier;

    s->ier = v & 0x0f;
    if ((s->ier & IER_THRI) && !(old & IER_THRI)) {
        s->thr_ipending = true; /* THR is always empty */
    }
}

static void write_fcr(uart *s, uint8_t v)
{
    if ((v ^ s->fcr) & FCR_ENABLE || (v & 0x02)) {
        s->rx_head = s->rx_count = 0; /* enabling/disabling or RX reset */
    }
    s->fcr = v & 0xc9;
}

static void uart_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    uart *s = opaque;
    uint8_t v = val;

    trace_serial_write((uint16_t)off, v);
    switch (off) {
    case 0:
        if (s->lcr & LCR_DLAB) {
            s->dll = v;
        } else {
            write_thr(s, v);
        }
        break;
    case 1:
        if (s->lcr & LCR_DLAB) {
            s->dlm = v;
        } else {
            write_ier(s, v);
        }
        break;
    case 2: write_fcr(s, v); break;
    case 3: s->lcr = v; break;
    case 4: s->mcr = v & 0x1f; set_modem_inputs(s); break;
    case 7: s->scr = v; break;
    default: break; /* LSR and MSR writes are "factory test" only */
    }
    update_irq(s);
}

static uint8_t read_iir(uart *s)
{
    uint8_t id = iir_id(s);

    if (id == 0x02) {
        s->thr_ipending = false; /* reading IIR as the source clears THRE */
    }
    return id | ((s->fcr & FCR_ENABLE) ? 0xc0 : 0);
}

static uint8_t read_lsr(uart *s)
{
    uint8_t v = s->lsr_err | LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);

    s->lsr_err = 0;
    return v;
}

static uint64_t uart_read(void *opaque, uint64_t off, unsigned size)
{
    uart *s = opaque;
    uint8_t v;

    switch (off) {
    case 0: v = (s->lcr & LCR_DLAB) ? s->dll : rx_pop(s); break;
    case 1: v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier; break;
    case 2: v = read_iir(s); break;
    case 3: v = s->lcr; break;
    case 4: v = s->mcr; break;
    case 5: v = read_lsr(s); break;
    case 6: v = s->msr; s->msr &= 0xf0; break;
    default: v = s->scr; break;
    }
    trace_serial_read((uint16_t)off, v);
    update_irq(s);
    return v;
}

static const tes_mem_ops uart_ops = {
    .size = sizeof(tes_mem_ops), .read = uart_read, .write = uart_write,
    .endian = TES_ENDIAN_LITTLE, .valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1,
};

/* ---- character backend input ---- */

static int uart_can_read(void *opaque)
{
    uart *s = opaque;

    return (s->mcr & MCR_LOOP) ? 0 : (int)(rx_capacity(s) - s->rx_count);
}

static void uart_receive(void *opaque, const uint8_t *buf, int len)
{
    uart *s = opaque;

    for (int i = 0; i < len; i++) {
        rx_push(s, buf[i]);
    }
    update_irq(s);
}

/* ---- life cycle ---- */

static void uart_reset(tes_device *dev, void *opaque)
{
    uart *s = opaque;

    s->ier = s->lcr = s->mcr = s->lsr_err = s->scr = s->fcr = 0;
    s->dll = 0x0c; /* 9600 baud */
    s->dlm = 0;
    s->msr = 0;
    s->thr_ipending = false;
    s->rx_head = s->rx_count = 0;
    set_modem_inputs(s);
    s->msr &= 0xf0;
    update_irq(s);
}

static int default_chr_index(uint32_t iobase)
{
    switch (iobase) {
    case 0x3f8: return 0;
    case 0x2f8: return 1;
    case 0x3e8: return 2;
    case 0x2e8: return 3;
    default: return -1;
    }
}

static int uart_realize(tes_device *dev, void *opaque)
{
    uart *s = opaque;
    int idx = default_chr_index(s->iobase);

    if (s->iobase > 0xfff8) {
        H->error(dev, "isa-serial: iobase 0x%x leaves no room for 8 ports below 0x10000",
                 s->iobase);
        return -1;
    }
    s->dev = dev;
    if (!s->chr && idx >= 0) {
        s->chr = H->serial_chr(idx);
    }
    H->dev_init_irqs(dev, 1);
    H->region_add(H->system_io(), s->iobase, H->region_new_io(dev, "serial", 8, &uart_ops, s),
                  0);
    if (s->chr) {
        H->chr_set_handlers(s->chr, uart_can_read, uart_receive, s);
    }
    uart_reset(dev, s);
    return 0;
}

static void uart_unrealize(tes_device *dev, void *opaque)
{
    uart *s = opaque;

    if (s->chr) {
        H->chr_set_handlers(s->chr, NULL, NULL, NULL);
    }
}

static int uart_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    uart *s = opaque;

    if (s->rx_head >= FIFO_SIZE || s->rx_count > FIFO_SIZE) {
        H->error(dev, "isa-serial: migrated RX FIFO state %u/%u is out of range", s->rx_head,
                 s->rx_count);
        return -1;
    }
    update_irq(s);
    return 0;
}

static const tes_state_field uart_fields[] = {
    TES_FIELD_U8(uart, ier), TES_FIELD_U8(uart, lcr), TES_FIELD_U8(uart, mcr),
    TES_FIELD_U8(uart, lsr_err), TES_FIELD_U8(uart, msr), TES_FIELD_U8(uart, scr),
    TES_FIELD_U8(uart, fcr), TES_FIELD_U8(uart, dll), TES_FIELD_U8(uart, dlm),
    TES_FIELD_BOOL(uart, thr_ipending), TES_FIELD_BYTES(uart, rx),
    TES_FIELD_U8(uart, rx_head), TES_FIELD_U8(uart, rx_count),
    TES_FIELD_END,
};

static const tes_state_info uart_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = uart_fields,
    .post_load = uart_post_load,
};

static const tes_prop_info uart_props[] = {
    TES_PROP("iobase", TES_PROP_U32, uart, iobase, "0x3f8", 0, 0xfff8, "first I/O port"),
    TES_PROP("irq", TES_PROP_U32, uart, irq, "4", 0, 15, "ISA IRQ (wired by the machine)"),
    TES_PROP("chardev", TES_PROP_CHR, uart, chr, NULL, 0, 0,
             "serial backend (serialN); default from iobase (COM1 = serial0)"),
    TES_PROP_END,
};

const tes_type_info isa_serial_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "isa-serial",
    .desc = "16550A UART on the ISA bus",
    .instance_size = sizeof(uart),
    .props = uart_props,
    .realize = uart_realize,
    .unrealize = uart_unrealize,
    .reset = uart_reset,
    .state = &uart_state,
};
