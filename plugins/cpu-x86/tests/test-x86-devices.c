/*
 * PC platform device tests through the harness: 8259 PIC, 8254 PIT and
 * port 0x61, CMOS RTC, 16550A UART, IOAPIC (plugins/pc-platform), local
 * APIC (timer, IPIs, INIT/SIPI, MSI; cpu-x86) and the i8042's reset. The
 * plugin files come from $PC_PLATFORM_PLUGIN and $CPU_X86_PLUGIN (meson
 * sets them). Devices are reached as a board reaches them: regions with
 * host->dev_mmio, input lines with host->dev_irq_in, outputs observed.
 *
 * Harness accesses run with no current vCPU, so LAPIC register accesses
 * reach CPU 0's LAPIC (apic.c). Interrupts accepted by a LAPIC are checked
 * in its IRR (struct x86_lapic, x86.h); the CPU's acknowledge (IRR to ISR)
 * is played by setting ISR bits where a test needs an EOI. HMP's info
 * lapic runs through the harness's QMP (human-monitor-command).
 */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tessera/harness.h>

#include "../x86.h"

#define IOAPIC_BASE 0xfec00000ull
#define LAPIC 0xfee00000ull
#define PIT_NS(ticks) ((int64_t)(ticks) * 1000000000ll / 1193182)

static const char *plugin_path, *platform_path;

typedef struct fixture {
    tes_harness *h;
    const tes_host *host;
    tes_device *dev;
    tes_cpu *cpu[2];
    x86_cpu *c[2];
    unsigned edges; /* rising edges seen on a watched output */
    int level;
} fixture;

static void up(fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->h = tes_harness_new(16 << 20);
    if (!tes_harness_load(f->h, plugin_path) || !tes_harness_load(f->h, platform_path)) {
        g_error("cpu-x86/pc-platform: %s", tes_harness_error(f->h));
    }
    f->host = tes_harness_host(f->h);
}

static tes_device *dev(fixture *f, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(f->h, type, props);

    if (!d) {
        g_error("%s: %s", type, tes_harness_error(f->h));
    }
    return d;
}

static void cpus_up(fixture *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        f->cpu[i] = tes_harness_cpu(f->h, "qemu64", i);
        g_assert_nonnull(f->cpu[i]);
        f->c[i] = tes_harness_cpu_state(f->cpu[i]);
        g_assert_nonnull(f->c[i]->lapic);
    }
}

static void down(fixture *f)
{
    tes_harness_free(f->h);
}

static uint8_t inb(fixture *f, uint16_t port)
{
    return tes_harness_io_read(f->h, port, 1);
}

static void outb(fixture *f, uint16_t port, uint8_t v)
{
    tes_harness_io_write(f->h, port, v, 1);
}

static uint32_t apic_rd(fixture *f, unsigned reg)
{
    return tes_harness_read(f->h, LAPIC + reg, 4);
}

static void apic_wr(fixture *f, unsigned reg, uint32_t v)
{
    tes_harness_write(f->h, LAPIC + reg, v, 4);
}

static bool irr(x86_cpu *c, int v)
{
    return (c->lapic->irr[v >> 5] >> (v & 31)) & 1;
}

/* Counts rising edges of a device output connected to it. */
static void edge_counter(void *opaque, int n, int level)
{
    fixture *f = opaque;

    if (level && !f->level) {
        f->edges++;
    }
    f->level = level;
}

static void watch_output(fixture *f, tes_device *d, unsigned idx)
{
    f->host->dev_connect_irq(d, idx, f->host->irq_new(edge_counter, f, 0));
}

/* ---- 8259 ---- */

static void pic_init(fixture *f)
{
    static const uint8_t master[] = {0x11, 0x30, 0x04, 0x01}, slave[] = {0x11, 0x38, 0x02, 0x01};

    outb(f, 0x20, master[0]);
    for (int i = 1; i < 4; i++) {
        outb(f, 0x21, master[i]);
    }
    outb(f, 0xa0, slave[0]);
    for (int i = 1; i < 4; i++) {
        outb(f, 0xa1, slave[i]);
    }
    outb(f, 0x21, 0x00);
    outb(f, 0xa1, 0x00);
}

static void pic_line(fixture *f, unsigned n, int level)
{
    f->host->irq_set(f->host->dev_irq_in(f->dev, n), level);
}

/* The master's INT: output 0 of the i8259. */
static bool pic_intr(fixture *f)
{
    return tes_harness_irq_level(f->h, f->dev, 0) != 0;
}

static void test_pic_irq_asserts_intr_and_ack(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "i8259", NULL);
    pic_init(&f);
    g_assert_false(pic_intr(&f));
    pic_line(&f, 3, 1);
    g_assert_true(pic_intr(&f));
    outb(&f, 0x20, 0x0a); /* OCW3: read IRR */
    g_assert_cmphex(inb(&f, 0x20), ==, 0x08);
    outb(&f, 0x20, 0x0c); /* OCW3: poll = acknowledge */
    g_assert_cmphex(inb(&f, 0x20), ==, 0x83);
    g_assert_false(pic_intr(&f)); /* in service: nothing above it pending */
    outb(&f, 0x20, 0x0b);         /* read ISR */
    g_assert_cmphex(inb(&f, 0x20), ==, 0x08);
    outb(&f, 0x20, 0x20);         /* non-specific EOI */
    g_assert_cmphex(inb(&f, 0x20), ==, 0x00);
    /* Edge: a line held high does not request again. */
    g_assert_false(pic_intr(&f));
    down(&f);
}

static void test_pic_mask_and_cascade(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "i8259", NULL);
    pic_init(&f);
    outb(&f, 0xa1, 0x04); /* mask IRQ 10 */
    pic_line(&f, 10, 1);
    g_assert_false(pic_intr(&f));
    outb(&f, 0xa1, 0x00);
    g_assert_true(pic_intr(&f));
    outb(&f, 0x20, 0x0c); /* master poll: the cascade input */
    g_assert_cmphex(inb(&f, 0x20), ==, 0x82);
    outb(&f, 0xa0, 0x0c); /* slave poll: IRQ 10 = slave input 2 */
    g_assert_cmphex(inb(&f, 0xa0), ==, 0x82);
    down(&f);
}

static void test_pic_elcr_level(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "i8259", NULL);
    pic_init(&f);
    outb(&f, 0x4d1, 0xff);
    g_assert_cmphex(inb(&f, 0x4d1), ==, 0xde); /* IRQ 8 and 13 are edge only */
    pic_line(&f, 11, 1);
    outb(&f, 0x20, 0x0c);
    g_assert_cmphex(inb(&f, 0x20), ==, 0x82);
    outb(&f, 0xa0, 0x0c);
    g_assert_cmphex(inb(&f, 0xa0), ==, 0x83);
    outb(&f, 0xa0, 0x20); /* EOI while still asserted: requests again */
    outb(&f, 0x20, 0x20);
    g_assert_true(pic_intr(&f));
    pic_line(&f, 11, 0);
    g_assert_false(pic_intr(&f));
    down(&f);
}

/* CPU 0 in real mode at 0x1000 runs STI; HLT; its IVT handler for vector
 * vec sets AL to 0x42 and halts. */
