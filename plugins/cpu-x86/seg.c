/*
 * cpu-x86: segmentation (SDM Vol. 3, chapters 3 and 5): descriptor
 * tables, segment register loads with their protection checks, far
 * JMP/CALL/RET, the stack helpers interrupt delivery shares, and the
 * mode derived from CR0/EFER/CS.
 *
 * Not done: call gates, task gates and hardware task switches (#GP, logged
 * as unimplemented), VM86 mode.
 */
#include "x86sys.h"

/* ---- descriptors ---- */

int desc_fetch(x86_cpu *c, uint16_t sel, uint64_t *d, uint64_t *hi)
{
    uint64_t base = c->gdt_base, limit = c->gdt_limit;
    unsigned idx = sel & ~7u, size = hi ? 16 : 8;

    if (sel & 4) {
        if (!(c->seg[S_LDTR].attr & SEG_ATTR_P) || (c->seg[S_LDTR].sel & ~3u) == 0) {
            return DESC_LIMIT;
        }
        base = c->seg[S_LDTR].base;
        limit = c->seg[S_LDTR].limit;
    }
    if (idx + size - 1 > limit) {
        return DESC_LIMIT;
    }
    if (!x86_read(c, base + idx, d, 8, false)) {
        return DESC_FAULT;
    }
    if (hi && !x86_read(c, base + idx + 8, hi, 8, false)) {
        return DESC_FAULT;
    }
    return DESC_OK;
}

void desc_store(x86_cpu *c, uint16_t sel, uint64_t d)
{
    uint64_t base = (sel & 4) ? c->seg[S_LDTR].base : c->gdt_base;

    x86_write(c, base + (sel & ~7u), &d, 8, false);
}

void desc_to_seg(x86_seg *s, uint16_t sel, uint64_t d)
{
    uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));

    s->sel = sel;
    s->base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
    /* x86.h's compact layout: type S DPL P in bits 0..7, AVL L D/B G in 8..11. */
    s->attr = (uint16_t)(((d >> 40) & 0xff) | ((d >> 44) & 0xf00));
    s->limit = (s->attr & SEG_ATTR_G) ? (limit << 12) | 0xfff : limit;
}

void seg_flat(x86_seg *s, uint16_t sel, bool code, unsigned dpl, bool l)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    /* code: execute/read, accessed; data: read/write, accessed */
    s->attr = (uint16_t)((code ? 0xb : 0x3) | SEG_ATTR_S | (dpl << 5) | SEG_ATTR_P | SEG_ATTR_G |
                         (l ? SEG_ATTR_L : SEG_ATTR_DB));
}

void seg_null(x86_seg *s, uint16_t sel)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0;
    s->attr = 0;
}

/* ---- stacks ---- */

void stk_current(x86_cpu *c, x86_stack *s)
{
    s->ss = c->seg[S_SS];
    s->sp = c->regs[R_ESP];
    s->bits = c->code_bits == 64 ? 64 : (c->seg[S_SS].attr & SEG_ATTR_DB) ? 32 : 16;
    s->user = c->cpl == 3;
}

static uint64_t sp_mask(int bits)
{
    return bits == 64 ? ~0ull : bits == 32 ? 0xffffffffull : 0xffffull;
}

static bool stk_la(x86_cpu *c, x86_stack *s, uint64_t sp, unsigned size, uint64_t *la)
{
    if (s->bits == 64) {
        if (!is_canonical(sp) || !is_canonical(sp + size - 1)) {
            x86_exception(c, EXC_SS, true, 0);
            return false;
        }
        *la = sp;
        return true;
    }
    *la = (s->ss.base + (sp & sp_mask(s->bits))) & 0xffffffffull;
    return true;
}

bool stk_push(x86_cpu *c, x86_stack *s, uint64_t v, unsigned size)
{
    uint64_t sp = (s->sp - size) & sp_mask(s->bits), la;

    if (!stk_la(c, s, sp, size, &la) || !x86_write(c, la, &v, size, s->user)) {
        return false;
    }
    s->sp = (s->sp & ~sp_mask(s->bits)) | sp;
    return true;
}

bool stk_pop(x86_cpu *c, x86_stack *s, uint64_t *v, unsigned size)
{
    uint64_t sp = s->sp & sp_mask(s->bits), la;

    *v = 0;
    if (!stk_la(c, s, sp, size, &la) || !x86_read(c, la, v, size, s->user)) {
        return false;
    }
    s->sp = (s->sp & ~sp_mask(s->bits)) | ((sp + size) & sp_mask(s->bits));
    return true;
}

void stk_commit_sp(x86_cpu *c, const x86_stack *s)
{
    uint64_t m = sp_mask(s->bits);

    c->regs[R_ESP] = (c->regs[R_ESP] & ~m) | (s->sp & m);
    if (s->bits == 32) {
        c->regs[R_ESP] &= 0xffffffffull;
    }
}

