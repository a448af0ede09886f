/*
 * tessera core: the human monitor (HMP).
 *
 *   tessera -M virt ... -monitor stdio
 *   (tessera) info qtree
 *
 * Commands follow QEMU's names: info status|qtree|mtree|pci|plugins|version|
 * migrate|registers|cpus|network|block|blockstats, stop, cont, q/quit,
 * system_reset, system_powerdown, system_wakeup, help. QMP's human-monitor-command runs
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
#include "numa.h"
#include "monitor.h"

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
    {"mtree", mtree_print, "show the memory tree"},
    {"pci", pci_info_print, "show PCI info"},
    {"network", net_info_print, "show the network state"},
    {"plugins", info_plugins, "show the loaded plugins"},
    {"version", info_version, "show the version"},
    {"migrate", info_migrate, "show migration status"},
    {"registers", info_registers, "show the CPU registers"},
    {"cpus", info_cpus, "show the vCPUs: pc, state, instructions executed"},
    {"numa", numa_info_print, "show the NUMA nodes: their CPUs and memory"},
    {"block", block_info_print, "show the block devices"},
    {"blockstats", block_info_stats_print, "show block device statistics"},
};

static bool cmd_info(const char *arg, GString *out)
{
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
    {"quit", "q", cmd_quit, "quit|q -- quit the emulator"},
    {"migrate_cancel", NULL, cmd_migrate_cancel, "migrate_cancel -- cancel the current VM migration"},
    {"system_reset", NULL, cmd_reset, "system_reset -- reset the system"},
    {"system_powerdown", NULL, cmd_powerdown, "system_powerdown -- send system power down event"},
    {"system_wakeup", NULL, cmd_wakeup, "system_wakeup -- wakeup guest from suspend"},
    {"eject", NULL, cmd_eject, "eject [-f] device -- eject a removable medium (use -f to force it)"},
    {"change", NULL, cmd_change, "change device filename [format [read-only-mode]] -- change a removable medium"},
    {"set_link", NULL, cmd_set_link, "set_link name on|off -- change the link status of a network adapter"},
    {"object_add", NULL, cmd_object_add, "object_add [qom-type=]type,id=str[,prop=value][,...] -- create QOM object"},
    {"object_del", NULL, cmd_object_del, "object_del id -- destroy QOM object"},
    {"help", "?", cmd_help, "help|? [cmd] -- show the help"},
};

static bool cmd_help(const char *arg, GString *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        g_string_append_printf(out, "%s\n", commands[i].help);
    }
    return true;
}

bool hmp_execute(const char *line, GString *out)
{
    char *copy = g_strstrip(g_strdup(line));
    char *arg = copy + strcspn(copy, " \t");
    bool ok = true;
    size_t i;

    if (*arg) {
        *arg++ = '\0';
        arg = g_strstrip(arg);
    }
    if (*copy) {
        for (i = 0; i < G_N_ELEMENTS(commands); i++) {
            if (!strcmp(commands[i].name, copy) ||
                (commands[i].alias && !strcmp(commands[i].alias, copy))) {
                break;
            }
        }
        if (i < G_N_ELEMENTS(commands)) {
            core_lock();
            ok = commands[i].fn(arg, out);
            core_unlock();
        } else {
            g_string_append_printf(out, "unknown command: '%s'\n", copy);
            ok = false;
        }
    }
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
