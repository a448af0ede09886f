/*
 * cpu-arm: the CPU types "cortex-a57" (ARMv8.0-A, EL0/EL1) and "max" (the
 * same implementation for now), their tes_cpu_ops and migration state.
 *
 * Usage: boards create vCPUs with host->cpu_create(machine, "cortex-a57",
 * index); the core calls reset() once with the tes_cpu handle, then exec()
 * from its accelerator loop. The CPU<->board interface (<tessera/cpu.h>):
 * inputs set_irq(TES_ARM_IRQ / TES_ARM_FIQ) through host->cpu_irq_in();
 * outputs 0..3 of the vCPU's device are the generic timers
 * (TES_ARM_TIMER_*, level); apply_boot() takes TES_BOOT_ARM64_KERNEL;
 * arch_id() is MPIDR_EL1 (Aff0 = the vCPU index).
 * Properties: jit=on|off (translate or interpret; -accel tcg,jit=),
 * tb-size=MiB (translated code buffer, 64; -accel tcg,tb-size=).
 * Register numbers for gdb follow gdb's aarch64 target description:
 * x0-x30 0-30, sp 31, pc 32, cpsr 33, v0-v31 34-65, fpsr 66, fpcr 67,
 * then (the core's target description, gdbstub-xml.c) tpidr 68 and the
 * EL1 registers of sys_regs[] from 69.
 * Debugging (debug.c): breakpoints and watchpoints, translate().
 */
#include "arm.h"

#define GDB_SP 31
#define GDB_PC 32
#define GDB_CPSR 33
#define GDB_V0 34
#define GDB_FPSR 66
#define GDB_FPCR 67

arm_cpu *arm_cpu_of(tes_cpu *cpu)
{
    return H->cpu_state(cpu);
}

/* Defined here for exec.c (see arm.h). */
arm_cpu *arm_current_cpu;

static int cpu_realize(tes_device *dev, void *s)
{
    H->dev_init_irqs(dev, NUM_TIMERS); /* generic timer outputs */
    arm_timers_init(s);
    return 0;
}

static void cpu_unrealize(tes_device *dev, void *s)
{
    arm_cpu *c = s;

    for (int i = 0; i < NUM_TIMERS; i++) {
        if (c->timer[i].t) {
            H->timer_free(c->timer[i].t);
            c->timer[i].t = NULL;
        }
    }
    arm_jit_cpu_free(s);
}

/* -accel tcg,jit=,tb-size= reach these (core/accel.c); tb-size is read
 * when the plugin's translator is created, by its first vCPU. */
static const tes_prop_info arm_cpu_props[] = {
    TES_PROP("jit", TES_PROP_BOOL, arm_cpu, jit, "on", 0, 0,
             "translate guest code to host code (off: interpret)"),
    TES_PROP("tb-size", TES_PROP_U32, arm_cpu, tb_size, "64", 1, 4096,
             "translated code buffer, MiB"),
    TES_PROP_END,
};

/* The core resets a vCPU once at creation and on system reset. The
 * identity (handle, index, MPIDR) survives whatever arm_cpu_reset clears. */
static void cpu_reset(tes_cpu *cpu, void *s)
{
    arm_cpu *c = s;
    unsigned index = H->cpu_index(cpu);

    c->cpu = cpu;
    c->index = index;
    c->mpidr = (1ull << 31) | index; /* MPIDR_EL1.RES1, Aff0 = index */
    arm_jit_reset(c); /* the boot loader rewrites RAM behind our back */
    arm_cpu_reset(c);
    c->cpu = cpu;
    c->index = index;
    c->mpidr = (1ull << 31) | index;
}

static tes_exec_status cpu_exec(tes_cpu *cpu, void *s, uint64_t budget, uint64_t *executed)
{
    return arm_run(s, budget, executed);
}

static void cpu_set_irq(tes_cpu *cpu, void *s, int line, int level)
{
    arm_cpu *c = s;

    if (line == ARM_IRQ) {
        c->irq_line = level;
    } else if (line == ARM_FIQ) {
        c->fiq_line = level;
    } else {
        return;
    }
    if (level) {
        c->jit_exit = 1; /* translated code: leave at the next block boundary */
        H->cpu_kick(cpu);
    }
}

/* WFI wakes on a pending interrupt even when PSTATE masks it (the Arm ARM,
 * "Wait For Interrupt": a masked interrupt is still a WFI wake-up event). */
static bool cpu_has_work(tes_cpu *cpu, void *s)
{
    arm_cpu *c = s;

    return c->irq_line || c->fiq_line;
}

static int put(uint8_t *buf, size_t len, const void *src, size_t n)
{
    if (len < n) {
        return -1;
    }
    memcpy(buf, src, n);
    return (int)n;
}

