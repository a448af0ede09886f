/*
 * cpu-arm: the translator's run loop (-accel tcg,jit=on, the default).
 *
 * Guest code is translated a block at a time into host code by the shared
 * code generator (tessera/jit.h); a64-jit.c and a64-jit-ldst.c turn each
 * instruction into IR, or into a call of the interpreter's handler for
 * that word (the fallback: anything not in the hot set). This file owns
 * the rest: the plugin's one tes_jit, a jump cache per vCPU, the block
 * key, the loop that runs blocks, chains them and takes interrupts, and
 * keeping translations in step with the code in RAM.
 *
 * A block is keyed by its pc, the host address of its first instruction
 * (from the fetch TLB, so a different mapping of the same VA is another
 * block) and the mode bits that change translation (arm_tb_flags). It
 * stays inside one guest page, ends at every branch, at every system
 * instruction that may change state (MSR, SYS, SVC/HVC, ERET, WFI, ISB)
 * and after TB_MAX_INSNS instructions.
 *
 * Code that changes: a page that gets its first block has its write TLB
 * entries dropped on every vCPU (protect_page), and tlb_fill (mmu.c) never
 * maps such a page for direct writes, so the CPU's stores to it take the
 * slow path, which invalidates the blocks holding the written bytes
 * (entry_write); the core reports every write it makes to RAM itself
 * (DMA, harness) through ram_write_watch, which does the same. Boot
 * loaders that memcpy into RAM are covered by dropping every block at
 * vCPU reset.
 *
 * Instruction counts are per block: a block's instructions count when it
 * is entered (a block that leaves early, at an exception or an interrupt
 * request, counts the ones it did not run), and exec() may run up to
 * TB_MAX_INSNS - 1 instructions past its budget, reporting them: `info
 * cpus` counts what ran. Small budgets (below EXACT_BELOW: tests, a
 * debugger's steps) are exact instead: the generated code gets a budget
 * TB_MAX_INSNS - 1 short of what is left and the loop runs the last few
 * instructions a block at a time, or in the interpreter when the next
 * block is longer than what is left. (Doing that for the core's budget of
 * 10000 costs a dozen extra trips through the loop per exec() call.)
 */
#include <inttypes.h>
#include <stdlib.h>
#include <tessera/jit.h>

#include "a64-jit.h"

/* Every vCPU of the plugin shares it (created on first use). */
static tes_jit *jit;
static bool jit_failed;

/* ---- the code generator's callbacks ---- */

/* The access completed, and it made a device raise an interrupt line
 * (cpu_set_irq set jit_exit from inside the MMIO callback: an e1000 ICS
 * write, a doorbell answered at once). Leaving the block now would resume
 * at this instruction, which the slow path stored as c->pc for faults, and
 * repeat the access after the handler (Linux e1000e's ICS write looped
 * for ever). The interrupt waits for the block boundary instead, as the
 * interpreter takes it after the instruction: a zero budget makes the
 * next block entry leave, and run_block puts the real budget back. */
static void irq_after_access(arm_cpu *c)
{
    if (!c->jit_exit) {
        return;
    }
    c->jit_exit = 0;
    if (!c->jit_budget_is_held) {
        c->jit_budget_held = c->jit_budget;
        c->jit_budget_is_held = true;
    }
    c->jit_budget = 0;
}

static uint64_t ld_slow(void *env, uint64_t addr, uint32_t memop, uint32_t arg)
{
    arm_cpu *c = env;
    unsigned size = 1u << (memop & TES_JIT_MO_SIZE);
    uint64_t v = 0;

    c->next_pc = c->pc + 4;
    if (!arm_read(c, addr, size, &v, arg)) {
        c->pc = c->next_pc; /* arm_exception pointed it at the vector */
        c->jit_exit = 1;
        return 0;
    }
    irq_after_access(c);
    if ((memop & TES_JIT_MO_SIGN) && size < 8) {
        v = (uint64_t)((int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size));
    }
    return v;
}

