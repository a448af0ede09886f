/*
 * cpu-arm: helpers shared by the SIMD&FP files (a64-fp.c, a64-simd.c,
 * a64-simd-fpvec.c, a64-simd-ldst.c). Private to those files.
 *
 * Vector registers are kept as host little-endian arrays, which is exactly
 * the A64 element numbering (element 0 in the low bits).
 */
#ifndef CPU_ARM_A64_SIMD_H
#define CPU_ARM_A64_SIMD_H

#include "arm.h"

/* FPCR fields (D17.2.43) and FPSR cumulative flags (D17.2.45). */
#define FPCR_AHP (1u << 26)
#define FPCR_DN (1u << 25)
#define FPCR_FZ (1u << 24)
#define FPCR_RMODE_SHIFT 22
#define FPSR_QC (1u << 27)
#define FPSR_IOC (1u << 0)
#define FPSR_DZC (1u << 1)
#define FPSR_OFC (1u << 2)
#define FPSR_UFC (1u << 3)
#define FPSR_IXC (1u << 4)
#define FPSR_IDC (1u << 7)

/* Rounding modes as FPRounding in the Arm ARM pseudocode. */
enum { RND_TIEEVEN = 0, RND_POSINF = 1, RND_NEGINF = 2, RND_ZERO = 3, RND_TIEAWAY = 4,
       RND_ODD = 5 };

/* Binary FP operations of fp_binop. */
enum { FOP_ADD, FOP_SUB, FOP_MUL, FOP_DIV, FOP_MAX, FOP_MIN, FOP_MAXNM, FOP_MINNM,
       FOP_NMUL, FOP_MULX, FOP_ABD, FOP_RECPS, FOP_RSQRTS };

static inline uint64_t elt_get(const vreg *v, unsigned i, unsigned size)
{
    switch (size) {
    case 0:
        return v->b[i];
    case 1:
        return v->h[i];
    case 2:
        return v->s[i];
    default:
        return v->d[i];
    }
}

static inline void elt_set(vreg *v, unsigned i, unsigned size, uint64_t x)
{
    switch (size) {
    case 0:
        v->b[i] = (uint8_t)x;
        break;
    case 1:
        v->h[i] = (uint16_t)x;
        break;
    case 2:
        v->s[i] = (uint32_t)x;
        break;
    default:
        v->d[i] = x;
        break;
    }
}

/* Sign-extend the low 8 << size bits. */
static inline int64_t sext(uint64_t x, unsigned size)
{
    unsigned sh = 64 - (8u << size);
    return (int64_t)(x << sh) >> sh;
}

static inline uint64_t esize_mask(unsigned size)
{
    return size >= 3 ? ~0ull : (1ull << (8u << size)) - 1;
}

static inline void vreg_zero_upper(vreg *v)
{
    v->d[1] = 0;
}

/* a64-fp.c: FP arithmetic on raw bit patterns (dbl: 64-bit else 32-bit).
 * Between fp_begin and fp_end the host rounding mode follows FPCR (or the
 * forced mode) and host exception flags are folded into FPSR at the end. */
void fp_begin(arm_cpu *c);
void fp_end(arm_cpu *c);
uint64_t fp_binop(arm_cpu *c, unsigned op, uint64_t a, uint64_t b, bool dbl);
uint64_t fp_muladd(arm_cpu *c, uint64_t a, uint64_t n, uint64_t m, bool dbl);
uint64_t fp_sqrt(arm_cpu *c, uint64_t a, bool dbl);
/* FPCompare: NZCV in bits 3:0 (unordered 0011); signal_all for FCMPE. */
unsigned fp_compare(arm_cpu *c, uint64_t a, uint64_t b, bool dbl, bool signal_all);
/* FPCompareEQ/GE/GT for the SIMD compares: all-ones or zero. cmp: 0 EQ,
 * 1 GE, 2 GT; absolute compares (FACGE/FACGT) with abs. */
bool fp_cmp_simd(arm_cpu *c, unsigned cmp, uint64_t a, uint64_t b, bool dbl, bool abs);
uint64_t fp_round_int(arm_cpu *c, uint64_t a, bool dbl, unsigned rmode, bool exact);
/* FP to integer with saturation; size 2 (32) or 3 (64); fbits fixed-point. */
uint64_t fp_to_int(arm_cpu *c, uint64_t a, bool dbl, unsigned size, bool is_signed,
                   unsigned fbits, unsigned rmode);
uint64_t int_to_fp(arm_cpu *c, uint64_t x, unsigned size, bool is_signed, unsigned fbits,
                   bool dbl);
/* Precision conversions; sizes 1 (half), 2 (single), 3 (double). */
uint64_t fp_convert(arm_cpu *c, uint64_t a, unsigned from, unsigned to);
unsigned fp_rmode(arm_cpu *c);
void a64_fp_dp(arm_cpu *c, uint32_t insn); /* scalar FP group */

/* a64-simd-fpvec.c: vector and scalar-SIMD floating-point encodings. */
void simd_fp_three_same(arm_cpu *c, uint32_t insn, bool scalar);
bool simd_fp_misc(arm_cpu *c, uint32_t insn, bool scalar); /* false: undef */
void simd_fp_pairwise(arm_cpu *c, uint32_t insn, bool scalar);
void simd_fp_indexed(arm_cpu *c, uint32_t insn, bool scalar);
void simd_fp_across(arm_cpu *c, uint32_t insn);
void simd_fp_shift_conv(arm_cpu *c, uint32_t insn, bool scalar);

void simd_unimp(arm_cpu *c, uint32_t insn);

#endif
