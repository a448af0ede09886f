/*
 * board-virt: the `virt` machine, a board that exists only in emulators,
 * laid out like QEMU's (hw/arm/virt.c) so that kernels, device trees and
 * habits carry over. A plugin of its own, composed only through the SDK:
 * CPUs of any AArch64 CPU plugin (the CPU<->board interface of
 * <tessera/cpu.h>), the arm-gic, pl011 and pl031 types of whichever plugin
 * provides them (-plugin swaps one), the gpex host bridge (<tessera/gpex.h>)
 * and virtio-mmio transports (<tessera/virtio.h>).
 *
 * User manual
 *
 *   tessera -M virt[,gic-version=2|3|max][,its=on|off][,dumpdtb=FILE]
 *           -cpu cortex-a57 -smp N -m SIZE -nographic -kernel Image
 *           [-initrd FILE] [-append CMDLINE] [-dtb FILE]
 *
 *   gic-version=2   (default) GICv2 with a v2m MSI frame, up to 8 vCPUs.
 *   gic-version=3   (also "max", as QEMU's TCG picks) GICv3 (arm-gicv3):
 *                   distributor, one redistributor per vCPU, ICC_*
 *                   system registers, up to 64 vCPUs.
 *   its=on|off      (default on) GICv3 only: the ITS, through which PCIe
 *                   MSIs go (msi-map); off: PCIe devices use INTx.
 *   dumpdtb=FILE    write the generated device tree (with /chosen as it
 *                   would be given to the kernel) to FILE and exit 0.
 *   highmem=on|off  accepted for QEMU command lines; nothing lives above
 *                   4 GiB but RAM.
 *   nvdimm=on       -device nvdimm,memdev=ID (with -m SIZE,slots=N,maxmem=MAX):
 *                   each module in device memory (from the first GiB
 *                   above RAM), a pmem-region DT node (Linux's of_pmem).
 *   iommu=smmuv3    an Arm SMMUv3 (the iommu plugin's arm-smmuv3) at
 *                   0x09050000, SPIs 74..77, translating every function
 *                   below pcie.0 (stream id = requester id), described in
 *                   the DT (arm,smmu-v3; iommu-map on the pcie node) as
 *                   QEMU does. iommu=none (the default): no IOMMU.
 *   -m              RAM at 0x40000000 (default 512M).
 *   -kernel         an arm64 Image (Linux Documentation/arm64/booting.rst;
 *                   Debian's vmlinuz-*-arm64 is one). Without it there is
 *                   nothing to boot (no firmware): one notice line, vCPU 0
 *                   stays off (TES_BOOT_POWER_OFF), the board is built.
 *   -initrd         loaded after the kernel, announced in /chosen.
 *   -dtb            use this device tree instead of the generated one;
 *                   /chosen bootargs and initrd are still filled in.
 *
 * Memory map (QEMU's): GIC distributor 0x08000000, CPU interface
 * 0x08010000 and v2m 0x08020000 (GICv2), ITS 0x08080000 and
 * redistributors from 0x080a0000 (GICv3), PL011 0x09000000 (SPI 1, serial0), PL031
 * 0x09010000 (SPI 2), 32 virtio-mmio transports at 0x0a000000 + 0x200 * i
 * (SPI 16 + i), the gpex PCIe host bridge (plugins/pcie: 32-bit memory
 * window 0x10000000..0x3efeffff, I/O ports at 0x3eff0000, ECAM for buses
 * 0..15 at 0x3f000000, INTA..D on SPIs 3..6, MSI/MSI-X through the v2m
 * frame or the ITS), RAM from 0x40000000. The cpu-arm, arm-platform, pcie and virtio
 * plugins must be loaded (any order); without them the machine refuses to
 * start.
 *
 *   -device virtio-blk-device,drive=ID   on the first free virtio-mmio
 *                                        transport (lowest address first)
 *   -device virtio-blk-pci,drive=ID      on pcie.0 (or bus=<root port>)
 *   -device TYPE,addr=A,irq=N[,...]      any platform device (a type with
 *                                        a tes_platform_info, e.g. pl011):
 *       mapped at A (its further regions follow, each aligned to its
 *       size), its interrupt outputs on SPIs N, N+1, ..., and described
 *       in the DT from what its type declares. A must be free space below
 *       RAM (0x0c000000..0x0fffffff is free, as QEMU's platform bus), the
 *       SPIs free: 0, 7..15 and 112..255 (48..111 are the v2m frame's;
 *       with GICv3, 48..255 are free).
 *       Example: a second UART, ttyAMA1 in the guest:
 *         -serial mon:stdio -serial file:uart1.txt
 *         -device pl011,addr=0x0c000000,irq=112,chardev=serial1
 *
 * Boot: the kernel goes to RAM + 2 MiB + text_offset, the initrd after it
 * (2 MiB aligned), the DTB in the last 2 MiB-aligned window of RAM. vCPU 0
 * starts at the kernel with x0 = DTB; the others wait for PSCI CPU_ON. A
 * reset (PSCI SYSTEM_RESET without -no-reboot) copies the three images
 * into RAM again, as QEMU's ROM blobs do.
 *
 * system_powerdown: QEMU presses a PL061 GPIO power key; there is none
 * here yet, so it is only logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tessera/fdt.h>
#include <tessera/gpex.h>
#include <tessera/smmuv3.h>
#include <tessera/tessera.h>
#include <tessera/virtio.h>

#include "virt.h"

static const tes_host *H;

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

#define VIRT_MAX_CPUS 64    /* GICv3's; GICv2 serves 8 */
#define VIRT_GICV2_MAX_CPUS 8
#define KERNEL_ALIGN (2 * MiB)
#define DTB_MAX_SIZE (2 * MiB) /* booting.rst: the DTB must not exceed 2 MiB */

