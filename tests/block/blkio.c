/*
 * blkio: drive the core's block layer (drive_add + drive_submit, the path
 * devices use) from the command line, for the qemu-img tests of the
 * 'block' suite (tests/block/test-qcow2.py) and the qcow2 benchmark.
 *
 *   blkio DRIVE-OPTS CMD...
 *
 * DRIVE-OPTS is a -drive string without id (the drive is "d0"). Commands:
 *   w:OFF:LEN:TAG    write LEN bytes at OFF, every 512-byte sector filled
 *                    with the 8-byte little-endian (TAG << 32 | sector)
 *   r:OFF:LEN:TAG    read and check that pattern (exit 1 on a mismatch)
 *   z:OFF:LEN        write-zeroes, may unmap      Z:OFF:LEN  not unmap
 *   d:OFF:LEN        discard                      f          flush
 *   dump:FILE        copy the whole disk into the raw FILE
 *   m:OFF            write a sector that starts with a qcow2 magic
 *   size             print the disk size
 *   crash:SEED:N     N rounds of 8 concurrent pattern writes (tags from 1)
 *                    at random 4 KiB..64 KiB-sized places, each round
 *                    followed by a flush; after each flush completes print
 *                    "F <writes durable>" (for the kill -9 test)
 * Numbers take k/M/G suffixes. Exit status 0 when every command succeeded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core.h"

static tes_drive *drv;
static int pending, last_err;

static void done(void *opaque, int ret)
{
    pending--;
    if (ret < 0) {
        last_err = ret;
    }
}

static int submit(tes_blk_op op, uint64_t off, void *buf, uint64_t len, unsigned flags)
{
    struct iovec v = {buf, len};
    int ret = drive_submit(drv, op, off, buf ? &v : NULL, buf ? 1 : 0, len, flags, done, NULL);

    if (ret == 0) {
        pending++;
    }
    return ret;
}

static int wait_all(void)
{
    while (pending > 0) {
        drives_poll(true);
    }
    int ret = last_err;
    last_err = 0;
    return ret;
}

static uint64_t num(const char *s)
{
    char *end;
    uint64_t v = strtoull(s, &end, 0);

    switch (*end) {
    case 'k': case 'K': return v << 10;
    case 'M': return v << 20;
    case 'G': return v << 30;
    default: return v;
    }
}

static void fill(uint8_t *buf, uint64_t off, uint64_t len, uint64_t tag)
{
    for (uint64_t s = 0; s < len / 512; s++) {
        uint64_t v = GUINT64_TO_LE(tag << 32 | ((off / 512 + s) & 0xffffffff));
        for (unsigned i = 0; i < 512; i += 8) {
            memcpy(buf + s * 512 + i, &v, 8);
        }
    }
}

static int cmd_rw(bool write, uint64_t off, uint64_t len, uint64_t tag)
{
    uint8_t *buf = g_malloc(len), *want = g_malloc(len);
    int ret;

    fill(want, off, len, tag);
    if (write) {
        memcpy(buf, want, len);
    }
    ret = submit(write ? TES_BLK_WRITE : TES_BLK_READ, off, buf, len, 0);
    ret = ret ? ret : wait_all();
    if (ret == 0 && !write && memcmp(buf, want, len) != 0) {
        fprintf(stderr, "blkio: pattern %llu mismatch at %llu+%llu\n", (unsigned long long)tag,
                (unsigned long long)off, (unsigned long long)len);
        ret = -EILSEQ;
    }
    g_free(buf);
    g_free(want);
    return ret;
}

static int cmd_dump(const char *file)
{
    FILE *f = fopen(file, "wb");
    uint64_t size = drive_size(drv), chunk = 1 << 20;
    uint8_t *buf = g_malloc(chunk);
    int ret = f ? 0 : -errno;

    for (uint64_t off = 0; off < size && ret == 0; off += chunk) {
        uint64_t n = MIN(chunk, size - off);
        ret = submit(TES_BLK_READ, off, buf, n, 0);
        ret = ret ? ret : wait_all();
        if (ret == 0 && fwrite(buf, 1, n, f) != n) {
            ret = -EIO;
        }
    }
    if (f) {
        fclose(f);
    }
    g_free(buf);
    return ret;
}

static int cmd_crash(uint64_t seed, uint64_t rounds)
{
    GRand *rnd = g_rand_new_with_seed(seed);
    uint64_t size = drive_size(drv), tag = 1;
    uint8_t *bufs[8];
    int ret = 0;

    for (uint64_t r = 0; r < rounds && ret == 0; r++) {
        for (int i = 0; i < 8; i++, tag++) {
            uint64_t len = (uint64_t)g_rand_int_range(rnd, 1, 17) * 4096;
            uint64_t off = (uint64_t)g_rand_int_range(rnd, 0, (size - len) / 4096) * 4096;
            bufs[i] = g_malloc(len);
            fill(bufs[i], off, len, tag);
            printf("W %llu %llu %llu\n", (unsigned long long)tag, (unsigned long long)off,
                   (unsigned long long)len);
            fflush(stdout); /* the parent must know of it before it may land */
            submit(TES_BLK_WRITE, off, bufs[i], len, 0);
        }
        ret = wait_all();
        for (int i = 0; i < 8; i++) {
            g_free(bufs[i]);
        }
        ret = ret ? ret : submit(TES_BLK_FLUSH, 0, NULL, 0, 0);
        ret = ret ? ret : wait_all();
        printf("F %llu\n", (unsigned long long)tag - 1);
        fflush(stdout);
    }
    g_rand_free(rnd);
    return ret;
}

