/*
 * Instruction-test framework for cpu-x86 (see snippet-x86.h): assembles
 * snippets with GNU as, runs them on tessera through the harness and under
 * qemu-x86_64, and compares the results.
 */
#include "snippet-x86.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define AS "as"
#define LD "ld"
#define OBJCOPY "objcopy"
#define QEMU "qemu-x86_64"

#define REGS_SIZE 656
#define OFF_RFLAGS 128
#define OFF_FX 144
#define KEEP_FLAGS (F_ARITH | F_DF)

G_STATIC_ASSERT(sizeof(snippet_fx) == 512);
G_STATIC_ASSERT(sizeof(snippet_regs) == REGS_SIZE);
G_STATIC_ASSERT(G_STRUCT_OFFSET(snippet_regs, rflags) == OFF_RFLAGS);
G_STATIC_ASSERT(G_STRUCT_OFFSET(snippet_regs, fx) == OFF_FX);

typedef struct built {
    char *elf;
    GBytes *bin;
} built;

static const char *plugin_path;
static const char *model = "qemu64";
static uint64_t flag_mask = KEEP_FLAGS;
static char *tmpdir;
static GHashTable *cache; /* asm text -> built */
static GPtrArray *tmpfiles;
static unsigned serial;
static int last_vector = -1;
static uint64_t last_err, last_rip;

static const char *const reg_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* Linker script: fixed addresses so both sides see the same layout. */
static const char ld_script[] =
    "ENTRY(_start)\n"
    "SECTIONS {\n"
    "  . = 0x400000; .text : { *(.text) }\n"
    "  . = 0x500000; .snippet : { *(.snippet) }\n"
    "  . = 0x580000; .epilogue : { *(.epilogue) }\n"
    "  . = 0x600000; .data : { *(.data) *(.bss) }\n"
    "  . = 0x700000; .scratch : { *(.scratch) }\n"
    "}\n";

/* Prologue (qemu only): open argv[1]; per record read the registers and
 * the scratch buffer, load the FXSAVE image, RFLAGS and every register,
 * jump to the snippet. Offsets follow snippet_regs. */
static const char prologue[] =
    "    .intel_syntax noprefix\n"
    "    .text\n"
    "    .global _start\n"
    "_start:\n"
    "    mov rdi, [rsp + 16]\n"
    "    mov eax, 2\n"
    "    xor esi, esi\n"
    "    xor edx, edx\n"
    "    syscall\n"
    "    mov [rip + sn_fd], rax\n"
    "sn_next:\n"
    "    mov rdi, [rip + sn_fd]\n"
    "    lea rsi, [rip + sn_init]\n"
    "    mov edx, 656\n"
    "    xor eax, eax\n"
    "    syscall\n"
    "    cmp rax, 656\n"
    "    jne sn_done\n"
    "    mov rdi, [rip + sn_fd]\n"
    "    mov esi, 0x700000\n"
    "    mov edx, 8192\n"
    "    xor eax, eax\n"
    "    syscall\n"
    "    cmp rax, 8192\n"
    "    jne sn_done\n"
    "    lea rsp, [rip + sn_stack_top]\n"
    "    fxrstor [rip + sn_init + 144]\n"
    "    push qword ptr [rip + sn_init + 128]\n"
    "    popfq\n"
    "@LOAD@"
    "    jmp snippet_start\n"
    "sn_done:\n"
    "    mov eax, 60\n"
    "    xor edi, edi\n"
    "    syscall\n"
    "    .section .snippet, \"ax\"\n"
    "snippet_start:\n";

/* Epilogue (qemu only): dump registers, RFLAGS, FXSAVE and the scratch
 * buffer to stdout, then take the next record. rsp is saved first and the
 * epilogue's own stack used, so the snippet's stack is untouched. */
