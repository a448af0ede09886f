/*
 * cpu-x86 system tests through the harness: the power-on state, the
 * real -> protected -> long mode switch as Linux's trampoline does it,
 * page faults (CR2, error code, accessed/dirty bits), IST stacks, INT3 and
 * IRET across privilege levels, SYSCALL/SYSRET, triple fault -> reset,
 * CPUID feature bits and #GP on unknown MSRs.
 *
 * Code is assembled here with GNU as (any .code16/.code32/.code64 mix,
 * Intel syntax) and linked at a fixed address; the long-mode tests start
 * from the snippet framework's state (flat GDT, IDT whose gates lead to a
 * 16-byte stub per vector at SNIPPET_HANDLER_ADDR, identity 4K paging).
 */
#include <glib/gstdio.h>

#include "snippet-x86.h"

#define USER_CODE 0x400000ull
#define KERN_CODE 0x480000ull
#define END_MARK 0x4ff000ull /* runs stop when rip reaches it */
#define PT_BASE (SNIPPET_PML4_ADDR + 0x3000) /* the framework's 4K PTEs */
#define IST_TOP 0x60000ull
#define MAX_STEPS 10000u
#define DESC_ACCESSED_BIT (1ull << 40)

static tes_harness *h;
static tes_cpu *cpu;
static x86_cpu *c;
static uint8_t *ram;

static void up(void)
{
    h = snippet_harness(&cpu, &c);
    ram = tes_harness_ram(h);
}

static void down(void)
{
    tes_harness_free(h);
    h = NULL;
}

/* ---- assembling ---- */

static bool run_tool(char **argv)
{
    gchar *err = NULL;
    gint status = 0;
    bool ok = g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                           NULL, NULL, NULL, &err, &status, NULL) &&
              g_spawn_check_wait_status(status, NULL);

    if (!ok) {
        g_printerr("%s: %s\n", argv[0], err ? err : "");
    }
    g_free(err);
    return ok;
}

/* Assemble src (Intel syntax) linked at addr and copy it to RAM there. */
static size_t put_asm(uint64_t addr, const char *src)
{
    g_autofree char *dir = g_dir_make_tmp("x86sys-XXXXXX", NULL);
    g_autofree char *s = g_build_filename(dir, "a.s", NULL);
    g_autofree char *o = g_build_filename(dir, "a.o", NULL);
    g_autofree char *bin = g_build_filename(dir, "a.bin", NULL);
    g_autofree char *text = g_strdup_printf(".intel_syntax noprefix\n.globl _start\n_start:\n%s\n",
                                            src);
    g_autofree char *ttext = g_strdup_printf("-Ttext=0x%" G_GINT64_MODIFIER "x", addr);
    char *as_argv[] = { "as", "--64", "-o", o, s, NULL };
    char *ld_argv[] = { "ld", "-m", "elf_x86_64", ttext, "--oformat=binary", "-o", bin, o, NULL };
    gchar *data = NULL;
    gsize len = 0;

    g_assert_nonnull(dir);
    g_assert_true(g_file_set_contents(s, text, -1, NULL));
    g_assert_true(run_tool(as_argv));
    g_assert_true(run_tool(ld_argv));
    g_assert_true(g_file_get_contents(bin, &data, &len, NULL));
    g_assert_cmpuint(addr + len, <=, tes_harness_ram_size(h));
    memcpy(ram + addr, data, len);
    c->state_dirty = true; /* code written behind the CPU: drop translations */
    g_free(data);
    g_unlink(s);
    g_unlink(o);
    g_unlink(bin);
    g_rmdir(dir);
    return len;
}

/* ---- running ---- */

static bool in_handler(void)
{
    return c->rip - SNIPPET_HANDLER_ADDR < 16 * 256;
}

/* Step until rip reaches `until`, an exception stub, or the CPU halts. */
static tes_exec_status run_to(uint64_t until)
{
    for (unsigned n = 0; n < MAX_STEPS; n++) {
        tes_exec_status st;

        if (c->rip == until || in_handler()) {
            return TES_EXEC_BUDGET;
        }
        st = tes_harness_cpu_exec(h, cpu, 1, NULL);
        if (st != TES_EXEC_BUDGET) {
            return st;
        }
    }
    g_assert_not_reached();
}

static int vector_reached(void)
{
    return in_handler() ? (int)((c->rip - SNIPPET_HANDLER_ADDR) / 16) : -1;
}

