/*
 * Migration round trips of both CPUs (migtest.h): a loop stopped by the
 * instruction budget mid-way (registers, flags, a system register, a
 * store to RAM), then HLT / WFI reached: the run state, the registers and
 * what the loop wrote must carry on across the cut as without it.
 */
#include "migtest.h"
#include "cpu-arm/arm.h"

/* cpu-x86's state, by what a guest sees: x86.h and arm.h cannot share a
 * file, so the x86 half reads through its own unit (mig-cpu-x86.c). */
void x86_setup(mt *m, tes_cpu *cpu);
extern const mt_case x86_drain_case;
void x86_regs(mt *m, tes_cpu *cpu);

#define CODE 0x1000ull
#define DATA 0x2000ull

/* ---- AArch64 (EL1 at reset, MMU off) ---- */

static const uint32_t a64_code[] = {
    0x91000400, /* 0x1000: add  x0, x0, #1 */
    0xd51bd040, /* 0x1004: msr  tpidr_el0, x0 */
    0xf9000020, /* 0x1008: str  x0, [x1] */
    0xf1000442, /* 0x100c: subs x2, x2, #1 */
    0x54ffff81, /* 0x1010: b.ne 0x1000 */
    0xd503207f, /* 0x1014: wfi */
    0x91000400, /* 0x1018: add  x0, x0, #1 */
    0x14000000, /* 0x101c: b    . */
};

/* The case's CPU model (data, PLUGIN:MODEL: "max" is in both): every
 * model of both CPUs has a case. */
static void cpu_build(mt *m)
{
    mt_cpu(m, m->c->data);
}

static void a64_regs(mt *m)
{
    arm_cpu *c = tes_harness_cpu_state(m->cpu[0]);

    mt_note(m, "pc %#" G_GINT64_MODIFIER "x x0 %" G_GINT64_MODIFIER "u x1 %#"
            G_GINT64_MODIFIER "x x2 %" G_GINT64_MODIFIER "u nzcv %#x daif %#x el %u "
            "tpidr_el0 %" G_GINT64_MODIFIER "u", c->pc, c->x[0], c->x[1], c->x[2], c->nzcv,
            c->daif, c->el, c->tpidr_el0);
    mt_ram(m, DATA, 8);
}

static void a64_start(mt *m)
{
    arm_cpu *c = tes_harness_cpu_state(m->cpu[0]);

    for (size_t i = 0; i < G_N_ELEMENTS(a64_code); i++) {
        tes_harness_write(m->h, CODE + 4 * i, a64_code[i], 4);
    }
    c->pc = CODE;
    c->x[1] = DATA;
    c->x[2] = 5;
    mt_exec(m, 0, 7); /* mid-loop, mid-iteration */
    a64_regs(m);
}

static void a64_more(mt *m)
{
    mt_exec(m, 0, 9);
    a64_regs(m);
}

static void a64_halt(mt *m)
{
    mt_exec(m, 0, 100);
    a64_regs(m);
}

static void a64_wake(mt *m)
{
    mt_exec(m, 0, 3);
    a64_regs(m);
}

#define A64CASE(model)                                                                     \
    {.name = "cpu-arm/" model, .plugins = {"cpu-arm"}, .build = cpu_build,                 \
     .steps = {a64_start, a64_more, a64_halt, a64_wake}, .data = "cpu-arm:" model}

static const mt_case a64[] = {A64CASE("cortex-a57"), A64CASE("max")};

/* ---- x86 (real mode, CS base 0) ---- */

static void x86_start(mt *m)
{
    x86_setup(m, m->cpu[0]);
    mt_exec(m, 0, 6);
    x86_regs(m, m->cpu[0]);
}

static void x86_more(mt *m)
{
    mt_exec(m, 0, 5);
    x86_regs(m, m->cpu[0]);
}

static void x86_halt(mt *m)
{
    mt_exec(m, 0, 100);
    x86_regs(m, m->cpu[0]);
}

static void x86_wake(mt *m)
{
    mt_exec(m, 0, 3);
    x86_regs(m, m->cpu[0]);
}

#define X86CASE(model)                                                                     \
    {.name = "cpu-x86/" model, .plugins = {"cpu-x86"}, .build = cpu_build,                 \
     .steps = {x86_start, x86_more, x86_halt, x86_wake}, .data = "cpu-x86:" model}

static const mt_case x86[] = {X86CASE("qemu64"), X86CASE("max")};

/* ---- the x86 local APIC timer (CPU 0's, where the harness's accesses
 * land: they run with no current vCPU) ---- */

#define LAPIC 0xfee00000ull

static void lapic_state(mt *m)
{
    mt_rd(m, LAPIC + 0x390, 4); /* current count */
    mt_rd(m, LAPIC + 0x220, 4); /* IRR 64..95 */
    mt_rd(m, LAPIC + 0x120, 4); /* ISR 64..95 */
    mt_rd(m, LAPIC + 0x320, 4);
    mt_rd(m, LAPIC + 0x80, 4);
}

/* Enabled, TPR set, the timer one-shot at vector 0x41, mid-count. */
static void lapic_arm(mt *m)
{
    mt_wr(m, LAPIC + 0xf0, 0x1ff, 4);
    mt_wr(m, LAPIC + 0x80, 0x10, 4);
    mt_wr(m, LAPIC + 0x3e0, 0x3, 4); /* divide by 16 */
    mt_wr(m, LAPIC + 0x320, 0x41, 4);
    mt_wr(m, LAPIC + 0x380, 100000, 4);
    mt_clock(m, 300000);
    lapic_state(m);
}

static void lapic_run(mt *m)
{
    mt_clock(m, 700000);
    lapic_state(m);
}

/* Expired: in the IRR. Then periodic. */
static void lapic_fire(mt *m)
{
    mt_clock(m, 5000000);
    lapic_state(m);
    mt_wr(m, LAPIC + 0x320, 0x20042, 4);
    mt_wr(m, LAPIC + 0x380, 5000, 4);
}

static void lapic_periodic(mt *m)
{
    mt_clock(m, 123456);
    lapic_state(m);
    mt_rd(m, LAPIC + 0x230, 4);
}

static const mt_case lapic = {
    .name = "cpu-x86/lapic-timer",
    .plugins = {"cpu-x86"},
    .build = cpu_build,
    .data = "qemu64",
    .steps = {lapic_arm, lapic_run, lapic_fire, lapic_periodic},
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(a64); i++) {
        mt_add(&a64[i]);
        mt_add(&x86[i]);
    }
    mt_add(&lapic);
    mt_add(&x86_drain_case);
    return g_test_run();
}
