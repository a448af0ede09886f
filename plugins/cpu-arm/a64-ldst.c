/*
 * cpu-arm: A64 loads and stores (Arm ARM C4.1.4) of general-purpose and
 * SIMD&FP registers: literal, unsigned offset, pre/post-index, unscaled,
 * register offset, unprivileged, pairs, exclusives and acquire/release.
 * AdvSIMD structure loads (LD1..LD4) are a64-simd.c's.
 *
 * Every access goes through mmu.c; when one returns false an abort has
 * been raised and the handler returns at once: no register is written and
 * no base is written back. Where the Arm ARM leaves Rn == Rt with
 * writeback CONSTRAINED UNPREDICTABLE, we do as QEMU does: a store stores
 * the old Rt, a load's writeback wins over the loaded value.
 */
#include "arm.h"

#define BIT(x, n) (((x) >> (n)) & 1u)
#define BITS(x, lo, n) (((x) >> (lo)) & ((1u << (n)) - 1u))

static inline uint64_t sext(uint64_t v, unsigned bits)
{
    return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits));
}

/* Accesses of 1 << scale bytes through the inline TLB fast paths of arm.h
 * (the switch gives each a constant size). */
static inline bool rd_fast(arm_cpu *c, uint64_t va, unsigned scale, uint64_t *v, unsigned acc)
{
    switch (scale) {
    case 0: return arm_read_fast(c, va, 1, v, acc);
    case 1: return arm_read_fast(c, va, 2, v, acc);
    case 2: return arm_read_fast(c, va, 4, v, acc);
    default: return arm_read_fast(c, va, 8, v, acc);
    }
}

static inline bool wr_fast(arm_cpu *c, uint64_t va, unsigned scale, uint64_t v, unsigned acc)
{
    switch (scale) {
    case 0: return arm_write_fast(c, va, 1, v, acc);
    case 1: return arm_write_fast(c, va, 2, v, acc);
    case 2: return arm_write_fast(c, va, 4, v, acc);
    default: return arm_write_fast(c, va, 8, v, acc);
    }
}

/* One register transfer, decoded from size:V:opc (C4.1.4 tables). */
typedef struct ls_op {
    unsigned scale;  /* log2 of the access size in bytes (4: Q) */
    bool load;
    bool simd;
    bool sign;       /* sign-extending load */
    bool to64;       /* sign-extend to 64 bits (else to 32) */
    bool prefetch;   /* PRFM/PRFUM: no access */
} ls_op;

/* Decode size/V/opc of the single-register forms; false: unallocated. */
static bool decode_op(uint32_t insn, bool allow_prefetch, ls_op *op)
{
    unsigned size = BITS(insn, 30, 2), opc = BITS(insn, 22, 2);

    memset(op, 0, sizeof(*op));
    op->simd = BIT(insn, 26);
    op->scale = size;
    if (op->simd) {
        if (opc & 2) {
            if (size != 0) {
                return false;
            }
            op->scale = 4; /* 128-bit Q register */
        }
        op->load = opc & 1;
        return true;
    }
    op->load = opc != 0;
    if (opc < 2) {
        return true;
    }
    if (size == 3) {
        op->prefetch = (opc == 2) && allow_prefetch;
        return op->prefetch;
    }
    if (size == 2 && opc == 3) {
        return false;
    }
    op->sign = true;
    op->to64 = opc == 2;
    return true;
}

static bool load_reg(arm_cpu *c, const ls_op *op, unsigned rt, uint64_t addr, unsigned acc)
{
    uint64_t v;

    if (op->scale == 4) {
        vreg q;

        if (!arm_read128(c, addr, &q, acc)) {
            return false;
        }
        c->v[rt] = q;
        return true;
    }
    if (!rd_fast(c, addr, op->scale, &v, acc)) {
        return false;
    }
    if (op->simd) {
        c->v[rt].d[0] = v; /* scalar loads clear the rest of the vector */
        c->v[rt].d[1] = 0;
        return true;
    }
    if (op->sign) {
        v = sext(v, 8u << op->scale);
        if (!op->to64) {
            v = (uint32_t)v;
        }
    }
    set_zr(c, rt, v);
    return true;
}

