/*
 * tessera: the emulator binary.
 *
 * Start-up order (each step can fail with one line on stderr, exit 1):
 *   parse every argument; -d/-D; load plugins (-plugin files first); answer
 *   -list-plugins and help requests (exit 0); drives, network backends
 *   (-netdev, -nic, -net) and serial ports; the machine; the NICs of -nic
 *   and -net nic; -device in command-line order; warnings for netdevs no
 *   NIC uses; a warning line for each plugin
 *   of a default place that could not load; monitors; then -incoming waits
 *   for a stream, -S waits for "cont", otherwise the vCPUs start.
 * The GLib main loop then runs until a shutdown is requested (guest, QMP
 * quit, HMP q, signal) and the process exits with the requested status.
 */
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"
#include "ui.h"
#include "blockdev.h"
#include "cli.h"
#include "numa.h"
#include "core.h"
#include "tracing.h"
#include "gdbstub.h"
#include "vga-cli.h"

#define VERSION_LINE "tessera version " TESSERA_VERSION " (SDK ABI " TES_ABI_STRING ")"

static G_NORETURN void die(char *msg, const char *fallback)
{
    fprintf(stderr, "tessera: %s\n", msg ? msg : fallback);
    g_free(msg);
    exit(1);
}

/* "help", "?", or TYPE with a help item among its options (QEMU prints
 * help for -device edu,dma_mask=1,help). */
static bool is_help(const char *opt)
{
    const char *comma = strchr(opt, ',');

    return strcmp(opt, "help") == 0 || strcmp(opt, "?") == 0 ||
           (comma && opts_want_help(comma + 1));
}

/* -M TYPE,help: the machine's properties. */
static void machine_help(const char *opt)
{
    char *err = NULL;
    char *name;
    const type_entry *t;

    if (!strchr(opt, ',')) {
        types_print_help(TES_KIND_MACHINE, stdout);
        return;
    }
    name = g_strndup(opt, strcspn(opt, ","));
    t = type_lookup(name, TES_KIND_MACHINE, &err);
    g_free(name);
    if (!t) {
        die(err, "unknown machine type");
    }
    type_print_props(t, stdout);
}

/* Answers every help request of the command line; true if there was one. */
static bool handle_help_requests(cli_opts *o)
{
    bool any = false;

    if (o->machine && is_help(o->machine)) {
        machine_help(o->machine);
        any = true;
    }
    if (o->accel_help) {
        printf("Accelerators supported: tcg (properties jit=on|off, tb-size=MiB)\n");
        any = true;
    }
    if (o->cpu && is_help(o->cpu)) {
        types_print_help(TES_KIND_CPU, stdout);
        any = true;
    }
    for (guint i = 0; i < o->devices->len; i++) {
        const char *d = g_ptr_array_index(o->devices, i);
        bool printed = false;
        char *err = NULL;

        if (!is_help(d)) {
            continue;
        }
        if (!dev_create_cli(d, &printed, &err) && !printed) {
            die(err, "-device: cannot print help");
        }
        any = true;
    }
    return any;
}

/* -trace and -msg: patterns kept until the plugins register events. */
static void trace_setup(cli_opts *o, bool *help)
{
    char *err = NULL;

    for (guint i = 0; i < o->traces->len; i++) {
        if (!trace_cli_add(g_ptr_array_index(o->traces, i), help, &err)) {
            die(err, "-trace: bad option");
        }
    }
    if (o->msg && !trace_msg_option(o->msg, &err)) {
        die(err, "-msg: bad option");
    }
}

static void early_setup(cli_opts *o)
{
    bool trace_help = false;
    char *err = NULL;

    if (o->log_mask) {
        if (!log_set_mask(o->log_mask, &err)) {
            die(err, "-d: bad log mask");
        }
        if (strcmp(o->log_mask, "help") == 0) {
            exit(0);
        }
    }
    if (o->log_file && !log_set_file(o->log_file, &err)) {
        die(err, "-D: cannot open log file");
    }
    trace_setup(o, &trace_help);
    if (o->display && strcmp(o->display, "none") != 0 && strcmp(o->display, "sdl") != 0) {
        die(g_strdup_printf("-display: unsupported display '%s' (expected none or sdl)",
                            o->display), NULL);
    }
    if (!vga_cli_check(o->vga, &err)) {
        die(err, "-vga: bad option");
    }
    /* plugin.c picks the default places (the build tree only when this
     * binary is the build tree's). */
    if (!plugins_load_all(o->plugins, &err)) {
        die(err, "cannot load plugins");
    }
    if (trace_help) {
        trace_print_help(stdout);
        exit(0);
    }
    trace_warn_unknown();
}

