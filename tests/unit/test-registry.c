/*
 * Unit tests of the plugin loader, the type registry and the object tree,
 * against the fixture plugins of tests/fixtures (real .so files loaded
 * through dlopen(), with the real host table).
 *
 * The fixture directory comes from TESSERA_FIXTURE_DIR when set, else the
 * build tree this test was compiled for.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "core.h"

static char *fixture_dir;

static char *fixture(const char *name)
{
    return g_strdup_printf("%s/fixture-%s.so", fixture_dir, name);
}

static plugin *load_fixture(const char *name, bool from_cli)
{
    g_autofree char *path = fixture(name);
    char *err = NULL;
    plugin *p = plugin_load(path, from_cli, &err);

    if (!p) {
        g_error("%s", err);
    }
    return p;
}

static char *load_error(const char *name)
{
    g_autofree char *path = fixture(name);
    char *err = NULL;

    g_assert_null(plugin_load(path, false, &err));
    g_assert_nonnull(err);
    return err;
}

static tes_device *new_dev(const char *type)
{
    char *err = NULL;
    tes_device *d = dev_new(type, TES_KIND_DEVICE, &err);

    g_assert_null(err);
    g_assert_nonnull(d);
    return d;
}

typedef struct fixture_dev {
    bool flag;
    uint8_t count;
    uint16_t width;
    uint32_t nodef;
    uint64_t mask;
    uint64_t mem;
    char *label;
    bool fail;
    unsigned resets;
} fixture_dev;

static void expect_prop_error(tes_device *d, const char *name, const char *value,
                              const char *want)
{
    char *err = NULL;

    g_assert_false(dev_set_prop(d, name, value, &err));
    g_assert_cmpstr(err, ==, want);
    g_free(err);
}

static void test_defaults_applied(void)
{
    tes_device *d = new_dev("fixture-dev");
    fixture_dev *s = d->s;

    g_assert_true(s->flag);
    g_assert_cmpuint(s->count, ==, 4);
    g_assert_cmpuint(s->width, ==, 0x10);
    g_assert_cmpuint(s->nodef, ==, 0);
    g_assert_cmphex(s->mask, ==, 0xfffffff);
    g_assert_cmpuint(s->mem, ==, 1 << 20);
    g_assert_cmpstr(s->label, ==, "hello");
    dev_free(d);
}

static void test_range_errors(void)
{
    tes_device *d = new_dev("fixture-dev");
    fixture_dev *s = d->s;
    char *err = NULL;

    expect_prop_error(d, "count", "0", "device 'fixture-dev': property 'count' wants 1..64, got 0");
    expect_prop_error(d, "count", "65", "device 'fixture-dev': property 'count' wants 1..64, got 65");
    expect_prop_error(d, "width", "65536",
                      "device 'fixture-dev': property 'width' wants 0..65535, got 65536");
    expect_prop_error(d, "count", "-1",
                      "device 'fixture-dev': property 'count' wants a number 1..64, got '-1'");
    expect_prop_error(d, "nodef", "12abc",
                      "device 'fixture-dev': property 'nodef' wants a number 0..4294967295, "
                      "got '12abc'");
    g_assert_true(dev_set_prop(d, "count", "64", &err));
    g_assert_cmpuint(s->count, ==, 64);
    g_assert_true(dev_set_prop(d, "count", "0x20", &err));
    g_assert_cmpuint(s->count, ==, 32);
    g_assert_true(dev_set_prop(d, "mask", "0xffffffffffffffff", &err));
    g_assert_cmphex(s->mask, ==, UINT64_MAX);
    g_assert_null(err);
    dev_free(d);
}

/* QEMU reads integer properties with qemu_strtou64(base 0): 010 is 8. */
static void test_octal_integers(void)
{
    tes_device *d = new_dev("fixture-dev");
    fixture_dev *s = d->s;
    char *err = NULL;

    g_assert_true(dev_set_prop(d, "count", "010", &err));
    g_assert_cmpuint(s->count, ==, 8);
    g_assert_true(dev_set_prop(d, "width", "0", &err));
    g_assert_cmpuint(s->width, ==, 0);
    g_assert_true(dev_set_prop(d, "mask", "0777", &err));
    g_assert_cmphex(s->mask, ==, 0x1ff);
    g_assert_true(dev_set_prop(d, "count", "0X1f", &err));
    g_assert_cmpuint(s->count, ==, 31);
    g_assert_true(dev_set_prop(d, "count", "10", &err));
    g_assert_cmpuint(s->count, ==, 10);
    /* Sizes read as qemu_strtosz does: decimal, 0x hex, suffixes. */
    g_assert_true(dev_set_prop(d, "mem", "010", &err));
    g_assert_cmpuint(s->mem, ==, 10);
    g_assert_null(err);
    expect_prop_error(d, "count", "08",
                      "device 'fixture-dev': property 'count' wants a number 1..64, got '08'");
    expect_prop_error(d, "count", "0101", /* 65 */
                      "device 'fixture-dev': property 'count' wants 1..64, got 0101");
    dev_free(d);
}

