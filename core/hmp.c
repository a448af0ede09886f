/*
 * tessera core: the human monitor (HMP).
 *
 *   tessera -M virt ... -monitor stdio
 *   (tessera) info qtree
 *
 * Commands follow QEMU's names: info status|qtree|mtree|pci|plugins|version|
 * migrate|registers|cpus|network|block|blockstats, stop, cont, q/quit,
 * system_reset, system_powerdown, system_wakeup, help [info]. QMP's human-monitor-command runs
 * the same hmp_execute().
 *
 * On stdio, end of input quits (QEMU keeps running; quitting makes piped
 * scripts such as `printf 'info status\nquit\n' | tessera ...` and tests
 * terminate). When both -serial stdio and -monitor stdio are given, the
 * monitor takes stdin (a simplification of QEMU's mux chardev).
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "blockdev.h"
#include "core.h"
#include "display.h"
#include "input-qmp.h"
#include "monitor.h"
#include "numa.h"

#define PROMPT "(tessera) "

typedef struct hmp_cmd {
    const char *name;
    const char *alias;
    bool (*fn)(const char *arg, GString *out);
    const char *help;
} hmp_cmd;

static GIOChannel *stdin_chan;
static guint stdin_watch;
static int stdin_flags = -1; /* restored at exit: the shell shares the fd */

/* ---- info ---- */

static void info_status(GString *out)
{
    g_string_append_printf(out, "VM status: %s\n", runstate_name(runstate_get()));
}

static void info_version(GString *out)
{
    g_string_append(out, TESSERA_VERSION " (tessera " TESSERA_VERSION ", SDK ABI " TES_ABI_STRING ")\n");
}

static void info_plugins(GString *out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f) {
        g_string_append(out, "cannot list plugins\n");
        return;
    }
    plugins_print_list(f);
    fclose(f);
    g_string_append_len(out, buf, len);
    free(buf);
}

static void info_migrate(GString *out)
{
    const char *desc = NULL;
    const char *st = migrate_status(&desc);

    g_string_append_printf(out, "Migration status: %s\n", st ? st : "none");
    if (desc) {
        g_string_append_printf(out, "Error: %s\n", desc);
    }
}

/* gdb register numbers from 0 until the CPU says there are no more. */
static void info_cpu_registers(tes_cpu *cpu, GString *out)
{
    const tes_cpu_ops *ops = cpu->ops;
    void *s = cpu_state(cpu);

    if (hmp_cpu_dump(cpu, TES_CPU_DUMP_REGS, out)) {
        return;
    }

    g_string_append_printf(out, "CPU#%u%s%s", cpu->index, cpu->powered ? "" : " (off)",
                           cpu->halted ? " (halted)" : "");
    if (ops->get_pc) {
        g_string_append_printf(out, " pc=%016" G_GINT64_MODIFIER "x", ops->get_pc(cpu, s));
    }
    for (int reg = 0; ops->read_reg && reg < 128; reg++) {
        uint8_t buf[16] = {0};
        uint64_t v = 0;
        int n = ops->read_reg(cpu, s, reg, buf, sizeof(buf));

        if (n <= 0) {
            break;
        }
        for (int i = MIN(n, 8) - 1; i >= 0; i--) {
            v = (v << 8) | buf[i]; /* gdb register buffers are target order: LE */
        }
        g_string_append_printf(out, "%sr%d=%0*" G_GINT64_MODIFIER "x", reg % 4 ? " " : "\n",
                               reg, MIN(n, 8) * 2, v);
    }
    g_string_append_c(out, '\n');
}

static void info_registers(GString *out)
{
    if (cpu_count() == 0) {
        g_string_append(out, "no CPUs\n");
    }
    for (unsigned i = 0; i < cpu_count(); i++) {
        if (cpu_by_index(i)) {
            info_cpu_registers(cpu_by_index(i), out);
        }
    }
}

/* QEMU's "info cpus", plus each vCPU's executed guest instructions (the
 * benchmarks divide them by time for guest MIPS). */
