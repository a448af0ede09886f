/*
 * Unit tests of the block layer's command line and monitor side
 * (blockcli): -drive interfaces and QEMU's index mapping, -blockdev in its
 * three spellings, blockdev-del, and the per-drive counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "block-qcow2.h"
#include "blockdev.h"
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

/* One -drive planned on a board; "drive opts|device" or "ERR: line". */
static char *plan(const char *optarg, const char *def_if, unsigned units)
{
    char *err = NULL, *out;
    drive_plan p;

    if (!drive_if_plan(optarg, def_if, units, &p, &err)) {
        out = g_strdup_printf("ERR: %s", err);
        g_free(err);
        return out;
    }
    out = g_strdup_printf("%s|%s", p.drive_opts ? p.drive_opts : "(none)",
                          p.device ? p.device : "(none)");
    drive_plan_clear(&p);
    return out;
}

#define PLAN(optarg, def, units, want)                    \
    do {                                                  \
        g_autofree char *got_ = plan(optarg, def, units); \
        g_assert_cmpstr(got_, ==, want);                  \
    } while (0)

/* q35: IDE on AHCI ports of one unit each; -cdrom is index 2 = ide.2. */
static void test_map_q35(void)
{
    drive_if_reset();
    PLAN("index=0,media=disk,file=a.img", "ide", 1,
         "file=a.img,if=none,id=ide0-hd0|ide-hd,drive=ide0-hd0,bus=ide.0,unit=0");
    PLAN("index=1,media=disk,file=b.img", "ide", 1,
         "file=b.img,if=none,id=ide1-hd0|ide-hd,drive=ide1-hd0,bus=ide.1,unit=0");
    PLAN("index=2,media=cdrom,file=c.iso", "ide", 1,
         "file=c.iso,if=none,id=ide2-cd0,readonly=on|ide-cd,drive=ide2-cd0,bus=ide.2,unit=0");
    PLAN("file=d.img,if=ide,index=2", "ide", 1,
         "ERR: drive: a drive with if=ide,bus=2,unit=0 (index=2) exists");
    PLAN("file=d.img,if=ide,unit=1", "ide", 1, "ERR: drive: unit 1 too big (max is 0)");
    /* no index: the first free port */
    PLAN("file=d.img,id=mine", "ide", 1,
         "file=d.img,if=none,id=mine|ide-hd,drive=mine,bus=ide.3,unit=0");
    drive_if_reset();
}

/* pc: PIIX channels of two units; -hdc and -cdrom share index 2. */
static void test_map_pc(void)
{
    drive_if_reset();
    PLAN("index=0,media=disk,file=a", "ide", 2,
         "file=a,if=none,id=ide0-hd0|ide-hd,drive=ide0-hd0,bus=ide.0,unit=0");
    PLAN("index=1,media=disk,file=b", "ide", 2,
         "file=b,if=none,id=ide0-hd1|ide-hd,drive=ide0-hd1,bus=ide.0,unit=1");
    PLAN("index=2,media=cdrom,file=c", "ide", 2,
         "file=c,if=none,id=ide1-cd0,readonly=on|ide-cd,drive=ide1-cd0,bus=ide.1,unit=0");
    PLAN("index=2,media=disk,file=d", "ide", 2,
         "ERR: drive: a drive with if=ide,bus=1,unit=0 (index=2) exists");
    PLAN("file=e,if=ide,bus=1", "ide", 2,
         "file=e,if=none,id=ide1-hd1|ide-hd,drive=ide1-hd1,bus=ide.1,unit=1");
    /* bus 1 full: the next bus, as QEMU */
    PLAN("file=f,if=ide,bus=1", "ide", 2,
         "file=f,if=none,id=ide2-hd0|ide-hd,drive=ide2-hd0,bus=ide.2,unit=0");
    PLAN("file=g,if=ide,index=5,unit=1", "ide", 2,
         "ERR: drive: index cannot be used with bus and unit");
    drive_if_reset();
}

