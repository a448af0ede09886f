/*
 * cpu-arm: A64 to IR (tessera/jit.h): the block, branches, system
 * instructions and the fallback; data processing is a64-jit-dp.c's,
 * loads and stores a64-jit-ldst.c's. The semantics are the
 * interpreter's (a64.c, a64-ldst.c, sys.c): anything not translated here
 * becomes a call of the interpreter's handler for that word (fallback),
 * so both engines agree by construction on every rare instruction, and
 * the differential test (tests/test-jit.c) holds the translated ones to
 * the interpreter.
 *
 * The IR helpers the files share (values, flags, conditions) are
 * a64-jit.h's.
 *
 * State: x0-x30, the SP in use and NZCV are IR globals (fields of
 * arm_cpu); NZCV stays packed in bits 31:28 as the interpreter keeps it
 * (arm_cpu.nzcv_hi makes it a 64-bit field). The pc is not a global: exits
 * store it, helpers get it as an argument, slow paths from the generator.
 */
#include <inttypes.h>

#include "a64-jit.h"

static const char *const reg_names[31] = {
    "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10",
    "x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20",
    "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30",
};

/* ---- values ---- */

static tes_jit_val xreg(a64_dc *s, unsigned n)
{
    return tes_jit_global(s->ir, offsetof(arm_cpu, x) + 8 * n, reg_names[n]);
}

tes_jit_val a64_jit_reg_zr(a64_dc *s, unsigned n)
{
    return n == 31 ? K(s, 0) : xreg(s, n);
}

tes_jit_val a64_jit_reg_sp(a64_dc *s, unsigned n)
{
    return n == 31 ? tes_jit_global(s->ir, s->sp_off, "sp") : xreg(s, n);
}

void a64_jit_set_zr(a64_dc *s, unsigned n, tes_jit_val v)
{
    if (n != 31) {
        tes_jit_op(s->ir, TES_JIT_MOV, xreg(s, n), v, TES_JIT_NONE);
    }
}

void a64_jit_set_sp(a64_dc *s, unsigned n, tes_jit_val v)
{
    tes_jit_op(s->ir, TES_JIT_MOV, a64_jit_reg_sp(s, n), v, TES_JIT_NONE);
}

static void store_pc(a64_dc *s, tes_jit_val v)
{
    tes_jit_st(s->ir, v, s->env, offsetof(arm_cpu, pc), TES_JIT_MO_64);
}

/* ---- helpers the generated code calls ---- */

/* The interpreter's handler fn for one instruction (the fallback). The
 * block goes on unless the instruction branched, raised an exception,
 * changed EL or SP selection, or halted: then c->pc is where to resume
 * and exit_req makes the block leave. An interrupt line raised by the
 * instruction itself (cpu_set_irq sets jit_exit: a GICv3 ICC_* access)
 * makes the block leave after this call too, so c->pc must then be past
 * the instruction, or an MRS of ICC_IAR1_EL1 would run twice. */
static void helper_insn(arm_cpu *c, uint64_t pc, uint64_t insn, uint64_t fn)
{
    uint8_t el = c->el, spsel = c->spsel;

    c->pc = pc;
    c->next_pc = pc + 4;
    ((a64_fn)(uintptr_t)fn)(c, (uint32_t)insn);
    if (c->next_pc != pc + 4 || c->halt_req || c->el != el || c->spsel != spsel ||
        c->jit_exit) {
        c->pc = c->next_pc;
        c->jit_exit = 1;
    }
}

/* The same for an instruction that ends its block: c->pc is always where
 * to resume (the block then leaves without chaining). */
static void helper_insn_end(arm_cpu *c, uint64_t pc, uint64_t insn, uint64_t fn)
{
    c->pc = pc;
    c->next_pc = pc + 4;
    ((a64_fn)(uintptr_t)fn)(c, (uint32_t)insn);
    c->pc = c->next_pc;
}

