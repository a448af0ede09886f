/*
 * cpu-arm: A64 decode and the integer instructions.
 *
 * a64_decode() maps an instruction word to its handler by the top-level
 * encoding groups of the Arm ARM (C4.1, op0 = insn[28:25]); exec.c caches
 * the result per instruction slot, so decoding happens once per word and
 * handlers re-extract only their operand fields. The hottest forms have
 * handlers specialised by the bits that select their behaviour (sf, op,
 * S, opc: ADD/SUB, logical), so that flags are computed only by the forms
 * that set them. This file implements data processing (immediate,
 * C4.1.2, and register, C4.1.5) and branches (C4.1.3); loads/stores go to
 * a64-ldst.c, SIMD&FP to a64-simd.c, the system group to sys.c.
 * W forms compute on 32 bits and write the register zero-extended.
 */
#include "arm.h"

#define BIT(x, n) (((x) >> (n)) & 1u)
#define BITS(x, lo, n) (((x) >> (lo)) & ((1u << (n)) - 1u))

static inline uint64_t sext(uint64_t v, unsigned bits)
{
    return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits));
}

static inline uint64_t trunc_sf(uint64_t v, bool sf)
{
    return sf ? v : (uint32_t)v;
}

/* ConditionHolds (C1.2.4 / J1 shared pseudocode), tabulated: bit cond of
 * arm_cond_table[NZCV] says whether cond holds. AL and NV always hold. */
const uint16_t arm_cond_table[16] = {
    0xd6aa, 0xea6a, 0xd5a6, 0xe966, 0xe6a9, 0xea69, 0xe6a5, 0xea65,
    0xea9a, 0xd65a, 0xe996, 0xd556, 0xea99, 0xe659, 0xea95, 0xe655,
};

void a64_undef_insn(arm_cpu *c, uint32_t insn)
{
    arm_undef(c);
}

/* AddWithCarry (shared pseudocode): x + y + carry_in on 32 or 64 bits,
 * setting NZCV when setf. */
static inline __attribute__((always_inline)) uint64_t add_carry(arm_cpu *c, uint64_t x, uint64_t y, unsigned cin, bool sf, bool setf)
{
    uint64_t r;
    uint32_t f;

    if (sf) {
        unsigned __int128 full = (unsigned __int128)x + y + cin;

        r = (uint64_t)full;
        if (!setf) {
            return r;
        }
        f = (uint32_t)(r >> 63) << 31;
        f |= (r == 0) ? PSTATE_Z : 0;
        f |= (full >> 64) ? PSTATE_C : 0;
        f |= (((x ^ r) & (y ^ r)) >> 63) ? PSTATE_V : 0;
    } else {
        uint64_t full = (uint64_t)(uint32_t)x + (uint32_t)y + cin;

        r = (uint32_t)full;
        if (!setf) {
            return r;
        }
        f = (uint32_t)(r >> 31) << 31;
        f |= (r == 0) ? PSTATE_Z : 0;
        f |= (full >> 32) ? PSTATE_C : 0;
        f |= BIT((x ^ r) & (y ^ r), 31) ? PSTATE_V : 0;
    }
    c->nzcv = f;
    return r;
}

/* Logical results set N and Z, clear C and V. */
static inline void logic_flags(arm_cpu *c, uint64_t r, bool sf)
{
    unsigned top = sf ? 63 : 31;

    c->nzcv = ((uint32_t)((r >> top) & 1) << 31) | (r == 0 ? PSTATE_Z : 0);
}

/* ShiftReg: amount < datasize (the callers ensure it). */
static inline uint64_t shift_reg(uint64_t v, unsigned type, unsigned amt, bool sf)
{
    unsigned w = sf ? 64 : 32;

    v = trunc_sf(v, sf);
    if (amt == 0) {
        return v;
    }
    switch (type) {
    case 0: return trunc_sf(v << amt, sf);
    case 1: return v >> amt;
    case 2: return trunc_sf(sf ? (uint64_t)((int64_t)v >> amt) : (uint64_t)((int32_t)v >> amt), sf);
    default: return trunc_sf((v >> amt) | (v << (w - amt)), sf);
    }
}

