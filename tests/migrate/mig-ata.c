/*
 * Migration round trips of the ata plugin (migtest.h): piix3-ide with an
 * IDENTIFY's PIO data half read and INTRQ up at the cut, then bus-master
 * DMA writes and reads with their completion interrupt pending; ich9-ahci
 * with a command completed and PxIS not yet cleared, NCQ-free DMA after.
 * ide-hd and ide-cd on both.
 */
#include <stdio.h>

#include "migtest.h"
#include "ata/tests/ata-drv.h"

#define BUF 0x400000ull

static ad drv;
static char *img[2];

static void ata_prepare(mt *m)
{
    memset(&drv, 0, sizeof(drv));
    for (int i = 0; i < 2; i++) {
        g_free(img[i]);
        img[i] = mt_image(m, i ? "cd.iso" : "hd.img", i ? 1 << 20 : 4 << 20, (uint8_t)(i + 1));
    }
}

static void ata_common(mt *m, const char *ctrl, const char *hd, const char *cd)
{
    mt_drive(m, "file=%s,if=none,id=d0,format=raw", img[0]);
    mt_drive(m, "file=%s,if=none,id=d1,format=raw,readonly=on", img[1]);
    drv.h = m->h;
    drv.ram = m->ram;
    drv.ram_size = tes_harness_ram_size(m->h);
    drv.ctrl = mt_dev(m, ctrl, NULL);
    mt_dev(m, "ide-hd", hd);
    mt_dev(m, "ide-cd", cd);
}

/* ---- piix3-ide ---- */

static void piix_build(mt *m)
{
    ata_common(m, "piix3-ide", "drive=d0,bus=ide.0,serial=MIG1", "drive=d1,bus=ide.1");
    mt_bar(m, drv.ctrl, 4, AD_BM_PORT);
}

static void words(mt *m, unsigned n)
{
    uint64_t x = 0;

    for (unsigned i = 0; i < n; i++) {
        x = x * 31 + tes_harness_io_read(m->h, 0x1f0, 2);
    }
    mt_note(m, "%u data words: %016" G_GINT64_MODIFIER "x", n, x);
}

/* IDENTIFY: the sector in the drive's buffer, 100 words of 256 read. */
static void piix_identify(mt *m)
{
    ad_issue(&drv, 0, 0, 0xec, 0, 0, 0, false);
    tes_harness_block_wait(m->h);
    mt_in(m, 0x3f6, 1);
    words(m, 100);
}

/* The rest; status read (INTRQ down); a DMA write of 2 sectors at LBA 8. */
static void piix_dma_write(mt *m)
{
    words(m, 156);
    mt_in(m, 0x1f7, 1);
    for (unsigned i = 0; i < 1024; i++) {
        m->ram[BUF + i] = (uint8_t)(i * 11 + 3);
    }
    ad_prd(&drv, 0, (uint32_t)BUF, 1024, true);
    ad_issue(&drv, 0, 0, 0xca, 0, 8, 2, false);
    ad_bm_start(&drv, 0, (uint32_t)AD_PRD, false);
}

/* Its interrupt taken; read back by DMA. */
static void piix_dma_read(mt *m)
{
    mt_in(m, AD_BM_PORT + 2, 1);
    mt_in(m, 0x1f7, 1);
    tes_harness_io_write(m->h, AD_BM_PORT, 0, 1);
    ad_prd(&drv, 0, (uint32_t)BUF + 0x10000, 1024, true);
    ad_issue(&drv, 0, 0, 0xc8, 0, 8, 2, false);
    ad_bm_start(&drv, 0, (uint32_t)AD_PRD, true);
}

/* The CD's signature on the secondary channel; the data checked. */
static void piix_end(mt *m)
{
    mt_in(m, AD_BM_PORT + 2, 1);
    mt_in(m, 0x1f7, 1);
    mt_ram(m, BUF + 0x10000, 1024);
    mt_file(m, img[0], 8 * 512, 1024);
    mt_out(m, 0x176, 0xa0, 1);
    mt_in(m, 0x174, 1);
    mt_in(m, 0x175, 1);
    mt_in(m, 0x177, 1);
}

