/*
 * Unit tests of the tessera command-line parser (core/cli.c).
 *
 * cli.c belongs to the executable, not the core library, so it is compiled
 * into this test directly.
 */
#include "cli.c"

static bool parse(cli_opts *o, char **err, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    va_list ap;
    const char *a;
    bool ok;

    g_ptr_array_add(argv, "tessera");
    va_start(ap, err);
    while ((a = va_arg(ap, const char *))) {
        g_ptr_array_add(argv, (gpointer)a);
    }
    va_end(ap);
    ok = cli_parse(argv->len, (char **)argv->pdata, o, err);
    g_ptr_array_free(argv, TRUE);
    return ok;
}

static void test_m_bare_number_is_mib(void)
{
    uint64_t v = 0;

    g_assert_true(cli_parse_size("512", &v, NULL));
    g_assert_cmpuint(v, ==, 512ull << 20);
    g_assert_true(cli_parse_size("1G", &v, NULL));
    g_assert_cmpuint(v, ==, 1ull << 30);
    g_assert_true(cli_parse_size("64k", &v, NULL));
    g_assert_cmpuint(v, ==, 64ull << 10);
    g_assert_true(cli_parse_size("1.5G", &v, NULL));
    g_assert_cmpuint(v, ==, 3ull << 29);
    g_assert_true(cli_parse_size("size=2GiB", &v, NULL));
    g_assert_cmpuint(v, ==, 2ull << 30);
}

static void test_m_rejects_garbage(void)
{
    uint64_t v = 0;
    char *err = NULL;

    g_assert_false(cli_parse_size("lots", &v, &err));
    g_assert_nonnull(strstr(err, "'lots'"));
    g_free(err);
    g_assert_false(cli_parse_size("12Q", &v, NULL));
    g_assert_false(cli_parse_size("-1", &v, NULL));
    g_assert_false(cli_parse_size("0", &v, NULL));
}

/* strtod reads them; converting NaN to an integer is undefined. */
static void test_m_rejects_nan_and_inf(void)
{
    uint64_t v = 7;
    char *err = NULL;

    g_assert_false(cli_parse_size("nan", &v, &err));
    g_assert_nonnull(strstr(err, "invalid size 'nan'"));
    g_clear_pointer(&err, g_free);
    g_assert_false(cli_parse_size("NaNG", &v, NULL));
    g_assert_false(cli_parse_size("inf", &v, NULL));
    g_assert_false(cli_parse_size("1e400", &v, NULL));
    g_assert_cmpuint(v, ==, 7);
}

static void test_smp_total(void)
{
    unsigned n = 0, max = 0;
    char *err = NULL;

    g_assert_true(cli_parse_smp("4", &n, &max, NULL));
    g_assert_cmpuint(n, ==, 4);
    g_assert_cmpuint(max, ==, 4);
    g_assert_true(cli_parse_smp("cpus=2,maxcpus=8", &n, &max, NULL));
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpuint(max, ==, 8);
    g_assert_true(cli_parse_smp("sockets=2,cores=2,threads=2", &n, NULL, NULL));
    g_assert_cmpuint(n, ==, 8);
    /* QEMU fills the omitted level: cores = 4 / 2 sockets. */
    g_assert_true(cli_parse_smp("4,sockets=2", &n, &max, NULL));
    g_assert_cmpuint(n, ==, 4);
    g_assert_false(cli_parse_smp("4,maxcpus=2", &n, NULL, &err));
    g_assert_nonnull(strstr(err, "maxcpus"));
    g_free(err);
    /* dies= and clusters= count in the product (the machine decides
     * whether it has the level). */
    g_assert_true(cli_parse_smp("4,dies=2", &n, NULL, NULL));
    g_assert_cmpuint(n, ==, 4);
    g_assert_false(cli_parse_smp("4,dies=2,cores=4", &n, NULL, NULL));
    g_assert_false(cli_parse_smp("0", &n, NULL, NULL));
}

/* 4096^3 wrapped to 0 in 32 bits, and the run went on with one CPU. */
static void test_smp_topology_overflow_refused(void)
{
    unsigned n = 0;
    char *err = NULL;

    g_assert_false(cli_parse_smp("sockets=4096,cores=4096,threads=4096", &n, NULL, &err));
    g_assert_cmpstr(err, ==, "-smp: 68719476736 CPUs is more than 4096");
    g_clear_pointer(&err, g_free);
    g_assert_false(cli_parse_smp("sockets=65536,cores=65536", &n, NULL, &err));
    g_assert_nonnull(strstr(err, "wants a number 1..4096"));
    g_clear_pointer(&err, g_free);
}

