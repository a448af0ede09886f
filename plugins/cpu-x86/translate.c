/*
 * cpu-x86: the translated-code loop. With the CPU property jit=on (the
 * default; -accel tcg,jit=off interprets), x86_run hands over to
 * x86_run_jit: between blocks it takes interrupts as the interpreter does,
 * finds the block for (linear rip, host address of the code, mode bits)
 * or translates one, runs it and chains direct exits within a page.
 *
 * What may run translated: 64-bit code, and 32-bit code with a zero CS
 * base (the key's pc is then the rip). The rest (real mode, 16-bit code,
 * RF or TF set, an interrupt shadow, an instruction crossing a page, a
 * code page that is not RAM) runs one instruction at a time in the
 * interpreter, which also fills the fetch TLB translated code needs.
 *
 * Why translations never go stale:
 * - Guest stores: the first block on a host page makes every vCPU drop
 *   its write-TLB host pointer for that page (protect_page), and later
 *   fills leave it out (x86_jit_page_has_code), so every store to a code
 *   page goes through mmu.c's entry_write, which invalidates the blocks.
 *   An inline store leaves its block before storing and the interpreter
 *   runs that instruction (st_slow); a fallback's store sets jit_stop and
 *   the block leaves after it: either way code a block patched in itself
 *   runs new.
 * - The key holds the host address the code was read from: a virtual page
 *   mapped elsewhere (CR3 switch, remap) looks up another block.
 * - Writes behind the CPU's back: state_dirty (tests, migration) flushes
 *   everything; device DMA and loaders reach tes_jit_invalidate through
 *   the core's RAM write watch.
 * Chained jumps stay within one guest page, whose mapping cannot change
 * while blocks run (CR3/INVLPG writes leave through the fallback).
 *
 * The one tes_jit is shared by the plugin's vCPUs (each has a jump
 * cache) and freed when the last vCPU goes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "x86-jit.h"

#define MAX_BLOCK_INSNS 64
#define REC_CHUNK 4096
/* Fallback records kept before the whole cache is flushed. */
#define REC_MAX (1u << 19)

typedef struct rec_chunk {
    struct rec_chunk *next;
    unsigned used;
    jit_rec r[REC_CHUNK];
} rec_chunk;

static tes_jit *jit;
static unsigned jit_users;  /* vCPUs holding a jump cache */
static bool jit_broken;     /* tes_jit_new failed: interpret */
static uint64_t jit_flushes; /* tes_jit flushes seen (records go with them) */
static rec_chunk *recs;
static unsigned rec_total;
/* $X86_JIT_STATS: where time goes (a statistics aid, not for tests). */
static bool stats_on;
static uint64_t st_runs, st_steps, st_lookups, st_direct, st_fallback[0x4000];
static void print_stats(void);

/* ---- fallback records ---- */

static void recs_free(void)
{
    while (recs) {
        rec_chunk *n = recs->next;

        free(recs);
        recs = n;
    }
    rec_total = 0;
}

jit_rec *x86_jit_rec_new(void)
{
    if (!recs || recs->used == REC_CHUNK) {
        rec_chunk *k = malloc(sizeof(*k));

        if (!k) {
            return NULL;
        }
        k->next = recs;
        k->used = 0;
        recs = k;
    }
    rec_total++;
    return &recs->r[recs->used++];
}

/* Every block is gone: so are the records they used. */
static void note_flushes(void)
{
    tes_jit_stats st;

    tes_jit_get_stats(jit, &st);
    if (st.flushes != jit_flushes) {
        jit_flushes = st.flushes;
        recs_free();
    }
}

/* ---- memory slow paths ---- */

static inline bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* An exception was delivered by a slow path: the block leaves with rip at
 * the handler, as the interpreter's step() would leave it. */
static void slow_fault(x86_cpu *c)
{
    c->rip = c->next_rip;
    c->fault = false;
    c->exc_depth = 0;
    c->jit_exit = 1;
}