/* -device T,help: every property, with its range where the table declares
 * one, and its default. */
static void test_help_shows_ranges(void)
{
    char *err = NULL;
    const type_entry *te = type_lookup("fixture-dev", TES_KIND_DEVICE, &err);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    g_assert_nonnull(te);
    type_print_props(te, out);
    fclose(out);
    g_assert_nonnull(strstr(text, "\n  count=<uint8>            - queues (1..64, default: 4)\n"));
    g_assert_nonnull(strstr(text, "\n  nodef=<uint32>           - no default\n"));
    g_assert_nonnull(strstr(text, "\n  mask=<uint64>            - DMA mask (default: 0xfffffff)\n"));
    free(text);
}

/* A help item anywhere asks for help (QEMU: -device edu,dma_mask=1,help). */
static void test_help_anywhere(void)
{
    g_assert_true(opts_want_help("help"));
    g_assert_true(opts_want_help("count=1,help"));
    g_assert_true(opts_want_help("help,count=1"));
    g_assert_true(opts_want_help("count=1,?"));
    g_assert_false(opts_want_help("label=help"));
    g_assert_false(opts_want_help("label=a,,help"));
    g_assert_false(opts_want_help(""));
    g_assert_false(opts_want_help(NULL));
}

static void test_bool_words(void)
{
    static const char *const words[] = {"on", "off", "yes", "no", "true", "false", "1", "0"};
    tes_device *d = new_dev("fixture-dev");
    fixture_dev *s = d->s;
    char *err = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
        g_assert_true(dev_set_prop(d, "flag", words[i], &err));
        g_assert_cmpint(s->flag, ==, i % 2 == 0);
    }
    g_assert_null(err);
    expect_prop_error(d, "flag", "maybe",
                      "device 'fixture-dev': property 'flag' wants on|off, got 'maybe'");
    dev_free(d);
}

static void test_size_suffixes(void)
{
    tes_device *d = new_dev("fixture-dev");
    fixture_dev *s = d->s;
    char *err = NULL;

    g_assert_true(dev_set_prop(d, "mem", "4K", &err));
    g_assert_cmpuint(s->mem, ==, 4096);
    g_assert_true(dev_set_prop(d, "mem", "2G", &err));
    g_assert_cmpuint(s->mem, ==, 2ull << 30);
    g_assert_true(dev_set_prop(d, "mem", "1t", &err));
    g_assert_cmpuint(s->mem, ==, 1ull << 40);
    g_assert_true(dev_set_prop(d, "mem", "12", &err));
    g_assert_cmpuint(s->mem, ==, 12);
    g_assert_null(err);
    g_assert_false(dev_set_prop(d, "mem", "3X", &err));
    g_assert_nonnull(strstr(err, "property 'mem' wants a number"));
    g_clear_pointer(&err, g_free);
    /* 2^64 bytes does not fit: refused, not wrapped to 0. */
    g_assert_false(dev_set_prop(d, "mem", "16777216T", &err));
    g_clear_pointer(&err, g_free);
    /* Plain numeric kinds take no suffix. */
    g_assert_false(dev_set_prop(d, "mask", "4K", &err));
    g_free(err);
    dev_free(d);
}

