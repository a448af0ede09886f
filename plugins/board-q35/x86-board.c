/*
 * board-x86: the parts q35 and pc build the same way (x86-board.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aml.h"
#include "x86-board.h"

#define H x86_board_host
#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

const tes_host *x86_board_host;

/* ---- the machine type ---- */

const tes_prop_info x86_board_props[] = {
    TES_PROP("accel", TES_PROP_STRING, x86_board, accel, "tcg", 0, 0,
             "accelerator: tcg (the only one; accepted for QEMU command lines)"),
    TES_PROP("dumpacpi", TES_PROP_STRING, x86_board, dumpacpi, NULL, 0, 0,
             "write the ACPI tables to DIR/SIG.dat and exit"),
    TES_PROP("nvdimm", TES_PROP_BOOL, x86_board, nvdimm, "off", 0, 0,
             "NVDIMM support: the ACPI NVDIMM root device, -device nvdimm"),
    TES_PROP_END,
};

/* 2: the CPU hotplug block's state (x86-cpuhp.c); 3: each CPU's _OST */
static const tes_state_field x86_board_fields[] = {
    {"cpuhp_selector", TES_FIELD_U32, offsetof(x86_board, cpuhp.selector), 0, 2},
    {"cpuhp_command", TES_FIELD_U32, offsetof(x86_board, cpuhp.command), 0, 2},
    {"cpuhp_ost_event", TES_FIELD_U32, offsetof(x86_board, cpuhp.ost_event), 0, 2},
    {"cpuhp_ost_status", TES_FIELD_U32, offsetof(x86_board, cpuhp.ost_status), 0, 2},
    {"cpuhp_flags", TES_FIELD_BYTES, offsetof(x86_board, cpuhp.flags), X86_CPUHP_MAX, 2},
    {"cpuhp_ost_ev", TES_FIELD_U32, offsetof(x86_board, cpuhp.ost_ev), X86_CPUHP_MAX, 3},
    {"cpuhp_ost_st", TES_FIELD_U32, offsetof(x86_board, cpuhp.ost_st), X86_CPUHP_MAX, 3},
    TES_FIELD_END,
};

const tes_state_info x86_board_state = {
    .size = sizeof(tes_state_info),
    .version = 3, /* 2: CPU and memory hotplug registers (devmem.c); 3: _OST per CPU */
    .min_version = 1,
    .fields = x86_board_fields,
    .post_load = x86_board_cpuhp_post_load,
    .save = x86_board_memhp_save,
    .load = x86_board_memhp_load,
};

static int check_accel(x86_board *b)
{
    if (strcmp(b->accel, "tcg") != 0) {
        H->error(b->dev, "property 'accel' wants tcg (the only accelerator), got '%s'",
                 b->accel);
        return -EINVAL;
    }
    return 0;
}

int x86_board_begin(x86_board *b, tes_device *dev, const char *name,
                    int (*build_tables)(x86_board *b), const tes_machine_config *cfg)
{
    int ret;

    b->dev = dev;
    b->name = name;
    b->build_tables = build_tables;
    ret = check_accel(b);
    return ret ? ret : x86_board_images(b, cfg, b->dumpacpi != NULL);
}

void x86_board_set_pm(x86_board *b, tes_device *pm)
{
    b->pm = pm;
    if (b->rtc) {
        H->dev_connect_irq(b->rtc, 1, H->dev_irq_in(pm, 1));
    }
}

void x86_board_powerdown(tes_device *dev, void *s)
{
    x86_board *b = s;

    if (b->pm) {
        H->irq_set(H->dev_irq_in(b->pm, 0), 1);
        H->irq_set(H->dev_irq_in(b->pm, 0), 0);
    }
}

/* What firmware does on an S3 resume (ACPI 6.4, 5.2.10): jump to the
 * FACS firmware waking vector in real mode. Linux writes it before it
 * sets SLP_EN (acpi_set_waking_vector); the 64-bit X vector it leaves 0. */
