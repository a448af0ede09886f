/*
 * tessera core: the gdb stub's session: the commands of one debugger.
 *
 *   tessera ... -s -S             listen on tcp::1234, start paused
 *   tessera ... -gdb tcp::PORT    the same on PORT (tcp:HOST:PORT binds HOST)
 *   gdb-multiarch -ex 'target remote :1234' vmlinux
 *
 * All-stop, as QEMU's: a breakpoint, watchpoint or Ctrl-C stops every
 * vCPU (vm_stop), and "continue" starts them all. Each vCPU is a thread
 * (thread id = vCPU index + 1). A single step runs one instruction of the
 * chosen vCPU right here in the main loop, the others staying stopped
 * (QEMU steps with interrupts and timers off; the machine's clock is
 * stopped here while we step, pending interrupt lines are not masked).
 *
 * Packets we answer (the GDB manual's "Packets" and "General Query
 * Packets"): qSupported, qXfer:features:read (gdbstub-xml.c), QStartNoAck
 * Mode, ?, g/G, p/P, m/M/X (virtual addresses, translated by the
 * selected vCPU), Z0-Z4/z0-z4, c/s/C/S, vCont (c, C, s, S per thread),
 * H, T, qfThreadInfo/qsThreadInfo, qThreadExtraInfo, qC, qAttached, D, k;
 * anything else gets the empty reply ("not supported"). Every argument is
 * checked; a malformed packet gets "E22".
 */
#include <errno.h>
#include <string.h>

#include "gdbstub.h"

#define MAX_POINTS 64 /* gdb's Z insertions we keep (to remove on detach) */
#define MEM_CHUNK 4096
/* Replies carry at most this many bytes of memory (hex doubles them). */
#define MAX_MEM_REPLY ((GDB_MAX_PACKET - 16) / 2)

typedef struct gdb_point {
    int kind;
    uint64_t addr, len;
} gdb_point;

struct gdb_session {
    gdb_rx rx;
    void (*write)(void *opaque, const void *buf, size_t len);
    void *opaque;
    GString *last;   /* our last packet, for '-' */
    bool no_ack;
    bool waiting;    /* the client waits for a stop reply */
    int g_cpu;       /* Hg: vCPU for registers and memory; -1 any */
    int c_cpu;       /* Hc: vCPU for s / c; -1 any */
    gdb_point points[MAX_POINTS];
    unsigned n_points;
};

/* Why the machine last stopped, for '?' and the stop reply. */
static struct {
    int signal;      /* 5 SIGTRAP (debug), 2 SIGINT (interrupt, stop) */
    int cpu;         /* vCPU index */
    int kind;        /* tes_debug_kind of a watchpoint, or -1 */
    uint64_t addr;   /* its data address */
    bool why_set;    /* set for the stop under way (else: a monitor's stop) */
} stop = {5, 0, -1, 0, false};

/* The attached session, if any (gdbstub_debug_stop looks). */
static gdb_session *active;

/* ---- replies ---- */

static void send_packet(gdb_session *s, const char *payload, size_t len)
{
    g_string_truncate(s->last, 0);
    gdb_frame(s->last, payload, len);
    s->write(s->opaque, s->last->str, s->last->len);
}

static void reply(gdb_session *s, const char *text)
{
    send_packet(s, text, strlen(text));
}

static void reply_gs(gdb_session *s, GString *g)
{
    send_packet(s, g->str, g->len);
    g_string_free(g, true);
}

#define E_INVAL "E22"
#define E_FAULT "E0e"

/* ---- vCPUs and threads ---- */

static tes_cpu *cpu_of(int index)
{
    if (index < 0) {
        index = stop.cpu;
    }
    tes_cpu *cpu = cpu_by_index((unsigned)index);
    return cpu ? cpu : cpu_by_index(0);
}

static const gdb_arch *arch_of(tes_cpu *cpu)
{
    return cpu ? gdb_arch_find(cpu->ops->arch) : NULL;
}

