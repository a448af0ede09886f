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
#include <errno.h>

#include "x86.h"

static void points_changed(x86_cpu *c)
{
    x86_jit_state_written(c); /* every translation goes */
    x86_tlb_flush(c, false);
}

static int bp_change(x86_cpu *c, bool insert, uint64_t addr)
{
    for (unsigned i = 0; i < c->gdb_nbp; i++) {
        if (c->gdb_bp[i] == addr) {
            if (!insert) {
                c->gdb_bp[i] = c->gdb_bp[--c->gdb_nbp];
            }
            return 0; /* inserting twice: one entry */
        }
    }
    if (!insert) {
        return -ENOENT;
    }
    if (c->gdb_nbp == X86_GDB_MAX_BP) {
        return -ENOSPC;
    }
    c->gdb_bp[c->gdb_nbp++] = addr;
    return 0;
}

static int wp_change(x86_cpu *c, int kind, bool insert, uint64_t addr, uint64_t len)
{
    for (unsigned i = 0; i < c->gdb_nwp; i++) {
        x86_gdb_wp *w = &c->gdb_wp[i];

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
    if (len == 0 || addr + len < addr) {
        return -EINVAL;
    }
    if (c->gdb_nwp == X86_GDB_MAX_WP) {
        return -ENOSPC;
    }
    c->gdb_wp[c->gdb_nwp++] = (x86_gdb_wp){addr, len, kind};
    return 0;
}

int x86_debug_point(x86_cpu *c, int kind, bool insert, uint64_t addr, uint64_t len)
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

int x86_debug_reason(x86_cpu *c, uint64_t *addr)
{
    if (!c->gdb_have_reason) {
        *addr = 0;
        return -1;
    }
    c->gdb_have_reason = false;
    *addr = c->gdb_stop_addr;
    return c->gdb_stop_kind;
}

bool x86_bp_hit(x86_cpu *c, uint64_t rip)
{
    if (!x86_bp_at(c, rip)) {
        return false;
    }
    c->gdb_have_reason = true;
    c->gdb_stop_kind = TES_DEBUG_BREAK_SW;
    c->gdb_stop_addr = rip;
    return true;
}

void x86_wp_check(x86_cpu *c, uint64_t la, unsigned size, bool write)
{
    for (unsigned i = 0; i < c->gdb_nwp; i++) {
        const x86_gdb_wp *w = &c->gdb_wp[i];
        bool kind_ok = w->kind == TES_DEBUG_WATCH_ACCESS ||
                       (w->kind == TES_DEBUG_WATCH_WRITE) == write;

        if (kind_ok && la < w->addr + w->len && w->addr < la + size) {
            c->gdb_have_reason = true;
            c->gdb_stop_kind = w->kind;
            c->gdb_stop_addr = la > w->addr ? la : w->addr;
            c->gdb_stop = true;
            return;
        }
    }
}

bool x86_wp_in_page(const x86_cpu *c, uint64_t la)
{
    uint64_t lo = la & ~0xfffull, hi = lo + 0x1000;

    for (unsigned i = 0; i < c->gdb_nwp; i++) {
        const x86_gdb_wp *w = &c->gdb_wp[i];

        if (w->addr < hi && lo < w->addr + w->len) {
            return true;
        }
    }
    return false;
}
