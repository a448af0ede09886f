/*
 * cpu-x86: shared definitions of the x86-64 CPU, its platform devices
 * (LAPIC, IOAPIC, 8259, 8254, CMOS RTC, 8250, i8042, ACPI PM) and the q35
 * machine. Internal to the plugin (not SDK).
 *
 * Execution: exec() decodes and runs one instruction at a time (decode.c
 * and the exec-*.c files), with the decoded prefix/ModRM/SIB/displacement/
 * immediate state in an x86_insn. Control flow: before an instruction
 * runs, c->next_rip = address after it (decode sets it); jumps set
 * c->next_rip. An instruction that faults calls x86_exception() (or one of
 * the x86_raise_* helpers), which delivers the exception through the IDT
 * (or records a triple fault) and sets c->next_rip to the handler, and
 * returns; the handler must then return at once without further state
 * change (use `if (c->fault) return;` after every memory access). After
 * each instruction the loop does c->rip = c->next_rip and clears c->fault.
 */
#ifndef CPU_X86_H
#define CPU_X86_H

#include <stdint.h>
#include <string.h>
#include <tessera/tessera.h>

#include "../cpu-common/gdb-points.h"

extern const tes_host *x86_host; /* set by the plugin's init */
#define H x86_host

/* ---- registers ---- */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI,
       R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15 };
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_LDTR, S_TR, S_NONE = -1 };

/* RFLAGS bits */
#define F_CF 0x0001
#define F_PF 0x0004
#define F_AF 0x0010
#define F_ZF 0x0040
#define F_SF 0x0080
#define F_TF 0x0100
#define F_IF 0x0200
#define F_DF 0x0400
#define F_OF 0x0800
#define F_IOPL 0x3000
#define F_NT 0x4000
#define F_RF 0x10000
#define F_VM 0x20000
#define F_AC 0x40000
#define F_VIF 0x80000
#define F_VIP 0x100000
#define F_ID 0x200000
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* CR0/CR4/EFER bits */
#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_PGE (1u << 7)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

/* Exception vectors */
enum { EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
       EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
       EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19 };

/* Segment descriptor cache. attr packs descriptor bits 40..47 (type:4 S:1
 * DPL:2 P:1) into bits 0..7 and bits 52..55 (AVL L D/B G) into bits 8..11:
 * attr = ((desc_hi >> 8) & 0xff) | ((desc_hi >> 12) & 0xf00). */
typedef struct x86_seg {
    uint16_t sel;
    uint64_t base;
    uint32_t limit; /* byte granular (G already applied) */
    uint16_t attr;
} x86_seg;
#define SEG_ATTR_P 0x80
#define SEG_ATTR_S 0x10
#define SEG_ATTR_L 0x200
#define SEG_ATTR_DB 0x400
#define SEG_ATTR_G 0x800
#define SEG_DPL(attr) (((attr) >> 5) & 3)

typedef union xmm_reg {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t l[4];
    uint64_t q[2];
    float f[4];
    double d[2];
} xmm_reg;

/* Soft TLB (mmu.c): host pointers for RAM pages of the current CR3, per
 * access kind and privilege (index [user]). Flushed on CR3 writes
 * (global entries kept when CR4.PGE), INVLPG, CR0/CR4 paging changes and
 * when the core's memory map generation changes. */
#define X86_TLB_BITS 10
#define X86_TLB_SIZE (1u << X86_TLB_BITS)

typedef struct x86_tlb_entry {
    uint64_t va_tag; /* page VA | 1 when valid */
    uint8_t *host;   /* NULL: MMIO or code, use the slow path */
    uint64_t pa;     /* page PA | X86_TLB_GLOBAL (32-byte entries) */
    /* Write entries of RAM pages holding translated code: host is NULL
     * (so every store takes the slow path) and ram the page, whose
     * stores then invalidate the translations (translate.c). */
    uint8_t *ram;
} x86_tlb_entry;
#define X86_TLB_GLOBAL 1ull /* in pa: a global page (CR4.PGE, PTE.G) */
_Static_assert(sizeof(x86_tlb_entry) == 32, "translated code indexes 32-byte entries");

