/*
 * tessera core: the gdb remote serial protocol stub (-gdb, -s).
 *
 * Three layers: the packet framing (gdbstub-proto.c: '$data#cs', acks,
 * escapes, the interrupt byte; nothing here trusts the client), the
 * session (gdbstub.c: one connected debugger, its commands, run control)
 * and the listening socket served from the GLib main loop (gdbstub.c).
 * Target descriptions (registers per architecture) are gdbstub-xml.c.
 */
#ifndef TESSERA_GDBSTUB_H
#define TESSERA_GDBSTUB_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* ---- framing (gdbstub-proto.c) ---- */

/* Largest packet payload we take (and advertise as PacketSize): a longer
 * one is swallowed whole and answered with an error, never buffered. */
#define GDB_MAX_PACKET 16384

typedef enum gdb_event {
    GDB_EV_NONE,      /* byte consumed, nothing complete yet */
    GDB_EV_PACKET,    /* rx->buf[0..len) holds a packet with a good checksum */
    GDB_EV_BAD_CSUM,  /* a packet ended with a wrong or malformed checksum */
    GDB_EV_OVERFLOW,  /* a packet longer than GDB_MAX_PACKET ended */
    GDB_EV_INTERRUPT, /* 0x03 outside a packet: stop the target */
    GDB_EV_ACK,       /* '+' */
    GDB_EV_NAK,       /* '-': resend the last reply */
} gdb_event;

typedef struct gdb_rx {
    int state;
    bool overflow;
    uint8_t sum;   /* running sum of the payload */
    uint8_t given; /* checksum digits read so far */
    size_t len;
    char buf[GDB_MAX_PACKET + 1]; /* NUL after the payload */
} gdb_rx;

void gdb_rx_init(gdb_rx *rx);
gdb_event gdb_rx_byte(gdb_rx *rx, uint8_t c);
/* Append "$payload#cs" to out, escaping '$', '#', '}' and '*'. */
void gdb_frame(GString *out, const char *payload, size_t len);
/* Undo the '}' escapes of a binary payload in place; the new length, or
 * -1 when it ends in the middle of an escape. */
ssize_t gdb_unescape(char *buf, size_t len);
/* Hex helpers: -1 on a non-hex digit. */
int gdb_hexval(char c);
/* Decode up to max bytes of hex; the bytes decoded, or -1 on bad hex or
 * an odd number of digits. */
ssize_t gdb_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t max);
void gdb_hex_append(GString *out, const uint8_t *buf, size_t len);
/* A hex number from *p up to a delimiter in delims (or the end);
 * advances *p past it. false: no digits, a bad digit or overflow. */
bool gdb_parse_hex(const char **p, const char *end, uint64_t *v);

/* ---- target descriptions (gdbstub-xml.c) ---- */

typedef struct gdb_arch gdb_arch;
/* The description of the CPU architecture arch ("x86_64", "aarch64"), or
 * NULL when there is none. */
const gdb_arch *gdb_arch_find(const char *arch);
const char *gdb_arch_xml(const gdb_arch *a);     /* target.xml, whole */
unsigned gdb_arch_nregs(const gdb_arch *a);       /* every register */
unsigned gdb_arch_g_regs(const gdb_arch *a);      /* those of 'g' and 'G' */
unsigned gdb_arch_reg_bytes(const gdb_arch *a, unsigned reg); /* 0: none */
int gdb_arch_pc_reg(const gdb_arch *a);
int gdb_arch_reg_find(const gdb_arch *a, const char *name); /* its number, or -1 */

/* ---- the session (gdbstub.c) ---- */

typedef struct gdb_session gdb_session;
/* A session whose output goes to write(opaque, ...). */
gdb_session *gdb_session_new(void (*write)(void *opaque, const void *buf, size_t len),
                             void *opaque);
void gdb_session_free(gdb_session *s);
/* Bytes from the client; replies go out through write. Takes the lock. */
void gdb_session_input(gdb_session *s, const uint8_t *buf, size_t len);

/* The session the machine reports to (stops the machine, as QEMU does on
 * a connection); detach removes its points and resumes a machine it had
 * stopped. */
void gdb_session_attach(gdb_session *s);
void gdb_session_detach(gdb_session *s);

/* ---- the server (gdbstub-server.c) ---- */

/* -gdb DEV: "tcp:[HOST]:PORT" (HOST empty: every address, as QEMU) or
 * "none". One client at a time. */
bool gdbstub_add(const char *spec, char **errp);
/* accel.c, vCPU thread, machine lock held: exec() of cpu returned
 * TES_EXEC_DEBUG. Stops the machine and tells a waiting debugger; does
 * nothing when no debugger is attached. */
void gdbstub_debug_stop(tes_cpu *cpu);
/* The machine stopped (vm_stop, any thread, lock held): a debugger waiting
 * for its vCPUs to stop is answered. */
void gdbstub_vm_stopped(void);
/* Process exit: a waiting debugger learns the guest is gone. */
void gdbstub_close(void);
/* Teardown: gdbstub_close, then close the client and the socket. */
void gdbstub_shutdown(void);

#endif