/* "-1" (all), "0" (any) or a thread id; false when malformed or no such
 * vCPU. *index -1 for all/any. */
static bool parse_thread(const char *p, const char *end, int *index)
{
    uint64_t tid;

    if (end - p == 2 && p[0] == '-' && p[1] == '1') {
        *index = -1;
        return true;
    }
    if (!gdb_parse_hex(&p, end, &tid) || p != end) {
        return false;
    }
    if (tid == 0) {
        *index = -1;
        return true;
    }
    if (tid > cpu_count() || !cpu_by_index((unsigned)(tid - 1))) {
        return false;
    }
    *index = (int)(tid - 1);
    return true;
}

static GString *stop_reply(void)
{
    static const char *const watch[] = {
        [TES_DEBUG_WATCH_WRITE] = "watch",
        [TES_DEBUG_WATCH_READ] = "rwatch",
        [TES_DEBUG_WATCH_ACCESS] = "awatch",
    };
    GString *g = g_string_new(NULL);

    g_string_append_printf(g, "T%02xthread:%x;", stop.signal, stop.cpu + 1);
    if (stop.signal == 5 && stop.kind >= TES_DEBUG_WATCH_WRITE &&
        stop.kind <= TES_DEBUG_WATCH_ACCESS) {
        g_string_append_printf(g, "%s:%" G_GINT64_MODIFIER "x;", watch[stop.kind], stop.addr);
    }
    return g;
}

/* A stop reply makes the stopped vCPU the current thread for registers
 * and memory (gdb records it as the remote's general thread and sends no
 * Hg before its next 'g'; QEMU does the same). */
static void reply_stop(gdb_session *s)
{
    s->g_cpu = stop.cpu;
    s->c_cpu = stop.cpu;
    reply_gs(s, stop_reply());
}

static void thread_list(gdb_session *s, bool first)
{
    GString *g;

    if (!first || cpu_count() == 0) {
        reply(s, "l");
        return;
    }
    g = g_string_new("m");
    for (unsigned i = 0; i < cpu_count(); i++) {
        if (cpu_by_index(i)) {
            g_string_append_printf(g, "%s%x", g->len > 1 ? "," : "", i + 1);
        }
    }
    reply_gs(s, g);
}

static void thread_extra_info(gdb_session *s, const char *p, const char *end)
{
    GString *g = g_string_new(NULL);
    char *text;
    int index;

    if (!parse_thread(p, end, &index) || index < 0) {
        g_string_free(g, true);
        reply(s, E_INVAL);
        return;
    }
    tes_cpu *cpu = cpu_by_index((unsigned)index);
    text = g_strdup_printf("CPU#%d [%s]", index,
                           !cpu->powered ? "off" : cpu->halted ? "halted" : "running");
    gdb_hex_append(g, (const uint8_t *)text, strlen(text));
    g_free(text);
    reply_gs(s, g);
}

/* ---- registers ---- */

static bool read_one_reg(tes_cpu *cpu, const gdb_arch *a, unsigned reg, GString *g)
{
    unsigned bytes = gdb_arch_reg_bytes(a, reg);
    uint8_t buf[64] = {0};
    int n = cpu->ops->read_reg ? cpu->ops->read_reg(cpu, cpu->dev->s, (int)reg, buf, sizeof(buf)) : -1;

    if (bytes == 0) {
        return false;
    }
    if (n <= 0) {
        for (unsigned i = 0; i < bytes; i++) {
            g_string_append(g, "xx"); /* unavailable */
        }
        return true;
    }
    gdb_hex_append(g, buf, bytes); /* short registers read as zero-extended */
    return true;
}

static void cmd_read_regs(gdb_session *s)
{
    tes_cpu *cpu = cpu_of(s->g_cpu);
    const gdb_arch *a = arch_of(cpu);
    GString *g;

    if (!a) {
        reply(s, "E01");
        return;
    }
    g = g_string_new(NULL);
    for (unsigned r = 0; r < gdb_arch_g_regs(a); r++) {
        read_one_reg(cpu, a, r, g);
    }
    reply_gs(s, g);
}

