/*
 * board-x86: what the q35 and pc machines build the same way, shared
 * through the boards' static library: host files (-kernel, -initrd), RAM
 * split around the PCI hole, vCPUs, the 8259 + I/O APIC pair with the ISA
 * IRQ lines, the ISA platform devices, the bzImage boot of vCPU 0 and
 * -machine dumpacpi. Each machine embeds an x86_board and sets
 * x86_board_host in its plugin's init (the library's copy is the
 * plugin's own: it is linked into each plugin).
 */
#ifndef BOARD_X86_BOARD_H
#define BOARD_X86_BOARD_H

#include <tessera/tessera.h>
#include <tessera/pxb.h>

#include "aml.h"

#include "boot.h"
#include "mem-hotplug.h"
#include "nvdimm-acpi.h"
#include "cpu-hotplug.h"

extern const tes_host *x86_board_host;

typedef struct x86_blob {
    uint8_t *data;
    size_t size;
} x86_blob;

/* The first member of each machine's state: x86_board_props' offsets
 * are into it. */
typedef struct x86_board {
    /* -machine properties (x86_board_props) */
    char *accel;
    char *dumpacpi;
    bool nvdimm;               /* nvdimm=on: NVDR in the DSDT, -device nvdimm */

    tes_device *dev;           /* the machine */
    const char *name;          /* "q35", "pc": for messages */
    tes_region *ram;
    uint8_t *ram_ptr;
    uint64_t lowmem, highmem;  /* RAM below 4 GiB (at 0), above (at 4 GiB) */
    unsigned ncpus;
    tes_device *pic, *ioapic, *i8042;
    tes_irq *isa[16];          /* ISA IRQ n: 8259 input n, IOAPIC pin n (0: 2) */
    x86_blob kernel, initrd;
    char *cmdline;
    q35_boot_info boot;
    uint8_t *acpi;             /* the tables, built by the machine */
    size_t acpi_len;
    tes_device *pm;            /* inputs: 0 power button, 1 RTC alarm, 2 resume */
    tes_device *rtc;           /* mc146818rtc: output 1 is its alarm's wake event */
    unsigned own_sysbus;       /* system bus devices the board made (x86_board_mark) */
    uint32_t *possible_apic_id; /* [maxcpus] for the SRAT (x86_board_numa) */
    x86_nvdimm nvd[X86_MAX_NVDIMMS]; /* the slots' nvdimms (devmem.c) */
    tes_device *nvd_dev[X86_MAX_NVDIMMS];
    unsigned nnvd;
    uint8_t *nvdimm_dsm;       /* the _DSM page (x86-nvdimm.c), NULL: no labels */
    x86_memhp memhp;           /* memory slots, ACPI memory hotplug (devmem.c) */
    bool hotplugging;          /* in tes_machine_ops.hotplug */
    uint64_t *numa_mem;        /* one node when device memory but no -numa */
    uint32_t *numa_cpu_node;
    bool waking;               /* the next reset is an S3 wakeup: RAM stays */
    x86_cpuhp cpuhp;           /* ACPI CPU hotplug (x86-cpuhp.c); max_cpus 0: none */
    /* The machine's table builder (into acpi, not RAM): CPU hotplug
     * rebuilds them for the next reset. NULL: nothing to rebuild. */
    int (*build_tables)(struct x86_board *b);
} x86_board;

/* accel= (tcg, the only one) and dumpacpi=DIR, for both machines. */
extern const tes_prop_info x86_board_props[];
/* Guest-visible state lives in RAM and the devices; the rest is rebuilt
 * from the command line on the destination. */
extern const tes_state_info x86_board_state;
/* The start of both machines' init: b's device, name and table builder
 * set, accel= checked (tcg, the only one), the -kernel/-initrd images
 * read. 0 or -errno after the error. */
int x86_board_begin(x86_board *b, tes_device *dev, const char *name,
                    int (*build_tables)(x86_board *b), const tes_machine_config *cfg);
/* The ACPI PM block (ICH9-LPC, PIIX4_PM): b->pm, and the RTC's alarm
 * wired to its RTC_STS input (the chipset's RTC wake event). */