const virt_range virt_memmap[VIRT_NR_REGIONS] = {
    [VIRT_GIC_DIST] = {0x08000000, 0x00010000},
    [VIRT_GIC_CPU] = {0x08010000, 0x00010000},
    [VIRT_GIC_V2M] = {0x08020000, 0x00001000},
    [VIRT_GIC_ITS] = {0x08080000, 0x00020000},
    [VIRT_GIC_REDIST] = {0x080a0000, 0x00f60000},
    [VIRT_UART] = {0x09000000, 0x00001000},
    [VIRT_RTC] = {0x09010000, 0x00001000},
    [VIRT_SMMU] = {0x09050000, 0x00020000},
    [VIRT_MMIO] = {0x0a000000, 0x00000200 * VIRT_MMIO_SLOTS},
    [VIRT_PCIE_MMIO] = {0x10000000, 0x2eff0000},
    [VIRT_PCIE_PIO] = {0x3eff0000, 0x00010000},
    [VIRT_PCIE_ECAM] = {0x3f000000, 0x01000000},
    [VIRT_MEM] = {0x40000000, 0},
};

/* GIC configuration: 256 SPIs (num-irq 288, QEMU virt's), so input
 * nspi + 16 * cpu + (ID - 16) is PPI ID of that CPU (arm-gic's manual). */
#define VIRT_GIC_NUM_IRQ 288
#define VIRT_GIC_NSPI (VIRT_GIC_NUM_IRQ - 32)
#define VIRT_V2M_SPI 48 /* the frame's SPIs 48..111 (arm-gic's defaults) */
#define VIRT_V2M_NSPI 64
#define VIRT_MAX_PLAT 32 /* platform device nodes: 2 stock + -device ones */

/* A file image the boot loader copies into RAM (again at each reset). */
typedef struct blob {
    uint8_t *data;
    uint64_t size;
    uint64_t addr; /* guest physical */
} blob;

typedef struct virt_machine {
    /* -machine properties */
    char *gic_version;
    char *dumpdtb;
    bool highmem;
    bool its;
    char *iommu;
    bool nvdimm;

    unsigned gic; /* 2 or 3, from gic-version */
    virt_pmem pmem[VIRT_MAX_NVDIMMS]; /* -device nvdimm, placed */
    unsigned npmem;

    tes_device *dev;
    tes_region *ram;
    uint8_t *ram_ptr;
    uint64_t ram_size;
    unsigned ncpus;
    tes_machine_config cfg; /* strings owned by the core, live as long */
    tes_device *gic_dev;
    tes_device *uart, *rtc;
    virt_plat_node plat[VIRT_MAX_PLAT];
    tes_device *plat_dev[VIRT_MAX_PLAT];
    unsigned nplat;
    int uart_plat; /* plat[] index of the stock UART */
    uint32_t spi_used[VIRT_GIC_NSPI / 32]; /* bitmap: SPIs the board wired */
    tes_device *gpex;
    tes_device *smmu; /* iommu=smmuv3 */
    tes_device *vmmio[VIRT_MMIO_SLOTS];
    blob kernel, initrd, dtb;
    uint64_t kernel_mem; /* bytes the kernel occupies (image_size) */
} virt_machine;

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* ---- host files ---- */

/* Read a whole file; errors name it as "what 'path': reason". */
static int read_file(virt_machine *m, const char *what, const char *path, blob *b)
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

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

/* ---- the kernel Image (Documentation/arm64/booting.rst, section 4) ---- */

#define IMAGE_HDR_SIZE 64
#define IMAGE_MAGIC_OFF 0x38
#define IMAGE_FLAG_BE 1u

/* Check the header; fill the load address and the memory it occupies. */
static int kernel_layout(virt_machine *m, const char *path)
{
    const uint8_t *h = m->kernel.data;
    uint64_t text_offset, image_size, flags;

    if (m->kernel.size < IMAGE_HDR_SIZE || memcmp(h + IMAGE_MAGIC_OFF, "ARM\x64", 4) != 0) {
        bool gz = m->kernel.size >= 2 && h[0] == 0x1f && h[1] == 0x8b;
        H->error(m->dev, "kernel '%s' is not an arm64 Image%s", path,
                 gz ? " (it is gzip-compressed: gunzip it first)" : "");
        return -EINVAL;
    }
    text_offset = le64(h + 8);
    image_size = le64(h + 16);
    flags = le64(h + 24);
    if (flags & IMAGE_FLAG_BE) {
        H->error(m->dev, "kernel '%s' is a big-endian Image; only little-endian is supported", path);
        return -EINVAL;
    }
    if (image_size == 0) {
        /* Kernels before 3.17: text_offset is 0x80000 in practice. */
        text_offset = 0x80000;
    }
    m->kernel_mem = image_size > m->kernel.size ? image_size : m->kernel.size;
    m->kernel.addr = virt_memmap[VIRT_MEM].base + KERNEL_ALIGN + text_offset;
    return 0;
}

static bool fits_in_ram(virt_machine *m, uint64_t addr, uint64_t size)
{
    uint64_t base = virt_memmap[VIRT_MEM].base;

    return addr >= base && size <= m->ram_size && addr - base <= m->ram_size - size;
}

/* Kernel, then initrd, then (at the top of RAM) the DTB. */
static int place_initrd(virt_machine *m)
{
    uint64_t end = m->kernel.addr + m->kernel_mem;

    if (!fits_in_ram(m, m->kernel.addr, m->kernel_mem)) {
        H->error(m->dev, "kernel needs %llu MiB of RAM from 0x%llx; -m %llu MiB is too small",
                 (unsigned long long)(m->kernel_mem >> 20),
                 (unsigned long long)m->kernel.addr, (unsigned long long)(m->ram_size >> 20));
        return -EINVAL;
    }
    if (m->initrd.data) {
        m->initrd.addr = align_up(end, KERNEL_ALIGN);
        if (!fits_in_ram(m, m->initrd.addr, m->initrd.size)) {
            H->error(m->dev, "kernel + initrd (%llu MiB) do not fit in -m %llu MiB",
                     (unsigned long long)((m->initrd.addr + m->initrd.size - m->kernel.addr) >> 20),
                     (unsigned long long)(m->ram_size >> 20));
            return -EINVAL;
        }
    }
    return 0;
}

