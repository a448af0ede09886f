/*
 * Migration round trips of the PC platform devices (migtest.h): the
 * 16550A with a THR-empty interrupt pending and its receive FIFO half
 * read, the 8254 mid-count, the RTC with a periodic interrupt armed and
 * its flag unread, the 8259 pair with a request not yet taken, the IOAPIC
 * with a level interrupt in service (remote IRR), the i8042 with a reply
 * half read, the ACPI PM block of PIIX4_PM with an SCI up, ICH9-LPC's
 * TCO watchdog mid-countdown (a first expiry taken, the second due), and
 * the x86 host bridges: the i440FX with PAM half way through shadowing the
 * BIOS and SMRAM locked, CONFIG_ADDRESS (0xcf8) and RST_CNT (0xcf9) of
 * i440FX-pcihost and q35-pcihost latched across the cut.
 */
#include <stdlib.h>
#include <string.h>

#include "migtest.h"

#define COM1 0x3f8

/* ---- 16550A ---- */

static void uart_build(mt *m)
{
    mt_dev(m, "isa-serial", NULL);
}

/* 8N1 at 9600, FIFOs on, every interrupt enabled, OUT2 (the ISA line). */
static void uart_program(mt *m)
{
    mt_out(m, COM1 + 3, 0x80, 1);
    mt_out(m, COM1 + 0, 12, 1);
    mt_out(m, COM1 + 1, 0, 1);
    mt_out(m, COM1 + 3, 0x03, 1);
    mt_out(m, COM1 + 2, 0x07, 1);
    mt_out(m, COM1 + 7, 0x5a, 1);
    mt_out(m, COM1 + 4, 0x08, 1); /* OUT2: the ISA line */
    mt_out(m, COM1 + 1, 0x0f, 1); /* THRE pending, IIR not read */
}

/* IIR read (THRE taken); a byte out, THRE pending again; loopback on. */
static void uart_tx1(mt *m)
{
    mt_in(m, COM1 + 2, 1);
    mt_out(m, COM1, 'a', 1);
    mt_in(m, COM1 + 5, 1);
    mt_out(m, COM1 + 4, 0x08 | 0x10, 1);
    mt_out(m, COM1, 'a', 1);
}

/* Two more into the receive FIFO; read one: half of it left. */
static void uart_tx2(mt *m)
{
    mt_out(m, COM1, 'b', 1);
    mt_out(m, COM1, 'c', 1);
    mt_in(m, COM1, 1);
}

static void uart_drain(mt *m)
{
    for (int i = 0; i < 4; i++) {
        mt_in(m, COM1 + 2, 1);
        mt_in(m, COM1 + 5, 1);
        mt_in(m, COM1, 1);
    }
    mt_in(m, COM1 + 7, 1);
    mt_out(m, COM1 + 3, 0x80, 1);
    mt_in(m, COM1, 1);
    mt_out(m, COM1 + 3, 0x03, 1);
    mt_in(m, COM1 + 4, 1);
    mt_in(m, COM1 + 6, 1);
}

static const mt_case uart = {
    .name = "isa-serial",
    .plugins = {"pc-platform"},
    .build = uart_build,
    .steps = {uart_program, uart_tx1, uart_tx2, uart_drain},
};

/* ---- 8254 ---- */

static void pit_build(mt *m)
{
    mt_dev(m, "i8254", NULL);
}

/* Channel 0 rate generator (mode 2) of 1000 ticks, channel 2 one-shot
 * gated by port 0x61. */
static void pit_program(mt *m)
{
    mt_out(m, 0x43, 0x34, 1);
    mt_out(m, 0x40, 1000 & 0xff, 1);
    mt_out(m, 0x40, 1000 >> 8, 1);
    mt_out(m, 0x61, 0x01, 1);
    mt_out(m, 0x43, 0xb0, 1); /* channel 2, lo/hi, mode 0 */
    mt_out(m, 0x42, 0x00, 1);
    mt_out(m, 0x42, 0x10, 1);
    mt_clock(m, 300000);
}

