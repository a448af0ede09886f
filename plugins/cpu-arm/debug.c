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
#include <errno.h>

#include "arm.h"

/* The lists changed: no translated block or TLB entry may predate it. */
static void points_changed(arm_cpu *c)
{
    arm_jit_reset(c);
    arm_tlb_flush(c);
}

static int bp_change(arm_cpu *c, bool insert, uint64_t addr)
{
    for (unsigned i = 0; i < c->gdb_nbp; i++) {
        if (c->gdb_bp[i] == addr) {
            if (!insert) {
                c->gdb_bp[i] = c->gdb_bp[--c->gdb_nbp];
            }
            return 0; /* inserting twice: one entry (gdb removes once) */
        }
    }
    if (!insert) {
        return -ENOENT;
    }
    if (c->gdb_nbp == ARM_GDB_MAX_BP) {
        return -ENOSPC;
    }
    c->gdb_bp[c->gdb_nbp++] = addr;
    return 0;
}

static int wp_change(arm_cpu *c, int kind, bool insert, uint64_t addr, uint64_t len)
{
    for (unsigned i = 0; i < c->gdb_nwp; i++) {
        arm_gdb_wp *w = &c->gdb_wp[i];

        if (w->addr == addr && w->len == len && w->kind == kind) {
            if (!insert) {
                *w = c->gdb_wp[--c->gdb_nwp];
            }
            return 0;
        }
    }
    if (!insert) {
        return -ENOENT;
    }
    if (c->gdb_nwp == ARM_GDB_MAX_WP || len == 0 || addr + len < addr) {
        return len == 0 || addr + len < addr ? -EINVAL : -ENOSPC;
    }
    c->gdb_wp[c->gdb_nwp++] = (arm_gdb_wp){addr, len, kind};
    return 0;
}

int arm_debug_point(arm_cpu *c, int kind, bool insert, uint64_t addr, uint64_t len)
{
    int r;

    switch (kind) {
    case TES_DEBUG_BREAK_SW:
    case TES_DEBUG_BREAK_HW:
        r = bp_change(c, insert, addr);
        break;
    case TES_DEBUG_WATCH_WRITE:
    case TES_DEBUG_WATCH_READ:
    case TES_DEBUG_WATCH_ACCESS:
        r = wp_change(c, kind, insert, addr, len);
        break;
    case TES_DEBUG_STEP_NOIRQ:
        c->gdb_noirq = insert;
        return 0;
    default:
        return -EINVAL;
    }
    if (r == 0) {
        points_changed(c);
    }
    return r;
}

int arm_debug_reason(arm_cpu *c, uint64_t *addr)
{
    int kind = c->gdb_stop_kind;

    *addr = c->gdb_stop_addr;
    c->gdb_stop_kind = -1;
    return kind;
}

bool arm_bp_hit(arm_cpu *c, uint64_t pc)
{
    if (!arm_bp_at(c, pc)) {
        return false;
    }
    c->gdb_stop_kind = TES_DEBUG_BREAK_SW;
    c->gdb_stop_addr = pc;
    return true;
}

bool arm_wp_hit(arm_cpu *c, uint64_t va, unsigned size, bool write)
{
    for (unsigned i = 0; i < c->gdb_nwp; i++) {
        const arm_gdb_wp *w = &c->gdb_wp[i];
        bool kind_ok = w->kind == TES_DEBUG_WATCH_ACCESS ||
                       (w->kind == TES_DEBUG_WATCH_WRITE) == write;

        if (kind_ok && va < w->addr + w->len && w->addr < va + size) {
            c->gdb_stop_kind = w->kind;
            c->gdb_stop_addr = va > w->addr ? va : w->addr;
            c->gdb_stop = true;
            c->halt_req = true; /* the loops look at it after the instruction */
            c->next_pc = c->pc;
            return true;
        }
    }
    return false;
}

bool arm_wp_in_page(const arm_cpu *c, uint64_t va)
{
    uint64_t lo = va & ~0xfffull, hi = lo + 0x1000;

    for (unsigned i = 0; i < c->gdb_nwp; i++) {
        const arm_gdb_wp *w = &c->gdb_wp[i];

        if (w->addr < hi && lo < w->addr + w->len) {
            return true;
        }
    }
    return false;
}