/* 64-bit mode: a non-canonical address is #SS(0) through SS, else #GP(0).
 * The inline paths only hit canonical TLB tags, so they never skip this. */
static bool addr_ok(x86_cpu *c, uint64_t a, unsigned size, uint32_t arg)
{
    if (c->code_bits != 64 || (canonical(a) && canonical(a + size - 1))) {
        return true;
    }
    x86_exception(c, JIT_ARG_SEG(arg) == S_SS ? EXC_SS : EXC_GP, true, 0);
    return false;
}

/* env->rip holds the access's instruction (the generator's pc field). */
static uint64_t ld_slow(void *env, uint64_t addr, uint32_t memop, uint32_t arg)
{
    x86_cpu *c = env;
    unsigned size = 1u << (memop & TES_JIT_MO_SIZE);
    uint64_t v = 0;

    c->next_rip = c->rip;
    if (!addr_ok(c, addr, size, arg) || !x86_read(c, addr, &v, size, JIT_ARG_USER(arg))) {
        slow_fault(c);
        return 0;
    }
    return (memop & TES_JIT_MO_SIGN) ? sext(v, size) : v;
}

/* A store to MMIO (which may raise an interrupt or move a BAR) or to a
 * page with code (whose blocks, the running one perhaps, it invalidates)
 * is not made here: the block leaves with rip at the instruction and the
 * loop runs it in the interpreter, which stores through mmu.c (so the
 * code is invalidated) and then looks at interrupts. Inline instructions
 * change nothing they read before their last store (x86-jit.h), so
 * running the instruction again from the start is exact. */
static void st_slow(void *env, uint64_t addr, uint64_t val, uint32_t memop, uint32_t arg)
{
    x86_cpu *c = env;
    unsigned size = 1u << (memop & TES_JIT_MO_SIZE);
    bool user = JIT_ARG_USER(arg), direct = false;

    c->next_rip = c->rip;
    if (!addr_ok(c, addr, size, arg) || !x86_probe_write(c, addr, size, user, &direct)) {
        slow_fault(c);
        return;
    }
    if (!direct) {
        c->jit_interp = 1;
        c->jit_exit = 1;
        return;
    }
    x86_write(c, addr, &val, size, user); /* checked: cannot fault now */
}

/* ---- code pages ---- */

/* Stores to host_page must take the slow path from now on. */
static void protect_page(void *opaque, const void *host_page)
{
    unsigned n = H->cpu_count();

    for (unsigned i = 0; i < n; i++) {
        tes_cpu *cpu = H->cpu_by_index(i);
        x86_cpu *c = cpu ? x86_cpu_of(cpu) : NULL;

        if (!c) {
            continue;
        }
        for (unsigned u = 0; u < 2; u++) {
            for (unsigned j = 0; j < X86_TLB_SIZE; j++) {
                if (c->tlb_w[u][j].host == host_page) {
                    c->tlb_w[u][j].host = NULL;
                }
            }
        }
    }
}

/* The jump cache maps linear rips without the host address: it goes
 * with every TLB flush (mmu.c), whole or by page. */
void x86_jit_tlb_flushed(x86_cpu *c)
{
    if (c->jc) {
        tes_jit_jc_clear(c->jc);
    }
}

void x86_jit_tlb_flushed_page(x86_cpu *c, uint64_t la)
{
    if (c->jc) {
        tes_jit_jc_clear_page(c->jc, la);
    }
}

bool x86_jit_page_has_code(const void *host_page)
{
    return jit && tes_jit_page_has_code(jit, host_page);
}

void x86_jit_code_written(x86_cpu *c, const void *host, size_t len)
{
    if (jit) {
        tes_jit_invalidate(jit, host, len);
        c->jit_stop = 1;
    }
}

/* ---- set-up ---- */

#ifdef TES_LOG_OUT_ASM
#define LOG_JIT (TES_LOG_OUT_ASM | TES_LOG_OP)
#else
#define LOG_JIT TES_LOG_IN_ASM
#endif

