/*
 * tessera JIT: a local register allocator. Values live in host registers
 * inside a basic block: globals are loaded on first use and stay cached
 * (dirty until written back), temps get a register at their definition
 * and lose it at their last use (op->dead, from jit_liveness). When
 * registers run out, a clean global is dropped first (free), then a dirty
 * one is written back, then a temp goes to a spill slot.
 *
 * Each op locks the registers it is using (g->locked) so that allocating
 * one operand never takes another's register; locks end with the op.
 */
#include "gen.h"

/* Callee-saved first: their values survive helper calls. rax, rdx and rcx
 * come last because mulh and variable shifts want them. */
static const int8_t alloc_order[] = {
    RBX, R12, R13, R14, R15, RSI, RDI, R8, R9, RAX, RDX, RCX,
};

vstate *ra_state(gen *g, tes_jit_val v)
{
    switch (VAL_KIND(v)) {
    case VK_TEMP:
        return &g->temps[VAL_IDX(v)];
    case VK_GLOBAL:
        return &g->globals[VAL_IDX(v)];
    default:
        return NULL;
    }
}

bool ra_is_const(const gen *g, tes_jit_val v)
{
    return VAL_KIND(v) == VK_CONST;
}

uint64_t ra_const(const gen *g, tes_jit_val v)
{
    return jit_const_val(g->ir, v);
}

uint32_t ra_global_off(const gen *g, tes_jit_val v)
{
    return g->ir->globals[VAL_IDX(v)].off;
}

static void unbind(gen *g, tes_jit_val v)
{
    vstate *s = ra_state(g, v);

    if (s && s->reg >= 0) {
        g->owner[s->reg] = 0;
        s->reg = -1;
    }
}

static void free_slot(gen *g, vstate *s)
{
    if (s->slot >= 0) {
        g->slots_used &= ~(1ull << s->slot);
        s->slot = -1;
    }
    s->spilled = 0;
}

static int new_slot(gen *g)
{
    for (int i = 0; i < NSPILL; i++) {
        if (!(g->slots_used & (1ull << i))) {
            g->slots_used |= 1ull << i;
            return i;
        }
    }
    /* Too many live temps: give the block up (tes_jit_end returns NULL). */
    g->failed = true;
    return 0;
}

static int32_t slot_disp(int slot)
{
    return FRAME_SPILL + 8 * slot;
}

/* Free register r, keeping its value in env (global) or a spill slot. */
void ra_spill(gen *g, int r)
{
    tes_jit_val v = g->owner[r];
    vstate *s;

    if (!v) {
        return;
    }
    s = ra_state(g, v);
    if (VAL_KIND(v) == VK_GLOBAL) {
        if (s->dirty) {
            x_st64(&g->e, r, REG_ENV, ra_global_off(g, v));
            s->dirty = 0;
        }
    } else if (!s->spilled) {
        if (s->slot < 0) {
            s->slot = new_slot(g);
        }
        x_st64(&g->e, r, RSP, slot_disp(s->slot));
        s->spilled = 1;
    }
    s->reg = -1;
    g->owner[r] = 0;
}

static int free_reg(gen *g, uint16_t allowed)
{
    for (unsigned i = 0; i < sizeof(alloc_order); i++) {
        int r = alloc_order[i];

        if ((allowed & RB(r)) && !g->owner[r]) {
            return r;
        }
    }
    return -1;
}

#define NEXT_USE_WINDOW 48

/* dist[r]: how many ops ahead the value in register r is next read
 * (NEXT_USE_WINDOW: not soon), for the registers in mask. One scan for
 * all of them; the current op's operands are locked, so it starts after. */
static void next_uses(gen *g, uint16_t mask, int *dist)
{
    const jop *op = g->cur ? g->cur + 1 : NULL, *end = g->ir->ops + g->ir->nops;

    for (int r = 0; r < 16; r++) {
        dist[r] = NEXT_USE_WINDOW;
    }
    for (int d = 1; op && op < end && d < NEXT_USE_WINDOW && mask; op++, d++) {
        if (op->opc == OP_LABEL) {
            break;
        }
        for (unsigned k = 1; k <= MAX_CALL_ARGS; k++) {
            vstate *s = op->v[k] ? ra_state(g, op->v[k]) : NULL;

            if (s && s->reg >= 0 && (mask & RB(s->reg))) {
                dist[s->reg] = d;
                mask &= ~RB(s->reg);
            }
        }
    }
}

/* Which register to free: the value read last (farthest), and on a tie
 * the cheapest to drop (clean global, dirty global, temp). */