bool x86_board_wakeup(x86_board *b, uint64_t acpi_base, tes_cpu_boot *boot)
{
    uint64_t facs = 0;
    uint32_t vec;
    char sig[5];
    size_t len;
    const uint8_t *t;

    if (b->pm) {
        /* The reset that follows is a resume: WAK_STS and the cause stay. */
        H->irq_set(H->dev_irq_in(b->pm, 2), 1);
        H->irq_set(H->dev_irq_in(b->pm, 2), 0);
    }

    for (unsigned i = 0; (t = acpi_table_find(b->acpi, acpi_base, b->acpi_len, i, sig, &len));
         i++) {
        if (strcmp(sig, "FACS") == 0) {
            facs = acpi_base + (uint64_t)(t - b->acpi);
            break;
        }
    }
    if (!facs || !b->ram_ptr || facs + 16 > b->lowmem) {
        return false;
    }
    memcpy(&vec, b->ram_ptr + facs + 12, 4); /* little-endian host */
    if (vec == 0 || vec >= 0x100000) {
        H->log(TES_LOG_GUEST_ERROR, "%s: no real-mode FACS waking vector (0x%x): booting again",
               b->name, vec);
        return false;
    }
    b->waking = true;
    boot->mode = TES_BOOT_X86_REAL;
    boot->entry = vec;
    return true;
}

/* ---- host files ---- */

static int read_file(x86_board *b, const char *what, const char *path, x86_blob *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    size_t got = 0;

    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        H->error(b->dev, "%s '%s': %s", what, path, strerror(e));
        if (fd >= 0) {
            close(fd);
        }
        return -e;
    }
    /* A directory opens and "is" 2^63-1 bytes long to fseek/ftell. */
    if (!S_ISREG(st.st_mode)) {
        H->error(b->dev, "%s '%s' is %s", what, path,
                 S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
        close(fd);
        return -EINVAL;
    }
    out->size = (uint64_t)st.st_size;
    out->data = malloc(out->size ? out->size : 1);
    while (out->data && got < out->size) {
        ssize_t n = read(fd, out->data + got, out->size - got);
        if (n <= 0 && !(n < 0 && errno == EINTR)) {
            break;
        }
        got += n > 0 ? (size_t)n : 0;
    }
    close(fd);
    if (!out->data || got != out->size) {
        H->error(b->dev, "%s '%s': cannot read its %llu bytes%s", what, path,
                 (unsigned long long)out->size, out->data ? "" : " (out of memory)");
        free(out->data);
        out->data = NULL;
        return -EIO;
    }
    return 0;
}

int x86_board_images(x86_board *b, const tes_machine_config *cfg, bool dumping)
{
    int ret = 0;

    if (cfg->dtb) {
        /* QEMU passes it as setup_data; Linux on a PC reads ACPI instead. */
        H->error(b->dev, "-dtb is not supported: %s describes the machine with ACPI tables",
                 b->name);
        return -EINVAL;
    }
    if (!cfg->kernel) {
        if (dumping) {
            return 0;
        }
        /* QEMU would run SeaBIOS, find no boot device and say so: the
         * board is built and reset all the same, vCPU 0 stays off. */
        fprintf(stderr, "tessera: machine '%s': nothing to boot: no -kernel given, and "
                "tessera has no firmware (no BIOS); the vCPUs stay halted\n", b->name);
        return 0;
    }
    ret = read_file(b, "kernel", cfg->kernel, &b->kernel);
    if (!ret && cfg->initrd) {
        ret = read_file(b, "initrd", cfg->initrd, &b->initrd);
    }
    b->cmdline = strdup(cfg->append ? cfg->append : "");
    return ret;
}

/* ---- RAM, CPUs, interrupts, ISA devices ---- */

tes_device *x86_board_dev(x86_board *b, const char *type, const char *props)
{
    tes_device *d = H->dev_create(b->dev, NULL, type, props);

    if (!d) {
        H->error(b->dev, "cannot create the %s device", type);
    }
    return d;
}

static tes_bus *sysbus_of(x86_board *b)
{
    return H->dev_bus(b->dev);
}

