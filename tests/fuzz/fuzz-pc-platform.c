/*
 * Fuzz target: the PC platform devices (plugins/pc-platform) through the
 * harness, wired as q35 wires them: the 8259 pair, the I/O APIC (MMIO at
 * 0xfec00000, its messages land in the harness's MSI window), the 8254 and
 * port 0x61, the CMOS RTC, a 16550A at 0x3f8, the i8042 and ICH9-LPC (its
 * ACPI PM block at 0x600, SMI_EN at 0x630, the TCO watchdog at 0x660 and
 * GCS in its RCRB at 0xfed1c000 + 0x3410). The PIT, RTC and UART drive 8259 and I/O APIC
 * inputs, so timer steps reach the interrupt controllers; the RTC's alarm
 * drives the PM block's RTC_STS input, as the boards wire it, and the
 * board's resume pulse (input 2) is one of the actions.
 *
 * Beyond the generic actions (fuzz-dev.h): port writes in bursts (a guest's
 * init sequences: ICW1..4, PIT mode + count, RTC index + data), pulses on
 * ICH9-LPC's inputs (the board's, GPE0 bits as memory hotplug raises them,
 * a line past the last), the TCO watchdog armed as iTCO_wdt arms it (a few
 * ticks, TCO_EN and NO_REBOOT as the input says) and seconds of virtual
 * time run through its expiries (the watchdog action's QMP events are
 * drained), and the spec check: after a system reset the I/O APIC reads
 * its version and masked entries, the UART's scratch register holds what
 * is written, and the TCO block reads its reset values (TCO_LOCK gone).
 */
#include <stdlib.h>

#include "fuzz-dev.h"

#define IOAPIC 0xfec00000ull
#define GCS (0xfed1c000ull + 0x3410)
#define TCO 0x660

static const struct {
    uint16_t port, size;
} ports[] = {
    {0x20, 2}, {0xa0, 2}, {0x4d0, 2}, {0x40, 4}, {0x61, 1}, {0x70, 2},
    {0x3f8, 8}, {0x60, 1}, {0x64, 1}, {0x600, 0x80},
};

static tes_device *create(fz *f, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(f->h, type, props);

    if (!d) {
        fz_fail(f, "%s: %s", type, tes_harness_error(f->h));
    }
    return d;
}

static void map_ioapic(fz *f, tes_device *d)
{
    f->host->region_add(f->host->system_memory(), IOAPIC, f->host->dev_mmio(d, 0), 0);
}

/* ICH9-LPC's index in f->dev (migration replaces the instance; the old
 * one's inputs, the RTC's alarm wire among them, go dead with it). */
static unsigned lpc_idx;

/* output idx of from -> input n of to */
static void wire(fz *f, tes_device *from, unsigned idx, tes_device *to, unsigned n)
{
    f->host->dev_connect_irq(from, idx, f->host->dev_irq_in(to, n));
}

static void setup(fz *f)
{
    tes_device *pic = create(f, "i8259", NULL);
    tes_device *ioapic = create(f, "ioapic", NULL);
    tes_device *pit = create(f, "i8254", NULL);
    tes_device *rtc = create(f, "mc146818rtc", NULL);
    tes_device *uart = create(f, "isa-serial", NULL);
    tes_device *kbd = create(f, "i8042", NULL);
    tes_device *lpc = create(f, "ICH9-LPC", "addr=1f.0");

    map_ioapic(f, ioapic);
    wire(f, pit, 0, pic, 0);
    wire(f, rtc, 0, ioapic, 8);
    wire(f, uart, 0, pic, 4);
    wire(f, rtc, 1, lpc, 1);
    fz_window_add(f, IOAPIC, 0x20, false);
    fz_window_add(f, GCS - 0x10, 0x20, false);
    for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        fz_window_add(f, ports[i].port, ports[i].size, true);
    }
    /* Platform devices keep their place: their ports are the board's. */
    fz_device_fixed(f, fz_device_add(f, pic, NULL));
    fz_device_add(f, ioapic, map_ioapic);
    fz_device_fixed(f, fz_device_add(f, pit, NULL));
    fz_device_fixed(f, fz_device_add(f, rtc, NULL));
    fz_device_fixed(f, fz_device_add(f, uart, NULL));
    fz_device_fixed(f, fz_device_add(f, kbd, NULL));
    lpc_idx = fz_device_add(f, lpc, NULL);
}

