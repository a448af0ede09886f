/*
 * Unit tests of core/migration.c and core/migration-transport.c: streams,
 * the device field table, state versions, whole-machine save/load and the
 * file:, unix: and exec: transports. The devices are types defined here and
 * registered through a plugin record, as a loaded .so's would be.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migration-int.h"

/* ---- test device types ---- */

typedef struct mt_state {
    bool flag;
    uint8_t b;
    uint16_t h;
    uint32_t w;
    uint64_t q;
    int64_t sq;
    uint32_t arr[4];
    uint8_t blob[10];
    uint32_t added_in_v2;
    uint32_t future;     /* only mt-new declares it */
    uint64_t w_as_u64;   /* mt-kind saves it under the name "w" */
    uint8_t custom[32];  /* variable-sized state of save()/load() */
    uint32_t custom_len;
    int post_loads;
} mt_state;

#define MT_COMMON_FIELDS                                                                     \
    TES_FIELD_BOOL(mt_state, flag), TES_FIELD_U8(mt_state, b), TES_FIELD_U16(mt_state, h),   \
        TES_FIELD_U32(mt_state, w), TES_FIELD_U64(mt_state, q),                              \
        TES_FIELD_I64(mt_state, sq), TES_FIELD_ARRAY(mt_state, arr, TES_FIELD_U32, 4),       \
        TES_FIELD_BYTES(mt_state, blob)

static const tes_state_field v2_fields[] = {
    MT_COMMON_FIELDS,
    {"added_in_v2", TES_FIELD_U32, offsetof(mt_state, added_in_v2), 0, 2},
    TES_FIELD_END,
};
static const tes_state_field v1_fields[] = {MT_COMMON_FIELDS, TES_FIELD_END};
static const tes_state_field new_fields[] = {
    MT_COMMON_FIELDS, TES_FIELD_U32(mt_state, added_in_v2), TES_FIELD_U32(mt_state, future),
    TES_FIELD_END,
};
/* "w" as a u64: same name, other kind. */
static const tes_state_field kind_fields[] = {
    {"w", TES_FIELD_U64, offsetof(mt_state, w_as_u64), 0, 0},
    TES_FIELD_END,
};
/* "arr" with 3 elements: same kind, other length. */
static const tes_state_field len_fields[] = {
    TES_FIELD_ARRAY(mt_state, arr, TES_FIELD_U32, 3),
    TES_FIELD_END,
};

static int mt_save(tes_device *dev, void *opaque, tes_stream *out)
{
    mt_state *s = opaque;
    uint32_t len = GUINT32_TO_LE(s->custom_len);

    stream_write(out, &len, 4);
    stream_write(out, s->custom, s->custom_len);
    return 0;
}

static int mt_load(tes_device *dev, void *opaque, tes_stream *in, uint32_t version)
{
    mt_state *s = opaque;
    uint32_t len;

    if (stream_read(in, &len, 4) < 0 || GUINT32_FROM_LE(len) > sizeof(s->custom)) {
        return -EINVAL;
    }
    s->custom_len = GUINT32_FROM_LE(len);
    return stream_read(in, s->custom, s->custom_len);
}

static int mt_post_load(tes_device *dev, void *opaque, uint32_t version)
{
    ((mt_state *)opaque)->post_loads++;
    return 0;
}

#define STATE(v, minv, f, sv, ld)                                                            \
    {sizeof(tes_state_info), v, minv, f, NULL, mt_post_load, sv, ld}

static const tes_state_info st_v2 = STATE(2, 1, v2_fields, mt_save, mt_load);
static const tes_state_info st_v1 = STATE(1, 1, v1_fields, mt_save, mt_load);
static const tes_state_info st_new = STATE(3, 1, new_fields, mt_save, mt_load);
static const tes_state_info st_kind = STATE(2, 1, kind_fields, NULL, NULL);
static const tes_state_info st_len = STATE(2, 1, len_fields, NULL, NULL);

#define DEVTYPE(nm, st, blocker)                                                             \
    {sizeof(tes_type_info), TES_KIND_DEVICE, nm, "migration test device", NULL,             \
     sizeof(mt_state), NULL, NULL, NULL, NULL, st, blocker, NULL, NULL}

static const tes_type_info t_dev = DEVTYPE("mt-dev", &st_v2, NULL);
static const tes_type_info t_old = DEVTYPE("mt-old", &st_v1, NULL);
static const tes_type_info t_new = DEVTYPE("mt-new", &st_new, NULL);
static const tes_type_info t_kind = DEVTYPE("mt-kind", &st_kind, NULL);
static const tes_type_info t_len = DEVTYPE("mt-len", &st_len, NULL);
static const tes_type_info t_other = DEVTYPE("mt-other", &st_v2, NULL);
static const tes_type_info t_blocked = DEVTYPE("mt-blocked", &st_v2, "host device passthrough");
static const tes_type_info t_nostate = DEVTYPE("mt-nostate", NULL, NULL);

static const tes_type_info *const mt_types[] = {
    &t_dev, &t_old, &t_new, &t_kind, &t_len, &t_other, &t_blocked, &t_nostate, NULL,
};
static const tes_plugin_desc mt_desc = {
    .size = sizeof(tes_plugin_desc),
    .abi_major = TES_ABI_MAJOR,
    .abi_minor = TES_ABI_MINOR,
    .name = "migtest",
    .version = "1.2.3",
    .license = "MIT",
    .types = mt_types,
};
static plugin mt_plugin = {.path = (char *)"test-migration", .desc = &mt_desc};