/* ExtendReg for the extended-register forms (C6.2 "ADD (extended)"). */
static uint64_t extend_reg(uint64_t v, unsigned option, unsigned shift)
{
    switch (option) {
    case 0: v = (uint8_t)v; break;
    case 1: v = (uint16_t)v; break;
    case 2: v = (uint32_t)v; break;
    case 4: v = (uint64_t)(int8_t)v; break;
    case 5: v = (uint64_t)(int16_t)v; break;
    case 6: v = (uint64_t)(int32_t)v; break;
    default: break;
    }
    return v << shift;
}

/* ---- data processing: immediate (C4.1.2) ---- */

static void dp_pcrel(arm_cpu *c, uint32_t insn)
{
    uint64_t imm = sext((BITS(insn, 5, 19) << 2) | BITS(insn, 29, 2), 21);

    if (BIT(insn, 31)) {
        set_zr(c, insn & 31, (c->pc & ~0xfffull) + (imm << 12));
    } else {
        set_zr(c, insn & 31, c->pc + imm);
    }
}

/* DecodeBitMasks (shared pseudocode) for the logical immediates: false
 * for the reserved encodings. */
static bool decode_bitmask(unsigned n, unsigned imms, unsigned immr, bool sf, uint64_t *mask)
{
    unsigned v = (n << 6) | (~imms & 0x3f);
    int len = 31 - __builtin_clz(v ? v : 1);
    unsigned levels, s, r, esize;
    uint64_t welem;

    if (v == 0 || len < 1 || (!sf && len > 5)) {
        return false;
    }
    levels = (1u << len) - 1;
    s = imms & levels;
    r = immr & levels;
    if (s == levels) {
        return false;
    }
    esize = 1u << len;
    welem = (s + 1 == 64) ? ~0ull : ((1ull << (s + 1)) - 1);
    if (r) {
        welem = ((welem >> r) | (welem << (esize - r)));
    }
    if (esize < 64) {
        welem &= (1ull << esize) - 1;
        for (unsigned e = esize; e < 64; e *= 2) {
            welem |= welem << e;
        }
    }
    *mask = trunc_sf(welem, sf);
    return true;
}

bool a64_bitmask(unsigned n, unsigned imms, unsigned immr, bool sf, uint64_t *mask)
{
    return decode_bitmask(n, imms, immr, sf, mask);
}

static void dp_logic_imm(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31);
    unsigned opc = BITS(insn, 29, 2);
    uint64_t imm, x, r;

    if ((!sf && BIT(insn, 22)) ||
        !decode_bitmask(BIT(insn, 22), BITS(insn, 10, 6), BITS(insn, 16, 6), sf, &imm)) {
        arm_undef(c);
        return;
    }
    x = trunc_sf(reg_zr(c, BITS(insn, 5, 5)), sf);
    switch (opc) {
    case 0: r = x & imm; break;
    case 1: r = x | imm; break;
    case 2: r = x ^ imm; break;
    default:
        r = x & imm;
        logic_flags(c, r, sf);
        set_zr(c, insn & 31, r);
        return;
    }
    set_sp(c, insn & 31, r); /* AND/ORR/EOR (immediate) write SP for 31 */
}

static void dp_movewide(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31);
    unsigned opc = BITS(insn, 29, 2), hw = BITS(insn, 21, 2), rd = insn & 31;
    unsigned pos = hw * 16;
    uint64_t imm = BITS(insn, 5, 16);

    if (opc == 1 || (!sf && hw >= 2)) {
        arm_undef(c);
        return;
    }
    if (opc == 0) {
        set_zr(c, rd, trunc_sf(~(imm << pos), sf));
    } else if (opc == 2) {
        set_zr(c, rd, imm << pos);
    } else {
        uint64_t old = reg_zr(c, rd) & ~(0xffffull << pos);

        set_zr(c, rd, trunc_sf(old | (imm << pos), sf));
    }
}

/* SBFM/BFM/UBFM: immr/imms select either a field extracted to bit 0
 * (imms >= immr: SBFX/UBFX/BFXIL) or low bits inserted at datasize-immr
 * (SBFIZ/UBFIZ/BFI, LSL). */