static void pit_latch(mt *m)
{
    mt_out(m, 0x43, 0x00, 1);
    mt_in(m, 0x40, 1);
    mt_clock(m, 123456);
    mt_in(m, 0x40, 1); /* the latched high byte, not the count now */
    mt_in(m, 0x61, 1);
}

static void pit_run(mt *m)
{
    mt_clock(m, 2500000);
    mt_out(m, 0x43, 0xe2, 1); /* read-back: status and count of channel 0 */
    mt_in(m, 0x40, 1);
    mt_in(m, 0x40, 1);
    mt_in(m, 0x40, 1);
    mt_in(m, 0x61, 1);
}

static void pit_end(mt *m)
{
    mt_clock(m, 4000000);
    mt_out(m, 0x43, 0x80, 1);
    mt_in(m, 0x42, 1);
    mt_in(m, 0x42, 1);
    mt_in(m, 0x61, 1);
}

static const mt_case pit = {
    .name = "i8254",
    .plugins = {"pc-platform"},
    .build = pit_build,
    .steps = {pit_program, pit_latch, pit_run, pit_end},
};

/* ---- MC146818 ---- */

static void rtc_build(mt *m)
{
    mt_dev(m, "mc146818rtc", NULL);
}

static uint8_t cmos_rd(mt *m, uint8_t reg)
{
    mt_out(m, 0x70, reg, 1);
    return (uint8_t)mt_in(m, 0x71, 1);
}

static void cmos_wr(mt *m, uint8_t reg, uint8_t v)
{
    mt_out(m, 0x70, reg, 1);
    mt_out(m, 0x71, v, 1);
}

/* Periodic interrupt every 1/1024 s (rate 6), CMOS RAM written. */
static void rtc_program(mt *m)
{
    cmos_wr(m, 0x40, 0xa5);
    cmos_wr(m, 0x41, 0x5a);
    cmos_wr(m, 0x0a, 0x26);
    cmos_wr(m, 0x0b, 0x02 | 0x40);
    cmos_rd(m, 0x0b);
    mt_clock(m, 500000);
}

/* The first period ends: IRQF up, C not read. */
static void rtc_fire(mt *m)
{
    mt_clock(m, 600000);
}

static void rtc_ack(mt *m)
{
    cmos_rd(m, 0x0c);
    cmos_rd(m, 0x0c);
    mt_clock(m, 976562 / 2);
    mt_out(m, 0x70, 0x41, 1); /* index left set across the cut */
}

static void rtc_more(mt *m)
{
    mt_in(m, 0x71, 1);
    mt_clock(m, 976563);
    cmos_rd(m, 0x0c);
    cmos_rd(m, 0x40);
    cmos_rd(m, 0x0a);
}

static const mt_case rtc = {
    .name = "mc146818rtc",
    .plugins = {"pc-platform"},
    .build = rtc_build,
    .steps = {rtc_program, rtc_fire, rtc_ack, rtc_more},
};

/* ---- 8259 pair ---- */

static void pic_build(mt *m)
{
    mt_dev(m, "i8259", NULL);
}

static void pic_init(mt *m)
{
    mt_out(m, 0x20, 0x11, 1);
    mt_out(m, 0x21, 0x20, 1);
    mt_out(m, 0x21, 0x04, 1);
    mt_out(m, 0x21, 0x01, 1);
    mt_out(m, 0xa0, 0x11, 1);
    mt_out(m, 0xa1, 0x28, 1);
    mt_out(m, 0xa1, 0x02, 1);
    mt_out(m, 0xa1, 0x01, 1);
    mt_out(m, 0x21, 0xf8 & ~0x08, 1); /* IRQ0..3 */
    mt_out(m, 0xa1, 0xfe & ~0x10, 1); /* IRQ8, IRQ12 */
    mt_out(m, 0x4d1, 0x10, 1); /* IRQ12 level */
}

/* Requests on IRQ3 (edge) and IRQ12 (level): INT up, nothing taken. */
static void pic_raise(mt *m)
{
    mt_irq_in(m, m->dev[0], 3, 1);
    mt_irq_in(m, m->dev[0], 12, 1);
    mt_out(m, 0x20, 0x0a, 1); /* OCW3: read IRR */
    mt_in(m, 0x20, 1);
    mt_out(m, 0xa0, 0x0a, 1);
    mt_in(m, 0xa0, 1);
}