static int run(char *c)
{
    char **a = g_strsplit(c, ":", 5);
    unsigned n = g_strv_length(a);
    int ret = -EINVAL;

    if (!strcmp(a[0], "w") && n == 4) {
        ret = cmd_rw(true, num(a[1]), num(a[2]), num(a[3]));
    } else if (!strcmp(a[0], "r") && n == 4) {
        ret = cmd_rw(false, num(a[1]), num(a[2]), num(a[3]));
    } else if ((!strcmp(a[0], "z") || !strcmp(a[0], "Z") || !strcmp(a[0], "d")) && n == 3) {
        ret = submit(a[0][0] == 'd' ? TES_BLK_DISCARD : TES_BLK_WRITE_ZEROES, num(a[1]),
                     NULL, num(a[2]), a[0][0] == 'z' ? TES_BLK_MAY_UNMAP : 0);
        ret = ret ? ret : wait_all();
    } else if (!strcmp(a[0], "f") && n == 1) {
        ret = submit(TES_BLK_FLUSH, 0, NULL, 0, 0);
        ret = ret ? ret : wait_all();
    } else if (!strcmp(a[0], "dump") && n == 2) {
        ret = cmd_dump(a[1]);
    } else if (!strcmp(a[0], "m") && n == 2) {
        static uint8_t sec[512] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
        ret = submit(TES_BLK_WRITE, num(a[1]), sec, sizeof(sec), 0);
        ret = ret ? ret : wait_all();
    } else if (!strcmp(a[0], "size") && n == 1) {
        printf("%llu\n", (unsigned long long)drive_size(drv));
        ret = 0;
    } else if (!strcmp(a[0], "crash") && n == 3) {
        ret = cmd_crash(num(a[1]), num(a[2]));
    }
    if (ret < 0) {
        fprintf(stderr, "blkio: %s: %s\n", c, strerror(-ret));
    }
    g_strfreev(a);
    return ret;
}

int main(int argc, char **argv)
{
    g_autofree char *opts = NULL;
    g_autofree char *err = NULL;
    int ret = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: blkio DRIVE-OPTS CMD...\n");
        return 2;
    }
    opts = g_strdup_printf("%s,if=none,id=d0", argv[1]);
    if (!drive_add(opts, &err)) {
        fprintf(stderr, "blkio: %s\n", err);
        return 1;
    }
    drv = drive_find("d0");
    for (int i = 2; i < argc && ret == 0; i++) {
        ret = run(argv[i]);
    }
    drives_close_all();
    return ret == 0 ? 0 : 1;
}