static int pick_victim(gen *g, uint16_t allowed)
{
    int best = -1, best_score = -1, dist[16];

    next_uses(g, allowed, dist);
    for (unsigned i = 0; i < sizeof(alloc_order); i++) {
        int c = alloc_order[i];
        tes_jit_val v = g->owner[c];
        int cost, score;

        if (!(allowed & RB(c))) {
            continue;
        }
        cost = VAL_KIND(v) == VK_GLOBAL ? ra_state(g, v)->dirty : 2;
        score = dist[c] * 4 + (3 - cost);
        if (score > best_score) {
            best = c;
            best_score = score;
        }
    }
    if (best < 0) {
        fputs("tessera-jit: internal error: no register\n", stderr);
        abort();
    }
    return best;
}

/* A register from allowed that is neither locked nor taken, making one
 * free if need be. It is locked for the rest of the op. */
int ra_alloc(gen *g, uint16_t allowed)
{
    int r;

    allowed &= REGS_ALLOC & ~g->locked;
    r = free_reg(g, allowed);
    if (r < 0) {
        r = pick_victim(g, allowed);
        ra_spill(g, r);
    }
    ra_lock(g, r);
    return r;
}

/* Move the value of register r to another free register, or spill it. */
void ra_evict(gen *g, int r)
{
    tes_jit_val v = g->owner[r];
    int n;

    if (!v) {
        return;
    }
    n = free_reg(g, REGS_ALLOC & ~g->locked & ~RB(r));
    if (n < 0) {
        ra_spill(g, r);
        return;
    }
    x_mov_rr(&g->e, true, n, r);
    g->owner[n] = v;
    g->owner[r] = 0;
    ra_state(g, v)->reg = n;
}

/* Put v's value into register r (no change of ownership). */
void ra_move_to(gen *g, int r, tes_jit_val v)
{
    vstate *s = ra_state(g, v);

    if (VAL_KIND(v) == VK_CONST) {
        x_mov_ri(&g->e, r, ra_const(g, v));
    } else if (v == VAL_ENV) {
        x_mov_rr(&g->e, true, r, REG_ENV);
    } else if (s->reg >= 0) {
        if (s->reg != r) {
            x_mov_rr(&g->e, true, r, s->reg);
        }
    } else if (VAL_KIND(v) == VK_GLOBAL) {
        x_ld64(&g->e, r, REG_ENV, ra_global_off(g, v));
    } else if (s->spilled) {
        x_ld64(&g->e, r, RSP, slot_disp(s->slot));
    } else {
        jit_bug("block pc 0x%llx: temp t%u read before it was set (temps do not "
                "live across labels)", (unsigned long long)g->ir->key.pc, VAL_IDX(v));
    }
}

/* A register holding v (locked). Constants get a scratch register that
 * nobody owns; env is rbp. */
int ra_load(gen *g, tes_jit_val v, uint16_t allowed)
{
    vstate *s = ra_state(g, v);
    int r;

    if (v == VAL_ENV && (allowed & RB(REG_ENV))) {
        return REG_ENV;
    }
    if (s && s->reg >= 0 && (allowed & RB(s->reg))) {
        ra_lock(g, s->reg);
        return s->reg;
    }
    r = ra_alloc(g, allowed);
    ra_move_to(g, r, v);
    if (s) {
        if (s->reg >= 0) {
            g->owner[s->reg] = 0;
        } else if (VAL_KIND(v) == VK_GLOBAL) {
            s->dirty = 0;
        }
        s->reg = r;
        g->owner[r] = v;
    }
    return r;
}

/* The register for the result d of an op reading a (already in ra):
 * ra itself when a's value is not needed afterwards, else a new one. */
int ra_dest_reg(gen *g, tes_jit_val d, tes_jit_val a, unsigned ia, int ra)
{
    vstate *s = ra_state(g, a);
    bool a_dies = VAL_KIND(a) == VK_TEMP && (g->cur->dead & (1u << ia));

    if (s && s->reg == ra && ra >= 0 && (a == d || a_dies)) {
        if (a != d) {
            g->owner[ra] = 0;
            s->reg = -1;
        }
        ra_lock(g, ra);
        return ra;
    }
    if (!s && ra >= 0 && ra != REG_ENV && !g->owner[ra]) {
        /* a scratch register holding a constant */
        return ra;
    }
    return ra_alloc(g, REGS_ALLOC);
}

/* A register for d = f(a) computed in place (two-operand x86 forms),
 * holding a's value. */