/* Poll (an acknowledge): the cascade first; ISR left set. */
static void pic_poll(mt *m)
{
    mt_out(m, 0x20, 0x0c, 1);
    mt_in(m, 0x20, 1);
    mt_out(m, 0xa0, 0x0c, 1);
    mt_in(m, 0xa0, 1);
    mt_out(m, 0x20, 0x0b, 1); /* OCW3: read ISR next */
}

static void pic_eoi(mt *m)
{
    mt_in(m, 0x20, 1);
    mt_out(m, 0xa0, 0x20, 1);
    mt_out(m, 0x20, 0x20, 1);
    mt_irq_in(m, m->dev[0], 12, 0);
    mt_out(m, 0x20, 0x0c, 1);
    mt_in(m, 0x20, 1);
    mt_out(m, 0x20, 0x20, 1);
    mt_in(m, 0x21, 1);
    mt_in(m, 0xa1, 1);
    mt_in(m, 0x4d1, 1);
}

static const mt_case pic = {
    .name = "i8259",
    .plugins = {"pc-platform"},
    .build = pic_build,
    .steps = {pic_init, pic_raise, pic_poll, pic_eoi},
};

/* ---- IOAPIC ---- */

#define IOAPIC 0xfec00000ull

static void ioapic_build(mt *m)
{
    mt_map(m, mt_dev(m, "ioapic", NULL), 0, IOAPIC);
}

static void rte_wr(mt *m, unsigned pin, uint64_t v)
{
    mt_wr(m, IOAPIC, 0x10 + 2 * pin, 4);
    mt_wr(m, IOAPIC + 0x10, (uint32_t)v, 4);
    mt_wr(m, IOAPIC, 0x11 + 2 * pin, 4);
    mt_wr(m, IOAPIC + 0x10, v >> 32, 4);
}

static void rte_rd(mt *m, unsigned pin)
{
    mt_wr(m, IOAPIC, 0x10 + 2 * pin, 4);
    mt_rd(m, IOAPIC + 0x10, 4);
    mt_wr(m, IOAPIC, 0x11 + 2 * pin, 4);
    mt_rd(m, IOAPIC + 0x10, 4);
}

/* Pin 9 level, masked, asserted; pin 4 edge. */
static void ioapic_program(mt *m)
{
    rte_wr(m, 9, 0x0100000000000000ull | 0x18000 | 0x39);
    rte_wr(m, 4, 0x0200000000000000ull | 0x34);
    mt_irq_in(m, m->dev[0], 9, 1);
    rte_rd(m, 9);
}

/* Unmasked: delivered, remote IRR set, in service. */
static void ioapic_unmask(mt *m)
{
    rte_wr(m, 9, 0x0100000000000000ull | 0x08000 | 0x39);
    mt_irq_in(m, m->dev[0], 4, 1);
    rte_rd(m, 9);
}

/* The EOI: still asserted, delivered again; then lowered and EOI'd. */
static void ioapic_eoi(mt *m)
{
    mt_wr(m, IOAPIC + 0x40, 0x39, 4);
    rte_rd(m, 9);
    mt_irq_in(m, m->dev[0], 9, 0);
    mt_irq_in(m, m->dev[0], 4, 0);
}

static void ioapic_end(mt *m)
{
    mt_wr(m, IOAPIC + 0x40, 0x39, 4);
    rte_rd(m, 9);
    rte_rd(m, 4);
    mt_wr(m, IOAPIC, 0x01, 4);
    mt_rd(m, IOAPIC + 0x10, 4);
}

static const mt_case ioapic = {
    .name = "ioapic",
    .plugins = {"pc-platform"},
    .build = ioapic_build,
    .steps = {ioapic_program, ioapic_unmask, ioapic_eoi, ioapic_end},
};

/* ---- i8042 ---- */

static void kbc_build(mt *m)
{
    mt_dev(m, "i8042", NULL);
}