/* Write registers from buf (bytes of them, target order) from reg on. */
static bool write_regs(tes_cpu *cpu, const gdb_arch *a, unsigned reg, const uint8_t *buf,
                       size_t len, unsigned count)
{
    bool ok = true;

    for (unsigned i = 0; i < count; i++, reg++) {
        unsigned bytes = gdb_arch_reg_bytes(a, reg);

        if (bytes == 0 || bytes > len) {
            return false;
        }
        if (!cpu->ops->write_reg ||
            cpu->ops->write_reg(cpu, cpu->dev->s, (int)reg, buf, bytes) < 0) {
            ok = false; /* read-only for us: the others still go in */
        }
        buf += bytes;
        len -= bytes;
    }
    return ok;
}

static void cmd_write_regs(gdb_session *s, const char *p, size_t len)
{
    tes_cpu *cpu = cpu_of(s->g_cpu);
    const gdb_arch *a = arch_of(cpu);
    uint8_t *buf = g_malloc(len / 2 + 1);
    ssize_t n = gdb_hex_decode(p, len, buf, len / 2 + 1);
    size_t total = 0;

    for (unsigned r = 0; a && r < gdb_arch_g_regs(a); r++) {
        total += gdb_arch_reg_bytes(a, r);
    }
    /* gdb sends every 'g' register; writing a read-only one (a segment
     * selector) is not an error for G. */
    if (!a || n < 0 || (size_t)n != total) {
        reply(s, E_INVAL);
    } else {
        write_regs(cpu, a, 0, buf, (size_t)n, gdb_arch_g_regs(a));
        reply(s, "OK");
    }
    g_free(buf);
}

static void cmd_read_reg(gdb_session *s, const char *p, const char *end)
{
    tes_cpu *cpu = cpu_of(s->g_cpu);
    const gdb_arch *a = arch_of(cpu);
    uint64_t reg;
    GString *g = g_string_new(NULL);

    if (!a || !gdb_parse_hex(&p, end, &reg) || p != end || reg >= gdb_arch_nregs(a) ||
        !read_one_reg(cpu, a, (unsigned)reg, g)) {
        g_string_free(g, true);
        reply(s, E_INVAL);
        return;
    }
    reply_gs(s, g);
}

static void cmd_write_reg(gdb_session *s, const char *p, const char *end)
{
    tes_cpu *cpu = cpu_of(s->g_cpu);
    const gdb_arch *a = arch_of(cpu);
    uint8_t buf[64];
    uint64_t reg;
    ssize_t n;

    if (!a || !gdb_parse_hex(&p, end, &reg) || p == end || *p != '=' ||
        reg >= gdb_arch_nregs(a)) {
        reply(s, E_INVAL);
        return;
    }
    p++;
    n = gdb_hex_decode(p, (size_t)(end - p), buf, sizeof(buf));
    if (n < 0 || (size_t)n != gdb_arch_reg_bytes(a, (unsigned)reg)) {
        reply(s, E_INVAL);
        return;
    }
    reply(s, write_regs(cpu, a, (unsigned)reg, buf, (size_t)n, 1) ? "OK" : "E01");
}

/* ---- memory ---- */

/* Copy len bytes at virtual address va to or from buf through cpu's
 * translation, a page at a time; the bytes done (short at the first page
 * that does not translate or is not memory). */
static size_t access_virt(tes_cpu *cpu, uint64_t va, uint8_t *buf, size_t len, bool write)
{
    size_t done = 0;
    bool can_xlate = cpu && cpu->ops->size > offsetof(tes_cpu_ops, translate) &&
                     cpu->ops->translate;

    while (done < len) {
        uint64_t pa = va + done, n = MEM_CHUNK - ((va + done) & (MEM_CHUNK - 1));
        int r;

        n = MIN(n, len - done);
        if (can_xlate && !cpu->ops->translate(cpu, cpu->dev->s, va + done, write, &pa)) {
            break;
        }
        r = write ? as_write(memory_system(), pa, buf + done, n)
                  : as_read(memory_system(), pa, buf + done, n);
        if (r != TES_MEM_OK) {
            break;
        }
        done += n;
    }
    return done;
}