static int place_dtb(virt_machine *m)
{
    uint64_t ram_end = virt_memmap[VIRT_MEM].base + m->ram_size;
    uint64_t low = m->initrd.data ? m->initrd.addr + m->initrd.size
                                  : m->kernel.addr + m->kernel_mem;

    if (m->dtb.size > DTB_MAX_SIZE) {
        H->error(m->dev, "device tree is %llu bytes; the arm64 boot protocol allows 2 MiB",
                 (unsigned long long)m->dtb.size);
        return -EINVAL;
    }
    /* Its own 2 MiB window: the kernel maps the DTB with 2 MiB blocks. */
    m->dtb.addr = (ram_end - m->dtb.size) & ~(KERNEL_ALIGN - 1);
    if (m->dtb.addr < low || m->dtb.size > m->ram_size) {
        H->error(m->dev, "no room for the device tree above the kernel and initrd in -m %llu MiB",
                 (unsigned long long)(m->ram_size >> 20));
        return -EINVAL;
    }
    return 0;
}

/* Copy the images into RAM; marks them dirty so decoded code and
 * migration see the new contents. */
static void load_blobs(virt_machine *m)
{
    const blob *bs[] = {&m->kernel, &m->initrd, &m->dtb};

    for (unsigned i = 0; i < 3; i++) {
        const blob *b = bs[i];
        if (b->data && b->size) {
            memcpy(m->ram_ptr + (b->addr - virt_memmap[VIRT_MEM].base), b->data, b->size);
            H->as_set_dirty(H->system_memory(), b->addr, b->size);
        }
    }
}

/* ---- devices ---- */

static int create_ram(virt_machine *m, const tes_machine_config *cfg)
{
    /* The core's machine RAM: the NUMA nodes' memory backends when
     * -numa node,memdev= gives them. */
    m->ram = H->machine_ram_new(m->dev, "ram");
    m->ram_ptr = m->ram ? H->region_ram_ptr(m->ram) : NULL;
    if (!m->ram_ptr) {
        H->error(m->dev, "cannot allocate %llu MiB of RAM",
                 (unsigned long long)(m->ram_size >> 20));
        return -ENOMEM;
    }
    H->region_add(H->system_memory(), virt_memmap[VIRT_MEM].base, m->ram, 0);
    return 0;
}

/* ---- interrupt wiring ---- */

static tes_irq *spi_line(virt_machine *m, unsigned spi)
{
    return spi < VIRT_GIC_NSPI ? H->dev_irq_in(m->gic_dev, spi) : NULL;
}

static tes_irq *ppi_line(virt_machine *m, unsigned cpu, unsigned id)
{
    return H->dev_irq_in(m->gic_dev, VIRT_GIC_NSPI + 16 * cpu + (id - 16));
}

static void mark_spis(virt_machine *m, unsigned first, unsigned n)
{
    for (unsigned i = first; i < first + n && i < VIRT_GIC_NSPI; i++) {
        m->spi_used[i / 32] |= 1u << (i % 32);
    }
}

static bool spi_free(virt_machine *m, unsigned spi)
{
    return spi < VIRT_GIC_NSPI && !(m->spi_used[spi / 32] & (1u << (spi % 32)));
}

/* Output i of dev to SPI first + i. */
static void wire_spis(virt_machine *m, tes_device *dev, unsigned first, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        H->dev_connect_irq(dev, i, spi_line(m, first + i));
    }
    mark_spis(m, first, n);
}

/* The vCPU's generic timer outputs to their PPIs (the binding's order:
 * sec 29, phys 30, virt 27, hyp 26, i.e. 16 + the PPI numbers in the
 * DT), and the GIC's IRQ/FIQ outputs to the vCPU's inputs. */
static void wire_cpu(virt_machine *m, unsigned i)
{
    tes_cpu *cpu = H->cpu_by_index(i);
    tes_device *cd = H->cpu_dev(cpu);

    H->dev_connect_irq(cd, TES_ARM_TIMER_PHYS, ppi_line(m, i, 16 + VIRT_PPI_TIMER_PHYS));
    H->dev_connect_irq(cd, TES_ARM_TIMER_VIRT, ppi_line(m, i, 16 + VIRT_PPI_TIMER_VIRT));
    H->dev_connect_irq(cd, TES_ARM_TIMER_HYP, ppi_line(m, i, 16 + VIRT_PPI_TIMER_HYP));
    H->dev_connect_irq(cd, TES_ARM_TIMER_SEC, ppi_line(m, i, 16 + VIRT_PPI_TIMER_SEC));
    H->dev_connect_irq(m->gic_dev, i, H->cpu_irq_in(cpu, TES_ARM_IRQ));
    H->dev_connect_irq(m->gic_dev, m->ncpus + i, H->cpu_irq_in(cpu, TES_ARM_FIQ));
}

/* gic-version: 2, or 3 (and max, the highest we emulate, as QEMU's TCG
 * picks), whose redistributors serve up to 64 vCPUs. */
static int check_gic_version(virt_machine *m)
{
    if (strcmp(m->gic_version, "2") == 0) {
        m->gic = 2;
    } else if (strcmp(m->gic_version, "3") == 0 || strcmp(m->gic_version, "max") == 0) {
        m->gic = 3;
    } else {
        H->error(m->dev, "property 'gic-version' wants 2, 3 or max, got '%s'", m->gic_version);
        return -EINVAL;
    }
    if (m->gic == 2 && m->ncpus > VIRT_GICV2_MAX_CPUS) {
        H->error(m->dev, "gic-version=2 serves up to %u vCPUs, -smp asks for %u (use "
                 "gic-version=3)", VIRT_GICV2_MAX_CPUS, m->ncpus);
        return -EINVAL;
    }
    return 0;
}

/* Map region i of the GIC at the memory-map slot where[i]. */
static int map_gic(virt_machine *m, const char *type, const int *where, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        tes_region *r = H->dev_mmio(m->gic_dev, i);

        if (!r || H->region_size(r) > virt_memmap[where[i]].size) {
            H->error(m->dev, "%s provides no MMIO region %u of at most 0x%llx bytes", type, i,
                     (unsigned long long)virt_memmap[where[i]].size);
            return -ENODEV;
        }
        H->region_add(H->system_memory(), virt_memmap[where[i]].base, r, 0);
    }
    return 0;
}

