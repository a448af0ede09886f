/*
 * tessera: command-line parsing, QEMU's grammar.
 *
 *   tessera -M virt -cpu cortex-a57 -smp 2 -m 1G -kernel Image \
 *           -append "console=ttyAMA0" -drive file=disk.img,if=none,id=d0 \
 *           -device nvme,drive=d0,serial=x -nographic
 *
 * Every option also takes the "--opt" form. An option's argument is the next
 * word ("-m 1G"); "--opt=value" is accepted too, as QEMU does not, because
 * scripts written for getopt_long habitually use it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core.h" /* drive_opts_append */

typedef enum opt_kind {
    OPT_FLAG,   /* bool field set to true */
    OPT_STRING, /* char* field, last one wins */
    OPT_LIST,   /* GPtrArray* field, appended */
    OPT_SIZE,   /* -m */
    OPT_SMP,    /* -smp */
    OPT_IGNORE, /* accepted for compatibility, argument ignored */
    OPT_MACHINE, /* -M/-machine: options merge, a later TYPE wins */
    OPT_ACCEL,   /* -accel tcg[,jit=on|off][,tb-size=MiB] */
    OPT_KVM,     /* -enable-kvm: accelerator kvm (refused in accel_resolve) */
    OPT_HD,      /* -hda..-hdd, -cdrom: a -drive at index offset */
} opt_kind;

typedef struct opt_def {
    const char *name;
    const char *alias;
    opt_kind kind;
    size_t offset;
    const char *help;
} opt_def;

#define F(field) offsetof(cli_opts, field)

