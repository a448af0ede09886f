/*
 * cpu-x86: exception and interrupt delivery (SDM Vol. 3, chapter 6) in
 * real mode (IVT), protected mode (16/32-bit interrupt and trap gates,
 * stack switch from the TSS) and long mode (16-byte gates, IST and RSP0
 * from the 64-bit TSS), double and triple faults, and IRET.
 *
 * Delivery writes the frame to a local copy of the new stack pointer and
 * commits registers only once every access succeeded: a fault while
 * delivering (exc_vec >= 0) is delivered instead, or escalates to #DF
 * by the classes of SDM Table 6-5, and a fault while delivering #DF is a
 * triple fault (shutdown: the CPU parks and the machine resets).
 *
 * Not done: task gates and task switches, VM86.
 */
#include "x86sys.h"

enum { EV_EXC, EV_SOFT, EV_EXT };
enum { CL_BENIGN, CL_CONTRIB, CL_PF };

typedef struct event {
    int vec;
    int kind;
    bool has_err;
    uint32_t err;
    uint64_t ret_rip;
} event;

/* Fault-class exceptions push RF = 1 (SDM 17.3.1.1): the handler's IRET
 * then does not re-trigger an instruction breakpoint. */
static bool is_fault(const event *e)
{
    return e->kind == EV_EXC && e->vec != EXC_DB && e->vec != EXC_BP && e->vec != EXC_OF;
}

static int exc_class(int vec)
{
    if (vec == EXC_PF) {
        return CL_PF;
    }
    return vec == EXC_DE || (vec >= EXC_TS && vec <= EXC_GP) ? CL_CONTRIB : CL_BENIGN;
}

static uint32_t idt_err(const x86_cpu *c, int vec)
{
    return ((uint32_t)vec << 3) | 2 | (c->exc_ext ? 1 : 0);
}

static void triple_fault(x86_cpu *c)
{
    H->log(TES_LOG_INT, "cpu-x86: cpu %u triple fault at rip 0x%llx: reset\n", c->index,
           (unsigned long long)c->rip);
    c->triple_fault = true;
    c->wait_sipi = true; /* shutdown state: nothing runs until the reset */
    c->halted_req = true;
    c->fault = true;
    H->request_reset();
}

/* New RFLAGS once the handler runs: TF, NT, RF, VM cleared; IF too for
 * interrupt gates (SDM 6.12.1.2). */
static void enter_flags(x86_cpu *c, bool clear_if)
{
    uint64_t f = x86_get_flags(c) & ~(uint64_t)(F_TF | F_NT | F_RF | F_VM);

    if (clear_if) {
        f &= ~(uint64_t)F_IF;
    }
    x86_set_flags(c, f);
}

static uint64_t frame_flags(x86_cpu *c, const event *e)
{
    return x86_get_flags(c) | (is_fault(e) ? F_RF : 0);
}

static void go(x86_cpu *c, uint64_t rip)
{
    c->rip = c->next_rip = rip;
}

/* ---- real mode ---- */

static void deliver_real(x86_cpu *c, const event *e)
{
    uint32_t ent = 0;
    uint16_t flags = (uint16_t)x86_get_flags(c);
    x86_stack st;

    if ((uint64_t)e->vec * 4 + 3 > c->idt_limit) {
        raise_err(c, EXC_GP, idt_err(c, e->vec));
        return;
    }
    if (!x86_read(c, c->idt_base + (uint64_t)e->vec * 4, &ent, 4, false)) {
        return;
    }
    stk_current(c, &st);
    if (!stk_push(c, &st, flags, 2) || !stk_push(c, &st, c->seg[S_CS].sel, 2) ||
        !stk_push(c, &st, e->ret_rip, 2)) {
        return;
    }
    stk_commit_sp(c, &st);
    x86_set_flags(c, x86_get_flags(c) & ~(uint64_t)(F_IF | F_TF | F_AC | F_RF));
    c->seg[S_CS].sel = (uint16_t)(ent >> 16);
    c->seg[S_CS].base = (ent >> 16) << 4;
    go(c, ent & 0xffff);
}

