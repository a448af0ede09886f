/*
 * pc-platform: the PC's platform devices as device plugins any board
 * composes and any user can replace with -plugin (a plugin providing one
 * of these type names wins for that type only):
 *
 *   i8259        the cascaded 8259A pair (pic.c)
 *   ioapic       the I/O APIC (ioapic.c)
 *   i8254        the PIT and port 0x61 (pit.c)
 *   mc146818rtc  the CMOS RTC (rtc.c)
 *   isa-serial   a 16550A UART (serial.c)
 *   i8042        the keyboard controller's reset line (i8042.c)
 *   ICH9-LPC     the ICH9 LPC bridge with the ACPI PM block and the TCO
 *                watchdog (ich9-lpc.c, ich9-tco.c)
 *   PIIX3        the PIIX3 ISA bridge: PIRQ routing (piix.c)
 *   PIIX4_PM     the PIIX4 power management function (piix.c)
 *
 * The local APIC stays in cpu-x86: it is part of each CPU (its registers
 * are the CPU's, its timer and IPIs belong to the CPU's interrupt logic).
 */
#include "pc-platform.h"
#include "pc-trace.h"

const tes_host *pc_host;
TES_TRACE_DEFINE(PC_TRACE)

static int pc_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, dev_platform_place) + sizeof(void *)) {
        return -38; /* -ENOSYS: needs the ABI 1.2 board entries */
    }
    pc_host = host;
    return TES_TRACE_REGISTER(host);
}

static const tes_type_info *const pc_types[] = {
    &i8259_type, &ioapic_type, &i8254_type, &mc146818rtc_type, &isa_serial_type, &i8042_type,
    &ich9_lpc_type, &piix3_type, &piix4_pm_type, NULL,
};

TES_PLUGIN_DEFINE(.name = "pc-platform", .version = "0.4.0", .license = "MIT",
                  .desc = "PC platform devices: 8259, I/O APIC, 8254, RTC, 16550A, i8042, "
                          "ICH9 LPC, PIIX3, PIIX4 PM",
                  .types = pc_types, .init = pc_init);