static bool store_reg(arm_cpu *c, const ls_op *op, unsigned rt, uint64_t addr, unsigned acc)
{
    uint64_t v;

    if (op->scale == 4) {
        return arm_write128(c, addr, &c->v[rt], acc);
    }
    v = op->simd ? c->v[rt].d[0] : reg_zr(c, rt);
    if (op->scale < 3) {
        v &= (1ull << (8u << op->scale)) - 1;
    }
    return wr_fast(c, addr, op->scale, v, acc);
}

/* The access of a decoded single-register op; false when it aborted. */
static bool transfer(arm_cpu *c, const ls_op *op, unsigned rt, uint64_t addr, unsigned acc)
{
    if (op->prefetch) {
        return true;
    }
    if (op->simd && !arm_fp_access_ok(c)) {
        return false;
    }
    return op->load ? load_reg(c, op, rt, addr, acc) : store_reg(c, op, rt, addr, acc);
}

/* ---- single register forms ---- */

static void ld_literal(arm_cpu *c, uint32_t insn)
{
    unsigned opc = BITS(insn, 30, 2);
    uint64_t addr = c->pc + (sext(BITS(insn, 5, 19), 19) << 2);
    ls_op op = {.load = true, .simd = BIT(insn, 26)};

    if (op.simd) {
        if (opc == 3) {
            arm_undef(c);
            return;
        }
        op.scale = 2 + opc; /* S, D, Q */
    } else if (opc == 3) {
        return; /* PRFM (literal) */
    } else {
        op.scale = opc == 1 ? 3 : 2;
        op.sign = op.to64 = opc == 2; /* LDRSW (literal) */
    }
    transfer(c, &op, insn & 31, addr, ACC_NORMAL);
}

static void ldst_uimm(arm_cpu *c, uint32_t insn)
{
    ls_op op;
    uint64_t addr;

    if (!decode_op(insn, true, &op)) {
        arm_undef(c);
        return;
    }
    addr = reg_sp(c, BITS(insn, 5, 5)) + ((uint64_t)BITS(insn, 10, 12) << op.scale);
    transfer(c, &op, insn & 31, addr, ACC_NORMAL);
}

/* imm9 forms: unscaled (00), post-index (01), unprivileged (10),
 * pre-index (11), chosen by insn[11:10]. */
static void ldst_imm9(arm_cpu *c, uint32_t insn)
{
    unsigned mode = BITS(insn, 10, 2), rn = BITS(insn, 5, 5), rt = insn & 31;
    uint64_t imm = sext(BITS(insn, 12, 9), 9), base, addr;
    unsigned acc = mode == 2 ? ACC_UNPRIV : ACC_NORMAL;
    ls_op op;

    if (!decode_op(insn, mode == 0, &op) || (mode == 2 && op.simd)) {
        arm_undef(c);
        return;
    }
    base = reg_sp(c, rn);
    addr = mode == 1 ? base : base + imm;
    if (!transfer(c, &op, rt, addr, acc)) {
        return;
    }
    if (mode == 1 || mode == 3) {
        set_sp(c, rn, base + imm);
    }
}

static void ldst_regoff(arm_cpu *c, uint32_t insn)
{
    unsigned option = BITS(insn, 13, 3);
    uint64_t off, addr;
    ls_op op;

    if (!decode_op(insn, true, &op) || !(option & 2)) {
        arm_undef(c);
        return;
    }
    off = reg_zr(c, BITS(insn, 16, 5));
    switch (option) {
    case 2: off = (uint32_t)off; break;                     /* UXTW */
    case 6: off = (uint64_t)(int64_t)(int32_t)off; break;   /* SXTW */
    default: break;                                         /* LSL/UXTX, SXTX */
    }
    if (BIT(insn, 12)) {
        off <<= op.scale;
    }
    addr = reg_sp(c, BITS(insn, 5, 5)) + off;
    transfer(c, &op, insn & 31, addr, ACC_NORMAL);
}

/* ---- pairs: LDP/STP/LDPSW/LDNP/STNP ---- */

