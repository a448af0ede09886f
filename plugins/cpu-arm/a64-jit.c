/*
 * cpu-arm: A64 to IR (tessera/jit.h), the hot integer set and branches;
 * loads and stores are a64-jit-ldst.c's. The semantics are the
 * interpreter's (a64.c, a64-ldst.c, sys.c): anything not translated here
 * becomes a call of the interpreter's handler for that word (fallback),
 * so both engines agree by construction on every rare instruction, and
 * the differential test (tests/test-jit.c) holds the translated ones to
 * the interpreter.
 *
 * State: x0-x30, the SP in use and NZCV are IR globals (fields of
 * arm_cpu); NZCV stays packed in bits 31:28 as the interpreter keeps it
 * (arm_cpu.nzcv_hi makes it a 64-bit field). The pc is not a global: exits
 * store it, helpers get it as an argument, slow paths from the generator.
 */
#include <inttypes.h>

#include "a64-jit.h"

#define T(s) tes_jit_temp((s)->ir)
#define K(s, v) tes_jit_const((s)->ir, (uint64_t)(v))

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

#define RZ(s, n) a64_jit_reg_zr(s, n)
#define RSP(s, n) a64_jit_reg_sp(s, n)

static tes_jit_val nzcv(a64_dc *s)
{
    return tes_jit_global(s->ir, offsetof(arm_cpu, nzcv), "nzcv");
}

/* d = a op b on 64 bits, or on 32 zero-extended (W forms). */
static void op(a64_dc *s, tes_jit_opc o, tes_jit_val d, tes_jit_val a, tes_jit_val b, bool sf)
{
    if (sf) {
        tes_jit_op(s->ir, o, d, a, b);
    } else {
        tes_jit_op32(s->ir, o, d, a, b);
    }
}

/* A new temp holding a op b. */
static tes_jit_val opt(a64_dc *s, tes_jit_opc o, tes_jit_val a, tes_jit_val b, bool sf)
{
    tes_jit_val d = T(s);

    op(s, o, d, a, b, sf);
    return d;
}

static void store_pc(a64_dc *s, tes_jit_val v)
{
    tes_jit_st(s->ir, v, s->env, offsetof(arm_cpu, pc), TES_JIT_MO_64);
}

/* ---- flags ---- */

/* N and Z of r into new temps n, z (N at bit 31, Z at bit 30). */
static void flags_nz(a64_dc *s, tes_jit_val r, bool sf, tes_jit_val *n, tes_jit_val *z)
{
    *n = sf ? opt(s, TES_JIT_SHR, r, K(s, 32), true) : r;
    *n = opt(s, TES_JIT_AND, *n, K(s, PSTATE_N), true);
    *z = T(s);
    tes_jit_setcond(s->ir, TES_JIT_EQ, *z, r, K(s, 0), !sf);
    *z = opt(s, TES_JIT_SHL, *z, K(s, 30), true);
}

/* Logical results: N and Z, C and V clear. */
static void flags_logic(a64_dc *s, tes_jit_val r, bool sf)
{
    tes_jit_val n, z;

    flags_nz(s, r, sf, &n, &z);
    tes_jit_op(s->ir, TES_JIT_OR, nzcv(s), n, z);
}

/* NZCV of r = x + y (sub: x - y) into dst, as AddWithCarry computes them
 * (carry in 0 for add, 1 with y inverted for sub). */
static void flags_addsub(a64_dc *s, tes_jit_val dst, tes_jit_val r, tes_jit_val x,
                         tes_jit_val y, bool sf, bool sub)
{
    tes_jit_val n, z, c = T(s), v;

    flags_nz(s, r, sf, &n, &z);
    if (sub) { /* no borrow: x >= y unsigned */
        tes_jit_setcond(s->ir, TES_JIT_GEU, c, x, y, !sf);
        v = opt(s, TES_JIT_AND, opt(s, TES_JIT_XOR, x, y, true),
                opt(s, TES_JIT_XOR, x, r, true), true);
    } else { /* carry out: the sum wrapped below x */
        tes_jit_setcond(s->ir, TES_JIT_LTU, c, r, x, !sf);
        v = opt(s, TES_JIT_AND, opt(s, TES_JIT_XOR, x, r, true),
                opt(s, TES_JIT_XOR, y, r, true), true);
    }
    c = opt(s, TES_JIT_SHL, c, K(s, 29), true);
    v = opt(s, TES_JIT_SHR, v, K(s, sf ? 35 : 3), true); /* sign bit to bit 28 */
    v = opt(s, TES_JIT_AND, v, K(s, PSTATE_V), true);
    tes_jit_op(s->ir, TES_JIT_OR, dst, opt(s, TES_JIT_OR, n, z, true),
               opt(s, TES_JIT_OR, c, v, true));
}