static const opt_def opts[] = {
    {"machine", "M", OPT_MACHINE, F(machine), "TYPE[,prop=val]  machine type ('help' lists)"},
    {"cpu", NULL, OPT_STRING, F(cpu), "MODEL  CPU model ('help' lists)"},
    {"smp", NULL, OPT_SMP, 0,
     "N[,cpus=,maxcpus=,sockets=,dies=,clusters=,cores=,threads=]  vCPUs and their topology"},
    {"numa", NULL, OPT_LIST, F(numas),
     "node[,nodeid=,cpus=A[-B],mem=|memdev=]|dist,src=,dst=,val=|cpu,node-id=,...  NUMA"},
    {"object", NULL, OPT_LIST, F(objects),
     "memory-backend-ram|file|memfd,id=,size=[,mem-path=][,share=on|off]  a backend"},
    {"m", NULL, OPT_SIZE, 0, "SIZE[,slots=N,maxmem=SIZE]  guest RAM (bare number: MiB; K/M/G/T)"},
    {"kernel", NULL, OPT_STRING, F(kernel), "FILE  kernel image"},
    {"initrd", NULL, OPT_STRING, F(initrd), "FILE  initial ramdisk"},
    {"append", NULL, OPT_STRING, F(append), "CMDLINE  kernel command line"},
    {"dtb", NULL, OPT_STRING, F(dtb), "FILE  device tree blob"},
    {"drive", NULL, OPT_LIST, F(drives),
     "file=,if=ide|virtio|none,id=,index=,bus=,unit=,media=disk|cdrom,format=,readonly=on|off"},
    {"hda", NULL, OPT_HD, 0, "FILE  first disk (-hdb, -hdc, -hdd: index 1..3)"},
    {"hdb", NULL, OPT_HD, 1, NULL},
    {"hdc", NULL, OPT_HD, 2, NULL},
    {"hdd", NULL, OPT_HD, 3, NULL},
    {"cdrom", NULL, OPT_HD, 2 | 4, "FILE  CD-ROM image (index 2, read-only)"},
    {"blockdev", NULL, OPT_LIST, F(blockdevs),
     "driver=file|raw|qcow2,node-name=,...|JSON  a block node (drive= takes its name)"},
    {"device", NULL, OPT_LIST, F(devices), "DRIVER[,prop=val]  add a device ('help' lists)"},
    {"netdev", NULL, OPT_LIST, F(netdevs), "user|tap|socket|stream,id=ID,...  network backend"},
    {"nic", NULL, OPT_LIST, F(nics), "user|tap|...|none[,model=M][,mac=]  NIC with a backend"},
    {"net", NULL, OPT_LIST, F(nets), "nic[,model=M]|user|tap|...  legacy NIC/backend pairs"},
    {"serial", NULL, OPT_LIST, F(serials), "stdio|null|file:PATH|unix:PATH,...|mon:stdio"},
    {"monitor", NULL, OPT_LIST, F(monitors), "stdio  human monitor"},
    {"qmp", NULL, OPT_LIST, F(qmps), "unix:PATH,server=on,wait=off  QMP monitor"},
    {"plugin", NULL, OPT_LIST, F(plugins), "FILE  load a plugin first (repeatable)"},
    {"d", NULL, OPT_STRING, F(log_mask), "ITEM,...  enable logs ('help' lists)"},
    {"D", NULL, OPT_STRING, F(log_file), "FILE  write logs to FILE"},
    {"trace", NULL, OPT_LIST, F(traces),
     "[enable=]PATTERN|events=FILE|file=FILE|help  switch trace events on"},
    {"msg", NULL, OPT_STRING, F(msg), "timestamp=on|off  trace lines with TID@SEC.USEC:"},
    {"incoming", NULL, OPT_STRING, F(incoming), "URI  wait for a migration stream"},
    {"display", NULL, OPT_STRING, F(display), "none  display back end"},
    {"nographic", NULL, OPT_FLAG, F(nographic), "  no window; serial on stdio"},
    {"vnc", NULL, OPT_STRING, F(vnc), "[HOST]:N|unix:PATH|none  VNC server (port 5900+N)"},
    {"vga", NULL, OPT_STRING, F(vga), "std|virtio|none  the display (pc/q35 default: std)"},
    {"S", NULL, OPT_FLAG, F(start_paused), "  do not start the vCPUs ('cont' starts)"},
    {"gdb", NULL, OPT_STRING, F(gdb), "tcp:[HOST]:PORT|none  wait for gdb on PORT"},
    {"s", NULL, OPT_FLAG, F(gdb_default), "  shorthand for -gdb tcp::1234"},
    {"no-reboot", NULL, OPT_FLAG, F(no_reboot), "  exit instead of rebooting"},
    {"global", NULL, OPT_LIST, F(globals), "DRIVER.PROP=VALUE  a property of every DRIVER made"},
    {"watchdog-action", NULL, OPT_STRING, F(watchdog_action),
     "reset|shutdown|poweroff|pause|debug|none|inject-nmi  when a guest watchdog fires"},
    {"nodefaults", NULL, OPT_FLAG, F(nodefaults), "  no default devices"},
    {"list-plugins", NULL, OPT_FLAG, F(list_plugins), "  list loaded plugins and exit"},
    {"version", NULL, OPT_FLAG, F(version), "  print the version and exit"},
    {"help", "h", OPT_FLAG, F(help), "  this help"},
    {"accel", NULL, OPT_ACCEL, 0, "tcg[,jit=on|off][,tb-size=MiB]  CPU emulation (no kvm)"},
    {"enable-kvm", NULL, OPT_KVM, 0, NULL},
    {"name", NULL, OPT_IGNORE, 0, NULL},
};

void cli_print_help(FILE *out)
{
    fprintf(out, "usage: tessera [options]\n\nOptions (also as --option):\n");
    for (size_t i = 0; i < G_N_ELEMENTS(opts); i++) {
        const opt_def *d = &opts[i];
        char *names;

        if (!d->help) {
            continue;
        }
        names = d->alias ? g_strdup_printf("-%s, -%s", d->alias, d->name)
                         : g_strdup_printf("-%s", d->name);
        fprintf(out, "  %-16s %s\n", names, d->help);
        g_free(names);
    }
}

static const opt_def *find_opt(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(opts); i++) {
        if (strcmp(opts[i].name, name) == 0 ||
            (opts[i].alias && strcmp(opts[i].alias, name) == 0)) {
            return &opts[i];
        }
    }
    return NULL;
}

