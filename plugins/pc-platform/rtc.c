/*
 * mc146818rtc: the PC's CMOS real-time clock and 128 bytes of CMOS RAM
 * (Motorola MC146818A datasheet; register layout as on the ICH9 RTC).
 *
 * User manual
 *
 *   -device mc146818rtc   (the q35 machine creates it)
 *
 * Ports 0x70 (index; bit 7 is the NMI mask, stored) and 0x71 (data),
 * mapped by the device. Output 0 is IRQ8 (high while register C's IRQF is
 * set; reading C clears it). Output 1 pulses when the alarm fires with AIE
 * set: boards wire it to the ACPI PM block's RTC_STS (the chipset's wake
 * event, QEMU's qemu_system_wakeup_request(QEMU_WAKEUP_REASON_RTC)). A
 * board may fill CMOS bytes (memory size at 0x34/0x35, 0x5b-0x5d) through
 * the ports (host->as_write to host->system_io(), as firmware would).
 *
 * Model: the time starts from the host's UTC wall clock at realize and
 * advances with the virtual clock; seconds roll over at whole virtual
 * seconds from that point. UIP (register A bit 7) reads set during the
 * 244 us before each rollover, so a guest that waits for UIP to clear
 * (Linux's mc146818_avoid_UIP) waits at most that long. Register B picks
 * BCD or binary and 12 or 24 hour formats for reads and writes; SET
 * freezes the time registers until it is cleared, when the written time
 * takes effect. Periodic (rate from register A), alarm (with don't-care
 * values 0xc0-0xff) and update-ended interrupts run on a virtual-clock
 * timer only while enabled in register B. Century in byte 0x32. The
 * virtual clock runs on while the guest is in ACPI S3 (the core's
 * choice, as QEMU's), so the alarm fires there and can wake it.
 */
#include <time.h>

#include "pc-platform.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32
#define NS_PER_S 1000000000ll
#define UIP_NS 244000ll

#define A_UIP 0x80
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10

typedef struct rtc {
    tes_device *dev;
    tes_timer *timer;
    uint8_t cmos[128];
    uint8_t index;
    bool nmi_masked;
    int64_t base_time; /* UTC seconds at base_ns */
    int64_t base_ns;   /* virtual ns of a whole second */
    int64_t next_pf, next_uf;
} rtc;

/* Time fields are 0..99 in the registers. A time the guest set may be
 * anything (day 0 of month 0 of year 0000 is a negative year once
 * normalized): fold every field into 0..99, so the registers stay valid
 * BCD and no negative value is shifted. */
static uint8_t to_reg(rtc *s, int v)
{
    unsigned u = (unsigned)(v % 100 + 100) % 100;

    return (s->cmos[REG_B] & B_DM_BINARY) ? u : (u / 10) << 4 | u % 10;
}

static int from_reg(rtc *s, uint8_t v)
{
    return (s->cmos[REG_B] & B_DM_BINARY) ? v : (v >> 4) * 10 + (v & 0xf);
}

static uint8_t hour_to_reg(rtc *s, int h)
{
    if (s->cmos[REG_B] & B_24H) {
        return to_reg(s, h);
    }
    return to_reg(s, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0);
}