/* Local APIC state (apic.c); c->lapic. Public so tests and CR8 can read it. */
typedef struct x86_lapic {
    struct x86_cpu *cpu;
    uint32_t id, tpr, ldr, dfr, svr, esr, icr_lo, icr_hi;
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t lvt[6]; /* timer, thermal, perf, LINT0, LINT1, error (in that order) */
    uint32_t timer_initial, timer_divide;
    int64_t timer_start; /* virtual ns when the count was (re)loaded */
    tes_timer *timer;
    bool extint;   /* an ExtINT delivered (IOAPIC/IPI): take the 8259's vector */
    bool from_pic; /* the last x86_apic_pending() result came from the 8259 */
    bool intr;     /* level of the CPU's INTR input (the 8259's INT) */
} x86_lapic;

typedef struct x86_cpu {
    tes_cpu *cpu;
    unsigned index;
    uint32_t apic_id;

    uint64_t regs[16];
    uint64_t rip, next_rip;
    /* RFLAGS: arithmetic flags are kept lazily (decode/flags.c): the
     * value of the last flag-setting operation is in cc_* and
     * x86_get_flags() computes them; other bits live in eflags. */
    uint64_t eflags;
    int64_t cc_op; /* 64 bits: translated code keeps it in a host register */
    uint64_t cc_dst, cc_src, cc_src2;

    x86_seg seg[8];     /* ES CS SS DS FS GS LDTR TR */
    uint64_t gdt_base, idt_base;
    uint16_t gdt_limit, idt_limit;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t dr[8];
    int cpl;
    /* Derived from CS/EFER/CR0 on every mode change (x86_update_mode):
     * 16, 32 or 64 for the default operand/address size and long mode. */
    int code_bits;
    bool long_mode;     /* EFER.LMA */
    bool stack32;       /* SS.B */

    /* MSRs */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base, tsc_offset, pat, misc_enable, tsc_aux;
    uint64_t mtrr_cap, mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
    uint64_t mcg_status;

    /* x87 (the host's long double is the same 80-bit format) */
    long double st[8];
    uint16_t fpuc, fpus, fptag; /* fptag: 2 bits per register, 3 = empty */
    int fpstt;                  /* top of stack */
    uint64_t fpip, fpdp;
    uint16_t fpop;
    /* SSE */
    xmm_reg xmm[16];
    uint32_t mxcsr;

    /* Interrupts (excp.c): LAPIC gives vectors; INTR line level for the
     * 8259 in virtual-wire mode goes through the LAPIC LINT0. */
    struct x86_lapic *lapic;
    bool nmi_pending;
    bool inhibit_irq;   /* one-instruction shadow after STI / MOV SS */
    bool halted_req;    /* HLT executed: exec() returns TES_EXEC_HALT */
    bool wait_sipi;     /* after INIT: halted until a SIPI */
    bool fault;         /* an exception was delivered by this instruction */
    int exc_depth;      /* nested delivery (double/triple fault) */

    uint64_t insn_count;
    x86_tlb_entry tlb_r[2][X86_TLB_SIZE], tlb_w[2][X86_TLB_SIZE], tlb_x[2][X86_TLB_SIZE];
    uint64_t tlb_gen;

    /* x86sys (excp.c, mmu.c) */
    bool nmi_blocked;   /* an NMI handler runs: no NMI until the next IRET */
    bool triple_fault;  /* shutdown state: parked (wait_sipi) until reset */
    int exc_vec;        /* event being delivered, -1 none (#DF classes) */
    bool exc_ext;       /* it was external or an exception: EXT in error codes */
    bool tlb_large;     /* the TLB holds parts of large pages (INVLPG) */
    /* x86core: set by code that writes CR/EFER/segment state directly
     * (instruction tests, migration post_load): x86_run then calls
     * x86_update_mode() and flushes the TLB before running. */
    bool state_dirty;
    /* x86core: true for the "max" model (set at creation, kept across
     * reset): CPUID decides the features from it. */
    bool model_max;

    /* x86jit (translate.c): the generated code reads budget and exit
     * request at block entry; jit_stop: a fallback's store reached code
     * or MMIO (leave after it); jit_interp: an inline store would have
     * (the loop runs that instruction in the interpreter). */
    bool jit;            /* property "jit": translate, else interpret */
    uint32_t tb_size;    /* property "tb-size": code buffer MiB */
    int32_t jit_exit;
    int32_t jit_stop;
    int32_t jit_interp;  /* run the next instruction in the interpreter */
    int64_t jit_budget;
    uint64_t jit_flags;  /* the key flags of the block running */
    uint64_t jit_scratch; /* a generator global carrying a value over labels */
    struct tes_jit_jc *jc;
    /* Where c->lapic points once the CPU is realized: inside the CPU so
     * that its registers migrate in the CPU's field table (state v2). */
    x86_lapic lapic_mem;

    /* Added by gdb17 (debug.c): the debugger's breakpoints (rip values)
     * and watchpoints (linear addresses), and why exec() last returned
     * TES_EXEC_DEBUG. Not architectural: kept across reset. */
    gdb_points gdb;
} x86_cpu;

