/*
 * Unit tests of the gdb stub's packet layer and session (core/gdbstub*.c)
 * with no machine: framing, checksums, acks, escapes, bounded packets and
 * the answers to malformed commands. A debugger's bytes are untrusted
 * input; every case here must be answered, never crash or hang.
 */
#include <string.h>

#include "gdbstub.h"

static GString *out;

static void capture(void *opaque, const void *buf, size_t len)
{
    g_string_append_len(out, buf, (gssize)len);
}

static gdb_session *session(void)
{
    if (!out) {
        out = g_string_new(NULL);
    }
    g_string_truncate(out, 0);
    return gdb_session_new(capture, NULL);
}

/* Send payload framed with a good checksum. */
static void send(gdb_session *s, const char *payload)
{
    GString *g = g_string_new(NULL);

    gdb_frame(g, payload, strlen(payload));
    gdb_session_input(s, (const uint8_t *)g->str, g->len);
    g_string_free(g, true);
}

static void test_frame_checksum(void)
{
    GString *g = g_string_new(NULL);

    gdb_frame(g, "OK", 2);
    g_assert_cmpstr(g->str, ==, "$OK#9a");
    g_string_truncate(g, 0);
    gdb_frame(g, "a#b$c}d*", 8); /* every special byte escaped */
    g_assert_cmpstr(g->str, ==, "$a}\x03" "b}\x04" "c}]d}\x0a#ec");
    g_string_free(g, true);
}

static void test_unescape_roundtrip(void)
{
    char buf[] = "x}\x03y}]";
    ssize_t n = gdb_unescape(buf, strlen(buf));

    g_assert_cmpint(n, ==, 4);
    g_assert_cmpmem(buf, 4, "x#y}", 4);
    char bad[] = "abc}";
    g_assert_cmpint(gdb_unescape(bad, 4), ==, -1); /* ends inside an escape */
}

static void test_rx_events(void)
{
    gdb_rx *rx = g_new(gdb_rx, 1);
    const char *good = "$g#67";
    gdb_event ev = GDB_EV_NONE;

    gdb_rx_init(rx);
    for (const char *p = good; *p; p++) {
        ev = gdb_rx_byte(rx, (uint8_t)*p);
    }
    g_assert_cmpint(ev, ==, GDB_EV_PACKET);
    g_assert_cmpstr(rx->buf, ==, "g");
    for (const char *p = "$g#00"; *p; p++) {
        ev = gdb_rx_byte(rx, (uint8_t)*p);
    }
    g_assert_cmpint(ev, ==, GDB_EV_BAD_CSUM);
    for (const char *p = "$g#zz"; *p; p++) {
        ev = gdb_rx_byte(rx, (uint8_t)*p);
    }
    g_assert_cmpint(ev, ==, GDB_EV_BAD_CSUM);
    g_assert_cmpint(gdb_rx_byte(rx, 0x03), ==, GDB_EV_INTERRUPT);
    g_assert_cmpint(gdb_rx_byte(rx, '+'), ==, GDB_EV_ACK);
    g_assert_cmpint(gdb_rx_byte(rx, '-'), ==, GDB_EV_NAK);
    g_assert_cmpint(gdb_rx_byte(rx, 'q'), ==, GDB_EV_NONE); /* noise outside */
    /* A '$' inside a packet starts a new one. */
    for (const char *p = "$garbage$g#67"; *p; p++) {
        ev = gdb_rx_byte(rx, (uint8_t)*p);
    }
    g_assert_cmpint(ev, ==, GDB_EV_PACKET);
    g_assert_cmpstr(rx->buf, ==, "g");
    g_free(rx);
}

static void test_rx_huge_packet_bounded(void)
{
    gdb_rx *rx = g_new(gdb_rx, 1);
    gdb_event ev = GDB_EV_NONE;

    gdb_rx_init(rx);
    gdb_rx_byte(rx, '$');
    for (unsigned i = 0; i < 4 * GDB_MAX_PACKET; i++) {
        g_assert_cmpint(gdb_rx_byte(rx, 'A'), ==, GDB_EV_NONE);
    }
    g_assert_cmpuint(rx->len, <=, GDB_MAX_PACKET);
    gdb_rx_byte(rx, '#');
    gdb_rx_byte(rx, '0');
    ev = gdb_rx_byte(rx, '0');
    g_assert_cmpint(ev, ==, GDB_EV_OVERFLOW);
    g_free(rx);
}

static void test_session_acks_and_naks(void)
{
    gdb_session *s = session();

    gdb_session_input(s, (const uint8_t *)"$?#00", 5);
    g_assert_cmpstr(out->str, ==, "-"); /* bad checksum: resend, please */
    g_string_truncate(out, 0);
    send(s, "qSupported:multiprocess+");
    g_assert_true(g_str_has_prefix(out->str, "+$PacketSize=4000;"));
    g_string_truncate(out, 0);
    gdb_session_input(s, (const uint8_t *)"-", 1); /* NAK: the same reply again */
    g_assert_true(g_str_has_prefix(out->str, "$PacketSize=4000;"));
    g_string_truncate(out, 0);
    send(s, "QStartNoAckMode");
    g_assert_cmpstr(out->str, ==, "+$OK#9a");
    g_string_truncate(out, 0);
    send(s, "vMustReplyEmpty");
    g_assert_cmpstr(out->str, ==, "$#00"); /* no ack any more */
    gdb_session_free(s);
}

