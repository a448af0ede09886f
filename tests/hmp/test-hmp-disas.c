/*
 * HMP x /i and xp /i (core/hmp-disas.c) through the harness: the same
 * bytes decode as 16-, 32- and 64-bit x86 code by the first vCPU's mode
 * (CR0.PE, EFER.LMA), and AArch64 code on an Arm vCPU; x /i of a
 * virtual address goes through the vCPU's translation; a bad count and a
 * format mixing i with a size are answered, not crashed on.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <tessera/harness.h>

#include "cpu-x86/x86.h"

static char *hmp(tes_harness *h, const char *cmd)
{
    char *q = g_strdup_printf("{\"execute\":\"human-monitor-command\","
                              "\"arguments\":{\"command-line\":\"%s\"}}", cmd);
    char *r = tes_harness_qmp(h, q);
    char *out = g_strdup(r);

    g_free(q);
    free(r);
    return out;
}

static tes_harness *up(const char *plugin)
{
    tes_harness *h = tes_harness_new(1 << 20);
    char *p = g_strdup_printf("%s/%s/%s.so", BUILD_PLUGINDIR, plugin, plugin);

    if (!tes_harness_load(h, p)) {
        g_error("%s", tes_harness_error(h));
    }
    g_free(p);
    return h;
}

static void put(tes_harness *h, uint64_t addr, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tes_harness_write(h, addr + i, b[i], 1);
    }
}

/* b8 34 12 00 00 90: mov $0x1234 to ax (16-bit, then 0x0000 is an add),
 * to eax (32-bit), and with REX.W 48 first, movabs in 64-bit. */
static void test_x86_modes(void)
{
    static const uint8_t code[] = {0xb8, 0x34, 0x12, 0x00, 0x00, 0x90, 0x90, 0x90};
    static const uint8_t code64[] = {0x48, 0xc7, 0xc0, 0x34, 0x12, 0x00, 0x00, 0xf4};
    tes_harness *h = up("cpu-x86");
    tes_cpu *cpu = tes_harness_cpu(h, "qemu64", 0);
    x86_cpu *c = tes_harness_cpu_state(cpu);
    char *r;

    put(h, 0x1000, code, sizeof(code));
    put(h, 0x2000, code64, sizeof(code64));
    /* Reset: real mode. */
    r = hmp(h, "x /2i 0x1000");
    g_test_message("%s", r);
    g_assert_nonnull(strstr(r, "0x0000000000001000:  movw     $0x1234, %ax"));
    g_assert_nonnull(strstr(r, "0x0000000000001003:  addb     %al, (%bx, %si)"));
    g_free(r);
    /* Protected mode, no paging. */
    c->cr0 |= 1;
    c->state_dirty = true;
    r = hmp(h, "x /2i 0x1000");
    g_test_message("%s", r);
    g_assert_nonnull(strstr(r, "0x0000000000001000:  movl     $0x1234, %eax"));
    g_assert_nonnull(strstr(r, "0x0000000000001005:  nop"));
    g_free(r);
    /* Long mode (EFER.LMA), read by physical address. */
    c->efer |= 0x500;
    r = hmp(h, "xp /2i 0x2000");
    g_test_message("%s", r);
    g_assert_nonnull(strstr(r, "0x0000000000002000:  movq     $0x1234, %rax"));
    g_assert_nonnull(strstr(r, "0x0000000000002007:  hlt"));
    g_free(r);
    /* Unbacked memory reads as all ones (0xff: not an instruction). */
    r = hmp(h, "xp /2i 0x800000");
    g_test_message("%s", r);
    g_assert_nonnull(strstr(r, "0x0000000000800000:  (bad)"));
    g_free(r);
    r = hmp(h, "x /0i 0x1000");
    g_assert_nonnull(strstr(r, "count must be 1..65536"));
    g_free(r);
    tes_harness_free(h);
}

static void test_a64(void)
{
    static const uint32_t code[] = {0x91000400, 0xd503207f, 0xffffffff};
    tes_harness *h = up("cpu-arm");
    char *r;

    tes_harness_cpu(h, "cortex-a57", 0);
    for (size_t i = 0; i < G_N_ELEMENTS(code); i++) {
        tes_harness_write(h, 0x1000 + 4 * i, code[i], 4);
    }
    r = hmp(h, "x /3i 0x1000");
    g_test_message("%s", r);
    g_assert_nonnull(strstr(r, "0x0000000000001000:  add      x0, x0, #1"));
    g_assert_nonnull(strstr(r, "0x0000000000001004:  wfi"));
    g_assert_nonnull(strstr(r, "0x0000000000001008:  (bad)"));
    g_free(r);
    tes_harness_free(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hmp/x-i/x86-modes", test_x86_modes);
    g_test_add_func("/hmp/x-i/aarch64", test_a64);
    return g_test_run();
}