/* ---- debug.c: the debugger's points (tes_cpu_ops.debug_point) ---- */
int x86_debug_point(x86_cpu *c, int kind, bool insert, uint64_t addr, uint64_t len);
bool x86_debug_translate(x86_cpu *c, uint64_t va, bool write, uint64_t *pa);

/* Decoded instruction (decode.c). */
typedef struct x86_insn {
    uint64_t start;       /* linear RIP of the first byte */
    uint8_t len;
    uint8_t opsize;       /* 2, 4, 8 */
    uint8_t addrsize;     /* 2, 4, 8 */
    int8_t seg;           /* segment override or S_NONE */
    bool rep, repne, lock;
    uint8_t rex;          /* 0 if none */
    bool has_rex;
    uint16_t op;          /* opcode: 0x00..0xff, 0x0f00 | byte for 0F xx,
                           * 0x3800 | byte for 0F 38 xx, 0x3a00 | byte for 0F 3A xx */
    uint8_t mandatory;    /* 0, 0x66, 0xf2, 0xf3 (SSE mandatory prefix) */
    bool has_modrm;
    uint8_t mod, reg, rm; /* reg and rm include REX.R / REX.B extension */
    bool rm_is_mem;
    uint64_t ea;          /* effective address (offset within segment) */
    bool rip_relative;
    uint64_t imm, imm2;   /* immediates (sign-extended as the opcode says) */
    uint64_t disp;
} x86_insn;

/* ---- exec loop and decode (decode.c, exec-int.c) ---- */
tes_exec_status x86_run(x86_cpu *c, uint64_t budget, uint64_t *executed);
/* Decode and execute one instruction at c->rip (tests use it). */
void x86_step(x86_cpu *c);
/* Arithmetic flags from the lazy state; set them all at once. */
uint64_t x86_get_flags(x86_cpu *c);
void x86_set_flags(x86_cpu *c, uint64_t rflags);

/* ---- the translator (translate.c, x86-jit*.c) ---- */
/* True when c may run translated code (the JIT exists or was made now). */
bool x86_jit_ready(x86_cpu *c);
/* x86_run with translated blocks; *n gets the instructions run. */
tes_exec_status x86_run_jit(x86_cpu *c, uint64_t budget, uint64_t *n);
/* Drop c's translation state (unrealize). */
void x86_jit_release(x86_cpu *c);
/* State or RAM written behind the CPU's back (tests, migration): drop
 * every translation. */
void x86_jit_state_written(x86_cpu *c);
/* The write TLB asks whether a host page holds translated code. */
bool x86_jit_page_has_code(const void *host_page);
/* The soft TLB was flushed (whole or a page): the jump cache goes too. */
void x86_jit_tlb_flushed(x86_cpu *c);
void x86_jit_tlb_flushed_page(x86_cpu *c, uint64_t la);
/* A store reached RAM with translated code at host[0, len). */
void x86_jit_code_written(x86_cpu *c, const void *host, size_t len);
/* An interrupt became pending for c: translated code must leave soon. */
static inline void x86_jit_kick(x86_cpu *c)
{
    __atomic_store_n(&c->jit_exit, 1, __ATOMIC_RELAXED);
}

