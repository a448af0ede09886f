/*
 * cpu-x86: control transfer (Jcc, JMP, CALL, RET, LOOP, far forms through
 * seg.c), stack instructions (PUSH/POP of every kind, PUSHA/POPA, PUSHF/
 * POPF, ENTER/LEAVE), flag instructions, segment-register moves, BCD
 * adjusts, and the routing of system, x87 and string opcodes (Intel SDM
 * Vol. 2).
 */
#include "exec.h"

/* Operand size of near branches and stack operations: 64 in 64-bit mode
 * unless 66 asks for 16 (SDM Vol. 1, 3.6.1 / table 3-4 notes). */
static unsigned stack_opsize(const x86_cpu *c, const x86_insn *x)
{
    if (c->code_bits == 64) {
        return x->opsize == 2 ? 2 : 8;
    }
    return x->opsize;
}

static void jump(x86_cpu *c, unsigned size, uint64_t target)
{
    c->next_rip = target & size_mask(size);
}

static void jump_rel(x86_cpu *c, const x86_insn *x, uint64_t rel)
{
    jump(c, stack_opsize(c, x), c->next_rip + rel);
}

/* Count register of LOOP/JCXZ/REP: address size (SDM LOOP). */
static uint64_t count_reg(const x86_cpu *c, const x86_insn *x)
{
    return c->regs[R_ECX] & size_mask(x->addrsize);
}

static void exec_loop(x86_cpu *c, x86_insn *x)
{
    uint64_t n = count_reg(c, x);
    bool take;

    if (x->op == 0xe3) {
        take = n == 0;
    } else {
        n = (n - 1) & size_mask(x->addrsize);
        set_reg(c, x, R_ECX, x->addrsize, n);
        take = n != 0;
        if (x->op == 0xe0) {
            take = take && !x86_cond(c, 4);
        } else if (x->op == 0xe1) {
            take = take && x86_cond(c, 4);
        }
    }
    if (take) {
        jump_rel(c, x, x->imm);
    }
}

static void exec_call_near(x86_cpu *c, x86_insn *x, uint64_t target)
{
    unsigned size = stack_opsize(c, x);

    if (x86_push(c, c->next_rip, size)) {
        jump(c, size, target);
    }
}

static void exec_ret_near(x86_cpu *c, x86_insn *x)
{
    unsigned size = stack_opsize(c, x);
    uint64_t ip;

    if (!x86_pop(c, &ip, size)) {
        return;
    }
    if (x->op == 0xc2) {
        uint64_t sp = c->regs[R_ESP] + (x->imm & 0xffff);

        set_reg(c, x, R_ESP, x86_stack_size(c), sp);
    }
    jump(c, size, ip);
}

/* Far pointer m16:16/32/64 at the ModRM operand: offset then selector. */
static bool read_far_ptr(x86_cpu *c, x86_insn *x, uint64_t *off, uint16_t *sel)
{
    uint64_t o = 0, s = 0;

    if (!x->rm_is_mem) {
        x86_raise_ud(c);
        return false;
    }
    if (!x86_mem_read(c, x->seg, x->ea, &o, x->opsize) ||
        !x86_mem_read(c, x->seg, x->ea + x->opsize, &s, 2)) {
        return false;
    }
    *off = o;
    *sel = (uint16_t)s;
    return true;
}

/* Group 5 (FF): INC DEC CALL CALLF JMP JMPF PUSH. */
static void exec_grp5(x86_cpu *c, x86_insn *x)
{
    unsigned r = x->reg & 7, size = stack_opsize(c, x);
    uint64_t v, off;
    uint16_t sel;

    switch (r) {
    case 0:
    case 1:
        x86_exec_grp5_incdec(c, x);
        return;
    case 2:
    case 4:
        if (x86_rm_read(c, x, size, &v)) {
            if (r == 2) {
                exec_call_near(c, x, v);
            } else {
                jump(c, size, v);
            }
        }
        return;
    case 3:
    case 5:
        if (read_far_ptr(c, x, &off, &sel)) {
            if (r == 3) {
                x86_far_call(c, sel, off, x->opsize);
            } else {
                x86_far_jmp(c, sel, off);
            }
        }
        return;
    case 6:
        if (x86_rm_read(c, x, size, &v)) {
            x86_push(c, v, size);
        }
        return;
    default:
        x86_raise_ud(c);
        return;
    }
}