static int hour_from_reg(rtc *s, uint8_t v)
{
    if (s->cmos[REG_B] & B_24H) {
        return from_reg(s, v);
    }
    return from_reg(s, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

static int64_t now_seconds(rtc *s, int64_t now)
{
    return s->base_time + (now - s->base_ns) / NS_PER_S;
}

/* Time registers from the running clock (not while SET holds them). */
static void refresh(rtc *s)
{
    time_t t;
    struct tm tm;

    if (s->cmos[REG_B] & B_SET) {
        return;
    }
    t = (time_t)now_seconds(s, H->clock_ns());
    if (!gmtime_r(&t, &tm)) {
        return; /* a year past int: keep what the registers hold */
    }
    s->cmos[0] = to_reg(s, tm.tm_sec);
    s->cmos[2] = to_reg(s, tm.tm_min);
    s->cmos[4] = hour_to_reg(s, tm.tm_hour);
    s->cmos[6] = to_reg(s, tm.tm_wday + 1);
    s->cmos[7] = to_reg(s, tm.tm_mday);
    s->cmos[8] = to_reg(s, tm.tm_mon + 1);
    s->cmos[9] = to_reg(s, tm.tm_year % 100);
    s->cmos[REG_CENTURY] = to_reg(s, (tm.tm_year + 1900) / 100);
}

/* The time registers become the clock's time; keeps the second's phase. */
static void commit(rtc *s)
{
    struct tm tm = {0};
    int64_t now = H->clock_ns();

    tm.tm_sec = from_reg(s, s->cmos[0]);
    tm.tm_min = from_reg(s, s->cmos[2]);
    tm.tm_hour = hour_from_reg(s, s->cmos[4]);
    tm.tm_mday = from_reg(s, s->cmos[7]);
    tm.tm_mon = from_reg(s, s->cmos[8]) - 1;
    tm.tm_year = from_reg(s, s->cmos[REG_CENTURY]) * 100 + from_reg(s, s->cmos[9]) - 1900;
    s->base_time = timegm(&tm);
    s->base_ns = now - (now - s->base_ns) % NS_PER_S;
}

/* ---- interrupts ---- */

static int64_t pf_period(rtc *s)
{
    int rs = s->cmos[REG_A] & 0xf;

    if (!rs) {
        return 0;
    }
    if (rs < 3) {
        rs += 7; /* rates 1 and 2 are 256 and 128 Hz (datasheet table 4) */
    }
    return NS_PER_S * (1ll << (rs - 1)) / 32768;
}

static int64_t next_boundary(rtc *s, int64_t now, int64_t period)
{
    return s->base_ns + ((now - s->base_ns) / period + 1) * period;
}

static void arm(rtc *s)
{
    int64_t now = H->clock_ns(), next = INT64_MAX;
    uint8_t b = s->cmos[REG_B];

    if ((b & B_PIE) && pf_period(s)) {
        s->next_pf = next_boundary(s, now, pf_period(s));
        next = s->next_pf;
    }
    if ((b & (B_AIE | B_UIE)) && !(b & B_SET)) {
        s->next_uf = next_boundary(s, now, NS_PER_S);
        next = s->next_uf < next ? s->next_uf : next;
    }
    if (next == INT64_MAX) {
        H->timer_del(s->timer);
    } else {
        H->timer_mod(s->timer, next);
    }
}

static void update_irq(rtc *s)
{
    if (s->cmos[REG_C] & s->cmos[REG_B] & (C_PF | C_AF | C_UF)) {
        s->cmos[REG_C] |= C_IRQF;
    }
    H->dev_set_irq(s->dev, 0, (s->cmos[REG_C] & C_IRQF) != 0);
}

static bool alarm_match(uint8_t alarm, uint8_t now)
{
    return (alarm & 0xc0) == 0xc0 || alarm == now;
}

static void rtc_fire(void *opaque)
{
    rtc *s = opaque;
    int64_t now = H->clock_ns();
    uint8_t b = s->cmos[REG_B];
    bool wake = false;

    if ((b & B_PIE) && now >= s->next_pf) {
        s->cmos[REG_C] |= C_PF;
    }
    if ((b & (B_AIE | B_UIE)) && now >= s->next_uf) {
        s->cmos[REG_C] |= C_UF;
        refresh(s);
        if (alarm_match(s->cmos[1], s->cmos[0]) && alarm_match(s->cmos[3], s->cmos[2]) &&
            alarm_match(s->cmos[5], s->cmos[4])) {
            s->cmos[REG_C] |= C_AF;
            wake = (b & B_AIE) != 0;
        }
    }
    update_irq(s);
    if (wake) {
        H->dev_set_irq(s->dev, 1, 1);
        H->dev_set_irq(s->dev, 1, 0);
    }
    arm(s);
}

/* ---- registers ---- */

static uint8_t read_a(rtc *s)
{
    int64_t phase = (H->clock_ns() - s->base_ns) % NS_PER_S;
    uint8_t a = s->cmos[REG_A] & 0x7f;

    if (!(s->cmos[REG_B] & B_SET) && phase >= NS_PER_S - UIP_NS) {
        a |= A_UIP;
    }
    return a;
}

static uint8_t cmos_read(rtc *s, uint8_t r)
{
    uint8_t v;

    switch (r) {
    case 0: case 2: case 4: case 6: case 7: case 8: case 9: case REG_CENTURY:
        refresh(s);
        return s->cmos[r];
    case REG_A: return read_a(s);
    case REG_C:
        v = s->cmos[REG_C];
        s->cmos[REG_C] = 0;
        update_irq(s);
        return v;
    case REG_D: return 0x80; /* VRT: the battery is fine */
    default: return s->cmos[r];
    }
}

static void write_b(rtc *s, uint8_t v)
{
    uint8_t old = s->cmos[REG_B];

    if ((v & B_SET) && !(old & B_SET)) {
        refresh(s); /* freeze the registers at the current time */
    }
    s->cmos[REG_B] = v;
    if (!(v & B_SET) && (old & B_SET)) {
        commit(s);
    }
    update_irq(s);
    arm(s);
}

static void cmos_write(rtc *s, uint8_t r, uint8_t v)
{
    switch (r) {
    case 0: case 2: case 4: case 6: case 7: case 8: case 9: case REG_CENTURY:
        refresh(s);
        s->cmos[r] = v;
        if (!(s->cmos[REG_B] & B_SET)) {
            commit(s);
            arm(s);
        }
        break;
    case REG_A: s->cmos[REG_A] = v & 0x7f; arm(s); break;
    case REG_B: write_b(s, v); break;
    case REG_C: case REG_D: break; /* read-only */
    default: s->cmos[r] = v; break;
    }
}

static uint64_t rtc_read(void *opaque, uint64_t off, unsigned size)
{
    rtc *s = opaque;

    return off == 0 ? 0xff : cmos_read(s, s->index);
}

static void rtc_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    rtc *s = opaque;

    if (off == 0) {
        s->index = val & 0x7f;
        s->nmi_masked = val & 0x80;
    } else {
        cmos_write(s, s->index, val);
    }
}

static const tes_mem_ops rtc_ops = {
    .size = sizeof(tes_mem_ops), .read = rtc_read, .write = rtc_write,
    .endian = TES_ENDIAN_LITTLE, .valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1,
};

/* ---- life cycle ---- */

static void rtc_reset(tes_device *dev, void *opaque)
{
    rtc *s = opaque;

    /* Only the interrupt enables and flags reset (datasheet "RESET"). */
    s->cmos[REG_B] &= ~(B_PIE | B_AIE | B_UIE | 0x08);
    s->cmos[REG_C] = 0;
    update_irq(s);
    arm(s);
}

static int rtc_realize(tes_device *dev, void *opaque)
{
    rtc *s = opaque;

    s->dev = dev;
    H->dev_init_irqs(dev, 2); /* IRQ8, the alarm's wake event */
    s->timer = H->timer_new(rtc_fire, s);
    s->base_time = (int64_t)time(NULL);
    s->base_ns = H->clock_ns();
    s->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
    s->cmos[REG_B] = B_24H;
    H->region_add(H->system_io(), 0x70, H->region_new_io(dev, "rtc", 2, &rtc_ops, s), 0);
    rtc_reset(dev, s);
    return 0;
}

static void rtc_unrealize(tes_device *dev, void *opaque)
{
    rtc *s = opaque;

    H->timer_free(s->timer);
}

/* Port 0x70 keeps 7 bits (cmos[index] must stay inside cmos); the time
 * base is a date the registers can express and a past virtual time, so
 * that now - base_ns and the sums after it cannot overflow. */
static int rtc_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    rtc *s = opaque;

    if (s->index > 0x7f || s->base_ns < 0 || s->base_ns > H->clock_ns() ||
        s->base_time < -(INT64_C(1) << 40) || s->base_time > (INT64_C(1) << 40)) {
        H->error(dev, "mc146818rtc: index 0x%x or time base %lld s at %lld ns in the stream "
                 "out of range", s->index, (long long)s->base_time, (long long)s->base_ns);
        return -1;
    }
    arm(opaque);
    return 0;
}

static const tes_state_field rtc_fields[] = {
    TES_FIELD_BYTES(rtc, cmos),
    TES_FIELD_U8(rtc, index),
    TES_FIELD_BOOL(rtc, nmi_masked),
    TES_FIELD_I64(rtc, base_time),
    TES_FIELD_I64(rtc, base_ns),
    TES_FIELD_END,
};

static const tes_state_info rtc_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = rtc_fields,
    .post_load = rtc_post_load,
};

const tes_type_info mc146818rtc_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "mc146818rtc",
    .flags = TES_TYPE_NO_USER, /* created by its board or host bridge */
    .desc = "MC146818 CMOS real-time clock and RAM",
    .instance_size = sizeof(rtc),
    .realize = rtc_realize,
    .unrealize = rtc_unrealize,
    .reset = rtc_reset,
    .state = &rtc_state,
};