static void jit_log(void *opaque, const char *text)
{
    H->log(LOG_JIT, "%s", text);
}

/* RAM the core wrote itself (DMA, loaders, as_write): drop its code. */
static void ram_written(void *opaque, const void *host, uint64_t len)
{
    if (jit) {
        tes_jit_invalidate(jit, host, (size_t)len);
    }
}

static void watch_ram(void)
{
    static bool watching;

    if (!watching && H->size >= offsetof(tes_host, ram_write_watch) + sizeof(void *) &&
        H->ram_write_watch) {
        H->ram_write_watch(ram_written, NULL);
        watching = true;
    }
}

static void jit_create(const x86_cpu *c)
{
    tes_jit_config cfg = {
        .size = sizeof(tes_jit_config),
        .code_size = (size_t)(c->tb_size ? c->tb_size : 128) << 20,
        .budget_off = offsetof(x86_cpu, jit_budget),
        .exit_off = offsetof(x86_cpu, jit_exit),
        .pc_off = offsetof(x86_cpu, rip),
        .tlb = {
            .entry_size = sizeof(x86_tlb_entry),
            .tag_off = offsetof(x86_tlb_entry, va_tag),
            .host_off = offsetof(x86_tlb_entry, host),
            .page_bits = 12,
            .index_bits = X86_TLB_BITS,
        },
        .ld_slow = ld_slow,
        .st_slow = st_slow,
        .protect_page = protect_page,
        .log = jit_log,
        .jc_off = offsetof(x86_cpu, jc),
    };
    char *err = NULL;

#ifdef TES_LOG_OUT_ASM
    cfg.log_op = H->log_enabled(TES_LOG_OP);
    cfg.log_out_asm = H->log_enabled(TES_LOG_OUT_ASM);
#endif
    jit = tes_jit_new(&cfg, &err);
    if (!jit) {
        fprintf(stderr, "cpu-x86: no translator (%s): interpreting\n", err ? err : "?");
        free(err);
        jit_broken = true;
        return;
    }
    jit_flushes = 0;
    if (!stats_on && getenv("X86_JIT_STATS")) {
        stats_on = true;
        atexit(print_stats);
    }
    watch_ram();
}

/* $X86_JIT_STATS: printed at exit. */
static void print_stats(void)
{
    tes_jit_stats st;

    fprintf(stderr, "jit: %llu block runs, %llu interpreted, %llu lookups (%llu direct)\n",
            (unsigned long long)st_runs, (unsigned long long)st_steps,
            (unsigned long long)st_lookups, (unsigned long long)st_direct);
    for (int n = 0; n < 25; n++) {
        unsigned best = 0;

        for (unsigned i = 1; i < 0x4000; i++) {
            best = st_fallback[i] > st_fallback[best] ? i : best;
        }
        if (!st_fallback[best]) {
            break;
        }
        fprintf(stderr, "  fallback op %04x: %llu\n", best, (unsigned long long)st_fallback[best]);
        st_fallback[best] = 0;
    }
    if (!jit) {
        return;
    }
    tes_jit_get_stats(jit, &st);
    fprintf(stderr, "jit: %llu tbs, %llu translated, %llu invalidated, %llu flushes, "
            "%llu chained, %zu/%zu code bytes, %u records\n",
            (unsigned long long)st.tbs, (unsigned long long)st.translated,
            (unsigned long long)st.invalidated, (unsigned long long)st.flushes,
            (unsigned long long)st.chained, st.code_used, st.code_size, rec_total);
}

bool x86_jit_ready(x86_cpu *c)
{
    if (c->jc) {
        return true;
    }
    if (!jit && !jit_broken) {
        jit_create(c);
    }
    if (!jit) {
        return false;
    }
    c->jc = tes_jit_jc_new(jit);
    if (!c->jc) {
        return false;
    }
    jit_users++;
    return true;
}