static void test_unknown_property(void)
{
    tes_device *d = new_dev("fixture-dev");

    expect_prop_error(d, "foo", "1",
                      "device 'fixture-dev': no property 'foo' (try -device fixture-dev,help)");
    dev_free(d);
}

static void test_opts_comma_escape(void)
{
    tes_device *d = new_dev("fixture-dev");
    fixture_dev *s = d->s;
    char *err = NULL;

    g_assert_true(dev_set_opts(d, "label=a,,b,count=8", &err));
    g_assert_null(err);
    g_assert_cmpstr(s->label, ==, "a,b");
    g_assert_cmpuint(s->count, ==, 8);
    g_assert_false(dev_set_opts(d, "count", &err));
    g_assert_nonnull(strstr(err, "option 'count' wants KEY=VALUE"));
    g_free(err);
    dev_free(d);
}

static void test_id_rules(void)
{
    tes_device *a = new_dev("fixture-dev");
    tes_device *b = new_dev("fixture-dev");
    char *err = NULL;

    g_assert_true(dev_set_opts(a, "id=x0", &err));
    g_assert_true(dev_realize(a, NULL, &err));
    g_assert_null(err);
    g_assert_true(dev_find("x0") == a);
    g_assert_false(dev_set_opts(b, "id=x0", &err));
    g_assert_cmpstr(err, ==, "Duplicate ID 'x0' for device");
    g_clear_pointer(&err, g_free);
    g_assert_false(dev_set_opts(b, "id=0bad", &err));
    g_assert_nonnull(strstr(err, "device id '0bad' is invalid"));
    g_free(err);
    dev_free(b);
    dev_free(a);
    g_assert_null(dev_find("x0"));
}

static void test_lookup_duplicates(void)
{
    GPtrArray *l = plugins_list();
    char *err = NULL;

    /* Neither provider from -plugin: ambiguous, both named. */
    for (guint i = 0; i < l->len; i++) {
        ((plugin *)g_ptr_array_index(l, i))->from_cli = false;
    }
    g_assert_null(type_lookup("dup-dev", TES_KIND_DEVICE, &err));
    g_assert_nonnull(strstr(err, "device 'dup-dev' is provided by several plugins: "));
    g_assert_nonnull(strstr(err, "dup-a ("));
    g_assert_nonnull(strstr(err, "fixture-dup-a.so)"));
    g_assert_nonnull(strstr(err, "dup-b ("));
    g_assert_nonnull(strstr(err, "fixture-dup-b.so)"));
    g_assert_nonnull(strstr(err, "choose one with -device PLUGIN:dup-dev or -plugin FILE"));
    g_free(err);
}

static void test_lookup_plugin_prefix(void)
{
    const type_entry *te;
    char *err = NULL;

    te = type_lookup("dup-b:dup-dev", TES_KIND_DEVICE, &err);
    g_assert_nonnull(te);
    g_assert_cmpstr(te->plugin->desc->name, ==, "dup-b");
    te = type_lookup("dup-a:dup-dev", TES_KIND_DEVICE, &err);
    g_assert_cmpstr(te->plugin->desc->name, ==, "dup-a");
    g_assert_null(err);
    g_assert_null(type_lookup("nope:dup-dev", TES_KIND_DEVICE, &err));
    g_assert_cmpstr(err, ==, "no plugin 'nope' provides device 'dup-dev'");
    g_clear_pointer(&err, g_free);
    g_assert_null(type_lookup("zzz", TES_KIND_DEVICE, &err));
    g_assert_cmpstr(err, ==, "unknown device 'zzz' (try -device help)");
    g_clear_pointer(&err, g_free);
    g_assert_null(type_lookup("zzz", TES_KIND_MACHINE, &err));
    g_assert_cmpstr(err, ==, "unknown machine 'zzz' (try -M help)");
    g_clear_pointer(&err, g_free);
    g_assert_null(type_lookup("fixture-dev", TES_KIND_CPU, &err));
    g_assert_cmpstr(err, ==, "unknown CPU model 'fixture-dev' (try -cpu help)");
    g_free(err);
}

