/*
 * Instruction-test framework for cpu-x86: run an x86-64 assembly snippet
 * (GNU as, `.intel_syntax noprefix` is prepended) on tessera through the
 * plugin harness, in 64-bit long mode at CPL 3 with flat segments and
 * identity paging, and under qemu-x86_64 (Linux user mode), then compare
 * the final registers, arithmetic flags, the FXSAVE image (x87, MXCSR,
 * XMM) and the scratch buffer.
 *
 * Both sides run the same bytes at the same addresses: the snippet is
 * linked at SNIPPET_CODE_ADDR (section .snippet) and ends with a jump to
 * SNIPPET_END_ADDR (the epilogue that dumps the state under qemu; tessera
 * stops when rip reaches it). rsp starts inside the scratch buffer, so
 * pushes compare too; r15 points to the middle of the scratch buffer.
 *
 *   snippet_regs r;
 *   snippet_regs_init(&r);
 *   r.r[R_EAX] = 5; r.r[R_EBX] = 7;
 *   snippet_compare("add rax, rbx", &r);
 *
 * On tessera, an exception goes through an IDT whose every gate points to
 * SNIPPET_HANDLER_ADDR + 16 * vector (a kernel CS, stack from TSS.RSP0 at
 * SNIPPET_KSTACK_TOP): the run stops there and snippet_run_tessera reports
 * the vector (snippet_last_vector()).
 *
 * Set-up: call snippet_init(argc, argv) once after g_test_init(); the
 * plugin path comes from $CPU_X86_PLUGIN or argv[1].
 */
#ifndef CPU_X86_SNIPPET_H
#define CPU_X86_SNIPPET_H

#include <glib.h>
#include <stdint.h>
#include <tessera/harness.h>

#include "../x86.h"

#define SNIPPET_CODE_ADDR 0x500000ull
#define SNIPPET_END_ADDR 0x580000ull
#define SNIPPET_HANDLER_ADDR 0x590000ull /* tessera only: 16 bytes per vector */
#define SNIPPET_SCRATCH_ADDR 0x700000ull
#define SNIPPET_SCRATCH_SIZE 8192u
#define SNIPPET_SCRATCH_MID (SNIPPET_SCRATCH_ADDR + SNIPPET_SCRATCH_SIZE / 2)
#define SNIPPET_RAM_SIZE (16u << 20)
#define SNIPPET_MAX_STEPS 200000u
/* tessera-only system structures (below the ELF's addresses) */
#define SNIPPET_GDT_ADDR 0x1000ull
#define SNIPPET_IDT_ADDR 0x2000ull
#define SNIPPET_TSS_ADDR 0x3000ull
#define SNIPPET_KSTACK_TOP 0x10000ull
#define SNIPPET_PML4_ADDR 0x10000ull
/* selectors of the GDT the framework builds (Linux's layout) */
#define SNIPPET_KERNEL_CS 0x10
#define SNIPPET_KERNEL_DS 0x18
#define SNIPPET_USER_DS 0x2b
#define SNIPPET_USER_CS 0x33
#define SNIPPET_TSS_SEL 0x40

/* FXSAVE image (Intel SDM Vol. 1, 10.5.1, 64-bit layout). */
typedef struct snippet_fx {
    uint16_t fcw, fsw;
    uint8_t ftw, rsvd0; /* abridged tag: bit i set = physical register i valid */
    uint16_t fop;
    uint64_t fip, fdp;
    uint32_t mxcsr, mxcsr_mask;
    uint8_t st[8][16]; /* ST(0)..ST(7), 80 bits each */
    uint8_t xmm[16][16];
    uint8_t rsvd1[96];
} snippet_fx;

/* Register file as the qemu epilogue dumps it (layout shared with the
 * generated assembly: do not reorder). r[] uses x86.h's R_EAX.. order:
 * rax rcx rdx rbx rsp rbp rsi rdi r8..r15. */
typedef struct snippet_regs {
    uint64_t r[16];
    uint64_t rflags;
    uint64_t pad;
    snippet_fx fx;
} snippet_regs;

typedef struct snippet_state {
    snippet_regs r;
    uint8_t scratch[SNIPPET_SCRATCH_SIZE];
} snippet_state;

/* Plugin path from $CPU_X86_PLUGIN or argv[1]; call after g_test_init. */
void snippet_init(int argc, char **argv);
const char *snippet_plugin_path(void);

/* The CPU model for both sides ("qemu64" by default; "max"). */
void snippet_set_model(const char *model);
/* RFLAGS bits compared (default F_ARITH | F_DF): tests of instructions with
 * architecturally undefined flags may narrow it; reset after each compare. */
void snippet_set_flag_mask(uint64_t mask);

/* Zero registers, rsp = scratch + 0x1800, r15 = SNIPPET_SCRATCH_MID,
 * rflags = 0x202, FCW 0x37f, MXCSR 0x1f80, x87 stack empty. */
void snippet_regs_init(snippet_regs *r);
/* Registers from r, scratch filled with a fixed byte pattern. */
void snippet_state_init(snippet_state *s, const snippet_regs *r);

/* Assemble and link (cached per text); returns the .snippet bytes. */
GBytes *snippet_build(const char *asm_text);

/* Run on tessera. false (with *why, to g_free) when the snippet did not
 * reach its end: step cap, HLT, or an exception (snippet_last_vector()). */
bool snippet_run_tessera(const char *asm_text, const snippet_state *in, snippet_state *out,
                         char **why);
/* Vector of the exception that stopped the last tessera run, -1 if none. */
int snippet_last_vector(void);
/* Error code pushed for it (when the vector has one) and the rip pushed. */
uint64_t snippet_last_error_code(void);
uint64_t snippet_last_fault_rip(void);
/* Run n initial states under qemu-x86_64 (one process). */
void snippet_run_qemu(const char *asm_text, const snippet_state *in, snippet_state *out,
                      unsigned n);

/* Run both and fail the test with a diff when tessera and qemu disagree. */
void snippet_compare_states(const char *asm_text, const snippet_state *in, unsigned n);
void snippet_compare_n(const char *asm_text, const snippet_regs *init, unsigned n);
void snippet_compare(const char *asm_text, const snippet_regs *init);

/* Differential run over pairs of edge values in rax/rbx (rcx, rdx from the
 * same list, initial arithmetic flags varied across the cases). */
void snippet_compare_edges(const char *asm_text);
/* $TESSERA_TEST_SAMPLE (default 1): snippet_compare_states runs one case
 * in that many of a generated set (32 cases or more), the random
 * differential tests one seed in that many (see snippet_compare_states). */
unsigned snippet_sample(void);
extern const uint64_t snippet_edge_values[];
extern const unsigned snippet_n_edge_values;

/* Lower level, for system tests: a fresh harness with the plugin loaded,
 * vCPU 0 created and put in 64-bit mode at CPL 3 (GDT, IDT, TSS, page
 * tables as above). Free with tes_harness_free(). */
tes_harness *snippet_harness(tes_cpu **cpu, x86_cpu **c);
/* The engine from $X86_JIT ("on": translate, "off": interpret; unset:
 * the CPU's default). snippet_harness applies it. */
void snippet_apply_engine(x86_cpu *c);
/* Put a reset vCPU in the framework's long-mode state (RAM structures
 * written too); cpl 0 or 3. */
void snippet_enter_long_mode(tes_harness *h, x86_cpu *c, int cpl);
/* Copy code to RAM at addr and set rip there. */
void snippet_load_code(tes_harness *h, x86_cpu *c, uint64_t addr, const void *code, size_t len);

#endif
