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
 *                   the host and entered at startup_64 (boot.c).
 *   -initrd         loaded high below 2 GiB; -append the command line
 *                   (console=ttyS0 for the serial console).
 *
 * Memory map: RAM; ACPI tables at 0xe0000 (e820 reserved); ECAM
 * 0xb0000000 (256 MiB, 256 buses); 32-bit PCI window 0xc0000000 ..
 * 0xfebfffff; IOAPIC 0xfec00000; LAPIC/MSI 0xfee00000; 64-bit PCI window
 * (32 GiB) from the first GiB boundary above RAM. I/O: 8259 0x20/0xa0
 * (+ELCR 0x4d0), 8254 0x40, RTC 0x70, i8042 0x60/0x64, COM1 0x3f8 (IRQ 4,
 * serial0), PCI config 0xcf8/0xcfc, RST_CNT 0xcf9, ACPI PM 0x600, PCI I/O
 * BARs from 0x1000.
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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "q35.h"

const tes_host *q35_tes_host;

typedef struct blob {
    uint8_t *data;
    size_t size;
} blob;

typedef struct q35_machine {
    /* -machine properties */
    char *accel;
    char *dumpacpi;

    tes_device *dev;
    tes_region *ram;
    uint8_t *ram_ptr;
    uint64_t lowmem, highmem;
    unsigned ncpus;
    tes_device *pic, *ioapic;
    tes_irq *isa[16];
    tes_device *host, *lpc;
    uint8_t *acpi;
    size_t acpi_len;
    blob kernel, initrd;
    char *cmdline;
    q35_boot_info boot;
} q35_machine;

/* ---- host files ---- */

static int read_file(q35_machine *m, const char *what, const char *path, blob *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    size_t got = 0;

    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        H->error(m->dev, "%s '%s': %s", what, path, strerror(e));
        if (fd >= 0) {
            close(fd);
        }
        return -e;
    }
    /* A directory opens and "is" 2^63-1 bytes long to fseek/ftell. */
    if (!S_ISREG(st.st_mode)) {
        H->error(m->dev, "%s '%s' is %s", what, path,
                 S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
        close(fd);
        return -EINVAL;
    }
    b->size = (uint64_t)st.st_size;
    b->data = malloc(b->size ? b->size : 1);
    while (b->data && got < b->size) {
        ssize_t n = read(fd, b->data + got, b->size - got);
        if (n <= 0 && !(n < 0 && errno == EINTR)) {
            break;
        }
        got += n > 0 ? (size_t)n : 0;
    }
    close(fd);
    if (!b->data || got != b->size) {
        H->error(m->dev, "%s '%s': cannot read its %llu bytes%s", what, path,
                 (unsigned long long)b->size, b->data ? "" : " (out of memory)");
        free(b->data);
        b->data = NULL;
        return -EIO;
    }
    return 0;
}

/* ---- RAM ---- */

/* One RAM block: [0, lowmem) at 0 and the rest at 4 GiB (QEMU's split,
 * with the hole from 2 GiB). */
static int create_ram(q35_machine *m, uint64_t size)
{
    tes_region *sys = H->system_memory();

    m->lowmem = size < Q35_LOWMEM_MAX ? size : Q35_LOWMEM_MAX;
    m->highmem = size - m->lowmem;
    if (m->lowmem < 16 * MiB) {
        H->error(m->dev, "-m %llu MiB is too small: q35 needs at least 16 MiB",
                 (unsigned long long)(size >> 20));
        return -EINVAL;
    }
    m->ram = H->region_new_ram(m->dev, "pc.ram", size);
    m->ram_ptr = m->ram ? H->region_ram_ptr(m->ram) : NULL;
    if (!m->ram_ptr) {
        H->error(m->dev, "cannot allocate %llu MiB of RAM", (unsigned long long)(size >> 20));
        return -ENOMEM;
    }
    H->region_add(sys, 0, H->region_new_alias(m->dev, "ram-below-4g", m->ram, 0, m->lowmem),
                  0);
    if (m->highmem) {
        H->region_add(sys, Q35_HIGHMEM_BASE,
                      H->region_new_alias(m->dev, "ram-above-4g", m->ram, m->lowmem,
                                          m->highmem), 0);
    }
    return 0;
}