void x86_jit_release(x86_cpu *c)
{
    if (!c->jc) {
        return;
    }
    tes_jit_jc_free(c->jc);
    c->jc = NULL;
    if (--jit_users == 0) {
        tes_jit_free(jit);
        jit = NULL;
        recs_free();
    }
}

void x86_jit_state_written(x86_cpu *c)
{
    unsigned n = H->cpu_count();

    c->jit_interp = 0;
    if (!jit) {
        return;
    }
    tes_jit_flush(jit);
    for (unsigned i = 0; i < n; i++) {
        tes_cpu *cpu = H->cpu_by_index(i);
        x86_cpu *o = cpu ? x86_cpu_of(cpu) : NULL;

        if (o && o->jc) {
            tes_jit_jc_clear(o->jc);
        }
    }
    note_flushes();
}

/* ---- finding blocks ---- */

/* What changes how code is translated: code size, CPL (the TLB a memory
 * operand uses), stack size, long mode, whether SSE may run inline. */
static uint64_t mode_flags(const x86_cpu *c)
{
    return (uint64_t)c->code_bits | (uint64_t)c->cpl << 8 | (uint64_t)c->stack32 << 10 |
           (uint64_t)c->long_mode << 11 | (uint64_t)x86_jit_sse_usable(c) << 12;
}

static bool can_translate(const x86_cpu *c)
{
    if ((c->eflags & (F_RF | F_TF | F_VM)) || c->inhibit_irq) {
        return false;
    }
    return c->code_bits == 64 || (c->code_bits == 32 && c->seg[S_CS].base == 0);
}

/* The key of the block at c->rip in the mode flags; false when its page
 * is not in the fetch TLB as RAM (the interpreter then runs, and fills
 * the TLB). */
static inline bool make_key(const x86_cpu *c, uint64_t flags, tes_jit_key *k)
{
    bool user = ((flags >> 8) & 3) == 3;
    uint64_t la = (flags & 0xff) == 64 ? c->rip : (uint32_t)c->rip;
    const x86_tlb_entry *e = &c->tlb_x[user][(la >> 12) & (X86_TLB_SIZE - 1)];

    if (e->va_tag != ((la & ~0xfffull) | 1) || !e->host) {
        return false;
    }
    k->pc = la;
    k->flags = flags;
    k->host = e->host + (la & 0xfff);
    return true;
}

/* Called from blocks (goto_ptr), whose mode cannot have changed: what
 * changes the mode, RF or the interrupt shadow leaves through the loop. */
const void *x86_jit_helper_lookup_direct(x86_cpu *c)
{
    st_direct++;
    return x86_jit_helper_lookup(c);
}

const void *x86_jit_helper_lookup(x86_cpu *c)
{
    tes_jit_key k;

    st_lookups++;
    if (!make_key(c, c->jit_flags, &k)) {
        return NULL;
    }
    return tes_jit_find_code(jit, c->jc, &k);
}

static void tr_init(jit_tr *t, x86_cpu *c, tes_jit_ir *ir, uint64_t pc)
{
    memset(t, 0, sizeof(*t));
    t->c = c;
    t->ir = ir;
    t->page = pc & ~0xfffull;
    t->cc_known = -1;
    t->cc_guess = c->cc_op;
    t->user = c->cpl == 3;
    t->sse = x86_jit_sse_usable(c);
    t->env = tes_jit_env(ir);
    for (int i = 0; i < 16; i++) {
        t->reg_[i] = TES_JIT_NONE; /* made on first use (jt_reg) */
    }
    t->cc_op = tes_jit_global(ir, offsetof(x86_cpu, cc_op), "cc_op");
    t->cc_dst = tes_jit_global(ir, offsetof(x86_cpu, cc_dst), "cc_dst");
    t->cc_src = tes_jit_global(ir, offsetof(x86_cpu, cc_src), "cc_src");
    t->cc_src2 = tes_jit_global(ir, offsetof(x86_cpu, cc_src2), "cc_src2");
}

