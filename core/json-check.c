/*
 * json-check: is a QMP message one well-formed JSON value (RFC 8259)?
 *
 * QMP hands every message to json-glib. json-glib 1.6 leaks the nodes it
 * had built when a parse fails part-way (a value followed by more text,
 * an array cut off by bad UTF-8: found by fuzz-qmp-json), and a client can
 * send such messages for ever. So the monitor checks the syntax first,
 * with no allocation, and json-glib only ever sees text it parses to the
 * end. The check is strict: what it accepts, json-glib accepts too (each
 * rule below is at least as strict as json-glib's scanner).
 *
 * Iterative, with the nesting bounded by the caller's limit, so a deep
 * message costs a counter, not stack.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json-check.h"

typedef struct {
    const unsigned char *p, *end;
    const char *why;
} cur;

static void skip_ws(cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
        c->p++;
    }
}

static bool fail(cur *c, const char *why)
{
    if (!c->why) {
        c->why = why;
    }
    return false;
}

static bool is_hex(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f');
}

static unsigned hex4(const unsigned char *p)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        unsigned ch = p[i];

        v = v * 16 + (ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
    }
    return v;
}

/* One UTF-8 sequence of 2..4 bytes at c->p (lead byte included):
 * shortest form, no surrogates, at most U+10FFFF. */
static bool utf8_seq(cur *c)
{
    unsigned lead = *c->p, n, cp;

    if (lead >= 0xc2 && lead <= 0xdf) {
        n = 1, cp = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        n = 2, cp = lead & 0x0f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        n = 3, cp = lead & 0x07;
    } else {
        return fail(c, "invalid UTF-8 in a string");
    }
    if (c->end - c->p <= (ptrdiff_t)n) {
        return fail(c, "a string is cut short");
    }
    for (unsigned i = 1; i <= n; i++) {
        if ((c->p[i] & 0xc0) != 0x80) {
            return fail(c, "invalid UTF-8 in a string");
        }
        cp = cp << 6 | (c->p[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return fail(c, "invalid UTF-8 in a string");
    }
    c->p += n + 1;
    return true;
}

/* \uXXXX at c->p (after the backslash and 'u'): a lone or reversed
 * surrogate, or U+0000 (which would cut the string json-glib hands back),
 * is refused. */
static bool escape_u(cur *c)
{
    unsigned v;

    if (c->end - c->p < 4 || !is_hex(c->p[0]) || !is_hex(c->p[1]) || !is_hex(c->p[2]) ||
        !is_hex(c->p[3])) {
        return fail(c, "a \\u escape needs four hex digits");
    }
    v = hex4(c->p);
    c->p += 4;
    if (v == 0) {
        return fail(c, "\\u0000 in a string");
    }
    if (v >= 0xdc00 && v <= 0xdfff) {
        return fail(c, "a lone low surrogate in a string");
    }
    if (v >= 0xd800 && v <= 0xdbff) {
        if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' || !is_hex(c->p[2]) ||
            !is_hex(c->p[3]) || !is_hex(c->p[4]) || !is_hex(c->p[5])) {
            return fail(c, "a lone high surrogate in a string");
        }
        v = hex4(c->p + 2);
        if (v < 0xdc00 || v > 0xdfff) {
            return fail(c, "a lone high surrogate in a string");
        }
        c->p += 6;
    }
    return true;
}

/* A string, c->p at its opening quote. */
static bool string(cur *c)
{
    c->p++;
    while (c->p < c->end) {
        unsigned char ch = *c->p;

        if (ch == '"') {
            c->p++;
            return true;
        }
        if (ch < 0x20) {
            return fail(c, "a control character in a string");
        }
        if (ch >= 0x80) {
            if (!utf8_seq(c)) {
                return false;
            }
            continue;
        }
        c->p++;
        if (ch != '\\') {
            continue;
        }
        if (c->p >= c->end) {
            break;
        }
        ch = *c->p++;
        if (ch == 'u') {
            if (!escape_u(c)) {
                return false;
            }
        } else if (!strchr("\"\\/bfnrt", ch) || ch == 0) {
            return fail(c, "an unknown escape in a string");
        }
    }
    return fail(c, "a string is cut short");
}

static size_t digits(cur *c)
{
    const unsigned char *s = c->p;

    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        c->p++;
    }
    return (size_t)(c->p - s);
}