static void real_mode_waits_for(fixture *f, int vec)
{
    static const uint8_t code[] = {0xfb, 0xf4, 0xeb, 0xfe}; /* sti; hlt; jmp . */
    static const uint8_t handler[] = {0xb0, 0x42, 0xf4};     /* mov al, 0x42; hlt */
    uint8_t *ram = tes_harness_ram(f->h);

    memcpy(ram + 0x1000, code, sizeof(code));
    memcpy(ram + 0x2000, handler, sizeof(handler));
    memcpy(ram + vec * 4, (uint16_t[]){0x2000, 0}, 4);
    f->c[0]->seg[S_CS].base = 0;
    f->c[0]->seg[S_CS].sel = 0;
    f->c[0]->rip = 0x1000;
}

/* End to end on a real-mode vCPU: STI; HLT wakes on IRQ 3, the CPU takes
 * vector 0x33 from the 8259 (through the BSP's LINT0 in ExtINT mode) and
 * runs its IVT handler, which sets AL. */
static void test_pic_interrupt_reaches_cpu(void)
{
    fixture f;

    up(&f);
    cpus_up(&f, 1);
    f.dev = dev(&f, "i8259", NULL);
    /* As q35 wires it: the 8259's INT to the BSP's INTR input. */
    f.host->dev_connect_irq(f.dev, 0, f.host->cpu_irq_in(f.cpu[0], TES_X86_INTR));
    pic_init(&f);
    real_mode_waits_for(&f, 0x33);
    tes_harness_cpu_exec(f.h, f.cpu[0], 10, NULL);
    g_assert_cmphex(f.c[0]->regs[R_EAX] & 0xff, !=, 0x42);
    pic_line(&f, 3, 1);
    tes_harness_cpu_exec(f.h, f.cpu[0], 10, NULL);
    g_assert_cmphex(f.c[0]->regs[R_EAX] & 0xff, ==, 0x42);
    outb(&f, 0x20, 0x0b);
    g_assert_cmphex(inb(&f, 0x20), ==, 0x08); /* acknowledged: in service */
    down(&f);
}

/* ---- 8254 and port 0x61 ---- */

static void test_pit_mode2_periodic_irq0(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "i8254", NULL);
    watch_output(&f, f.dev, 0);
    outb(&f, 0x43, 0x34); /* counter 0, LSB then MSB, mode 2 */
    outb(&f, 0x40, 1193 & 0xff);
    outb(&f, 0x40, 1193 >> 8);
    tes_harness_clock_step(f.h, 10000000); /* 10 ms: periods of 999.85 us */
    g_assert_cmpuint(f.edges, ==, 10);
    outb(&f, 0x43, 0x30); /* mode 0 without a count: the timer stops */
    tes_harness_clock_step(f.h, 10000000);
    g_assert_cmpuint(f.edges, ==, 10);
    down(&f);
}

static void test_pit_mode0_one_shot(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "i8254", NULL);
    watch_output(&f, f.dev, 0);
    outb(&f, 0x43, 0x30);
    outb(&f, 0x40, 100);
    outb(&f, 0x40, 0);
    tes_harness_clock_step(f.h, PIT_NS(99));
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 0);
    tes_harness_clock_step(f.h, PIT_NS(2));
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 1);
    tes_harness_clock_step(f.h, PIT_NS(70000));
    g_assert_cmpuint(f.edges, ==, 1); /* once: mode 0 does not reload */
    down(&f);
}

/* pit_calibrate_tsc: gate 2 on, speaker off, counter 2 mode 0, poll OUT. */
static void test_pit_counter2_out_for_calibration(void)
{
    fixture f;
    uint8_t lsb, msb;

    up(&f);
    f.dev = dev(&f, "i8254", NULL);
    outb(&f, 0x61, (inb(&f, 0x61) & ~0x02) | 0x01);
    outb(&f, 0x43, 0xb0);
    outb(&f, 0x42, 11932 & 0xff); /* 10 ms */
    outb(&f, 0x42, 11932 >> 8);
    g_assert_cmphex(inb(&f, 0x61) & 0x21, ==, 0x01);
    tes_harness_clock_step(f.h, 9000000);
    g_assert_cmphex(inb(&f, 0x61) & 0x20, ==, 0);
    outb(&f, 0x43, 0x80); /* latch counter 2 */
    lsb = inb(&f, 0x42);
    msb = inb(&f, 0x42);
    g_assert_cmpuint(lsb | msb << 8, <=, 11932 - 10738);
    g_assert_cmpuint(lsb | msb << 8, >=, 11932 - 10740);
    tes_harness_clock_step(f.h, 1100000);
    g_assert_cmphex(inb(&f, 0x61) & 0x20, ==, 0x20);
    down(&f);
}

/* quick_pit_calibrate: count 0xffff, read LSB then MSB; MSB falls every 256 ticks. */
static void test_pit_counter2_msb_decrements(void)
{
    fixture f;
    uint8_t msb0, msb1;
    bool toggled = false;
    uint8_t r0;

    up(&f);
    f.dev = dev(&f, "i8254", NULL);
    outb(&f, 0x61, 0x01);
    outb(&f, 0x43, 0xb0);
    outb(&f, 0x42, 0xff);
    outb(&f, 0x42, 0xff);
    inb(&f, 0x42);
    msb0 = inb(&f, 0x42);
    g_assert_cmphex(msb0, ==, 0xff);
    tes_harness_clock_step(f.h, PIT_NS(256 * 5 + 1));
    inb(&f, 0x42);
    msb1 = inb(&f, 0x42);
    g_assert_cmphex(msb1, ==, 0xfa);
    /* Gate low stops counter 2 in mode 0. */
    outb(&f, 0x61, 0x00);
    tes_harness_clock_step(f.h, PIT_NS(256 * 10));
    inb(&f, 0x42);
    g_assert_cmphex(inb(&f, 0x42), ==, 0xfa);
    /* The refresh bit toggles as time passes. */
    r0 = inb(&f, 0x61) & 0x10;
    for (int i = 0; i < 4 && !toggled; i++) {
        tes_harness_clock_step(f.h, 15085);
        toggled = (inb(&f, 0x61) & 0x10) != r0;
    }
    g_assert_true(toggled);
    down(&f);
}

static void test_pit_readback_status(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "i8254", NULL);
    outb(&f, 0x43, 0x34);
    outb(&f, 0x43, 0xe2); /* read-back: status of counter 0 only */
    g_assert_cmphex(inb(&f, 0x40), ==, 0xf4); /* OUT high, null count, LSB+MSB, mode 2 */
    outb(&f, 0x40, 0x10);
    outb(&f, 0x40, 0x00);
    outb(&f, 0x43, 0xc2); /* read-back: count and status of counter 0 */
    g_assert_cmphex(inb(&f, 0x40), ==, 0xb4); /* status first, count loaded */
    g_assert_cmphex(inb(&f, 0x40), ==, 0x10);
    g_assert_cmphex(inb(&f, 0x40), ==, 0x00);
    down(&f);
}

/* ---- CMOS RTC ---- */

static uint8_t cmos(fixture *f, uint8_t r)
{
    outb(f, 0x70, r);
    return inb(f, 0x71);
}

static void cmos_set(fixture *f, uint8_t r, uint8_t v)
{
    outb(f, 0x70, r);
    outb(f, 0x71, v);
}

static bool is_bcd(uint8_t v)
{
    return (v & 0xf) < 10 && (v >> 4) < 10;
}