/* virt: virtio-blk-pci; IDE refused in QEMU's words. */
static void test_map_virt(void)
{
    drive_if_reset();
    PLAN("index=0,media=disk,file=a", "virtio", 0,
         "file=a,if=none,id=virtio0|virtio-blk-pci,drive=virtio0");
    PLAN("file=b,if=virtio,index=3", "virtio", 0,
         "file=b,if=none,id=virtio3|virtio-blk-pci,drive=virtio3");
    PLAN("file=c,if=virtio", "virtio", 0,
         "file=c,if=none,id=virtio1|virtio-blk-pci,drive=virtio1");
    PLAN("file=d,if=ide", "virtio", 0, "ERR: machine type does not support if=ide,bus=0,unit=0");
    PLAN("file=d,if=scsi", "virtio", 0,
         "ERR: drive: if=scsi is not supported yet (tessera has no SCSI controller): use "
         "if=none,id=ID with -device virtio-blk-pci or nvme");
    drive_if_reset();
}

/* Old boards (no default): a drive with an id is if=none as before; the
 * other keys reach block.c untouched, commas escaped again. */
static void test_map_default_none_and_passthrough(void)
{
    drive_if_reset();
    PLAN("file=a,,b.img,id=d0,format=raw,cache=none", "none", 0,
         "file=a,,b.img,format=raw,cache=none,if=none,id=d0|(none)");
    PLAN("file=x.img", NULL, 0,
         "ERR: drive: this machine has no default disk interface (use if=none,id=ID with a "
         "-device, or if=virtio)");
    /* an empty CD-ROM drive: the monitor can give it a medium */
    PLAN("if=ide,media=cdrom", "ide", 2,
         "if=none,id=ide0-cd0,readonly=on|ide-cd,drive=ide0-cd0,bus=ide.0,unit=0");
    PLAN("file=x,media=floppy", "ide", 2,
         "ERR: drive: media=floppy is invalid (expected disk or cdrom)");
    PLAN("file=x,if=pflash", "ide", 2,
         "ERR: drive: if=pflash is not supported by tessera (expected ide, virtio or none)");
    PLAN("file=x,if=usb", "ide", 2,
         "ERR: drive: unsupported bus type 'usb' (expected ide, virtio, scsi or none)");
    PLAN("file=x,if=ide,index=x", "ide", 2,
         "ERR: drive: index=x is invalid (expected a number 0..1000)");
    drive_if_reset();
}

/* if=none opens at once; media=cdrom makes it read-only (QEMU). */
static void test_cli_if_none_opens_now(void)
{
    g_autofree char *path = make_image("n.img", 65536);
    g_autofree char *opt = g_strdup_printf("file=%s,if=none,id=n0,media=cdrom", path);
    char *err = NULL;

    drive_if_reset();
    g_assert_true(drive_cli_add(opt, &err));
    g_assert_nonnull(drive_find("n0"));
    g_assert_true(drive_readonly(drive_find("n0")));
    g_assert_cmpstr(drive_path(drive_find("n0")), ==, path);
    drives_close_all();
    drive_if_reset();
}

static void done_cb(void *opaque, int ret)
{
    *(int *)opaque = ret;
}

static int submit_wait(tes_drive *d, tes_blk_op op, uint64_t off, void *buf, size_t len)
{
    struct iovec iov = {buf, len};
    int ret = 1;

    g_assert_cmpint(drive_submit(d, op, off, buf ? &iov : NULL, buf ? 1 : 0, len, 0, done_cb,
                                 &ret), ==, 0);
    drive_drain(d);
    return ret;
}

/* Every request counts once, when it completes: bytes and operations when
 * it succeeded, a failed operation otherwise. */