/* gdb 69.. (read-only): the order of the core's org.tessera.gdb.aarch64.sys. */
#define GDB_TPIDR 68
#define GDB_SYS0 69
static const size_t sys_regs[] = {
    offsetof(arm_cpu, sp_el0), offsetof(arm_cpu, sp_el1), offsetof(arm_cpu, elr_el1),
    offsetof(arm_cpu, spsr_el1), offsetof(arm_cpu, esr_el1), offsetof(arm_cpu, far_el1),
    offsetof(arm_cpu, sctlr_el1), offsetof(arm_cpu, tcr_el1), offsetof(arm_cpu, ttbr0_el1),
    offsetof(arm_cpu, ttbr1_el1), offsetof(arm_cpu, mair_el1), offsetof(arm_cpu, vbar_el1),
    offsetof(arm_cpu, tpidr_el1), offsetof(arm_cpu, contextidr_el1), offsetof(arm_cpu, cpacr_el1),
};

static int cpu_read_reg(tes_cpu *cpu, void *s, int reg, uint8_t *buf, size_t len)
{
    arm_cpu *c = s;
    uint32_t w;

    if (reg >= GDB_SYS0 && reg < GDB_SYS0 + (int)(sizeof(sys_regs) / sizeof(sys_regs[0]))) {
        return put(buf, len, (const uint8_t *)c + sys_regs[reg - GDB_SYS0], 8);
    }
    if (reg == GDB_TPIDR) {
        return put(buf, len, &c->tpidr_el0, 8);
    }

    if (reg >= 0 && reg < 31) {
        return put(buf, len, &c->x[reg], 8);
    }
    if (reg >= GDB_V0 && reg < GDB_V0 + 32) {
        return put(buf, len, &c->v[reg - GDB_V0], 16);
    }
    switch (reg) {
    case GDB_SP:
        return put(buf, len, arm_sp_ref(c), 8);
    case GDB_PC:
        return put(buf, len, &c->pc, 8);
    case GDB_CPSR:
        w = arm_get_pstate(c);
        return put(buf, len, &w, 4);
    case GDB_FPSR:
        return put(buf, len, &c->fpsr, 4);
    case GDB_FPCR:
        return put(buf, len, &c->fpcr, 4);
    default:
        return -1;
    }
}

static int get(void *dst, const uint8_t *buf, size_t len, size_t n)
{
    if (len < n) {
        return -1;
    }
    memcpy(dst, buf, n);
    return (int)n;
}

static int cpu_write_reg(tes_cpu *cpu, void *s, int reg, const uint8_t *buf, size_t len)
{
    arm_cpu *c = s;
    uint32_t w;
    int n;

    if (reg >= 0 && reg < 31) {
        return get(&c->x[reg], buf, len, 8);
    }
    if (reg >= GDB_V0 && reg < GDB_V0 + 32) {
        return get(&c->v[reg - GDB_V0], buf, len, 16);
    }
    switch (reg) {
    case GDB_SP:
        return get(arm_sp_ref(c), buf, len, 8);
    case GDB_PC:
        return get(&c->pc, buf, len, 8);
    case GDB_CPSR:
        n = get(&w, buf, len, 4);
        if (n > 0) {
            arm_set_pstate(c, w);
        }
        return n;
    case GDB_FPSR:
        return get(&c->fpsr, buf, len, 4);
    case GDB_FPCR:
        return get(&c->fpcr, buf, len, 4);
    case GDB_TPIDR:
        return get(&c->tpidr_el0, buf, len, 8);
    default:
        return -1;
    }
}

static uint64_t cpu_get_pc(tes_cpu *cpu, void *s)
{
    return ((arm_cpu *)s)->pc;
}

/* Linux arm64 boot protocol (booting.rst, "Call the kernel image"): the
 * rest (EL1h, MMU off, DAIF masked) is arm_cpu_reset's state. */
static int cpu_apply_boot(tes_cpu *cpu, void *s, const tes_cpu_boot *boot)
{
    arm_cpu *c = s;

    if (boot->mode != TES_BOOT_ARM64_KERNEL) {
        return -22; /* -EINVAL */
    }
    for (unsigned i = 0; i < 8; i++) {
        c->x[i] = boot->regs[i];
    }
    c->pc = c->next_pc = boot->entry;
    return 0;
}

static uint64_t cpu_arch_id(tes_cpu *cpu, void *s)
{
    return ((arm_cpu *)s)->mpidr;
}

static bool cpu_translate(tes_cpu *cpu, void *s, uint64_t va, bool write, uint64_t *pa)
{
    return arm_debug_translate(s, va, write, pa);
}

static int cpu_debug_point(tes_cpu *cpu, void *s, int kind, bool insert, uint64_t addr,
                           uint64_t len)
{
    return arm_debug_point(s, kind, insert, addr, len);
}

static int cpu_debug_reason(tes_cpu *cpu, void *s, uint64_t *addr)
{
    return gdb_points_reason(&((arm_cpu *)s)->gdb, addr);
}

