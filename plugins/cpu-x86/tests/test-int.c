/*
 * cpu-x86 integer instruction tests: the general-purpose ISA run on
 * tessera in 64-bit mode and compared with qemu-x86_64 on edge operands
 * (flags included), plus exceptions checked on the tessera side.
 */
#include "snippet-x86.h"

void x86_int2_tests_register(void);

/* The reference side itself: qemu runs the snippet at the fixed address
 * with the given registers, flags and scratch memory, per record. */
static void test_framework_qemu(void)
{
    snippet_state in[2], out[2];
    snippet_regs r;

    snippet_regs_init(&r);
    r.r[R_EAX] = 40;
    r.r[R_EBX] = 2;
    snippet_state_init(&in[0], &r);
    r.r[R_EBX] = 5;
    r.rflags |= F_CF | F_DF;
    r.r[R_R13] = 0x1234;
    r.fx.xmm[3][0] = 0x5a;
    snippet_state_init(&in[1], &r);
    snippet_run_qemu("adc rax, rbx\n lea rcx, [rip]\n mov [r15], rax\n push rax\n", in, out, 2);
    g_assert_cmphex(out[0].r.r[R_EAX], ==, 42);
    g_assert_cmphex(out[1].r.r[R_EAX], ==, 46);
    g_assert_cmphex(out[1].r.rflags & F_DF, ==, F_DF);
    g_assert_cmphex(out[1].r.r[R_R13], ==, 0x1234);
    g_assert_cmphex(out[1].r.fx.xmm[3][0], ==, 0x5a);
    g_assert_cmphex(out[0].r.r[R_ECX], ==, SNIPPET_CODE_ADDR + 3 + 7);
    g_assert_cmphex(out[0].r.r[R_ESP], ==, r.r[R_ESP] - 8);
    g_assert_cmpuint(out[1].scratch[SNIPPET_SCRATCH_SIZE / 2], ==, 46);
    g_assert_cmpuint(out[1].scratch[0x1800 - 8], ==, 46);
    g_assert_cmpuint(out[1].scratch[0], ==, in[1].scratch[0]);
}


/* ---- arithmetic and logic, every operand size ---- */

static void test_add_sub(void)
{
    snippet_compare_edges(
        "add rax, rbx\n pushfq\n pop r8\n"
        " mov r9, rcx\n add r9d, edx\n pushfq\n pop r10\n"
        " mov r11, rcx\n add r11w, bx\n pushfq\n pop r12\n"
        " mov r13, rdx\n add r13b, al\n pushfq\n pop r14\n"
        " sub rcx, rbx\n pushfq\n pop rsi\n"
        " sub edx, eax\n pushfq\n pop rdi\n"
        " sub bh, al\n");
}

static void test_adc_sbb(void)
{
    snippet_compare_edges(
        "adc rax, rbx\n pushfq\n pop r8\n"
        " mov r9, rcx\n adc r9d, edx\n pushfq\n pop r10\n"
        " sbb r11w, bx\n pushfq\n pop r12\n"
        " mov r13, rdx\n sbb r13b, cl\n pushfq\n pop r14\n"
        " sbb rcx, rbx\n");
}

static void test_cmp_jcc(void)
{
    snippet_compare_edges(
        "xor r8, r8\n cmp rax, rbx\n"
        " jo 1f\n or r8, 1\n1: jb 1f\n or r8, 2\n1: je 1f\n or r8, 4\n1: jbe 1f\n or r8, 8\n"
        "1: js 1f\n or r8, 16\n1: jp 1f\n or r8, 32\n1: jl 1f\n or r8, 64\n1: jle 1f\n or r8, 128\n"
        "1: cmp eax, ebx\n setl r9b\n setle r10b\n setb r11b\n seta r12b\n setg r13b\n"
        " cmp ax, bx\n setge dil\n setno sil\n cmp al, bl\n setns bpl\n"
        " cmp rax, 0x7f\n setg cl\n cmp ebx, -1\n setb dl\n");
}

static void test_logic(void)
{
    snippet_compare_edges(
        "mov r8, rax\n and r8, rbx\n pushfq\n pop r9\n"
        " mov r10, rax\n or r10d, ebx\n pushfq\n pop r11\n"
        " mov r12, rax\n xor r12w, bx\n pushfq\n pop r13\n"
        " test cl, dl\n pushfq\n pop r14\n"
        " not rcx\n and edx, 0x8000\n or ax, 0xff80\n xor bl, 0x55\n test rbx, 1\n");
}