/* ---- x87 and SSE (fpu.c, sse.c) ---- */
/* Opcodes D8..DF with x->mod/reg/rm decoded. */
void x86_exec_x87(x86_cpu *c, x86_insn *x);
/* 0F-prefixed SSE/SSE2/MMX opcodes (incl. 0F 38/3A if advertised),
 * FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, EMMS. Returns false if the opcode is
 * not an SSE/MMX one (the caller then raises #UD). */
bool x86_exec_sse(x86_cpu *c, x86_insn *x);
void x86_fpu_reset(x86_cpu *c);

/* ---- system (excp.c, seg.c, sys.c) ---- */
/* Deliver exception vec (with error code when has_err) through the IDT,
 * for real, protected and long mode; double/triple fault escalation. */
void x86_exception(x86_cpu *c, int vec, bool has_err, uint32_t err);
static inline void x86_raise_ud(x86_cpu *c) { x86_exception(c, EXC_UD, false, 0); }
static inline void x86_raise_gp(x86_cpu *c, uint32_t err) { x86_exception(c, EXC_GP, true, err); }
/* An external interrupt / NMI (called by x86_run when allowed). */
void x86_interrupt(x86_cpu *c, int vec);
/* INT n / INT3 / INTO (software: privilege checks, return address after). */
void x86_soft_int(x86_cpu *c, int vec);
void x86_iret(x86_cpu *c, int opsize);
/* Far control transfer and segment loads with protected-mode checks. */
bool x86_load_seg(x86_cpu *c, int seg, uint16_t sel); /* false: faulted */
void x86_far_jmp(x86_cpu *c, uint16_t sel, uint64_t off);
void x86_far_call(x86_cpu *c, uint16_t sel, uint64_t off, int opsize);
void x86_far_ret(x86_cpu *c, int opsize, uint16_t pop);
void x86_update_mode(x86_cpu *c); /* after CS/CR0/EFER changes */
/* Privileged and system instructions: MOV CRn/DRn, LGDT/LIDT/SGDT/SIDT,
 * LLDT/LTR/SLDT/STR, LMSW/SMSW, CLTS, INVLPG, WBINVD/INVD, RDMSR/WRMSR,
 * CPUID, RDTSC/RDTSCP, SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS, HLT,
 * IN/OUT (with IOPL checks), LAR/LSL/VERR/VERW, XGETBV (if advertised). */
void x86_exec_system(x86_cpu *c, x86_insn *x);
void x86_cpu_reset(x86_cpu *c); /* power-on state: real mode at F000:FFF0 */
uint64_t x86_rdtsc(x86_cpu *c);
void x86_cpuid(x86_cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4]);
/* The APIC ID of vCPU index in the -smp topology (QEMU's layout). */
uint32_t x86_topo_apic_id(unsigned index);
bool x86_rdmsr(x86_cpu *c, uint32_t msr, uint64_t *val); /* false: #GP */
bool x86_wrmsr(x86_cpu *c, uint32_t msr, uint64_t val);

/* ---- memory (mmu.c) ---- */
/* Linear-address accesses (segmentation already applied: seg base added
 * and limits checked by the caller's x86_seg_addr). Sizes 1,2,4,8,10,16.
 * false when a fault was delivered (#PF with CR2, or #GP/#SS). */
bool x86_read(x86_cpu *c, uint64_t la, void *buf, unsigned size, bool user);
bool x86_write(x86_cpu *c, uint64_t la, const void *buf, unsigned size, bool user);
bool x86_fetch(x86_cpu *c, uint64_t la, void *buf, unsigned size);
/* The checks and faults of x86_write without writing; *direct: every
 * byte is RAM with a host pointer (not MMIO, not a code page). */
bool x86_probe_write(x86_cpu *c, uint64_t la, unsigned size, bool user, bool *direct);
/* Segment:offset to linear with limit/permission checks (#GP/#SS). */
bool x86_seg_addr(x86_cpu *c, int seg, uint64_t off, unsigned size, bool write,
                  uint64_t *la);