/* Command byte with both interrupts; the keyboard's identify: an ACK and
 * two id bytes queued, the first in the output buffer. */
static void kbc_identify(mt *m)
{
    mt_out(m, 0x64, 0x60, 1);
    mt_out(m, 0x60, 0x03 | 0x04, 1);
    mt_out(m, 0x64, 0xa8, 1);
    mt_out(m, 0x60, 0xf2, 1);
    mt_in(m, 0x64, 1);
}

static void kbc_read1(mt *m)
{
    mt_in(m, 0x60, 1);
    mt_in(m, 0x64, 1);
}

/* The rest; then the mouse: its identify half read. */
static void kbc_mouse(mt *m)
{
    mt_in(m, 0x60, 1);
    mt_in(m, 0x60, 1);
    mt_out(m, 0x64, 0xd4, 1);
    mt_out(m, 0x60, 0xf2, 1);
    mt_in(m, 0x64, 1);
    mt_in(m, 0x60, 1);
}

static void kbc_end(mt *m)
{
    for (int i = 0; i < 3; i++) {
        mt_in(m, 0x64, 1);
        mt_in(m, 0x60, 1);
    }
    mt_out(m, 0x64, 0x20, 1);
    mt_in(m, 0x60, 1);
}

static const mt_case kbc = {
    .name = "i8042",
    .plugins = {"pc-platform"},
    .build = kbc_build,
    .steps = {kbc_identify, kbc_read1, kbc_mouse, kbc_end},
};

/* ---- PIIX4_PM's ACPI block ---- */

static void pm_build(mt *m)
{
    mt_dev(m, "PIIX4_PM", "addr=1.3");
}

/* Power button enabled and pressed: SCI up; a GPE enabled. */
static void pm_press(mt *m)
{
    mt_out(m, 0x602, 0x0100, 2);
    mt_out(m, 0xafe2, 0x02, 1);
    mt_irq_in(m, m->dev[0], 0, 1);
    mt_irq_in(m, m->dev[0], 0, 0);
    mt_in(m, 0x600, 2);
    mt_clock(m, 1000000);
}

static void pm_read(mt *m)
{
    mt_in(m, 0x608, 4);
    mt_in(m, 0x604, 2);
    mt_in(m, 0xafe2, 1);
}

static void pm_clear(mt *m)
{
    mt_out(m, 0x600, 0x0100, 2);
    mt_in(m, 0x600, 2);
    mt_in(m, 0x602, 2);
    mt_clock(m, 12345);
    mt_in(m, 0x608, 4);
}

static const mt_case pm = {
    .name = "PIIX4_PM",
    .plugins = {"pc-platform"},
    .build = pm_build,
    .steps = {pm_press, pm_read, pm_clear},
};

/* ---- ICH9-LPC's ACPI block (GPE0 at 0x620) and PIIX3's PIRQ routing ---- */

static void lpc_build(mt *m)
{
    mt_dev(m, "ICH9-LPC", "addr=1f.0");
}

/* Power button and a GPE enabled; the button pressed: SCI up. */
static void lpc_press(mt *m)
{
    mt_out(m, 0x602, 0x0100, 2);
    mt_out(m, 0x628, 0x02, 1);
    mt_irq_in(m, m->dev[0], 0, 1);
    mt_irq_in(m, m->dev[0], 0, 0);
    mt_in(m, 0x600, 2);
    mt_clock(m, 2000000);
}

static void lpc_read(mt *m)
{
    mt_in(m, 0x608, 4);
    mt_in(m, 0x628, 1);
    mt_cfg_rd(m, m->dev[0], 0x40, 4);
    mt_cfg_rd(m, m->dev[0], 0x44, 1);
}

static const mt_case lpc = {
    .name = "ICH9-LPC",
    .plugins = {"pc-platform"},
    .build = lpc_build,
    .steps = {lpc_press, lpc_read, pm_clear},
};

/* ---- ICH9-LPC's TCO watchdog (ich9-tco.c) ---- */

#define TCO 0x660
#define TICK 600000000ll