/* ---- gates and their code segment ---- */

typedef struct gate {
    unsigned type, dpl, ist;
    uint16_t sel;
    uint64_t off;
} gate;

static bool read_gate(x86_cpu *c, const event *e, gate *g)
{
    unsigned size = c->long_mode ? 16 : 8;
    uint64_t lo, hi = 0;

    if ((uint64_t)e->vec * size + size - 1 > c->idt_limit) {
        raise_err(c, EXC_GP, idt_err(c, e->vec));
        return false;
    }
    if (!x86_read(c, c->idt_base + (uint64_t)e->vec * size, &lo, 8, false) ||
        (size == 16 && !x86_read(c, c->idt_base + (uint64_t)e->vec * 16 + 8, &hi, 8, false))) {
        return false;
    }
    g->type = DESC_TYPE(lo);
    g->dpl = DESC_DPL(lo);
    g->ist = c->long_mode ? (unsigned)(lo >> 32) & 7 : 0;
    g->sel = (uint16_t)(lo >> 16);
    g->off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull) | (hi << 32);
    if (g->type == SYS_TASK && !c->long_mode) {
        H->log(TES_LOG_UNIMP, "cpu-x86: task gate for vector %d\n", e->vec);
    }
    bool ok = c->long_mode ? (g->type == SYS_INT || g->type == SYS_TRAP)
                           : (g->type == SYS_INT || g->type == SYS_TRAP ||
                              g->type == SYS_INT16 || g->type == SYS_TRAP16);
    if (!ok || DESC_S(lo)) {
        raise_err(c, EXC_GP, idt_err(c, e->vec));
        return false;
    }
    /* INT n, INT3, INTO check the gate's DPL (SDM 6.12.1.1). */
    if (e->kind == EV_SOFT && g->dpl < (unsigned)c->cpl) {
        raise_err(c, EXC_GP, ((uint32_t)e->vec << 3) | 2);
        return false;
    }
    if (!DESC_P(lo)) {
        raise_err(c, EXC_NP, idt_err(c, e->vec));
        return false;
    }
    return true;
}

/* The handler's code segment: present code, DPL <= CPL, 64-bit in long
 * mode. *new_cpl: its DPL, or CPL for conforming code. */
static bool gate_code(x86_cpu *c, const gate *g, x86_seg *cs, unsigned *new_cpl)
{
    uint64_t d;
    int r;

    if ((g->sel & ~3u) == 0) {
        raise_err(c, EXC_GP, sel_err(c, 0));
        return false;
    }
    r = desc_fetch(c, g->sel, &d, NULL);
    if (r != DESC_OK) {
        if (r == DESC_LIMIT) {
            raise_err(c, EXC_GP, sel_err(c, g->sel));
        }
        return false;
    }
    if (!DESC_S(d) || !(DESC_TYPE(d) & 8) || DESC_DPL(d) > (unsigned)c->cpl ||
        (c->long_mode && (!DESC_L(d) || DESC_DB(d)))) {
        raise_err(c, EXC_GP, sel_err(c, g->sel));
        return false;
    }
    if (!DESC_P(d)) {
        raise_err(c, EXC_NP, sel_err(c, g->sel));
        return false;
    }
    *new_cpl = (DESC_TYPE(d) & 4) ? (unsigned)c->cpl : DESC_DPL(d);
    desc_to_seg(cs, (uint16_t)((g->sel & ~3u) | *new_cpl), d);
    return true;
}

static bool tss_read(x86_cpu *c, unsigned off, unsigned size, uint64_t *v)
{
    const x86_seg *tr = &c->seg[S_TR];

    *v = 0;
    if (!(tr->attr & SEG_ATTR_P) || off + size - 1 > tr->limit) {
        raise_err(c, EXC_TS, sel_err(c, tr->sel));
        return false;
    }
    return x86_read(c, tr->base + off, v, size, false);
}

/* ---- long mode (SDM 6.14) ---- */

