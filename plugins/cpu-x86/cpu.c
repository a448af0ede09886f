/*
 * cpu-x86: the CPU types "qemu64" and "max", their tes_cpu_ops and
 * migration state.
 *
 * Machines create vCPUs with host->cpu_create(machine, "qemu64", index);
 * the core calls reset() once with the tes_cpu handle, then exec() from
 * its accelerator loop. Interrupts reach the CPU through its local APIC
 * (x86_apic_pending); set_irq only wakes the vCPU so it looks again.
 * Properties (-accel tcg,jit=on|off,tb-size=MiB sets them on every vCPU):
 *   jit      on (default): translate guest code (translate.c); off: the
 *            interpreter (decode.c), which is also the reference the
 *            translator is tested against
 *   tb-size  MiB of the translation code buffer, 1..4096 (default 128); the
 *            plugin's vCPUs share one buffer, sized by the first to run
 * Register numbers for gdb follow gdb's i386:x86-64 description: rax rbx
 * rcx rdx rsi rdi rbp rsp r8-r15 (0-15), rip 16, eflags 17, cs ss ds es fs
 * gs 18-23, st0-st7 24-31, fctrl fstat ftag 32-34, xmm0-15 40-55, mxcsr 56,
 * then (the core's target description, gdbstub-xml.c) fs_base 57, gs_base
 * 58, k_gs_base 59, cr0 cr2 cr3 cr4 cr8 efer 60-65 (read-only).
 * Debugging (debug.c): breakpoints and watchpoints, translate().
 */
#include "x86.h"

#define GDB_RIP 16
#define GDB_EFLAGS 17
#define GDB_CS 18
#define GDB_ST0 24
#define GDB_FCTRL 32
#define GDB_FSTAT 33
#define GDB_FTAG 34
#define GDB_XMM0 40
#define GDB_MXCSR 56
#define GDB_FS_BASE 57
#define GDB_SYS_END 66

/* gdb's order of the 16 general registers in x86.h numbering */
static const int gdb_gpr[16] = {
    R_EAX, R_EBX, R_ECX, R_EDX, R_ESI, R_EDI, R_EBP, R_ESP,
    R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
};
/* gdb's order of the segment registers */
static const int gdb_seg[6] = {S_CS, S_SS, S_DS, S_ES, S_FS, S_GS};

x86_cpu *x86_cpu_of(tes_cpu *cpu)
{
    return H->cpu_state(cpu);
}

/* The core resets a vCPU once at creation and on system reset. The
 * identity (handle, index, APIC ID) survives whatever x86_cpu_reset
 * clears. */
static void cpu_reset(tes_cpu *cpu, void *s)
{
    x86_cpu *c = s;
    unsigned index = H->cpu_index(cpu);
    bool max = c->model_max;

    c->cpu = cpu;
    c->index = index;
    c->apic_id = x86_topo_apic_id(index);
    x86_cpu_reset(c);
    c->cpu = cpu;
    c->index = index;
    c->apic_id = x86_topo_apic_id(index);
    c->model_max = max;
    /* One TSC timeline for the machine: a vCPU made after vCPU 0 (a
     * secondary, or a hot-plugged one long after boot) counts from where
     * vCPU 0 does, or Linux's TSC sync check sees a warp when it comes
     * up and stops using the TSC. */
    if (index != 0 && H->cpu_by_index(0) && H->cpu_by_index(0) != cpu) {
        c->tsc_offset = x86_cpu_of(H->cpu_by_index(0))->tsc_offset;
    }
    /* No firmware: the board's boot state (a kernel's entry) is applied by
     * the core after reset, through apply_boot below. */
}

/* The model is fixed at creation; CPUID reads it. */
static int max_realize(tes_device *dev, void *s)
{
    ((x86_cpu *)s)->model_max = true;
    return 0;
}

static tes_exec_status cpu_exec(tes_cpu *cpu, void *s, uint64_t budget, uint64_t *executed)
{
    return x86_run(s, budget, executed);
}

/* Interrupt state lives in the LAPIC; a level change only needs the vCPU
 * to look again (it may be halted). */
/* Input lines (<tessera/cpu.h>): INTR from the 8259 (its vector comes with
 * the acknowledge cycle, apic.c), NMI and INIT on rising edges (LINT1 /
 * the INIT pin), SMI (no SMM: logged). */
