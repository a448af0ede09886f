/*
 * tessera core: internal interfaces between core modules.
 *
 * Conventions: set-up functions return bool (or a pointer, NULL on failure)
 * and put a g_malloc'd one-line message in *errp (errp may be NULL). Hot
 * paths return 0 or -errno. Everything runs under the machine lock
 * (core_lock()) unless it says otherwise.
 */
#ifndef TESSERA_CORE_H
#define TESSERA_CORE_H

#include <glib.h>
#include <stdio.h>
#include <tessera/tessera.h>

#define TESSERA_VERSION "0.1.0"
#define TES_STR_(x) #x
#define TES_STR(x) TES_STR_(x)
/* "1.1": the SDK ABI this core provides. */
#define TES_ABI_STRING TES_STR(TES_ABI_MAJOR) "." TES_STR(TES_ABI_MINOR)

void core_set_error(char **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* str fit for a message (free it): bytes outside printable ASCII and the
 * backslash as \\xNN, so input cannot send invalid UTF-8 or control
 * characters to a terminal or a QMP client. */
char *core_printable(const char *str);
/* GLib's simple glob match, false for a pattern that is not UTF-8 (GLib
 * asserts on one; the names matched are ASCII, so it matches nothing). */
bool core_glob_match(const char *glob, const char *name);

/* ---- machine lock and run state (main.c / accel.c) ---- */
void core_lock(void);
void core_unlock(void);

typedef enum runstate {
    RUN_PRELAUNCH, /* -S or not started yet */
    RUN_RUNNING,
    RUN_PAUSED,
    RUN_INMIGRATE,
    RUN_POSTMIGRATE,
    RUN_SHUTDOWN,
    RUN_SUSPENDED, /* ACPI S3: vCPUs stopped until system_wakeup */
    RUN_DEBUG,     /* stopped at a breakpoint, watchpoint or step (gdbstub) */
    RUN_WATCHDOG,  /* stopped by -watchdog-action pause (watchdog.c) */
} runstate;
runstate runstate_get(void);
const char *runstate_name(runstate s); /* QMP names: "running", "paused", ... */
void vm_start(void);                   /* cont */
void vm_stop(runstate why);            /* stop: pauses vCPUs and the clock */
void core_request_shutdown(int status); /* main loop ends, exit(status) */
void core_request_reset(void);          /* main loop resets devices and CPUs */
bool core_shutdown_requested(int *status);
void core_request_suspend(void);        /* guest S3: main loop suspends */
/* system_wakeup: false with *err when the guest is not suspended. */
bool core_system_wakeup(char **err);
void core_request_wakeup(void);         /* host->request_wakeup: a wake event */
/* The guest is in S3, or was when stopped (migration carries it). */
bool runstate_was_suspended(void);
void runstate_set_suspended(void);      /* the next vm_start goes to S3 */

/* ---- guest watchdogs (watchdog.c) ---- */
typedef enum wdt_action {
    WDT_RESET, WDT_SHUTDOWN, WDT_POWEROFF, WDT_PAUSE, WDT_DEBUG, WDT_NONE, WDT_INJECT_NMI,
} wdt_action;
/* QEMU's WatchdogAction name -> wdt_action, -1 when unknown. */
int watchdog_action_parse(const char *name);
/* -watchdog-action, QMP watchdog-set-action: false with one line in *errp
 * for an unknown name. */
bool watchdog_set_action(const char *name, char **errp);
const char *watchdog_action_name(void);
/* host->watchdog_perform_action (1.9): QMP WATCHDOG, then the action. */
void watchdog_perform_action(void);

/* ---- log (log.c) ---- */
extern unsigned core_log_mask;
bool log_set_mask(const char *spec, char **errp); /* "guest_errors,unimp" or "help" */
bool log_set_file(const char *path, char **errp);
/* Also append messages of the items in mask to buf (NULL: stop), one line
 * each, whether or not -d prints them: what the harness shows a test. */
void log_set_capture(GString *buf, unsigned mask);
void log_write_trace(const char *line); /* one trace event line, '\n' included */
void core_log(unsigned mask, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void core_logv(unsigned mask, const char *fmt, va_list ap);
void log_print_help(void);

/* ---- plugins (plugin.c) ---- */
typedef struct plugin {
    char *path;                  /* file loaded */
    const tes_plugin_desc *desc; /* as exported */
    void *handle;                /* from dlopen() */
    bool from_cli;               /* named with -plugin: wins over defaults */
} plugin;

/* Load one file. Refusals: missing descriptor, ABI major differs, minor
 * newer than the core's, init failed. */
plugin *plugin_load(const char *path, bool from_cli, char **errp);
/* -plugin FILE first, then TESSERA_PLUGIN_PATH (':'-separated), the build
 * tree when run from it, then the installed directory. A directory is
 * scanned for *.so. A file of a plugin already loaded (same name) from an
 * earlier place is skipped. */
bool plugins_load_all(GPtrArray *cli_files, char **errp);
/* Default-place files that could not load (plugins_load_all skips them):
 * the refusal of one that declares KIND:TYPE (of plugin plug, when not
 * NULL), else NULL; the "; "-joined refusals of those whose types are
 * unknown (g_free, NULL when none); and one warning line each on stderr
 * (once per file). */
const char *plugins_skipped_provider(const char *plug, const char *type, tes_type_kind kind);
char *plugins_skipped_unknown(void);
void plugins_warn_skipped(void);
GPtrArray *plugins_list(void); /* of plugin*, load order; do not free */
void plugins_print_list(FILE *out);   /* -list-plugins */
void plugins_unload_all(void);        /* harness teardown */
/* Set by main()/harness: directory holding plugin .so files of the build
 * tree or install, searched after TESSERA_PLUGIN_PATH. */
void plugins_set_default_dirs(const char *build_dir, const char *install_dir);

/* ---- types and the object tree (registry.c) ---- */
typedef struct type_entry {
    const tes_type_info *info;
    plugin *plugin;
} type_entry;

void registry_add_plugin_types(plugin *p);
/* Resolve "TYPE" or "PLUGIN:TYPE" of kind. With several providers: one from
 * a -plugin file wins; else an error listing the providers. */
const type_entry *type_lookup(const char *name, tes_type_kind kind, char **errp);
GPtrArray *types_of_kind(tes_type_kind kind); /* type_entry*, sorted; free */
void types_print_help(tes_type_kind kind, FILE *out); /* -device help, -M help */
void type_print_props(const type_entry *t, FILE *out); /* -device T,help */

struct tes_bus {
    char *name;
    char *kind;
    tes_device *parent;  /* NULL for the root system bus */
    GPtrArray *children; /* tes_device*, plug order */
    void *opaque;
    struct pci_bus *pci; /* PCI buses */
    const tes_iommu_ops *iommu;
    void *iommu_opaque;
    int numa_node1;      /* NUMA node + 1 of what is below (pxb); 0: none */
};

struct tes_device {
    const type_entry *te;
    const tes_type_info *type;
    char *id;   /* user id=, may be NULL */
    char *name; /* id, or type.N */
    void *s;    /* instance, type->instance_size bytes */
    tes_bus *bus;
    GPtrArray *buses; /* child buses */
    tes_irq **irq_out;
    unsigned n_irq_out;
    GPtrArray *regions; /* owned regions, freed with the device */
    struct pci_function *pci; /* on a PCI bus */
    char *addr_opt;           /* addr= as given, consumed when plugging */
    bool realized;
    char *error;              /* from host->error() */
    bool user_created;        /* by -device, not by its board or parent */
    bool dma_bypass;          /* DMA skips IOMMU translation (dma_set_bypass, 1.5) */
    /* dma.c: == the DMA epoch while this device masters the bus without an
     * IOMMU translating its DMA; dma_rid its requester id then. */
    uint64_t dma_epoch;
    int32_t dma_rid;
    /* Added by registry: bus= as given, resolved by dev_realize(); DRIVE and
     * CHR property values as given (name -> text) for prop_value_string(). */
    char *bus_opt;
    GHashTable *prop_text;
    /* Added by boards (board.c): MMIO regions of a platform device in
     * dev_init_mmio order, its input lines (dev_init_irq_in), and addr= /
     * irq= of a platform device from the command line. */
    GPtrArray *mmio;
    tes_irq **irq_in;
    unsigned n_irq_in;
    tes_platform_place place;
};

tes_bus *sysbus_root(void);
tes_bus *bus_create(tes_device *parent, const char *kind, const char *name, void *opaque);
tes_bus *bus_find(const char *name); /* by name over the tree */
tes_bus *bus_find_kind(const char *kind); /* first in tree order */
/* Allocate an instance and apply property defaults. */
tes_device *dev_new(const char *type, tes_type_kind kind, char **errp);
bool dev_set_prop(tes_device *d, const char *name, const char *value, char **errp);
bool dev_has_prop(tes_device *d, const char *name); /* the type declares it */
/* "k=v,k=v" (",," escapes a comma); id=, bus=, addr= are taken here too. */
bool dev_set_opts(tes_device *d, const char *opts, char **errp);
/* A "help" or "?" item anywhere in "k=v,...": the caller prints help. */
bool opts_want_help(const char *opts);
/* Plug onto bus (NULL: by bus= or the first bus of the type's kind) and
 * realize; PCI functions get config space set up before realize. */
bool dev_realize(tes_device *d, tes_bus *bus, char **errp);
/* The whole of -device DRIVER,opts: "help" and "DRIVER,help" print and
 * return NULL with *help_printed set. */
tes_device *dev_create_cli(const char *optarg, bool *help_printed, char **errp);
void dev_free(tes_device *d); /* unrealize, unplug, free */
/* host->dev_unplug (1.7): dev_free from the main loop soon, then DEVICE_DELETED. */
void dev_unplug(tes_device *d);
tes_device *dev_find(const char *id_or_name);
void devices_foreach(void (*fn)(tes_device *d, void *opaque), void *opaque); /* tree order */
void devices_reset_all(void);
void qtree_print(GString *out);        /* info qtree */
void registry_reset(void);             /* drop all devices and buses */
/* -global DRIVER.PROP=VALUE: false with one line for a bad spec; applied
 * to every device of type DRIVER created after (an unknown property or
 * value fails that creation). clear: forget them (harness teardown). */
bool registry_add_global(const char *spec, char **errp);
bool registry_global_check(const char *spec, char **errp); /* the syntax only */
void registry_clear_globals(void);
void registry_clear_types(void);       /* harness teardown */
char *prop_value_string(tes_device *d, const tes_prop_info *p); /* g_free */

/* ---- memory (memory.c) ---- */
typedef enum region_kind {
    REGION_RAM,
    REGION_ROM,
    REGION_IO,
    REGION_CONTAINER,
    REGION_ALIAS,
} region_kind;

struct tes_region {
    region_kind kind;
    char *name;
    uint64_t size;
    tes_device *owner;
    uint8_t *ram;          /* RAM/ROM backing */
    unsigned long *dirty;  /* RAM: one bit per 4 KiB page */
    bool anon;             /* RAM the core mapped private and anonymous */
    const tes_mem_ops *ops;
    void *opaque;
    /* I/O: ops' access sizes with their defaults filled in, read once at
     * region_new_io (four tests and defaults an access otherwise). */
    uint8_t valid_min, valid_max, impl_min, impl_max;
    tes_region *alias;     /* REGION_ALIAS target */
    uint64_t alias_offset;
    tes_region *parent;    /* container it is mapped in */
    uint64_t addr;         /* address within parent */
    int priority;
    bool enabled;
    GPtrArray *subregions; /* containers: highest priority first */
};

tes_region *region_new(region_kind kind, tes_device *owner, const char *name, uint64_t size);
tes_region *region_new_ram(tes_device *owner, const char *name, uint64_t size);
/* RAM over an existing mapping p of size bytes (a memory backend's),
 * which the region owns from now on (munmapped when it is freed). */
tes_region *region_new_ram_mapped(tes_device *owner, const char *name, uint64_t size, void *p);
tes_region *region_new_rom(tes_device *owner, const char *name, uint64_t size);
tes_region *region_new_io(tes_device *owner, const char *name, uint64_t size,
                          const tes_mem_ops *ops, void *opaque);
tes_region *region_new_container(tes_device *owner, const char *name, uint64_t size);
tes_region *region_new_alias(tes_device *owner, const char *name, tes_region *target,
                             uint64_t offset, uint64_t size);
void region_add(tes_region *parent, uint64_t addr, tes_region *child, int priority);
void region_del(tes_region *parent, tes_region *child);
void region_set_enabled(tes_region *r, bool enabled);
void region_set_alias_offset(tes_region *alias, uint64_t offset);
void *region_ram_ptr(tes_region *r);
uint64_t region_size(tes_region *r);
void region_free(tes_region *r); /* unmaps it first */
tes_region *memory_system(void);
tes_region *memory_io(void);
int as_read(tes_region *as, uint64_t addr, void *buf, uint64_t len);
int as_write(tes_region *as, uint64_t addr, const void *buf, uint64_t len);
void *as_ram_ptr(tes_region *as, uint64_t addr, uint64_t *len, bool write);
void as_set_dirty(tes_region *as, uint64_t addr, uint64_t len);
/* Live migration (memory.c comment): while on, as_ram_ptr(write) marks the
 * page dirty and returns it alone. memory_dirty_sync() moves r's dirty
 * bits into `into` (ORed in; NULL: dropped) and clears them, returns how
 * many were set, and makes every CPU refill its write entries. Both with
 * the machine lock held. */
void memory_dirty_log(bool on);
uint64_t memory_dirty_sync(tes_region *r, unsigned long *into);
/* One access of size 1..8 with the region's split/merge/endian rules. */
int as_access(tes_region *as, uint64_t addr, uint64_t *val, unsigned size, bool write);
/* Moves whenever a host pointer into guest memory may have gone stale
 * (map changes, RAM unplug, dirty-log syncs). Inline: the DMA paths ask
 * at every use of a kept pointer. */
extern uint64_t memory_gen;
static inline uint64_t memory_generation(void)
{
    return __atomic_load_n(&memory_gen, __ATOMIC_RELAXED);
}
void mtree_print(GString *out); /* info mtree */
void mtree_print_flat(GString *out); /* info mtree -f */
/* Every RAM region reachable from system memory, for migration. */
void memory_foreach_ram(void (*fn)(tes_region *r, void *opaque), void *opaque);
void memory_reset(void); /* fresh empty address spaces */

/* ---- DMA (dma.c) ---- */
int dma_read(tes_device *dev, uint64_t addr, void *buf, uint64_t len);
int dma_write(tes_device *dev, uint64_t addr, const void *buf, uint64_t len);
void *dma_map(tes_device *dev, uint64_t addr, uint64_t *len, bool is_write);
void dma_unmap(tes_device *dev, void *ptr, uint64_t len, bool is_write);
void dma_set_iommu(tes_bus *bus, const tes_iommu_ops *ops, void *opaque);
void dma_set_bypass(tes_device *dev, bool bypass);
void msi_send(tes_device *dev, uint64_t addr, uint32_t data);
/* Around completion callbacks (block.c's reap, under the machine lock):
 * identical messages sent inside go out once, at the outermost end. */
void msi_batch_begin(void);
void msi_batch_end(void);
/* host->defer_call (1.11): fn(opaque) at the end of the outermost batch
 * (defer_begin/defer_end: a register write being handled, a reap of
 * completions), at once outside one; defer_cancel drops dev's calls (dev
 * unrealized). */
void defer_call(tes_device *dev, void (*fn)(void *opaque), void *opaque);
void defer_begin(void);
void defer_end(void);
void defer_cancel(tes_device *dev);
int32_t dma_requester(void);
/* Something DMA depends on changed (a PCI config write, reset, unplug or
 * load; an IOMMU or bypass set): devices re-check before their next DMA. */
void dma_invalidate(void);
/* 0 while dev's DMA is translated or it may not master the bus; otherwise
 * a value that moves with every change that may stale a dma_map pointer
 * (dma_invalidate, the memory generation). */
uint64_t dma_generation(tes_device *dev);

/* ---- IRQ (irq.c) ---- */
struct tes_irq {
    tes_irq_handler handler;
    void *opaque;
    int n;
    int level;
    uint64_t raised; /* 0 -> 1 transitions, for HMP info irq */
};
tes_irq *irq_new(tes_irq_handler handler, void *opaque, int n);
void irqs_free_all(void); /* harness teardown: every line made so far */
void irq_set(tes_irq *irq, int level);
void dev_init_irqs(tes_device *dev, unsigned count);
void dev_connect_irq(tes_device *dev, unsigned idx, tes_irq *irq);
void dev_set_irq(tes_device *dev, unsigned idx, int level);

/* ---- virtual clock and timers (clock.c) ---- */
/* Virtual time: host monotonic time while running, frozen while paused.
 * In manual mode (harness) it moves only with clock_step(). */
int64_t clock_ns(void);
void clock_set_manual(bool manual);
void clock_pause(void);
void clock_resume(void);
void clock_step(int64_t ns);        /* manual mode: advance, run due timers */
void clock_set_ns(int64_t ns);      /* migration: continue from this time */
tes_timer *timer_new(tes_timer_cb cb, void *opaque);
void timer_mod(tes_timer *t, int64_t expire_ns);
void timer_del(tes_timer *t);
bool timer_pending(tes_timer *t);
int64_t timer_expire(tes_timer *t);
void timer_free(tes_timer *t);
/* Run due timers (under the lock); returns ns to the next deadline, -1 if
 * none. */
int64_t timers_run(void);
/* A GSource that runs timers from the GLib main loop, taking the lock. */
GSource *timers_source_new(void);

/* ---- block backends (block.c) ---- */
/* -drive file=,if=none,id=[,format=raw|qcow2][,readonly=on|off][,cache=]
 * [,aio=][,snapshot=on|off][,discard=][,detect-zeroes=] (block.c's top
 * comment) */
bool drive_add(const char *optarg, char **errp);
/* -drive optarg parsed and checked as drive_add() does, nothing opened
 * (tests/fuzz/fuzz-cli.c). */
bool drive_opts_check(const char *optarg, char **errp);
tes_drive *drive_find(const char *id);
uint64_t drive_size(tes_drive *d);
bool drive_readonly(tes_drive *d);
/* "qcow2" or "raw" (what was opened; for snapshot=on the overlay's). */
const char *drive_format_name(tes_drive *d);
int drive_pread(tes_drive *d, uint64_t off, void *buf, size_t len);
int drive_pwrite(tes_drive *d, uint64_t off, const void *buf, size_t len);
int drive_flush(tes_drive *d);
bool drive_claim(tes_drive *d, const char *devname, char **errp); /* one user each */
void drives_close_all(void);
/* Migration's handover: drain and flush every drive (source), re-read
 * every qcow2 image's metadata (destination). 0 or -errno with *errp. */
int drives_flush_all(char **errp);
int drives_invalidate_all(char **errp);
/* Before a live migration stops the guest (caller without the lock): the
 * images' written data synced while the guest runs, so that the flush
 * in the downtime finds little left. Best effort: that flush decides. */
void drives_preflush(void);
/* Between begin and end (they nest), ring requests are queued but not
 * submitted; the outermost end submits every drive's batch at once. The
 * memory core brackets I/O-region writes with them, so a doorbell that
 * pops 32 requests costs one io_uring_submit. */
void block_batch_begin(void);
void block_batch_end(void);
/* Ends a batch level without submitting even at the outermost level: the
 * batch stays queued until block_batch_flush(), the next outermost
 * block_batch_end(), or drives_poll(). For callers that stand for a vCPU
 * between two of its flush points (the harness's writes). */
void block_batch_end_deferred(void);
/* Submit every queued batch now (in a batch or not). */
void block_batch_flush(void);
/* block_batch_end() for the vCPU thread: the outermost one also runs the
 * completions that the submission finished at once (machine lock held).
 * drives_reap_ready(): the completions any ring holds already. */
void block_batch_end_reap(void);
void drives_reap_ready(void);
/* ABI 1.1 asynchronous requests (host.h drive_submit/drain/inflight).
 * Range and read-only errors (-EINVAL, -EROFS) are delivered through cb,
 * like I/O errors; submit itself fails only for a NULL drive or bad op. */
int drive_submit(tes_drive *d, tes_blk_op op, uint64_t offset, const struct iovec *iov,
                 unsigned iovcnt, uint64_t len, unsigned flags, tes_blk_cb cb, void *opaque);
void drive_drain(tes_drive *d);
unsigned drive_inflight(tes_drive *d);
/* Added by blkpcie (harness): reap completions of every drive and run
 * their callbacks; with wait, first block until at least one completion
 * is ready (returns at once when nothing is in flight). Takes the lock. */
void drives_poll(bool wait);
/* Added by blkpcie (tests): drives opened from now on use the thread pool
 * as if io_uring were unavailable (like TESSERA_NO_IO_URING=1). */
void drives_force_thread_pool(bool on);
/* Added by blockcli: per-drive counters (QMP query-blockstats), all
 * uint64_t; every request counts once when it completes. */
typedef struct drive_stats {
    uint64_t rd_bytes, wr_bytes, unmap_bytes;
    uint64_t rd_ops, wr_ops, flush_ops, unmap_ops;
    uint64_t failed_rd_ops, failed_wr_ops, failed_flush_ops, failed_unmap_ops;
    uint64_t wr_highest_offset;
} drive_stats;
void drive_get_stats(tes_drive *d, drive_stats *out);
const char *drive_id(tes_drive *d);
const char *drive_path(tes_drive *d);
const char *drive_user(tes_drive *d);        /* the device that claimed it, or NULL */
void drives_foreach(void (*fn)(tes_drive *d, void *opaque), void *opaque); /* open order */
/* Close drive ID; refused (false, *errp) while a device holds it. */
bool drive_del(const char *id, char **errp);
/* Removable media (ABI 1.5; block.c keeps the image, block-media.c runs
 * the monitor's commands). An empty drive has size 0 and fails every
 * request with -ENOMEDIUM. */
bool drive_has_medium(tes_drive *d);
/* Drain, then close the image; the drive stays, empty. */
void drive_medium_close(tes_drive *d);
/* Open a medium into an empty drive from -drive keys (file= required,
 * format=, readonly= (else ro_def), cache=, snapshot=). */
bool drive_medium_open(tes_drive *d, const char *optarg, bool ro_def, char **errp);
/* The same checks and an open and close of the image, d untouched. */
bool drive_medium_check(tes_drive *d, const char *optarg, bool ro_def, char **errp);
void drive_set_media_ops(tes_drive *d, const tes_drive_media_ops *ops, void *opaque);
const tes_drive_media_ops *drive_media_ops(tes_drive *d, void **opaque);
void drive_tray_moved(tes_drive *d, bool open);
/* The drive the device named id holds, or NULL. */
tes_drive *drive_by_user(const char *id);
/* The device that claimed d got an id= after drive=. */
void drive_rename_user(tes_drive *d, const char *name);
/* "k=v,k=v" split with ",," as a literal comma (QEMU's rule). */
GPtrArray *drive_split_opts(const char *optarg);

/* ---- -drive interfaces, -hda..-hdd, -cdrom (block-cli.c) ---- */
/* A -drive: if=none is opened now, the others wait for the machine. */
bool drive_cli_add(const char *optarg, char **errp);
/* After the machine: open the waiting drives and create their devices. */
bool drive_cli_attach_all(char **errp);
/* Append ",key=val" to a -drive string, val's commas doubled. */
void drive_opts_append(GString *s, const char *key, const char *val);
/* A -drive (or -hda...) parsed and checked as far as it can be without
 * the machine, nothing opened (fuzz-cli). */
bool drive_cli_check(const char *optarg, char **errp);
/* What a -drive becomes on a board with that default interface ("ide",
 * "virtio", "none") and IDE units per bus, given the drives planned since
 * drive_if_reset(); false with one line on a bad or taken place. */
typedef struct drive_plan {
    char *drive_opts; /* for drive_add(); NULL: an empty CD-ROM */
    char *device;     /* for dev_create_cli(); NULL: if=none */
    int ide_bus;      /* -1: not IDE */
    int ide_unit;
} drive_plan;
bool drive_if_plan(const char *optarg, const char *default_if, unsigned ide_units,
                   drive_plan *out, char **errp);
void drive_plan_clear(drive_plan *p);
void drive_if_reset(void);

/* ---- network backends (net.c, net-queue.c; net-int.h for backends) ---- */
/* -netdev TYPE,id=ID,...; netdev_add_opts marks netdevs that -net/-nic
 * made (legacy: no warning when unused). */
bool netdev_add(const char *optarg, char **errp);
tes_netdev *netdev_add_opts(const char *optarg, bool legacy, char **errp);
tes_netdev *netdev_find(const char *id);
bool netdev_claim(tes_netdev *nd, const char *devname, char **errp); /* one NIC each */
void netdev_release(tes_netdev *nd); /* the NIC is freed: no more callbacks */
void netdevs_warn_unused(void);      /* after the devices: QEMU's "has no peer" */
void netdevs_close_all(void);
GPtrArray *netdevs_list(void);       /* tes_netdev*, may be NULL */
/* QMP set_link: name is a netdev id or the id of its NIC. */
bool netdev_set_link(const char *name, bool up, char **errp);
void net_info_print(GString *out);   /* HMP info network */
/* net-cli.c: backends of -netdev/-nic/-net before the machine, then the
 * NICs of -nic and -net nic after it (before -device). */
bool net_cli_backends(GPtrArray *netdevs, GPtrArray *nics, GPtrArray *nets, char **errp);
bool net_cli_create_nics(char **errp);
/* Deliver frames deferred during device callbacks (clock.c, after timers). */
void net_run_deferred(void);
/* MAC addresses: "52:54:00:12:34:56" (false for bad text or multicast),
 * QEMU's next default, and formatting (g_free). */
bool net_parse_mac(const char *s, uint8_t mac[6]);
void net_default_mac(uint8_t mac[6]);
char *net_format_mac(const uint8_t mac[6]);
void net_reset_macs(void); /* harness */
/* ABI 1.3 host entries (net.h). */
int net_attach(tes_device *dev, tes_netdev *nd, const tes_net_ops *ops, void *opaque,
               const uint8_t *mac);
int net_send(tes_netdev *nd, unsigned queue, const tes_net_hdr *hdr, const struct iovec *iov,
             unsigned iovcnt);
void net_flush(tes_netdev *nd, unsigned queue);
bool net_link_up(tes_netdev *nd);
unsigned net_queues(tes_netdev *nd);
int net_set_queues(tes_netdev *nd, unsigned n);
unsigned net_offloads(tes_netdev *nd);
unsigned net_set_rx_offloads(tes_netdev *nd, unsigned mask);

/* ---- character backends (chardev.c) ---- */
/* -serial stdio|null|file:PATH|unix:PATH[,server=on,wait=off]|mon:stdio */
bool serial_add(const char *spec, char **errp);
/* What serial_add would refuse in spec, without opening anything (the
 * command-line fuzzer: no file created, no socket bound). */
bool serial_spec_check(const char *spec, char **errp);
tes_chr *serial_chr(unsigned index);
void chr_write(tes_chr *chr, const void *buf, size_t len);
void chr_set_handlers(tes_chr *chr, tes_chr_can_read can_read, tes_chr_read read,
                      void *opaque);
void chardevs_close_all(void);
struct sockaddr_un;
/* Fill *sa for bind() on path: refuses (one line naming what: "-qmp") a
 * path longer than sun_path and anything there but a stale socket, which
 * it removes. */
bool unix_socket_path_prepare(const char *what, const char *path, struct sockaddr_un *sa,
                              char **errp);
/* Its first part only: fill *sa, refusing an empty or too long path. */
bool unix_socket_addr(const char *what, const char *path, struct sockaddr_un *sa, char **errp);

/* ---- PCI (pci.c) ---- */
struct pci_function;
struct pci_bus;
/* Called by registry when a PCI-kind device is plugged: addr is "S[.F]" or
 * NULL for the first free slot. Sets up config space from tes_pci_info. */
bool pci_plug(tes_device *dev, tes_bus *bus, const char *addr, char **errp);
void pci_unplug(tes_device *dev);
void pci_reset(tes_device *dev); /* config space back to power-on values */
uint8_t *pci_config(tes_device *dev);
uint8_t *pci_wmask(tes_device *dev);
uint8_t *pci_w1cmask(tes_device *dev);
int pci_register_bar(tes_device *dev, int bar, unsigned flags, tes_region *r);
int pci_add_cap(tes_device *dev, uint8_t id, uint8_t offset, uint8_t len);
int pci_add_ext_cap(tes_device *dev, uint16_t id, uint8_t version, uint16_t offset,
                    uint16_t len);
int pci_find_cap(tes_device *dev, uint8_t id);
int pci_msi_init(tes_device *dev, uint8_t offset, unsigned nvec, bool is64, bool maskable);
int pci_msix_init(tes_device *dev, uint8_t offset, unsigned nvec, int bar, tes_region *r,
                  uint32_t table_off, uint32_t pba_off);
bool pci_msi_enabled(tes_device *dev);
bool pci_msix_enabled(tes_device *dev);
void pci_notify(tes_device *dev, unsigned vector);
void pci_set_irq(tes_device *dev, int level);
int pci_pcie_cap_init(tes_device *dev, uint8_t offset, uint8_t port_type);
int pci_pm_init(tes_device *dev, uint8_t offset);
uint16_t pci_requester_id(tes_device *dev);
uint32_t pci_default_config_read(tes_device *dev, uint32_t off, unsigned len);
void pci_default_config_write(tes_device *dev, uint32_t off, uint32_t val, unsigned len);
/* Through the type's hooks when it has them. */
uint32_t pci_config_read(tes_device *dev, uint32_t off, unsigned len);
void pci_config_write(tes_device *dev, uint32_t off, uint32_t val, unsigned len);
tes_bus *pci_root_bus_new(tes_device *host_bridge, const char *name, tes_region *mem,
                          tes_region *io);
void pci_bus_set_irqs(tes_bus *bus, tes_pci_map_irq map_irq, void *opaque, tes_irq **irqs,
                      unsigned nirqs);
uint32_t pci_host_config_read(tes_bus *root, uint8_t bus, uint8_t devfn, uint32_t off,
                              unsigned len);
void pci_host_config_write(tes_bus *root, uint8_t bus, uint8_t devfn, uint32_t off,
                           uint32_t val, unsigned len);
tes_bus *pci_bridge_bus_new(tes_device *dev, const char *name);
/* Added by boards (ecam.c): an ECAM window over root's hierarchy. */
tes_region *pci_ecam_new(tes_device *owner, tes_bus *root, uint64_t size);
/* DMA of a PCI function is dropped unless Bus Master Enable is set. */
bool pci_bus_master_enabled(tes_device *dev);
void pci_info_print(GString *out); /* info pci */
/* Core-owned PCI state (config space, MSI-X table/PBA, INTx level) in the
 * migration stream, before the device's own fields. */
void pci_state_save(tes_device *dev, tes_stream *s);
int pci_state_load(tes_device *dev, tes_stream *s);
/* The same, with a message: the stream's read-only config bits must match
 * the device's (as QEMU compares them), its sizes too. */
int pci_state_load_err(tes_device *dev, tes_stream *s, char **errp);
/* Added by pcihp (pcie-slot.c): PCIe native hot-plug. A bus is
 * hotpluggable when it is the secondary bus of a port with a hot-plug
 * capable slot. plugged: a device_add'ed function is realized there, tell
 * the guest. unplug_request: device_del, the attention button (false with
 * *errp for another bus or a busy slot); the devices go, with
 * DEVICE_DELETED, when the guest powers the slot off. */
bool pci_bus_hotpluggable(tes_bus *bus);
/* Added by pcihp (pci-expander.c): host.h pci_expander_bus_new (1.6). */
tes_bus *pci_expander_bus_new(tes_device *dev, const char *name, uint8_t bus_nr);
void pcie_slot_plugged(tes_device *dev);
bool pcie_slot_unplug_request(tes_device *dev, char **errp);
/* Added by pci: registry's bus_free() calls this for a PCI bus (bus->pci
 * set) before freeing it; drops the core's per-bus PCI state. */
void pci_bus_free(tes_bus *bus);

/* ---- vCPUs and the accelerator loop (accel.c) ---- */
#define CPU_MAX_IRQ_IN 8
#define CPU_MAX_SYSREG_SERVERS 4 /* per vCPU, and for every vCPU */
struct tes_cpu {
    tes_device *dev;
    const tes_cpu_ops *ops;
    unsigned index;
    bool powered;  /* running (PSCI on) */
    bool halted;   /* waiting in WFI/HLT */
    bool kicked;
    uint64_t insns; /* guest instructions executed (info cpus) */
    bool unplugging; /* host->cpu_remove: goes from the main loop */
    /* Added by boards (board.c): the entry state re-applied after every
     * reset, lazily made input lines, a system-register server. */
    bool has_boot;
    tes_cpu_boot boot;
    tes_irq *in[CPU_MAX_IRQ_IN];
    const tes_cpu_sysregs *sysregs[CPU_MAX_SYSREG_SERVERS];
    void *sysregs_opaque[CPU_MAX_SYSREG_SERVERS];
};
tes_cpu *cpu_create(tes_device *machine, const char *model, unsigned index);
tes_cpu *cpu_new(const char *model, unsigned index, const char *id, char **errp);
void cpu_destroy(tes_cpu *cpu); /* under the lock; no event */
/* ---- CPU hot-plug (cpu-hotplug.c) ---- */
/* "<model>-<arch>-cpu" (QEMU's CPU type names): the model, or NULL when
 * driver is not one (g_free it). */
char *cpu_hotplug_model(const char *driver);
/* -device / device_add of a CPU type: driver and its options (socket-id=,
 * die-id=, cluster-id=, core-id=, thread-id=, node-id=, id=). */
tes_device *cpu_device_add(const char *driver, const char *opts, char **errp);
void cpu_device_help(const char *driver, FILE *out); /* -device CPU,help */
/* device_del of a vCPU's device: true when d is one (*handled), then the
 * result of the request in the return value. */
bool cpu_device_del(tes_device *d, bool *handled, char **errp);
void cpu_remove(tes_cpu *cpu); /* host->cpu_remove */
/* QMP query-hotpluggable-cpus and query-cpus-fast replies (JsonNode). */
struct _JsonNode *cpu_query_hotpluggable(char **errp);
struct _JsonNode *cpu_query_fast(void);
extern bool machine_ready; /* machine_devices_done ran: device_add is hot */
void *cpu_state(tes_cpu *cpu);
unsigned cpu_index(tes_cpu *cpu);
tes_cpu *cpu_by_index(unsigned index);
unsigned cpu_count(void);
void cpu_kick(tes_cpu *cpu);
void cpu_set_running(tes_cpu *cpu, bool running);
void cpus_reset(void);
void cpus_clear(void); /* harness teardown: drop all vCPUs */
/* exec() of cpu with cpu_current() returning it meanwhile (accel, harness). */
tes_exec_status cpu_exec_one(tes_cpu *cpu, uint64_t budget, uint64_t *executed);
tes_cpu *cpu_current(void);

/* ---- boards: the CPU<->board interface, platform devices (board.c) ---- */
tes_device *cpu_dev(tes_cpu *cpu);
tes_irq *cpu_irq_in(tes_cpu *cpu, int line);
int cpu_set_boot(tes_cpu *cpu, const tes_cpu_boot *boot);
int cpu_start_at(tes_cpu *cpu, const tes_cpu_boot *boot); /* once, not kept */
void cpu_apply_boot(tes_cpu *cpu); /* after ops->reset */
bool cpu_boot_off(const tes_cpu *cpu); /* boot mode TES_BOOT_POWER_OFF (1.8) */
uint64_t cpu_arch_id(tes_cpu *cpu);
int cpu_set_sysregs(tes_cpu *cpu, const tes_cpu_sysregs *ops, void *opaque);
bool cpu_sysreg_read(tes_cpu *cpu, uint32_t reg, uint64_t *val);
bool cpu_sysreg_write(tes_cpu *cpu, uint32_t reg, uint64_t val);
int dev_init_mmio(tes_device *dev, tes_region *r);
tes_region *dev_mmio(tes_device *dev, unsigned idx);
void dev_init_irq_in(tes_device *dev, tes_irq_handler handler, void *opaque, unsigned n);
tes_irq *dev_irq_in(tes_device *dev, unsigned idx);
const tes_platform_info *dev_platform_info(tes_device *dev);
const tes_platform_info *type_platform_info(const tes_type_info *t); /* NULL: none */
bool dev_platform_place(tes_device *dev, tes_platform_place *out);
/* addr= / irq= of a platform device (registry's option parsing). */
bool dev_platform_opt(tes_device *d, const char *key, const char *value, char **errp);
void dev_board_free(tes_device *d); /* dev_free: the arrays above */
void board_clear(void); /* harness teardown: servers for every vCPU */
/* Start the vCPU thread (it runs only while RUN_RUNNING). */
void accel_start(void);
void accel_stop(void); /* join at exit */
void accel_pause(void); /* returns when no vCPU is inside exec() */
void accel_resume(void);
/* -accel tcg,jit=,tb-size=: jit -1 (CPU default), 0 or 1; tb_size_mib 0
 * (CPU default) or MiB. Set before the machine creates its CPUs. */
void accel_set_options(int jit, uint64_t tb_size_mib);

/* ---- machine (machine.c) ---- */
bool machine_devices_done(char **errp); /* after the -device options */
extern tes_machine_config machine_cfg;
extern unsigned machine_smp_max; /* -smp maxcpus; 0: as many as -smp */
/* Create and init the -M machine with its options. */
bool machine_create(const char *optarg, char **errp);
tes_device *machine_current(void);
const char *machine_default_nic(void); /* 1.3 ops->default_nic, or NULL */
const char *machine_default_display(void); /* 1.8 ops->default_display, or NULL */
const char *machine_default_block_if(void); /* 1.4 ops->default_block_if, or "none" */
unsigned machine_ide_units_per_bus(void);   /* 1.4 ops->ide_units_per_bus, or 0 */
void machine_powerdown(void);
/* QMP device_add/device_del of a TES_TYPE_MACHINE_HOTPLUG type (1.7):
 * the machine's hotplug / unplug_request; false with *errp set. */
bool machine_hotplug(tes_device *dev, char **errp);
bool machine_unplug_request(tes_device *dev, char **errp);
void machine_reset(void); /* devices then CPUs */
/* tes_machine_ops.wakeup (before machine_reset): true with *boot for vCPU 0. */
bool machine_wakeup(tes_cpu_boot *boot);

/* ---- migration (migration.c) ---- */
struct tes_stream;
/* Streams over a GIOChannel-less fd, or an in-memory buffer (harness). */
tes_stream *stream_new_fd(int fd, bool writing);
tes_stream *stream_new_mem(void);               /* writable buffer */
tes_stream *stream_new_mem_reader(const void *data, size_t len);
const void *stream_mem_data(tes_stream *s, size_t *len);
int stream_error(tes_stream *s);                /* 0 or -errno */
int stream_close(tes_stream *s);                /* flushes; returns error */
void stream_write(tes_stream *s, const void *buf, size_t len);
int stream_read(tes_stream *s, void *buf, size_t len);
/* One device's section payload (fields, then save()). */
int dev_state_save(tes_device *dev, tes_stream *s);
int dev_state_load(tes_device *dev, tes_stream *s, uint32_t version);
/* Whole machine: header, RAM, clock, every device section, end marker. */
int migration_save(tes_stream *s, char **errp);
int migration_load(tes_stream *s, char **errp);
/* Transports exec:CMD file:PATH fd:N tcp:HOST:PORT unix:PATH. */
bool migrate_start(const char *uri, char **errp);      /* QMP migrate */
void migrate_query_stats(void *json_object); /* query-migrate: add "ram" etc. */
/* migration-ram.c: migrate-set-parameters (downtime-limit ms, max-bandwidth
 * bytes/s), false with *errp for a bad name or value. */
bool ram_set_param(const char *name, int64_t v, char **errp);
int64_t ram_get_param(const char *name);
bool migrate_incoming(const char *uri, char **errp);   /* -incoming / QMP */
/* QMP query-migrate: status none|setup|active|cancelling|cancelled|
 * completed|failed, error text. Read and changed under the machine lock. */
const char *migrate_status(const char **error_desc);
/* Migrations run in a thread of their own: true from setup to the end. */
bool migration_in_progress(void);
void migrate_cancel(void);                             /* QMP migrate_cancel */
void migrate_incoming_defer(void);                     /* -incoming defer */
bool migrate_incoming_listen_early(const char *uri, char **errp); /* -incoming socket */
/* QMP migrate-incoming: refused unless started with -incoming defer. */
bool migrate_incoming_deferred(const char *uri, char **errp);
/* At exit, without the lock: cancel a running migration and wait for it. */
void migration_shutdown(void);
/* A device type without state info or with a blocker refuses migration. */
bool migration_blocked(char **errp);

/* ---- monitor (qmp.c, hmp.c) ---- */
bool qmp_add(const char *spec, char **errp); /* unix:PATH,server=on,wait=off */
bool hmp_add(const char *spec, char **errp); /* stdio */
/* What qmp_add and hmp_add would refuse in spec, opening nothing. */
bool qmp_spec_check(const char *spec, char **errp);
bool hmp_spec_check(const char *spec, char **errp);
/* Run an HMP command line ("info qtree"); output appended to out. Returns
 * false with a message in out for unknown commands. */
bool hmp_execute(const char *line, GString *out);
/* qmp.c: one QMP command in-process (tes_harness_qmp); g_free the reply. */
char *qmp_run_text(const char *text);
void monitors_close_all(void);
/* A QMP client on a connected socket fd (taken over), fed in-process:
 * for fuzzing the reader and dispatcher. sandbox refuses migrate and
 * migrate-incoming (they reach host files and commands). feed returns
 * false once the client was dropped (its output overflowed) and freed. */
typedef struct qmp_client qmp_client;
qmp_client *qmp_client_open_fd(int fd, bool sandbox);
bool qmp_client_feed(qmp_client *c, const void *buf, size_t len);
void qmp_client_close(qmp_client *c);
/* Added by frontend: send a QMP event {"event": name, "timestamp": ...} to
 * every negotiated QMP client (STOP, RESUME, SHUTDOWN, RESET). */
void qmp_event(const char *name);
/* Added by pcihp: DEVICE_DELETED {"device": id (when it has one), "path":
 * "/machine/peripheral/ID" or "/machine/peripheral-anon/NAME"}. */
void qmp_event_device_deleted(const char *id, const char *name);
/* tes_host.qmp_event (1.8): an event a plugin sends, data the text of a
 * JSON object or NULL. 0 or -EINVAL (logged). */
int qmp_event_plugin(const char *name, const char *data_json);
/* Also append every event's JSON text and a newline to buf (NULL: stop). */
void qmp_event_capture(GString *buf);

/* ---- the host table (host.c) ---- */
const tes_host *host_table(void);
void host_ifaces_clear(void); /* harness teardown */

/* ---- additions (mech) ---- */
/* memory.c, for dma_unmap(): mark dirty the RAM under host pointers
 * [p, p + len) that came from as_ram_ptr(); no-op for other pointers. */
void memory_set_dirty_ptr(const void *p, uint64_t len);
/* host.h ram_write_watch: cb(opaque, host, len) after every write the core
 * makes to guest RAM (as_write, as_access, DMA, dma_unmap, as_set_dirty,
 * migration load). Kept across memory_reset(); a pair registers once. */
void memory_ram_write_watch(void (*cb)(void *opaque, const void *host, uint64_t len),
                            void *opaque);
/* block.c: give a drive back when the device that claimed it is freed
 * (dev_free, harness migrate re-creating a device); claim again then works. */
void drive_release(tes_drive *d);

/* ---- migration (migration.c): added by migration ---- */
/* false with -S: the CLI clears it; an incoming migration then stays paused
 * instead of starting the guest. Defined in migration.c, default true. */
extern bool core_autostart;

#endif