static bool pair_load(arm_cpu *c, const ls_op *op, uint32_t insn, uint64_t addr)
{
    unsigned rt = insn & 31, rt2 = BITS(insn, 10, 5), sz = 1u << op->scale;
    uint64_t a, b;

    if (op->simd) {
        vreg v1, v2;

        if (op->scale == 4) {
            if (!arm_read128(c, addr, &v1, ACC_NORMAL) ||
                !arm_read128(c, addr + 16, &v2, ACC_NORMAL)) {
                return false;
            }
        } else {
            if (!arm_read(c, addr, sz, &a, ACC_NORMAL) ||
                !arm_read(c, addr + sz, sz, &b, ACC_NORMAL)) {
                return false;
            }
            v1.d[0] = a;
            v1.d[1] = 0;
            v2.d[0] = b;
            v2.d[1] = 0;
        }
        c->v[rt2] = v2;
        c->v[rt] = v1;
        return true;
    }
    if (!rd_fast(c, addr, op->scale, &a, ACC_NORMAL) ||
        !rd_fast(c, addr + sz, op->scale, &b, ACC_NORMAL)) {
        return false;
    }
    if (op->sign) {
        a = sext(a, 32);
        b = sext(b, 32);
    }
    set_zr(c, rt2, b);
    set_zr(c, rt, a); /* Rt == Rt2 (UNPREDICTABLE): Rt's value, as QEMU */
    return true;
}

static bool pair_store(arm_cpu *c, const ls_op *op, uint32_t insn, uint64_t addr)
{
    unsigned rt = insn & 31, rt2 = BITS(insn, 10, 5), sz = 1u << op->scale;

    if (op->scale == 4) {
        return arm_write128(c, addr, &c->v[rt], ACC_NORMAL) &&
               arm_write128(c, addr + 16, &c->v[rt2], ACC_NORMAL);
    }
    if (op->simd) {
        return arm_write(c, addr, sz, c->v[rt].d[0] & (sz == 8 ? ~0ull : 0xffffffffull),
                         ACC_NORMAL) &&
               arm_write(c, addr + sz, sz, c->v[rt2].d[0] & (sz == 8 ? ~0ull : 0xffffffffull),
                         ACC_NORMAL);
    }
    return wr_fast(c, addr, op->scale, reg_zr(c, rt), ACC_NORMAL) &&
           wr_fast(c, addr + sz, op->scale, reg_zr(c, rt2), ACC_NORMAL);
}

static void ldst_pair(arm_cpu *c, uint32_t insn)
{
    unsigned opc = BITS(insn, 30, 2), mode = BITS(insn, 23, 2), rn = BITS(insn, 5, 5);
    ls_op op = {.load = BIT(insn, 22), .simd = BIT(insn, 26)};
    uint64_t base, addr, off;
    bool ok;

    if (opc == 3 || (!op.simd && opc == 1 && (!op.load || mode == 0))) {
        arm_undef(c); /* STGP (MTE) and LDNPSW do not exist in ARMv8.0 */
        return;
    }
    if (op.simd) {
        op.scale = 2 + opc;
        if (!arm_fp_access_ok(c)) {
            return;
        }
    } else {
        op.scale = 2 + (opc >> 1);
        op.sign = opc == 1;
    }
    off = sext(BITS(insn, 15, 7), 7) << op.scale;
    base = reg_sp(c, rn);
    addr = mode == 1 ? base : base + off;
    ok = op.load ? pair_load(c, &op, insn, addr) : pair_store(c, &op, insn, addr);
    if (ok && (mode == 1 || mode == 3)) {
        set_sp(c, rn, base + off);
    }
}

/* ---- exclusives and acquire/release ---- */

/* Read total bytes (1..16) at addr as one or two accesses. */
static bool excl_read(arm_cpu *c, uint64_t addr, unsigned total, uint64_t val[2])
{
    val[1] = 0;
    if (total <= 8) {
        return arm_read(c, addr, total, &val[0], ACC_ALIGN);
    }
    return arm_read(c, addr, 8, &val[0], ACC_ALIGN) && arm_read(c, addr + 8, 8, &val[1], ACC_ALIGN);
}

static bool excl_write(arm_cpu *c, uint64_t addr, unsigned total, const uint64_t val[2])
{
    if (total <= 8) {
        return arm_write(c, addr, total, val[0], ACC_ALIGN);
    }
    return arm_write(c, addr, 8, val[0], ACC_ALIGN) && arm_write(c, addr + 8, 8, val[1], ACC_ALIGN);
}

/* LDXR/LDAXR/LDXP/LDAXP: load and arm the monitor with the value seen. */
static void load_excl(arm_cpu *c, uint32_t insn, uint64_t addr, unsigned esize, bool pair)
{
    unsigned total = pair ? esize * 2 : esize, rt = insn & 31, rt2 = BITS(insn, 10, 5);
    uint64_t val[2];

    if (!excl_read(c, addr, total, val)) {
        return;
    }
    c->excl_valid = true;
    c->excl_addr = addr;
    c->excl_size = total;
    c->excl_val[0] = val[0];
    c->excl_val[1] = val[1];
    if (!pair) {
        set_zr(c, rt, val[0]);
    } else if (esize == 4) {
        set_zr(c, rt2, val[0] >> 32);
        set_zr(c, rt, (uint32_t)val[0]);
    } else {
        set_zr(c, rt2, val[1]);
        set_zr(c, rt, val[0]);
    }
}

