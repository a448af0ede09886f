/*
 * cpu-arm: MRS/MSR of system registers (Arm ARM D17, C5.3).
 *
 * The ID registers describe a Cortex-A57 r1p0 reduced to what this
 * emulator implements: AArch64-only EL0/EL1, FP and AdvSIMD, CRC32, 4K
 * granule, 40-bit PA, 16-bit ASID, debug v8 without a PMU; the GIC system
 * register interface when a GICv3 serves it (GICv2 is MMIO). Every other feature field reads 0 so
 * Linux takes no path we do not emulate.
 *
 * The register key is the instruction's bits 20:5: op0:op1:CRn:CRm:op2.
 */
#include "arm.h"

#define SR(op0, op1, crn, crm, op2) ((op0) << 14 | (op1) << 11 | (crn) << 7 | (crm) << 3 | (op2))
#define KEY_OP0(k) ((k) >> 14)
#define KEY_OP1(k) (((k) >> 11) & 7)
#define KEY_CRN(k) (((k) >> 7) & 15)
#define KEY_CRM(k) (((k) >> 3) & 15)
#define KEY_OP2(k) ((k) & 7)

/* Identification. */
#define MIDR_EL1 SR(3, 0, 0, 0, 0)
#define MPIDR_EL1 SR(3, 0, 0, 0, 5)
#define REVIDR_EL1 SR(3, 0, 0, 0, 6)
#define ID_AA64PFR0_EL1 SR(3, 0, 0, 4, 0)
#define ID_AA64DFR0_EL1 SR(3, 0, 0, 5, 0)
#define ID_AA64ISAR0_EL1 SR(3, 0, 0, 6, 0)
#define ID_AA64MMFR0_EL1 SR(3, 0, 0, 7, 0)
#define CCSIDR_EL1 SR(3, 1, 0, 0, 0)
#define CLIDR_EL1 SR(3, 1, 0, 0, 1)
#define AIDR_EL1 SR(3, 1, 0, 0, 7)
#define CSSELR_EL1 SR(3, 2, 0, 0, 0)
#define CTR_EL0 SR(3, 3, 0, 0, 1)
#define DCZID_EL0 SR(3, 3, 0, 0, 7)
/* Control and translation. */
#define SCTLR_EL1 SR(3, 0, 1, 0, 0)
#define ACTLR_EL1 SR(3, 0, 1, 0, 1)
#define CPACR_EL1 SR(3, 0, 1, 0, 2)
#define TTBR0_EL1 SR(3, 0, 2, 0, 0)
#define TTBR1_EL1 SR(3, 0, 2, 0, 1)
#define TCR_EL1 SR(3, 0, 2, 0, 2)
#define MAIR_EL1 SR(3, 0, 10, 2, 0)
#define AMAIR_EL1 SR(3, 0, 10, 3, 0)
#define CONTEXTIDR_EL1 SR(3, 0, 13, 0, 1)
/* Exception state and PSTATE. */
#define SPSR_EL1 SR(3, 0, 4, 0, 0)
#define ELR_EL1 SR(3, 0, 4, 0, 1)
#define SP_EL0 SR(3, 0, 4, 1, 0)
#define SPSEL SR(3, 0, 4, 2, 0)
#define CURRENTEL SR(3, 0, 4, 2, 2)
#define NZCV SR(3, 3, 4, 2, 0)
#define DAIF SR(3, 3, 4, 2, 1)
#define FPCR SR(3, 3, 4, 4, 0)
#define FPSR SR(3, 3, 4, 4, 1)
#define AFSR0_EL1 SR(3, 0, 5, 1, 0)
#define AFSR1_EL1 SR(3, 0, 5, 1, 1)
#define ESR_EL1 SR(3, 0, 5, 2, 0)
#define ERRIDR_EL1 SR(3, 0, 5, 3, 0)
#define ERRSELR_EL1 SR(3, 0, 5, 3, 1)
#define FAR_EL1 SR(3, 0, 6, 0, 0)
#define PAR_EL1 SR(3, 0, 7, 4, 0)
#define VBAR_EL1 SR(3, 0, 12, 0, 0)
#define RVBAR_EL1 SR(3, 0, 12, 0, 1)
#define ISR_EL1 SR(3, 0, 12, 1, 0)
#define DISR_EL1 SR(3, 0, 12, 1, 1)
#define TPIDR_EL1 SR(3, 0, 13, 0, 4)
#define TPIDR_EL0 SR(3, 3, 13, 0, 2)
#define TPIDRRO_EL0 SR(3, 3, 13, 0, 3)
/* Performance monitors (PMUVer = 0: kept RAZ/WI for Linux's probes). */
#define PMUSERENR_EL0 SR(3, 3, 9, 14, 0)
/* Generic timer. */
#define CNTKCTL_EL1 SR(3, 0, 14, 1, 0)
#define CNTFRQ_EL0 SR(3, 3, 14, 0, 0)
#define CNTPCT_EL0 SR(3, 3, 14, 0, 1)
#define CNTVCT_EL0 SR(3, 3, 14, 0, 2)
/* Debug (op0 = 2). */
#define MDCCINT_EL1 SR(2, 0, 0, 2, 0)
#define MDSCR_EL1 SR(2, 0, 0, 2, 2)
#define MDRAR_EL1 SR(2, 0, 1, 0, 0)
#define OSLAR_EL1 SR(2, 0, 1, 0, 4)
#define OSLSR_EL1 SR(2, 0, 1, 1, 4)
#define OSDLR_EL1 SR(2, 0, 1, 3, 4)
#define DBGPRCR_EL1 SR(2, 0, 1, 4, 4)
#define DBGCLAIMSET_EL1 SR(2, 0, 7, 8, 6)
#define DBGCLAIMCLR_EL1 SR(2, 0, 7, 9, 6)
#define DBGAUTHSTATUS_EL1 SR(2, 0, 7, 14, 6)
#define MDCCSR_EL0 SR(2, 3, 0, 1, 0)
#define OSDTRRX_EL1 SR(2, 0, 0, 0, 2)
#define OSDTRTX_EL1 SR(2, 0, 0, 3, 2)
#define OSECCR_EL1 SR(2, 0, 0, 6, 2)

