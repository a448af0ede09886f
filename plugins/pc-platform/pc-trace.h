/*
 * pc-platform: trace points (sdk trace.h). QEMU's names where QEMU has the
 * event (ich9_gpe_*, piix4_gpe_*, pic_*, ioapic_*, serial_*, pckbd_*); the PM1 registers of
 * the ICH9 and PIIX4 PM blocks have events of their own (ich9_pm_io_*,
 * piix4_pm_io_*), so -trace 'ich9*' shows every ICH9 PM access; the TCO
 * watchdog's are QEMU's (tco_timer_reload, tco_timer_expired, tco_io_*),
 * so -trace 'tco*' shows them.
 */
#ifndef PC_TRACE_H
#define PC_TRACE_H

#include <tessera/host.h>

extern const tes_host *pc_host;

#define TES_TRACE_TABLE pc_trace_events
#define TES_TRACE_HOST pc_host
#define PC_TRACE(E)                                                                            \
    E(ich9_gpe_readb, (uint64_t addr, unsigned width, uint64_t val), (addr, width, val),      \
      "addr: 0x%" PRIx64 " width: %d ==> 0x%" PRIx64)                                          \
    E(ich9_gpe_writeb, (uint64_t addr, unsigned width, uint64_t val), (addr, width, val),     \
      "addr: 0x%" PRIx64 " width: %d <== 0x%" PRIx64)                                          \
    E(ich9_pm_io_read, (uint64_t addr, unsigned width, uint64_t val), (addr, width, val),     \
      "addr: 0x%" PRIx64 " width: %d ==> 0x%" PRIx64)                                          \
    E(ich9_pm_io_write, (uint64_t addr, unsigned width, uint64_t val), (addr, width, val),    \
      "addr: 0x%" PRIx64 " width: %d <== 0x%" PRIx64)                                          \
    E(ich9_pm_sci, (int level), (level), "SCI level %d")                                       \
    E(piix4_gpe_readb, (uint64_t addr, unsigned width, uint64_t val), (addr, width, val),     \
      "addr: 0x%" PRIx64 " width: %d ==> 0x%" PRIx64)                                          \
    E(piix4_gpe_writeb, (uint64_t addr, unsigned width, uint64_t val), (addr, width, val),    \
      "addr: 0x%" PRIx64 " width: %d <== 0x%" PRIx64)                                          \
    E(piix4_pm_io_read, (uint64_t addr, unsigned width, uint64_t val), (addr, width, val),    \
      "addr: 0x%" PRIx64 " width: %d ==> 0x%" PRIx64)                                          \
    E(piix4_pm_io_write, (uint64_t addr, unsigned width, uint64_t val), (addr, width, val),   \
      "addr: 0x%" PRIx64 " width: %d <== 0x%" PRIx64)                                          \
    E(pic_ioport_read, (bool master, uint64_t addr, int val), (master, addr, val),            \
      "master %d addr 0x%" PRIx64 " val 0x%x")                                                 \
    E(pic_ioport_write, (bool master, uint64_t addr, uint64_t val), (master, addr, val),      \
      "master %d addr 0x%" PRIx64 " val 0x%" PRIx64)                                           \
    E(pic_set_irq, (bool master, int irq, int level), (master, irq, level),                   \
      "master %d irq %d level %d")                                                             \
    E(ioapic_mem_read, (uint8_t addr, uint8_t regsel, uint8_t size, uint32_t val),            \
      (addr, regsel, size, val),                                                               \
      "ioapic mem read addr 0x%" PRIx8 " regsel: 0x%" PRIx8 " size 0x%" PRIx8 " retval 0x%" PRIx32) \
    E(ioapic_mem_write, (uint8_t addr, uint8_t regsel, uint8_t size, uint32_t val),           \
      (addr, regsel, size, val),                                                               \
      "ioapic mem write addr 0x%" PRIx8 " regsel: 0x%" PRIx8 " size 0x%" PRIx8 " val 0x%" PRIx32) \
    E(ioapic_set_irq, (int vector, int level), (vector, level), "vector: %d level: %d")       \
    TES_TRACE_RW(E, mc146818_rtc_ioport_read, mc146818_rtc_ioport_write)                       \
    E(mc146818_rtc_irq, (int level), (level), "IRQ8 level %d")                                \
    E(ich9_lpc_pm_init, (unsigned pmbase, int sci_irq), (pmbase, sci_irq),                    \
      "PMBASE 0x%x SCI IRQ %d")                                                                \
    E(ich9_lpc_reset, (unsigned pmbase), (pmbase), "PM block at 0x%x: PM1/GPE0 to reset values") \
    E(tco_timer_reload, (int ticks, int msec), (ticks, msec), "ticks=%d (%d ms)")           \
    E(tco_timer_expired, (int timeouts_no, bool strap, bool no_reboot),                       \
      (timeouts_no, strap, no_reboot), "timeouts_no=%d no_reboot=%d/%d")                      \
    E(tco_io_write, (uint64_t addr, uint32_t val), (addr, val),                               \
      "addr=0x%" PRIx64 " val=0x%" PRIx32)                                                     \
    E(tco_io_read, (uint64_t addr, uint32_t val), (addr, val),                                \
      "addr=0x%" PRIx64 " val=0x%" PRIx32)                                                     \
    E(serial_read, (uint16_t addr, uint8_t value), (addr, value), "read addr 0x%x val 0x%02x") \
    E(serial_write, (uint16_t addr, uint8_t value), (addr, value),                            \
      "write addr 0x%x val 0x%02x")                                                            \
    E(serial_irq, (int level), (level), "level %d")                                            \
    E(pckbd_kbd_read_data, (uint32_t val), (val), "0x%02x")                                    \
    E(pckbd_kbd_read_status, (int status), (status), "0x%02x")                                 \
    E(pckbd_kbd_write_command, (uint64_t val), (val), "0x%02" PRIx64)                          \
    E(pckbd_kbd_write_data, (uint64_t val), (val), "0x%02" PRIx64)                             \
    TES_TRACE_RW(E, pit_ioport_read, pit_ioport_write)
TES_TRACE_DECLARE(PC_TRACE)

#endif
