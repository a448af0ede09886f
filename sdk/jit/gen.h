/*
 * tessera JIT: state shared by the register allocator (regalloc.c) and the
 * lowering of ops to x86-64 (gen.c).
 *
 * Generated code runs with env in rbp and rsp 16-byte aligned, on a frame
 * made by the prologue at the start of the code buffer:
 *   [rsp + 0, 128)       caller-saved registers saved around slow paths
 *   [rsp + 128, ...)     spill slots of temps
 * r10 and r11 are scratch registers the allocator never hands out.
 */
#ifndef TESSERA_JIT_GEN_H
#define TESSERA_JIT_GEN_H

#include "jit-internal.h"
#include "x86.h"

#define REG_ENV RBP
#define TMP0 R10
#define TMP1 R11
#define NSPILL 64
#define FRAME_SAVE 0
#define FRAME_SPILL 128
/* 6 pushes + return address + frame keeps rsp 16-byte aligned. */
#define FRAME_SIZE (FRAME_SPILL + 8 * NSPILL + 8)

#define RB(r) (1u << (r))
#define REGS_CALLEE (RB(RBX) | RB(R12) | RB(R13) | RB(R14) | RB(R15))
#define REGS_CALLER_ALLOC (RB(RAX) | RB(RCX) | RB(RDX) | RB(RSI) | RB(RDI) | RB(R8) | RB(R9))
#define REGS_ALLOC (REGS_CALLEE | REGS_CALLER_ALLOC)

typedef struct vstate {
    int8_t reg;      /* host register, or -1 */
    uint8_t dirty;   /* global: the register is newer than env */
    uint8_t spilled; /* temp: its spill slot holds it */
    int8_t slot;     /* temp: spill slot, or -1 */
} vstate;

/* A qld/qst miss, emitted after the block's main code. */
typedef struct slowpath {
    const jop *op;
    uint32_t jcc_at[3];
    unsigned njcc;
    uint32_t ret_at;
    int addr_reg, val_reg, dst_reg;
    uint16_t save_mask;
    uint8_t nwb;
    struct {
        int8_t reg;
        uint32_t off;
    } wb[16];
} slowpath;

typedef struct fixup {
    uint32_t at;
    uint32_t label;
} fixup;

typedef struct gen {
    tes_jit *j;
    tes_jit_ir *ir;
    tes_jit_tb *tb;
    xemit e;
    const jop *cur;
    vstate *temps, *globals;
    tes_jit_val owner[16];
    uint16_t locked;
    uint64_t slots_used;
    bool failed;
    bool reachable;
    uint32_t entry_jl, body_at; /* the budget check's jl, the code after */
    int32_t *label_pos;
    fixup *fix;
    uint32_t nfix, cap_fix;
    slowpath *slow;
    uint32_t nslow, cap_slow;
} gen;

/* regalloc.c */
vstate *ra_state(gen *g, tes_jit_val v);
bool ra_is_const(const gen *g, tes_jit_val v);
uint64_t ra_const(const gen *g, tes_jit_val v);
int ra_alloc(gen *g, uint16_t allowed);
int ra_load(gen *g, tes_jit_val v, uint16_t allowed);
void ra_move_to(gen *g, int r, tes_jit_val v);
int ra_dest_reg(gen *g, tes_jit_val d, tes_jit_val a, unsigned ia, int ra);
int ra_dest_from(gen *g, tes_jit_val d, tes_jit_val a, unsigned ia);
void ra_bind(gen *g, tes_jit_val d, int r);
void ra_end_op(gen *g, const jop *op, unsigned nin);
void ra_evict(gen *g, int r);
void ra_spill(gen *g, int r);
void ra_sync(gen *g);
void ra_forget_all(gen *g);
void ra_forget_globals(gen *g);
void ra_clear_caller_saved(gen *g, bool keep_globals);
void ra_sync_overlap(gen *g, int32_t off, unsigned size, bool drop);
uint32_t ra_global_off(const gen *g, tes_jit_val v);

/* gen.c */
const uint8_t *head_addr(gen *g, uint32_t off);
void finish(gen *g, tes_jit_val d, int r, unsigned nin);
void emit_call(gen *g, uint64_t fn);

/* gen-mem.c */
void gen_qld(gen *g, const jop *op);
void gen_qst(gen *g, const jop *op);
void emit_slow(gen *g, slowpath *sp);

static inline void ra_lock(gen *g, int r)
{
    g->locked |= RB(r);
}

#endif