/* ---- helpers ---- */

static char *tmpdir;

static tes_device *mk(const char *type, const char *id)
{
    char *err = NULL;
    tes_device *d = dev_new(type, TES_KIND_DEVICE, &err);

    g_assert_no_errno(d ? 0 : -1);
    if (id) {
        g_autofree char *opts = g_strdup_printf("id=%s", id);

        g_assert_true(dev_set_opts(d, opts, &err));
    }
    if (!dev_realize(d, NULL, &err)) {
        g_error("realize %s: %s", type, err);
    }
    return d;
}

static mt_state *st(tes_device *d)
{
    return d->s;
}

static void fill(mt_state *s, uint32_t seed)
{
    s->flag = true;
    s->b = seed & 0xff;
    s->h = 0xbeef;
    s->w = 0xdeadbeef ^ seed;
    s->q = 0x0123456789abcdefull;
    s->sq = -42 - (int64_t)seed;
    for (int i = 0; i < 4; i++) {
        s->arr[i] = seed * 10 + i;
    }
    memcpy(s->blob, "0123456789", 10);
    s->added_in_v2 = 77;
    s->future = 99;
    s->custom_len = 5;
    memcpy(s->custom, "hello", 5);
}

/* Save d's payload into a new memory stream; *out gets the bytes. */
static GBytes *save_dev(tes_device *d)
{
    tes_stream *w = stream_new_mem();
    size_t len;
    const void *p;
    GBytes *b;

    g_assert_cmpint(dev_state_save(d, w), ==, 0);
    p = stream_mem_data(w, &len);
    b = g_bytes_new(p, len);
    g_assert_cmpint(stream_close(w), ==, 0);
    return b;
}

static int load_dev(tes_device *d, GBytes *b, uint32_t version, char **err)
{
    size_t len;
    const void *p = g_bytes_get_data(b, &len);
    tes_stream *r = stream_new_mem_reader(p, len);
    int ret = dev_state_load_err(d, r, version, err);

    stream_close(r);
    return ret;
}

static void fresh_machine(void)
{
    registry_reset();
    memory_reset();
    clock_set_manual(true);
}

/* ---- streams ---- */

static void test_stream_mem_round_trip(void)
{
    tes_stream *w = stream_new_mem(), *r;
    uint8_t big[100000], back[100000], c;
    const void *data;
    size_t len;

    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = i * 7;
    }
    stream_write(w, "ab", 2);
    stream_write(w, big, sizeof(big));
    data = stream_mem_data(w, &len);
    g_assert_cmpuint(len, ==, 2 + sizeof(big));
    r = stream_new_mem_reader(data, len);
    g_assert_cmpint(stream_read(r, &c, 1), ==, 0);
    g_assert_cmpint(c, ==, 'a');
    g_assert_cmpint(stream_read(r, &c, 1), ==, 0);
    g_assert_cmpint(c, ==, 'b');
    g_assert_cmpint(stream_read(r, back, sizeof(back)), ==, 0);
    g_assert_cmpmem(back, sizeof(back), big, sizeof(big));
    g_assert_cmpint(stream_error(r), ==, 0);
    /* Past the end: -EIO, and the error sticks. */
    g_assert_cmpint(stream_read(r, &c, 1), ==, -EIO);
    g_assert_cmpint(stream_error(r), !=, 0);
    g_assert_cmpint(stream_close(r), !=, 0);
    g_assert_cmpint(stream_close(w), ==, 0);
}

