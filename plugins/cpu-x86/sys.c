/*
 * cpu-x86: privileged and system instructions (x86_exec_system): control
 * and debug registers, descriptor table registers, LLDT/LTR, RDMSR/WRMSR,
 * CPUID, RDTSC(P), SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS, HLT, port
 * I/O with IOPL and TSS I/O bitmap checks, LAR/LSL/VERR/VERW.
 *
 * MONITOR/MWAIT, XGETBV/XSETBV, CLAC/STAC are not advertised: #UD. RDPMC:
 * no counters, #GP.
 */
#include "x86sys.h"

/* ---- operands ---- */

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static void set_reg(x86_cpu *c, unsigned r, unsigned size, uint64_t v)
{
    if (size >= 8) {
        c->regs[r] = v;
    } else if (size == 4) {
        c->regs[r] = (uint32_t)v; /* 32-bit writes zero-extend */
    } else {
        c->regs[r] = (c->regs[r] & ~size_mask(size)) | (v & size_mask(size));
    }
}

/* Default segment of a memory operand: the decoder resolves DS/SS
 * defaults into x->seg; S_NONE means DS. */
static int mem_seg(const x86_insn *x)
{
    return x->seg != S_NONE ? x->seg : S_DS;
}

static bool rm_read(x86_cpu *c, const x86_insn *x, unsigned size, uint64_t *v)
{
    if (!x->rm_is_mem) {
        *v = c->regs[x->rm] & size_mask(size);
        return true;
    }
    *v = 0;
    return x86_mem_read(c, mem_seg(x), x->ea, v, size);
}

static bool rm_write(x86_cpu *c, const x86_insn *x, unsigned size, uint64_t v)
{
    if (!x->rm_is_mem) {
        set_reg(c, x->rm, size, v);
        return true;
    }
    return x86_mem_write(c, mem_seg(x), x->ea, &v, size);
}

/* CPL 0 or #GP(0). */
static bool priv(x86_cpu *c)
{
    if (c->cpl != 0) {
        x86_raise_gp(c, 0);
        return false;
    }
    return true;
}

static void set_zf(x86_cpu *c, bool z)
{
    uint64_t f = x86_get_flags(c);

    x86_set_flags(c, z ? f | F_ZF : f & ~(uint64_t)F_ZF);
}

/* ---- control registers (SDM 2.5, MOV CR) ---- */

static bool write_cr0(x86_cpu *c, uint64_t v)
{
    uint64_t old = c->cr0;

    v |= CR0_ET;
    if ((v >> 32) || ((v & CR0_PG) && !(v & CR0_PE))) {
        return false;
    }
    if ((v & CR0_PG) && !(old & CR0_PG) && (c->efer & EFER_LME)) {
        /* Activating long mode (SDM 9.8.5): PAE on, not from 64-bit code. */
        if (!(c->cr4 & CR4_PAE) || (c->seg[S_CS].attr & SEG_ATTR_L)) {
            return false;
        }
        c->efer |= EFER_LMA;
    }
    if (!(v & CR0_PG) && (old & CR0_PG) && (c->efer & EFER_LMA)) {
        if (c->code_bits == 64) {
            return false;
        }
        c->efer &= ~(uint64_t)EFER_LMA;
    }
    c->cr0 = v;
    if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) {
        x86_tlb_flush(c, false);
    }
    x86_update_mode(c);
    return true;
}

#define CR4_VALID (CR4_PSE | CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT | \
                   (1u << 2) /* TSD */ | (1u << 3) /* DE */ | (1u << 8) /* PCE */)
#define CR4_TSD (1u << 2)

static bool write_cr4(x86_cpu *c, uint64_t v)
{
    uint64_t old = c->cr4;

    if ((v & ~(uint64_t)CR4_VALID) || ((c->efer & EFER_LMA) && !(v & CR4_PAE))) {
        return false;
    }
    c->cr4 = v;
    if ((old ^ v) & (CR4_PSE | CR4_PAE | CR4_PGE)) {
        x86_tlb_flush(c, false);
    }
    return true;
}