/* "ADDR,LEN" then what follows in *rest. */
static bool parse_addr_len(const char *p, const char *end, uint64_t *addr, uint64_t *len,
                           const char **rest)
{
    if (!gdb_parse_hex(&p, end, addr) || p == end || *p != ',') {
        return false;
    }
    p++;
    if (!gdb_parse_hex(&p, end, len)) {
        return false;
    }
    *rest = p;
    return true;
}

static void cmd_read_mem(gdb_session *s, const char *p, const char *end)
{
    uint64_t addr, len;
    const char *rest;
    uint8_t *buf;
    size_t n;
    GString *g;

    if (!parse_addr_len(p, end, &addr, &len, &rest) || rest != end) {
        reply(s, E_INVAL);
        return;
    }
    len = MIN(len, MAX_MEM_REPLY); /* a shorter reply is allowed */
    buf = g_malloc(len + 1);
    n = access_virt(cpu_of(s->g_cpu), addr, buf, len, false);
    if (n == 0 && len) {
        g_free(buf);
        reply(s, E_FAULT);
        return;
    }
    g = g_string_sized_new(2 * n + 1);
    gdb_hex_append(g, buf, n);
    g_free(buf);
    reply_gs(s, g);
}

/* M (hex) and X (binary, already unescaped by the caller). */
static void cmd_write_mem(gdb_session *s, const char *p, const char *end, bool binary)
{
    uint64_t addr, len;
    const char *rest;
    uint8_t *buf;
    ssize_t n;

    if (!parse_addr_len(p, end, &addr, &len, &rest) || rest == end || *rest != ':' ||
        len > GDB_MAX_PACKET) {
        reply(s, E_INVAL);
        return;
    }
    rest++;
    buf = g_malloc(len + 1);
    if (binary) {
        n = end - rest;
        if ((uint64_t)n == len) {
            memcpy(buf, rest, len);
        }
    } else {
        n = gdb_hex_decode(rest, (size_t)(end - rest), buf, len);
    }
    if (n < 0 || (uint64_t)n != len) {
        reply(s, E_INVAL);
    } else {
        reply(s, access_virt(cpu_of(s->g_cpu), addr, buf, len, true) == len ? "OK" : E_FAULT);
    }
    g_free(buf);
}

/* ---- breakpoints and watchpoints ---- */

static bool cpu_debug_point(tes_cpu *cpu, const gdb_point *pt, bool insert, int *err)
{
    const tes_cpu_ops *ops = cpu->ops;

    if (ops->size <= offsetof(tes_cpu_ops, debug_point) || !ops->debug_point) {
        *err = -ENOSYS;
        return false;
    }
    *err = ops->debug_point(cpu, cpu->dev->s, pt->kind, insert, pt->addr, pt->len);
    return *err == 0;
}

/* Insert on every vCPU, or none. 0, or a -errno. */
static int points_insert(gdb_session *s, const gdb_point *pt)
{
    int err = 0;
    unsigned i;

    if (s->n_points == MAX_POINTS) {
        return -ENOSPC;
    }
    for (i = 0; i < cpu_count(); i++) {
        tes_cpu *cpu = cpu_by_index(i);

        if (cpu && !cpu_debug_point(cpu, pt, true, &err)) {
            break;
        }
    }
    if (i < cpu_count()) {
        while (i-- > 0) {
            int ignored;

            if (cpu_by_index(i)) {
                cpu_debug_point(cpu_by_index(i), pt, false, &ignored);
            }
        }
        return err;
    }
    s->points[s->n_points++] = *pt;
    return 0;
}

