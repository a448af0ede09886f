/*
 * cpu-x86: the translator against the interpreter. Thousands of random
 * sequences of valid integer, flag, load/store and branch instructions
 * (encoded here, no assembler) run from random registers and flags, once
 * interpreted and once translated; registers, RFLAGS, rip and the scratch
 * memory must come out the same.
 *
 * A sequence is a loop run three times (r14 counts, so chaining and the
 * jump cache are exercised) around random instructions: ALU in every
 * size and form (ADC/SBB too), TEST, INC/DEC, NOT/NEG, MUL/IMUL, shifts
 * and rotates, MOV forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG, CBW/CWD, CMOVcc,
 * SETcc, flag instructions, PUSH/POP, forward Jcc/JMP, CALL/RET, and SSE2
 * moves, logic, PCMPEQx, PMOVMSKB, PSHUFD (XMM registers compared). Memory
 * operands are [r15 + disp8], [rsp + disp8] or RIP-relative, all inside
 * the scratch buffer (r15 and rsp are never written at random). The
 * sequence ends with UD2: the #UD handler's HLT stops both runs.
 *
 * $X86_JIT_SEED and $X86_JIT_COUNT change the seed and the count; a
 * mismatch prints the code bytes (objdump -D -b binary -m i386:x86-64).
 */
#include "snippet-x86.h"

#include <stdio.h>
#include <stdlib.h>

#define CODE_MAX 16384
#define BODY_MAX 40

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

static unsigned pick(rng *r, unsigned n)
{
    return (unsigned)(rnd(r) % n);
}

typedef struct code {
    uint8_t b[CODE_MAX];
    unsigned n;
} code;

static void put(code *k, unsigned byte)
{
    g_assert_cmpuint(k->n, <, CODE_MAX);
    k->b[k->n++] = (uint8_t)byte;
}

static void put_le(code *k, uint64_t v, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        put(k, (unsigned)(v >> (8 * i)) & 0xff);
    }
}

/* Registers random instructions may write: not rsp, r14 (loop), r15. */
static int dst_reg(rng *r)
{
    static const int ok[] = {0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13};

    return ok[pick(r, G_N_ELEMENTS(ok))];
}

static int src_reg(rng *r)
{
    int v = (int)pick(r, 16);

    return v == R_ESP ? R_EBP : v; /* SPL as a byte source needs care: skip rsp */
}

/* The r/m operand. */
enum { M_REG, M_R15, M_RSP, M_RIP, M_SIB };
typedef struct rm_op {
    int kind;
    int reg;      /* M_REG; M_SIB: the index */
    int32_t disp;
    unsigned scale;
} rm_op;

static rm_op rm_reg(int reg)
{
    rm_op m = {M_REG, reg, 0, 0};

    return m;
}

static rm_op rm_mem(rng *r, bool lea)
{
    rm_op m = {M_R15 + (int)pick(r, lea ? 4 : 3), 0, 0, 0};

    switch (m.kind) {
    case M_R15:
        m.disp = (int32_t)pick(r, 240) - 128;
        break;
    case M_RSP:
        m.disp = 8 + (int32_t)pick(r, 112); /* above a CALL's return address */
        break;
    case M_RIP:
        m.disp = (int32_t)(256 + pick(r, 2048)); /* offset in the scratch buffer */
        break;
    default:
        m.reg = (int)pick(r, 16);
        m.reg = m.reg == R_ESP ? R_EAX : m.reg;
        m.scale = pick(r, 4);
        m.disp = (int32_t)(rnd(r) & 0xffff) - 0x8000;
        break;
    }
    return m;
}

/* One instruction: [66] [REX] opcode ModRM [SIB] [disp] [imm]. reg is the
 * ModRM reg field (0..15); size 1 uses the byte-register encodings. */
