/*
 * Fuzz target: the qcow2 format driver (core/block-qcow2*.c) on images
 * from the input, through the drive API devices use (drive_add with
 * format=qcow2, drive_submit).
 *
 * Input: [n] then n op records of 5 bytes, then the image bytes.
 *   n & 15 ops; a record is [op][off_hi][off_lo][shift][len]:
 *   op % 5: read, write, write-zeroes (op & 8: may unmap), discard, flush;
 *   offset (off_hi << 8 | off_lo) << (shift % 40), wrapped into the disk;
 *   length (len + 1) * 512.
 * The image lives in a memfd opened through /proc/self/fd. After the ops
 * the drive is closed (metadata written back) and opened again for one
 * read. Invariants: no crash or sanitizer report; open refusals and I/O
 * errors are fine; a write that succeeded reads back (when the read
 * succeeds) as written.
 */
#define _GNU_SOURCE /* memfd_create */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core.h"

#define MAX_LEN (256 * 512)

static int pending, result;

static void done(void *opaque, int ret)
{
    pending--;
    result = ret;
}

static int io(tes_drive *d, tes_blk_op op, uint64_t off, uint8_t *buf, uint64_t len,
              unsigned flags)
{
    struct iovec v = {buf, len};

    if (drive_submit(d, op, off, buf ? &v : NULL, buf ? 1 : 0, len, flags, done, NULL) < 0) {
        return -1;
    }
    pending++;
    while (pending > 0) {
        drives_poll(true);
    }
    return result;
}

static void one_op(tes_drive *d, const uint8_t *r, uint8_t *buf, uint8_t *back)
{
    uint64_t size = drive_size(d), len = ((uint64_t)r[4] + 1) * 512, off;

    if (size < len) {
        return;
    }
    off = ((uint64_t)(r[1] << 8 | r[2]) << (r[3] % 40)) % (size - len + 1) / 512 * 512;
    switch (r[0] % 5) {
    case 0:
        io(d, TES_BLK_READ, off, buf, len, 0);
        break;
    case 1:
        memset(buf, r[0] ^ r[2], len);
        if (io(d, TES_BLK_WRITE, off, buf, len, 0) == 0 &&
            io(d, TES_BLK_READ, off, back, len, 0) == 0 && memcmp(buf, back, len) != 0) {
            fprintf(stderr, "fuzz-qcow2: a write at %llu did not read back\n",
                    (unsigned long long)off);
            abort();
        }
        break;
    case 2:
        io(d, TES_BLK_WRITE_ZEROES, off, NULL, len, (r[0] & 8) ? TES_BLK_MAY_UNMAP : 0);
        break;
    case 3:
        io(d, TES_BLK_DISCARD, off, NULL, len, 0);
        break;
    default:
        io(d, TES_BLK_FLUSH, 0, NULL, 0, 0);
        break;
    }
}

static tes_drive *open_image(int fd, char **err)
{
    g_autofree char *opts =
        g_strdup_printf("file=/proc/self/fd/%d,if=none,id=fz,format=qcow2,cache=unsafe", fd);

    return drive_add(opts, err) ? drive_find("fz") : NULL;
}

/* The drive's worker threads (core/block.c's pools) must not exit while
 * the fuzzer runs: glibc clears a thread's GLib slice table from its TLS
 * before freeing it, and a leak check that stops the world in between
 * reports the 2032-byte table as leaked (the open finding of campaigns
 * 2026-12-03, never reproducible on replay). Freed pools park their
 * threads, unlimited and never idled out. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    g_thread_pool_set_max_unused_threads(-1);
    g_thread_pool_set_max_idle_time(0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned n = size ? data[0] & 15 : 0;
    size_t hdr = 1 + n * 5;
    g_autofree uint8_t *buf = g_malloc(MAX_LEN), *back = g_malloc(MAX_LEN);
    char *err = NULL;
    tes_drive *d;
    int fd;

    if (size < hdr) {
        return 0;
    }
    fd = memfd_create("fuzz-qcow2", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data + hdr, size - hdr) != (ssize_t)(size - hdr)) {
        abort();
    }
    if ((d = open_image(fd, &err))) {
        for (unsigned i = 0; i < n; i++) {
            one_op(d, data + 1 + i * 5, buf, back);
        }
        drives_close_all();
        if ((d = open_image(fd, &err))) {
            io(d, TES_BLK_READ, 0, buf, MIN(drive_size(d), MAX_LEN) / 512 * 512, 0);
            drives_close_all();
        }
    }
    if (getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "fuzz-qcow2: %s\n", err ? err : "opened");
    }
    g_free(err);
    close(fd);
    return 0;
}