static bool write_cr(x86_cpu *c, unsigned n, uint64_t v)
{
    switch (n) {
    case 0:
        return write_cr0(c, v);
    case 2:
        c->cr2 = v;
        return true;
    case 3:
        /* No PCID: bits 63:40 (above MAXPHYADDR) are reserved. */
        if ((c->efer & EFER_LMA) && (v >> 40)) {
            return false;
        }
        c->cr3 = v;
        x86_tlb_flush(c, true);
        return true;
    case 4:
        return write_cr4(c, v);
    default: /* 8: TPR[7:4] */
        if (v & ~0xfull) {
            return false;
        }
        c->cr8 = v;
        x86_apic_set_tpr(c, (uint8_t)(v << 4));
        return true;
    }
}

static uint64_t read_cr(x86_cpu *c, unsigned n)
{
    switch (n) {
    case 0:
        return c->cr0;
    case 2:
        return c->cr2;
    case 3:
        return c->cr3;
    case 4:
        return c->cr4;
    default:
        return x86_apic_get_tpr(c) >> 4;
    }
}

static void mov_cr(x86_cpu *c, x86_insn *x)
{
    unsigned n = x->reg, size = c->code_bits == 64 ? 8 : 4;

    if (n == 1 || (n > 4 && n != 8) || (n == 8 && c->code_bits != 64)) {
        x86_raise_ud(c);
        return;
    }
    if (!priv(c)) {
        return;
    }
    if (x->op == 0x0f20) {
        set_reg(c, x->rm, size, read_cr(c, n));
        return;
    }
    if (!write_cr(c, n, c->regs[x->rm] & size_mask(size))) {
        x86_raise_gp(c, 0);
    }
}

static void mov_dr(x86_cpu *c, x86_insn *x)
{
    unsigned n = x->reg, size = c->code_bits == 64 ? 8 : 4;

    if (n > 7) {
        x86_raise_ud(c);
        return;
    }
    if (!priv(c)) {
        return;
    }
    if (n == 4 || n == 5) {
        n += 2; /* aliases of DR6/DR7 without CR4.DE */
    }
    if (x->op == 0x0f21) {
        set_reg(c, x->rm, size, c->dr[n]);
        return;
    }
    uint64_t v = c->regs[x->rm] & size_mask(size);
    if (n >= 6 && (v >> 32)) {
        x86_raise_gp(c, 0);
        return;
    }
    c->dr[n] = n == 6 ? v | 0xffff0ff0ull : n == 7 ? (v | 0x400) & ~0x2000ull : v;
}

/* ---- descriptor table registers ---- */

static void store_dtr(x86_cpu *c, x86_insn *x, uint16_t limit, uint64_t base)
{
    unsigned bsize = c->code_bits == 64 ? 8 : 4;
    uint64_t off = x->ea;

    if (!x->rm_is_mem) {
        x86_raise_ud(c);
        return;
    }
    if (x86_mem_write(c, mem_seg(x), off, &limit, 2)) {
        x86_mem_write(c, mem_seg(x), off + 2, &base, bsize);
    }
}

static bool load_dtr(x86_cpu *c, x86_insn *x, uint16_t *limit, uint64_t *base)
{
    unsigned bsize = c->code_bits == 64 ? 8 : 4;
    uint64_t l = 0, b = 0;

    if (!x->rm_is_mem) {
        x86_raise_ud(c);
        return false;
    }
    if (!priv(c) || !x86_mem_read(c, mem_seg(x), x->ea, &l, 2) ||
        !x86_mem_read(c, mem_seg(x), x->ea + 2, &b, bsize)) {
        return false;
    }
    if (x->opsize == 2 && bsize == 4) {
        b &= 0xffffff;
    }
    if (bsize == 8 && !is_canonical(b)) {
        x86_raise_gp(c, 0);
        return false;
    }
    *limit = (uint16_t)l;
    *base = b;
    return true;
}