static void insn(code *k, unsigned size, const uint8_t *op, unsigned oplen, int reg,
                 const rm_op *m, unsigned immlen, uint64_t imm, bool force_rex)
{
    unsigned rex = 0, disp_at = 0;
    int rm = m->kind == M_REG ? m->reg : m->kind == M_R15 ? R_R15 : R_ESP;

    if (size == 2) {
        put(k, 0x66);
    }
    rex |= size == 8 ? 8 : 0;
    rex |= (reg & 8) ? 4 : 0;
    rex |= ((rm & 8) && m->kind != M_RIP) || m->kind == M_SIB ? 1 : 0;
    rex |= m->kind == M_SIB && (m->reg & 8) ? 2 : 0;
    if (rex || force_rex) {
        put(k, 0x40 | rex);
    }
    for (unsigned i = 0; i < oplen; i++) {
        put(k, op[i]);
    }
    switch (m->kind) {
    case M_REG:
        put(k, 0xc0 | (reg & 7) << 3 | (m->reg & 7));
        break;
    case M_R15:
        put(k, 0x40 | (reg & 7) << 3 | 7);
        put(k, (unsigned)m->disp & 0xff);
        break;
    case M_RSP:
        put(k, 0x44 | (reg & 7) << 3);
        put(k, 0x24);
        put(k, (unsigned)m->disp & 0xff);
        break;
    case M_RIP:
        put(k, 0x05 | (reg & 7) << 3);
        disp_at = k->n;
        put_le(k, 0, 4);
        break;
    default: /* [r15 + index * scale + disp32] */
        put(k, 0x84 | (reg & 7) << 3);
        put(k, m->scale << 6 | (m->reg & 7) << 3 | 7);
        put_le(k, (uint32_t)m->disp, 4);
        break;
    }
    put_le(k, imm, immlen);
    if (disp_at) {
        uint64_t next = SNIPPET_CODE_ADDR + k->n;
        int64_t rel = (int64_t)(SNIPPET_SCRATCH_ADDR + (uint64_t)m->disp) - (int64_t)next;

        memcpy(k->b + disp_at, &(int32_t){(int32_t)rel}, 4);
    }
}

static unsigned pick_size(rng *r)
{
    static const unsigned sizes[] = {1, 2, 4, 8, 4, 8};

    return sizes[pick(r, G_N_ELEMENTS(sizes))];
}

/* A destination r/m: a writable register or memory. */
static rm_op dst_rm(rng *r)
{
    return pick(r, 3) ? rm_reg(dst_reg(r)) : rm_mem(r, false);
}

static rm_op src_rm(rng *r)
{
    return pick(r, 3) ? rm_reg(src_reg(r)) : rm_mem(r, false);
}

static unsigned imm_len(unsigned size)
{
    return size == 1 ? 1 : size == 2 ? 2 : 4;
}

static void gen_alu(rng *r, code *k)
{
    unsigned size = pick_size(r), row = pick(r, 8), form = pick(r, 4);
    bool rex = pick(r, 4) == 0;
    uint8_t op;
    rm_op m;

    switch (pick(r, 3)) {
    case 0: /* op E,G / G,E */
        op = (uint8_t)(row << 3 | (form & 2) | (size > 1));
        m = (form & 2) ? src_rm(r) : dst_rm(r);
        insn(k, size, &op, 1, (form & 2) ? dst_reg(r) : src_reg(r), &m, 0, 0, rex);
        break;
    case 1: /* group 1: 80 81 83 */
        op = size == 1 ? 0x80 : pick(r, 2) ? 0x81 : 0x83;
        m = row == 7 ? src_rm(r) : dst_rm(r);
        insn(k, size, &op, 1, (int)row, &m, op == 0x81 ? imm_len(size) : 1, rnd(r), rex);
        break;
    default: /* AL/eAX, imm */
        op = (uint8_t)(row << 3 | 4 | (size > 1));
        if (size == 2) {
            put(k, 0x66);
        } else if (size == 8) {
            put(k, 0x48);
        }
        put(k, op);
        put_le(k, rnd(r), imm_len(size));
        break;
    }
}

