/*
 * tessera SDK: the CPU plugin interface.
 *
 * A CPU type (kind TES_KIND_CPU) names a model ("cortex-a57") for one
 * architecture and points class_info at tes_cpu_ops. The machine creates
 * vCPUs with host->cpu_create(); the core's accelerator loop calls exec()
 * with an instruction budget, under the machine lock.
 *
 * The CPU<->board interface (ABI 1.2; docs/sdk.md, "CPUs and boards"): a
 * board, which is a plugin of its own, never reads a CPU plugin's state.
 * Through the host table it
 *   - sets the entry state a vCPU takes at every reset (cpu_set_boot with a
 *     tes_cpu_boot: the kernel's entry point and registers);
 *   - wires interrupt inputs: cpu_irq_in(cpu, line) is a tes_irq an
 *     interrupt controller's output is connected to (set_irq below);
 *   - wires the CPU's outputs (Arm: the generic timers): a vCPU is a device,
 *     cpu_dev(cpu) its handle, and dev_connect_irq(cpu_dev(cpu), n, line)
 *     connects its output n, as for any device;
 *   - lets an interrupt-controller plugin serve system registers of the
 *     CPU (GICv3 ICC_*): cpu_set_sysregs(cpu, ops, opaque); the CPU plugin
 *     hands registers it does not implement to cpu_sysreg_read/write;
 *   - reads the architectural identity of each vCPU for its DT or ACPI
 *     tables: cpu_arch_id(cpu) (MPIDR_EL1 on Arm, the APIC ID on x86).
 * An interrupt controller learns which vCPU is accessing its banked
 * registers with cpu_current().
 */
#ifndef TESSERA_CPU_H
#define TESSERA_CPU_H

#include <tessera/types.h>

struct tes_cpu_boot;

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
    /* Register access for gdb and debugging, gdb numbering (the order of
     * the core's target description for arch: core/gdbstub-xml.c, docs/cli.md
     * "Debugging with gdb");
     * returns the bytes, target order, or -1 for no such register. */
    int (*read_reg)(tes_cpu *cpu, void *s, int reg, uint8_t *buf, size_t len);
    int (*write_reg)(tes_cpu *cpu, void *s, int reg, const uint8_t *buf, size_t len);
    /* Program counter, for "info registers" and errors. */
    uint64_t (*get_pc)(tes_cpu *cpu, void *s);

    /* ==== ABI 1.2 (check size before use) ==== */
    /* Put the vCPU in the entry state boot describes (the core calls it
     * after reset() whenever a board set one with cpu_set_boot). Return 0,
     * or -EINVAL for a mode this CPU does not implement. */
    int (*apply_boot)(tes_cpu *cpu, void *s, const struct tes_cpu_boot *boot);
    /* Architectural identity: MPIDR_EL1 on Arm, the initial APIC ID on x86. */
    uint64_t (*arch_id)(tes_cpu *cpu, void *s);

    /* ==== ABI 1.7, continued (check size before use) ==== */
    /* Debuggers (the gdbstub, HMP x): the guest physical address of the
     * virtual address va for this vCPU's current translation regime, as a
     * read (write false) or a write would see it; no fault is raised, no
     * TLB or accessed bit changes. false when va does not translate. */
    bool (*translate)(tes_cpu *cpu, void *s, uint64_t va, bool write, uint64_t *pa);
    /* Insert (insert true) or remove a debug point of kind (tes_debug_kind,
     * gdb's Z0..Z4 numbering) at virtual address addr, len bytes (ignored
     * for breakpoints). Breakpoints stop exec() with TES_EXEC_DEBUG before
     * the instruction at addr runs; watchpoints stop it at the access (the
     * CPU documents whether before the instruction or after it, as gdb's
     * target of that architecture expects). Translated code never runs
     * through a point inserted before the call returns. Return 0; -ENOSPC
     * when the CPU's list is full; -ENOENT removing a point not there;
     * -EINVAL for a kind it does not do. The core keeps every vCPU's list
     * the same. */
    int (*debug_point)(tes_cpu *cpu, void *s, int kind, bool insert, uint64_t addr,
                       uint64_t len);
    /* Why the last exec() returned TES_EXEC_DEBUG: a tes_debug_kind, with
     * *addr the breakpoint's pc or the watched data address; -1 for none
     * (the budget of a single step ran out). Reading clears it. */
    int (*debug_reason)(tes_cpu *cpu, void *s, uint64_t *addr);
    /* ---- ABI 1.7, continued: monitor inspection ---- */
    /* Monitor text for what (TES_CPU_DUMP_*), in QEMU's layout for the
     * architecture, through print(opaque, text) as often as needed. 0, or
     * -ENOTSUP for a kind the CPU does not show (QEMU has no info tlb or
     * info mem for Arm). */
    int (*dump)(tes_cpu *cpu, void *s, unsigned what,
                void (*print)(void *opaque, const char *text), void *opaque);
} tes_cpu_ops;

/* Debug point kinds (debug_point, debug_reason): gdb's Z packet types. */
typedef enum tes_debug_kind {
    TES_DEBUG_BREAK_SW = 0,
    TES_DEBUG_BREAK_HW = 1,
    TES_DEBUG_WATCH_WRITE = 2,
    TES_DEBUG_WATCH_READ = 3,
    TES_DEBUG_WATCH_ACCESS = 4,
    /* Not a point: while inserted, exec() takes no interrupt (the core's
     * single steps, as QEMU's SSTEP_NOIRQ); addr and len are ignored. */
    TES_DEBUG_STEP_NOIRQ = 5,
} tes_debug_kind;


