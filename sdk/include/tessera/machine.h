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

struct tes_cpu_boot;

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

    /* ==== ABI 1.7 (the core checks size) ==== */
    /* QMP system_wakeup of a machine host->request_suspend put in S3,
     * called BEFORE the core resets devices and CPUs (RAM stays): the
     * board's own reset that follows must then leave RAM alone (no kernel
     * reload). Return true with *boot set (size already set) to start vCPU
     * 0 in that state once after the reset, in place of its boot state
     * (x86: TES_BOOT_X86_REAL at the FACS waking vector, as firmware
     * does). NULL or false: every vCPU takes its boot state. */
    bool (*wakeup)(tes_device *machine, void *s, struct tes_cpu_boot *boot);

    /* ==== ABI 1.8: CPU hot-plug (the core checks size) ====
     * -device and QMP device_add of "<model>-<arch>-cpu" (QEMU's CPU type
     * names, with socket-id=, die-id=, core-id=, thread-id=): the core
     * checks the ids against the topology and the slot is free, creates the
     * vCPU at that index (it waits for INIT/SIPI or PSCI as any secondary)
     * and calls cpu_plugged: the board makes it present in its firmware
     * interface and, when hotplug (device_add on a started machine), tells
     * the guest (x86: the ACPI CPU hotplug GPE). -device comes before
     * devices_done, so the tables then describe it. Return 0, or -errno
     * after host->error(machine): the core removes the vCPU again. NULL:
     * the machine has no CPU hot-plug (device_add of a CPU is refused). */
    int (*cpu_plugged)(tes_device *machine, void *s, tes_cpu *cpu, bool hotplug);
    /* QMP device_add's counterpart, device_del of a vCPU: ask the guest to
     * give it up (x86: the ACPI eject request); the board calls
     * host->cpu_remove once the guest has ejected it. Return 0, or -errno
     * after host->error(machine). NULL: vCPUs cannot be unplugged. */
    int (*cpu_unplug_request)(tes_device *machine, void *s, tes_cpu *cpu);
    /* ==== ABI 1.8, continued: the machine as hotplug handler (the core
     * checks size), QEMU's HotplugHandler of the pc machines ==== */
    /* QMP device_add of a type flagged TES_TYPE_MACHINE_HOTPLUG (device.h:
     * a pc-dimm), after its realize, while the machine runs: the board
     * plugs it (places it, maps it, tells the guest). 0, or -errno after
     * host->error(dev, ...): the core then removes the device again and
     * device_add fails with that message. Devices of such types given on
     * the command line are the board's to find in devices_done instead. */
    int (*hotplug)(tes_device *machine, void *s, tes_device *dev);
    /* QMP device_del of such a device: the board asks the guest to let go
     * of it (an ACPI eject request) and calls host->dev_unplug(dev) once
     * the guest has (DEVICE_DELETED follows). 0 when the request is under
     * way, or -errno after host->error(dev, ...) (device_del fails). */
    int (*unplug_request)(tes_device *machine, void *s, tes_device *dev);

    /* ==== ABI 1.8, continued: the default display (the core checks size) ==== */
    /* The display device type the machine has unless -vga none,
     * -nodefaults or a VGA-class (0x0300) -device: "VGA" on pc and q35, as
     * QEMU's std VGA; the core creates it after init, before the NICs and
     * -device, so it takes the first free slot (00:02.0 on pc, 00:01.0 on
     * q35). NULL: no default display (virt). */
    const char *default_display;

    /* ==== ABI 1.8, continued: QMP query-acpi-ospm-status (the core checks
     * size) ==== */
    /* Call put(ctx, info) once per hotplug slot (QEMU's order: memory
     * slots, then CPUs) with info the text of QEMU's ACPIOSTInfo object,
     * {"device": id or null, "slot": "N", "slot-type": "DIMM"|"CPU",
     * "source": N, "status": N} (the last _OST the guest reported). The
     * core checks each is a JSON object and drops the others. NULL: the
     * command returns an empty list. */
    void (*ospm_status)(tes_device *machine, void *s,
                        void (*put)(void *ctx, const char *info_json), void *ctx);
} tes_machine_ops;