static void test_stats_count_completions(void)
{
    g_autofree char *path = make_image("s.img", 1 << 20);
    g_autofree char *opt = g_strdup_printf("file=%s,if=none,id=s0", path);
    uint8_t buf[8192] = {0};
    drive_stats st;
    tes_drive *d;

    g_assert_true(drive_add(opt, NULL));
    d = drive_find("s0");
    g_assert_cmpint(submit_wait(d, TES_BLK_WRITE, 4096, buf, 8192), ==, 0);
    g_assert_cmpint(submit_wait(d, TES_BLK_READ, 0, buf, 4096), ==, 0);
    g_assert_cmpint(submit_wait(d, TES_BLK_READ, 0, buf, 512), ==, 0);
    g_assert_cmpint(submit_wait(d, TES_BLK_FLUSH, 0, NULL, 0), ==, 0);
    g_assert_cmpint(submit_wait(d, TES_BLK_DISCARD, 65536, NULL, 4096), ==, 0);
    g_assert_cmpint(submit_wait(d, TES_BLK_READ, 2 << 20, buf, 4096), ==, -EINVAL);
    g_assert_cmpint(submit_wait(d, TES_BLK_WRITE_ZEROES, 0, NULL, 512), ==, 0);
    g_assert_cmpint(submit_wait(d, TES_BLK_READ, 0, buf, 1024), ==, 0);
    drive_get_stats(d, &st);
    g_assert_cmpuint(st.wr_ops, ==, 2);
    g_assert_cmpuint(st.wr_bytes, ==, 8192 + 512);
    g_assert_cmpuint(st.rd_ops, ==, 3);
    g_assert_cmpuint(st.rd_bytes, ==, 4096 + 512 + 1024);
    g_assert_cmpuint(st.flush_ops, ==, 1);
    g_assert_cmpuint(st.unmap_ops, ==, 1);
    g_assert_cmpuint(st.unmap_bytes, ==, 4096);
    g_assert_cmpuint(st.failed_rd_ops, ==, 1);
    g_assert_cmpuint(st.failed_wr_ops, ==, 0);
    g_assert_cmpuint(st.wr_highest_offset, ==, 4096 + 8192);
    drives_close_all();
}

/* blockdev-del's drive_del: refused while a device holds the drive. */
static void test_drive_del_refused_while_claimed(void)
{
    g_autofree char *path = make_image("del.img", 65536);
    g_autofree char *opt = g_strdup_printf("file=%s,if=none,id=x0", path);
    char *err = NULL;
    tes_drive *d;

    g_assert_true(drive_add(opt, NULL));
    d = drive_find("x0");
    g_assert_true(drive_claim(d, "nvme0", NULL));
    g_assert_false(drive_del("x0", &err));
    g_assert_cmpstr(err, ==, "Node 'x0' is in use by device 'nvme0'");
    g_clear_pointer(&err, g_free);
    drive_release(d);
    g_assert_true(drive_del("x0", &err));
    g_assert_null(drive_find("x0"));
    g_assert_false(drive_del("x0", &err));
    g_assert_cmpstr(err, ==, "Failed to find node with node-name='x0'");
    g_free(err);
    drives_close_all();
}

/* fuzz-cli's check: our keys and block.c's, nothing opened. */
static void test_cli_check_without_opening(void)
{
    char *err = NULL;

    g_assert_true(drive_cli_check("index=2,media=cdrom,file=/nonexistent/x.iso", &err));
    g_assert_true(drive_cli_check("file=/nonexistent/y,if=ide,bus=1,unit=1", &err));
    g_assert_false(drive_cli_check("file=x,if=ide,cache=bogus", &err));
    g_assert_nonnull(strstr(err, "cache=bogus is invalid"));
    g_clear_pointer(&err, g_free);
    g_assert_false(drive_cli_check("file=x,if=scsi", &err));
    g_assert_nonnull(strstr(err, "if=scsi is not supported yet"));
    g_free(err);
}

static char *bdev_err(const char *fmt, const char *path)
{
    g_autofree char *opt = g_strdup_printf(fmt, path);
    char *err = NULL;

    if (blockdev_add_cli(opt, &err)) {
        return g_strdup("ok");
    }
    return err;
}

#define BDEV(fmt, path, want)                              \
    do {                                                   \
        g_autofree char *got_ = bdev_err(fmt, path);       \
        g_assert_cmpstr(got_, ==, want);                   \
    } while (0)