/* tes_cpu_ops.dump kinds (ABI 1.7). */
#define TES_CPU_DUMP_REGS 0 /* info registers */
#define TES_CPU_DUMP_TLB 1  /* info tlb: every mapped page */
#define TES_CPU_DUMP_MEM 2  /* info mem: mapped ranges with protections */
/* ABI 1.10: info lapic, the local interrupt controller of the vCPU (x86:
 * QEMU's "dumping local APIC state for CPU N" layout). A 1.7 to 1.9 CPU
 * returns -ENOTSUP for it, as do CPUs without one. */
#define TES_CPU_DUMP_LAPIC 3

/* Output lines of an AArch64 CPU (dev_connect_irq(cpu_dev(cpu), n, ...)):
 * the generic timers, level-sensitive, in the order of the Arm ARM's
 * CNTP (EL1 physical), CNTV (virtual), CNTHP (EL2), CNTPS (secure). */
enum { TES_ARM_TIMER_PHYS = 0, TES_ARM_TIMER_VIRT = 1, TES_ARM_TIMER_HYP = 2,
       TES_ARM_TIMER_SEC = 3, TES_ARM_NUM_TIMERS = 4 };
/* Input lines of an AArch64 CPU (cpu_irq_in). */
enum { TES_ARM_IRQ = 0, TES_ARM_FIQ = 1, TES_ARM_VIRQ = 2, TES_ARM_VFIQ = 3 };

/* How a vCPU enters the guest after reset (tes_cpu_boot.mode). */
typedef enum tes_cpu_boot_mode {
    TES_BOOT_RESET = 0,     /* architectural reset state (clears a boot state) */
    /* AArch64 Linux boot protocol (Documentation/arm64/booting.rst): EL1h,
     * MMU and caches off, DAIF masked, pc = entry, x0..x7 = regs[0..7]
     * (x0 = the DTB, x1..x3 = 0). */
    TES_BOOT_ARM64_KERNEL = 1,
    /* x86-64 64-bit entry (Linux's startup_64, boot.rst "64-bit boot
     * protocol"): long mode with paging from the identity map at
     * page_table (CR3), CS = code_sel and DS/ES/SS = data_sel of the flat GDT
     * at gdt_base/gdt_limit (written by the board), interrupts off,
     * rip = entry, regs[] in the order rax, rcx, rdx, rbx, rsp, rbp, rsi,
     * rdi (rsi = boot_params). */
    TES_BOOT_X86_LONG64 = 2,
    /* ==== ABI 1.7 ==== */
    /* x86 real mode at entry, as firmware jumps to an ACPI waking vector
     * (ACPI 6.4, 5.2.10: CS = entry >> 4, IP = entry & 0xf), every other
     * register as after reset. For host->cpu_start_at (S3 resume). */
    TES_BOOT_X86_REAL = 3,
    /* ==== ABI 1.8 ==== */
    /* Nothing to run (no -kernel, and tessera has no firmware): the vCPU
     * stays powered off now and after every reset, halted, as a machine
     * whose firmware found no boot device. The core implements it (the
     * CPU plugin never sees it); host->cpu_set_running still powers the
     * vCPU on. For host->cpu_set_boot only. */
    TES_BOOT_POWER_OFF = 4,
} tes_cpu_boot_mode;

typedef struct tes_cpu_boot {
    uint32_t size;       /* sizeof(tes_cpu_boot) */
    uint32_t mode;       /* tes_cpu_boot_mode */
    uint64_t entry;      /* first instruction (guest physical) */
    uint64_t regs[8];    /* entry registers, per mode */
    uint64_t page_table; /* x86-64: CR3 */
    uint64_t gdt_base;   /* x86: flat GDT */
    uint16_t gdt_limit, code_sel, data_sel;
} tes_cpu_boot;

/* System registers an interrupt controller serves for a CPU (GICv3's
 * ICC_*_EL1). reg is the architecture's encoding: on AArch64 the MRS/MSR
 * operand op0 << 14 | op1 << 11 | CRn << 7 | CRm << 3 | op2. Return true
 * when reg is one of the controller's (read: *val set); false lets the CPU
 * treat it as unimplemented (UNDEFINED). cpu is the accessing vCPU. */
typedef struct tes_cpu_sysregs {
    uint32_t size; /* sizeof(tes_cpu_sysregs) */
    bool (*read)(void *opaque, tes_cpu *cpu, uint32_t reg, uint64_t *val);
    bool (*write)(void *opaque, tes_cpu *cpu, uint32_t reg, uint64_t val);
} tes_cpu_sysregs;
/* x86: input lines (cpu_irq_in) and the "registers" an x86 CPU asks
 * servers for: the interrupt-acknowledge cycle of the 8259 wired to its
 * INTR (read: the vector; PEEK reads it without acknowledging) and the
 * EOI broadcast of a level-triggered vector that an I/O APIC listens to
 * (write: the vector). */
enum { TES_X86_INTR = 0, TES_X86_NMI = 1, TES_X86_INIT = 2, TES_X86_SMI = 3 };
#define TES_X86_SYSREG_INTA 0x10000000u
#define TES_X86_SYSREG_INTA_PEEK 0x10000001u
#define TES_X86_SYSREG_EOI 0x10000002u

/* AArch64 encoding helper for tes_cpu_sysregs.reg. */
#define TES_ARM_SYSREG(op0, op1, crn, crm, op2)                                  \
    ((uint32_t)((op0) << 14 | (op1) << 11 | (crn) << 7 | (crm) << 3 | (op2)))

#endif