static bool push_frame64(x86_cpu *c, x86_stack *st, const event *e)
{
    return stk_push(c, st, c->seg[S_SS].sel, 8) && stk_push(c, st, c->regs[R_ESP], 8) &&
           stk_push(c, st, frame_flags(c, e), 8) && stk_push(c, st, c->seg[S_CS].sel, 8) &&
           stk_push(c, st, e->ret_rip, 8) && (!e->has_err || stk_push(c, st, e->err, 8));
}

static void deliver_long(x86_cpu *c, const event *e)
{
    gate g;
    x86_seg cs;
    x86_stack st;
    unsigned cpl;
    uint64_t sp = c->regs[R_ESP];

    if (!read_gate(c, e, &g) || !gate_code(c, &g, &cs, &cpl)) {
        return;
    }
    if (g.ist && !tss_read(c, 0x24 + (g.ist - 1) * 8, 8, &sp)) {
        return;
    }
    if (!g.ist && cpl < (unsigned)c->cpl && !tss_read(c, 4 + cpl * 8, 8, &sp)) {
        return;
    }
    st.ss = c->seg[S_SS];
    st.sp = sp & ~0xfull;
    st.bits = 64;
    st.user = cpl == 3;
    if (!is_canonical(st.sp) || !is_canonical(g.off)) {
        raise_err(c, is_canonical(st.sp) ? EXC_GP : EXC_SS, 0);
        return;
    }
    if (!push_frame64(c, &st, e)) {
        return;
    }
    if (cpl < (unsigned)c->cpl) {
        /* SS becomes a null selector with RPL = new CPL. */
        seg_flat(&c->seg[S_SS], (uint16_t)cpl, false, cpl, false);
        c->seg[S_SS].attr &= (uint16_t)~SEG_ATTR_DB;
    }
    c->regs[R_ESP] = st.sp;
    c->cpl = (int)cpl;
    c->seg[S_CS] = cs;
    x86_update_mode(c);
    enter_flags(c, g.type == SYS_INT);
    go(c, g.off);
}

/* ---- protected mode (SDM 6.12) ---- */

/* Inner stack from the TSS for level cpl, with the checks of SS (#TS). */
static bool inner_stack(x86_cpu *c, unsigned cpl, x86_stack *st)
{
    bool tss32 = (c->seg[S_TR].attr & 0xf) == SYS_TSS_AVAIL ||
                 (c->seg[S_TR].attr & 0xf) == SYS_TSS_BUSY;
    uint64_t sp, ss, d;
    int r;

    if (tss32 ? !tss_read(c, 4 + cpl * 8, 4, &sp) || !tss_read(c, 8 + cpl * 8, 2, &ss)
              : !tss_read(c, 2 + cpl * 4, 2, &sp) || !tss_read(c, 4 + cpl * 4, 2, &ss)) {
        return false;
    }
    if ((ss & ~3u) == 0 || (ss & 3) != cpl) {
        raise_err(c, EXC_TS, sel_err(c, (uint16_t)ss));
        return false;
    }
    r = desc_fetch(c, (uint16_t)ss, &d, NULL);
    if (r != DESC_OK || !DESC_S(d) || (DESC_TYPE(d) & 0xa) != 2 || DESC_DPL(d) != cpl) {
        if (r != DESC_FAULT) {
            raise_err(c, EXC_TS, sel_err(c, (uint16_t)ss));
        }
        return false;
    }
    if (!DESC_P(d)) {
        raise_err(c, EXC_SS, sel_err(c, (uint16_t)ss));
        return false;
    }
    desc_to_seg(&st->ss, (uint16_t)ss, d);
    st->sp = sp;
    st->bits = DESC_DB(d) ? 32 : 16;
    st->user = cpl == 3;
    return true;
}