static void gen_unary(rng *r, code *k)
{
    unsigned size = pick_size(r), kind = pick(r, 4);
    uint8_t op;
    rm_op m = dst_rm(r);

    switch (kind) {
    case 0: /* INC DEC */
        op = size == 1 ? 0xfe : 0xff;
        insn(k, size, &op, 1, (int)pick(r, 2), &m, 0, 0, false);
        break;
    case 1: /* TEST NOT NEG */
        op = size == 1 ? 0xf6 : 0xf7;
        {
            int sub = (int)pick(r, 4);

            sub = sub == 1 ? 0 : sub;
            insn(k, size, &op, 1, sub, &m, sub == 0 ? imm_len(size) : 0, rnd(r), false);
        }
        break;
    case 2: /* MUL IMUL DIV IDIV (rAX, rDX; a division may raise #DE) */
        op = size == 1 ? 0xf6 : 0xf7;
        m = src_rm(r);
        insn(k, size, &op, 1, 4 + (int)pick(r, pick(r, 8) ? 2 : 4), &m, 0, 0, false);
        break;
    default: /* TEST E,G */
        op = size == 1 ? 0x84 : 0x85;
        m = src_rm(r);
        insn(k, size, &op, 1, src_reg(r), &m, 0, 0, false);
        break;
    }
}

static void gen_shift(rng *r, code *k)
{
    unsigned size = pick_size(r), form = pick(r, 3);
    static const uint8_t ops[3][2] = {{0xc0, 0xc1}, {0xd0, 0xd1}, {0xd2, 0xd3}};
    uint8_t op = ops[form][size > 1];
    rm_op m = dst_rm(r);
    unsigned count = pick(r, 4) ? pick(r, 9) : pick(r, 70);

    insn(k, size, &op, 1, (int)pick(r, 8), &m, form == 0 ? 1 : 0, count, false);
}

static void gen_mov(rng *r, code *k)
{
    unsigned size = pick_size(r);
    uint8_t op[2];
    rm_op m;
    int reg;

    switch (pick(r, 6)) {
    case 0: case 1: /* 88-8B */
        op[0] = (uint8_t)(0x88 | (size > 1));
        if (pick(r, 2)) {
            m = dst_rm(r);
            insn(k, size, op, 1, src_reg(r), &m, 0, 0, pick(r, 4) == 0);
        } else {
            op[0] |= 2;
            m = src_rm(r);
            insn(k, size, op, 1, dst_reg(r), &m, 0, 0, pick(r, 4) == 0);
        }
        break;
    case 2: /* C6 C7 */
        op[0] = size == 1 ? 0xc6 : 0xc7;
        m = dst_rm(r);
        insn(k, size, op, 1, 0, &m, imm_len(size), rnd(r), false);
        break;
    case 3: /* B0-BF */
        reg = dst_reg(r);
        if (size == 2) {
            put(k, 0x66);
        }
        if (size == 8 || reg >= 8) {
            put(k, 0x40 | (size == 8 ? 8 : 0) | (reg >= 8 ? 1 : 0));
        }
        put(k, (size == 1 ? 0xb0 : 0xb8) | (reg & 7));
        put_le(k, rnd(r), size);
        break;
    case 4: /* MOVZX MOVSX */
        op[0] = 0x0f;
        op[1] = (uint8_t)((pick(r, 2) ? 0xb6 : 0xbe) | pick(r, 2));
        m = src_rm(r);
        insn(k, size == 1 ? 4 : size, op, 2, dst_reg(r), &m, 0, 0, false);
        break;
    default: /* MOVSXD, LEA */
        op[0] = pick(r, 2) ? 0x63 : 0x8d;
        m = op[0] == 0x63 ? src_rm(r) : rm_mem(r, true);
        insn(k, size == 1 ? 8 : size, op, 1, dst_reg(r), &m, 0, 0, false);
        break;
    }
}