static void lldt(x86_cpu *c, uint16_t sel)
{
    uint64_t d, hi = 0;
    int r;

    if ((sel & ~3u) == 0) {
        seg_null(&c->seg[S_LDTR], sel);
        return;
    }
    r = (sel & 4) ? DESC_LIMIT : desc_fetch(c, sel, &d, c->long_mode ? &hi : NULL);
    if (r == DESC_FAULT) {
        return;
    }
    if (r == DESC_LIMIT || DESC_S(d) || DESC_TYPE(d) != SYS_LDT) {
        x86_raise_gp(c, sel & 0xfffc);
        return;
    }
    if (!DESC_P(d)) {
        x86_exception(c, EXC_NP, true, sel & 0xfffc);
        return;
    }
    desc_to_seg(&c->seg[S_LDTR], sel, d);
    c->seg[S_LDTR].base |= (hi & 0xffffffffull) << 32;
}

/* LTR: an available TSS, marked busy in the GDT (SDM LTR). */
static void ltr(x86_cpu *c, uint16_t sel)
{
    uint64_t d, hi = 0;
    unsigned type;
    int r;

    if ((sel & ~3u) == 0) {
        x86_raise_gp(c, 0);
        return;
    }
    r = (sel & 4) ? DESC_LIMIT : desc_fetch(c, sel, &d, c->long_mode ? &hi : NULL);
    if (r == DESC_FAULT) {
        return;
    }
    type = r == DESC_OK ? DESC_TYPE(d) : 0;
    if (r == DESC_LIMIT || DESC_S(d) ||
        !(type == SYS_TSS_AVAIL || (type == SYS_TSS16_AVAIL && !c->long_mode))) {
        x86_raise_gp(c, sel & 0xfffc);
        return;
    }
    if (!DESC_P(d)) {
        x86_exception(c, EXC_NP, true, sel & 0xfffc);
        return;
    }
    d |= 2ull << 40;
    desc_store(c, sel, d);
    desc_to_seg(&c->seg[S_TR], sel, d);
    c->seg[S_TR].base |= (hi & 0xffffffffull) << 32;
}

/* ---- LAR, LSL, VERR, VERW: no fault, ZF tells ---- */

/* The descriptor of sel when the current privilege may see it. */
static bool desc_visible(x86_cpu *c, uint16_t sel, uint64_t *d)
{
    unsigned dpl;

    if ((sel & ~3u) == 0 || desc_fetch(c, sel, d, NULL) != DESC_OK) {
        return false;
    }
    dpl = DESC_DPL(*d);
    if (DESC_S(*d) && (DESC_TYPE(*d) & 0xc) == 0xc) {
        return true; /* conforming code */
    }
    return dpl >= (unsigned)c->cpl && dpl >= (sel & 3u);
}

static bool sys_type_ok(x86_cpu *c, unsigned type, bool lar)
{
    static const uint16_t lar_legacy = 0x1a3e, lar_long = 0x1a04;
    static const uint16_t lsl_legacy = 0x0a0e, lsl_long = 0x0a04;
    uint16_t set = c->long_mode ? (lar ? lar_long : lsl_long) : (lar ? lar_legacy : lsl_legacy);

    return (set >> type) & 1;
}

static void lar_lsl(x86_cpu *c, x86_insn *x, bool lar)
{
    uint64_t sel, d, v;
    unsigned size = x->opsize;

    if (!prot_mode(c)) {
        x86_raise_ud(c);
        return;
    }
    if (!rm_read(c, x, 2, &sel)) {
        return;
    }
    if (!desc_visible(c, (uint16_t)sel, &d) ||
        (!DESC_S(d) && !sys_type_ok(c, DESC_TYPE(d), lar))) {
        if (!c->fault) {
            set_zf(c, false);
        }
        return;
    }
    if (lar) {
        v = (d >> 32) & 0x00f0ff00ull;
    } else {
        x86_seg s;

        desc_to_seg(&s, (uint16_t)sel, d);
        v = s.limit;
    }
    set_reg(c, x->reg, size == 2 ? 2 : size, size == 2 ? v & 0xffff : v);
    set_zf(c, true);
}

