/*
 * cpu-x86: CPU identity and configuration: CPUID, MSRs, the TSC, the
 * power-on state (SDM Vol. 3, 9.1.1) and the 64-bit boot state the q35
 * loader asks for.
 *
 * Identity: AuthenticAMD family 15 model 107 stepping 1, as QEMU's
 * qemu64. Linux treats that family as not vulnerable to Meltdown (no page
 * table isolation, so no CR3 switch per system call) and reaches every
 * optional AMD MSR through rdmsr_safe. CPUID advertises exactly what the
 * plugin implements: the leaf 1 EDX set Linux needs (fpu pae msr cx8
 * cmov fxsr sse sse2 ...), SYSCALL, NX, LM, RDTSCP, LAHF/SAHF in 64-bit
 * mode, an invariant TSC, 40-bit physical and 48-bit virtual addresses.
 * "max" is the same set today.
 */
#include "x86sys.h"

#define TSC_PER_NS 2 /* a 2 GHz constant TSC */
#define CPUID_SIGNATURE 0x00060fb1u /* family 15 (0xf + 0), model 0x6b, stepping 1 */

/* Leaf 1 EDX: fpu de? no; pse tsc msr pae cx8 apic sep mtrr pge cmov pat
 * pse36 clflush mmx fxsr sse sse2 (SDM Vol. 2A, Table 3-11). */
#define L1_EDX ((1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | \
                (1u << 9) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 15) | (1u << 16) | \
                (1u << 17) | (1u << 19) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26))
/* Leaf 0x80000001 EDX: AMD mirrors leaf 1 bits 0..17, 23, 24; plus
 * syscall (11), nx (20), rdtscp (27), lm (29). */
#define XL1_EDX ((L1_EDX & 0x0183f3ffu) | (1u << 11) | (1u << 20) | (1u << 27) | (1u << 29))
#define XL1_ECX_LAHF (1u << 0)

static const char brand[48] = "tessera x86-64 CPU";

uint64_t x86_rdtsc(x86_cpu *c)
{
    return (uint64_t)H->clock_ns() * TSC_PER_NS + c->tsc_offset;
}

static void put_str(uint32_t out[4], const char *s)
{
    memcpy(out, s, 16);
}

/* ---- topology (-smp sockets=,dies=,cores=,threads=) ----
 *
 * As QEMU lays it out (its x86 apicid helpers): the APIC ID is the thread
 * number in the low bits, then the core, then the die, then the socket,
 * each field as wide as its count needs (cores=3 takes 2 bits, so APIC
 * IDs have gaps). CPUID says so in leaf 1 (logical processors per package,
 * HTT), leaf 4 (cores per package), leaf 0xB/0x1F (x2APIC topology:
 * shift and count per level), and AMD's 0x80000001 CmpLegacy and
 * 0x80000008 ECX (threads per package, APIC ID bits of the package).
 * Linux 6.1 on an AMD family 15 CPU without TOPOEXT takes sockets and
 * cores from 0x80000008 (threads count as cores there, on QEMU's qemu64
 * too); Intel-style parsers read 0xB/0x1F. No -smp topology: one CPU per
 * package, as before. */
typedef struct x86_topo {
    unsigned threads, cores, dies;
    unsigned smt_bits, core_bits, die_bits;
} x86_topo;

static unsigned order(unsigned n)
{
    unsigned b = 0;

    while ((1u << b) < n) {
        b++;
    }
    return b;
}

static x86_topo topo_get(void)
{
    const tes_topology *t = NULL;
    x86_topo x = {1, 1, 1, 0, 0, 0};

    if (H->size >= offsetof(tes_host, machine_topology) + sizeof(void *) &&
        H->machine_topology) {
        t = H->machine_topology();
    }
    if (t && t->threads && t->cores && t->dies) {
        x.threads = t->threads;
        x.cores = t->cores * t->clusters; /* no module level: clusters are cores */
        x.dies = t->dies;
    }
    x.smt_bits = order(x.threads);
    x.core_bits = order(x.cores);
    x.die_bits = order(x.dies);
    return x;
}

uint32_t x86_topo_apic_id(unsigned index)
{
    const tes_topology *t = NULL;

    if (H->size >= offsetof(tes_host, machine_topology) + sizeof(void *) &&
        H->machine_topology) {
        t = H->machine_topology();
    }
    return t && t->threads && t->cores && t->dies && t->clusters
               ? tes_topology_x86_apic_id(t, index) : index;
}

