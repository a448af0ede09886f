/*
 * cpu-arm: exceptions, PSTATE, reset, PSCI and the system instruction
 * group (Arm ARM C4.1.3 "Branches, Exception Generating and System
 * instructions", minus the branches which a64.c decodes). MRS/MSR of
 * system registers live in sysregs.c.
 *
 * The CPU implements EL0 and EL1 only (no EL2/EL3): HVC from EL1 is the
 * PSCI conduit (the device tree says method = "hvc"), SMC is undefined.
 */
#include "arm.h"

/* PSCI 1.0 (DEN0022) function IDs, with the SMC64 bit (30) cleared, and
 * return codes. */
#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_SUSPEND 0x84000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON 0x84000003u
#define PSCI_AFFINITY_INFO 0x84000004u
#define PSCI_MIGRATE_INFO_TYPE 0x84000006u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_FEATURES 0x8400000Au
#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED (-1)
#define PSCI_INVALID_PARAMS (-2)
#define PSCI_DENIED (-3)
#define PSCI_ALREADY_ON (-4)

/* Vector offsets from VBAR_EL1 (D1.10.2). */
#define VEC_CUR_SP0 0x000
#define VEC_CUR_SPX 0x200
#define VEC_LOWER_A64 0x400
#define VEC_IRQ 0x080
#define VEC_FIQ 0x100

/* SCTLR_EL1 bits used here (D17.2.118). */
#define SCTLR_NTWI (1u << 16)
#define SCTLR_NTWE (1u << 18)
#define SCTLR_RES1 0x30d00800ull

/* ---- PSTATE ---- */

uint32_t arm_get_pstate(arm_cpu *c)
{
    uint32_t m = c->el == 0 ? PSTATE_M_EL0t : (c->spsel ? PSTATE_M_EL1h : PSTATE_M_EL1t);

    return (c->nzcv & 0xf0000000u) | (c->daif & 0x3c0u) | (c->ss ? PSTATE_SS : 0) | m;
}

void arm_set_pstate(arm_cpu *c, uint32_t spsr)
{
    c->nzcv = spsr & 0xf0000000u;
    c->daif = spsr & 0x3c0u;
    c->ss = (spsr & PSTATE_SS) != 0;
    switch (spsr & 0x1f) {
    case PSTATE_M_EL0t:
        c->el = 0;
        c->spsel = 0;
        break;
    case PSTATE_M_EL1t:
        c->el = 1;
        c->spsel = 0;
        break;
    case PSTATE_M_EL1h:
        c->el = 1;
        c->spsel = 1;
        break;
    default:
        /* Illegal return (AArch32, EL2/EL3 or reserved M): D1.11.4 keeps
         * the EL and sets PSTATE.IL; we keep the EL and only log, as no
         * guest we run relies on the IL trap. */
        H->log(TES_LOG_GUEST_ERROR, "cpu-arm: illegal exception return to M=0x%x\n",
               spsr & 0x1f);
        break;
    }
}

/* ---- exceptions ---- */

static uint64_t vector_base(arm_cpu *c)
{
    if (c->el == 0) {
        return c->vbar_el1 + VEC_LOWER_A64;
    }
    return c->vbar_el1 + (c->spsel ? VEC_CUR_SPX : VEC_CUR_SP0);
}

/* Common entry (D1.10): save state, switch to EL1h with DAIF masked. */
static void take(arm_cpu *c, uint64_t vector, uint64_t elr)
{
    c->spsr_el1 = arm_get_pstate(c);
    c->elr_el1 = elr;
    c->el = 1;
    c->spsel = 1;
    c->daif = PSTATE_D | PSTATE_A | PSTATE_I | PSTATE_F;
    c->ss = false;
    c->excl_valid = false;
    c->next_pc = vector;
}

void arm_exception(arm_cpu *c, unsigned ec, uint32_t iss, uint64_t elr)
{
    uint64_t vec = vector_base(c);

    c->esr_el1 = (uint64_t)ec << 26 | 1u << 25 | (iss & 0x1ffffff);
    if (H->log_enabled(TES_LOG_INT)) {
        H->log(TES_LOG_INT, "cpu-arm: cpu%u exception EC 0x%x ISS 0x%x at 0x%llx (EL%u)\n",
               c->index, ec, iss, (unsigned long long)elr, c->el);
    }
    take(c, vec, elr);
}

void arm_undef(arm_cpu *c)
{
    arm_exception(c, EC_UNKNOWN, 0, c->pc);
}