static void cpu_set_irq(tes_cpu *cpu, void *s, int line, int level)
{
    x86_cpu *c = s;

    switch (line) {
    case TES_X86_INTR:
        if (c->lapic) {
            c->lapic->intr = level != 0;
        }
        break;
    case TES_X86_NMI:
        c->nmi_pending |= level != 0;
        break;
    case TES_X86_INIT:
        if (level) {
            x86_apic_deliver(c->apic_id, false, APIC_DM_INIT, 0, true, false);
        }
        break;
    case TES_X86_SMI:
        if (level) {
            H->log(TES_LOG_UNIMP, "cpu-x86: SMI ignored (no SMM)");
        }
        return;
    }
    if (level) {
        x86_jit_kick(s);
        H->cpu_kick(cpu);
    }
}

/* Work for a halted vCPU: running (not halted, not waiting for SIPI), an
 * NMI, or an interrupt it can take (HLT with IF=0 sleeps until NMI/INIT). */
static bool cpu_has_work(tes_cpu *cpu, void *s)
{
    x86_cpu *c = s;

    if (c->wait_sipi) {
        return false;
    }
    if (!c->halted_req || c->nmi_pending) {
        return true;
    }
    return (c->eflags & F_IF) && c->lapic && x86_apic_pending(c) >= 0;
}

/* The 64-bit boot protocol's entry (Linux Documentation/x86/boot.rst):
 * long mode, flat segments from the board's GDT, paging from its
 * identity map, interrupts off; or real mode at a waking vector. */
static int cpu_apply_boot(tes_cpu *cpu, void *s, const tes_cpu_boot *boot)
{
    static const int order[8] = {R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI};
    x86_cpu *c = s;

    if (boot->mode == TES_BOOT_X86_REAL && boot->entry < 0x100000) {
        /* An ACPI waking vector: real mode at (entry >> 4):(entry & 0xf),
         * the rest as at reset (ACPI 6.4, 5.2.10): reset again, as the core
         * applied the board's long-mode boot state after its reset. */
        cpu_reset(cpu, s);
        c->seg[S_CS].sel = (uint16_t)(boot->entry >> 4);
        c->seg[S_CS].base = boot->entry & ~0xfull;
        c->rip = c->next_rip = boot->entry & 0xf;
        c->wait_sipi = false;
        return 0;
    }
    if (boot->mode != TES_BOOT_X86_LONG64) {
        return -22; /* -EINVAL */
    }
    x86_setup_long_mode(c, boot->page_table, boot->gdt_base, boot->gdt_limit, boot->code_sel,
                        boot->data_sel);
    memset(c->regs, 0, sizeof(c->regs));
    for (unsigned i = 0; i < 8; i++) {
        c->regs[order[i]] = boot->regs[i];
    }
    c->rip = c->next_rip = boot->entry;
    return 0;
}

static uint64_t cpu_arch_id(tes_cpu *cpu, void *s)
{
    return ((x86_cpu *)s)->apic_id;
}

static int put(uint8_t *buf, size_t len, const void *src, size_t n)
{
    if (len < n) {
        return -1;
    }
    memcpy(buf, src, n);
    return (int)n;
}

static int get(void *dst, const uint8_t *buf, size_t len, size_t n)
{
    if (len < n) {
        return -1;
    }
    memcpy(dst, buf, n);
    return (int)n;
}

/* x87 and SSE registers (gdb 24..56). */
static int read_fpu_reg(x86_cpu *c, int reg, uint8_t *buf, size_t len)
{
    uint32_t w;

    if (reg >= GDB_ST0 && reg < GDB_ST0 + 8) {
        return put(buf, len, &c->st[(c->fpstt + reg - GDB_ST0) & 7], 10);
    }
    if (reg >= GDB_XMM0 && reg < GDB_XMM0 + 16) {
        return put(buf, len, &c->xmm[reg - GDB_XMM0], 16);
    }
    switch (reg) {
    case GDB_FCTRL:
        w = c->fpuc;
        break;
    case GDB_FSTAT:
        w = (c->fpus & ~0x3800u) | ((unsigned)(c->fpstt & 7) << 11);
        break;
    case GDB_FTAG:
        w = c->fptag;
        break;
    case GDB_MXCSR:
        w = c->mxcsr;
        break;
    default:
        if (reg > GDB_FTAG && reg < GDB_XMM0) {
            w = 0; /* fiseg..fop: not tracked for gdb */
            break;
        }
        return -1;
    }
    return put(buf, len, &w, 4);
}