bool cli_parse_size(const char *s, uint64_t *bytes, char **errp)
{
    /* QEMU: a bare -m number is MiB; "-m size=1G" is the long form. */
    if (g_str_has_prefix(s, "size=")) {
        s += 5;
    }
    return cli_parse_size_unit(s, 1ull << 20, "-m", bytes, errp);
}

/* One "key=value" after -m's size: slots= (1..256, QEMU's ACPI_MAX_RAM_SLOTS)
 * or maxmem= (a size; bare number: MiB as -m's). */
static bool mem_item(const char *item, cli_opts *o, char **errp)
{
    char *end;

    if (g_str_has_prefix(item, "maxmem=")) {
        return cli_parse_size_unit(item + 7, 1ull << 20, "-m maxmem", &o->maxmem, errp);
    }
    if (g_str_has_prefix(item, "slots=")) {
        guint64 v = g_ascii_strtoull(item + 6, &end, 10);

        if (end == item + 6 || *end || v > 256) {
            *errp = g_strdup_printf("-m: slots wants a number 0..256, got '%s'", item + 6);
            return false;
        }
        o->ram_slots = (unsigned)v;
        return true;
    }
    *errp = g_strdup_printf("-m: unknown option '%s' (size=, slots=, maxmem=)", item);
    return false;
}

/* -m SIZE[,slots=N,maxmem=SIZE] with QEMU's checks: maxmem is at least
 * the size, and memory above the size (device memory: pc-dimm, nvdimm)
 * needs slots. */
static bool parse_mem(const char *arg, cli_opts *o, char **errp)
{
    char **items = g_strsplit(arg, ",", -1);
    bool ok = items[0] && cli_parse_size(items[0], &o->ram_size, errp);

    o->maxmem = 0;
    o->ram_slots = 0;
    for (unsigned i = 1; ok && items[i]; i++) {
        ok = mem_item(items[i], o, errp);
    }
    if (!items[0]) {
        *errp = g_strdup("-m: a size is needed");
    }
    g_strfreev(items);
    if (ok && o->maxmem && o->maxmem < o->ram_size) {
        *errp = g_strdup_printf("-m: maxmem (%" G_GUINT64_FORMAT " MiB) is below the RAM size "
                                "(%" G_GUINT64_FORMAT " MiB)", o->maxmem >> 20,
                                o->ram_size >> 20);
        ok = false;
    } else if (ok && o->ram_slots && !o->maxmem) {
        *errp = g_strdup("-m: slots= needs maxmem=");
        ok = false;
    } else if (ok && o->maxmem > o->ram_size && !o->ram_slots) {
        *errp = g_strdup("-m: maxmem above the RAM size needs slots=");
        ok = false;
    }
    return ok;
}

static bool smp_number(const char *key, const char *val, unsigned *out, char **errp)
{
    char *end;
    guint64 v = g_ascii_strtoull(val, &end, 10);

    if (end == val || *end || v == 0 || v > 4096) {
        if (errp && !*errp) {
            *errp = g_strdup_printf("-smp: '%s' wants a number 1..4096, got '%s'", key, val);
        }
        return false;
    }
    *out = (unsigned)v;
    return true;
}

/* topo[]: cpus, maxcpus, sockets, dies, clusters, cores, threads (0 when
 * absent). */
enum { T_CPUS, T_MAX, T_SOCKETS, T_DIES, T_CLUSTERS, T_CORES, T_THREADS, T_N };

static bool smp_item(const char *item, bool first, unsigned topo[T_N], char **errp)
{
    static const char *const keys[T_N] = {"cpus", "maxcpus", "sockets", "dies", "clusters",
                                          "cores", "threads"};
    const char *eq = strchr(item, '=');

    if (!eq && first) {
        return smp_number("cpus", item, &topo[T_CPUS], errp);
    }
    for (size_t k = 0; eq && k < T_N; k++) {
        if (strncmp(item, keys[k], eq - item) == 0 && strlen(keys[k]) == (size_t)(eq - item)) {
            return smp_number(keys[k], eq + 1, &topo[k], errp);
        }
    }
    if (errp && !*errp) {
        *errp = g_strdup_printf("-smp: unknown item '%s' (expected N, cpus=, maxcpus=, "
                                "sockets=, dies=, clusters=, cores=, threads=)", item);
    }
    return false;
}