bool arm_check_irq(arm_cpu *c)
{
    uint64_t off;

    if (c->fiq_line && !(c->daif & PSTATE_F)) {
        off = VEC_FIQ;
    } else if (c->irq_line && !(c->daif & PSTATE_I)) {
        off = VEC_IRQ;
    } else {
        return false;
    }
    take(c, vector_base(c) + off, c->pc);
    /* Asynchronous: the next instruction to run is the handler's. */
    c->pc = c->next_pc;
    c->halt_req = false;
    return true;
}

/* ---- reset ---- */

void arm_cpu_reset(arm_cpu *c)
{
    tes_cpu *cpu = c->cpu;
    unsigned index = c->index;
    tes_timer *t[NUM_TIMERS];
    /* Properties and the translator's jump cache outlive a reset. */
    bool jit = c->jit;
    uint32_t tb_size = c->tb_size;
    struct tes_jit_jc *jc = c->jc;
    /* So do the debugger's points, as QEMU's (not a pending stop). */
    gdb_points gdb = c->gdb;

    for (int i = 0; i < NUM_TIMERS; i++) {
        t[i] = c->timer[i].t;
    }
    memset(c, 0, sizeof(*c));
    c->gdb = gdb;
    c->gdb.wp_hit = false;
    c->gdb.have_reason = false;
    c->cpu = cpu;
    c->index = index;
    c->jit = jit;
    c->tb_size = tb_size;
    c->jc = jc;
    c->jc_epoch = UINT64_MAX; /* never a tlb_epoch: clear it before use */
    for (int i = 0; i < NUM_TIMERS; i++) {
        c->timer[i].t = t[i];
    }
    /* MPIDR: bit 31 RES1, U = 0 (multiprocessor), Aff0 = vCPU index. */
    c->mpidr = 1ull << 31 | (index & 0xff) | (uint64_t)(index >> 8) << 8;
    c->el = 1;
    c->spsel = 1;
    c->daif = PSTATE_D | PSTATE_A | PSTATE_I | PSTATE_F;
    /* RES1 bits, MMU and caches off. CPACR_EL1 stays 0 (FP trapped), as
     * on QEMU's direct kernel boot: Linux's __cpu_setup enables FPEN. */
    c->sctlr_el1 = SCTLR_RES1;
    /* OS lock set at cold reset; OSLM = 0b10 (OS lock implemented). */
    c->oslsr_el1 = 0xa;
    c->tlb_blk_lo = UINT64_MAX;
    c->powered = index == 0;
    /* The entry state of a kernel boot is the board's: the core applies
     * it after reset (tes_cpu_ops.apply_boot, cpu.c). */
    arm_timers_init(c);
    for (int i = 0; i < NUM_TIMERS; i++) {
        /* The level was forgotten above: drive the outputs low. */
        H->dev_set_irq(H->cpu_dev(c->cpu), (unsigned)i, 0);
        arm_timer_update(c, i);
    }
    arm_tlb_flush(c);
}

/* ---- PSCI ---- */

static arm_cpu *cpu_by_mpidr(uint64_t mpidr)
{
    for (unsigned i = 0; i < H->cpu_count(); i++) {
        tes_cpu *cpu = H->cpu_by_index(i);
        arm_cpu *t = cpu ? arm_cpu_of(cpu) : NULL;

        if (t && (t->mpidr & 0xff00ffffffull) == (mpidr & 0xff00ffffffull)) {
            return t;
        }
    }
    return NULL;
}

static int64_t psci_cpu_on(uint64_t target, uint64_t entry, uint64_t ctx)
{
    arm_cpu *t = cpu_by_mpidr(target);

    if (!t) {
        return PSCI_INVALID_PARAMS;
    }
    if (t->powered) {
        return PSCI_ALREADY_ON;
    }
    /* DEN0022 6.4: the target enters at entry in the caller's EL (EL1h),
     * MMU off, DAIF masked, with context_id in x0. */
    arm_cpu_reset(t);
    t->pc = entry;
    t->next_pc = entry;
    t->x[0] = ctx;
    t->powered = true;
    H->cpu_set_running(t->cpu, true);
    return PSCI_SUCCESS;
}

static int64_t psci_affinity_info(uint64_t target, uint64_t level)
{
    arm_cpu *t;

    if (level != 0) {
        return PSCI_INVALID_PARAMS;
    }
    t = cpu_by_mpidr(target);
    if (!t) {
        return PSCI_INVALID_PARAMS;
    }
    return t->powered ? 0 : 1;
}