static void test_stream_fd_round_trip_across_buffer(void)
{
    g_autofree char *path = g_build_filename(tmpdir, "fd-stream", NULL);
    tes_stream *s;
    uint8_t *data = g_malloc(200000), *back = g_malloc(200000);
    int fd;

    for (size_t i = 0; i < 200000; i++) {
        data[i] = (i * 13) ^ (i >> 8);
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    s = stream_new_fd(fd, true);
    /* Small writes that straddle the 64 KiB buffer, then a large one. */
    for (size_t off = 0; off < 100000; off += 1000) {
        stream_write(s, data + off, 1000);
    }
    stream_write(s, data + 100000, 100000);
    g_assert_cmpint(stream_close(s), ==, 0);

    s = stream_new_fd(open(path, O_RDONLY), false);
    g_assert_cmpint(stream_read(s, back, 3), ==, 0);
    g_assert_cmpint(stream_read(s, back + 3, 150000), ==, 0);
    g_assert_cmpint(stream_read(s, back + 150003, 49997), ==, 0);
    g_assert_cmpmem(back, 200000, data, 200000);
    g_assert_cmpint(stream_read(s, back, 1), ==, -EIO); /* EOF */
    g_assert_cmpint(stream_close(s), !=, 0);
    g_free(data);
    g_free(back);
}

static void test_stream_fd_write_error_is_sticky(void)
{
    int fds[2];
    tes_stream *s;
    uint8_t buf[70000] = {0};

    g_assert_no_errno(pipe(fds));
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    s = stream_new_fd(fds[1], true);
    stream_write(s, buf, sizeof(buf)); /* larger than the buffer: written now */
    g_assert_cmpint(stream_error(s), ==, -EPIPE);
    stream_write(s, buf, 10);
    g_assert_cmpint(stream_close(s), ==, -EPIPE);
}

static void test_stream_stalled_peer_times_out(void)
{
    int fds[2];
    tes_stream *s;
    uint8_t b;
    gint64 t0 = g_get_monotonic_time();

    g_assert_no_errno(pipe(fds));
    s = stream_new_fd(fds[0], false);
    stream_set_limits(s, -1, 100);
    g_assert_cmpint(write(fds[1], "x", 1), ==, 1); /* one byte, then silence */
    g_assert_cmpint(stream_read(s, &b, 1), ==, 0);
    g_assert_cmpint(stream_read(s, &b, 1), <, 0);
    g_assert_cmpint(stream_error(s), ==, -ETIMEDOUT);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
    stream_close(s);
    close(fds[1]);
}

static gpointer cancel_later(gpointer data)
{
    g_usleep(100 * 1000);
    g_assert_cmpint(write(GPOINTER_TO_INT(data), "c", 1), ==, 1);
    return NULL;
}

static void test_stream_cancel_ends_a_blocked_write(void)
{
    int fds[2], cancel[2];
    tes_stream *s;
    GThread *t;
    static uint8_t buf[1 << 20];

    g_assert_no_errno(pipe(fds));
    g_assert_no_errno(pipe(cancel));
    s = stream_new_fd(fds[1], true);
    stream_set_limits(s, cancel[0], 0); /* no timeout: only the cancel ends it */
    t = g_thread_new("cancel", cancel_later, GINT_TO_POINTER(cancel[1]));
    stream_write(s, buf, sizeof(buf)); /* the reader never reads */
    g_thread_join(t);
    g_assert_cmpint(stream_error(s), ==, -ECANCELED);
    g_assert_cmpint(stream_close(s), ==, -ECANCELED);
    close(fds[0]);
    close(cancel[0]);
    close(cancel[1]);
}

/* ---- field table ---- */

static void test_fields_round_trip_every_kind(void)
{
    tes_device *a, *b;
    GBytes *blob;
    char *err = NULL;

    fresh_machine();
    a = mk("mt-dev", "a");
    b = mk("mt-dev", "b");
    fill(st(a), 5);
    blob = save_dev(a);
    g_assert_cmpint(load_dev(b, blob, 2, &err), ==, 0);
    g_assert_null(err);
    g_assert_true(st(b)->flag);
    g_assert_cmpuint(st(b)->b, ==, 5);
    g_assert_cmpuint(st(b)->h, ==, 0xbeef);
    g_assert_cmpuint(st(b)->w, ==, 0xdeadbeef ^ 5);
    g_assert_cmpuint(st(b)->q, ==, 0x0123456789abcdefull);
    g_assert_cmpint(st(b)->sq, ==, -47);
    g_assert_cmpuint(st(b)->arr[3], ==, 53);
    g_assert_cmpmem(st(b)->blob, 10, "0123456789", 10);
    g_assert_cmpuint(st(b)->added_in_v2, ==, 77);
    g_assert_cmpint(st(b)->post_loads, ==, 1);
    g_bytes_unref(blob);
}

static void test_fields_custom_save_load_blob(void)
{
    tes_device *a, *b;
    GBytes *blob;
    char *err = NULL;

    fresh_machine();
    a = mk("mt-dev", "a");
    b = mk("mt-dev", "b");
    st(a)->custom_len = 11;
    memcpy(st(a)->custom, "variable!!!", 11);
    blob = save_dev(a);
    g_assert_cmpint(load_dev(b, blob, 2, &err), ==, 0);
    g_assert_cmpuint(st(b)->custom_len, ==, 11);
    g_assert_cmpmem(st(b)->custom, 11, "variable!!!", 11);
    g_bytes_unref(blob);
}

static void test_version_newer_than_plugin_refused(void)
{
    tes_device *a, *b;
    GBytes *blob;
    char *err = NULL;

    fresh_machine();
    a = mk("mt-new", "a"); /* state version 3 */
    b = mk("mt-dev", "e0"); /* accepts 1..2 */
    blob = save_dev(a);
    g_assert_cmpint(load_dev(b, blob, 3, &err), <, 0);
    g_assert_cmpstr(err, ==, "device 'e0' (mt-dev): state version 3 is newer than this "
                             "plugin's 2");
    g_assert_cmpint(st(b)->post_loads, ==, 0);
    g_free(err);
    g_bytes_unref(blob);
}

static void test_version_older_than_minimum_refused(void)
{
    tes_device *a, *b;
    GBytes *blob;
    char *err = NULL;

    fresh_machine();
    a = mk("mt-old", "a");
    b = mk("mt-dev", "e0");
    blob = save_dev(a);
    g_assert_cmpint(load_dev(b, blob, 0, &err), <, 0);
    g_assert_cmpstr(err, ==, "device 'e0' (mt-dev): state version 0 is older than its "
                             "minimum 1");
    g_free(err);
    g_bytes_unref(blob);
}

static void test_version_older_loads_and_missing_field_keeps_value(void)
{
    tes_device *a, *b;
    GBytes *blob;
    char *err = NULL;

    fresh_machine();
    a = mk("mt-old", "a"); /* version 1: no added_in_v2 */
    b = mk("mt-dev", "b");
    fill(st(a), 9);
    st(a)->added_in_v2 = 1111;
    st(b)->added_in_v2 = 2222; /* as reset left it */
    blob = save_dev(a);
    g_assert_cmpint(load_dev(b, blob, 1, &err), ==, 0);
    g_assert_null(err);
    g_assert_cmpuint(st(b)->w, ==, 0xdeadbeef ^ 9);
    g_assert_cmpuint(st(b)->added_in_v2, ==, 2222);
    g_bytes_unref(blob);
}

static void test_unknown_field_skipped(void)
{
    tes_device *a, *b;
    GBytes *blob;
    char *err = NULL;

    fresh_machine();
    a = mk("mt-new", "a"); /* has "future" */
    b = mk("mt-dev", "b");
    fill(st(a), 3);
    blob = save_dev(a);
    g_assert_cmpint(load_dev(b, blob, 2, &err), ==, 0);
    g_assert_null(err);
    g_assert_cmpuint(st(b)->future, ==, 0);
    g_assert_cmpuint(st(b)->added_in_v2, ==, 77); /* fields after it still load */
    g_assert_cmpuint(st(b)->custom_len, ==, 5);
    g_bytes_unref(blob);
}

static void test_field_kind_mismatch_refused(void)
{
    tes_device *a, *b;
    GBytes *blob;
    char *err = NULL;

    fresh_machine();
    a = mk("mt-kind", "a");
    b = mk("mt-dev", "e0");
    st(b)->w = 5;
    blob = save_dev(a);
    g_assert_cmpint(load_dev(b, blob, 2, &err), <, 0);
    g_assert_cmpstr(err, ==, "device 'e0' (mt-dev): field 'w' is u64 in the stream, u32 here");
    g_assert_cmpuint(st(b)->w, ==, 5);
    g_free(err);
    g_bytes_unref(blob);
}

static void test_field_length_mismatch_refused(void)
{
    tes_device *a, *b;
    GBytes *blob;
    char *err = NULL;

    fresh_machine();
    a = mk("mt-len", "a");
    b = mk("mt-dev", "e0");
    blob = save_dev(a);
    g_assert_cmpint(load_dev(b, blob, 2, &err), <, 0);
    g_assert_nonnull(strstr(err, "field 'arr' has 3 elements (12 bytes) in the stream, 4 "
                                 "(16 bytes) here"));
    g_free(err);
    g_bytes_unref(blob);
}

static void test_truncated_payload_refused(void)
{
    tes_device *a, *b;
    GBytes *blob, *cut;
    char *err = NULL;

    fresh_machine();
    a = mk("mt-dev", "a");
    b = mk("mt-dev", "e0");
    blob = save_dev(a);
    cut = g_bytes_new_from_bytes(blob, 0, g_bytes_get_size(blob) - 3);
    g_assert_cmpint(load_dev(b, cut, 2, &err), <, 0);
    g_assert_nonnull(strstr(err, "device 'e0' (mt-dev)"));
    g_free(err);
    g_bytes_unref(blob);
    g_bytes_unref(cut);
}

/* ---- blockers ---- */

static void test_blocker_refuses_migration(void)
{
    char *err = NULL;
    tes_stream *w;

    fresh_machine();
    mk("mt-dev", "ok");
    g_assert_false(migration_blocked(&err));
    mk("mt-blocked", "pt0");
    g_assert_true(migration_blocked(&err));
    g_assert_cmpstr(err, ==, "device 'pt0' (mt-blocked) does not support migration: host "
                             "device passthrough");
    g_clear_pointer(&err, g_free);
    w = stream_new_mem();
    g_assert_cmpint(migration_save(w, &err), <, 0);
    g_assert_nonnull(strstr(err, "pt0"));
    g_clear_pointer(&err, g_free);
    stream_close(w);
    g_assert_false(migrate_start("file:/dev/null", &err));
    g_assert_nonnull(strstr(err, "does not support migration"));
    g_free(err);
}

static void test_no_state_declared_blocks(void)
{
    char *err = NULL;

    fresh_machine();
    mk("mt-nostate", "ns");
    g_assert_true(migration_blocked(&err));
    g_assert_cmpstr(err, ==, "device 'ns' (mt-nostate) does not support migration: no "
                             "migration state declared");
    g_free(err);
}

/* ---- whole machine ---- */

#define RAM_SIZE (1024 * 1024)

static uint8_t *machine_setup(void)
{
    tes_region *ram;
    uint8_t *p;

    fresh_machine();
    ram = region_new_ram(NULL, "ram", RAM_SIZE);
    region_add(memory_system(), 0, ram, 0);
    p = region_ram_ptr(ram);
    for (int i = 0; i < 4096; i++) {
        p[8192 + i] = i * 3 + 1;      /* page 2 */
        p[RAM_SIZE - 4096 + i] = ~i; /* the last page */
    }
    fill(st(mk("mt-dev", "e0")), 1);
    fill(st(mk("mt-old", "e1")), 2);
    clock_set_ns(123456789);
    return p;
}

static void scramble(uint8_t *ram)
{
    memset(ram, 0xaa, RAM_SIZE);
    memset(st(dev_find("e0")), 0, sizeof(mt_state));
    memset(st(dev_find("e1")), 0, sizeof(mt_state));
    clock_set_ns(1);
}

static void check_restored(uint8_t *ram)
{
    g_assert_cmpuint(ram[0], ==, 0);
    g_assert_cmpuint(ram[4096], ==, 0);
    g_assert_cmpuint(ram[8192 + 5], ==, 16);
    g_assert_cmpuint(ram[RAM_SIZE - 4096 + 5], ==, (uint8_t)~5);
    g_assert_true(g_bytes_equal(g_bytes_new_static(ram + 3 * 4096, 4096),
                                g_bytes_new_static(ram + 3 * 4096 + 4096, 4096)));
    g_assert_cmpuint(st(dev_find("e0"))->w, ==, 0xdeadbeef ^ 1);
    g_assert_cmpuint(st(dev_find("e1"))->w, ==, 0xdeadbeef ^ 2);
    g_assert_cmpuint(st(dev_find("e0"))->custom_len, ==, 5);
    g_assert_cmpint(clock_ns(), ==, 123456789);
}

static GBytes *save_machine(void)
{
    tes_stream *w = stream_new_mem();
    char *err = NULL;
    size_t len;
    const void *p;
    GBytes *b;

    g_assert_cmpint(migration_save(w, &err), ==, 0);
    g_assert_null(err);
    p = stream_mem_data(w, &len);
    b = g_bytes_new(p, len);
    stream_close(w);
    return b;
}

static int load_machine(GBytes *b, char **err)
{
    size_t len;
    const void *p = g_bytes_get_data(b, &len);
    tes_stream *r = stream_new_mem_reader(p, len);
    int ret = migration_load(r, err);

    stream_close(r);
    return ret;
}

static void test_machine_round_trip_skips_zero_pages(void)
{
    uint8_t *ram = machine_setup();
    GBytes *b = save_machine();
    char *err = NULL;

    /* Two non-zero pages of 256: the stream is far below the RAM size. */
    g_assert_cmpuint(g_bytes_get_size(b), <, 3 * 4096);
    g_assert_cmpmem(g_bytes_get_data(b, NULL), 8, "TESMIG\r\n", 8);
    scramble(ram);
    g_assert_cmpint(load_machine(b, &err), ==, 0);
    g_assert_null(err);
    check_restored(ram);
    g_bytes_unref(b);
}

static void test_machine_device_type_mismatch_refused(void)
{
    GBytes *b;
    char *err = NULL;

    machine_setup();
    b = save_machine();
    dev_free(dev_find("e1"));
    mk("mt-other", "e1");
    g_assert_cmpint(load_machine(b, &err), <, 0);
    g_assert_cmpstr(err, ==, "stream has device 'e1' of type 'mt-old', this machine has "
                             "'mt-other'");
    g_free(err);
    g_bytes_unref(b);
}

static void test_machine_missing_device_refused(void)
{
    GBytes *b;
    char *err = NULL;

    machine_setup();
    b = save_machine();
    mk("mt-dev", "extra");
    g_assert_cmpint(load_machine(b, &err), <, 0);
    g_assert_cmpstr(err, ==, "device 'extra' (mt-dev) of this machine is missing from the "
                             "stream");
    g_free(err);
    g_bytes_unref(b);
}

static void test_machine_ram_size_mismatch_refused(void)
{
    GBytes *b;
    char *err = NULL;
    tes_region *ram;

    machine_setup();
    b = save_machine();
    memory_reset();
    ram = region_new_ram(NULL, "ram", RAM_SIZE / 2);
    region_add(memory_system(), 0, ram, 0);
    g_assert_cmpint(load_machine(b, &err), <, 0);
    g_assert_cmpstr(err, ==, "RAM region 'ram' is 1M in the stream, 512K here");
    g_free(err);
    g_bytes_unref(b);
}

static void test_machine_bad_magic_and_cut_stream_refused(void)
{
    GBytes *b, *cut;
    char *err = NULL;

    machine_setup();
    b = save_machine();
    g_assert_cmpint(load_machine(g_bytes_new_static("NOTMIG\r\n\1\0\0\0", 12), &err), <, 0);
    g_assert_nonnull(strstr(err, "not a tessera migration stream"));
    g_clear_pointer(&err, g_free);
    cut = g_bytes_new_from_bytes(b, 0, g_bytes_get_size(b) - 1); /* no end marker */
    g_assert_cmpint(load_machine(cut, &err), <, 0);
    g_assert_nonnull(strstr(err, "cut short"));
    g_free(err);
    g_bytes_unref(b);
    g_bytes_unref(cut);
}

/* ---- hostile streams ---- */

static void ba_u32(GByteArray *b, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    g_byte_array_append(b, (const guint8 *)&v, 4);
}

static void ba_u64(GByteArray *b, uint64_t v)
{
    v = GUINT64_TO_LE(v);
    g_byte_array_append(b, (const guint8 *)&v, 8);
}

static void ba_str(GByteArray *b, const char *s, uint32_t len)
{
    ba_u32(b, len);
    g_byte_array_append(b, (const guint8 *)s, len);
}

static GByteArray *stream_head(void)
{
    GByteArray *b = g_byte_array_new();

    g_byte_array_append(b, (const guint8 *)"TESMIG\r\n", 8);
    ba_u32(b, 2);
    return b;
}

static int load_bytes(GByteArray *b, char **err)
{
    g_autoptr(GBytes) bytes = g_byte_array_free_to_bytes(b);

    return load_machine(bytes, err);
}

static void test_machine_ram_run_shifted_by_a_page_refused(void)
{
    uint8_t *ram = machine_setup();
    g_autoptr(GBytes) b = save_machine();
    size_t len;
    g_autofree uint8_t *p = g_memdup2(g_bytes_get_data(b, &len), g_bytes_get_size(b));
    /* header 12, tag 1, "ram" 4 + 3, size 8, page size 4: the first run. */
    uint64_t *start = (uint64_t *)(p + 32);
    g_autoptr(GBytes) shifted = NULL;
    char *err = NULL;

    g_assert_cmpuint(GUINT64_FROM_LE(*start), ==, 2);
    *start = GUINT64_TO_LE(3);
    shifted = g_bytes_new_static(p, len);
    scramble(ram);
    g_assert_cmpint(load_machine(shifted, &err), <, 0);
    g_assert_cmpstr(err, ==, "RAM region 'ram': its pages do not match the stream's digest "
                             "(corrupt or shifted runs)");
    g_free(err);
}

static void test_machine_clock_negative_huge_or_twice_refused(void)
{
    static const uint64_t bad[] = {(uint64_t)-1, (uint64_t)INT64_MAX, 1ull << 63};
    GByteArray *b;
    char *err = NULL;

    machine_setup();
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        b = stream_head();
        g_byte_array_append(b, (const guint8 *)"\2", 1);
        ba_u64(b, bad[i]);
        g_assert_cmpint(load_bytes(b, &err), <, 0);
        g_assert_nonnull(strstr(err, "virtual clock"));
        g_assert_cmpint(clock_ns(), ==, 123456789); /* untouched */
        g_clear_pointer(&err, g_free);
    }
    b = stream_head();
    g_byte_array_append(b, (const guint8 *)"\2", 1);
    ba_u64(b, 5);
    g_byte_array_append(b, (const guint8 *)"\2", 1);
    ba_u64(b, 6);
    g_assert_cmpint(load_bytes(b, &err), <, 0);
    g_assert_cmpstr(err, ==, "migration stream has the clock section twice");
    g_free(err);
}