static const tes_cpu_ops arm_cpu_ops = {
    .size = sizeof(tes_cpu_ops),
    .arch = "aarch64",
    .reset = cpu_reset,
    .exec = cpu_exec,
    .set_irq = cpu_set_irq,
    .has_work = cpu_has_work,
    .read_reg = cpu_read_reg,
    .write_reg = cpu_write_reg,
    .get_pc = cpu_get_pc,
    .apply_boot = cpu_apply_boot,
    .arch_id = cpu_arch_id,
    .translate = cpu_translate,
    .debug_point = cpu_debug_point,
    .debug_reason = cpu_debug_reason,
    .dump = arm_cpu_dump,
};

/* ---- migration ---- */

#define F64(f) TES_FIELD_U64(arm_cpu, f)
#define TIMER_FIELDS(i)                                                              \
    {"timer" #i "_ctl", TES_FIELD_U64, offsetof(arm_cpu, timer[i].ctl), 0, 0},       \
        {"timer" #i "_cval", TES_FIELD_U64, offsetof(arm_cpu, timer[i].cval), 0, 0}

static const tes_state_field arm_cpu_fields[] = {
    TES_FIELD_ARRAY(arm_cpu, x, TES_FIELD_U64, 32),
    F64(pc), F64(sp_el0), F64(sp_el1),
    TES_FIELD_U32(arm_cpu, nzcv), TES_FIELD_U32(arm_cpu, daif),
    TES_FIELD_U8(arm_cpu, el), TES_FIELD_U8(arm_cpu, spsel), TES_FIELD_BOOL(arm_cpu, ss),
    TES_FIELD_BYTES(arm_cpu, v),
    TES_FIELD_U32(arm_cpu, fpcr), TES_FIELD_U32(arm_cpu, fpsr),
    F64(sctlr_el1), F64(tcr_el1), F64(ttbr0_el1), F64(ttbr1_el1), F64(mair_el1),
    F64(amair_el1), F64(vbar_el1), F64(esr_el1), F64(far_el1), F64(elr_el1), F64(spsr_el1),
    F64(par_el1), F64(contextidr_el1), F64(tpidr_el0), F64(tpidrro_el0), F64(tpidr_el1),
    F64(cpacr_el1), F64(mdscr_el1), F64(cntkctl_el1), F64(csselr_el1), F64(afsr0_el1),
    F64(afsr1_el1), F64(actlr_el1), F64(oslsr_el1), F64(osdlr_el1), F64(mdccint_el1),
    F64(pmuserenr_el0), F64(cntvoff_el2),
    TIMER_FIELDS(0), TIMER_FIELDS(1), TIMER_FIELDS(2), TIMER_FIELDS(3),
    TES_FIELD_BOOL(arm_cpu, excl_valid), F64(excl_addr), TES_FIELD_U32(arm_cpu, excl_size),
    TES_FIELD_ARRAY(arm_cpu, excl_val, TES_FIELD_U64, 2),
    TES_FIELD_U32(arm_cpu, irq_line), TES_FIELD_U32(arm_cpu, fiq_line),
    TES_FIELD_BOOL(arm_cpu, halt_req), TES_FIELD_BOOL(arm_cpu, powered),
    F64(insn_count),
    TES_FIELD_END,
};

/* Derived state: the soft TLB caches host pointers, and timer deadlines
 * live in host timers; both are rebuilt from the architectural state. */
static int cpu_post_load(tes_device *dev, void *s, uint32_t version)
{
    arm_cpu *c = s;

    /* EL0/EL1 only: el indexes the soft TLBs (tlb_x[2]). */
    if (c->el > 1 || c->spsel > 1 || c->excl_size > 16) {
        H->error(dev, "arm CPU: EL %u, SPSel %u or exclusive size %u in the stream out of range",
                 c->el, c->spsel, c->excl_size);
        return -1;
    }

    arm_tlb_flush(c);
    arm_jit_reset(c); /* RAM came from the stream, behind the translator's back */
    for (int i = 0; i < NUM_TIMERS; i++) {
        arm_timer_update(c, i);
    }
    return 0;
}

static const tes_state_info arm_cpu_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = arm_cpu_fields,
    .post_load = cpu_post_load,
};

const tes_type_info arm_cortex_a57_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_CPU,
    .name = "cortex-a57",
    .desc = "ARM Cortex-A57 (ARMv8.0-A, AArch64 EL0/EL1)",
    .instance_size = sizeof(arm_cpu),
    .props = arm_cpu_props,
    .realize = cpu_realize,
    .unrealize = cpu_unrealize,
    .state = &arm_cpu_state,
    .class_info = &arm_cpu_ops,
};

/* "max": every feature tessera implements; today the same as cortex-a57. */
const tes_type_info arm_max_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_CPU,
    .name = "max",
    .desc = "AArch64 CPU with every feature tessera implements",
    .instance_size = sizeof(arm_cpu),
    .props = arm_cpu_props,
    .realize = cpu_realize,
    .unrealize = cpu_unrealize,
    .state = &arm_cpu_state,
    .class_info = &arm_cpu_ops,
};