static int64_t psci_features(uint32_t fn)
{
    switch (fn & ~0x40000000u) {
    case PSCI_VERSION:
    case PSCI_CPU_SUSPEND:
    case PSCI_CPU_OFF:
    case PSCI_CPU_ON:
    case PSCI_AFFINITY_INFO:
    case PSCI_MIGRATE_INFO_TYPE:
    case PSCI_SYSTEM_OFF:
    case PSCI_SYSTEM_RESET:
    case PSCI_FEATURES:
        /* CPU_SUSPEND: 0 = original power_state format, no OS-initiated
         * mode; 0 for the others means "present". */
        return 0;
    default:
        return PSCI_NOT_SUPPORTED;
    }
}

static void psci_cpu_off(arm_cpu *c)
{
    c->powered = false;
    c->halt_req = true;
    H->cpu_set_running(c->cpu, false);
}

void arm_psci(arm_cpu *c)
{
    uint32_t fn = (uint32_t)c->x[0];
    bool is64 = (fn & 0x40000000u) != 0;
    uint64_t a1 = is64 ? c->x[1] : (uint32_t)c->x[1];
    uint64_t a2 = is64 ? c->x[2] : (uint32_t)c->x[2];
    uint64_t a3 = is64 ? c->x[3] : (uint32_t)c->x[3];
    int64_t ret;

    switch (fn & ~0x40000000u) {
    case PSCI_VERSION:
        ret = 0x10000; /* 1.0 */
        break;
    case PSCI_CPU_SUSPEND:
        /* Standby or power-down alike: behave as WFI and return success;
         * the caller resumes after this call either way (5.4.2 allows a
         * power-down request to return as if it were standby). */
        if (!c->irq_line && !c->fiq_line) {
            c->halt_req = true;
        }
        ret = PSCI_SUCCESS;
        break;
    case PSCI_CPU_OFF:
        psci_cpu_off(c);
        ret = PSCI_DENIED; /* only seen if the CPU is turned on again */
        break;
    case PSCI_CPU_ON:
        ret = psci_cpu_on(a1, a2, a3);
        break;
    case PSCI_AFFINITY_INFO:
        ret = psci_affinity_info(a1, a2);
        break;
    case PSCI_MIGRATE_INFO_TYPE:
        ret = 2; /* Trusted OS not present: no migration needed */
        break;
    case PSCI_SYSTEM_OFF:
        H->request_shutdown(0);
        c->halt_req = true;
        ret = PSCI_SUCCESS;
        break;
    case PSCI_SYSTEM_RESET:
        H->request_reset();
        c->halt_req = true;
        ret = PSCI_SUCCESS;
        break;
    case PSCI_FEATURES:
        ret = psci_features((uint32_t)a1);
        break;
    default:
        /* Also SMCCC_VERSION / ARCH_FEATURES: NOT_SUPPORTED tells Linux
         * that the firmware is SMCCC 1.0, without workaround calls. */
        H->log(TES_LOG_UNIMP, "cpu-arm: PSCI/SMCCC function 0x%x unimplemented\n", fn);
        ret = PSCI_NOT_SUPPORTED;
        break;
    }
    if (H->log_enabled(TES_LOG_INT)) {
        H->log(TES_LOG_INT, "cpu-arm: cpu%u PSCI 0x%x (0x%llx, 0x%llx, 0x%llx) -> %lld\n",
               c->index, fn, (unsigned long long)a1, (unsigned long long)a2,
               (unsigned long long)a3, (long long)ret);
    }
    c->x[0] = (uint64_t)ret;
}

/* ---- exception generating instructions (C4.1.3, 0xd4000000) ---- */

static void exc_gen(arm_cpu *c, uint32_t insn)
{
    unsigned opc = (insn >> 21) & 7, ll = insn & 3, op2 = (insn >> 2) & 7;
    uint32_t imm16 = (insn >> 5) & 0xffff;

    if (op2 != 0) {
        arm_undef(c);
        return;
    }
    if (opc == 0 && ll == 1) {
        /* SVC: preferred return is the next instruction. */
        arm_exception(c, EC_SVC64, imm16, c->pc + 4);
    } else if (opc == 0 && ll == 2 && c->el == 1) {
        arm_psci(c);
    } else if (opc == 1 && ll == 0) {
        /* BRK: preferred return is the BRK itself. */
        arm_exception(c, EC_BRK64, imm16, c->pc);
    } else {
        /* HVC at EL0, SMC (no EL3), HLT (no halting debug), DCPSx. */
        arm_undef(c);
    }
}