static uint64_t stack_q(unsigned i)
{
    uint64_t v;

    memcpy(&v, ram + c->regs[R_ESP] + 8 * i, 8);
    return v;
}

static uint64_t ram_q(uint64_t pa)
{
    uint64_t v;

    memcpy(&v, ram + pa, 8);
    return v;
}

static void set_ram_q(uint64_t pa, uint64_t v)
{
    memcpy(ram + pa, &v, 8);
}

static uint64_t *pte(uint64_t va)
{
    return (uint64_t *)(ram + PT_BASE + (va >> 12) * 8);
}

/* User (CPL 3) code at USER_CODE that ends by jumping to END_MARK. */
static void user_code(const char *src)
{
    g_autofree char *s = g_strdup_printf("%s\n jmp 0x%llx\n", src, (unsigned long long)END_MARK);

    put_asm(USER_CODE, s);
    c->rip = USER_CODE;
    if (c->regs[R_ESP] == 0) {
        c->regs[R_ESP] = 0x700f00;
    }
}

/* ---- power-on state ---- */

static void test_reset_state(void)
{
    tes_cpu *cpu1;
    x86_cpu *c1;

    h = tes_harness_new(SNIPPET_RAM_SIZE);
    g_assert_true(tes_harness_load(h, snippet_plugin_path()));
    cpu = tes_harness_cpu(h, "qemu64", 0);
    cpu1 = tes_harness_cpu(h, "qemu64", 1);
    g_assert_nonnull(cpu);
    g_assert_nonnull(cpu1);
    c = tes_harness_cpu_state(cpu);
    c1 = tes_harness_cpu_state(cpu1);
    snippet_apply_engine(c);
    snippet_apply_engine(c1);

    g_assert_cmphex(c->rip, ==, 0xfff0);
    g_assert_cmphex(c->seg[S_CS].sel, ==, 0xf000);
    g_assert_cmphex(c->seg[S_CS].base, ==, 0xffff0000);
    g_assert_cmphex(c->cr0, ==, 0x60000010);
    g_assert_cmphex(c->efer, ==, 0);
    g_assert_cmphex(x86_get_flags(c), ==, 2);
    g_assert_cmphex(c->regs[R_EDX] >> 8, ==, 0x60f); /* family 15 signature */
    g_assert_cmpint(c->code_bits, ==, 16);
    g_assert_cmpint(c->cpl, ==, 0);
    g_assert_cmphex(c->apic_base, ==, 0xfee00900);
    g_assert_false(c->wait_sipi);
    g_assert_cmphex(c1->apic_base, ==, 0xfee00800);
    g_assert_true(c1->wait_sipi);
    g_assert_cmphex(c->mxcsr, ==, 0x1f80);
    down();
}

/* ---- real mode to long mode, as Linux's trampoline does it ---- */

#define TRAMP 0x8000ull
#define TRAMP_PML4 0x20000ull

/* Identity map of the first 1 GiB with 2 MiB pages. */
static void build_2m_tables(void)
{
    set_ram_q(TRAMP_PML4, (TRAMP_PML4 + 0x1000) | 3);
    set_ram_q(TRAMP_PML4 + 0x1000, (TRAMP_PML4 + 0x2000) | 3);
    for (unsigned i = 0; i < 512; i++) {
        set_ram_q(TRAMP_PML4 + 0x2000 + 8 * i, ((uint64_t)i << 21) | 0x83);
    }
}

static const char tramp_src[] =
    ".code16\n"
    " cli\n"
    " xor ax, ax\n"
    " mov ds, ax\n"
    " lgdt [gdtr]\n"
    " mov eax, cr0\n"
    " or eax, 1\n"
    " mov cr0, eax\n"
    " ljmp 0x08, offset pm32\n"
    ".code32\n"
    "pm32:\n"
    " mov ax, 0x10\n"
    " mov ds, ax\n"
    " mov es, ax\n"
    " mov ss, ax\n"
    " mov esp, 0x7000\n"
    " mov eax, cr4\n"
    " or eax, 0x20\n"
    " mov cr4, eax\n"
    " mov eax, 0x20000\n"
    " mov cr3, eax\n"
    " mov ecx, 0xc0000080\n"
    " rdmsr\n"
    " or eax, 0x100\n"
    " wrmsr\n"
    " mov eax, cr0\n"
    " or eax, 0x80000000\n"
    " mov cr0, eax\n"
    " ljmp 0x18, offset lm64\n"
    ".code64\n"
    "lm64:\n"
    " mov rax, 0x1122334455667788\n"
    " push rax\n"
    " pop rbx\n"
    " hlt\n"
    ".balign 8\n"
    "gdt:\n"
    " .quad 0\n"
    " .quad 0x00cf9a000000ffff\n" /* 0x08: 32-bit code */
    " .quad 0x00cf92000000ffff\n" /* 0x10: data */
    " .quad 0x00af9a000000ffff\n" /* 0x18: 64-bit code */
    "gdtr:\n"
    " .word 0x1f\n"
    " .long gdt\n";