static void dp_bitfield(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31);
    unsigned opc = BITS(insn, 29, 2), immr = BITS(insn, 16, 6), imms = BITS(insn, 10, 6);
    unsigned w = sf ? 64 : 32, rd = insn & 31, width, pos;
    uint64_t src = reg_zr(c, BITS(insn, 5, 5)), field, fmask, r;

    if (opc == 3 || BIT(insn, 22) != sf || (!sf && (immr >= 32 || imms >= 32))) {
        arm_undef(c);
        return;
    }
    if (imms >= immr) {
        width = imms - immr + 1;
        pos = 0;
        field = src >> immr;
    } else {
        width = imms + 1;
        pos = w - immr;
        field = src;
    }
    fmask = width == 64 ? ~0ull : (1ull << width) - 1;
    field &= fmask;
    if (opc == 0) {        /* SBFM: sign-extend the field upwards */
        r = sext(field, width) << pos;
    } else if (opc == 2) { /* UBFM */
        r = field << pos;
    } else {               /* BFM: other bits of Rd kept */
        r = (reg_zr(c, rd) & ~(fmask << pos)) | (field << pos);
    }
    set_zr(c, rd, trunc_sf(r, sf));
}

static void dp_extract(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31);
    unsigned lsb = BITS(insn, 10, 6);
    uint64_t n, m, r;

    if (BITS(insn, 29, 2) || BIT(insn, 21) || BIT(insn, 22) != sf || (!sf && lsb >= 32)) {
        arm_undef(c);
        return;
    }
    n = trunc_sf(reg_zr(c, BITS(insn, 5, 5)), sf);
    m = trunc_sf(reg_zr(c, BITS(insn, 16, 5)), sf);
    if (lsb == 0) {
        r = m;
    } else {
        r = (m >> lsb) | (n << ((sf ? 64 : 32) - lsb));
    }
    set_zr(c, insn & 31, trunc_sf(r, sf));
}

/* ADD/ADDS/SUB/SUBS (immediate) specialised by sf:op:S (insn[31:29]),
 * so that the flag computation is compiled only where it is needed. */
#define ADDSUB_IMM(sf, sub, setf)                                              \
    static void addsub_imm_##sf##sub##setf(arm_cpu *c, uint32_t insn)         \
    {                                                                          \
        uint64_t imm = BITS(insn, 10, 12) << (BIT(insn, 22) ? 12 : 0);         \
        uint64_t r = add_carry(c, reg_sp(c, BITS(insn, 5, 5)), sub ? ~imm : imm, \
                               sub, sf, setf);                                 \
                                                                               \
        if (setf) {                                                            \
            set_zr(c, insn & 31, r);                                           \
        } else {                                                               \
            set_sp(c, insn & 31, r);                                           \
        }                                                                      \
    }
ADDSUB_IMM(0, 0, 0)
ADDSUB_IMM(0, 0, 1)
ADDSUB_IMM(0, 1, 0)
ADDSUB_IMM(0, 1, 1)
ADDSUB_IMM(1, 0, 0)
ADDSUB_IMM(1, 0, 1)
ADDSUB_IMM(1, 1, 0)
ADDSUB_IMM(1, 1, 1)
static const a64_fn addsub_imm_fn[8] = {
    addsub_imm_000, addsub_imm_001, addsub_imm_010, addsub_imm_011,
    addsub_imm_100, addsub_imm_101, addsub_imm_110, addsub_imm_111,
};

static a64_fn dp_imm(uint32_t insn)
{
    switch (BITS(insn, 23, 3)) {
    case 0:
    case 1: return dp_pcrel;
    case 2: return addsub_imm_fn[BITS(insn, 29, 3)];
    case 4: return dp_logic_imm;
    case 5: return dp_movewide;
    case 6: return dp_bitfield;
    case 7: return dp_extract;
    default: return a64_undef_insn; /* 011: add/sub with tags (MTE) */
    }
}

/* ---- branches (C4.1.3); the system group is sys.c's ---- */

static void br_reg(arm_cpu *c, uint32_t insn)
{
    unsigned opc = BITS(insn, 21, 4), rn = BITS(insn, 5, 5);
    uint64_t target;

    /* op2 must be 11111, op3 and op4 zero (no pointer authentication). */
    if (BITS(insn, 16, 5) != 31 || BITS(insn, 10, 6) || (insn & 31)) {
        arm_undef(c);
        return;
    }
    if (opc == 4 && rn == 31) { /* ERET */
        a64_system(c, insn);
        return;
    }
    if (opc > 2) {
        arm_undef(c);
        return;
    }
    target = reg_zr(c, rn); /* read before BLR writes x30 */
    if (opc == 1) {
        c->x[30] = c->pc + 4;
    }
    c->next_pc = target;
}

