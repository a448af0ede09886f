/*
 * cpu-x86 integer instruction tests, part 2: string operations with REP
 * and DF, stack and control flow, and exceptions (checked on tessera:
 * the framework's IDT stops the run at the vector's stub).
 */
#include "snippet-x86.h"

/* Registers for string tests: rsi/rdi inside the scratch buffer. */
static void string_regs(snippet_regs *r, unsigned n, bool df)
{
    for (unsigned i = 0; i < n; i++) {
        snippet_regs_init(&r[i]);
        r[i].r[R_ESI] = SNIPPET_SCRATCH_ADDR + 0x100 + i * 3;
        r[i].r[R_EDI] = SNIPPET_SCRATCH_ADDR + 0x800 + i * 5;
        r[i].r[R_ECX] = i * 7;
        r[i].r[R_EAX] = 0x1122334455667788ull + i;
        if (df) {
            r[i].rflags |= F_DF;
            r[i].r[R_ESI] += 0x300;
            r[i].r[R_EDI] += 0x300;
        }
    }
}

static void compare_string(const char *text)
{
    snippet_regs r[16];

    string_regs(r, 8, false);
    string_regs(r + 8, 8, true);
    snippet_compare_n(text, r, 16);
}

static void test_movs_stos_lods(void)
{
    compare_string("movsb\n movsw\n movsd\n movsq\n stosb\n stosw\n stosd\n stosq\n"
                   " lodsb\n lodsw\n lodsd\n lodsq\n");
}

static void test_rep_movs_stos(void)
{
    compare_string("mov rbx, rcx\n rep movsb\n mov rcx, rbx\n rep movsq\n mov rcx, rbx\n"
                   " rep stosd\n mov rcx, rbx\n rep stosw\n mov rcx, rbx\n rep lodsb\n");
}

static void test_cmps_scas(void)
{
    compare_string("cmpsb\n pushfq\n pop r8\n cmpsq\n pushfq\n pop r9\n scasw\n pushfq\n pop r10\n"
                   " mov rbx, rcx\n repe cmpsb\n pushfq\n pop r11\n mov r12, rcx\n mov rcx, rbx\n"
                   " repne scasb\n pushfq\n pop r13\n mov r14, rcx\n"
                   " mov byte ptr [rdi + 4], al\n mov rcx, 9\n repne scasb\n");
}

/* Equal buffers make REPE run to the end; a difference stops it. */
static void test_repe_cmps_stops(void)
{
    compare_string("lea rsi, [r15]\n lea rdi, [r15 + 64]\n mov rcx, 8\n rep movsq\n"
                   " lea rsi, [r15]\n lea rdi, [r15 + 64]\n mov rcx, 64\n cld\n repe cmpsb\n"
                   " pushfq\n pop r8\n mov r9, rcx\n mov byte ptr [r15 + 70], 0\n"
                   " lea rsi, [r15]\n lea rdi, [r15 + 64]\n mov rcx, 64\n repe cmpsb\n"
                   " pushfq\n pop r10\n mov r11, rcx\n");
}

/* Long REP MOVS/STOS cross the page at r15 and overlap forwards (the
 * copy repeats a pattern) and backwards: whole runs at once must match
 * element by element. */
static void test_rep_movs_stos_pages_overlap(void)
{
    compare_string("cld\n lea rdi, [r15 - 1400]\n mov rcx, 300\n rep stosq\n"
                   " lea rsi, [r15 + 1500]\n lea rdi, [r15 + 1503]\n mov rcx, 300\n rep movsb\n"
                   " lea rsi, [r15 - 100]\n lea rdi, [r15 - 37]\n mov rcx, 300\n rep movsb\n"
                   " lea rsi, [r15 - 200]\n lea rdi, [r15 - 400]\n mov rcx, 50\n rep movsq\n"
                   " lea rsi, [r15 - 1000]\n lea rdi, [r15 + 100]\n mov rcx, 333\n rep movsw\n"
                   " lea rdi, [r15 - 5]\n mov rcx, 11\n rep stosb\n"
                   " lea rdi, [r15 + 1001]\n mov rcx, 99\n rep stosd\n");
}

/* 32-bit address size: rsi/rdi/rcx used as esi/edi/ecx. */
static void test_string_addr32(void)
{
    compare_string("mov rbx, 0xffffffff00000000\n or rsi, rbx\n or rdi, rbx\n or rcx, rbx\n"
                   " rep movsb [edi], [esi]\n mov r8, rsi\n mov r9, rdi\n mov r10, rcx\n");
}