static void test_real_to_long_mode(void)
{
    tes_exec_status st = TES_EXEC_BUDGET;

    h = tes_harness_new(SNIPPET_RAM_SIZE);
    g_assert_true(tes_harness_load(h, snippet_plugin_path()));
    cpu = tes_harness_cpu(h, "qemu64", 0);
    c = tes_harness_cpu_state(cpu);
    snippet_apply_engine(c);
    ram = tes_harness_ram(h);
    build_2m_tables();
    put_asm(TRAMP, tramp_src);
    /* As a SIPI to vector 08 leaves it: CS = 0800, IP = 0. */
    c->seg[S_CS].sel = 0x800;
    c->seg[S_CS].base = TRAMP;
    c->rip = 0;

    for (unsigned n = 0; n < 100 && st == TES_EXEC_BUDGET; n++) {
        st = tes_harness_cpu_exec(h, cpu, 1, NULL);
    }
    g_assert_cmpint(st, ==, TES_EXEC_HALT);
    g_assert_cmpint(c->code_bits, ==, 64);
    g_assert_true(c->long_mode);
    g_assert_cmphex(c->efer & (EFER_LME | EFER_LMA), ==, EFER_LME | EFER_LMA);
    g_assert_cmphex(c->seg[S_CS].sel, ==, 0x18);
    g_assert_cmphex(c->seg[S_SS].sel, ==, 0x10);
    g_assert_cmphex(c->regs[R_EBX], ==, 0x1122334455667788ull);
    g_assert_cmphex(c->regs[R_ESP], ==, 0x7000);
    /* The loads set the accessed bit of the descriptors in memory. */
    g_assert_cmphex(ram_q(c->gdt_base + 0x10) & DESC_ACCESSED_BIT, ==, DESC_ACCESSED_BIT);
    down();
}

/* S3 resume: the wake path starts vCPU 0 at the FACS waking vector in
 * real mode (TES_BOOT_X86_REAL), whatever mode the boot state it took after
 * the reset left it in (the board's long-mode kernel entry). */
static void test_boot_real_waking_vector(void)
{
    const tes_host *host;
    tes_cpu_boot lm = {.size = sizeof(lm), .mode = TES_BOOT_X86_LONG64, .entry = 0x100000,
                       .page_table = SNIPPET_PML4_ADDR, .gdt_base = 0x1000,
                       .gdt_limit = 0x27, .code_sel = 0x10, .data_sel = 0x18};
    tes_cpu_boot wake = {.size = sizeof(wake), .mode = TES_BOOT_X86_REAL, .entry = 0x9a010};
    tes_exec_status st = TES_EXEC_BUDGET;

    h = tes_harness_new(SNIPPET_RAM_SIZE);
    g_assert_true(tes_harness_load(h, snippet_plugin_path()));
    host = tes_harness_host(h);
    cpu = tes_harness_cpu(h, "qemu64", 0);
    c = tes_harness_cpu_state(cpu);
    snippet_apply_engine(c);
    ram = tes_harness_ram(h);
    g_assert_cmpint(host->cpu_set_boot(cpu, &lm), ==, 0);
    g_assert_true(c->long_mode);
    /* cs:ip-relative code: the far jump of Linux's wakeup_start needs 16-bit decoding */
    put_asm(0x9a010, ".code16\n mov ax, cs\n mov bx, 0x5aa5\n hlt\n");
    g_assert_cmpint(host->cpu_set_boot(cpu, &wake), ==, 0);
    g_assert_false(c->long_mode);
    g_assert_cmpint(c->code_bits, ==, 16);
    g_assert_cmphex(c->cr0 & 1, ==, 0);
    g_assert_cmphex(c->seg[S_CS].sel, ==, 0x9a01);
    g_assert_cmphex(c->seg[S_CS].base, ==, 0x9a010);
    g_assert_cmphex(c->rip, ==, 0);
    for (unsigned n = 0; n < 10 && st == TES_EXEC_BUDGET; n++) {
        st = tes_harness_cpu_exec(h, cpu, 1, NULL);
    }
    g_assert_cmpint(st, ==, TES_EXEC_HALT);
    g_assert_cmphex(c->regs[R_EAX] & 0xffff, ==, 0x9a01);
    g_assert_cmphex(c->regs[R_EBX] & 0xffff, ==, 0x5aa5);
    /* a vector above 1 MiB cannot be a real-mode start */
    wake.entry = 0x100000;
    g_assert_cmpint(host->cpu_set_boot(cpu, &wake), ==, -22);
    down();
}

