/*
 * The x86 half of mig-cpu.c: real-mode code and the registers it leaves.
 */
#include "migtest.h"
#include "cpu-x86/x86.h"

void x86_setup(mt *m, tes_cpu *cpu);
void x86_regs(mt *m, tes_cpu *cpu);

/* 16-bit code at 0x1000: three rounds of inc/add-to-memory/loop, then HLT. */
static const uint8_t code[] = {
    0xb9, 0x03, 0x00,       /* 1000: mov cx, 3 */
    0x40,                   /* 1003: inc ax */
    0x01, 0x06, 0x00, 0x20, /* 1004: add [0x2000], ax */
    0xe2, 0xf9,             /* 1008: loop 1003 */
    0xf4,                   /* 100a: hlt */
    0x40,                   /* 100b: inc ax */
    0xeb, 0xfe,             /* 100c: jmp $ */
};

void x86_setup(mt *m, tes_cpu *cpu)
{
    x86_cpu *c = tes_harness_cpu_state(cpu);

    for (size_t i = 0; i < sizeof(code); i++) {
        tes_harness_write(m->h, 0x1000 + i, code[i], 1);
    }
    c->seg[1].sel = 0;
    c->seg[1].base = 0;
    c->rip = 0x1000;
    c->regs[0] = 0x10;
    c->state_dirty = true;
}

void x86_regs(mt *m, tes_cpu *cpu)
{
    x86_cpu *c = tes_harness_cpu_state(cpu);

    mt_note(m, "rip %#" G_GINT64_MODIFIER "x ax %#" G_GINT64_MODIFIER "x cx %#"
            G_GINT64_MODIFIER "x cr0 %#" G_GINT64_MODIFIER "x cs %#x/%#" G_GINT64_MODIFIER "x",
            c->rip, c->regs[0], c->regs[1], c->cr0, c->seg[1].sel, c->seg[1].base);
    mt_ram(m, 0x2000, 2);
}
