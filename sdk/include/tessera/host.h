/*
 * tessera SDK: the host function table.
 *
 * The core hands a plugin this table in init(); it is the plugin's only way
 * into the core (plugins link no core symbol). The table only grows at its
 * end: a plugin built for minor N may use every entry up to that minor's
 * last, which the core of any minor >= N provides. Check host->size before
 * using an entry added after the minor you require.
 *
 * Every callback runs with the machine lock held, and so must every call
 * into this table (plugins that start threads take care of that).
 */
#ifndef TESSERA_HOST_H
#define TESSERA_HOST_H

#include <stdarg.h>
#include <tessera/block.h>
#include <tessera/cpu.h>
#include <tessera/device.h>
#include <tessera/display.h>
#include <tessera/dma.h>
#include <tessera/input.h>
#include <tessera/irq.h>
#include <tessera/log.h>
#include <tessera/machine.h>
#include <tessera/memory.h>
#include <tessera/net.h>
#include <tessera/pci.h>
#include <tessera/platform.h>
#include <tessera/state.h>
#include <tessera/trace.h>
#include <tessera/types.h>

#define TES_PRINTF(a, b) __attribute__((format(printf, a, b)))

typedef void (*tes_timer_cb)(void *opaque);
/* Character backend input: how many bytes can be taken, then the bytes. */
typedef int (*tes_chr_can_read)(void *opaque);
typedef void (*tes_chr_read)(void *opaque, const uint8_t *buf, int len);

struct tes_host {
    uint32_t size; /* sizeof the table as the core built it */
    uint16_t abi_major, abi_minor;
    const char *core_version;

    /* ---- logging and errors (log.h) ---- */
    /* Log under mask if enabled by -d; no-op otherwise. */
    void (*log)(unsigned mask, const char *fmt, ...) TES_PRINTF(2, 3);
    bool (*log_enabled)(unsigned mask);
    /* Record why realize/init of dev failed; the core prints it with the
     * device's name and exits non-zero at start-up. */
    void (*error)(tes_device *dev, const char *fmt, ...) TES_PRINTF(2, 3);

    /* ---- objects, buses, interfaces (device.h) ---- */
    void *(*dev_state)(tes_device *dev);        /* the instance */
    const char *(*dev_id)(tes_device *dev);     /* id=, or the qtree name */
    const char *(*dev_type)(tes_device *dev);   /* type name */
    tes_bus *(*dev_bus)(tes_device *dev);       /* bus it sits on */
    /* Create, configure ("k=v,k=v", may be NULL) and realize a device on bus
     * (NULL: the first bus of its kind). NULL on failure, after reporting
     * through error(parent). */
    tes_device *(*dev_create)(tes_device *parent, tes_bus *bus, const char *type,
                              const char *props);
    /* A new child bus of dev, of the given kind; other devices plug into it
     * with bus=name. bus_opaque is for the bus provider. */
    tes_bus *(*bus_new)(tes_device *dev, const char *kind, const char *name, void *bus_opaque);
    void *(*bus_opaque)(tes_bus *bus);
    const char *(*bus_name)(tes_bus *bus);
    tes_device *(*bus_parent)(tes_bus *bus);
    /* The i-th device on bus in plug order, NULL past the end. */
    tes_device *(*bus_child)(tes_bus *bus, unsigned i);
    /* Named, versioned interfaces plugins offer each other. register returns
     * 0 or -EEXIST; lookup returns the table with version >= min, or NULL. */
    int (*iface_register)(const char *name, uint32_t version, const void *table);
    const void *(*iface_lookup)(const char *name, uint32_t min_version);

