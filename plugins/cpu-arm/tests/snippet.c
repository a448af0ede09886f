/*
 * Instruction-test framework for cpu-arm (see snippet.h): assembles
 * snippets with the aarch64 cross binutils, runs them on tessera through
 * the harness and under qemu-aarch64, and compares the results.
 */
#include "snippet.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#define AS "aarch64-linux-gnu-as"
#define LD "aarch64-linux-gnu-ld"
#define OBJCOPY "aarch64-linux-gnu-objcopy"
#define QEMU "qemu-aarch64"

typedef struct built {
    char *elf;
    GBytes *bin;
} built;

static const char *plugin_path;
static char *tmpdir;
static GHashTable *cache; /* asm text -> built */
static GPtrArray *tmpfiles;
static unsigned serial;

/* Linker script: fixed addresses so both modes see the same layout. */
static const char ld_script[] =
    "ENTRY(_start)\n"
    "SECTIONS {\n"
    "  . = 0x400000; .text : { *(.text) }\n"
    "  . = 0x500000; .snippet : { *(.snippet) }\n"
    "  . = 0x580000; .epilogue : { *(.epilogue) }\n"
    "  . = 0x600000; .data : { *(.data) *(.bss) }\n"
    "  . = 0x700000; .scratch : { *(.scratch) }\n"
    "}\n";

/* Prologue (qemu only): open argv[1], then per record read the registers
 * and the scratch buffer, load every register and jump to the snippet.
 * Offsets follow snippet_regs: sp 248, nzcv 256, fpsr 264, fpcr 272,
 * v 288; the record is 800 + 8192 bytes. */
static const char prologue[] =
    "    .text\n"
    "    .global _start\n"
    "_start:\n"
    "    ldr x1, [sp, #16]\n"
    "    mov x0, #-100\n"
    "    mov x2, #0\n"
    "    mov x3, #0\n"
    "    mov x8, #56\n"
    "    svc #0\n"
    "    adrp x9, sn_fd\n"
    "    str x0, [x9, :lo12:sn_fd]\n"
    "sn_next:\n"
    "    adrp x9, sn_fd\n"
    "    ldr x0, [x9, :lo12:sn_fd]\n"
    "    adrp x1, sn_init\n"
    "    add x1, x1, :lo12:sn_init\n"
    "    mov x2, #800\n"
    "    mov x8, #63\n"
    "    svc #0\n"
    "    cmp x0, #800\n"
    "    b.ne sn_done\n"
    "    adrp x9, sn_fd\n"
    "    ldr x0, [x9, :lo12:sn_fd]\n"
    "    mov x1, #0x700000\n"
    "    mov x2, #8192\n"
    "    mov x8, #63\n"
    "    svc #0\n"
    "    cmp x0, x2\n"
    "    b.ne sn_done\n"
    "    adrp x0, sn_init\n"
    "    add x0, x0, :lo12:sn_init\n"
    "    add x1, x0, #288\n"
    "@LDPQ@"
    "    ldr x1, [x0, #256]\n"
    "    msr nzcv, x1\n"
    "    ldr x1, [x0, #264]\n"
    "    msr fpsr, x1\n"
    "    ldr x1, [x0, #272]\n"
    "    msr fpcr, x1\n"
    "    ldr x1, [x0, #248]\n"
    "    mov sp, x1\n"
    "@LDPX@"
    "    ldr x30, [x0, #240]\n"
    "    ldp x0, x1, [x0]\n"
    "    b snippet_start\n"
    "sn_done:\n"
    "    mov x0, #0\n"
    "    mov x8, #94\n"
    "    svc #0\n"
    "    .section .snippet, \"ax\"\n"
    "snippet_start:\n";

/* Epilogue (qemu only): dump the registers and the scratch buffer to
 * stdout, then take the next record. TPIDR_EL0 holds x0 meanwhile. */