/* ---- hints, barriers, PSTATE ---- */

static void wfx_trap(arm_cpu *c, bool wfe)
{
    /* ISS: CV = 1, COND = 0b1110, TI = 1 for WFE (D17.2.37). */
    arm_exception(c, EC_WFX, 1u << 24 | 0xeu << 20 | (wfe ? 1 : 0), c->pc);
}

static void hint(arm_cpu *c, unsigned op)
{
    switch (op) {
    case 2: /* WFE: as a yield (Linux's locks rely on SEV/event stream) */
        if (c->el == 0 && !(c->sctlr_el1 & SCTLR_NTWE)) {
            wfx_trap(c, true);
        }
        break;
    case 3: /* WFI: wake on any pending interrupt, even masked */
        if (c->el == 0 && !(c->sctlr_el1 & SCTLR_NTWI)) {
            wfx_trap(c, false);
        } else if (!c->irq_line && !c->fiq_line) {
            c->halt_req = true;
        }
        break;
    default:
        /* NOP, YIELD, SEV, SEVL and every unallocated hint (PAC, BTI,
         * ESB, ...) are NOPs in ARMv8.0. */
        break;
    }
}

static void barrier(arm_cpu *c, unsigned op2)
{
    switch (op2) {
    case 2: /* CLREX */
        c->excl_valid = false;
        break;
    case 4: /* DSB */
    case 5: /* DMB */
    case 6: /* ISB */
        /* vCPUs run one at a time on one thread: accesses are already
         * ordered. */
        break;
    default:
        arm_undef(c);
        break;
    }
}

/* ISS of an EC_SYSREG trap (D17.2.37): Op0, Op2, Op1, CRn, Rt, CRm, dir. */
static uint32_t sysreg_iss(unsigned op0, unsigned op1, unsigned crn, unsigned crm,
                           unsigned op2, unsigned rt, bool read)
{
    return op0 << 20 | op2 << 17 | op1 << 14 | crn << 10 | rt << 5 | crm << 1 | (read ? 1 : 0);
}

static void msr_imm(arm_cpu *c, uint32_t insn)
{
    unsigned op1 = (insn >> 16) & 7, op2 = (insn >> 5) & 7, crm = (insn >> 8) & 15;

    if (op1 == 0 && op2 == 5 && c->el == 1) { /* SPSel */
        c->spsel = crm & 1;
    } else if (op1 == 3 && (op2 == 6 || op2 == 7)) { /* DAIFSet, DAIFClr */
        if (c->el == 0 && !(c->sctlr_el1 & (1u << 9))) { /* SCTLR.UMA */
            arm_exception(c, EC_SYSREG, sysreg_iss(0, op1, 4, crm, op2, 31, false), c->pc);
            return;
        }
        if (op2 == 6) {
            c->daif |= (crm << 6) & 0x3c0;
        } else {
            c->daif &= ~((crm << 6) & 0x3c0);
        }
    } else {
        /* UAO, PAN, SSBS, DIT, ...: not in ARMv8.0. */
        arm_undef(c);
    }
}

/* ---- SYS: cache maintenance, TLBI, AT (C5.3) ---- */

static void tlbi_all_cpus(bool by_va, uint64_t va)
{
    for (unsigned i = 0; i < H->cpu_count(); i++) {
        tes_cpu *cpu = H->cpu_by_index(i);
        arm_cpu *t = cpu ? arm_cpu_of(cpu) : NULL;

        if (!t) {
            continue;
        }
        if (by_va) {
            arm_tlb_flush_page(t, va);
        } else {
            arm_tlb_flush(t);
        }
    }
}

/* TLBI ... E1(IS) (C5.5): CRm 3 = Inner Shareable, 7 = local. */
static void tlbi(arm_cpu *c, unsigned crm, unsigned op2, uint64_t xt)
{
    bool by_va = op2 == 1 || op2 == 3 || op2 == 5 || op2 == 7;
    /* Xt[43:0] = VA[55:12]; VA[63:56] copy bit 55 (TTBR0 vs TTBR1). */
    uint64_t va = (uint64_t)((int64_t)(xt << 20) >> 8) & ~0xfffull;

    if ((crm != 3 && crm != 7) || op2 == 4 || op2 == 6) {
        arm_undef(c);
        return;
    }
    if (crm == 3) {
        tlbi_all_cpus(by_va, va);
    } else if (by_va) {
        arm_tlb_flush_page(c, va);
    } else {
        arm_tlb_flush(c); /* VMALLE1, ASIDE1: ASIDs are not tagged */
    }
}