/* Instructions from pc to the end of the block: at most MAX_BLOCK_INSNS,
 * within the page, up to the first that ends a block. */
static uint32_t tr_body(jit_tr *t, const uint8_t *page, uint64_t pc, uint64_t *end_la)
{
    x86_cpu *c = t->c;
    bool log = H->log_enabled(TES_LOG_IN_ASM);
    uint64_t la = pc, rip = c->rip, mask = c->code_bits == 64 ? ~0ull : 0xffffffffull;
    uint32_t n = 0;

    while (n < MAX_BLOCK_INSNS && !t->ended) {
        unsigned off = (unsigned)(la & 0xfff);

        if (c->gdb.nbp && gdb_bp_at(&c->gdb, rip)) {
            break; /* the loop stops there before running it (debug.c) */
        }
        if (la - pc >= 4096 - (pc & 0xfff) ||
            !x86_decode_buf(c, la, page + off, 4096 - off, &t->x, &t->form)) {
            break; /* the next page, or an instruction crossing into it */
        }
        t->rip = rip;
        t->next_rip = (rip + t->x.len) & mask;
        t->next_la = la + t->x.len;
        t->last = n + 1 == MAX_BLOCK_INSNS;
        t->left = MAX_BLOCK_INSNS - n - 1;
        if (log) {
            H->log(TES_LOG_IN_ASM, "cpu%u %04x:%016" PRIx64 "\n", c->index,
                   c->seg[S_CS].sel, rip);
        }
        tes_jit_insn_start(t->ir, rip);
        if (!x86_jit_insn(t)) {
            break;
        }
        n++;
        la += t->x.len;
        rip = t->next_rip;
    }
    if (n && !t->ended) {
        x86_jit_set_rip(t, rip);
        tes_jit_exit(t->ir, 0);
    }
    *end_la = la;
    return n;
}

static tes_jit_tb *translate(x86_cpu *c, const tes_jit_key *k, bool *flushed)
{
    const uint8_t *page = (const uint8_t *)k->host - (k->pc & 0xfff);
    tes_jit_ir *ir = tes_jit_begin(jit, k);
    uint64_t before = jit_flushes, end;
    uint32_t n;
    jit_tr t;

    if (!ir) {
        note_flushes();
        *flushed = true;
        return NULL;
    }
    note_flushes();
    if (jit_flushes != before) {
        *flushed = true;
    }
    if (rec_total > REC_MAX) {
        /* Too many records for live blocks (code retranslated over and
         * over): start again. */
        tes_jit_abort(jit, ir);
        x86_jit_state_written(c);
        *flushed = true;
        return NULL;
    }
    tr_init(&t, c, ir, k->pc);
    t.code = page;
    n = tr_body(&t, page, k->pc, &end);
    if (n == 0) {
        tes_jit_abort(jit, ir);
        return NULL;
    }
    return tes_jit_end(jit, ir, n, k->host, (size_t)(end - k->pc));
}

static tes_jit_tb *tb_get(x86_cpu *c, bool *flushed)
{
    tes_jit_key k;
    tes_jit_tb *tb;

    if (!can_translate(c) || !make_key(c, mode_flags(c), &k)) {
        return NULL;
    }
    c->jit_flags = k.flags;
    tb = tes_jit_find(jit, c->jc, &k);
    return tb ? tb : translate(c, &k, flushed);
}

/* ---- running ---- */

void x86_jit_helper_exec(x86_cpu *c, const jit_rec *r)
{
    x86_insn x = r->x;

    if (stats_on) {
        st_fallback[x.op & 0x3fff]++;
    }
    c->inhibit_irq = false;
    c->rip = r->rip;
    c->next_rip = r->next_rip;
    if (r->form.mem) {
        uint64_t ea = x.disp;

        if (r->form.base >= 0) {
            ea += c->regs[r->form.base];
        }
        if (r->form.idx >= 0) {
            ea += c->regs[r->form.idx] << r->form.scale;
        }
        if (x.rip_relative) {
            ea += r->next_rip;
        }
        x.ea = x.addrsize == 2 ? ea & 0xffff : x.addrsize == 4 ? (uint32_t)ea : ea;
    }
    x86_exec_insn(c, &x);
    if (c->fault || c->next_rip != r->next_rip || c->halted_req || c->inhibit_irq ||
        c->jit_stop || c->wait_sipi) {
        c->jit_exit = 1;
    }
    c->rip = c->next_rip;
    c->fault = false;
    c->exc_depth = 0;
}

