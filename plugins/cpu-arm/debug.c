/*
 * cpu-arm: the debugger's breakpoints and watchpoints (tes_cpu_ops
 * debug_point / debug_reason / translate, for the core's gdbstub).
 *
 * As QEMU does, nothing is written into guest memory: the execution loops
 * compare the pc with a short list (exec.c before every instruction when
 * the list is not empty; translate.c before every block, and a64_jit_block
 * ends a block before a breakpoint), and every change of the list drops
 * all translated code, so no block runs across a breakpoint inserted
 * later. Hardware breakpoints are the same list.
 *
 * Watchpoints cost nothing while there are none. With some, tlb_fill
 * (mmu.c) gives no host pointer to a page holding one, so the inline fast
 * paths (the interpreter's and the translator's) miss there and the slow
 * path checks the access against the list. A hit abandons the instruction
 * before it has an effect, as a data abort would, and exec() returns
 * TES_EXEC_DEBUG with the pc still on it: gdb's aarch64 target expects
 * watchpoints to trigger before the access (it then steps over the
 * instruction with the watchpoint removed).
 */
#include "arm.h"

int arm_debug_point(arm_cpu *c, int kind, bool insert, uint64_t addr, uint64_t len)
{
    int r = gdb_points_update(&c->gdb, kind, insert, addr, len);

    if (r <= 0) {
        return r;
    }
    /* The lists changed: no translated block or TLB entry may predate it. */
    arm_jit_reset(c);
    arm_tlb_flush(c);
    return 0;
}

bool arm_wp_hit(arm_cpu *c, uint64_t va, unsigned size, bool write)
{
    if (!gdb_wp_hit(&c->gdb, va, size, write)) {
        return false;
    }
    c->halt_req = true; /* the loops look at it after the instruction */
    c->next_pc = c->pc;
    return true;
}