static const char epilogue[] =
    "\n    .section .snippet, \"ax\"\n"
    "    b sn_epilogue\n"
    "    .section .epilogue, \"ax\"\n"
    "sn_epilogue:\n"
    "    msr tpidr_el0, x0\n"
    "    adrp x0, sn_dump\n"
    "    add x0, x0, :lo12:sn_dump\n"
    "@STPX@"
    "    mrs x1, tpidr_el0\n"
    "    str x1, [x0]\n"
    "    mov x1, sp\n"
    "    str x1, [x0, #248]\n"
    "    mrs x1, nzcv\n"
    "    str x1, [x0, #256]\n"
    "    mrs x1, fpsr\n"
    "    str x1, [x0, #264]\n"
    "    mrs x1, fpcr\n"
    "    str x1, [x0, #272]\n"
    "    str xzr, [x0, #280]\n"
    "    add x1, x0, #288\n"
    "@STPQ@"
    "    mov x1, x0\n"
    "    mov x0, #1\n"
    "    mov x2, #800\n"
    "    mov x8, #64\n"
    "    svc #0\n"
    "    mov x0, #1\n"
    "    mov x1, #0x700000\n"
    "    mov x2, #8192\n"
    "    mov x8, #64\n"
    "    svc #0\n"
    "    b sn_next\n"
    "    .data\n"
    "    .balign 16\n"
    "sn_init: .space 800\n"
    "sn_dump: .space 800\n"
    "sn_fd: .quad 0\n"
    "    .section .scratch, \"aw\"\n"
    "    .space 8192\n";

G_STATIC_ASSERT(sizeof(snippet_regs) == 800);
G_STATIC_ASSERT(G_STRUCT_OFFSET(snippet_regs, v) == 288);

/* Expand the @LDPQ@-style register-pair runs of a template (gas .irp
 * cannot compute n+1 in a register name). */
static void expand(GString *out, const char *tmpl)
{
    for (const char *p = tmpl; *p; p++) {
        const char *op, *fmt;
        int first, last;

        if (*p != '@') {
            g_string_append_c(out, *p);
            continue;
        }
        if (g_str_has_prefix(p, "@LDPQ@") || g_str_has_prefix(p, "@STPQ@")) {
            op = p[1] == 'L' ? "ldp" : "stp";
            fmt = "    %s q%d, q%d, [x1], #32\n";
            first = 0;
            last = 30;
        } else {
            op = p[1] == 'L' ? "ldp" : "stp";
            fmt = "    %s x%d, x%d, [x0, #%d]\n";
            first = p[1] == 'L' ? 2 : 1;
            last = p[1] == 'L' ? 28 : 29;
        }
        for (int n = first; n <= last; n += 2) {
            g_string_append_printf(out, fmt, op, n, n + 1, n * 8);
        }
        p += 5;
    }
}

static void cleanup(void)
{
    if (!tmpfiles) {
        return;
    }
    for (unsigned i = 0; i < tmpfiles->len; i++) {
        g_remove(g_ptr_array_index(tmpfiles, i));
    }
    g_rmdir(tmpdir);
}

void snippet_init(int argc, char **argv)
{
    GError *err = NULL;

    plugin_path = g_getenv("CPU_ARM_PLUGIN");
    if (!plugin_path && argc > 1 && argv[1][0] != '-') {
        plugin_path = argv[1];
    }
    if (!plugin_path) {
        g_error("snippet: set CPU_ARM_PLUGIN or pass the cpu-arm .so path");
    }
    tmpdir = g_dir_make_tmp("tessera-snippet-XXXXXX", &err);
    g_assert_no_error(err);
    cache = g_hash_table_new(g_str_hash, g_str_equal);
    tmpfiles = g_ptr_array_new_with_free_func(g_free);
    atexit(cleanup);
}

const char *snippet_plugin_path(void)
{
    return plugin_path;
}

void snippet_regs_init(snippet_regs *r)
{
    memset(r, 0, sizeof(*r));
    r->x[28] = SNIPPET_SCRATCH_MID;
    r->sp = SNIPPET_SCRATCH_ADDR + 0x1800;
}

void snippet_state_init(snippet_state *s, const snippet_regs *r)
{
    s->r = *r;
    for (unsigned i = 0; i < SNIPPET_SCRATCH_SIZE; i++) {
        s->scratch[i] = (uint8_t)(i * 37 + 11 + (i >> 8));
    }
}

static char *tmp_path(const char *ext)
{
    char *p = g_strdup_printf("%s/s%u.%s", tmpdir, serial, ext);

    g_ptr_array_add(tmpfiles, g_strdup(p));
    return p;
}