static void info_cpus(GString *out)
{
    for (unsigned i = 0; i < cpu_count(); i++) {
        tes_cpu *cpu = cpu_by_index(i);
        if (!cpu) {
            continue;
        }
        uint64_t pc = cpu->ops->get_pc ? cpu->ops->get_pc(cpu, cpu->dev->s) : 0;
        g_string_append_printf(out, "%c CPU #%u: pc=0x%016" G_GINT64_MODIFIER "x%s%s"
                               " instructions=%" G_GUINT64_FORMAT "\n",
                               i == 0 ? '*' : ' ', i, pc, cpu->halted ? " (halted)" : "",
                               cpu->powered ? "" : " (off)", cpu->insns);
    }
}

static const struct {
    const char *name;
    void (*fn)(GString *out);
    const char *help;
} infos[] = {
    {"status", info_status, "show the current VM status (running|paused)"},
    {"qtree", qtree_print, "show the device tree"},
    {"pci", pci_info_print, "show PCI info"},
    {"network", net_info_print, "show the network state"},
    {"plugins", info_plugins, "show the loaded plugins"},
    {"version", info_version, "show the version"},
    {"migrate", info_migrate, "show migration status"},
    {"registers", info_registers, "show the CPU registers"},
    {"cpus", info_cpus, "show the vCPUs: pc, state, instructions executed"},
    {"numa", numa_info_print, "show the NUMA nodes: their CPUs and memory"},
    {"hotpluggable-cpus", hmp_info_hotpluggable_cpus, "show the CPUs that can be hot-plugged"},
    {"block", block_info_print, "show the block devices"},
    {"blockstats", block_info_stats_print, "show block device statistics"},
};

static bool cmd_info(const char *arg, GString *out)
{
    size_t n = arg ? strcspn(arg, " \t") : 0;
    const char *rest = arg ? arg + n + strspn(arg + n, " \t") : "";

    for (size_t i = 0; n && hmp_inspect_infos[i].name; i++) {
        if (strlen(hmp_inspect_infos[i].name) == n && !strncmp(hmp_inspect_infos[i].name, arg, n)) {
            return hmp_inspect_infos[i].fn(rest, out);
        }
    }
    for (size_t i = 0; arg && i < G_N_ELEMENTS(infos); i++) {
        if (strcmp(infos[i].name, arg) == 0) {
            infos[i].fn(out);
            return true;
        }
    }
    if (arg && *arg) {
        g_string_append_printf(out, "unknown info item: '%s'\n", arg);
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(infos); i++) {
        g_string_append_printf(out, "info %-10s -- %s\n", infos[i].name, infos[i].help);
    }
    for (size_t i = 0; hmp_inspect_infos[i].name; i++) {
        g_string_append_printf(out, "info %-10s -- %s\n", hmp_inspect_infos[i].name,
                               hmp_inspect_infos[i].help);
    }
    return true;
}

/* ---- control ---- */

static bool cmd_stop(const char *arg, GString *out)
{
    /* From S3 too: cont then goes back to "suspended" (QEMU 9). */
    if (runstate_get() == RUN_RUNNING || runstate_get() == RUN_SUSPENDED) {
        vm_stop(RUN_PAUSED);
    }
    return true;
}

static bool cmd_cont(const char *arg, GString *out)
{
    if (runstate_get() == RUN_INMIGRATE) {
        g_string_append(out, "Guest is waiting for an incoming migration\n");
        return false;
    }
    if (migration_in_progress()) {
        g_string_append(out, "a migration is in progress; 'cont' is not possible\n");
        return false;
    }
    vm_start();
    return true;
}

static bool cmd_migrate_cancel(const char *arg, GString *out)
{
    migrate_cancel();
    return true;
}

static bool cmd_quit(const char *arg, GString *out)
{
    core_request_shutdown(0);
    return true;
}

static bool cmd_reset(const char *arg, GString *out)
{
    core_request_reset();
    return true;
}

static bool cmd_powerdown(const char *arg, GString *out)
{
    machine_powerdown();
    return true;
}

/* QEMU's "watchdog_action ACTION": what a guest watchdog does from now. */
static bool cmd_watchdog_action(const char *arg, GString *out)
{
    g_autofree char *name = g_strstrip(g_strdup(arg));

    if (!watchdog_set_action(name, NULL)) {
        g_string_append_printf(out, "Error: unknown watchdog action '%s' (reset, shutdown, "
                               "poweroff, pause, debug, none, inject-nmi)\n", name);
    }
    return true;
}

