/*
 * board-pc: the `pc` machine, QEMU's default x86 machine (i440FX + PIIX3,
 * "Standard PC (i440FX + PIIX, 1996)"), booting Linux directly from a
 * bzImage: no BIOS. A plugin of its own, composed through the SDK only:
 * vCPUs of any x86-64 CPU plugin, the i8259, ioapic, i8254, mc146818rtc,
 * isa-serial, i8042, PIIX3 and PIIX4_PM types of whichever plugin
 * provides them (plugins/pc-platform by default), piix3-ide (plugins/ata)
 * and PCI devices of any plugin on pci.0. The bzImage loader, the ACPI
 * writer and the parts built as on q35 are board-q35's static library.
 *
 * User manual
 *
 *   tessera -M pc[,accel=tcg][,dumpacpi=DIR] -cpu qemu64|max -smp N -m SIZE
 *           -nographic -kernel bzImage [-initrd FILE] [-append CMDLINE]
 *
 *   Also named pc-i440fx-7.2 .. pc-i440fx-10.0 (QEMU's versioned names;
 *   all the same machine here).
 *   accel=tcg       accepted for QEMU command lines (the only accelerator).
 *   dumpacpi=DIR    write the ACPI tables as DIR/SIG.dat (RSDP, FACP,
 *                   DSDT, FACS, APIC, RSDT, XSDT) and exit 0.
 *   -m              default 128M (QEMU's); all of it below 4 GiB when
 *                   smaller than 3.5 GiB, else 3 GiB below and the rest
 *                   from 4 GiB (QEMU's pc: -m 4096M is 3 GiB + 1 GiB). Up
 *                   to 8 vCPUs.
 *   -kernel, -initrd, -append   as on q35 (boot.c).
 *   -net nic        an e1000 (QEMU's default NIC for pc).
 *
 * Devices on pci.0: 00.0 i440FX (PAM), 01.0 PIIX3 (ISA bridge, PIRQ
 * routing), 01.1 piix3-ide (when the ata plugin provides it), 01.3
 * PIIX4_PM; -device e1000,bus=pci.0,addr=0x3 and pci-bridge take slots
 * from 2 on.
 *
 * Memory map: RAM; the BIOS area 0xc0000..0xfffff under PAM control, its
 * ROM holding the ACPI tables at 0xe0000 (shadowed into RAM at reset, as
 * SeaBIOS leaves it: i440fx.c), also at 0xfffc0000; 32-bit PCI window
 * from the end of low RAM to 0xfebfffff; IOAPIC 0xfec00000; LAPIC/MSI
 * 0xfee00000; 64-bit PCI window (32 GiB) from the first GiB boundary above
 * RAM. I/O: 8259 0x20/0xa0 (+ELCR 0x4d0), 8254 0x40, RTC 0x70, i8042
 * 0x60/0x64 (IRQ1/12), COM1 0x3f8 (IRQ4, serial0), PCI config 0xcf8/0xcfc,
 * reset control 0xcf9, ACPI PM 0x600 and GPE0 0xafe0, PCI I/O BARs.
 *
 * Interrupts: ISA IRQ n drives 8259 input n and IOAPIC pin n (IRQ0: pin
 * 2). PCI INTx goes through the PIIX3's PIRQ router to the ISA IRQ the
 * guest programs (through the DSDT's link devices, acpi-pc.c), level,
 * active high; the SCI is IRQ 9. MSIs go to the LAPIC window.
 *
 * Reset (0xcf9, the i8042 reset line, triple fault) loads the kernel,
 * initrd and boot_params into RAM again, the i440FX copies the BIOS area
 * (the ACPI tables) into shadow RAM, and vCPU 0 re-enters the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "pc.h"
#include "pci-conf.h"
#include "x86-board.h"
#include "x86-trace.h"

const tes_host *pc_tes_host;

typedef struct pc_machine {
    x86_board b; /* first: -machine properties, RAM, CPUs, IRQ lines, ISA
                  * devices, images (x86-board.c) */
    tes_device *host, *piix3, *pm;
    q35_e820 e820[Q35_E820_MAX];
    unsigned e820_n;
} pc_machine;
_Static_assert(offsetof(pc_machine, b) == 0, "x86_board_props index the machine state");

