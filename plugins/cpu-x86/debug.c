/*
 * cpu-x86: the debugger's breakpoints and watchpoints (tes_cpu_ops
 * debug_point / debug_reason, for the core's gdbstub).
 *
 * As QEMU does, nothing is written into guest memory: the loops compare
 * rip with a short list before every instruction when the list is not
 * empty (decode.c's x86_run, translate.c's x86_run_jit before every
 * block), tr_body ends a block before a breakpoint, and every change of
 * the list drops all translated code, so no block runs across a
 * breakpoint inserted later. Hardware breakpoints are the same list.
 *
 * Watchpoints cost nothing while there are none. With some, the vCPU
 * interprets (x86_run), tlb_fill (mmu.c) gives no host pointer to a page
 * holding one, so its accesses come to access(), which checks them; the
 * instruction completes and exec() then returns TES_EXEC_DEBUG: gdb's x86
 * watchpoints report after the access (it compares old and new values).
 */
#include "x86.h"

int x86_debug_point(x86_cpu *c, int kind, bool insert, uint64_t addr, uint64_t len)
{
    int r = gdb_points_update(&c->gdb, kind, insert, addr, len);

    if (r <= 0) {
        return r;
    }
    /* The lists changed: no translated block or TLB entry may predate it. */
    x86_jit_state_written(c); /* every translation goes */
    x86_tlb_flush(c, false);
    return 0;
}

