/*
 * cpu-x86: what the monitor shows of a vCPU (tes_cpu_ops translate and
 * dump): info registers in QEMU's x86_64 layout, so people's eyes and
 * scripts find RIP=, CR3= where they expect them; info tlb and info mem as
 * QEMU's, for long mode with paging (other modes: nothing to show); info
 * lapic as QEMU's x86_cpu_dump_local_apic_state lays it out (ICR2's
 * physical destination is the whole 8-bit xAPIC ID, where QEMU prints its
 * low 4 bits).
 */
#include <errno.h>
#include <stdio.h>

#include "x86.h"

typedef void (*print_fn)(void *opaque, const char *text);

static void outf(print_fn print, void *opaque, const char *fmt, ...) TES_PRINTF(3, 4);

static void outf(print_fn print, void *opaque, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    print(opaque, buf);
}

static void dump_seg(x86_cpu *c, const char *name, const x86_seg *s, print_fn print, void *o)
{
    uint32_t flags = ((uint32_t)(s->attr & 0xff) << 8) | ((uint32_t)(s->attr & 0xf00) << 12);

    outf(print, o, "%s=%04x %016" PRIx64 " %08x %08x\n", name, s->sel, s->base, s->limit,
         flags);
}

static void dump_regs(x86_cpu *c, print_fn print, void *o)
{
    static const char *const gpr[16] = {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
                                        "R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15"};
    static const unsigned order[16] = {0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15};
    static const char *const segs[6] = {"ES ", "CS ", "SS ", "DS ", "FS ", "GS "};
    uint64_t fl = x86_get_flags(c);

    for (unsigned i = 0; i < 16; i++) {
        outf(print, o, "%s=%016" PRIx64 "%s", gpr[i], c->regs[order[i]], i % 4 == 3 ? "\n" : " ");
    }
    outf(print, o, "RIP=%016" PRIx64 " RFL=%08x [%c%c%c%c%c%c%c] CPL=%u HLT=%d\n", c->rip,
         (unsigned)fl, fl & 0x400 ? 'D' : '-', fl & 0x800 ? 'O' : '-', fl & 0x80 ? 'S' : '-',
         fl & 0x40 ? 'Z' : '-', fl & 0x10 ? 'A' : '-', fl & 0x4 ? 'P' : '-', fl & 1 ? 'C' : '-',
         (c->seg[1].attr >> 5) & 3, c->halted_req);
    for (unsigned i = 0; i < 6; i++) {
        dump_seg(c, segs[i], &c->seg[i], print, o);
    }
    dump_seg(c, "LDT", &c->seg[6], print, o);
    dump_seg(c, "TR ", &c->seg[7], print, o);
    outf(print, o, "GDT=     %016" PRIx64 " %08x\n", c->gdt_base, c->gdt_limit);
    outf(print, o, "IDT=     %016" PRIx64 " %08x\n", c->idt_base, c->idt_limit);
    outf(print, o, "CR0=%08x CR2=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%08x\n",
         (unsigned)c->cr0, c->cr2, c->cr3, (unsigned)c->cr4);
    outf(print, o, "EFER=%016" PRIx64 "\n", c->efer);
}

typedef struct mem_ctx {
    print_fn print;
    void *o;
    uint64_t start, end; /* the range being merged (info mem) */
    unsigned prot;
    bool open;
} mem_ctx;

static void tlb_page(void *opaque, uint64_t va, uint64_t pte, uint64_t size, unsigned prot)
{
    mem_ctx *m = opaque;

    outf(m->print, m->o, "%016" PRIx64 ": %016" PRIx64 " %c%c%c%c%c%c%c%c%c\n", va,
         (uint64_t)(pte & 0x000ffffffffff000ull & ~(size - 1)), pte >> 63 ? 'X' : '-',
         pte & 0x100 ? 'G' : '-', pte & 0x80 ? 'P' : '-', pte & 0x40 ? 'D' : '-',
         pte & 0x20 ? 'A' : '-', pte & 0x10 ? 'C' : '-', pte & 0x8 ? 'T' : '-',
         pte & 0x4 ? 'U' : '-', pte & 0x2 ? 'W' : '-');
}