/* The EL0-capable operations (op1 = 3, CRn = 7, op2 = 1): DC ZVA (CRm 4),
 * IC IVAU (5), DC CVAC (10), CVAU (11), CIVAC (14). */
static bool sys_el0_op(unsigned op1, unsigned crm, unsigned op2)
{
    return op1 == 3 && op2 == 1 && (crm == 4 || crm == 5 || crm == 10 || crm == 11 || crm == 14);
}

/* ... enabled by SCTLR_EL1.DZE (DC ZVA) and UCI (the others). */
static bool sys_el0_enabled(arm_cpu *c, unsigned crm)
{
    return (c->sctlr_el1 & (crm == 4 ? 1u << 14 : 1u << 26)) != 0;
}

static bool sys_cache(arm_cpu *c, unsigned op1, unsigned crm, unsigned op2, uint64_t xt)
{
    if (op1 == 3 && crm == 4 && op2 == 1) {
        arm_dc_zva(c, xt);
        return true;
    }
    if (op1 == 0 && ((crm == 1 && op2 == 0) || (crm == 5 && op2 == 0))) {
        return true; /* IC IALLUIS, IC IALLU */
    }
    if (op1 == 0 && crm == 6 && (op2 == 1 || op2 == 2)) {
        return true; /* DC IVAC, ISW */
    }
    if (op1 == 0 && (crm == 10 || crm == 14) && op2 == 2) {
        return true; /* DC CSW, CISW */
    }
    if (op1 == 3 && op2 == 1 && (crm == 5 || crm == 10 || crm == 11 || crm == 14)) {
        return true; /* IC IVAU, DC CVAC, CVAU, CIVAC */
    }
    return false;
}

static void sys_insn(arm_cpu *c, uint32_t insn)
{
    unsigned op1 = (insn >> 16) & 7, crn = (insn >> 12) & 15, crm = (insn >> 8) & 15;
    unsigned op2 = (insn >> 5) & 7, rt = insn & 31;
    uint64_t xt = reg_zr(c, rt);

    if (insn & (1u << 21)) { /* SYSL: nothing allocated in v8.0 */
        arm_undef(c);
        return;
    }
    if (c->el == 0 && (crn != 7 || !sys_el0_op(op1, crm, op2))) {
        arm_undef(c);
        return;
    }
    if (c->el == 0 && !sys_el0_enabled(c, crm)) {
        /* Disabled by SCTLR_EL1: trapped to EL1 (Linux emulates them). */
        arm_exception(c, EC_SYSREG, sysreg_iss(1, op1, crn, crm, op2, rt, false), c->pc);
        return;
    }
    if (crn == 7 && sys_cache(c, op1, crm, op2, xt)) {
        return;
    }
    if (crn == 7 && op1 == 0 && crm == 8 && op2 < 4) {
        arm_at(c, xt, op2 & 1, op2 >= 2);
        return;
    }
    if (crn == 8 && op1 == 0) {
        tlbi(c, crm, op2, xt);
        return;
    }
    H->log(TES_LOG_UNIMP, "cpu-arm: SYS op1=%u CRn=%u CRm=%u op2=%u unimplemented\n", op1, crn,
           crm, op2);
    arm_undef(c);
}

/* ---- ERET ---- */

static void eret(arm_cpu *c)
{
    if (c->el == 0) {
        arm_undef(c);
        return;
    }
    c->next_pc = c->elr_el1;
    arm_set_pstate(c, (uint32_t)c->spsr_el1);
    c->excl_valid = false;
}

/* ---- the group dispatcher ---- */

void a64_system(arm_cpu *c, uint32_t insn)
{
    if ((insn & 0xff000000u) == 0xd4000000u) {
        exc_gen(c, insn);
    } else if (insn == 0xd69f03e0u) {
        eret(c);
    } else if ((insn & 0xfffff01fu) == 0xd503201fu) {
        hint(c, (insn >> 5) & 0x7f);
    } else if ((insn & 0xfffff01fu) == 0xd503301fu) {
        barrier(c, (insn >> 5) & 7);
    } else if ((insn & 0xfff8f01fu) == 0xd500401fu) {
        msr_imm(c, insn);
    } else if ((insn & 0xffd80000u) == 0xd5080000u) {
        sys_insn(c, insn);
    } else if ((insn & 0xffd00000u) == 0xd5100000u) {
        a64_sysreg(c, insn);
    } else {
        arm_undef(c);
    }
}