/* POP Ev (8F /0): rSP is incremented before the address is used when the
 * operand is rSP-based (SDM POP). */
static void exec_pop_rm(x86_cpu *c, x86_insn *x)
{
    unsigned size = stack_opsize(c, x);
    uint64_t v, old_sp = c->regs[R_ESP];

    if ((x->reg & 7) != 0) {
        x86_raise_ud(c);
        return;
    }
    if (!x86_pop(c, &v, size)) {
        return;
    }
    if (!x86_rm_write(c, x, size, v)) {
        c->regs[R_ESP] = old_sp;
    }
}

/* ---- segment registers ---- */

static int seg_of_push_op(unsigned op)
{
    switch (op) {
    case 0x06: case 0x07: return S_ES;
    case 0x0e: return S_CS;
    case 0x16: case 0x17: return S_SS;
    case 0x1e: case 0x1f: return S_DS;
    case 0x0fa0: case 0x0fa1: return S_FS;
    default: return S_GS;
    }
}

static void exec_push_pop_seg(x86_cpu *c, x86_insn *x)
{
    int s = seg_of_push_op(x->op);
    unsigned size = stack_opsize(c, x);
    uint64_t v;
    bool pop = x->op & 1;

    if (c->code_bits == 64 && x->op < 0x100) {
        x86_raise_ud(c);
        return;
    }
    if (!pop) {
        x86_push(c, c->seg[s].sel, size);
        return;
    }
    {
        uint64_t old_sp = c->regs[R_ESP];

        if (!x86_pop(c, &v, size)) {
            return;
        }
        if (!x86_load_seg(c, s, (uint16_t)v)) {
            c->regs[R_ESP] = old_sp;
            return;
        }
        if (s == S_SS) {
            c->inhibit_irq = true;
        }
    }
}

static void exec_mov_seg(x86_cpu *c, x86_insn *x)
{
    int s = x->reg & 7;
    uint64_t v;

    if (s > S_GS) {
        x86_raise_ud(c);
        return;
    }
    if (x->op == 0x8c) {
        /* to a register: zero-extended to the operand size */
        x86_rm_write(c, x, x->rm_is_mem ? 2 : x->opsize, c->seg[s].sel);
        return;
    }
    if (s == S_CS) {
        x86_raise_ud(c);
        return;
    }
    if (!x86_rm_read(c, x, 2, &v) || !x86_load_seg(c, s, (uint16_t)v)) {
        return;
    }
    if (s == S_SS) {
        c->inhibit_irq = true; /* MOV SS shadow */
    }
}

/* LES LDS LSS LFS LGS: offset then selector from memory. */
static void exec_load_far(x86_cpu *c, x86_insn *x, int s)
{
    uint64_t off;
    uint16_t sel;

    if (!read_far_ptr(c, x, &off, &sel) || !x86_load_seg(c, s, sel)) {
        return;
    }
    set_reg(c, x, x->reg, x->opsize, off);
}

/* ---- flags ---- */

/* PUSHF: VM and RF read as 0 in the image (SDM PUSHF). */
static void exec_pushf(x86_cpu *c, x86_insn *x)
{
    uint64_t f = x86_get_flags(c) & ~(uint64_t)(F_VM | F_RF);

    if ((c->eflags & F_VM) && ((c->eflags & F_IOPL) >> 12) < 3) {
        x86_raise_gp(c, 0);
        return;
    }
    x86_push(c, f, stack_opsize(c, x));
}