/* ---- mode ---- */

void x86_update_mode(x86_cpu *c)
{
    const x86_seg *cs = &c->seg[S_CS];

    c->long_mode = (c->efer & EFER_LMA) != 0;
    if (!(c->cr0 & CR0_PE)) {
        c->cpl = 0;
    } else if (c->eflags & F_VM) {
        c->cpl = 3;
    } else if ((cs->attr & 0x1c) != 0x1c) {
        /* CPL is CS.DPL, except in conforming code (it keeps the caller's). */
        c->cpl = SEG_DPL(cs->attr);
    }
    if (c->long_mode && (cs->attr & SEG_ATTR_L)) {
        c->code_bits = 64;
    } else {
        c->code_bits = (cs->attr & SEG_ATTR_DB) ? 32 : 16;
    }
    c->stack32 = (c->seg[S_SS].attr & SEG_ATTR_DB) != 0;
}

/* ---- segment register loads ---- */

static void load_real(x86_cpu *c, int seg, uint16_t sel)
{
    x86_seg *s = &c->seg[seg];

    s->sel = sel;
    s->base = (uint64_t)sel << 4;
    /* The limit stays (unreal mode); keep the segment usable. */
    s->attr |= SEG_ATTR_P | SEG_ATTR_S;
    if (seg == S_CS) {
        s->attr |= 0x8;
    }
}

/* SS: a writable data segment with RPL = DPL = CPL (SDM 5.10.1 MOV SS). */
static bool load_ss(x86_cpu *c, uint16_t sel, uint64_t d)
{
    unsigned type = DESC_TYPE(d);

    if (!DESC_S(d) || (type & 0xa) != 0x2 || (sel & 3) != (unsigned)c->cpl ||
        DESC_DPL(d) != (unsigned)c->cpl) {
        raise_err(c, EXC_GP, sel_err(c, sel));
        return false;
    }
    if (!DESC_P(d)) {
        raise_err(c, EXC_SS, sel_err(c, sel));
        return false;
    }
    return true;
}

/* DS/ES/FS/GS: data or readable code; non-conforming needs DPL >= CPL, RPL. */
static bool load_data(x86_cpu *c, uint16_t sel, uint64_t d)
{
    unsigned type = DESC_TYPE(d), dpl = DESC_DPL(d);

    if (!DESC_S(d) || (type & 0xa) == 0x8) {
        raise_err(c, EXC_GP, sel_err(c, sel));
        return false;
    }
    if ((type & 0xc) != 0xc && (dpl < (unsigned)c->cpl || dpl < (sel & 3u))) {
        raise_err(c, EXC_GP, sel_err(c, sel));
        return false;
    }
    if (!DESC_P(d)) {
        raise_err(c, EXC_NP, sel_err(c, sel));
        return false;
    }
    return true;
}

static bool load_null(x86_cpu *c, int seg, uint16_t sel)
{
    if (seg == S_SS) {
        /* Only 64-bit mode at CPL < 3 with RPL = CPL may load a null SS. */
        if (c->code_bits != 64 || c->cpl == 3 || (sel & 3) != (unsigned)c->cpl) {
            raise_err(c, EXC_GP, 0);
            return false;
        }
        seg_flat(&c->seg[S_SS], sel, false, (unsigned)c->cpl, false);
        c->seg[S_SS].attr &= (uint16_t)~SEG_ATTR_DB;
        return true;
    }
    seg_null(&c->seg[seg], sel);
    return true;
}

static bool far_to_code(x86_cpu *c, uint16_t sel, uint64_t off, bool call, int opsize);

bool x86_load_seg(x86_cpu *c, int seg, uint16_t sel)
{
    uint64_t d;
    int r;

    if (!prot_mode(c)) {
        load_real(c, seg, sel);
        if (seg == S_CS || seg == S_SS) {
            x86_update_mode(c);
        }
        return true;
    }
    if (seg == S_CS) {
        return far_to_code(c, sel, c->next_rip, false, 0);
    }
    if ((sel & ~3u) == 0) {
        return load_null(c, seg, sel);
    }
    r = desc_fetch(c, sel, &d, NULL);
    if (r != DESC_OK) {
        if (r == DESC_LIMIT) {
            raise_err(c, EXC_GP, sel_err(c, sel));
        }
        return false;
    }
    if (!(seg == S_SS ? load_ss(c, sel, d) : load_data(c, sel, d))) {
        return false;
    }
    if (!(d & DESC_ACCESSED)) {
        d |= DESC_ACCESSED;
        desc_store(c, sel, d);
    }
    desc_to_seg(&c->seg[seg], sel, d);
    if (seg == S_SS) {
        x86_update_mode(c);
    }
    return true;
}

/* ---- far transfers ---- */