static void test_inc_dec_neg_not(void)
{
    snippet_compare_edges(
        "inc rax\n pushfq\n pop r8\n dec ebx\n pushfq\n pop r9\n"
        " inc cx\n pushfq\n pop r10\n dec dl\n pushfq\n pop r11\n"
        " neg rdx\n pushfq\n pop r12\n neg ecx\n pushfq\n pop r13\n"
        " neg bx\n neg ah\n not al\n inc qword ptr [r15]\n dec dword ptr [r15 + 8]\n"
        " neg byte ptr [r15 + 3]\n");
}

static void test_mul_imul(void)
{
    snippet_compare_edges(
        "mov r8, rax\n mov r9, rdx\n mul rbx\n pushfq\n pop r10\n"
        " mov r11, rax\n mov r12, rdx\n mov rax, r8\n imul rbx\n pushfq\n pop r13\n"
        " mov r14, rax\n mov rsi, rdx\n mov rax, r8\n mul ebx\n pushfq\n pop rdi\n"
        " mov rax, r8\n imul bx\n mov rbp, rax\n mov rax, r8\n mul bl\n"
        " imul ecx, ebx\n imul r9, r8, -3\n imul r8w, cx, 0x1234\n");
}

static void test_imul_flags(void)
{
    snippet_compare_edges(
        "imul rax, rbx\n pushfq\n pop r8\n imul ecx, edx\n pushfq\n pop r9\n"
        " imul dx, bx, 7\n pushfq\n pop r10\n mov r11, rbx\n imul r11\n pushfq\n pop r12\n");
}

static void test_div(void)
{
    snippet_regs r[6];
    static const uint64_t cases[6][3] = {
        {100, 0, 7}, {0xffffffffffffffffull, 5, 0x10}, {0x8000000000000000ull, 0, 3},
        {12345, 0, 0xffffffffffffffffull}, {7, 0xffffffffffffffffull, 2}, {0xffff, 0, 0x100},
    };

    for (int i = 0; i < 6; i++) {
        snippet_regs_init(&r[i]);
        r[i].r[R_EAX] = cases[i][0];
        r[i].r[R_EDX] = cases[i][1];
        r[i].r[R_ECX] = cases[i][2];
    }
    /* unsigned 64 where it fits, then 32/16/8 forms with small quotients */
    snippet_compare_n(
        "mov r8, rax\n mov r9, rdx\n xor edx, edx\n div rcx\n mov r10, rax\n mov r11, rdx\n"
        " mov rax, r8\n cqo\n idiv rcx\n mov r12, rax\n mov r13, rdx\n"
        " mov eax, 1000\n xor edx, edx\n mov ecx, 7\n div ecx\n mov esi, eax\n mov edi, edx\n"
        " mov eax, -1000\n cdq\n idiv ecx\n mov ebp, eax\n mov ebx, edx\n"
        " mov ax, 1000\n mov bl, 9\n div bl\n mov r14w, ax\n mov ax, -100\n idiv bl\n",
        r, 6);
}

/* ---- shifts and rotates ---- */

static void test_shifts_by_cl(void)
{
    static const char *ops[] = {"shl", "shr", "sar", "rol", "ror", "rcl", "rcr"};
    static const char *regs[] = {"rax", "eax", "ax", "al"};

    for (unsigned o = 0; o < G_N_ELEMENTS(ops); o++) {
        GString *a = g_string_new(NULL);

        for (unsigned w = 0; w < 4; w++) {
            g_string_append_printf(a, "mov rax, rbx\n %s %s, cl\n pushfq\n pop r%u\n mov r%u, rax\n",
                                   ops[o], regs[w], 8 + w, 12 + w);
        }
        if (o >= 5) {
            snippet_set_flag_mask(F_CF | F_DF);
        } else if (o >= 3) {
            snippet_set_flag_mask(F_CF | F_OF | F_DF | F_ZF | F_SF | F_PF | F_AF);
        }
        snippet_compare_edges(a->str);
        g_string_free(a, TRUE);
    }
}

static void test_shifts_by_imm(void)
{
    snippet_compare_edges(
        "mov r8, rax\n shl r8, 1\n pushfq\n pop r9\n"
        " mov r10, rax\n sar r10d, 31\n pushfq\n pop r11\n"
        " mov r12, rbx\n shr r12w, 1\n pushfq\n pop r13\n"
        " rol bl, 1\n pushfq\n pop r14\n ror rcx, 63\n rcl edx, 1\n pushfq\n pop rsi\n"
        " rcr ax, 1\n pushfq\n pop rdi\n sal qword ptr [r15], 5\n shr dword ptr [r15 + 8], 33\n");
}