/* POPF: which bits may change depends on CPL and IOPL (SDM POPF). */
static void exec_popf(x86_cpu *c, x86_insn *x)
{
    unsigned size = stack_opsize(c, x), iopl = (unsigned)((c->eflags & F_IOPL) >> 12);
    uint64_t v, mask = F_ARITH | F_TF | F_DF | F_NT | F_AC | F_ID | F_IF | F_IOPL;
    uint64_t old = x86_get_flags(c);

    if ((c->eflags & F_VM) && iopl < 3) {
        x86_raise_gp(c, 0);
        return;
    }
    if (!x86_pop(c, &v, size)) {
        return;
    }
    if (c->cr0 & CR0_PE) {
        if (c->cpl > 0) {
            mask &= ~(uint64_t)F_IOPL;
        }
        if ((unsigned)c->cpl > iopl) {
            mask &= ~(uint64_t)F_IF;
        }
    }
    if (size == 2) {
        mask &= 0xffff;
    }
    x86_set_flags(c, (old & ~mask) | (v & mask));
}

static void exec_cli_sti(x86_cpu *c, bool sti)
{
    unsigned iopl = (unsigned)((c->eflags & F_IOPL) >> 12);

    if ((c->cr0 & CR0_PE) && ((c->eflags & F_VM) ? iopl < 3 : (unsigned)c->cpl > iopl)) {
        x86_raise_gp(c, 0);
        return;
    }
    if (sti) {
        if (!(c->eflags & F_IF)) {
            c->inhibit_irq = true; /* interrupts after the next instruction */
        }
        c->eflags |= F_IF;
    } else {
        c->eflags &= ~(uint64_t)F_IF;
    }
}

static void exec_flag_op(x86_cpu *c, unsigned op)
{
    uint64_t f = x86_arith_flags(c);

    switch (op) {
    case 0xf5: x86_put_arith(c, f ^ F_CF); break;
    case 0xf8: x86_put_arith(c, f & ~(uint64_t)F_CF); break;
    case 0xf9: x86_put_arith(c, f | F_CF); break;
    case 0xfc: c->eflags &= ~(uint64_t)F_DF; break;
    case 0xfd: c->eflags |= F_DF; break;
    case 0x9e: /* SAHF: SF ZF AF PF CF from AH */
        x86_put_arith(c, (f & F_OF) | ((c->regs[R_EAX] >> 8) & (F_SF | F_ZF | F_AF | F_PF | F_CF)));
        break;
    default: /* 0x9f LAHF */
        c->regs[R_EAX] = (c->regs[R_EAX] & ~0xff00ull) | (((f & 0xd5) | 2) << 8);
        break;
    }
}

/* CBW/CWDE/CDQE and CWD/CDQ/CQO. */
static void exec_convert(x86_cpu *c, x86_insn *x)
{
    unsigned size = x->opsize;
    uint64_t a = c->regs[R_EAX];

    if (x->op == 0x98) {
        set_reg(c, x, R_EAX, size, sext(a, size / 2));
    } else {
        set_reg(c, x, R_EDX, size, (a & sign_bit(size)) ? ~0ull : 0);
    }
}

/* ENTER imm16, imm8 (SDM ENTER, nesting level mod 32). */
static void exec_enter(x86_cpu *c, x86_insn *x)
{
    unsigned size = stack_opsize(c, x), ss = x86_stack_size(c);
    unsigned level = (unsigned)x->imm2 & 31;
    uint64_t bp = c->regs[R_EBP], frame, v;

    if (!x86_push(c, bp, size)) {
        return;
    }
    frame = c->regs[R_ESP] & size_mask(ss);
    for (unsigned i = 1; i < level; i++) {
        bp = (bp - size) & size_mask(ss);
        v = 0;
        if (!x86_mem_read(c, S_SS, bp, &v, size) || !x86_push(c, v, size)) {
            return;
        }
    }
    if (level && !x86_push(c, frame, size)) {
        return;
    }
    {
        uint64_t sp = (c->regs[R_ESP] - (x->imm & 0xffff)) & size_mask(ss);
        uint8_t probe;

        /* the final stack must be writable */
        if ((x->imm & 0xffff) && !x86_mem_read(c, S_SS, sp, &probe, 1)) {
            return;
        }
        set_reg(c, x, R_EBP, size, frame);
        set_reg(c, x, R_ESP, ss, sp);
    }
}

