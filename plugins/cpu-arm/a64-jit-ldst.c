/*
 * cpu-arm: A64 loads and stores of general registers to IR (C4.1.4):
 * LDR/STR with unsigned offset, pre/post index, unscaled and register
 * offset, literal; the byte, halfword and sign-extending forms; LDP, STP,
 * LDPSW, LDNP, STNP; the same forms of SIMD&FP registers (B/H/S/D/Q) when
 * CPACR_EL1 lets this EL use them (TB_FP; else the interpreter raises the
 * trap); LDAR/STLR. Everything else (exclusives, unprivileged LDTR/STTR,
 * structures but LD1/ST1 of one register) is the interpreter's
 * (a64-ldst.c) through the fallback. A Q register is two 64-bit globals
 * and moves as two 8-byte accesses (with SCTLR_EL1.A set, the
 * interpreter's 16-byte check).
 */
#include "a64-jit.h"

#define T(s) tes_jit_temp((s)->ir)
#define K(s, v) tes_jit_const((s)->ir, (uint64_t)(v))

/* One general-register transfer, from size:opc. */
typedef struct ldst {
    unsigned scale; /* log2 bytes (4: a Q register) */
    bool load;
    bool simd;      /* a SIMD&FP register */
    bool sign;      /* sign-extending load */
    bool to64;      /* ... to 64 bits (else to 32) */
    bool prefetch;  /* PRFM: nothing to do */
} ldst;

/* Whether the block may move SIMD&FP registers of this form itself. */
static bool simd_ok(a64_dc *s, unsigned scale)
{
    return s->fp && !(scale == 4 && s->align);
}

/* size:opc of the single-register forms; false: unallocated or not for
 * the translator (the interpreter decides). */
static bool decode(a64_dc *s, uint32_t insn, bool allow_prefetch, ldst *op)
{
    unsigned size = JBITS(insn, 30, 2), opc = JBITS(insn, 22, 2);

    memset(op, 0, sizeof(*op));
    if (JBIT(insn, 26)) {
        op->simd = true;
        op->load = opc & 1;
        op->scale = (opc & 2) ? 4 : size;
        return (!(opc & 2) || size == 0) && simd_ok(s, op->scale);
    }
    op->scale = size;
    op->load = opc != 0;
    if (opc < 2) {
        return true;
    }
    if (size == 3) {
        op->prefetch = opc == 2 && allow_prefetch;
        return op->prefetch;
    }
    if (size == 2 && opc == 3) {
        return false;
    }
    op->sign = true;
    op->to64 = opc == 2;
    return true;
}

static uint32_t tlb_off(a64_dc *s, bool write)
{
    size_t arr = write ? offsetof(arm_cpu, tlb_w) : offsetof(arm_cpu, tlb_r);

    return (uint32_t)(arr + (size_t)s->el * TLB_SIZE * sizeof(tlb_entry));
}

static uint32_t memop(a64_dc *s, const ldst *op)
{
    unsigned size = op->scale == 4 ? TES_JIT_MO_64 : op->scale;

    return size | (op->sign ? TES_JIT_MO_SIGN : 0) | (s->align ? TES_JIT_MO_ALIGN : 0);
}

tes_jit_val a64_jit_vreg(a64_dc *s, unsigned n, unsigned h)
{
    static const char *const names[2] = {"vlo", "vhi"};

    return tes_jit_global(s->ir, offsetof(arm_cpu, v) + 16 * n + 8 * h, names[h]);
}

/* The loaded value, extended as op says, in a new temp. */
static tes_jit_val load(a64_dc *s, const ldst *op, tes_jit_val addr)
{
    tes_jit_val v = T(s);

    tes_jit_qld(s->ir, v, addr, memop(s, op), tlb_off(s, false), ACC_NORMAL, s->pc);
    if (op->sign && !op->to64) {
        tes_jit_op(s->ir, TES_JIT_EXT32U, v, v, TES_JIT_NONE);
    }
    return v;
}