static void test_machine_raw_bytes_in_names_are_escaped(void)
{
    GByteArray *b = stream_head();
    char *err = NULL;

    machine_setup();
    g_byte_array_append(b, (const guint8 *)"\3", 1);
    ba_str(b, "e\xff\x1b[0m\\", 7);
    ba_str(b, "mt-dev", 6);
    ba_str(b, "p", 1);
    ba_str(b, "1", 1);
    ba_u32(b, 1);
    ba_u64(b, 0);
    g_assert_cmpint(load_bytes(b, &err), <, 0);
    g_assert_cmpstr(err, ==, "stream has device 'e\\xff\\x1b[0m\\x5c' (mt-dev) that this "
                             "machine lacks");
    g_assert_true(g_utf8_validate(err, -1, NULL));
    g_free(err);
}

/* A 40-byte stream that claims a 2 GiB device section is cut short at
 * once (it used to allocate the 2 GiB first: fuzz-migration-stream). */
static void test_machine_absurd_section_length_refused(void)
{
    GByteArray *b = stream_head();
    char *err = NULL;

    machine_setup();
    g_byte_array_append(b, (const guint8 *)"\3", 1);
    ba_str(b, "e0", 2);
    ba_str(b, "mt-dev", 6);
    ba_str(b, "p", 1);
    ba_str(b, "1", 1);
    ba_u32(b, 1);
    ba_u64(b, (1ull << 31) - 1);
    g_assert_cmpint(load_bytes(b, &err), <, 0);
    g_assert_cmpstr(err, ==, "device 'e0' (mt-dev): its section is cut short");
    g_free(err);
}