static uint64_t mem64_base(const q35_machine *m)
{
    return (Q35_HIGHMEM_BASE + m->highmem + GiB - 1) & ~(GiB - 1);
}

/* ---- interrupt wiring ---- */

/* ISA IRQ n -> 8259 input n and IOAPIC pin n (IRQ0 -> pin 2). */
static void isa_irq(void *opaque, int n, int level)
{
    q35_machine *m = opaque;

    H->irq_set(H->dev_irq_in(m->pic, (unsigned)n), level);
    H->irq_set(H->dev_irq_in(m->ioapic, n == 0 ? 2 : (unsigned)n), level);
}

/* The ISA lines for devices that are not the board's own (piix3-ide's
 * IRQ 14/15 with -device piix3-ide): <tessera/isa.h>. One machine a
 * process, so the table can point at it through a static. */
static q35_machine *isa_board;

static tes_irq *board_isa_irq(unsigned n)
{
    return isa_board && n < 16 ? isa_board->isa[n] : NULL;
}

static const tes_isa_iface q35_isa_iface = {
    .size = sizeof(tes_isa_iface),
    .irq = board_isa_irq,
};

static tes_device *create_dev(q35_machine *m, const char *type, const char *props)
{
    tes_device *d = H->dev_create(m->dev, NULL, type, props);

    if (!d) {
        H->error(m->dev, "cannot create the %s device", type);
    }
    return d;
}

static int create_irqchips(q35_machine *m)
{
    tes_device *pic = create_dev(m, "i8259", NULL);
    tes_device *ioapic = pic ? create_dev(m, "ioapic", NULL) : NULL;

    if (!ioapic) {
        return -ENODEV;
    }
    m->pic = pic;
    m->ioapic = ioapic;
    if (!H->dev_mmio(ioapic, 0) || !H->dev_irq_in(ioapic, 23) || !H->dev_irq_in(pic, 15)) {
        H->error(m->dev, "the i8259 or ioapic type lacks its region or input lines");
        return -ENODEV;
    }
    H->region_add(H->system_memory(), Q35_IOAPIC_BASE, H->dev_mmio(ioapic, 0), 0);
    /* The 8259's INT drives the BSP's INTR (LINT0 in ExtINT mode). */
    H->dev_connect_irq(pic, 0, H->cpu_irq_in(H->cpu_by_index(0), TES_X86_INTR));
    for (unsigned i = 0; i < 16; i++) {
        m->isa[i] = H->irq_new(isa_irq, m, (int)i);
    }
    isa_board = m;
    H->iface_register(TES_ISA_IFACE, TES_ISA_IFACE_VERSION, &q35_isa_iface);
    return 0;
}

/* PIT (IRQ0), RTC (IRQ8), COM1 on serial0 (IRQ4), i8042 (reset line). */
static int create_isa_devices(q35_machine *m)
{
    tes_device *pit = create_dev(m, "i8254", NULL);
    tes_device *rtc = pit ? create_dev(m, "mc146818rtc", NULL) : NULL;
    tes_device *com1 = rtc ? create_dev(m, "isa-serial",
                                        H->serial_chr(0) ? "chardev=serial0" : NULL)
                           : NULL;

    if (!com1 || !create_dev(m, "i8042", NULL)) {
        return -ENODEV;
    }
    H->dev_connect_irq(pit, 0, m->isa[0]);
    H->dev_connect_irq(rtc, 0, m->isa[8]);
    H->dev_connect_irq(com1, 0, m->isa[4]);
    return 0;
}