static bool cmd_wakeup(const char *arg, GString *out)
{
    char *err = NULL;

    if (!core_system_wakeup(&err)) {
        g_string_append_printf(out, "Error: %s\n", err);
        g_free(err);
    }
    return true;
}

/* set_link NAME on|off */
static bool cmd_set_link(const char *arg, GString *out)
{
    char **w = g_strsplit_set(arg, " \t", -1);
    char *err = NULL;
    bool ok = g_strv_length(w) == 2 && (!strcmp(w[1], "on") || !strcmp(w[1], "off"));

    if (!ok) {
        g_string_append(out, "usage: set_link name on|off\n");
    } else if (!netdev_set_link(w[0], strcmp(w[1], "on") == 0, &err)) {
        g_string_append_printf(out, "%s\n", err);
        g_free(err);
        ok = false;
    }
    g_strfreev(w);
    return ok;
}

/* The words of arg, empty ones (repeated blanks) dropped; g_strfreev. */
static char **words(const char *arg)
{
    char **w = g_strsplit_set(arg ? arg : "", " \t", -1);
    guint n = 0;

    for (guint i = 0; w[i]; i++) {
        if (*w[i]) {
            w[n++] = w[i];
        } else {
            g_free(w[i]);
        }
    }
    w[n] = NULL;
    return w;
}

static bool hmp_result(bool ok, char *err, GString *out)
{
    if (!ok) {
        g_string_append_printf(out, "%s\n", err ? err : "failed");
    }
    g_free(err);
    return ok;
}

/* eject [-f] DEVICE (QEMU's hmp_eject: the drive's name) */
static bool cmd_eject(const char *arg, GString *out)
{
    char **w = words(arg);
    bool force = w[0] && !strcmp(w[0], "-f");
    const char *dev = w[0] ? w[force ? 1 : 0] : NULL;
    char *err = NULL;
    bool ok;

    if (!dev || w[force ? 2 : 1]) {
        g_string_append(out, "usage: eject [-f] device\n");
        g_strfreev(w);
        return false;
    }
    ok = media_eject(dev, NULL, force, &err); /* err is set by the call */
    ok = hmp_result(ok, err, out);
    g_strfreev(w);
    return ok;
}

/* change DEVICE FILENAME [FORMAT [READ-ONLY-MODE]] */
static bool cmd_change(const char *arg, GString *out)
{
    char **w = words(arg);
    guint n = g_strv_length(w);
    char *err = NULL;
    bool ok;

    if (n < 2 || n > 4) {
        g_string_append(out, "usage: change device filename [format [read-only-mode]]\n");
        g_strfreev(w);
        return false;
    }
    if (qmp_is_sandboxed()) {
        g_string_append(out, "not available to a sandboxed monitor\n");
        g_strfreev(w);
        return false;
    }
    ok = media_change(&(media_change_args){.device = w[0], .filename = w[1],
                                            .format = n > 2 ? w[2] : NULL,
                                            .ro_mode = n > 3 ? w[3] : NULL},
                      &err);
    ok = hmp_result(ok, err, out);
    g_strfreev(w);
    return ok;
}

/* screendump FILENAME [-f ppm|png] [DEVICE [HEAD]] (QEMU's HMP order:
 * "screendump filename [-f format] [device [head]]"). */
static bool cmd_screendump(const char *arg, GString *out)
{
    g_auto(GStrv) w = g_strsplit_set(arg, " \t", -1);
    const char *file = NULL, *format = NULL, *device = NULL;
    char *err = NULL, *end = NULL;
    long head = 0;
    tes_console *con;
    bool ok;
    guint i = 0;

    file = w[i] && *w[i] ? w[i++] : NULL;
    if (file && w[i] && !strcmp(w[i], "-f") && w[i + 1]) {
        format = w[i + 1];
        i += 2;
    }
    device = w[i] && *w[i] ? w[i++] : NULL;
    if (device && w[i] && *w[i]) {
        head = strtol(w[i++], &end, 0);
    }
    if (!file || (end && *end) || head < 0 || head > INT_MAX || (w[i] && *w[i])) {
        g_string_append(out, "usage: screendump filename [-f format] [device [head]]\n");
        return false;
    }
    if (qmp_is_sandboxed()) {
        g_string_append(out, "not available to a sandboxed monitor\n");
        return false;
    }
    con = display_console_find(device, (int)head, &err);
    ok = con && display_screendump(con, file, format, &err);
    return hmp_result(ok, err, out);
}