/* QEMU's rule: sockets * cores * threads must be maxcpus. */
static void test_smp_topology_must_multiply_out(void)
{
    unsigned n = 0;
    char *err = NULL;

    g_assert_false(cli_parse_smp("2,sockets=1,cores=1,threads=1", &n, NULL, &err));
    g_assert_cmpstr(err, ==, "-smp: invalid CPU topology: sockets (1) * cores (1) * threads (1) "
                    "!= maxcpus (2)");
    g_clear_pointer(&err, g_free);
    g_assert_false(cli_parse_smp("5,sockets=2", &n, NULL, &err));
    g_assert_nonnull(strstr(err, "sockets (2) * cores (2) * threads (1) != maxcpus (5)"));
    g_clear_pointer(&err, g_free);
}

static void test_options_recorded_in_order(void)
{
    cli_opts o;
    char *err = NULL;

    g_assert_true(parse(&o, &err, "-M", "virt,gic-version=3", "--cpu", "cortex-a57", "-m",
                        "256", "-device", "edu", "-device", "nvme,id=n0", "-S",
                        "--nographic", "-plugin", "a.so", "-plugin", "b.so", "-append",
                        "console=ttyAMA0 quiet", NULL));
    g_assert_cmpstr(o.machine, ==, "virt,gic-version=3");
    g_assert_cmpstr(o.cpu, ==, "cortex-a57");
    g_assert_cmpuint(o.ram_size, ==, 256ull << 20);
    g_assert_cmpuint(o.devices->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(o.devices, 1), ==, "nvme,id=n0");
    g_assert_cmpstr(g_ptr_array_index(o.plugins, 0), ==, "a.so");
    g_assert_cmpstr(o.append, ==, "console=ttyAMA0 quiet");
    g_assert_true(o.start_paused && o.nographic);
    g_assert_false(o.no_reboot);
    cli_opts_free(&o);
}

static void test_gdb_options(void)
{
    cli_opts o;
    char *err = NULL;

    g_assert_true(parse(&o, &err, "-S", "-s", NULL));
    g_assert_true(o.start_paused && o.gdb_default);
    g_assert_null(o.gdb);
    cli_opts_free(&o);
    g_assert_true(parse(&o, &err, "-gdb", "tcp::1", "--gdb=tcp:127.0.0.1:2", NULL));
    g_assert_cmpstr(o.gdb, ==, "tcp:127.0.0.1:2"); /* the last one wins */
    g_assert_false(o.gdb_default);
    cli_opts_free(&o);
    g_assert_false(parse(&o, &err, "-gdb", NULL));
    g_assert_nonnull(strstr(err, "-gdb"));
    g_free(err);
}

static void test_double_dash_equals_form(void)
{
    cli_opts o;
    char *err = NULL;

    g_assert_true(parse(&o, &err, "--machine=none", "--m=1G", NULL));
    g_assert_cmpstr(o.machine, ==, "none");
    g_assert_cmpuint(o.ram_size, ==, 1ull << 30);
    cli_opts_free(&o);
}

static void test_machine_options_merge(void)
{
    cli_opts o;
    char *err = NULL;

    /* QEMU habit: board with -M, extra properties with -machine. */
    g_assert_true(parse(&o, &err, "-M", "virt", "-machine", "dumpdtb=x.dtb", NULL));
    g_assert_cmpstr(o.machine, ==, "virt,dumpdtb=x.dtb");
    cli_opts_free(&o);
    /* Props first, type later; type= form; a later type wins. */
    g_assert_true(parse(&o, &err, "-machine", "highmem=off", "-M", "none",
                        "-machine", "type=virt,gic-version=2", NULL));
    g_assert_cmpstr(o.machine, ==, "virt,highmem=off,gic-version=2");
    cli_opts_free(&o);
}

static void test_unknown_option_message(void)
{
    cli_opts o;
    char *err = NULL;

    g_assert_false(parse(&o, &err, "-M", "none", "-foo", NULL));
    g_assert_cmpstr(err, ==, "unknown option '-foo'");
    g_free(err);
    cli_opts_free(&o);
}

static void test_missing_argument(void)
{
    cli_opts o;
    char *err = NULL;

    g_assert_false(parse(&o, &err, "-kernel", NULL));
    g_assert_cmpstr(err, ==, "option '-kernel' requires an argument");
    g_free(err);
    cli_opts_free(&o);
}

