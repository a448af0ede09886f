/*
 * tessera plugin harness: the core playing host, in-process, for one plugin.
 *
 * Link with `pkg-config --libs tessera-harness-1`. A harness owns a fresh
 * core: guest RAM at physical address 0, a root PCI bus ("pci.0") whose BARs
 * map into system memory (under RAM and everything else mapped there: a BAR
 * a guest puts over RAM does not hide it, as on the boards) and the I/O
 * port space, an MSI doorbell window at
 * TES_HARNESS_MSI_BASE that records every MSI/MSI-X message, observable INTx
 * and sysbus interrupt lines, a virtual clock that moves only when the
 * test steps it, and a record of what plugins logged. One harness at a time
 * per process. docs/testing.md ("The plugin harness") is the guide; the
 * installed example (pkg-config --variable=examplesdir tessera-sdk-1,
 * pci-counter/) is a complete test.
 *
 *   tes_harness *h = tes_harness_new(16 << 20);
 *   tes_harness_load(h, "build/plugins/edu/edu.so");
 *   tes_device *d = tes_harness_device(h, "edu", NULL);
 *   uint64_t bar0 = tes_harness_bar_map(h, d, 0, 0x10000000);
 *   g_assert_cmphex(tes_harness_read(h, bar0, 4), ==, 0x010000ed);
 */
#ifndef TESSERA_HARNESS_H
#define TESSERA_HARNESS_H

#include <tessera/tessera.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TES_HARNESS_MSI_BASE 0xfee00000ull
#define TES_HARNESS_MSI_SIZE 0x100000ull

typedef struct tes_harness tes_harness;

/* A fresh host with ram_size bytes of RAM at 0. Never NULL. */
tes_harness *tes_harness_new(uint64_t ram_size);
/* Unrealize every device and drop the core's state; plugins stay mapped. */
void tes_harness_free(tes_harness *h);
/* Load a plugin .so (the same checks tessera makes). false on refusal,
 * with the message in tes_harness_error(). */
bool tes_harness_load(tes_harness *h, const char *path);
/* Last error message, "" when none. */
const char *tes_harness_error(tes_harness *h);
/* The host table plugins see. */
const tes_host *tes_harness_host(tes_harness *h);

/* Add a -drive (same grammar as the command line). */
bool tes_harness_drive(tes_harness *h, const char *opts);
/* Asynchronous block requests (host->drive_submit) complete here, since the
 * harness runs no main loop: poll reaps what is ready and runs the
 * callbacks without blocking; wait first blocks until at least one request
 * of any drive completes (returns at once when none is in flight). As a
 * vCPU's slice does, tes_harness_write/io_write queue the block requests
 * they cause and hand them to the kernel together at the next of: these
 * two, tes_harness_clock_step, _reset, _cpu_exec, _migrate, _state_save,
 * _free. */
void tes_harness_block_poll(tes_harness *h);
void tes_harness_block_wait(tes_harness *h);
/* Create and realize a device: props "k=v,..." or NULL. PCI devices go on
 * pci.0 (addr= picks the slot), others on the system bus. NULL on error. */
tes_device *tes_harness_device(tes_harness *h, const char *type, const char *props);
/* The device instance (the plugin's own state struct). */
void *tes_harness_state(tes_device *dev);
/* Reset every device as a system reset would. */
void tes_harness_reset(tes_harness *h);

/* Physical memory access as a CPU would do it (size 1, 2, 4 or 8). */
uint64_t tes_harness_read(tes_harness *h, uint64_t addr, unsigned size);
void tes_harness_write(tes_harness *h, uint64_t addr, uint64_t val, unsigned size);
uint64_t tes_harness_io_read(tes_harness *h, uint64_t port, unsigned size);
void tes_harness_io_write(tes_harness *h, uint64_t port, uint64_t val, unsigned size);
/* Guest RAM, for building rings and checking DMA. */
void *tes_harness_ram(tes_harness *h);
uint64_t tes_harness_ram_size(tes_harness *h);

