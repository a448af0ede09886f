/*
 * fuzz-cli: the command line and the property parsers, without a machine.
 *
 * Input: the arguments after argv[0], separated by NUL bytes
 * ("-M\0virt,gic-version=2\0-device\0nvme,serial=x"). The target runs
 * cli_parse() (core/cli.c, compiled in as tests/unit/test-cli.c does), then
 * every parse main() would go on to make, on fresh unrealized instances so
 * that nothing is created, opened or started:
 *
 *   -M TYPE,props     the machine type's property table (dev_new +
 *                     dev_set_opts of kind machine), never initialized
 *   -device T,props   the device's property table, id=, bus=, addr=, and a
 *                     platform device's addr=/irq= (board.c), never realized
 *   -cpu MODEL        the type look-up
 *   -blockdev opts    parsed (dotted keys or JSON) and checked
 *                     (blockdev_check), never opened
 *   -drive opts       parsed and checked (drive_cli_check), never opened:
 *                     a fuzzer must not open file=/dev/sda read-write
 *   -d ITEMS          the log mask parser (then reset)
 *   -object, -smp, -numa   memory backends parsed (memdev_add: nothing
 *                     mapped or opened), the topology, each -numa, then
 *                     the completion against 64 MiB (then reset)
 *   -serial, -qmp, -monitor   their spec checks (serial_spec_check,
 *                     qmp_spec_check, hmp_spec_check): no file created, no
 *                     socket bound, stdin left alone
 *   -netdev, -nic, -net   net_cli_backends and net_cli_create_nics under
 *                     net_dry_run (net-int.h): the option parser, ids,
 *                     vlans and NIC pairing, user networking made
 *                     in-process without forwarding rules, tap/socket/
 *                     stream never opened, no NIC created; the netdevs
 *                     live while -device parses (netdev= claims them),
 *                     then go
 *
 * Invariants: no crash, no sanitizer report, no leak, bounded time; a
 * parser never exits the process (errors come back as one message).
 * Help requests ("help", "?") are skipped: they only print.
 */
#include <stdlib.h>
#include <unistd.h>

#include "blockdev.h"
#include "cli.c"
#include "core.h"
#include "net-int.h"
#include "numa.h"
#include "tracing.h"

#define MAX_ARGS 256

/* Drives d0, d1 (a scratch image) and serials 0, 1 (null), so that drive=
 * and chardev= properties reach their claim and look-up paths. */
static void add_backends(void)
{
    char *img = NULL;
    char *err = NULL;
    int fd = g_file_open_tmp("fuzz-cli-XXXXXX.img", &img, NULL);

    if (fd < 0 || ftruncate(fd, 1 << 20) < 0) {
        fprintf(stderr, "fuzz-cli: cannot create a scratch image\n");
        exit(1);
    }
    close(fd);
    for (int i = 0; i < 2; i++) {
        char *opt = g_strdup_printf("file=%s,if=none,id=d%d", img, i);
        if (!drive_add(opt, &err) || !serial_add("null", &err)) {
            fprintf(stderr, "fuzz-cli: %s\n", err);
            exit(1);
        }
        g_free(opt);
    }
    unlink(img); /* the drives keep it open */
    g_free(img);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *err = NULL;

    /* Every plugin of the build tree: their types' property tables are what
     * -device and -M parse. Loaded once; inputs never change them. */
    plugins_set_default_dirs(FUZZ_BUILD_PLUGINDIR, NULL);
    if (!plugins_load_all(NULL, &err)) {
        fprintf(stderr, "fuzz-cli: cannot load the plugins: %s\n", err);
        exit(1);
    }
    add_backends();
    net_dry_run = true;
    return 0;
}

static bool wants_help(const char *opt)
{
    const char *comma = strchr(opt, ',');
    size_t len = comma ? (size_t)(comma - opt) : strlen(opt);

    return (len == 4 && strncmp(opt, "help", 4) == 0) || (len == 1 && opt[0] == '?') ||
           (comma && opts_want_help(comma + 1));
}

