/*
 * board-q35: the `q35` machine, a PC laid out like QEMU's q35 (MCH + ICH9),
 * booting Linux directly from a bzImage: no BIOS. A plugin of its own,
 * composed through the SDK only: vCPUs of any x86-64 CPU plugin (the
 * CPU<->board interface of <tessera/cpu.h>: boot state, INTR, APIC IDs),
 * the i8259, ioapic, i8254, mc146818rtc, isa-serial, i8042 and ICH9-LPC
 * types of whichever plugin provides them (plugins/pc-platform by default;
 * -plugin swaps any one), and PCIe devices of any plugin on pcie.0.
 *
 * User manual
 *
 *   tessera -M q35[,accel=tcg][,dumpacpi=DIR] -cpu qemu64|max -smp N -m SIZE
 *           -nographic -kernel bzImage [-initrd FILE] [-append CMDLINE]
 *
 *   accel=tcg       accepted for QEMU command lines (the only accelerator).
 *   dumpacpi=DIR    write the ACPI tables as DIR/RSDP.dat, DIR/FACP.dat,
 *                   DSDT, FACS, APIC, MCFG, RSDT, XSDT (.dat, for iasl -d)
 *                   and exit 0.
 *   -m              default 512M; RAM below 2 GiB stays at 0, the rest
 *                   goes above 4 GiB. Up to 8 vCPUs (APIC ids 0..N-1; the
 *                   others wait for INIT/SIPI).
 *   -kernel         an x86-64 bzImage (boot protocol >= 2.12) with an xz
 *                   payload (Debian's vmlinuz-*-amd64): decompressed on
 *                   the host and entered at startup_64 (boot.c). Without
 *                   it there is nothing to boot (no firmware): one notice
 *                   line, vCPU 0 stays off, the board is built and reset.
 *   -initrd         loaded high below 2 GiB; -append the command line
 *                   (console=ttyS0 for the serial console).
 *
 * Memory map: RAM; ACPI tables at 0xe0000 (e820 reserved); ECAM
 * 0xb0000000 (256 MiB, 256 buses); 32-bit PCI window 0xc0000000 ..
 * 0xfebfffff; IOAPIC 0xfec00000; the ICH9's RCRB 0xfed1c000 (16 KiB:
 * GCS for the TCO watchdog); LAPIC/MSI 0xfee00000; 64-bit PCI window
 * (32 GiB) from the first GiB boundary above RAM. I/O: 8259 0x20/0xa0
 * (+ELCR 0x4d0), 8254 0x40, RTC 0x70, i8042 0x60/0x64, COM1 0x3f8 (IRQ 4,
 * serial0), PCI config 0xcf8/0xcfc, RST_CNT 0xcf9, ACPI PM 0x600 (SMI_EN
 * 0x630, the TCO watchdog 0x660..0x67f: -watchdog-action), PCI I/O BARs
 * from 0x1000.
 *
 * Interrupts: ISA IRQ n drives 8259 input n and IOAPIC pin n, except IRQ0
 * (PIT), which is IOAPIC pin 2 as the MADT override says. The SCI is IRQ 9
 * (level, active high). PCI INTx of slot S pin P on pcie.0 is GSI
 * 16 + (S + P) % 8 (level, active low in the _PRT). MSIs go to the LAPIC
 * window. The pcie.0 root bus takes -device virtio-blk-pci, nvme,
 * pcie-root-port, ... as on virt. An ICH9 AHCI controller (plugins/ata's
 * ich9-ahci) sits at 00:1f.2, its six ports the buses ide.0..ide.5, as
 * on QEMU's q35; the board registers the ISA interrupt interface of
 * <tessera/isa.h> so -device piix3-ide finds IRQ 14 and 15.
 *
 * Reset (0xcf9, the i8042 reset line, triple fault) copies the kernel,
 * initrd and tables into RAM again and vCPU 0 re-enters the kernel (the
 * boot state set with host->cpu_set_boot, which the core re-applies).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "q35.h"
#include "pci-conf.h"
#include "x86-board.h"
#include "x86-trace.h"

const tes_host *q35_tes_host;

typedef struct q35_machine {
    x86_board b; /* first: -machine properties, RAM, CPUs, IRQ lines, ISA
                  * devices, images (x86-board.c) */
    tes_device *host, *lpc;
    acpi_dev_table dev_tables[ACPI_MAX_DEV_TABLES]; /* tessera/acpi.h */
    unsigned ndev_tables;
} q35_machine;
_Static_assert(offsetof(q35_machine, b) == 0, "x86_board_props index the machine state");