/* STXR/STLXR/STXP/STLXP. vCPUs run interleaved on one thread, so the
 * monitor is a compare-and-store: the store happens when the monitor is
 * armed for this address and size and memory still holds what the
 * load-exclusive saw (arm.h). Ws = 0 on success, 1 on failure; the
 * monitor is cleared either way. */
static void store_excl(arm_cpu *c, uint32_t insn, uint64_t addr, unsigned esize, bool pair)
{
    unsigned total = pair ? esize * 2 : esize, rt = insn & 31, rt2 = BITS(insn, 10, 5);
    uint64_t val[2] = {reg_zr(c, rt), 0}, now[2];
    uint64_t status = 1;

    if (pair && esize == 4) {
        val[0] = (uint32_t)val[0] | (reg_zr(c, rt2) << 32);
    } else if (pair) {
        val[1] = reg_zr(c, rt2);
    } else if (esize < 8) {
        val[0] &= (1ull << (esize * 8)) - 1;
    }
    if (c->excl_valid && c->excl_addr == addr && c->excl_size == total) {
        if (!excl_read(c, addr, total, now)) {
            return;
        }
        if (now[0] == c->excl_val[0] && now[1] == c->excl_val[1]) {
            if (!excl_write(c, addr, total, val)) {
                return;
            }
            status = 0;
        }
    }
    c->excl_valid = false;
    set_zr(c, BITS(insn, 16, 5), status);
}

static void ldst_excl(arm_cpu *c, uint32_t insn)
{
    unsigned esize = 1u << BITS(insn, 30, 2), rt = insn & 31;
    bool o2 = BIT(insn, 23), load = BIT(insn, 22), o1 = BIT(insn, 21), o0 = BIT(insn, 15);
    uint64_t addr = reg_sp(c, BITS(insn, 5, 5));

    if (!o2 && !o1) {
        (load ? load_excl : store_excl)(c, insn, addr, esize, false);
    } else if (!o2 && o1 && esize >= 4) {
        (load ? load_excl : store_excl)(c, insn, addr, esize, true);
    } else if (o2 && !o1 && o0) { /* LDAR/STLR: ordinary aligned accesses */
        uint64_t v;

        if (!load) {
            arm_write(c, addr, esize, reg_zr(c, rt) & (esize == 8 ? ~0ull : (1ull << (esize * 8)) - 1),
                      ACC_ALIGN);
        } else if (arm_read(c, addr, esize, &v, ACC_ALIGN)) {
            set_zr(c, rt, v);
        }
    } else {
        arm_undef(c); /* CAS/CASP (v8.1), LDLAR/STLLR (LOR) */
    }
}

/* ---- specialised handlers of the hottest forms ---- */

/* LDR/STR (immediate, unsigned offset) of a general register, zero
 * extending: one handler per size and direction, chosen at decode. */
#define LDST_UIMM_GPR(sc)                                                               \
    static void ldr_u##sc(arm_cpu *c, uint32_t insn)                                   \
    {                                                                                   \
        uint64_t a = reg_sp(c, BITS(insn, 5, 5)) + ((uint64_t)BITS(insn, 10, 12) << sc); \
        uint64_t v;                                                                     \
                                                                                        \
        if (arm_read_fast(c, a, 1u << sc, &v, ACC_NORMAL)) {                            \
            set_zr(c, insn & 31, v);                                                    \
        }                                                                               \
    }                                                                                   \
    static void str_u##sc(arm_cpu *c, uint32_t insn)                                   \
    {                                                                                   \
        uint64_t a = reg_sp(c, BITS(insn, 5, 5)) + ((uint64_t)BITS(insn, 10, 12) << sc); \
                                                                                        \
        arm_write_fast(c, a, 1u << sc, reg_zr(c, insn & 31), ACC_NORMAL);               \
    }
LDST_UIMM_GPR(0)
LDST_UIMM_GPR(1)
LDST_UIMM_GPR(2)
LDST_UIMM_GPR(3)