/* PCI config space of dev (through the root bus, as the guest sees it). */
uint32_t tes_harness_cfg_read(tes_harness *h, tes_device *dev, uint32_t off, unsigned size);
void tes_harness_cfg_write(tes_harness *h, tes_device *dev, uint32_t off, uint32_t val,
                           unsigned size);
/* Config cycles to bus/devfn as the host bridge of pci.0 routes them
 * through bridges (bus numbers as programmed); absent functions read
 * all ones. */
uint32_t tes_harness_cfg_read_bdf(tes_harness *h, uint8_t bus, uint8_t devfn, uint32_t off,
                                  unsigned size);
void tes_harness_cfg_write_bdf(tes_harness *h, uint8_t bus, uint8_t devfn, uint32_t off,
                               uint32_t val, unsigned size);
/* Program BAR bar to addr (I/O BARs: a port), enable memory/I/O decoding
 * and bus mastering. Returns addr, or UINT64_MAX when the BAR is absent. */
uint64_t tes_harness_bar_map(tes_harness *h, tes_device *dev, int bar, uint64_t addr);
/* Enable MSI-X (or MSI when no MSI-X) with vector i at
 * TES_HARNESS_MSI_BASE + 4*i, data i. Returns false without either cap. */
bool tes_harness_msi_enable(tes_harness *h, tes_device *dev);

/* Interrupts: a sysbus output's level, the PCI INTx level of dev. */
int tes_harness_irq_level(tes_harness *h, tes_device *dev, unsigned idx);
int tes_harness_intx_level(tes_harness *h, tes_device *dev);
/* Level of pci.0's INTx line (0..3) that (slot + pin) % 4 picks: what a
 * function behind bridges drives after their swizzle. */
int tes_harness_pci_line(tes_harness *h, unsigned line);
/* MSIs received since the last pop, oldest first. */
unsigned tes_harness_msi_count(tes_harness *h);
bool tes_harness_msi_pop(tes_harness *h, uint64_t *addr, uint32_t *data);

/* Virtual clock: now, and advance by ns running due timers. */
int64_t tes_harness_clock_ns(tes_harness *h);
void tes_harness_clock_step(tes_harness *h, int64_t ns);

/* vCPUs: create model as vCPU index (reset, powered), run it for up to
 * budget instructions in the calling thread (its exec(), no accelerator
 * thread), and reach its plugin-defined state. */
tes_cpu *tes_harness_cpu(tes_harness *h, const char *model, unsigned index);
tes_exec_status tes_harness_cpu_exec(tes_harness *h, tes_cpu *cpu, uint64_t budget,
                                     uint64_t *executed);
void *tes_harness_cpu_state(tes_cpu *cpu);
/* Reset the vCPU as a system reset does: its reset(), then the boot state
 * a board set with host->cpu_set_boot (SDK 1.2). */
void tes_harness_cpu_reset(tes_harness *h, tes_cpu *cpu);

/*
 * Network (SDK 1.3, tessera/net.h). A harness netdev plays the outside
 * world for a NIC: opts are "id=ID[,queues=N][,vnet_hdr=on|off]", and the
 * NIC takes it with netdev=ID. With vnet_hdr=on it takes every offload
 * natively (sent frames are recorded with the NIC's header as given, and
 * set_rx_offloads grants what the NIC asks); with off (the default) the
 * core finishes offloaded frames in software before recording them, as
 * it does for slirp and socket backends.
 */
bool tes_harness_netdev(tes_harness *h, const char *opts);
/* Offer a frame to the NIC of netdev id on backend queue queue (hdr NULL:
 * a complete frame), as a backend would from the main loop. Returns the
 * NIC's answer: len when it took the frame, 0 when the core kept it
 * (can_receive said no, or receive returned 0, or older frames wait) to
 * offer again after the NIC calls net_flush and tes_harness_net_poll runs;
 * -ENODEV for an unknown id, -EINVAL for a bad length or a queue the
 * netdev does not have. */
int tes_harness_net_inject(tes_harness *h, const char *id, unsigned queue, const tes_net_hdr *hdr,
                           const void *buf, size_t len);