static int create_gicv2(virt_machine *m)
{
    static const int where[] = {VIRT_GIC_DIST, VIRT_GIC_CPU, VIRT_GIC_V2M};
    char props[96];

    snprintf(props, sizeof(props), "num-cpu=%u,num-irq=%u,v2m-base-spi=%u,v2m-num-spi=%u",
             m->ncpus, VIRT_GIC_NUM_IRQ, VIRT_V2M_SPI, VIRT_V2M_NSPI);
    m->gic_dev = H->dev_create(m->dev, NULL, "arm-gic", props);
    if (!m->gic_dev || map_gic(m, "arm-gic", where, 3)) {
        return -ENODEV;
    }
    mark_spis(m, VIRT_V2M_SPI, VIRT_V2M_NSPI);
    return 0;
}

/* Distributor, redistributors (one region for all vCPUs), the ITS. */
static int create_gicv3(virt_machine *m)
{
    static const int where[] = {VIRT_GIC_DIST, VIRT_GIC_REDIST, VIRT_GIC_ITS};
    char props[96];

    snprintf(props, sizeof(props), "num-cpu=%u,num-irq=%u,its=%s", m->ncpus, VIRT_GIC_NUM_IRQ,
             m->its ? "on" : "off");
    m->gic_dev = H->dev_create(m->dev, NULL, "arm-gicv3", props);
    if (!m->gic_dev) {
        return -ENODEV;
    }
    return map_gic(m, "arm-gicv3", where, m->its ? 3 : 2);
}

static int create_gic(virt_machine *m)
{
    return m->gic == 3 ? create_gicv3(m) : create_gicv2(m);
}

static int create_cpus(virt_machine *m, const tes_machine_config *cfg)
{
    for (unsigned i = 0; i < m->ncpus; i++) {
        tes_cpu *cpu = H->cpu_create(m->dev, cfg->cpu_model, i);
        if (!cpu) {
            return -ENODEV;
        }
    }
    return 0;
}

/* ---- platform devices ---- */

/* Map dev's regions from base (each aligned to its size) and wire its
 * outputs from SPI first_spi; record its DT node. */
static int place_platform(virt_machine *m, tes_device *dev, uint64_t base, uint32_t first_spi)
{
    const tes_platform_info *pi = H->dev_platform_info(dev);
    virt_plat_node *n = &m->plat[m->nplat];
    uint64_t at = base;

    if (!pi || m->nplat == VIRT_MAX_PLAT || pi->num_mmio < 1 ||
        pi->num_mmio > VIRT_PLAT_MAX_MMIO || pi->num_irqs > VIRT_PLAT_MAX_IRQS ||
        !pi->compatible) {
        H->error(m->dev, "device '%s': cannot place it (%s)", H->dev_id(dev),
                 !pi ? "not a platform device"
                     : m->nplat == VIRT_MAX_PLAT ? "too many platform devices"
                                                 : "its platform info is out of range");
        return -EINVAL;
    }
    memset(n, 0, sizeof(*n));
    n->info = pi;
    n->type_name = H->dev_type(dev);
    n->first_spi = first_spi;
    for (unsigned i = 0; i < pi->num_mmio; i++) {
        tes_region *r = H->dev_mmio(dev, i);
        uint64_t size = r ? H->region_size(r) : 0;

        if (!r) {
            H->error(m->dev, "device '%s' declares %u MMIO regions but registered %u",
                     H->dev_id(dev), pi->num_mmio, i);
            return -EINVAL;
        }
        at = (at + size - 1) / size * size;
        H->region_add(H->system_memory(), at, r, 0);
        n->reg_base[i] = at;
        n->reg_size[i] = size;
        at += size;
    }
    n->nreg = pi->num_mmio;
    wire_spis(m, dev, first_spi, pi->num_irqs);
    m->plat_dev[m->nplat++] = dev;
    return 0;
}

/* PL031, then the PL011 on serial0 (nothing when -serial none): QEMU's
 * DT order. */
static int create_uart_rtc(virt_machine *m)
{
    m->rtc = H->dev_create(m->dev, NULL, "pl031", NULL);
    m->uart = m->rtc ? H->dev_create(m->dev, NULL, "pl011",
                                     H->serial_chr(0) ? "chardev=serial0" : NULL)
                     : NULL;
    if (!m->uart) {
        return -ENODEV;
    }
    if (place_platform(m, m->rtc, virt_memmap[VIRT_RTC].base, VIRT_RTC_SPI) ||
        place_platform(m, m->uart, virt_memmap[VIRT_UART].base, VIRT_UART_SPI)) {
        return -EINVAL;
    }
    m->uart_plat = (int)m->nplat - 1; /* /chosen stdout-path */
    return 0;
}

/* The generic ECAM host bridge (plugins/pcie) with QEMU's low windows:
 * ECAM for 16 buses, the 32-bit memory window mapped 1:1 to PCI addresses,
 * 64 KiB of I/O ports, INTA..INTD on SPIs 3..6. MSIs are writes to the v2m
 * frame, which sits in system memory where bus-master writes land. */
static int create_pcie(virt_machine *m)
{
    const tes_gpex_iface *g = H->iface_lookup(TES_GPEX_IFACE, TES_GPEX_IFACE_VERSION);
    tes_region *sys = H->system_memory();
    char props[96];

    if (!g) {
        H->error(m->dev, "needs the pcie plugin for its PCIe host bridge (interface '%s' v%d "
                         "not found; is pcie.so in the plugin path?)",
                 TES_GPEX_IFACE, TES_GPEX_IFACE_VERSION);
        return -ENODEV;
    }
    snprintf(props, sizeof(props),
             "ecam-buses=%llu,mmio-base=0x%llx,mmio-size=0x%llx,pio-size=0x%llx",
             (unsigned long long)(virt_memmap[VIRT_PCIE_ECAM].size >> 20),
             (unsigned long long)virt_memmap[VIRT_PCIE_MMIO].base,
             (unsigned long long)virt_memmap[VIRT_PCIE_MMIO].size,
             (unsigned long long)virt_memmap[VIRT_PCIE_PIO].size);
    m->gpex = H->dev_create(m->dev, NULL, "gpex-pcihost", props);
    if (!m->gpex || !g->ecam(m->gpex) || !g->mmio(m->gpex) || !g->pio(m->gpex)) {
        return -ENODEV;
    }
    H->region_add(sys, virt_memmap[VIRT_PCIE_ECAM].base, g->ecam(m->gpex), 0);
    H->region_add(sys, virt_memmap[VIRT_PCIE_MMIO].base, g->mmio(m->gpex), 0);
    H->region_add(sys, virt_memmap[VIRT_PCIE_PIO].base, g->pio(m->gpex), 0);
    for (unsigned i = 0; i < VIRT_PCIE_IRQS; i++) {
        g->connect_intx(m->gpex, i, spi_line(m, VIRT_PCIE_SPI + i));
    }
    mark_spis(m, VIRT_PCIE_SPI, VIRT_PCIE_IRQS);
    /* Devices that need nodes of their own (virtio-iommu-pci) find the
     * tree through tessera/fdt.h. */
    virt_dtiface_register(H, g->root_bus(m->gpex));
    return 0;
}