static int points_remove(gdb_session *s, const gdb_point *pt)
{
    for (unsigned k = 0; k < s->n_points; k++) {
        gdb_point *q = &s->points[k];

        if (q->kind == pt->kind && q->addr == pt->addr &&
            (pt->kind <= TES_DEBUG_BREAK_HW || q->len == pt->len)) {
            for (unsigned i = 0; i < cpu_count(); i++) {
                int ignored;

                if (cpu_by_index(i)) {
                    cpu_debug_point(cpu_by_index(i), q, false, &ignored);
                }
            }
            *q = s->points[--s->n_points];
            return 0;
        }
    }
    return -ENOENT;
}

static void points_remove_all(gdb_session *s)
{
    while (s->n_points) {
        points_remove(s, &s->points[s->n_points - 1]);
    }
}

/* Z/z TYPE,ADDR,KIND[;cond...]: conditions and commands are not taken. */
static void cmd_point(gdb_session *s, const char *p, const char *end, bool insert)
{
    uint64_t type, addr, len;
    gdb_point pt;
    int err;

    if (!gdb_parse_hex(&p, end, &type) || type > 4 || p == end || *p++ != ',' ||
        !parse_addr_len(p, end, &addr, &len, &p) || (p != end && *p != ';')) {
        reply(s, E_INVAL);
        return;
    }
    if (type >= TES_DEBUG_WATCH_WRITE && (len == 0 || len > 4096)) {
        reply(s, E_INVAL);
        return;
    }
    pt = (gdb_point){(int)type, addr, len};
    err = insert ? points_insert(s, &pt) : points_remove(s, &pt);
    if (err == -ENOSYS || err == -EINVAL) {
        reply(s, ""); /* this kind is not supported: gdb tries another */
    } else {
        reply(s, err == 0 ? "OK" : err == -ENOSPC ? "E1c" : E_INVAL);
    }
}

/* ---- run control ---- */

/* The stop of the last exec(): the CPU's debug reason, if any. */
static void note_debug_reason(tes_cpu *cpu)
{
    const tes_cpu_ops *ops = cpu->ops;
    uint64_t addr = 0;

    stop.signal = 5;
    stop.cpu = (int)cpu->index;
    stop.kind = -1;
    if (ops->size > offsetof(tes_cpu_ops, debug_reason) && ops->debug_reason) {
        stop.kind = ops->debug_reason(cpu, cpu->dev->s, &addr);
        stop.addr = addr;
    }
}

/* One instruction of cpu, the machine stopped; the reply follows. */
static void step_cpu(gdb_session *s, tes_cpu *cpu)
{
    uint64_t n = 0;
    tes_exec_status st = TES_EXEC_BUDGET;

    if (cpu->powered && cpu->ops->exec) {
        gdb_point noirq = {TES_DEBUG_STEP_NOIRQ, 0, 0};
        int ignored;

        /* QEMU's default: a step does not enter an interrupt handler. */
        cpu_debug_point(cpu, &noirq, true, &ignored);
        st = cpu_exec_one(cpu, 1, &n);
        cpu_debug_point(cpu, &noirq, false, &ignored);
        cpu->insns += n;
        cpu->halted = st == TES_EXEC_HALT;
    }
    note_debug_reason(cpu);
    if (st != TES_EXEC_DEBUG) {
        stop.kind = -1;
    }
    reply_stop(s);
}

static void resume_all(gdb_session *s)
{
    s->waiting = true;
    if (runstate_get() == RUN_RUNNING) {
        return;
    }
    vm_start();
    if (runstate_get() != RUN_RUNNING) {
        /* Shut down or suspended: nothing will stop, say so now. */
        s->waiting = false;
        stop.signal = 2;
        stop.kind = -1;
        reply_stop(s);
    }
}

/* vCont;ACTION[:TID];...: the first step action wins (all-stop: the other
 * vCPUs stay stopped while it steps); otherwise any continue runs all. */