/* ==== ABI 1.6: CPU topology and NUMA (host->machine_topology) ====
 *
 * What -smp and -numa asked for, completed as QEMU completes them. Boards
 * describe it to the guest (MADT/SRAT/SLIT, the DT's cpu-map, numa-node-id
 * and distance-map); CPU plugins derive their identity from it (x86: the
 * APIC ID and CPUID's topology leaves); devices validate a node number
 * (pxb's numa_node=) against nodes. Valid for the life of the machine.
 */
typedef struct tes_topology {
    uint32_t size;          /* sizeof(tes_topology) as the core filled it */
    unsigned cpus;          /* vCPUs at start (-smp N) */
    unsigned max_cpus;      /* -smp maxcpus (>= cpus) */
    /* Each level counted per parent level: max_cpus is the product.
     * dies > 1 only on x86 machines, clusters > 1 only on Arm ones. */
    unsigned sockets, dies, clusters, cores, threads;
    /* -numa node: nodes 0..nodes-1; 0 when no -numa was given (no SRAT, no
     * numa-node-id: the guest sees one node). */
    unsigned nodes;
    /* [nodes] bytes of RAM of each node. The nodes' RAM is laid out in
     * node order from guest RAM offset 0 (offset, not address: the board
     * maps RAM around its holes); the sum is -m. */
    const uint64_t *node_mem;
    /* [max_cpus] node of vCPU index i (always valid when nodes > 0). */
    const uint32_t *cpu_node;
    /* [nodes * nodes] distance from node i to node j at [i * nodes + j]:
     * 10 local and 20 remote unless -numa dist said otherwise. */
    const uint8_t *distance;
    /* -numa dist was given: QEMU then (and only then) writes the SLIT
     * (x86) or the distance-map (DT); boards do the same. */
    bool distance_given;

    /* ==== ABI 1.7: device memory (-m slots=,maxmem=) ==== */
    /* -m maxmem= (0: not given, no device memory) and slots=: boards put
     * maxmem - ram_size bytes (plus 1 GiB per slot of alignment room, as
     * QEMU's pc) of device memory for nvdimm/pc-dimm above RAM. */
    uint64_t maxmem;
    unsigned ram_slots;
} tes_topology;

/* A vCPU index's position in the topology (thread fastest, then core,
 * cluster, die, socket), as QEMU numbers its CPUs. */
static inline void tes_topology_ids(const tes_topology *t, unsigned index, unsigned *socket,
                                    unsigned *die, unsigned *cluster, unsigned *core,
                                    unsigned *thread)
{
    *thread = index % t->threads;
    index /= t->threads;
    *core = index % t->cores;
    index /= t->cores;
    *cluster = index % t->clusters;
    index /= t->clusters;
    *die = index % t->dies;
    *socket = index / t->dies;
}

/* The x86 APIC ID of vCPU index as QEMU lays them out (and cpu-x86 gives
 * them): thread, core (clusters count as cores), die and socket bit
 * fields from the low end, each as wide as its count needs (cores=3
 * takes 2 bits). For tables describing CPUs not created yet (maxcpus). */
static inline uint32_t tes_topology_x86_apic_id(const tes_topology *t, unsigned index)
{
    unsigned socket, die, cluster, core, thread, sb = 0, cb = 0, db = 0;
    unsigned cores = t->cores * t->clusters;

    tes_topology_ids(t, index, &socket, &die, &cluster, &core, &thread);
    core += cluster * t->cores;
    while ((1u << sb) < t->threads) {
        sb++;
    }
    while ((1u << cb) < cores) {
        cb++;
    }
    while ((1u << db) < t->dies) {
        db++;
    }
    return socket << (db + cb + sb) | die << (cb + sb) | core << sb | thread;
}

#endif