/* Run argv; on failure fail hard with the tool's stderr. */
static void run_tool(char **argv)
{
    GError *err = NULL;
    char *sout = NULL, *serr = NULL;
    int status = 0;
    char *cmd = g_strjoinv(" ", argv);

    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &sout, &serr, &status,
                      &err)) {
        g_error("snippet: cannot run %s: %s", cmd, err->message);
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_error("snippet: '%s' failed:\n%s", cmd, serr);
    }
    g_free(sout);
    g_free(serr);
    g_free(cmd);
}

static built *build(const char *asm_text)
{
    char *src, *obj, *elf, *bin, *lds, *data = NULL;
    GString *text;
    gsize len = 0;
    GError *err = NULL;
    built *b;

    serial++;
    src = tmp_path("s");
    obj = tmp_path("o");
    elf = tmp_path("elf");
    bin = tmp_path("bin");
    lds = tmp_path("ld");
    text = g_string_new(NULL);
    expand(text, prologue);
    g_string_append(text, asm_text);
    expand(text, epilogue);
    g_assert_true(g_file_set_contents(src, text->str, -1, NULL));
    g_assert_true(g_file_set_contents(lds, ld_script, -1, NULL));
    {
        char *as_argv[] = {AS, "-march=armv8-a+crc+crypto", "-o", obj, src, NULL};
        char *ld_argv[] = {LD, "-static", "-T", lds, "-o", elf, obj, NULL};
        char *oc_argv[] = {OBJCOPY, "-O", "binary", "-j", ".snippet", elf, bin, NULL};

        run_tool(as_argv);
        run_tool(ld_argv);
        run_tool(oc_argv);
    }
    if (!g_file_get_contents(bin, &data, &len, &err)) {
        g_error("snippet: %s", err->message);
    }
    b = g_new0(built, 1);
    b->elf = elf;
    b->bin = g_bytes_new_take(data, len);
    g_free(src);
    g_free(obj);
    g_free(bin);
    g_free(lds);
    g_string_free(text, TRUE);
    return b;
}

static built *build_cached(const char *asm_text)
{
    built *b = g_hash_table_lookup(cache, asm_text);

    if (!b) {
        b = build(asm_text);
        g_hash_table_insert(cache, g_strdup(asm_text), b);
    }
    return b;
}

GBytes *snippet_build(const char *asm_text)
{
    return build_cached(asm_text)->bin;
}

/* ---- tessera side ---- */

tes_harness *snippet_harness(tes_cpu **cpu, arm_cpu **c)
{
    tes_harness *h = tes_harness_new(SNIPPET_RAM_SIZE);

    if (!tes_harness_load(h, plugin_path)) {
        g_error("snippet: loading %s: %s", plugin_path, tes_harness_error(h));
    }
    *cpu = tes_harness_cpu(h, "cortex-a57", 0);
    if (!*cpu) {
        g_error("snippet: %s", tes_harness_error(h));
    }
    *c = tes_harness_cpu_state(*cpu);
    (*c)->jit = snippet_jit();
    /* FP/SIMD enabled at EL1 and EL0 as under Linux (CPACR_EL1.FPEN=11). */
    (*c)->cpacr_el1 |= 3u << 20;
    return h;
}

bool snippet_jit(void)
{
    const char *e = g_getenv("CPU_ARM_JIT");

    return !e || strcmp(e, "off") != 0;
}

void snippet_load_code(tes_harness *h, arm_cpu *c, uint64_t addr, const void *code, size_t len)
{
    const uint8_t *p = code;

    g_assert_cmpuint(addr + len, <=, tes_harness_ram_size(h));
    /* Through the core, as DMA would: translated code of these pages is
     * dropped (a memcpy into RAM would leave it stale). */
    for (size_t i = 0; i < len; i++) {
        tes_harness_write(h, addr + i, p[i], 1);
    }
    c->pc = addr;
}

static uint64_t *sp_of(arm_cpu *c)
{
    return (c->el == 0 || c->spsel == 0) ? &c->sp_el0 : &c->sp_el1;
}

