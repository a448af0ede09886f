/*
 * tessera JIT: the code generator shared by CPU plugins (libtessera-jit.a,
 * pkg-config tessera-jit-1). A static library the CPU plugin links, not a
 * core service: nothing here crosses the plugin ABI, so the IR can change
 * between releases without an ABI bump (docs/architecture.md, "The
 * translator", says why).
 *
 * A CPU plugin (the "frontend") turns guest code into translation blocks
 * (TBs): it opens a block with tes_jit_begin(), emits IR with the op
 * builders below, and closes it with tes_jit_end(), which optimises the IR
 * (constant folding, copy propagation, dead stores to globals, i.e. dead
 * flags), allocates host registers and emits x86-64 code into a code
 * buffer that is written through one mapping and executed through another
 * (memfd double mapping: no page is writable and executable at one
 * address).
 *
 * Model of the generated code
 * - It runs with the frontend's CPU state struct ("env") in a fixed host
 *   register. Globals are 64-bit fields of env (guest registers, flags);
 *   the generator caches them in host registers inside a block and writes
 *   them back before every exit, every helper call that is not
 *   TES_JIT_CALL_PURE, and every memory slow path.
 * - Block entry: if env->budget (int64 at cfg.budget_off) <= 0 or
 *   env->exit_req (int32 at cfg.exit_off) != 0, the block returns
 *   TES_JIT_RET_OTHER at once, having done nothing. Otherwise it subtracts
 *   its instruction count (tes_jit_end's ninsns) from env->budget and runs.
 *   Instruction counts are therefore per block, not per instruction.
 * - A helper called with TES_JIT_CALL_EXIT, or a memory slow path, may set
 *   env->exit_req to non-zero (a guest exception was raised, a mode changed,
 *   an interrupt is due): the block then returns TES_JIT_RET_OTHER right
 *   after that call, with every global already written back. The frontend
 *   clears exit_req in its loop.
 * - Blocks end with tes_jit_exit(slot) (chainable: the frontend stored the
 *   next guest PC first; tes_jit_chain() later patches the exit into a
 *   direct jump to the next block), tes_jit_exit_nochain(), or
 *   tes_jit_goto_ptr() (indirect branches: jump to a block found by a
 *   helper without returning to the frontend's loop), or
 *   tes_jit_goto_lookup() (the same with the vCPU's jump cache probed
 *   inline first: indirect branches and exits to other pages).
 *
 * Threads: one tes_jit is shared by every vCPU of a plugin. Translation,
 * chaining and invalidation take the tes_jit's lock; finding a block takes
 * none (jump cache, then a hash whose buckets are published with atomic
 * stores); a patched jump is one aligned 4-byte store, so a vCPU running
 * on another thread sees either the old or the new target (the design
 * allows parallel vCPUs later).
 */
#ifndef TESSERA_JIT_H
#define TESSERA_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TES_JIT_VERSION 1

typedef struct tes_jit tes_jit;       /* generator: code buffer, block cache */
typedef struct tes_jit_tb tes_jit_tb; /* a translated block */
typedef struct tes_jit_jc tes_jit_jc; /* a vCPU's jump cache */
typedef struct tes_jit_ir tes_jit_ir; /* the block being translated */
typedef uint32_t tes_jit_val;         /* IR value: temp, global or constant */
typedef uint32_t tes_jit_label;

/* ---- set-up ---- */

/* The guest soft TLB the generated loads and stores look up inline. Each
 * entry holds, at tag_off, the page's virtual address | 1 when valid, and
 * at host_off the host address of the page (NULL: not RAM, slow path). The
 * entry of address a is array[(a >> page_bits) & ((1 << index_bits) - 1)];
 * an access hits when the tag equals ((a + size - 1) & ~page_mask) | 1,
 * (so page-crossing accesses take the slow path) and, for TES_JIT_ALIGN,
 * when a is aligned. Which array (read/write, privilege) an access uses is
 * given per op as an env offset. */
typedef struct tes_jit_tlb {
    uint32_t entry_size;
    uint32_t tag_off, host_off;
    uint32_t page_bits;  /* 12 */
    uint32_t index_bits;
} tes_jit_tlb;

/* Memory slow paths, called with globals written back and env->pc (at
 * cfg.pc_off) holding the op's guest pc. memop is the op's TES_JIT_MO_*
 * bits, arg the op's frontend argument (privilege, access kind). On a
 * guest fault they raise the exception, set env->exit_req and return
 * (any value). */