static void test_lookup_from_cli_wins(void)
{
    GPtrArray *l = plugins_list();
    plugin *b = NULL;
    const type_entry *te;
    char *err = NULL;

    for (guint i = 0; i < l->len; i++) {
        plugin *p = g_ptr_array_index(l, i);
        p->from_cli = false;
        if (strcmp(p->desc->name, "dup-b") == 0) {
            b = p;
        }
    }
    g_assert_nonnull(b);
    b->from_cli = true;
    te = type_lookup("dup-dev", TES_KIND_DEVICE, &err);
    g_assert_null(err);
    g_assert_nonnull(te);
    g_assert_true(te->plugin == b);
    b->from_cli = false;
}

static void test_refusals(void)
{
    g_autofree char *major = load_error("major2");
    g_autofree char *minor = load_error("new-minor");
    g_autofree char *nodesc = load_error("nodesc");
    g_autofree char *initfail = load_error("initfail");
    g_autofree char *missing = load_error("does-not-exist");

    /* The version this tessera provides comes from the header, so that a
     * minor bump does not need this test edited. */
    g_autofree char *ours = g_strdup_printf("ABI %d.%d", TES_ABI_MAJOR, TES_ABI_MINOR);
    g_autofree char *want_major = g_strdup_printf(
        "fixture-major2.so' (fixture-major2) is built for SDK ABI 2.0, "
        "this tessera provides %s (major differs)", ours);
    g_autofree char *want_minor = g_strdup_printf(
        "fixture-new-minor.so' (fixture-new-minor) is built for SDK "
        "ABI 1.99, newer than this tessera's %s", ours);

    g_assert_nonnull(strstr(major, want_major));
    g_assert_nonnull(strstr(minor, want_minor));
    g_assert_nonnull(strstr(nodesc, "fixture-nodesc.so': no tessera_plugin_v1 descriptor"));
    g_assert_nonnull(strstr(initfail, "(fixture-initfail): init failed: No such device"));
    g_assert_nonnull(strstr(missing, "fixture-does-not-exist.so': cannot load: "));
}

/* A second file with a loaded plugin's name: -plugin refuses it, a default
 * place skips it without init, the very same file is a no-op. */
static void test_same_name(void)
{
    g_autofree char *dir = g_dir_make_tmp("tes-reg-XXXXXX", NULL);
    g_autofree char *src = fixture("dup-a");
    g_autofree char *copy = g_build_filename(dir, "copy-of-dup-a.so", NULL);
    g_autofree char *data = NULL;
    gsize len;
    guint before = plugins_list()->len;
    char *err = NULL;

    g_assert_true(g_file_get_contents(src, &data, &len, NULL));
    g_assert_true(g_file_set_contents(copy, data, len, NULL));
    g_assert_null(plugin_load(copy, true, &err));
    g_assert_nonnull(strstr(err, "a plugin named 'dup-a' is already loaded"));
    g_clear_pointer(&err, g_free);
    g_assert_nonnull(plugin_load(src, false, &err));
    g_setenv("TESSERA_PLUGIN_PATH", dir, true);
    g_assert_true(plugins_load_all(NULL, &err));
    g_unsetenv("TESSERA_PLUGIN_PATH");
    g_assert_null(err);
    g_assert_cmpuint(plugins_list()->len, ==, before);
    g_unlink(copy);
    g_rmdir(dir);
}

static void test_qtree_lists_props(void)
{
    g_autoptr(GString) out = g_string_new(NULL);
    tes_device *d = new_dev("fixture-dev");
    char *err = NULL;

    g_assert_true(dev_set_opts(d, "id=q0,count=9,label=x y", &err));
    g_assert_true(dev_realize(d, NULL, &err));
    g_assert_null(err);
    devices_reset_all();
    qtree_print(out);
    g_assert_nonnull(strstr(out->str, "bus: main-system-bus\n  type System\n"));
    g_assert_nonnull(strstr(out->str, "  dev: fixture-dev, id \"q0\"\n"));
    g_assert_nonnull(strstr(out->str, "\n    count = 9\n"));
    g_assert_nonnull(strstr(out->str, "\n    flag = on\n"));
    g_assert_nonnull(strstr(out->str, "\n    mem = 1048576\n"));
    g_assert_nonnull(strstr(out->str, "\n    label = \"x y\"\n"));
    /* describe() lines, after the reset counted by the type's reset. */
    g_assert_nonnull(strstr(out->str, "\n    fixture resets = 1\n"));
    dev_free(d);
}