static void st_slow(void *env, uint64_t addr, uint64_t val, uint32_t memop, uint32_t arg)
{
    arm_cpu *c = env;

    c->next_pc = c->pc + 4;
    if (!arm_write(c, addr, 1u << (memop & TES_JIT_MO_SIZE), val, arg)) {
        c->pc = c->next_pc;
        c->jit_exit = 1;
        return;
    }
    irq_after_access(c);
}

/* A host page got its first block: no vCPU may write it through its soft
 * TLB any more. Every vCPU of a machine is an arm vCPU. */
static void protect_page(void *opaque, const void *host_page)
{
    for (unsigned i = 0; i < H->cpu_count(); i++) {
        tes_cpu *cpu = H->cpu_by_index(i);
        arm_cpu *c = cpu ? H->cpu_state(cpu) : NULL;

        for (unsigned el = 0; c && el < 2; el++) {
            for (unsigned k = 0; k < TLB_SIZE; k++) {
                if (c->tlb_w[el][k].host == host_page) {
                    c->tlb_w[el][k].va_tag = 0;
                }
            }
        }
    }
}

void arm_jit_code_written(const void *host, size_t len)
{
    if (!jit) {
        return;
    }
    /* dropped blocks leave the jump caches by themselves */
    tes_jit_invalidate(jit, host, len);
}

/* Every bump of c->tlb_epoch (mmu.c): the jump cache maps virtual pcs
 * without the host address, so it goes with the TLB, as QEMU's does. */
void arm_jit_tlb_flushed(arm_cpu *c)
{
    if (c->jc) {
        tes_jit_jc_clear(c->jc);
    }
}

/* The core wrote guest RAM (DMA, the harness, ...). */
static void ram_written(void *opaque, const void *host, uint64_t len)
{
    arm_jit_code_written(host, len);
}

static void jit_log(void *opaque, const char *text)
{
    H->log(TES_LOG_OP | TES_LOG_OUT_ASM, "%s", text);
}

static tes_jit *jit_get(arm_cpu *c)
{
    tes_jit_config cfg = {
        .size = sizeof(cfg),
        .code_size = (size_t)(c->tb_size ? c->tb_size : ARM_TB_SIZE_DEFAULT) << 20,
        .budget_off = offsetof(arm_cpu, jit_budget),
        .exit_off = offsetof(arm_cpu, jit_exit),
        .pc_off = offsetof(arm_cpu, pc),
        .tlb = {sizeof(tlb_entry), offsetof(tlb_entry, va_tag), offsetof(tlb_entry, host), 12,
                TLB_BITS},
        .ld_slow = ld_slow,
        .st_slow = st_slow,
        .protect_page = protect_page,
        .log = jit_log,
        .log_op = H->log_enabled(TES_LOG_OP),
        .log_out_asm = H->log_enabled(TES_LOG_OUT_ASM),
        .jc_off = offsetof(arm_cpu, jc),
    };
    char *err = NULL;

    if (jit || jit_failed) {
        return jit;
    }
    jit = tes_jit_new(&cfg, &err);
    if (!jit) {
        /* Not fatal: the interpreter runs the same guest, slower. */
        H->log(TES_LOG_UNIMP, "cpu-arm: no translator (%s); interpreting\n",
               err ? err : "unknown error");
        free(err);
        jit_failed = true;
        return NULL;
    }
    H->ram_write_watch(ram_written, NULL);
    return jit;
}

/* A TLB flush of one page (TLBI by VA): that page's jump cache entries. */
void arm_jit_tlb_flushed_page(arm_cpu *c, uint64_t va)
{
    if (c->jc) {
        tes_jit_jc_clear_page(c->jc, va);
    }
}

bool arm_jit_page_has_code(const void *host_page)
{
    return jit && tes_jit_page_has_code(jit, host_page);
}

void arm_jit_reset(arm_cpu *c)
{
    /* At reset no vCPU runs generated code (the machine lock is held and
     * exec() is not running), so dropping everything is allowed. */
    if (jit) {
        tes_jit_flush(jit);
    }
    if (c->jc) {
        tes_jit_jc_clear(c->jc);
    }
}