static void fill_machine_config(cli_opts *o)
{
    accel_set_options(o->accel_jit, o->tb_size);
    machine_cfg.size = sizeof(machine_cfg);
    machine_cfg.ram_size = o->ram_size;
    machine_cfg.smp = o->smp ? o->smp : 1;
    machine_smp_max = o->smp_max;
    machine_cfg.cpu_model = o->cpu;
    machine_cfg.kernel = o->kernel;
    machine_cfg.initrd = o->initrd;
    machine_cfg.append = o->append;
    machine_cfg.dtb = o->dtb;
    machine_cfg.nographic = o->nographic;
    machine_cfg.no_reboot = o->no_reboot;
    if (o->watchdog_action) {
        watchdog_set_action(o->watchdog_action, NULL); /* cli_parse checked it */
    }
    for (guint i = 0; i < o->globals->len; i++) {
        registry_add_global(g_ptr_array_index(o->globals, i), NULL); /* checked too */
    }
}

/* -object backends, then -smp's topology and -numa (which names both);
 * the machine completes -numa once it knows its RAM size. */
static void add_topology(cli_opts *o)
{
    char *err = NULL;

    for (guint i = 0; i < o->objects->len; i++) {
        if (!memdev_add(g_ptr_array_index(o->objects, i), &err)) {
            die(err, "-object: cannot create object");
        }
    }
    topology_set(&o->smp_topo);
    topology_set_memory(o->maxmem, o->ram_slots);
    for (guint i = 0; i < o->numas->len; i++) {
        if (!numa_parse(g_ptr_array_index(o->numas, i), &err)) {
            die(err, "-numa: bad option");
        }
    }
}

static void add_backends(cli_opts *o)
{
    char *err = NULL;

    for (guint i = 0; i < o->blockdevs->len; i++) {
        if (!blockdev_add_cli(g_ptr_array_index(o->blockdevs, i), &err)) {
            die(g_strdup_printf("-blockdev: %s", err), NULL);
        }
    }
    for (guint i = 0; i < o->drives->len; i++) {
        if (!drive_cli_add(g_ptr_array_index(o->drives, i), &err)) {
            die(err, "-drive: cannot open drive");
        }
    }
    if (!net_cli_backends(o->netdevs, o->nics, o->nets, &err)) {
        die(err, "-netdev: cannot create network backend");
    }
    /* -nographic: the first serial port on stdio (QEMU multiplexes the
     * monitor there too; we give the monitor stdin when -monitor stdio). */
    if (o->serials->len == 0 && o->nographic && !o->nodefaults) {
        g_ptr_array_add(o->serials, g_strdup("stdio"));
    }
    for (guint i = 0; i < o->serials->len; i++) {
        if (!serial_add(g_ptr_array_index(o->serials, i), &err)) {
            die(err, "-serial: cannot create serial backend");
        }
    }
}

/* The -M argument, its type filled from the binary's name when -M gave
 * none (only properties, or no -M at all). */
static char *machine_arg(cli_opts *o, const char *argv0)
{
    char *err = NULL;
    const char *def;

    if (o->machine && *o->machine && *o->machine != ',') {
        return g_strdup(o->machine);
    }
    def = cli_default_machine(argv0, &err);
    if (!def) {
        die(err, "no machine specified");
    }
    return g_strconcat(def, o->machine, NULL);
}

static void create_machine_and_devices(cli_opts *o, const char *argv0)
{
    char *err = NULL;

    core_lock();
    char *machine = machine_arg(o, argv0);
    bool made = machine_create(machine, &err);
    g_free(machine);
    if (!made) {
        die(err, "cannot create the machine");
    }
    /* QEMU's pc/q35 make their VGA before the NICs: it takes the first
     * free slot. */
    if (!vga_cli_create(o->vga, o->nodefaults, o->devices, &err)) {
        die(err, "cannot create the VGA");
    }
    if (!net_cli_create_nics(&err)) {
        die(err, "cannot create NIC");
    }
    /* -drive if=ide|virtio and -hda...: QEMU's boards create them before
     * the -device list. */
    if (!drive_cli_attach_all(&err)) {
        die(err, "-drive: cannot attach drive");
    }
    for (guint i = 0; i < o->devices->len; i++) {
        bool printed = false;

        if (!dev_create_cli(g_ptr_array_index(o->devices, i), &printed, &err)) {
            die(err, "-device: cannot create device");
        }
    }
    if (!machine_devices_done(&err)) {
        die(err, "cannot complete the machine");
    }
    netdevs_warn_unused();
    core_unlock();
}

static void add_monitors(cli_opts *o)
{
    char *err = NULL;

    for (guint i = 0; i < o->monitors->len; i++) {
        if (!hmp_add(g_ptr_array_index(o->monitors, i), &err)) {
            die(err, "-monitor: cannot create monitor");
        }
    }
    for (guint i = 0; i < o->qmps->len; i++) {
        if (!qmp_add(g_ptr_array_index(o->qmps, i), &err)) {
            die(err, "-qmp: cannot create QMP monitor");
        }
    }
    /* -s is -gdb tcp::1234; we serve one debugger socket, so with both
     * (QEMU listens on both) -gdb's wins. */
    if (o->gdb && !gdbstub_add(o->gdb, &err)) {
        die(err, "-gdb: cannot listen");
    }
    if (o->gdb_default && !o->gdb && !gdbstub_add("tcp::1234", &err)) {
        die(err, "-s: cannot listen");
    }
}