static void gen_misc(rng *r, code *k)
{
    unsigned size = pick_size(r);
    uint8_t op[2];
    rm_op m;

    switch (pick(r, 14)) {
    case 13: /* SHLD SHRD Ev, Gv, Ib / CL */
        op[0] = 0x0f;
        op[1] = (uint8_t)(0xa4 | pick(r, 2) << 3 | pick(r, 2));
        m = pick(r, 4) ? rm_reg(dst_reg(r)) : dst_rm(r);
        insn(k, size == 1 ? 8 : size, op, 2, src_reg(r), &m, (op[1] & 1) ? 0 : 1, rnd(r),
             false);
        break;
    case 8: /* BSF BSR */
        op[0] = 0x0f;
        op[1] = (uint8_t)(0xbc | pick(r, 2));
        m = src_rm(r);
        insn(k, size == 1 ? 4 : size, op, 2, dst_reg(r), &m, 0, 0, false);
        break;
    case 9: /* BT BTS BTR BTC Ev, Ib */
        op[0] = 0x0f;
        op[1] = 0xba;
        m = dst_rm(r);
        insn(k, size == 1 ? 4 : size, op, 2, 4 + (int)pick(r, 4), &m, 1, rnd(r), false);
        break;
    case 10: /* BT BTS BTR BTC Ev, Gv on registers */
        op[0] = 0x0f;
        op[1] = (uint8_t)(0xa3 | pick(r, 4) << 3);
        m = rm_reg(dst_reg(r));
        insn(k, size == 1 ? 8 : size, op, 2, src_reg(r), &m, 0, 0, false);
        break;
    case 11: /* CMPXCHG */
        op[0] = 0x0f;
        op[1] = (uint8_t)(0xb0 | (size > 1));
        m = dst_rm(r);
        insn(k, size, op, 2, src_reg(r), &m, 0, 0, pick(r, 2));
        break;
    case 0: /* XCHG E,G */
        op[0] = (uint8_t)(0x86 | (size > 1));
        m = dst_rm(r);
        insn(k, size, op, 1, dst_reg(r), &m, 0, 0, false);
        break;
    case 1: /* CBW/CWDE/CDQE, CWD/CDQ/CQO */
        size = size == 1 ? 4 : size;
        put(k, size == 2 ? 0x66 : size == 8 ? 0x48 : 0x90);
        put(k, 0x98 | pick(r, 2));
        break;
    case 2: /* CMOVcc */
        op[0] = 0x0f;
        op[1] = (uint8_t)(0x40 | pick(r, 16));
        m = src_rm(r);
        insn(k, size == 1 ? 8 : size, op, 2, dst_reg(r), &m, 0, 0, false);
        break;
    case 3: /* SETcc */
        op[0] = 0x0f;
        op[1] = (uint8_t)(0x90 | pick(r, 16));
        m = dst_rm(r);
        insn(k, 1, op, 2, 0, &m, 0, 0, pick(r, 2));
        break;
    case 4: /* IMUL G,E / G,E,imm */
        m = src_rm(r);
        size = size == 1 ? 4 : size;
        if (pick(r, 2)) {
            op[0] = 0x0f;
            op[1] = 0xaf;
            insn(k, size, op, 2, dst_reg(r), &m, 0, 0, false);
        } else {
            op[0] = pick(r, 2) ? 0x69 : 0x6b;
            insn(k, size, op, 1, dst_reg(r), &m, op[0] == 0x69 ? imm_len(size) : 1, rnd(r),
                 false);
        }
        break;
    case 5: /* CLC STC CMC */
        put(k, (unsigned[]){0xf8, 0xf9, 0xf5}[pick(r, 3)]);
        break;
    case 6: /* LAHF, SAHF */
        put(k, 0x9e | pick(r, 2));
        break;
    case 12: { /* BSWAP */
        int reg = dst_reg(r);

        size = size == 1 ? 4 : size;
        if (size == 2) {
            put(k, 0x66);
        }
        if (size == 8 || reg >= 8) {
            put(k, 0x40 | (size == 8 ? 8 : 0) | (reg >= 8 ? 1 : 0));
        }
        put(k, 0x0f);
        put(k, 0xc8 | (reg & 7));
        break;
    }
    default: { /* XCHG eAX, r */
        int reg = dst_reg(r);

        if (size == 2) {
            put(k, 0x66);
        }
        if (size == 8 || reg >= 8) {
            put(k, 0x40 | (size == 8 ? 8 : 0) | (reg >= 8 ? 1 : 0));
        }
        put(k, 0x90 | (reg & 7));
        break;
    }
    }
}