void arm_jit_cpu_free(arm_cpu *c)
{
    if (c->jc) {
        tes_jit_jc_free(c->jc);
        c->jc = NULL;
    }
}

/* ---- finding and translating blocks ---- */

uint64_t arm_tb_flags(arm_cpu *c)
{
    uint64_t f = c->el;
    unsigned fpen = (c->cpacr_el1 >> 20) & 3;

    if (c->el && c->spsel) {
        f |= TB_SP_EL1;
    }
    if (c->sctlr_el1 & (1u << 1)) { /* SCTLR_EL1.A: alignment checks */
        f |= TB_ALIGN;
    }
    if (fpen == 3 || (fpen == 1 && c->el == 1)) { /* as arm_fp_access_ok */
        f |= TB_FP;
    }
    return f;
}

/* The key of the block at c->pc; false when the pc is misaligned or its
 * page is not a RAM page the fetch TLB holds (the interpreter then runs
 * one instruction, raising the fault or filling the TLB). */
bool arm_tb_key(arm_cpu *c, tes_jit_key *k)
{
    uint64_t pc = c->pc;
    const tlb_entry *e = &c->tlb_x[c->el][(pc >> 12) & (TLB_SIZE - 1)];

    if ((pc & 3) || e->va_tag != ((pc & ~0xfffull) | 1) || !e->host) {
        return false;
    }
    k->pc = pc;
    k->flags = arm_tb_flags(c);
    k->host = e->host + (pc & 0xfff);
    return true;
}

/* The miss path behind BR/BLR/RET and branches to other pages (the jump
 * cache is probed in the generated code first), called with c->pc
 * stored, in the calling block's mode (the vCPU's: whatever changes it
 * ends the block): the next block's code, or NULL to go back to the loop
 * (not translated yet, not in the fetch TLB, not RAM). */
const void *arm_jit_lookup(arm_cpu *c)
{
    tes_jit_key k;

    if (!arm_tb_key(c, &k)) {
        return NULL;
    }
    return tes_jit_find_code(jit, c->jc, &k);
}

static uint64_t flush_count(void)
{
    tes_jit_stats st;

    tes_jit_get_stats(jit, &st);
    return st.flushes;
}

/* Translate the block of key k; NULL when it cannot be (then interpret).
 * *flushed: the code buffer was emptied, every tes_jit_tb* is stale. */
static tes_jit_tb *translate(arm_cpu *c, const tes_jit_key *k, bool *flushed)
{
    uint64_t flushes = flush_count();
    tes_jit_ir *ir = tes_jit_begin(jit, k);
    tes_jit_tb *tb;
    unsigned n;

    *flushed = flush_count() != flushes;
    if (!ir) {
        return NULL;
    }
    n = a64_jit_block(c, ir, k);
    if (n == 0) {
        tes_jit_abort(jit, ir);
        return NULL;
    }
    tb = tes_jit_end(jit, ir, n, k->host, 4 * n);
    if (!tb) {
        H->log(TES_LOG_UNIMP, "cpu-arm: block at 0x%" PRIx64 " too big to translate\n", k->pc);
    }
    return tb;
}

/* ---- the loop ---- */

#define EXACT_BELOW 1024

typedef struct run_state {
    uint64_t budget, done;
    bool exact;      /* never run past the budget */
    uintptr_t last;  /* how the last block left: chainable exit or OTHER */
} run_state;

/* Link the block that just left through a chainable exit to tb, the block
 * at the pc it stored. Right only when both run in the same guest page
 * with the same mode bits: a chainable exit is emitted only for targets
 * in its own page, nothing ran in between (an interrupt taken or an
 * interpreted instruction resets last), and while the translation of the
 * page is unchanged (tlb_epoch) the page maps to the same host page. */