static void deliver_prot(x86_cpu *c, const event *e)
{
    gate g;
    x86_seg cs;
    x86_stack st;
    unsigned cpl, size;
    bool outer;

    if (!read_gate(c, e, &g) || !gate_code(c, &g, &cs, &cpl)) {
        return;
    }
    size = (g.type & 8) ? 4 : 2;
    outer = cpl < (unsigned)c->cpl;
    if (outer ? !inner_stack(c, cpl, &st) : (stk_current(c, &st), false)) {
        return;
    }
    if (g.off > cs.limit) {
        raise_err(c, EXC_GP, 0);
        return;
    }
    if ((outer && (!stk_push(c, &st, c->seg[S_SS].sel, size) ||
                   !stk_push(c, &st, c->regs[R_ESP], size))) ||
        !stk_push(c, &st, frame_flags(c, e), size) || !stk_push(c, &st, c->seg[S_CS].sel, size) ||
        !stk_push(c, &st, e->ret_rip, size) || (e->has_err && !stk_push(c, &st, e->err, size))) {
        return;
    }
    if (outer) {
        c->seg[S_SS] = st.ss;
        c->cpl = (int)cpl;
    }
    c->seg[S_CS] = cs;
    x86_update_mode(c);
    if (outer) {
        set_rsp(c, st.sp);
    } else {
        stk_commit_sp(c, &st);
    }
    enter_flags(c, (g.type & 1) == 0);
    go(c, size == 2 ? g.off & 0xffff : g.off);
}

/* ---- entry points ---- */

static void log_event(x86_cpu *c, const char *what, const event *e)
{
    if (H->log_enabled(TES_LOG_INT)) {
        H->log(TES_LOG_INT, "cpu-x86: cpu %u %s vector %d err 0x%x rip 0x%llx cpl %d cr2 0x%llx\n",
               c->index, what, e->vec, e->has_err ? e->err : 0,
               (unsigned long long)c->rip, c->cpl, (unsigned long long)c->cr2);
    }
}

static void deliver(x86_cpu *c, const event *e)
{
    int saved_vec = c->exc_vec;
    bool saved_ext = c->exc_ext;

    c->exc_vec = e->vec;
    c->exc_ext = e->kind != EV_SOFT;
    c->exc_depth++;
    if (!(c->cr0 & CR0_PE)) {
        deliver_real(c, e);
    } else if (c->long_mode) {
        deliver_long(c, e);
    } else {
        deliver_prot(c, e);
    }
    c->exc_depth--;
    c->exc_vec = saved_vec;
    c->exc_ext = saved_ext;
}

void x86_exception(x86_cpu *c, int vec, bool has_err, uint32_t err)
{
    event e = { vec, EV_EXC, has_err, err, c->rip };

    c->fault = true;
    if (c->triple_fault) {
        return;
    }
    if (c->exc_vec >= 0) {
        int first = exc_class(c->exc_vec), second = exc_class(vec);

        if (c->exc_vec == EXC_DF || c->exc_depth > 4) {
            triple_fault(c);
            return;
        }
        if ((first == CL_CONTRIB && second == CL_CONTRIB) ||
            (first == CL_PF && second != CL_BENIGN)) {
            e.vec = EXC_DF;
            e.has_err = true;
            e.err = 0;
        }
    }
    if (!(c->cr0 & CR0_PE)) {
        e.has_err = false; /* real mode pushes no error code */
    }
    log_event(c, "exception", &e);
    deliver(c, &e);
}

void x86_interrupt(x86_cpu *c, int vec)
{
    event e = { vec, EV_EXT, false, 0, c->rip };

    if (vec == EXC_NMI) {
        c->nmi_pending = false;
        c->nmi_blocked = true;
    }
    log_event(c, "interrupt", &e);
    deliver(c, &e);
}

void x86_soft_int(x86_cpu *c, int vec)
{
    event e = { vec, EV_SOFT, false, 0, c->next_rip };

    log_event(c, "software interrupt", &e);
    deliver(c, &e);
}

/* ---- IRET ---- */

