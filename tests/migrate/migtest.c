/*
 * The migration round-trip runner (migtest.h is the contract).
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migtest.h"

#define MT_IRQ_OUTPUTS 32 /* sysbus outputs looked at per device */

/* ---- recording ---- */

static void rec(mt *m, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void rec(mt *m, const char *fmt, ...)
{
    va_list ap;

    g_string_append_printf(m->trace, "%u: ", m->step);
    va_start(ap, fmt);
    g_string_append_vprintf(m->trace, fmt, ap);
    va_end(ap);
    g_string_append_c(m->trace, '\n');
}

void mt_note(mt *m, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    rec(m, "note %s", s);
    g_free(s);
}

void mt_set_add(mt *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(m->set, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void mt_set_flush(mt *m)
{
    g_ptr_array_sort(m->set, cmp_str);
    for (guint i = 0; i < m->set->len; i++) {
        rec(m, "note %s", (char *)g_ptr_array_index(m->set, i));
    }
    g_ptr_array_set_size(m->set, 0);
}

uint64_t mt_rd(mt *m, uint64_t addr, unsigned size)
{
    uint64_t v = tes_harness_read(m->h, addr, size);

    rec(m, "rd %#" G_GINT64_MODIFIER "x/%u = %#" G_GINT64_MODIFIER "x", addr, size, v);
    return v;
}

uint64_t mt_in(mt *m, uint64_t port, unsigned size)
{
    uint64_t v = tes_harness_io_read(m->h, port, size);

    rec(m, "in %#" G_GINT64_MODIFIER "x/%u = %#" G_GINT64_MODIFIER "x", port, size, v);
    return v;
}

static int dev_index(mt *m, tes_device *d)
{
    for (unsigned i = 0; i < m->n_dev; i++) {
        if (m->dev[i] == d) {
            return (int)i;
        }
    }
    return -1;
}

uint32_t mt_cfg_rd(mt *m, tes_device *d, uint32_t off, unsigned size)
{
    uint32_t v = tes_harness_cfg_read(m->h, d, off, size);

    rec(m, "cfg dev%d %#x/%u = %#x", dev_index(m, d), off, size, v);
    return v;
}

static uint64_t digest(const uint8_t *p, size_t len)
{
    uint64_t x = 0xcbf29ce484222325ull; /* FNV-1a */

    for (size_t i = 0; i < len; i++) {
        x = (x ^ p[i]) * 0x100000001b3ull;
    }
    return x;
}

void mt_ram(mt *m, uint64_t addr, size_t len)
{
    g_assert(addr + len <= tes_harness_ram_size(m->h));
    rec(m, "ram %#" G_GINT64_MODIFIER "x+%zu = %016" G_GINT64_MODIFIER "x", addr, len,
        digest(m->ram + addr, len));
}

void mt_file(mt *m, const char *path, uint64_t off, size_t len)
{
    uint8_t *buf = g_malloc0(len);
    FILE *f = fopen(path, "rb");
    size_t got = 0;

    g_assert(f);
    if (fseek(f, (long)off, SEEK_SET) == 0) {
        got = fread(buf, 1, len, f);
    }
    fclose(f);
    rec(m, "file +%" G_GINT64_MODIFIER "u+%zu (%zu read) = %016" G_GINT64_MODIFIER "x", off,
        len, got, digest(buf, len));
    g_free(buf);
}

void mt_inject(mt *m, const char *id, const void *frame, size_t len)
{
    int r = tes_harness_net_inject(m->h, id, 0, NULL, frame, len);

    rec(m, "inject %s %zu = %d", id, len, r);
}

/* What the guest's interrupt controller and the wire saw during a step. */
static void observe(mt *m)
{
    uint64_t addr;
    uint32_t data;
    uint8_t buf[2048];
    int len;

    for (unsigned i = 0; i < m->n_dev; i++) {
        tes_device *d = m->dev[i];
        GString *lv = g_string_new(NULL);

        for (unsigned j = 0; j < MT_IRQ_OUTPUTS; j++) {
            g_string_append_c(lv, tes_harness_irq_level(m->h, d, j) ? '1' : '0');
        }
        rec(m, "irq dev%u intx %d out %s", i, tes_harness_intx_level(m->h, d), lv->str);
        g_string_free(lv, true);
    }
    /* Each message once per step: how many a device sends for requests
     * that complete together depends on the host's timing (one per
     * completion, or one for a batch), not on the device's state. */
    g_assert_cmpuint(m->set->len, ==, 0); /* the step forgot mt_set_flush */
    while (tes_harness_msi_pop(m->h, &addr, &data)) {
        char *msg = g_strdup_printf("msi %#" G_GINT64_MODIFIER "x %#x", addr, data);

        if (!g_ptr_array_find_with_equal_func(m->set, msg, g_str_equal, NULL)) {
            g_ptr_array_add(m->set, msg);
        } else {
            g_free(msg);
        }
    }
    for (guint i = 0; i < m->set->len; i++) {
        rec(m, "%s", (char *)g_ptr_array_index(m->set, i));
    }
    g_ptr_array_set_size(m->set, 0);
    for (unsigned i = 0; i < m->n_net; i++) {
        while ((len = tes_harness_net_sent(m->h, m->net[i], buf, sizeof(buf), NULL, NULL)) >= 0) {
            rec(m, "sent %s %d %016" G_GINT64_MODIFIER "x", m->net[i], len,
                digest(buf, MIN((size_t)len, sizeof(buf))));
        }
    }
}

/* ---- actions ---- */

void mt_wr(mt *m, uint64_t addr, uint64_t val, unsigned size)
{
    tes_harness_write(m->h, addr, val, size);
}

void mt_out(mt *m, uint64_t port, uint64_t val, unsigned size)
{
    tes_harness_io_write(m->h, port, val, size);
}

void mt_cfg_wr(mt *m, tes_device *d, uint32_t off, uint32_t val, unsigned size)
{
    tes_harness_cfg_write(m->h, d, off, val, size);
}

void mt_clock(mt *m, int64_t ns)
{
    tes_harness_clock_step(m->h, ns);
}

void mt_irq_in(mt *m, tes_device *d, unsigned n, int level)
{
    const tes_host *host = tes_harness_host(m->h);
    tes_irq *line = host->dev_irq_in(d, n);

    g_assert(line);
    host->irq_set(line, level);
}

void mt_put32(mt *m, uint64_t addr, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        m->ram[addr + i] = v >> (8 * i);
    }
}

void mt_put64(mt *m, uint64_t addr, uint64_t v)
{
    mt_put32(m, addr, (uint32_t)v);
    mt_put32(m, addr + 4, (uint32_t)(v >> 32));
}

uint32_t mt_get32(mt *m, uint64_t addr)
{
    return m->ram[addr] | m->ram[addr + 1] << 8 | m->ram[addr + 2] << 16 |
           (uint32_t)m->ram[addr + 3] << 24;
}

uint64_t mt_bar(mt *m, tes_device *d, int bar, uint64_t addr)
{
    uint64_t a = tes_harness_bar_map(m->h, d, bar, addr);

    g_assert_cmphex(a, ==, addr);
    return a;
}

/* ---- set-up ---- */

tes_device *mt_dev(mt *m, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(m->h, type, props);

    if (!d) {
        g_error("%s: -device %s,%s: %s", m->c->name, type, props ? props : "",
                tes_harness_error(m->h));
    }
    g_assert(m->n_dev < MT_MAX_DEVS);
    m->dev[m->n_dev++] = d;
    return d;
}

void mt_drive(mt *m, const char *fmt, ...)
{
    va_list ap;
    char *opts;

    va_start(ap, fmt);
    opts = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!tes_harness_drive(m->h, opts)) {
        g_error("%s: -drive %s: %s", m->c->name, opts, tes_harness_error(m->h));
    }
    g_free(opts);
}

void mt_netdev(mt *m, const char *id)
{
    char *opts = g_strdup_printf("id=%s", id);

    g_assert(tes_harness_netdev(m->h, opts));
    g_free(opts);
    g_assert(m->n_net < MT_MAX_NETS);
    m->net[m->n_net++] = g_strdup(id);
}

tes_cpu *mt_cpu(mt *m, const char *model)
{
    tes_cpu *cpu = tes_harness_cpu(m->h, model, m->n_cpu);

    if (!cpu) {
        g_error("%s: cpu %s: %s", m->c->name, model, tes_harness_error(m->h));
    }
    g_assert(m->n_cpu < G_N_ELEMENTS(m->cpu));
    m->cpu[m->n_cpu++] = cpu;
    return cpu;
}

void mt_exec(mt *m, unsigned i, uint64_t budget)
{
    uint64_t n = 0;
    tes_exec_status st = tes_harness_cpu_exec(m->h, m->cpu[i], budget, &n);

    rec(m, "exec cpu%u %" G_GINT64_MODIFIER "u: status %d, %" G_GINT64_MODIFIER "u run", i,
        budget, (int)st, n);
}

void mt_map(mt *m, tes_device *d, unsigned idx, uint64_t addr)
{
    const tes_host *host = tes_harness_host(m->h);
    tes_region *r = host->dev_mmio(d, idx);

    g_assert(r);
    host->region_add(host->system_memory(), addr, r, 0);
}

char *mt_image(mt *m, const char *name, size_t n, uint8_t seed)
{
    char *path = g_build_filename(m->dir, name, NULL);
    uint8_t *buf = g_malloc(n);

    for (size_t i = 0; i < n; i++) {
        buf[i] = (uint8_t)(i * 7 + seed);
    }
    g_assert(g_file_set_contents(path, (const char *)buf, (gssize)n, NULL));
    g_free(buf);
    return path;
}

/* ---- the runs ---- */

static char *plugin_path(const char *name)
{
    if (strchr(name, '/')) {
        return g_strdup_printf("%s/%s.so", MT_BUILD_PLUGINDIR, name);
    }
    return g_strdup_printf("%s/%s/%s.so", MT_BUILD_PLUGINDIR, name, name);
}

static void harness_up(mt *m)
{
    m->h = tes_harness_new(m->c->ram_size ? m->c->ram_size : 2 << 20);
    m->ram = tes_harness_ram(m->h);
    for (int i = 0; m->c->plugins[i]; i++) {
        char *p = plugin_path(m->c->plugins[i]);

        if (!tes_harness_load(m->h, p)) {
            g_error("%s", tes_harness_error(m->h));
        }
        g_free(p);
    }
    m->n_dev = 0;
    m->n_cpu = 0;
    for (unsigned i = 0; i < m->n_net; i++) {
        g_free(m->net[i]);
    }
    m->n_net = 0;
    m->c->build(m);
}

/* As a save does: requests reaped, timers due now fired. */
static void settle(mt *m)
{
    for (int i = 0; i < 256; i++) {
        tes_harness_block_wait(m->h);
    }
    tes_harness_clock_step(m->h, 0);
}

static void cross(mt *m)
{
    size_t len = 0;
    void *blob = tes_harness_machine_save(m->h, &len);

    if (!blob) {
        g_error("%s: saving at step %u: %s", m->c->name, m->step, tes_harness_error(m->h));
    }
    tes_harness_free(m->h);
    harness_up(m);
    if (tes_harness_machine_load(m->h, blob, len) < 0) {
        g_error("%s: loading at step %u: %s", m->c->name, m->step, tes_harness_error(m->h));
    }
    free(blob);
    m->migrated = true;
}

void mt_cut(mt *m)
{
    cross(m);
}

/* The run's directory holds only the images mt_image made. */
static void remove_dir(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;

    g_assert(d);
    while ((name = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, name, NULL);

        g_assert_cmpint(g_unlink(p), ==, 0);
        g_free(p);
    }
    g_dir_close(d);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* One run, migrating before step cut (0: never). Returns the trace. */
static char *run(const mt_case *c, unsigned cut)
{
    mt m = {.c = c, .trace = g_string_new(NULL), .set = g_ptr_array_new_with_free_func(g_free)};

    m.dir = g_dir_make_tmp("migtest-XXXXXX", NULL);
    g_assert(m.dir);
    if (c->prepare) {
        c->prepare(&m);
    }
    harness_up(&m);
    for (m.step = 0; c->steps[m.step]; m.step++) {
        if (m.step == cut) {
            cross(&m);
        }
        c->steps[m.step](&m);
        settle(&m);
        observe(&m);
    }
    tes_harness_free(m.h);
    for (unsigned i = 0; i < m.n_net; i++) {
        g_free(m.net[i]);
    }
    g_ptr_array_unref(m.set);
    remove_dir(m.dir);
    g_free(m.dir);
    return g_string_free(m.trace, false);
}

/* The first line where two traces part, for the failure message. */
static void report_diff(const char *name, unsigned cut, const char *ref, const char *got)
{
    char **a = g_strsplit(ref, "\n", -1), **b = g_strsplit(got, "\n", -1);
    unsigned i = 0;

    while (a[i] && b[i] && strcmp(a[i], b[i]) == 0) {
        i++;
    }
    g_test_message("%s: migrated before step %u: trace line %u differs:\n  reference: %s\n"
                   "  migrated:  %s", name, cut, i + 1, a[i] ? a[i] : "(end)",
                   b[i] ? b[i] : "(end)");
    g_strfreev(a);
    g_strfreev(b);
}

static void run_case(gconstpointer data)
{
    const mt_case *c = data;
    char *ref = run(c, 0);
    unsigned n = 0;

    while (c->steps[n]) {
        n++;
    }
    g_assert_cmpuint(n, >=, 2);
    if (g_getenv("MIGTEST_TRACE")) {
        g_printerr("%s reference trace:\n%s", c->name, ref);
    }
    for (unsigned cut = 1; cut < n; cut++) {
        char *got = run(c, cut);

        if (strcmp(ref, got) != 0) {
            report_diff(c->name, cut, ref, got);
            g_test_fail();
        }
        g_free(got);
    }
    g_free(ref);
}

void mt_add(const mt_case *c)
{
    char *path = g_strdup_printf("/migrate/%s", c->name);

    g_test_add_data_func(path, c, run_case);
    g_free(path);
}
