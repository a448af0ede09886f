/*
 * Fuzz target: the migration stream reader (core/migration.c) and every
 * loader behind it, fed whole streams for a harness machine with RAM, an
 * nvme controller, a virtio-blk-pci disk, an edu and a PCIe root port
 * (seeds: real streams of that machine, tests/fuzz/corpus/). Truncated,
 * flipped, wrong versions, absurd lengths, sections for devices that do
 * not exist: each must load or be refused with one printable line.
 *
 * A stream that loads is then used as a guest would: BARs mapped again,
 * NVMe and virtio doorbells rung, the clock stepped (timers fire), so that
 * state a loader let through (an AEN count past its queue, a ring index
 * past its size) shows up as an ASan report here, not in a guest later.
 * Before every input the pristine stream is loaded again, so inputs do
 * not depend on each other.
 *
 *   FUZZ_MIG_SAVE=FILE fuzz-migration-stream   writes the pristine stream
 *   (the seed corpus/fuzz-migration-stream/pristine) and exits.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>
#include <unistd.h>

#include "core/core.h"

#define RAM_SIZE (1u << 20)
#define NVME_BAR 0x80000000ull
#define VIRTIO_BAR 0x81000000ull
#define EDU_BAR 0x82000000ull

static tes_harness *h;
static tes_device *nvme, *vblk, *edu;
static GBytes *pristine;

static void die(const char *what)
{
    fprintf(stderr, "fuzz-migration-stream: %s: %s\n", what, h ? tes_harness_error(h) : "");
    abort();
}

static void add_drive(const char *id)
{
    char *path = NULL;
    int fd = g_file_open_tmp("fuzz-mig-XXXXXX.img", &path, NULL);
    g_autofree char *opts = NULL;

    if (fd < 0 || ftruncate(fd, RAM_SIZE) < 0) {
        die("temporary image");
    }
    close(fd);
    opts = g_strdup_printf("file=%s,if=none,id=%s,format=raw", path, id);
    if (!tes_harness_drive(h, opts)) {
        die("drive");
    }
    g_unlink(path); /* open: gone once we exit */
    g_free(path);
}

static tes_device *device(const char *type, const char *props)
{
    tes_device *d = tes_harness_device(h, type, props);

    if (!d) {
        die(type);
    }
    return d;
}

/* Guest-like activity before the save, so the seeds carry live state:
 * an enabled NVMe controller, a virtio driver past FEATURES_OK, edu
 * registers. */
static void activity(void)
{
    tes_harness_write(h, NVME_BAR + 0x24, 0x001f001f, 4); /* AQA: 32 entries */
    tes_harness_write(h, NVME_BAR + 0x28, 0x10000, 8);   /* ASQ */
    tes_harness_write(h, NVME_BAR + 0x30, 0x20000, 8);   /* ACQ */
    tes_harness_write(h, NVME_BAR + 0x14, 0x00460001, 4); /* CC.EN */
    tes_harness_write(h, VIRTIO_BAR + 0x14, 1 | 2, 1);    /* ACKNOWLEDGE | DRIVER */
    tes_harness_write(h, VIRTIO_BAR + 0x14, 1 | 2 | 8, 1); /* FEATURES_OK */
    tes_harness_write(h, EDU_BAR + 0x04, 0x12345678, 4);
    tes_harness_clock_step(h, 1000);
}

static GBytes *save_stream(void)
{
    tes_stream *w = stream_new_mem();
    char *err = NULL;
    size_t len;
    const void *p;
    GBytes *b;

    if (migration_save(w, &err) < 0) {
        fprintf(stderr, "fuzz-migration-stream: save: %s\n", err);
        abort();
    }
    p = stream_mem_data(w, &len);
    b = g_bytes_new(p, len);
    stream_close(w);
    return b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const plugins[] = {"nvme", "virtio", "edu", "pcie"};
    const char *save = getenv("FUZZ_MIG_SAVE");

    h = tes_harness_new(RAM_SIZE);
    for (size_t i = 0; i < G_N_ELEMENTS(plugins); i++) {
        g_autofree char *p = g_strdup_printf(FUZZ_BUILD_PLUGINDIR "/%s/%s.so", plugins[i],
                                             plugins[i]);
        if (!tes_harness_load(h, p)) {
            die(p);
        }
    }
    add_drive("d0");
    add_drive("d1");
    nvme = device("nvme", "drive=d0,serial=fuzz,max_ioqpairs=4");
    vblk = device("virtio-blk-pci", "drive=d1");
    edu = device("edu", NULL);
    device("pcie-root-port", "chassis=1");
    tes_harness_bar_map(h, nvme, 0, NVME_BAR);
    tes_harness_bar_map(h, vblk, 4, VIRTIO_BAR);
    tes_harness_bar_map(h, edu, 0, EDU_BAR);
    activity();
    pristine = save_stream();
    if (save) {
        size_t len;
        const void *p = g_bytes_get_data(pristine, &len);

        if (!g_file_set_contents(save, p, len, NULL)) {
            die(save);
        }
        exit(0);
    }
    return 0;
}

static int load(const void *data, size_t len, char **err)
{
    tes_stream *r = stream_new_mem_reader(data, len);
    int ret = migration_load(r, err);

    stream_close(r);
    return ret;
}

/* A refusal is one line of printable ASCII (names from the stream come
 * escaped), never a crash. */
static void check_refusal(const char *err)
{
    if (!err) {
        fprintf(stderr, "fuzz-migration-stream: refused without a message\n");
        abort();
    }
    for (const char *p = err; *p; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
            fprintf(stderr, "fuzz-migration-stream: refusal with byte 0x%02x: %s\n",
                    (unsigned char)*p, err);
            abort();
        }
    }
}

/* What a guest does next with the state that loaded. */
static void use_loaded_state(void)
{
    tes_harness_bar_map(h, nvme, 0, NVME_BAR);
    tes_harness_bar_map(h, vblk, 4, VIRTIO_BAR);
    tes_harness_bar_map(h, edu, 0, EDU_BAR);
    for (unsigned q = 0; q < 3; q++) {
        tes_harness_write(h, NVME_BAR + 0x1000 + 8 * q, 1, 4);     /* SQ tail */
        tes_harness_write(h, NVME_BAR + 0x1000 + 8 * q + 4, 0, 4); /* CQ head */
        tes_harness_write(h, VIRTIO_BAR + 0x3000 + 4 * q, q, 2);  /* notify */
    }
    tes_harness_read(h, EDU_BAR + 0x08, 4);
    tes_harness_clock_step(h, 10 * 1000 * 1000);
    tes_harness_block_wait(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *err = NULL;
    size_t plen;
    const void *p = g_bytes_get_data(pristine, &plen);

    if (load(p, plen, &err) < 0) {
        fprintf(stderr, "fuzz-migration-stream: the pristine stream no longer loads: %s\n", err);
        abort();
    }
    if (load(data, size, &err) == 0) {
        use_loaded_state();
    } else {
        check_refusal(err);
    }
    g_free(err);
    return 0;
}