static bool topoext(const x86_topo *x)
{
    return x->threads > 1 && x->dies == 1;
}

static unsigned per_pkg(const x86_topo *x)
{
    return x->threads * x->cores * x->dies;
}

/* Leaf 0xB (levels SMT, core) and 0x1F (SMT, core, die): EAX the shift to
 * the next level's ID, EBX the logical processors at this level, ECX the
 * level number and type (1 SMT, 2 core, 5 die; 0 invalid), EDX the x2APIC
 * ID (SDM Vol. 2A, CPUID leaf 0BH and 1FH). */
static void cpuid_levels(x86_cpu *c, uint32_t sub, bool with_die, uint32_t out[4])
{
    x86_topo x = topo_get();
    unsigned shift[3] = {x.smt_bits, x.smt_bits + x.core_bits,
                         x.smt_bits + x.core_bits + x.die_bits};
    unsigned count[3] = {x.threads, x.threads * x.cores, per_pkg(&x)};
    static const unsigned type[3] = {1, 2, 5};
    unsigned levels = with_die ? 3 : 2;

    out[3] = c->apic_id;
    out[2] = sub & 0xff;
    if (sub >= levels) {
        return;
    }
    out[0] = shift[sub];
    out[1] = count[sub] & 0xffff;
    out[2] |= type[sub] << 8;
}

static void cpuid_basic(x86_cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    x86_topo x = topo_get();
    unsigned n = per_pkg(&x);

    switch (leaf) {
    case 0:
        /* 0x1F only with dies, as QEMU; leaves 2..0xA read as zero (no
         * feature of theirs is advertised). */
        out[0] = x.dies > 1 ? 0x1f : 0xb;
        memcpy(&out[1], "Auth", 4);
        memcpy(&out[3], "enti", 4);
        memcpy(&out[2], "cAMD", 4);
        break;
    case 1:
        out[0] = CPUID_SIGNATURE;
        /* APIC ID, logical processors per package, CLFLUSH line 8 * 8. */
        out[1] = (c->apic_id << 24) | ((n < 255 ? n : 255u) << 16) | (8u << 8);
        out[2] = 0;
        out[3] = L1_EDX | (n > 1 ? 1u << 28 : 0); /* HTT */
        break;
    case 4:
        /* No cache described (type 0 ends the list), cores per package
         * in EAX[31:26] as QEMU gives it. */
        out[0] = (x.cores * x.dies - 1) << 26;
        break;
    case 0xb:
        cpuid_levels(c, sub, false, out);
        break;
    case 0x1f:
        cpuid_levels(c, sub, x.dies > 1, out);
        break;
    default:
        break;
    }
}

static void cpuid_ext(x86_cpu *c, uint32_t leaf, uint32_t out[4])
{
    x86_topo x = topo_get();

    switch (leaf) {
    case 0x80000000:
        out[0] = topoext(&x) ? 0x8000001e : 0x80000008;
        memcpy(&out[1], "Auth", 4);
        memcpy(&out[3], "enti", 4);
        memcpy(&out[2], "cAMD", 4);
        break;
    case 0x80000001:
        out[0] = CPUID_SIGNATURE;
        /* CmpLegacy with more than one logical processor a package, as
         * QEMU sets it for AMD models. */
        out[2] = XL1_ECX_LAHF | (per_pkg(&x) > 1 ? 1u << 1 : 0) |
                 (topoext(&x) ? 1u << 22 : 0); /* TOPOEXT */
        out[3] = XL1_EDX;
        break;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004:
        put_str(out, brand + 16 * (leaf - 0x80000002));
        break;
    case 0x80000005:
        /* L1 caches: 64 KiB, 2-way, 1 line per tag, 64-byte lines. */
        out[2] = out[3] = (64u << 24) | (2u << 16) | (1u << 8) | 64u;
        break;
    case 0x80000006:
        /* L2: 512 KiB, 16-way, 64-byte lines. */
        out[2] = (512u << 16) | (0x8u << 12) | (1u << 8) | 64u;
        break;
    case 0x80000007:
        out[3] = 1u << 8; /* invariant TSC */
        break;
    case 0x80000008:
        out[0] = 0x3028; /* 48-bit linear, 40-bit physical */
        /* ECX: APIC ID bits of the package (15:12), threads a package - 1
         * (7:0); 0 for one. */
        if (per_pkg(&x) > 1) {
            out[2] = (x.smt_bits + x.core_bits + x.die_bits) << 12 | (per_pkg(&x) - 1);
        }
        break;
    default:
        break;
    }
}

