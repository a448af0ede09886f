/*
 * tessera SDK: the machine interface.
 *
 * A machine type (kind TES_KIND_MACHINE) builds the board: RAM, vCPUs,
 * buses, default devices, firmware tables, and loads the kernel. Its props
 * table holds -machine TYPE,prop=val properties.
 */
#ifndef TESSERA_MACHINE_H
#define TESSERA_MACHINE_H

#include <tessera/types.h>

/* What the user asked for on the command line. Strings may be NULL. */
typedef struct tes_machine_config {
    uint32_t size;       /* sizeof(tes_machine_config) */
    uint64_t ram_size;   /* -m, bytes (machine default if not given) */
    unsigned smp;        /* -smp N */
    const char *cpu_model; /* -cpu, or the machine's default */
    const char *kernel;  /* -kernel */
    const char *initrd;  /* -initrd */
    const char *append;  /* -append */
    const char *dtb;     /* -dtb */
    bool nographic;
    bool no_reboot;
} tes_machine_config;

typedef struct tes_machine_ops {
    uint32_t size;          /* sizeof(tes_machine_ops) */
    const char *arch;       /* CPU architecture, NULL for none */
    const char *default_cpu;
    uint64_t default_ram;
    unsigned max_cpus;
    /* Build the machine. Return 0 or -errno after host->error(). */
    int (*init)(tes_device *machine, void *s, const tes_machine_config *cfg);
    /* Guest-visible power button (system_powerdown); NULL: none. */
    void (*powerdown)(tes_device *machine, void *s);

    /* ==== ABI 1.2 (the core checks size) ==== */
    /* Every -device has been created: place the platform devices the user
     * added (dev_platform_place), then write the DT/ACPI tables and set the
     * boot state. NULL: nothing to do. Return 0 or -errno after
     * host->error(machine). */
    int (*devices_done)(tes_device *machine, void *s);

    /* ==== ABI 1.3 (the core checks size) ==== */
    /* The NIC model -nic and -net nic create without model= ("e1000e" on
     * q35, "virtio-net-pci" on virt, as QEMU's); NULL: they need model=. */
    const char *default_nic;

    /* ==== ABI 1.4 (the core checks size) ==== */
    /* The interface of a -drive without if= and of -hda..-hdd/-cdrom, as
     * QEMU's block_default_type: "ide" (pc, q35), "virtio" (virt),
     * "scsi"; NULL (or "none"): if=none, the drive waits for a -device. */
    const char *default_block_if;
    /* Units per IDE bus, for -drive if=ide,index=I (bus I / units, unit
     * I % units): 2 on a PIIX IDE channel (pc), 1 on an AHCI port (q35);
     * 0: the board has no IDE. */
    unsigned ide_units_per_bus;
} tes_machine_ops;

#endif