/* System-class words that may change state: MSR, SYS (TLBI, IC, DC, AT),
 * exceptions (SVC, HVC, SMC, BRK), ERET, WFI. MRS only reads. */
static bool ends_block(uint32_t insn)
{
    if ((insn & 0xfe000000u) == 0xd6000000u) {
        return true; /* BR/BLR/RET/ERET that were not translated */
    }
    if ((insn & 0x1c000000u) != 0x14000000u) {
        return false; /* not the branch / exception / system group */
    }
    if ((insn & 0xffd00000u) == 0xd5100000u && JBIT(insn, 21)) {
        return false; /* MRS */
    }
    if ((insn & 0xffd8f000u) == 0xd5087000u) {
        return false; /* DC, IC, AT (CRn 7): memory and PAR_EL1 only */
    }
    return true;
}

static void fallback(a64_dc *s)
{
    bool end = ends_block(s->insn);
    tes_jit_val args[4] = {s->env, K(s, s->pc), K(s, s->insn),
                           K(s, (uintptr_t)a64_decode(s->insn))};

    tes_jit_call(s->ir, end ? (const void *)helper_insn_end : (const void *)helper_insn,
                 TES_JIT_CALL_EXIT, TES_JIT_NONE, 4, args);
    if (end) {
        tes_jit_exit_nochain(s->ir);
        s->end = true;
    }
}

/* ---- exits ---- */

/* Leave for the pc in target: the vCPU's jump cache is probed in the
 * generated code (after the exit has written the globals back, so the
 * probe costs no write-backs of its own), the lookup helper runs on a
 * miss. */
static void lookup_goto(a64_dc *s, tes_jit_val target)
{
    store_pc(s, target);
    tes_jit_goto_lookup(s->ir, target, (const void *)arm_jit_lookup);
}

/* Leave for target (pc already known): a chainable exit when it is in the
 * block's page, else through the lookup helper (indirect jump). */
static void goto_pc(a64_dc *s, uint64_t target, unsigned slot)
{
    if (((target ^ s->pc) & ~0xfffull) == 0) {
        store_pc(s, K(s, target));
        tes_jit_exit(s->ir, slot);
        return;
    }
    lookup_goto(s, K(s, target));
}

/* Branch to target when (a tc b) holds, else fall through to pc + 4. */
static void branch_if(a64_dc *s, tes_jit_cond tc, tes_jit_val a, tes_jit_val b, bool is32,
                      uint64_t target)
{
    tes_jit_label taken = tes_jit_label_new(s->ir);

    tes_jit_brcond(s->ir, tc, a, b, taken, is32);
    goto_pc(s, s->pc + 4, 1);
    tes_jit_label_set(s->ir, taken);
    goto_pc(s, target, 0);
    s->end = true;
}

/* ---- branches (C4.1.3) ---- */

static bool tr_b(a64_dc *s, uint32_t insn)
{
    if (JBIT(insn, 31)) { /* BL */
        a64_jit_set_zr(s, 30, K(s, s->pc + 4));
    }
    goto_pc(s, s->pc + (sext64(insn & 0x3ffffff, 26) << 2), 0);
    s->end = true;
    return true;
}

static bool tr_bcond(a64_dc *s, uint32_t insn)
{
    uint64_t target = s->pc + (sext64(JBITS(insn, 5, 19), 19) << 2);
    tes_jit_cond tc;
    tes_jit_val a, b;

    if (!cond_test(s, insn & 15, &tc, &a, &b)) {
        goto_pc(s, target, 0);
        s->end = true;
        return true;
    }
    branch_if(s, tc, a, b, false, target);
    return true;
}

static bool tr_cbz(a64_dc *s, uint32_t insn)
{
    uint64_t target = s->pc + (sext64(JBITS(insn, 5, 19), 19) << 2);

    branch_if(s, JBIT(insn, 24) ? TES_JIT_NE : TES_JIT_EQ, RZ(s, insn & 31), K(s, 0),
              !JBIT(insn, 31), target);
    return true;
}