void x86_board_mark(x86_board *b)
{
    tes_bus *sys = sysbus_of(b);

    b->own_sysbus = 0;
    while (sys && H->bus_child(sys, b->own_sysbus)) {
        b->own_sysbus++;
    }
}

int x86_board_refuse_platform(x86_board *b)
{
    tes_bus *sys = sysbus_of(b);
    tes_device *d;

    for (unsigned i = b->own_sysbus; sys && (d = H->bus_child(sys, i)); i++) {
        tes_platform_place pl = {.size = sizeof(pl)};

        if (H->dev_platform_info(d) || H->dev_platform_place(d, &pl)) {
            H->error(b->dev, "machine '%s' does not place platform devices: device '%s' "
                     "(%s) cannot be added to it", b->name, H->dev_id(d), H->dev_type(d));
            return -EINVAL;
        }
    }
    return 0;
}

int x86_board_ram(x86_board *b, uint64_t size, uint64_t lowmem)
{
    tes_region *sys = H->system_memory();

    b->lowmem = lowmem;
    b->highmem = size - lowmem;
    if (b->lowmem < 16 * MiB) {
        H->error(b->dev, "-m %llu MiB is too small: %s needs at least 16 MiB",
                 (unsigned long long)(size >> 20), b->name);
        return -EINVAL;
    }
    /* The core's machine RAM: the NUMA nodes' memory backends when
     * -numa node,memdev= gives them (error reported by the core). */
    b->ram = H->machine_ram_new(b->dev, "pc.ram");
    b->ram_ptr = b->ram ? H->region_ram_ptr(b->ram) : NULL;
    if (!b->ram_ptr) {
        H->error(b->dev, "cannot allocate %llu MiB of RAM", (unsigned long long)(size >> 20));
        return -ENOMEM;
    }
    if (H->region_size(b->ram) != size) {
        H->error(b->dev, "RAM is %llu bytes, -m asked for %llu",
                 (unsigned long long)H->region_size(b->ram), (unsigned long long)size);
        return -EINVAL;
    }
    H->region_add(sys, 0, H->region_new_alias(b->dev, "ram-below-4g", b->ram, 0, b->lowmem),
                  0);
    if (b->highmem) {
        H->region_add(sys, 0x100000000ull,
                      H->region_new_alias(b->dev, "ram-above-4g", b->ram, b->lowmem,
                                          b->highmem), 0);
    }
    return 0;
}

int x86_board_cpus(x86_board *b, const tes_machine_config *cfg)
{
    b->ncpus = cfg->smp ? cfg->smp : 1;
    for (unsigned i = 0; i < b->ncpus; i++) {
        if (!H->cpu_create(b->dev, cfg->cpu_model, i)) {
            return -ENODEV;
        }
    }
    return x86_board_cpuhp_init(b);
}

/* Device memory without -numa: one node with every CPU and all RAM, as
 * QEMU's pc machines enable NUMA by themselves when memory devices are
 * possible (auto_enable_numa_with_memhp), so the SRAT can say where the
 * hot-pluggable range is (Linux sizes its memory map for it). */
static bool one_node(x86_board *b, const tes_topology *t, acpi_numa *out)
{
    static const uint8_t local = 10;

    free(b->numa_mem);
    free(b->numa_cpu_node);
    b->numa_mem = malloc(sizeof(uint64_t));
    b->numa_cpu_node = calloc(t->max_cpus ? t->max_cpus : 1, sizeof(uint32_t));
    if (!b->numa_mem || !b->numa_cpu_node) {
        return false;
    }
    b->numa_mem[0] = b->lowmem + b->highmem;
    out->nodes = 1;
    out->node_mem = b->numa_mem;
    out->cpu_node = b->numa_cpu_node;
    out->distance = &local;
    out->slit = false;
    return true;
}