/* Values. MIDR: Arm, variant 1, architecture 0xf, A57 (0xd07), rev 0. */
#define VAL_MIDR 0x411fd070ull
/* EL0 = EL1 = AArch64 only (1), EL2 = EL3 = 0 (absent), FP = AdvSIMD = 0
 * (implemented); GIC (bits 27:24) is 1 when an interrupt controller serves
 * the ICC_* registers (a GICv3: host->cpu_set_sysregs), as QEMU sets it. */
#define VAL_PFR0 0x11ull
#define PFR0_GIC_SYSREGS (1ull << 24)
#define ICC_SRE_EL1 SR(3, 0, 12, 12, 5)
/* DebugVer 6 (v8), BRPs = WRPs = 2 (fields hold n - 1), CTX_CMPs 1,
 * PMUVer 0 (no PMU), TraceVer 0. */
#define VAL_DFR0 0x00101006ull
/* CRC32 only: no AES/SHA/atomics/RDM. */
#define VAL_ISAR0 0x10000ull
/* PARange 40 bits (2), ASIDBits 16 (2), TGran16 absent (0), TGran64
 * absent (0xf), TGran4 present (0), little-endian only. */
#define VAL_MMFR0 0x0f000022ull
/* Like the A57: CWG = ERG = 64 B lines, DminLine = IminLine = 64 B,
 * L1Ip PIPT, bit 31 RES1. */
#define VAL_CTR 0x8444c004ull
/* BS = 4: DC ZVA zeroes 2^4 words = 64 bytes; DZP = 0. */
#define VAL_DCZID 0x4ull
/* L1 I+D, L2 unified; LoUIS = 1, LoC = 2, LoUU = 1 (as an A57). */
#define VAL_CLIDR 0x0a200023ull

#define FPCR_MASK 0x07f70000u /* AHP DN FZ RMode Stride Len; no FP traps */
#define FPSR_MASK 0xf800009fu /* NZCV QC and the cumulative flags */

enum { EL0_OK, EL0_UNDEF, EL0_TRAP };

static bool id_space(unsigned key)
{
    return KEY_OP0(key) == 3 && KEY_OP1(key) == 0 && KEY_CRN(key) == 0;
}