/* Condition cond (C1.2.4) as the test (*a tc *b); false for AL and NV,
 * which always hold. */
static bool cond_test(a64_dc *s, unsigned cond, tes_jit_cond *tc, tes_jit_val *a,
                      tes_jit_val *b)
{
    static const uint32_t flag[4] = {PSTATE_Z, PSTATE_C, PSTATE_N, PSTATE_V};
    bool inv = cond & 1;
    tes_jit_val f = nzcv(s), t;

    switch (cond >> 1) {
    case 0: case 1: case 2: case 3: /* EQ CS MI VS: flag set */
        *tc = inv ? TES_JIT_TSTEQ : TES_JIT_TSTNE;
        *a = f;
        *b = K(s, flag[cond >> 1]);
        return true;
    case 4: /* HI: C set and Z clear */
        *tc = inv ? TES_JIT_NE : TES_JIT_EQ;
        *a = opt(s, TES_JIT_AND, f, K(s, PSTATE_C | PSTATE_Z), true);
        *b = K(s, PSTATE_C);
        return true;
    case 5: /* GE: N == V, bit 31 of f ^ (f << 3) clear */
    case 6: /* GT: and Z clear, bit 31 of (f << 1) too */
        t = opt(s, TES_JIT_XOR, f, opt(s, TES_JIT_SHL, f, K(s, 3), true), true);
        if (cond >> 1 == 6) {
            t = opt(s, TES_JIT_OR, t, opt(s, TES_JIT_SHL, f, K(s, 1), true), true);
        }
        *tc = inv ? TES_JIT_TSTNE : TES_JIT_TSTEQ;
        *a = t;
        *b = K(s, 1u << 31);
        return true;
    default:
        return false;
    }
}

/* ---- helpers the generated code calls ---- */

/* The interpreter's handler fn for one instruction (the fallback). The
 * block goes on unless the instruction branched, raised an exception,
 * changed EL or SP selection, or halted: then c->pc is where to resume
 * and exit_req makes the block leave. */
static void helper_insn(arm_cpu *c, uint64_t pc, uint64_t insn, uint64_t fn)
{
    uint8_t el = c->el, spsel = c->spsel;

    c->pc = pc;
    c->next_pc = pc + 4;
    ((a64_fn)(uintptr_t)fn)(c, (uint32_t)insn);
    if (c->next_pc != pc + 4 || c->halt_req || c->el != el || c->spsel != spsel) {
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

/* Leave for the pc in target through the lookup helper: straight to its
 * block when it is translated. The block's mode bits are the vCPU's
 * (whatever changes them ends the block), so they go as a constant. The
 * helper touches no global and never asks to leave (PURE): the globals
 * are written back by goto_ptr, as by any exit. */
static void lookup_goto(a64_dc *s, tes_jit_val target)
{
    tes_jit_val code = T(s), args[3] = {s->env, target, K(s, s->flags)};

    store_pc(s, target);
    tes_jit_call(s->ir, (const void *)arm_jit_lookup, TES_JIT_CALL_PURE, code, 3, args);
    tes_jit_goto_ptr(s->ir, code);
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

static uint64_t sext64(uint64_t v, unsigned bits)
{
    return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits));
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
    bool read = JBIT(insn, 21);
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
    if (off != offsetof(arm_cpu, tpidr_el0) && off != offsetof(arm_cpu, nzcv) &&
        (s->el != 1 || (off == offsetof(arm_cpu, sp_el0) && s->sp_off != offsetof(arm_cpu, sp_el1)))) {
        return false;
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
    } else if ((insn & 0xffd00000u) == 0xd5100000u) {
        return tr_sysreg(s, insn);
    }
    return false;
}

/* ---- data processing, immediate (C4.1.2) ---- */

static bool tr_pcrel(a64_dc *s, uint32_t insn)
{
    uint64_t imm = sext64((JBITS(insn, 5, 19) << 2) | JBITS(insn, 29, 2), 21);

    if (JBIT(insn, 31)) { /* ADRP */
        a64_jit_set_zr(s, insn & 31, K(s, (s->pc & ~0xfffull) + (imm << 12)));
    } else {
        a64_jit_set_zr(s, insn & 31, K(s, s->pc + imm));
    }
    return true;
}

static bool tr_addsub_imm(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31), sub = JBIT(insn, 30), setf = JBIT(insn, 29);
    uint64_t imm = (uint64_t)JBITS(insn, 10, 12) << (JBIT(insn, 22) ? 12 : 0);
    tes_jit_val x = RSP(s, JBITS(insn, 5, 5)), y = K(s, imm);
    tes_jit_val r = opt(s, sub ? TES_JIT_SUB : TES_JIT_ADD, x, y, sf);

    if (setf) {
        flags_addsub(s, nzcv(s), r, x, y, sf, sub);
        a64_jit_set_zr(s, insn & 31, r);
    } else {
        a64_jit_set_sp(s, insn & 31, r);
    }
    return true;
}