/* AMD's topology extensions, advertised (TOPOEXT) only with threads > 1
 * and one die a package (Linux 6.1 then put every thread of a die on one
 * core: with dies the threads count as cores, as on qemu64):
 * without them Linux takes every thread for a core (as on QEMU's qemu64);
 * with them it reads the SMT level from 0x8000001E and leaf 0xB/0x1F.
 * 0x8000001D describes no cache (type 0 ends the list). 0x8000001E: EAX
 * the extended APIC ID, EBX threads a core - 1 (15:8) and the core ID
 * (7:0), ECX nodes a package - 1 (10:8) and the node (die) ID (AMD APM
 * Vol. 3, E.4.23). */
static void cpuid_topoext(x86_cpu *c, uint32_t leaf, uint32_t out[4])
{
    x86_topo x = topo_get();
    uint32_t id = c->apic_id;
    uint32_t core = (id >> x.smt_bits) & ((1u << x.core_bits) - 1);
    uint32_t node = id >> (x.smt_bits + x.core_bits);

    if (!topoext(&x) || leaf != 0x8000001e) {
        return;
    }
    out[0] = id;
    out[1] = (x.threads - 1) << 8 | (core & 0xff);
    out[2] = (x.dies - 1) << 8 | (node & 0xff);
}

void x86_cpuid(x86_cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    out[0] = out[1] = out[2] = out[3] = 0;
    if (leaf >= 0x8000001du) {
        cpuid_topoext(c, leaf, out);
    } else if (leaf >= 0x80000000u) {
        cpuid_ext(c, leaf, out);
    } else {
        cpuid_basic(c, leaf, sub, out);
    }
}

/* ---- MSRs ---- */

enum {
    MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_UCODE_REV = 0x8b, MSR_MTRRCAP = 0xfe,
    MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176,
    MSR_MCG_CAP = 0x179, MSR_MCG_STATUS = 0x17a, MSR_MISC_ENABLE = 0x1a0,
    MSR_MTRR_VAR = 0x200, MSR_MTRR_FIX64K = 0x250, MSR_MTRR_FIX16K_80 = 0x258,
    MSR_MTRR_FIX16K_A0 = 0x259, MSR_MTRR_FIX4K = 0x268, MSR_PAT = 0x277, MSR_MTRR_DEF = 0x2ff,
    MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
    MSR_CSTAR = 0xc0000083, MSR_SFMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100,
    MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103,
    MSR_AMD_SYSCFG = 0xc0010010, MSR_AMD_INT_PENDING = 0xc0010055,
};

#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)

/* Index into mtrr_fixed[], -1 if msr is not a fixed-range MTRR. */
static int mtrr_fixed_index(uint32_t msr)
{
    if (msr == MSR_MTRR_FIX64K) {
        return 0;
    }
    if (msr == MSR_MTRR_FIX16K_80 || msr == MSR_MTRR_FIX16K_A0) {
        return 1 + (int)(msr - MSR_MTRR_FIX16K_80);
    }
    if (msr >= MSR_MTRR_FIX4K && msr < MSR_MTRR_FIX4K + 8) {
        return 3 + (int)(msr - MSR_MTRR_FIX4K);
    }
    return -1;
}

/* The MSRs whose value is a plain field of x86_cpu. */
static uint64_t *msr_field(x86_cpu *c, uint32_t msr)
{
    int fix = mtrr_fixed_index(msr);

    if (fix >= 0) {
        return &c->mtrr_fixed[fix];
    }
    if (msr >= MSR_MTRR_VAR && msr < MSR_MTRR_VAR + 16) {
        return &c->mtrr_var[msr - MSR_MTRR_VAR];
    }
    switch (msr) {
    case MSR_SYSENTER_CS: return &c->sysenter_cs;
    case MSR_SYSENTER_ESP: return &c->sysenter_esp;
    case MSR_SYSENTER_EIP: return &c->sysenter_eip;
    case MSR_MCG_STATUS: return &c->mcg_status;
    case MSR_MISC_ENABLE: return &c->misc_enable;
    case MSR_PAT: return &c->pat;
    case MSR_MTRR_DEF: return &c->mtrr_def_type;
    case MSR_STAR: return &c->star;
    case MSR_LSTAR: return &c->lstar;
    case MSR_CSTAR: return &c->cstar;
    case MSR_SFMASK: return &c->sfmask;
    case MSR_FS_BASE: return &c->seg[S_FS].base;
    case MSR_GS_BASE: return &c->seg[S_GS].base;
    case MSR_KERNEL_GS_BASE: return &c->kernel_gs_base;
    case MSR_TSC_AUX: return &c->tsc_aux;
    case MSR_APIC_BASE: return &c->apic_base;
    default: return NULL;
    }
}

