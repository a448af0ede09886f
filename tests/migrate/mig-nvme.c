/*
 * Migration round trips of nvme and nvme-ns (migtest.h): I/O queues set up,
 * a write and a read completed into the CQ with their interrupt pending and
 * not reaped at the cut, commands queued in the SQ past the doorbell the
 * guest has not rung yet; data checked in RAM and on the files.
 */
#include "migtest.h"
#include "nvme/tests/nvme-drv.h"

#define DATA 0x400000ull

static nd drv;
static char *img[2];

static void n_prepare(mt *m)
{
    memset(&drv, 0, sizeof(drv));
    for (int i = 0; i < 2; i++) {
        char name[16];

        g_free(img[i]);
        g_snprintf(name, sizeof(name), "ns%d.img", i);
        img[i] = mt_image(m, name, 1 << 20, (uint8_t)(5 + i));
    }
}

static void n_build(mt *m)
{
    mt_drive(m, "file=%s,if=none,id=d0,format=raw", img[0]);
    mt_drive(m, "file=%s,if=none,id=d1,format=raw", img[1]);
    drv.h = m->h;
    drv.ram = m->ram;
    drv.dev = mt_dev(m, "nvme", "drive=d0,serial=deadbeef");
    mt_dev(m, "nvme-ns", "drive=d1,nsid=2");
    drv.bar = mt_bar(m, drv.dev, 0, ND_BAR0);
}

static void rw(unsigned qid, uint8_t op, uint32_t nsid, uint64_t buf, uint64_t lba)
{
    uint8_t s[64];
    uint32_t cdw[6] = {(uint32_t)lba, (uint32_t)(lba >> 32), 7}; /* 8 blocks */

    nd_sqe(s, op, nsid, buf, 0, cdw);
    nd_push(&drv, qid, s);
}

static void reap(mt *m, unsigned qid)
{
    nd_cqe c;

    /* sq_head says how far the controller had read when it completed:
     * with two commands fetched together, either may finish first. */
    while (nd_peek(&drv, qid, &c, true)) {
        mt_set_add(m, "cqe q%u cid %u sqid %u status %#x dw0 %#x", qid, c.cid, c.sqid,
                   c.status, c.dw0);
    }
    mt_set_flush(m);
}

/* Enabled, MSI-X on, an I/O queue pair; a write to ns 1 and a read of ns
 * 2 completed, not reaped. */
static void n_start(mt *m)
{
    g_assert(tes_harness_msi_enable(m->h, drv.dev));
    g_assert(nd_enable(&drv));
    g_assert_cmpuint(nd_create_ioq(&drv, 1, 8, 1), ==, 0);
    mt_rd(m, ND_BAR0 + 0x1c, 4);
    mt_rd(m, ND_BAR0 + 0x14, 4);
    for (unsigned i = 0; i < 4096; i++) {
        m->ram[DATA + i] = (uint8_t)(i * 13 + 1);
    }
    rw(1, 0x01, 1, DATA, 16);
    rw(1, 0x02, 2, DATA + 0x1000, 3);
    nd_ring(&drv, 1);
}

/* Reaped; a read of what was written queued but the doorbell not rung. */
static void n_queue(mt *m)
{
    reap(m, 1);
    mt_ram(m, DATA + 0x1000, 4096);
    rw(1, 0x02, 1, DATA + 0x2000, 16);
    rw(1, 0x00, 1, 0, 0); /* flush */
}

static void n_ring(mt *m)
{
    nd_ring(&drv, 1);
    mt_rd(m, ND_BAR0 + 0x1c, 4);
}

/* An admin Get Features (number of queues) on the admin queue too. */
static void n_end(mt *m)
{
    uint32_t dw0 = 0;
    uint32_t cdw[6] = {0x07};

    reap(m, 1);
    mt_ram(m, DATA + 0x2000, 4096);
    mt_note(m, "get features %#x", nd_cmd(&drv, 0, 0x0a, 0, 0, 0, cdw, &dw0));
    mt_note(m, "dw0 %#x", dw0);
    mt_file(m, img[0], 16 * 512, 4096);
    mt_file(m, img[1], 0, 8192);
    mt_rd(m, ND_BAR0 + 0x1c, 4);
}

static const mt_case nvme_case = {
    .name = "nvme",
    .plugins = {"nvme"},
    .ram_size = 8 << 20,
    .prepare = n_prepare,
    .build = n_build,
    .steps = {n_start, n_queue, n_ring, n_end},
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mt_add(&nvme_case);
    return g_test_run();
}