/* LDP/STP/LDNP/STNP of X registers, by mode (insn[24:23]) and L. */
#define PAIR_X(mode, load)                                                       \
    static void pair_x_##mode##load(arm_cpu *c, uint32_t insn)                  \
    {                                                                            \
        unsigned rn = BITS(insn, 5, 5), rt = insn & 31, rt2 = BITS(insn, 10, 5); \
        uint64_t off = sext(BITS(insn, 15, 7), 7) << 3, base = reg_sp(c, rn);    \
        uint64_t addr = mode == 1 ? base : base + off, a, b;                     \
                                                                                 \
        if (load) {                                                              \
            if (!arm_read_fast(c, addr, 8, &a, ACC_NORMAL) ||                    \
                !arm_read_fast(c, addr + 8, 8, &b, ACC_NORMAL)) {                \
                return;                                                          \
            }                                                                    \
            set_zr(c, rt2, b);                                                   \
            set_zr(c, rt, a);                                                    \
        } else if (!arm_write_fast(c, addr, 8, reg_zr(c, rt), ACC_NORMAL) ||     \
                   !arm_write_fast(c, addr + 8, 8, reg_zr(c, rt2), ACC_NORMAL)) {\
            return;                                                              \
        }                                                                        \
        if (mode == 1 || mode == 3) {                                            \
            set_sp(c, rn, base + off);                                           \
        }                                                                        \
    }
PAIR_X(0, 0)
PAIR_X(0, 1)
PAIR_X(1, 0)
PAIR_X(1, 1)
PAIR_X(2, 0)
PAIR_X(2, 1)
PAIR_X(3, 0)
PAIR_X(3, 1)

static a64_fn pair_decode(uint32_t insn)
{
    static const a64_fn fn[8] = {
        pair_x_00, pair_x_01, pair_x_10, pair_x_11, pair_x_20, pair_x_21, pair_x_30, pair_x_31,
    };

    if (BITS(insn, 30, 2) != 2 || BIT(insn, 26)) {
        return ldst_pair;
    }
    return fn[BITS(insn, 23, 2) << 1 | BIT(insn, 22)];
}

/* LDR/STR/LDUR/STUR (imm9: unscaled, post- and pre-index) of a general
 * register, zero extending, by size and mode; unprivileged forms (mode 2)
 * stay with ldst_imm9. */
#define LDST_IMM9_GPR(sc, mode)                                                  \
    static void ldr9_##sc##mode(arm_cpu *c, uint32_t insn)                      \
    {                                                                            \
        unsigned rn = BITS(insn, 5, 5);                                          \
        uint64_t imm = sext(BITS(insn, 12, 9), 9), base = reg_sp(c, rn), v;      \
                                                                                 \
        if (!arm_read_fast(c, mode == 1 ? base : base + imm, 1u << sc, &v, ACC_NORMAL)) { \
            return;                                                              \
        }                                                                        \
        set_zr(c, insn & 31, v);                                                 \
        if (mode != 0) {                                                         \
            set_sp(c, rn, base + imm);                                           \
        }                                                                        \
    }                                                                            \
    static void str9_##sc##mode(arm_cpu *c, uint32_t insn)                      \
    {                                                                            \
        unsigned rn = BITS(insn, 5, 5);                                          \
        uint64_t imm = sext(BITS(insn, 12, 9), 9), base = reg_sp(c, rn);         \
                                                                                 \
        if (!arm_write_fast(c, mode == 1 ? base : base + imm, 1u << sc,          \
                            reg_zr(c, insn & 31), ACC_NORMAL)) {                 \
            return;                                                              \
        }                                                                        \
        if (mode != 0) {                                                         \
            set_sp(c, rn, base + imm);                                           \
        }                                                                        \
    }
#define LDST_IMM9_MODES(sc) LDST_IMM9_GPR(sc, 0) LDST_IMM9_GPR(sc, 1) LDST_IMM9_GPR(sc, 3)
LDST_IMM9_MODES(0)
LDST_IMM9_MODES(1)
LDST_IMM9_MODES(2)
LDST_IMM9_MODES(3)

