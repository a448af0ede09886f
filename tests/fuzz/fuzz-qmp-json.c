/*
 * Fuzz target: the QMP reader and dispatcher (core/qmp.c), fed arbitrary
 * bytes as a client would send them, through the real splitter, json-glib
 * and command table, on a machine "none" with an edu device (what
 * `tessera -M none -device edu` runs). migrate and migrate-incoming are
 * refused (sandboxed client): they would write host files or run host
 * commands.
 *
 * Input: one control byte, then the message bytes.
 *   ctl & 0xa0 == 0xa0   amplify: the bytes are [e1][e2][n1] unit1 (n1 bytes)
 *                unit2, sent as unit1 x 2^(e1 % 18) then unit2 x 2^(e2 % 18):
 *                nesting 100,000 deep or a message of megabytes from a few
 *                bytes of input. Capped at 1 MiB a unit and 2048 of '}',
 *                ']' and newlines (each may end a message that costs a
 *                reply: the time limit is for tessera's bugs, not ours);
 *   ctl & 0x40   skip qmp_capabilities (else the client negotiates first);
 *   ctl & 0x1f   read size: the bytes arrive in pieces of (ctl & 0x1f) * 7
 *                (0: 4 KiB, as the server reads), so messages split.
 * Invariants: no crash or sanitizer report, and every line tessera sends
 * back is a JSON object (a reply, an error or an event).
 */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core.h"

#define AMP_CAP (1u << 20) /* the 4 MiB limit itself: tests/sdk/test-qmp.py */
#define AMP_MAX_CLOSERS 2048

static int peer = -1;
static unsigned lines_parsed; /* of this input */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    char *err = NULL;
    bool printed = false;

    g_ptr_array_add(files, g_strdup(FUZZ_BUILD_PLUGINDIR "/none/none.so"));
    g_ptr_array_add(files, g_strdup(FUZZ_BUILD_PLUGINDIR "/edu/edu.so"));
    clock_pause();
    core_lock();
    if (!plugins_load_all(files, &err) || !machine_create("none", &err) ||
        !dev_create_cli("edu,id=e0", &printed, &err) || !machine_devices_done(&err)) {
        fprintf(stderr, "fuzz-qmp-json: set-up failed: %s\n", err ? err : "?");
        abort();
    }
    core_unlock();
    return 0;
}

/* Every line received so far must be a JSON object: the first lines of
 * an input are parsed, the rest (thousands of replies to an amplified
 * input) only framed, to keep an input within the time limit. */
static void check_output(GString *got)
{
    char buf[65536];
    ssize_t n;
    char *line = got->str, *nl;

    while ((n = read(peer, buf, sizeof(buf))) > 0) {
        g_string_append_len(got, buf, n);
        line = got->str;
    }
    while ((nl = memchr(line, '\n', got->len - (line - got->str)))) {
        bool ok = nl - line >= 3 && line[0] == '{' && nl[-1] == '\r' && nl[-2] == '}';

        *nl = '\0';
        if (ok && lines_parsed++ < 64) {
            g_autoptr(JsonNode) node = json_from_string(line, NULL);
            ok = node && JSON_NODE_HOLDS_OBJECT(node);
        }
        if (!ok) {
            fprintf(stderr, "fuzz-qmp-json: tessera sent a line that is no JSON object: %.200s\n",
                    line);
            abort();
        }
        line = nl + 1;
    }
    g_string_erase(got, 0, line - got->str);
}

/* Send len bytes in pieces of chunk (0: 4 KiB), reading replies between:
 * false once tessera dropped the client. */
static bool send_bytes(qmp_client *c, const uint8_t *p, size_t len, size_t chunk,
                       GString *got)
{
    /* The server reads 4 KiB at a time: so do we, draining between. */
    chunk = chunk && chunk < 4096 ? chunk : 4096;
    while (len) {
        size_t n = chunk < len ? chunk : len;

        if (!qmp_client_feed(c, p, n)) {
            return false;
        }
        check_output(got);
        p += n;
        len -= n;
    }
    return true;
}

static bool send_repeated(qmp_client *c, const uint8_t *unit, size_t ulen, unsigned exp,
                          GString *got)
{
    size_t reps = (size_t)1 << (exp % 18), closers = 0;
    g_autoptr(GByteArray) b = g_byte_array_new();

    for (size_t i = 0; i < ulen; i++) {
        closers += unit[i] == '}' || unit[i] == ']' || unit[i] == '\n';
    }
    if (!ulen) {
        return true;
    }
    /* Each closer may end a message, and each message costs a reply. */
    if (closers) {
        reps = MIN(reps, AMP_MAX_CLOSERS / closers);
    }
    for (size_t i = 0; i < reps && b->len + ulen <= AMP_CAP; i++) {
        g_byte_array_append(b, unit, ulen);
    }
    return send_bytes(c, b->data, b->len, 0, got);
}

static bool run(qmp_client *c, uint8_t ctl, const uint8_t *data, size_t size,
                GString *got)
{
    static const char caps[] = "{\"execute\": \"qmp_capabilities\"}";
    size_t n1;

    if (!(ctl & 0x40) && !send_bytes(c, (const uint8_t *)caps, sizeof(caps) - 1, 0, got)) {
        return false;
    }
    if ((ctl & 0xa0) != 0xa0) {
        return send_bytes(c, data, size, (ctl & 0x1f) * 7u, got);
    }
    if (size < 3) {
        return true;
    }
    n1 = MIN((size_t)data[2], size - 3);
    return send_repeated(c, data + 3, n1, data[0], got) &&
           send_repeated(c, data + 3 + n1, size - 3 - n1, data[1], got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GString) got = g_string_new(NULL);
    int sv[2];
    qmp_client *c;

    if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv)) {
        return 0;
    }
    peer = sv[1];
    lines_parsed = 0;
    vm_start(); /* each input starts from a running guest */
    c = qmp_client_open_fd(sv[0], true);
    if (c && run(c, data[0], data + 1, size - 1, got)) {
        /* Events and resets queued for the main loop go out now. */
        while (g_main_context_iteration(NULL, FALSE)) {
        }
        check_output(got);
        qmp_client_close(c);
    }
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    close(peer);
    return 0;
}