static bool want_smmu(virt_machine *m)
{
    return m->iommu && strcmp(m->iommu, "smmuv3") == 0;
}

static int check_iommu(virt_machine *m)
{
    if (m->iommu && strcmp(m->iommu, "none") != 0 && !want_smmu(m)) {
        H->error(m->dev, "property 'iommu' wants none or smmuv3, got '%s'", m->iommu);
        return -EINVAL;
    }
    return 0;
}

/* iommu=smmuv3: QEMU's create_smmu(): registers, SPIs, and the claim on
 * the PCIe root bus's DMA. */
static int create_smmu(virt_machine *m)
{
    const tes_gpex_iface *g = H->iface_lookup(TES_GPEX_IFACE, TES_GPEX_IFACE_VERSION);
    const tes_smmuv3_iface *si =
        H->iface_lookup(TES_SMMUV3_IFACE, TES_SMMUV3_IFACE_VERSION);

    if (!si) {
        H->error(m->dev, "iommu=smmuv3 needs the iommu plugin (interface '%s' v%d not "
                         "found; is iommu.so in the plugin path?)",
                 TES_SMMUV3_IFACE, TES_SMMUV3_IFACE_VERSION);
        return -ENODEV;
    }
    m->smmu = H->dev_create(m->dev, NULL, "arm-smmuv3", NULL);
    if (!m->smmu || !H->dev_mmio(m->smmu, 0)) {
        return -ENODEV;
    }
    H->region_add(H->system_memory(), virt_memmap[VIRT_SMMU].base, H->dev_mmio(m->smmu, 0), 0);
    /* QEMU's SPIs 74..77 lie in the v2m frame's range too: a guest would
     * need 27 MSIs before one collides. */
    wire_spis(m, m->smmu, VIRT_SMMU_SPI, TES_SMMUV3_NUM_IRQS);
    return si->attach(m->smmu, g->root_bus(m->gpex));
}

/* 32 empty virtio-mmio transports; `-device virtio-blk-device` plugs into
 * the first free one, lowest address first (virtio-mmio-bus.0 is the one
 * at 0x0a000000), which Linux probes first: the first such -device is
 * vda. QEMU fills its transports from the highest address down, so there
 * the first -device is probed last (checked with QEMU 7.2, Linux 6.1). */
static int create_virtio_mmio(virt_machine *m)
{
    const tes_virtio_mmio_ops *v =
        H->iface_lookup(TES_VIRTIO_MMIO_IFACE, TES_VIRTIO_MMIO_IFACE_VERSION);
    tes_region *sys = H->system_memory();

    if (!v) {
        H->error(m->dev, "needs the virtio plugin for its virtio-mmio transports (interface "
                         "'%s' v%d not found; is virtio.so in the plugin path?)",
                 TES_VIRTIO_MMIO_IFACE, TES_VIRTIO_MMIO_IFACE_VERSION);
        return -ENODEV;
    }
    for (unsigned i = 0; i < VIRT_MMIO_SLOTS; i++) {
        m->vmmio[i] = H->dev_create(m->dev, NULL, "virtio-mmio", NULL);
        if (!m->vmmio[i] || !v->region(m->vmmio[i])) {
            return -ENODEV;
        }
        H->region_add(sys, virt_memmap[VIRT_MMIO].base + i * VIRT_MMIO_SLOT_SIZE,
                      v->region(m->vmmio[i]), 0);
        wire_spis(m, m->vmmio[i], VIRT_MMIO_SPI + i, 1);
    }
    return 0;
}

static int create_board(virt_machine *m, const tes_machine_config *cfg)
{
    int ret = create_ram(m, cfg);

    if (!ret) {
        ret = create_cpus(m, cfg);
    }
    if (!ret) {
        ret = create_gic(m);
    }
    for (unsigned i = 0; !ret && i < m->ncpus; i++) {
        wire_cpu(m, i);
    }
    if (!ret) {
        ret = create_uart_rtc(m);
    }
    if (!ret) {
        ret = create_virtio_mmio(m);
    }
    if (!ret) {
        ret = create_pcie(m);
    }
    if (!ret && want_smmu(m)) {
        ret = create_smmu(m);
    }
    return ret;
}

/* ---- platform devices from -device ---- */

static bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
    return a < b + bs && b < a + as;
}

/* A user's addr= range: below RAM, clear of the board's map and of the
 * platform devices placed so far. */
static bool range_free(virt_machine *m, uint64_t base, uint64_t size)
{
    if (base + size < base || base + size > virt_memmap[VIRT_MEM].base) {
        return false;
    }
    for (unsigned i = 0; i < VIRT_MEM; i++) {
        if (overlaps(base, size, virt_memmap[i].base, virt_memmap[i].size)) {
            return false;
        }
    }
    for (unsigned i = 0; i < m->nplat; i++) {
        for (unsigned r = 0; r < m->plat[i].nreg; r++) {
            if (overlaps(base, size, m->plat[i].reg_base[r], m->plat[i].reg_size[r])) {
                return false;
            }
        }
    }
    return true;
}