/* SSE2 moves and integer logic (xmm0-15 are random at the start). */
static void gen_sse(rng *r, code *k)
{
    static const uint8_t logic[] = {0xef, 0xeb, 0xdb, 0xdf, 0x74, 0x75, 0x76};
    uint8_t op[2] = {0x0f, 0};
    int reg = (int)pick(r, 16), pfx = 0, size = 4;
    rm_op m = pick(r, 2) ? rm_reg((int)pick(r, 16)) : rm_mem(r, false);
    bool aligned = false;
    unsigned immlen = 0;

    switch (pick(r, 8)) {
    case 0: /* MOVAPS/MOVAPD, MOVDQA */
        op[1] = pick(r, 2) ? (uint8_t)(0x28 | pick(r, 2)) : (uint8_t)(0x6f | (pick(r, 2) << 4));
        pfx = op[1] < 0x30 ? (pick(r, 2) ? 0x66 : 0) : 0x66;
        aligned = true;
        break;
    case 1: /* MOVUPS/MOVUPD, MOVDQU, MOVSS, MOVSD */
        op[1] = pick(r, 2) ? (uint8_t)(0x10 | pick(r, 2)) : (uint8_t)(0x6f | (pick(r, 2) << 4));
        pfx = op[1] < 0x20 ? (int)(unsigned[]){0, 0x66, 0xf3, 0xf2}[pick(r, 4)] : 0xf3;
        break;
    case 2: /* MOVD/MOVQ xmm <-> r/m, MOVQ xmm, xmm/m64 */
        op[1] = pick(r, 2) ? 0x6e : 0x7e;
        pfx = op[1] == 0x7e && pick(r, 3) == 0 ? 0xf3 : 0x66;
        size = pfx == 0x66 && pick(r, 2) ? 8 : 4;
        if (op[1] == 0x7e && pfx == 0x66 && m.kind == M_REG) {
            m.reg = dst_reg(r);
        }
        break;
    case 3: case 4: /* logic, PCMPEQx */
        op[1] = logic[pick(r, G_N_ELEMENTS(logic))];
        pfx = 0x66;
        aligned = true;
        break;
    case 5: /* PMOVMSKB */
        op[1] = 0xd7;
        pfx = 0x66;
        m = rm_reg((int)pick(r, 16));
        reg = dst_reg(r);
        break;
    case 6: /* PSHUFD */
        op[1] = 0x70;
        pfx = 0x66;
        aligned = true;
        immlen = 1;
        break;
    default: /* PUNPCKLBW..: the fallback between inline ones */
        op[1] = (uint8_t)(0x60 + pick(r, 3));
        pfx = 0x66;
        aligned = true;
        break;
    }
    if (m.kind != M_REG && aligned && pick(r, 16)) {
        m.kind = M_R15; /* r15 is 16-byte aligned: keep the access aligned */
        m.disp &= ~15;
    }
    if (pfx) {
        put(k, (unsigned)pfx);
    }
    insn(k, size, op, 2, reg, &m, immlen, rnd(r), false);
}

/* Non-branching instruction of any kind but the stack. */
static void gen_plain(rng *r, code *k)
{
    switch (pick(r, 7)) {
    case 6: gen_sse(r, k); break;
    case 0: case 1: gen_alu(r, k); break;
    case 2: gen_unary(r, k); break;
    case 3: gen_shift(r, k); break;
    case 4: gen_mov(r, k); break;
    default: gen_misc(r, k); break;
    }
}

/* PUSH/POP within a depth of 8 per pass (rsp stays in the scratch). */
static void gen_stack(rng *r, code *k, int *depth)
{
    int reg = dst_reg(r);

    if (*depth > 0 && pick(r, 2)) {
        if (reg >= 8) {
            put(k, 0x41);
        }
        put(k, 0x58 | (reg & 7));
        (*depth)--;
        return;
    }
    if (*depth >= 8) {
        return;
    }
    switch (pick(r, 3)) {
    case 0:
        reg = (int)pick(r, 16);
        if (reg >= 8) {
            put(k, 0x41);
        }
        put(k, 0x50 | (reg & 7));
        break;
    case 1:
        put(k, 0x6a);
        put(k, pick(r, 256));
        break;
    default:
        put(k, 0x9c); /* PUSHF */
        break;
    }
    (*depth)++;
}

/* CALL over a JMP into a small function that returns to the JMP. */
static void gen_call(rng *r, code *k)
{
    unsigned jmp_at, body;

    put(k, 0xe8);
    put_le(k, 2, 4);
    jmp_at = k->n;
    put(k, 0xeb);
    put(k, 0);
    body = k->n;
    for (unsigned i = pick(r, 4); i > 0; i--) {
        gen_plain(r, k);
    }
    put(k, 0xc3);
    k->b[jmp_at + 1] = (uint8_t)(k->n - body);
}

/* The body: random instructions; forward branches get patched to land
 * on instruction starts. */
