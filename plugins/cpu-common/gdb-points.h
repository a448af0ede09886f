/*
 * The debugger's breakpoints and watchpoints of one vCPU, for the CPU
 * plugins' tes_cpu_ops debug_point / debug_reason (the core's gdbstub).
 * Shared source: cpu-arm and cpu-x86 each compile gdb-points.c in (no
 * symbol leaves either plugin). The lists are short and searched
 * linearly: the loops consult them only while they are not empty.
 */
#ifndef TESSERA_CPU_GDB_POINTS_H
#define TESSERA_CPU_GDB_POINTS_H

#include <stdbool.h>
#include <stdint.h>

#define GDB_MAX_BP 32
#define GDB_MAX_WP 16

typedef struct gdb_wp {
    uint64_t addr, len;
    int kind; /* TES_DEBUG_WATCH_* */
} gdb_wp;

typedef struct gdb_points {
    uint64_t bp[GDB_MAX_BP]; /* pc values (virtual / linear addresses) */
    unsigned nbp;
    gdb_wp wp[GDB_MAX_WP];
    unsigned nwp;
    bool wp_hit;      /* a watchpoint was hit by the running instruction */
    bool have_reason; /* stop_kind/stop_addr say why exec() stopped */
    int stop_kind;    /* tes_debug_kind */
    uint64_t stop_addr;
    bool noirq;       /* TES_DEBUG_STEP_NOIRQ: take no interrupt */
} gdb_points;

/* Insert or remove a point (tes_cpu_ops.debug_point's kinds): < 0 a
 * -errno (-EINVAL bad kind or range, -ENOENT removing what is not there,
 * -ENOSPC list full), 1 the lists changed (the caller drops translated
 * code and TLB entries), 0 nothing to drop (STEP_NOIRQ). Inserting the
 * same point twice keeps one entry (gdb removes once). */
int gdb_points_update(gdb_points *g, int kind, bool insert, uint64_t addr, uint64_t len);
/* Why exec() last returned TES_EXEC_DEBUG (a tes_debug_kind and the
 * address), once; -1 and *addr 0 when there is no reason to report. */
int gdb_points_reason(gdb_points *g, uint64_t *addr);
/* A breakpoint at pc (call when nbp): records the stop, true. */
bool gdb_bp_hit(gdb_points *g, uint64_t pc);
/* The data access [va, va + size) hits a watchpoint (call when nwp):
 * records the stop, sets wp_hit, true. */
bool gdb_wp_hit(gdb_points *g, uint64_t va, unsigned size, bool write);
/* Some watchpoint lies in the 4K page of va. */
bool gdb_wp_in_page(const gdb_points *g, uint64_t va);

static inline bool gdb_bp_at(const gdb_points *g, uint64_t pc)
{
    for (unsigned i = 0; i < g->nbp; i++) {
        if (g->bp[i] == pc) {
            return true;
        }
    }
    return false;
}

#endif
