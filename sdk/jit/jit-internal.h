/*
 * tessera JIT internals: the IR, the block cache and the code buffer as the
 * files of sdk/jit see them. Nothing here is installed; the IR is free to
 * change (see tessera/jit.h for the contract with frontends).
 */
#ifndef TESSERA_JIT_INTERNAL_H
#define TESSERA_JIT_INTERNAL_H

#include "namespace.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera/jit.h"

/* ---- values ---- */

/* A value's kind is in its top 4 bits. Temps and constants are numbered
 * per block; a global's external value is its env offset (so a frontend
 * may keep global values from one block to the next) and is renumbered
 * densely inside the IR. */
enum { VK_TEMP = 1, VK_GLOBAL = 2, VK_CONST = 3, VK_ENV = 4 };
#define VK_SHIFT 28
#define VK_INDEX_MASK ((1u << VK_SHIFT) - 1)
#define VAL(kind, idx) (((uint32_t)(kind) << VK_SHIFT) | (uint32_t)(idx))
#define VAL_KIND(v) ((v) >> VK_SHIFT)
#define VAL_IDX(v) ((v) & VK_INDEX_MASK)
#define VAL_ENV VAL(VK_ENV, 0)

/* ---- ops ---- */

/* Internal opcodes: the tes_jit_opc ALU ops first, then these. */
enum {
    OP_SETCOND = TES_JIT_OPC_COUNT,
    OP_MOVCOND,
    OP_LABEL,
    OP_BR,
    OP_BRCOND,
    OP_LD,
    OP_ST,
    OP_QLD,
    OP_QST,
    OP_CALL,
    OP_EXIT,
    OP_EXIT_NOCHAIN,
    OP_GOTO_PTR,
    OP_INSN_START,
    OP_NOP, /* removed by the optimiser */
    OP_COUNT
};

#define MAX_CALL_ARGS 6

/* One IR op. v[0] is the destination of ops that have one; the sources
 * follow. Unused fields are zero. */
typedef struct jop {
    uint8_t opc;
    uint8_t is32;
    uint8_t cond;
    uint8_t nargs; /* OP_CALL */
    uint32_t memop;
    uint32_t aux; /* label, exit slot, tlb_off, call flags */
    uint32_t arg; /* qld/qst frontend arg */
    uint32_t dead; /* bit i: v[i] (a temp) is not used after this op */
    int32_t off;   /* ld/st offset */
    uint64_t imm;  /* pc (qld/qst/insn_start), fn (call) */
    tes_jit_val v[MAX_CALL_ARGS + 1];
} jop;

typedef struct jglobal {
    uint32_t off;
    const char *name;
} jglobal;

struct tes_jit_ir {
    tes_jit *j;
    tes_jit_key key;
    jop *ops;
    uint32_t nops, cap_ops;
    uint32_t ntemps;
    uint64_t *consts;
    uint32_t nconsts, cap_consts;
    jglobal *globals;
    uint32_t nglobals, cap_globals;
    uint32_t *ghash; /* open addressing: env offset -> global index + 1 */
    uint32_t ghash_size;
    uint32_t nlabels;
};

/* ---- blocks ---- */

typedef struct page_node page_node;

struct tes_jit_tb {
    tes_jit_key key;
    const uint8_t *host;
    size_t len;
    uint32_t ninsns;
    bool valid;
    uint8_t *code;     /* entry, in the RX view */
    uint32_t code_len; /* bytes of code including out-of-line parts */
    uint32_t jmp_off[2]; /* offset of an exit's rel32 field; 0: no such exit */
    uint32_t stub_off[2]; /* offset of its return stub */
    tes_jit_tb *jmp_dest[2];
    uintptr_t jmp_in;      /* first incoming jump: tb | slot */
    uintptr_t jmp_next[2]; /* next incoming jump of jmp_dest[slot] */
    page_node *pages;
    uint32_t npages;
    tes_jit_tb *all_next; /* every block of this generation (for flush) */
    /* Next block of its hash bucket. Readers walk buckets without the
     * lock: a dropped block keeps this pointer, so a reader standing on it
     * still reaches the rest of the chain. */
    tes_jit_tb *hash_next;
};

struct page_node {
    tes_jit_tb *tb;
    page_node *next;
    page_node **pprev;
};

typedef struct page_desc {
    uintptr_t page;
    page_node *head;
    struct page_desc *next;
} page_desc;

#define JC_BITS 12
#define JC_SIZE (1u << JC_BITS)

/* A jump cache entry: everything an indirect jump needs, so that a hit
 * reads one entry and no block (generated code probes it inline). tag is
 * the key's flags | the cache's generation << 32: clearing the cache is
 * gen++ (entries of older generations never match), and 0 is never a
 * valid tag (gen >= 1), which is how a dropped block's entry is killed. */
typedef struct jc_entry {
    uint64_t pc;
    uint64_t tag;
    const void *code;
    tes_jit_tb *tb;
} jc_entry;

#define JC_ENTRY_SHIFT 5 /* sizeof(jc_entry) == 32 */
#define JC_FLAGS_MAX 0x7fffffffu /* flags above: never cached (imm32 in code) */