static bool smp_fail(char **errp, char *msg)
{
    if (errp && !*errp) {
        *errp = msg;
    } else {
        g_free(msg);
    }
    return false;
}

/* QEMU's machine_parse_smp_config() (cores preferred over sockets, as its
 * machines since 6.2): fill what is omitted from what is given; dies and
 * clusters default to 1. 64 bits so that no product of values up to 4096
 * wraps. */
static void smp_complete(uint64_t t[T_N])
{
    uint64_t *max = &t[T_MAX], *sockets = &t[T_SOCKETS], *cores = &t[T_CORES];
    uint64_t *threads = &t[T_THREADS], mid;

    t[T_DIES] = MAX(t[T_DIES], 1);
    t[T_CLUSTERS] = MAX(t[T_CLUSTERS], 1);
    mid = t[T_DIES] * t[T_CLUSTERS];
    if (t[T_CPUS] == 0 && *max == 0) {
        *sockets = MAX(*sockets, 1);
        *cores = MAX(*cores, 1);
        *threads = MAX(*threads, 1);
        return;
    }
    *max = *max ? *max : t[T_CPUS];
    if (*cores == 0) {
        *sockets = MAX(*sockets, 1);
        *threads = MAX(*threads, 1);
        *cores = *max / (*sockets * mid * *threads);
    } else if (*sockets == 0) {
        *threads = MAX(*threads, 1);
        *sockets = *max / (mid * *cores * *threads);
    }
    *threads = *threads ? *threads : *max / (*sockets * mid * *cores);
}

/* "sockets (2) * cores (2) * threads (1)", with dies and clusters only
 * when they are not 1 (the line QEMU's x86 and Arm machines print). */
static char *smp_product(const uint64_t t[T_N])
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "sockets (%" G_GUINT64_FORMAT ")", t[T_SOCKETS]);
    if (t[T_DIES] > 1) {
        g_string_append_printf(s, " * dies (%" G_GUINT64_FORMAT ")", t[T_DIES]);
    }
    if (t[T_CLUSTERS] > 1) {
        g_string_append_printf(s, " * clusters (%" G_GUINT64_FORMAT ")", t[T_CLUSTERS]);
    }
    g_string_append_printf(s, " * cores (%" G_GUINT64_FORMAT ") * threads (%" G_GUINT64_FORMAT
                           ")", t[T_CORES], t[T_THREADS]);
    return g_string_free(s, false);
}

static bool smp_check(const uint64_t t[T_N], uint64_t total, char **errp)
{
    if (total != t[T_MAX]) {
        g_autofree char *prod = smp_product(t);
        return smp_fail(errp, g_strdup_printf("-smp: invalid CPU topology: %s != maxcpus (%"
                                              G_GUINT64_FORMAT ")", prod, t[T_MAX]));
    }
    if (t[T_MAX] > 4096) {
        return smp_fail(errp, g_strdup_printf("-smp: %" G_GUINT64_FORMAT " CPUs is more than "
                                              "4096", t[T_MAX]));
    }
    if (t[T_MAX] < t[T_CPUS]) {
        return smp_fail(errp, g_strdup_printf("-smp: maxcpus=%" G_GUINT64_FORMAT " is less than "
                                              "the %" G_GUINT64_FORMAT " vCPUs asked for",
                                              t[T_MAX], t[T_CPUS]));
    }
    return true;
}