/* ---- page faults ---- */

static void expect_pf(const char *code, uint64_t cr2, uint64_t err)
{
    user_code(code);
    run_to(END_MARK);
    g_assert_cmpint(vector_reached(), ==, EXC_PF);
    g_assert_cmphex(c->cr2, ==, cr2);
    g_assert_cmphex(stack_q(0), ==, err);
    g_assert_cmphex(stack_q(2), ==, 0x33); /* from user CS */
    g_assert_cmpint(c->cpl, ==, 0);
}

static void test_pf_not_present(void)
{
    up();
    *pte(0xa00000) = 0;
    expect_pf("mov rax, [0xa00010]", 0xa00010, 0x4); /* U, read, not present */
    g_assert_cmphex(stack_q(1), ==, USER_CODE);
    down();
}

static void test_pf_write_protect(void)
{
    up();
    *pte(0xa01000) = 0xa01000 | 0x5; /* present, user, read-only */
    expect_pf("mov rax, [0xa01008]\n mov qword ptr [0xa01008], 1", 0xa01008, 0x7);
    down();
}

static void test_pf_supervisor_page(void)
{
    up();
    *pte(0xa02000) = 0xa02000 | 0x3; /* present, writable, supervisor */
    expect_pf("mov rax, [0xa02ff8]", 0xa02ff8, 0x5);
    down();
}

static void test_pf_nx(void)
{
    up();
    put_asm(0xa03000, "ret");
    *pte(0xa03000) = 0xa03000 | 0x7 | (1ull << 63);
    expect_pf("mov rax, 0xa03000\n call rax", 0xa03000, 0x15); /* P U I/D */
    down();
}

static void test_pf_reserved_bit(void)
{
    up();
    *pte(0xa05000) = 0xa05000 | 0x7 | (1ull << 45); /* above MAXPHYADDR 40 */
    expect_pf("mov qword ptr [0xa05000], 1", 0xa05000, 0xf); /* P W U RSVD */
    down();
}

/* A store crossing into a read-only page faults on the second page and
 * writes nothing to the first. */
static void test_pf_crossing_writes_nothing(void)
{
    up();
    *pte(0xa07000) = 0xa07000 | 0x5;
    set_ram_q(0xa06ff8, 0x1111111111111111ull);
    expect_pf("mov rax, -1\n mov [0xa06ffc], rax", 0xa07000, 0x7);
    g_assert_cmphex(ram_q(0xa06ff8), ==, 0x1111111111111111ull);
    down();
}

static void test_pf_sets_accessed_dirty(void)
{
    up();
    *pte(0xa04000) = 0xa04000 | 0x7;
    *pte(0xa08000) = 0xa08000 | 0x7;
    user_code("mov rax, [0xa04000]\n mov qword ptr [0xa08000], 5");
    g_assert_cmpint(run_to(END_MARK), ==, TES_EXEC_BUDGET);
    g_assert_cmpint(vector_reached(), ==, -1);
    g_assert_cmphex(*pte(0xa04000) & 0x60, ==, 0x20); /* accessed, clean */
    g_assert_cmphex(*pte(0xa08000) & 0x60, ==, 0x60); /* accessed, dirty */
    down();
}

/* ---- interrupts, IST, IRET ---- */