    /* ---- memory (memory.h) ---- */
    tes_region *(*region_new_ram)(tes_device *owner, const char *name, uint64_t size);
    tes_region *(*region_new_rom)(tes_device *owner, const char *name, uint64_t size);
    tes_region *(*region_new_io)(tes_device *owner, const char *name, uint64_t size,
                                 const tes_mem_ops *ops, void *opaque);
    tes_region *(*region_new_container)(tes_device *owner, const char *name, uint64_t size);
    tes_region *(*region_new_alias)(tes_device *owner, const char *name, tes_region *target,
                                    uint64_t offset, uint64_t size);
    void (*region_add)(tes_region *parent, uint64_t addr, tes_region *child, int priority);
    void (*region_del)(tes_region *parent, tes_region *child);
    void (*region_set_enabled)(tes_region *r, bool enabled);
    void (*region_set_alias_offset)(tes_region *alias, uint64_t offset);
    void *(*region_ram_ptr)(tes_region *r); /* RAM/ROM backing, else NULL */
    uint64_t (*region_size)(tes_region *r);
    tes_region *(*system_memory)(void);
    tes_region *(*system_io)(void);
    /* Access an address space (a root container) as a CPU or bus master
     * would: RAM copies, I/O regions dispatch with splitting. Return
     * TES_MEM_OK or TES_MEM_UNASSIGNED (reads of holes return ones). */
    int (*as_read)(tes_region *as, uint64_t addr, void *buf, uint64_t len);
    int (*as_write)(tes_region *as, uint64_t addr, const void *buf, uint64_t len);
    /* Host pointer to RAM at addr (NULL if not RAM, or ROM and write);
     * *len gets the bytes contiguous from there. For soft TLBs. */
    void *(*as_ram_ptr)(tes_region *as, uint64_t addr, uint64_t *len, bool write);
    /* Mark RAM written behind the core's back (dirty tracking). */
    void (*as_set_dirty)(tes_region *as, uint64_t addr, uint64_t len);
    /* Bumped whenever the map of any address space changes (BAR moved,
     * region enabled): soft TLBs holding as_ram_ptr() results flush on it. */
    uint64_t (*memory_generation)(void);

    /* ---- DMA (dma.h) ---- */
    int (*dma_read)(tes_device *dev, uint64_t addr, void *buf, uint64_t len);
    int (*dma_write)(tes_device *dev, uint64_t addr, const void *buf, uint64_t len);
    /* Map up to *len bytes at addr for direct access; *len is shortened to
     * what is contiguous. NULL when not RAM. Unmap marks written pages dirty. */
    void *(*dma_map)(tes_device *dev, uint64_t addr, uint64_t *len, bool is_write);
    void (*dma_unmap)(tes_device *dev, void *ptr, uint64_t len, bool is_write);
    /* An IOMMU claims every DMA from devices below bus (ops NULL: releases
     * it). Pass the IOMMU device's state (dev_state) as opaque: the core
     * drops the claims when that device is freed, so unrealize need not
     * (and, when the bus went first, must not) touch the bus. */
    void (*dma_set_iommu)(tes_bus *bus, const tes_iommu_ops *ops, void *opaque);

    /* ---- interrupts (irq.h) ---- */
    tes_irq *(*irq_new)(tes_irq_handler handler, void *opaque, int n);
    void (*irq_set)(tes_irq *irq, int level); /* NULL irq: ignored */
    void (*dev_init_irqs)(tes_device *dev, unsigned count);
    void (*dev_connect_irq)(tes_device *dev, unsigned idx, tes_irq *irq);
    void (*dev_set_irq)(tes_device *dev, unsigned idx, int level);
    /* MSI: write data (32-bit LE) to addr as a DMA from dev. */
    void (*msi_send)(tes_device *dev, uint64_t addr, uint32_t data);

    /* ---- virtual clock and timers ---- */
    int64_t (*clock_ns)(void); /* virtual ns; stops while the guest is paused */
    tes_timer *(*timer_new)(tes_timer_cb cb, void *opaque);
    void (*timer_mod)(tes_timer *t, int64_t expire_ns); /* absolute */
    void (*timer_del)(tes_timer *t);
    bool (*timer_pending)(tes_timer *t);
    int64_t (*timer_expire)(tes_timer *t); /* -1 when not pending */
    void (*timer_free)(tes_timer *t);

    /* ---- migration streams (state.h) ---- */
    void (*stream_write)(tes_stream *s, const void *buf, size_t len);
    /* 0, or -EIO when the stream is short or failed. */
    int (*stream_read)(tes_stream *s, void *buf, size_t len);