/* Above the high RAM, or above device memory when -m maxmem= asks for
 * it (QEMU's pc_pci_hole64_start). */
static uint64_t mem64_base(const q35_machine *m)
{
    uint64_t dev = x86_devmem_size(&m->b);

    if (dev) {
        return (x86_devmem_base(&m->b) + dev + GiB - 1) & ~(GiB - 1);
    }
    return (Q35_HIGHMEM_BASE + m->b.highmem + GiB - 1) & ~(GiB - 1);
}

/* The host bridge, its windows and INTx lines; the LPC's SCI. */
static int create_pcie(q35_machine *m)
{
    tes_region *sys = H->system_memory();
    tes_region *mem;

    m->host = x86_board_dev(&m->b, "q35-pcihost", NULL);
    if (!m->host) {
        return -ENODEV;
    }
    mem = x86_pci_host_mem(m->host);
    H->region_add(sys, Q35_ECAM_BASE, q35_pcihost_ecam(m->host), 0);
    H->region_add(sys, Q35_PCI_MEM32_BASE,
                  H->region_new_alias(m->b.dev, "pci-mem32", mem, Q35_PCI_MEM32_BASE,
                                      Q35_PCI_MEM32_END - Q35_PCI_MEM32_BASE), 0);
    H->region_add(sys, mem64_base(m),
                  H->region_new_alias(m->b.dev, "pci-mem64", mem, mem64_base(m),
                                      Q35_PCI_MEM64_SIZE), 0);
    for (unsigned i = 0; i < Q35_PCI_GSIS; i++) {
        H->dev_connect_irq(m->host, i, H->dev_irq_in(m->b.ioapic, Q35_PCI_GSI_BASE + i));
    }
    m->lpc = q35_pcihost_lpc(m->host);
    x86_board_set_pm(&m->b, m->lpc); /* power button, RTC alarm, resume */
    H->dev_connect_irq(m->lpc, 0, m->b.isa[Q35_SCI_IRQ]);
    /* SMI# (the TCO watchdog's with SMI_EN.TCO_EN) to vCPU 0, as QEMU's
     * ich9_generate_smi without x-smi-broadcast (no SMM: cpu-x86 logs it). */
    H->dev_connect_irq(m->lpc, 1, H->cpu_irq_in(H->cpu_by_index(0), TES_X86_SMI));
    /* QEMU's q35 always has its ICH9 AHCI at 1f.2 (also with -nodefaults):
     * -hda and -cdrom go on its ports, ide.0..ide.5. */
    if (!x86_board_dev(&m->b, "ich9-ahci", "addr=1f.2")) {
        return -ENODEV;
    }
    return 0;
}

/* One RAM block: [0, lowmem) at 0 and the rest at 4 GiB (QEMU's split,
 * with the hole from 2 GiB). */
static int create_board(q35_machine *m, const tes_machine_config *cfg)
{
    uint64_t size = cfg->ram_size;
    int ret = x86_board_ram(&m->b, size, size < Q35_LOWMEM_MAX ? size : Q35_LOWMEM_MAX);

    ret = ret ? ret : x86_board_cpus(&m->b, cfg);
    ret = ret ? ret : x86_board_irqchips(&m->b, Q35_IOAPIC_BASE);
    ret = ret ? ret : x86_board_isa(&m->b, true);
    ret = ret ? ret : create_pcie(m);
    return ret;
}

/* ---- ACPI ---- */

/* The PCI expander bridges on pcie.0 (none without the pcie plugin). */
static unsigned find_pxbs(q35_machine *m, tes_pxb_info *out, unsigned max)
{
    return x86_board_pxbs(m->host ? x86_pci_host_bus(m->host) : NULL, out, max);
}

/* The device tables, and the NFIT after them when NVDIMMs are placed
 * (cfg->dev_tables then points at tables). false: out of memory. */
static bool q35_nfit(q35_machine *m, q35_acpi_cfg *cfg, acpi_dev_table *tables)
{
    static aml nfit;

    if (!m->b.nnvd || m->ndev_tables == ACPI_MAX_DEV_TABLES) {
        return true;
    }
    free(nfit.b);
    nfit = (aml){0};
    if (!x86_nfit_body(m->b.nvd, m->b.nnvd, &nfit)) {
        return false;
    }
    memcpy(tables, m->dev_tables, m->ndev_tables * sizeof(*tables));
    tables[m->ndev_tables] = (acpi_dev_table){.sig = "NFIT", .rev = 1, .body = nfit.b,
                                              .len = nfit.len};
    cfg->dev_tables = tables;
    cfg->ndev_tables = m->ndev_tables + 1;
    return true;
}

