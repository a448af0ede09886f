/*
 * The x86 half of mig-cpu.c: real-mode code and the registers it leaves.
 */
#include "migtest.h"
#include "cpu-x86/x86.h"
#include "nvme/tests/nvme-drv.h"

void x86_setup(mt *m, tes_cpu *cpu);
void x86_regs(mt *m, tes_cpu *cpu);
extern const mt_case x86_drain_case;

/* 16-bit code at 0x1000: three rounds of inc/add-to-memory/loop, then HLT. */
static const uint8_t code[] = {
    0xb9, 0x03, 0x00,       /* 1000: mov cx, 3 */
    0x40,                   /* 1003: inc ax */
    0x01, 0x06, 0x00, 0x20, /* 1004: add [0x2000], ax */
    0xe2, 0xf9,             /* 1008: loop 1003 */
    0xf4,                   /* 100a: hlt */
    0x40,                   /* 100b: inc ax */
    0xeb, 0xfe,             /* 100c: jmp $ */
};

void x86_setup(mt *m, tes_cpu *cpu)
{
    x86_cpu *c = tes_harness_cpu_state(cpu);

    for (size_t i = 0; i < sizeof(code); i++) {
        tes_harness_write(m->h, 0x1000 + i, code[i], 1);
    }
    c->seg[1].sel = 0;
    c->seg[1].base = 0;
    c->rip = 0x1000;
    c->regs[0] = 0x10;
    c->state_dirty = true;
}

void x86_regs(mt *m, tes_cpu *cpu)
{
    x86_cpu *c = tes_harness_cpu_state(cpu);

    mt_note(m, "rip %#" G_GINT64_MODIFIER "x ax %#" G_GINT64_MODIFIER "x cx %#"
            G_GINT64_MODIFIER "x cr0 %#" G_GINT64_MODIFIER "x cs %#x/%#" G_GINT64_MODIFIER "x",
            c->rip, c->regs[0], c->regs[1], c->cr0, c->seg[1].sel, c->seg[1].base);
    mt_ram(m, 0x2000, 2);
}

/* ---- an interrupt raised while the save drains the devices (issue 17) ----
 *
 * The vCPU comes before the nvme controller in the device list, so its
 * section (the LAPIC's IRR) was written before nvme's pre_save() drained
 * the write in flight: the completion went into the CQ in RAM but its
 * MSI-X message into a LAPIC already saved. The destination's guest idled
 * in HLT waiting for an interrupt that never came. */

#define LAPIC 0xfee00000ull
#define DATA 0x400000ull
#define VEC 0x41

static nd drv;
static char *img;

static void drain_prepare(mt *m)
{
    memset(&drv, 0, sizeof(drv));
    g_free(img);
    img = mt_image(m, "ns.img", 1 << 20, 9);
}

static void drain_build(mt *m)
{
    mt_cpu(m, "cpu-x86:qemu64");
    mt_drive(m, "file=%s,if=none,id=d0,format=raw", img);
    drv.h = m->h;
    drv.ram = m->ram;
    drv.dev = mt_dev(m, "nvme", "drive=d0,serial=mig17");
    drv.bar = mt_bar(m, drv.dev, 0, ND_BAR0);
}

/* The LAPIC enabled; I/O queue 1 on MSI-X vector 1, which sends fixed
 * vector VEC to APIC ID 0; a write rung and the machine migrated before
 * it completes. */
static void drain_write(mt *m)
{
    uint8_t s[64];
    uint32_t cdw[6] = {0, 0, 7}; /* 8 blocks at LBA 0 */

    mt_wr(m, LAPIC + 0xf0, 0x1ff, 4);
    g_assert(tes_harness_msi_enable(m->h, drv.dev));
    g_assert(nd_enable(&drv));
    g_assert_cmpuint(nd_create_ioq(&drv, 1, 8, 1), ==, 0);
    mt_wr(m, ND_BAR0 + 0x2000 + 16, LAPIC, 4); /* MSI-X table entry 1 */
    mt_wr(m, ND_BAR0 + 0x2000 + 16 + 4, 0, 4);
    mt_wr(m, ND_BAR0 + 0x2000 + 16 + 8, VEC, 4);
    for (unsigned i = 0; i < 4096; i++) {
        m->ram[DATA + i] = (uint8_t)(i * 11 + 3);
    }
    nd_sqe(s, 0x01, 1, DATA, 0, cdw);
    nd_push(&drv, 1, s);
    nd_ring(&drv, 1);
    mt_cut(m);
}

/* The completion is in the CQ and its vector in the IRR. */
static void drain_check(mt *m)
{
    nd_cqe c;
    uint32_t irr = (uint32_t)mt_rd(m, LAPIC + 0x200 + 0x10 * (VEC / 32), 4);

    g_assert(nd_peek(&drv, 1, &c, true));
    mt_note(m, "cqe cid %u status %#x", c.cid, c.status);
    g_assert_cmphex(irr & (1u << (VEC % 32)), !=, 0);
    mt_file(m, img, 0, 4096);
}

const mt_case x86_drain_case = {
    .name = "cpu-x86/msi-in-drain",
    .plugins = {"cpu-x86", "nvme"},
    .ram_size = 8 << 20,
    .prepare = drain_prepare,
    .build = drain_build,
    .steps = {drain_write, drain_check},
};