static void test_machine_name_with_nul_refused(void)
{
    GByteArray *b = stream_head();
    char *err = NULL;

    machine_setup();
    g_byte_array_append(b, (const guint8 *)"\3", 1);
    ba_str(b, "e0\0junk", 7); /* must not pass for device e0 */
    ba_str(b, "mt-dev", 6);
    ba_str(b, "p", 1);
    ba_str(b, "1", 1);
    ba_u32(b, 1);
    ba_u64(b, 0);
    g_assert_cmpint(load_bytes(b, &err), <, 0);
    g_assert_null(strstr(err, "'e0'"));
    g_free(err);
}

/* ---- transports ---- */

static void wait_migration_done(void)
{
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    while (migration_in_progress()) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
}

static void test_transport_file_migrate_and_incoming(void)
{
    g_autofree char *uri = g_strdup_printf("file:%s/mig-file", tmpdir);
    uint8_t *ram = machine_setup();
    const char *desc;
    char *err = NULL;

    g_assert_true(migrate_start(uri, &err));
    wait_migration_done();
    g_assert_cmpstr(migrate_status(&desc), ==, "completed");
    g_assert_cmpint(runstate_get(), ==, RUN_POSTMIGRATE);
    scramble(ram);
    core_autostart = false;
    /* The loading thread takes the lock to finish: hold it so the state
     * between start and finish is seen (without, a fast load races us). */
    core_lock();
    g_assert_true(migrate_incoming(uri, &err));
    g_assert_cmpint(runstate_get(), ==, RUN_INMIGRATE);
    core_unlock();
    wait_migration_done();
    g_assert_cmpstr(migrate_status(&desc), ==, "completed");
    g_assert_cmpint(runstate_get(), ==, RUN_PAUSED); /* -S: stays paused */
    check_restored(ram);
}