static void exec_leave(x86_cpu *c, x86_insn *x)
{
    unsigned size = stack_opsize(c, x), ss = x86_stack_size(c);
    uint64_t old_sp = c->regs[R_ESP], v;

    set_reg(c, x, R_ESP, ss, c->regs[R_EBP]);
    if (!x86_pop(c, &v, size)) {
        c->regs[R_ESP] = old_sp;
        return;
    }
    set_reg(c, x, R_EBP, size, v);
}

static void exec_pusha(x86_cpu *c, x86_insn *x)
{
    unsigned size = x->opsize;
    uint64_t sp = c->regs[R_ESP];

    if (c->code_bits == 64) {
        x86_raise_ud(c);
        return;
    }
    for (int r = R_EAX; r <= R_EDI; r++) {
        if (!x86_push(c, r == R_ESP ? sp : c->regs[r], size)) {
            c->regs[R_ESP] = sp;
            return;
        }
    }
}

static void exec_popa(x86_cpu *c, x86_insn *x)
{
    unsigned size = x->opsize;
    uint64_t sp = c->regs[R_ESP], v[8];

    if (c->code_bits == 64) {
        x86_raise_ud(c);
        return;
    }
    for (int r = R_EDI; r >= R_EAX; r--) {
        if (!x86_pop(c, &v[r], size)) {
            c->regs[R_ESP] = sp;
            return;
        }
    }
    for (int r = R_EAX; r <= R_EDI; r++) {
        if (r != R_ESP) {
            set_reg(c, x, r, size, v[r]);
        }
    }
}

/* ---- BCD (16/32-bit modes; #UD in 64-bit mode). Flags per SDM, the
 * undefined ones as QEMU leaves them. ---- */

static void exec_bcd(x86_cpu *c, x86_insn *x)
{
    uint64_t f = x86_arith_flags(c);
    unsigned al = c->regs[R_EAX] & 0xff, ah = (c->regs[R_EAX] >> 8) & 0xff, old = al;
    bool cf = f & F_CF, af = f & F_AF;

    switch (x->op) {
    case 0x27: case 0x2f: { /* DAA DAS */
        bool sub = x->op == 0x2f, old_cf = cf;

        cf = false;
        if ((al & 0xf) > 9 || af) {
            cf = old_cf || (sub ? old < 6 : old + 6 > 0xff);
            al = (al + (sub ? -6u : 6u)) & 0xff;
            af = true;
        } else {
            af = false;
        }
        if (old > 0x99 || old_cf) {
            al = (al + (sub ? -0x60u : 0x60u)) & 0xff;
            cf = true;
        } else if (!sub) {
            cf = false;
        }
        set_reg(c, x, R_EAX, 1, al);
        set_cc(c, CC_OP_LOGIC, 1, al, 0);
        x86_put_arith(c, x86_arith_flags(c) | (cf ? F_CF : 0) | (af ? F_AF : 0));
        return;
    }
    case 0x37: case 0x3f: /* AAA AAS */
        if ((al & 0xf) > 9 || af) {
            if (x->op == 0x37) {
                set_reg(c, x, R_EAX, 2, (c->regs[R_EAX] + 0x106) & 0xffff);
            } else {
                set_reg(c, x, R_EAX, 2, (c->regs[R_EAX] - 6) & 0xffff);
                set_reg(c, x, R_EAX, 2, ((((c->regs[R_EAX] >> 8) - 1) & 0xff) << 8) |
                                             (c->regs[R_EAX] & 0xff));
            }
            f = (f & ~(uint64_t)(F_CF | F_AF)) | F_CF | F_AF;
        } else {
            f &= ~(uint64_t)(F_CF | F_AF);
        }
        set_reg(c, x, R_EAX, 1, c->regs[R_EAX] & 0xf);
        x86_put_arith(c, f);
        return;
    case 0xd4: /* AAM */
        if ((x->imm & 0xff) == 0) {
            x86_exception(c, EXC_DE, false, 0);
            return;
        }
        ah = al / (unsigned)(x->imm & 0xff);
        al = al % (unsigned)(x->imm & 0xff);
        set_reg(c, x, R_EAX, 2, (ah << 8) | al);
        set_cc(c, CC_OP_LOGIC, 1, al, 0);
        return;
    default: /* 0xd5 AAD */
        al = (al + ah * (unsigned)(x->imm & 0xff)) & 0xff;
        set_reg(c, x, R_EAX, 2, al);
        set_cc(c, CC_OP_LOGIC, 1, al, 0);
        return;
    }
}