static const char epilogue[] =
    "\n    .intel_syntax noprefix\n"
    "    .section .snippet, \"ax\"\n"
    "    jmp sn_epilogue\n"
    "    .section .epilogue, \"ax\"\n"
    "sn_epilogue:\n"
    "    mov [rip + sn_dump + 32], rsp\n"
    "    lea rsp, [rip + sn_stack_top]\n"
    "    pushfq\n"
    "    pop qword ptr [rip + sn_dump + 128]\n"
    "@STORE@"
    "    fxsave [rip + sn_dump + 144]\n"
    "    mov eax, 1\n"
    "    mov edi, 1\n"
    "    lea rsi, [rip + sn_dump]\n"
    "    mov edx, 656\n"
    "    syscall\n"
    "    mov eax, 1\n"
    "    mov edi, 1\n"
    "    mov esi, 0x700000\n"
    "    mov edx, 8192\n"
    "    syscall\n"
    "    jmp sn_next\n"
    "    .data\n"
    "    .balign 16\n"
    "sn_init: .space 656\n"
    "    .balign 16\n"
    "sn_dump: .space 656\n"
    "sn_fd: .quad 0\n"
    "    .balign 16\n"
    "    .space 4096\n"
    "sn_stack_top:\n"
    "    .section .scratch, \"aw\"\n"
    "    .space 8192\n";