static void run_idle(void)
{
    while (g_main_context_iteration(NULL, FALSE)) {
    }
}

/* ACPI S3 and the run state (QEMU 9's semantics): stop from "suspended"
 * gives "paused" and cont goes back to "suspended"; a wakeup is refused
 * while paused, and a device's wake request ignored. */
static void suspend_stop_cont(void)
{
    char *err = NULL;

    vm_start();
    core_request_suspend();
    run_idle();
    g_assert_cmpint(runstate_get(), ==, RUN_SUSPENDED);
    vm_start(); /* cont: nothing */
    g_assert_cmpint(runstate_get(), ==, RUN_SUSPENDED);
    vm_stop(RUN_PAUSED);
    g_assert_false(core_system_wakeup(&err));
    g_assert_nonnull(strstr(err, "not in suspended state"));
    g_free(err);
    core_request_wakeup(); /* ignored unless suspended */
    run_idle();
    g_assert_cmpint(runstate_get(), ==, RUN_PAUSED);
    vm_start();
    g_assert_cmpint(runstate_get(), ==, RUN_SUSPENDED);
}

/* The stream carries the suspended state: the destination starts in
 * "suspended" (or "paused" with -S, and cont then gives "suspended"), and
 * a device's wake request wakes it. */
static void test_suspended_guest_migrates_suspended(void)
{
    g_autofree char *uri = g_strdup_printf("file:%s/mig-s3", tmpdir);
    uint8_t *ram = machine_setup();
    const char *desc;
    char *err = NULL;

    suspend_stop_cont();
    g_assert_true(migrate_start(uri, &err));
    wait_migration_done();
    g_assert_cmpstr(migrate_status(&desc), ==, "completed");
    g_assert_cmpint(runstate_get(), ==, RUN_POSTMIGRATE);
    scramble(ram);
    core_autostart = false;
    g_assert_true(migrate_incoming(uri, &err));
    wait_migration_done();
    g_assert_cmpint(runstate_get(), ==, RUN_PAUSED); /* -S */
    check_restored(ram);
    vm_start();
    g_assert_cmpint(runstate_get(), ==, RUN_SUSPENDED);
    core_autostart = true;
    g_assert_true(migrate_incoming(uri, &err));
    wait_migration_done();
    g_assert_cmpint(runstate_get(), ==, RUN_SUSPENDED);
    core_request_wakeup();
    run_idle();
    g_assert_cmpint(runstate_get(), ==, RUN_RUNNING);
    core_autostart = false;
    vm_stop(RUN_PAUSED);
}