    /* ---- PCI (pci.h) ---- */
    uint8_t *(*pci_config)(tes_device *dev); /* 4096 bytes */
    uint8_t *(*pci_wmask)(tes_device *dev);  /* guest-writable bits */
    uint8_t *(*pci_w1cmask)(tes_device *dev); /* write-1-to-clear bits */
    int (*pci_register_bar)(tes_device *dev, int bar, unsigned flags, tes_region *r);
    /* Add a capability (offset 0 = first free, 4-aligned); returns its
     * offset or -errno. The core links it and zeroes its body. */
    int (*pci_add_cap)(tes_device *dev, uint8_t id, uint8_t offset, uint8_t len);
    int (*pci_add_ext_cap)(tes_device *dev, uint16_t id, uint8_t version, uint16_t offset,
                           uint16_t len);
    int (*pci_find_cap)(tes_device *dev, uint8_t id); /* 0 when absent */
    int (*pci_msi_init)(tes_device *dev, uint8_t offset, unsigned nvec, bool is64,
                        bool maskable);
    /* MSI-X table and PBA live in the region r of BAR bar (core maps I/O
     * subregions at table_off and pba_off, so r must be a container:
     * -EINVAL and a device error otherwise). Returns the cap offset. */
    int (*pci_msix_init)(tes_device *dev, uint8_t offset, unsigned nvec, int bar,
                         tes_region *r, uint32_t table_off, uint32_t pba_off);
    bool (*pci_msi_enabled)(tes_device *dev);
    bool (*pci_msix_enabled)(tes_device *dev);
    /* Send MSI-X (or MSI) vector; sets the pending bit when masked. */
    void (*pci_notify)(tes_device *dev, unsigned vector);
    void (*pci_set_irq)(tes_device *dev, int level); /* INTx, honours INTX_DISABLE */
    int (*pci_pcie_cap_init)(tes_device *dev, uint8_t offset, uint8_t port_type);
    int (*pci_pm_init)(tes_device *dev, uint8_t offset);
    uint16_t (*pci_requester_id)(tes_device *dev); /* bus << 8 | devfn */
    uint32_t (*pci_default_config_read)(tes_device *dev, uint32_t off, unsigned len);
    void (*pci_default_config_write)(tes_device *dev, uint32_t off, uint32_t val, unsigned len);
    /* Host bridges: a root PCI bus whose BARs map into mem and io. */
    tes_bus *(*pci_root_bus_new)(tes_device *host_bridge, const char *name, tes_region *mem,
                                 tes_region *io);
    /* Root bus INTx: map_irq turns (devfn, pin) into an index of irqs. */
    void (*pci_bus_set_irqs)(tes_bus *bus, tes_pci_map_irq map_irq, void *opaque,
                             tes_irq **irqs, unsigned nirqs);
    /* Config cycles from a host bridge (ECAM or 0xcf8/0xcfc); bus numbers
     * are routed through bridges as the guest numbered them. Reads of
     * absent functions return all ones. */
    uint32_t (*pci_host_config_read)(tes_bus *root, uint8_t bus, uint8_t devfn, uint32_t off,
                                     unsigned len);
    void (*pci_host_config_write)(tes_bus *root, uint8_t bus, uint8_t devfn, uint32_t off,
                                  uint32_t val, unsigned len);
    /* For bridges (header type 1): the secondary bus behind dev. */
    tes_bus *(*pci_bridge_bus_new)(tes_device *dev, const char *name);

    /* ---- CPUs and machine ---- */
    tes_cpu *(*cpu_create)(tes_device *machine, const char *model, unsigned index);
    void *(*cpu_state)(tes_cpu *cpu);
    unsigned (*cpu_index)(tes_cpu *cpu);
    tes_cpu *(*cpu_by_index)(unsigned index);
    unsigned (*cpu_count)(void);
    /* Wake a halted vCPU / make a running one leave exec() soon. */
    void (*cpu_kick)(tes_cpu *cpu);
    /* Power a vCPU on or off (PSCI CPU_ON/OFF, INIT/SIPI). */
    void (*cpu_set_running)(tes_cpu *cpu, bool running);
    /* Ask the main loop to end with exit status, or reset the machine. */
    void (*request_shutdown)(int status);
    void (*request_reset)(void);