bool cli_parse_smp_topo(const char *s, cli_smp *out, char **errp)
{
    unsigned topo[T_N] = {0};
    uint64_t t[T_N], total = 1;
    char **items = g_strsplit(s, ",", -1);
    bool ok = true;

    for (char **p = items; *p && ok; p++) {
        ok = smp_item(*p, p == items, topo, errp);
    }
    g_strfreev(items);
    if (!ok) {
        return false;
    }
    for (int i = 0; i < T_N; i++) {
        t[i] = topo[i];
    }
    smp_complete(t);
    for (int i = T_SOCKETS; i <= T_THREADS; i++) {
        total *= t[i]; /* each <= 4096 and at most five: no wrap before the check */
    }
    t[T_MAX] = t[T_MAX] ? t[T_MAX] : total;
    t[T_CPUS] = t[T_CPUS] ? t[T_CPUS] : t[T_MAX];
    if (!smp_check(t, total, errp)) {
        return false;
    }
    *out = (cli_smp){
        .cpus = (unsigned)t[T_CPUS], .max_cpus = (unsigned)t[T_MAX],
        .sockets = (unsigned)t[T_SOCKETS], .dies = (unsigned)t[T_DIES],
        .clusters = (unsigned)t[T_CLUSTERS], .cores = (unsigned)t[T_CORES],
        .threads = (unsigned)t[T_THREADS],
    };
    return true;
}

bool cli_parse_smp(const char *s, unsigned *cpus, unsigned *maxcpus, char **errp)
{
    cli_smp t;

    if (!cli_parse_smp_topo(s, &t, errp)) {
        return false;
    }
    *cpus = t.cpus;
    if (maxcpus) {
        *maxcpus = t.max_cpus;
    }
    return true;
}

/*
 * QEMU merges repeated -machine options: "-M virt -machine dumpdtb=F" is
 * "virt,dumpdtb=F". o->machine holds "TYPE,props" with TYPE possibly empty
 * until one is given (main() then defaults it to none).
 */
static void merge_machine(cli_opts *o, const char *arg)
{
    char **old = g_strsplit(o->machine ? o->machine : "", ",", 2);
    GString *props = g_string_new(old[0] && old[1] ? old[1] : "");
    char *type = g_strdup(old[0] ? old[0] : "");
    char **items = g_strsplit(arg, ",", -1);

    for (int i = 0; items[i]; i++) {
        const char *it = items[i];
        if (g_str_has_prefix(it, "type=") || (i == 0 && !strchr(it, '='))) {
            g_free(type);
            type = g_strdup(strchr(it, '=') ? strchr(it, '=') + 1 : it);
        } else if (*it) {
            g_string_append_printf(props, "%s%s", props->len ? "," : "", it);
        }
    }
    g_free(o->machine);
    o->machine = props->len ? g_strdup_printf("%s,%s", type, props->str) : g_strdup(type);
    g_strfreev(items);
    g_strfreev(old);
    g_free(type);
    g_string_free(props, true);
}
/* ---- accelerators ----
 *
 * Only TCG exists (software CPUs: DESIGN.md, "There is no KVM on our
 * machines"). "jit" and "tb-size" reach every CPU the machine creates as
 * the CPU type's properties of those names (core/accel.c cpu_create).
 *
 * -accel, -enable-kvm and -machine accel= only record accelerator names in
 * order (o->accels); accel_resolve() then takes the first that works, as
 * QEMU tries them: kvm never does here, so "kvm:tcg" (or -accel kvm
 * -accel tcg) falls back to tcg with one warning line and kvm alone is one
 * error line.
 */
#define KVM_DEVICE "/dev/kvm"

/* Why kvm cannot be used, in QEMU's words where QEMU has them: without
 * /dev/kvm its two lines ("Could not access KVM kernel module: ...",
 * "failed to initialize kvm: ...") joined into one. */
static char *kvm_unavailable(const char *dev)
{
    const char *why;

    if (access(dev, F_OK) == 0) {
        return g_strdup("failed to initialize kvm: KVM is not supported in this build of "
                        "tessera (use -accel tcg)");
    }
    why = g_strerror(errno);
    return g_strdup_printf("Could not access KVM kernel module: %s; failed to initialize "
                           "kvm: %s", why, why);
}