/* Run what the main loop would: offer kept frames to NICs that flushed. */
void tes_harness_net_poll(tes_harness *h);
/* Frames the core keeps for the NIC of id (all queues). */
unsigned tes_harness_net_queued(tes_harness *h, const char *id);
/* Frames the NIC sent through id, oldest first: pop one into buf (up to
 * size bytes) and return its full length, or -1 when none is left. queue
 * and hdr (may be NULL) get the queue it was sent on and its header (all
 * zero when it came without one). */
unsigned tes_harness_net_sent_count(tes_harness *h, const char *id);
int tes_harness_net_sent(tes_harness *h, const char *id, void *buf, size_t size,
                         unsigned *queue, tes_net_hdr *hdr);
/* QMP set_link on id; the NIC's link_changed runs before this returns. */
void tes_harness_net_set_link(tes_harness *h, const char *id, bool up);

/* Migration round trip: save dev's state, destroy it, create the same type
 * with the same properties at the same place, load the state into it and
 * return the new device (NULL on error). *bytes gets the section size. */
tes_device *tes_harness_migrate(tes_harness *h, tes_device *dev, size_t *bytes);

/* A device's migration section payload as tes_harness_migrate carries it
 * (the core's PCI state, the field table, save() data): malloc'd, free()
 * it; NULL with tes_harness_error() set if saving fails. */
void *tes_harness_state_save(tes_harness *h, tes_device *dev, size_t *len);
/* Load such a payload (state version: the type's own) into dev, as an
 * incoming migration would: 0, or -errno with the loader's one-line
 * refusal in tes_harness_error(). For tests of loaders and fuzzing. */
int tes_harness_state_load(tes_harness *h, tes_device *dev, const void *data, size_t len);
/* Overwrite element index of field `name` in a payload of dev's type with
 * value (truncated to the element size): how a test forges a stream a
 * guest could not have produced. False if the field is not there. */
bool tes_harness_state_poke(tes_device *dev, void *data, size_t len, const char *name,
                            unsigned index, uint64_t value);

/* Added by migdev (harness library 1.5, no plugin ABI change): the whole
 * machine as `migrate` sends it (every RAM region, the virtual clock, the
 * vCPUs' run state, every device's section), preceded by the levels of the
 * harness's own interrupt lines (the inputs of the interrupt controller it
 * plays). Save returns a malloc'd buffer (free() it), NULL with
 * tes_harness_error() set when the machine cannot migrate (a device without
 * state). Load it into a FRESH harness (tes_harness_free, tes_harness_new)
 * in which the test created the same drives, netdevs, devices and vCPUs in
 * the same order and mapped them at the same places, as a destination
 * started with the same command line: 0, or -errno with the loader's
 * one-line refusal in tes_harness_error(). Guest RAM comes from the
 * stream; a drive's data is its file's (migrate does not copy disks). */
void *tes_harness_machine_save(tes_harness *h, size_t *len);
int tes_harness_machine_load(tes_harness *h, const void *data, size_t len);

/* What plugins logged (host->log) under the TES_LOG_* items of mask,
 * whether or not TESSERA_HARNESS_LOG also prints them; tes_harness_new
 * captures TES_LOG_GUEST_ERROR | TES_LOG_UNIMP. log_text is every message
 * since tes_harness_new or the last clear, one per line ("" when none),
 * valid until the next message or clear. */
void tes_harness_log_capture(tes_harness *h, unsigned mask);
const char *tes_harness_log_text(tes_harness *h);
void tes_harness_log_clear(tes_harness *h);

/* ABI 1.5: one QMP command ({"execute": ..., "arguments": ...}) run as a
 * monitor would, returned as the reply's JSON text ({"return": ...} or
 * {"error": {"class", "desc"}}); free() it. For removable-media tests:
 * eject, blockdev-change-medium, the tray commands, query-block. */
char *tes_harness_qmp(tes_harness *h, const char *json);

/* Added by pcihp (harness library only, no plugin ABI change): the QMP
 * events sent since tes_harness_new or the last call (DEVICE_DELETED,
 * ...), one JSON object per line, "" when none; free() it. */
char *tes_harness_qmp_events(tes_harness *h);

#ifdef __cplusplus
}
#endif
#endif