/* Bytes the device's regions take from addr, each aligned to its size. */
static uint64_t plat_span(tes_device *dev, const tes_platform_info *pi, uint64_t addr)
{
    uint64_t at = addr;

    for (unsigned i = 0; i < pi->num_mmio && i < VIRT_PLAT_MAX_MMIO; i++) {
        tes_region *r = H->dev_mmio(dev, i);
        uint64_t size = r ? H->region_size(r) : 0;

        if (!size) {
            return 0;
        }
        at = (at + size - 1) / size * size + size;
    }
    return at - addr;
}

static int place_user_device(virt_machine *m, tes_device *dev, const tes_platform_info *pi)
{
    tes_platform_place pl = {.size = sizeof(pl)};
    uint64_t span;

    if (!H->dev_platform_place(dev, &pl) || !pl.has_addr || (pi->num_irqs && !pl.has_irq)) {
        H->error(m->dev, "platform device '%s' needs addr=%s on virt", H->dev_id(dev),
                 pi->num_irqs ? " and irq=" : "");
        return -EINVAL;
    }
    span = plat_span(dev, pi, pl.addr);
    if (!span || (pl.addr & 0xfff) || !range_free(m, pl.addr, span)) {
        H->error(m->dev, "platform device '%s': addr=0x%llx (+0x%llx) is not a free, 4 KiB "
                         "aligned range below RAM (0x0c000000..0x0fffffff is free)",
                 H->dev_id(dev), (unsigned long long)pl.addr, (unsigned long long)span);
        return -EINVAL;
    }
    for (unsigned i = 0; i < pi->num_irqs; i++) {
        if (!spi_free(m, pl.irq + i)) {
            H->error(m->dev, "platform device '%s': SPI %u is taken or out of range (free: 0, "
                             "7..15, %s..255)", H->dev_id(dev), pl.irq + i,
                             m->gic == 2 ? "112" : "48");
            return -EINVAL;
        }
    }
    return place_platform(m, dev, pl.addr, pl.irq);
}

static bool placed(virt_machine *m, tes_device *dev)
{
    for (unsigned i = 0; i < m->nplat; i++) {
        if (m->plat_dev[i] == dev) {
            return true;
        }
    }
    return false;
}

/* Every platform device on the system bus the board did not create. */
static int place_user_devices(virt_machine *m)
{
    tes_bus *sys = H->dev_bus(m->dev);
    tes_device *d;
    int ret = 0;

    for (unsigned i = 0; !ret && (d = H->bus_child(sys, i)) != NULL; i++) {
        const tes_platform_info *pi = H->dev_platform_info(d);

        if (pi && !placed(m, d)) {
            ret = place_user_device(m, d, pi);
        }
    }
    return ret;
}

/* ---- NVDIMMs ----
 * Device memory as QEMU's virt: from the first GiB boundary above RAM,
 * maxmem - RAM plus 1 GiB per slot; each -device nvdimm at the next
 * 128 MiB boundary (a Linux memory section) in -device order. */

#define NVDIMM_ALIGN (128ull << 20)

static uint64_t devmem_size(virt_machine *m)
{
    const tes_topology *t = H->machine_topology();

    if (!t || t->size < offsetof(tes_topology, ram_slots) + sizeof(unsigned) ||
        t->maxmem <= m->ram_size) {
        return 0;
    }
    return t->maxmem - m->ram_size + (uint64_t)t->ram_slots * (1ull << 30);
}

/* Bytes the placed modules take: QEMU's memory_device_check_addable keeps
 * them within maxmem - RAM (the per-slot GiB is alignment room only). */
static uint64_t pmem_used(const virt_machine *m)
{
    uint64_t used = 0;

    for (unsigned i = 0; i < m->npmem; i++) {
        used += m->pmem[i].size;
    }
    return used;
}

static int place_nvdimm(virt_machine *m, tes_device *d, uint64_t *next, uint64_t end)
{
    tes_region *r = H->dev_mmio(d, 0);
    uint64_t size = r ? H->region_size(r) : 0;
    uint64_t at = align_up(*next, NVDIMM_ALIGN);

    if (!m->nvdimm) {
        H->error(m->dev, "-device nvdimm needs -machine virt,nvdimm=on");
        return -EINVAL;
    }
    if (!end) {
        H->error(m->dev, "-device nvdimm needs device memory: -m SIZE,slots=N,maxmem=MAX");
        return -EINVAL;
    }
    if (m->npmem == VIRT_MAX_NVDIMMS || m->npmem == H->machine_topology()->ram_slots) {
        H->error(m->dev, "nvdimm '%s': no free memory slot (-m slots=%u)", H->dev_id(d),
                 H->machine_topology()->ram_slots);
        return -EINVAL;
    }
    if (!size || size % (2ull << 20) || at + size > end || at + size < at ||
        pmem_used(m) + size > H->machine_topology()->maxmem - m->ram_size) {
        H->error(m->dev, size % (2ull << 20) ? "nvdimm '%s': size %llu is not a multiple of 2 MiB"
                         : "nvdimm '%s': %llu bytes do not fit in the device memory left "
                           "(-m maxmem=)", H->dev_id(d), (unsigned long long)size);
        return -EINVAL;
    }
    H->region_add(H->system_memory(), at, r, 0);
    m->pmem[m->npmem++] = (virt_pmem){.addr = at, .size = size};
    *next = at + size;
    return 0;
}

static int place_nvdimms(virt_machine *m)
{
    tes_bus *sys = H->dev_bus(m->dev);
    uint64_t base = align_up(virt_memmap[VIRT_MEM].base + m->ram_size, 1ull << 30);
    uint64_t size = devmem_size(m), next = base;
    tes_device *d;

    m->npmem = 0;
    for (unsigned i = 0; sys && (d = H->bus_child(sys, i)) != NULL; i++) {
        if (strcmp(H->dev_type(d), "pc-dimm") == 0) {
            /* QEMU's virt plugs DIMMs through ACPI (its acpi-ged device),
             * which this DT-only board does not have. */
            H->error(m->dev, "pc-dimm '%s': memory hotplug is not supported on virt (q35 and "
                     "pc have it)", H->dev_id(d));
            return -EINVAL;
        }
        if (strcmp(H->dev_type(d), "nvdimm") == 0 &&
            place_nvdimm(m, d, &next, size ? base + size : 0)) {
            return -EINVAL;
        }
    }
    return 0;
}

