/*
 * cpu-x86: x87/SSE/SSE2 through the whole CPU (decode, memory, the
 * exception path) against qemu-x86_64, with the snippet-x86 framework.
 * The bit-exact semantics are checked against the host CPU in
 * test-x86-fp-host.c; these cases guard the integration: prefixes,
 * ModRM memory operands, REX registers, flags and the FXSAVE image.
 */
#include "snippet-x86.h"

static void test_x87_sequence(void)
{
    snippet_regs r;

    snippet_regs_init(&r);
    snippet_compare("fld1\n fldpi\n fmul st, st(1)\n fsqrt\n fstp qword ptr [r15]\n"
                    "fild dword ptr [r15+8]\n fistp word ptr [r15+16]\n fldl2e\n fcomip st, st(1)\n"
                    "fstp tbyte ptr [r15+32]\n fnstsw ax\n fnstcw [r15+48]", &r);
}

static void test_sse_sequence(void)
{
    snippet_regs r;

    snippet_regs_init(&r);
    r.r[R_EAX] = 0x7fffffff;
    snippet_compare("cvtsi2sd xmm1, rax\n movapd xmm2, xmm1\n addsd xmm2, xmm2\n"
                    "cvttsd2si ecx, xmm2\n movdqu xmm9, [r15]\n pcmpeqb xmm9, xmm1\n"
                    "pmovmskb edx, xmm9\n movups [r15+64], xmm2\n ucomisd xmm1, xmm2\n"
                    "sqrtps xmm10, xmm9\n pshufd xmm11, xmm9, 0x1b\n psubb xmm11, xmm1\n"
                    "pminub xmm11, [r15+16]\n pxor xmm12, xmm12\n movq xmm13, rax\n"
                    "stmxcsr [r15+96]", &r);
}

static void test_mmx_sequence(void)
{
    snippet_regs r;

    snippet_regs_init(&r);
    r.r[R_EAX] = 0x8000ffff7f01;
    snippet_compare("movq mm0, rax\n paddusb mm0, mm0\n movq mm1, [r15]\n punpcklbw mm1, mm0\n"
                    "pmaddwd mm1, mm0\n movd ecx, mm1\n movq [r15+8], mm1\n emms", &r);
}

static void test_fxsave_image(void)
{
    snippet_regs r;

    snippet_regs_init(&r);
    /* FOP/FIP/FDP and the padding of the ST slots are left out: qemu
     * does not model them (the host test checks them against hardware). */
    snippet_compare("fldz\n fld1\n and r15, -16\n fxsave [r15]\n mov r8d, [r15]\n"
                    "movzx r9d, byte ptr [r15+4]\n mov r10d, [r15+24]\n mov r11, [r15+32]\n"
                    "movzx r12d, word ptr [r15+40]\n mov r13, [r15+168]\n fxrstor [r15]\n"
                    "mov rdi, r15\n mov ecx, 64\n xor eax, eax\n rep stosq", &r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    snippet_init(argc, argv);
    g_test_add_func("/x86/fp/x87-sequence-matches-qemu", test_x87_sequence);
    g_test_add_func("/x86/fp/sse2-sequence-matches-qemu", test_sse_sequence);
    g_test_add_func("/x86/fp/mmx-sequence-matches-qemu", test_mmx_sequence);
    g_test_add_func("/x86/fp/fxsave-image-matches-qemu", test_fxsave_image);
    return g_test_run();
}