static void test_ist_stack_used(void)
{
    uint64_t gate = SNIPPET_IDT_ADDR + 16 * EXC_BP;

    up();
    set_ram_q(gate, ram_q(gate) | (1ull << 32)); /* IST 1 */
    set_ram_q(SNIPPET_TSS_ADDR + 0x24, IST_TOP + 8); /* rounded down to 16 */
    c->regs[R_ESP] = 0x700123;
    user_code("int3");
    run_to(END_MARK);
    g_assert_cmpint(vector_reached(), ==, EXC_BP);
    g_assert_cmphex(c->regs[R_ESP], ==, IST_TOP - 40);
    g_assert_cmphex(stack_q(0), ==, USER_CODE + 1); /* after int3 */
    g_assert_cmphex(stack_q(1), ==, 0x33);
    g_assert_cmphex(stack_q(3), ==, 0x700123);
    g_assert_cmphex(stack_q(4), ==, 0x2b);
    g_assert_cmphex(c->seg[S_CS].sel, ==, SNIPPET_KERNEL_CS);
    g_assert_cmphex(c->seg[S_SS].sel, ==, 0); /* null SS, RPL 0 */
    down();
}

static void test_int3_iret_round_trip(void)
{
    uint64_t stub = SNIPPET_HANDLER_ADDR + 16 * EXC_BP;

    up();
    ram[stub] = 0x48; /* iretq */
    ram[stub + 1] = 0xcf;
    c->regs[R_ESP] = 0x700800;
    user_code("mov rbx, 7\n int3\n mov rax, 42");
    /* step into the handler, then out of it */
    for (unsigned n = 0; n < 2; n++) {
        tes_harness_cpu_exec(h, cpu, 1, NULL);
    }
    g_assert_cmphex(c->rip, ==, stub);
    g_assert_cmpint(c->cpl, ==, 0);
    g_assert_cmphex(c->regs[R_ESP], ==, SNIPPET_KSTACK_TOP - 40);
    g_assert_cmphex(x86_get_flags(c) & F_IF, ==, 0); /* interrupt gate */
    tes_harness_cpu_exec(h, cpu, 1, NULL);
    g_assert_cmpint(c->cpl, ==, 3);
    g_assert_cmphex(c->seg[S_CS].sel, ==, 0x33);
    g_assert_cmphex(c->seg[S_SS].sel, ==, 0x2b);
    g_assert_cmphex(c->regs[R_ESP], ==, 0x700800);
    g_assert_cmpint(run_to(END_MARK), ==, TES_EXEC_BUDGET);
    g_assert_cmphex(c->rip, ==, END_MARK);
    g_assert_cmphex(c->regs[R_EAX], ==, 42);
    down();
}

static void test_syscall_sysret_round_trip(void)
{
    up();
    c->star = (0x23ull << 48) | ((uint64_t)SNIPPET_KERNEL_CS << 32);
    c->lstar = KERN_CODE;
    c->sfmask = F_IF | F_DF | F_TF;
    put_asm(KERN_CODE, "mov rbx, rcx\n mov rdx, r11\n mov r8d, cs\n mov r9d, ss\n"
                       " add rax, 1\n .byte 0x48, 0x0f, 0x07\n");
    c->regs[R_ESP] = 0x700400;
    user_code("mov rax, 5\n std\n syscall\n cld\n mov r10d, cs");
    g_assert_cmpint(run_to(END_MARK), ==, TES_EXEC_BUDGET);
    g_assert_cmpint(vector_reached(), ==, -1);
    g_assert_cmphex(c->regs[R_EAX], ==, 6);
    g_assert_cmphex(c->regs[R_R8], ==, SNIPPET_KERNEL_CS);
    g_assert_cmphex(c->regs[R_R9], ==, SNIPPET_KERNEL_CS + 8);
    g_assert_cmphex(c->regs[R_EBX], ==, USER_CODE + 10); /* after syscall (7 + 1 + 2 bytes) */
    g_assert_cmphex(c->regs[R_EDX] & (F_IF | F_DF), ==, F_IF | F_DF); /* user RFLAGS */
    g_assert_cmphex(c->regs[R_R10], ==, 0x33);
    g_assert_cmpint(c->cpl, ==, 3);
    g_assert_cmphex(c->seg[S_SS].sel, ==, 0x2b);
    g_assert_cmphex(c->regs[R_ESP], ==, 0x700400);
    down();
}

/* ---- triple fault ---- */

static void test_triple_fault_requests_reset(void)
{
    up();
    c->idt_limit = 0; /* every gate is outside the IDT */
    user_code("ud2");
    g_assert_cmpint(run_to(END_MARK), ==, TES_EXEC_HALT);
    g_assert_true(c->triple_fault);
    g_assert_true(g_main_context_pending(NULL)); /* the core's reset */
    while (g_main_context_pending(NULL)) {
        g_main_context_iteration(NULL, FALSE);
    }
    g_assert_false(c->triple_fault);
    g_assert_cmphex(c->rip, ==, 0xfff0);
    g_assert_cmphex(c->seg[S_CS].sel, ==, 0xf000);
    down();
}