void x86_board_numa(x86_board *b, acpi_numa *out)
{
    const tes_topology *t = H->machine_topology();
    uint64_t dev = x86_devmem_size(b);

    free(b->possible_apic_id);
    b->possible_apic_id = calloc(t->max_cpus ? t->max_cpus : 1, sizeof(uint32_t));
    for (unsigned i = 0; b->possible_apic_id && i < t->max_cpus; i++) {
        b->possible_apic_id[i] = tes_topology_x86_apic_id(t, i);
    }
    *out = (acpi_numa){
        .max_cpus = t->max_cpus,
        .possible_apic_id = b->possible_apic_id,
        .nodes = t->nodes,
        .node_mem = t->node_mem,
        .cpu_node = t->cpu_node,
        .distance = t->distance,
        .slit = t->distance_given,
        .lowmem = b->lowmem,
        .hotplug_base = dev ? x86_devmem_base(b) : 0,
        .hotplug_size = dev,
    };
    if (dev && !t->nodes && !one_node(b, t, out)) {
        out->nodes = 0; /* out of memory: no SRAT, as without maxmem */
    }
}

x86_acpi_devs x86_board_acpi_devs(x86_board *b, acpi_numa *numa, uint32_t *apic_id)
{
    x86_board_numa(b, numa);
    for (unsigned i = 0; i < b->ncpus; i++) {
        tes_cpu *cpu = H->cpu_by_index(i); /* device_del may have taken it */

        apic_id[i] = cpu ? (uint32_t)H->cpu_arch_id(cpu) : b->cpuhp.apic_id[i];
    }
    return (x86_acpi_devs){
        .ncpus = b->ncpus,
        .apic_id = apic_id,
        .numa = numa,
        .cpuhp = b->cpuhp.max_cpus ? &b->cpuhp : NULL,
        .nvdimm = b->nvdimm,
        .nvd = b->nvd,
        .nnvd = b->nnvd,
        .mem_slots = b->memhp.nslots,
    };
}

unsigned x86_board_pxbs(tes_bus *root, tes_pxb_info *out, unsigned max)
{
    const tes_pxb_iface *x = H->iface_lookup(TES_PXB_IFACE, TES_PXB_IFACE_VERSION);
    unsigned n = 0;

    while (x && root && n < max) {
        out[n] = (tes_pxb_info){.size = sizeof(tes_pxb_info)};
        if (!x->get(root, n, &out[n])) {
            break;
        }
        n++;
    }
    return n;
}

uint8_t *x86_board_acpi_buf(x86_board *b, size_t size)
{
    free(b->acpi);
    b->acpi = malloc(size);
    b->acpi_len = 0;
    return b->acpi;
}

int x86_board_acpi_check(x86_board *b, size_t size)
{
    if (!b->acpi_len) {
        H->error(b->dev, "the ACPI tables do not fit in %llu KiB",
                 (unsigned long long)(size >> 10));
        return -ENOMEM;
    }
    return 0;
}

int x86_board_devices_done(x86_board *b, bool pxbs)
{
    int ret = x86_board_refuse_platform(b);

    ret = ret ? ret : x86_board_memdevs(b);
    if (ret) {
        return ret;
    }
    return pxbs || b->nnvd || x86_board_cpus_added(b);
}

/* ISA IRQ n -> 8259 input n and IOAPIC pin n (IRQ0 -> pin 2). */
static void isa_irq(void *opaque, int n, int level)
{
    x86_board *b = opaque;

    H->irq_set(H->dev_irq_in(b->pic, (unsigned)n), level);
    H->irq_set(H->dev_irq_in(b->ioapic, n == 0 ? 2 : (unsigned)n), level);
}

/* The ISA lines for devices that are not the board's own (piix3-ide's
 * IRQ 14/15): <tessera/isa.h>. One machine a process, so the table can
 * point at it through a static. */
static x86_board *isa_board;

static tes_irq *board_isa_irq(unsigned n)
{
    return isa_board && n < 16 ? isa_board->isa[n] : NULL;
}

static const tes_isa_iface x86_isa_iface = {
    .size = sizeof(tes_isa_iface),
    .irq = board_isa_irq,
};

