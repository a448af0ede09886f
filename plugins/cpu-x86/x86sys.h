/*
 * cpu-x86: helpers shared by the system files (excp.c, seg.c, sys.c,
 * mmu.c). Not for the rest of the plugin: x86.h is the contract.
 */
#ifndef CPU_X86_SYS_H
#define CPU_X86_SYS_H

#include "x86.h"

/* Descriptor fields (SDM Vol. 3, 3.4.5). d is the low 8 bytes. */
#define DESC_TYPE(d) ((unsigned)((d) >> 40) & 0xf)
#define DESC_S(d) (((d) >> 44) & 1)
#define DESC_DPL(d) ((unsigned)((d) >> 45) & 3)
#define DESC_P(d) (((d) >> 47) & 1)
#define DESC_L(d) (((d) >> 53) & 1)
#define DESC_DB(d) (((d) >> 54) & 1)
#define DESC_ACCESSED (1ull << 40)

/* System descriptor types */
enum { SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALL16 = 4, SYS_TASK = 5,
       SYS_INT16 = 6, SYS_TRAP16 = 7, SYS_TSS_AVAIL = 9, SYS_TSS_BUSY = 11, SYS_CALL = 12,
       SYS_INT = 14, SYS_TRAP = 15 };

/* desc_fetch results */
enum { DESC_OK, DESC_LIMIT, DESC_FAULT };

/* A stack being built or unwound (interrupt frames, far calls): pushes go
 * to a local copy of the stack pointer, committed once all succeeded. */
typedef struct x86_stack {
    x86_seg ss;
    uint64_t sp;
    int bits;  /* 16, 32 or 64 */
    bool user; /* accesses with user privilege */
} x86_stack;

/* ---- seg.c ---- */
/* The descriptor of sel from the GDT or LDT (16 bytes in long mode when
 * hi != NULL). DESC_LIMIT: outside the table (or an unusable LDT);
 * DESC_FAULT: a #PF was delivered reading it. */
int desc_fetch(x86_cpu *c, uint16_t sel, uint64_t *d, uint64_t *hi);
/* Write back the low 8 bytes (accessed / busy bits). */
void desc_store(x86_cpu *c, uint16_t sel, uint64_t d);
/* Segment cache from a code/data descriptor (limit G-scaled). */
void desc_to_seg(x86_seg *s, uint16_t sel, uint64_t d);
/* Flat 64-bit cache values used by SYSCALL/SYSRET/SYSENTER. */
void seg_flat(x86_seg *s, uint16_t sel, bool code, unsigned dpl, bool l);
/* Null selector in a data segment register (unusable). */
void seg_null(x86_seg *s, uint16_t sel);
/* After a return to an outer level: null ES/DS/FS/GS the new CPL may not
 * use (SDM RET, IRET). */
void seg_check_outer(x86_cpu *c);
/* Code segment returned to by RET/IRET (sel's RPL the new CPL). */
bool check_ret_code(x86_cpu *c, uint16_t sel, x86_seg *cs);
/* Pop RSP and SS (after releasing pop bytes) for a return to level rpl;
 * code64: the new CS is 64-bit code (a null SS is then allowed). */
bool pop_ss_sp(x86_cpu *c, x86_stack *st, unsigned rpl, bool code64, int opsize, uint16_t pop,
               x86_seg *ss_out, uint64_t *sp_out);
/* RSP after SS changed, by the width of the new stack. */
void set_rsp(x86_cpu *c, uint64_t sp);

void stk_current(x86_cpu *c, x86_stack *s);
bool stk_push(x86_cpu *c, x86_stack *s, uint64_t v, unsigned size);
bool stk_pop(x86_cpu *c, x86_stack *s, uint64_t *v, unsigned size);
/* RSP of s merged as a push of that width would leave it. */
void stk_commit_sp(x86_cpu *c, const x86_stack *s);

static inline bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static inline bool prot_mode(const x86_cpu *c)
{
    return (c->cr0 & CR0_PE) && !(c->eflags & F_VM);
}

/* Error code of a fault naming sel (SDM 6.13): EXT when an external
 * event or exception was being delivered. */
static inline uint32_t sel_err(const x86_cpu *c, uint16_t sel)
{
    return (sel & 0xfffc) | (c->exc_vec >= 0 && c->exc_ext ? 1 : 0);
}

/* ---- excp.c ---- */
/* Raise exc (with error code err) from a protected-mode check. */
static inline void raise_err(x86_cpu *c, int vec, uint32_t err)
{
    x86_exception(c, vec, true, err);
}

#endif