/* Checks of a code segment target at the same privilege (SDM 5.8.1). On
 * success *cs holds the new cache with RPL = CPL. */
static bool check_code(x86_cpu *c, uint16_t sel, x86_seg *cs)
{
    uint64_t d;
    int r;

    if ((sel & ~3u) == 0) {
        raise_err(c, EXC_GP, 0);
        return false;
    }
    r = desc_fetch(c, sel, &d, NULL);
    if (r != DESC_OK) {
        if (r == DESC_LIMIT) {
            raise_err(c, EXC_GP, sel_err(c, sel));
        }
        return false;
    }
    if (!DESC_S(d)) {
        H->log(TES_LOG_UNIMP, "cpu-x86: far transfer through system descriptor type %u\n",
               DESC_TYPE(d));
        raise_err(c, EXC_GP, sel_err(c, sel));
        return false;
    }
    bool conforming = (DESC_TYPE(d) & 0xc) == 0xc;
    if (!(DESC_TYPE(d) & 8) || (conforming && DESC_DPL(d) > (unsigned)c->cpl) ||
        (!conforming && ((sel & 3u) > (unsigned)c->cpl || DESC_DPL(d) != (unsigned)c->cpl))) {
        raise_err(c, EXC_GP, sel_err(c, sel));
        return false;
    }
    if (!DESC_P(d)) {
        raise_err(c, EXC_NP, sel_err(c, sel));
        return false;
    }
    if (!(d & DESC_ACCESSED)) {
        d |= DESC_ACCESSED;
        desc_store(c, sel, d);
    }
    desc_to_seg(cs, (uint16_t)((sel & ~3u) | (unsigned)c->cpl), d);
    return true;
}

/* Offset check of a new CS:RIP: canonical in 64-bit code, else within
 * the limit (SDM JMP/CALL: #GP(0)). */
static bool target_ok(x86_cpu *c, const x86_seg *cs, uint64_t off)
{
    bool code64 = c->long_mode && (cs->attr & SEG_ATTR_L);

    if (code64 ? !is_canonical(off) : off > cs->limit) {
        raise_err(c, EXC_GP, 0);
        return false;
    }
    return true;
}

static void set_cs(x86_cpu *c, const x86_seg *cs, uint64_t off)
{
    c->seg[S_CS] = *cs;
    x86_update_mode(c);
    if (c->code_bits != 64) {
        off &= 0xffffffffull;
    }
    c->rip = c->next_rip = off;
}

static bool far_to_code(x86_cpu *c, uint16_t sel, uint64_t off, bool call, int opsize)
{
    x86_seg cs;
    x86_stack st;

    if (!check_code(c, sel, &cs) || !target_ok(c, &cs, off)) {
        return false;
    }
    if (call) {
        stk_current(c, &st);
        if (!stk_push(c, &st, c->seg[S_CS].sel, (unsigned)opsize) ||
            !stk_push(c, &st, c->next_rip, (unsigned)opsize)) {
            return false;
        }
        stk_commit_sp(c, &st);
    }
    set_cs(c, &cs, off);
    return true;
}

static void far_real(x86_cpu *c, uint16_t sel, uint64_t off)
{
    load_real(c, S_CS, sel);
    x86_update_mode(c);
    c->rip = c->next_rip = off & (c->code_bits == 32 ? 0xffffffffull : 0xffffull);
}

void x86_far_jmp(x86_cpu *c, uint16_t sel, uint64_t off)
{
    if (!prot_mode(c)) {
        far_real(c, sel, off);
        return;
    }
    far_to_code(c, sel, off, false, 0);
}

void x86_far_call(x86_cpu *c, uint16_t sel, uint64_t off, int opsize)
{
    x86_stack st;

    if (!prot_mode(c)) {
        stk_current(c, &st);
        if (!stk_push(c, &st, c->seg[S_CS].sel, (unsigned)opsize) ||
            !stk_push(c, &st, c->next_rip, (unsigned)opsize)) {
            return;
        }
        stk_commit_sp(c, &st);
        far_real(c, sel, off);
        return;
    }
    far_to_code(c, sel, off, true, opsize);
}

/* Data segment registers a return to an outer level may not keep
 * (SDM RET/IRET: DPL < new CPL and data or non-conforming code). */
void seg_check_outer(x86_cpu *c)
{
    static const int segs[] = { S_ES, S_DS, S_FS, S_GS };

    for (unsigned i = 0; i < 4; i++) {
        x86_seg *s = &c->seg[segs[i]];
        bool conforming_code = (s->attr & 0x1c) == 0x1c;

        if ((s->attr & SEG_ATTR_P) && !conforming_code && SEG_DPL(s->attr) < (unsigned)c->cpl) {
            seg_null(s, 0);
        }
    }
}