/* sendkey keys [hold_ms]: keys joined by '-' (ctrl-alt-f1). */
static bool cmd_sendkey(const char *arg, GString *out)
{
    char *err = NULL;

    return hmp_result(hmp_sendkey(arg, &err), err, out);
}

/* object_add memory-backend-ram,id=m1,size=1G (the -object text) */
static bool cmd_object_add(const char *arg, GString *out)
{
    char *err = NULL;
    g_autofree char *a = g_strstrip(g_strdup(arg ? arg : ""));
    bool ok;

    if (!*a) {
        g_string_append(out, "usage: object_add [qom-type=]type,id=str[,prop=value][,...]\n");
        return false;
    }
    if (qmp_is_sandboxed()) {
        g_string_append(out, "not available to a sandboxed monitor\n");
        return false;
    }
    ok = memdev_add(a, &err); /* before err is read */
    return hmp_result(ok, err, out);
}

/* object_del ID */
static bool cmd_object_del(const char *arg, GString *out)
{
    char **w = words(arg);
    char *err = NULL;
    bool ok;

    if (!w[0] || w[1]) {
        g_string_append(out, "usage: object_del id\n");
        g_strfreev(w);
        return false;
    }
    ok = memdev_del(w[0], &err);
    ok = hmp_result(ok, err, out);
    g_strfreev(w);
    return ok;
}

static bool cmd_help(const char *arg, GString *out);

static const hmp_cmd commands[] = {
    {"info", "i", cmd_info, "info [subcommand] -- show information about the system state"},
    {"stop", NULL, cmd_stop, "stop -- stop emulation"},
    {"cont", "c", cmd_cont, "cont|c -- resume emulation"},
    {"object_add", NULL, cmd_object_add, "object_add [qom-type=]type,id=str[,prop=value][,...] -- create QOM object"},
    {"object_del", NULL, cmd_object_del, "object_del id -- destroy QOM object"},
    {"quit", "q", cmd_quit, "quit|q -- quit the emulator"},
    {"migrate_cancel", NULL, cmd_migrate_cancel, "migrate_cancel -- cancel the current VM migration"},
    {"system_reset", NULL, cmd_reset, "system_reset -- reset the system"},
    {"system_powerdown", NULL, cmd_powerdown, "system_powerdown -- send system power down event"},
    {"system_wakeup", NULL, cmd_wakeup, "system_wakeup -- wakeup guest from suspend"},
    {"watchdog_action", NULL, cmd_watchdog_action, "watchdog_action [reset|shutdown|poweroff|pause|debug|none|inject-nmi] -- change watchdog action"},
    {"device_add", NULL, hmp_device_add, "device_add driver[,prop=value][,...] -- add device, like -device on the command line"},
    {"device_del", NULL, hmp_device_del, "device_del id -- remove device"},
    {"eject", NULL, cmd_eject, "eject [-f] device -- eject a removable medium (use -f to force it)"},
    {"change", NULL, cmd_change, "change device filename [format [read-only-mode]] -- change a removable medium"},
    {"screendump", NULL, cmd_screendump, "screendump filename [-f format] [device [head]] -- save the screen to a PPM (default) or PNG file"},
    {"sendkey", NULL, cmd_sendkey, "sendkey keys [hold_ms] -- send keys to the VM (e.g. 'sendkey ctrl-alt-f1', default hold time=10 ms)"},
    {"set_link", NULL, cmd_set_link, "set_link name on|off -- change the link status of a network adapter"},
    {"help", "?", cmd_help, "help|? [cmd] -- show the help"},
};

static bool cmd_help(const char *arg, GString *out)
{
    if (arg && (!strcmp(arg, "info") || !strcmp(arg, "i"))) {
        return cmd_info(NULL, out); /* QEMU's "help info": the info items */
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        g_string_append_printf(out, "%s\n", commands[i].help);
    }
    for (size_t i = 0; hmp_inspect_commands[i].name; i++) {
        g_string_append_printf(out, "%s\n", hmp_inspect_commands[i].help);
    }
    return true;
}