static void test_session_no_machine_answers_errors(void)
{
    static const char *const cmds[] = {
        "g", "G00", "p0", "P0=00", "m0,4", "M0,1:00", "X0,1:a", "Z0,1000,4",
        "z0,1000,4", "vCont;c", "Hg1", "T1", "c", "s",
    };
    gdb_session *s = session();

    send(s, "QStartNoAckMode");
    for (unsigned i = 0; i < G_N_ELEMENTS(cmds); i++) {
        g_string_truncate(out, 0);
        send(s, cmds[i]);
        g_assert_cmpstr(out->str, ==, "$E01#a6");
    }
    g_string_truncate(out, 0);
    send(s, "qfThreadInfo");
    g_assert_cmpstr(out->str, ==, "$l#6c"); /* no threads */
    gdb_session_free(s);
}

static void test_session_overflow_refused(void)
{
    gdb_session *s = session();
    GString *big = g_string_new("$m");

    for (unsigned i = 0; i < 2 * GDB_MAX_PACKET; i++) {
        g_string_append_c(big, '0');
    }
    g_string_append(big, "#00");
    gdb_session_input(s, (const uint8_t *)big->str, big->len);
    g_assert_cmpstr(out->str, ==, "+$E01#a6"); /* taken and refused, not re-asked */
    g_string_free(big, true);
    gdb_session_free(s);
}

static void test_session_unknown_and_xfer(void)
{
    gdb_session *s = session();

    send(s, "QStartNoAckMode");
    g_string_truncate(out, 0);
    send(s, "qXfer:features:read:other.xml:0,100");
    g_assert_cmpstr(out->str, ==, "$E00#a5");
    g_string_truncate(out, 0);
    send(s, "");
    g_assert_cmpstr(out->str, ==, "$#00");
    g_string_truncate(out, 0);
    send(s, "qC");
    g_assert_cmpstr(out->str, ==, "$QC1#c5");
    gdb_session_free(s);
}

static void test_hex_parsing(void)
{
    const char *p = "ffffffff81000000,10", *end = p + strlen(p);
    uint64_t v = 0;
    uint8_t b[4];

    g_assert_true(gdb_parse_hex(&p, end, &v));
    g_assert_cmphex(v, ==, 0xffffffff81000000ull);
    g_assert_cmpint(*p, ==, ',');
    p = "11112222333344445"; /* 65 bits */
    g_assert_false(gdb_parse_hex(&p, p + 17, &v));
    p = ",";
    g_assert_false(gdb_parse_hex(&p, p + 1, &v));
    g_assert_cmpint(gdb_hex_decode("0aFf", 4, b, 4), ==, 2);
    g_assert_cmphex(b[1], ==, 0xff);
    g_assert_cmpint(gdb_hex_decode("0a0", 3, b, 4), ==, -1);
    g_assert_cmpint(gdb_hex_decode("0g", 2, b, 4), ==, -1);
    g_assert_cmpint(gdb_hex_decode("0011223344", 10, b, 4), ==, -1); /* too long */
}

static void test_target_descriptions(void)
{
    const gdb_arch *x86 = gdb_arch_find("x86_64"), *arm = gdb_arch_find("aarch64");

    g_assert_nonnull(x86);
    g_assert_nonnull(arm);
    g_assert_null(gdb_arch_find("riscv64"));
    g_assert_nonnull(strstr(gdb_arch_xml(x86), "<architecture>i386:x86-64</architecture>"));
    g_assert_nonnull(strstr(gdb_arch_xml(x86), "name=\"rip\" bitsize=\"64\" type=\"code_ptr\" regnum=\"16\""));
    g_assert_nonnull(strstr(gdb_arch_xml(x86), "name=\"mxcsr\" bitsize=\"32\" type=\"int\" regnum=\"56\""));
    g_assert_nonnull(strstr(gdb_arch_xml(arm), "name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"32\""));
    g_assert_nonnull(strstr(gdb_arch_xml(arm), "name=\"fpcr\" bitsize=\"32\" type=\"int\" regnum=\"67\""));
    g_assert_cmpuint(gdb_arch_reg_bytes(x86, 24), ==, 10); /* st0 */
    g_assert_cmpuint(gdb_arch_reg_bytes(arm, 34), ==, 16); /* v0 */
    g_assert_cmpuint(gdb_arch_reg_bytes(arm, gdb_arch_nregs(arm)), ==, 0);
    g_assert_cmpint(gdb_arch_pc_reg(arm), ==, 32);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gdbstub/frame/checksum-and-escapes", test_frame_checksum);
    g_test_add_func("/gdbstub/frame/unescape", test_unescape_roundtrip);
    g_test_add_func("/gdbstub/rx/events", test_rx_events);
    g_test_add_func("/gdbstub/rx/huge-packet-bounded", test_rx_huge_packet_bounded);
    g_test_add_func("/gdbstub/hex/parsing-rejects-bad-input", test_hex_parsing);
    g_test_add_func("/gdbstub/session/acks-naks-noack", test_session_acks_and_naks);
    g_test_add_func("/gdbstub/session/no-machine-answers-errors",
                    test_session_no_machine_answers_errors);
    g_test_add_func("/gdbstub/session/overflow-refused", test_session_overflow_refused);
    g_test_add_func("/gdbstub/session/unknown-and-xfer", test_session_unknown_and_xfer);
    g_test_add_func("/gdbstub/xml/target-descriptions", test_target_descriptions);
    return g_test_run();
}