static void test_shld_shrd(void)
{
    snippet_set_flag_mask(F_CF | F_ZF | F_SF | F_PF | F_DF);
    snippet_compare_edges(
        "mov r8, rax\n shld r8, rbx, cl\n pushfq\n pop r9\n"
        " mov r10, rax\n shrd r10, rbx, cl\n pushfq\n pop r11\n"
        " mov r12, rax\n shld r12d, ebx, 7\n mov r13, rax\n shrd r13d, ebx, cl\n"
        " mov r14, rax\n shld r14w, bx, cl\n mov rsi, rax\n shrd si, bx, 3\n"
        " shrd dword ptr [r15], ebx, 9\n");
}

/* ---- bit operations ---- */

static void test_bt_family(void)
{
    snippet_set_flag_mask(F_CF | F_DF);
    snippet_compare_edges(
        "mov r8, rax\n bt r8, rbx\n setc r9b\n bts r8, rcx\n btr r8d, edx\n btc r8w, bx\n"
        " setc r10b\n bt eax, 31\n setc r11b\n btc rax, 63\n bts ax, 17\n"
        " and rbx, 0x3ff\n sub rbx, 0x200\n bts qword ptr [r15], rbx\n setc r12b\n"
        " btr dword ptr [r15 + 8], ebx\n btc word ptr [r15], bx\n setc r13b\n");
}

static void test_bsf_bsr(void)
{
    snippet_compare_edges(
        "mov r8, rcx\n bsf r8, rax\n pushfq\n pop r9\n mov r10, rcx\n bsr r10, rbx\n"
        " mov r11, rcx\n bsf r11d, eax\n mov r12, rdx\n bsr r12w, bx\n pushfq\n pop r13\n");
}

static void test_bswap_movx(void)
{
    snippet_compare_edges(
        "mov r8, rax\n bswap r8\n mov r9, rbx\n bswap r9d\n"
        " movzx r10, al\n movzx r11d, bx\n movsx r12, cl\n movsx r13d, dx\n movsxd r14, eax\n"
        " movsx si, bl\n movzx di, ah\n mov bp, 0x1234\n mov bpl, al\n");
}

static void test_cmov_setcc(void)
{
    snippet_compare_edges(
        "mov r8, -1\n mov r9, -1\n mov r10, -1\n mov r11, -1\n cmp rax, rbx\n"
        " cmovb r8, rcx\n cmovg r9d, edx\n cmovne r10w, cx\n cmovle r11, rdx\n"
        " cmovs r12, rax\n cmovp r13d, ebx\n cmovo r14, rcx\n setnp sil\n setae dil\n");
}

static void test_xchg_xadd_cmpxchg(void)
{
    snippet_compare_edges(
        "mov r8, rax\n xchg r8, rbx\n xchg ecx, edx\n xchg al, ah\n xadd rax, rbx\n"
        " pushfq\n pop r9\n xadd dx, cx\n mov [r15], rcx\n mov r10, rdx\n"
        " cmpxchg [r15], r10\n pushfq\n pop r11\n mov r12, rax\n cmpxchg r12d, ebx\n"
        " pushfq\n pop r13\n xchg [r15 + 8], bl\n lock xadd [r15], rax\n");
}

static void test_cmpxchg8b(void)
{
    snippet_compare_edges(
        "mov [r15], rax\n mov [r15 + 8], rbx\n mov r8, rax\n mov r9, rdx\n"
        " cmpxchg8b [r15]\n setz r10b\n mov r11, rax\n mov r12, rdx\n"
        " mov eax, [r15]\n mov edx, [r15 + 4]\n lock cmpxchg8b [r15]\n setz r13b\n");
}

/* CMPXCHG16B exists only when CPUID advertises CX16 (qemu64 does). */
static void test_cmpxchg16b(void)
{
    static const char text[] =
        "mov [r15], rax\n mov [r15 + 8], rbx\n mov r8, rax\n mov r9, rdx\n"
        " mov rdx, rbx\n lock cmpxchg16b [r15]\n setz r13b\n"
        " mov rdx, r9\n mov rax, r9\n cmpxchg16b [r15]\n setz r14b\n";
    snippet_state in, out;
    snippet_regs r;
    char *why = NULL;

    snippet_regs_init(&r);
    snippet_state_init(&in, &r);
    if (!snippet_run_tessera(text, &in, &out, &why) && snippet_last_vector() == EXC_UD) {
        g_free(why);
        g_test_skip("CX16 not advertised by tessera's CPUID");
        return;
    }
    g_free(why);
    snippet_compare_edges(text);
}

