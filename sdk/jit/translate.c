/*
 * tessera JIT: the generator's life cycle and the translation of one
 * block (tes_jit_begin .. tes_jit_end): optimise, allocate, emit, insert.
 */
#include "jit-internal.h"

#include <inttypes.h>
#include <unistd.h>

#define MAX_TB_CODE (64u * 1024)
#define MIN_CODE_SIZE (256u * 1024)
#define DEFAULT_CODE_SIZE (32u * 1024 * 1024)
/* Every rel32 in the buffer must reach every other byte of it. */
#define MAX_CODE_SIZE (1024u * 1024 * 1024)

static char *msg(const char *text)
{
    return strdup(text);
}

static bool check_config(const tes_jit_config *c, char **err)
{
    const tes_jit_tlb *t = &c->tlb;

    if (c->size < offsetof(tes_jit_config, log)) {
        *err = msg("tessera-jit: tes_jit_config.size too small (set it to sizeof)");
        return false;
    }
    if (c->code_size && (c->code_size < MIN_CODE_SIZE || c->code_size > MAX_CODE_SIZE)) {
        *err = msg("tessera-jit: code_size wants 256 KiB .. 1 GiB");
        return false;
    }
    if (t->page_bits < 8 || t->page_bits > 30 || t->index_bits < 1 || t->index_bits > 24 ||
        t->entry_size == 0 || !c->ld_slow || !c->st_slow) {
        *err = msg("tessera-jit: bad soft TLB description or no slow paths");
        return false;
    }
    return true;
}