static void test_rtc_formats_and_host_time(void)
{
    fixture f;
    time_t t = time(NULL);
    struct tm tm;
    uint8_t year, min;

    up(&f);
    f.dev = dev(&f, "mc146818rtc", NULL);
    gmtime_r(&t, &tm);
    g_assert_cmphex(cmos(&f, 0x0d), ==, 0x80);
    g_assert_cmphex(cmos(&f, 0x0b) & 0x06, ==, 0x02); /* BCD, 24 h */
    year = cmos(&f, 0x09);
    g_assert_true(is_bcd(year) && is_bcd(cmos(&f, 0x00)) && is_bcd(cmos(&f, 0x04)));
    g_assert_cmpint((year >> 4) * 10 + (year & 0xf), ==, tm.tm_year % 100);
    g_assert_cmphex(cmos(&f, 0x32), ==, 0x20);
    cmos_set(&f, 0x0b, 0x06); /* binary, 24 h */
    min = cmos(&f, 0x02);
    g_assert_true(min == tm.tm_min || min == (tm.tm_min + 1) % 60);
    down(&f);
}

static void test_rtc_set_time_and_12h(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "mc146818rtc", NULL);
    cmos_set(&f, 0x0b, 0x82); /* SET, BCD, 24 h */
    cmos_set(&f, 0x00, 0x58);
    cmos_set(&f, 0x02, 0x59);
    cmos_set(&f, 0x04, 0x23);
    cmos_set(&f, 0x07, 0x31);
    cmos_set(&f, 0x08, 0x12);
    cmos_set(&f, 0x09, 0x99);
    cmos_set(&f, 0x32, 0x19);
    tes_harness_clock_step(f.h, 5000000000ll); /* frozen while SET */
    g_assert_cmphex(cmos(&f, 0x00), ==, 0x58);
    cmos_set(&f, 0x0b, 0x02);
    tes_harness_clock_step(f.h, 2000000000ll);
    g_assert_cmphex(cmos(&f, 0x00), ==, 0x00);
    g_assert_cmphex(cmos(&f, 0x04), ==, 0x00);
    g_assert_cmphex(cmos(&f, 0x07), ==, 0x01);
    g_assert_cmphex(cmos(&f, 0x08), ==, 0x01);
    g_assert_cmphex(cmos(&f, 0x09), ==, 0x00);
    g_assert_cmphex(cmos(&f, 0x32), ==, 0x20);
    cmos_set(&f, 0x0b, 0x00); /* 12 h: midnight is 12 AM */
    g_assert_cmphex(cmos(&f, 0x04), ==, 0x12);
    tes_harness_clock_step(f.h, 13 * 3600 * 1000000000ll);
    g_assert_cmphex(cmos(&f, 0x04), ==, 0x81); /* 1 PM */
    down(&f);
}

/* A guest may set any bytes as the time (found by fuzz-pc-platform: day
 * and month 0 of year 0000 made a negative year, whose BCD was garbage
 * and, in C, a left shift of a negative value). The registers always read
 * back in range: BCD digits, or binary 0..99. */
static void test_rtc_garbage_time_reads_back_in_range(void)
{
    static const uint8_t regs[] = {0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32};
    fixture f;

    up(&f);
    f.dev = dev(&f, "mc146818rtc", NULL);
    cmos_set(&f, 0x0b, 0x82); /* SET, BCD, 24 h */
    for (unsigned i = 0; i < G_N_ELEMENTS(regs); i++) {
        cmos_set(&f, regs[i], 0x00);
    }
    cmos_set(&f, 0x0b, 0x02); /* commit: the day before 0000-01-01 */
    for (unsigned i = 0; i < G_N_ELEMENTS(regs); i++) {
        g_assert_true(is_bcd(cmos(&f, regs[i])));
    }
    g_assert_cmphex(cmos(&f, 0x09), ==, 0x99);
    cmos_set(&f, 0x0b, 0x86); /* SET, binary */
    cmos_set(&f, 0x09, 0xff);
    cmos_set(&f, 0x32, 0xff);
    cmos_set(&f, 0x0b, 0x06);
    g_assert_cmpuint(cmos(&f, 0x09), <, 100);
    g_assert_cmpuint(cmos(&f, 0x32), <, 100);
    down(&f);
}

static void test_rtc_uip_before_update(void)
{
    fixture f;
    int64_t phase;
    uint8_t s0;

    up(&f);
    f.dev = dev(&f, "mc146818rtc", NULL);
    s0 = cmos(&f, 0x00);
    g_assert_cmphex(cmos(&f, 0x0a) & 0x80, ==, 0);
    /* Seconds roll over on whole virtual seconds from realize. */
    phase = 1000000000ll - 100000;
    tes_harness_clock_step(f.h, phase);
    g_assert_cmphex(cmos(&f, 0x0a), ==, 0xa6);
    g_assert_cmphex(cmos(&f, 0x00), ==, s0);
    tes_harness_clock_step(f.h, 200000);
    g_assert_cmphex(cmos(&f, 0x0a), ==, 0x26);
    g_assert_cmphex(cmos(&f, 0x00), !=, s0);
    down(&f);
}

static void test_rtc_periodic_irq_and_c_clears(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "mc146818rtc", NULL);
    watch_output(&f, f.dev, 0);
    cmos_set(&f, 0x0b, 0x42); /* PIE at 1024 Hz */
    tes_harness_clock_step(f.h, 1000000);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 1);
    g_assert_cmphex(cmos(&f, 0x0c), ==, 0xc0);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 0);
    for (int i = 0; i < 9; i++) {
        tes_harness_clock_step(f.h, 976563);
        cmos(&f, 0x0c);
    }
    g_assert_cmpuint(f.edges, >=, 9);
    g_assert_cmpuint(f.edges, <=, 11);
    down(&f);
}

/* ---- 16550A ---- */

#define COM1 0x3f8

/* The probe of Linux's 8250 autoconfig() and autoconfig_16550a(). */
static void test_serial_autoconfig_16550a(void)
{
    fixture f;
    uint8_t s1, s2;

    up(&f);
    f.dev = dev(&f, "isa-serial", NULL);
    outb(&f, COM1 + 7, 0xa5);
    g_assert_cmphex(inb(&f, COM1 + 7), ==, 0xa5);
    outb(&f, COM1 + 1, 0x00);
    g_assert_cmphex(inb(&f, COM1 + 1) & 0x0f, ==, 0);
    outb(&f, COM1 + 1, 0xff);
    g_assert_cmphex(inb(&f, COM1 + 1), ==, 0x0f);
    outb(&f, COM1 + 1, 0x00);
    outb(&f, COM1 + 4, 0x1a); /* loopback, OUT2, RTS */
    g_assert_cmphex(inb(&f, COM1 + 6) & 0xf0, ==, 0x90);
    outb(&f, COM1 + 4, 0x00);
    outb(&f, COM1 + 3, 0xbf);
    outb(&f, COM1 + 2, 0x00);
    outb(&f, COM1 + 3, 0x00);
    outb(&f, COM1 + 2, 0x01);
    g_assert_cmphex(inb(&f, COM1 + 2) >> 6, ==, 3); /* 16550A FIFOs */
    outb(&f, COM1 + 3, 0x80);
    g_assert_cmphex(inb(&f, COM1 + 2), !=, 0); /* no EFR: not a 16650V1 */
    outb(&f, COM1 + 3, 0xbf);
    g_assert_cmphex(inb(&f, COM1 + 2), !=, 0); /* not a 16650 */
    outb(&f, COM1 + 3, 0x00);
    outb(&f, COM1 + 2, 0x21);
    s1 = inb(&f, COM1 + 2) >> 5;
    outb(&f, COM1 + 2, 0x01);
    outb(&f, COM1 + 3, 0x80);
    outb(&f, COM1 + 2, 0x21);
    s2 = inb(&f, COM1 + 2) >> 5;
    outb(&f, COM1 + 2, 0x01);
    outb(&f, COM1 + 3, 0x00);
    g_assert_false(s1 == 6 && s2 == 7); /* not a 16750 */
    outb(&f, COM1 + 1, 0x40);
    g_assert_cmphex(inb(&f, COM1 + 1) & 0x40, ==, 0); /* not an XScale UART */
    g_assert_cmphex(inb(&f, COM1 + 5), ==, 0x60);
    g_assert_cmphex(inb(&f, 0x2f8 + 5), ==, 0xff); /* COM2: nothing there */
    down(&f);
}