/* The QMP WATCHDOG events since the last look (their timestamps differ
 * between runs: only the actions are recorded). */
static void tco_events(mt *m)
{
    char *ev = tes_harness_qmp_events(m->h);
    unsigned n = 0;

    for (char *p = ev; (p = strstr(p, "\"WATCHDOG\",\"data\":{\"action\":\"reset\"}")); p++) {
        n++;
    }
    mt_note(m, "WATCHDOG reset events %u", n);
    free(ev);
}

/* TCO_EN on, 6 ticks, started as iTCO_wdt starts it; 1.5 ticks go by. */
static void tco_arm(mt *m)
{
    tco_events(m);
    mt_out(m, 0x630, 0x2020, 4);
    mt_out(m, TCO + 0x12, 6, 2);
    mt_out(m, TCO, 1, 2);
    mt_out(m, TCO + 0x08, 0, 2);
    mt_clock(m, TICK + TICK / 2);
    mt_in(m, TCO, 2);
}

/* The first expiry: TIMEOUT, TCO_STS in SMI_STS, reloaded. */
static void tco_first(mt *m)
{
    mt_clock(m, 5 * TICK);
    mt_in(m, TCO + 0x04, 4);
    mt_in(m, 0x634, 4);
    mt_in(m, TCO, 2);
    mt_out(m, TCO + 0x0c, 0xa5, 1);
    mt_rd(m, 0xfed1c000 + 0x3410, 4);
}

static void tco_mid(mt *m)
{
    mt_clock(m, 2 * TICK);
    mt_in(m, TCO, 2);
    mt_out(m, TCO + 0x02, 0x11, 1); /* TCO_DAT_IN: SW_TCO_SMI */
    mt_in(m, TCO + 0x04, 2);
}

/* The second expiry: SECOND_TO_STS, BOOT_STS, the watchdog action. */
static void tco_second(mt *m)
{
    mt_clock(m, 4 * TICK);
    tco_events(m);
    mt_in(m, TCO + 0x04, 4);
    mt_in(m, TCO, 2);
}

/* NO_REBOOT set: two more expiries do not act. */
static void tco_noreboot(mt *m)
{
    mt_wr(m, 0xfed1c000 + 0x3410, 0x20, 4);
    mt_out(m, TCO + 0x04, 0x0008, 2);
    mt_out(m, TCO + 0x06, 0x0006, 2);
    mt_out(m, TCO + 0x08, 0, 2);
    mt_clock(m, 13 * TICK);
    tco_events(m);
    mt_in(m, TCO + 0x04, 4);
    mt_in(m, TCO, 2);
    mt_in(m, TCO + 0x0c, 1);
}

static const mt_case tco = {
    .name = "ICH9-LPC-tco",
    .plugins = {"pc-platform"},
    .build = lpc_build,
    .steps = {tco_arm, tco_first, tco_mid, tco_second, tco_noreboot},
};

static void piix3_build(mt *m)
{
    mt_dev(m, "PIIX3", "addr=1.0");
}

/* PIRQ A..D routed to ISA IRQs 10, 11, off, 5; other registers. */
static void piix3_route(mt *m)
{
    mt_cfg_wr(m, m->dev[0], 0x60, 0x05800b0a, 4);
    mt_cfg_wr(m, m->dev[0], 0x69, 0x03, 1);
    mt_cfg_rd(m, m->dev[0], 0x60, 4);
}

static void piix3_more(mt *m)
{
    mt_cfg_wr(m, m->dev[0], 0x62, 0x0e, 1);
    mt_cfg_rd(m, m->dev[0], 0x60, 4);
}

static void piix3_end(mt *m)
{
    mt_cfg_rd(m, m->dev[0], 0x60, 4);
    mt_cfg_rd(m, m->dev[0], 0x68, 4);
    mt_cfg_rd(m, m->dev[0], 0x04, 4);
}

static const mt_case piix3 = {
    .name = "PIIX3",
    .plugins = {"pc-platform"},
    .build = piix3_build,
    .steps = {piix3_route, piix3_more, piix3_end},
};

