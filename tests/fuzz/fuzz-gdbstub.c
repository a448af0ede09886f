/*
 * Fuzz target: the gdb stub (core/gdbstub*.c) fed arbitrary bytes as a
 * debugger would send them, on a virt machine with two cortex-a57 vCPUs
 * (a kernel of one empty page: RAM is zeros), so that register, memory, breakpoint,
 * watchpoint, step and thread commands reach a real CPU plugin.
 *
 * Input: one control byte, then the bytes.
 *   ctl & 0x80   wrap: the rest is split at '\n' and each line is sent as
 *                one well-framed packet (so the fuzzer reaches the command
 *                parsers without having to find checksums);
 *   ctl & 0x3f   read size: the bytes arrive in pieces of (ctl & 0x3f) + 1.
 * Invariants: no crash, sanitizer report or hang, and everything tessera
 * sends is '+', '-' or a packet "$...#xx" whose checksum is right.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "gdbstub.h"

static GString *got;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const plugs[] = {"cpu-arm", "arm-platform", "board-virt", "pcie",
                                        "virtio"};
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    char *err = NULL;

    for (unsigned i = 0; i < G_N_ELEMENTS(plugs); i++) {
        g_ptr_array_add(files, g_strdup_printf(FUZZ_BUILD_PLUGINDIR "/%s/%s.so", plugs[i],
                                               plugs[i]));
    }
    /* virt wants a kernel: a 4 KiB arm64 Image header (magic only). */
    static uint8_t image[4096];
    static char path[] = "/tmp/fuzz-gdbstub-Image-XXXXXX";
    int fd = mkstemp(path);

    memcpy(image + 0x38, "ARM\x64", 4);
    if (fd < 0 || write(fd, image, sizeof(image)) != (ssize_t)sizeof(image)) {
        abort();
    }
    close(fd);
    clock_pause();
    core_lock();
    machine_cfg.kernel = path;
    machine_cfg.size = sizeof(machine_cfg);
    machine_cfg.ram_size = 64ull << 20;
    machine_cfg.smp = 2;
    machine_cfg.cpu_model = "cortex-a57";
    if (!plugins_load_all(files, &err) || !machine_create("virt", &err) ||
        !machine_devices_done(&err)) {
        fprintf(stderr, "fuzz-gdbstub: set-up failed: %s\n", err ? err : "?");
        abort();
    }
    core_unlock();
    unlink(path);
    got = g_string_new(NULL);
    return 0;
}

static void capture(void *opaque, const void *buf, size_t len)
{
    g_string_append_len(got, buf, (gssize)len);
}

/* Everything sent back is an ack, a nak or a packet with a good sum. */
static void check_output(void)
{
    size_t i = 0;

    while (i < got->len) {
        const char *p = got->str + i, *hash;
        uint8_t sum = 0;
        unsigned want;

        if (*p == '+' || *p == '-') {
            i++;
            continue;
        }
        hash = memchr(p, '#', got->len - i);
        if (*p != '$' || !hash || (size_t)(hash - got->str) + 3 > got->len) {
            fprintf(stderr, "fuzz-gdbstub: malformed output at %zu: %.40s\n", i, p);
            abort();
        }
        for (const char *q = p + 1; q < hash; q++) {
            sum += (uint8_t)*q;
        }
        if (sscanf(hash + 1, "%2x", &want) != 1 || want != sum) {
            fprintf(stderr, "fuzz-gdbstub: bad checksum in output: %.60s\n", p);
            abort();
        }
        i = (size_t)(hash - got->str) + 3;
    }
    g_string_truncate(got, 0);
}

static void feed(gdb_session *s, const uint8_t *p, size_t len, size_t chunk)
{
    while (len) {
        size_t n = chunk < len ? chunk : len;

        gdb_session_input(s, p, n);
        check_output();
        p += n;
        len -= n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gdb_session *s;
    uint8_t ctl;

    if (size < 1) {
        return 0;
    }
    ctl = data[0];
    data++;
    size--;
    s = gdb_session_new(capture, NULL);
    gdb_session_attach(s);
    if (ctl & 0x80) {
        GString *pkt = g_string_new(NULL);
        const uint8_t *line = data, *end = data + size;

        while (line < end) {
            const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
            const uint8_t *stop = nl ? nl : end;

            g_string_truncate(pkt, 0);
            gdb_frame(pkt, (const char *)line, (size_t)(stop - line));
            feed(s, (const uint8_t *)pkt->str, pkt->len, (ctl & 0x3f) + 1);
            line = stop + 1;
        }
        g_string_free(pkt, true);
    } else {
        feed(s, data, size, (ctl & 0x3f) + 1);
    }
    gdb_session_detach(s);
    gdb_session_free(s);
    check_output();
    core_lock();
    vm_stop(RUN_PAUSED); /* whatever "continue" started */
    core_unlock();
    return 0;
}