/* A guest stopped before migrate stays paused on the destination until
 * cont (QEMU's global state); a running one runs there. */
static void test_stopped_guest_migrates_paused(void)
{
    g_autofree char *uri = g_strdup_printf("file:%s/mig-paused", tmpdir);
    g_autofree char *uri2 = g_strdup_printf("file:%s/mig-running", tmpdir);
    uint8_t *ram = machine_setup();
    char *err = NULL;

    vm_start();
    vm_stop(RUN_PAUSED);
    g_assert_true(migrate_start(uri, &err));
    wait_migration_done();
    g_assert_cmpstr(migrate_status(NULL), ==, "completed");
    scramble(ram);
    core_autostart = true;
    g_assert_true(migrate_incoming(uri, &err));
    wait_migration_done();
    g_assert_cmpint(runstate_get(), ==, RUN_PAUSED);
    check_restored(ram);
    vm_start();
    g_assert_cmpint(runstate_get(), ==, RUN_RUNNING);
    g_assert_true(migrate_start(uri2, &err));
    wait_migration_done();
    g_assert_cmpstr(migrate_status(NULL), ==, "completed");
    g_assert_true(migrate_incoming(uri2, &err));
    wait_migration_done();
    g_assert_cmpint(runstate_get(), ==, RUN_RUNNING);
    core_autostart = false;
    vm_stop(RUN_PAUSED);
}

static void test_transport_file_incoming_missing_file_refused(void)
{
    char *err = NULL;

    g_assert_false(migrate_incoming("file:/nonexistent/mig", &err));
    g_assert_nonnull(strstr(err, "file:/nonexistent/mig: cannot open for reading"));
    g_clear_pointer(&err, g_free);
    g_assert_false(migrate_incoming("bogus:x", &err));
    g_assert_nonnull(strstr(err, "want exec:CMD"));
    g_free(err);
}

static void test_transport_exec_cat(void)
{
    g_autofree char *file = g_build_filename(tmpdir, "mig-exec", NULL);
    g_autofree char *out = g_strdup_printf("exec:cat > '%s'", file);
    g_autofree char *in = g_strdup_printf("exec:cat '%s'", file);
    uint8_t *ram = machine_setup();
    char *err = NULL;

    g_assert_true(migrate_start(out, &err));
    wait_migration_done();
    g_assert_cmpstr(migrate_status(NULL), ==, "completed");
    g_assert_true(g_file_test(file, G_FILE_TEST_EXISTS));
    scramble(ram);
    g_assert_true(migrate_incoming(in, &err));
    wait_migration_done();
    g_assert_cmpstr(migrate_status(NULL), ==, "completed");
    check_restored(ram);
}

static void test_transport_exec_failing_command_fails(void)
{
    char *err = NULL;
    const char *desc;

    machine_setup();
    g_assert_true(migrate_start("exec:exit 3", &err));
    wait_migration_done();
    g_assert_cmpstr(migrate_status(&desc), ==, "failed");
    g_assert_nonnull(desc);
    g_free(err);
}

static gpointer unix_sender(gpointer data)
{
    GBytes *b = data;
    char *err = NULL;
    g_autofree char *uri = g_strdup_printf("unix:%s/mig.sock", tmpdir);
    tes_stream *s = transport_open_out(uri, &err);
    size_t len;
    const void *p = g_bytes_get_data(b, &len);

    g_assert_nonnull(s);
    stream_write(s, p, len);
    return GINT_TO_POINTER(stream_close(s));
}

static void run_socket_incoming(const char *uri)
{
    uint8_t *ram = machine_setup();
    GBytes *b = save_machine();
    char *err = NULL;
    GThread *t;

    scramble(ram);
    g_assert_true(migrate_incoming(uri, &err));
    /* The sender runs in a thread: the incoming side accepts and reads
     * from this thread's main loop, as the emulator's main loop would. */
    t = g_thread_new("sender", unix_sender, b);
    wait_migration_done();
    g_assert_cmpint(GPOINTER_TO_INT(g_thread_join(t)), ==, 0);
    g_assert_cmpstr(migrate_status(NULL), ==, "completed");
    check_restored(ram);
    g_bytes_unref(b);
}

