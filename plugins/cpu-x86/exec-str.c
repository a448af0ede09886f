/*
 * cpu-x86: string instructions MOVS CMPS STOS LODS SCAS INS OUTS with
 * REP/REPE/REPNE (Intel SDM Vol. 2, "REP/REPE/REPZ/REPNE/REPNZ").
 *
 * rSI/rDI/rCX are used at the address size; the source segment is DS
 * (overridable), the destination always ES. A REP instruction runs at most
 * REP_CHUNK iterations per step and then restarts itself (rip unchanged),
 * so interrupts are taken during long copies, as on hardware. A fault in
 * the middle leaves the registers of the completed iterations. REP MOVS
 * and REP STOS move whole runs within a page at once when nothing can
 * tell the difference (bulk()).
 */
#include "exec.h"

#define REP_CHUNK 4096u

typedef struct str_ctx {
    unsigned size, as;
    uint64_t am;
    int64_t step;
    int sseg;
} str_ctx;

static void advance(x86_cpu *c, x86_insn *x, const str_ctx *s, int r)
{
    set_reg(c, x, r, s->as, (c->regs[r] + (uint64_t)s->step) & s->am);
}

/* I/O instructions in protected mode need CPL <= IOPL (the TSS bitmap is
 * not consulted). */
static bool io_allowed(x86_cpu *c)
{
    unsigned iopl = (unsigned)((c->eflags & F_IOPL) >> 12);

    if ((c->cr0 & CR0_PE) && ((c->eflags & F_VM) || (unsigned)c->cpl > iopl)) {
        x86_raise_gp(c, 0);
        return false;
    }
    return true;
}

/* One iteration; false when it faulted. */
static bool str_once(x86_cpu *c, x86_insn *x, const str_ctx *s)
{
    uint64_t si = c->regs[R_ESI] & s->am, di = c->regs[R_EDI] & s->am, a = 0, b = 0;
    unsigned size = s->size;

    switch (x->op | 1) {
    case 0xa5: /* MOVS */
        if (!x86_mem_read(c, s->sseg, si, &a, size) || !x86_mem_write(c, S_ES, di, &a, size)) {
            return false;
        }
        advance(c, x, s, R_ESI);
        advance(c, x, s, R_EDI);
        return true;
    case 0xa7: /* CMPS: [rSI] - [rDI] */
        if (!x86_mem_read(c, s->sseg, si, &a, size) || !x86_mem_read(c, S_ES, di, &b, size)) {
            return false;
        }
        set_cc(c, CC_OP_SUB, size, (a - b) & size_mask(size), b);
        advance(c, x, s, R_ESI);
        advance(c, x, s, R_EDI);
        return true;
    case 0xab: /* STOS */
        a = c->regs[R_EAX];
        if (!x86_mem_write(c, S_ES, di, &a, size)) {
            return false;
        }
        advance(c, x, s, R_EDI);
        return true;
    case 0xad: /* LODS */
        if (!x86_mem_read(c, s->sseg, si, &a, size)) {
            return false;
        }
        set_reg(c, x, R_EAX, size, a);
        advance(c, x, s, R_ESI);
        return true;
    case 0xaf: /* SCAS: rAX - [rDI] */
        if (!x86_mem_read(c, S_ES, di, &b, size)) {
            return false;
        }
        a = get_reg(c, x, R_EAX, size);
        set_cc(c, CC_OP_SUB, size, (a - b) & size_mask(size), b);
        advance(c, x, s, R_EDI);
        return true;
    case 0x6d: /* INS */
        a = x86_io_read(c, (uint16_t)c->regs[R_EDX], size);
        if (!x86_mem_write(c, S_ES, di, &a, size)) {
            return false;
        }
        advance(c, x, s, R_EDI);
        return true;
    default: /* 0x6f OUTS */
        if (!x86_mem_read(c, s->sseg, si, &a, size)) {
            return false;
        }
        x86_io_write(c, (uint16_t)c->regs[R_EDX], a, size);
        advance(c, x, s, R_ESI);
        return true;
    }
}

/* ---- REP MOVS / REP STOS on RAM in 64-bit mode ---- */