static void verr_verw(x86_cpu *c, x86_insn *x, bool write)
{
    uint64_t sel, d;
    bool ok;

    if (!rm_read(c, x, 2, &sel)) {
        return;
    }
    ok = desc_visible(c, (uint16_t)sel, &d) && DESC_S(d);
    if (ok) {
        unsigned t = DESC_TYPE(d);

        ok = write ? !(t & 8) && (t & 2) : !(t & 8) || (t & 2);
    }
    if (!c->fault) {
        set_zf(c, ok);
    }
}

static void grp6(x86_cpu *c, x86_insn *x)
{
    uint64_t sel;

    if (!prot_mode(c)) {
        x86_raise_ud(c);
        return;
    }
    switch (x->reg & 7) {
    case 0: /* SLDT */
    case 1: /* STR */
        rm_write(c, x, x->rm_is_mem ? 2 : x->opsize,
                 c->seg[(x->reg & 7) == 0 ? S_LDTR : S_TR].sel);
        return;
    case 2:
    case 3:
        if (priv(c) && rm_read(c, x, 2, &sel)) {
            ((x->reg & 7) == 2 ? lldt : ltr)(c, (uint16_t)sel);
        }
        return;
    case 4:
    case 5:
        verr_verw(c, x, (x->reg & 7) == 5);
        return;
    default:
        x86_raise_ud(c);
        return;
    }
}

/* ---- group 7 (0F 01) ---- */

static void swapgs(x86_cpu *c)
{
    uint64_t t;

    if (c->code_bits != 64) {
        x86_raise_ud(c);
        return;
    }
    if (!priv(c)) {
        return;
    }
    t = c->seg[S_GS].base;
    c->seg[S_GS].base = c->kernel_gs_base;
    c->kernel_gs_base = t;
}

static bool rdtsc_allowed(x86_cpu *c)
{
    if ((c->cr4 & CR4_TSD) && c->cpl != 0) {
        x86_raise_gp(c, 0);
        return false;
    }
    return true;
}

static void rdtsc(x86_cpu *c, bool aux)
{
    uint64_t t;

    if (!rdtsc_allowed(c)) {
        return;
    }
    t = x86_rdtsc(c);
    set_reg(c, R_EAX, 4, t);
    set_reg(c, R_EDX, 4, t >> 32);
    if (aux) {
        set_reg(c, R_ECX, 4, c->tsc_aux);
    }
}

static void grp7_reg(x86_cpu *c, x86_insn *x)
{
    unsigned rm = x->rm & 7;

    switch (x->reg & 7) {
    case 4: /* SMSW r */
        set_reg(c, x->rm, x->opsize, c->cr0 & size_mask(x->opsize));
        return;
    case 6: { /* LMSW r */
        uint64_t v = c->regs[x->rm];

        if (priv(c) && !write_cr0(c, (c->cr0 & ~0xeull) | (v & 0xf) | (c->cr0 & CR0_PE))) {
            x86_raise_gp(c, 0);
        }
        return;
    }
    case 7:
        if (rm == 0) {
            swapgs(c);
            return;
        }
        if (rm == 1) {
            rdtsc(c, true);
            return;
        }
        break;
    default:
        break;
    }
    /* MONITOR/MWAIT, CLAC/STAC, XGETBV/XSETBV, VMX/SVM: not advertised. */
    x86_raise_ud(c);
}

static void invlpg(x86_cpu *c, x86_insn *x)
{
    int seg = mem_seg(x);
    uint64_t la = x->ea;

    if (!priv(c)) {
        return;
    }
    if (c->code_bits != 64 || seg == S_FS || seg == S_GS) {
        la += c->seg[seg].base;
    }
    x86_tlb_flush_page(c, c->long_mode ? la : la & 0xffffffffull);
}