/* Expand @LOAD@ / @STORE@ into one mov per register (rsp loaded last). */
static void expand(GString *out, const char *tmpl)
{
    for (const char *p = tmpl; *p; p++) {
        bool load;

        if (*p != '@') {
            g_string_append_c(out, *p);
            continue;
        }
        load = g_str_has_prefix(p, "@LOAD@");
        for (int i = 0; i < 16; i++) {
            int r = load ? (i + 5) % 16 : i; /* load: rsp (4) comes last */

            if (!load && r == R_ESP) {
                continue;
            }
            if (load) {
                g_string_append_printf(out, "    mov %s, [rip + sn_init + %d]\n", reg_names[r],
                                       r * 8);
            } else {
                g_string_append_printf(out, "    mov [rip + sn_dump + %d], %s\n", r * 8,
                                       reg_names[r]);
            }
        }
        p += load ? 5 : 6;
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

    plugin_path = g_getenv("CPU_X86_PLUGIN");
    if (!plugin_path && argc > 1 && argv[1][0] != '-') {
        plugin_path = argv[1];
    }
    if (!plugin_path) {
        g_error("snippet: set CPU_X86_PLUGIN or pass the cpu-x86 .so path");
    }
    tmpdir = g_dir_make_tmp("tessera-snippet-x86-XXXXXX", &err);
    g_assert_no_error(err);
    cache = g_hash_table_new(g_str_hash, g_str_equal);
    tmpfiles = g_ptr_array_new_with_free_func(g_free);
    atexit(cleanup);
}

const char *snippet_plugin_path(void)
{
    return plugin_path;
}

void snippet_set_model(const char *m)
{
    model = m;
}

void snippet_set_flag_mask(uint64_t mask)
{
    flag_mask = mask;
}

void snippet_regs_init(snippet_regs *r)
{
    memset(r, 0, sizeof(*r));
    r->r[R_ESP] = SNIPPET_SCRATCH_ADDR + 0x1800;
    r->r[R_R15] = SNIPPET_SCRATCH_MID;
    r->rflags = 0x202;
    r->fx.fcw = 0x37f;
    r->fx.mxcsr = 0x1f80;
    r->fx.mxcsr_mask = 0xffff;
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
        char *as_argv[] = {AS, "--64", "-o", obj, src, NULL};
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

/* ---- tessera side: long mode set-up ---- */

static void put64(uint8_t *ram, uint64_t addr, uint64_t v)
{
    memcpy(ram + addr, &v, 8);
}

/* Segment-cache attributes from a descriptor's high dword, in x86.h's
 * compacted layout (type S DPL P in bits 0..7, AVL L D/B G in 8..11). */
static uint16_t attr_of(uint32_t hi)
{
    return (uint16_t)(((hi >> 8) & 0xff) | ((hi >> 12) & 0xf00));
}

static void set_seg(x86_cpu *c, int s, uint16_t sel, uint64_t desc)
{
    c->seg[s].sel = sel;
    c->seg[s].base = 0;
    c->seg[s].limit = 0xffffffffu;
    c->seg[s].attr = attr_of((uint32_t)(desc >> 32));
}

/* Identity map of all RAM with 4 KiB pages, user + writable. */
static void build_page_tables(uint8_t *ram)
{
    const uint64_t pml4 = SNIPPET_PML4_ADDR, pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
    const uint64_t pt = pml4 + 0x3000, flags = 0x7; /* P RW US */
    const unsigned npages = SNIPPET_RAM_SIZE >> 12;

    memset(ram + pml4, 0, 0x3000 + (npages / 512) * 0x1000);
    put64(ram, pml4, pdpt | flags);
    put64(ram, pdpt, pd | flags);
    for (unsigned i = 0; i < npages / 512; i++) {
        put64(ram, pd + i * 8, (pt + i * 0x1000) | flags);
    }
    for (unsigned i = 0; i < npages; i++) {
        put64(ram, pt + i * 8, ((uint64_t)i << 12) | flags);
    }
}

static const uint64_t gdt[] = {
    0, 0,
    0x00af9b000000ffffull, /* 0x10 kernel CS, 64-bit */
    0x00cf93000000ffffull, /* 0x18 kernel DS */
    0x00cffb000000ffffull, /* 0x23 user CS, 32-bit */
    0x00cff3000000ffffull, /* 0x2b user DS */
    0x00affb000000ffffull, /* 0x33 user CS, 64-bit */
    0,
};

/* GDT (with a 64-bit TSS at 0x40), IDT (every gate DPL 3, to a hlt stub
 * per vector), TSS with RSP0. */
static void build_tables(uint8_t *ram)
{
    uint64_t tss = SNIPPET_TSS_ADDR;

    memcpy(ram + SNIPPET_GDT_ADDR, gdt, sizeof(gdt));
    put64(ram, SNIPPET_GDT_ADDR + 0x40,
          0x67 | ((tss & 0xffffff) << 16) | (0x89ull << 40) | ((tss >> 24 & 0xff) << 56));
    put64(ram, SNIPPET_GDT_ADDR + 0x48, tss >> 32);
    memset(ram + tss, 0, 0x68);
    put64(ram, tss + 4, SNIPPET_KSTACK_TOP);
    put64(ram, tss + 0x66 - 2, 0x68ull << 16); /* I/O map base past the limit */
    for (unsigned v = 0; v < 256; v++) {
        uint64_t off = SNIPPET_HANDLER_ADDR + 16 * v;
        uint64_t lo = (off & 0xffff) | ((uint64_t)SNIPPET_KERNEL_CS << 16) |
                      (0xeeull << 40) | ((off >> 16 & 0xffff) << 48);

        put64(ram, SNIPPET_IDT_ADDR + 16 * v, lo);
        put64(ram, SNIPPET_IDT_ADDR + 16 * v + 8, off >> 32);
    }
    memset(ram + SNIPPET_HANDLER_ADDR, 0xf4, 16 * 256);
}

void snippet_enter_long_mode(tes_harness *h, x86_cpu *c, int cpl)
{
    uint8_t *ram = tes_harness_ram(h);
    bool user = cpl == 3;

    build_page_tables(ram);
    build_tables(ram);
    c->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    c->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->cr3 = SNIPPET_PML4_ADDR;
    c->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    c->gdt_base = SNIPPET_GDT_ADDR;
    c->gdt_limit = 0x4f;
    c->idt_base = SNIPPET_IDT_ADDR;
    c->idt_limit = 0xfff;
    set_seg(c, S_CS, user ? SNIPPET_USER_CS : SNIPPET_KERNEL_CS, gdt[user ? 6 : 2]);
    for (int s = S_ES; s <= S_GS; s++) {
        if (s != S_CS) {
            set_seg(c, s, user ? SNIPPET_USER_DS : SNIPPET_KERNEL_DS, gdt[user ? 5 : 3]);
        }
    }
    c->seg[S_TR].sel = SNIPPET_TSS_SEL;
    c->seg[S_TR].base = SNIPPET_TSS_ADDR;
    c->seg[S_TR].limit = 0x67;
    c->seg[S_TR].attr = 0x8b; /* present, busy 64-bit TSS */
    c->seg[S_LDTR].sel = 0;
    c->seg[S_LDTR].attr = 0;
    c->cpl = cpl;
    c->eflags = 0x202;
    c->halted_req = false;
    c->wait_sipi = false;
    /* The plugin's functions are not visible from here (hidden symbols):
     * set what x86_update_mode derives and let x86_run redo it. */
    c->code_bits = 64;
    c->long_mode = true;
    c->stack32 = true;
    c->state_dirty = true;
}

tes_harness *snippet_harness(tes_cpu **cpu, x86_cpu **c)
{
    tes_harness *h = tes_harness_new(SNIPPET_RAM_SIZE);

    if (!tes_harness_load(h, plugin_path)) {
        g_error("snippet: loading %s: %s", plugin_path, tes_harness_error(h));
    }
    *cpu = tes_harness_cpu(h, model, 0);
    if (!*cpu) {
        g_error("snippet: %s", tes_harness_error(h));
    }
    *c = tes_harness_cpu_state(*cpu);
    snippet_apply_engine(*c);
    snippet_enter_long_mode(h, *c, 3);
    return h;
}

void snippet_apply_engine(x86_cpu *c)
{
    const char *e = g_getenv("X86_JIT");

    if (e) {
        c->jit = strcmp(e, "off") != 0;
    }
}

void snippet_load_code(tes_harness *h, x86_cpu *c, uint64_t addr, const void *code, size_t len)
{
    g_assert_cmpuint(addr + len, <=, tes_harness_ram_size(h));
    memcpy((uint8_t *)tes_harness_ram(h) + addr, code, len);
    c->rip = addr;
    c->state_dirty = true; /* RAM written behind the CPU: drop translations */
}

/* FXSAVE image <-> x86_cpu. ST(i) is physical register (top + i) & 7,
 * c->st[] being indexed by physical register; the abridged tag has one
 * bit per physical register (SDM Vol. 1, 10.5.1.1). */
static void fx_to_cpu(x86_cpu *c, const snippet_fx *fx)
{
    c->fpuc = fx->fcw;
    c->fpstt = (fx->fsw >> 11) & 7;
    c->fpus = fx->fsw;
    c->fptag = 0;
    for (int i = 0; i < 8; i++) {
        long double v = 0;

        if (!(fx->ftw & (1u << i))) {
            c->fptag |= 3u << (2 * i);
        }
        memcpy(&v, fx->st[(i - c->fpstt) & 7], 10);
        c->st[i] = v;
    }
    c->mxcsr = fx->mxcsr;
    memcpy(c->xmm, fx->xmm, sizeof(fx->xmm));
}

static void cpu_to_fx(const x86_cpu *c, snippet_fx *fx)
{
    memset(fx, 0, sizeof(*fx));
    fx->fcw = c->fpuc;
    fx->fsw = (uint16_t)((c->fpus & ~0x3800u) | ((c->fpstt & 7) << 11));
    for (int i = 0; i < 8; i++) {
        if (((c->fptag >> (2 * i)) & 3) != 3) {
            fx->ftw |= (uint8_t)(1u << i);
        }
        memcpy(fx->st[(i - c->fpstt) & 7], &c->st[i], 10);
    }
    fx->mxcsr = c->mxcsr;
    fx->mxcsr_mask = 0xffff;
    memcpy(fx->xmm, c->xmm, sizeof(fx->xmm));
}

static void put_state(x86_cpu *c, uint8_t *ram, const snippet_state *in)
{
    memcpy(c->regs, in->r.r, sizeof(c->regs));
    x86_set_flags(c, (in->r.rflags & KEEP_FLAGS) | 0x202); /* flags.c, linked in */
    fx_to_cpu(c, &in->r.fx);
    memcpy(ram + SNIPPET_SCRATCH_ADDR, in->scratch, SNIPPET_SCRATCH_SIZE);
}

static void get_state(x86_cpu *c, const uint8_t *ram, snippet_state *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->r.r, c->regs, sizeof(out->r.r));
    out->r.rflags = x86_get_flags(c);
    cpu_to_fx(c, &out->r.fx);
    memcpy(out->scratch, ram + SNIPPET_SCRATCH_ADDR, SNIPPET_SCRATCH_SIZE);
}

/* The vector whose stub rip reached, with the frame the CPU pushed. */
static void note_exception(x86_cpu *c, const uint8_t *ram, char **why)
{
    unsigned vec = (unsigned)((c->rip - SNIPPET_HANDLER_ADDR) / 16);
    bool has_err = vec == EXC_DF || (vec >= EXC_TS && vec <= EXC_PF) || vec == EXC_AC;
    uint64_t sp = c->regs[R_ESP];

    last_vector = (int)vec;
    last_err = 0;
    if (has_err && sp + 8 <= SNIPPET_RAM_SIZE) {
        memcpy(&last_err, ram + sp, 8);
        sp += 8;
    }
    if (sp + 8 <= SNIPPET_RAM_SIZE) {
        memcpy(&last_rip, ram + sp, 8);
    }
    *why = g_strdup_printf("exception %u (error code 0x%" G_GINT64_MODIFIER
                           "x) at rip 0x%" G_GINT64_MODIFIER "x",
                           vec, last_err, last_rip);
}

/* Step until rip reaches the end; false with a reason otherwise. */
static bool step_to_end(tes_harness *h, tes_cpu *cpu, x86_cpu *c, char **why)
{
    const uint8_t *ram = tes_harness_ram(h);

    for (unsigned n = 0; n < SNIPPET_MAX_STEPS; n++) {
        tes_exec_status st;

        if (c->rip == SNIPPET_END_ADDR) {
            return true;
        }
        if (c->rip - SNIPPET_HANDLER_ADDR < 16 * 256) {
            note_exception(c, ram, why);
            return false;
        }
        st = tes_harness_cpu_exec(h, cpu, 1, NULL);
        if (st == TES_EXEC_HALT || st == TES_EXEC_EXIT) {
            if (c->rip - SNIPPET_HANDLER_ADDR < 16 * 256 + 1) {
                continue; /* the hlt of a stub: report the vector above */
            }
            *why = g_strdup_printf("exec stopped (status %d) at rip 0x%" G_GINT64_MODIFIER "x",
                                   st, c->rip);
            return false;
        }
    }
    *why = g_strdup_printf("did not reach the end in %u steps (rip 0x%" G_GINT64_MODIFIER "x)",
                           SNIPPET_MAX_STEPS, c->rip);
    return false;
}

int snippet_last_vector(void)
{
    return last_vector;
}

uint64_t snippet_last_error_code(void)
{
    return last_err;
}

uint64_t snippet_last_fault_rip(void)
{
    return last_rip;
}

bool snippet_run_tessera(const char *asm_text, const snippet_state *in, snippet_state *out,
                         char **why)
{
    GBytes *bin = snippet_build(asm_text);
    tes_cpu *cpu;
    x86_cpu *c;
    tes_harness *h = snippet_harness(&cpu, &c);
    uint8_t *ram = tes_harness_ram(h);
    gsize len;
    const void *code = g_bytes_get_data(bin, &len);
    bool ok;

    last_vector = -1;
    snippet_load_code(h, c, SNIPPET_CODE_ADDR, code, len);
    put_state(c, ram, in);
    ok = step_to_end(h, cpu, c, why);
    get_state(c, ram, out);
    tes_harness_free(h);
    return ok;
}

/* ---- qemu side ---- */

/* Run argv, returning its whole stdout (binary safe). Fails hard when the
 * program cannot run or exits non-zero. */
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
    char *argv[] = {QEMU, "-cpu", (char *)model, b->elf, inpath, NULL};
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
        g_string_append_printf(d, "  %-8s tessera 0x%016" G_GINT64_MODIFIER
                               "x  qemu 0x%016" G_GINT64_MODIFIER "x\n",
                               name, t, q);
    }
}