static void cmd_vcont(gdb_session *s, const char *p, const char *end)
{
    int step = -2; /* vCPU to step; -2 none */
    bool cont = false;

    while (p < end) {
        const char *a, *sep;
        int index = -1;

        if (*p++ != ';' || p == end) {
            reply(s, E_INVAL);
            return;
        }
        a = p;
        sep = memchr(p, ';', (size_t)(end - p));
        p = sep ? sep : end;
        if (*a == 'C' || *a == 'S') { /* a signal: dropped, as QEMU does */
            const char *q = a + 1;
            uint64_t sig;

            if (!gdb_parse_hex(&q, p, &sig)) {
                reply(s, E_INVAL);
                return;
            }
        }
        const char *colon = memchr(a, ':', (size_t)(p - a));
        if (colon && !parse_thread(colon + 1, p, &index)) {
            reply(s, E_INVAL);
            return;
        }
        if (*a == 's' || *a == 'S') {
            if (step == -2) {
                step = index >= 0 ? index : s->c_cpu >= 0 ? s->c_cpu : stop.cpu;
            }
        } else if (*a == 'c' || *a == 'C') {
            cont = true;
        } else {
            reply(s, E_INVAL); /* 't' and 'r' are not offered */
            return;
        }
    }
    if (step != -2 && cpu_of(step)) {
        step_cpu(s, cpu_of(step));
    } else if (cont) {
        resume_all(s);
    } else {
        reply(s, E_INVAL);
    }
}

static void cmd_detach(gdb_session *s)
{
    points_remove_all(s);
    reply(s, "OK");
    s->waiting = false;
    if (runstate_get() == RUN_DEBUG || runstate_get() == RUN_PAUSED) {
        vm_start();
    }
}

/* ---- queries ---- */

static void cmd_xfer_features(gdb_session *s, const char *p, const char *end)
{
    static const char annex[] = "target.xml:";
    const gdb_arch *a = arch_of(cpu_of(-1));
    uint64_t off, len;
    const char *rest, *xml;
    size_t size;
    GString *g;

    if ((size_t)(end - p) < sizeof(annex) - 1 || memcmp(p, annex, sizeof(annex) - 1) != 0) {
        reply(s, "E00"); /* no such annex */
        return;
    }
    if (!a || !parse_addr_len(p + sizeof(annex) - 1, end, &off, &len, &rest) || rest != end) {
        reply(s, E_INVAL);
        return;
    }
    xml = gdb_arch_xml(a);
    size = strlen(xml);
    if (off > size) {
        reply(s, E_INVAL);
        return;
    }
    len = MIN(len, MIN(size - off, (uint64_t)(GDB_MAX_PACKET / 2)));
    g = g_string_new(off + len < size ? "m" : "l");
    g_string_append_len(g, xml + off, (gssize)len);
    reply_gs(s, g);
}

static bool has_prefix(const char *p, const char *end, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);

    if ((size_t)(end - p) < n || memcmp(p, prefix, n) != 0) {
        return false;
    }
    *rest = p + n;
    return true;
}

static void cmd_query(gdb_session *s, const char *p, const char *end)
{
    const char *rest;

    if (has_prefix(p, end, "qSupported", &rest)) {
        reply(s, "PacketSize=4000;qXfer:features:read+;QStartNoAckMode+;vContSupported+");
    } else if (has_prefix(p, end, "qXfer:features:read:", &rest)) {
        cmd_xfer_features(s, rest, end);
    } else if (has_prefix(p, end, "qAttached", &rest)) {
        reply(s, "1");
    } else if (has_prefix(p, end, "qC", &rest) && rest == end) {
        GString *g = g_string_new(NULL);

        g_string_printf(g, "QC%x", stop.cpu + 1);
        reply_gs(s, g);
    } else if (has_prefix(p, end, "qfThreadInfo", &rest)) {
        thread_list(s, true);
    } else if (has_prefix(p, end, "qsThreadInfo", &rest)) {
        thread_list(s, false);
    } else if (has_prefix(p, end, "qThreadExtraInfo,", &rest)) {
        thread_extra_info(s, rest, end);
    } else if (has_prefix(p, end, "qSymbol::", &rest)) {
        reply(s, "OK");
    } else if (has_prefix(p, end, "QStartNoAckMode", &rest)) {
        reply(s, "OK");
        s->no_ack = true; /* from the next packet on */
    } else {
        reply(s, "");
    }
}

