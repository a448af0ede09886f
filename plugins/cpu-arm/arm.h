/*
 * cpu-arm: shared definitions of the AArch64 CPU and its generic timers.
 * Internal to the plugin (not SDK): boards, the GIC and other plugins
 * reach a vCPU only through the CPU<->board interface of the SDK
 * (<tessera/cpu.h>: boot state, input lines, timer outputs, MPIDR).
 *
 * Execution model: exec() fetches and executes A64 instructions one at a
 * time (exec.c); a64_decode() maps a word to its handler by the top-level
 * encoding groups of the Arm ARM (C4.1), and exec.c caches that per
 * instruction slot of each RAM page of code: data processing immediate /
 * register and branches and loads/stores live in a64.c and a64-ldst.c,
 * SIMD&FP in a64-simd.c, system instructions and exceptions in sys.c,
 * translation in mmu.c. With jit=on (the default) exec() runs blocks
 * translated to host code instead (translate.c, a64-jit*.c), which call
 * these handlers for the instructions they do not translate.
 *
 * Control flow convention: before an instruction runs, c->next_pc is set to
 * c->pc + 4. Branches set c->next_pc. An instruction that raises an
 * exception calls arm_exception() (or arm_undef()), which sets c->next_pc
 * to the vector and returns; the handler must then return at once without
 * writing registers. After each instruction the loop does c->pc =
 * c->next_pc.
 */
#ifndef CPU_ARM_H
#define CPU_ARM_H

#include <stdint.h>
#include <string.h>
#include <tessera/tessera.h>

#include "../cpu-common/gdb-points.h"

extern const tes_host *arm_host; /* set by the plugin's init */
#define H arm_host

/* ---- exception syndrome classes (ESR_ELx.EC, Arm ARM D17.2.37) ---- */
#define EC_UNKNOWN 0x00
#define EC_WFX 0x01
#define EC_FP_ACCESS 0x07
#define EC_ILLEGAL_STATE 0x0e
#define EC_SVC64 0x15
#define EC_HVC64 0x16
#define EC_SMC64 0x17
#define EC_SYSREG 0x18
#define EC_IABT_LOWER 0x20
#define EC_IABT_SAME 0x21
#define EC_PC_ALIGN 0x22
#define EC_DABT_LOWER 0x24
#define EC_DABT_SAME 0x25
#define EC_SP_ALIGN 0x26
#define EC_FP_EXC64 0x2c
#define EC_SERROR 0x2f
#define EC_BREAKPT_LOWER 0x30
#define EC_SOFTSTEP_LOWER 0x32
#define EC_BRK64 0x3c

/* PSTATE bits as in SPSR_ELx. */
#define PSTATE_N (1u << 31)
#define PSTATE_Z (1u << 30)
#define PSTATE_C (1u << 29)
#define PSTATE_V (1u << 28)
#define PSTATE_SS (1u << 21)
#define PSTATE_IL (1u << 20)
#define PSTATE_D (1u << 9)
#define PSTATE_A (1u << 8)
#define PSTATE_I (1u << 7)
#define PSTATE_F (1u << 6)
#define PSTATE_M_EL0t 0x0
#define PSTATE_M_EL1t 0x4
#define PSTATE_M_EL1h 0x5

/* Memory access kinds for arm_read/arm_write. */
#define ACC_NORMAL 0
#define ACC_UNPRIV (1u << 0)  /* LDTR/STTR: checked as EL0 */
#define ACC_ALIGN (1u << 1)   /* must be aligned (exclusives, acquire) */
#define ACC_FETCH (1u << 2)

/* Generic timer: 62.5 MHz like QEMU's virt. */
#define ARM_CNTFRQ 62500000ull
enum { TIMER_PHYS = 0, TIMER_VIRT = 1, TIMER_HYP = 2, TIMER_SEC = 3, NUM_TIMERS = 4 };

/* Interrupt input lines of the CPU (tes_cpu_ops.set_irq; the SDK's
 * TES_ARM_IRQ / TES_ARM_FIQ). */
enum { ARM_IRQ = TES_ARM_IRQ, ARM_FIQ = TES_ARM_FIQ };

/* Soft TLB: host pointers for RAM pages, per (page, el) of the current
 * translation regime; flushed on TLBI, TTBR/TCR/SCTLR writes and when the
 * core's memory map generation changes. */