static int build_acpi(q35_machine *m)
{
    tes_pxb_info pxbs[16];
    acpi_numa numa;
    uint32_t apic_id[Q35_MAX_CPUS];
    acpi_dev_table tables[ACPI_MAX_DEV_TABLES];
    q35_acpi_cfg cfg = {
        .devs = x86_board_acpi_devs(&m->b, &numa, apic_id),
        .mem64_base = mem64_base(m),
        .mem64_size = Q35_PCI_MEM64_SIZE,
        .dev_tables = m->dev_tables,
        .ndev_tables = m->ndev_tables,
        .pxbs = pxbs,
        .npxbs = find_pxbs(m, pxbs, 16),
    };

    if (!q35_nfit(m, &cfg, tables)) {
        return -ENOMEM;
    }
    if (x86_board_acpi_buf(&m->b, Q35_ACPI_SIZE)) {
        m->b.acpi_len = q35_acpi_build(&cfg, m->b.acpi, Q35_ACPI_BASE, Q35_ACPI_SIZE);
    }
    return x86_board_acpi_check(&m->b, Q35_ACPI_SIZE);
}

/* ---- the "acpi" interface (tessera/acpi.h) ----
 * Devices add their tables in realize, after q35_init built and loaded
 * the board's: each addition rebuilds the whole set and writes it again
 * (into RAM, or into dumpacpi=DIR). One machine at a time per process. */

static q35_machine *acpi_machine;