/* gdb 57..65: segment bases and system registers. */
static int read_sys_reg(x86_cpu *c, int reg, uint8_t *buf, size_t len)
{
    const uint64_t v[GDB_SYS_END - GDB_FS_BASE] = {
        c->seg[S_FS].base, c->seg[S_GS].base, c->kernel_gs_base, c->cr0, c->cr2,
        c->cr3, c->cr4, c->cr8, c->efer,
    };

    return put(buf, len, &v[reg - GDB_FS_BASE], 8);
}

static int cpu_read_reg(tes_cpu *cpu, void *s, int reg, uint8_t *buf, size_t len)
{
    x86_cpu *c = s;
    uint32_t w;

    if (reg >= GDB_FS_BASE && reg < GDB_SYS_END) {
        return read_sys_reg(c, reg, buf, len);
    }

    if (reg >= 0 && reg < 16) {
        return put(buf, len, &c->regs[gdb_gpr[reg]], 8);
    }
    if (reg == GDB_RIP) {
        return put(buf, len, &c->rip, 8);
    }
    if (reg == GDB_EFLAGS) {
        w = (uint32_t)x86_get_flags(c);
        return put(buf, len, &w, 4);
    }
    if (reg >= GDB_CS && reg < GDB_CS + 6) {
        w = c->seg[gdb_seg[reg - GDB_CS]].sel;
        return put(buf, len, &w, 4);
    }
    return read_fpu_reg(c, reg, buf, len);
}

static int cpu_write_reg(tes_cpu *cpu, void *s, int reg, const uint8_t *buf, size_t len)
{
    x86_cpu *c = s;
    uint32_t w = 0;
    int n;

    if (reg >= 0 && reg < 16) {
        return get(&c->regs[gdb_gpr[reg]], buf, len, 8);
    }
    if (reg == GDB_RIP) {
        return get(&c->rip, buf, len, 8);
    }
    if (reg == GDB_EFLAGS) {
        n = get(&w, buf, len, 4);
        if (n > 0) {
            x86_set_flags(c, w);
        }
        return n;
    }
    if (reg >= GDB_ST0 && reg < GDB_ST0 + 8) {
        return get(&c->st[(c->fpstt + reg - GDB_ST0) & 7], buf, len, 10);
    }
    if (reg >= GDB_XMM0 && reg < GDB_XMM0 + 16) {
        return get(&c->xmm[reg - GDB_XMM0], buf, len, 16);
    }
    if (reg == GDB_MXCSR) {
        return get(&c->mxcsr, buf, len, 4);
    }
    /* Segment registers and x87 control words: read-only for gdb (a
     * selector write would need descriptor loads with checks). */
    return -1;
}

static uint64_t cpu_get_pc(tes_cpu *cpu, void *s)
{
    return ((x86_cpu *)s)->rip;
}

static bool cpu_translate(tes_cpu *cpu, void *s, uint64_t va, bool write, uint64_t *pa)
{
    return x86_debug_translate(s, va, write, pa);
}

static int cpu_debug_point(tes_cpu *cpu, void *s, int kind, bool insert, uint64_t addr,
                           uint64_t len)
{
    return x86_debug_point(s, kind, insert, addr, len);
}

static int cpu_debug_reason(tes_cpu *cpu, void *s, uint64_t *addr)
{
    return gdb_points_reason(&((x86_cpu *)s)->gdb, addr);
}

static const tes_cpu_ops x86_cpu_ops = {
    .size = sizeof(tes_cpu_ops),
    .arch = "x86_64",
    .reset = cpu_reset,
    .exec = cpu_exec,
    .set_irq = cpu_set_irq,
    .has_work = cpu_has_work,
    .apply_boot = cpu_apply_boot,
    .arch_id = cpu_arch_id,
    .read_reg = cpu_read_reg,
    .write_reg = cpu_write_reg,
    .get_pc = cpu_get_pc,
    .translate = cpu_translate,
    .debug_point = cpu_debug_point,
    .debug_reason = cpu_debug_reason,
    .dump = x86_cpu_dump,
};

/* ---- migration ---- */

