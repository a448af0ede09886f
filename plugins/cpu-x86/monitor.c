/*
 * cpu-x86: what the monitor shows of a vCPU (tes_cpu_ops translate and
 * dump): info registers in QEMU's x86_64 layout, so people's eyes and
 * scripts find RIP=, CR3= where they expect them; info tlb and info mem as
 * QEMU's, for long mode with paging (other modes: nothing to show).
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
    }
    return -ENOTSUP;
}