/* The host bridge, its windows and INTx lines; the LPC's SCI. */
static int create_pcie(q35_machine *m)
{
    tes_region *sys = H->system_memory();
    tes_region *mem;

    m->host = create_dev(m, "q35-pcihost", NULL);
    if (!m->host) {
        return -ENODEV;
    }
    mem = q35_pcihost_mem(m->host);
    H->region_add(sys, Q35_ECAM_BASE, q35_pcihost_ecam(m->host), 0);
    H->region_add(sys, Q35_PCI_MEM32_BASE,
                  H->region_new_alias(m->dev, "pci-mem32", mem, Q35_PCI_MEM32_BASE,
                                      Q35_PCI_MEM32_END - Q35_PCI_MEM32_BASE), 0);
    H->region_add(sys, mem64_base(m),
                  H->region_new_alias(m->dev, "pci-mem64", mem, mem64_base(m),
                                      Q35_PCI_MEM64_SIZE), 0);
    for (unsigned i = 0; i < Q35_PCI_GSIS; i++) {
        H->dev_connect_irq(m->host, i, H->dev_irq_in(m->ioapic, Q35_PCI_GSI_BASE + i));
    }
    m->lpc = q35_pcihost_lpc(m->host);
    H->dev_connect_irq(m->lpc, 0, m->isa[Q35_SCI_IRQ]);
    /* QEMU's q35 always has its ICH9 AHCI at 1f.2 (also with -nodefaults):
     * -hda and -cdrom go on its ports, ide.0..ide.5. */
    return create_dev(m, "ich9-ahci", "addr=1f.2") ? 0 : -ENODEV;
}

static int create_cpus(q35_machine *m, const tes_machine_config *cfg)
{
    for (unsigned i = 0; i < m->ncpus; i++) {
        if (!H->cpu_create(m->dev, cfg->cpu_model, i)) {
            return -ENODEV;
        }
    }
    return 0;
}

static int create_board(q35_machine *m, const tes_machine_config *cfg)
{
    int ret = create_ram(m, cfg->ram_size);

    ret = ret ? ret : create_cpus(m, cfg);
    ret = ret ? ret : create_irqchips(m);
    ret = ret ? ret : create_isa_devices(m);
    ret = ret ? ret : create_pcie(m);
    return ret;
}

/* ---- ACPI ---- */

static int build_acpi(q35_machine *m)
{
    uint32_t apic_id[Q35_MAX_CPUS];
    q35_acpi_cfg cfg = {
        .ncpus = m->ncpus,
        .apic_id = apic_id,
        .mem64_base = mem64_base(m),
        .mem64_size = Q35_PCI_MEM64_SIZE,
    };

    for (unsigned i = 0; i < m->ncpus; i++) {
        apic_id[i] = (uint32_t)H->cpu_arch_id(H->cpu_by_index(i));
    }
    m->acpi = malloc(Q35_ACPI_SIZE);
    m->acpi_len = m->acpi ? q35_acpi_build(&cfg, m->acpi, Q35_ACPI_BASE, Q35_ACPI_SIZE) : 0;
    if (!m->acpi_len) {
        H->error(m->dev, "the ACPI tables do not fit in %llu KiB",
                 (unsigned long long)(Q35_ACPI_SIZE >> 10));
        return -ENOMEM;
    }
    return 0;
}

static bool dump_one(const char *dir, const char *sig, const uint8_t *t, size_t len)
{
    char path[4096];
    FILE *f;
    bool ok;

    snprintf(path, sizeof(path), "%s/%s.dat", dir, sig);
    f = fopen(path, "wb");
    ok = f && fwrite(t, 1, len, f) == len;
    if (f && fclose(f) != 0) {
        ok = false;
    }
    return ok;
}

/* -machine dumpacpi=DIR: every table as SIG.dat, then exit 0 (like
 * virt's dumpdtb). */
static int dump_acpi(q35_machine *m)
{
    const uint8_t *t;
    char sig[5];
    size_t len;
    bool ok = dump_one(m->dumpacpi, "RSDP", m->acpi, 36);

    for (unsigned i = 0; ok && (t = q35_acpi_table(m->acpi, Q35_ACPI_BASE, m->acpi_len, i,
                                                   sig, &len)); i++) {
        ok = dump_one(m->dumpacpi, sig, t, len);
    }
    for (unsigned i = 0; ok && i < 2; i++) {
        /* RSDT and XSDT: found through the RSDP */
        uint64_t a = 0;
        for (unsigned b = 0; b < (i ? 8u : 4u); b++) {
            a |= (uint64_t)m->acpi[(i ? 24 : 16) + b] << (8 * b);
        }
        t = m->acpi + (a - Q35_ACPI_BASE);
        len = (size_t)t[4] | (size_t)t[5] << 8;
        ok = dump_one(m->dumpacpi, i ? "XSDT" : "RSDT", t, len);
    }
    if (!ok) {
        H->error(m->dev, "dumpacpi '%s': %s", m->dumpacpi, strerror(errno));
        return -EIO;
    }
    fprintf(stderr, "tessera: ACPI tables dumped to %s. Exiting.\n", m->dumpacpi);
    H->cpu_set_running(H->cpu_by_index(0), false);
    H->request_shutdown(0);
    return 0;
}