static bool tr_tbz(a64_dc *s, uint32_t insn)
{
    unsigned bit = (JBIT(insn, 31) << 5) | JBITS(insn, 19, 5);
    uint64_t target = s->pc + (sext64(JBITS(insn, 5, 14), 14) << 2);

    branch_if(s, JBIT(insn, 24) ? TES_JIT_TSTNE : TES_JIT_TSTEQ, RZ(s, insn & 31),
              K(s, 1ull << bit), false, target);
    return true;
}

/* BR, BLR, RET: jump to the block of the new pc without leaving the
 * generated code when it is translated. */
static bool tr_br_reg(a64_dc *s, uint32_t insn)
{
    unsigned opc = JBITS(insn, 21, 4);
    tes_jit_val t = T(s);

    if (JBITS(insn, 16, 5) != 31 || JBITS(insn, 10, 6) || (insn & 31) || opc > 2) {
        return false; /* ERET, pointer authentication, undefined */
    }
    tes_jit_op(s->ir, TES_JIT_MOV, t, RZ(s, JBITS(insn, 5, 5)), TES_JIT_NONE);
    if (opc == 1) {
        a64_jit_set_zr(s, 30, K(s, s->pc + 4));
    }
    lookup_goto(s, t);
    s->end = true;
    return true;
}

/* Hints and barriers that do nothing in this model (sys.c hint/barrier):
 * NOP, YIELD, SEV(L), PAC and BTI hints, DSB, DMB; WFE at EL1. ISB ends
 * the block (context synchronisation: the next instruction is looked up
 * afresh). */
static bool tr_hint_barrier(a64_dc *s, uint32_t insn)
{
    if ((insn & 0xfffff01fu) == 0xd503201fu) {
        unsigned op = JBITS(insn, 5, 7);

        return op != 3 && (op != 2 || s->el == 1);
    }
    switch (JBITS(insn, 5, 3)) {
    case 4: /* DSB */
    case 5: /* DMB */
        return true;
    case 6: /* ISB */
        goto_pc(s, s->pc + 4, 0);
        s->end = true;
        return true;
    default:
        return false;
    }
}

/* MRS/MSR of the registers Linux and libc touch all the time, which
 * change no translation state: TPIDR_EL0 (thread pointer, any EL), NZCV
 * (any EL), and at EL1 TPIDR_EL1 (per-CPU offset) and SP_EL0 (current
 * task) while SP_EL1 is the stack (else SP_EL0 access is UNDEFINED); as
 * sysregs.c does. */
static bool tr_sysreg(a64_dc *s, uint32_t insn)
{
    bool read = JBIT(insn, 21), sp_el1 = s->sp_off == offsetof(arm_cpu, sp_el1);
    unsigned rt = insn & 31;
    tes_jit_val reg, v;
    uint32_t off;

    switch (insn & 0xffdfffe0u) {
    case 0xd51bd040u: off = offsetof(arm_cpu, tpidr_el0); break;
    case 0xd51b4200u: off = offsetof(arm_cpu, nzcv); break;
    case 0xd518d080u: off = offsetof(arm_cpu, tpidr_el1); break;
    case 0xd5184100u: off = offsetof(arm_cpu, sp_el0); break;
    default: return false;
    }
    if ((off == offsetof(arm_cpu, tpidr_el1) && s->el != 1) ||
        (off == offsetof(arm_cpu, sp_el0) && (s->el != 1 || !sp_el1))) {
        return false; /* EL0, or SP_EL0 in use: the interpreter traps */
    }
    reg = off == offsetof(arm_cpu, nzcv) ? nzcv(s) : tes_jit_global(s->ir, off, "sysreg");
    if (read) {
        a64_jit_set_zr(s, rt, reg);
        return true;
    }
    v = RZ(s, rt);
    if (off == offsetof(arm_cpu, nzcv)) {
        v = opt(s, TES_JIT_AND, v, K(s, 0xf0000000u), true);
    }
    tes_jit_op(s->ir, TES_JIT_MOV, reg, v, TES_JIT_NONE);
    return true;
}

