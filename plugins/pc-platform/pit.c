/*
 * i8254: the PC's programmable interval timer (Intel 82C54 datasheet) and
 * the NMI status and control port 0x61 that gates its counter 2.
 *
 * User manual
 *
 *   -device i8254   (the q35 machine creates it)
 *
 * Ports 0x40-0x43 and 0x61, mapped by the device. Output 0 is counter 0's
 * OUT, wired by the machine to ISA IRQ0 (IOAPIC pin 2).
 *
 * Model: the three counters run at 1.193182 MHz derived from the virtual
 * clock, so the TSC, the LAPIC timer and the PIT agree (Linux calibrates
 * the TSC against counter 2: pit_calibrate_tsc polls OUT in port 0x61 bit
 * 5, quick_pit_calibrate reads the count's MSB). Modes 0-5, binary
 * counting (BCD is stored in the status, not used), counter latch,
 * read-back, LSB/MSB/LSB-then-MSB access. A virtual-clock timer runs only
 * while counter 0 has a count in modes 0, 2, 3 or 4; modes 2, 3 and 4
 * pulse IRQ0 at each rising edge of OUT, mode 0 holds it high from
 * terminal count until counter 0 is reprogrammed. A new count in modes 2
 * and 3 takes effect at once (not at the end of the current period).
 * Port 0x61: bit 0 gate 2, bit 1 speaker data, bit 4 refresh toggle
 * (every 15.085 us), bit 5 counter 2 OUT.
 */
#include <string.h>

#include "pc-platform.h"
#include "pc-trace.h"

#define PIT_HZ 1193182ull
#define NS_PER_S 1000000000ull
#define REFRESH_NS 15085

typedef struct pit_ch {
    uint32_t reload;    /* count written; 0 means 0x10000 */
    int64_t base_ns;    /* when counting last (re)started */
    uint64_t ticks0;    /* ticks counted before base_ns */
    uint8_t mode, rw, bcd;
    uint8_t wstate, rstate, wlsb; /* LSB-then-MSB flip-flops */
    uint8_t lstate;     /* latched count bytes left to read (0 none) */
    uint16_t latch;
    uint8_t status;
    bool status_latched, loaded, gate, triggered;
} pit_ch;

typedef struct i8254 {
    tes_device *dev;
    tes_timer *timer;
    pit_ch ch[3];
    uint8_t port61; /* bits 0-3 as written */
} i8254;

static uint64_t ns_to_ticks(int64_t ns)
{
    return ns <= 0 ? 0 : (uint64_t)((unsigned __int128)ns * PIT_HZ / NS_PER_S);
}

static int64_t ticks_to_ns(uint64_t t)
{
    return (int64_t)(((unsigned __int128)t * NS_PER_S + PIT_HZ - 1) / PIT_HZ);
}

static uint64_t period(pit_ch *c)
{
    return c->reload ? c->reload : 0x10000;
}

/* Modes 1 and 5 count after a gate trigger; the others while the gate is high. */
static bool running(pit_ch *c)
{
    return c->loaded && ((c->mode == 1 || c->mode == 5) ? c->triggered : c->gate);
}

static uint64_t ticks(pit_ch *c, int64_t now)
{
    return c->ticks0 + (running(c) ? ns_to_ticks(now - c->base_ns) : 0);
}

static uint16_t count_at(pit_ch *c, uint64_t t)
{
    uint64_t p = period(c);

    if (!c->loaded) {
        return 0;
    }
    switch (c->mode) {
    case 2: return (uint16_t)(p - t % p);
    case 3: return (uint16_t)(p - (2 * t) % p);
    default: return (uint16_t)(p - t); /* keeps wrapping after terminal count */
    }
}

static bool out_at(pit_ch *c, uint64_t t)
{
    uint64_t p = period(c);

    if (!c->loaded) {
        return c->mode != 0;
    }
    switch (c->mode) {
    case 0: return t >= p;
    case 1: return !c->triggered || t >= p;
    case 2: return t % p != p - 1;
    case 3: return t % p < (p + 1) / 2;
    default: return !c->triggered && c->mode == 5 ? true : t != p; /* 4, 5: strobe */
    }
}

/* ---- counter 0's interrupt ---- */

static void arm(i8254 *s)
{
    pit_ch *c = &s->ch[0];
    uint64_t t, p = period(c), edge;

    if (!running(c) || c->mode == 1 || c->mode == 5) {
        H->timer_del(s->timer);
        return;
    }
    t = ticks(c, H->clock_ns());
    if (c->mode == 2 || c->mode == 3) {
        edge = (t / p + 1) * p;
    } else if (t < p) {
        edge = p;
    } else {
        H->timer_del(s->timer);
        return;
    }
    H->timer_mod(s->timer, c->base_ns + ticks_to_ns(edge - c->ticks0));
}