tes_jit *tes_jit_new(const tes_jit_config *cfg, char **err)
{
    tes_jit *j;
    size_t n = cfg->size < sizeof(*cfg) ? cfg->size : sizeof(*cfg);

    *err = NULL;
    if (!check_config(cfg, err)) {
        return NULL;
    }
    j = jit_alloc(sizeof(*j));
    memcpy(&j->cfg, cfg, n);
    if (!jit_buf_init(j, cfg->code_size ? cfg->code_size : DEFAULT_CODE_SIZE, err)) {
        free(j);
        return NULL;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_mutex_init(&j->tr_lock, NULL);
    j->head_len = (jit_gen_head(j) + 63) & ~(size_t)63;
    j->used = j->head_len;
    /* about one bucket per 512 bytes of code: a few blocks a bucket when
     * the buffer is full, and never a resize (readers hold no lock) */
    j->hash_size = 1024;
    while ((size_t)j->hash_size * 512 < j->size) {
        j->hash_size *= 2;
    }
    j->hash = jit_alloc(j->hash_size * sizeof(*j->hash));
    j->pages_size = 256;
    j->pages = jit_alloc(j->pages_size * sizeof(*j->pages));
    return j;
}

void tes_jit_free(tes_jit *j)
{
    if (!j) {
        return;
    }
    pthread_mutex_lock(&j->lock);
    jit_free_blocks_locked(j);
    for (tes_jit_jc *jc = j->jcs; jc; jc = jc->next) {
        jc->j = NULL;
    }
    pthread_mutex_unlock(&j->lock);
    if (j->open) { /* left open by a thread that is gone */
        jit_ir_free(j->open);
        pthread_mutex_unlock(&j->tr_lock);
    }
    for (uint32_t i = 0; i < j->ngnames; i++) {
        free((char *)j->gnames[i].name);
    }
    free(j->gnames);
    jit_ir_free(j->spare_ir);
    free(j->gs_temps);
    free(j->gs_globals);
    free(j->gs_labels);
    free(j->gs_fix);
    free(j->gs_slow);
    free(j->hash);
    free(j->pages);
    jit_buf_free(j);
    pthread_mutex_destroy(&j->lock);
    pthread_mutex_destroy(&j->tr_lock);
    free(j);
}

tes_jit_ir *tes_jit_begin(tes_jit *j, const tes_jit_key *k)
{
    tes_jit_ir *ir = NULL;

    if (__atomic_load_n(&j->open, __ATOMIC_RELAXED) &&
        pthread_equal(j->open_owner, pthread_self())) {
        jit_bug("tes_jit_begin: this thread has a block open already");
    }
    /* Another thread's block: wait for it to close. */
    pthread_mutex_lock(&j->tr_lock);
    pthread_mutex_lock(&j->lock);
    if (j->size - j->used < MAX_TB_CODE) {
        jit_flush_locked(j);
    }
    if (j->size - j->used >= MAX_TB_CODE) {
        ir = jit_ir_new(j, k);
        j->open_owner = pthread_self();
        __atomic_store_n(&j->open, ir, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&j->lock);
    if (!ir) {
        pthread_mutex_unlock(&j->tr_lock);
    }
    return ir;
}

static void close_block(tes_jit *j, tes_jit_ir *ir)
{
    __atomic_store_n(&j->open, NULL, __ATOMIC_RELAXED);
    jit_ir_release(j, ir);
    pthread_mutex_unlock(&j->tr_lock);
}

void tes_jit_abort(tes_jit *j, tes_jit_ir *ir)
{
    if (!ir || ir != j->open) {
        jit_bug("tes_jit_abort: not the open block");
    }
    close_block(j, ir);
}

static void log_ir(tes_jit *j, tes_jit_ir *ir, const char *title)
{
    strbuf sb = { 0 };

    jit_ir_dump(ir, &sb, title);
    j->cfg.log(j->cfg.opaque, sb.s);
    sb_free(&sb);
}

static void log_code(tes_jit *j, const tes_jit_tb *tb)
{
    strbuf sb = { 0 };

    sb_printf(&sb, "OUT: [size=%u] pc=0x%" PRIx64 " at %p\n", tb->code_len, tb->key.pc,
              (void *)tb->code);
    for (uint32_t i = 0; i < tb->code_len; i++) {
        if (i % 16 == 0) {
            sb_printf(&sb, "  %p:", (void *)(tb->code + i));
        }
        sb_printf(&sb, " %02x", tb->code[i]);
        if (i % 16 == 15 || i + 1 == tb->code_len) {
            sb_printf(&sb, "\n");
        }
    }
    j->cfg.log(j->cfg.opaque, sb.s);
    sb_free(&sb);
}

/* $TES_JIT_PERFMAP: each block's code range in /tmp/tes-jit-PID.map as
 * "offset-in-the-code-buffer length tb_PC_FLAGS": perf reports samples in
 * the memfd mapping by that offset (a profiling aid; the file grows with
 * every translation, and offsets are reused after a flush). */
static void perfmap_note(const tes_jit *j, const tes_jit_tb *tb)
{
    static FILE *f;
    static int state; /* 0: not looked, 1: on, 2: off */

    if (state == 0) {
        char name[64];

        state = 2;
        if (getenv("TES_JIT_PERFMAP")) {
            snprintf(name, sizeof(name), "/tmp/tes-jit-%d.map", (int)getpid());
            f = fopen(name, "a");
            state = f ? 1 : 2;
        }
    }
    if (state == 1) {
        fprintf(f, "%" PRIxPTR " %x tb_%" PRIx64 "_%" PRIx64 "\n", (uintptr_t)(tb->code - j->rx),
                tb->code_len, tb->key.pc, tb->key.flags);
        fflush(f);
    }
}

/* Code for ir at the buffer's bump pointer; false if it does not fit. */
static bool emit_block(tes_jit *j, tes_jit_ir *ir, tes_jit_tb *tb)
{
    uint32_t len;

    j->used = (j->used + 15) & ~(size_t)15;
    tb->code = j->rx + j->used;
    len = jit_gen(j, ir, tb, j->size - j->used > MAX_TB_CODE ? MAX_TB_CODE
                                                            : j->size - j->used);
    if (!len) {
        return false;
    }
    tb->code_len = len;
    j->used += len;
    return true;
}

tes_jit_tb *tes_jit_end(tes_jit *j, tes_jit_ir *ir, uint32_t ninsns, const void *host,
                        size_t len)
{
    bool log = j->cfg.log != NULL;
    tes_jit_tb *tb;

    if (!ir || ir != j->open) {
        jit_bug("tes_jit_end: not the open block");
    }
    if (log && j->cfg.log_op) {
        log_ir(j, ir, "OP:");
    }
    jit_optimize(ir);
    jit_liveness(ir);
    if (log && j->cfg.log_op) {
        log_ir(j, ir, "OP after optimisation:");
    }
    /* One cache line holds what finding and entering a block reads
     * (key, valid, code): tes_jit_find is hot when blocks are not chained. */
    tb = aligned_alloc(64, (sizeof(*tb) + 63) & ~(size_t)63);
    if (!tb) {
        fputs("tessera-jit: out of memory\n", stderr);
        abort();
    }
    memset(tb, 0, sizeof(*tb));
    tb->key = ir->key;
    tb->host = host;
    tb->len = len;
    tb->ninsns = ninsns;
    tb->valid = true;
    pthread_mutex_lock(&j->lock);
    if (!emit_block(j, ir, tb)) {
        pthread_mutex_unlock(&j->lock);
        free(tb);
        tb = NULL;
    } else {
        jit_tb_insert(j, tb);
        pthread_mutex_unlock(&j->lock);
        perfmap_note(j, tb);
        if (log && j->cfg.log_out_asm) {
            log_code(j, tb);
        }
    }
    close_block(j, ir);
    return tb;
}