static bool tr_logic_imm(a64_dc *s, uint32_t insn)
{
    static const tes_jit_opc ops[4] = {TES_JIT_AND, TES_JIT_OR, TES_JIT_XOR, TES_JIT_AND};
    bool sf = JBIT(insn, 31);
    unsigned opc = JBITS(insn, 29, 2);
    uint64_t imm;
    tes_jit_val r;

    if ((!sf && JBIT(insn, 22)) ||
        !a64_bitmask(JBIT(insn, 22), JBITS(insn, 10, 6), JBITS(insn, 16, 6), sf, &imm)) {
        return false;
    }
    r = opt(s, ops[opc], RZ(s, JBITS(insn, 5, 5)), K(s, imm), sf);
    if (opc == 3) {
        flags_logic(s, r, sf);
        a64_jit_set_zr(s, insn & 31, r);
    } else {
        a64_jit_set_sp(s, insn & 31, r); /* AND/ORR/EOR (immediate) write SP */
    }
    return true;
}

static bool tr_movewide(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31);
    unsigned opc = JBITS(insn, 29, 2), hw = JBITS(insn, 21, 2), rd = insn & 31;
    uint64_t imm = (uint64_t)JBITS(insn, 5, 16) << (16 * hw), mask = 0xffffull << (16 * hw);
    tes_jit_val r;

    if (opc == 1 || (!sf && hw >= 2)) {
        return false;
    }
    if (opc == 0) { /* MOVN */
        a64_jit_set_zr(s, rd, K(s, sf ? ~imm : (uint32_t)~imm));
    } else if (opc == 2) { /* MOVZ */
        a64_jit_set_zr(s, rd, K(s, imm));
    } else { /* MOVK */
        r = opt(s, TES_JIT_AND, RZ(s, rd), K(s, ~mask), true);
        a64_jit_set_zr(s, rd, opt(s, TES_JIT_OR, r, K(s, imm), sf));
    }
    return true;
}

/* SBFM/UBFM/BFM: the field [lsb, lsb + width) of Rn is moved to bit pos
 * (SBFX/UBFX/BFXIL: lsb = immr, pos 0; SBFIZ/UBFIZ/BFI/LSL: lsb 0,
 * pos = datasize - immr), with two shifts on 64 bits. */
static bool tr_bitfield(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31);
    unsigned opc = JBITS(insn, 29, 2), immr = JBITS(insn, 16, 6), imms = JBITS(insn, 10, 6);
    unsigned w = sf ? 64 : 32, rd = insn & 31, width, lsb, pos;
    uint64_t fmask;
    tes_jit_val f, r;

    if (opc == 3 || JBIT(insn, 22) != sf || (!sf && (immr >= 32 || imms >= 32))) {
        return false;
    }
    width = imms >= immr ? imms - immr + 1 : imms + 1;
    lsb = imms >= immr ? immr : 0;
    pos = imms >= immr ? 0 : w - immr;
    f = opt(s, TES_JIT_SHL, RZ(s, JBITS(insn, 5, 5)), K(s, 64 - lsb - width), true);
    f = opt(s, opc == 0 ? TES_JIT_SAR : TES_JIT_SHR, f, K(s, 64 - width), true);
    if (opc == 1) { /* BFM: the other bits of Rd stay */
        fmask = width == 64 ? ~0ull : (1ull << width) - 1;
        r = opt(s, TES_JIT_AND, RZ(s, rd), K(s, ~(fmask << pos)), true);
        f = opt(s, TES_JIT_OR, r, opt(s, TES_JIT_SHL, f, K(s, pos), true), sf);
    } else if (pos) {
        f = opt(s, TES_JIT_SHL, f, K(s, pos), sf);
    } else if (!sf) {
        f = opt(s, TES_JIT_EXT32U, f, TES_JIT_NONE, true);
    }
    a64_jit_set_zr(s, rd, f);
    return true;
}