/* ---- the host bridges: i440FX, i440FX-pcihost, q35-pcihost and mch ---- */

#define PAM0 0x59
#define SMRAM 0x72

/* What the CPU reads in the BIOS area: 0xf0000 (PAM0), 0xc0000 and
 * 0xc4000 (PAM1's two halves), 0xec000 (PAM6's upper half). */
static void bios_area(mt *m)
{
    mt_rd(m, 0xf0000, 4);
    mt_rd(m, 0xf0010, 8);
    mt_rd(m, 0xc0000, 4);
    mt_rd(m, 0xc4000, 4);
    mt_rd(m, 0xec000, 4);
    mt_ram(m, 0xc0000, 0x40000);
}

/* Shadow RAM that differs from the (empty) ROM, as firmware finds it. */
static void fill_shadow(mt *m)
{
    for (uint64_t a = 0xc0000; a < 0x100000; a += 4) {
        mt_put32(m, a, (uint32_t)(a * 2654435761u));
    }
}

static void i440fx_build(mt *m)
{
    mt_dev(m, "i440FX", "addr=00.0");
}

/* Firmware half way through shadowing: 0xf0000 write-only to RAM (reads
 * still the ROM) and copied into, 0xc0000 read-only RAM, 0xc4000 the RAM
 * itself; SMRAM open. */
static void i440fx_shadow(mt *m)
{
    tes_device *f = m->dev[0];

    fill_shadow(m);
    mt_cfg_wr(m, f, PAM0, 0x20, 1);
    mt_cfg_wr(m, f, PAM0 + 1, 0x31, 1);
    mt_wr(m, 0xf0010, 0x1122334455667788ull, 8);
    mt_wr(m, 0xc0000, 0xdeadbeef, 4); /* RE only: dropped */
    mt_wr(m, 0xc4000, 0xfeedf00d, 4);
    mt_cfg_wr(m, f, SMRAM, 0x48, 1); /* D_OPEN | G_SMRAME */
    mt_cfg_rd(m, f, PAM0, 4);
    mt_cfg_rd(m, f, SMRAM, 1);
    bios_area(m);
}

/* The copy done: 0xf0000 read-only RAM; SMRAM closed and locked. */
static void i440fx_lock(mt *m)
{
    tes_device *f = m->dev[0];

    mt_cfg_wr(m, f, PAM0, 0x10, 1);
    mt_wr(m, 0xf0000, 0x55, 1); /* RE only: dropped */
    mt_cfg_wr(m, f, PAM0 + 6, 0x30, 1);
    mt_wr(m, 0xec000, 0x600dcafe, 4);
    mt_cfg_wr(m, f, SMRAM, 0x1a, 1); /* D_LCK | G_SMRAME | C_BASE_SEG */
    mt_cfg_rd(m, f, PAM0, 4);
    mt_cfg_rd(m, f, PAM0 + 4, 4);
    bios_area(m);
}

/* Locked: only D_CLS moves; the map stays as PAM says. */
static void i440fx_locked(mt *m)
{
    tes_device *f = m->dev[0];

    mt_cfg_wr(m, f, SMRAM, 0x60, 1); /* D_OPEN | D_CLS */
    mt_cfg_rd(m, f, SMRAM, 1);
    mt_cfg_wr(m, f, SMRAM, 0x00, 1);
    mt_cfg_rd(m, f, SMRAM, 1);
    mt_cfg_wr(m, f, PAM0 + 1, 0x00, 1);
    bios_area(m);
}

static const mt_case i440fx = {
    .name = "i440FX",
    .plugins = {"board-pc"},
    .build = i440fx_build,
    .steps = {i440fx_shadow, i440fx_lock, i440fx_locked},
};

/* Mechanism #1 as a driver uses it: CONFIG_ADDRESS latched once, then
 * CONFIG_DATA at 0xcfc + (reg & 3). */
static void cf8(mt *m, unsigned devfn, unsigned reg)
{
    mt_out(m, 0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc), 4);
}