static void test_accel_tcg_options(void)
{
    cli_opts o;
    char *err = NULL;

    g_assert_true(parse(&o, &err, "-M", "none", NULL));
    g_assert_cmpint(o.accel_jit, ==, -1); /* not given: the CPU's default */
    g_assert_cmpuint(o.tb_size, ==, 0);
    cli_opts_free(&o);
    g_assert_true(parse(&o, &err, "-accel", "tcg,jit=off,tb-size=32", NULL));
    g_assert_cmpint(o.accel_jit, ==, 0);
    g_assert_cmpuint(o.tb_size, ==, 32);
    cli_opts_free(&o);
    g_assert_true(parse(&o, &err, "-accel", "tcg,jit=on", "-M", "virt,accel=tcg,gic-version=2",
                        NULL));
    g_assert_cmpint(o.accel_jit, ==, 1);
    g_assert_cmpstr(o.machine, ==, "virt,gic-version=2"); /* accel= is not a machine prop */
    cli_opts_free(&o);
    g_assert_false(parse(&o, &err, "-accel", "tcg,jit=maybe", NULL));
    g_assert_cmpstr(err, ==, "-accel: bad item 'jit=maybe' (expected jit=on|off, "
                    "tb-size=MiB 1..65536)");
    g_clear_pointer(&err, g_free);
    cli_opts_free(&o);
    g_assert_false(parse(&o, &err, "-accel", "xen", NULL));
    g_assert_cmpstr(err, ==, "-accel: unknown accelerator 'xen' (expected tcg)");
    g_clear_pointer(&err, g_free);
    cli_opts_free(&o);
}

/* Without /dev/kvm: QEMU's two lines joined; with it: not in this build. */
static void test_kvm_messages(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-cli-XXXXXX", NULL);
    g_autofree char *dev = g_build_filename(dir, "kvm", NULL);
    g_autofree char *missing = kvm_unavailable("/nonexistent/kvm");
    g_autofree char *present = NULL;

    g_assert_cmpstr(missing, ==, "Could not access KVM kernel module: No such file or "
                    "directory; failed to initialize kvm: No such file or directory");
    g_assert_true(g_file_set_contents(dev, "", 0, NULL));
    present = kvm_unavailable(dev);
    g_assert_cmpstr(present, ==, "failed to initialize kvm: KVM is not supported in this "
                    "build of tessera (use -accel tcg)");
    unlink(dev);
    rmdir(dir);
}

static void test_kvm_refused_every_spelling(void)
{
    static const char *const forms[][3] = {
        {"-accel", "kvm", NULL},
        {"-enable-kvm", NULL, NULL},
        {"-machine", "virt,accel=kvm", NULL},
        {"-machine", "q35,accel=kvm,kernel_irqchip=split", NULL},
        {"-accel", "kvm,kernel-irqchip=split", NULL},
    };
    g_autofree char *want = kvm_unavailable(KVM_DEVICE);

    for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
        cli_opts o;
        char *err = NULL;

        g_assert_false(parse(&o, &err, forms[i][0], forms[i][1], NULL));
        g_assert_cmpstr(err, ==, want);
        g_assert_nonnull(strstr(err, "failed to initialize kvm"));
        g_free(err);
        cli_opts_free(&o);
    }
}

/* A later tcg is taken, with one warning; machine props lose accel= and
 * kernel_irqchip=. */
static void test_kvm_falls_back_to_tcg(void)
{
    static const char *const forms[][4] = {
        {"-machine", "q35,accel=kvm:tcg,kernel_irqchip=split", NULL, NULL},
        {"-accel", "kvm", "-accel", "tcg"},
        {"-enable-kvm", "-accel", "tcg,jit=off", NULL},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
        cli_opts o;
        char *err = NULL;

        g_assert_true(parse(&o, &err, forms[i][0], forms[i][1], forms[i][2], forms[i][3],
                            NULL));
        g_assert_nonnull(o.accel_warning);
        g_assert_true(g_str_has_suffix(o.accel_warning, "; falling back to tcg"));
        g_assert_nonnull(strstr(o.accel_warning, "kvm"));
        cli_opts_free(&o);
    }
    {
        cli_opts o;
        char *err = NULL;

        g_assert_true(parse(&o, &err, "-M", "q35,accel=tcg,kernel_irqchip=split", NULL));
        g_assert_null(o.accel_warning);
        g_assert_cmpstr(o.machine, ==, "q35");
        cli_opts_free(&o);
        g_assert_false(parse(&o, &err, "-M", "q35,kernel_irqchip=maybe", NULL));
        g_assert_cmpstr(err, ==, "-machine: kernel_irqchip=maybe is invalid (expected on, off "
                        "or split)");
        g_free(err);
        cli_opts_free(&o);
    }
}