static void test_realize_error_from_host(void)
{
    tes_device *d = new_dev("fixture-dev");
    char *err = NULL;

    g_assert_true(dev_set_opts(d, "fail=on", &err));
    g_assert_false(dev_realize(d, NULL, &err));
    g_assert_cmpstr(err, ==, "device 'fixture-dev': asked to fail (fail=on)");
    g_assert_cmpuint(sysbus_root()->children->len, ==, 0);
    g_free(err);
    dev_free(d);
}

static void test_bus_choice(void)
{
    tes_device *parent = new_dev("fixture-dev");
    tes_device *d = new_dev("fixture-dev");
    char *err = NULL;

    g_assert_true(dev_realize(parent, NULL, &err));
    /* Unnamed devices get "type.N", N never reused. */
    g_assert_true(g_str_has_prefix(parent->name, "fixture-dev."));
    tes_bus *b = bus_create(parent, "Widget", "widget.0", NULL);
    g_assert_true(bus_find("widget.0") == b);
    g_assert_true(bus_find_kind("Widget") == b);
    g_assert_false(dev_set_opts(d, "bus=nope", &err) && dev_realize(d, NULL, &err));
    g_assert_cmpstr(err, ==, "device 'fixture-dev': bus 'nope' not found");
    g_clear_pointer(&err, g_free);
    g_assert_false(dev_set_opts(d, "bus=widget.0", &err) && dev_realize(d, NULL, &err));
    g_assert_cmpstr(err, ==, "device 'fixture-dev' plugs into a System bus, bus 'widget.0' is Widget");
    g_clear_pointer(&err, g_free);
    g_assert_false(dev_set_opts(d, "bus=main-system-bus,addr=3", &err) &&
                   dev_realize(d, NULL, &err));
    g_assert_cmpstr(err, ==, "device 'fixture-dev': addr= applies to PCI devices only");
    g_free(err);
    dev_free(d);
    registry_reset();
    g_assert_null(bus_find("widget.0"));
    g_assert_cmpuint(sysbus_root()->children->len, ==, 0);
}

static void test_create_cli(void)
{
    bool help = true;
    char *err = NULL;
    tes_device *d = dev_create_cli("dup-a:dup-dev,id=c1,count=7", &help, &err);

    g_assert_null(err);
    g_assert_false(help);
    g_assert_nonnull(d);
    g_assert_cmpstr(d->te->plugin->desc->name, ==, "dup-a");
    g_assert_true(dev_find("c1") == d);
    g_assert_null(dev_create_cli("fixture-dev,count=0", &help, &err));
    g_assert_cmpstr(err, ==, "device 'fixture-dev': property 'count' wants 1..64, got 0");
    g_assert_false(help);
    g_free(err);
    registry_reset();
    g_assert_null(dev_find("c1"));
}

typedef struct fixture_machine {
    uint64_t ram;
    unsigned smp;
    unsigned powerdowns;
    bool fail;
} fixture_machine;

static void machine_cfg_set(uint64_t ram, unsigned smp, const char *cpu)
{
    memset(&machine_cfg, 0, sizeof(machine_cfg));
    machine_cfg.size = sizeof(machine_cfg);
    machine_cfg.ram_size = ram;
    machine_cfg.smp = smp;
    machine_cfg.cpu_model = cpu;
}

static void expect_machine_error(const char *opt, const char *want)
{
    char *err = NULL;

    g_assert_false(machine_create(opt, &err));
    g_assert_cmpstr(err, ==, want);
    g_assert_null(machine_current());
    g_free(err);
}