static void pit_fire(void *opaque)
{
    i8254 *s = opaque;

    if (s->ch[0].mode == 0) {
        H->dev_set_irq(s->dev, 0, 1);
    } else {
        H->dev_set_irq(s->dev, 0, 1);
        H->dev_set_irq(s->dev, 0, 0);
    }
    arm(s);
}

/* ---- programming ---- */

static void load(i8254 *s, int n, uint32_t v)
{
    pit_ch *c = &s->ch[n];

    if (c->bcd) {
        H->log(TES_LOG_UNIMP, "i8254: BCD counting on counter %d counts in binary", n);
    }
    c->reload = v;
    c->loaded = true;
    c->triggered = false;
    c->ticks0 = 0;
    c->base_ns = H->clock_ns();
    if (n == 0) {
        H->dev_set_irq(s->dev, 0, c->mode != 0);
        arm(s);
    }
}

static void latch_count(pit_ch *c, int64_t now)
{
    if (!c->lstate) {
        c->latch = count_at(c, ticks(c, now));
        c->lstate = c->rw == 3 ? 2 : 1;
    }
}

static void latch_status(pit_ch *c, int64_t now)
{
    if (!c->status_latched) {
        c->status = (out_at(c, ticks(c, now)) ? 0x80 : 0) | (c->loaded ? 0 : 0x40) |
                    (c->rw << 4) | (c->mode << 1) | c->bcd;
        c->status_latched = true;
    }
}

static void write_control(i8254 *s, uint8_t v)
{
    int n = v >> 6, mode = (v >> 1) & 7;
    int64_t now = H->clock_ns();
    pit_ch *c;

    if (n == 3) { /* read-back command */
        for (int i = 0; i < 3; i++) {
            if (v & (2 << i)) {
                if (!(v & 0x20)) {
                    latch_count(&s->ch[i], now);
                }
                if (!(v & 0x10)) {
                    latch_status(&s->ch[i], now);
                }
            }
        }
        return;
    }
    c = &s->ch[n];
    if (!(v & 0x30)) {
        latch_count(c, now);
        return;
    }
    c->rw = (v >> 4) & 3;
    c->mode = mode > 5 ? mode - 4 : mode; /* 6 and 7 are 2 and 3 */
    c->bcd = v & 1;
    c->wstate = c->rstate = c->lstate = 0;
    c->loaded = false;
    if (n == 0) {
        H->dev_set_irq(s->dev, 0, c->mode != 0); /* OUT's initial state */
        arm(s);
    }
}

static void write_count(i8254 *s, int n, uint8_t v)
{
    pit_ch *c = &s->ch[n];

    switch (c->rw) {
    case 1: load(s, n, v); break;
    case 2: load(s, n, (uint32_t)v << 8); break;
    default:
        if (!c->wstate) {
            c->wlsb = v;
            c->wstate = 1;
        } else {
            c->wstate = 0;
            load(s, n, c->wlsb | ((uint32_t)v << 8));
        }
        break;
    }
}

static uint8_t read_count(i8254 *s, int n)
{
    pit_ch *c = &s->ch[n];
    uint16_t v;
    bool msb;

    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->lstate) {
        msb = c->rw == 2 || (c->rw == 3 && c->lstate == 1);
        c->lstate--;
        return msb ? c->latch >> 8 : c->latch & 0xff;
    }
    v = count_at(c, ticks(c, H->clock_ns()));
    msb = c->rw == 2 || (c->rw == 3 && c->rstate);
    if (c->rw == 3) {
        c->rstate ^= 1;
    }
    return msb ? v >> 8 : v & 0xff;
}

/* Gate 2 from port 0x61 bit 0 (datasheet figure "gate pin operations"). */
static void set_gate(pit_ch *c, bool g)
{
    int64_t now = H->clock_ns();

    if (g == c->gate) {
        return;
    }
    if (!g) {
        c->ticks0 = ticks(c, now); /* modes 0, 2, 3, 4 stop counting */
        c->gate = false;
        return;
    }
    c->gate = true;
    if (c->mode == 1 || c->mode == 5 || c->mode == 2 || c->mode == 3) {
        c->ticks0 = 0; /* a rising gate (re)starts from the initial count */
        c->triggered = true;
    }
    c->base_ns = now;
}

static uint64_t pit_read(void *opaque, uint64_t off, unsigned size)
{
    i8254 *s = opaque;

    return off < 3 ? read_count(s, (int)off) : 0xff; /* the control word is write-only */
}