/* The three spellings open the same drive, named after the top node. */
static void test_blockdev_three_spellings(void)
{
    g_autofree char *path = make_image("bd.img", 3 << 20);

    BDEV("driver=file,node-name=f0,filename=%s", path, "ok");
    BDEV("driver=raw,node-name=n0,file=f0", path, "ok");
    BDEV("driver=raw,node-name=n1,file.driver=file,file.filename=%s,read-only=on", path, "ok");
    BDEV("{\"driver\":\"raw\",\"node-name\":\"n2\",\"read-only\":true,"
         "\"file\":{\"driver\":\"file\",\"filename\":\"%s\"}}", path, "ok");
    BDEV("driver=file,node-name=f3,filename=%s,cache.direct=on,cache.no-flush=off", path, "ok");
    /* f0 is n0's now: not a drive of its own */
    g_assert_null(drive_find("f0"));
    g_assert_cmpuint(drive_size(drive_find("n0")), ==, 3 << 20);
    g_assert_false(drive_readonly(drive_find("n0")));
    g_assert_true(drive_readonly(drive_find("n1")));
    g_assert_true(drive_readonly(drive_find("n2")));
    g_assert_cmpstr(drive_path(drive_find("n2")), ==, path);
    drives_close_all();
    blockdev_reset();
}

static void test_blockdev_refusals(void)
{
    g_autofree char *path = make_image("bdr.img", 65536);

    BDEV("driver=raw,file.driver=file,file.filename=%s", path,
         "'node-name' must be specified for the root node");
    BDEV("node-name=x,filename=%s", path, "Parameter 'driver' is missing");
    BDEV("driver=vmdk,node-name=x,filename=%s", path,
         "Parameter 'driver' does not accept value 'vmdk' (expected file, raw or qcow2)");
    BDEV("driver=file,node-name=1x,filename=%s", path, "Invalid node-name: '1x'");
    BDEV("driver=file,node-name=x,filename=%s,bogus=1", path, "Parameter 'bogus' is unexpected");
    BDEV("driver=file,node-name=x,filename=%s,read-only=maybe", path,
         "Parameter 'read-only' expects 'on' or 'off'");
    BDEV("driver=raw,node-name=x,file=nope%s", "", "Cannot find file node 'nope' (a -blockdev "
         "driver=file node)");
    BDEV("driver=raw,node-name=x,file=f,file.driver=file%s", "",
         "Parameters 'file.*' used inconsistently");
    BDEV("driver=file,node-name=x,filename%s", "", "Expected '=' after parameter 'filename'");
    {
        g_autofree char *e = bdev_err("{\"driver\": \"raw\"%s", "");

        g_assert_true(g_str_has_prefix(e, "JSON parse error, "));
    }
    BDEV("driver=file,node-name=ok0,filename=%s", path, "ok");
    BDEV("driver=file,node-name=ok0,filename=%s", path, "Duplicate nodes with node-name='ok0'");
    drives_close_all();
    blockdev_reset();
}

/* fuzz-cli's check: the same refusals, nothing opened. */
static void test_blockdev_check_opens_nothing(void)
{
    char *err = NULL;

    g_assert_true(blockdev_check("driver=qcow2,node-name=c0,file.driver=file,"
                                 "file.filename=/nonexistent/x,cache.direct=on", &err));
    g_assert_true(blockdev_check("{\"driver\":\"raw\",\"node-name\":\"c1\",\"file\":\"f\"}",
                                 &err));
    g_assert_null(drive_find("c0"));
    g_assert_false(blockdev_check("driver=file,node-name=c2,filename=x,cache.direct=maybe",
                                  &err));
    g_assert_cmpstr(err, ==, "Parameter 'direct' expects 'on' or 'off'");
    g_clear_pointer(&err, g_free);
    g_assert_false(blockdev_check("driver=raw,node-name=c3,file.driver=file", &err));
    g_assert_cmpstr(err, ==, "Parameter 'filename' is missing");
    g_clear_pointer(&err, g_free);
    {
        GString *deep = g_string_new("driver=raw,node-name=c4,");

        for (int i = 0; i < 5000; i++) {
            g_string_append(deep, "a.");
        }
        g_string_append(deep, "b=1");
        g_assert_false(blockdev_check(deep->str, &err));
        g_assert_true(g_str_has_prefix(err, "Invalid parameter 'a.a."));
        g_string_free(deep, TRUE);
    }
    g_free(err);
}

/* blockdev-del: the monitor's nodes, not while a device or a parent node
 * uses them; deleting the parent gives a named file node back. */