static void test_machine_checks(void)
{
    machine_cfg_set(0, 3, NULL);
    expect_machine_error("fixture-machine",
                         "machine 'fixture-machine' supports at most 2 CPUs, got 3");
    machine_cfg_set(0, 1, "nope");
    expect_machine_error("fixture-machine", "unknown CPU model 'nope' (try -cpu help)");
    machine_cfg_set(0, 1, NULL);
    expect_machine_error("fixture-machine,fail=on",
                         "machine 'fixture-machine': board asked to fail");
    expect_machine_error("nope", "unknown machine 'nope' (try -M help)");
    expect_machine_error("fixture-machine,bogus=1",
                         "machine 'fixture-machine': no property 'bogus' (try -M "
                         "fixture-machine,help)");
}

static void test_machine_create(void)
{
    tes_device *m, *d;
    fixture_machine *s;
    char *err = NULL;

    machine_cfg_set(0, 2, NULL);
    g_assert_true(machine_create("fixture-machine", &err));
    g_assert_null(err);
    m = machine_current();
    g_assert_nonnull(m);
    g_assert_true(g_ptr_array_index(sysbus_root()->children, 0) == m);
    s = m->s;
    /* -m not given: the machine's default RAM reaches init. */
    g_assert_cmpuint(s->ram, ==, 64 << 20);
    g_assert_cmpuint(s->smp, ==, 2);
    g_assert_false(machine_create("fixture-machine", &err));
    g_assert_nonnull(strstr(err, "a machine exists already"));
    g_free(err);
    machine_powerdown();
    g_assert_cmpuint(s->powerdowns, ==, 1);
    d = new_dev("fixture-dev");
    g_assert_true(dev_realize(d, NULL, NULL));
    machine_reset();
    g_assert_cmpuint(((fixture_dev *)d->s)->resets, ==, 1);
    registry_reset();
    g_assert_null(machine_current());
}

int main(int argc, char **argv)
{
    const char *env = g_getenv("TESSERA_FIXTURE_DIR");

    g_test_init(&argc, &argv, NULL);
    fixture_dir = g_strdup(env ? env : TESSERA_BUILD_ROOT "/tests/fixtures");
    plugins_set_default_dirs(NULL, NULL);
    load_fixture("old-minor", false);
    load_fixture("dup-a", false);
    load_fixture("dup-b", false);

    g_test_add_func("/registry/loader/refuses-bad-plugins-naming-file-and-versions", test_refusals);
    g_test_add_func("/registry/loader/same-name-refused-from-cli-skipped-from-path", test_same_name);
    g_test_add_func("/registry/props/defaults-applied-at-creation", test_defaults_applied);
    g_test_add_func("/registry/props/numbers-checked-against-range", test_range_errors);
    g_test_add_func("/registry/props/bool-accepts-on-off-words", test_bool_words);
    g_test_add_func("/registry/props/leading-zero-integer-is-octal", test_octal_integers);
    g_test_add_func("/registry/props/help-shows-declared-ranges", test_help_shows_ranges);
    g_test_add_func("/registry/opts/help-item-anywhere-asks-for-help", test_help_anywhere);
    g_test_add_func("/registry/props/size-takes-binary-suffixes", test_size_suffixes);
    g_test_add_func("/registry/props/unknown-property-points-to-help", test_unknown_property);
    g_test_add_func("/registry/opts/double-comma-escapes", test_opts_comma_escape);
    g_test_add_func("/registry/opts/id-unique-and-valid", test_id_rules);
    g_test_add_func("/registry/lookup/duplicate-providers-listed", test_lookup_duplicates);
    g_test_add_func("/registry/lookup/plugin-prefix-selects-provider", test_lookup_plugin_prefix);
    g_test_add_func("/registry/lookup/from-cli-provider-wins", test_lookup_from_cli_wins);
    g_test_add_func("/registry/tree/qtree-lists-device-properties", test_qtree_lists_props);
    g_test_add_func("/registry/tree/realize-error-from-host-error", test_realize_error_from_host);
    g_test_add_func("/registry/tree/bus-chosen-by-name-and-kind", test_bus_choice);
    g_test_add_func("/registry/tree/device-option-creates-and-realizes", test_create_cli);
    g_test_add_func("/registry/machine/cpu-count-model-and-init-checked", test_machine_checks);
    g_test_add_func("/registry/machine/created-first-with-default-ram", test_machine_create);
    return g_test_run();
}