static void put_state(arm_cpu *c, uint8_t *ram, const snippet_state *in)
{
    memcpy(c->x, in->r.x, sizeof(in->r.x));
    *sp_of(c) = in->r.sp;
    c->nzcv = (uint32_t)in->r.nzcv & 0xf0000000u;
    c->fpsr = (uint32_t)in->r.fpsr;
    c->fpcr = (uint32_t)in->r.fpcr;
    for (int i = 0; i < 32; i++) {
        c->v[i].d[0] = in->r.v[i][0];
        c->v[i].d[1] = in->r.v[i][1];
    }
    memcpy(ram + SNIPPET_SCRATCH_ADDR, in->scratch, SNIPPET_SCRATCH_SIZE);
}

static void get_state(arm_cpu *c, const uint8_t *ram, snippet_state *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->r.x, c->x, sizeof(out->r.x));
    out->r.sp = *sp_of(c);
    out->r.nzcv = c->nzcv;
    out->r.fpsr = c->fpsr;
    out->r.fpcr = c->fpcr;
    for (int i = 0; i < 32; i++) {
        out->r.v[i][0] = c->v[i].d[0];
        out->r.v[i][1] = c->v[i].d[1];
    }
    memcpy(out->scratch, ram + SNIPPET_SCRATCH_ADDR, SNIPPET_SCRATCH_SIZE);
}

/* The translator runs whole blocks, so it cannot stop at the end
 * address: the end spins on "b ." and one exec() call runs the lot. */
static bool run_to_end_jit(tes_harness *h, tes_cpu *cpu, arm_cpu *c, char **why)
{
    tes_exec_status st;

    tes_harness_write(h, SNIPPET_END_ADDR, 0x14000000u, 4); /* b . */
    st = tes_harness_cpu_exec(h, cpu, SNIPPET_MAX_STEPS, NULL);
    if (c->pc == SNIPPET_END_ADDR) {
        return true;
    }
    if (c->pc - c->vbar_el1 < 0x800) {
        *why = g_strdup_printf("exception taken: ESR_EL1 0x%" G_GINT64_MODIFIER
                               "x ELR_EL1 0x%" G_GINT64_MODIFIER "x",
                               c->esr_el1, c->elr_el1);
    } else {
        *why = g_strdup_printf("exec stopped (status %d) at pc 0x%" G_GINT64_MODIFIER "x", st,
                               c->pc);
    }
    return false;
}

/* Step until pc reaches the end; false with a reason otherwise. */
static bool step_to_end(tes_harness *h, tes_cpu *cpu, arm_cpu *c, char **why)
{
    if (c->jit) {
        return run_to_end_jit(h, cpu, c, why);
    }
    for (unsigned n = 0; n < SNIPPET_MAX_STEPS; n++) {
        tes_exec_status st;

        if (c->pc == SNIPPET_END_ADDR) {
            return true;
        }
        st = tes_harness_cpu_exec(h, cpu, 1, NULL);
        if (c->pc - c->vbar_el1 < 0x800) {
            *why = g_strdup_printf("exception taken: ESR_EL1 0x%" G_GINT64_MODIFIER
                                   "x ELR_EL1 0x%" G_GINT64_MODIFIER "x",
                                   c->esr_el1, c->elr_el1);
            return false;
        }
        if (st == TES_EXEC_HALT || st == TES_EXEC_EXIT) {
            *why = g_strdup_printf("exec stopped (status %d) at pc 0x%" G_GINT64_MODIFIER "x",
                                   st, c->pc);
            return false;
        }
    }
    *why = g_strdup_printf("did not reach the end in %u steps (pc 0x%" G_GINT64_MODIFIER "x)",
                           SNIPPET_MAX_STEPS, c->pc);
    return false;
}

bool snippet_run_tessera(const char *asm_text, const snippet_state *in, snippet_state *out,
                         char **why)
{
    GBytes *bin = snippet_build(asm_text);
    tes_cpu *cpu;
    arm_cpu *c;
    tes_harness *h = snippet_harness(&cpu, &c);
    uint8_t *ram = tes_harness_ram(h);
    gsize len;
    const void *code = g_bytes_get_data(bin, &len);
    bool ok;

    snippet_load_code(h, c, SNIPPET_CODE_ADDR, code, len);
    put_state(c, ram, in);
    ok = step_to_end(h, cpu, c, why);
    get_state(c, ram, out);
    tes_harness_free(h);
    return ok;
}