static void diff_fx(GString *d, const snippet_fx *t, const snippet_fx *q)
{
    char name[16];

    diff_u64(d, "fcw", t->fcw, q->fcw);
    diff_u64(d, "fsw", t->fsw, q->fsw);
    diff_u64(d, "ftw", t->ftw, q->ftw);
    diff_u64(d, "mxcsr", t->mxcsr, q->mxcsr);
    for (int i = 0; i < 8; i++) {
        uint64_t tm, qm;
        uint16_t te, qe;

        /* only valid registers compare: an empty one's contents are stale */
        if (!(q->ftw & t->ftw & (1u << ((i + (q->fsw >> 11)) & 7)))) {
            continue;
        }
        memcpy(&tm, t->st[i], 8);
        memcpy(&qm, q->st[i], 8);
        memcpy(&te, t->st[i] + 8, 2);
        memcpy(&qe, q->st[i] + 8, 2);
        snprintf(name, sizeof(name), "st%d.m", i);
        diff_u64(d, name, tm, qm);
        snprintf(name, sizeof(name), "st%d.e", i);
        diff_u64(d, name, te, qe);
    }
    for (int i = 0; i < 16; i++) {
        uint64_t a[2], b[2];

        memcpy(a, t->xmm[i], 16);
        memcpy(b, q->xmm[i], 16);
        snprintf(name, sizeof(name), "xmm%d.lo", i);
        diff_u64(d, name, a[0], b[0]);
        snprintf(name, sizeof(name), "xmm%d.hi", i);
        diff_u64(d, name, a[1], b[1]);
    }
}

