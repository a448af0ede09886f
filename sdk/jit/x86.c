/*
 * tessera JIT: x86-64 instruction encoder. Only what gen.c needs; every
 * function writes one instruction at e->pos.
 */
#include "x86.h"

#include "jit-internal.h"

static void prefix(xemit *e, unsigned opc, int r, int x, int b, bool breg)
{
    unsigned rex = 0;

    if (opc & X_66) {
        x_byte(e, 0x66);
    }
    rex |= (opc & X_W) ? 8 : 0;
    rex |= (r & 8) ? 4 : 0;
    rex |= (x & 8) ? 2 : 0;
    rex |= (b & 8) ? 1 : 0;
    /* spl/bpl/sil/dil exist only with a REX prefix (else ah..bh). */
    if (rex || breg) {
        x_byte(e, 0x40 | rex);
    }
    if (opc & X_0F) {
        x_byte(e, 0x0f);
    }
    x_byte(e, opc & 0xff);
}

void x_op_rr(xemit *e, unsigned opc, int r, int rm)
{
    bool breg = ((opc & X_BREG_R) && r >= 4 && r < 8) ||
                ((opc & X_BREG_M) && rm >= 4 && rm < 8);

    prefix(e, opc, r, 0, rm, breg);
    x_byte(e, 0xc0 | (r & 7) << 3 | (rm & 7));
}

/* [base + index << shift + disp]; index < 0: none. */
void x_op_mem(xemit *e, unsigned opc, int r, int base, int index, int shift, int32_t disp)
{
    bool breg = (opc & X_BREG_R) && r >= 4 && r < 8;
    unsigned mod;

    prefix(e, opc, r, index < 0 ? 0 : index, base, breg);
    /* rbp/r13 as base have no disp-less form; rsp/r12 need a SIB byte. */
    if (disp == 0 && (base & 7) != RBP) {
        mod = 0;
    } else if (disp == (int8_t)disp) {
        mod = 1;
    } else {
        mod = 2;
    }
    if (index < 0 && (base & 7) != RSP) {
        x_byte(e, mod << 6 | (r & 7) << 3 | (base & 7));
    } else {
        x_byte(e, mod << 6 | (r & 7) << 3 | 4);
        x_byte(e, shift << 6 | ((index < 0 ? RSP : index) & 7) << 3 | (base & 7));
    }
    if (mod == 1) {
        x_byte(e, disp);
    } else if (mod == 2) {
        x_u32(e, disp);
    }
}

void x_mov_rr(xemit *e, bool w, int d, int s)
{
    x_op_rr(e, 0x8b | (w ? X_W : 0), d, s);
}

/* The shortest mov of v into d; flags untouched. */
void x_mov_ri(xemit *e, int d, uint64_t v)
{
    if (v == (uint32_t)v) {
        prefix(e, 0xb8 + (d & 7), 0, 0, d, false);
        x_u32(e, v);
    } else if (x_is_imm32(v)) {
        x_op_rr(e, 0xc7 | X_W, 0, d);
        x_u32(e, v);
    } else {
        prefix(e, (0xb8 + (d & 7)) | X_W, 0, 0, d, false);
        x_u32(e, v);
        x_u32(e, v >> 32);
    }
}

void x_alu_rr(xemit *e, bool w, int alu, int d, int s)
{
    x_op_rr(e, (0x01 + alu * 8) | (w ? X_W : 0), s, d);
}

/* imm must fit the sign-extended imm32 (any 32-bit value when !w). */
void x_alu_ri(xemit *e, bool w, int alu, int d, int64_t imm)
{
    if (imm == (int8_t)imm) {
        x_op_rr(e, 0x83 | (w ? X_W : 0), alu, d);
        x_byte(e, imm);
    } else {
        x_op_rr(e, 0x81 | (w ? X_W : 0), alu, d);
        x_u32(e, imm);
    }
}

void x_alu_mi(xemit *e, bool w, int alu, int base, int32_t disp, int32_t imm)
{
    if (imm == (int8_t)imm) {
        x_op_mem(e, 0x83 | (w ? X_W : 0), alu, base, -1, 0, disp);
        x_byte(e, imm);
    } else {
        x_op_mem(e, 0x81 | (w ? X_W : 0), alu, base, -1, 0, disp);
        x_u32(e, imm);
    }
}

void x_shift_ri(xemit *e, bool w, int sh, int d, unsigned n)
{
    if (n == 1) {
        x_op_rr(e, 0xd1 | (w ? X_W : 0), sh, d);
    } else {
        x_op_rr(e, 0xc1 | (w ? X_W : 0), sh, d);
        x_byte(e, n);
    }
}

void x_shift_rcl(xemit *e, bool w, int sh, int d)
{
    x_op_rr(e, 0xd3 | (w ? X_W : 0), sh, d);
}

