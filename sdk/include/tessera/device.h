/*
 * tessera SDK: device types and properties.
 *
 * A plugin provides types. A type names the bus kind it plugs into, the
 * size of its instance (allocated zeroed by the core and handed back to every
 * callback), typed properties with defaults and help (the same table drives
 * -device T,help, QMP and the harness), lifecycle callbacks and migration
 * state. Machines and CPUs are types too, with kind-specific ops.
 */
#ifndef TESSERA_DEVICE_H
#define TESSERA_DEVICE_H

#include <tessera/state.h>
#include <tessera/types.h>

typedef enum tes_type_kind {
    TES_KIND_DEVICE = 1,
    TES_KIND_MACHINE = 2,
    TES_KIND_CPU = 3,
} tes_type_kind;

typedef enum tes_prop_kind {
    TES_PROP_BOOL = 1, /* bool: on/off, true/false, yes/no, 1/0 */
    TES_PROP_U8,
    TES_PROP_U16,
    TES_PROP_U32,
    TES_PROP_U64,
    TES_PROP_SIZE,   /* uint64_t, accepts K/M/G/T suffixes */
    TES_PROP_STRING, /* char *, owned by the core */
    TES_PROP_DRIVE,  /* tes_drive *, value is a -drive id */
    TES_PROP_CHR,    /* tes_chr *, value is a chardev/serial id */
    /* ABI 1.3 (net.h) */
    TES_PROP_NETDEV,  /* tes_netdev *, value is a -netdev id; NULL when unset */
    TES_PROP_MACADDR, /* uint8_t[6], "52:54:00:12:34:56"; unset: QEMU's next default */
} tes_prop_kind;

typedef struct tes_prop_info {
    const char *name;
    tes_prop_kind kind;
    size_t offset;     /* into the instance */
    const char *defval; /* default as text, NULL for none (0/NULL) */
    uint64_t min, max;  /* numeric range, max==0 means the kind's range */
    const char *help;
} tes_prop_info;

#define TES_PROP(nm, k, st, f, def, lo, hi, hlp) {nm, k, offsetof(st, f), def, lo, hi, hlp}
#define TES_PROP_END {NULL, 0, 0, NULL, 0, 0, NULL}

/* Bus kinds the core knows; plugins may add their own names. */
#define TES_BUS_SYSTEM "System"
#define TES_BUS_PCI "PCI"

typedef struct tes_pci_info tes_pci_info;

typedef struct tes_type_info {
    uint32_t size;       /* sizeof(tes_type_info) */
    tes_type_kind kind;
    const char *name;    /* user-visible: "nvme", "virt", "cortex-a57" */
    const char *desc;    /* one line for -device help */
    const char *bus;     /* bus kind it plugs into; NULL = System */
    size_t instance_size;
    const tes_prop_info *props; /* ends with TES_PROP_END; may be NULL */
    /* Return 0, or -errno after reporting with host->error(dev, ...). */
    int (*realize)(tes_device *dev, void *s);
    void (*unrealize)(tes_device *dev, void *s);
    void (*reset)(tes_device *dev, void *s);
    /* Migration: state, or a blocker reason when the type cannot migrate. */
    const tes_state_info *state;
    const char *migration_blocker;
    /* Kind-specific: tes_pci_info for PCI devices, tes_machine_ops,
     * tes_cpu_ops. */
    const void *class_info;
    /* Optional HMP "info qtree" extra lines. */
    void (*describe)(tes_device *dev, void *s, void (*out)(void *ctx, const char *line), void *ctx);

    /* ==== ABI 1.3 (the core checks size: older types read as 0) ==== */
    uint32_t flags; /* TES_TYPE_* */

    /* ==== ABI 1.10 (read only when size includes it) ==== */
    /* Optional: an interrupt controller's state for HMP "info pic", in
     * QEMU's layout for that controller (its InterruptStatsProvider
     * print_info: the i8259's "pic0: irr=.. imr=..", the I/O APIC's
     * redirection table), as whole lines through out(ctx, text), as often
     * as needed. Called with the machine lock held, realized devices only;
     * it must not change the device's state. */
    void (*print_info)(tes_device *dev, void *s, void (*out)(void *ctx, const char *text),
                       void *ctx);
} tes_type_info;

/* Only its board or parent device creates it (QEMU's user_creatable =
 * false: a host bridge function, an interrupt controller the board wires
 * itself); -device refuses it with one line. */
#define TES_TYPE_NO_USER 0x1u
/* QMP device_add / device_del may create and remove it while the guest
 * runs (its bus tells the guest: a SCSI device and its HBA's events);
 * other types are refused with "does not support hotplugging". A core
 * that predates the flag ignores it (no hotplug). */
#define TES_TYPE_HOTPLUG 0x2u
/* ABI 1.8: QMP device_add / device_del of it go through the machine
 * (tes_machine_ops.hotplug and unplug_request, machine.h): a memory module
 * the board places and the guest takes and gives back through ACPI. A
 * core or machine that predates it refuses hotplugging such a type. */
#define TES_TYPE_MACHINE_HOTPLUG 0x4u

#endif