static void test_blockdev_del(void)
{
    g_autofree char *path = make_image("bdd.img", 65536);
    g_autofree char *opt = g_strdup_printf("file=%s,if=none,id=d0", path);
    char *err = NULL;

    BDEV("driver=file,node-name=f0,filename=%s", path, "ok");
    BDEV("driver=raw,node-name=n0,file=f0", path, "ok");
    g_assert_true(drive_add(opt, NULL));
    g_assert_false(blockdev_del("d0", &err));
    g_assert_cmpstr(err, ==, "Node d0 is not owned by the monitor");
    g_clear_pointer(&err, g_free);
    g_assert_false(blockdev_del("f0", &err));
    g_assert_cmpstr(err, ==, "Node 'f0' is in use by node 'n0'");
    g_clear_pointer(&err, g_free);
    g_assert_true(drive_claim(drive_find("n0"), "nvme0", NULL));
    g_assert_false(blockdev_del("n0", &err));
    g_assert_cmpstr(err, ==, "Node 'n0' is in use by device 'nvme0'");
    g_clear_pointer(&err, g_free);
    drive_release(drive_find("n0"));
    g_assert_true(blockdev_del("n0", &err));
    g_assert_null(drive_find("n0"));
    g_assert_nonnull(drive_find("f0"));
    g_assert_true(blockdev_del("f0", &err));
    g_assert_null(drive_find("f0"));
    g_assert_false(blockdev_del("f0", &err));
    g_assert_cmpstr(err, ==, "Failed to find node with node-name='f0'");
    g_free(err);
    drives_close_all();
    blockdev_reset();
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

/* ---- the qcow2 driver's own -blockdev keys ---- */

/* A raw file of size bytes of c. */
static char *make_filled(const char *name, size_t size, uint8_t c)
{
    char *path = make_image(name, size);
    g_autofree uint8_t *buf = g_malloc(size);
    int fd = open(path, O_WRONLY);

    memset(buf, c, size);
    g_assert_cmpint(pwrite(fd, buf, size, 0), ==, (ssize_t)size);
    close(fd);
    return path;
}

static char *make_qcow2(const char *name, const char *backing)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    char *err = NULL;

    g_assert_true(qcow2_create(path, 1 << 20, backing, backing ? "raw" : NULL, &err));
    g_assert_null(err);
    return path;
}

static uint8_t first_byte(const char *id)
{
    uint8_t b = 0xee;

    g_assert_cmpint(drive_pread(drive_find(id), 4096, &b, 1), ==, 0);
    return b;
}

/* backing=NODE replaces the header's backing file, backing=null drops
 * it; the node is in use while the top is. */
static void test_blockdev_qcow2_backing(void)
{
    g_autofree char *base = make_filled("base.raw", 1 << 20, 0xb0);
    g_autofree char *other = make_filled("other.raw", 1 << 20, 0x07);
    g_autofree char *top = make_qcow2("top.qcow2", base);
    g_autofree char *top2 = make_qcow2("top2.qcow2", base);
    g_autofree char *top3 = make_qcow2("top3.qcow2", base);
    g_autofree char *opt = NULL;
    char *err = NULL;

    BDEV("driver=qcow2,node-name=t0,file.driver=file,file.filename=%s", top, "ok");
    g_assert_cmphex(first_byte("t0"), ==, 0xb0); /* the header's backing */
    BDEV("driver=raw,node-name=o0,read-only=on,file.driver=file,file.filename=%s", other, "ok");
    BDEV("driver=qcow2,node-name=t1,backing=o0,file.driver=file,file.filename=%s", top2, "ok");
    g_assert_cmphex(first_byte("t1"), ==, 0x07);
    BDEV("{\"driver\":\"qcow2\",\"node-name\":\"t2\",\"backing\":null,\"file\":{\"driver\":"
         "\"file\",\"filename\":\"%s\"}}", top3, "ok");
    g_assert_cmphex(first_byte("t2"), ==, 0);
    g_assert_false(blockdev_del("o0", &err));
    g_assert_cmpstr(err, ==, "Node 'o0' is in use by node 't1'");
    g_clear_pointer(&err, g_free);
    g_assert_true(blockdev_del("t1", &err));
    g_assert_true(blockdev_del("o0", &err));
    BDEV("driver=qcow2,node-name=t3,backing=nope,file.driver=file,file.filename=%s", top,
         "Cannot find node-name='nope' for 'backing' (a -blockdev node)");
    BDEV("driver=raw,node-name=r0,backing=null,file.driver=file,file.filename=%s", base,
         "Parameter 'backing' is unexpected");
    BDEV("driver=raw,node-name=r1,lazy-refcounts=on,file.driver=file,file.filename=%s", base,
         "Parameter 'lazy-refcounts' is unexpected");
    /* -drive's spelling of the same override */
    drives_close_all();
    blockdev_reset();
    opt = g_strdup_printf("file=%s,format=qcow2,if=none,id=dd,backing.file.filename=%s,"
                          "backing.driver=raw", top2, other);
    g_assert_true(drive_add(opt, &err));
    g_assert_cmphex(first_byte("dd"), ==, 0x07);
    drives_close_all();
}