/* ID registers, op0 = 3, op1 = 0, CRn = 0 (D17.2: the whole CRm 1..7
 * space reads as zero when unallocated). */
static bool read_id(arm_cpu *c, unsigned key, uint64_t *v)
{
    switch (key) {
    case MIDR_EL1:
        *v = VAL_MIDR;
        return true;
    case MPIDR_EL1:
        *v = c->mpidr;
        return true;
    case REVIDR_EL1:
        *v = 0;
        return true;
    case ID_AA64PFR0_EL1: {
        uint64_t sre;

        *v = VAL_PFR0 | (H->cpu_sysreg_read(c->cpu, ICC_SRE_EL1, &sre) ? PFR0_GIC_SYSREGS : 0);
        return true;
    }
    case ID_AA64DFR0_EL1:
        *v = VAL_DFR0;
        return true;
    case ID_AA64ISAR0_EL1:
        *v = VAL_ISAR0;
        return true;
    case ID_AA64MMFR0_EL1:
        *v = VAL_MMFR0;
        return true;
    default:
        /* AArch32 ID registers (no AArch32: 0), ID_AA64PFR1, ZFR0,
         * DFR1, AFR0/1, ISAR1/2, MMFR1/2, reserved slots. */
        *v = 0;
        return KEY_CRM(key) != 0;
    }
}

static uint64_t ccsidr(arm_cpu *c)
{
    /* Geometry of the A57's caches: L1D 32K 2-way, L1I 48K 3-way, L2
     * 2M 16-way, 64-byte lines. Linux only prints them. */
    switch (c->csselr_el1 & 0xf) {
    case 0:
        return 0x701fe00a;
    case 1:
        return 0x201fe012;
    case 2:
        return 0x70ffe07a;
    default:
        return 0;
    }
}

static bool dbg_reg_read(arm_cpu *c, unsigned key, uint64_t *v)
{
    unsigned n = KEY_CRM(key), op2 = KEY_OP2(key);

    if (KEY_OP0(key) != 2 || KEY_OP1(key) != 0 || KEY_CRN(key) != 0 || op2 < 4 || n >= 2) {
        return false;
    }
    *v = op2 == 4 ? c->dbg_bvr[n] : op2 == 5 ? c->dbg_bcr[n] : op2 == 6 ? c->dbg_wvr[n]
                                                                        : c->dbg_wcr[n];
    return true;
}

static bool dbg_reg_write(arm_cpu *c, unsigned key, uint64_t v)
{
    unsigned n = KEY_CRM(key), op2 = KEY_OP2(key);
    uint64_t *r;

    if (KEY_OP0(key) != 2 || KEY_OP1(key) != 0 || KEY_CRN(key) != 0 || op2 < 4 || n >= 2) {
        return false;
    }
    r = op2 == 4 ? c->dbg_bvr : op2 == 5 ? c->dbg_bcr : op2 == 6 ? c->dbg_wvr : c->dbg_wcr;
    r[n] = v;
    return true;
}

/* PMU space (PMUVer = 0), kept RAZ/WI at EL1 because Linux may still
 * probe PMUSERENR_EL0/PMSELR_EL0: PMCR..PMOVSSET (op1 3, CRn 9, CRm
 * 12-14), PMINTENSET/CLR_EL1, PMEVCNTR/PMEVTYPER/PMCCFILTR (CRn 14). */
static bool pmu_space(unsigned key)
{
    unsigned op1 = KEY_OP1(key), crn = KEY_CRN(key), crm = KEY_CRM(key);

    if (KEY_OP0(key) != 3) {
        return false;
    }
    if (op1 == 3 && crn == 9 && crm >= 12) {
        return true;
    }
    if (op1 == 0 && crn == 9 && crm == 14 && (KEY_OP2(key) == 1 || KEY_OP2(key) == 2)) {
        return true;
    }
    return op1 == 3 && crn == 14 && crm >= 8;
}