/* ---- routing ---- */

static bool is_system_1(unsigned op)
{
    return op == 0xf4 || (op >= 0xe4 && op <= 0xe7) || (op >= 0xec && op <= 0xef);
}

static bool is_system_0f(unsigned op)
{
    return op <= 0x03 || (op >= 0x05 && op <= 0x09) || (op >= 0x20 && op <= 0x23) ||
           (op >= 0x30 && op <= 0x35) || op == 0xa2;
}

/* 0F opcodes of this file. */
static bool exec_ctl_0f(x86_cpu *c, x86_insn *x)
{
    unsigned op = x->op & 0xff;
    uint64_t v;

    if (x->op >= 0x1000) {
        return false;
    }
    if (is_system_0f(op)) {
        x86_exec_system(c, x);
        return true;
    }
    if (op >= 0x80 && op <= 0x8f) {
        if (x86_cond(c, op & 15)) {
            jump_rel(c, x, x->imm);
        }
        return true;
    }
    if (op >= 0x90 && op <= 0x9f) {
        x86_rm_write(c, x, 1, x86_cond(c, op & 15));
        return true;
    }
    switch (op) {
    case 0x0b: case 0xb9: case 0xff:
        x86_raise_ud(c); /* UD2, UD1, UD0 */
        return true;
    case 0x0d: case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e:
    case 0x1f:
        return true; /* PREFETCH and hint NOPs */
    case 0xa0: case 0xa1: case 0xa8: case 0xa9:
        exec_push_pop_seg(c, x);
        return true;
    case 0xb2: exec_load_far(c, x, S_SS); return true;
    case 0xb4: exec_load_far(c, x, S_FS); return true;
    case 0xb5: exec_load_far(c, x, S_GS); return true;
    case 0xae:
        /* LFENCE MFENCE SFENCE, CLFLUSH: nothing to order or flush here */
        if ((x->mod == 3 && (x->reg & 7) >= 5) || (x->mod != 3 && (x->reg & 7) == 7)) {
            return true;
        }
        return false;
    default:
        (void)v;
        return false;
    }
}