#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
typedef struct tlb_entry {
    uint64_t va_tag;  /* page VA | 1 when valid, for the access kind */
    uint8_t *host;    /* host pointer of the page, NULL for MMIO */
    uint64_t pa;      /* physical page address */
    /* Write entries of a RAM page holding translated code: its host
     * pointer, withheld from host so that writes go through the core
     * (translate.c); given back once the page holds no code. */
    uint8_t *code_host;
} tlb_entry; /* 32 bytes: the translator indexes it with a shift */

typedef union vreg {
    uint8_t b[16];
    uint16_t h[8];
    uint32_t s[4];
    uint64_t d[2];
    float f[4];
    double df[2];
} vreg;

typedef struct arm_timer {
    uint64_t ctl;   /* CNTx_CTL: ENABLE, IMASK, ISTATUS (computed) */
    uint64_t cval;
    tes_timer *t;   /* fires at cval */
    int level;      /* of the vCPU's output `which` (dev_set_irq) */
} arm_timer;

typedef struct arm_cpu {
    tes_cpu *cpu;
    unsigned index;
    uint64_t mpidr;

    /* Architectural state. x[31] is not a register: helpers take care of
     * SP vs XZR by instruction form (reg_sp / reg_zr). */
    uint64_t x[32];
    uint64_t pc, next_pc;
    uint64_t sp_el0, sp_el1;
    uint32_t nzcv;   /* PSTATE.NZCV in bits 31:28 */
    uint32_t nzcv_hi; /* always 0: the translator reads nzcv as a 64-bit field */
    uint32_t daif;   /* PSTATE.DAIF in bits 9:6 */
    uint8_t el;      /* 0 or 1 */
    uint8_t spsel;   /* 0: SP_EL0, 1: SP_ELx (at EL1) */
    bool ss;         /* PSTATE.SS, software step (unused) */
    vreg v[32];
    uint32_t fpcr, fpsr;

    /* EL1 system registers (sys.c). */
    uint64_t sctlr_el1, tcr_el1, ttbr0_el1, ttbr1_el1, mair_el1, amair_el1;
    uint64_t vbar_el1, esr_el1, far_el1, elr_el1, spsr_el1, par_el1;
    uint64_t contextidr_el1, tpidr_el0, tpidrro_el0, tpidr_el1;
    uint64_t cpacr_el1, mdscr_el1, cntkctl_el1, csselr_el1, afsr0_el1, afsr1_el1;
    uint64_t actlr_el1, oslsr_el1, osdlr_el1, mdccint_el1, pmuserenr_el0;
    uint64_t cntvoff_el2; /* 0: no EL2 */
    arm_timer timer[NUM_TIMERS];

    /* Exclusive monitor: STXR succeeds when the address matches and memory
     * still holds excl_val (vCPUs run one at a time, see cpu.c). */
    bool excl_valid;
    uint64_t excl_addr;
    unsigned excl_size;
    uint64_t excl_val[2];

    /* Interrupt inputs and run state. */
    int irq_line, fiq_line;
    bool halt_req;   /* WFI executed: exec() returns TES_EXEC_HALT */
    bool powered;
    uint64_t insn_count;

    /* Soft TLB (mmu.c): index [el][slot], separate read/write/exec. */
    tlb_entry tlb_r[2][TLB_SIZE], tlb_w[2][TLB_SIZE], tlb_x[2][TLB_SIZE];
    uint64_t tlb_gen; /* host memory_generation() the TLB was filled at */

    /* Added by armsys (sys.c, mmu.c). Debug breakpoint/watchpoint
     * registers: stored, never matched (ID_AA64DFR0 advertises 2 + 2). */
    uint64_t dbg_bvr[2], dbg_bcr[2], dbg_wvr[2], dbg_wcr[2];
    /* VA range [lo, hi] of TLB entries filled from block mappings: a TLBI
     * by VA inside it must flush everything, since one block covers many
     * of our 4K entries. lo > hi when empty. */
    uint64_t tlb_blk_lo, tlb_blk_hi;
    /* A non-global (nG) entry of the TTBR1 half was filled: an ASID change
     * must then flush everything, not only the TTBR0 half. */
    bool tlb_ng_hi;
    /* Added by armperf: bumped by every TLB flush (mmu.c), so the
     * execution loop (exec.c) knows its cached page of code may be stale. */
    uint64_t tlb_epoch;

    /* Added by jit-arm: the translator (translate.c). Translated blocks
     * read jit_budget and jit_exit at every entry (tessera/jit.h). */
    int64_t jit_budget;  /* instructions the generated code may still run */
    int32_t jit_exit;    /* non-zero: leave at the next block boundary */
    /* Added by net-nic: the budget put aside while an interrupt raised by
     * a completed memory access waits for the block boundary (translate.c,
     * irq_after_access). */
    int64_t jit_budget_held;
    bool jit_budget_is_held;
    bool jit;            /* property "jit": translate (on) or interpret */
    uint32_t tb_size;    /* property "tb-size": code buffer MiB */
    struct tes_jit_jc *jc; /* this vCPU's jump cache */
    uint64_t jc_epoch;   /* tlb_epoch the jump cache is valid for */

    /* Added by gdb17: the debugger's breakpoints and watchpoints
     * (debug.c; virtual addresses) and why exec() last returned
     * TES_EXEC_DEBUG. */
    gdb_points gdb; /* wp_hit: leave exec() (with halt_req) */
} arm_cpu;