/* The host bridge alone (id=host: its root bus is host.0, the harness's
 * own being pci.0): everything through 0xcf8/0xcfc. Each step leaves
 * CONFIG_ADDRESS latched for the next to use without writing it again,
 * and RST_CNT (0xcf9) away from its reset value. */
static void i440fx_host_build(mt *m)
{
    mt_dev(m, "i440FX-pcihost", "id=host");
}

static void i440fx_host_shadow(mt *m)
{
    fill_shadow(m);
    cf8(m, 0, 0);
    mt_in(m, 0xcfc, 4); /* 8086:1237 at 00.0 */
    cf8(m, 0x08, 0);
    mt_in(m, 0xcfc, 4); /* nothing at 01.0 */
    cf8(m, 0, PAM0);
    mt_out(m, 0xcfd, 0x20, 1);     /* PAM0: WE */
    mt_out(m, 0xcfe, 0x3113, 2);   /* PAM1, PAM2 */
    mt_wr(m, 0xf0010, 0x0123456789abcdefull, 8);
    mt_out(m, 0xcf9, 0x02, 1);     /* SYS_RST alone: no reset */
    mt_in(m, 0xcf9, 1);
    mt_in(m, 0xcf8, 4);
    bios_area(m);
    cf8(m, 0, 0x5c); /* latched for the next step: PAM3..PAM6 */
}

static void i440fx_host_more(mt *m)
{
    mt_in(m, 0xcf8, 4);
    mt_in(m, 0xcf9, 1);
    mt_out(m, 0xcfc + 3, 0x30, 1); /* PAM6 through the latched address */
    mt_in(m, 0xcfc, 4);
    cf8(m, 0, PAM0);
    mt_out(m, 0xcfd, 0x10, 1);
    mt_in(m, 0xcfc, 4);
    bios_area(m);
    cf8(m, 0, SMRAM); /* latched: SMRAM at 0xcfe */
    mt_out(m, 0xcfe, 0x4a, 1);
}

static void i440fx_host_end(mt *m)
{
    mt_in(m, 0xcf8, 4);
    mt_in(m, 0xcfe, 1);
    mt_out(m, 0xcfe, 0x1a, 1); /* locked */
    mt_out(m, 0xcfe, 0x00, 1);
    mt_in(m, 0xcfe, 1);
    cf8(m, 0, 0x5c);
    mt_in(m, 0xcfc, 4);
    bios_area(m);
}

static const mt_case i440fx_host = {
    .name = "i440FX-pcihost+i440FX",
    .plugins = {"board-pc"},
    .build = i440fx_host_build,
    .steps = {i440fx_host_shadow, i440fx_host_more, i440fx_host_end},
};

/* q35: the host bridge with its MCH (00.0) and LPC (1f.0) on pcie.0. The
 * MCH's PAM (0x90..0x96), SMRAM (0x9d) and ESMRAMC (0x9e) through
 * mechanism #1, as firmware programs them. */
#define MCH_PAM0 0x90
#define MCH_SMRAM 0x9d
#define MCH_ESMRAMC 0x9e

static void mch_wr(mt *m, unsigned reg, uint32_t val, unsigned size)
{
    cf8(m, 0, reg);
    mt_out(m, 0xcfc + (reg & 3), val, size);
}

static void mch_regs(mt *m)
{
    cf8(m, 0, MCH_PAM0);
    mt_in(m, 0xcfc, 4);
    cf8(m, 0, MCH_PAM0 + 4);
    mt_in(m, 0xcfc, 4);
    cf8(m, 0, MCH_SMRAM);
    mt_in(m, 0xcfd, 2); /* SMRAM, ESMRAMC */
    bios_area(m);
}

/* From the reset state (as SeaBIOS leaves it) half way through: 0xf0000
 * read/write RAM, 0xc0000 read-only, 0xc4000 on the PCI side; SMRAM open,
 * TSEG (1 MiB) enabled. */