/* serial8250_do_startup's UART_BUG_THRE test must see THRE re-asserted. */
static void test_serial_thre_interrupt_rearms(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "isa-serial", NULL);
    outb(&f, COM1 + 4, 0x08); /* OUT2 gates the PC's IRQ line */
    outb(&f, COM1 + 1, 0x02);
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 1);
    g_assert_cmphex(inb(&f, COM1 + 2), ==, 0x02);
    g_assert_cmphex(inb(&f, COM1 + 2), ==, 0x01); /* read cleared it */
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 0);
    outb(&f, COM1 + 1, 0x00);
    outb(&f, COM1 + 1, 0x02);
    g_assert_cmphex(inb(&f, COM1 + 2), ==, 0x02);
    outb(&f, COM1, 'x'); /* THR empties again at once */
    g_assert_cmphex(inb(&f, COM1 + 2), ==, 0x02);
    outb(&f, COM1 + 4, 0x00);
    outb(&f, COM1, 'y');
    g_assert_cmpint(tes_harness_irq_level(f.h, f.dev, 0), ==, 0); /* OUT2 off */
    down(&f);
}

static void test_serial_loopback_rx_fifo(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "isa-serial", NULL);
    outb(&f, COM1 + 2, 0x47); /* FIFO on, clear, trigger 4 */
    outb(&f, COM1 + 4, 0x10);
    outb(&f, COM1 + 1, 0x01);
    outb(&f, COM1, 'a');
    g_assert_cmphex(inb(&f, COM1 + 2), ==, 0xcc); /* below trigger: timeout */
    for (int i = 0; i < 3; i++) {
        outb(&f, COM1, 'b' + i);
    }
    g_assert_cmphex(inb(&f, COM1 + 2), ==, 0xc4);
    g_assert_cmphex(inb(&f, COM1 + 5) & 0x01, ==, 0x01);
    for (int i = 0; i < 4; i++) {
        g_assert_cmphex(inb(&f, COM1), ==, 'a' + i);
    }
    g_assert_cmphex(inb(&f, COM1 + 5), ==, 0x60);
    g_assert_cmphex(inb(&f, COM1 + 2), ==, 0xc1);
    down(&f);
}

/* ---- IOAPIC and LAPIC ---- */

static void ioapic_up(fixture *f)
{
    f->dev = dev(f, "ioapic", NULL);
    f->host->region_add(f->host->system_memory(), IOAPIC_BASE, f->host->dev_mmio(f->dev, 0), 0);
}

static uint32_t ioapic_rd(fixture *f, unsigned r)
{
    tes_harness_write(f->h, IOAPIC_BASE, r, 4);
    return tes_harness_read(f->h, IOAPIC_BASE + 0x10, 4);
}

static void ioapic_wr(fixture *f, unsigned r, uint32_t v)
{
    tes_harness_write(f->h, IOAPIC_BASE, r, 4);
    tes_harness_write(f->h, IOAPIC_BASE + 0x10, v, 4);
}

static void ioapic_pin_set(fixture *f, unsigned n, int level)
{
    f->host->irq_set(f->host->dev_irq_in(f->dev, n), level);
}

static void set_isr(x86_cpu *c, int v)
{
    c->lapic->irr[v >> 5] &= ~(1u << (v & 31));
    c->lapic->isr[v >> 5] |= 1u << (v & 31);
}

static void test_ioapic_registers(void)
{
    fixture f;

    up(&f);
    ioapic_up(&f);
    g_assert_cmphex(ioapic_rd(&f, 1), ==, 0x00170020);
    g_assert_cmphex(ioapic_rd(&f, 0x10), ==, 0x10000); /* masked at reset */
    ioapic_wr(&f, 0x10 + 2 * 5, 0xffffffff);
    g_assert_cmphex(ioapic_rd(&f, 0x10 + 2 * 5), ==, 0x1afff);
    ioapic_wr(&f, 0x11 + 2 * 5, 0xffffffff);
    /* bits 63:48: destination, or the VT-d remappable format's handle */
    g_assert_cmphex(ioapic_rd(&f, 0x11 + 2 * 5), ==, 0xffff0000);
    ioapic_wr(&f, 0, 0x02000000);
    g_assert_cmphex(ioapic_rd(&f, 0), ==, 0x02000000);
    down(&f);
}

static void test_ioapic_edge_and_level_remote_irr(void)
{
    fixture f;

    up(&f);
    cpus_up(&f, 2);
    ioapic_up(&f);
    apic_wr(&f, 0xf0, 0x1ff);
    ioapic_wr(&f, 0x10 + 2 * 2, 0x31); /* edge, fixed, physical dest 0 */
    ioapic_pin_set(&f, 2, 1);
    g_assert_true(irr(f.c[0], 0x31));
    g_assert_false(irr(f.c[1], 0x31));
    ioapic_wr(&f, 0x10 + 2 * 9, 0x8041); /* level */
    ioapic_wr(&f, 0x11 + 2 * 9, 0x01000000); /* to APIC ID 1 */
    ioapic_pin_set(&f, 9, 1);
    g_assert_true(irr(f.c[1], 0x41));
    g_assert_true(f.c[1]->lapic->tmr[2] & (1u << 1));
    g_assert_cmphex(ioapic_rd(&f, 0x10 + 2 * 9) & 0x4000, ==, 0x4000);
    /* CPU 1 takes it; EOI at its LAPIC (act as CPU 1: ISR set by hand,
     * EOI through the EOI register the IOAPIC also offers). */
    set_isr(f.c[1], 0x41);
    tes_harness_write(f.h, IOAPIC_BASE + 0x40, 0x41, 4);
    g_assert_true(irr(f.c[1], 0x41)); /* still asserted: delivered again */
    ioapic_pin_set(&f, 9, 0);
    tes_harness_write(f.h, IOAPIC_BASE + 0x40, 0x41, 4);
    g_assert_cmphex(ioapic_rd(&f, 0x10 + 2 * 9) & 0x4000, ==, 0);
    down(&f);
}