void x86_board_set_pm(x86_board *b, tes_device *pm);

/* tes_machine_ops.powerdown: press b->pm's power button (input 0). */
void x86_board_powerdown(tes_device *dev, void *s);

/* tes_machine_ops.wakeup's work: true with *boot the real-mode start at
 * the waking vector the guest left in the FACS of the tables built at
 * acpi_base (sets b->waking for the reset that follows); false when the
 * guest left none (it then boots again). */
bool x86_board_wakeup(x86_board *b, uint64_t acpi_base, tes_cpu_boot *boot);

/* dev_create with one error line naming the type on failure. */
tes_device *x86_board_dev(x86_board *b, const char *type, const char *props);
/* "pc.ram" of size bytes: [0, lowmem) at 0, the rest at 4 GiB. */
int x86_board_ram(x86_board *b, uint64_t size, uint64_t lowmem);
int x86_board_cpus(x86_board *b, const tes_machine_config *cfg);
/* ---- CPU hotplug (x86-cpuhp.c) ---- */
/* The PM device (ICH9-LPC, PIIX4_PM of pc-platform) sets GPE0 status bit n
 * on a rising edge of its input X86_PM_GPE_INPUT(n) (0 is the power
 * button, 1 the RTC alarm, 2 the resume: pc-platform.h ACPI_PM_IN_*). */
#define X86_PM_GPE_INPUT(n) (3u + (n))
/* From x86_board_cpus: the register block when -smp maxcpus= leaves free
 * slots, the CPUs at start present. 0 or -errno after the error. */
int x86_board_cpuhp_init(x86_board *b);
/* tes_machine_ops.cpu_plugged / cpu_unplug_request of both machines. */
int x86_board_cpu_plugged(tes_device *dev, void *s, tes_cpu *cpu, bool hotplug);
int x86_board_cpu_unplug_request(tes_device *dev, void *s, tes_cpu *cpu);
/* A -device ...-cpu was cold-plugged: devices_done rebuilds the tables. */
bool x86_board_cpus_added(const x86_board *b);
/* x86_board_state's post_load: the stream's hotplug flags against the
 * vCPUs this side has. */
int x86_board_cpuhp_post_load(tes_device *dev, void *s, uint32_t version);
/* The -numa layout for the SRAT/SLIT writer (out->nodes 0: no -numa). */
struct acpi_numa;
void x86_board_numa(x86_board *b, struct acpi_numa *out);
/* The machine's processors, NVDIMMs and memory slots for its ACPI
 * writer, with *numa (x86_board_numa) and apic_id[ncpus] filled in. */
x86_acpi_devs x86_board_acpi_devs(x86_board *b, struct acpi_numa *numa, uint32_t *apic_id);
/* The PCI expander bridges on root (tessera/pxb.h), at most max of them;
 * none without the pcie plugin or root. */
unsigned x86_board_pxbs(tes_bus *root, tes_pxb_info *out, unsigned max);
/* b->acpi: a new size-byte buffer for the machine's writer (NULL: out of
 * memory). */
uint8_t *x86_board_acpi_buf(x86_board *b, size_t size);
/* After the writer set b->acpi_len: 0, or -ENOMEM after the error when
 * the tables did not fit in size bytes. */
int x86_board_acpi_check(x86_board *b, size_t size);
/* devices_done's common part: platform devices refused, memory devices
 * placed; then 1 when the tables need a rebuild (pxbs: expanders are
 * there; NVDIMMs; cold-plugged CPUs), 0 when nothing changed since init,
 * or -errno after the error. */
int x86_board_devices_done(x86_board *b, bool pxbs);
/* i8259 + ioapic (mapped at ioapic_base), INTR to vCPU 0, b->isa[]. */
int x86_board_irqchips(x86_board *b, uint64_t ioapic_base);
/* i8254 (IRQ0), mc146818rtc (IRQ8), isa-serial on serial0 (IRQ4), i8042
 * (outputs wired to IRQ1/IRQ12 when wire_i8042). */