static void test_push_pop_call_ret(void)
{
    snippet_compare_edges(
        "push rax\n push bx\n push 0x12\n push -0x12345\n pop r8\n pop r9\n pop r10w\n pop r11\n"
        " push qword ptr [r15]\n pop qword ptr [r15 + 8]\n pushfq\n pop r12\n"
        " call 1f\n jmp 2f\n1: mov r13, [rsp]\n ret\n2: call 3f\n jmp 4f\n3: ret 0\n"
        "4: lea r14, [rip + 5f]\n push r14\n ret\n5: enter 32, 0\n mov [rbp - 8], rax\n leave\n"
        " mov rbp, rsp\n enter 16, 2\n mov rsi, rbp\n leave\n");
}

static void test_loops_jumps(void)
{
    snippet_compare_edges(
        "and rcx, 0xff\n inc rcx\n xor r8, r8\n1: inc r8\n loop 1b\n"
        " mov rcx, rbx\n and ecx, 7\n inc ecx\n xor r9, r9\n2: inc r9\n cmp r9, 3\n loopne 2b\n"
        " xor ecx, ecx\n jrcxz 3f\n mov r10, 1\n3: mov ecx, 1\n jecxz 4f\n mov r11, 2\n"
        "4: lea rdx, [rip + 5f]\n jmp rdx\n mov r12, 3\n5: lea rdx, [rip + 6f]\n"
        " mov [r15], rdx\n jmp qword ptr [r15]\n mov r13, 4\n6: call qword ptr [r15 + 0]\n");
}

static void test_xlat_nop_misc(void)
{
    snippet_compare_edges(
        "mov rbx, r15\n and eax, 0xff\n xlat\n mov r8, rax\n nop\n nop dword ptr [rax + rax]\n"
        " pause\n nop word ptr cs:[rax + rax * 1 + 0]\n xchg r9, rax\n xchg ax, r10w\n"
        " mov r11, rcx\n");
}

/* Exceptions: #DE from DIV by zero and IDIV overflow, #UD from UD2,
 * INT3 and INT n through DPL-3 gates, #GP from CLI at CPL 3 with IOPL 0.
 * The rip pushed is the faulting instruction (traps: the next one). */
static void expect_vector(const char *text, int vec, uint64_t rip_off, uint64_t rax)
{
    snippet_state in, out;
    snippet_regs r;
    char *why = NULL;

    snippet_regs_init(&r);
    r.r[R_EAX] = rax;
    r.r[R_EDX] = 0;
    snippet_state_init(&in, &r);
    g_assert_false(snippet_run_tessera(text, &in, &out, &why));
    g_test_message("%s: %s", text, why);
    g_free(why);
    g_assert_cmpint(snippet_last_vector(), ==, vec);
    g_assert_cmphex(snippet_last_fault_rip(), ==, SNIPPET_CODE_ADDR + rip_off);
}

static void test_exceptions(void)
{
    expect_vector("xor ecx, ecx\n div ecx\n", EXC_DE, 2, 5);           /* div ecx at +2 */
    expect_vector("mov rdx, -1\n mov rcx, -1\n idiv rcx\n", EXC_DE, 14, 0x8000000000000000ull);
    expect_vector("mov edx, 1\n mov ecx, 1\n div ecx\n", EXC_DE, 10, 0);  /* quotient too big */
    expect_vector("nop\n ud2\n", EXC_UD, 1, 0);
    expect_vector("nop\n int3\n", EXC_BP, 2, 0);
    expect_vector("int 0x80\n", 0x80, 2, 0);
    expect_vector("cli\n", EXC_GP, 0, 0);
    expect_vector(".byte 0x27\n", EXC_UD, 0, 0); /* DAA: invalid in 64-bit mode */
    expect_vector("mov rcx, 0x8000000000000000\n mov al, [rcx]\n", EXC_GP, 10, 0);
}

void x86_int2_tests_register(void)
{
    g_test_add_func("/x86/str/movs-stos-lods-every-size-and-df", test_movs_stos_lods);
    g_test_add_func("/x86/str/rep-movs-stos-lods-counts", test_rep_movs_stos);
    g_test_add_func("/x86/str/rep-movs-stos-across-pages-and-overlapping",
                    test_rep_movs_stos_pages_overlap);
    g_test_add_func("/x86/str/cmps-scas-repe-repne", test_cmps_scas);
    g_test_add_func("/x86/str/repe-cmps-stops-at-difference", test_repe_cmps_stops);
    g_test_add_func("/x86/str/addr32-uses-esi-edi-ecx", test_string_addr32);
    g_test_add_func("/x86/ctl/push-pop-call-ret-enter-leave", test_push_pop_call_ret);
    g_test_add_func("/x86/ctl/loop-jrcxz-indirect-jumps", test_loops_jumps);
    g_test_add_func("/x86/int/xlat-nops-xchg", test_xlat_nop_misc);
    g_test_add_func("/x86/excp/de-ud-bp-int-gp-vectors-and-rip", test_exceptions);
}