static void test_lea_addressing(void)
{
    snippet_compare_edges(
        "lea r8, [rax + rbx * 8 + 0x12345678]\n lea r9d, [rax + rcx * 2 - 1]\n"
        " lea r10w, [rbx + rdx]\n lea r11, [rip + 0x100]\n lea r12, [rbx * 4]\n"
        " lea r13, [rsp + 8]\n lea r14d, [ebp + eax]\n lea rsi, [r15 + r15 * 2]\n"
        " mov rdi, [r15 + 16]\n mov ecx, [r15 - 100]\n movzx eax, al\n mov dl, [r15 + rax]\n"
        " mov bx, [r15 + rax * 2 - 0x80]\n");
}

static void test_convert_lahf(void)
{
    snippet_compare_edges(
        "mov r8, rax\n cbw\n mov r9, rax\n mov rax, r8\n cwde\n mov r10, rax\n mov rax, r8\n"
        " cdqe\n mov r11, rax\n mov rax, r8\n cwd\n mov r12, rdx\n mov rax, r8\n cdq\n"
        " mov r13, rdx\n mov rax, r8\n cqo\n mov r14, rdx\n add bl, cl\n lahf\n mov rsi, rax\n"
        " mov ah, cl\n sahf\n cmc\n pushfq\n pop rdi\n stc\n cld\n std\n clc\n");
}

/* The tessera side: the same snippet runs in long mode at CPL 3. */
static void test_framework_tessera(void)
{
    snippet_state in, out;
    snippet_regs r;
    char *why = NULL;
    bool ok;

    snippet_regs_init(&r);
    r.r[R_EAX] = 40;
    r.r[R_EBX] = 5;
    r.rflags |= F_CF;
    snippet_state_init(&in, &r);
    ok = snippet_run_tessera("adc rax, rbx\n lea rcx, [rip]\n mov [r15], rax\n push rax\n",
                             &in, &out, &why);
    g_assert_true(ok || (g_test_message("%s", why), false));
    g_assert_cmphex(out.r.r[R_EAX], ==, 46);
    g_assert_cmphex(out.r.r[R_ECX], ==, SNIPPET_CODE_ADDR + 3 + 7);
    g_assert_cmphex(out.r.r[R_ESP], ==, r.r[R_ESP] - 8);
    g_assert_cmpuint(out.scratch[SNIPPET_SCRATCH_SIZE / 2], ==, 46);
    g_assert_cmpuint(out.scratch[0x1800 - 8], ==, 46);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    snippet_init(argc, argv);
    g_test_add_func("/x86/framework/qemu-runs-snippet-per-record", test_framework_qemu);
    g_test_add_func("/x86/framework/tessera-runs-snippet-in-long-mode", test_framework_tessera);
    g_test_add_func("/x86/int/add-sub-flags-all-sizes", test_add_sub);
    g_test_add_func("/x86/int/adc-sbb-consume-and-produce-carry", test_adc_sbb);
    g_test_add_func("/x86/int/cmp-then-jcc-and-setcc-every-condition", test_cmp_jcc);
    g_test_add_func("/x86/int/logic-ops-clear-cf-of", test_logic);
    g_test_add_func("/x86/int/inc-dec-keep-cf-neg-not", test_inc_dec_neg_not);
    g_test_add_func("/x86/int/mul-imul-one-two-three-operands", test_mul_imul);
    g_test_add_func("/x86/int/imul-overflow-flags", test_imul_flags);
    g_test_add_func("/x86/int/div-idiv-quotient-and-remainder", test_div);
    g_test_add_func("/x86/int/shifts-rotates-by-cl-masked-counts", test_shifts_by_cl);
    g_test_add_func("/x86/int/shifts-rotates-by-one-and-imm", test_shifts_by_imm);
    g_test_add_func("/x86/int/shld-shrd-double-shifts", test_shld_shrd);
    g_test_add_func("/x86/int/bt-bts-btr-btc-reg-and-mem-offsets", test_bt_family);
    g_test_add_func("/x86/int/bsf-bsr-zero-source-keeps-dest", test_bsf_bsr);
    g_test_add_func("/x86/int/bswap-movzx-movsx-movsxd", test_bswap_movx);
    g_test_add_func("/x86/int/cmovcc-setcc", test_cmov_setcc);
    g_test_add_func("/x86/int/xchg-xadd-cmpxchg", test_xchg_xadd_cmpxchg);
    g_test_add_func("/x86/int/cmpxchg8b-equal-and-not", test_cmpxchg8b);
    g_test_add_func("/x86/int/cmpxchg16b-when-advertised", test_cmpxchg16b);
    g_test_add_func("/x86/int/lea-and-addressing-forms", test_lea_addressing);
    g_test_add_func("/x86/int/cbw-cwd-family-lahf-sahf-flag-ops", test_convert_lahf);
    x86_int2_tests_register();
    return g_test_run();
}