static bool tr_extract(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31);
    unsigned lsb = JBITS(insn, 10, 6), w = sf ? 64 : 32;
    tes_jit_val n = RZ(s, JBITS(insn, 5, 5)), m = RZ(s, JBITS(insn, 16, 5)), r;

    if (JBITS(insn, 29, 2) || JBIT(insn, 21) || JBIT(insn, 22) != sf || (!sf && lsb >= 32)) {
        return false;
    }
    if (lsb == 0) {
        r = sf ? m : opt(s, TES_JIT_EXT32U, m, TES_JIT_NONE, true);
    } else {
        r = opt(s, TES_JIT_OR, opt(s, TES_JIT_SHR, m, K(s, lsb), sf),
                opt(s, TES_JIT_SHL, n, K(s, w - lsb), sf), sf);
    }
    a64_jit_set_zr(s, insn & 31, r);
    return true;
}

static bool tr_dp_imm(a64_dc *s, uint32_t insn)
{
    switch (JBITS(insn, 23, 3)) {
    case 0:
    case 1: return tr_pcrel(s, insn);
    case 2: return tr_addsub_imm(s, insn);
    case 4: return tr_logic_imm(s, insn);
    case 5: return tr_movewide(s, insn);
    case 6: return tr_bitfield(s, insn);
    case 7: return tr_extract(s, insn);
    default: return false;
    }
}

/* ---- data processing, register (C4.1.5) ---- */

/* ShiftReg by a constant amount (< datasize). */
static tes_jit_val shifted(a64_dc *s, tes_jit_val v, unsigned type, unsigned amt, bool sf)
{
    static const tes_jit_opc ops[4] = {TES_JIT_SHL, TES_JIT_SHR, TES_JIT_SAR, TES_JIT_ROTR};

    if (amt == 0) {
        return v;
    }
    return opt(s, ops[type], v, K(s, amt), sf);
}

/* AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register). */
static bool tr_logic_reg(a64_dc *s, uint32_t insn)
{
    static const tes_jit_opc ops[4] = {TES_JIT_AND, TES_JIT_OR, TES_JIT_XOR, TES_JIT_AND};
    bool sf = JBIT(insn, 31), neg = JBIT(insn, 21);
    unsigned amt = JBITS(insn, 10, 6), opc = JBITS(insn, 29, 2);
    tes_jit_val y, r;

    if (!sf && amt >= 32) {
        return false;
    }
    y = shifted(s, RZ(s, JBITS(insn, 16, 5)), JBITS(insn, 22, 2), amt, sf);
    if (neg && (opc == 0 || opc == 3)) {
        r = opt(s, TES_JIT_ANDC, RZ(s, JBITS(insn, 5, 5)), y, sf);
    } else {
        if (neg) {
            y = opt(s, TES_JIT_NOT, y, TES_JIT_NONE, sf);
        }
        r = opt(s, ops[opc], RZ(s, JBITS(insn, 5, 5)), y, sf);
    }
    if (opc == 3) {
        flags_logic(s, r, sf);
    }
    a64_jit_set_zr(s, insn & 31, r);
    return true;
}

static void addsub(a64_dc *s, uint32_t insn, tes_jit_val x, tes_jit_val y, bool to_sp)
{
    bool sf = JBIT(insn, 31), sub = JBIT(insn, 30), setf = JBIT(insn, 29);
    tes_jit_val r = opt(s, sub ? TES_JIT_SUB : TES_JIT_ADD, x, y, sf);

    if (setf) {
        flags_addsub(s, nzcv(s), r, x, y, sf, sub);
    }
    if (to_sp && !setf) {
        a64_jit_set_sp(s, insn & 31, r);
    } else {
        a64_jit_set_zr(s, insn & 31, r);
    }
}