    /* ---- character backends (-serial) ---- */
    tes_chr *(*serial_chr)(unsigned index); /* NULL when -serial none */
    void (*chr_write)(tes_chr *chr, const void *buf, size_t len);
    void (*chr_set_handlers)(tes_chr *chr, tes_chr_can_read can_read, tes_chr_read read,
                             void *opaque);

    /* ---- block backends (block.h) ---- */
    uint64_t (*drive_size)(tes_drive *d);
    bool (*drive_readonly)(tes_drive *d);
    /* Synchronous I/O: 0 or -errno. */
    int (*drive_pread)(tes_drive *d, uint64_t off, void *buf, size_t len);
    int (*drive_pwrite)(tes_drive *d, uint64_t off, const void *buf, size_t len);
    int (*drive_flush)(tes_drive *d);

    /* ==== ABI 1.1 ==== */
    /*
     * Submit an asynchronous request: the iovecs point straight into guest
     * memory (from dma_map) and stay valid until cb runs; len is the byte
     * count for WRITE_ZEROES/DISCARD (iov ignored) and ignored for FLUSH.
     * Requests run concurrently (io_uring; a thread pool when io_uring is
     * unavailable) and may complete in any order. Returns 0 when queued (cb
     * will run exactly once, never from inside drive_submit) or -errno
     * (cb will not run).
     */
    int (*drive_submit)(tes_drive *d, tes_blk_op op, uint64_t offset, const struct iovec *iov,
                        unsigned iovcnt, uint64_t len, unsigned flags, tes_blk_cb cb,
                        void *opaque);
    /* Wait until every request of d submitted so far has completed and its
     * callback has run (reset, migration). */
    void (*drive_drain)(tes_drive *d);
    /* Requests of d in flight. */
    unsigned (*drive_inflight)(tes_drive *d);

    /* ==== ABI 1.2 ==== */
    /*
     * Register cb to be called after every write the core itself makes to
     * guest RAM: as_write/as_access to RAM, dma_write, dma_unmap of a
     * mapping written by a device, as_set_dirty, migration. host is the
     * host address of the first byte written (within one RAM region), len
     * the byte count. CPU plugins that translate guest code use it to drop
     * stale translations; writes a plugin makes through its own host
     * pointers (a soft TLB, a boot loader's memcpy) are not reported. cb
     * runs on the thread that wrote (a vCPU or the main loop), with the
     * machine lock held. Registering the same (cb, opaque) twice is one
     * registration; there is no unregistering (plugins stay loaded).
     */
    void (*ram_write_watch)(void (*cb)(void *opaque, const void *host, uint64_t len),
                            void *opaque);