static void test_lapic_eoi_clears_remote_irr(void)
{
    fixture f;

    up(&f);
    cpus_up(&f, 1);
    ioapic_up(&f);
    apic_wr(&f, 0xf0, 0x1ff);
    ioapic_wr(&f, 0x10 + 2 * 10, 0x8051);
    ioapic_pin_set(&f, 10, 1);
    g_assert_true(irr(f.c[0], 0x51));
    set_isr(f.c[0], 0x51);
    g_assert_cmphex(apic_rd(&f, 0x100 + 0x20), ==, 1u << (0x51 - 0x40)); /* ISR word 2 */
    ioapic_pin_set(&f, 10, 0);
    apic_wr(&f, 0xb0, 0);
    g_assert_cmphex(apic_rd(&f, 0x120), ==, 0);
    g_assert_cmphex(ioapic_rd(&f, 0x10 + 2 * 10) & 0x4000, ==, 0);
    down(&f);
}

static void test_lapic_registers(void)
{
    fixture f;

    up(&f);
    cpus_up(&f, 2);
    g_assert_cmphex(apic_rd(&f, 0x30), ==, 0x00050014);
    g_assert_cmphex(apic_rd(&f, 0x20), ==, 0);
    g_assert_cmphex(apic_rd(&f, 0xf0), ==, 0xff);
    g_assert_cmphex(apic_rd(&f, 0xe0), ==, 0xffffffff);
    g_assert_cmphex(apic_rd(&f, 0x350), ==, 0x700); /* BSP: virtual wire */
    g_assert_cmphex(f.c[1]->lapic->id, ==, 0x01000000);
    g_assert_cmphex(f.c[1]->lapic->lvt[3], ==, 0x10000); /* AP: masked */
    apic_wr(&f, 0x80, 0x20);
    g_assert_cmphex(apic_rd(&f, 0xa0), ==, 0x20); /* PPR follows TPR */
    down(&f);
}

/* HMP through the harness's QMP: the text of the "return" member. */
static char *hmp(fixture *f, const char *line)
{
    g_autofree char *json = g_strdup_printf(
        "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"%s\"}}",
        line);
    char *r = tes_harness_qmp(f->h, json);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o;
    char *text;

    g_assert_true(json_parser_load_from_data(p, r, -1, NULL));
    free(r);
    o = json_node_get_object(json_parser_get_root(p));
    g_assert_true(json_object_has_member(o, "return"));
    text = g_strdup(json_object_get_string_member(o, "return"));
    return text;
}

/* An AP's LAPIC at reset, as QEMU 7.2's info lapic shows it (-M q35 -S). */
static const char lapic_ap_at_reset[] =
    "dumping local APIC state for CPU 1 \n\n"
    "LVT0\t 0x00010000 active-hi edge  masked                      Fixed  (vec 0)\n"
    "LVT1\t 0x00010000 active-hi edge  masked                      Fixed  (vec 0)\n"
    "LVTPC\t 0x00010000 active-hi edge  masked                      Fixed  (vec 0)\n"
    "LVTERR\t 0x00010000 active-hi edge  masked                      Fixed  (vec 0)\n"
    "LVTTHMR\t 0x00010000 active-hi edge  masked                      Fixed  (vec 0)\n"
    "LVTT\t 0x00010000 active-hi edge  masked         one-shot     Fixed  (vec 0)\n"
    "Timer\t DCR=0x0 (divide by 2) initial_count = 0 current_count = 0\n"
    "SPIV\t 0x000000ff APIC disabled, focus=off, spurious vec 255\n"
    "ICR\t 0x00000000 physical edge de-assert no-shorthand\n"
    "ICR2\t 0x00000000 cpu 0 (APIC ID)\n"
    "ESR\t 0x00000000\n"
    "ISR\t (none)\n"
    "IRR\t (none)\n"
    "\n"
    "APR 0x00 TPR 0x00 DFR 0x0f LDR 0x00 PPR 0x00\n";

static void test_lapic_info_lapic(void)
{
    char *out;
    fixture f;

    up(&f);
    cpus_up(&f, 2);
    out = hmp(&f, "info lapic 1");
    g_assert_cmpstr(out, ==, lapic_ap_at_reset);
    g_free(out);
    out = hmp(&f, "info lapic");
    g_assert_true(g_str_has_prefix(out, "dumping local APIC state for CPU 0 \n"));
    g_assert_nonnull(strstr(out, "\nLVT0\t 0x00000700 active-hi edge                              "
                                 "ExtINT (vec 0)\n")); /* virtual wire, unmasked */
    g_assert_nonnull(strstr(out, "\nLVT1\t 0x00000400 active-hi edge                              "
                                 "NMI   \n")); /* NMI: no vector shown */
    g_free(out);

    /* Enable, TPR 0x20, a periodic timer, LINT1 masked, level, active low; pin 10 of
     * the I/O APIC, level, vector 0x61 to CPU 0, which takes it (ISR);
     * then a self IPI of vector 0x51 stays pending below it (IRR). */
    ioapic_up(&f);
    apic_wr(&f, 0xf0, 0x1ff);
    apic_wr(&f, 0x80, 0x20);
    apic_wr(&f, 0x3e0, 0x0b);
    apic_wr(&f, 0x320, 0x20040);
    apic_wr(&f, 0x360, 0x1a400);
    ioapic_wr(&f, 0x10 + 2 * 10, 0x8061);
    real_mode_waits_for(&f, 0x61);
    ioapic_pin_set(&f, 10, 1);
    tes_harness_cpu_exec(f.h, f.cpu[0], 10, NULL);
    g_assert_cmphex(f.c[0]->regs[R_EAX] & 0xff, ==, 0x42);
    apic_wr(&f, 0x300, 0x44051); /* fixed, assert, self */

    out = hmp(&f, "info lapic 0");
    g_assert_nonnull(strstr(out, "\nLVT1\t 0x0001a400 active-lo level masked                      "
                                 "NMI   \n"));
    g_assert_nonnull(strstr(out, "\nLVTT\t 0x00020040 active-hi edge                 periodic     "
                                 "Fixed  (vec 64)\n"));
    g_assert_nonnull(strstr(out, "\nTimer\t DCR=0xb (divide by 1) initial_count = 0 "
                                 "current_count = 0\n"));
    g_assert_nonnull(strstr(out, "\nSPIV\t 0x000001ff APIC enabled, focus=off, "
                                 "spurious vec 255\n"));
    g_assert_nonnull(strstr(out, "\nICR\t 0x00044051 physical edge assert self\n"
                                 "ICR2\t 0x00000000\n"));
    g_assert_nonnull(strstr(out, "\nISR\t 97(level) \nIRR\t 81 \n"));
    g_assert_nonnull(strstr(out, "\nAPR 0x00 TPR 0x20 DFR 0x0f LDR 0x00 PPR 0x60\n"));
    g_free(out);

    out = hmp(&f, "info lapic 7");
    g_assert_cmpstr(out, ==, "No CPU available\n");
    g_free(out);
    out = hmp(&f, "info lapic one");
    g_assert_cmpstr(out, ==, "info lapic: invalid APIC ID 'one'\n");
    g_free(out);
    down(&f);
}

/* info pic: the 8259 pair's and the I/O APIC's state in QEMU's layout;
 * the reset lines are QEMU 7.2's for q35 (-S). */
