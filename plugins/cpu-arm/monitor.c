/*
 * cpu-arm: what the monitor shows of a vCPU (tes_cpu_ops translate and
 * dump): info registers in QEMU's AArch64 layout (PC=, X00=..X30=, SP=,
 * PSTATE=). QEMU has no info tlb or info mem for Arm: neither have we.
 */
#include <errno.h>
#include <stdio.h>

#include "arm.h"

typedef void (*print_fn)(void *opaque, const char *text);

int arm_cpu_dump(tes_cpu *cpu, void *s, unsigned what, print_fn print, void *opaque)
{
    arm_cpu *c = s;
    char buf[128];
    uint32_t ps = arm_get_pstate(c);

    if (what != TES_CPU_DUMP_REGS) {
        return -ENOTSUP;
    }
    snprintf(buf, sizeof(buf), " PC=%016" PRIx64 " ", c->pc);
    print(opaque, buf);
    for (unsigned i = 0; i < 31; i++) {
        snprintf(buf, sizeof(buf), "X%02u=%016" PRIx64 "%s", i, c->x[i], i % 4 == 2 ? "\n" : " ");
        print(opaque, buf);
    }
    snprintf(buf, sizeof(buf), " SP=%016" PRIx64 "\nPSTATE=%08x %c%c%c%c EL%u%c\n",
             *(c->el == 0 || c->spsel == 0 ? &c->sp_el0 : &c->sp_el1), ps,
             ps & (1u << 31) ? 'N' : '-', ps & (1u << 30) ? 'Z' : '-', ps & (1u << 29) ? 'C' : '-',
             ps & (1u << 28) ? 'V' : '-', c->el, c->spsel ? 'h' : 't');
    print(opaque, buf);
    return 0;
}