bool x86_rdmsr(x86_cpu *c, uint32_t msr, uint64_t *val)
{
    uint64_t *f = msr_field(c, msr);

    if (f) {
        *val = *f;
        return true;
    }
    switch (msr) {
    case MSR_TSC:
        *val = x86_rdtsc(c);
        return true;
    case MSR_MTRRCAP:
        *val = c->mtrr_cap;
        return true;
    case MSR_EFER:
        *val = c->efer;
        return true;
    case MSR_UCODE_REV:
    case MSR_MCG_CAP:
    case MSR_AMD_SYSCFG: /* Linux's K8 MTRR code reads it without _safe */
    case MSR_AMD_INT_PENDING: /* so does its E400 check: no C1E here */
        *val = 0;
        return true;
    default:
        H->log(TES_LOG_UNIMP, "cpu-x86: rdmsr 0x%x: unknown MSR (#GP)\n", msr);
        return false;
    }
}

static bool wr_efer(x86_cpu *c, uint64_t v)
{
    if (v & ~(uint64_t)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) {
        return false;
    }
    /* LME may not change while paging is on; LMA is read-only. */
    if (((v ^ c->efer) & EFER_LME) && (c->cr0 & CR0_PG)) {
        return false;
    }
    v = (v & ~(uint64_t)EFER_LMA) | (c->efer & EFER_LMA);
    if ((v ^ c->efer) & EFER_NXE) {
        x86_tlb_flush(c, false);
    }
    c->efer = v;
    x86_update_mode(c);
    return true;
}

/* Each PAT entry must name a memory type (0, 1, 4, 5, 6, 7). */
static bool pat_valid(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        unsigned t = (v >> (8 * i)) & 0xff;

        if (t == 2 || t == 3 || t > 7) {
            return false;
        }
    }
    return true;
}

/* Checks before a plain field is written. */
static bool field_value_ok(x86_cpu *c, uint32_t msr, uint64_t v)
{
    switch (msr) {
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP:
        return is_canonical(v);
    case MSR_SFMASK:
    case MSR_TSC_AUX:
        return (v >> 32) == 0;
    case MSR_PAT:
        return pat_valid(v);
    case MSR_APIC_BASE:
        /* x2APIC is not advertised; the BSP flag is read-only. */
        return !(v & (APIC_BASE_EXTD | 0x2ffull | ~0xffffffffffull)) &&
               ((v ^ c->apic_base) & APIC_BASE_BSP) == 0;
    default:
        return true;
    }
}

bool x86_wrmsr(x86_cpu *c, uint32_t msr, uint64_t v)
{
    uint64_t *f = msr_field(c, msr);

    if (f) {
        if (!field_value_ok(c, msr, v)) {
            H->log(TES_LOG_GUEST_ERROR, "cpu-x86: wrmsr 0x%x = 0x%llx: invalid (#GP)\n", msr,
                   (unsigned long long)v);
            return false;
        }
        *f = v;
        return true;
    }
    switch (msr) {
    case MSR_TSC:
        c->tsc_offset = v - (uint64_t)H->clock_ns() * TSC_PER_NS;
        return true;
    case MSR_EFER:
        return wr_efer(c, v);
    case MSR_UCODE_REV:
    case MSR_AMD_SYSCFG: /* no DRAM/MTRR modifier bits to honour */
        return true;
    default:
        H->log(TES_LOG_UNIMP, "cpu-x86: wrmsr 0x%x = 0x%llx: unknown MSR (#GP)\n", msr,
               (unsigned long long)v);
        return false;
    }
}

/* ---- reset and boot state ---- */