/* A burst of byte writes to one device's ports: init sequences. */
static void burst(fz *f)
{
    unsigned d = fz_u8(f) % (sizeof(ports) / sizeof(ports[0]));
    unsigned n = 1 + fz_u8(f) % 8;

    for (unsigned i = 0; i < n; i++) {
        uint8_t sel = fz_u8(f);

        tes_harness_io_write(f->h, ports[d].port + sel % ports[d].size, fz_u8(f), 1);
    }
}

static uint32_t ioapic_rd(fz *f, unsigned r)
{
    tes_harness_write(f->h, IOAPIC, r, 4);
    return tes_harness_read(f->h, IOAPIC + 0x10, 4);
}

static void spec_check(fz *f)
{
    uint8_t v = fz_u8(f);
    uint32_t got;

    tes_harness_reset(f->h);
    if ((got = ioapic_rd(f, 1)) != 0x00170020) {
        fz_fail(f, "ioapic: version reads 0x%x after reset", got);
    }
    for (unsigned pin = 0; pin < 24; pin++) {
        if (!((got = ioapic_rd(f, 0x10 + 2 * pin)) & 0x10000)) {
            fz_fail(f, "ioapic: pin %u not masked after reset (0x%x)", pin, got);
        }
    }
    tes_harness_io_write(f->h, 0x3ff, v, 1);
    if ((got = tes_harness_io_read(f->h, 0x3ff, 1)) != v) {
        fz_fail(f, "isa-serial: scratch register reads 0x%x, wrote 0x%x", got, v);
    }
    if (f->dev[lpc_idx] &&
        ((got = tes_harness_io_read(f->h, TCO + 0x08, 4)) != 0x00080000 ||
         tes_harness_io_read(f->h, TCO + 0x12, 2) != 4 || tes_harness_read(f->h, GCS, 4) != 0)) {
        fz_fail(f, "ICH9-LPC: TCO1_CNT/TCO2_CNT read 0x%x, TCO_TMR or GCS not reset", got);
    }
}

/* The TCO watchdog as iTCO_wdt drives it, then up to 9 s of virtual time:
 * expiries, SMIs, the watchdog action (its QMP events drained, or the
 * harness would keep them all). TCO_RLD never reads more than 10 bits. */
static void tco(fz *f)
{
    uint8_t v = fz_u8(f), t = fz_u8(f);
    uint64_t rld;

    tes_harness_io_write(f->h, 0x630, v & 1 ? 0x2020 : 0x20, 4);
    tes_harness_write(f->h, GCS, v & 2 ? 0x20 : 0, 4);
    tes_harness_io_write(f->h, TCO + 0x12, t % 8, 2);
    tes_harness_io_write(f->h, TCO, 1, 2);
    tes_harness_io_write(f->h, TCO + 0x08, v & 4 ? 0x1000 : 0, 2);
    tes_harness_clock_step(f->h, (int64_t)(v >> 3) * 300000000);
    if ((rld = tes_harness_io_read(f->h, TCO, 2)) > 0x3ff) {
        fz_fail(f, "ICH9-LPC: TCO_RLD reads 0x%llx", (unsigned long long)rld);
    }
    free(tes_harness_qmp_events(f->h));
}

/* What the board does: the power button (0), the RTC alarm line (1), the
 * resume before a wakeup's reset (2), GPE0 bits (3 + n: memory hotplug
 * pulses bit 3), and a line past the last; a reset may follow. */
static void pulse_pm(fz *f)
{
    uint8_t v = fz_u8(f);
    tes_device *lpc = f->dev[lpc_idx];
    tes_irq *in = lpc ? f->host->dev_irq_in(lpc, v % 20) : NULL;

    if (in) {
        f->host->irq_set(in, 1);
        f->host->irq_set(in, 0);
    }
    if (v & 0x80) {
        tes_harness_reset(f->h);
    }
}

static void op(fz *f, unsigned i)
{
    switch (i) {
    case 0:
    case 1:
        burst(f);
        break;
    case 2:
        spec_check(f);
        break;
    case 3:
        pulse_pm(f);
        break;
    case 4:
        tco(f);
        break;
    }
}

static const fz_target pc_target = {
    .plugins = {"pc-platform", NULL},
    .ram_size = 1 << 20,
    .setup = setup,
    .n_ops = 5,
    .op = op,
};

FZ_TARGET(pc_target)
