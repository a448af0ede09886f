/*
 * cpu-arm: the execution loop (tes_cpu_ops.exec) and its decode cache.
 *
 * Decode cache: for every page of RAM code runs from, an array of 1024
 * entries, one per instruction slot, holding the word last decoded there
 * and its handler (a64_decode). An entry is used only when the word now in
 * memory equals the one it was decoded from, and a handler depends on
 * nothing but the word, so an entry can never be stale: code written by
 * this CPU, another vCPU, DMA or the loader, virtual aliases and page
 * reuse need no invalidation. The price is one compare per instruction
 * against a word in the same cache line as the one fetched. Pages are keyed
 * by their host address and shared by all vCPUs (they run on one thread,
 * see core/accel.c); past DPAGE_MAX pages the cache starts over.
 *
 * The loop keeps the page it executes from (VA page -> host page, decoded
 * page) while the PC stays in it and nothing could have changed the
 * translation: every TLB flush bumps arm_cpu.tlb_epoch (mmu.c), and the EL
 * is part of the key. Leaving the page, a flush or an exception level
 * change looks the page up again through the soft TLB (arm_fetch), which
 * checks permissions and raises instruction aborts.
 *
 * This is the engine of -accel tcg,jit=off, and the translator's fallback
 * (translate.c): pcs outside RAM, the last instructions of a small exact
 * budget, and (one word at a time, through a64_decode) every instruction
 * the translator does not do itself. The translator, unlike this cache,
 * must be told of writes to code (translate.c says how).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "arm.h"

#define PAGE_SLOTS 1024 /* 4 KiB / 4 */
#define DPAGE_MAX 4096  /* 32 MiB of decoded pages at most */
#define DTAB_BITS 13    /* hash table: twice DPAGE_MAX slots */
#define DTAB_SIZE (1u << DTAB_BITS)

/* A decoded slot: the word and its handler as an offset from FN_BASE (all
 * handlers live in this shared object, well within +-2 GiB). A zeroed
 * slot is word 0 with handler FN_BASE, which does what a64_decode(0)
 * does, hence valid. */
static void slot_base(arm_cpu *c, uint32_t insn)
{
    a64_undef_insn(c, insn); /* word 0 is UDF #0 */
}
#define FN_BASE ((uintptr_t)slot_base)
typedef struct dslot {
    uint32_t insn;
    int32_t off;
} dslot;

typedef struct dpage {
    dslot s[PAGE_SLOTS];
} dpage;

/* Open addressing, keyed by the host address of the RAM page; the key is
 * kept in the table so that a lookup reads one cache line. */
typedef struct dtab_ent {
    const uint8_t *host;
    dpage *page;
} dtab_ent;

static dtab_ent dtab[DTAB_SIZE];
static unsigned dcount;

static inline a64_fn slot_fn(const dslot *d)
{
    return (a64_fn)(FN_BASE + (uintptr_t)(intptr_t)d->off);
}

static a64_fn slot_fill(dslot *d, uint32_t insn)
{
    a64_fn fn = a64_decode(insn);
    intptr_t off = (intptr_t)((uintptr_t)fn - FN_BASE);

    if (off == (int32_t)off) {
        d->insn = insn;
        d->off = (int32_t)off;
    }
    return fn;
}

static void dcache_clear(void)
{
    for (unsigned i = 0; i < DTAB_SIZE; i++) {
        free(dtab[i].page);
        dtab[i].page = NULL;
        dtab[i].host = NULL;
    }
    dcount = 0;
}

/* The decoded page of a RAM page (host pointer, page aligned); NULL when
 * out of memory (the caller then runs uncached). */
static dslot *dpage_of(const uint8_t *host)
{
    uint64_t k = (uint64_t)(uintptr_t)host >> 12;
    unsigned i = (unsigned)((k * 0x9e3779b97f4a7c15ull) >> (64 - DTAB_BITS));

    for (; dtab[i].host; i = (i + 1) & (DTAB_SIZE - 1)) {
        if (dtab[i].host == host) {
            return dtab[i].page->s;
        }
    }
    if (dcount >= DPAGE_MAX) {
        dcache_clear(); /* slot i stays free: the table is now empty */
    }
    dtab[i].page = calloc(1, sizeof(dpage));
    if (!dtab[i].page) {
        return NULL;
    }
    dtab[i].host = host;
    dcount++;
    return dtab[i].page->s;
}

/* The page of code the loop runs from. */
typedef struct code_page {
    uint64_t va;         /* VA of the page; never page aligned when none */
    uint64_t epoch;      /* c->tlb_epoch when it was looked up */
    unsigned el;
    const uint8_t *host;
    dslot *slots;
} code_page;

enum { FETCH_FAULT, FETCH_CACHED, FETCH_UNCACHED };

/* Look up the page of c->pc: FETCH_CACHED with *cp filled, FETCH_UNCACHED
 * with *insn (not RAM, or no memory for the decoded page), FETCH_FAULT
 * when an exception was raised (through next_pc). */
static int enter_page(arm_cpu *c, code_page *cp, uint32_t *insn)
{
    uint64_t pc = c->pc;
    const tlb_entry *e;

    if (pc & 3) { /* PC alignment fault (D1.8.2): FAR = the PC */
        c->far_el1 = pc;
        arm_exception(c, EC_PC_ALIGN, 0, pc);
        return FETCH_FAULT;
    }
    e = &c->tlb_x[c->el][(pc >> 12) & (TLB_SIZE - 1)];
    if (e->va_tag != ((pc & ~0xfffull) | 1) || !e->host) {
        /* Miss (translate, or raise the abort) or not RAM. */
        if (!arm_fetch(c, pc, insn)) {
            return FETCH_FAULT;
        }
        if (e->va_tag != ((pc & ~0xfffull) | 1) || !e->host) {
            return FETCH_UNCACHED;
        }
    }
    cp->slots = dpage_of(e->host);
    if (!cp->slots) {
        memcpy(insn, e->host + (pc & 0xfff), 4); /* out of memory: uncached */
        return FETCH_UNCACHED;
    }
    cp->va = pc & ~0xfffull;
    cp->epoch = c->tlb_epoch;
    cp->el = c->el;
    cp->host = e->host;
    return FETCH_CACHED;
}