/* ---- Linux ---- */

static q35_boot_cfg boot_cfg(q35_machine *m)
{
    return (q35_boot_cfg){
        .ram = m->ram_ptr,
        .lowmem = m->lowmem,
        .highmem = m->highmem,
        .kernel = m->kernel.data,
        .kernel_size = m->kernel.size,
        .initrd = m->initrd.data,
        .initrd_size = m->initrd.size,
        .cmdline = m->cmdline,
        .rsdp = Q35_ACPI_BASE,
    };
}

static int load_images(q35_machine *m, const tes_machine_config *cfg)
{
    int ret = 0;

    if (cfg->dtb) {
        /* QEMU passes it as setup_data; Linux on q35 reads ACPI instead. */
        H->error(m->dev, "-dtb is not supported: q35 describes the machine with ACPI tables");
        return -EINVAL;
    }
    if (!cfg->kernel) {
        if (m->dumpacpi) {
            return 0;
        }
        H->error(m->dev, "no -kernel given (there is no firmware: q35 boots a bzImage)");
        return -EINVAL;
    }
    ret = read_file(m, "kernel", cfg->kernel, &m->kernel);
    if (!ret && cfg->initrd) {
        ret = read_file(m, "initrd", cfg->initrd, &m->initrd);
    }
    m->cmdline = strdup(cfg->append ? cfg->append : "");
    return ret;
}

/* Tables and kernel into RAM (at start-up and at each reset). */
static int load_ram(q35_machine *m)
{
    q35_boot_cfg bc = boot_cfg(m);
    char err[200];

    memcpy(m->ram_ptr + Q35_ACPI_BASE, m->acpi, m->acpi_len);
    if (m->kernel.data && !q35_boot_load(&bc, &m->boot, err, sizeof(err))) {
        H->error(m->dev, "kernel: %s", err);
        return -EINVAL;
    }
    H->as_set_dirty(H->system_memory(), 0, m->lowmem);
    return 0;
}

static int prepare_kernel(q35_machine *m, const tes_machine_config *cfg)
{
    q35_boot_cfg bc = boot_cfg(m);
    char err[200];

    if (!m->kernel.data) {
        return 0;
    }
    if (!q35_boot_prepare(&bc, &m->boot, err, sizeof(err))) {
        H->error(m->dev, "kernel '%s': %s", cfg->kernel, err);
        return -EINVAL;
    }
    return 0;
}

/* vCPU 0 enters startup_64 (boot.rst, 64-bit boot protocol: RSI =
 * boot_params), now and after every reset. */
static int start_cpu0(q35_machine *m, const tes_machine_config *cfg)
{
    tes_cpu_boot b = {
        .size = sizeof(b),
        .mode = TES_BOOT_X86_LONG64,
        .entry = m->boot.entry,
        .page_table = m->boot.cr3,
        .gdt_base = m->boot.gdt_base,
        .gdt_limit = m->boot.gdt_limit,
        .code_sel = 0x10,
        .data_sel = 0x18,
    };
    int ret;

    if (!m->kernel.data) {
        return 0; /* no kernel: the power-on state, as before firmware */
    }
    b.regs[4] = m->boot.boot_params; /* rsp: startup_64 sets its own first */
    b.regs[6] = m->boot.boot_params; /* rsi */
    ret = H->cpu_set_boot(H->cpu_by_index(0), &b);
    if (ret) {
        H->error(m->dev, "CPU model '%s' cannot enter a 64-bit kernel (%s)", cfg->cpu_model,
                 strerror(-ret));
    }
    return ret;
}