/* DAIF at EL1 (EL0 may trap: the interpreter): a 32-bit field, moved
 * with plain loads and stores. Unmasking leaves the block when an
 * interrupt line is up, so that the loop takes it before the next
 * instruction, as the interpreter would. */
static void daif_store(a64_dc *s, tes_jit_val v, bool may_unmask)
{
    tes_jit_label on = tes_jit_label_new(s->ir);
    tes_jit_val lines = T(s);

    tes_jit_st(s->ir, v, s->env, offsetof(arm_cpu, daif), TES_JIT_MO_32);
    if (!may_unmask) {
        return;
    }
    /* irq_line and fiq_line: two ints in one aligned 64-bit word */
    tes_jit_ld(s->ir, lines, s->env, offsetof(arm_cpu, irq_line), TES_JIT_MO_64);
    tes_jit_brcond(s->ir, TES_JIT_EQ, lines, K(s, 0), on, false);
    store_pc(s, K(s, s->pc + 4));
    tes_jit_exit_nochain(s->ir);
    tes_jit_label_set(s->ir, on);
}

static bool tr_daif(a64_dc *s, uint32_t insn)
{
    tes_jit_val d = T(s);
    uint64_t imm = (uint64_t)JBITS(insn, 8, 4) << 6;

    if (s->el != 1) {
        return false;
    }
    if ((insn & 0xffffffe0u) == 0xd53b4220u) { /* MRS Xt, DAIF */
        tes_jit_ld(s->ir, d, s->env, offsetof(arm_cpu, daif), TES_JIT_MO_32);
        a64_jit_set_zr(s, insn & 31, d);
    } else if ((insn & 0xffffffe0u) == 0xd51b4220u) { /* MSR DAIF, Xt */
        daif_store(s, opt(s, TES_JIT_AND, RZ(s, insn & 31), K(s, 0x3c0), true), true);
    } else {
        tes_jit_ld(s->ir, d, s->env, offsetof(arm_cpu, daif), TES_JIT_MO_32);
        if (JBIT(insn, 5)) { /* DAIFClr */
            daif_store(s, opt(s, TES_JIT_AND, d, K(s, ~imm), true), true);
        } else {
            daif_store(s, opt(s, TES_JIT_OR, d, K(s, imm), true), false);
        }
    }
    return true;
}

/* DC ZVA at EL1: zero the 64-byte block as eight 8-byte stores (one page:
 * a fault is on the block's first byte, as mmu.c reports it). */
static bool tr_dc_zva(a64_dc *s, uint32_t insn)
{
    tes_jit_val base;

    if (s->el != 1) {
        return false; /* SCTLR_EL1.DZE decides at EL0 */
    }
    base = opt(s, TES_JIT_AND, RZ(s, insn & 31), K(s, ~63ull), true);
    for (unsigned i = 0; i < 8; i++) {
        tes_jit_qst(s->ir, K(s, 0), opt(s, TES_JIT_ADD, base, K(s, 8 * i), true), TES_JIT_MO_64,
                    offsetof(arm_cpu, tlb_w) + sizeof(tlb_entry) * TLB_SIZE, ACC_NORMAL, s->pc);
    }
    return true;
}

/* MRS FPCR / FPSR (32-bit fields; libc reads FPCR around conversions):
 * when SIMD&FP is usable here, else the interpreter raises the trap. */
static bool tr_mrs_fp(a64_dc *s, uint32_t insn)
{
    tes_jit_val v = T(s);

    if (!s->fp) {
        return false;
    }
    tes_jit_ld(s->ir, v, s->env, JBIT(insn, 5) ? offsetof(arm_cpu, fpsr) : offsetof(arm_cpu, fpcr),
               TES_JIT_MO_32);
    a64_jit_set_zr(s, insn & 31, v);
    return true;
}