static bool tr_addsub_reg(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31);
    unsigned amt = JBITS(insn, 10, 6), type = JBITS(insn, 22, 2);

    if (type == 3 || (!sf && amt >= 32)) {
        return false;
    }
    addsub(s, insn, RZ(s, JBITS(insn, 5, 5)),
           shifted(s, RZ(s, JBITS(insn, 16, 5)), type, amt, sf), false);
    return true;
}

/* ExtendReg: UXTB/H/W, UXTX, SXTB/H/W, SXTX then LSL #sh. */
static tes_jit_val extended(a64_dc *s, tes_jit_val v, unsigned option, unsigned sh)
{
    static const tes_jit_opc ext[8] = {
        TES_JIT_EXT8U, TES_JIT_EXT16U, TES_JIT_EXT32U, TES_JIT_MOV,
        TES_JIT_EXT8S, TES_JIT_EXT16S, TES_JIT_EXT32S, TES_JIT_MOV,
    };

    if (ext[option] != TES_JIT_MOV) {
        v = opt(s, ext[option], v, TES_JIT_NONE, true);
    }
    return sh ? opt(s, TES_JIT_SHL, v, K(s, sh), true) : v;
}

static bool tr_addsub_ext(a64_dc *s, uint32_t insn)
{
    unsigned sh = JBITS(insn, 10, 3);

    if (JBITS(insn, 22, 2) || sh > 4) {
        return false;
    }
    addsub(s, insn, RSP(s, JBITS(insn, 5, 5)),
           extended(s, RZ(s, JBITS(insn, 16, 5)), JBITS(insn, 13, 3), sh), true);
    return true;
}

/* ADC/ADCS/SBC/SBCS: x + y' + C with y' = y or ~y (AddWithCarry). The
 * carry out is the sum's bit 32 for W forms, else a wrap in either of
 * the two additions. */
static bool tr_adc(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31), sub = JBIT(insn, 30), setf = JBIT(insn, 29);
    tes_jit_val x = RZ(s, JBITS(insn, 5, 5)), y = RZ(s, JBITS(insn, 16, 5));
    tes_jit_val cin = opt(s, TES_JIT_AND, opt(s, TES_JIT_SHR, nzcv(s), K(s, 29), true), K(s, 1),
                          true);
    tes_jit_val r, c, v, n, z, t;

    if (JBITS(insn, 10, 6)) {
        return false; /* RMIF, SETF8/16: not in ARMv8.0 */
    }
    if (sub) {
        y = opt(s, TES_JIT_NOT, y, TES_JIT_NONE, sf);
    }
    if (sf) {
        t = opt(s, TES_JIT_ADD, x, y, true);
        r = opt(s, TES_JIT_ADD, t, cin, true);
    } else { /* 33-bit sum of the zero-extended halves */
        t = opt(s, TES_JIT_ADD, opt(s, TES_JIT_EXT32U, x, TES_JIT_NONE, true),
                opt(s, TES_JIT_EXT32U, y, TES_JIT_NONE, true), true);
        t = opt(s, TES_JIT_ADD, t, cin, true);
        r = opt(s, TES_JIT_EXT32U, t, TES_JIT_NONE, true);
    }
    if (setf) {
        if (sf) {
            tes_jit_val c1 = T(s), c2 = T(s);

            tes_jit_setcond(s->ir, TES_JIT_LTU, c1, t, x, false);
            tes_jit_setcond(s->ir, TES_JIT_LTU, c2, r, t, false);
            c = opt(s, TES_JIT_OR, c1, c2, true);
        } else {
            c = opt(s, TES_JIT_SHR, t, K(s, 32), true);
        }
        flags_nz(s, r, sf, &n, &z);
        v = opt(s, TES_JIT_AND, opt(s, TES_JIT_XOR, x, r, true), opt(s, TES_JIT_XOR, y, r, true),
                true);
        v = opt(s, TES_JIT_AND, opt(s, TES_JIT_SHR, v, K(s, sf ? 35 : 3), true), K(s, PSTATE_V),
                true);
        c = opt(s, TES_JIT_SHL, c, K(s, 29), true);
        tes_jit_op(s->ir, TES_JIT_OR, nzcv(s), opt(s, TES_JIT_OR, n, z, true),
                   opt(s, TES_JIT_OR, c, v, true));
    }
    a64_jit_set_zr(s, insn & 31, r);
    return true;
}