/* B, BL. */
static void br_imm(arm_cpu *c, uint32_t insn)
{
    if (BIT(insn, 31)) {
        c->x[30] = c->pc + 4;
    }
    c->next_pc = c->pc + (sext(insn & 0x3ffffff, 26) << 2);
}

static void br_cbz(arm_cpu *c, uint32_t insn)
{
    uint64_t v = trunc_sf(reg_zr(c, insn & 31), BIT(insn, 31));

    if ((v == 0) != BIT(insn, 24)) {
        c->next_pc = c->pc + (sext(BITS(insn, 5, 19), 19) << 2);
    }
}

static void br_tbz(arm_cpu *c, uint32_t insn)
{
    unsigned bit = (BIT(insn, 31) << 5) | BITS(insn, 19, 5);

    if (((reg_zr(c, insn & 31) >> bit) & 1) == BIT(insn, 24)) {
        c->next_pc = c->pc + (sext(BITS(insn, 5, 14), 14) << 2);
    }
}

static void br_cond(arm_cpu *c, uint32_t insn)
{
    if (arm_cond_holds(c, insn & 15)) {
        c->next_pc = c->pc + (sext(BITS(insn, 5, 19), 19) << 2);
    }
}

static a64_fn branches(uint32_t insn)
{
    if ((insn & 0x7c000000) == 0x14000000) {
        return br_imm;
    } else if ((insn & 0x7e000000) == 0x34000000) {
        return br_cbz;
    } else if ((insn & 0x7e000000) == 0x36000000) {
        return br_tbz;
    } else if ((insn & 0xfe000000) == 0xd6000000) {
        return br_reg;
    } else if ((insn & 0xff000010) == 0x54000000) {
        return br_cond;
    } else if ((insn & 0xfe000000) == 0xd4000000) {
        return a64_system; /* exception generation, system */
    }
    return a64_undef_insn;
}

/* ---- data processing: register (C4.1.5) ---- */

static void dp_logic_reg(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31);
    unsigned amt = BITS(insn, 10, 6), opc = BITS(insn, 29, 2);
    uint64_t x, y, r;

    if (!sf && amt >= 32) {
        arm_undef(c);
        return;
    }
    x = trunc_sf(reg_zr(c, BITS(insn, 5, 5)), sf);
    y = shift_reg(reg_zr(c, BITS(insn, 16, 5)), BITS(insn, 22, 2), amt, sf);
    if (BIT(insn, 21)) {
        y = trunc_sf(~y, sf);
    }
    switch (opc) {
    case 0: r = x & y; break;
    case 1: r = x | y; break;
    case 2: r = x ^ y; break;
    default:
        r = x & y;
        logic_flags(c, r, sf);
        break;
    }
    set_zr(c, insn & 31, r);
}

static void dp_addsub_reg(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31), sub = BIT(insn, 30), setf = BIT(insn, 29);
    unsigned amt = BITS(insn, 10, 6), type = BITS(insn, 22, 2);
    uint64_t x, y, r;

    if (type == 3 || (!sf && amt >= 32)) {
        arm_undef(c);
        return;
    }
    x = reg_zr(c, BITS(insn, 5, 5));
    y = shift_reg(reg_zr(c, BITS(insn, 16, 5)), type, amt, sf);
    r = add_carry(c, x, sub ? ~y : y, sub, sf, setf);
    set_zr(c, insn & 31, r);
}

static void dp_addsub_ext(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31), sub = BIT(insn, 30), setf = BIT(insn, 29);
    unsigned sh = BITS(insn, 10, 3);
    uint64_t x, y, r;

    if (BITS(insn, 22, 2) || sh > 4) {
        arm_undef(c);
        return;
    }
    x = reg_sp(c, BITS(insn, 5, 5));
    y = extend_reg(reg_zr(c, BITS(insn, 16, 5)), BITS(insn, 13, 3), sh);
    r = add_carry(c, x, sub ? ~y : y, sub, sf, setf);
    if (setf) {
        set_zr(c, insn & 31, r);
    } else {
        set_sp(c, insn & 31, r);
    }
}