/* ---- CPUID, MSRs ---- */

static void test_cpuid_features(void)
{
    const uint32_t need = (1u << 0) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 15) |
                          (1u << 24) | (1u << 25) | (1u << 26); /* fpu msr pae cx8 cmov fxsr sse sse2 */

    up();
    user_code("mov eax, 1\n cpuid\n mov r8, rdx\n mov r9, rcx\n"
              " mov eax, 0x80000001\n cpuid\n mov r10, rdx\n"
              " mov eax, 0x80000008\n cpuid\n mov r11, rax\n"
              " xor eax, eax\n cpuid");
    g_assert_cmpint(run_to(END_MARK), ==, TES_EXEC_BUDGET);
    g_assert_cmphex(c->regs[R_R8] & need, ==, need);
    g_assert_cmphex(c->regs[R_R9], ==, 0); /* no SSE3 or later */
    g_assert_cmphex(c->regs[R_R10] & ((1u << 11) | (1u << 20) | (1u << 29)), ==,
                    (1u << 11) | (1u << 20) | (1u << 29)); /* syscall nx lm */
    g_assert_cmphex(c->regs[R_R11] & 0xffff, ==, 0x3028);
    g_assert_cmphex(c->regs[R_EBX], ==, 0x68747541); /* "Auth" */
    down();
}

static void test_rdmsr_unknown_gp(void)
{
    up();
    snippet_enter_long_mode(h, c, 0);
    put_asm(KERN_CODE, "mov ecx, 0xc0000080\n rdmsr\n mov r8, rax\n"
                       " mov ecx, 0x12345\n rdmsr\n");
    c->rip = KERN_CODE;
    c->regs[R_ESP] = 0x700f00;
    run_to(END_MARK);
    g_assert_cmpint(vector_reached(), ==, EXC_GP);
    g_assert_cmphex(stack_q(0), ==, 0);
    g_assert_cmphex(c->regs[R_R8] & 0xd01, ==, 0xd01); /* SCE LME LMA NXE */
    down();
}

static void test_rdmsr_user_gp(void)
{
    up();
    user_code("mov ecx, 0x10\n rdmsr");
    run_to(END_MARK);
    g_assert_cmpint(vector_reached(), ==, EXC_GP);
    down();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    snippet_init(argc, argv);
    g_test_add_func("/x86/sys/reset/power-on-state", test_reset_state);
    g_test_add_func("/x86/sys/mode/real-to-long-trampoline", test_real_to_long_mode);
    g_test_add_func("/x86/sys/boot/real-mode-waking-vector", test_boot_real_waking_vector);
    g_test_add_func("/x86/sys/pf/not-present-cr2-and-error", test_pf_not_present);
    g_test_add_func("/x86/sys/pf/user-write-to-read-only", test_pf_write_protect);
    g_test_add_func("/x86/sys/pf/user-read-of-supervisor-page", test_pf_supervisor_page);
    g_test_add_func("/x86/sys/pf/fetch-from-nx-page", test_pf_nx);
    g_test_add_func("/x86/sys/pf/reserved-bit-above-maxphyaddr", test_pf_reserved_bit);
    g_test_add_func("/x86/sys/pf/crossing-store-writes-nothing", test_pf_crossing_writes_nothing);
    g_test_add_func("/x86/sys/paging/sets-accessed-and-dirty", test_pf_sets_accessed_dirty);
    g_test_add_func("/x86/sys/int/ist-stack-used", test_ist_stack_used);
    g_test_add_func("/x86/sys/int/int3-iret-cpl3-cpl0-cpl3", test_int3_iret_round_trip);
    g_test_add_func("/x86/sys/syscall/sysret-round-trip", test_syscall_sysret_round_trip);
    g_test_add_func("/x86/sys/excp/triple-fault-resets", test_triple_fault_requests_reset);
    g_test_add_func("/x86/sys/cpuid/linux-required-features", test_cpuid_features);
    g_test_add_func("/x86/sys/msr/unknown-rdmsr-gp", test_rdmsr_unknown_gp);
    g_test_add_func("/x86/sys/msr/rdmsr-at-cpl3-gp", test_rdmsr_user_gp);
    return g_test_run();
}