static void grp7(x86_cpu *c, x86_insn *x)
{
    uint16_t limit;
    uint64_t base, v;

    if (!x->rm_is_mem) {
        grp7_reg(c, x);
        return;
    }
    switch (x->reg & 7) {
    case 0:
        store_dtr(c, x, c->gdt_limit, c->gdt_base);
        return;
    case 1:
        store_dtr(c, x, c->idt_limit, c->idt_base);
        return;
    case 2:
    case 3:
        if (load_dtr(c, x, &limit, &base)) {
            if ((x->reg & 7) == 2) {
                c->gdt_limit = limit;
                c->gdt_base = base;
            } else {
                c->idt_limit = limit;
                c->idt_base = base;
            }
        }
        return;
    case 4: /* SMSW m16 */
        rm_write(c, x, 2, c->cr0 & 0xffff);
        return;
    case 6: /* LMSW m16: PE can be set, not cleared */
        if (priv(c) && rm_read(c, x, 2, &v) &&
            !write_cr0(c, (c->cr0 & ~0xeull) | (v & 0xf) | (c->cr0 & CR0_PE))) {
            x86_raise_gp(c, 0);
        }
        return;
    case 7:
        invlpg(c, x);
        return;
    default:
        x86_raise_ud(c);
        return;
    }
}

/* ---- fast system calls ---- */

static void jump_to(x86_cpu *c, int cpl, uint64_t rip)
{
    c->cpl = cpl;
    x86_update_mode(c);
    c->rip = c->next_rip = c->code_bits == 64 ? rip : rip & 0xffffffffull;
}

/* SYSCALL (AMD APM 2, 6.1.1; SDM SYSCALL): CS/SS from STAR[47:32] with
 * fixed flat attributes; 64-bit mode to LSTAR, compatibility mode to
 * CSTAR (RCX, R11 saved, RFLAGS masked by SFMASK), legacy mode to
 * STAR[31:0] with IF, VM, RF cleared. */
static void do_syscall(x86_cpu *c)
{
    uint16_t sel = (uint16_t)(c->star >> 32) & 0xfffc;
    uint64_t fl = x86_get_flags(c), target;

    if (!(c->efer & EFER_SCE) || !prot_mode(c)) {
        x86_raise_ud(c);
        return;
    }
    if (c->long_mode) {
        target = c->code_bits == 64 ? c->lstar : c->cstar;
        c->regs[R_ECX] = c->next_rip;
        c->regs[R_R11] = fl & ~(uint64_t)F_RF;
        x86_set_flags(c, (fl & ~(c->sfmask | F_RF)) | 2);
    } else {
        target = (uint32_t)c->star;
        c->regs[R_ECX] = (uint32_t)c->next_rip;
        x86_set_flags(c, fl & ~(uint64_t)(F_IF | F_VM | F_RF));
    }
    seg_flat(&c->seg[S_CS], sel, true, 0, c->long_mode);
    seg_flat(&c->seg[S_SS], (uint16_t)(sel + 8), false, 0, false);
    jump_to(c, 0, target);
}

/* SYSRET: to 64-bit code at STAR[63:48] + 16 (REX.W) or to 32-bit code
 * at STAR[63:48], SS = STAR[63:48] + 8, CPL 3; RFLAGS from R11. */
static void do_sysret(x86_cpu *c, x86_insn *x)
{
    uint16_t base = (uint16_t)(c->star >> 48);
    uint64_t rip = c->regs[R_ECX];
    bool to64 = x->opsize == 8;

    if (!(c->efer & EFER_SCE) || !prot_mode(c)) {
        x86_raise_ud(c);
        return;
    }
    if (!priv(c)) {
        return;
    }
    if (to64 && !is_canonical(rip)) {
        x86_raise_gp(c, 0);
        return;
    }
    if (c->long_mode) {
        x86_set_flags(c, (c->regs[R_R11] & 0x3c7fd7) | 2);
    } else {
        x86_set_flags(c, x86_get_flags(c) | F_IF);
    }
    seg_flat(&c->seg[S_CS], (uint16_t)((to64 ? base + 16 : base) | 3), true, 3, to64);
    seg_flat(&c->seg[S_SS], (uint16_t)((base + 8) | 3), false, 3, false);
    jump_to(c, 3, to64 ? rip : (uint32_t)rip);
}