struct tes_jit_jc {
    uint64_t gtag; /* gen << 32: read by generated code */
    tes_jit *j;
    tes_jit_jc *next;
    jc_entry e[JC_SIZE];
    /* Behind it, blocks by whole key (host address compared), so kept
     * across TLB flushes: a flush empties e, and the lookups after it
     * refill e from here, not from the hash (one line, not two). Entries
     * go at a flush of the code buffer; dropped blocks fail valid. */
    tes_jit_tb *e2[JC_SIZE];
};

/* The jump cache index of pc, in C and (gen.c) in generated code: pc ^
 * pc >> 2 ^ pc >> 14 is one-to-one on a 16 KiB area's pcs, so neither
 * 4-byte aligned (A64) nor byte aligned (x86) pcs of one area collide.
 * (QEMU's older layout, the top bits from the page so that a page's
 * entries could be cleared together, made a boot's blocks evict each
 * other 10 times as often.) */
static inline uint32_t jit_jc2_index(uint64_t pc)
{
    return (uint32_t)((pc * 0x9e3779b97f4a7c15ull) >> (64 - JC_BITS));
}

static inline uint32_t jit_jc_index(uint64_t pc)
{
    return (uint32_t)(pc ^ (pc >> 2) ^ (pc >> (2 + JC_BITS))) & (JC_SIZE - 1);
}

typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

struct tes_jit {
    tes_jit_config cfg;
    pthread_mutex_t lock;
    /* code buffer: one memfd mapped twice */
    int memfd;
    uint8_t *rw, *rx;
    size_t size;
    size_t head_len; /* prologue/epilogue at the start, kept by flushes */
    size_t used;
    uintptr_t (*entry)(void *env, const void *code);
    uint32_t epilogue_off, ret_other_off;
    /* blocks: chained hash, fixed size (sized from the code buffer), so
     * readers need no lock: blocks are published with a release store of
     * the bucket head and unlinked with one store; none is freed before
     * the flush after next (see tb.c) */
    tes_jit_tb **hash;
    uint32_t hash_size;
    page_desc **pages;
    uint32_t pages_size, pages_count;
    tes_jit_tb *all;    /* this generation's blocks */
    tes_jit_tb *zombie; /* the previous generation's, freed at the next flush */
    tes_jit_jc *jcs;
    tes_jit_ir *open;
    tes_jit_ir *spare_ir; /* reused by jit_ir_new (tr_lock) */
    /* gen.c's per-block arrays, kept from block to block (lock) */
    void *gs_temps, *gs_globals, *gs_labels, *gs_fix, *gs_slow;
    uint32_t gs_cap_temps, gs_cap_globals, gs_cap_labels, gs_cap_fix, gs_cap_slow;
    /* held from tes_jit_begin to tes_jit_end/abort: vCPU threads that
     * translate at once take turns */
    pthread_mutex_t tr_lock;
    pthread_t open_owner;
    tes_jit_stats st;
    /* names of globals by offset, for -d op */
    jglobal *gnames;
    uint32_t ngnames;
};

/* ---- shared helpers ---- */

__attribute__((noreturn, format(printf, 1, 2))) void jit_bug(const char *fmt, ...);
void *jit_alloc(size_t n);
void *jit_grow(void *p, uint32_t *cap, uint32_t need, size_t elem);

void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(strbuf *sb);

/* ir.c */
tes_jit_ir *jit_ir_new(tes_jit *j, const tes_jit_key *k);
void jit_ir_free(tes_jit_ir *ir);
/* Done with ir: kept for the next jit_ir_new, or freed. */
void jit_ir_release(tes_jit *j, tes_jit_ir *ir);
void jit_ir_dump(tes_jit_ir *ir, strbuf *sb, const char *title);
uint64_t jit_const_val(const tes_jit_ir *ir, tes_jit_val v);
tes_jit_val jit_const_get(tes_jit_ir *ir, uint64_t v);
const char *jit_global_name(tes_jit *j, uint32_t off);

/* opt.c */
void jit_optimize(tes_jit_ir *ir);
uint64_t jit_fold(unsigned opc, bool is32, uint64_t a, uint64_t b);
bool jit_cond_eval(unsigned c, bool is32, uint64_t a, uint64_t b);
/* Fills op->dead (last uses of temps) and drops unused pure ops. */
void jit_liveness(tes_jit_ir *ir);

/* gen.c: code for ir at j->rw + j->used; returns its length, 0 if it
 * does not fit in max bytes. */
uint32_t jit_gen(tes_jit *j, tes_jit_ir *ir, tes_jit_tb *tb, uint32_t max);
/* The prologue/epilogue at the start of the buffer; returns its length. */
uint32_t jit_gen_head(tes_jit *j);

/* buffer.c */
bool jit_buf_init(tes_jit *j, size_t size, char **err);
void jit_buf_free(tes_jit *j);
static inline uint8_t *jit_rw_of(tes_jit *j, const uint8_t *rx)
{
    return j->rw + (rx - j->rx);
}

/* tb.c */
void jit_tb_insert(tes_jit *j, tes_jit_tb *tb);
void jit_flush_locked(tes_jit *j);
/* tes_jit_free's flush: frees every block, live or zombie, and leaves the
 * hash table as it is (freed next). */
void jit_free_blocks_locked(tes_jit *j);

#endif