/* QEMU's pc_init1: split at 3 GiB once RAM reaches 3.5 GiB
 * (gigabyte_align), else all below 4 GiB. */
static uint64_t pc_lowmem(uint64_t ram_size)
{
    return ram_size >= PC_LOWMEM_LIMIT ? PC_LOWMEM_SPLIT : ram_size;
}

/* Above the high RAM, or above device memory when -m maxmem= asks for
 * it (QEMU's pc_pci_hole64_start). */
static uint64_t mem64_base(const pc_machine *m)
{
    uint64_t dev = x86_devmem_size(&m->b);

    if (dev) {
        return (x86_devmem_base(&m->b) + dev + GiB - 1) & ~(GiB - 1);
    }
    return (PC_HIGHMEM_BASE + m->b.highmem + GiB - 1) & ~(GiB - 1);
}

/* ---- the chipset ---- */

static void map_windows(pc_machine *m)
{
    tes_region *sys = H->system_memory(), *mem = x86_pci_host_mem(m->host);

    H->region_add(sys, m->b.lowmem,
                  H->region_new_alias(m->b.dev, "pci-mem32", mem, m->b.lowmem,
                                      PC_PCI_MEM32_END - m->b.lowmem), 0);
    H->region_add(sys, mem64_base(m),
                  H->region_new_alias(m->b.dev, "pci-mem64", mem, mem64_base(m),
                                      PC_PCI_MEM64_SIZE), 0);
}

/* QEMU's pc has piix3-ide at 01.1; the ata plugin provides the type.
 * The PIIX3 is its parent: a failure's message stays with the PIIX3
 * (realized already) instead of becoming the machine's first error. */
/* QEMU's pc: the PIIX3 IDE function at 01.1, buses ide.0 and ide.1 (two
 * units each) for -hda..-hdd and -cdrom. Its IRQ 14/15 come through the
 * board's isa-irq interface (x86-board.c). */
static int create_ide(pc_machine *m, tes_bus *bus)
{
    return H->dev_create(m->b.dev, bus, "piix3-ide", "addr=01.1") ? 0 : -ENODEV;
}

static int create_chipset(pc_machine *m)
{
    tes_bus *bus;

    m->host = x86_board_dev(&m->b, "i440FX-pcihost", "bios-shadowed=on");
    if (!m->host) {
        return -ENODEV;
    }
    map_windows(m);
    bus = x86_pci_host_bus(m->host);
    m->piix3 = H->dev_create(m->b.dev, bus, "PIIX3", "addr=01.0");
    m->pm = m->piix3 ? H->dev_create(m->b.dev, bus, "PIIX4_PM", "addr=01.3") : NULL;
    if (!m->pm) {
        return -ENODEV;
    }
    x86_board_set_pm(&m->b, m->pm); /* power button, RTC alarm, resume */
    for (unsigned irq = 0; irq < 16; irq++) {
        H->dev_connect_irq(m->piix3, irq, m->b.isa[irq]);
    }
    H->dev_connect_irq(m->pm, 0, m->b.isa[PC_SCI_IRQ]);
    return create_ide(m, bus);
}

static int create_board(pc_machine *m, const tes_machine_config *cfg)
{
    int ret = x86_board_ram(&m->b, cfg->ram_size, pc_lowmem(cfg->ram_size));

    ret = ret ? ret : x86_board_cpus(&m->b, cfg);
    ret = ret ? ret : x86_board_irqchips(&m->b, PC_IOAPIC_BASE);
    ret = ret ? ret : x86_board_isa(&m->b, true);
    ret = ret ? ret : create_chipset(m);
    return ret;
}

/* ---- ACPI and the BIOS area ---- */

/* The PCI expander bridges on pci.0 (none without the pcie plugin). */
static unsigned find_pxbs(pc_machine *m, tes_pxb_info *out, unsigned max)
{
    return x86_board_pxbs(m->host ? x86_pci_host_bus(m->host) : NULL, out, max);
}