static void test_blockdev_qcow2_lazy_cache_discard(void)
{
    g_autofree char *top = make_qcow2("lazy.qcow2", NULL);
    g_autofree char *raw = make_filled("disc.raw", 1 << 20, 0x5a);
    uint8_t b = 0;

    BDEV("driver=qcow2,node-name=l0,lazy-refcounts=on,cache.direct=on,cache.no-flush=off,"
         "discard=unmap,file.driver=file,file.filename=%s", top, "ok");
    g_assert_cmpint(drive_pwrite(drive_find("l0"), 0, "x", 1), ==, 0);
    g_assert_cmpint(drive_flush(drive_find("l0")), ==, 0);
    g_assert_true(blockdev_del("l0", NULL));
    BDEV("driver=qcow2,node-name=l1,lazy-refcounts=maybe,file.driver=file,file.filename=%s",
         top, "Parameter 'lazy-refcounts' expects 'on' or 'off'");
    BDEV("driver=qcow2,node-name=l2,discard=sometimes,file.driver=file,file.filename=%s", top,
         "drive: discard=sometimes is invalid (expected ignore|off|unmap|on)");
    BDEV("driver=qcow2,node-name=l3,bogus=1,file.driver=file,file.filename=%s", top,
         "Parameter 'bogus' is unexpected");
    /* discard=ignore: a guest's discard leaves the data (QEMU's default) */
    BDEV("driver=raw,node-name=i0,discard=ignore,file.driver=file,file.filename=%s", raw, "ok");
    g_assert_cmpint(submit_wait(drive_find("i0"), TES_BLK_DISCARD, 0, NULL, 65536), ==, 0);
    g_assert_cmpint(drive_pread(drive_find("i0"), 0, &b, 1), ==, 0);
    g_assert_cmphex(b, ==, 0x5a);
    g_assert_true(blockdev_del("i0", NULL));
    BDEV("driver=raw,node-name=u0,discard=unmap,file.driver=file,file.filename=%s", raw, "ok");
    g_assert_cmpint(submit_wait(drive_find("u0"), TES_BLK_DISCARD, 0, NULL, 65536), ==, 0);
    g_assert_cmpint(drive_pread(drive_find("u0"), 0, &b, 1), ==, 0);
    g_assert_cmphex(b, ==, 0);
    drives_close_all();
    blockdev_reset();
}

/* ---- removable media on a drive no device holds (QEMU: removable, no
 * tray) and the monitor's argument checks ---- */

static char *mon(const char *json)
{
    return qmp_run_text(json);
}

#define MON(json, want)                                            \
    do {                                                           \
        g_autofree char *got_ = mon(json);                         \
        if (!strstr(got_, want)) {                                 \
            g_error("%s\n  gave %s\n  wanted %s", json, got_, want); \
        }                                                          \
    } while (0)