static a64_fn imm9_decode(uint32_t insn)
{
#define IMM9_ROW(p, sc) {p##9_##sc##0, p##9_##sc##1, NULL, p##9_##sc##3}
    static const a64_fn ld[4][4] = {IMM9_ROW(ldr, 0), IMM9_ROW(ldr, 1), IMM9_ROW(ldr, 2),
                                    IMM9_ROW(ldr, 3)};
    static const a64_fn st[4][4] = {IMM9_ROW(str, 0), IMM9_ROW(str, 1), IMM9_ROW(str, 2),
                                    IMM9_ROW(str, 3)};
#undef IMM9_ROW
    unsigned opc = BITS(insn, 22, 2), mode = BITS(insn, 10, 2);

    if (BIT(insn, 26) || opc >= 2 || mode == 2) {
        return ldst_imm9;
    }
    return (opc ? ld : st)[BITS(insn, 30, 2)][mode];
}

/* LDR/STR (register offset) of a general register, zero extending, by
 * size; the offset register's extend and shift are read at run time. */
static inline uint64_t regoff_addr(arm_cpu *c, uint32_t insn, unsigned scale)
{
    uint64_t off = reg_zr(c, BITS(insn, 16, 5));

    switch (BITS(insn, 13, 3)) {
    case 2: off = (uint32_t)off; break;                   /* UXTW */
    case 6: off = (uint64_t)(int64_t)(int32_t)off; break; /* SXTW */
    default: break;                                       /* LSL/UXTX, SXTX */
    }
    if (BIT(insn, 12)) {
        off <<= scale;
    }
    return reg_sp(c, BITS(insn, 5, 5)) + off;
}

#define LDST_REGOFF_GPR(sc)                                                      \
    static void ldr_r##sc(arm_cpu *c, uint32_t insn)                            \
    {                                                                            \
        uint64_t v;                                                              \
                                                                                 \
        if (arm_read_fast(c, regoff_addr(c, insn, sc), 1u << sc, &v, ACC_NORMAL)) { \
            set_zr(c, insn & 31, v);                                             \
        }                                                                        \
    }                                                                            \
    static void str_r##sc(arm_cpu *c, uint32_t insn)                            \
    {                                                                            \
        arm_write_fast(c, regoff_addr(c, insn, sc), 1u << sc, reg_zr(c, insn & 31), \
                       ACC_NORMAL);                                              \
    }
LDST_REGOFF_GPR(0)
LDST_REGOFF_GPR(1)
LDST_REGOFF_GPR(2)
LDST_REGOFF_GPR(3)

static a64_fn regoff_decode(uint32_t insn)
{
    static const a64_fn ld[4] = {ldr_r0, ldr_r1, ldr_r2, ldr_r3};
    static const a64_fn st[4] = {str_r0, str_r1, str_r2, str_r3};
    unsigned opc = BITS(insn, 22, 2);

    if (BIT(insn, 26) || opc >= 2 || !(BITS(insn, 13, 3) & 2)) {
        return ldst_regoff; /* SIMD&FP, sign-extending, PRFM or undefined */
    }
    return (opc ? ld : st)[BITS(insn, 30, 2)];
}

static a64_fn uimm_decode(uint32_t insn)
{
    static const a64_fn ld[4] = {ldr_u0, ldr_u1, ldr_u2, ldr_u3};
    static const a64_fn st[4] = {str_u0, str_u1, str_u2, str_u3};
    unsigned opc = BITS(insn, 22, 2);

    if (BIT(insn, 26) || opc >= 2) {
        return ldst_uimm;
    }
    return (opc ? ld : st)[BITS(insn, 30, 2)];
}

/* ---- dispatch (C4.1.4) ---- */

static void undef_insn(arm_cpu *c, uint32_t insn)
{
    arm_undef(c);
}

a64_fn a64_ldst_decode(uint32_t insn)
{
    if ((insn & 0x3f000000u) == 0x08000000u) {
        return ldst_excl;
    } else if ((insn & 0x3b000000u) == 0x18000000u) {
        return ld_literal;
    } else if ((insn & 0x3a000000u) == 0x28000000u) {
        return pair_decode(insn);
    } else if ((insn & 0x3b200000u) == 0x38000000u) {
        return imm9_decode(insn);
    } else if ((insn & 0x3b200c00u) == 0x38200800u) {
        return regoff_decode(insn);
    } else if ((insn & 0x3b000000u) == 0x39000000u) {
        return uimm_decode(insn);
    }
    return undef_insn; /* atomics (v8.1), MTE, LDAPR (v8.3), RCpc (v8.4) */
}

void a64_ldst(arm_cpu *c, uint32_t insn)
{
    a64_ldst_decode(insn)(c, insn);
}
