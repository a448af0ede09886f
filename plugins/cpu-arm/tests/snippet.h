/*
 * Instruction-test framework for cpu-arm: run an A64 assembly snippet on
 * tessera (through the plugin harness, EL1, MMU off) and, for differential
 * tests, under qemu-aarch64 (Linux user mode), then compare the final
 * registers and the scratch buffer.
 *
 * Both modes run the very same bytes at the very same addresses: the
 * snippet is linked into a static ELF at SNIPPET_CODE_ADDR (section
 * .snippet, with its literal pool), ends with a branch to
 * SNIPPET_END_ADDR (the epilogue that dumps the registers under qemu;
 * tessera stops when pc reaches it), and memory tests use the scratch
 * buffer at SNIPPET_SCRATCH_ADDR (x28 points to its middle by default).
 * So PC-relative results (ADR, ADRP, literal loads) compare equal too.
 *
 *   snippet_regs r;
 *   snippet_regs_init(&r);
 *   r.x[1] = 5; r.x[2] = 7;
 *   snippet_compare("adds x0, x1, x2", &r);
 *
 * Set-up: call snippet_init(argc, argv) once after g_test_init(); the
 * plugin path comes from $CPU_ARM_PLUGIN or argv[1].
 */
#ifndef CPU_ARM_SNIPPET_H
#define CPU_ARM_SNIPPET_H

#include <glib.h>
#include <stdint.h>
#include <tessera/harness.h>

#include "../arm.h"

#define SNIPPET_CODE_ADDR 0x500000ull
#define SNIPPET_END_ADDR 0x580000ull
#define SNIPPET_SCRATCH_ADDR 0x700000ull
#define SNIPPET_SCRATCH_SIZE 8192u
#define SNIPPET_SCRATCH_MID (SNIPPET_SCRATCH_ADDR + SNIPPET_SCRATCH_SIZE / 2)
#define SNIPPET_RAM_SIZE (16u << 20)
#define SNIPPET_MAX_STEPS 100000u

/* Register file as the qemu epilogue dumps it (layout shared with the
 * generated assembly: do not reorder). v[n][0] is the low 64 bits. */
typedef struct snippet_regs {
    uint64_t x[31];
    uint64_t sp;
    uint64_t nzcv; /* bits 31:28 as MRS NZCV reads them */
    uint64_t fpsr;
    uint64_t fpcr;
    uint64_t pad;
    uint64_t v[32][2];
} snippet_regs;

/* Registers plus the scratch buffer: input and output of a run. */
typedef struct snippet_state {
    snippet_regs r;
    uint8_t scratch[SNIPPET_SCRATCH_SIZE];
} snippet_state;

/* Plugin path from $CPU_ARM_PLUGIN or argv[1]; call after g_test_init. */
void snippet_init(int argc, char **argv);
const char *snippet_plugin_path(void);

/* Zero registers, x28 = SNIPPET_SCRATCH_MID, sp = scratch + 0x1800. */
void snippet_regs_init(snippet_regs *r);
/* Registers from r, scratch filled with a fixed byte pattern. */
void snippet_state_init(snippet_state *s, const snippet_regs *r);

/* Assemble and link asm (cached per text); returns the .snippet bytes,
 * owned by the cache. */
GBytes *snippet_build(const char *asm_text);

/* Run on tessera. false (with *why, to g_free) when the snippet did not
 * reach its end: step cap, WFI, or an exception taken to the vectors. */
bool snippet_run_tessera(const char *asm_text, const snippet_state *in, snippet_state *out,
                         char **why);
/* Run n initial states under qemu-aarch64 (one process). Asserts that the
 * tools work. */
void snippet_run_qemu(const char *asm_text, const snippet_state *in, snippet_state *out,
                      unsigned n);

/* Run both and fail the test (g_test_fail_printf) with a register diff when
 * tessera and qemu disagree. */
void snippet_compare_states(const char *asm_text, const snippet_state *in, unsigned n);
void snippet_compare_n(const char *asm_text, const snippet_regs *init, unsigned n);
void snippet_compare(const char *asm_text, const snippet_regs *init);

/* Differential run over every pair of edge values (0, 1, -1, INT_MIN,
 * INT64_MIN, ...) in x1/x2, with x3/x4 from the same list and NZCV varied
 * across the cases. */
void snippet_compare_edges(const char *asm_text);
/* $TESSERA_TEST_SAMPLE (default 1): snippet_compare_states runs one case
 * in that many of a generated set (32 cases or more), the random
 * differential tests one seed in that many (see snippet_compare_states). */
unsigned snippet_sample(void);
extern const uint64_t snippet_edge_values[];
extern const unsigned snippet_n_edge_values;

/* Lower level, for tests of exceptions and system state: a fresh harness
 * with the plugin loaded and vCPU 0 ("cortex-a57") created; *c gets its
 * state. Free with tes_harness_free(). */
tes_harness *snippet_harness(tes_cpu **cpu, arm_cpu **c);
/* The engine snippet_harness() selects: the translator unless
 * CPU_ARM_JIT=off (meson runs every suite both ways). */
bool snippet_jit(void);
/* Copy code to RAM at addr (through the core, so that translated code
 * there is dropped) and set pc there. */
void snippet_load_code(tes_harness *h, arm_cpu *c, uint64_t addr, const void *code,
                       size_t len);

#endif