static void dp_adc(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31), sub = BIT(insn, 30), setf = BIT(insn, 29);
    uint64_t x = reg_zr(c, BITS(insn, 5, 5)), y = reg_zr(c, BITS(insn, 16, 5));

    if (BITS(insn, 10, 6)) {
        arm_undef(c); /* RMIF, SETF8/16: not in ARMv8.0 */
        return;
    }
    set_zr(c, insn & 31,
           add_carry(c, x, sub ? ~y : y, (c->nzcv & PSTATE_C) ? 1 : 0, sf, setf));
}

/* CCMN/CCMP (register and immediate). */
static void dp_condcmp(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31), sub = BIT(insn, 30);
    uint64_t x, y;

    if (!BIT(insn, 29) || BIT(insn, 10) || BIT(insn, 4)) {
        arm_undef(c);
        return;
    }
    if (!arm_cond_holds(c, BITS(insn, 12, 4))) {
        c->nzcv = (insn & 15) << 28;
        return;
    }
    x = reg_zr(c, BITS(insn, 5, 5));
    y = BIT(insn, 11) ? BITS(insn, 16, 5) : reg_zr(c, BITS(insn, 16, 5));
    add_carry(c, x, sub ? ~y : y, sub, sf, true);
}

static void dp_condsel(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31), inv = BIT(insn, 30);
    unsigned op2 = BITS(insn, 10, 2);
    uint64_t r;

    if (BIT(insn, 29) || op2 > 1) {
        arm_undef(c);
        return;
    }
    if (arm_cond_holds(c, BITS(insn, 12, 4))) {
        r = reg_zr(c, BITS(insn, 5, 5));
    } else {
        r = reg_zr(c, BITS(insn, 16, 5));
        if (inv) {
            r = ~r;
        }
        if (op2) {
            r++;
        }
    }
    set_zr(c, insn & 31, trunc_sf(r, sf));
}

static uint64_t rev_bytes(uint64_t v, unsigned container, bool sf)
{
    uint64_t r = 0;
    unsigned w = sf ? 64 : 32;

    for (unsigned base = 0; base < w; base += container) {
        for (unsigned b = 0; b < container; b += 8) {
            r |= ((v >> (base + b)) & 0xff) << (base + container - 8 - b);
        }
    }
    return r;
}

static void dp_1src(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31);
    unsigned op = BITS(insn, 10, 6), w = sf ? 64 : 32;
    uint64_t x = trunc_sf(reg_zr(c, BITS(insn, 5, 5)), sf), r = 0;

    if (BIT(insn, 29) || BITS(insn, 16, 5) || op > 5 || (op == 3 && !sf)) {
        arm_undef(c);
        return;
    }
    switch (op) {
    case 0: /* RBIT */
        for (unsigned i = 0; i < w; i++) {
            r |= ((x >> i) & 1) << (w - 1 - i);
        }
        break;
    case 1: r = rev_bytes(x, 16, sf); break;
    case 2: r = rev_bytes(x, 32, sf); break; /* REV32, or REV (W) */
    case 3: r = rev_bytes(x, 64, sf); break;
    case 4: r = x ? (uint64_t)(__builtin_clzll(x) - (64 - w)) : w; break;
    default: /* CLS: leading bits equal to the sign bit, sign excluded */
        r = x ^ (trunc_sf(sf ? (uint64_t)((int64_t)x >> 1) : (uint64_t)((int32_t)x >> 1), sf));
        r = trunc_sf(r, sf);
        r = (r ? (uint64_t)(__builtin_clzll(r) - (64 - w)) : w) - 1;
        break;
    }
    set_zr(c, insn & 31, r);
}

/* CRC32/CRC32C (C6.2): the bit-reflected polynomial division of the Arm
 * pseudocode, one bit at a time over size bytes, no pre/post inversion. */
static uint32_t crc32_update(uint32_t acc, uint64_t val, unsigned bytes, uint32_t poly)
{
    for (unsigned i = 0; i < bytes; i++) {
        acc ^= (uint8_t)(val >> (8 * i));
        for (int b = 0; b < 8; b++) {
            acc = (acc >> 1) ^ (poly & (0u - (acc & 1)));
        }
    }
    return acc;
}