/* Convenience: read/write at seg:off with the CPL's privilege. */
bool x86_mem_read(x86_cpu *c, int seg, uint64_t off, void *buf, unsigned size);
bool x86_mem_write(x86_cpu *c, int seg, uint64_t off, const void *buf, unsigned size);
void x86_tlb_flush(x86_cpu *c, bool keep_global);
void x86_tlb_flush_page(x86_cpu *c, uint64_t la);
/* Port I/O through the core's I/O address space. */
uint64_t x86_io_read(x86_cpu *c, uint16_t port, unsigned size);
void x86_io_write(x86_cpu *c, uint16_t port, uint64_t val, unsigned size);

/* ---- the local APIC (apic.c); the platform devices are plugins of their
 * own (plugins/pc-platform), reached through the SDK ---- */
/* LAPIC of a CPU (xAPIC MMIO at APIC_BASE, default 0xfee00000; x2APIC not
 * advertised). Interrupt delivery from the IOAPIC/MSI: */
void x86_apic_deliver(uint32_t dest, bool logical, int delivery_mode, int vector,
                      bool level, bool trigger_level);
/* Highest-priority pending interrupt the CPU may take now (-1 none);
 * x86_apic_ack marks it in service. */
int x86_apic_pending(x86_cpu *c);
void x86_apic_ack(x86_cpu *c, int vec);
void x86_apic_init_cpu(x86_cpu *c);
/* The 8259 pair's INT output drives the BSP's INTR input (LINT0, ExtINT;
 * cpu_set_irq(TES_X86_INTR)); the CPU asks whoever serves
 * TES_X86_SYSREG_INTA (the 8259 plugin) for the vector when it takes an
 * ExtINT: 0x0f when nobody does (a floating bus). */
int x86_pic_ack(void);

/* ---- cpu.c ---- */
x86_cpu *x86_cpu_of(tes_cpu *cpu);
extern const tes_type_info x86_qemu64_type, x86_max_type;


/* ---- x86dev: the local APIC (apic.c) ---- */
/* The vCPU running an instruction: x86_run sets it on entry and back to
 * NULL on exit (x86core wires it). LAPIC register accesses go to its LAPIC
 * (CPU 0's when NULL); see apic.c for how MSI writes are told apart. */
extern x86_cpu *x86_current_cpu;


/* x86_apic_pending() returns a vector from the LAPIC's IRR or, for an
 * ExtINT (LINT0 in ExtINT mode on the BSP, an ExtINT message, or the APIC
 * disabled in the APIC base MSR), the vector the 8259 would give; the
 * following x86_apic_ack() acknowledges it where it came from (IRR to
 * ISR, or the 8259's acknowledge cycle). x86_apic_take() does both. */
int x86_apic_take(x86_cpu *c); /* vector to deliver now, -1 none */
/* Delivery modes (ICR bits 10:8, IOAPIC redirection, MSI data). */
enum { APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
       APIC_DM_INIT = 5, APIC_DM_SIPI = 6, APIC_DM_EXTINT = 7 };
/* CR8 is TPR[7:4] (SDM 10.8.6.1). */
uint8_t x86_apic_get_tpr(x86_cpu *c);
void x86_apic_set_tpr(x86_cpu *c, uint8_t tpr);
/* After a migration load: a version-1 stream had no LAPIC (keep the reset
 * one); else check what the stream set and re-arm the timer from it.
 * False when the values are not ones a guest could have produced. */
bool x86_apic_post_load(x86_cpu *c, uint32_t version);
/* Free c->lapic (the CPU's unrealize). */
void x86_apic_free_cpu(x86_cpu *c);
/* The register at offset reg << 4 as the guest reads it (info lapic). */
uint32_t x86_apic_read_reg(x86_lapic *l, unsigned reg);
/* The INTR input rose (cpu.c's set_irq): kicks the BSP. */
void x86_apic_pic_changed(void);
bool x86_pic_has_intr(void); /* the BSP's INTR input is high */
int x86_pic_peek(void); /* the vector x86_pic_ack() would return now */
/* ---- end x86dev ---- */