/* Group 3: 2 not, 3 neg, 4 mul, 5 imul (rdx:rax forms). */
void x_grp3(xemit *e, bool w, int ext, int r)
{
    x_op_rr(e, 0xf7 | (w ? X_W : 0), ext, r);
}

/* Load of memop size with zero or sign extension to 64 bits. */
void x_ld(xemit *e, unsigned memop, int d, int base, int index, int32_t disp)
{
    bool sign = memop & TES_JIT_MO_SIGN;
    unsigned opc;

    switch (memop & TES_JIT_MO_SIZE) {
    case TES_JIT_MO_8:
        opc = sign ? (0xbe | X_0F | X_W) : (0xb6 | X_0F);
        break;
    case TES_JIT_MO_16:
        opc = sign ? (0xbf | X_0F | X_W) : (0xb7 | X_0F);
        break;
    case TES_JIT_MO_32:
        opc = sign ? (0x63 | X_W) : 0x8b;
        break;
    default:
        opc = 0x8b | X_W;
        break;
    }
    x_op_mem(e, opc, d, base, index, 0, disp);
}

void x_st(xemit *e, unsigned size, int s, int base, int index, int32_t disp)
{
    static const unsigned opc[4] = { 0x88 | X_BREG_R, 0x89 | X_66, 0x89, 0x89 | X_W };

    x_op_mem(e, opc[size & 3], s, base, index, 0, disp);
}

void x_ld64(xemit *e, int d, int base, int32_t disp)
{
    x_op_mem(e, 0x8b | X_W, d, base, -1, 0, disp);
}

void x_st64(xemit *e, int s, int base, int32_t disp)
{
    x_op_mem(e, 0x89 | X_W, s, base, -1, 0, disp);
}

void x_setcc(xemit *e, int cc, int d)
{
    x_op_rr(e, (0x90 + cc) | X_0F | X_BREG_M, 0, d);
}

void x_movzx8(xemit *e, int d, int s)
{
    x_op_rr(e, 0xb6 | X_0F | X_BREG_M, d, s);
}

/* jcc/jmp rel32 with the target to be patched: returns the rel32's offset. */
uint32_t x_jcc(xemit *e, int cc)
{
    x_byte(e, 0x0f);
    x_byte(e, 0x80 + cc);
    x_u32(e, 0);
    return e->pos - 4;
}

uint32_t x_jmp(xemit *e)
{
    x_byte(e, 0xe9);
    x_u32(e, 0);
    return e->pos - 4;
}

void x_patch_rel32(xemit *e, uint32_t at, uint32_t target)
{
    uint32_t rel = target - (at + 4);

    if (at + 4 <= e->max) {
        memcpy(e->rw + at, &rel, 4);
    }
}

/* jmp (cc < 0) or jcc to an address outside the block (buffer head). */
void x_jmp_abs(xemit *e, int cc, const uint8_t *target)
{
    uint32_t at = cc < 0 ? x_jmp(e) : x_jcc(e, cc);
    int32_t rel = (int32_t)(target - (e->rx + at + 4));

    if (at + 4 <= e->max) {
        memcpy(e->rw + at, &rel, 4);
    }
}

void x_nops(xemit *e, unsigned n)
{
    /* Multi-byte nops (SDM "Recommended multi-byte sequence of NOP"). */
    static const uint8_t seq[4][4] = {
        { 0x90 }, { 0x66, 0x90 }, { 0x0f, 0x1f, 0x00 }, { 0x0f, 0x1f, 0x40, 0x00 },
    };

    while (n) {
        unsigned k = n > 4 ? 4 : n;

        for (unsigned i = 0; i < k; i++) {
            x_byte(e, seq[k - 1][i]);
        }
        n -= k;
    }
}

void x_bswap(xemit *e, bool w, int r)
{
    if (w || r >= R8) {
        x_byte(e, 0x40 | (w ? 8 : 0) | (r >= R8 ? 1 : 0));
    }
    x_byte(e, 0x0f);
    x_byte(e, 0xc8 + (r & 7));
}

/* mov [base + disp], imm of 1 << size bytes (64: imm sign-extended). */
void x_st_imm(xemit *e, unsigned size, int base, int32_t disp, int64_t imm)
{
    static const unsigned opc[4] = { 0xc6, 0xc7 | X_66, 0xc7, 0xc7 | X_W };

    x_op_mem(e, opc[size & 3], 0, base, -1, 0, disp);
    switch (size & 3) {
    case 0:
        x_byte(e, imm);
        break;
    case 1:
        x_byte(e, imm);
        x_byte(e, imm >> 8);
        break;
    default:
        x_u32(e, imm);
        break;
    }
}