int x86_board_isa(x86_board *b, bool wire_i8042);
/* At the end of init: the system bus devices so far are the board's. */
void x86_board_mark(x86_board *b);
/* In devices_done: the x86 boards place no platform device, so one from
 * -device (or addr=/irq=) is refused as the core does for boards without
 * devices_done: 0, or -EINVAL after the error. */
int x86_board_refuse_platform(x86_board *b);
/* -kernel / -initrd / -append (-dtb refused); without -kernel one notice
 * line: nothing to boot, vCPU 0 stays off (x86_board_start_cpu0). */
int x86_board_images(x86_board *b, const tes_machine_config *cfg, bool dumping);
/* Decompress the kernel (once) with bc's layout. */
int x86_board_prepare_kernel(x86_board *b, const tes_machine_config *cfg, q35_boot_cfg *bc);
/* The kernel, initrd, command line and boot_params into RAM (each reset). */
int x86_board_load_kernel(x86_board *b, q35_boot_cfg *bc);
/* vCPU 0 enters startup_64 now and after every reset. */
int x86_board_start_cpu0(x86_board *b, const tes_machine_config *cfg);
/* The tables (b->acpi) at acpi_base and the kernel into RAM: at start-up
 * and at each reset (nothing while dumping or before the tables exist). */
int x86_board_load(x86_board *b, q35_boot_cfg *bc, uint64_t acpi_base);
/* Once the board and its tables are built: dumpacpi=, or decompress the
 * kernel, load RAM and start vCPU 0. */
int x86_board_boot(x86_board *b, const tes_machine_config *cfg, q35_boot_cfg *bc,
                   uint64_t acpi_base);
/* -machine dumpacpi=DIR: every table of b->acpi (at base) as SIG.dat, then
 * the machine stops with status 0. */
int x86_board_dump_acpi(x86_board *b, const char *dir, uint64_t base);
/* A boot config for b's RAM and images (the machine adds rsdp, e820). */
q35_boot_cfg x86_board_boot_cfg(x86_board *b);
void x86_board_free(x86_board *b);

/* ---- device memory and its modules (devmem.c) ---- */
/* Device memory (-m slots=,maxmem=): from the first GiB boundary above
 * the high RAM, maxmem - RAM + 1 GiB per slot bytes (0: none), as QEMU's
 * pc. The 64-bit PCI window goes above it. */
uint64_t x86_devmem_base(const x86_board *b);
uint64_t x86_devmem_size(const x86_board *b);
/* In init: the memory slots and, with slots, the ACPI memory hotplug
 * register block at 0x0a00. 0 or -errno after the error. */
int x86_board_memslots(x86_board *b);
int x86_board_memhp_io(x86_board *b);
void x86_board_memslots_free(x86_board *b);
/* In devices_done: every -device nvdimm and pc-dimm placed in device
 * memory in -device order (b->nvd for the NFIT); 0, or -EINVAL after the
 * error (no nvdimm=on, no slots or maxmem, no room, a busy slot). */
int x86_board_memdevs(x86_board *b);
/* tes_machine_ops.hotplug / unplug_request: QMP device_add / device_del
 * of a pc-dimm (ACPI memory hotplug). */
int x86_board_hotplug(tes_device *machine, void *s, tes_device *dev);
int x86_board_unplug_request(tes_device *machine, void *s, tes_device *dev);
/* ---- NVDIMM labels (x86-nvdimm.c) ---- */
/* After x86_board_memdevs: the _DSM page and port when a module has a
 * label area. 0 or -ENOMEM after the error. */
int x86_board_nvdimm_dsm(x86_board *b);

/* ---- _OST to QMP (x86-ost.c) ---- */
/* Wire the blocks' _OST status writes to QMP ACPI_DEVICE_OST. */
void x86_board_ost_init(x86_board *b);
/* tes_machine_ops.ospm_status of both machines. */
void x86_board_ospm_status(tes_device *machine, void *s,
                           void (*put)(void *ctx, const char *info_json), void *ctx);
/* x86_board_state's save/load: the slots' hotplug register state. */
int x86_board_memhp_save(tes_device *dev, void *s, tes_stream *out);
int x86_board_memhp_load(tes_device *dev, void *s, tes_stream *in, uint32_t version);

#endif