static void cmd_set_thread(gdb_session *s, const char *p, const char *end)
{
    int index;

    if (p == end || (*p != 'g' && *p != 'c') || !parse_thread(p + 1, end, &index)) {
        reply(s, E_INVAL);
        return;
    }
    if (*p == 'g') {
        s->g_cpu = index;
    } else {
        s->c_cpu = index;
    }
    reply(s, "OK");
}

/* c/s/C/S [ADDR] (C/S: SIG[;ADDR]): resume at ADDR is not offered. */
static void cmd_legacy_resume(gdb_session *s, const char *p, const char *end)
{
    char op = *p++;

    if (p != end) {
        reply(s, E_INVAL);
        return;
    }
    if (op == 's') {
        step_cpu(s, cpu_of(s->c_cpu));
    } else {
        resume_all(s);
    }
}

static void dispatch(gdb_session *s, char *p, size_t len)
{
    const char *end = p + len, *rest;
    int index;

    if (cpu_count() == 0 && len &&
        (strchr("gGpPmMXzZcsCSTH", p[0]) || has_prefix(p, end, "vCont;", &rest))) {
        reply(s, "E01"); /* no machine to debug */
        return;
    }
    switch (len ? p[0] : 0) {
    case '?':
        reply_stop(s);
        break;
    case 'g':
        cmd_read_regs(s);
        break;
    case 'G':
        cmd_write_regs(s, p + 1, len - 1);
        break;
    case 'p':
        cmd_read_reg(s, p + 1, end);
        break;
    case 'P':
        cmd_write_reg(s, p + 1, end);
        break;
    case 'm':
        cmd_read_mem(s, p + 1, end);
        break;
    case 'M':
        cmd_write_mem(s, p + 1, end, false);
        break;
    case 'X': {
        ssize_t n = gdb_unescape(p + 1, len - 1);

        if (n < 0) {
            reply(s, E_INVAL);
        } else {
            cmd_write_mem(s, p + 1, p + 1 + n, true);
        }
        break;
    }
    case 'Z':
    case 'z':
        cmd_point(s, p + 1, end, p[0] == 'Z');
        break;
    case 'c':
    case 's':
        cmd_legacy_resume(s, p, end);
        break;
    case 'C':
    case 'S': { /* the signal is dropped */
        const char *q = p + 1;
        uint64_t sig;

        if (!gdb_parse_hex(&q, end, &sig) || q != end) {
            reply(s, E_INVAL);
        } else if (p[0] == 'S') {
            step_cpu(s, cpu_of(s->c_cpu));
        } else {
            resume_all(s);
        }
        break;
    }
    case 'v':
        if (has_prefix(p, end, "vCont?", &rest) && rest == end) {
            reply(s, "vCont;c;C;s;S");
        } else if (has_prefix(p, end, "vCont", &rest)) {
            cmd_vcont(s, rest, end);
        } else {
            reply(s, ""); /* vMustReplyEmpty and the rest */
        }
        break;
    case 'H':
        cmd_set_thread(s, p + 1, end);
        break;
    case 'T':
        reply(s, parse_thread(p + 1, end, &index) ? "OK" : E_INVAL);
        break;
    case 'q':
    case 'Q':
        cmd_query(s, p, end);
        break;
    case 'D':
        cmd_detach(s);
        break;
    case 'k':
        /* gdb's "kill": QEMU ends the process; no reply is expected. */
        points_remove_all(s);
        core_request_shutdown(0);
        break;
    default:
        reply(s, "");
        break;
    }
}

/* ---- input ---- */

static void on_interrupt(gdb_session *s)
{
    if (!s->waiting) {
        return; /* already stopped: gdb only asks once it resumed us */
    }
    stop.signal = 2;
    stop.kind = -1;
    stop.why_set = true;
    if (runstate_get() != RUN_RUNNING) {
        /* Not running (suspended, shut down): nothing else will answer. */
        s->waiting = false;
        reply_stop(s);
        return;
    }
    vm_stop(RUN_PAUSED); /* gdbstub_vm_stopped answers */
}