/* Timer registers: which timer and register, or false. */
static bool timer_reg(unsigned key, int *which, int *reg)
{
    if (KEY_OP0(key) != 3 || KEY_OP1(key) != 3 || KEY_CRN(key) != 14) {
        return false;
    }
    if (KEY_CRM(key) != 2 && KEY_CRM(key) != 3) {
        return false;
    }
    if (KEY_OP2(key) > 2) {
        return false;
    }
    *which = KEY_CRM(key) == 2 ? TIMER_PHYS : TIMER_VIRT;
    *reg = KEY_OP2(key) == 0 ? TREG_TVAL : KEY_OP2(key) == 1 ? TREG_CTL : TREG_CVAL;
    return true;
}

/* Plain storage registers: a pointer, for both read and write. */
static uint64_t *plain_reg(arm_cpu *c, unsigned key)
{
    switch (key) {
    case ACTLR_EL1: return &c->actlr_el1;
    case MAIR_EL1: return &c->mair_el1;
    case AMAIR_EL1: return &c->amair_el1;
    case CONTEXTIDR_EL1: return &c->contextidr_el1;
    case SPSR_EL1: return &c->spsr_el1;
    case ELR_EL1: return &c->elr_el1;
    case AFSR0_EL1: return &c->afsr0_el1;
    case AFSR1_EL1: return &c->afsr1_el1;
    case ESR_EL1: return &c->esr_el1;
    case FAR_EL1: return &c->far_el1;
    case PAR_EL1: return &c->par_el1;
    case VBAR_EL1: return &c->vbar_el1;
    case TPIDR_EL1: return &c->tpidr_el1;
    case TPIDR_EL0: return &c->tpidr_el0;
    case TPIDRRO_EL0: return &c->tpidrro_el0;
    case MDSCR_EL1: return &c->mdscr_el1;
    case MDCCINT_EL1: return &c->mdccint_el1;
    case OSDLR_EL1: return &c->osdlr_el1;
    case PMUSERENR_EL0: return &c->pmuserenr_el0;
    default: return NULL;
    }
}

static bool read_special(arm_cpu *c, unsigned key, uint64_t *v)
{
    switch (key) {
    case SCTLR_EL1: *v = c->sctlr_el1; return true;
    case CPACR_EL1: *v = c->cpacr_el1; return true;
    case TTBR0_EL1: *v = c->ttbr0_el1; return true;
    case TTBR1_EL1: *v = c->ttbr1_el1; return true;
    case TCR_EL1: *v = c->tcr_el1; return true;
    case CCSIDR_EL1: *v = ccsidr(c); return true;
    case CLIDR_EL1: *v = VAL_CLIDR; return true;
    case AIDR_EL1: *v = 0; return true;
    case CSSELR_EL1: *v = c->csselr_el1; return true;
    case CTR_EL0: *v = VAL_CTR; return true;
    case DCZID_EL0: *v = VAL_DCZID; return true;
    case SP_EL0: *v = c->sp_el0; return true;
    case SPSEL: *v = c->spsel; return true;
    case CURRENTEL: *v = (uint64_t)c->el << 2; return true;
    case NZCV: *v = c->nzcv & 0xf0000000u; return true;
    case DAIF: *v = c->daif & 0x3c0u; return true;
    case FPCR: *v = c->fpcr; return true;
    case FPSR: *v = c->fpsr; return true;
    case ISR_EL1: *v = (c->irq_line ? 1u << 7 : 0) | (c->fiq_line ? 1u << 6 : 0); return true;
    case RVBAR_EL1: case DISR_EL1: case ERRIDR_EL1: case ERRSELR_EL1: *v = 0; return true;
    case CNTKCTL_EL1: *v = c->cntkctl_el1; return true;
    case CNTFRQ_EL0: *v = ARM_CNTFRQ; return true;
    case CNTPCT_EL0: *v = arm_cntpct(c); return true;
    case CNTVCT_EL0: *v = arm_cntpct(c) - c->cntvoff_el2; return true;
    case MDRAR_EL1: *v = 0; return true; /* no memory-mapped debug */
    case OSLSR_EL1: *v = c->oslsr_el1; return true;
    case DBGPRCR_EL1: case DBGCLAIMSET_EL1: case DBGCLAIMCLR_EL1: *v = 0; return true;
    case DBGAUTHSTATUS_EL1: *v = 0; return true; /* debug disabled */
    case MDCCSR_EL0: case OSDTRRX_EL1: case OSDTRTX_EL1: case OSECCR_EL1: *v = 0; return true;
    default: return false;
    }
}