static bool tr_branch_sys(a64_dc *s, uint32_t insn)
{
    if ((insn & 0x7c000000u) == 0x14000000u) {
        return tr_b(s, insn);
    } else if ((insn & 0x7e000000u) == 0x34000000u) {
        return tr_cbz(s, insn);
    } else if ((insn & 0x7e000000u) == 0x36000000u) {
        return tr_tbz(s, insn);
    } else if ((insn & 0xfe000000u) == 0xd6000000u) {
        return tr_br_reg(s, insn);
    } else if ((insn & 0xff000010u) == 0x54000000u) {
        return tr_bcond(s, insn);
    } else if ((insn & 0xfffff01fu) == 0xd503201fu || (insn & 0xfffff01fu) == 0xd503301fu) {
        return tr_hint_barrier(s, insn);
    } else if ((insn & 0xffdfffe0u) == 0xd51b4220u || (insn & 0xfffff0dfu) == 0xd50340dfu) {
        return tr_daif(s, insn);
    } else if ((insn & 0xffffffe0u) == 0xd50b7420u) {
        return tr_dc_zva(s, insn);
    } else if ((insn & 0xffffffc0u) == 0xd53b4400u) { /* MRS FPCR (op2 0), FPSR (1) */
        return tr_mrs_fp(s, insn);
    } else if ((insn & 0xffd00000u) == 0xd5100000u) {
        return tr_sysreg(s, insn);
    }
    return false;
}

/* ---- the block ---- */

static void log_insn(arm_cpu *c, uint64_t pc, uint32_t insn)
{
    H->log(TES_LOG_IN_ASM, "cpu%u 0x%016" PRIx64 ": %08x\n", c->index, pc, insn);
}

static bool translate_insn(a64_dc *s)
{
    uint32_t insn = s->insn;
    unsigned op0 = JBITS(insn, 25, 4);

    if ((op0 & 0xe) == 0x8) {
        return a64_jit_dp_imm(s, insn);
    } else if ((op0 & 0xe) == 0xa) {
        return tr_branch_sys(s, insn);
    } else if ((op0 & 0x5) == 0x4) {
        return a64_jit_ldst(s);
    } else if ((op0 & 0x7) == 0x5) {
        return a64_jit_dp_reg(s, insn);
    } else if ((op0 & 0x7) == 0x7) {
        return a64_jit_simd(s);
    }
    return false; /* unallocated */
}

unsigned a64_jit_block(arm_cpu *c, tes_jit_ir *ir, const tes_jit_key *k)
{
    a64_dc s = {
        .ir = ir,
        .el = k->flags & TB_EL,
        .sp_off = (k->flags & TB_SP_EL1) ? offsetof(arm_cpu, sp_el1) : offsetof(arm_cpu, sp_el0),
        .align = (k->flags & TB_ALIGN) != 0,
        .fp = (k->flags & TB_FP) != 0,
        .flags = k->flags,
        .env = tes_jit_env(ir),
    };
    unsigned max = (4096 - (k->pc & 0xfff)) / 4, n;
    bool log = H->log_enabled(TES_LOG_IN_ASM);

    max = max < TB_MAX_INSNS ? max : TB_MAX_INSNS;
    for (n = 0; n < max && !s.end; n++) {
        if (c->gdb.nbp && gdb_bp_at(&c->gdb, k->pc + 4 * n)) {
            break; /* the loop stops there before running it (debug.c) */
        }
        memcpy(&s.insn, (const uint8_t *)k->host + 4 * n, 4);
        s.pc = k->pc + 4 * n;
        tes_jit_insn_start(ir, s.pc);
        if (log) {
            log_insn(c, s.pc, s.insn);
        }
        if (!translate_insn(&s)) {
            fallback(&s);
        }
    }
    if (n == 0) {
        return 0; /* a breakpoint first: interpret */
    }
    if (!s.end) { /* length cap, end of the page or a breakpoint: go on at the next pc */
        s.pc = k->pc + 4 * (n - 1);
        goto_pc(&s, k->pc + 4 * n, 0);
    }
    return n;
}