static uint8_t *tlb_host(x86_tlb_entry *tlb, uint64_t a)
{
    const x86_tlb_entry *e = &tlb[(a >> 12) & (X86_TLB_SIZE - 1)];

    return e->va_tag == ((a & ~0xfffull) | 1) && e->host ? e->host + (a & 0xfff) : NULL;
}

static bool bulk_ok(const x86_cpu *c, const x86_insn *x)
{
    unsigned op = x->op | 1;

    return (op == 0xa5 || op == 0xab) && c->code_bits == 64 && x->addrsize == 8 &&
           !(c->eflags & F_DF) && (op == 0xab || (x->seg != S_FS && x->seg != S_GS));
}

/* Up to max iterations at once, within one page of each operand, when
 * both are RAM the TLB maps (writes: not a code page) and a forward copy
 * cannot read what it wrote: then memmove/memset do exactly what the
 * iterations would. Returns the iterations done (0: do one the slow way,
 * which also fills the TLB or faults). */
static uint64_t bulk(x86_cpu *c, x86_insn *x, const str_ctx *s, uint64_t max)
{
    bool user = c->cpl == 3, movs = (x->op | 1) == 0xa5;
    uint64_t di = c->regs[R_EDI], si = c->regs[R_ESI], n = max, a = c->regs[R_EAX];
    uint8_t *hd = tlb_host(c->tlb_w[user], di), *hs = NULL;

    if (!hd) {
        return 0;
    }
    n = n < (4096 - (di & 0xfff)) / s->size ? n : (4096 - (di & 0xfff)) / s->size;
    if (movs) {
        hs = tlb_host(c->tlb_r[user], si);
        if (!hs) {
            return 0;
        }
        n = n < (4096 - (si & 0xfff)) / s->size ? n : (4096 - (si & 0xfff)) / s->size;
        if (hd > hs && hd < hs + n * s->size) {
            return 0; /* overlapping forwards: element by element */
        }
    }
    if (n == 0) {
        return 0;
    }
    if (movs) {
        memmove(hd, hs, n * s->size);
        c->regs[R_ESI] = si + n * s->size;
    } else if (s->size == 1) {
        memset(hd, (int)(a & 0xff), n);
    } else {
        for (uint64_t i = 0; i < n; i++) {
            memcpy(hd + i * s->size, &a, s->size);
        }
    }
    c->regs[R_EDI] = di + n * s->size;
    c->regs[R_ECX] -= n;
    return n;
}

void x86_exec_string(x86_cpu *c, x86_insn *x)
{
    str_ctx s;
    bool cmp = (x->op | 1) == 0xa7 || (x->op | 1) == 0xaf;

    s.size = (x->op & 1) ? x->opsize : 1;
    if (s.size == 8 && x->op < 0xa0) {
        s.size = 4; /* INS/OUTS have no 64-bit form */
    }
    s.as = x->addrsize;
    s.am = size_mask(s.as);
    s.step = (c->eflags & F_DF) ? -(int64_t)s.size : (int64_t)s.size;
    s.sseg = x->seg == S_NONE ? S_DS : x->seg;
    if (x->op < 0xa0 && !io_allowed(c)) {
        return;
    }
    if (!x->rep && !x->repne) {
        str_once(c, x, &s);
        return;
    }
    for (unsigned n = 0; n < REP_CHUNK; n++) {
        uint64_t count = c->regs[R_ECX] & s.am, k;

        if (count == 0) {
            return;
        }
        if (bulk_ok(c, x) && (k = bulk(c, x, &s, count < REP_CHUNK - n ? count : REP_CHUNK - n))) {
            n += (unsigned)k - 1;
            continue;
        }
        if (!str_once(c, x, &s)) {
            return;
        }
        set_reg(c, x, R_ECX, s.as, count - 1);
        if (cmp && x86_cond(c, 4) != x->rep) {
            return; /* REPE stops on ZF=0, REPNE on ZF=1 */
        }
    }
    if (c->regs[R_ECX] & s.am) {
        c->next_rip = c->rip; /* continue in the next step */
    }
}