/* ---- debug.c: the debugger's points (tes_cpu_ops.debug_point) ---- */
int arm_debug_point(arm_cpu *c, int kind, bool insert, uint64_t addr, uint64_t len);
bool arm_debug_translate(arm_cpu *c, uint64_t va, bool write, uint64_t *pa);
/* A data access [va, va + size) hits a watchpoint (call when gdb.nwp):
 * the instruction is abandoned before it has an effect, as gdb's aarch64
 * target expects (the pc stays on it: next_pc = pc), the stop recorded;
 * true. */
bool arm_wp_hit(arm_cpu *c, uint64_t va, unsigned size, bool write);

/* ---- exec.c: the execution loop and its decode cache ---- */
/* Run up to budget instructions (the tes_cpu_ops.exec body). */
tes_exec_status arm_run(arm_cpu *c, uint64_t budget, uint64_t *executed);
/* The interpreter alone: up to budget instructions, *done of them run. */
tes_exec_status arm_interp(arm_cpu *c, uint64_t budget, uint64_t *done);
/* WFI / CPU_OFF seen (halt_req): true when exec() must return HALT. */
bool arm_halt_now(arm_cpu *c);
/* Take a pending, unmasked IRQ/FIQ before the next instruction; true when
 * one was taken (c->pc is then the vector). */
bool arm_take_irq(arm_cpu *c);

/* ---- translate.c: the translator's run loop (jit=on) ---- */
#define ARM_TB_SIZE_DEFAULT 64 /* MiB of translated code */
/* Run up to budget instructions through translated blocks; false (nothing
 * run) when no translator could be created: interpret then. */
bool arm_jit_run(arm_cpu *c, uint64_t budget, uint64_t *done, tes_exec_status *st);
/* The soft TLB must not map host_page for direct writes: it holds code. */
bool arm_jit_page_has_code(const void *host_page);
/* The CPU wrote [host, host + len) of a page holding code (entry_write). */
void arm_jit_code_written(const void *host, size_t len);
/* Every soft TLB flush (a new tlb_epoch): the jump cache goes too. */
void arm_jit_tlb_flushed(arm_cpu *c);
void arm_jit_tlb_flushed_page(arm_cpu *c, uint64_t va);
/* Drop every translation (reset: boot loaders rewrite RAM directly). */
void arm_jit_reset(arm_cpu *c);
void arm_jit_cpu_free(arm_cpu *c);

/* ---- a64.c: decode and execute ---- */
/* Execute one instruction word at c->pc (tests use it too). */
void a64_execute(arm_cpu *c, uint32_t insn);
/* An instruction's handler: executes that word (same contract as
 * a64_execute). a64_decode is a pure function of the word. */
