/*
 * json-check: a strict syntax check of one JSON value (json-check.c).
 */
#ifndef TESSERA_JSON_CHECK_H
#define TESSERA_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* The deepest nesting json_check can follow (QEMU's QMP limit). */
#define JSON_CHECK_MAX_DEPTH 1024

/* True when text[0..len) is exactly one JSON value (RFC 8259, UTF-8,
 * whitespace around it allowed) nested at most max_depth (capped at
 * JSON_CHECK_MAX_DEPTH) deep, with no "\u0000" and no lone surrogate.
 * Otherwise false, and *why (if why) says what is wrong. */
bool json_check(const char *text, size_t len, unsigned max_depth, const char **why);

#endif