static bool read_reg(arm_cpu *c, unsigned key, uint64_t *v)
{
    uint64_t *p = plain_reg(c, key);
    int which, reg;

    if (p) {
        *v = *p;
        return true;
    }
    if (id_space(key)) {
        return read_id(c, key, v);
    }
    if (timer_reg(key, &which, &reg)) {
        *v = arm_timer_read(c, which, reg);
        return true;
    }
    if (pmu_space(key)) {
        *v = 0;
        return true;
    }
    return read_special(c, key, v) || dbg_reg_read(c, key, v);
}

#define TTBR_BADDR 0x0000ffffffffffffull

/* Writes that change translation flush the soft TLB, which tags no ASID.
 * A context switch (new TTBR0, or only a new ASID in TTBR1 as Linux
 * writes it) keeps the global kernel entries of the TTBR1 half. */
static bool write_mmu(arm_cpu *c, unsigned key, uint64_t v)
{
    uint64_t *r;

    switch (key) {
    case SCTLR_EL1: r = &c->sctlr_el1; break;
    case TTBR0_EL1: r = &c->ttbr0_el1; break;
    case TTBR1_EL1: r = &c->ttbr1_el1; break;
    case TCR_EL1: r = &c->tcr_el1; break;
    default: return false;
    }
    if (*r == v) {
        return true;
    }
    if (key == TTBR0_EL1 || (key == TTBR1_EL1 && !((*r ^ v) & TTBR_BADDR))) {
        arm_tlb_flush_asid(c);
    } else {
        arm_tlb_flush(c);
    }
    *r = v;
    return true;
}

static bool write_special(arm_cpu *c, unsigned key, uint64_t v)
{
    switch (key) {
    case CPACR_EL1: c->cpacr_el1 = v & 0x10300000u; return true; /* TTA, FPEN */
    case CSSELR_EL1: c->csselr_el1 = v & 0xf; return true;
    case SP_EL0: c->sp_el0 = v; return true;
    case SPSEL: c->spsel = v & 1; return true;
    case NZCV: c->nzcv = v & 0xf0000000u; return true;
    case DAIF: c->daif = v & 0x3c0u; return true;
    case FPCR: c->fpcr = v & FPCR_MASK; return true;
    case FPSR: c->fpsr = v & FPSR_MASK; return true;
    case CNTKCTL_EL1: c->cntkctl_el1 = v & 0x3ff; return true;
    case CNTFRQ_EL0: return true; /* fixed at 62.5 MHz: writes ignored */
    case OSLAR_EL1: c->oslsr_el1 = (c->oslsr_el1 & ~2ull) | (v & 1) << 1; return true;
    case DISR_EL1: case ERRSELR_EL1: return true;
    case DBGPRCR_EL1: case DBGCLAIMSET_EL1: case DBGCLAIMCLR_EL1: return true;
    case OSDTRRX_EL1: case OSDTRTX_EL1: case OSECCR_EL1: return true;
    default: return false;
    }
}

static bool write_reg(arm_cpu *c, unsigned key, uint64_t v)
{
    uint64_t *p = plain_reg(c, key);
    int which, reg;

    if (key == TPIDRRO_EL0 && c->el == 0) {
        return false;
    }
    if (p) {
        *p = v;
        return true;
    }
    if (timer_reg(key, &which, &reg)) {
        arm_timer_write(c, which, reg, v);
        return true;
    }
    if (pmu_space(key)) {
        return true;
    }
    return write_mmu(c, key, v) || write_special(c, key, v) || dbg_reg_write(c, key, v);
}

/* EL0 access (D17 per-register "accessibility"), with SCTLR_EL1 and
 * CNTKCTL_EL1 enables. Disabled-but-EL0-visible registers trap with
 * EC_SYSREG; so do ID registers, which Linux emulates for EL0. */