typedef uint64_t (*tes_jit_ld_fn)(void *env, uint64_t addr, uint32_t memop, uint32_t arg);
typedef void (*tes_jit_st_fn)(void *env, uint64_t addr, uint64_t val, uint32_t memop,
                              uint32_t arg);

typedef struct tes_jit_config {
    uint32_t size;        /* sizeof(tes_jit_config) */
    size_t code_size;     /* code buffer bytes (-accel tcg,tb-size=MiB) */
    uint32_t budget_off;  /* int64 in env: instructions left */
    uint32_t exit_off;    /* int32 in env: exit request */
    uint32_t pc_off;      /* uint64 in env: guest pc, stored by slow paths */
    tes_jit_tlb tlb;
    tes_jit_ld_fn ld_slow;
    tes_jit_st_fn st_slow;
    /* Called (with the lock held) when a host page of guest code gets its
     * first block: the frontend must stop its soft TLBs from writing that
     * page directly (drop write entries with that host page), so that
     * stores to it reach tes_jit_invalidate(). May be NULL. */
    void (*protect_page)(void *opaque, const void *host_page);
    void *opaque;
    /* -d out_asm / -d op: text of each block, or NULL. */
    void (*log)(void *opaque, const char *text);
    bool log_op, log_out_asm;
    /* env offset of the vCPU's tes_jit_jc pointer, for the inline jump
     * cache probe of tes_jit_goto_lookup(); 0: no inline probe. */
    uint32_t jc_off;
} tes_jit_config;

/* NULL with *err (to free) when the code buffer cannot be made. */
tes_jit *tes_jit_new(const tes_jit_config *cfg, char **err);
void tes_jit_free(tes_jit *j);
/* Drop every block (code buffer full, or asked). Must not be called while
 * generated code runs on any thread. */
void tes_jit_flush(tes_jit *j);

/* ---- finding blocks ---- */

/* What identifies a block: its guest virtual pc, the host address of its
 * first instruction's bytes (its RAM page), and the frontend's mode bits
 * that change decoding (EL, CS.L/D, ...). */
typedef struct tes_jit_key {
    uint64_t pc;
    uint64_t flags;
    const void *host;
} tes_jit_key;

/* A vCPU's jump cache maps (virtual pc, flags) to a block without the
 * host address: the frontend must call tes_jit_jc_clear whenever the
 * vCPU's virtual-to-physical translation may have changed (each soft TLB
 * flush, whole or by page) — as QEMU clears its tb_jmp_cache. Dropped
 * blocks leave every jump cache by themselves. Only the owning vCPU's
 * thread may fill (tes_jit_find), probe or clear its cache; other threads
 * may drop blocks at any time. Keys whose flags exceed 0x7fffffff are
 * never cached. */
tes_jit_jc *tes_jit_jc_new(tes_jit *j);
void tes_jit_jc_free(tes_jit_jc *jc);
/* Forget every entry (O(1)). */
void tes_jit_jc_clear(tes_jit_jc *jc);
/* Forget at least the entries of the 4 KiB page of virtual address va
 * (today: every entry; a second level keyed by host address refills them
 * without the hash). */
void tes_jit_jc_clear_page(tes_jit_jc *jc, uint64_t va);
/* The block for key, or NULL: the jump cache first (no lock), then the
 * global hash (lock-free read; the lock only to confirm a miss); a hash
 * hit is put in the jump cache. */
tes_jit_tb *tes_jit_find(tes_jit *j, tes_jit_jc *jc, const tes_jit_key *k);
/* The same, for helpers behind tes_jit_goto_ptr(): the block's entry code,
 * or NULL. */
const void *tes_jit_find_code(tes_jit *j, tes_jit_jc *jc, const tes_jit_key *k);
/* The jump cache alone, by virtual pc and flags (no host address): the
 * code, or NULL. */
const void *tes_jit_jc_lookup(tes_jit_jc *jc, uint64_t pc, uint64_t flags);

/* ---- running ---- */

/* What tes_jit_exec returns: the last block and how it left, or OTHER
 * (budget out, exit request, goto_ptr to NULL, tes_jit_exit_nochain). */
#define TES_JIT_RET_OTHER ((uintptr_t)0)
static inline tes_jit_tb *tes_jit_ret_tb(uintptr_t r)
{
    return (tes_jit_tb *)(r & ~(uintptr_t)3);
}
static inline unsigned tes_jit_ret_slot(uintptr_t r)
{
    return (unsigned)(r & 3);
}