static void mem_flush(mem_ctx *m)
{
    if (m->open) {
        outf(m->print, m->o, "%016" PRIx64 "-%016" PRIx64 " %016" PRIx64 " %c%c%c\n", m->start,
             m->end, m->end - m->start, m->prot & 2 ? 'u' : '-', 'r', m->prot & 1 ? 'w' : '-');
    }
    m->open = false;
}

static void mem_page(void *opaque, uint64_t va, uint64_t pte, uint64_t size, unsigned prot)
{
    mem_ctx *m = opaque;

    if (!m->open || va != m->end || prot != m->prot) {
        mem_flush(m);
        *m = (mem_ctx){.print = m->print, .o = m->o, .start = va, .prot = prot, .open = true};
    }
    m->end = va + size;
}

/* ---- info lapic: QEMU's layout, read as the guest reads the registers ---- */

/* Register indexes (offset >> 4, SDM vol. 3A table 10-1). */
enum { AR_TPR = 0x08, AR_APR = 0x09, AR_PPR = 0x0a, AR_LDR = 0x0d, AR_DFR = 0x0e, AR_SVR = 0x0f,
       AR_ISR = 0x10, AR_TMR = 0x18, AR_IRR = 0x20, AR_ESR = 0x28, AR_ICR = 0x30, AR_ICR2 = 0x31,
       AR_LVTT = 0x32, AR_LVTTHMR, AR_LVTPC, AR_LVT0, AR_LVT1, AR_LVTERR, AR_TMICT = 0x38,
       AR_TMCCT = 0x39, AR_TDCR = 0x3e };

static void dump_lvt(print_fn print, void *o, const char *name, uint32_t v, bool timer)
{
    static const char *const mode[8] = {"Fixed", "...", "SMI", "...",
                                        "NMI", "INIT", "...", "ExtINT"};
    unsigned dm = (v >> 8) & 7;
    const char *tm = !timer ? "" : v & (1u << 17) ? "periodic"
                                 : v & (1u << 18) ? "tsc-deadline" : "one-shot";

    outf(print, o, "%s\t 0x%08x %s %-5s %-6s %-7s %-12s %-6s", name, v,
         v & (1u << 13) ? "active-lo" : "active-hi", v & (1u << 15) ? "level" : "edge",
         v & (1u << 16) ? "masked" : "", v & (1u << 12) ? "pending" : "", tm, mode[dm]);
    if (dm == APIC_DM_NMI) {
        print(o, "\n");
    } else {
        outf(print, o, " (vec %u)\n", v & 0xff);
    }
}

static void bits_str(char *buf, uint32_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        buf[i] = (v >> (n - 1 - i)) & 1 ? '1' : '0';
    }
    buf[n] = 0;
}

/* ICR and where ICR2 sends (xAPIC: the destination is ICR2[31:24]). */
static void dump_icr(x86_lapic *l, print_fn print, void *o)
{
    static const char *const sh_name[4] = {"no-shorthand", "self", "all-self", "all"};
    uint32_t icr = x86_apic_read_reg(l, AR_ICR), icr2 = x86_apic_read_reg(l, AR_ICR2);
    uint32_t dest = icr2 >> 24, model = x86_apic_read_reg(l, AR_DFR) >> 28;
    unsigned sh = (icr >> 18) & 3;
    char mask[9];

    outf(print, o, "ICR\t 0x%08x %s %s %s %s\n", icr, icr & (1u << 11) ? "logical" : "physical",
         icr & (1u << 15) ? "level" : "edge", icr & (1u << 14) ? "assert" : "de-assert",
         sh_name[sh]);
    outf(print, o, "ICR2\t 0x%08x", icr2);
    if (sh != 0) {
        print(o, "\n");
    } else if (!(icr & (1u << 11))) {
        outf(print, o, " cpu %u (APIC ID)\n", dest);
    } else if (model == 0xf) {
        bits_str(mask, dest, 8);
        outf(print, o, " mask %s (APIC ID)\n", mask);
    } else {
        bits_str(mask, dest & 0xf, 4);
        outf(print, o, " cluster %u mask %s (APIC ID)\n", dest >> 4, mask);
    }
}