int ra_dest_from(gen *g, tes_jit_val d, tes_jit_val a, unsigned ia)
{
    vstate *s = ra_state(g, a);
    int r;

    if (s && s->reg < 0 && VAL_KIND(a) == VK_GLOBAL) {
        /* Globals are often read again: load into a register of its own,
         * then copy (a register move costs next to nothing). */
        ra_load(g, a, REGS_ALLOC);
    }
    if (s && s->reg >= 0) {
        int old = s->reg;

        r = ra_dest_reg(g, d, a, ia, old);
        if (r != old) {
            x_mov_rr(&g->e, true, r, old);
        }
        return r;
    }
    r = ra_alloc(g, REGS_ALLOC);
    ra_move_to(g, r, a);
    return r;
}

/* d's value is now in r (whose previous owner, if any, is done with). */
void ra_bind(gen *g, tes_jit_val d, int r)
{
    vstate *s = ra_state(g, d);
    tes_jit_val old = g->owner[r];

    if (old && old != d) {
        ra_state(g, old)->reg = -1;
    }
    if (s->reg >= 0 && s->reg != r) {
        g->owner[s->reg] = 0;
    }
    s->reg = r;
    g->owner[r] = d;
    if (VAL_KIND(d) == VK_GLOBAL) {
        s->dirty = 1;
    } else {
        s->spilled = 0;
    }
}

/* After an op: temps read for the last time lose their register and slot;
 * a result nobody reads is dropped; locks end. */
void ra_end_op(gen *g, const jop *op, unsigned nin)
{
    for (unsigned i = 1; i <= nin; i++) {
        tes_jit_val v = op->v[i];

        if ((op->dead & (1u << i)) && VAL_KIND(v) == VK_TEMP && v != op->v[0]) {
            unbind(g, v);
            free_slot(g, ra_state(g, v));
        }
    }
    if ((op->dead & 1) && VAL_KIND(op->v[0]) == VK_TEMP) {
        unbind(g, op->v[0]);
        free_slot(g, ra_state(g, op->v[0]));
    }
    g->locked = 0;
}

/* Write every dirty global back to env (they stay cached). */
void ra_sync(gen *g)
{
    for (int r = 0; r < 16; r++) {
        tes_jit_val v = g->owner[r];

        if (v && VAL_KIND(v) == VK_GLOBAL && ra_state(g, v)->dirty) {
            x_st64(&g->e, r, REG_ENV, ra_global_off(g, v));
            ra_state(g, v)->dirty = 0;
        }
    }
}

/* Drop cached globals (env may have changed behind them). */
void ra_forget_globals(gen *g)
{
    for (int r = 0; r < 16; r++) {
        if (g->owner[r] && VAL_KIND(g->owner[r]) == VK_GLOBAL) {
            unbind(g, g->owner[r]);
        }
    }
}

/* At a label: globals written back, nothing cached, no temp alive. */
void ra_forget_all(gen *g)
{
    ra_sync(g);
    for (int r = 0; r < 16; r++) {
        if (g->owner[r]) {
            unbind(g, g->owner[r]);
        }
    }
    for (uint32_t i = 0; i < g->ir->ntemps; i++) {
        g->temps[i].spilled = 0;
        g->temps[i].slot = -1;
    }
    g->slots_used = 0;
}

/* Before a call: no value may stay in a register the callee clobbers.
 * Temps move to free callee-saved registers (or spill); globals move too
 * when keep_globals, else are written back and dropped. */
void ra_clear_caller_saved(gen *g, bool keep_globals)
{
    for (int r = 0; r < 16; r++) {
        tes_jit_val v = g->owner[r];
        int n;

        if (!v || !(REGS_CALLER_ALLOC & RB(r))) {
            continue;
        }
        if (VAL_KIND(v) == VK_GLOBAL && !keep_globals) {
            ra_spill(g, r);
            continue;
        }
        n = free_reg(g, REGS_CALLEE & ~g->locked);
        if (n < 0) {
            ra_spill(g, r);
            continue;
        }
        x_mov_rr(&g->e, true, n, r);
        g->owner[n] = v;
        g->owner[r] = 0;
        ra_state(g, v)->reg = n;
    }
}

/* A host ld/st at env + off of size bytes: globals it overlaps are
 * written back first, and dropped (drop) when it stores. */
void ra_sync_overlap(gen *g, int32_t off, unsigned size, bool drop)
{
    for (int r = 0; r < 16; r++) {
        tes_jit_val v = g->owner[r];
        int64_t goff;

        if (!v || VAL_KIND(v) != VK_GLOBAL) {
            continue;
        }
        goff = ra_global_off(g, v);
        if (goff + 8 <= off || (int64_t)off + size <= goff) {
            continue;
        }
        ra_spill(g, r);
        (void)drop; /* spilling a global also drops it: always safe */
    }
}