/* ---- qemu side ---- */

/* Run argv, returning its whole stdout (binary safe); stderr passes
 * through. Fails hard when the program cannot run or exits non-zero. */
static GByteArray *run_capture(char **argv, const char *what)
{
    GError *err = NULL;
    GPid pid;
    int fd, status;
    GByteArray *buf = g_byte_array_new();
    uint8_t chunk[65536];
    ssize_t r;

    if (!g_spawn_async_with_pipes(NULL, argv, NULL,
                                  G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                  &pid, NULL, &fd, NULL, &err)) {
        g_error("snippet: cannot run %s: %s", argv[0], err->message);
    }
    while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
        if (r < 0) {
            g_assert_cmpint(errno, ==, EINTR);
            continue;
        }
        g_byte_array_append(buf, chunk, (guint)r);
    }
    close(fd);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_error("snippet: %s failed (status 0x%x) on:\n%s", argv[0], status, what);
    }
    return buf;
}

void snippet_run_qemu(const char *asm_text, const snippet_state *in, snippet_state *out,
                      unsigned n)
{
    built *b = build_cached(asm_text);
    char *inpath = tmp_path("in");
    char *argv[] = {QEMU, "-cpu", "cortex-a57", b->elf, inpath, NULL};
    gsize want = sizeof(snippet_state) * n;
    GByteArray *got;

    g_assert_true(g_file_set_contents(inpath, (const char *)in, (gssize)want, NULL));
    got = run_capture(argv, asm_text);
    if (got->len != want) {
        g_error("snippet: " QEMU " wrote %u bytes, expected %zu, on:\n%s", got->len,
                (size_t)want, asm_text);
    }
    memcpy(out, got->data, want);
    g_byte_array_unref(got);
    g_remove(inpath);
    g_free(inpath);
}

/* ---- comparison ---- */

static void diff_u64(GString *d, const char *name, uint64_t t, uint64_t q)
{
    if (t != q) {
        g_string_append_printf(d, "  %-6s tessera 0x%016" G_GINT64_MODIFIER
                               "x  qemu 0x%016" G_GINT64_MODIFIER "x\n",
                               name, t, q);
    }
}

static void diff_state(GString *d, const snippet_state *t, const snippet_state *q)
{
    char name[16];

    for (int i = 0; i < 31; i++) {
        snprintf(name, sizeof(name), "x%d", i);
        diff_u64(d, name, t->r.x[i], q->r.x[i]);
    }
    diff_u64(d, "sp", t->r.sp, q->r.sp);
    diff_u64(d, "nzcv", t->r.nzcv, q->r.nzcv);
    diff_u64(d, "fpsr", t->r.fpsr, q->r.fpsr);
    diff_u64(d, "fpcr", t->r.fpcr, q->r.fpcr);
    for (int i = 0; i < 32; i++) {
        snprintf(name, sizeof(name), "v%d.lo", i);
        diff_u64(d, name, t->r.v[i][0], q->r.v[i][0]);
        snprintf(name, sizeof(name), "v%d.hi", i);
        diff_u64(d, name, t->r.v[i][1], q->r.v[i][1]);
    }
    for (unsigned off = 0; off < SNIPPET_SCRATCH_SIZE; off += 8) {
        uint64_t a, b;

        memcpy(&a, t->scratch + off, 8);
        memcpy(&b, q->scratch + off, 8);
        snprintf(name, sizeof(name), "[x28%+d]", (int)off - (int)SNIPPET_SCRATCH_SIZE / 2);
        diff_u64(d, name, a, b);
    }
}

/* The initial registers that differ from snippet_regs_init's, for the
 * failure message. */
static void describe_init(GString *d, const snippet_regs *r)
{
    snippet_regs z;

    snippet_regs_init(&z);
    for (int i = 0; i < 31; i++) {
        if (r->x[i] != z.x[i]) {
            g_string_append_printf(d, " x%d=0x%" G_GINT64_MODIFIER "x", i, r->x[i]);
        }
    }
    if (r->nzcv) {
        g_string_append_printf(d, " nzcv=0x%" G_GINT64_MODIFIER "x", r->nzcv);
    }
    if (r->sp != z.sp) {
        g_string_append_printf(d, " sp=0x%" G_GINT64_MODIFIER "x", r->sp);
    }
}