/* ISR or IRR: the vectors set, "(level)" after those whose TMR bit is set. */
static void dump_vectors(x86_lapic *l, print_fn print, void *o, const char *name, unsigned reg)
{
    bool none = true;

    outf(print, o, "%s\t ", name);
    for (unsigned v = 0; v < 256; v++) {
        if ((x86_apic_read_reg(l, reg + v / 32) >> (v % 32)) & 1) {
            bool level = (x86_apic_read_reg(l, AR_TMR + v / 32) >> (v % 32)) & 1;

            outf(print, o, "%u%s ", v, level ? "(level)" : "");
            none = false;
        }
    }
    print(o, none ? "(none)\n" : "\n");
}

static void dump_lapic(x86_cpu *c, print_fn print, void *o)
{
    x86_lapic *l = c->lapic;
    uint32_t dcr, div, svr, model, ldr;

    if (!l) {
        print(o, "local apic state not available\n");
        return;
    }
    outf(print, o, "dumping local APIC state for CPU %-2u\n\n", c->index);
    dump_lvt(print, o, "LVT0", x86_apic_read_reg(l, AR_LVT0), false);
    dump_lvt(print, o, "LVT1", x86_apic_read_reg(l, AR_LVT1), false);
    dump_lvt(print, o, "LVTPC", x86_apic_read_reg(l, AR_LVTPC), false);
    dump_lvt(print, o, "LVTERR", x86_apic_read_reg(l, AR_LVTERR), false);
    dump_lvt(print, o, "LVTTHMR", x86_apic_read_reg(l, AR_LVTTHMR), false);
    dump_lvt(print, o, "LVTT", x86_apic_read_reg(l, AR_LVTT), true);
    dcr = x86_apic_read_reg(l, AR_TDCR) & 0xf;
    div = ((dcr >> 1) & 4) | (dcr & 3); /* SDM 10.5.4: 0b111 divides by 1 */
    outf(print, o, "Timer\t DCR=0x%x (divide by %u) initial_count = %u current_count = %u\n",
         dcr, div == 7 ? 1 : 2u << div, x86_apic_read_reg(l, AR_TMICT),
         x86_apic_read_reg(l, AR_TMCCT));
    svr = x86_apic_read_reg(l, AR_SVR);
    outf(print, o, "SPIV\t 0x%08x APIC %s, focus=%s, spurious vec %u\n", svr,
         svr & (1u << 8) ? "enabled" : "disabled", svr & (1u << 9) ? "on" : "off", svr & 0xff);
    dump_icr(l, print, o);
    outf(print, o, "ESR\t 0x%08x\n", x86_apic_read_reg(l, AR_ESR));
    dump_vectors(l, print, o, "ISR", AR_ISR);
    dump_vectors(l, print, o, "IRR", AR_IRR);
    model = x86_apic_read_reg(l, AR_DFR) >> 28;
    ldr = x86_apic_read_reg(l, AR_LDR) >> 24;
    outf(print, o, "\nAPR 0x%02x TPR 0x%02x DFR 0x%02x LDR 0x%02x", x86_apic_read_reg(l, AR_APR),
         x86_apic_read_reg(l, AR_TPR), model, ldr);
    if (model == 0) {
        outf(print, o, "(cluster %u: id %u)", ldr >> 4, ldr & 0xf);
    }
    outf(print, o, " PPR 0x%02x\n", x86_apic_read_reg(l, AR_PPR));
}

int x86_cpu_dump(tes_cpu *cpu, void *s, unsigned what, print_fn print, void *opaque)
{
    x86_cpu *c = s;
    mem_ctx m = {.print = print, .o = opaque};

    switch (what) {
    case TES_CPU_DUMP_REGS:
        dump_regs(c, print, opaque);
        return 0;
    case TES_CPU_DUMP_TLB:
    case TES_CPU_DUMP_MEM:
        if (!x86_mmu_foreach(c, what == TES_CPU_DUMP_TLB ? tlb_page : mem_page, &m)) {
            print(opaque, "PG disabled (or not in long mode)\n");
        }
        mem_flush(&m);
        return 0;
    case TES_CPU_DUMP_LAPIC:
        dump_lapic(c, print, opaque);
        return 0;
    }
    return -ENOTSUP;
}