static void test_info_pic(void)
{
    tes_device *pic, *io;
    char *out;
    fixture f;

    up(&f);
    cpus_up(&f, 1);
    pic = dev(&f, "i8259", NULL);
    ioapic_up(&f);
    io = f.dev;
    out = hmp(&f, "info pic");
    g_assert_true(g_str_has_prefix(
        out, "pic0: irr=00 imr=00 isr=00 hprio=0 irq_base=00 rr_sel=0 elcr=00 fnm=0\n"
             "pic1: irr=00 imr=00 isr=00 hprio=0 irq_base=00 rr_sel=0 elcr=00 fnm=0\n"
             "ioapic0: ver=0x20 id=0x00 sel=0x00\n"
             "  pin 0  0x0000000000010000 dest=0 vec=0   active-hi edge  masked fixed  "
             "physical\n"));
    g_assert_true(g_str_has_suffix(
        out, "  pin 23 0x0000000000010000 dest=0 vec=0   active-hi edge  masked fixed  physical\n"
             "  IRR      (none)\n"
             "  Remote IRR (none)\n"));
    g_free(out);

    /* 8259: IRQ 5 masked; IRQ 3 acknowledged (in service), then IRQ 4
     * requested below it; OCW3 left selecting ISR reads. */
    f.dev = pic;
    pic_init(&f);
    outb(&f, 0x21, 0x20);
    pic_line(&f, 3, 1);
    outb(&f, 0x20, 0x0c); /* poll = acknowledge */
    g_assert_cmphex(inb(&f, 0x20), ==, 0x83);
    pic_line(&f, 4, 1);
    outb(&f, 0x20, 0x0b);
    /* I/O APIC: pins 10 and 11 level and asserted (IRR follows a level
     * line); 10 delivered (remote IRR), 11 masked. */
    f.dev = io;
    apic_wr(&f, 0xf0, 0x1ff);
    ioapic_wr(&f, 0x10 + 2 * 10, 0x8061);
    ioapic_wr(&f, 0x10 + 2 * 11, 0x18071);
    ioapic_pin_set(&f, 10, 1);
    ioapic_pin_set(&f, 11, 1);
    out = hmp(&f, "info pic");
    g_assert_nonnull(strstr(out, "pic0: irr=10 imr=20 isr=08 hprio=0 irq_base=30 rr_sel=1 "
                                 "elcr=00 fnm=0\n"
                                 "pic1: irr=00 imr=00 isr=00 hprio=0 irq_base=38 rr_sel=0 "
                                 "elcr=00 fnm=0\n"));
    g_assert_nonnull(strstr(out, "ioapic0: ver=0x20 id=0x00 sel=0x26 (redir[11])\n"));
    g_assert_nonnull(strstr(out, "\n  pin 10 0x000000000000c061 dest=0 vec=97  active-hi level "
                                 "       fixed  physical\n"
                                 "  pin 11 0x0000000000018071 dest=0 vec=113 active-hi level "
                                 "masked fixed  physical\n"));
    g_assert_true(g_str_has_suffix(out, "  IRR      10 11 \n  Remote IRR 10 \n"));
    g_free(out);
    down(&f);
}

static void test_lapic_timer_one_shot_and_periodic(void)
{
    fixture f;

    up(&f);
    cpus_up(&f, 1);
    apic_wr(&f, 0xf0, 0x1ff);
    apic_wr(&f, 0x3e0, 0x0b);  /* divide by 1: 1 GHz */
    apic_wr(&f, 0x320, 0x40);  /* one-shot, vector 0x40 */
    apic_wr(&f, 0x380, 1000);
    tes_harness_clock_step(f.h, 400);
    g_assert_cmpuint(apic_rd(&f, 0x390), ==, 600);
    g_assert_false(irr(f.c[0], 0x40));
    tes_harness_clock_step(f.h, 600);
    g_assert_true(irr(f.c[0], 0x40));
    g_assert_cmpuint(apic_rd(&f, 0x390), ==, 0);
    f.c[0]->lapic->irr[2] = 0;
    tes_harness_clock_step(f.h, 5000);
    g_assert_false(irr(f.c[0], 0x40));
    /* Periodic, divide by 16: 16 us periods. */
    apic_wr(&f, 0x3e0, 0x03);
    apic_wr(&f, 0x320, 0x20041);
    apic_wr(&f, 0x380, 1000);
    for (int i = 0; i < 3; i++) {
        tes_harness_clock_step(f.h, 15999);
        g_assert_false(irr(f.c[0], 0x41));
        tes_harness_clock_step(f.h, 1);
        g_assert_true(irr(f.c[0], 0x41));
        f.c[0]->lapic->irr[2] = 0;
    }
    g_assert_cmpuint(apic_rd(&f, 0x390), ==, 1000);
    apic_wr(&f, 0x380, 0); /* stop */
    tes_harness_clock_step(f.h, 100000);
    g_assert_false(irr(f.c[0], 0x41));
    down(&f);
}

static void test_lapic_ipi_fixed_and_logical(void)
{
    fixture f;

    up(&f);
    cpus_up(&f, 2);
    apic_wr(&f, 0xf0, 0x1ff);
    apic_wr(&f, 0x310, 0x01000000);
    apic_wr(&f, 0x300, 0x4061); /* fixed, assert, physical dest 1 */
    g_assert_true(irr(f.c[1], 0x61));
    g_assert_false(irr(f.c[0], 0x61));
    g_assert_cmphex(apic_rd(&f, 0x300) & 0x1000, ==, 0); /* idle */
    /* Flat logical: CPU 1 has LDR bit 1. */
    f.c[1]->lapic->ldr = 0x02000000;
    apic_wr(&f, 0xd0, 0x01000000);
    apic_wr(&f, 0x310, 0x03000000);
    apic_wr(&f, 0x300, 0x4862);
    g_assert_true(irr(f.c[0], 0x62) && irr(f.c[1], 0x62));
    /* All excluding self. */
    apic_wr(&f, 0x300, 0xc4063);
    g_assert_true(irr(f.c[1], 0x63));
    g_assert_false(irr(f.c[0], 0x63));
    /* Illegal vector: ESR. */
    apic_wr(&f, 0x300, 0x44005);
    apic_wr(&f, 0x280, 0);
    down(&f);
}

static void test_lapic_init_sipi_starts_ap(void)
{
    fixture f;

    up(&f);
    cpus_up(&f, 2);
    apic_wr(&f, 0x310, 0x01000000);
    apic_wr(&f, 0x300, 0xc500); /* INIT, level, assert */
    g_assert_true(f.c[1]->wait_sipi);
    apic_wr(&f, 0x300, 0x8500); /* INIT de-assert: ignored */
    g_assert_true(f.c[1]->wait_sipi);
    apic_wr(&f, 0x300, 0x069a); /* STARTUP, vector 0x9a */
    g_assert_false(f.c[1]->wait_sipi);
    g_assert_cmphex(f.c[1]->seg[S_CS].sel, ==, 0x9a00);
    g_assert_cmphex(f.c[1]->seg[S_CS].base, ==, 0x9a000);
    g_assert_cmphex(f.c[1]->rip, ==, 0);
    f.c[1]->seg[S_CS].base = 0;
    apic_wr(&f, 0x300, 0x0611); /* a second SIPI is ignored */
    g_assert_cmphex(f.c[1]->seg[S_CS].base, ==, 0);
    g_assert_cmphex(f.c[1]->lapic->id, ==, 0x01000000); /* INIT keeps the ID */
    down(&f);
}