static void store(a64_dc *s, const ldst *op, tes_jit_val v, tes_jit_val addr)
{
    tes_jit_qst(s->ir, v, addr, memop(s, op), tlb_off(s, true), ACC_NORMAL, s->pc);
}

static tes_jit_val add(a64_dc *s, tes_jit_val a, tes_jit_val b)
{
    tes_jit_val d = T(s);

    tes_jit_op(s->ir, TES_JIT_ADD, d, a, b);
    return d;
}

/* A SIMD&FP register's value as one or two loads (not yet written). */
static void simd_load(a64_dc *s, const ldst *op, tes_jit_val addr, tes_jit_val v[2])
{
    v[0] = load(s, op, addr);
    v[1] = op->scale == 4 ? load(s, op, add(s, addr, K(s, 8))) : K(s, 0);
}

/* Write a loaded SIMD&FP register: scalar loads clear the rest. */
static void simd_set(a64_dc *s, unsigned rt, const tes_jit_val v[2])
{
    tes_jit_op(s->ir, TES_JIT_MOV, a64_jit_vreg(s, rt, 0), v[0], TES_JIT_NONE);
    tes_jit_op(s->ir, TES_JIT_MOV, a64_jit_vreg(s, rt, 1), v[1], TES_JIT_NONE);
}

static void simd_store(a64_dc *s, const ldst *op, unsigned rt, tes_jit_val addr)
{
    store(s, op, a64_jit_vreg(s, rt, 0), addr);
    if (op->scale == 4) {
        store(s, op, a64_jit_vreg(s, rt, 1), add(s, addr, K(s, 8)));
    }
}

/* The transfer of one register at addr. */
static void transfer(a64_dc *s, const ldst *op, unsigned rt, tes_jit_val addr)
{
    tes_jit_val v[2];

    if (op->prefetch) {
        return;
    }
    if (op->simd && op->load) {
        simd_load(s, op, addr, v);
        simd_set(s, rt, v);
    } else if (op->simd) {
        simd_store(s, op, rt, addr);
    } else if (op->load) {
        a64_jit_set_zr(s, rt, load(s, op, addr));
    } else {
        store(s, op, a64_jit_reg_zr(s, rt), addr);
    }
}

/* ---- the forms ---- */

static bool tr_uimm(a64_dc *s, uint32_t insn)
{
    ldst op;

    if (!decode(s, insn, true, &op)) {
        return false;
    }
    transfer(s, &op, insn & 31,
             add(s, a64_jit_reg_sp(s, JBITS(insn, 5, 5)),
                 K(s, (uint64_t)JBITS(insn, 10, 12) << op.scale)));
    return true;
}

/* Unscaled (mode 0), post-index (1), pre-index (3); unprivileged (2) is
 * the interpreter's. */
static bool tr_imm9(a64_dc *s, uint32_t insn)
{
    unsigned mode = JBITS(insn, 10, 2), rn = JBITS(insn, 5, 5);
    uint64_t imm = (uint64_t)((int64_t)((uint64_t)JBITS(insn, 12, 9) << 55) >> 55);
    tes_jit_val base = T(s), wb;
    ldst op;

    if (mode == 2 || !decode(s, insn, mode == 0, &op)) {
        return false;
    }
    tes_jit_op(s->ir, TES_JIT_MOV, base, a64_jit_reg_sp(s, rn), TES_JIT_NONE);
    wb = add(s, base, K(s, imm));
    transfer(s, &op, insn & 31, mode == 1 ? base : wb);
    if (mode != 0) {
        a64_jit_set_sp(s, rn, wb);
    }
    return true;
}