static void do_sysenter(x86_cpu *c)
{
    uint16_t sel = (uint16_t)c->sysenter_cs & 0xfffc;

    if (!prot_mode(c) || sel == 0) {
        x86_raise_gp(c, 0);
        return;
    }
    x86_set_flags(c, x86_get_flags(c) & ~(uint64_t)(F_VM | F_IF | F_RF));
    seg_flat(&c->seg[S_CS], sel, true, 0, c->long_mode);
    seg_flat(&c->seg[S_SS], (uint16_t)(sel + 8), false, 0, false);
    c->regs[R_ESP] = c->long_mode ? c->sysenter_esp : (uint32_t)c->sysenter_esp;
    jump_to(c, 0, c->sysenter_eip);
}

static void do_sysexit(x86_cpu *c, x86_insn *x)
{
    uint16_t sel = (uint16_t)c->sysenter_cs & 0xfffc;
    bool to64 = x->opsize == 8;

    if (!prot_mode(c) || sel == 0 || c->cpl != 0) {
        x86_raise_gp(c, 0);
        return;
    }
    if (to64 && (!is_canonical(c->regs[R_EDX]) || !is_canonical(c->regs[R_ECX]))) {
        x86_raise_gp(c, 0);
        return;
    }
    seg_flat(&c->seg[S_CS], (uint16_t)((sel + (to64 ? 32 : 16)) | 3), true, 3, to64);
    seg_flat(&c->seg[S_SS], (uint16_t)((sel + (to64 ? 40 : 24)) | 3), false, 3, false);
    c->regs[R_ESP] = to64 ? c->regs[R_ECX] : (uint32_t)c->regs[R_ECX];
    jump_to(c, 3, to64 ? c->regs[R_EDX] : (uint32_t)c->regs[R_EDX]);
}

/* ---- MSRs, CPUID, HLT ---- */

static void do_rdmsr(x86_cpu *c)
{
    uint64_t v;

    if (!priv(c)) {
        return;
    }
    if (!x86_rdmsr(c, (uint32_t)c->regs[R_ECX], &v)) {
        x86_raise_gp(c, 0);
        return;
    }
    set_reg(c, R_EAX, 4, v);
    set_reg(c, R_EDX, 4, v >> 32);
}

static void do_wrmsr(x86_cpu *c)
{
    uint64_t v = (c->regs[R_EDX] << 32) | (uint32_t)c->regs[R_EAX];

    if (priv(c) && !x86_wrmsr(c, (uint32_t)c->regs[R_ECX], v)) {
        x86_raise_gp(c, 0);
    }
}

static void do_cpuid(x86_cpu *c)
{
    uint32_t out[4];

    x86_cpuid(c, (uint32_t)c->regs[R_EAX], (uint32_t)c->regs[R_ECX], out);
    set_reg(c, R_EAX, 4, out[0]);
    set_reg(c, R_EBX, 4, out[1]);
    set_reg(c, R_ECX, 4, out[2]);
    set_reg(c, R_EDX, 4, out[3]);
}

static void do_hlt(x86_cpu *c)
{
    if (priv(c)) {
        c->halted_req = true;
    }
}

/* ---- port I/O ---- */

/* IOPL, then the TSS I/O permission bitmap (SDM Vol. 1, 19.5). */
static bool io_allowed(x86_cpu *c, uint16_t port, unsigned size)
{
    const x86_seg *tr = &c->seg[S_TR];
    unsigned iopl = (x86_get_flags(c) >> 12) & 3, type = tr->attr & 0xf;
    uint64_t base = 0, bits = 0;

    if (!prot_mode(c) || (unsigned)c->cpl <= iopl) {
        return true;
    }
    if ((type != SYS_TSS_AVAIL && type != SYS_TSS_BUSY) || tr->limit < 0x67 ||
        !x86_read(c, tr->base + 0x66, &base, 2, false)) {
        return false;
    }
    base += port / 8;
    if (base + 1 > tr->limit || !x86_read(c, tr->base + base, &bits, 2, false)) {
        return false;
    }
    return ((bits >> (port & 7)) & ((1u << size) - 1)) == 0;
}