/* ---- device tree ---- */

/* "cortex-a57" -> "arm,cortex-a57"; other models (max) as QEMU names them. */
static void cpu_compat(const char *model, char *buf, size_t len)
{
    if (model && strncmp(model, "cortex-", 7) == 0) {
        snprintf(buf, len, "arm,%s", model);
    } else {
        snprintf(buf, len, "arm,arm-v8");
    }
}

/* The pxb-pcie expanders on pcie.0 (tessera/pxb.h); false with an error
 * for one whose buses lie beyond the ECAM window. */
static bool find_pxbs(virt_machine *m, tes_pxb_info *out, unsigned max, unsigned *n)
{
    const tes_pxb_iface *x = H->iface_lookup(TES_PXB_IFACE, TES_PXB_IFACE_VERSION);
    const tes_gpex_iface *g = H->iface_lookup(TES_GPEX_IFACE, TES_GPEX_IFACE_VERSION);
    tes_bus *root = g && m->gpex ? g->root_bus(m->gpex) : NULL;
    unsigned buses = (unsigned)(virt_memmap[VIRT_PCIE_ECAM].size >> 20);

    for (*n = 0; x && root && *n < max; (*n)++) {
        out[*n] = (tes_pxb_info){.size = sizeof(tes_pxb_info)};
        if (!x->get(root, *n, &out[*n])) {
            break;
        }
        if (out[*n].bus_nr >= buses || !out[*n].pcie) {
            H->error(m->dev, "%s: virt's ECAM holds buses 0..%u and takes pxb-pcie only",
                     H->dev_id(out[*n].dev), buses - 1);
            return false;
        }
    }
    return true;
}

static void *generate_dtb(virt_machine *m, const tes_machine_config *cfg, char *err, size_t len)
{
    uint32_t reg[VIRT_MAX_CPUS];
    char compat[64];
    tes_pxb_info pxbs[16];
    virt_fdt_cfg fc = {
        .ncpus = m->ncpus, .gic_version = m->gic, .its = m->its, .cpu_reg = reg,
        .cpu_compat = compat, .ram_size = m->ram_size,
        .mmio_slots = VIRT_MMIO_SLOTS, .pcie = true, .plat = m->plat, .nplat = m->nplat,
        .stdout_plat = m->uart_plat, .smmu = m->smmu != NULL,
        .topo = H->machine_topology(), .pxbs = pxbs,
        .extra = virt_dtiface_extra(),
        .pmem = m->pmem, .npmem = m->npmem,
    };

    if (!find_pxbs(m, pxbs, 16, &fc.npxbs)) {
        snprintf(err, len, "bad expander bridge");
        return NULL;
    }

    /* reg is MPIDR's affinity: the kernel finds its boot CPU by it and
     * PSCI CPU_ON targets it. */
    for (unsigned i = 0; i < m->ncpus; i++) {
        reg[i] = (uint32_t)(H->cpu_arch_id(H->cpu_by_index(i)) & 0xffffff);
    }
    cpu_compat(cfg->cpu_model, compat, sizeof(compat));
    return virt_fdt_build(&fc, err, len);
}

/*
 * A -dtb the libfdt calls below can take. fdt_check_header() checks the
 * header alone: blocks that overlap or run backwards made fdt_open_into()
 * memmove a negative size and corrupt the heap, so fdt_check_full() walks
 * the blocks too; and Debian's libfdt 1.6.1 dereferences NULL in
 * fdt_check_full() on a version 2 header, so only version 17 (dtc's output
 * since 2007, what Linux's own tools write) goes that far. All found by
 * fuzz-loaders.
 */
static bool user_dtb_ok(const blob *user)
{
    return user->size >= sizeof(struct fdt_header) && fdt_check_header(user->data) == 0 &&
           fdt_totalsize(user->data) <= user->size && fdt_version(user->data) >= 17 &&
           fdt_check_full(user->data, user->size) == 0;
}

/* The final tree: generated or -dtb, with /chosen filled in. */
static int make_dtb(virt_machine *m, const tes_machine_config *cfg)
{
    char err[160];
    blob user = {0};
    void *base, *fdt;
    int ret;

    if (cfg->dtb) {
        ret = read_file(m, "dtb", cfg->dtb, &user);
        if (ret) {
            return ret;
        }
        base = user_dtb_ok(&user) ? user.data : NULL;
        snprintf(err, sizeof(err), "not a valid flattened device tree (version 17, as dtc "
                 "writes)");
    } else {
        base = generate_dtb(m, cfg, err, sizeof(err));
    }
    fdt = base ? virt_fdt_set_chosen(base, cfg->append, m->initrd.addr,
                                     m->initrd.addr + m->initrd.size, err, sizeof(err))
               : NULL;
    if (base != user.data) {
        free(base);
    }
    free(user.data);
    if (!fdt) {
        H->error(m->dev, "dtb '%s': %s", cfg->dtb ? cfg->dtb : "(generated)", err);
        return -EINVAL;
    }
    m->dtb.data = fdt;
    m->dtb.size = fdt_totalsize(fdt);
    return 0;
}

/* -machine dumpdtb=FILE: like QEMU, write the tree and exit at once. */
static int dump_dtb(virt_machine *m)
{
    FILE *f = fopen(m->dumpdtb, "wb");
    bool ok = f && fwrite(m->dtb.data, 1, m->dtb.size, f) == m->dtb.size;

    if (f && fclose(f) != 0) {
        ok = false;
    }
    if (!ok) {
        H->error(m->dev, "dumpdtb '%s': %s", m->dumpdtb, strerror(errno));
        return -EIO;
    }
    fprintf(stderr, "tessera: dtb dumped to %s. Exiting.\n", m->dumpdtb);
    /* Nothing was loaded: keep vCPU 0 from running RAM until the main
     * loop sees the shutdown. */
    H->cpu_set_running(H->cpu_by_index(0), false);
    H->request_shutdown(0);
    return 0;
}

/* ---- the machine ---- */

