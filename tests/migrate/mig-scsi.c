/*
 * Migration round trips of the scsi plugin over virtio-scsi-pci
 * (migtest.h): scsi-hd and scsi-cd behind it; a WRITE completed into the
 * used ring and not reaped at the cut, the CD's power-on unit attention
 * still to be reported after it, reads and data checked on the file.
 */
#include "migtest.h"
#include "scsi/tests/scsi-drv.h"

static sd_fixture drv;
static char *img[2];

static void s_prepare(mt *m)
{
    memset(&drv, 0, sizeof(drv));
    for (int i = 0; i < 2; i++) {
        g_free(img[i]);
        img[i] = mt_image(m, i ? "cd.iso" : "hd.img", 1 << 20, (uint8_t)(9 + i));
    }
}

static void s_build(mt *m)
{
    mt_drive(m, "file=%s,if=none,id=d0,format=raw", img[0]);
    mt_drive(m, "file=%s,if=none,id=d1,format=raw,readonly=on", img[1]);
    drv.d.h = m->h;
    drv.d.ram = m->ram;
    drv.d.pci = true;
    drv.d.base = VD_BAR4;
    drv.nq = 1;
    drv.d.dev = mt_dev(m, "virtio-scsi-pci", "id=scsi0,num_queues=1");
    mt_bar(m, drv.d.dev, 4, VD_BAR4);
    mt_dev(m, "scsi-hd", "drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0");
    mt_dev(m, "scsi-cd", "drive=d1,bus=scsi0.0,channel=0,scsi-id=1,lun=0");
}

static void reap(mt *m)
{
    uint32_t head, len;

    mt_rd(m, VD_BAR4 + VD_ISR, 1);
    while (vd_reap(&drv.d, SD_Q_REQ, &head, &len)) {
        sd_resp r = sd_resp_of(&drv, head / 4);

        mt_set_add(m, "slot %u len %u: response %u status %#x sense %x/%02x/%02x resid %u",
                   head / 4, len, r.response, r.status, r.key, r.asc, r.ascq, r.resid);
    }
    mt_set_flush(m);
}

/* WRITE(10) of 8 blocks at LBA 4 to the disk (its unit attention taken
 * first by a TEST UNIT READY), completed, not reaped. */
static void s_write(mt *m)
{
    static const uint8_t tur[6] = {0};
    static const uint8_t wr10[10] = {0x2a, 0, 0, 0, 0, 4, 0, 0, 8, 0};

    g_assert(vd_init(&drv.d, SD_F_VERSION_1, 3, SD_QSIZE, false));
    sd_post(&drv, 0, 0, 0, 0, tur, 6, SD_NONE, 0);
    vd_kick(&drv.d, SD_Q_REQ);
    tes_harness_block_wait(m->h);
    reap(m);
    for (unsigned i = 0; i < 4096; i++) {
        sd_data(&drv, 1)[i] = (uint8_t)(i * 3 + 17);
    }
    sd_post(&drv, 0, 1, 0, 0, wr10, 10, SD_OUT, 4096);
    vd_kick(&drv.d, SD_Q_REQ);
}

/* Reaped; READ(10) back; TEST UNIT READY to the CD (unit attention). */
static void s_read(mt *m)
{
    static const uint8_t tur[6] = {0};
    static const uint8_t rd10[10] = {0x28, 0, 0, 0, 0, 4, 0, 0, 8, 0};

    reap(m);
    sd_post(&drv, 0, 2, 0, 0, rd10, 10, SD_IN, 4096);
    sd_post(&drv, 0, 3, 1, 0, tur, 6, SD_NONE, 0);
    vd_kick(&drv.d, SD_Q_REQ);
}