static void pit_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    i8254 *s = opaque;

    if (off == 3) {
        write_control(s, val);
    } else {
        write_count(s, (int)off, val);
    }
}

static uint64_t port61_read(void *opaque, uint64_t off, unsigned size)
{
    i8254 *s = opaque;
    pit_ch *c = &s->ch[2];
    int64_t now = H->clock_ns();
    uint8_t v = s->port61 & 0x0f;

    if ((now / REFRESH_NS) & 1) {
        v |= 0x10;
    }
    if (out_at(c, ticks(c, now))) {
        v |= 0x20;
    }
    return v;
}

static void port61_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    i8254 *s = opaque;

    s->port61 = val & 0x0f;
    set_gate(&s->ch[2], val & 1);
}

TES_TRACE_RW_WRAP(pit, pit_read, pit_write, pit_ioport_read, pit_ioport_write)

static const tes_mem_ops pit_ops = {
    .size = sizeof(tes_mem_ops), .read = pit_traced_read, .write = pit_traced_write,
    .endian = TES_ENDIAN_LITTLE, .valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1,
};

static const tes_mem_ops port61_ops = {
    .size = sizeof(tes_mem_ops), .read = port61_read, .write = port61_write,
    .endian = TES_ENDIAN_LITTLE, .valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1,
};

/* ---- life cycle ---- */

static void pit_reset(tes_device *dev, void *opaque)
{
    i8254 *s = opaque;

    memset(s->ch, 0, sizeof(s->ch));
    for (int i = 0; i < 3; i++) {
        s->ch[i].rw = 3;
        s->ch[i].gate = i != 2; /* gates 0 and 1 are tied high */
    }
    s->port61 = 0;
    H->timer_del(s->timer);
    H->dev_set_irq(dev, 0, 0);
}

static int pit_realize(tes_device *dev, void *opaque)
{
    i8254 *s = opaque;
    tes_region *io = H->system_io();

    s->dev = dev;
    H->dev_init_irqs(dev, 1);
    s->timer = H->timer_new(pit_fire, s);
    H->region_add(io, 0x40, H->region_new_io(dev, "pit", 4, &pit_ops, s), 0);
    H->region_add(io, 0x61, H->region_new_io(dev, "port61", 1, &port61_ops, s), 0);
    pit_reset(dev, s);
    return 0;
}

static void pit_unrealize(tes_device *dev, void *opaque)
{
    i8254 *s = opaque;

    H->timer_free(s->timer);
}

/* The bools of a channel as bytes: a stream's 2 in a bool is undefined
 * behaviour once read, so they are looked at through memcpy. */
static bool ch_bools_ok(const pit_ch *c)
{
    const bool *b[] = {&c->status_latched, &c->loaded, &c->gate, &c->triggered};

    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
        uint8_t v;

        memcpy(&v, b[i], 1);
        if (v > 1) {
            return false;
        }
    }
    return true;
}

/* What write_control()/write_count() and the clock can leave: a count of
 * 16 bits, modes 0..5, and times not ahead of the migrated clock (later
 * sums would overflow). */
static bool ch_ok(const pit_ch *c, int64_t now)
{
    return ch_bools_ok(c) && c->reload <= 0xffff && c->mode <= 5 && c->rw <= 3 &&
           c->bcd <= 1 && c->wstate <= 1 && c->rstate <= 1 && c->lstate <= 2 &&
           c->base_ns >= 0 && c->base_ns <= now && c->ticks0 <= ns_to_ticks(now) + 0x10000;
}

static int pit_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    i8254 *s = opaque;

    for (int i = 0; i < 3; i++) {
        if (!ch_ok(&s->ch[i], H->clock_ns())) {
            H->error(dev, "i8254: channel %d state in the stream is out of range (reload %u, "
                     "mode %u, base %lld ns)", i, s->ch[i].reload, s->ch[i].mode,
                     (long long)s->ch[i].base_ns);
            return -1;
        }
    }
    arm(opaque);
    return 0;
}

static const tes_state_field pit_fields[] = {
    TES_FIELD_BYTES(i8254, ch),
    TES_FIELD_U8(i8254, port61),
    TES_FIELD_END,
};

static const tes_state_info pit_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = pit_fields,
    .post_load = pit_post_load,
};

const tes_type_info i8254_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "i8254",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "8254 programmable interval timer with port 0x61",
    .instance_size = sizeof(i8254),
    .realize = pit_realize,
    .unrealize = pit_unrealize,
    .reset = pit_reset,
    .state = &pit_state,
};