typedef void (*a64_fn)(arm_cpu *c, uint32_t insn);
a64_fn a64_decode(uint32_t insn);
void a64_undef_insn(arm_cpu *c, uint32_t insn); /* a64_decode(0): UDF */
/* DecodeBitMasks of the logical immediates; false when reserved. */
bool a64_bitmask(unsigned n, unsigned imms, unsigned immr, bool sf, uint64_t *mask);
/* Register helpers: n == 31 means SP (reg_sp) or XZR (reg_zr). */
static inline uint64_t *arm_sp_ref(arm_cpu *c)
{
    return (c->el == 0 || c->spsel == 0) ? &c->sp_el0 : &c->sp_el1;
}
static inline uint64_t reg_zr(arm_cpu *c, unsigned n)
{
    return n == 31 ? 0 : c->x[n];
}
static inline void set_zr(arm_cpu *c, unsigned n, uint64_t v)
{
    if (n != 31) {
        c->x[n] = v;
    }
}
static inline uint64_t reg_sp(arm_cpu *c, unsigned n)
{
    return n == 31 ? *arm_sp_ref(c) : c->x[n];
}
static inline void set_sp(arm_cpu *c, unsigned n, uint64_t v)
{
    if (n == 31) {
        *arm_sp_ref(c) = v;
    } else {
        c->x[n] = v;
    }
}
/* Condition codes (C1.2.4), from a table in a64.c. */
extern const uint16_t arm_cond_table[16];
static inline bool arm_cond_holds(arm_cpu *c, unsigned cond)
{
    return (arm_cond_table[c->nzcv >> 28] >> cond) & 1;
}

/* ---- a64-ldst.c: loads and stores (general and FP/SIMD register forms) */
void a64_ldst(arm_cpu *c, uint32_t insn);
a64_fn a64_ldst_decode(uint32_t insn); /* the handler a64_ldst would run */

/* ---- a64-simd.c: SIMD&FP data processing, and LD1-4/ST1-4 structures */
void a64_simd_dp(arm_cpu *c, uint32_t insn);
void a64_simd_ldst_struct(arm_cpu *c, uint32_t insn);
/* FP access check: CPACR_EL1.FPEN traps (EC_FP_ACCESS). False when trapped
 * (exception raised). */
bool arm_fp_access_ok(arm_cpu *c);

/* ---- sys.c: system instructions, exceptions, PSCI ---- */
/* Branches, exception generation and system group (C4.1.3) that is not a
 * branch: SVC/HVC/SMC/BRK, MSR/MRS/SYS/SYSL, hints, barriers, ERET. */
void a64_system(arm_cpu *c, uint32_t insn);
/* Synchronous exception to EL1: ELR = preferred return address. */
void arm_exception(arm_cpu *c, unsigned ec, uint32_t iss, uint64_t elr);
void arm_undef(arm_cpu *c); /* EC_UNKNOWN at c->pc */
/* Take a pending, unmasked IRQ/FIQ; returns true when taken. */
bool arm_check_irq(arm_cpu *c);
uint32_t arm_get_pstate(arm_cpu *c);          /* for SPSR */
void arm_set_pstate(arm_cpu *c, uint32_t spsr); /* ERET */
void arm_cpu_reset(arm_cpu *c);
/* HVC #0 from EL1: PSCI 1.0 (CPU_ON/OFF, SYSTEM_OFF/RESET, ...). */
void arm_psci(arm_cpu *c);
/* Generic timer (timer.c). */
uint64_t arm_cntpct(arm_cpu *c);
void arm_timer_update(arm_cpu *c, int which); /* re-evaluate level/deadline */
void arm_timers_init(arm_cpu *c);

/* ---- mmu.c: translation and memory access ---- */
/* Read/write size 1,2,4,8 at va; false when an abort was raised. */
/* monitor.c: tes_cpu_ops dump (translate is debug.c's). */
int arm_cpu_dump(tes_cpu *cpu, void *s, unsigned what, void (*print)(void *opaque, const char *text),
                   void *opaque);
bool arm_read(arm_cpu *c, uint64_t va, unsigned size, uint64_t *val, unsigned acc);
bool arm_write(arm_cpu *c, uint64_t va, unsigned size, uint64_t val, unsigned acc);
bool arm_read128(arm_cpu *c, uint64_t va, vreg *out, unsigned acc);
bool arm_write128(arm_cpu *c, uint64_t va, const vreg *in, unsigned acc);
bool arm_fetch(arm_cpu *c, uint64_t va, uint32_t *insn);
/* AT S1E1R etc: fill PAR_EL1. */
void arm_at(arm_cpu *c, uint64_t va, bool write, bool el0);
void arm_tlb_flush(arm_cpu *c);
void arm_tlb_flush_page(arm_cpu *c, uint64_t va);
/* Physical access for the boot loader and page walks. */
bool arm_phys_read(uint64_t pa, void *buf, uint64_t len);