/* TYPE,props on a fresh instance of kind, as -M and -device parse them. */
static void parse_instance(const char *optarg, tes_type_kind kind)
{
    const char *comma = strchr(optarg, ',');
    char *type = comma ? g_strndup(optarg, comma - optarg) : g_strdup(optarg);
    char *err = NULL;
    tes_device *d;

    if (!wants_help(optarg) && type[0]) {
        d = dev_new(type, kind, &err);
        if (d) {
            dev_set_opts(d, comma ? comma + 1 : NULL, &err);
            dev_free(d);
        }
    }
    if (err && getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "fuzz-cli: %s\n", err);
    }
    g_free(err);
    g_free(type);
}

/* Each spec of list through check (help requests skipped). */
static void check_specs(GPtrArray *list, bool (*check)(const char *, char **))
{
    char *err = NULL;

    for (guint i = 0; i < list->len; i++) {
        const char *spec = g_ptr_array_index(list, i);

        if (!wants_help(spec)) {
            check(spec, &err);
            g_clear_pointer(&err, g_free);
        }
    }
}

static bool net_has_help(cli_opts *o)
{
    GPtrArray *lists[] = {o->netdevs, o->nics, o->nets};

    for (size_t l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            if (wants_help(g_ptr_array_index(lists[l], i))) {
                return true;
            }
        }
    }
    return false;
}

/* -netdev/-nic/-net under net_dry_run; the netdevs stay for -device. */
static void parse_net(cli_opts *o)
{
    char *err = NULL;

    if (!net_has_help(o) && net_cli_backends(o->netdevs, o->nics, o->nets, &err)) {
        net_cli_create_nics(&err);
    }
    if (err && getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "fuzz-cli: %s\n", err);
    }
    g_free(err);
}

/* -object backends (parsed only: mapping happens with a machine), the
 * -smp topology and -numa with its completion, then all forgotten. */
static void parse_numa(cli_opts *o)
{
    char *err = NULL;
    bool ok = true;

    for (guint i = 0; i < o->objects->len; i++) {
        memdev_add(g_ptr_array_index(o->objects, i), &err);
        g_clear_pointer(&err, g_free);
    }
    topology_set(&o->smp_topo);
    for (guint i = 0; ok && i < o->numas->len; i++) {
        ok = numa_parse(g_ptr_array_index(o->numas, i), &err);
        g_clear_pointer(&err, g_free);
    }
    if (ok) {
        numa_complete(64 << 20, "x86_64", 1, &err);
        g_clear_pointer(&err, g_free);
        machine_topology();
    }
    numa_reset();
    memdevs_reset();
}

static void parse_rest(cli_opts *o)
{
    char *err = NULL;

    check_specs(o->serials, serial_spec_check);
    check_specs(o->monitors, hmp_spec_check);
    check_specs(o->qmps, qmp_spec_check);
    parse_net(o);
    parse_numa(o);
    if (o->machine) {
        parse_instance(o->machine, TES_KIND_MACHINE);
    }
    if (o->cpu && !wants_help(o->cpu)) {
        type_lookup(o->cpu, TES_KIND_CPU, &err);
        g_clear_pointer(&err, g_free);
    }
    for (guint i = 0; i < o->devices->len; i++) {
        parse_instance(g_ptr_array_index(o->devices, i), TES_KIND_DEVICE);
    }
    for (guint i = 0; i < o->drives->len; i++) {
        drive_cli_check(g_ptr_array_index(o->drives, i), &err);
        g_clear_pointer(&err, g_free);
    }
    for (guint i = 0; i < o->blockdevs->len; i++) {
        blockdev_check(g_ptr_array_index(o->blockdevs, i), &err);
        g_clear_pointer(&err, g_free);
    }
    if (o->log_mask && strcmp(o->log_mask, "help") != 0) {
        log_set_mask(o->log_mask, &err);
        g_clear_pointer(&err, g_free);
        log_set_mask("", NULL);
        trace_clear_patterns(); /* -d trace:PATTERN items */
    }
    netdevs_close_all();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = g_malloc(size + 1);
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    char *err = NULL;
    cli_opts o;

    memcpy(buf, data, size);
    buf[size] = '\0';
    argv[argc++] = "tessera";
    for (size_t at = 0; at < size && argc < MAX_ARGS; at += strlen(buf + at) + 1) {
        argv[argc++] = buf + at;
    }
    argv[argc] = NULL;
    if (cli_parse(argc, argv, &o, &err)) {
        parse_rest(&o);
    } else if (getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "fuzz-cli: %s\n", err);
    }
    g_free(err);
    cli_opts_free(&o);
    g_free(buf);
    return 0;
}