/* The CD again (ready now), its first block; INQUIRY of the disk. */
static void s_cd(mt *m)
{
    static const uint8_t rd10[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    static const uint8_t inq[6] = {0x12, 0, 0, 0, 96, 0};

    reap(m);
    mt_ram(m, sd_data_addr(2), 4096);
    sd_post(&drv, 0, 4, 1, 0, rd10, 10, SD_IN, 2048);
    sd_post(&drv, 0, 5, 0, 0, inq, 6, SD_IN, 96);
    vd_kick(&drv.d, SD_Q_REQ);
}

static void s_end(mt *m)
{
    reap(m);
    mt_ram(m, sd_data_addr(4), 2048);
    mt_ram(m, sd_data_addr(5), 96);
    mt_file(m, img[0], 4 * 512, 4096);
}

static const mt_case scsi = {
    .name = "virtio-scsi-pci/scsi-hd+scsi-cd",
    .plugins = {"virtio", "scsi"},
    .ram_size = 24 << 20,
    .prepare = s_prepare,
    .build = s_build,
    .steps = {s_write, s_read, s_cd, s_end},
};

/* ---- lsi53c895a: SCRIPTS stopped on an interrupt at the cut ---- */

#define LSI_MMIO 0x80000000ull
#define LSI_SRAM 0x80002000ull
#define LSI_SCRIPT 0x10000ull

static void lsi_build(mt *m)
{
    tes_device *d;

    mt_drive(m, "file=%s,if=none,id=d0,format=raw", img[0]);
    d = mt_dev(m, "lsi53c895a", "id=scsi0");
    mt_dev(m, "scsi-hd", "drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0");
    mt_bar(m, d, 1, LSI_MMIO);
    mt_bar(m, d, 2, LSI_SRAM);
}

static void lsi_regs(mt *m)
{
    mt_rd(m, LSI_MMIO + 0x14, 1); /* ISTAT0 */
    mt_rd(m, LSI_MMIO + 0x15, 1); /* ISTAT1 */
    mt_rd(m, LSI_MMIO + 0x30, 4); /* DSPS */
    mt_rd(m, LSI_MMIO + 0x2c, 4); /* DSP */
}

/* A memory move of 64 bytes, then INT 0x111: stopped, DIP up. */
static void lsi_script(mt *m)
{
    static const uint32_t prog[] = {
        0xc0000040, 0x20000, 0x21000, /* MOVE MEMORY 64, 0x20000, 0x21000 */
        0x98080000, 0x111,            /* INT 0x111 */
        0xc0000010, 0x21000, 0x22000, /* MOVE MEMORY 16, 0x21000, 0x22000 */
        0x98080000, 0x222,            /* INT 0x222 */
    };

    for (size_t i = 0; i < G_N_ELEMENTS(prog); i++) {
        mt_put32(m, LSI_SCRIPT + 4 * i, prog[i]);
    }
    for (unsigned i = 0; i < 64; i++) {
        m->ram[0x20000 + i] = (uint8_t)(i + 0x40);
    }
    mt_wr(m, LSI_MMIO + 0x39, 0x7d, 1); /* DIEN */
    mt_wr(m, LSI_MMIO + 0x34, 0xcafe0001, 4); /* SCRATCHA */
    mt_wr(m, LSI_MMIO + 0x10, 0x12340000, 4); /* DSA */
    mt_wr(m, LSI_MMIO + 0x2c, LSI_SCRIPT, 4);
    mt_rd(m, LSI_MMIO + 0x30, 4);
}

/* The interrupt handled (DSTAT read), the script resumed. */
static void lsi_resume(mt *m)
{
    lsi_regs(m);
    mt_rd(m, LSI_MMIO + 0x0c, 1);
    mt_ram(m, 0x21000, 64);
    mt_wr(m, LSI_MMIO + 0x2c, mt_rd(m, LSI_MMIO + 0x2c, 4), 4);
}

static void lsi_end(mt *m)
{
    lsi_regs(m);
    mt_rd(m, LSI_MMIO + 0x0c, 1);
    mt_ram(m, 0x22000, 16);
    mt_rd(m, LSI_MMIO + 0x34, 4);
    mt_rd(m, LSI_MMIO + 0x10, 4);
    mt_rd(m, LSI_MMIO + 0x39, 1);
}

static const mt_case lsi = {
    .name = "lsi53c895a",
    .plugins = {"virtio", "scsi"},
    .prepare = s_prepare,
    .build = lsi_build,
    .steps = {lsi_script, lsi_resume, lsi_end},
};

/* ---- megasas: MFI frames, the reply queue with an entry unconsumed ---- */

#define MG_BAR0 0x80000000ull
#define MG_RQ 0x80000ull
#define MG_PI 0x81000ull
#define MG_CI 0x81004ull
#define MG_QINFO 0x82000ull
#define MG_FRAME(s) (0x100000ull + 0x1000ull * (s))
#define MG_DATA(s) (0x200000ull + 0x1000ull * (s))

static void mg_build(mt *m)
{
    tes_device *d;

    mt_drive(m, "file=%s,if=none,id=d0,format=raw", img[0]);
    d = mt_dev(m, "megasas", "id=scsi0");
    mt_dev(m, "scsi-hd", "drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0");
    mt_bar(m, d, 0, MG_BAR0);
}

/* A frame header: context 0x100 + slot, status 0xff until answered. */
static void mg_hdr(mt *m, unsigned slot, uint8_t cmd, uint16_t flags, uint8_t sges, uint32_t len)
{
    uint64_t f = MG_FRAME(slot);

    memset(m->ram + f, 0, 0x100);
    m->ram[f] = cmd;
    m->ram[f + 2] = 0xff;
    m->ram[f + 7] = sges;
    mt_put32(m, f + 8, 0x100 + slot);
    m->ram[f + 0x10] = (uint8_t)flags;
    mt_put32(m, f + 0x14, len);
}

static void mg_fire(mt *m, unsigned slot)
{
    mt_wr(m, MG_BAR0 + 0x40, (uint32_t)MG_FRAME(slot) | 1 << 1 | 1, 4);
}

/* A DCMD (opcode) into slot's buffer, its completion posted. */
static void mg_dcmd(mt *m, unsigned slot, uint32_t opcode, uint32_t len)
{
    mg_hdr(m, slot, 5, 0, 1, len);
    mt_put32(m, MG_FRAME(slot) + 0x18, opcode);
    mt_put32(m, MG_FRAME(slot) + 0x28, (uint32_t)MG_DATA(slot));
    mt_put32(m, MG_FRAME(slot) + 0x2c, len);
    mg_fire(m, slot);
}

static void mg_regs(mt *m)
{
    mt_rd(m, MG_BAR0 + 0xb0, 4); /* OSP0: firmware state */
    mt_rd(m, MG_BAR0 + 0x30, 4); /* OSTS */
    mt_note(m, "PI %u CI %u", mt_get32(m, MG_PI), mt_get32(m, MG_CI));
}

/* INIT (polled), interrupts on; controller info asked, its reply queued
 * and its interrupt up, not consumed. */
static void mg_init(mt *m)
{
    mg_hdr(m, 0, 0, 1, 0, 32);
    mt_put32(m, MG_FRAME(0) + 0x18, (uint32_t)MG_QINFO);
    memset(m->ram + MG_QINFO, 0, 32);
    mt_put32(m, MG_QINFO + 4, 64);
    mt_put32(m, MG_QINFO + 8, (uint32_t)MG_RQ);
    mt_put32(m, MG_QINFO + 16, (uint32_t)MG_PI);
    mt_put32(m, MG_QINFO + 24, (uint32_t)MG_CI);
    mt_put32(m, MG_PI, 0);
    mt_put32(m, MG_CI, 0);
    mg_fire(m, 0);
    tes_harness_block_wait(m->h);
    mt_ram(m, MG_FRAME(0) + 2, 1);
    mt_wr(m, MG_BAR0 + 0x34, ~0x80000000u, 4);
    mg_dcmd(m, 1, 0x01010000, 256);
}

/* The reply consumed, the interrupt acknowledged; the PD list asked. */
static void mg_reply(mt *m)
{
    mg_regs(m);
    mt_note(m, "reply %#x", mt_get32(m, MG_RQ));
    mt_put32(m, MG_CI, 1);
    mt_wr(m, MG_BAR0 + 0x30, mt_rd(m, MG_BAR0 + 0x30, 4), 4);
    mt_ram(m, MG_DATA(1), 256);
    mt_ram(m, MG_FRAME(1) + 2, 1);
    mg_dcmd(m, 2, 0x02010000, 512);
}

static void mg_end(mt *m)
{
    mg_regs(m);
    mt_note(m, "reply %#x", mt_get32(m, MG_RQ + 4));
    mt_ram(m, MG_DATA(2), 512);
    mt_ram(m, MG_FRAME(2) + 2, 1);
}

static const mt_case megasas = {
    .name = "megasas",
    .plugins = {"virtio", "scsi"},
    .ram_size = 4 << 20,
    .prepare = s_prepare,
    .build = mg_build,
    .steps = {mg_init, mg_reply, mg_end},
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mt_add(&scsi);
    mt_add(&lsi);
    mt_add(&megasas);
    return g_test_run();
}