/* DIV/IDIV (rip stored by the caller): an exception leaves the block. */
void x86_jit_helper_div(x86_cpu *c, uint64_t d, uint64_t size_sign)
{
    c->next_rip = c->rip;
    x86_div(c, (unsigned)(size_sign & 0xff), d, (size_sign >> 8) != 0);
    if (c->fault) {
        slow_fault(c);
    }
}

typedef struct run_ctx {
    tes_jit_tb *last; /* the block that left through a chainable exit */
    unsigned slot;
} run_ctx;

/* Chain when the exit that brought us here stays on the block's page. */
static void maybe_chain(run_ctx *r, tes_jit_tb *tb)
{
    if (r->last && (tes_jit_tb_pc(r->last) >> 12) == (tes_jit_tb_pc(tb) >> 12)) {
        tes_jit_chain(jit, r->last, r->slot, tb);
    }
    r->last = NULL;
}

/* Run tb (and what it chains to); returns the instructions counted. */
static uint64_t run_tb(x86_cpu *c, tes_jit_tb *tb, uint64_t left, run_ctx *r)
{
    uintptr_t ret;
    int64_t used;

    st_runs++;
    c->jit_budget = (int64_t)left;
    c->jit_exit = 0;
    c->jit_stop = 0;
    ret = tes_jit_exec(jit, c, tb);
    used = (int64_t)left - c->jit_budget;
    if (ret == TES_JIT_RET_OTHER) {
        r->last = NULL;
        x86_tlb_check_gen(c); /* MMIO may have moved a BAR */
    } else {
        r->last = tes_jit_ret_tb(ret);
        r->slot = tes_jit_ret_slot(ret);
    }
    return used > 0 ? (uint64_t)used : 0;
}

tes_exec_status x86_run_jit(x86_cpu *c, uint64_t budget, uint64_t *np)
{
    bool log = H->log_enabled(TES_LOG_IN_ASM);
    tes_exec_status st = TES_EXEC_BUDGET;
    run_ctx r = { NULL, 0 };
    uint64_t n = 0;

    while (n < budget) {
        tes_jit_tb *tb;
        bool flushed = false;

        if (c->jit_interp) {
            /* a store a block left to the interpreter (st_slow) */
            c->jit_interp = 0;
            x86_step(c);
            st_steps++;
            n++;
            r.last = NULL;
            continue;
        }
        if (c->wait_sipi) {
            st = TES_EXEC_HALT;
            break;
        }
        if (x86_take_interrupt(c)) {
            r.last = NULL;
        }
        if (c->halted_req) {
            st = TES_EXEC_HALT; /* HLT: sleep until has_work */
            break;
        }
        if (__builtin_expect(c->gdb.nbp != 0, 0) && gdb_bp_hit(&c->gdb, c->rip)) {
            st = TES_EXEC_DEBUG; /* no block starts at a breakpoint (debug.c) */
            break;
        }
        tb = tb_get(c, &flushed);
        if (flushed) {
            r.last = NULL;
        }
        if (!tb) {
            if (log) {
                H->log(TES_LOG_IN_ASM, "cpu%u %04x:%016" PRIx64 "\n", c->index,
                       c->seg[S_CS].sel, c->rip);
            }
            x86_step(c);
            st_steps++;
            n++;
            r.last = NULL;
            continue;
        }
        maybe_chain(&r, tb);
        n += run_tb(c, tb, budget - n, &r);
    }
    *np = n;
    return st;
}