static const mt_case piix = {
    .name = "piix3-ide",
    .plugins = {"ata"},
    .ram_size = 8 << 20,
    .prepare = ata_prepare,
    .build = piix_build,
    .steps = {piix_identify, piix_dma_write, piix_dma_read, piix_end},
};

/* ---- ich9-ahci ---- */

static void ahci_build(mt *m)
{
    ata_common(m, "ich9-ahci", "drive=d0,bus=ide.0", "drive=d1,bus=ide.1");
    mt_bar(m, drv.ctrl, 5, AD_ABAR);
}

static void ahci_port_state(mt *m, unsigned p)
{
    mt_rd(m, AD_ABAR + 0x04, 4); /* GHC */
    mt_rd(m, AD_ABAR + 0x08, 4); /* IS */
    mt_rd(m, AD_ABAR + ad_port(p, 0x10), 4); /* PxIS */
    mt_rd(m, AD_ABAR + ad_port(p, 0x20), 4); /* PxTFD */
    mt_rd(m, AD_ABAR + ad_port(p, 0x38), 4); /* PxCI */
}

/* HBA up with interrupts; IDENTIFY done by DMA, PxIS not cleared. */
static void ahci_identify(mt *m)
{
    ad_wr(&drv, 0x04, 0x80000002u); /* AE, IE */
    ad_port_start(&drv, 0);
    ad_port_start(&drv, 1);
    ad_cmd(&drv, 0, 0, 0xec, 0, 0, 0, NULL, 1, false);
    ad_prdt(&drv, 0, 0, 0, BUF, 512);
    ad_wr(&drv, ad_port(0, 0x38), 1);
    ahci_port_state(m, 0);
}

/* Interrupt handled; a write of 4 sectors at LBA 20 in slot 3. */
static void ahci_write(mt *m)
{
    mt_ram(m, BUF, 512);
    ad_wr(&drv, ad_port(0, 0x10), ad_rd(&drv, ad_port(0, 0x10)));
    ad_wr(&drv, 0x08, ad_rd(&drv, 0x08));
    for (unsigned i = 0; i < 2048; i++) {
        m->ram[BUF + 0x10000 + i] = (uint8_t)(i * 5 + 7);
    }
    ad_cmd(&drv, 0, 3, 0x35, 0, 20, 4, NULL, 1, true);
    ad_prdt(&drv, 0, 3, 0, BUF + 0x10000, 2048);
    ad_wr(&drv, ad_port(0, 0x38), 1u << 3);
}

/* Read it back in slot 5, and the CD's INQUIRY on port 1. */
static void ahci_read(mt *m)
{
    static const uint8_t inquiry[12] = {0x12, 0, 0, 0, 36};

    ahci_port_state(m, 0);
    ad_wr(&drv, ad_port(0, 0x10), ad_rd(&drv, ad_port(0, 0x10)));
    ad_cmd(&drv, 0, 5, 0x25, 0, 20, 4, NULL, 1, false);
    ad_prdt(&drv, 0, 5, 0, BUF + 0x20000, 2048);
    ad_wr(&drv, ad_port(0, 0x38), 1u << 5);
    ad_cmd(&drv, 1, 0, 0xa0, 0x01, 0, 0, inquiry, 1, false);
    ad_prdt(&drv, 1, 0, 0, BUF + 0x30000, 36);
    ad_wr(&drv, ad_port(1, 0x38), 1);
}

static void ahci_end(mt *m)
{
    ahci_port_state(m, 0);
    ahci_port_state(m, 1);
    mt_ram(m, BUF + 0x20000, 2048);
    mt_ram(m, BUF + 0x30000, 36);
    mt_file(m, img[0], 20 * 512, 2048);
}

static const mt_case ahci = {
    .name = "ich9-ahci",
    .plugins = {"ata"},
    .ram_size = 8 << 20,
    .prepare = ata_prepare,
    .build = ahci_build,
    .steps = {ahci_identify, ahci_write, ahci_read, ahci_end},
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mt_add(&piix);
    mt_add(&ahci);
    return g_test_run();
}
