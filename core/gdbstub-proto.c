/*
 * tessera core: gdb remote protocol framing (GDB manual, "Overview" and
 * "Packet Acknowledgment" of the Remote Protocol appendix).
 *
 * A packet is '$' payload '#' and two hex digits of the payload's byte sum
 * modulo 256. The client acks our packets with '+' or asks for a resend
 * with '-' (until QStartNoAckMode), and sends a lone 0x03 to interrupt a
 * running target. Binary payloads (X, and our qXfer replies) escape '$',
 * '#', '}' and '*' as '}' followed by the byte XOR 0x20; '*' in a reply is
 * otherwise run-length encoding, which we never send.
 *
 * Everything here is fed by a socket: a byte stream of any content and
 * length. The receiver keeps at most GDB_MAX_PACKET bytes; a longer packet
 * is read to its end and reported as an overflow, a '$' inside a packet
 * starts a new one (gdb's own resynchronisation), and bytes outside a
 * packet other than '+', '-' and 0x03 are ignored.
 */
#include <string.h>

#include "gdbstub.h"

enum { RX_IDLE, RX_DATA, RX_CSUM };

void gdb_rx_init(gdb_rx *rx)
{
    rx->state = RX_IDLE;
    rx->overflow = false;
    rx->sum = 0;
    rx->given = 0;
    rx->len = 0;
    rx->buf[0] = 0;
}

int gdb_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static void start_packet(gdb_rx *rx)
{
    rx->state = RX_DATA;
    rx->overflow = false;
    rx->sum = 0;
    rx->len = 0;
}

/* The second checksum digit: the packet is complete. */
static gdb_event end_packet(gdb_rx *rx, int hi, int lo)
{
    rx->state = RX_IDLE;
    rx->buf[rx->len < GDB_MAX_PACKET ? rx->len : GDB_MAX_PACKET] = 0;
    if (rx->overflow) {
        rx->len = 0;
        rx->buf[0] = 0;
        return GDB_EV_OVERFLOW;
    }
    if (hi < 0 || lo < 0 || (uint8_t)(hi << 4 | lo) != rx->sum) {
        return GDB_EV_BAD_CSUM;
    }
    return GDB_EV_PACKET;
}

gdb_event gdb_rx_byte(gdb_rx *rx, uint8_t c)
{
    switch (rx->state) {
    case RX_DATA:
        if (c == '$') {
            start_packet(rx); /* the client gave up on the last one */
        } else if (c == '#') {
            rx->state = RX_CSUM;
            rx->given = 0;
        } else if (rx->len < GDB_MAX_PACKET) {
            rx->buf[rx->len++] = (char)c;
            rx->sum += c;
        } else {
            rx->overflow = true;
        }
        return GDB_EV_NONE;
    case RX_CSUM:
        if (rx->given == 0) {
            int h = gdb_hexval((char)c);

            /* first digit + 1, or 0xff for a bad one */
            rx->given = h < 0 ? 0xff : (uint8_t)(h + 1);
            return GDB_EV_NONE;
        }
        return end_packet(rx, rx->given == 0xff ? -1 : rx->given - 1, gdb_hexval((char)c));
    default:
        if (c == '$') {
            start_packet(rx);
        } else if (c == 0x03) {
            return GDB_EV_INTERRUPT;
        } else if (c == '+') {
            return GDB_EV_ACK;
        } else if (c == '-') {
            return GDB_EV_NAK;
        }
        return GDB_EV_NONE;
    }
}

void gdb_frame(GString *out, const char *payload, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t sum = 0;

    g_string_append_c(out, '$');
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)payload[i];

        if (c == '$' || c == '#' || c == '}' || c == '*') {
            g_string_append_c(out, '}');
            sum += '}';
            c ^= 0x20;
        }
        g_string_append_c(out, (char)c);
        sum += c;
    }
    g_string_append_c(out, '#');
    g_string_append_c(out, hex[sum >> 4]);
    g_string_append_c(out, hex[sum & 15]);
}

ssize_t gdb_unescape(char *buf, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '}') {
            if (++i == len) {
                return -1;
            }
            buf[o++] = (char)(buf[i] ^ 0x20);
        } else {
            buf[o++] = buf[i];
        }
    }
    return (ssize_t)o;
}

ssize_t gdb_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t max)
{
    size_t n = hexlen / 2;

    if (hexlen % 2 || n > max) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = gdb_hexval(hex[2 * i]), lo = gdb_hexval(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (ssize_t)n;
}

void gdb_hex_append(GString *out, const uint8_t *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        g_string_append_c(out, hex[buf[i] >> 4]);
        g_string_append_c(out, hex[buf[i] & 15]);
    }
}

bool gdb_parse_hex(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    unsigned n = 0;

    for (; s < end && gdb_hexval(*s) >= 0; s++, n++) {
        if (n == 16) {
            return false; /* more than 64 bits */
        }
        x = x << 4 | (uint64_t)gdb_hexval(*s);
    }
    if (n == 0) {
        return false;
    }
    *p = s;
    *v = x;
    return true;
}