/* CCMN/CCMP (register and immediate): the comparison's flags when the
 * condition holds, else the immediate NZCV. */
static bool tr_condcmp(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31), sub = JBIT(insn, 30);
    tes_jit_val x, y, r, f = T(s), a, b;
    tes_jit_cond tc;

    if (!JBIT(insn, 29) || JBIT(insn, 10) || JBIT(insn, 4)) {
        return false;
    }
    x = RZ(s, JBITS(insn, 5, 5));
    y = JBIT(insn, 11) ? K(s, JBITS(insn, 16, 5)) : RZ(s, JBITS(insn, 16, 5));
    r = opt(s, sub ? TES_JIT_SUB : TES_JIT_ADD, x, y, sf);
    flags_addsub(s, f, r, x, y, sf, sub);
    if (!cond_test(s, JBITS(insn, 12, 4), &tc, &a, &b)) {
        tes_jit_op(s->ir, TES_JIT_MOV, nzcv(s), f, TES_JIT_NONE);
        return true;
    }
    tes_jit_movcond(s->ir, tc, nzcv(s), a, b, f, K(s, (insn & 15) << 28), false);
    return true;
}

/* CSEL/CSINC/CSINV/CSNEG. */
static bool tr_condsel(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31), inv = JBIT(insn, 30), inc = JBIT(insn, 10);
    tes_jit_val n = RZ(s, JBITS(insn, 5, 5)), m = RZ(s, JBITS(insn, 16, 5)), r = T(s), a, b;
    tes_jit_cond tc;

    if (JBIT(insn, 29) || JBIT(insn, 11)) {
        return false;
    }
    if (inv && inc) {
        m = opt(s, TES_JIT_NEG, m, TES_JIT_NONE, true);
    } else if (inv) {
        m = opt(s, TES_JIT_NOT, m, TES_JIT_NONE, true);
    } else if (inc) {
        m = opt(s, TES_JIT_ADD, m, K(s, 1), true);
    }
    if (!cond_test(s, JBITS(insn, 12, 4), &tc, &a, &b)) {
        tes_jit_op(s->ir, TES_JIT_MOV, r, n, TES_JIT_NONE);
    } else {
        tes_jit_movcond(s->ir, tc, r, a, b, n, m, false);
    }
    if (!sf) {
        r = opt(s, TES_JIT_EXT32U, r, TES_JIT_NONE, true);
    }
    a64_jit_set_zr(s, insn & 31, r);
    return true;
}

/* RBIT: bytes reversed, then the bits of each byte (nibbles, pairs,
 * bits swapped with masks). */
static tes_jit_val rbit(a64_dc *s, tes_jit_val x, bool sf)
{
    static const uint64_t masks[3] = {0x0f0f0f0f0f0f0f0full, 0x3333333333333333ull,
                                      0x5555555555555555ull};
    tes_jit_val v = opt(s, sf ? TES_JIT_BSWAP64 : TES_JIT_BSWAP32, x, TES_JIT_NONE, true);

    for (unsigned i = 0; i < 3; i++) {
        unsigned sh = 4u >> i;
        tes_jit_val hi = opt(s, TES_JIT_AND, opt(s, TES_JIT_SHR, v, K(s, sh), true),
                             K(s, masks[i]), true);
        tes_jit_val lo = opt(s, TES_JIT_SHL, opt(s, TES_JIT_AND, v, K(s, masks[i]), true),
                             K(s, sh), true);

        v = opt(s, TES_JIT_OR, hi, lo, true);
    }
    return v;
}

/* CLZ, RBIT, REV (W and X); REV16, REV32 (X), CLS: the interpreter. */
static bool tr_1src(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31);
    unsigned op = JBITS(insn, 10, 6);
    tes_jit_val x = RZ(s, JBITS(insn, 5, 5));

    if (JBIT(insn, 29) || JBITS(insn, 16, 5)) {
        return false;
    }
    if (op == 0) {
        a64_jit_set_zr(s, insn & 31, rbit(s, x, sf));
    } else if (op == 4) {
        a64_jit_set_zr(s, insn & 31, opt(s, TES_JIT_CLZ, x, TES_JIT_NONE, sf));
    } else if (op == 2 && !sf) {
        a64_jit_set_zr(s, insn & 31, opt(s, TES_JIT_BSWAP32, x, TES_JIT_NONE, true));
    } else if (op == 3 && sf) {
        a64_jit_set_zr(s, insn & 31, opt(s, TES_JIT_BSWAP64, x, TES_JIT_NONE, true));
    } else {
        return false;
    }
    return true;
}