static bool tr_regoff(a64_dc *s, uint32_t insn)
{
    unsigned option = JBITS(insn, 13, 3);
    tes_jit_val off = a64_jit_reg_zr(s, JBITS(insn, 16, 5)), t;
    ldst op;

    if (!(option & 2) || !decode(s, insn, true, &op)) {
        return false;
    }
    if (option == 2 || option == 6) { /* UXTW, SXTW */
        t = T(s);
        tes_jit_op(s->ir, option == 2 ? TES_JIT_EXT32U : TES_JIT_EXT32S, t, off, TES_JIT_NONE);
        off = t;
    }
    if (JBIT(insn, 12) && op.scale) {
        t = T(s);
        tes_jit_op(s->ir, TES_JIT_SHL, t, off, K(s, op.scale));
        off = t;
    }
    transfer(s, &op, insn & 31, add(s, a64_jit_reg_sp(s, JBITS(insn, 5, 5)), off));
    return true;
}

static bool tr_literal(a64_dc *s, uint32_t insn)
{
    unsigned opc = JBITS(insn, 30, 2);
    uint64_t off = (uint64_t)((int64_t)((uint64_t)JBITS(insn, 5, 19) << 45) >> 43);
    ldst op = {.load = true, .scale = opc == 1 ? 3 : 2, .sign = opc == 2, .to64 = true};

    if (JBIT(insn, 26)) { /* S, D, Q */
        op = (ldst){.load = true, .simd = true, .scale = opc == 2 ? 4 : 2 + opc};
        if (opc == 3 || !simd_ok(s, op.scale)) {
            return false;
        }
        transfer(s, &op, insn & 31, K(s, s->pc + off));
        return true;
    }
    if (opc != 3) { /* 3: PRFM (literal), nothing to do */
        transfer(s, &op, insn & 31, K(s, s->pc + off));
    }
    return true;
}

/* LDP/STP/LDNP/STNP of S, D or Q registers (op->scale 2, 3, 4). */
static bool tr_pair_simd(a64_dc *s, uint32_t insn, const ldst *op)
{
    unsigned mode = JBITS(insn, 23, 2), rn = JBITS(insn, 5, 5);
    unsigned rt = insn & 31, rt2 = JBITS(insn, 10, 5);
    uint64_t off = (uint64_t)((int64_t)((uint64_t)JBITS(insn, 15, 7) << 57) >> 57) << op->scale;
    tes_jit_val base = T(s), wb, addr, addr2, a[2], b[2];

    tes_jit_op(s->ir, TES_JIT_MOV, base, a64_jit_reg_sp(s, rn), TES_JIT_NONE);
    wb = add(s, base, K(s, off));
    addr = mode == 1 ? base : wb;
    addr2 = add(s, addr, K(s, 1u << op->scale));
    if (op->load) {
        simd_load(s, op, addr, a);
        simd_load(s, op, addr2, b);
        simd_set(s, rt2, b);
        simd_set(s, rt, a);
    } else {
        simd_store(s, op, rt, addr);
        simd_store(s, op, rt2, addr2);
    }
    if (mode == 1 || mode == 3) {
        a64_jit_set_sp(s, rn, wb);
    }
    return true;
}

/* LDP/STP/LDPSW/LDNP/STNP: mode 0 no-allocate (offset), 1 post-index,
 * 2 offset, 3 pre-index. */
static bool tr_pair(a64_dc *s, uint32_t insn)
{
    unsigned opc = JBITS(insn, 30, 2), mode = JBITS(insn, 23, 2), rn = JBITS(insn, 5, 5);
    unsigned rt = insn & 31, rt2 = JBITS(insn, 10, 5);
    ldst op = {.load = JBIT(insn, 22), .scale = 2 + (opc >> 1), .sign = opc == 1, .to64 = true};
    tes_jit_val base = T(s), wb, addr, addr2, a, b;
    uint64_t off;

    if (JBIT(insn, 26)) {
        op = (ldst){.load = JBIT(insn, 22), .simd = true, .scale = 2 + opc};
        if (opc == 3 || !simd_ok(s, op.scale)) {
            return false;
        }
        return tr_pair_simd(s, insn, &op);
    }
    if (opc == 3 || (opc == 1 && (!op.load || mode == 0))) {
        return false;
    }
    off = (uint64_t)((int64_t)((uint64_t)JBITS(insn, 15, 7) << 57) >> 57) << op.scale;
    tes_jit_op(s->ir, TES_JIT_MOV, base, a64_jit_reg_sp(s, rn), TES_JIT_NONE);
    wb = add(s, base, K(s, off));
    addr = mode == 1 ? base : wb;
    addr2 = add(s, addr, K(s, 1u << op.scale));
    if (op.load) {
        a = load(s, &op, addr);
        b = load(s, &op, addr2);
        a64_jit_set_zr(s, rt2, b);
        a64_jit_set_zr(s, rt, a); /* Rt == Rt2: Rt's value, as the interpreter */
    } else {
        a = a64_jit_reg_zr(s, rt);
        b = a64_jit_reg_zr(s, rt2);
        store(s, &op, a, addr);
        store(s, &op, b, addr2);
    }
    if (mode == 1 || mode == 3) {
        a64_jit_set_sp(s, rn, wb);
    }
    return true;
}