static int build_acpi(pc_machine *m)
{
    acpi_numa numa;
    uint32_t apic_id[PC_MAX_CPUS];
    tes_pxb_info pxbs[16];
    pc_acpi_cfg cfg = {
        .devs = x86_board_acpi_devs(&m->b, &numa, apic_id),
        .mem32_base = m->b.lowmem,
        .mem64_base = mem64_base(m),
        .mem64_size = PC_PCI_MEM64_SIZE,
        .pxbs = pxbs,
        .npxbs = find_pxbs(m, pxbs, 16),
    };

    if (x86_board_acpi_buf(&m->b, PC_ACPI_SIZE)) {
        m->b.acpi_len = pc_acpi_build(&cfg, m->b.acpi, PC_ACPI_BASE, PC_ACPI_SIZE);
    }
    if (x86_board_acpi_check(&m->b, PC_ACPI_SIZE)) {
        return -ENOMEM;
    }
    /* The tables are the BIOS ROM's content; the i440FX shadows it. */
    memcpy(i440fx_pcihost_bios(m->host) + (PC_ACPI_BASE - PC_BIOS_AREA), m->b.acpi,
           m->b.acpi_len);
    return 0;
}

static void e820_add(pc_machine *m, uint64_t addr, uint64_t size, uint32_t type)
{
    if (size && m->e820_n < Q35_E820_MAX) {
        m->e820[m->e820_n++] = (q35_e820){addr, size, type};
    }
}

/* Low RAM up to the EBDA, the BIOS area reserved (it holds the tables),
 * RAM to lowmem, the IOAPIC, LAPIC and high BIOS ROM, RAM from 4 GiB. */
static void build_e820(pc_machine *m)
{
    e820_add(m, 0, 0x9fc00, 1);
    e820_add(m, 0x9fc00, 0x100000 - 0x9fc00, 2);
    e820_add(m, 0x100000, m->b.lowmem - 0x100000, 1);
    e820_add(m, PC_IOAPIC_BASE, 0x1000, 2);
    e820_add(m, PC_LAPIC_BASE, 0x1000, 2);
    e820_add(m, PC_BIOS_ROM_HIGH, PC_BIOS_AREA_SIZE, 2);
    e820_add(m, PC_HIGHMEM_BASE, m->b.highmem, 1);
}

/* CPU hotplug's rebuild for the next reset (x86_board.build_tables). */
static int pc_tables(x86_board *b)
{
    return build_acpi((pc_machine *)b);
}

/* ---- Linux ---- */

static q35_boot_cfg boot_cfg(pc_machine *m)
{
    q35_boot_cfg bc = x86_board_boot_cfg(&m->b);

    bc.rsdp = PC_ACPI_BASE;
    bc.e820 = m->e820;
    bc.e820_n = m->e820_n;
    return bc;
}

/* ---- the machine ---- */

static int pc_init(tes_device *dev, void *s, const tes_machine_config *cfg)
{
    pc_machine *m = s;
    q35_boot_cfg bc;
    int ret = x86_board_begin(&m->b, dev, "pc", pc_tables, cfg);

    ret = ret ? ret : create_board(m, cfg);
    ret = ret ? ret : x86_board_memslots(&m->b);
    ret = ret ? ret : build_acpi(m);
    if (ret) {
        return ret;
    }
    x86_board_mark(&m->b);
    build_e820(m);
    bc = boot_cfg(m);
    /* The tables go into shadow RAM as the firmware leaves them (the
     * i440FX copies its ROM the same way at reset, after the machine). */
    return x86_board_boot(&m->b, cfg, &bc, PC_ACPI_BASE);
}

/* After every -device: PCI expander bridges become host bridges in the
 * DSDT and NVDIMMs are placed (NFIT, NVDR's children), so the tables are
 * built and loaded again. */