static void gen_body(rng *r, code *k, int *depth)
{
    unsigned starts[BODY_MAX + 1], br_at[BODY_MAX], br_to[BODY_MAX], nbr = 0;
    unsigned n = 4 + pick(r, BODY_MAX - 4);

    for (unsigned i = 0; i < n; i++) {
        unsigned w = pick(r, 20);

        starts[i] = k->n;
        if (w < 2 && i + 1 < n) {
            put(k, w == 0 ? 0x70 | pick(r, 16) : 0xeb);
            put(k, 0);
            br_at[nbr] = k->n - 2;
            br_to[nbr++] = i + 1 + pick(r, n - i - 1 < 5 ? n - i - 1 : 5) + 1;
        } else if (w < 4) {
            gen_stack(r, k, depth);
        } else if (w == 4) {
            gen_call(r, k);
        } else {
            gen_plain(r, k);
        }
    }
    starts[n] = k->n;
    for (unsigned i = 0; i < nbr; i++) {
        unsigned to = br_to[i] > n ? n : br_to[i];
        int rel = (int)starts[to] - (int)(br_at[i] + 2);

        k->b[br_at[i] + 1] = (uint8_t)(rel > 127 ? 0 : rel);
    }
}

/* mov r14d, 3; L: body; dec r14d; jnz L; ud2 */
static void gen_sequence(rng *r, code *k)
{
    unsigned loop;
    int depth = 0;

    k->n = 0;
    put(k, 0x41);
    put(k, 0xbe);
    put_le(k, 3, 4);
    loop = k->n;
    gen_body(r, k, &depth);
    put(k, 0x41);
    put(k, 0xff);
    put(k, 0xce);
    put(k, 0x0f);
    put(k, 0x85);
    put_le(k, (uint32_t)((int)loop - (int)(k->n + 4)), 4);
    put(k, 0x0f);
    put(k, 0x0b);
}

/* ---- running ---- */

typedef struct result {
    uint64_t regs[16], rip, flags;
    xmm_reg xmm[16];
    uint8_t scratch[SNIPPET_SCRATCH_SIZE];
} result;

typedef struct start {
    uint64_t regs[16], flags;
    xmm_reg xmm[16];
    int cpl;
} start;

static tes_harness *h;
static tes_cpu *cpu;
static x86_cpu *c;

static void run(const code *k, const start *s, bool jit, result *out)
{
    uint8_t *ram = tes_harness_ram(h);
    unsigned i;

    snippet_enter_long_mode(h, c, s->cpl);
    c->jit = jit;
    memcpy(c->regs, s->regs, sizeof(c->regs));
    memcpy(c->xmm, s->xmm, sizeof(c->xmm));
    x86_set_flags(c, s->flags);
    for (i = 0; i < SNIPPET_SCRATCH_SIZE; i++) {
        ram[SNIPPET_SCRATCH_ADDR + i] = (uint8_t)(i * 37 + 11 + (i >> 8));
    }
    snippet_load_code(h, c, SNIPPET_CODE_ADDR, k->b, k->n);
    for (i = 0; i < 1000; i++) {
        if (tes_harness_cpu_exec(h, cpu, 1000, NULL) == TES_EXEC_HALT) {
            break;
        }
    }
    memcpy(out->regs, c->regs, sizeof(out->regs));
    memcpy(out->xmm, c->xmm, sizeof(out->xmm));
    out->rip = c->rip;
    out->flags = x86_get_flags(c);
    memcpy(out->scratch, ram + SNIPPET_SCRATCH_ADDR, SNIPPET_SCRATCH_SIZE);
}