static void chain(run_state *rs, tes_jit_tb *tb)
{
    tes_jit_tb *from = tes_jit_ret_tb(rs->last);

    if (rs->last != TES_JIT_RET_OTHER &&
        ((tes_jit_tb_pc(from) ^ tes_jit_tb_pc(tb)) & ~0xfffull) == 0) {
        tes_jit_chain(jit, from, tes_jit_ret_slot(rs->last), tb);
    }
}

/* Run tb and whatever it chains to. */
static void run_block(arm_cpu *c, run_state *rs, tes_jit_tb *tb)
{
    uint64_t left = rs->budget - rs->done;
    int64_t start = (int64_t)left;

    /* Generated code checks the budget only at block entries and counts
     * whole blocks: when exact, keep it TB_MAX_INSNS - 1 short so that it
     * never runs past the budget; near the end run exactly this block. */
    if (rs->exact) {
        start = left > TB_MAX_INSNS ? (int64_t)(left - (TB_MAX_INSNS - 1))
                                    : (int64_t)tes_jit_tb_ninsns(tb);
    }
    c->jit_budget = start;
    rs->last = tes_jit_exec(jit, c, tb);
    if (c->jit_budget_is_held) { /* see irq_after_access */
        c->jit_budget = c->jit_budget_held;
        c->jit_budget_is_held = false;
    }
    rs->done += (uint64_t)(start - c->jit_budget);
    c->jit_exit = 0;
}

/* One step of the loop: interrupts, then a block (or the interpreter). */
static tes_exec_status loop_step(arm_cpu *c, run_state *rs)
{
    tes_jit_key k;
    tes_jit_tb *tb = NULL;
    bool flushed = false;

    if (__builtin_expect(c->irq_line | c->fiq_line, 0) && !c->gdb.noirq && arm_take_irq(c)) {
        rs->last = TES_JIT_RET_OTHER;
    }
    if (c->jc_epoch != c->tlb_epoch) {
        /* A TLB flush (the jump cache went with it, arm_jit_tlb_flushed):
         * a chain decided across it would not be right. */
        c->jc_epoch = c->tlb_epoch;
        rs->last = TES_JIT_RET_OTHER;
    }
    if (__builtin_expect(c->gdb.nbp != 0, 0) && gdb_bp_hit(&c->gdb, c->pc)) {
        return TES_EXEC_DEBUG; /* no block starts at a breakpoint (debug.c) */
    }
    if (arm_tb_key(c, &k)) {
        tb = tes_jit_find(jit, c->jc, &k);
        if (!tb) {
            tb = translate(c, &k, &flushed);
        }
    }
    if (!tb || (rs->exact && tes_jit_tb_ninsns(tb) > rs->budget - rs->done)) {
        uint64_t n = 0;
        tes_exec_status st = arm_interp(c, tb ? rs->budget - rs->done : 1, &n);

        rs->done += n;
        rs->last = TES_JIT_RET_OTHER;
        return st;
    }
    if (!flushed) {
        chain(rs, tb);
    }
    run_block(c, rs, tb);
    if (c->halt_req) {
        if (c->gdb.wp_hit) { /* a watchpoint: the block left at the access */
            c->gdb.wp_hit = false;
            c->halt_req = false;
            return TES_EXEC_DEBUG;
        }
        if (arm_halt_now(c)) {
            return TES_EXEC_HALT;
        }
    }
    return TES_EXEC_BUDGET;
}

bool arm_jit_run(arm_cpu *c, uint64_t budget, uint64_t *done, tes_exec_status *st)
{
    run_state rs = {.budget = budget, .exact = budget < EXACT_BELOW,
                    .last = TES_JIT_RET_OTHER};

    if (!jit_get(c)) {
        return false;
    }
    if (!c->jc) {
        c->jc = tes_jit_jc_new(jit);
        c->jc_epoch = c->tlb_epoch;
        if (!c->jc) {
            arm_jit_cpu_free(c);
            return false; /* out of memory: interpret */
        }
    }
    *st = TES_EXEC_BUDGET;
    while (rs.done < budget && *st == TES_EXEC_BUDGET) {
        *st = loop_step(c, &rs);
    }
    *done = rs.done;
    return true;
}