/* Run from tb until a block leaves (see the model above). */
uintptr_t tes_jit_exec(tes_jit *j, void *env, tes_jit_tb *tb);
/* Make exit slot of from jump straight to to. The frontend chains only
 * when that is always right (same guest page, same mode bits). */
void tes_jit_chain(tes_jit *j, tes_jit_tb *from, unsigned slot, tes_jit_tb *to);
/* Blocks and instruction count, for statistics and tests. */
uint32_t tes_jit_tb_ninsns(const tes_jit_tb *tb);
uint64_t tes_jit_tb_pc(const tes_jit_tb *tb);

/* ---- code that changes ---- */

/* True when a block holds guest code from the host page. */
bool tes_jit_page_has_code(tes_jit *j, const void *host_page);
/* Guest memory [host, host + len) was written: every block whose guest
 * code overlaps it is unlinked and never found again. */
void tes_jit_invalidate(tes_jit *j, const void *host, size_t len);

/* Counters, for tests and -d statistics. */
typedef struct tes_jit_stats {
    uint64_t tbs, translated, invalidated, flushes, chained;
    size_t code_used, code_size;
} tes_jit_stats;
void tes_jit_get_stats(tes_jit *j, tes_jit_stats *st);

/* ---- building a block ---- */

/* Open a block for key; NULL if the code buffer had to be flushed and
 * still has no room (then run the interpreter). Only one block is open at
 * a time per tes_jit. */
tes_jit_ir *tes_jit_begin(tes_jit *j, const tes_jit_key *k);
/* Close it: ninsns guest instructions, whose bytes are host[0, len) (one
 * guest page at most). NULL when it cannot be generated (too big); the
 * block is then dropped. */
tes_jit_tb *tes_jit_end(tes_jit *j, tes_jit_ir *ir, uint32_t ninsns, const void *host,
                        size_t len);
/* Abandon an open block (the frontend cannot translate the first
 * instruction after all). */
void tes_jit_abort(tes_jit *j, tes_jit_ir *ir);

/* Values. All values are 64-bit. */
#define TES_JIT_NONE ((tes_jit_val)0)
tes_jit_val tes_jit_temp(tes_jit_ir *ir);                /* a new temp */
tes_jit_val tes_jit_const(tes_jit_ir *ir, uint64_t v);   /* a constant */
tes_jit_val tes_jit_env(tes_jit_ir *ir);                 /* the env pointer */
/* The 64-bit field of env at off as a value (the same off gives the same
 * value; name is for -d op). */
tes_jit_val tes_jit_global(tes_jit_ir *ir, uint32_t off, const char *name);

/* Operations. dst is a temp or global; sources any value. "32" forms
 * operate on the low 32 bits and zero-extend the result to 64. Shift and
 * rotate counts are taken modulo the width. */
typedef enum tes_jit_opc {
    TES_JIT_MOV, /* d = a */
    TES_JIT_ADD, TES_JIT_SUB, TES_JIT_MUL, TES_JIT_AND, TES_JIT_OR, TES_JIT_XOR,
    TES_JIT_ANDC,  /* a & ~b */
    TES_JIT_SHL, TES_JIT_SHR, TES_JIT_SAR, TES_JIT_ROTR, TES_JIT_ROTL,
    TES_JIT_MULUH, TES_JIT_MULSH, /* high 64 bits of the 128-bit product */
    TES_JIT_NEG, TES_JIT_NOT,     /* unary: b unused */
    TES_JIT_EXT8U, TES_JIT_EXT8S, TES_JIT_EXT16U, TES_JIT_EXT16S,
    TES_JIT_EXT32U, TES_JIT_EXT32S,
    TES_JIT_BSWAP16, TES_JIT_BSWAP32, TES_JIT_BSWAP64, /* 16/32 zero-extend */
    TES_JIT_CLZ, TES_JIT_CTZ, /* of the width; the width when a == 0 */
    TES_JIT_OPC_COUNT
} tes_jit_opc;

void tes_jit_op(tes_jit_ir *ir, tes_jit_opc op, tes_jit_val d, tes_jit_val a, tes_jit_val b);
void tes_jit_op32(tes_jit_ir *ir, tes_jit_opc op, tes_jit_val d, tes_jit_val a, tes_jit_val b);

/* Conditions: signed and unsigned comparisons, and TSTEQ/TSTNE
 * ((a & b) == 0 / != 0). The 32 forms compare the low 32 bits. */