/* SS:RSP popped on a return to another level (RET, IRET): pop bytes of
 * parameters released on both stacks. A null SS is allowed only for
 * 64-bit code at CPL < 3 (SDM IRET). */
bool pop_ss_sp(x86_cpu *c, x86_stack *st, unsigned rpl, bool code64, int opsize, uint16_t pop,
               x86_seg *ss_out, uint64_t *sp_out)
{
    uint64_t nsp, nss, sd;
    int r;

    st->sp += pop;
    if (!stk_pop(c, st, &nsp, (unsigned)opsize) || !stk_pop(c, st, &nss, (unsigned)opsize)) {
        return false;
    }
    if (((uint16_t)nss & ~3u) == 0) {
        if (!code64 || rpl == 3) {
            raise_err(c, EXC_GP, 0);
            return false;
        }
        seg_flat(ss_out, (uint16_t)nss, false, rpl, false);
        ss_out->attr &= (uint16_t)~SEG_ATTR_DB;
    } else {
        r = desc_fetch(c, (uint16_t)nss, &sd, NULL);
        if (r != DESC_OK || (nss & 3) != rpl || !DESC_S(sd) || (DESC_TYPE(sd) & 0xa) != 2 ||
            DESC_DPL(sd) != rpl) {
            if (r != DESC_FAULT) {
                raise_err(c, EXC_GP, sel_err(c, (uint16_t)nss));
            }
            return false;
        }
        if (!DESC_P(sd)) {
            raise_err(c, EXC_SS, sel_err(c, (uint16_t)nss));
            return false;
        }
        desc_to_seg(ss_out, (uint16_t)nss, sd);
    }
    *sp_out = nsp + pop;
    return true;
}

/* Checks of a code segment returned to (RET, IRET): RPL >= CPL,
 * conforming DPL <= RPL, non-conforming DPL = RPL, present. */
bool check_ret_code(x86_cpu *c, uint16_t sel, x86_seg *cs)
{
    uint64_t d;
    unsigned rpl = sel & 3;
    int r;

    if ((sel & ~3u) == 0) {
        raise_err(c, EXC_GP, 0);
        return false;
    }
    r = desc_fetch(c, sel, &d, NULL);
    if (r != DESC_OK) {
        if (r == DESC_LIMIT) {
            raise_err(c, EXC_GP, sel_err(c, sel));
        }
        return false;
    }
    bool conforming = (DESC_TYPE(d) & 0xc) == 0xc;
    if (!DESC_S(d) || !(DESC_TYPE(d) & 8) || rpl < (unsigned)c->cpl ||
        (conforming ? DESC_DPL(d) > rpl : DESC_DPL(d) != rpl)) {
        raise_err(c, EXC_GP, sel_err(c, sel));
        return false;
    }
    if (!DESC_P(d)) {
        raise_err(c, EXC_NP, sel_err(c, sel));
        return false;
    }
    desc_to_seg(cs, sel, d);
    return true;
}

/* RSP after a load of SS:RSP, by the width of the new stack. */
void set_rsp(x86_cpu *c, uint64_t sp)
{
    if (c->code_bits == 64) {
        c->regs[R_ESP] = sp;
    } else if (c->seg[S_SS].attr & SEG_ATTR_DB) {
        c->regs[R_ESP] = (uint32_t)sp;
    } else {
        c->regs[R_ESP] = (c->regs[R_ESP] & ~0xffffull) | (sp & 0xffff);
    }
}

void x86_far_ret(x86_cpu *c, int opsize, uint16_t pop)
{
    x86_stack st;
    uint64_t rip, cs_sel, nsp;
    x86_seg cs, ss;

    stk_current(c, &st);
    if (!stk_pop(c, &st, &rip, (unsigned)opsize) || !stk_pop(c, &st, &cs_sel, (unsigned)opsize)) {
        return;
    }
    if (!prot_mode(c)) {
        st.sp += pop;
        stk_commit_sp(c, &st);
        far_real(c, (uint16_t)cs_sel, rip);
        return;
    }
    if (!check_ret_code(c, (uint16_t)cs_sel, &cs)) {
        return;
    }
    unsigned rpl = cs_sel & 3;
    if (rpl == (unsigned)c->cpl) {
        if (!target_ok(c, &cs, rip)) {
            return;
        }
        st.sp += pop;
        stk_commit_sp(c, &st);
        set_cs(c, &cs, rip);
        return;
    }
    bool code64 = c->long_mode && (cs.attr & SEG_ATTR_L);
    if (!pop_ss_sp(c, &st, rpl, code64, opsize, pop, &ss, &nsp) || !target_ok(c, &cs, rip)) {
        return;
    }
    c->seg[S_SS] = ss;
    c->cpl = (int)rpl;
    set_cs(c, &cs, rip);
    set_rsp(c, nsp);
    seg_check_outer(c);
}