/* ---- cpu.c ---- */
arm_cpu *arm_cpu_of(tes_cpu *cpu);
extern const tes_type_info arm_cortex_a57_type, arm_max_type;

/* ---- armsys (sys.c, sysregs.c, mmu.c, timer.c) ---- */
/* MRS/MSR (register) instruction (sysregs.c). */
void a64_sysreg(arm_cpu *c, uint32_t insn);
/* Timer registers CNTx_CTL/CVAL/TVAL of timer which (timer.c). */
enum { TREG_CTL, TREG_CVAL, TREG_TVAL };
uint64_t arm_timer_read(arm_cpu *c, int which, int reg);
void arm_timer_write(arm_cpu *c, int which, int reg, uint64_t val);
/* Context switch (TTBR0 or ASID change): drop the entries of the TTBR0
 * half (VA[55] = 0) and any non-global ones; kernel entries stay. */
void arm_tlb_flush_asid(arm_cpu *c);
/* DC ZVA: zero the 64-byte block holding va (mmu.c); false on abort. */
bool arm_dc_zva(arm_cpu *c, uint64_t va);
/* Inline fast paths of arm_fetch/arm_read/arm_write for the interpreter's
 * hot loop: a TLB hit on a RAM page is a tag compare and a load/store;
 * anything else (miss, MMIO, page crossing, alignment check) takes the
 * out-of-line function, which has the same contract. */
static inline bool arm_fetch_fast(arm_cpu *c, uint64_t va, uint32_t *insn)
{
    const tlb_entry *e = &c->tlb_x[c->el][(va >> 12) & (TLB_SIZE - 1)];

    if (__builtin_expect(e->va_tag == ((va & ~0xfffull) | 1) && e->host != NULL, 1)) {
        memcpy(insn, e->host + (va & 0xfff), 4);
        return true;
    }
    return arm_fetch(c, va, insn);
}

static inline bool arm_read_fast(arm_cpu *c, uint64_t va, unsigned size, uint64_t *val,
                                 unsigned acc)
{
    const tlb_entry *e = &c->tlb_r[(acc & ACC_UNPRIV) ? 0 : c->el][(va >> 12) & (TLB_SIZE - 1)];

    if (__builtin_expect(e->va_tag == ((va & ~0xfffull) | 1) && e->host != NULL &&
                             !(va & (size - 1)) && !(acc & ACC_ALIGN),
                         1)) {
        uint64_t v = 0;

        memcpy(&v, e->host + (va & 0xfff), size); /* LE host, LE guest */
        *val = v;
        return true;
    }
    return arm_read(c, va, size, val, acc);
}

static inline bool arm_write_fast(arm_cpu *c, uint64_t va, unsigned size, uint64_t val,
                                  unsigned acc)
{
    const tlb_entry *e = &c->tlb_w[(acc & ACC_UNPRIV) ? 0 : c->el][(va >> 12) & (TLB_SIZE - 1)];

    if (__builtin_expect(e->va_tag == ((va & ~0xfffull) | 1) && e->host != NULL &&
                             !(va & (size - 1)) && !(acc & ACC_ALIGN),
                         1)) {
        memcpy(e->host + (va & 0xfff), &val, size);
        return true;
    }
    return arm_write(c, va, size, val, acc);
}

/* Flush the soft TLB when the core's memory map changed since it was
 * filled; call at arm_run entry (host pointers may be stale). */
static inline void arm_tlb_check_gen(arm_cpu *c)
{
    if (H->memory_generation() != c->tlb_gen) {
        arm_tlb_flush(c);
    }
}

/* The vCPU in arm_run (exec.c sets it). Nothing reads it any more: the
 * GIC, now a plugin of its own, asks host->cpu_current(). Defined in
 * cpu.c; goes away with exec.c's next edit. */
extern arm_cpu *arm_current_cpu;

#endif