typedef enum tes_jit_cond {
    TES_JIT_EQ, TES_JIT_NE, TES_JIT_LT, TES_JIT_GE, TES_JIT_LE, TES_JIT_GT,
    TES_JIT_LTU, TES_JIT_GEU, TES_JIT_LEU, TES_JIT_GTU, TES_JIT_TSTEQ, TES_JIT_TSTNE
} tes_jit_cond;

/* d = (a cond b) ? 1 : 0 */
void tes_jit_setcond(tes_jit_ir *ir, tes_jit_cond c, tes_jit_val d, tes_jit_val a,
                     tes_jit_val b, bool is32);
/* d = (a cond b) ? t : f */
void tes_jit_movcond(tes_jit_ir *ir, tes_jit_cond c, tes_jit_val d, tes_jit_val a,
                     tes_jit_val b, tes_jit_val t, tes_jit_val f, bool is32);

/* Control flow inside a block. Labels are forward or backward; temps do
 * not live across a label or a branch (globals do). */
tes_jit_label tes_jit_label_new(tes_jit_ir *ir);
void tes_jit_label_set(tes_jit_ir *ir, tes_jit_label l);
void tes_jit_br(tes_jit_ir *ir, tes_jit_label l);
void tes_jit_brcond(tes_jit_ir *ir, tes_jit_cond c, tes_jit_val a, tes_jit_val b,
                    tes_jit_label l, bool is32);

/* Memory operations: size log2 in bits 1:0, plus flags. */
#define TES_JIT_MO_8 0u
#define TES_JIT_MO_16 1u
#define TES_JIT_MO_32 2u
#define TES_JIT_MO_64 3u
#define TES_JIT_MO_SIZE 3u
#define TES_JIT_MO_SIGN (1u << 2)  /* sign-extend the loaded value to 64 bits */
#define TES_JIT_MO_ALIGN (1u << 3) /* unaligned: slow path (which faults) */

/* Host memory: d = *(base + off), *(base + off) = v. */
void tes_jit_ld(tes_jit_ir *ir, tes_jit_val d, tes_jit_val base, int32_t off, uint32_t memop);
void tes_jit_st(tes_jit_ir *ir, tes_jit_val v, tes_jit_val base, int32_t off, uint32_t memop);

/* Guest memory through the soft TLB array at env + tlb_off (see
 * tes_jit_tlb); a miss calls cfg.ld_slow / st_slow with pc stored in
 * env->pc and arg passed on. If the slow path sets exit_req, the block
 * leaves (TES_JIT_RET_OTHER) before the next op. */
void tes_jit_qld(tes_jit_ir *ir, tes_jit_val d, tes_jit_val addr, uint32_t memop,
                 uint32_t tlb_off, uint32_t arg, uint64_t pc);
void tes_jit_qst(tes_jit_ir *ir, tes_jit_val v, tes_jit_val addr, uint32_t memop,
                 uint32_t tlb_off, uint32_t arg, uint64_t pc);

/* Helper calls: fn(args...) with up to 6 64-bit arguments, result in d
 * (TES_JIT_NONE: none). */
#define TES_JIT_CALL_PURE (1u << 0) /* touches no global, never sets exit_req */
#define TES_JIT_CALL_EXIT (1u << 1) /* may set exit_req: checked on return */
void tes_jit_call(tes_jit_ir *ir, const void *fn, unsigned flags, tes_jit_val d,
                  unsigned nargs, const tes_jit_val *args);

/* Block exits. */
void tes_jit_exit(tes_jit_ir *ir, unsigned slot); /* slot 0 or 1: chainable */
void tes_jit_exit_nochain(tes_jit_ir *ir);
/* Jump to host code a (from tes_jit_find_code), or leave when a is 0. */
void tes_jit_goto_ptr(tes_jit_ir *ir, tes_jit_val a);
/* Jump to the block of guest pc (already stored in env by the frontend)
 * in this block's mode flags: the vCPU's jump cache (cfg.jc_off) is probed
 * in the generated code, so a hit never leaves it; a miss calls
 * miss(env), which returns the code (tes_jit_find_code) or NULL to leave
 * (TES_JIT_RET_OTHER). Without cfg.jc_off only miss runs. Right only
 * where the frontend may run the next block without its loop (nothing
 * changed the mode flags; the jump cache rule above holds). */
void tes_jit_goto_lookup(tes_jit_ir *ir, tes_jit_val pc, const void *miss);

/* Marks the start of guest instruction pc in -d op output. */
void tes_jit_insn_start(tes_jit_ir *ir, uint64_t pc);

#ifdef __cplusplus
}
#endif
#endif