static void start(cli_opts *o)
{
    char *err = NULL;

    g_source_attach(timers_source_new(), NULL);
    accel_start();
    core_autostart = !o->start_paused;
    if (o->incoming && strcmp(o->incoming, "defer") == 0) {
        migrate_incoming_defer();
    } else if (o->incoming) {
        vm_stop(RUN_INMIGRATE);
        if (!migrate_incoming(o->incoming, &err)) {
            die(err, "-incoming: cannot receive the migration stream");
        }
    } else if (!o->start_paused) {
        vm_start();
    }
}

/* QEMU's default display: a window when there is a picture to show and a
 * desktop to show it on, else nothing, silently; -display sdl insists. */
static void start_display(cli_opts *o)
{
    bool want_sdl = o->display && strcmp(o->display, "sdl") == 0;
    char *err = NULL;

    if (o->vnc && !ui_vnc_start(o->vnc, &err)) {
        die(err, "cannot start the VNC server");
    }
    /* With -vnc, QEMU opens no window unless -display asks for one. */
    if (o->nographic || (o->display && !want_sdl) || (o->vnc && !want_sdl)) {
        return;
    }
    if (!want_sdl) {
        core_lock();
        bool has_console = display_console_find(NULL, 0, NULL) != NULL;
        core_unlock();
        if (!has_console || (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY"))) {
            return;
        }
    }
    if (!ui_sdl_start(want_sdl, &err) && want_sdl) {
        die(err, "cannot open the window");
    }
    g_free(err);
}

static gboolean on_signal(gpointer opaque)
{
    /* QEMU exits 0 on SIGINT/SIGTERM/SIGHUP ("terminating on signal"). */
    core_request_shutdown(0);
    return G_SOURCE_CONTINUE;
}

static int run_main_loop(void)
{
    int status = 0;

    while (!core_shutdown_requested(&status)) {
        g_main_context_iteration(NULL, TRUE);
    }
    core_lock();
    qmp_event("SHUTDOWN");
    vm_stop(RUN_SHUTDOWN);
    core_unlock();
    return status;
}

static void teardown(void)
{
    ui_sdl_stop();
    ui_vnc_stop();
    migration_shutdown();
    monitors_close_all();
    gdbstub_shutdown(); /* a waiting gdb hears W00 */
    accel_stop();
    chardevs_close_all(); /* restores the terminal */
    drives_close_all();
    blockdev_reset();
    netdevs_close_all(); /* tap downscript= runs here */
}

int main(int argc, char **argv)
{
    cli_opts o;
    char *err = NULL;
    int status;

    /* A QMP client that goes away mid-reply must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (!cli_parse(argc, argv, &o, &err)) {
        die(err, "bad command line");
    }
    if (o.accel_warning) {
        fprintf(stderr, "tessera: warning: %s\n", o.accel_warning);
    }
    if (o.help || o.version) {
        if (o.help) {
            cli_print_help(stdout);
        } else {
            printf("%s\n", VERSION_LINE);
        }
        cli_opts_free(&o);
        return 0;
    }
    clock_pause(); /* virtual time stands still until the vCPUs start */
    early_setup(&o);
    if (o.list_plugins) {
        plugins_warn_skipped();
        plugins_print_list(stdout);
        cli_opts_free(&o);
        return 0;
    }
    if (handle_help_requests(&o)) {
        plugins_warn_skipped();
        cli_opts_free(&o);
        return 0;
    }
    if (o.incoming && strcmp(o.incoming, "defer") != 0 &&
        !migrate_incoming_listen_early(o.incoming, &err)) {
        die(err, "-incoming: cannot receive the migration stream");
    }
    fill_machine_config(&o);
    add_topology(&o);
    add_backends(&o);
    /* From here (not before: a -serial ...,wait=on accept above must stay
     * killable), a Ctrl-C while the machine is being built waits for the
     * main loop, which then shuts down cleanly (exit 0), as QEMU. */
    g_unix_signal_add(SIGINT, on_signal, NULL);
    g_unix_signal_add(SIGTERM, on_signal, NULL);
    g_unix_signal_add(SIGHUP, on_signal, NULL);
    create_machine_and_devices(&o, argv[0]);
    /* Only now: had the command line needed a skipped plugin, its refusal
     * was the one fatal line. */
    plugins_warn_skipped();
    add_monitors(&o);
    start_display(&o);
    start(&o);
    status = run_main_loop();
    teardown();
    cli_opts_free(&o);
    return status;
}
