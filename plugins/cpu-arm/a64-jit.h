/*
 * cpu-arm: what the A64 translator's files share (translate.c: the loop;
 * a64-jit.c: data processing, branches, the block and the fallback;
 * a64-jit-ldst.c: loads and stores). Internal to the plugin.
 */
#ifndef CPU_ARM_A64_JIT_H
#define CPU_ARM_A64_JIT_H

#include <stddef.h>
#include <tessera/jit.h>

#include "arm.h"

/* A block's length cap, in instructions (it also ends at its page's end). */
#define TB_MAX_INSNS 64

/* Block key flags (tes_jit_key.flags): what changes translation besides
 * the code bytes. Bit 0: the EL (which TLB arrays accesses use). */
#define TB_EL 1u
#define TB_SP_EL1 (1u << 1) /* SP is SP_EL1 (EL1 with SPSel = 1), else SP_EL0 */
#define TB_ALIGN (1u << 2)  /* SCTLR_EL1.A: every access must be aligned */
#define TB_FP (1u << 3)     /* CPACR_EL1.FPEN lets this EL use SIMD&FP */

/* The instruction being translated. */
typedef struct a64_dc {
    tes_jit_ir *ir;
    uint64_t pc;
    uint32_t insn;
    unsigned el;
    uint32_t sp_off;   /* env offset of the SP register in use */
    bool align;        /* TB_ALIGN */
    bool fp;           /* TB_FP */
    uint64_t flags;    /* the block's key flags */
    bool end;          /* the instruction ended the block (emitted its exits) */
    tes_jit_val env;
} a64_dc;

#define JBIT(x, n) (((x) >> (n)) & 1u)
#define JBITS(x, lo, n) (((x) >> (lo)) & ((1u << (n)) - 1u))

/* translate.c */
uint64_t arm_tb_flags(arm_cpu *c);
bool arm_tb_key(arm_cpu *c, tes_jit_key *k);
uint64_t arm_jit_lookup(arm_cpu *c, uint64_t pc, uint64_t flags);

/* a64-jit.c: translate the block of key k into ir; returns its
 * instruction count (0: nothing could be translated). */
unsigned a64_jit_block(arm_cpu *c, tes_jit_ir *ir, const tes_jit_key *k);

/* Values and registers (a64-jit.c). n == 31 is XZR (zr) or SP (sp). */
tes_jit_val a64_jit_reg_zr(a64_dc *s, unsigned n);
tes_jit_val a64_jit_reg_sp(a64_dc *s, unsigned n);
void a64_jit_set_zr(a64_dc *s, unsigned n, tes_jit_val v);
void a64_jit_set_sp(a64_dc *s, unsigned n, tes_jit_val v);

/* a64-jit-ldst.c: true when the load/store was translated inline. */
bool a64_jit_ldst(a64_dc *s);
/* Half h (0: bits 63:0) of SIMD&FP register n, a global. */
tes_jit_val a64_jit_vreg(a64_dc *s, unsigned n, unsigned h);

/* a64-jit-simd.c: the few SIMD&FP data-processing forms libc's string
 * functions run most (FMOV, DUP, MOVI, CMEQ); true when translated. */
bool a64_jit_simd(a64_dc *s);

#endif