static void test_media_unattached_drive_and_arguments(void)
{
    g_autofree char *iso = make_filled("m.iso", 8 * 2048, 0x11);
    g_autofree char *cmd = NULL;

    g_assert_true(drive_add("if=none,id=e0,readonly=on", NULL));
    g_assert_false(drive_has_medium(drive_find("e0")));
    g_assert_cmpint(drive_pread(drive_find("e0"), 0, iso, 1), ==, -ENOMEDIUM);
    MON("{\"execute\":\"query-block\"}", "\"removable\":true");
    cmd = g_strdup_printf("{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"device\":"
                          "\"e0\",\"filename\":\"%s\",\"format\":\"raw\"}}", iso);
    MON(cmd, "{\"return\":{}}");
    g_assert_cmpuint(drive_size(drive_find("e0")), ==, 8 * 2048);
    g_assert_true(drive_readonly(drive_find("e0"))); /* read-only-mode retain */
    MON(cmd, "{\"return\":{}}"); /* a change over a medium replaces it */
    /* An image that cannot be opened (raw bytes named qcow2) is refused
     * before the old medium leaves, as QEMU opens the new one first. */
    g_free(cmd);
    cmd = g_strdup_printf("{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"device\":"
                          "\"e0\",\"filename\":\"%s\",\"format\":\"qcow2\"}}", iso);
    MON(cmd, "\"error\"");
    g_assert_true(drive_has_medium(drive_find("e0")));
    g_assert_cmpuint(drive_size(drive_find("e0")), ==, 8 * 2048);
    MON("{\"execute\":\"eject\",\"arguments\":{\"device\":\"e0\"}}", "{\"return\":{}}");
    g_assert_false(drive_has_medium(drive_find("e0")));
    MON("{\"execute\":\"eject\",\"arguments\":{}}", "Either device or id must be specified");
    MON("{\"execute\":\"eject\",\"arguments\":{\"device\":3}}",
        "Invalid parameter type for 'device', expected: string");
    MON("{\"execute\":\"eject\",\"arguments\":{\"device\":\"e0\",\"force\":\"yes\"}}",
        "Invalid parameter type for 'force', expected: boolean");
    MON("{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"device\":\"e0\","
        "\"filename\":\"x\",\"read-only-mode\":\"sometimes\"}}",
        "Parameter 'read-only-mode' does not accept value 'sometimes'");
    MON("{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"device\":\"e0\","
        "\"filename\":\"x\",\"format\":\"vmdk\"}}", "Unknown driver 'vmdk'");
    MON("{\"execute\":\"blockdev-insert-medium\",\"arguments\":{\"id\":\"e0\","
        "\"node-name\":\"nope\"}}", "Failed to find node with node-name='nope'");
    MON("{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"eject\"}}",
        "usage: eject [-f] device");
    MON("{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"eject -f\"}}",
        "usage: eject [-f] device");
    MON("{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"change e0\"}}",
        "usage: change device filename");
    MON("{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":"
        "\"eject -f nope\"}}", "Device 'nope' not found");
    drives_close_all();
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("tessera-blockdev-XXXXXX", NULL);
    g_test_add_func("/blockdev/drive-if/q35-ahci-one-unit-per-bus", test_map_q35);
    g_test_add_func("/blockdev/drive-if/pc-piix-two-units-per-bus", test_map_pc);
    g_test_add_func("/blockdev/drive-if/virt-virtio-and-no-ide", test_map_virt);
    g_test_add_func("/blockdev/drive-if/default-none-and-other-keys-pass-through",
                    test_map_default_none_and_passthrough);
    g_test_add_func("/blockdev/drive-if/if-none-opens-at-once-cdrom-read-only",
                    test_cli_if_none_opens_now);
    g_test_add_func("/blockdev/drive-if/cli-check-opens-nothing", test_cli_check_without_opening);
    g_test_add_func("/blockdev/stats/count-completions-and-failures",
                    test_stats_count_completions);
    g_test_add_func("/blockdev/del/refused-while-a-device-holds-it",
                    test_drive_del_refused_while_claimed);
    g_test_add_func("/blockdev/add/dotted-nested-and-json-spellings",
                    test_blockdev_three_spellings);
    g_test_add_func("/blockdev/add/refusals-one-line-each", test_blockdev_refusals);
    g_test_add_func("/blockdev/del/monitor-nodes-not-in-use", test_blockdev_del);
    g_test_add_func("/blockdev/add/check-opens-nothing", test_blockdev_check_opens_nothing);
    g_test_add_func("/blockdev/media/unattached-drive-change-eject-and-argument-errors",
                    test_media_unattached_drive_and_arguments);
    g_test_add_func("/blockdev/qcow2/backing-node-null-and-drive-override",
                    test_blockdev_qcow2_backing);
    g_test_add_func("/blockdev/qcow2/lazy-refcounts-cache-discard-keys",
                    test_blockdev_qcow2_lazy_cache_discard);
    ret = g_test_run();
    remove_tmpdir();
    return ret;
}