/* -hda..-hdd and -cdrom are QEMU's drive_add(IF_DEFAULT, index, FILE). */
static void test_hd_options_become_drives(void)
{
    cli_opts o;
    char *err = NULL;

    g_assert_true(parse(&o, &err, "-hda", "a,b.img", "-hdd", "d.img", "-cdrom", "c.iso",
                        "-drive", "file=x,if=virtio", "-blockdev", "driver=file,node-name=f,"
                        "filename=y", NULL));
    g_assert_cmpuint(o.drives->len, ==, 4);
    g_assert_cmpstr(g_ptr_array_index(o.drives, 0), ==, "index=0,media=disk,file=a,,b.img");
    g_assert_cmpstr(g_ptr_array_index(o.drives, 1), ==, "index=3,media=disk,file=d.img");
    g_assert_cmpstr(g_ptr_array_index(o.drives, 2), ==, "index=2,media=cdrom,file=c.iso");
    g_assert_cmpstr(g_ptr_array_index(o.drives, 3), ==, "file=x,if=virtio");
    g_assert_cmpuint(o.blockdevs->len, ==, 1);
    cli_opts_free(&o);
    g_assert_false(parse(&o, &err, "-hda", NULL));
    g_assert_cmpstr(err, ==, "option '-hda' requires an argument");
    g_free(err);
    cli_opts_free(&o);
}

/* The binary's name picks the default machine, as QEMU's binaries do. */
static void test_default_machine_from_binary_name(void)
{
    char *err = NULL;

    g_assert_cmpstr(cli_default_machine("/usr/bin/tessera-system-x86_64", &err), ==, "pc");
    g_assert_null(err);
    g_assert_cmpstr(cli_default_machine("build/tessera", &err), ==, "none");
    g_assert_cmpstr(cli_default_machine("tessera-system-x86_64.old", &err), ==, "none");
    g_assert_null(cli_default_machine("./tessera-system-aarch64", &err));
    g_assert_cmpstr(err, ==, "No machine specified, and there is no default (use -machine "
                    "help to list supported machines)");
    g_free(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cli/m/bare-number-is-mib-and-suffixes-scale", test_m_bare_number_is_mib);
    g_test_add_func("/cli/m/rejects-garbage", test_m_rejects_garbage);
    g_test_add_func("/cli/m/rejects-nan-and-inf", test_m_rejects_nan_and_inf);
    g_test_add_func("/cli/machine/repeated-options-merge-and-later-type-wins",
                    test_machine_options_merge);
    g_test_add_func("/cli/smp/total-from-count-or-topology", test_smp_total);
    g_test_add_func("/cli/smp/topology-overflow-refused", test_smp_topology_overflow_refused);
    g_test_add_func("/cli/smp/topology-must-multiply-out-to-maxcpus",
                    test_smp_topology_must_multiply_out);
    g_test_add_func("/cli/parse/options-recorded-in-order", test_options_recorded_in_order);
    g_test_add_func("/cli/parse/double-dash-equals-form", test_double_dash_equals_form);
    g_test_add_func("/cli/gdb/s-and-gdb-recorded", test_gdb_options);
    g_test_add_func("/cli/parse/unknown-option-one-line", test_unknown_option_message);
    g_test_add_func("/cli/parse/missing-argument", test_missing_argument);
    g_test_add_func("/cli/accel/tcg-jit-and-tb-size-recorded", test_accel_tcg_options);
    g_test_add_func("/cli/drive/hda-to-hdd-and-cdrom-are-indexed-drives",
                    test_hd_options_become_drives);
    g_test_add_func("/cli/binary-name/picks-the-default-machine",
                    test_default_machine_from_binary_name);
    g_test_add_func("/cli/accel/kvm-refused-in-every-spelling", test_kvm_refused_every_spelling);
    g_test_add_func("/cli/accel/kvm-messages-with-and-without-dev-kvm", test_kvm_messages);
    g_test_add_func("/cli/accel/kvm-then-tcg-falls-back-with-a-warning",
                    test_kvm_falls_back_to_tcg);
    return g_test_run();
}