static void dump(const code *k, const start *s, const result *a, const result *b)
{
    GString *d = g_string_new(NULL);

    g_string_append_printf(d, "cpl %d, code (%u bytes):", s->cpl, k->n);
    for (unsigned i = 0; i < k->n; i++) {
        g_string_append_printf(d, "%s%02x", i % 32 ? " " : "\n  ", k->b[i]);
    }
    g_string_append(d, "\ninitial:");
    for (int i = 0; i < 16; i++) {
        g_string_append_printf(d, " r%d=%" G_GINT64_MODIFIER "x", i, s->regs[i]);
    }
    g_string_append_printf(d, " flags=%" G_GINT64_MODIFIER "x\n", s->flags);
    for (int i = 0; i < 16; i++) {
        if (a->regs[i] != b->regs[i]) {
            g_string_append_printf(d, "  r%d interp %" G_GINT64_MODIFIER "x jit %"
                                   G_GINT64_MODIFIER "x\n", i, a->regs[i], b->regs[i]);
        }
    }
    g_string_append_printf(d, "  rip %" G_GINT64_MODIFIER "x / %" G_GINT64_MODIFIER
                           "x, flags %" G_GINT64_MODIFIER "x / %" G_GINT64_MODIFIER "x\n",
                           a->rip, b->rip, a->flags, b->flags);
    for (unsigned i = 0; i < SNIPPET_SCRATCH_SIZE; i++) {
        if (a->scratch[i] != b->scratch[i]) {
            g_string_append_printf(d, "  scratch+%#x interp %02x jit %02x\n", i, a->scratch[i],
                                   b->scratch[i]);
            break;
        }
    }
    g_printerr("%s", d->str);
    g_string_free(d, TRUE);
}

static void random_start(rng *r, start *s)
{
    static const uint64_t edge[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                    0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffff,
                                    0x8000000000000000, ~0ull};

    for (int i = 0; i < 16; i++) {
        s->regs[i] = pick(r, 3) ? rnd(r) : edge[pick(r, G_N_ELEMENTS(edge))];
    }
    s->regs[R_ESP] = SNIPPET_SCRATCH_ADDR + 0x1800;
    s->regs[R_R15] = SNIPPET_SCRATCH_MID;
    s->flags = (rnd(r) & F_ARITH) | 0x202;
    for (int i = 0; i < 16; i++) {
        for (int j = 0; j < 16; j++) {
            /* zero bytes now and then, for PCMPEQB */
            s->xmm[i].b[j] = pick(r, 4) ? (uint8_t)rnd(r) : 0;
        }
    }
    s->cpl = pick(r, 2) ? 3 : 0;
}

/* ---- the debugger's points (debug.c) ---- */

/* mov rax, 1; add rax, 2; mov [r15], rax; lea rcx, [rax + 5]; jmp . */
static const uint8_t dbg_code[] = {
    0x48, 0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00, /* + 0 */
    0x48, 0x83, 0xc0, 0x02,                   /* + 7 */
    0x49, 0x89, 0x07,                         /* + 11 */
    0x48, 0x8d, 0x48, 0x05,                   /* + 14 */
    0xeb, 0xfe,                               /* + 18 */
};

static tes_harness *dbg_setup(bool jit, tes_cpu **cpu, x86_cpu **c)
{
    tes_harness *h = snippet_harness(cpu, c);

    (*c)->jit = jit;
    (*c)->regs[R_R15] = SNIPPET_SCRATCH_MID;
    tes_harness_write(h, SNIPPET_SCRATCH_MID, 0x5555, 8);
    snippet_load_code(h, *c, SNIPPET_CODE_ADDR, dbg_code, sizeof(dbg_code));
    (*c)->state_dirty = true; /* a fresh TLB and translation cache */
    return h;
}

/* A breakpoint stops before its instruction on both engines; a budget of
 * one then runs exactly that one (the translator checks budgets only at
 * block entries: x86_run interprets it). */
static void test_breakpoint_then_step(void)
{
    for (int jit = 0; jit < 2; jit++) {
        tes_cpu *cpu;
        x86_cpu *c;
        tes_harness *h = dbg_setup(jit, &cpu, &c);

        c->gdb.bp[0] = SNIPPET_CODE_ADDR + 14;
        c->gdb.nbp = 1;
        g_assert_cmpint(tes_harness_cpu_exec(h, cpu, 1000, NULL), ==, TES_EXEC_DEBUG);
        g_assert_cmphex(c->rip, ==, SNIPPET_CODE_ADDR + 14);
        g_assert_cmpuint(c->regs[R_EAX], ==, 3);
        g_assert_cmpuint(c->regs[R_ECX], ==, 0);
        g_assert_cmphex(tes_harness_read(h, SNIPPET_SCRATCH_MID, 8), ==, 3);
        g_assert_true(c->gdb.have_reason && c->gdb.stop_kind == TES_DEBUG_BREAK_SW);
        c->gdb.nbp = 0;
        g_assert_cmpint(tes_harness_cpu_exec(h, cpu, 1, NULL), ==, TES_EXEC_BUDGET);
        g_assert_cmphex(c->rip, ==, SNIPPET_CODE_ADDR + 18);
        g_assert_cmpuint(c->regs[R_ECX], ==, 8);
        tes_harness_free(h);
    }
}