static void diff_state(GString *d, const snippet_state *t, const snippet_state *q)
{
    char name[24];

    for (int i = 0; i < 16; i++) {
        diff_u64(d, reg_names[i], t->r.r[i], q->r.r[i]);
    }
    diff_u64(d, "rflags", t->r.rflags & flag_mask, q->r.rflags & flag_mask);
    diff_fx(d, &t->r.fx, &q->r.fx);
    for (unsigned off = 0; off < SNIPPET_SCRATCH_SIZE; off += 8) {
        uint64_t a, b;

        memcpy(&a, t->scratch + off, 8);
        memcpy(&b, q->scratch + off, 8);
        snprintf(name, sizeof(name), "[r15%+d]", (int)off - (int)SNIPPET_SCRATCH_SIZE / 2);
        diff_u64(d, name, a, b);
    }
}

/* The initial registers that differ from snippet_regs_init's. */
static void describe_init(GString *d, const snippet_regs *r)
{
    snippet_regs z;

    snippet_regs_init(&z);
    for (int i = 0; i < 16; i++) {
        if (r->r[i] != z.r[i]) {
            g_string_append_printf(d, " %s=0x%" G_GINT64_MODIFIER "x", reg_names[i], r->r[i]);
        }
    }
    if (r->rflags != z.rflags) {
        g_string_append_printf(d, " rflags=0x%" G_GINT64_MODIFIER "x", r->rflags);
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
    flag_mask = KEEP_FLAGS;
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
    0, 1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
    0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0x123456789abcdef0ull,
    0x7fffffffffffffffull, 0x8000000000000000ull, 0xfffffffffffffffeull,
    0xffffffffffffffffull,
};
const unsigned snippet_n_edge_values = G_N_ELEMENTS(snippet_edge_values);

void snippet_compare_edges(const char *asm_text)
{
    const unsigned ne = snippet_n_edge_values;
    snippet_regs *r = g_new(snippet_regs, ne * ne);
    unsigned n = 0;
    static const uint64_t flag_sets[] = {0, F_CF, F_ZF | F_OF, F_CF | F_SF | F_AF | F_PF};

    for (unsigned i = 0; i < ne; i++) {
        for (unsigned j = 0; j < ne; j++, n++) {
            snippet_regs_init(&r[n]);
            r[n].r[R_EAX] = snippet_edge_values[i];
            r[n].r[R_EBX] = snippet_edge_values[j];
            r[n].r[R_ECX] = snippet_edge_values[(i + j + 1) % ne];
            r[n].r[R_EDX] = snippet_edge_values[(i * 3 + j) % ne];
            r[n].rflags |= flag_sets[(i + 3 * j) & 3];
        }
    }
    snippet_compare_n(asm_text, r, n);
    g_free(r);
}