/* Record "kvm:tcg"-style names; unknown names are refused here. */
static bool accel_names(cli_opts *o, const char *list, const char *opt, char **errp)
{
    char **names = g_strsplit(list, ":", -1);
    bool ok = names[0] != NULL;

    for (char **n = names; *n && ok; n++) {
        if (strcmp(*n, "tcg") != 0 && strcmp(*n, "kvm") != 0) {
            *errp = g_strdup_printf("%s: unknown accelerator '%s' (expected tcg)", opt, *n);
            ok = false;
        } else {
            g_ptr_array_add(o->accels, g_strdup(*n));
        }
    }
    if (!names[0]) {
        *errp = g_strdup_printf("%s: an accelerator name is required (tcg)", opt);
    }
    g_strfreev(names);
    return ok;
}

static bool accel_item(cli_opts *o, const char *item, char **errp)
{
    const char *val = strchr(item, '=') ? strchr(item, '=') + 1 : "";
    char *end;
    guint64 n;

    if (g_str_has_prefix(item, "jit=") && (strcmp(val, "on") == 0 || strcmp(val, "off") == 0)) {
        o->accel_jit = strcmp(val, "on") == 0;
        return true;
    }
    if (g_str_has_prefix(item, "tb-size=")) {
        n = g_ascii_strtoull(val, &end, 10);
        if (end != val && !*end && n >= 1 && n <= 65536) {
            o->tb_size = n;
            return true;
        }
    }
    if (g_str_has_prefix(item, "thread=")) {
        return true; /* QEMU's single|multi: vCPU threading is the core's choice */
    }
    *errp = g_strdup_printf("-accel: bad item '%s' (expected jit=on|off, tb-size=MiB 1..65536)",
                            item);
    return false;
}

static bool parse_accel(cli_opts *o, const char *arg, char **errp)
{
    char **items = g_strsplit(arg, ",", -1);
    bool ok = true;

    if (strcmp(arg, "help") == 0) {
        o->accel_help = true;
    } else if (!items[0] || !*items[0]) {
        *errp = g_strdup("-accel: an accelerator name is required (tcg)");
        ok = false;
    } else {
        ok = accel_names(o, items[0], "-accel", errp);
    }
    /* Items of a kvm-only -accel (kernel-irqchip=...) are not checked: kvm
     * is refused or skipped anyway. */
    for (char **p = items + 1; ok && !o->accel_help && strstr(items[0], "tcg") && *p; p++) {
        ok = accel_item(o, *p, errp);
    }
    g_strfreev(items);
    return ok;
}

/* QEMU's kernel_irqchip (also kernel-irqchip): a KVM setting, meaningless
 * under tcg, so accepted with its values and ignored. */
static bool machine_irqchip(const char *item, char **errp)
{
    const char *val = strchr(item, '=') + 1;

    if (strcmp(val, "on") == 0 || strcmp(val, "off") == 0 || strcmp(val, "split") == 0) {
        return true;
    }
    *errp = g_strdup_printf("-machine: kernel_irqchip=%s is invalid (expected on, off or split)",
                            val);
    return false;
}

/* -machine ...,accel=NAME is QEMU's older spelling of -accel NAME, and
 * kernel_irqchip= belongs to KVM: take both out of the machine's
 * properties (machines do not declare them). */
static bool machine_accel(cli_opts *o, char **errp)
{
    char **items;
    GString *rest;
    bool ok = true;

    if (!o->machine) {
        return true;
    }
    items = g_strsplit(o->machine, ",", -1);
    if (!items[0]) { /* -M "": the machine's own check refuses it */
        g_strfreev(items);
        return true;
    }
    rest = g_string_new(items[0]);
    for (char **p = items + 1; *p && ok; p++) {
        if (g_str_has_prefix(*p, "accel=")) {
            ok = accel_names(o, *p + 6, "-machine accel", errp);
        } else if (g_str_has_prefix(*p, "kernel_irqchip=") ||
                   g_str_has_prefix(*p, "kernel-irqchip=")) {
            ok = machine_irqchip(*p, errp);
        } else {
            g_string_append_printf(rest, ",%s", *p);
        }
    }
    g_strfreev(items);
    g_free(o->machine);
    o->machine = g_string_free(rest, false);
    return ok;
}