static void mch_program(mt *m)
{
    fill_shadow(m);
    mch_regs(m);
    mch_wr(m, MCH_PAM0, 0x30, 1);
    mch_wr(m, MCH_PAM0 + 1, 0x01, 1);
    mt_wr(m, 0xf0010, 0x1122334455667788ull, 8);
    mt_wr(m, 0xc0000, 0xdeadbeef, 4); /* RE only: dropped */
    mt_wr(m, 0xc4000, 0xfeedf00d, 4); /* to the PCI side: dropped */
    mch_wr(m, MCH_SMRAM, 0x48, 1);    /* D_OPEN | G_SMRAME */
    mch_wr(m, MCH_ESMRAMC, 0x81, 1);  /* H_SMRAME | T_EN */
    mch_regs(m);
}

/* 0xf0000 read-only again; SMRAM locked (D_OPEN cleared with it). */
static void mch_lock(mt *m)
{
    mch_wr(m, MCH_PAM0, 0x10, 1);
    mt_wr(m, 0xf0000, 0x55, 1); /* RE only: dropped */
    mch_wr(m, MCH_SMRAM, 0x5a, 1); /* D_OPEN | D_LCK | G_SMRAME | C_BASE_SEG */
    mch_regs(m);
}

/* Locked: only D_CLS moves, ESMRAMC is read-only; PAM still programs. */
static void mch_locked(mt *m)
{
    mch_wr(m, MCH_SMRAM, 0x60, 1); /* D_OPEN | D_CLS */
    mch_wr(m, MCH_ESMRAMC, 0x00, 1);
    mch_wr(m, MCH_PAM0 + 1, 0x33, 1);
    mt_wr(m, 0xc4000, 0x600dcafe, 4);
    mch_regs(m);
}

static void q35_host_build(mt *m)
{
    mt_dev(m, "q35-pcihost", NULL);
}

static void q35_host_ids(mt *m)
{
    cf8(m, 0, 0);
    mt_in(m, 0xcfc, 4);  /* 8086:29c0 */
    mt_in(m, 0xcfe, 2);
    cf8(m, 0, 0x60);
    mt_in(m, 0xcfc, 4);  /* PCIEXBAR: 0xb0000001 */
    cf8(m, 0, 0x64);
    mt_in(m, 0xcfc, 4);
    cf8(m, 0xf8, 0);
    mt_in(m, 0xcfc, 4);  /* LPC 8086:2918 */
    mch_program(m);
    mt_out(m, 0xcf9, 0x0a, 1); /* SYS_RST | FULL_RST, no RST_CPU */
    cf8(m, 0, 0x04);     /* latched: the MCH's command register */
    mt_out(m, 0xcfc, 0x0006, 2);
}

/* Through the latched address; PCIEXBAR is fixed whatever is written. */
static void q35_host_more(mt *m)
{
    mt_in(m, 0xcf8, 4);
    mt_in(m, 0xcf9, 1);
    mt_in(m, 0xcfc, 4);
    cf8(m, 0, 0x60);
    mt_out(m, 0xcfc, 0xe0000001, 4);
    mt_in(m, 0xcfc, 4);
    mch_lock(m);
    cf8(m, 0xf8, 0x40); /* latched: PMBASE */
}

static void q35_host_end(mt *m)
{
    mt_in(m, 0xcf8, 4);
    mt_in(m, 0xcfc, 4);
    mt_in(m, 0xcfe, 2);
    cf8(m, 0, 0x04);
    mt_in(m, 0xcfc, 4);
    mt_out(m, 0xcf8, 0, 4); /* enable bit clear: no config cycle */
    mt_in(m, 0xcfc, 4);
    mt_in(m, 0xcf9, 1);
    mch_locked(m);
}

static const mt_case q35_host = {
    .name = "q35-pcihost+mch",
    .plugins = {"board-q35", "pc-platform"},
    .build = q35_host_build,
    .steps = {q35_host_ids, q35_host_more, q35_host_end},
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mt_add(&uart);
    mt_add(&pit);
    mt_add(&rtc);
    mt_add(&pic);
    mt_add(&ioapic);
    mt_add(&kbc);
    mt_add(&pm);
    mt_add(&lpc);
    mt_add(&tco);
    mt_add(&piix3);
    mt_add(&i440fx);
    mt_add(&i440fx_host);
    mt_add(&q35_host);
    return g_test_run();
}
