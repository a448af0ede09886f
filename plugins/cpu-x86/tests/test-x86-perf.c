/*
 * cpu-x86: neither the decoded-instruction cache (decode.c) nor the
 * translator (translate.c) may ever run stale code. Guest code that rewrites instructions it already ran (immediates,
 * opcodes, lengths), as Linux's alternatives, static keys and reused
 * userspace pages do, runs the new bytes at once.
 */
#include "snippet-x86.h"

static snippet_state run(const char *text)
{
    snippet_regs r;
    snippet_state in, out;
    char *why = NULL;

    snippet_regs_init(&r);
    snippet_state_init(&in, &r);
    if (!snippet_run_tessera(text, &in, &out, &why)) {
        g_error("snippet did not finish: %s", why);
    }
    return out;
}

/* The loop runs "mov eax, imm32" twice; the first pass patches its
 * immediate: the second pass must add the new value. */
static void test_patched_immediate(void)
{
    snippet_state s = run("xor r8, r8\n mov ecx, 2\n lea rdx, [rip + 2f]\n"
                          "1: nop\n2: mov eax, 0x11111111\n add r8, rax\n"
                          " mov dword ptr [rdx + 1], 0x22222222\n dec ecx\n jnz 1b\n");

    g_assert_cmphex(s.r.r[R_R8], ==, 0x33333333ull);
}

/* The opcode changes from ADD to SUB (same length), then the whole
 * instruction is replaced by a longer one spanning the old one and the
 * byte after it. */
static void test_patched_opcode_and_length(void)
{
    snippet_state s = run("mov eax, 100\n mov ebx, 1\n mov ecx, 3\n lea rdx, [rip + 2f]\n"
                          "1: nop\n2: add eax, ebx\n nop\n nop\n nop\n nop\n nop\n"
                          " cmp ecx, 3\n jne 3f\n mov byte ptr [rdx], 0x29\n jmp 4f\n"
                          "3: mov dword ptr [rdx], 0x3e8c0c7\n mov word ptr [rdx + 4], 0\n"
                          "4: dec ecx\n jnz 1b\n");

    /* pass 1: 100 + 1; pass 2: 101 - 1; pass 3: mov eax, 1000 (c7 c0 imm32) */
    g_assert_cmphex(s.r.r[R_EAX], ==, 1000);
}

/* A store patches an instruction further down the same straight-line
 * block, through an ALU read-modify-write, an SSE store and a push onto
 * a stack that overlaps the code (imm32 0x77, then the NOPs again): the
 * patched bytes run. */
static void test_patched_in_same_block(void)
{
    snippet_state s = run("mov r8, rsp\n lea rsp, [rip + 3f + 9]\n mov eax, 1\n"
                          " add byte ptr [rip + 1f + 1], 0x41\n"
                          "1: mov bl, 0x01\n mov ecx, 0x42\n movd xmm0, ecx\n"
                          " movd dword ptr [rip + 2f + 1], xmm0\n"
                          "2: mov edx, 0x11111111\n mov r9, 0x9090909000000077\n push r9\n"
                          "3: mov esi, 0x11111111\n nop\n nop\n nop\n nop\n mov rsp, r8\n");

    g_assert_cmphex(s.r.r[R_EBX] & 0xff, ==, 0x42);
    g_assert_cmphex(s.r.r[R_EDX], ==, 0x42);
    g_assert_cmphex(s.r.r[R_ESI], ==, 0x77);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    snippet_init(argc, argv);
    g_test_add_func("/x86/dcache/patched-immediate-runs-new-value", test_patched_immediate);
    g_test_add_func("/x86/dcache/patched-opcode-and-length-run-new-code",
                    test_patched_opcode_and_length);
    g_test_add_func("/x86/smc/store-patches-later-instruction-of-same-block",
                    test_patched_in_same_block);
    return g_test_run();
}