#define F64(f) TES_FIELD_U64(x86_cpu, f)
#define F32(f) TES_FIELD_U32(x86_cpu, f)
#define F16(f) TES_FIELD_U16(x86_cpu, f)
#define FB(f) TES_FIELD_BOOL(x86_cpu, f)
#define SEG_FIELDS(i)                                                                    \
    {"seg" #i "_sel", TES_FIELD_U16, offsetof(x86_cpu, seg[i].sel), 0, 0},               \
        {"seg" #i "_base", TES_FIELD_U64, offsetof(x86_cpu, seg[i].base), 0, 0},         \
        {"seg" #i "_limit", TES_FIELD_U32, offsetof(x86_cpu, seg[i].limit), 0, 0},       \
        {"seg" #i "_attr", TES_FIELD_U16, offsetof(x86_cpu, seg[i].attr), 0, 0}

_Static_assert(sizeof(int) == 4, "cpl and fpstt migrate as U32");
/* cc_op grew to 64 bits for the translator; its values (< 64) still
 * migrate as the U32 of state version 1: the low half, little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "cc_op migrates its low half");
#define LAPIC32(f) {"lapic_" #f, TES_FIELD_U32, offsetof(x86_cpu, lapic_mem.f), 0, 2}
#define LAPIC_ARR(f, n) {"lapic_" #f, TES_FIELD_U32, offsetof(x86_cpu, lapic_mem.f), (n), 2}
#define CC_OP_FIELD {"cc_op", TES_FIELD_U32, offsetof(x86_cpu, cc_op), 0, 0}

static const tes_state_field x86_cpu_fields[] = {
    F32(apic_id),
    TES_FIELD_ARRAY(x86_cpu, regs, TES_FIELD_U64, 16),
    F64(rip), F64(eflags), CC_OP_FIELD, F64(cc_dst), F64(cc_src), F64(cc_src2),
    SEG_FIELDS(0), SEG_FIELDS(1), SEG_FIELDS(2), SEG_FIELDS(3),
    SEG_FIELDS(4), SEG_FIELDS(5), SEG_FIELDS(6), SEG_FIELDS(7),
    F64(gdt_base), F64(idt_base), F16(gdt_limit), F16(idt_limit),
    F64(cr0), F64(cr2), F64(cr3), F64(cr4), F64(cr8), F64(efer),
    TES_FIELD_ARRAY(x86_cpu, dr, TES_FIELD_U64, 8),
    F32(cpl),
    F64(star), F64(lstar), F64(cstar), F64(sfmask), F64(kernel_gs_base),
    F64(sysenter_cs), F64(sysenter_esp), F64(sysenter_eip),
    F64(apic_base), F64(tsc_offset), F64(pat), F64(misc_enable), F64(tsc_aux),
    F64(mtrr_cap), F64(mtrr_def_type),
    TES_FIELD_ARRAY(x86_cpu, mtrr_fixed, TES_FIELD_U64, 11),
    TES_FIELD_ARRAY(x86_cpu, mtrr_var, TES_FIELD_U64, 16),
    F64(mcg_status),
    TES_FIELD_BYTES(x86_cpu, st),
    F16(fpuc), F16(fpus), F16(fptag), F32(fpstt), F64(fpip), F64(fpdp), F16(fpop),
    TES_FIELD_BYTES(x86_cpu, xmm), F32(mxcsr),
    FB(nmi_pending), FB(inhibit_irq), FB(halted_req), FB(wait_sipi),
    F64(insn_count),
    /* Version 2: the local APIC. Without it the destination's LAPIC came
     * up as at reset (timer stopped, software-disabled, IRR and ISR
     * empty) and a running Linux never took another interrupt. */
    LAPIC32(id), LAPIC32(tpr), LAPIC32(ldr), LAPIC32(dfr), LAPIC32(svr), LAPIC32(esr),
    LAPIC32(icr_lo), LAPIC32(icr_hi), LAPIC_ARR(isr, 8), LAPIC_ARR(tmr, 8),
    LAPIC_ARR(irr, 8), LAPIC_ARR(lvt, 6), LAPIC32(timer_initial), LAPIC32(timer_divide),
    {"lapic_timer_start", TES_FIELD_I64, offsetof(x86_cpu, lapic_mem.timer_start), 0, 2},
    {"lapic_extint", TES_FIELD_BOOL, offsetof(x86_cpu, lapic_mem.extint), 0, 2},
    {"lapic_from_pic", TES_FIELD_BOOL, offsetof(x86_cpu, lapic_mem.from_pic), 0, 2},
    {"lapic_intr", TES_FIELD_BOOL, offsetof(x86_cpu, lapic_mem.intr), 0, 2},
    TES_FIELD_END,
};

/* Derived state (mode, TLB of host pointers) is rebuilt by x86_run. */
static int cpu_post_load(tes_device *dev, void *s, uint32_t version)
{
    x86_cpu *c = s;

    /* What the decoder can leave: cc_op an op and size below 64, CPL 0..3,
     * a 3-bit FPU stack top. */
    if ((uint64_t)c->cc_op >= 64 || c->cpl < 0 || c->cpl > 3 || c->fpstt < 0 || c->fpstt > 7) {
        H->error(dev, "x86 CPU: cc_op %lld, CPL %d or FPU top %d in the stream out of range",
                 (long long)c->cc_op, c->cpl, c->fpstt);
        return -1;
    }

    if (c->lapic && !x86_apic_post_load(c, version)) {
        H->error(dev, "x86 CPU: LAPIC timer divide 0x%x or timer start %lld in the stream "
                 "out of range", c->lapic->timer_divide, (long long)c->lapic->timer_start);
        return -1;
    }

    /* The vCPU at this index has this APIC ID (the topology's): a stream
     * whose CPU came from another slot (hot-plugged CPUs given other ids
     * on the destination) would give two CPUs one ID. */
    if (c->cpu && c->apic_id != x86_topo_apic_id(c->index)) {
        H->error(dev, "x86 CPU %u: APIC ID %u in the stream, %u here (the same -smp and "
                 "CPU ids on both sides?)", c->index, c->apic_id, x86_topo_apic_id(c->index));
        return -1;
    }
    c->state_dirty = true;
    c->fault = false;
    c->exc_depth = 0;
    /* The core's run flag is not in the stream: a secondary that had its
     * SIPI (or a hot-plugged vCPU the guest brought up) runs on this side
     * too, and one still waiting for it stays off. */
    if (c->cpu) {
        H->cpu_set_running(c->cpu, !c->wait_sipi);
    }
    return 0;
}

static const tes_state_info x86_cpu_state = {
    .size = sizeof(tes_state_info),
    .version = 2,
    .min_version = 1,
    .fields = x86_cpu_fields,
    .post_load = cpu_post_load,
};

/* The LAPIC timer lives in the core's timer list: stop it with the CPU. */
static void x86_cpu_unrealize(tes_device *dev, void *s)
{
    x86_apic_free_cpu(s);
    x86_jit_release(s);
}

/* -accel tcg,jit=on|off,tb-size=N reaches the CPUs as these properties. */
static const tes_prop_info x86_cpu_props[] = {
    TES_PROP("jit", TES_PROP_BOOL, x86_cpu, jit, "on", 0, 0,
             "translate guest code to host code (off: interpret)"),
    TES_PROP("tb-size", TES_PROP_U32, x86_cpu, tb_size, "128", 1, 4096,
             "translation code buffer size in MiB (shared by the plugin's vCPUs)"),
    TES_PROP_END,
};

const tes_type_info x86_qemu64_type = {
    .size = sizeof(tes_type_info),
    .unrealize = x86_cpu_unrealize,
    .kind = TES_KIND_CPU,
    .name = "qemu64",
    .desc = "x86-64 CPU with QEMU's qemu64 feature set (SSE2, no SSE3+)",
    .instance_size = sizeof(x86_cpu),
    .props = x86_cpu_props,
    .state = &x86_cpu_state,
    .class_info = &x86_cpu_ops,
};

/* "max": every feature tessera implements (CPUID tells which, sys.c). */
const tes_type_info x86_max_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_CPU,
    .name = "max",
    .unrealize = x86_cpu_unrealize,
    .desc = "x86-64 CPU with every feature tessera implements",
    .instance_size = sizeof(x86_cpu),
    .props = x86_cpu_props,
    .realize = max_realize,
    .state = &x86_cpu_state,
    .class_info = &x86_cpu_ops,
};

const tes_type_info *const x86_cpu_types[] = {&x86_qemu64_type, &x86_max_type, NULL};