static void test_msi_write_delivers_vector(void)
{
    fixture f;

    up(&f);
    cpus_up(&f, 2);
    f.c[1]->lapic->svr = 0x1ff;
    tes_harness_write(f.h, LAPIC | (1 << 12), 0x4071, 4); /* dest 1, fixed, edge */
    g_assert_true(irr(f.c[1], 0x71));
    g_assert_false(irr(f.c[0], 0x71));
    tes_harness_write(f.h, LAPIC, 0x0472, 4); /* dest 0, NMI */
    g_assert_true(f.c[0]->nmi_pending);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 0); /* the LAPIC took them */
    down(&f);
}

/* ---- i8042 ---- */

static void test_i8042_self_test_and_reset(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "i8042", NULL);
    outb(&f, 0x64, 0xaa);
    g_assert_cmphex(inb(&f, 0x64) & 0x01, ==, 0x01);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x55);
    g_assert_cmphex(inb(&f, 0x64) & 0x01, ==, 0);
    outb(&f, 0x64, 0x60);
    outb(&f, 0x60, 0x00);
    outb(&f, 0x64, 0x20);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x00);
    outb(&f, 0x60, 0xf2); /* to the keyboard: ACK, MF2 id (untranslated) */
    g_assert_cmphex(inb(&f, 0x64) & 0x21, ==, 0x01);
    g_assert_cmphex(inb(&f, 0x60), ==, 0xfa);
    g_assert_cmphex(inb(&f, 0x60), ==, 0xab);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x83);
    g_assert_cmphex(inb(&f, 0x64) & 0x01, ==, 0);
    /* 0xfe asks the main loop for a reset; running it resets devices. */
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    outb(&f, 0x64, 0xfe);
    g_assert_true(g_main_context_pending(NULL));
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    outb(&f, 0x64, 0x20);
    /* command byte back to reset: as firmware leaves it, XLAT on */
    g_assert_cmphex(inb(&f, 0x60), ==, 0x47);
    down(&f);
}

/* The mouse behind 0xD4: reset, id 0, the IntelliMouse Explorer knock
 * (200, 200, 80) makes it id 4, as Linux's psmouse probes it. */
static void test_i8042_mouse_id(void)
{
    static const uint8_t knock[] = {0xf3, 200, 0xf3, 200, 0xf3, 80};
    fixture f;

    up(&f);
    f.dev = dev(&f, "i8042", NULL);
    outb(&f, 0x64, 0xd4);
    outb(&f, 0x60, 0xff);
    g_assert_cmphex(inb(&f, 0x64) & 0x21, ==, 0x21); /* aux data */
    g_assert_cmphex(inb(&f, 0x60), ==, 0xfa);
    g_assert_cmphex(inb(&f, 0x60), ==, 0xaa);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x00);
    for (size_t i = 0; i < sizeof(knock); i++) {
        outb(&f, 0x64, 0xd4);
        outb(&f, 0x60, knock[i]);
        g_assert_cmphex(inb(&f, 0x60), ==, 0xfa);
    }
    outb(&f, 0x64, 0xd4);
    outb(&f, 0x60, 0xf2);
    g_assert_cmphex(inb(&f, 0x60), ==, 0xfa);
    /* The id byte still queued and the mouse type cross a migration. */
    f.dev = tes_harness_migrate(f.h, f.dev, NULL);
    g_assert_nonnull(f.dev);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x04);
    outb(&f, 0x64, 0xd4);
    outb(&f, 0x60, 0xf2);
    g_assert_cmphex(inb(&f, 0x60), ==, 0xfa);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x04);
    /* The keyboard's scancode set through the translation: 0x41 (set 2). */
    outb(&f, 0x60, 0xf0);
    g_assert_cmphex(inb(&f, 0x60), ==, 0xfa);
    outb(&f, 0x60, 0x00);
    g_assert_cmphex(inb(&f, 0x60), ==, 0xfa);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x41);
    down(&f);
}

static void qmp_ok(fixture *f, const char *json)
{
    char *r = tes_harness_qmp(f->h, json);

    g_assert_nonnull(strstr(r, "\"return\""));
    free(r);
}

/* Keys and motion from the monitor: the keyboard sends set 1 through the
 * translation (A: 0x1e, 0x9e), the enabled mouse a 3-byte packet with Y
 * up as positive. */
static void test_i8042_keys_and_motion(void)
{
    fixture f;

    up(&f);
    f.dev = dev(&f, "i8042", NULL);
    outb(&f, 0x60, 0xf4);
    g_assert_cmphex(inb(&f, 0x60), ==, 0xfa);
    qmp_ok(&f, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
               "{\"type\":\"key\",\"data\":{\"down\":true,\"key\":"
               "{\"type\":\"qcode\",\"data\":\"a\"}}},"
               "{\"type\":\"key\",\"data\":{\"down\":false,\"key\":"
               "{\"type\":\"qcode\",\"data\":\"a\"}}}]}}");
    g_assert_cmphex(inb(&f, 0x64) & 0x21, ==, 0x01);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x1e);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x9e);
    g_assert_cmphex(inb(&f, 0x64) & 0x01, ==, 0);
    outb(&f, 0x64, 0xd4);
    outb(&f, 0x60, 0xf4);
    g_assert_cmphex(inb(&f, 0x60), ==, 0xfa);
    qmp_ok(&f, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
               "{\"type\":\"rel\",\"data\":{\"axis\":\"x\",\"value\":10}},"
               "{\"type\":\"rel\",\"data\":{\"axis\":\"y\",\"value\":-5}}]}}");
    g_assert_cmphex(inb(&f, 0x64) & 0x21, ==, 0x21);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x08);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x0a);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x05);
    g_assert_cmphex(inb(&f, 0x64) & 0x01, ==, 0);
    down(&f);
}

/* A section of type with one field forged: refused with one line. The
 * RTC index was used as cmos[index] (a 128-byte array) unchecked. */
static void forged_refused(const char *type, const char *field, unsigned index,
                           uint64_t value, const char *want)
{
    fixture f;
    size_t len;
    void *blob;
    const char *err;

    up(&f);
    f.dev = dev(&f, type, NULL);
    blob = tes_harness_state_save(f.h, f.dev, &len);
    g_assert_nonnull(blob);
    g_assert_true(tes_harness_state_poke(f.dev, blob, len, field, index, value));
    g_assert_cmpint(tes_harness_state_load(f.h, f.dev, blob, len), <, 0);
    err = tes_harness_error(f.h);
    g_assert_nonnull(strstr(err, want));
    g_assert_null(strchr(err, '\n'));
    free(blob);
    down(&f);
}

static void test_cpu_refuses_forged_state(void)
{
    static const struct {
        const char *field;
        uint64_t value;
    } bad[] = {{"cc_op", 200}, {"cpl", 7}, {"fpstt", 9}};

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        fixture f;
        size_t len;
        void *blob;

        up(&f);
        cpus_up(&f, 1);
        f.dev = f.host->cpu_dev(f.cpu[0]);
        blob = tes_harness_state_save(f.h, f.dev, &len);
        g_assert_true(tes_harness_state_poke(f.dev, blob, len, bad[i].field, 0, bad[i].value));
        g_assert_cmpint(tes_harness_state_load(f.h, f.dev, blob, len), <, 0);
        g_assert_nonnull(strstr(tes_harness_error(f.h), "in the stream out of range"));
        free(blob);
        down(&f);
    }
}

