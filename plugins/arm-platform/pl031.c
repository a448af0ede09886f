/*
 * pl031: the ARM PrimeCell Real Time Clock PL031 (ARM DDI 0224), for
 * Linux's rtc-pl031 driver.
 *
 *   -device pl031,addr=A,irq=N
 *
 * No properties of its own; addr and irq place it on a board that places
 * platform devices (<tessera/platform.h>). A platform device: one 4 KiB
 * region (host->dev_mmio(dev, 0)) and interrupt output 0 (level: RIS &
 * IMSC); DT "arm,pl031", "arm,primecell" with the apb_pclk clock.
 *
 * The counter (RTCDR) starts at the host's wall-clock time (UTC seconds)
 * when the device is realized and then follows the virtual clock, so it
 * stops while the guest is paused and migrates with the machine: the
 * stream carries the offset between the counter and the virtual clock.
 * Writing RTCLR loads the counter. When the counter reaches RTCMR, RIS
 * bit 0 is set (a virtual-clock timer fires at that second). RTCCR bit 0
 * reads as one: the counter always runs (writing 0 is ignored, as on the
 * real part, which can only be started).
 */
#include <time.h>

#include "platform.h"
#include "plat-trace.h"

#define PL031_SIZE 0x1000
#define NS_PER_SEC 1000000000ll

typedef struct pl031 {
    tes_region *mmio;
    tes_device *dev;
    tes_timer *alarm;

    /* Counter = tick_offset + clock_ns() / 1e9 (32 bits, wrapping). */
    int64_t tick_offset;
    uint32_t mr, imsc, ris;
} pl031;

static const uint8_t pl031_id[8] = {0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

static uint32_t counter(pl031 *s)
{
    return (uint32_t)(s->tick_offset + H->clock_ns() / NS_PER_SEC);
}

static void update_irq(pl031 *s)
{
    H->dev_set_irq(s->dev, 0, (s->ris & s->imsc & 1) != 0);
}

/* Arm the timer for the next second at which the counter equals MR. */
static void arm_alarm(pl031 *s)
{
    int64_t now = H->clock_ns();
    uint32_t ticks = s->mr - counter(s); /* seconds until the match, mod 2^32 */
    int64_t next_sec = now / NS_PER_SEC + (ticks ? ticks : 1ll << 32);

    H->timer_mod(s->alarm, next_sec * NS_PER_SEC);
}

static void alarm_fired(void *opaque)
{
    pl031 *s = opaque;

    s->ris |= 1;
    update_irq(s);
    arm_alarm(s); /* the counter matches again after it wraps */
}

static uint64_t pl031_read(void *opaque, uint64_t off, unsigned size)
{
    pl031 *s = opaque;

    if (off >= 0xfe0 && off < 0x1000) {
        return pl031_id[(off - 0xfe0) / 4];
    }
    switch (off) {
    case 0x00: return counter(s);
    case 0x04: return s->mr;
    case 0x08: return counter(s); /* RTCLR reads the counter as loaded */
    case 0x0c: return 1;          /* RTCCR: started */
    case 0x10: return s->imsc;
    case 0x14: return s->ris;
    case 0x18: return s->ris & s->imsc;
    }
    H->log(TES_LOG_GUEST_ERROR, "pl031: read of unknown register 0x%llx",
           (unsigned long long)off);
    return 0;
}

static void pl031_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    pl031 *s = opaque;
    uint32_t v = val;

    switch (off) {
    case 0x04:
        s->mr = v;
        arm_alarm(s);
        return;
    case 0x08:
        s->tick_offset = (int64_t)v - H->clock_ns() / NS_PER_SEC;
        arm_alarm(s);
        return;
    case 0x0c: return;
    case 0x10: s->imsc = v & 1; break;
    case 0x1c: s->ris &= ~(v & 1); break;
    default:
        H->log(TES_LOG_GUEST_ERROR, "pl031: write of 0x%x to %s register 0x%llx", v,
               off == 0x00 || off == 0x14 || off == 0x18 || off >= 0xfe0 ? "read-only"
                                                                          : "unknown",
               (unsigned long long)off);
        return;
    }
    update_irq(s);
}

TES_TRACE_RW_WRAP(pl031, pl031_read, pl031_write, pl031_read, pl031_write)

static const tes_mem_ops pl031_ops = {
    .size = sizeof(tes_mem_ops),
    .read = pl031_traced_read,
    .write = pl031_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 4, .valid_max = 4,
    .impl_min = 4, .impl_max = 4,
};

static void pl031_reset(tes_device *dev, void *opaque)
{
    pl031 *s = opaque;

    /* The counter keeps time across a reset, as a battery-backed RTC. */
    s->mr = s->imsc = s->ris = 0;
    arm_alarm(s);
    update_irq(s);
}

static int pl031_realize(tes_device *dev, void *opaque)
{
    pl031 *s = opaque;

    s->dev = dev;
    s->mmio = H->region_new_io(dev, "pl031", PL031_SIZE, &pl031_ops, s);
    H->dev_init_mmio(dev, s->mmio);
    H->dev_init_irqs(dev, 1);
    s->alarm = H->timer_new(alarm_fired, s);
    s->tick_offset = (int64_t)time(NULL) - H->clock_ns() / NS_PER_SEC;
    pl031_reset(dev, s);
    return 0;
}

static void pl031_unrealize(tes_device *dev, void *opaque)
{
    pl031 *s = opaque;

    H->timer_free(s->alarm);
}

/* The virtual clock migrates with the machine, so the offset stays right. */
static int pl031_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    pl031 *s = opaque;

    /* A write of LR leaves a u32 minus at most 2^33 s of clock: a larger
     * offset would overflow counter()'s sum. */
    if (s->tick_offset > (INT64_C(1) << 40) || s->tick_offset < -(INT64_C(1) << 40) ||
        s->imsc > 1 || s->ris > 1) {
        H->error(dev, "pl031: tick_offset %lld, imsc %u or ris %u in the stream out of range",
                 (long long)s->tick_offset, s->imsc, s->ris);
        return -1;
    }

    arm_alarm(s);
    update_irq(s);
    return 0;
}

static const tes_state_field pl031_fields[] = {
    TES_FIELD_I64(pl031, tick_offset),
    TES_FIELD_U32(pl031, mr),
    TES_FIELD_U32(pl031, imsc),
    TES_FIELD_U32(pl031, ris),
    TES_FIELD_END,
};

static const tes_state_info pl031_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = pl031_fields,
    .post_load = pl031_post_load,
};

static const tes_platform_info pl031_platform = {
    .size = sizeof(tes_platform_info),
    .magic = TES_PLATFORM_MAGIC,
    .compatible = "arm,pl031\0arm,primecell\0",
    .node_name = "pl031",
    .num_mmio = 1,
    .num_irqs = 1,
    .clock_names = "apb_pclk\0",
};

const tes_type_info pl031_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "pl031",
    .desc = "ARM PrimeCell PL031 real time clock",
    .bus = NULL,
    .instance_size = sizeof(pl031),
    .props = NULL,
    .realize = pl031_realize,
    .unrealize = pl031_unrealize,
    .reset = pl031_reset,
    .state = &pl031_state,
    .class_info = &pl031_platform,
};