/* The first accelerator that works, as QEMU tries them in order. */
static bool accel_resolve(cli_opts *o, const char *kvm_dev, char **errp)
{
    char *kvm_err = NULL;

    for (guint i = 0; i < o->accels->len; i++) {
        if (strcmp(g_ptr_array_index(o->accels, i), "tcg") == 0) {
            if (kvm_err) {
                o->accel_warning = g_strdup_printf("%s; falling back to tcg", kvm_err);
                g_free(kvm_err);
            }
            return true;
        }
        if (!kvm_err) {
            kvm_err = kvm_unavailable(kvm_dev);
        }
    }
    if (kvm_err) {
        *errp = kvm_err;
        return false;
    }
    return true;
}

/* QEMU's drive_add(IF_DEFAULT, index, FILE, "media=..."): the board's
 * default interface; the file name taken whole (",," for its commas). */
static char *hd_drive(unsigned index, bool cdrom, const char *file)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "index=%u,media=%s", index, cdrom ? "cdrom" : "disk");
    drive_opts_append(s, "file", file);
    return g_string_free(s, FALSE);
}

static bool apply(cli_opts *o, const opt_def *d, const char *arg, char **errp)
{
    char *base = (char *)o;

    switch (d->kind) {
    case OPT_ACCEL:
        return parse_accel(o, arg, errp);
    case OPT_KVM:
        g_ptr_array_add(o->accels, g_strdup("kvm")); /* QEMU: -machine accel=kvm */
        return true;
    case OPT_FLAG:
        *(bool *)(base + d->offset) = true;
        return true;
    case OPT_STRING:
        g_free(*(char **)(base + d->offset));
        *(char **)(base + d->offset) = g_strdup(arg);
        return true;
    case OPT_LIST:
        g_ptr_array_add(*(GPtrArray **)(base + d->offset), g_strdup(arg));
        return true;
    case OPT_SIZE:
        return parse_mem(arg, o, errp);
    case OPT_SMP:
        if (!cli_parse_smp_topo(arg, &o->smp_topo, errp)) {
            return false;
        }
        o->smp = o->smp_topo.cpus;
        o->smp_max = o->smp_topo.max_cpus;
        return true;
    case OPT_IGNORE:
        return true;
    case OPT_HD:
        g_ptr_array_add(o->drives, hd_drive(d->offset & 3, d->offset & 4, arg));
        return true;
    case OPT_MACHINE:
        merge_machine(o, arg);
        return true;
    }
    return false;
}

static void opts_init(cli_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->drives = g_ptr_array_new_with_free_func(g_free);
    o->blockdevs = g_ptr_array_new_with_free_func(g_free);
    o->devices = g_ptr_array_new_with_free_func(g_free);
    o->netdevs = g_ptr_array_new_with_free_func(g_free);
    o->nics = g_ptr_array_new_with_free_func(g_free);
    o->nets = g_ptr_array_new_with_free_func(g_free);
    o->serials = g_ptr_array_new_with_free_func(g_free);
    o->monitors = g_ptr_array_new_with_free_func(g_free);
    o->qmps = g_ptr_array_new_with_free_func(g_free);
    o->plugins = g_ptr_array_new_with_free_func(g_free);
    o->accels = g_ptr_array_new_with_free_func(g_free);
    o->numas = g_ptr_array_new_with_free_func(g_free);
    o->objects = g_ptr_array_new_with_free_func(g_free);
    o->traces = g_ptr_array_new_with_free_func(g_free);
    o->globals = g_ptr_array_new_with_free_func(g_free);
    o->accel_jit = -1;
}