    /* ---- ABI 1.2, continued: boards over the CPU<->board interface
     * (cpu.h) and platform devices (platform.h) ---- */
    /* The vCPU whose exec() is running on this thread (the one accessing
     * an MMIO region or system register now), NULL outside exec(). */
    tes_cpu *(*cpu_current)(void);
    /* The vCPU as a device: its outputs (the Arm generic timers) are wired
     * with dev_connect_irq(cpu_dev(cpu), n, line). */
    tes_device *(*cpu_dev)(tes_cpu *cpu);
    /* Input line of the vCPU (its set_irq line numbers: TES_ARM_IRQ, ...);
     * the same tes_irq every time; NULL for a line out of 0..7. */
    tes_irq *(*cpu_irq_in)(tes_cpu *cpu, int line);
    /* Set the entry state the vCPU takes now and after every reset;
     * mode TES_BOOT_RESET clears it. 0, -ENOTSUP (the CPU type has no
     * apply_boot) or -EINVAL (a mode it does not implement). */
    int (*cpu_set_boot)(tes_cpu *cpu, const tes_cpu_boot *boot);
    /* MPIDR_EL1 / APIC ID (the vCPU index when the type does not say). */
    uint64_t (*cpu_arch_id)(tes_cpu *cpu);
    /* An interrupt controller serves system registers of cpu, or of every
     * vCPU (present and future) when cpu is NULL; up to 4 servers each,
     * the first claiming a register answers (the vCPU's own first). ops
     * NULL: stop serving (the servers registered with opaque). 0, -EBUSY
     * (this ops and opaque already serve it), -ENOSPC, -EINVAL. */
    int (*cpu_set_sysregs)(tes_cpu *cpu, const tes_cpu_sysregs *ops, void *opaque);
    /* For CPU plugins: a register the CPU does not implement itself. false
     * when no server claims it (the CPU then raises UNDEFINED). */
    bool (*cpu_sysreg_read)(tes_cpu *cpu, uint32_t reg, uint64_t *val);
    bool (*cpu_sysreg_write)(tes_cpu *cpu, uint32_t reg, uint64_t val);
    /* Platform devices: register MMIO region i (returns i, or -EINVAL) in
     * realize; boards map dev_mmio(dev, i) (NULL past the last). */
    int (*dev_init_mmio)(tes_device *dev, tes_region *r);
    tes_region *(*dev_mmio)(tes_device *dev, unsigned idx);
    /* n input lines of dev (an interrupt controller's), handler(opaque, i,
     * level) for line i; boards connect other devices' outputs to
     * dev_irq_in(dev, i) (NULL past the last). Once per device. */
    void (*dev_init_irq_in)(tes_device *dev, tes_irq_handler handler, void *opaque,
                            unsigned n);
    tes_irq *(*dev_irq_in)(tes_device *dev, unsigned idx);
    /* The type's tes_platform_info, NULL when it is no platform device. */
    const tes_platform_info *(*dev_platform_info)(tes_device *dev);
    /* addr= / irq= given with -device (out->size set by the caller); false
     * when neither was given. */
    bool (*dev_platform_place)(tes_device *dev, tes_platform_place *out);
    /* A host bridge's ECAM window (PCIe Base 6.0, 7.2.2) of size bytes (a
     * multiple of 1 MiB, at most 256 MiB: one MiB per bus) over the
     * hierarchy of root, owned by owner; NULL on a bad size. */
    tes_region *(*pci_ecam_new)(tes_device *owner, tes_bus *root, uint64_t size);

    /* ==== ABI 1.3: network backends (net.h has the whole contract) ==== */
    /* Make dev the NIC of nd (its TES_PROP_NETDEV field): ops->receive and
     * ->link_changed get opaque; mac (6 bytes, the NIC's own field, read
     * whenever HMP info network asks, so it may change in place) names the
     * NIC. Call once, in realize; the core detaches when dev is freed. 0;
     * nd NULL: 0 and nothing; -EINVAL (ops NULL or too small, reported
     * through error(dev)). */
    int (*net_attach)(tes_device *dev, tes_netdev *nd, const tes_net_ops *ops, void *opaque,
                      const uint8_t *mac);
    /* Send one frame (iovecs, from the destination MAC on, no FCS) from
     * the NIC's queue; hdr NULL for a complete frame, else offloads the
     * core finishes when the backend cannot. Copied or written before the
     * return. Returns the frame length, also when it was dropped (link
     * down, no backend, nd NULL, backend full), or -EINVAL: empty, longer
     * than TES_NET_MAX_FRAME, or a header that does not fit the frame. */
    int (*net_send)(tes_netdev *nd, unsigned queue, const tes_net_hdr *hdr,
                    const struct iovec *iov, unsigned iovcnt);
    /* The NIC has receive buffers again on queue: frames the core kept are
     * offered again from the main loop (never from inside this call). */
    void (*net_flush)(tes_netdev *nd, unsigned queue);
    /* The link as QMP set_link left it (true when nd is NULL). */
    bool (*net_link_up)(tes_netdev *nd);
    /* Queue pairs of the backend (tap queues=N; 1 otherwise and for NULL). */
    unsigned (*net_queues)(tes_netdev *nd);
    /* The guest uses n (>= 1) of the NIC's queue pairs now: received frames
     * go to queues 0..n-1. 0, or -EINVAL for n == 0. Default 1. */
    int (*net_set_queues)(tes_netdev *nd, unsigned n);
    /* TES_NET_OFFLOAD_* the backend takes natively in sent frames (a tap
     * with vnet_hdr=on); the core does the rest in software. */
    unsigned (*net_offloads)(tes_netdev *nd);
    /* Receive offloads the NIC accepts (TES_NET_OFFLOAD_* mask); returns
     * the subset enabled (what the backend can deliver; 0 for NULL). */
    unsigned (*net_set_rx_offloads)(tes_netdev *nd, unsigned mask);