/* ---- the machine ---- */

static int q35_init(tes_device *dev, void *s, const tes_machine_config *cfg)
{
    q35_machine *m = s;
    int ret = 0;

    m->dev = dev;
    m->ncpus = cfg->smp ? cfg->smp : 1;
    if (strcmp(m->accel, "tcg") != 0) {
        H->error(dev, "property 'accel' wants tcg (the only accelerator), got '%s'", m->accel);
        return -EINVAL;
    }
    ret = load_images(m, cfg);
    ret = ret ? ret : create_board(m, cfg);
    ret = ret ? ret : build_acpi(m);
    if (!ret && m->dumpacpi) {
        return dump_acpi(m);
    }
    ret = ret ? ret : prepare_kernel(m, cfg);
    ret = ret ? ret : load_ram(m);
    if (ret) {
        return ret;
    }
    return start_cpu0(m, cfg);
}

static void q35_reset(tes_device *dev, void *s)
{
    q35_machine *m = s;

    if (m->ram_ptr && m->acpi && !m->dumpacpi) {
        load_ram(m);
    }
}

static void q35_unrealize(tes_device *dev, void *s)
{
    q35_machine *m = s;

    free(m->kernel.data);
    free(m->initrd.data);
    free(m->boot.vmlinux);
    free(m->acpi);
    free(m->cmdline);
    if (isa_board == m) {
        isa_board = NULL;
    }
    m->kernel.data = m->initrd.data = m->boot.vmlinux = m->acpi = NULL;
    m->cmdline = NULL;
}

static void q35_powerdown(tes_device *dev, void *s)
{
    q35_machine *m = s;

    /* ICH9-LPC input 0: the fixed power button (pc-platform). */
    if (m->lpc) {
        H->irq_set(H->dev_irq_in(m->lpc, 0), 1);
        H->irq_set(H->dev_irq_in(m->lpc, 0), 0);
    }
}

static const tes_machine_ops q35_ops = {
    .size = sizeof(tes_machine_ops),
    .arch = "x86_64",
    .default_cpu = "qemu64",
    .default_ram = 512 * MiB,
    .max_cpus = Q35_MAX_CPUS,
    .init = q35_init,
    .powerdown = q35_powerdown,
    .default_nic = "e1000e",
    .default_block_if = "ide",   /* QEMU's q35: the ICH9 AHCI */
    .ide_units_per_bus = 1,      /* one device per AHCI port */
};

static const tes_prop_info q35_props[] = {
    TES_PROP("accel", TES_PROP_STRING, q35_machine, accel, "tcg", 0, 0,
             "accelerator: tcg (the only one; accepted for QEMU command lines)"),
    TES_PROP("dumpacpi", TES_PROP_STRING, q35_machine, dumpacpi, NULL, 0, 0,
             "write the ACPI tables to DIR/SIG.dat and exit"),
    TES_PROP_END,
};

/* Guest-visible state lives in RAM and the devices; the rest is rebuilt
 * from the command line on the destination. */
static const tes_state_info q35_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

static const tes_type_info q35_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_MACHINE,
    .name = "q35",
    .desc = "Standard PC (Q35 + ICH9): LAPIC/IOAPIC, 8259, 8254, RTC, COM1, PCIe, ACPI",
    .instance_size = sizeof(q35_machine),
    .props = q35_props,
    .reset = q35_reset,
    .unrealize = q35_unrealize,
    .state = &q35_state,
    .class_info = &q35_ops,
};

static int q35_plugin_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, pci_ecam_new) + sizeof(void *)) {
        return -ENOSYS; /* needs the ABI 1.2 CPU<->board interface */
    }
    q35_tes_host = host;
    return 0;
}

static const tes_type_info *const q35_types[] = {
    &q35_type, &q35_pcihost_type, &q35_mch_type, NULL,
};

TES_PLUGIN_DEFINE(.name = "board-q35", .version = "0.2.0", .license = "MIT",
                  .desc = "the q35 x86-64 board (MCH + ICH9, QEMU's layout)",
                  .types = q35_types, .init = q35_plugin_init);