int x86_board_irqchips(x86_board *b, uint64_t ioapic_base)
{
    tes_device *pic = x86_board_dev(b, "i8259", NULL);
    tes_device *ioapic = pic ? x86_board_dev(b, "ioapic", NULL) : NULL;

    if (!ioapic) {
        return -ENODEV;
    }
    b->pic = pic;
    b->ioapic = ioapic;
    if (!H->dev_mmio(ioapic, 0) || !H->dev_irq_in(ioapic, 23) || !H->dev_irq_in(pic, 15)) {
        H->error(b->dev, "the i8259 or ioapic type lacks its region or input lines");
        return -ENODEV;
    }
    H->region_add(H->system_memory(), ioapic_base, H->dev_mmio(ioapic, 0), 0);
    /* The 8259's INT drives the BSP's INTR (LINT0 in ExtINT mode). */
    H->dev_connect_irq(pic, 0, H->cpu_irq_in(H->cpu_by_index(0), TES_X86_INTR));
    for (unsigned i = 0; i < 16; i++) {
        b->isa[i] = H->irq_new(isa_irq, b, (int)i);
    }
    isa_board = b;
    H->iface_register(TES_ISA_IFACE, TES_ISA_IFACE_VERSION, &x86_isa_iface);
    return 0;
}

int x86_board_isa(x86_board *b, bool wire_i8042)
{
    tes_device *pit = x86_board_dev(b, "i8254", NULL);
    tes_device *rtc = b->rtc = pit ? x86_board_dev(b, "mc146818rtc", NULL) : NULL;
    tes_device *com1 = rtc ? x86_board_dev(b, "isa-serial",
                                           H->serial_chr(0) ? "chardev=serial0" : NULL)
                           : NULL;

    b->i8042 = com1 ? x86_board_dev(b, "i8042", NULL) : NULL;
    if (!b->i8042) {
        return -ENODEV;
    }
    H->dev_connect_irq(pit, 0, b->isa[0]);
    H->dev_connect_irq(rtc, 0, b->isa[8]);
    H->dev_connect_irq(com1, 0, b->isa[4]);
    if (wire_i8042) {
        H->dev_connect_irq(b->i8042, 0, b->isa[1]);
        H->dev_connect_irq(b->i8042, 1, b->isa[12]);
    }
    return 0;
}

/* ---- Linux ---- */

q35_boot_cfg x86_board_boot_cfg(x86_board *b)
{
    return (q35_boot_cfg){
        .ram = b->ram_ptr,
        .lowmem = b->lowmem,
        .highmem = b->highmem,
        .kernel = b->kernel.data,
        .kernel_size = b->kernel.size,
        .initrd = b->initrd.data,
        .initrd_size = b->initrd.size,
        .cmdline = b->cmdline,
    };
}

int x86_board_prepare_kernel(x86_board *b, const tes_machine_config *cfg, q35_boot_cfg *bc)
{
    char err[200];

    if (!b->kernel.data) {
        return 0;
    }
    if (!q35_boot_prepare(bc, &b->boot, err, sizeof(err))) {
        H->error(b->dev, "kernel '%s': %s", cfg->kernel, err);
        return -EINVAL;
    }
    return 0;
}

int x86_board_load_kernel(x86_board *b, q35_boot_cfg *bc)
{
    char err[200];

    if (b->kernel.data && !q35_boot_load(bc, &b->boot, err, sizeof(err))) {
        H->error(b->dev, "kernel: %s", err);
        return -EINVAL;
    }
    H->as_set_dirty(H->system_memory(), 0, b->lowmem);
    return 0;
}