/* A pending IRQ/FIQ line is the only asynchronous event; the cheap test
 * keeps arm_check_irq off the common path. arm_check_irq raises the
 * exception like arm_exception does: through next_pc. */
static inline void check_irq(arm_cpu *c)
{
    if (__builtin_expect(c->irq_line | c->fiq_line, 0) && !c->gdb.noirq) {
        arm_take_irq(c);
    }
}

bool arm_take_irq(arm_cpu *c)
{
    c->next_pc = c->pc;
    if (arm_check_irq(c)) {
        c->pc = c->next_pc;
        return true;
    }
    return false;
}

/* After WFI / PSCI CPU_OFF: true when exec() must return HALT. WFI sleeps
 * unless an interrupt (even a masked one) is pending; CPU_OFF stops
 * whatever is pending. */
bool arm_halt_now(arm_cpu *c)
{
    c->halt_req = false;
    return (!c->irq_line && !c->fiq_line) || !c->powered;
}

/* Off the fast path: c->pc left the cached page, or its translation may
 * have changed. Returns true when *cp now holds c->pc's page; otherwise
 * the instruction was run here (not RAM) or its fetch raised an exception,
 * and c->next_pc is where to go on. */
static bool slow_fetch(arm_cpu *c, code_page *cp, bool log)
{
    uint32_t insn;

    switch (enter_page(c, cp, &insn)) {
    case FETCH_CACHED:
        return true;
    case FETCH_UNCACHED:
        cp->va = 1;
        if (log) {
            H->log(TES_LOG_IN_ASM, "cpu%u 0x%016" PRIx64 ": %08x\n", c->index, c->pc, insn);
        }
        a64_decode(insn)(c, insn);
        return false;
    default:
        return false; /* instruction abort or PC alignment fault taken */
    }
}

/* The loop, with instruction tracing (-d in_asm) compiled in or out. */
static inline __attribute__((always_inline)) tes_exec_status
run_loop(arm_cpu *c, uint64_t budget, uint64_t *done, bool log)
{
    code_page cp = {.va = 1};
    uint64_t n = 0;

    while (n < budget) {
        uint64_t pc;

        check_irq(c);
        if (__builtin_expect(c->gdb.nbp != 0, 0) && gdb_bp_hit(&c->gdb, c->pc)) {
            *done = n;
            return TES_EXEC_DEBUG; /* before the instruction, as gdb wants */
        }
        n++;
        pc = c->pc;
        c->next_pc = pc + 4;
        /* Same page, aligned (the mask keeps bits 1:0), same translation. */
        if (__builtin_expect((pc & ~0xffcull) == cp.va && c->tlb_epoch == cp.epoch &&
                                 c->el == cp.el,
                             1) ||
            slow_fetch(c, &cp, log)) {
            uint32_t insn;
            const dslot *d = &cp.slots[(pc & 0xfff) >> 2];
            a64_fn fn;

            memcpy(&insn, cp.host + (pc & 0xfff), 4);
            fn = __builtin_expect(d->insn == insn, 1) ? slot_fn(d)
                                                      : slot_fill(&cp.slots[(pc & 0xfff) >> 2], insn);
            if (log) {
                H->log(TES_LOG_IN_ASM, "cpu%u 0x%016" PRIx64 ": %08x\n", c->index, pc, insn);
            }
            fn(c, insn);
        }
        c->pc = c->next_pc;
        if (__builtin_expect(c->halt_req, 0)) {
            if (c->gdb.wp_hit) { /* a watchpoint (debug.c) */
                c->gdb.wp_hit = false;
                c->halt_req = false;
                *done = n;
                return TES_EXEC_DEBUG;
            }
            if (arm_halt_now(c)) {
                *done = n;
                return TES_EXEC_HALT;
            }
        }
    }
    *done = n;
    return TES_EXEC_BUDGET;
}

static tes_exec_status run_plain(arm_cpu *c, uint64_t budget, uint64_t *done)
{
    return run_loop(c, budget, done, false);
}

static tes_exec_status run_logged(arm_cpu *c, uint64_t budget, uint64_t *done)
{
    return run_loop(c, budget, done, true);
}

tes_exec_status arm_interp(arm_cpu *c, uint64_t budget, uint64_t *done)
{
    if (H->log_enabled(TES_LOG_IN_ASM)) {
        return run_logged(c, budget, done);
    }
    return run_plain(c, budget, done);
}

tes_exec_status arm_run(arm_cpu *c, uint64_t budget, uint64_t *executed)
{
    tes_exec_status st;
    uint64_t n = 0;

    /* The GIC's banked registers belong to the vCPU doing the access. */
    arm_current_cpu = c;
    arm_tlb_check_gen(c); /* a BAR may have moved while we were away */
    if (!c->jit || !arm_jit_run(c, budget, &n, &st)) {
        st = arm_interp(c, budget, &n);
    }
    c->insn_count += n;
    arm_current_cpu = NULL;
    if (executed) {
        *executed = n;
    }
    return st;
}