static void report_lines(const char *title, const char *text)
{
    char **lines = g_strsplit(text, "\n", -1);

    g_test_message("%s", title);
    for (char **l = lines; *l; l++) {
        if (**l) {
            g_test_message("  %s", g_strstrip(*l));
        }
    }
    g_strfreev(lines);
}

/*
 * $TESSERA_TEST_SAMPLE=K (default 1): of a generated set of cases (32 or
 * more: the edge-value grid, the SIMD lane patterns) tessera runs every
 * K-th, cases 0, K, 2K, ... (qemu still runs them all, in one process).
 * The sanitizer run of CI sets it (Makefile, check-asan): a fresh harness
 * per case under ASan is most of its time, and a memory error in a
 * snippet's instructions shows in its first cases as well as in its
 * 500th; the plain build compares every case. A K prime to the edge grid's
 * side (26 values on x86, 19 on arm: 7, 9, 11) keeps every value in each
 * register, with the flags varied.
 */
unsigned snippet_sample(void)
{
    static unsigned k;

    if (!k) {
        const char *e = g_getenv("TESSERA_TEST_SAMPLE");
        long v = e ? strtol(e, NULL, 10) : 1;

        k = v >= 1 && v <= 1000 ? (unsigned)v : 1;
    }
    return k;
}

static unsigned sample_step(unsigned n)
{
    return n >= 32 ? snippet_sample() : 1;
}

void snippet_compare_states(const char *asm_text, const snippet_state *in, unsigned n)
{
    snippet_state *q = g_new(snippet_state, n);
    snippet_state *t = g_new(snippet_state, 1);
    unsigned failures = 0, step = sample_step(n);

    snippet_run_qemu(asm_text, in, q, n);
    for (unsigned i = 0; i < n && failures < 5; i += step) {
        GString *d = g_string_new(NULL);
        char *why = NULL;

        if (!snippet_run_tessera(asm_text, &in[i], t, &why)) {
            g_string_append_printf(d, "  tessera: %s\n", why);
            g_free(why);
        }
        diff_state(d, t, &q[i]);
        if (d->len) {
            GString *init = g_string_new(NULL);

            describe_init(init, &in[i].r);
            /* One line per message: TAP readers reject multi-line results. */
            report_lines("snippet:", asm_text);
            report_lines("diff:", d->str);
            g_test_fail_printf("snippet differs from qemu (case %u:%s)", i, init->str);
            g_string_free(init, TRUE);
            failures++;
        }
        g_string_free(d, TRUE);
    }
    g_free(q);
    g_free(t);
}

void snippet_compare_n(const char *asm_text, const snippet_regs *init, unsigned n)
{
    snippet_state *s = g_new(snippet_state, n);

    for (unsigned i = 0; i < n; i++) {
        snippet_state_init(&s[i], &init[i]);
    }
    snippet_compare_states(asm_text, s, n);
    g_free(s);
}

void snippet_compare(const char *asm_text, const snippet_regs *init)
{
    snippet_compare_n(asm_text, init, 1);
}

const uint64_t snippet_edge_values[] = {
    0, 1, 2, 31, 32, 63, 64, 0x7f, 0x80, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
    0x100000000ull, 0x123456789abcdef0ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
    0xfffffffffffffffeull, 0xffffffffffffffffull,
};
const unsigned snippet_n_edge_values = G_N_ELEMENTS(snippet_edge_values);

void snippet_compare_edges(const char *asm_text)
{
    const unsigned ne = snippet_n_edge_values;
    snippet_regs *r = g_new(snippet_regs, ne * ne);
    unsigned n = 0;

    for (unsigned i = 0; i < ne; i++) {
        for (unsigned j = 0; j < ne; j++, n++) {
            snippet_regs_init(&r[n]);
            r[n].x[1] = snippet_edge_values[i];
            r[n].x[2] = snippet_edge_values[j];
            r[n].x[3] = snippet_edge_values[(i + j + 1) % ne];
            r[n].x[4] = snippet_edge_values[(i * 3 + j) % ne];
            r[n].nzcv = (uint64_t)((i + 3 * j) & 15) << 28;
        }
    }
    snippet_compare_n(asm_text, r, n);
    g_free(r);
}
