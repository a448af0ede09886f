/*
 * Unit tests of block backends: -drive parsing and I/O through io_uring.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

static char *tmpdir;

static char *make_image(const char *name, size_t size)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

static bool add(const char *fmt, const char *path, char **err)
{
    char *opt = g_strdup_printf(fmt, path);
    bool ok = drive_add(opt, err);

    g_free(opt);
    return ok;
}

/* How many io_uring instances this process holds. */
static unsigned count_rings(void)
{
    GDir *dir = g_dir_open("/proc/self/fd", 0, NULL);
    const char *e;
    unsigned n = 0;

    while (dir && (e = g_dir_read_name(dir))) {
        char *p = g_build_filename("/proc/self/fd", e, NULL);
        char *target = g_file_read_link(p, NULL);
        n += target && strstr(target, "io_uring") != NULL;
        g_free(target);
        g_free(p);
    }
    if (dir) {
        g_dir_close(dir);
    }
    return n;
}

static bool kernel_has_io_uring(void)
{
    struct io_uring ring;

    if (io_uring_queue_init(2, &ring, 0) < 0) {
        return false;
    }
    io_uring_queue_exit(&ring);
    return true;
}

static void test_read_write_round_trip(void)
{
    char *path = make_image("rw.img", 1 << 20);
    uint8_t in[8192], out[8192];
    unsigned rings = count_rings();
    char *err = NULL;
    tes_drive *d;

    g_assert_true(add("file=%s,if=none,id=d0,format=raw,cache=none", path, &err));
    g_assert_null(err);
    if (kernel_has_io_uring()) {
        g_assert_cmpuint(count_rings(), ==, rings + 1); /* the real thing, not a fallback */
    }
    d = drive_find("d0");
    g_assert_nonnull(d);
    g_assert_cmpuint(drive_size(d), ==, 1 << 20);
    g_assert_false(drive_readonly(d));
    for (unsigned i = 0; i < sizeof(in); i++) {
        in[i] = i * 13 + 1;
    }
    g_assert_cmpint(drive_pwrite(d, 4096 * 3 + 17, in, sizeof(in)), ==, 0);
    g_assert_cmpint(drive_flush(d), ==, 0);
    memset(out, 0, sizeof(out));
    g_assert_cmpint(drive_pread(d, 4096 * 3 + 17, out, sizeof(out)), ==, 0);
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
    /* Past the end of the file: zeros, not an error. */
    memset(out, 0xaa, sizeof(out));
    g_assert_cmpint(drive_pread(d, (1 << 20) - 100, out, 200), ==, 0);
    g_assert_cmphex(out[0], ==, 0);
    g_assert_cmphex(out[150], ==, 0);
    drives_close_all();
    g_assert_cmpuint(count_rings(), ==, rings);
    g_free(path);
}

static void test_missing_file(void)
{
    char *err = NULL;

    g_assert_false(drive_add("file=/nonexistent/x.img,if=none,id=m0", &err));
    g_assert_cmpstr(err, ==,
                    "drive 'm0': cannot open '/nonexistent/x.img': No such file or directory");
    g_assert_null(drive_find("m0"));
    g_free(err);
}

static void test_readonly_refuses_writes(void)
{
    char *path = make_image("ro.img", 65536);
    uint8_t buf[512] = {1};
    char *err = NULL;
    tes_drive *d;
    int ret;

    g_assert_true(add("file=%s,if=none,id=r0,readonly=on", path, &err));
    d = drive_find("r0");
    g_assert_true(drive_readonly(d));
    ret = drive_pwrite(d, 0, buf, sizeof(buf));
    g_assert_true(ret == -EROFS || ret == -EBADF);
    g_assert_cmpint(drive_pread(d, 0, buf, sizeof(buf)), ==, 0);
    g_assert_cmphex(buf[0], ==, 0);
    drives_close_all();
    g_free(path);
}

static void test_option_errors(void)
{
    char *path = make_image("opt.img", 4096);
    char *err = NULL;

    g_assert_false(add("file=%s,if=none,id=o0,bogus=1", path, &err));
    g_assert_cmpstr(err, ==, "drive: unknown option 'bogus'");
    g_clear_pointer(&err, g_free);
    g_assert_false(add("file=%s,if=virtio,id=o0", path, &err));
    g_assert_cmpstr(err, ==, "drive: if=virtio not supported, use if=none with -device");
    g_clear_pointer(&err, g_free);
    g_assert_false(add("file=%s,if=none,id=o0,format=qcow2", path, &err));
    g_assert_nonnull(strstr(err, "qcow2"));
    g_clear_pointer(&err, g_free);
    g_assert_true(add("file=%s,if=none,id=o0", path, &err));
    g_assert_false(add("file=%s,if=none,id=o0", path, &err));
    g_assert_nonnull(strstr(err, "o0"));
    g_clear_pointer(&err, g_free);
    drives_close_all();
    g_free(path);
}

static void test_claim_once(void)
{
    char *path = make_image("claim.img", 4096);
    char *err = NULL;
    tes_drive *d;

    g_assert_true(add("file=%s,if=none,id=c0", path, &err));
    d = drive_find("c0");
    g_assert_true(drive_claim(d, "nvme0", &err));
    g_assert_false(drive_claim(d, "virtio-blk1", &err));
    g_assert_cmpstr(err, ==, "drive 'c0' is already in use by nvme0");
    g_clear_pointer(&err, g_free);
    drive_release(d);
    g_assert_true(drive_claim(d, "virtio-blk1", &err));
    drives_close_all();
    g_free(path);
}

static void remove_tmpdir(void)
{
    GDir *dir = g_dir_open(tmpdir, 0, NULL);
    const char *n;

    while (dir && (n = g_dir_read_name(dir))) {
        char *p = g_build_filename(tmpdir, n, NULL);
        unlink(p);
        g_free(p);
    }
    if (dir) {
        g_dir_close(dir);
    }
    rmdir(tmpdir);
    g_free(tmpdir);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("tessera-block-XXXXXX", NULL);
    g_test_add_func("/block/io/pwrite-pread-round-trip-through-io-uring",
                    test_read_write_round_trip);
    g_test_add_func("/block/open/missing-file-names-drive-and-path", test_missing_file);
    g_test_add_func("/block/readonly/refuses-writes", test_readonly_refuses_writes);
    g_test_add_func("/block/options/bad-options-rejected-with-message", test_option_errors);
    g_test_add_func("/block/claim/one-device-per-drive", test_claim_once);
    ret = g_test_run();
    remove_tmpdir();
    return ret;
}