    /* ==== ABI 1.5: removable media (block.h, tes_drive_media_ops) ==== */
    /* Make d removable with ops (opaque passed back); call in realize.
     * ops NULL: not removable any more (the core also forgets them when the
     * device lets go of the drive). ops->size smaller than the 1.5 struct:
     * the members past it read as NULL. */
    void (*drive_set_media_ops)(tes_drive *d, const tes_drive_media_ops *ops, void *opaque);
    /* Whether d holds a medium (false for NULL and an empty drive: its
     * size is 0 and every request fails with -ENOMEDIUM). */
    bool (*drive_has_medium)(tes_drive *d);
    /* The guest moved the tray itself (START STOP UNIT with LoEj): the
     * core emits QMP DEVICE_TRAY_MOVED; the medium stays in the drive. */
    void (*drive_tray_moved)(tes_drive *d, bool open);

    /* ---- ABI 1.5, continued: IOMMUs (dma.h) ---- */
    /* dev's DMA (dma_read/dma_write/dma_map) skips IOMMU translation when
     * bypass is set: a virtio device whose driver did not accept
     * VIRTIO_F_ACCESS_PLATFORM gives guest-physical addresses, as QEMU's
     * iommu_platform=off. MSIs still go through interrupt remapping. Off
     * when a device is created. */
    void (*dma_set_bypass)(tes_device *dev, bool bypass);

    /* ==== ABI 1.6: CPU topology, NUMA, memory backends (machine.h) ==== */
    /* The -smp topology and the -numa layout (never NULL once the machine
     * is being created; before that it describes one CPU and no node). */
    const tes_topology *(*machine_topology)(void);
    /* The machine's guest RAM, -m bytes, for its board (instead of
     * region_new_ram): one RAM region whose host mapping is contiguous,
     * also when -numa node,memdev= puts each node on its own
     * -object memory-backend-* (mapped back to back in node order, files
     * MAP_SHARED when share=on). NULL after error(machine). */
    tes_region *(*machine_ram_new)(tes_device *machine, const char *name);
    /* The NUMA node of the devices below bus (a PCI expander bridge's
     * root bus: pxb's numa_node=), which boards describe (_PXM, DT
     * numa-node-id). set: 0, or -EINVAL when node is not below
     * machine_topology()->nodes (-1 clears it). get: -1 when none was set
     * on bus. */
    int (*bus_set_numa_node)(tes_bus *bus, int node);
    int (*bus_numa_node)(tes_bus *bus);
    /* The memory backend -object memory-backend-*,id=id as a RAM region
     * owned by owner (an nvdimm's memdev=), its size region_size(); a
     * backend serves one user. NULL after error(owner) when no backend has
     * that id or it is already in use (a NUMA node's or another device's). */
    tes_region *(*memdev_region)(tes_device *owner, const char *id);

    /* ---- ABI 1.6, continued: who is accessing an I/O region (dma.h) ---- */
    /* While a PCI function's DMA (dma_read, dma_write, the write of
     * msi_send) is dispatched to an I/O region, the function's requester
     * id (bus << 8 | devfn, as pci_requester_id); -1 for every other access
     * (a CPU, the harness, a device that is not PCI). QEMU's MemTxAttrs
     * requester_id: a GICv3 ITS takes the DeviceID of an MSI written to
     * GITS_TRANSLATER from it. */
    int32_t (*dma_requester)(void);