/* A number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool number(cur *c)
{
    if (c->p < c->end && *c->p == '-') {
        c->p++;
    }
    if (c->p < c->end && *c->p == '0') {
        c->p++;
    } else if (!digits(c)) {
        return fail(c, "a malformed number");
    }
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!digits(c)) {
            return fail(c, "a malformed number");
        }
    }
    if (c->p < c->end && (*c->p | 0x20) == 'e') {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-')) {
            c->p++;
        }
        if (!digits(c)) {
            return fail(c, "a malformed number");
        }
    }
    return true;
}

static bool literal(cur *c, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) {
        return fail(c, "an unknown word");
    }
    c->p += n;
    return true;
}

/* A scalar at c->p (the first byte decides). */
static bool scalar(cur *c)
{
    switch (*c->p) {
    case '"':
        return string(c);
    case 't':
        return literal(c, "true");
    case 'f':
        return literal(c, "false");
    case 'n':
        return literal(c, "null");
    default:
        return number(c);
    }
}

/* A member's name and its ':' (whitespace around both skipped). */
static bool member_name(cur *c)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p != '"' || !string(c)) {
        return fail(c, "an object member needs a string name");
    }
    skip_ws(c);
    if (c->p >= c->end || *c->p != ':') {
        return fail(c, "':' expected after a member name");
    }
    c->p++;
    return true;
}

bool json_check(const char *text, size_t len, unsigned max_depth, const char **why)
{
    /* One bit per open container: 1 an object, 0 an array. */
    uint8_t stack[JSON_CHECK_MAX_DEPTH / 8 + 1];
    cur c = {(const unsigned char *)text, (const unsigned char *)text + len, NULL};
    unsigned depth = 0;
    bool ok = true;

    if (max_depth > JSON_CHECK_MAX_DEPTH) {
        max_depth = JSON_CHECK_MAX_DEPTH;
    }
    for (;;) {
        /* Here a value is due (at the top, after '[', ',' or ':'). */
        skip_ws(&c);
        if (c.p >= c.end) {
            ok = fail(&c, "the message ends inside a value");
            break;
        }
        if (*c.p == '{' || *c.p == '[') {
            bool obj = *c.p == '{';

            if (depth >= max_depth) {
                ok = fail(&c, "nesting too deep");
                break;
            }
            stack[depth / 8] = (uint8_t)((stack[depth / 8] & ~(1u << depth % 8)) |
                                         (obj ? 1u << depth % 8 : 0));
            depth++;
            c.p++;
            skip_ws(&c);
            if (c.p < c.end && *c.p == (obj ? '}' : ']')) {
                c.p++;
                depth--;
            } else if (obj) {
                if (!member_name(&c)) {
                    ok = false;
                    break;
                }
                continue;
            } else {
                continue;
            }
        } else if (!scalar(&c)) {
            ok = false;
            break;
        }
        /* A value ended: close containers or go on to the next element. */
        for (;;) {
            bool obj;

            skip_ws(&c);
            if (depth == 0) {
                break;
            }
            obj = stack[(depth - 1) / 8] >> (depth - 1) % 8 & 1;
            if (c.p < c.end && *c.p == (obj ? '}' : ']')) {
                c.p++;
                depth--;
                continue;
            }
            if (c.p >= c.end || *c.p != ',') {
                ok = fail(&c, obj ? "',' or '}' expected" : "',' or ']' expected");
                break;
            }
            c.p++;
            if (obj && !member_name(&c)) {
                ok = false;
            }
            break;
        }
        if (!ok || depth == 0) {
            break;
        }
    }
    if (ok && c.p != c.end) {
        ok = fail(&c, "more text after the value");
    }
    if (why) {
        *why = ok ? NULL : c.why;
    }
    return ok;
}