static void reset_segs(x86_cpu *c)
{
    for (int s = S_ES; s <= S_GS; s++) {
        c->seg[s] = (x86_seg){ .sel = 0, .base = 0, .limit = 0xffff, .attr = 0x93 };
    }
    /* CS = F000, base FFFF0000: the first fetch is at FFFFFFF0. */
    c->seg[S_CS] = (x86_seg){ .sel = 0xf000, .base = 0xffff0000ull, .limit = 0xffff, .attr = 0x9b };
    c->seg[S_LDTR] = (x86_seg){ .sel = 0, .base = 0, .limit = 0xffff, .attr = 0x82 };
    c->seg[S_TR] = (x86_seg){ .sel = 0, .base = 0, .limit = 0xffff, .attr = 0x8b };
    c->gdt_base = c->idt_base = 0;
    c->gdt_limit = c->idt_limit = 0xffff;
}

static void reset_msrs(x86_cpu *c)
{
    c->star = c->lstar = c->cstar = c->sfmask = c->kernel_gs_base = 0;
    c->sysenter_cs = c->sysenter_esp = c->sysenter_eip = 0;
    c->apic_base = 0xfee00000ull | APIC_BASE_EN | (c->index == 0 ? APIC_BASE_BSP : 0);
    c->tsc_offset = -(uint64_t)H->clock_ns() * TSC_PER_NS; /* the TSC restarts at 0 */
    c->pat = 0x0007040600070406ull;
    c->misc_enable = 1; /* fast strings */
    c->tsc_aux = 0;
    c->mtrr_cap = 0x508; /* 8 variable ranges, fixed ranges, WC */
    c->mtrr_def_type = 0;
    memset(c->mtrr_fixed, 0, sizeof(c->mtrr_fixed));
    memset(c->mtrr_var, 0, sizeof(c->mtrr_var));
    c->mcg_status = 0;
}

void x86_cpu_reset(x86_cpu *c)
{
    memset(c->regs, 0, sizeof(c->regs));
    c->regs[R_EDX] = CPUID_SIGNATURE;
    c->rip = c->next_rip = 0xfff0;
    x86_set_flags(c, 2);
    reset_segs(c);
    c->cr0 = 0x60000010ull; /* CD NW ET */
    c->cr2 = c->cr3 = c->cr4 = c->cr8 = 0;
    c->efer = 0;
    memset(c->dr, 0, sizeof(c->dr));
    c->dr[6] = 0xffff0ff0ull;
    c->dr[7] = 0x400;
    reset_msrs(c);
    x86_fpu_reset(c);
    c->nmi_pending = c->nmi_blocked = false;
    c->inhibit_irq = c->halted_req = c->fault = c->triple_fault = false;
    c->wait_sipi = c->index != 0;
    c->exc_depth = 0;
    c->exc_vec = -1;
    c->exc_ext = false;
    x86_update_mode(c);
    x86_tlb_flush(c, false);
    x86_apic_init_cpu(c);
}

/* A code or data segment register from the GDT image in guest memory. */
static void boot_seg(x86_cpu *c, int seg, uint16_t sel)
{
    uint64_t d = 0;

    if ((sel & ~7u) + 7 > c->gdt_limit ||
        H->as_read(H->system_memory(), c->gdt_base + (sel & ~7u), &d, 8) != TES_MEM_OK) {
        H->log(TES_LOG_GUEST_ERROR, "cpu-x86: boot selector 0x%x outside the GDT\n", sel);
    }
    desc_to_seg(&c->seg[seg], sel, d);
}

void x86_setup_long_mode(x86_cpu *c, uint64_t cr3, uint64_t gdt_base, uint16_t gdt_limit,
                         uint16_t cs_sel, uint16_t ds_sel)
{
    c->gdt_base = gdt_base;
    c->gdt_limit = gdt_limit;
    c->cr3 = cr3;
    c->cr4 = CR4_PAE;
    c->efer = EFER_LME | EFER_LMA;
    c->cr0 = CR0_PE | CR0_ET | CR0_PG;
    boot_seg(c, S_CS, cs_sel);
    boot_seg(c, S_DS, ds_sel);
    boot_seg(c, S_ES, ds_sel);
    boot_seg(c, S_SS, ds_sel);
    seg_null(&c->seg[S_FS], 0);
    seg_null(&c->seg[S_GS], 0);
    c->cpl = 0;
    c->wait_sipi = false;
    c->halted_req = false;
    x86_update_mode(c);
    x86_tlb_flush(c, false);
}