/* A write watchpoint stops after the storing instruction (gdb's x86
 * watchpoints compare the old and new values). */
static void test_watchpoint_stops_after_store(void)
{
    for (int jit = 0; jit < 2; jit++) {
        tes_cpu *cpu;
        x86_cpu *c;
        tes_harness *h = dbg_setup(jit, &cpu, &c);

        c->gdb.wp[0] = (gdb_wp){SNIPPET_SCRATCH_MID + 4, 2, TES_DEBUG_WATCH_WRITE};
        c->gdb.nwp = 1;
        g_assert_cmpint(tes_harness_cpu_exec(h, cpu, 1000, NULL), ==, TES_EXEC_DEBUG);
        g_assert_cmphex(c->rip, ==, SNIPPET_CODE_ADDR + 14);
        g_assert_cmphex(tes_harness_read(h, SNIPPET_SCRATCH_MID, 8), ==, 3);
        g_assert_true(c->gdb.have_reason && c->gdb.stop_kind == TES_DEBUG_WATCH_WRITE);
        g_assert_cmphex(c->gdb.stop_addr, ==, SNIPPET_SCRATCH_MID + 4);
        tes_harness_free(h);
    }
}

static void test_random_sequences(void)
{
    const char *seed_s = g_getenv("X86_JIT_SEED"), *count_s = g_getenv("X86_JIT_COUNT");
    rng r = { seed_s ? g_ascii_strtoull(seed_s, NULL, 0) : 0x9e3779b97f4a7c15ull };
    /* 3000 sequences, a K-th of them under $TESSERA_TEST_SAMPLE=K. */
    unsigned count = count_s ? (unsigned)atoi(count_s) : 3000 / snippet_sample(), bad = 0,
             gp = 0;
    static code k;
    static result a, b;
    start s;

    h = snippet_harness(&cpu, &c);
    for (unsigned i = 0; i < count && bad < 3; i++) {
        gen_sequence(&r, &k);
        random_start(&r, &s);
        run(&k, &s, false, &a);
        run(&k, &s, true, &b);
        if (!c->jc) {
            g_test_skip("this build has no translator");
            break;
        }
        if (memcmp(a.regs, b.regs, sizeof(a.regs)) || a.rip != b.rip || a.flags != b.flags ||
            memcmp(a.xmm, b.xmm, sizeof(a.xmm)) ||
            memcmp(a.scratch, b.scratch, sizeof(a.scratch))) {
            g_printerr("sequence %u differs:\n", i);
            dump(&k, &s, &a, &b);
            bad++;
        }
        /* Every sequence must have ended at the #UD handler's HLT (or #GP's
         * for a misaligned SSE operand, #DE's for a division). */
        if (a.rip != SNIPPET_HANDLER_ADDR + 16 * EXC_UD + 1 &&
            a.rip != SNIPPET_HANDLER_ADDR + 16 * EXC_GP + 1 &&
            a.rip != SNIPPET_HANDLER_ADDR + 16 * EXC_DE + 1) {
            g_printerr("sequence %u did not end at #UD:\n", i);
            dump(&k, &s, &a, &a);
            g_assert_not_reached();
        }
        gp += a.rip != SNIPPET_HANDLER_ADDR + 16 * EXC_UD + 1;
    }
    tes_harness_free(h);
    g_test_message("%u sequences ended in #GP or #DE", gp);
    g_assert_cmpuint(bad, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    snippet_init(argc, argv);
    g_test_add_func("/x86/jit/random-sequences-match-interpreter", test_random_sequences);
    g_test_add_func("/x86/debug/breakpoint-stops-before-insn-then-step-runs-one",
                    test_breakpoint_then_step);
    g_test_add_func("/x86/debug/write-watchpoint-stops-after-the-store",
                    test_watchpoint_stops_after_store);
    return g_test_run();
}