static void test_pc_devices_refuse_forged_state(void)
{
    forged_refused("mc146818rtc", "index", 0, 0xff, "index 0xff");
    forged_refused("mc146818rtc", "base_ns", 0, (uint64_t)INT64_MIN, "time base");
    forged_refused("i8254", "ch", 2, 0x01, "channel 0"); /* reload 0x10000 */
    forged_refused("i8259", "chip", 5, 0xff, "ELCR masks 0xff");
    forged_refused("ioapic", "regsel", 0, 0x1234, "IOREGSEL 0x1234");
}

/* ---- trace points: QEMU's serial_* and pckbd_* lines, our pit_ioport_*
 * and serial_irq, once switched on ---- */

static void trace_on(fixture *f, const char *name)
{
    g_autofree char *json = g_strdup_printf("{\"execute\": \"trace-event-set-state\", "
                                            "\"arguments\": {\"name\": \"%s\", "
                                            "\"enable\": true}}", name);
    g_autofree char *r = tes_harness_qmp(f->h, json);

    g_assert_nonnull(strstr(r, "\"return\""));
}

static void test_pc_trace_points(void)
{
    fixture f;
    const char *log;

    up(&f);
    dev(&f, "isa-serial", NULL);
    dev(&f, "i8042", NULL);
    dev(&f, "i8254", NULL);
    tes_harness_log_capture(f.h, TES_LOG_TRACE);
    outb(&f, COM1 + 7, 0xa5);
    g_assert_cmpstr(tes_harness_log_text(f.h), ==, "");
    trace_on(&f, "serial_*");
    trace_on(&f, "pckbd_*");
    trace_on(&f, "pit_ioport_*");
    outb(&f, COM1 + 7, 0x5a);
    g_assert_cmphex(inb(&f, COM1 + 7), ==, 0x5a);
    outb(&f, COM1 + 4, 0x08); /* OUT2 */
    outb(&f, COM1 + 1, 0x02); /* THRE interrupt: the line rises */
    outb(&f, 0x64, 0xaa);
    g_assert_cmphex(inb(&f, 0x60), ==, 0x55);
    outb(&f, 0x43, 0x34);
    log = tes_harness_log_text(f.h);
    g_assert_nonnull(strstr(log, "serial_write write addr 0x7 val 0x5a\n"));
    g_assert_nonnull(strstr(log, "serial_read read addr 0x7 val 0x5a\n"));
    g_assert_nonnull(strstr(log, "serial_irq level 1\n"));
    g_assert_nonnull(strstr(log, "pckbd_kbd_write_command 0xaa\n"));
    g_assert_nonnull(strstr(log, "pckbd_kbd_read_data 0x55\n"));
    g_assert_nonnull(strstr(log, "pit_ioport_write addr 0x3 size 1 val 0x34\n"));
    down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    plugin_path = g_getenv("CPU_X86_PLUGIN");
    platform_path = g_getenv("PC_PLATFORM_PLUGIN");
    if (!plugin_path || !platform_path) {
        g_printerr("usage: CPU_X86_PLUGIN=cpu-x86.so PC_PLATFORM_PLUGIN=pc-platform.so %s\n",
                   argv[0]);
        return 2;
    }
    g_test_add_func("/x86-dev/pic/irq-asserts-intr-and-poll-acks", test_pic_irq_asserts_intr_and_ack);
    g_test_add_func("/x86-dev/pic/interrupt-reaches-real-mode-cpu", test_pic_interrupt_reaches_cpu);
    g_test_add_func("/x86-dev/pic/mask-and-cascade", test_pic_mask_and_cascade);
    g_test_add_func("/x86-dev/pic/elcr-level-requests-until-lowered", test_pic_elcr_level);
    g_test_add_func("/x86-dev/info-pic/8259-pair-and-ioapic-in-qemu-layout", test_info_pic);
    g_test_add_func("/x86-dev/pit/mode2-raises-irq0-periodically", test_pit_mode2_periodic_irq0);
    g_test_add_func("/x86-dev/pit/mode0-raises-irq0-once", test_pit_mode0_one_shot);
    g_test_add_func("/x86-dev/pit/counter2-out-for-tsc-calibration",
                    test_pit_counter2_out_for_calibration);
    g_test_add_func("/x86-dev/pit/counter2-msb-decrements-gate-stops",
                    test_pit_counter2_msb_decrements);
    g_test_add_func("/x86-dev/pit/read-back-status", test_pit_readback_status);
    g_test_add_func("/x86-dev/rtc/bcd-binary-and-host-time", test_rtc_formats_and_host_time);
    g_test_add_func("/x86-dev/rtc/set-time-rolls-over-and-12h", test_rtc_set_time_and_12h);
    g_test_add_func("/x86-dev/rtc/garbage-time-reads-back-in-range",
                    test_rtc_garbage_time_reads_back_in_range);
    g_test_add_func("/x86-dev/rtc/uip-only-just-before-update", test_rtc_uip_before_update);
    g_test_add_func("/x86-dev/rtc/periodic-irq-and-c-read-clears",
                    test_rtc_periodic_irq_and_c_clears);
    g_test_add_func("/x86-dev/serial/linux-autoconfig-finds-16550a", test_serial_autoconfig_16550a);
    g_test_add_func("/x86-dev/serial/thre-interrupt-rearms", test_serial_thre_interrupt_rearms);
    g_test_add_func("/x86-dev/serial/loopback-rx-fifo-and-trigger", test_serial_loopback_rx_fifo);
    g_test_add_func("/x86-dev/ioapic/registers", test_ioapic_registers);
    g_test_add_func("/x86-dev/ioapic/edge-and-level-remote-irr",
                    test_ioapic_edge_and_level_remote_irr);
    g_test_add_func("/x86-dev/apic/eoi-of-level-vector-clears-remote-irr",
                    test_lapic_eoi_clears_remote_irr);
    g_test_add_func("/x86-dev/apic/registers-at-reset", test_lapic_registers);
    g_test_add_func("/x86-dev/apic/info-lapic-shows-lvt-timer-isr-irr-tpr",
                    test_lapic_info_lapic);
    g_test_add_func("/x86-dev/apic/timer-one-shot-and-periodic",
                    test_lapic_timer_one_shot_and_periodic);
    g_test_add_func("/x86-dev/apic/ipi-fixed-logical-and-shorthand",
                    test_lapic_ipi_fixed_and_logical);
    g_test_add_func("/x86-dev/apic/init-sipi-starts-ap-at-vector-page",
                    test_lapic_init_sipi_starts_ap);
    g_test_add_func("/x86-dev/apic/msi-write-delivers-vector", test_msi_write_delivers_vector);
    g_test_add_func("/x86-dev/i8042/self-test-and-0xfe-resets", test_i8042_self_test_and_reset);
    g_test_add_func("/x86-dev/i8042/mouse-id-and-scancode-set", test_i8042_mouse_id);
    g_test_add_func("/x86-dev/i8042/keys-and-motion", test_i8042_keys_and_motion);
    g_test_add_func("/x86-dev/migration/refuses-forged-state", test_pc_devices_refuse_forged_state);
    g_test_add_func("/x86-dev/migration/cpu-refuses-forged-state", test_cpu_refuses_forged_state);
    g_test_add_func("/x86-dev/trace/serial-pckbd-pit-lines", test_pc_trace_points);
    return g_test_run();
}