/* ---- x86sys: system and memory (excp.c, seg.c, sys.c, mmu.c) ---- */
/* Boot state for a 64-bit kernel entry (q35/boot.c): GDT at gdt_base,
 * CR3 = cr3 (4-level tables), CR0 PE|PG|ET, CR4 PAE, EFER LME|LMA, CS
 * loaded from descriptor cs_sel (64-bit code), DS/ES/SS from ds_sel,
 * FS/GS null, CPL 0. The caller sets rip, rsp and the other registers. */
/* mmu.c, for the monitor (monitor.c): every mapped page of the 4-level
 * tables. */
/* monitor.c: tes_cpu_ops dump (translate is debug.c's). */
int x86_cpu_dump(tes_cpu *cpu, void *s, unsigned what, void (*print)(void *opaque, const char *text),
                   void *opaque);
typedef void (*x86_page_fn)(void *opaque, uint64_t va, uint64_t pte, uint64_t size,
                            unsigned prot);
bool x86_mmu_foreach(x86_cpu *c, x86_page_fn fn, void *opaque);

void x86_setup_long_mode(x86_cpu *c, uint64_t cr3, uint64_t gdt_base, uint16_t gdt_limit,
                         uint16_t cs_sel, uint16_t ds_sel);
/* x86_run calls this on entry: drop host pointers when the core's memory
 * map changed (BAR moved, region enabled). */
static inline void x86_tlb_check_gen(x86_cpu *c)
{
    if (H->memory_generation() != c->tlb_gen) {
        x86_tlb_flush(c, false);
    }
}
/* NMI: x86_run delivers it with x86_interrupt(c, EXC_NMI) when
 * c->nmi_pending && !c->nmi_blocked; that clears nmi_pending and sets
 * nmi_blocked until the next IRET. */
/* ---- end x86sys ---- */

/* ---- x86fpu: x87/MMX/SSE helpers shared by fpu.c and sse.c ----
 * CPUID (for the sys engineer): the x87/SSE code implements exactly
 * leaf 1 EDX fpu(0) mmx(23) fxsr(24) sse(25) sse2(26); nothing in ECX
 * (no sse3/ssse3/sse4/popcnt/xsave/avx from these files). MXCSR_MASK in
 * FXSAVE is 0xffff (DAZ supported). FWAIT (9B) is x86_fwait(): it adds
 * the pending-exception #MF check (CR0.NE) to the TS&&MP #NM one. */
void x86_fwait(x86_cpu *c);
/* MMX register i (the mantissa of physical x87 register i); mmx_set
 * writes exponent 0xffff as the hardware does. */
uint64_t x86_mmx_get(x86_cpu *c, int i);
void x86_mmx_set(x86_cpu *c, int i, uint64_t v);
/* Every MMX instruction but EMMS: TOP = 0, all tags valid. EMMS: empty. */
void x86_mmx_enter(x86_cpu *c);
void x86_mmx_emms(x86_cpu *c);
/* FXSAVE / FXRSTOR (0F AE /0 /1) at x->ea; REX.W selects the 64-bit
 * FPU IP/DP layout. */
void x86_fxsave(x86_cpu *c, x86_insn *x);
void x86_fxrstor(x86_cpu *c, x86_insn *x);
/* ---- end x86fpu ---- */


/* ---- x86core: what exec-int.c implements, for CPUID (sys engineer) ----
 * The whole base integer ISA incl. CMPXCHG8B (CX8), CMOVcc (CMOV),
 * LAHF/SAHF in 64-bit mode (LAHF_LM), and, gated at run time on the
 * CPUID bit that advertises them: CMPXCHG16B (leaf 1 ECX bit 13, CX16),
 * POPCNT (leaf 1 ECX bit 23), LZCNT (0x80000001 ECX bit 5, ABM). QEMU's
 * qemu64 advertises CX16; advertising it here is safe. Not implemented:
 * MOVBE, BMI1/BMI2 (VEX), ADX, RDRAND (leave those bits clear; TZCNT
 * falls back to BSF as on CPUs without BMI1). */

#endif
