/*
 * The debugger's point lists (gdb-points.h), compiled into each CPU
 * plugin. What a hit does to the vCPU (stop before or after the access,
 * which loop checks the lists) stays with the plugin: see its debug.c.
 */
#include <errno.h>

#include <tessera/cpu.h>

#include "gdb-points.h"

static int bp_change(gdb_points *g, bool insert, uint64_t addr)
{
    for (unsigned i = 0; i < g->nbp; i++) {
        if (g->bp[i] == addr) {
            if (!insert) {
                g->bp[i] = g->bp[--g->nbp];
            }
            return 0; /* inserting twice: one entry (gdb removes once) */
        }
    }
    if (!insert) {
        return -ENOENT;
    }
    if (g->nbp == GDB_MAX_BP) {
        return -ENOSPC;
    }
    g->bp[g->nbp++] = addr;
    return 0;
}

static int wp_change(gdb_points *g, int kind, bool insert, uint64_t addr, uint64_t len)
{
    for (unsigned i = 0; i < g->nwp; i++) {
        gdb_wp *w = &g->wp[i];

        if (w->addr == addr && w->len == len && w->kind == kind) {
            if (!insert) {
                *w = g->wp[--g->nwp];
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
    if (g->nwp == GDB_MAX_WP) {
        return -ENOSPC;
    }
    g->wp[g->nwp++] = (gdb_wp){addr, len, kind};
    return 0;
}

int gdb_points_update(gdb_points *g, int kind, bool insert, uint64_t addr, uint64_t len)
{
    int r;

    switch (kind) {
    case TES_DEBUG_BREAK_SW:
    case TES_DEBUG_BREAK_HW:
        r = bp_change(g, insert, addr);
        break;
    case TES_DEBUG_WATCH_WRITE:
    case TES_DEBUG_WATCH_READ:
    case TES_DEBUG_WATCH_ACCESS:
        r = wp_change(g, kind, insert, addr, len);
        break;
    case TES_DEBUG_STEP_NOIRQ:
        g->noirq = insert;
        return 0;
    default:
        return -EINVAL;
    }
    return r < 0 ? r : 1;
}

int gdb_points_reason(gdb_points *g, uint64_t *addr)
{
    if (!g->have_reason) {
        *addr = 0;
        return -1;
    }
    g->have_reason = false;
    *addr = g->stop_addr;
    return g->stop_kind;
}

static void record_stop(gdb_points *g, int kind, uint64_t addr)
{
    g->have_reason = true;
    g->stop_kind = kind;
    g->stop_addr = addr;
}

bool gdb_bp_hit(gdb_points *g, uint64_t pc)
{
    if (!gdb_bp_at(g, pc)) {
        return false;
    }
    record_stop(g, TES_DEBUG_BREAK_SW, pc);
    return true;
}

bool gdb_wp_hit(gdb_points *g, uint64_t va, unsigned size, bool write)
{
    for (unsigned i = 0; i < g->nwp; i++) {
        const gdb_wp *w = &g->wp[i];
        bool kind_ok = w->kind == TES_DEBUG_WATCH_ACCESS ||
                       (w->kind == TES_DEBUG_WATCH_WRITE) == write;

        if (kind_ok && va < w->addr + w->len && w->addr < va + size) {
            record_stop(g, w->kind, va > w->addr ? va : w->addr);
            g->wp_hit = true;
            return true;
        }
    }
    return false;
}

bool gdb_wp_in_page(const gdb_points *g, uint64_t va)
{
    uint64_t lo = va & ~0xfffull, hi = lo + 0x1000;

    for (unsigned i = 0; i < g->nwp; i++) {
        const gdb_wp *w = &g->wp[i];

        if (w->addr < hi && lo < w->addr + w->len) {
            return true;
        }
    }
    return false;
}