static bool parse_one(int argc, char **argv, int *i, cli_opts *o, char **errp)
{
    const char *word = argv[*i];
    const char *name = word + (word[1] == '-' ? 2 : 1);
    const char *eq = word[1] == '-' ? strchr(name, '=') : NULL;
    char *key = eq ? g_strndup(name, eq - name) : g_strdup(name);
    const opt_def *d = find_opt(key);
    const char *arg = NULL;

    g_free(key);
    if (!d || (eq && (d->kind == OPT_FLAG || d->kind == OPT_KVM))) {
        *errp = g_strdup_printf("unknown option '%s'", word);
        return false;
    }
    if (d->kind != OPT_FLAG && d->kind != OPT_KVM) {
        if (eq) {
            arg = eq + 1;
        } else if (*i + 1 < argc) {
            arg = argv[++*i];
        } else {
            *errp = g_strdup_printf("option '%s' requires an argument", word);
            return false;
        }
    }
    return apply(o, d, arg, errp);
}

bool cli_parse(int argc, char **argv, cli_opts *o, char **errp)
{
    opts_init(o);
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];

        if (w[0] != '-' || w[1] == '\0' || strcmp(w, "--") == 0) {
            /* QEMU treats a bare word as a disk image; we have no default
             * drive, so say so instead of ignoring it. */
            *errp = g_strdup_printf("unexpected argument '%s' (use -drive file=...)", w);
            return false;
        }
        if (!parse_one(argc, argv, &i, o, errp)) {
            return false;
        }
    }
    for (guint i = 0; i < o->globals->len; i++) {
        if (!registry_global_check(g_ptr_array_index(o->globals, i), errp)) {
            return false;
        }
    }
    if (o->watchdog_action && watchdog_action_parse(o->watchdog_action) < 0) {
        return watchdog_set_action(o->watchdog_action, errp);
    }
    return machine_accel(o, errp) && accel_resolve(o, KVM_DEVICE, errp);
}

/*
 * QEMU's binaries carry their target in their name and pick the target's
 * default machine; tessera is one binary for every target, installed also
 * under QEMU's names so that scripts swap the binary name and nothing else.
 */
static const struct {
    const char *name;
    const char *machine; /* NULL: no default machine (QEMU's aarch64) */
} binary_names[] = {
    {"tessera-system-x86_64", "pc"},
    {"tessera-system-aarch64", NULL},
};

const char *cli_default_machine(const char *argv0, char **errp)
{
    g_autofree char *base = g_path_get_basename(argv0 ? argv0 : "tessera");

    for (size_t i = 0; i < G_N_ELEMENTS(binary_names); i++) {
        if (strcmp(base, binary_names[i].name) != 0) {
            continue;
        }
        if (!binary_names[i].machine) {
            *errp = g_strdup("No machine specified, and there is no default (use -machine "
                             "help to list supported machines)");
        }
        return binary_names[i].machine;
    }
    return "none";
}

void cli_opts_free(cli_opts *o)
{
    g_free(o->machine);
    g_free(o->cpu);
    g_free(o->kernel);
    g_free(o->initrd);
    g_free(o->append);
    g_free(o->dtb);
    g_free(o->log_mask);
    g_free(o->log_file);
    g_free(o->incoming);
    g_free(o->gdb);
    g_free(o->watchdog_action);
    g_free(o->display);
    g_free(o->msg);
    g_free(o->vga);
    g_free(o->vnc);
    g_free(o->accel_warning);
    g_clear_pointer(&o->traces, g_ptr_array_unref);
    g_clear_pointer(&o->globals, g_ptr_array_unref);
    g_clear_pointer(&o->accels, g_ptr_array_unref);
    g_clear_pointer(&o->drives, g_ptr_array_unref);
    g_clear_pointer(&o->blockdevs, g_ptr_array_unref);
    g_clear_pointer(&o->devices, g_ptr_array_unref);
    g_clear_pointer(&o->netdevs, g_ptr_array_unref);
    g_clear_pointer(&o->nics, g_ptr_array_unref);
    g_clear_pointer(&o->nets, g_ptr_array_unref);
    g_clear_pointer(&o->serials, g_ptr_array_unref);
    g_clear_pointer(&o->monitors, g_ptr_array_unref);
    g_clear_pointer(&o->qmps, g_ptr_array_unref);
    g_clear_pointer(&o->plugins, g_ptr_array_unref);
    g_clear_pointer(&o->numas, g_ptr_array_unref);
    g_clear_pointer(&o->objects, g_ptr_array_unref);
}