static void iret_real(x86_cpu *c, int opsize)
{
    x86_stack st;
    uint64_t ip, cs, fl, old = x86_get_flags(c);

    stk_current(c, &st);
    if (!stk_pop(c, &st, &ip, (unsigned)opsize) || !stk_pop(c, &st, &cs, (unsigned)opsize) ||
        !stk_pop(c, &st, &fl, (unsigned)opsize)) {
        return;
    }
    stk_commit_sp(c, &st);
    if (opsize == 2) {
        fl = (old & ~0xffffull) | (fl & 0xffff);
    } else {
        /* VM, VIF and VIP keep their values (SDM IRET, real-address mode). */
        fl = (fl & 0x257fd5) | (old & 0x1a0000);
    }
    x86_set_flags(c, fl | 2);
    x86_far_jmp(c, (uint16_t)cs, ip);
    c->nmi_blocked = false;
}

/* RFLAGS bits IRET may change at CPL cpl (SDM IRET: IOPL only at CPL 0,
 * IF only when CPL <= IOPL, VIF/VIP at CPL 0). */
static uint64_t iret_flags(x86_cpu *c, uint64_t fl, int opsize)
{
    uint64_t old = x86_get_flags(c);
    uint64_t m = F_ARITH | F_TF | F_DF | F_NT | F_RF | F_AC | F_ID;
    unsigned iopl = (old >> 12) & 3;

    if (c->cpl == 0) {
        m |= F_IOPL | F_VIF | F_VIP;
    }
    if ((unsigned)c->cpl <= iopl) {
        m |= F_IF;
    }
    if (opsize == 2) {
        m &= 0xffff;
    }
    return ((old & ~m) | (fl & m) | 2) & ~(uint64_t)F_VM;
}

static void iret_prot(x86_cpu *c, int opsize)
{
    x86_stack st;
    uint64_t rip, cs_sel, fl, sp = 0;
    x86_seg cs, ss;
    bool from64 = c->code_bits == 64;

    if (x86_get_flags(c) & F_NT) {
        H->log(TES_LOG_UNIMP, "cpu-x86: IRET with NT set (task return)\n");
        raise_err(c, EXC_GP, 0);
        return;
    }
    stk_current(c, &st);
    if (!stk_pop(c, &st, &rip, (unsigned)opsize) || !stk_pop(c, &st, &cs_sel, (unsigned)opsize) ||
        !stk_pop(c, &st, &fl, (unsigned)opsize)) {
        return;
    }
    if ((fl & F_VM) && c->cpl == 0 && !c->long_mode) {
        H->log(TES_LOG_UNIMP, "cpu-x86: IRET to virtual-8086 mode\n");
        raise_err(c, EXC_GP, 0);
        return;
    }
    if (!check_ret_code(c, (uint16_t)cs_sel, &cs)) {
        return;
    }
    unsigned rpl = cs_sel & 3;
    bool code64 = c->long_mode && (cs.attr & SEG_ATTR_L);
    bool outer = rpl > (unsigned)c->cpl;
    /* 64-bit mode always pops SS:RSP (SDM 6.14.3). */
    if ((outer || from64) && !pop_ss_sp(c, &st, rpl, code64, opsize, 0, &ss, &sp)) {
        return;
    }
    if (code64 ? !is_canonical(rip) : rip > cs.limit) {
        raise_err(c, EXC_GP, 0);
        return;
    }
    x86_set_flags(c, iret_flags(c, fl, opsize));
    if (outer || from64) {
        c->seg[S_SS] = ss;
    }
    c->cpl = (int)rpl;
    c->seg[S_CS] = cs;
    x86_update_mode(c);
    if (outer || from64) {
        set_rsp(c, sp);
    } else {
        stk_commit_sp(c, &st);
    }
    if (outer) {
        seg_check_outer(c);
    }
    c->rip = c->next_rip = c->code_bits == 64 ? rip : rip & 0xffffffffull;
    c->nmi_blocked = false;
}

void x86_iret(x86_cpu *c, int opsize)
{
    if (!(c->cr0 & CR0_PE)) {
        iret_real(c, opsize);
        return;
    }
    if (c->eflags & F_VM) {
        raise_err(c, EXC_GP, 0);
        return;
    }
    iret_prot(c, opsize);
}