static void test_transport_unix(void)
{
    g_autofree char *uri = g_strdup_printf("unix:%s/mig.sock", tmpdir);
    g_autofree char *path = g_strdup(uri + 5);

    run_socket_incoming(uri);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS)); /* removed once accepted */
}

static void test_incoming_failure_reports_and_requests_exit(void)
{
    g_autofree char *path = g_build_filename(tmpdir, "mig-bad", NULL);
    g_autofree char *uri = g_strdup_printf("file:%s", path);
    const char *desc;
    char *err = NULL;
    int status = 0;

    g_assert_true(g_file_set_contents(path, "TESMIG\r\n\7\0\0\0", 12, NULL));
    machine_setup();
    g_assert_true(migrate_incoming(uri, &err));
    wait_migration_done();
    g_assert_cmpstr(migrate_status(&desc), ==, "failed");
    g_assert_cmpstr(desc, ==, "migration stream format version 7, this tessera reads 1..3");
    g_assert_true(core_shutdown_requested(&status));
    g_assert_cmpint(status, ==, 1);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("test-migration-XXXXXX", NULL);
    registry_add_plugin_types(&mt_plugin);
    g_test_add_func("/migration/stream/mem-round-trip", test_stream_mem_round_trip);
    g_test_add_func("/migration/stream/fd-round-trip-across-buffer",
                    test_stream_fd_round_trip_across_buffer);
    g_test_add_func("/migration/stream/fd-write-error-is-sticky",
                    test_stream_fd_write_error_is_sticky);
    g_test_add_func("/migration/stream/stalled-peer-times-out",
                    test_stream_stalled_peer_times_out);
    g_test_add_func("/migration/stream/cancel-ends-a-blocked-write",
                    test_stream_cancel_ends_a_blocked_write);
    g_test_add_func("/migration/fields/round-trip-every-kind", test_fields_round_trip_every_kind);
    g_test_add_func("/migration/fields/custom-save-load-blob", test_fields_custom_save_load_blob);
    g_test_add_func("/migration/version/newer-than-plugin-refused",
                    test_version_newer_than_plugin_refused);
    g_test_add_func("/migration/version/older-than-minimum-refused",
                    test_version_older_than_minimum_refused);
    g_test_add_func("/migration/version/older-loads-missing-field-keeps-value",
                    test_version_older_loads_and_missing_field_keeps_value);
    g_test_add_func("/migration/fields/unknown-field-skipped", test_unknown_field_skipped);
    g_test_add_func("/migration/fields/kind-mismatch-refused", test_field_kind_mismatch_refused);
    g_test_add_func("/migration/fields/length-mismatch-refused",
                    test_field_length_mismatch_refused);
    g_test_add_func("/migration/fields/truncated-payload-refused", test_truncated_payload_refused);
    g_test_add_func("/migration/blocker/refuses-migration", test_blocker_refuses_migration);
    g_test_add_func("/migration/blocker/no-state-declared", test_no_state_declared_blocks);
    g_test_add_func("/migration/machine/ram-run-shifted-by-a-page-refused",
                    test_machine_ram_run_shifted_by_a_page_refused);
    g_test_add_func("/migration/machine/clock-negative-huge-or-twice-refused",
                    test_machine_clock_negative_huge_or_twice_refused);
    g_test_add_func("/migration/machine/raw-bytes-in-names-are-escaped",
                    test_machine_raw_bytes_in_names_are_escaped);
    g_test_add_func("/migration/machine/absurd-section-length-refused",
                    test_machine_absurd_section_length_refused);
    g_test_add_func("/migration/machine/name-with-nul-refused",
                    test_machine_name_with_nul_refused);
    g_test_add_func("/migration/machine/round-trip-skips-zero-pages",
                    test_machine_round_trip_skips_zero_pages);
    g_test_add_func("/migration/machine/device-type-mismatch-refused",
                    test_machine_device_type_mismatch_refused);
    g_test_add_func("/migration/machine/missing-device-refused",
                    test_machine_missing_device_refused);
    g_test_add_func("/migration/machine/ram-size-mismatch-refused",
                    test_machine_ram_size_mismatch_refused);
    g_test_add_func("/migration/machine/bad-magic-and-cut-stream-refused",
                    test_machine_bad_magic_and_cut_stream_refused);
    g_test_add_func("/migration/transport/file-migrate-and-incoming",
                    test_transport_file_migrate_and_incoming);
    g_test_add_func("/migration/transport/file-incoming-missing-file-refused",
                    test_transport_file_incoming_missing_file_refused);
    g_test_add_func("/migration/transport/exec-cat", test_transport_exec_cat);
    g_test_add_func("/migration/runstate/suspended-guest-migrates-suspended",
                    test_suspended_guest_migrates_suspended);
    g_test_add_func("/migration/runstate/stopped-guest-migrates-paused",
                    test_stopped_guest_migrates_paused);
    g_test_add_func("/migration/transport/exec-failing-command-fails",
                    test_transport_exec_failing_command_fails);
    g_test_add_func("/migration/transport/unix", test_transport_unix);
    g_test_add_func("/migration/incoming/failure-reports-and-requests-exit",
                    test_incoming_failure_reports_and_requests_exit);
    ret = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        g_printerr("could not remove %s\n", tmpdir);
    }
    return ret;
}
