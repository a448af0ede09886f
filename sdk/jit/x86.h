/*
 * tessera JIT: x86-64 instruction encoder (the subset the code generator
 * uses). Intel SDM vol. 2, chapter 2 (REX, ModRM, SIB) and the opcode
 * tables of appendix A.
 */
#ifndef TESSERA_JIT_X86_H
#define TESSERA_JIT_X86_H

#include "namespace.h"

#include <stdbool.h>
#include <stdint.h>

enum {
    RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
    R8, R9, R10, R11, R12, R13, R14, R15,
};

/* x86 condition codes (the low nibble of jcc/setcc/cmovcc). */
enum {
    CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A,
    CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G,
};

/* ALU group 1 (the /digit of 0x81, and opcode base / 8). */
enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };
/* Shift group 2. */
enum { SH_ROL = 0, SH_ROR = 1, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

/* Opcode flags, or-ed with the opcode byte. */
#define X_0F 0x100     /* 0x0f escape */
#define X_66 0x200     /* operand-size prefix */
#define X_W 0x400      /* REX.W */
#define X_BREG_R 0x800 /* the ModRM reg field is a byte register */
#define X_BREG_M 0x1000 /* the ModRM rm field is a byte register */

typedef struct xemit {
    uint8_t *rw;      /* where the bytes go */
    const uint8_t *rx; /* where they run */
    uint32_t pos, max;
    bool overflow;
} xemit;

static inline void x_byte(xemit *e, unsigned b)
{
    if (e->pos < e->max) {
        e->rw[e->pos] = (uint8_t)b;
    } else {
        e->overflow = true;
    }
    e->pos++;
}

static inline void x_u32(xemit *e, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        x_byte(e, v >> (8 * i));
    }
}

static inline bool x_is_imm32(int64_t v)
{
    return v == (int32_t)v;
}

void x_op_rr(xemit *e, unsigned opc, int r, int rm);
void x_op_mem(xemit *e, unsigned opc, int r, int base, int index, int shift, int32_t disp);

void x_mov_rr(xemit *e, bool w, int d, int s);
void x_mov_ri(xemit *e, int d, uint64_t v);
void x_alu_rr(xemit *e, bool w, int alu, int d, int s);
void x_alu_ri(xemit *e, bool w, int alu, int d, int64_t imm);
void x_alu_mi(xemit *e, bool w, int alu, int base, int32_t disp, int32_t imm);
void x_shift_ri(xemit *e, bool w, int sh, int d, unsigned n);
void x_shift_rcl(xemit *e, bool w, int sh, int d);
void x_grp3(xemit *e, bool w, int ext, int r);
void x_ld(xemit *e, unsigned memop, int d, int base, int index, int32_t disp);
void x_st(xemit *e, unsigned size, int s, int base, int index, int32_t disp);
void x_ld64(xemit *e, int d, int base, int32_t disp);
void x_st64(xemit *e, int s, int base, int32_t disp);
void x_st_imm(xemit *e, unsigned size, int base, int32_t disp, int64_t imm);
void x_setcc(xemit *e, int cc, int d);
void x_movzx8(xemit *e, int d, int s);
uint32_t x_jcc(xemit *e, int cc);
uint32_t x_jmp(xemit *e);
void x_patch_rel32(xemit *e, uint32_t at, uint32_t target);
void x_jmp_abs(xemit *e, int cc, const uint8_t *target);
void x_nops(xemit *e, unsigned n);
void x_bswap(xemit *e, bool w, int r);

#endif