static int el0_access(arm_cpu *c, unsigned key, bool read)
{
    uint64_t k = c->cntkctl_el1;
    int which, reg;

    switch (key) {
    case NZCV: case FPCR: case FPSR: case TPIDR_EL0: return EL0_OK;
    case TPIDRRO_EL0: return read ? EL0_OK : EL0_UNDEF;
    case DAIF: return (c->sctlr_el1 & (1u << 9)) ? EL0_OK : EL0_TRAP; /* UMA */
    case CTR_EL0: return !read ? EL0_UNDEF : (c->sctlr_el1 & (1u << 15)) ? EL0_OK : EL0_TRAP;
    case DCZID_EL0: return read ? EL0_OK : EL0_UNDEF;
    case CNTFRQ_EL0: return !read ? EL0_UNDEF : (k & 3) ? EL0_OK : EL0_TRAP;
    case CNTPCT_EL0: return !read ? EL0_UNDEF : (k & 1) ? EL0_OK : EL0_TRAP;
    case CNTVCT_EL0: return !read ? EL0_UNDEF : (k & 2) ? EL0_OK : EL0_TRAP;
    default: break;
    }
    if (timer_reg(key, &which, &reg)) {
        return (k & (which == TIMER_PHYS ? 1u << 9 : 1u << 8)) ? EL0_OK : EL0_TRAP;
    }
    if (id_space(key)) {
        return read ? EL0_TRAP : EL0_UNDEF;
    }
    return EL0_UNDEF;
}

/* Neither ours nor claimed by an interrupt controller serving this vCPU's
 * system registers (host->cpu_set_sysregs: GICv3 ICC_*; key is the SDK's
 * TES_ARM_SYSREG encoding). */
static void unknown_reg(arm_cpu *c, unsigned key, bool read)
{
    H->log(TES_LOG_UNIMP, "cpu-arm: %s of system register op0=%u op1=%u CRn=%u CRm=%u op2=%u\n",
           read ? "MRS" : "MSR", KEY_OP0(key), KEY_OP1(key), KEY_CRN(key), KEY_CRM(key),
           KEY_OP2(key));
    arm_undef(c);
}

/* The registers Linux touches on every kernel entry and per-CPU access:
 * SP_EL0 (current task) and TPIDR_EL1 (per-CPU offset), at EL1. */
static bool hot_reg(arm_cpu *c, unsigned key, unsigned rt, bool read)
{
    uint64_t *p;

    if (key == SP_EL0 && c->spsel) {
        p = &c->sp_el0;
    } else if (key == TPIDR_EL1) {
        p = &c->tpidr_el1;
    } else {
        return false;
    }
    if (read) {
        set_zr(c, rt, *p);
    } else {
        *p = reg_zr(c, rt);
    }
    return true;
}

void a64_sysreg(arm_cpu *c, uint32_t insn)
{
    unsigned key = (insn >> 5) & 0xffff, rt = insn & 31;
    bool read = (insn & (1u << 21)) != 0;
    uint64_t v = 0;

    if (c->el == 1 && hot_reg(c, key, rt, read)) {
        return;
    }
    if (c->el == 0) {
        int a = el0_access(c, key, read);

        if (a == EL0_TRAP) {
            uint32_t iss = KEY_OP0(key) << 20 | KEY_OP2(key) << 17 | KEY_OP1(key) << 14 |
                           KEY_CRN(key) << 10 | rt << 5 | KEY_CRM(key) << 1 | (read ? 1 : 0);

            arm_exception(c, EC_SYSREG, iss, c->pc);
            return;
        }
        if (a == EL0_UNDEF) {
            arm_undef(c);
            return;
        }
    }
    /* FPCR/FPSR are FP state: CPACR_EL1.FPEN traps them (D17.2.30). */
    if ((key == FPCR || key == FPSR) && !arm_fp_access_ok(c)) {
        return;
    }
    /* MSR/MRS SP_EL0 while SP_EL0 is the current stack is UNDEFINED. */
    if (key == SP_EL0 && c->spsel == 0) {
        arm_undef(c);
        return;
    }
    if (read) {
        if (!read_reg(c, key, &v) && !H->cpu_sysreg_read(c->cpu, key, &v)) {
            unknown_reg(c, key, read);
            return;
        }
        set_zr(c, rt, v);
    } else if (!write_reg(c, key, reg_zr(c, rt)) &&
               !H->cpu_sysreg_write(c->cpu, key, reg_zr(c, rt))) {
        unknown_reg(c, key, read);
    }
}