static int pc_devices_done(tes_device *dev, void *s)
{
    pc_machine *m = s;
    tes_pxb_info one = {.size = sizeof(one)};
    int ret = x86_board_devices_done(&m->b, find_pxbs(m, &one, 1) != 0);
    q35_boot_cfg bc;

    if (ret <= 0) {
        return ret; /* an error, or nothing changed since pc_init */
    }
    if (build_acpi(m)) {
        return -ENOSPC;
    }
    if (m->b.dumpacpi) {
        return x86_board_dump_acpi(&m->b, m->b.dumpacpi, PC_ACPI_BASE);
    }
    bc = boot_cfg(m);
    return x86_board_load(&m->b, &bc, PC_ACPI_BASE);
}

static void pc_reset(tes_device *dev, void *s)
{
    q35_boot_cfg bc = boot_cfg(s);

    /* tables and kernel into RAM again */
    x86_board_load(&((pc_machine *)s)->b, &bc, PC_ACPI_BASE);
}

static void pc_unrealize(tes_device *dev, void *s)
{
    x86_board_free(&((pc_machine *)s)->b);
}

/* S3 resume: vCPU 0 in real mode at the guest's FACS waking vector. */
static bool pc_wakeup(tes_device *dev, void *s, tes_cpu_boot *boot)
{
    return x86_board_wakeup(s, PC_ACPI_BASE, boot);
}

static const tes_machine_ops pc_ops = {
    .size = sizeof(tes_machine_ops),
    .arch = "x86_64",
    .default_cpu = "qemu64",
    .default_ram = 128 * MiB,
    .max_cpus = PC_MAX_CPUS,
    .init = pc_init,
    .powerdown = x86_board_powerdown,
    .wakeup = pc_wakeup,
    .cpu_plugged = x86_board_cpu_plugged,
    .cpu_unplug_request = x86_board_cpu_unplug_request,
    .devices_done = pc_devices_done,
    .default_nic = "e1000",
    .default_block_if = "ide",   /* QEMU's pc: the PIIX3 IDE */
    .ide_units_per_bus = 2,      /* master and slave */
    .hotplug = x86_board_hotplug,             /* pc-dimm (devmem.c) */
    .unplug_request = x86_board_unplug_request,
    .default_display = "VGA",    /* QEMU's std VGA, -vga none to drop it */
    .ospm_status = x86_board_ospm_status,
};


#define PC_TYPE(nm, dsc)                                                                        \
    {                                                                                           \
        .size = sizeof(tes_type_info), .kind = TES_KIND_MACHINE, .name = nm, .desc = dsc,       \
        .instance_size = sizeof(pc_machine), .props = x86_board_props, .reset = pc_reset,              \
        .unrealize = pc_unrealize, .state = &x86_board_state, .class_info = &pc_ops,                   \
    }
#define PC_VERSIONED(v) PC_TYPE("pc-i440fx-" v, "Standard PC (i440FX + PIIX, 1996) (as pc)")

static const tes_type_info pc_types[] = {
    PC_TYPE("pc", "Standard PC (i440FX + PIIX, 1996): 8259, IOAPIC, 8254, RTC, COM1, PCI, "
                  "ACPI"),
    PC_VERSIONED("7.2"), PC_VERSIONED("8.0"), PC_VERSIONED("8.1"), PC_VERSIONED("8.2"),
    PC_VERSIONED("9.0"), PC_VERSIONED("9.1"), PC_VERSIONED("9.2"), PC_VERSIONED("10.0"),
};

static int pc_plugin_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, net_set_rx_offloads) + sizeof(void *)) {
        return -ENOSYS; /* needs ABI 1.3 (default_nic) */
    }
    pc_tes_host = host;
    x86_board_host = host;
    return x86_trace_register(host);
}

static const tes_type_info *const pc_type_list[] = {
    &pc_types[0], &pc_types[1], &pc_types[2], &pc_types[3], &pc_types[4], &pc_types[5],
    &pc_types[6], &pc_types[7], &pc_types[8], &i440fx_pcihost_type, &i440fx_type, NULL,
};

TES_PLUGIN_DEFINE(.name = "board-pc", .version = "0.1.0", .license = "MIT",
                  .desc = "the pc x86-64 board (i440FX + PIIX3, QEMU's layout)",
                  .types = pc_type_list, .init = pc_plugin_init);