    /* ---- ABI 1.6, continued: PCI expander bridges (pxb, pxb-pcie) ---- */
    /* A new root bus named name, numbered bus_nr (1..255, unique), behind
     * dev: a PCI function on a main root bus (the expander device, in its
     * realize). The main root's host bridge routes config cycles for
     * buses bus_nr up to the next expander's bus_nr to it; its BARs map in
     * the main root's memory and I/O spaces; its INTx goes through dev as
     * through a bridge (pin rotated by the device's slot). NULL, with the
     * reason reported on dev, when bus_nr is 0 or taken or dev is not on
     * a main root bus. The bus goes with dev. */
    tes_bus *(*pci_expander_bus_new)(tes_device *dev, const char *name, uint8_t bus_nr);

    /* ==== ABI 1.7: ACPI S3 suspend and resume (machine.h) ==== */
    /* The guest entered S3 (an ACPI PM1_CNT write): the vCPUs stop, the run
     * state becomes "suspended" and QMP SUSPEND goes out, as QEMU's
     * qemu_system_suspend_request. Callable from a device callback. QMP
     * system_wakeup then resets the machine (see tes_machine_ops.wakeup)
     * and emits WAKEUP. */
    void (*request_suspend)(void);

    /* ---- ABI 1.7, continued: wake events ---- */
    /* A wake event of a suspended guest (the ACPI block's RTC_STS with
     * RTC_EN: the CMOS RTC alarm), as QEMU's qemu_system_wakeup_request:
     * the core then does what QMP system_wakeup does (from the main loop,
     * not inside the caller) and emits WAKEUP. Ignored when the guest is not
     * suspended. Callable from a device callback. */
    void (*request_wakeup)(void);

    /* ---- ABI 1.7, continued: trace events (trace.h) ---- */
    /* Register n events (ev_size: sizeof(tes_trace_event) as the plugin
     * was built) that stay in the plugin's static storage; the core writes
     * their state when -trace, QMP or HMP switch them, including right
     * here for patterns given before. Two plugins may register one name (a
     * -plugin override of a stock device): a switch reaches both. 0, or
     * -EINVAL (a NULL or malformed name, ev_size too small: nothing is
     * registered). Use TES_TRACE_REGISTER. */
    int (*trace_register)(tes_trace_event *events, unsigned n, size_t ev_size);
    /* Print one trace line for ev: fmt formatted (trace_NAME() passes
     * "%s " fmt with ev->name first, so an event without arguments still
     * has a format), after the -msg timestamp=on prefix; no newline needed.
     * trace_NAME() calls it only while ev is enabled. */
    void (*trace_emit)(const tes_trace_event *ev, const char *fmt, ...) TES_PRINTF(2, 3);
    /* ---- ABI 1.7, continued: graphic consoles (display.h) ---- */
    /* A console of dev (one per head), numbered after those before it;
     * ops and opaque are kept. It has no surface until one is set, and
     * goes with dev. NULL on a bad ops table. */
    tes_console *(*console_new)(tes_device *dev, const tes_console_ops *ops, void *opaque);
    /* Show surf from now on (copied; its pixels are not), or nothing
     * (NULL: the display is off). A surface with a bad format, size or
     * stride is refused (logged as a plugin error) and shows nothing. */
    void (*console_set_surface)(tes_console *con, const tes_surface *surf);
    /* Pixels in the rectangle changed (clipped to the surface). */
    void (*console_update)(tes_console *con, uint32_t x, uint32_t y, uint32_t w, uint32_t h);

    /* ---- ABI 1.7, continued: input devices (input.h) ---- */
    /* A handler of dev for the kinds in mask (TES_INPUT_KIND_*); goes
     * with dev. NULL on a bad ops table or an empty mask. */
    tes_input *(*input_handler_new)(tes_device *dev, unsigned kinds, const tes_input_ops *ops,
                                    void *opaque);
    /* The guest started using h: its kinds go to h from now on. */
    void (*input_handler_activate)(tes_input *h);