/* boot.rst, 64-bit boot protocol: RSI = boot_params. */
int x86_board_start_cpu0(x86_board *b, const tes_machine_config *cfg)
{
    tes_cpu_boot cb = {
        .size = sizeof(cb),
        .mode = TES_BOOT_X86_LONG64,
        .entry = b->boot.entry,
        .page_table = b->boot.cr3,
        .gdt_base = b->boot.gdt_base,
        .gdt_limit = b->boot.gdt_limit,
        .code_sel = 0x10,
        .data_sel = 0x18,
    };
    int ret;

    if (!b->kernel.data) {
        /* Nothing to run: off now and after every reset (not the reset
         * vector: no firmware there, it would run 0xff bytes). */
        cb.mode = TES_BOOT_POWER_OFF;
        return H->cpu_set_boot(H->cpu_by_index(0), &cb);
    }
    cb.regs[4] = b->boot.boot_params; /* rsp: startup_64 sets its own first */
    cb.regs[6] = b->boot.boot_params; /* rsi */
    ret = H->cpu_set_boot(H->cpu_by_index(0), &cb);
    if (ret) {
        H->error(b->dev, "CPU model '%s' cannot enter a 64-bit kernel (%s)", cfg->cpu_model,
                 strerror(-ret));
    }
    return ret;
}

int x86_board_load(x86_board *b, q35_boot_cfg *bc, uint64_t acpi_base)
{
    if (b->waking) {
        b->waking = false; /* the S3 wakeup's reset: the guest's RAM stays */
        return 0;
    }
    x86_cpuhp_reset(&b->cpuhp);
    if (!b->ram_ptr || !b->acpi || b->dumpacpi) {
        return 0;
    }
    memcpy(b->ram_ptr + acpi_base, b->acpi, b->acpi_len);
    return x86_board_load_kernel(b, bc);
}

int x86_board_boot(x86_board *b, const tes_machine_config *cfg, q35_boot_cfg *bc,
                   uint64_t acpi_base)
{
    int ret;

    if (b->dumpacpi) {
        return x86_board_dump_acpi(b, b->dumpacpi, acpi_base);
    }
    ret = x86_board_prepare_kernel(b, cfg, bc);
    ret = ret ? ret : x86_board_load(b, bc, acpi_base);
    return ret ? ret : x86_board_start_cpu0(b, cfg);
}

/* ---- dumpacpi ---- */

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

/* Like virt's dumpdtb: the tables, then exit 0. */
int x86_board_dump_acpi(x86_board *b, const char *dir, uint64_t base)
{
    const uint8_t *t;
    char sig[5];
    size_t len;
    bool ok = dump_one(dir, "RSDP", b->acpi, 36);

    for (unsigned i = 0;
         ok && (t = acpi_table_find(b->acpi, base, b->acpi_len, i, sig, &len)); i++) {
        ok = dump_one(dir, sig, t, len);
    }
    for (unsigned i = 0; ok && i < 2; i++) {
        /* RSDT and XSDT: found through the RSDP */
        uint64_t a = 0;
        for (unsigned k = 0; k < (i ? 8u : 4u); k++) {
            a |= (uint64_t)b->acpi[(i ? 24 : 16) + k] << (8 * k);
        }
        t = b->acpi + (a - base);
        len = (size_t)t[4] | (size_t)t[5] << 8;
        ok = dump_one(dir, i ? "XSDT" : "RSDT", t, len);
    }
    if (!ok) {
        H->error(b->dev, "dumpacpi '%s': %s", dir, strerror(errno));
        return -EIO;
    }
    fprintf(stderr, "tessera: ACPI tables dumped to %s. Exiting.\n", dir);
    H->cpu_set_running(H->cpu_by_index(0), false);
    H->request_shutdown(0);
    return 0;
}

void x86_board_free(x86_board *b)
{
    free(b->kernel.data);
    free(b->initrd.data);
    free(b->boot.vmlinux);
    free(b->acpi);
    free(b->cmdline);
    free(b->possible_apic_id);
    b->possible_apic_id = NULL;
    free(b->numa_mem);
    free(b->numa_cpu_node);
    b->numa_mem = NULL;
    b->numa_cpu_node = NULL;
    x86_board_memslots_free(b);
    if (isa_board == b) {
        isa_board = NULL;
    }
    b->kernel.data = b->initrd.data = b->boot.vmlinux = b->acpi = NULL;
    b->cmdline = NULL;
}