static int load_images(virt_machine *m, const tes_machine_config *cfg)
{
    int ret = 0;

    if (cfg->kernel) {
        ret = read_file(m, "kernel", cfg->kernel, &m->kernel);
        ret = ret ? ret : kernel_layout(m, cfg->kernel);
    } else if (!m->dumpdtb) {
        /* QEMU's virt without -kernel/-bios has nothing to run either. */
        fprintf(stderr, "tessera: machine 'virt': nothing to boot: no -kernel given, and "
                "tessera has no firmware (no -bios); the vCPUs stay halted\n");
    }
    if (!ret && cfg->initrd) {
        if (!cfg->kernel) {
            H->error(m->dev, "-initrd needs -kernel");
            return -EINVAL;
        }
        ret = read_file(m, "initrd", cfg->initrd, &m->initrd);
    }
    if (!ret && cfg->kernel) {
        ret = place_initrd(m);
    }
    return ret;
}

/* vCPU 0 enters the kernel (booting.rst: x0 = DTB, x1..x3 = 0), now and
 * after every reset; the others wait for PSCI CPU_ON. */
static int start_cpu0(virt_machine *m)
{
    tes_cpu_boot b = {
        .size = sizeof(b),
        .mode = TES_BOOT_ARM64_KERNEL,
        .entry = m->kernel.addr,
        .regs = {m->dtb.addr},
    };
    int ret;

    if (!m->kernel.data) {
        b.mode = TES_BOOT_POWER_OFF; /* off now and after every reset */
    }
    ret = H->cpu_set_boot(H->cpu_by_index(0), &b);
    if (ret) {
        H->error(m->dev, "CPU model '%s' cannot enter an arm64 kernel (%s)", m->cfg.cpu_model,
                 strerror(-ret));
    }
    return ret;
}

/* Everything up to the devices; devices_done finishes once every -device
 * exists, since the DT describes the platform devices among them. */
static int virt_init(tes_device *dev, void *s, const tes_machine_config *cfg)
{
    virt_machine *m = s;
    int ret;

    m->dev = dev;
    m->cfg = *cfg;
    m->ncpus = cfg->smp ? cfg->smp : 1;
    m->ram_size = cfg->ram_size;
    ret = check_gic_version(m);
    ret = ret ? ret : check_iommu(m);
    ret = ret ? ret : load_images(m, cfg);
    return ret ? ret : create_board(m, cfg);
}

static int virt_devices_done(tes_device *dev, void *s)
{
    virt_machine *m = s;
    int ret = place_user_devices(m);

    ret = ret ? ret : place_nvdimms(m);
    ret = ret ? ret : make_dtb(m, &m->cfg);
    if (!ret && m->dumpdtb) {
        return dump_dtb(m);
    }
    ret = ret ? ret : place_dtb(m);
    if (ret) {
        return ret;
    }
    load_blobs(m);
    return start_cpu0(m);
}

static void virt_reset(tes_device *dev, void *s)
{
    virt_machine *m = s;

    if (m->ram_ptr && m->kernel.data) {
        load_blobs(m);
    }
}

static void virt_unrealize(tes_device *dev, void *s)
{
    virt_machine *m = s;

    free(m->kernel.data);
    free(m->initrd.data);
    free(m->dtb.data);
    m->kernel.data = m->initrd.data = m->dtb.data = NULL;
}

static void virt_powerdown(tes_device *dev, void *s)
{
    H->log(TES_LOG_UNIMP, "virt: system_powerdown: no power key (PL061 gpio-keys) yet; "
                          "use poweroff in the guest");
}

static const tes_machine_ops virt_ops = {
    .size = sizeof(tes_machine_ops),
    .arch = "aarch64",
    .default_cpu = "cortex-a57",
    .default_ram = 512 * MiB,
    .max_cpus = VIRT_MAX_CPUS,
    .init = virt_init,
    .powerdown = virt_powerdown,
    .devices_done = virt_devices_done,
    .default_nic = "virtio-net-pci",
    .default_block_if = "virtio", /* QEMU's virt: virtio-blk-pci */
};

static const tes_prop_info virt_props[] = {
    TES_PROP("gic-version", TES_PROP_STRING, virt_machine, gic_version, "2", 0, 0,
             "GIC architecture version: 2, 3 or max (3)"),
    TES_PROP("its", TES_PROP_BOOL, virt_machine, its, "on", 0, 0,
             "GICv3: an ITS, through which PCIe MSIs go"),
    TES_PROP("dumpdtb", TES_PROP_STRING, virt_machine, dumpdtb, NULL, 0, 0,
             "write the device tree to this file and exit"),
    TES_PROP("highmem", TES_PROP_BOOL, virt_machine, highmem, "on", 0, 0,
             "accepted for QEMU compatibility; no device lives above 4 GiB"),
    TES_PROP("nvdimm", TES_PROP_BOOL, virt_machine, nvdimm, "off", 0, 0,
             "NVDIMM support: -device nvdimm, described by pmem-region DT nodes"),
    TES_PROP("iommu", TES_PROP_STRING, virt_machine, iommu, "none", 0, 0,
             "none or smmuv3: the IOMMU translating the PCIe devices' DMA"),
    TES_PROP_END,
};

/* Guest-visible state lives in RAM and the devices; the machine's own
 * fields are rebuilt from the command line on the destination. */
static const tes_state_info virt_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
};

static const tes_type_info virt_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_MACHINE,
    .name = "virt",
    .desc = "QEMU-style virtual AArch64 board (GICv2 or GICv3, PL011, PL031, PSCI)",
    .instance_size = sizeof(virt_machine),
    .props = virt_props,
    .reset = virt_reset,
    .unrealize = virt_unrealize,
    .state = &virt_state,
    .class_info = &virt_ops,
};

static int virt_plugin_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, pci_ecam_new) + sizeof(void *)) {
        return -ENOSYS; /* needs the ABI 1.2 CPU<->board interface */
    }
    H = host;
    return 0;
}

static const tes_type_info *const virt_types[] = {&virt_type, NULL};

TES_PLUGIN_DEFINE(.name = "board-virt", .version = "0.2.0", .license = "MIT",
                  .desc = "the virt AArch64 board (QEMU's layout)", .types = virt_types,
                  .init = virt_plugin_init);