/* One-byte control and miscellaneous opcodes. */
static bool exec_ctl_1b(x86_cpu *c, x86_insn *x)
{
    unsigned op = x->op;
    uint64_t v;

    switch (op) {
    case 0x06: case 0x07: case 0x0e: case 0x16: case 0x17: case 0x1e: case 0x1f:
        exec_push_pop_seg(c, x);
        return true;
    case 0x27: case 0x2f: case 0x37: case 0x3f: case 0xd4: case 0xd5:
        if (c->code_bits == 64) {
            x86_raise_ud(c);
        } else {
            exec_bcd(c, x);
        }
        return true;
    case 0x60: exec_pusha(c, x); return true;
    case 0x61: exec_popa(c, x); return true;
    case 0x68: case 0x6a: x86_push(c, x->imm, stack_opsize(c, x)); return true;
    case 0x8c: case 0x8e: exec_mov_seg(c, x); return true;
    case 0x8f: exec_pop_rm(c, x); return true;
    case 0x90:
        if (x->rex & 1) { /* XCHG r8, rax */
            v = get_reg(c, x, R_R8, x->opsize);
            set_reg(c, x, R_R8, x->opsize, get_reg(c, x, R_EAX, x->opsize));
            set_reg(c, x, R_EAX, x->opsize, v);
        }
        return true; /* NOP, PAUSE */
    case 0x98: case 0x99: exec_convert(c, x); return true;
    case 0x9a:
        if (c->code_bits == 64) {
            x86_raise_ud(c);
        } else {
            x86_far_call(c, (uint16_t)x->imm2, x->imm, x->opsize);
        }
        return true;
    case 0x9b:
        x86_fwait(c); /* #NM with MP+TS, #MF for a pending x87 exception */
        return true;
    case 0x9c: exec_pushf(c, x); return true;
    case 0x9d: exec_popf(c, x); return true;
    case 0x9e: case 0x9f: case 0xf5: case 0xf8: case 0xf9: case 0xfc: case 0xfd:
        exec_flag_op(c, op);
        return true;
    case 0xfa: case 0xfb: exec_cli_sti(c, op == 0xfb); return true;
    case 0xc2: case 0xc3: exec_ret_near(c, x); return true;
    case 0xc4: case 0xc5:
        if (c->code_bits == 64) {
            x86_raise_ud(c); /* VEX: not advertised */
        } else {
            exec_load_far(c, x, op == 0xc4 ? S_ES : S_DS);
        }
        return true;
    case 0xc8: exec_enter(c, x); return true;
    case 0xc9: exec_leave(c, x); return true;
    case 0xca: case 0xcb: x86_far_ret(c, x->opsize, op == 0xca ? (uint16_t)x->imm : 0); return true;
    case 0xcc: x86_soft_int(c, EXC_BP); return true;
    case 0xcd: x86_soft_int(c, (int)(x->imm & 0xff)); return true;
    case 0xce:
        if (c->code_bits == 64) {
            x86_raise_ud(c);
        } else if (x86_cond(c, 0)) {
            x86_soft_int(c, EXC_OF);
        }
        return true;
    case 0xcf: x86_iret(c, x->opsize); return true;
    case 0xd7: { /* XLAT */
        uint64_t a = (c->regs[R_EBX] + (c->regs[R_EAX] & 0xff)) & size_mask(x->addrsize);
        uint8_t b;

        if (x86_mem_read(c, x->seg == S_NONE ? S_DS : x->seg, a, &b, 1)) {
            set_reg(c, x, R_EAX, 1, b);
        }
        return true;
    }
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: exec_loop(c, x); return true;
    case 0xe8: exec_call_near(c, x, c->next_rip + x->imm); return true;
    case 0xe9: case 0xeb: jump_rel(c, x, x->imm); return true;
    case 0xea:
        if (c->code_bits == 64) {
            x86_raise_ud(c);
        } else {
            x86_far_jmp(c, (uint16_t)x->imm2, x->imm);
        }
        return true;
    case 0xff: exec_grp5(c, x); return true;
    default:
        return false;
    }
}

bool x86_exec_ctl(x86_cpu *c, x86_insn *x)
{
    unsigned op = x->op;

    if (op >= 0x100) {
        return exec_ctl_0f(c, x);
    }
    if (op >= 0x70 && op <= 0x7f) {
        if (x86_cond(c, op & 15)) {
            jump_rel(c, x, x->imm);
        }
        return true;
    }
    if (op >= 0x50 && op <= 0x5f) {
        int r = (op & 7) | ((x->rex & 1) << 3);
        unsigned size = stack_opsize(c, x);
        uint64_t v;

        if (op < 0x58) {
            x86_push(c, get_reg(c, x, r, size), size);
        } else if (x86_pop(c, &v, size)) {
            set_reg(c, x, r, size, v);
        }
        return true;
    }
    if (op >= 0xd8 && op <= 0xdf) {
        x86_exec_x87(c, x);
        return true;
    }
    if (is_system_1(op)) {
        x86_exec_system(c, x);
        return true;
    }
    if ((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf) ||
        (op >= 0x6c && op <= 0x6f)) {
        x86_exec_string(c, x);
        return true;
    }
    return exec_ctl_1b(c, x);
}