static const hmp_ext_cmd *find_ext(const char *name)
{
    for (size_t i = 0; hmp_inspect_commands[i].name; i++) {
        if (!strcmp(hmp_inspect_commands[i].name, name)) {
            return &hmp_inspect_commands[i];
        }
    }
    return NULL;
}

/* The command word ends at a blank or, as QEMU's x/4xw, at a '/'. */
static char *split_command(char *copy, char **arg)
{
    size_t n = strcspn(copy, " \t/");
    char *name = g_strndup(copy, n);

    *arg = g_strstrip(copy + n + (copy[n] == ' ' || copy[n] == '\t'));
    return name;
}

bool hmp_execute(const char *line, GString *out)
{
    char *copy = g_strstrip(g_strdup(line));
    char *arg;
    char *name = split_command(copy, &arg);
    const hmp_ext_cmd *ext = NULL;
    bool ok = true;
    size_t i;

    if (*name) {
        for (i = 0; i < G_N_ELEMENTS(commands); i++) {
            if (!strcmp(commands[i].name, name) ||
                (commands[i].alias && !strcmp(commands[i].alias, name))) {
                break;
            }
        }
        if (i == G_N_ELEMENTS(commands) && !(ext = find_ext(name))) {
            g_string_append_printf(out, "unknown command: '%s'\n", name);
            ok = false;
        } else {
            core_lock();
            ok = ext ? ext->fn(arg, out) : commands[i].fn(arg, out);
            core_unlock();
        }
    }
    g_free(name);
    g_free(copy);
    return ok;
}

/* ---- stdio ---- */

static void prompt(void)
{
    fputs(PROMPT, stdout);
    fflush(stdout);
}

static gboolean stdin_ready(GIOChannel *ch, GIOCondition cond, gpointer opaque)
{
    char *line = NULL;
    GIOStatus st;

    while ((st = g_io_channel_read_line(ch, &line, NULL, NULL, NULL)) == G_IO_STATUS_NORMAL) {
        GString *out = g_string_new(NULL);

        hmp_execute(line, out);
        fputs(out->str, stdout);
        g_string_free(out, TRUE);
        g_free(line);
        if (core_shutdown_requested(NULL)) {
            break;
        }
        prompt();
    }
    if (st == G_IO_STATUS_EOF || st == G_IO_STATUS_ERROR) {
        /* See the file comment: end of input quits. */
        fputc('\n', stdout);
        fflush(stdout);
        core_request_shutdown(0);
        stdin_watch = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

bool hmp_spec_check(const char *spec, char **errp)
{
    if (strcmp(spec, "stdio") != 0) {
        core_set_error(errp, "-monitor: unsupported monitor '%s' (expected stdio)", spec);
        return false;
    }
    return true;
}

bool hmp_add(const char *spec, char **errp)
{
    if (!hmp_spec_check(spec, errp)) {
        return false;
    }
    if (stdin_chan) {
        core_set_error(errp, "-monitor: stdio is already used by a monitor");
        return false;
    }
    stdin_flags = fcntl(STDIN_FILENO, F_GETFL);
    stdin_chan = g_io_channel_unix_new(STDIN_FILENO);
    g_io_channel_set_flags(stdin_chan, G_IO_FLAG_NONBLOCK, NULL);
    g_io_channel_set_encoding(stdin_chan, NULL, NULL);
    stdin_watch = g_io_add_watch(stdin_chan, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_ready, NULL);
    printf("tessera %s monitor - type 'help' for more information\n", TESSERA_VERSION);
    prompt();
    return true;
}

void hmp_close_all(void)
{
    if (stdin_watch) {
        g_source_remove(stdin_watch);
        stdin_watch = 0;
    }
    if (stdin_chan) {
        g_io_channel_unref(stdin_chan);
        stdin_chan = NULL;
    }
    if (stdin_flags >= 0) {
        fcntl(STDIN_FILENO, F_SETFL, stdin_flags);
        stdin_flags = -1;
    }
}