/* LSLV/LSRV/ASRV/RORV (the IR takes counts modulo the width, as A64
 * does); divisions and CRC32 stay with the interpreter. */
static bool tr_2src(a64_dc *s, uint32_t insn)
{
    static const tes_jit_opc ops[4] = {TES_JIT_SHL, TES_JIT_SHR, TES_JIT_SAR, TES_JIT_ROTR};
    bool sf = JBIT(insn, 31);
    unsigned op = JBITS(insn, 10, 6);

    if (JBIT(insn, 29) || op < 8 || op > 11) {
        return false;
    }
    a64_jit_set_zr(s, insn & 31, opt(s, ops[op - 8], RZ(s, JBITS(insn, 5, 5)),
                                     RZ(s, JBITS(insn, 16, 5)), sf));
    return true;
}

/* MADD/MSUB, SMADDL/SMSUBL, UMADDL/UMSUBL, SMULH, UMULH. */
static bool tr_3src(a64_dc *s, uint32_t insn)
{
    bool sf = JBIT(insn, 31), sub = JBIT(insn, 15);
    unsigned op31 = JBITS(insn, 21, 3);
    tes_jit_val n = RZ(s, JBITS(insn, 5, 5)), m = RZ(s, JBITS(insn, 16, 5)), p;

    if (JBITS(insn, 29, 2) || (op31 != 0 && !sf)) {
        return false;
    }
    switch (op31) {
    case 0:
        p = opt(s, TES_JIT_MUL, n, m, sf);
        break;
    case 1:
    case 5: {
        tes_jit_opc e = op31 == 1 ? TES_JIT_EXT32S : TES_JIT_EXT32U;

        p = opt(s, TES_JIT_MUL, opt(s, e, n, TES_JIT_NONE, true), opt(s, e, m, TES_JIT_NONE, true),
                true);
        break;
    }
    case 2:
    case 6:
        if (sub) {
            return false;
        }
        a64_jit_set_zr(s, insn & 31,
                       opt(s, op31 == 2 ? TES_JIT_MULSH : TES_JIT_MULUH, n, m, true));
        return true;
    default:
        return false;
    }
    a64_jit_set_zr(s, insn & 31,
                   opt(s, sub ? TES_JIT_SUB : TES_JIT_ADD, RZ(s, JBITS(insn, 10, 5)), p, sf));
    return true;
}

static bool tr_dp_reg(a64_dc *s, uint32_t insn)
{
    unsigned op2 = JBITS(insn, 21, 4);

    if (!JBIT(insn, 28)) {
        if (!(op2 & 8)) {
            return tr_logic_reg(s, insn);
        }
        return (op2 & 1) ? tr_addsub_ext(s, insn) : tr_addsub_reg(s, insn);
    }
    if (op2 & 8) {
        return tr_3src(s, insn);
    } else if (op2 == 0) {
        return tr_adc(s, insn);
    } else if (op2 == 2) {
        return tr_condcmp(s, insn);
    } else if (op2 == 4) {
        return tr_condsel(s, insn);
    } else if (op2 == 6) {
        return JBIT(insn, 30) ? tr_1src(s, insn) : tr_2src(s, insn);
    }
    return false; /* unallocated: the interpreter */
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
        return tr_dp_imm(s, insn);
    } else if ((op0 & 0xe) == 0xa) {
        return tr_branch_sys(s, insn);
    } else if ((op0 & 0x5) == 0x4) {
        return a64_jit_ldst(s);
    } else if ((op0 & 0x7) == 0x5) {
        return tr_dp_reg(s, insn);
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
    if (!s.end) { /* length cap or end of the page: go on at the next pc */
        s.pc = k->pc + 4 * (n - 1);
        goto_pc(&s, k->pc + 4 * n, 0);
    }
    return n;
}