/* LD1/ST1 {Vt.T}, [Xn] and [Xn], #8|16 (one register: the element
 * size does not change the bytes moved). With SCTLR_EL1.A the element
 * alignment is the interpreter's to check. */
static bool tr_ld1_st1(a64_dc *s, uint32_t insn)
{
    bool q = JBIT(insn, 30), post = JBIT(insn, 23);
    unsigned rn = JBITS(insn, 5, 5);
    ldst op = {.simd = true, .load = JBIT(insn, 22), .scale = q ? 4 : 3};
    tes_jit_val base = T(s);

    if (s->align || !s->fp) {
        return false;
    }
    tes_jit_op(s->ir, TES_JIT_MOV, base, a64_jit_reg_sp(s, rn), TES_JIT_NONE);
    transfer(s, &op, insn & 31, base);
    if (post) {
        a64_jit_set_sp(s, rn, add(s, base, K(s, q ? 16 : 8)));
    }
    return true;
}

/* LDAR/STLR (all sizes): plain accesses that must be aligned (vCPUs run
 * one at a time: ordering is already sequential); the slow path gets
 * ACC_ALIGN so that it raises the alignment fault as a64-ldst.c does. */
static bool tr_acq_rel(a64_dc *s, uint32_t insn)
{
    unsigned scale = JBITS(insn, 30, 2), rt = insn & 31;
    uint32_t mo = scale | TES_JIT_MO_ALIGN;
    tes_jit_val addr = a64_jit_reg_sp(s, JBITS(insn, 5, 5)), v;

    if (JBIT(insn, 22)) {
        v = T(s);
        tes_jit_qld(s->ir, v, addr, mo, tlb_off(s, false), ACC_ALIGN, s->pc);
        a64_jit_set_zr(s, rt, v);
    } else {
        tes_jit_qst(s->ir, a64_jit_reg_zr(s, rt), addr, mo, tlb_off(s, true), ACC_ALIGN, s->pc);
    }
    return true;
}

bool a64_jit_ldst(a64_dc *s)
{
    uint32_t insn = s->insn;

    if ((insn & 0x3fbffc00u) == 0x089ffc00u) { /* STLR (L=0) / LDAR (L=1) */
        return tr_acq_rel(s, insn);
    } else if ((insn & 0xbfbff000u) == 0x0c007000u || (insn & 0xbfbff000u) == 0x0c9f7000u) {
        return tr_ld1_st1(s, insn);
    } else if ((insn & 0x3b000000u) == 0x18000000u) {
        return tr_literal(s, insn);
    } else if ((insn & 0x3a000000u) == 0x28000000u) {
        return tr_pair(s, insn);
    } else if ((insn & 0x3b200000u) == 0x38000000u) {
        return tr_imm9(s, insn);
    } else if ((insn & 0x3b200c00u) == 0x38200800u) {
        return tr_regoff(s, insn);
    } else if ((insn & 0x3b000000u) == 0x39000000u) {
        return tr_uimm(s, insn);
    }
    return false; /* exclusives, atomics, SIMD structures: the interpreter */
}