static uint64_t do_div(uint64_t x, uint64_t y, bool sign, bool sf)
{
    if (y == 0) {
        return 0; /* no trap: division by zero gives 0 */
    }
    if (!sign) {
        return x / y;
    }
    if (sf) {
        if ((int64_t)y == -1) {
            return 0 - x; /* INT64_MIN / -1 wraps to INT64_MIN */
        }
        return (uint64_t)((int64_t)x / (int64_t)y);
    }
    if ((int32_t)y == -1) {
        return (uint32_t)(0 - x);
    }
    return (uint32_t)((int32_t)x / (int32_t)y);
}

static void dp_2src(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31);
    unsigned op = BITS(insn, 10, 6), w = sf ? 64 : 32;
    uint64_t x = trunc_sf(reg_zr(c, BITS(insn, 5, 5)), sf);
    uint64_t y = trunc_sf(reg_zr(c, BITS(insn, 16, 5)), sf);
    uint64_t r;

    if (BIT(insn, 29)) {
        arm_undef(c);
        return;
    }
    if (op == 2 || op == 3) {
        r = do_div(x, y, op == 3, sf);
    } else if (op >= 8 && op <= 11) {
        r = shift_reg(x, op - 8, (unsigned)(y % w), sf);
    } else if (op >= 16 && op <= 23) {
        unsigned sz = op & 3;

        if ((sz == 3) != sf) {
            arm_undef(c);
            return;
        }
        r = crc32_update((uint32_t)x, reg_zr(c, BITS(insn, 16, 5)), 1u << sz,
                         (op & 4) ? 0x82f63b78u : 0xedb88320u);
    } else {
        arm_undef(c);
        return;
    }
    set_zr(c, insn & 31, trunc_sf(r, sf));
}

static void dp_3src(arm_cpu *c, uint32_t insn)
{
    bool sf = BIT(insn, 31), sub = BIT(insn, 15);
    unsigned op31 = BITS(insn, 21, 3);
    uint64_t n = reg_zr(c, BITS(insn, 5, 5)), m = reg_zr(c, BITS(insn, 16, 5));
    uint64_t a = reg_zr(c, BITS(insn, 10, 5)), p;

    if (BITS(insn, 29, 2) || (op31 != 0 && !sf)) {
        arm_undef(c);
        return;
    }
    switch (op31) {
    case 0: p = n * m; break;
    case 1: p = (uint64_t)((int64_t)(int32_t)n * (int32_t)m); break;
    case 5: p = (uint64_t)(uint32_t)n * (uint32_t)m; break;
    case 2:
    case 6:
        if (sub) {
            arm_undef(c);
            return;
        }
        if (op31 == 2) {
            p = (uint64_t)(((__int128)(int64_t)n * (int64_t)m) >> 64);
        } else {
            p = (uint64_t)(((unsigned __int128)n * m) >> 64);
        }
        set_zr(c, insn & 31, p);
        return;
    default:
        arm_undef(c);
        return;
    }
    set_zr(c, insn & 31, trunc_sf(sub ? a - p : a + p, sf));
}

/* ADD/SUB(S) (shifted register) specialised by sf:op:S, for the encodings
 * dp_addsub_reg would not reject. */
#define ADDSUB_REG(sf, sub, setf)                                                \
    static void addsub_reg_##sf##sub##setf(arm_cpu *c, uint32_t insn)           \
    {                                                                            \
        uint64_t y = shift_reg(reg_zr(c, BITS(insn, 16, 5)), BITS(insn, 22, 2),  \
                               BITS(insn, 10, 6), sf);                           \
                                                                                 \
        set_zr(c, insn & 31,                                                     \
               add_carry(c, reg_zr(c, BITS(insn, 5, 5)), sub ? ~y : y, sub, sf, setf)); \
    }
ADDSUB_REG(0, 0, 0)
ADDSUB_REG(0, 0, 1)
ADDSUB_REG(0, 1, 0)
ADDSUB_REG(0, 1, 1)
ADDSUB_REG(1, 0, 0)
ADDSUB_REG(1, 0, 1)
ADDSUB_REG(1, 1, 0)
ADDSUB_REG(1, 1, 1)

static a64_fn addsub_reg_decode(uint32_t insn)
{
    static const a64_fn fn[8] = {
        addsub_reg_000, addsub_reg_001, addsub_reg_010, addsub_reg_011,
        addsub_reg_100, addsub_reg_101, addsub_reg_110, addsub_reg_111,
    };

    if (BITS(insn, 22, 2) == 3 || (!BIT(insn, 31) && BITS(insn, 10, 6) >= 32)) {
        return dp_addsub_reg; /* undefined */
    }
    return fn[BITS(insn, 29, 3)];
}

/* AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register) specialised by
 * sf:opc:N; MOV (register) is ORR with XZR. */
#define LOGIC_REG(sf, opc, neg)                                                  \
    static void logic_reg_##sf##opc##neg(arm_cpu *c, uint32_t insn)             \
    {                                                                            \
        uint64_t x = trunc_sf(reg_zr(c, BITS(insn, 5, 5)), sf);                  \
        uint64_t y = shift_reg(reg_zr(c, BITS(insn, 16, 5)), BITS(insn, 22, 2),  \
                               BITS(insn, 10, 6), sf);                           \
        uint64_t r;                                                              \
                                                                                 \
        if (neg) {                                                               \
            y = trunc_sf(~y, sf);                                                \
        }                                                                        \
        r = opc == 1 ? x | y : opc == 2 ? x ^ y : x & y;                         \
        if (opc == 3) {                                                          \
            logic_flags(c, r, sf);                                               \
        }                                                                        \
        set_zr(c, insn & 31, r);                                                 \
    }
#define LOGIC_REG_SF(sf)                                                         \
    LOGIC_REG(sf, 0, 0) LOGIC_REG(sf, 0, 1) LOGIC_REG(sf, 1, 0) LOGIC_REG(sf, 1, 1) \
    LOGIC_REG(sf, 2, 0) LOGIC_REG(sf, 2, 1) LOGIC_REG(sf, 3, 0) LOGIC_REG(sf, 3, 1)
LOGIC_REG_SF(0)
LOGIC_REG_SF(1)

static a64_fn logic_reg_decode(uint32_t insn)
{
    static const a64_fn fn[16] = {
        logic_reg_000, logic_reg_001, logic_reg_010, logic_reg_011,
        logic_reg_020, logic_reg_021, logic_reg_030, logic_reg_031,
        logic_reg_100, logic_reg_101, logic_reg_110, logic_reg_111,
        logic_reg_120, logic_reg_121, logic_reg_130, logic_reg_131,
    };

    if (!BIT(insn, 31) && BITS(insn, 10, 6) >= 32) {
        return dp_logic_reg; /* undefined */
    }
    return fn[BITS(insn, 29, 3) << 1 | BIT(insn, 21)];
}

static a64_fn dp_reg(uint32_t insn)
{
    unsigned op2 = BITS(insn, 21, 4);

    if (!BIT(insn, 28)) {
        if (!(op2 & 8)) {
            return logic_reg_decode(insn);
        }
        return (op2 & 1) ? dp_addsub_ext : addsub_reg_decode(insn);
    }
    if (op2 & 8) {
        return dp_3src;
    } else if (op2 == 0) {
        return dp_adc;
    } else if (op2 == 2) {
        return dp_condcmp;
    } else if (op2 == 4) {
        return dp_condsel;
    } else if (op2 == 6) {
        return BIT(insn, 30) ? dp_1src : dp_2src;
    }
    return a64_undef_insn;
}

/* ---- top level ---- */

/* AdvSIMD load/store multiple/single structures: insn[31] == 0 and
 * insn[29:23] == 0011 0xx (C4.1.4). */
static inline bool is_simd_struct(uint32_t insn)
{
    return (insn & 0xbe000000u) == 0x0c000000u;
}

/* The handler of an instruction word: a pure function of the word, so
 * its result may be cached by address and reused while memory still holds
 * the same word (see arm_run). */
a64_fn a64_decode(uint32_t insn)
{
    unsigned op0 = BITS(insn, 25, 4);

    if ((op0 & 0xe) == 0x8) {
        return dp_imm(insn);
    } else if ((op0 & 0xe) == 0xa) {
        return branches(insn);
    } else if ((op0 & 0x5) == 0x4) {
        return is_simd_struct(insn) ? a64_simd_ldst_struct : a64_ldst_decode(insn);
    } else if ((op0 & 0x7) == 0x5) {
        return dp_reg(insn);
    } else if ((op0 & 0x7) == 0x7) {
        return a64_simd_dp;
    }
    return a64_undef_insn; /* reserved, SME, SVE, unallocated */
}

void a64_execute(arm_cpu *c, uint32_t insn)
{
    a64_decode(insn)(c, insn);
}
