/*
 * tessera SDK: the CPU plugin interface.
 *
 * A CPU type (kind TES_KIND_CPU) names a model ("cortex-a57") for one
 * architecture and points class_info at tes_cpu_ops. The machine creates
 * vCPUs with host->cpu_create(); the core's accelerator loop calls exec()
 * with an instruction budget, under the machine lock.
 */
#ifndef TESSERA_CPU_H
#define TESSERA_CPU_H

#include <tessera/types.h>

/* exec() results */
typedef enum tes_exec_status {
    TES_EXEC_BUDGET = 0, /* budget used up; call again */
    TES_EXEC_HALT = 1,   /* WFI/HLT: sleep until cpu_kick or an interrupt */
    TES_EXEC_EXIT = 2,   /* leave the loop (shutdown/reset requested) */
    TES_EXEC_DEBUG = 3,  /* breakpoint or single step reached */
} tes_exec_status;

typedef struct tes_cpu_ops {
    uint32_t size;       /* sizeof(tes_cpu_ops) */
    const char *arch;    /* "aarch64", "x86_64" */
    /* Reset architectural state; index is the vCPU number. */
    void (*reset)(tes_cpu *cpu, void *s);
    /* Run up to budget instructions; *executed gets the count run. */
    tes_exec_status (*exec)(tes_cpu *cpu, void *s, uint64_t budget, uint64_t *executed);
    /* Level-triggered interrupt inputs (IRQ, FIQ, ...): CPU-defined numbers. */
    void (*set_irq)(tes_cpu *cpu, void *s, int line, int level);
    /* True when the CPU has work (an interrupt pending) while halted. */
    bool (*has_work)(tes_cpu *cpu, void *s);
    /* Register access for gdb and debugging, gdb numbering; -1 if none. */
    int (*read_reg)(tes_cpu *cpu, void *s, int reg, uint8_t *buf, size_t len);
    int (*write_reg)(tes_cpu *cpu, void *s, int reg, const uint8_t *buf, size_t len);
    /* Program counter, for "info registers" and errors. */
    uint64_t (*get_pc)(tes_cpu *cpu, void *s);
} tes_cpu_ops;

#endif