static bool io_check(x86_cpu *c, uint16_t port, unsigned size)
{
    if (!io_allowed(c, port, size)) {
        if (!c->fault) {
            x86_raise_gp(c, 0);
        }
        return false;
    }
    return true;
}

static void in_out(x86_cpu *c, x86_insn *x)
{
    unsigned size = (x->op & 1) ? (x->opsize == 2 ? 2 : 4) : 1;
    uint16_t port = (x->op & 8) ? (uint16_t)c->regs[R_EDX] : (uint8_t)x->imm;

    if (!io_check(c, port, size)) {
        return;
    }
    if (x->op & 2) {
        x86_io_write(c, port, c->regs[R_EAX] & size_mask(size), size);
    } else {
        set_reg(c, R_EAX, size, x86_io_read(c, port, size));
    }
}

/* INS/OUTS, with REP: every iteration updates the registers, so a fault
 * restarts where it stopped. */
static void ins_outs(x86_cpu *c, x86_insn *x)
{
    unsigned size = (x->op & 1) ? (x->opsize == 2 ? 2 : 4) : 1;
    uint16_t port = (uint16_t)c->regs[R_EDX];
    bool out = x->op & 2;
    uint64_t am = size_mask(x->addrsize), v = 0;
    int64_t step = (x86_get_flags(c) & F_DF) ? -(int64_t)size : (int64_t)size;
    int r = out ? R_ESI : R_EDI;

    if (!io_check(c, port, size)) {
        return;
    }
    while (!x->rep || (c->regs[R_ECX] & am)) {
        uint64_t off = c->regs[r] & am;

        if (out) {
            if (!x86_mem_read(c, mem_seg(x), off, &v, size)) {
                return;
            }
            x86_io_write(c, port, v, size);
        } else {
            v = x86_io_read(c, port, size);
            if (!x86_mem_write(c, S_ES, off, &v, size)) {
                return;
            }
        }
        set_reg(c, r, x->addrsize, off + step);
        if (!x->rep) {
            return;
        }
        set_reg(c, R_ECX, x->addrsize, c->regs[R_ECX] - 1);
    }
}

/* ---- dispatch ---- */

static void exec_0f(x86_cpu *c, x86_insn *x)
{
    switch (x->op) {
    case 0x0f00: grp6(c, x); return;
    case 0x0f01: grp7(c, x); return;
    case 0x0f02: lar_lsl(c, x, true); return;
    case 0x0f03: lar_lsl(c, x, false); return;
    case 0x0f05: do_syscall(c); return;
    case 0x0f06:
        if (priv(c)) {
            c->cr0 &= ~(uint64_t)CR0_TS;
        }
        return;
    case 0x0f07: do_sysret(c, x); return;
    case 0x0f08: /* INVD */
    case 0x0f09: /* WBINVD: no caches */
        priv(c);
        return;
    case 0x0f20:
    case 0x0f22: mov_cr(c, x); return;
    case 0x0f21:
    case 0x0f23: mov_dr(c, x); return;
    case 0x0f30: do_wrmsr(c); return;
    case 0x0f31: rdtsc(c, false); return;
    case 0x0f32: do_rdmsr(c); return;
    case 0x0f33: x86_raise_gp(c, 0); return; /* RDPMC: no counters */
    case 0x0f34: do_sysenter(c); return;
    case 0x0f35: do_sysexit(c, x); return;
    case 0x0fa2: do_cpuid(c); return;
    default: x86_raise_ud(c); return;
    }
}

void x86_exec_system(x86_cpu *c, x86_insn *x)
{
    switch (x->op) {
    case 0xf4:
        do_hlt(c);
        return;
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:
    case 0xec: case 0xed: case 0xee: case 0xef:
        in_out(c, x);
        return;
    case 0x6c: case 0x6d: case 0x6e: case 0x6f:
        ins_outs(c, x);
        return;
    default:
        exec_0f(c, x);
        return;
    }
}