    /* ==== ABI 1.8: CPU hot-unplug (machine.h cpu_plugged) ====
     * The guest has ejected cpu (x86: _EJ0 of its processor device after
     * a device_del): the core destroys the vCPU and its device once the
     * current exec slice is over (cpu is not used after this returns,
     * cpu_by_index of its index becomes NULL then) and sends QMP
     * DEVICE_DELETED. Callable from a device callback. */
    void (*cpu_remove)(tes_cpu *cpu);
    /* ---- ABI 1.8, continued: devices the guest gave back (device.h
     * TES_TYPE_MACHINE_HOTPLUG) ---- */
    /* Remove dev as device_del does once the guest released it (the _EJ0
     * of a memory module): it is unrealized and freed from the main loop
     * soon after, never inside this call (a vCPU's I/O callback may make
     * it: its soft TLB drops the module's RAM before it runs again), then
     * QMP DEVICE_DELETED goes out. NULL, or a device already going:
     * nothing. */
    void (*dev_unplug)(tes_device *dev);
    /* ---- ABI 1.8, continued: mappings a device keeps (dma.h) ---- */
    /* A pointer dma_map(dev, ...) returned may be kept and used again, for
     * the same addresses and direction, as long as this returns the same
     * value and that value is not 0; each write through it is still
     * followed by dma_unmap(dev, ptr, n, true) (dirty tracking, the CPUs'
     * translated code). The value changes whenever such a pointer may have
     * gone stale: the memory map changed (a BAR moved, RAM plugged or
     * unplugged), a migration's dirty sync, a PCI config write, a reset, an
     * unplug or a state load of a function, an IOMMU claimed or released,
     * a bypass set. 0 while dev's DMA is translated by an IOMMU (whose
     * mappings change without the core knowing) or dev may not master the
     * bus: map for each access then. For the device's hot path (a reply
     * queue, a ring, its frames); cheap enough to call at every access. */
    uint64_t (*dma_generation)(tes_device *dev);
    /* ---- ABI 1.8, continued: QMP events from plugins ---- */
    /* Send QMP event name (upper case, as QEMU's: "ACPI_DEVICE_OST") to
     * every QMP client, with data_json (the event's "data": the text of a
     * JSON object; NULL: no data). Queued, never sent inside this call, so
     * a device callback may call it. 0, or -EINVAL (a name that is not
     * [A-Z0-9_]+, or data that is not a JSON object: logged as a plugin
     * error, nothing sent). */
    int (*qmp_event)(const char *name, const char *data_json);
    /* id= of dev as the user gave it (-device, device_add), NULL without
     * one (dev_id then gives the qtree name): QMP's "device" members. */
    const char *(*dev_given_id)(tes_device *dev);

    /* ==== ABI 1.9: guest watchdogs ==== */
    /* A guest watchdog fired (the ICH9 TCO timer's second timeout): the
     * core sends QMP WATCHDOG {"action": A} and does A, as -watchdog-action
     * (QMP watchdog-set-action) says: reset (the default), shutdown (the
     * machine's power button), poweroff (exit 0), pause (run state
     * "watchdog"), debug (a line on stderr), none, inject-nmi (x86: NMI to
     * every vCPU). QEMU's watchdog_perform_action. Callable from a device
     * callback: reset, poweroff and pause happen from the main loop. */
    void (*watchdog_perform_action)(void);

    /* ==== ABI 1.11: calls deferred to the end of a batch ==== */
    /* fn(opaque) when the batch the caller runs in ends: the register
     * write being handled (a doorbell), or the block completions being
     * reaped; at once outside a batch. The same (dev, fn, opaque)
     * deferred again before it ran runs once, after everything the batch
     * did. For what a device would do at each of a batch's completions
     * but needs only after the last: its interrupt, virtio's used-ring
     * notification (a full barrier and the event-index test), as QEMU's
     * defer_call. Calls for dev not yet run when dev is unrealized are
     * dropped. Machine lock held; fn may defer again (it then runs at
     * once). */
    void (*defer_call)(tes_device *dev, void (*fn)(void *opaque), void *opaque);
};

#endif