static void on_event(gdb_session *s, gdb_event ev)
{
    switch (ev) {
    case GDB_EV_PACKET:
        if (!s->no_ack) {
            s->write(s->opaque, "+", 1);
        }
        dispatch(s, s->rx.buf, s->rx.len);
        break;
    case GDB_EV_BAD_CSUM:
        if (!s->no_ack) {
            s->write(s->opaque, "-", 1); /* the client sends it again */
        }
        break;
    case GDB_EV_OVERFLOW:
        /* Asking for it again would loop: take it and refuse it. */
        if (!s->no_ack) {
            s->write(s->opaque, "+", 1);
        }
        reply(s, "E01");
        break;
    case GDB_EV_NAK:
        if (!s->no_ack && s->last->len) {
            s->write(s->opaque, s->last->str, s->last->len);
        }
        break;
    case GDB_EV_INTERRUPT:
        on_interrupt(s);
        break;
    default:
        break;
    }
}

void gdb_session_input(gdb_session *s, const uint8_t *buf, size_t len)
{
    core_lock();
    for (size_t i = 0; i < len; i++) {
        on_event(s, gdb_rx_byte(&s->rx, buf[i]));
    }
    core_unlock();
}

gdb_session *gdb_session_new(void (*write)(void *opaque, const void *buf, size_t len),
                             void *opaque)
{
    gdb_session *s = g_new0(gdb_session, 1);

    gdb_rx_init(&s->rx);
    s->write = write;
    s->opaque = opaque;
    s->last = g_string_new(NULL);
    s->g_cpu = -1;
    s->c_cpu = -1;
    return s;
}

void gdb_session_free(gdb_session *s)
{
    if (!s) {
        return;
    }
    core_lock();
    points_remove_all(s);
    if (active == s) {
        active = NULL;
    }
    core_unlock();
    g_string_free(s->last, true);
    g_free(s);
}

/* ---- the machine's side ---- */

/* The server's session becomes the one the machine reports to; the
 * machine stops, as QEMU's does when a debugger connects. */
void gdb_session_attach(gdb_session *s)
{
    core_lock();
    active = s;
    s->waiting = false;
    stop.signal = 5;
    stop.kind = -1;
    if (runstate_get() == RUN_RUNNING) {
        vm_stop(RUN_PAUSED);
    }
    core_unlock();
}

/* The session let go: what it inserted goes, a machine it stopped runs. */
void gdb_session_detach(gdb_session *s)
{
    core_lock();
    bool was_active = active == s;
    points_remove_all(s);
    if (was_active) {
        active = NULL;
        if (runstate_get() == RUN_DEBUG || runstate_get() == RUN_PAUSED) {
            vm_start();
        }
    }
    core_unlock();
}

void gdbstub_debug_stop(tes_cpu *cpu)
{
    if (!active) {
        return; /* a point left by nobody: run on */
    }
    note_debug_reason(cpu);
    stop.why_set = true;
    vm_stop(RUN_DEBUG);
}

static gboolean send_stop(gpointer opaque)
{
    core_lock();
    if (active && active->waiting && runstate_get() != RUN_RUNNING) {
        active->waiting = false;
        reply_stop(active);
    }
    core_unlock();
    return G_SOURCE_REMOVE;
}

void gdbstub_vm_stopped(void)
{
    if (!stop.why_set) {
        /* stop, migration, a guest's S3: gdb hears SIGINT, as from QEMU */
        stop.signal = 2;
        stop.kind = -1;
    }
    stop.why_set = false;
    if (active && active->waiting) {
        g_idle_add(send_stop, NULL); /* from any thread: the main loop sends */
        g_main_context_wakeup(NULL);
    }
}

void gdbstub_close(void)
{
    core_lock();
    if (active && active->waiting) {
        active->waiting = false;
        reply(active, "W00"); /* the process exited with 0 */
    }
    core_unlock();
}