static bool sig_ok(const char *sig)
{
    for (unsigned i = 0; i < 4; i++) {
        if (sig[i] < 0x20 || sig[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

/* The rebuilt tables into RAM again (or into dumpacpi=DIR). */
static int load_acpi(q35_machine *m)
{
    if (m->b.dumpacpi) {
        return x86_board_dump_acpi(&m->b, m->b.dumpacpi, Q35_ACPI_BASE);
    }
    if (m->b.ram_ptr) {
        memcpy(m->b.ram_ptr + Q35_ACPI_BASE, m->b.acpi, m->b.acpi_len);
        H->as_set_dirty(H->system_memory(), Q35_ACPI_BASE, m->b.acpi_len);
    }
    return 0;
}

static int acpi_add_table(const char *sig, uint8_t rev, const void *body, size_t len)
{
    q35_machine *m = acpi_machine;
    acpi_dev_table *t;

    if (!m || !sig || !sig_ok(sig) || (len && !body) || len > Q35_ACPI_SIZE) {
        return -EINVAL;
    }
    for (unsigned i = 0; i < m->ndev_tables; i++) {
        if (!memcmp(m->dev_tables[i].sig, sig, 4)) {
            return -EEXIST;
        }
    }
    if (m->ndev_tables == ACPI_MAX_DEV_TABLES) {
        return -ENOSPC;
    }
    t = &m->dev_tables[m->ndev_tables];
    *t = (acpi_dev_table){.rev = rev, .len = len, .body = malloc(len ? len : 1)};
    if (!t->body) {
        return -ENOMEM;
    }
    memcpy(t->sig, sig, 4);
    memcpy(t->body, body, len);
    m->ndev_tables++;
    if (build_acpi(m)) {
        free(t->body);
        m->ndev_tables--;
        build_acpi(m);
        return -ENOSPC;
    }
    return load_acpi(m);
}

static tes_bus *acpi_pci_root(uint16_t seg)
{
    return seg == 0 && acpi_machine && acpi_machine->host
               ? x86_pci_host_bus(acpi_machine->host) : NULL;
}

static const tes_acpi_iface q35_acpi_iface = {
    .size = sizeof(tes_acpi_iface),
    .add_table = acpi_add_table,
    .pci_root = acpi_pci_root,
};

/* CPU hotplug's rebuild for the next reset (x86_board.build_tables). */
static int q35_tables(x86_board *b)
{
    return build_acpi((q35_machine *)b);
}

/* ---- Linux ---- */

static q35_boot_cfg boot_cfg(q35_machine *m)
{
    q35_boot_cfg bc = x86_board_boot_cfg(&m->b);

    bc.rsdp = Q35_ACPI_BASE;
    return bc;
}

/* ---- the machine ---- */

static int q35_init(tes_device *dev, void *s, const tes_machine_config *cfg)
{
    q35_machine *m = s;
    q35_boot_cfg bc;
    int ret = x86_board_begin(&m->b, dev, "q35", q35_tables, cfg);

    ret = ret ? ret : create_board(m, cfg);
    ret = ret ? ret : x86_board_memslots(&m->b);
    ret = ret ? ret : build_acpi(m);
    if (!ret) {
        x86_board_mark(&m->b);
        acpi_machine = m;
        H->iface_register(TES_ACPI_IFACE, TES_ACPI_IFACE_VERSION, &q35_acpi_iface);
    }
    bc = boot_cfg(m);
    return ret ? ret : x86_board_boot(&m->b, cfg, &bc, Q35_ACPI_BASE);
}

/* After every -device: PCI expander bridges become host bridges in the
 * DSDT and NVDIMMs are placed (NFIT, NVDR's children), so the tables are
 * built and loaded again. */
static int q35_devices_done(tes_device *dev, void *s)
{
    q35_machine *m = s;
    tes_pxb_info one = {.size = sizeof(one)};
    int ret = x86_board_devices_done(&m->b, find_pxbs(m, &one, 1) != 0);

    if (ret <= 0) {
        return ret; /* an error, or nothing changed since q35_init */
    }
    return build_acpi(m) ? -ENOSPC : load_acpi(m);
}

static void q35_reset(tes_device *dev, void *s)
{
    q35_boot_cfg bc = boot_cfg(s);

    /* tables and kernel into RAM again */
    x86_board_load(&((q35_machine *)s)->b, &bc, Q35_ACPI_BASE);
}

static void q35_unrealize(tes_device *dev, void *s)
{
    q35_machine *m = s;

    if (acpi_machine == m) {
        acpi_machine = NULL;
    }
    for (unsigned i = 0; i < m->ndev_tables; i++) {
        free(m->dev_tables[i].body);
    }
    m->ndev_tables = 0;
    x86_board_free(&m->b);
}

/* S3 resume: vCPU 0 in real mode at the guest's FACS waking vector. */
static bool q35_wakeup(tes_device *dev, void *s, tes_cpu_boot *boot)
{
    return x86_board_wakeup(s, Q35_ACPI_BASE, boot);
}

static const tes_machine_ops q35_ops = {
    .size = sizeof(tes_machine_ops),
    .arch = "x86_64",
    .default_cpu = "qemu64",
    .default_ram = 512 * MiB,
    .max_cpus = Q35_MAX_CPUS,
    .init = q35_init,
    .powerdown = x86_board_powerdown,
    .wakeup = q35_wakeup,
    .cpu_plugged = x86_board_cpu_plugged,
    .cpu_unplug_request = x86_board_cpu_unplug_request,
    .devices_done = q35_devices_done,
    .default_nic = "e1000e",
    .default_block_if = "ide",   /* QEMU's q35: the ICH9 AHCI */
    .ide_units_per_bus = 1,      /* one device per AHCI port */
    .hotplug = x86_board_hotplug,             /* pc-dimm (devmem.c) */
    .unplug_request = x86_board_unplug_request,
    .default_display = "VGA",    /* QEMU's std VGA, -vga none to drop it */
    .ospm_status = x86_board_ospm_status,
};


static const tes_type_info q35_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_MACHINE,
    .name = "q35",
    .desc = "Standard PC (Q35 + ICH9): LAPIC/IOAPIC, 8259, 8254, RTC, COM1, PCIe, ACPI",
    .instance_size = sizeof(q35_machine),
    .props = x86_board_props,
    .reset = q35_reset,
    .unrealize = q35_unrealize,
    .state = &x86_board_state,
    .class_info = &q35_ops,
};

static int q35_plugin_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, pci_ecam_new) + sizeof(void *)) {
        return -ENOSYS; /* needs the ABI 1.2 CPU<->board interface */
    }
    q35_tes_host = host;
    x86_board_host = host;
    return x86_trace_register(host);
}

static const tes_type_info *const q35_types[] = {
    &q35_type, &q35_pcihost_type, &q35_mch_type, NULL,
};

TES_PLUGIN_DEFINE(.name = "board-q35", .version = "0.2.0", .license = "MIT",
                  .desc = "the q35 x86-64 board (MCH + ICH9, QEMU's layout)",
                  .types = q35_types, .init = q35_plugin_init);
