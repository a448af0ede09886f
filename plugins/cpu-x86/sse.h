/*
 * cpu-x86: internal interface between sse.c (dispatch, moves, integer
 * SIMD) and sse-fp.c (SSE/SSE2 floating point and conversions).
 */
#ifndef CPU_X86_SSE_H
#define CPU_X86_SSE_H

#include "x86.h"

/* MXCSR bits (SDM vol. 1 10.2.3) */
#define MX_IE 0x0001
#define MX_DE 0x0002
#define MX_ZE 0x0004
#define MX_OE 0x0008
#define MX_UE 0x0010
#define MX_PE 0x0020
#define MX_DAZ 0x0040
#define MX_FZ 0x8000
#define MXCSR_VALID 0xffffu

/* Operand access shared by both files. align: a 16-byte memory operand
 * that must be aligned (#GP(0) otherwise, SDM vol. 1 10.4.1). */
bool sse_read_mem(x86_cpu *c, x86_insn *x, void *buf, unsigned n, bool align);
bool sse_write_mem(x86_cpu *c, x86_insn *x, const void *buf, unsigned n, bool align);
/* The r/m source: an XMM register, or n bytes of memory (rest zero). */
bool sse_src(x86_cpu *c, x86_insn *x, xmm_reg *v, unsigned n, bool align);
/* The r/m source of an MMX form: MMx or 8 bytes of memory. */
bool sse_src_mm(x86_cpu *c, x86_insn *x, uint64_t *v);
/* GPR operands (r/m32/64 with REX.W); writes of 32 bits zero-extend. */
uint64_t sse_gpr_read(x86_cpu *c, int r, bool w64);
void sse_gpr_write(x86_cpu *c, int r, uint64_t v, bool w64);

/* Floating-point opcodes (0F 2A-2F, 51-5F, 5A, 5B, C2, E6, 2A/2C/2D MMX
 * conversions). false: not a floating-point opcode/prefix combination.
 * The caller has done the SSE availability checks. */
bool sse_exec_fp(x86_cpu *c, x86_insn *x);

#endif
