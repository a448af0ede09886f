/*
 * Fuzz target: ich9-ahci with ide-hd (1 MiB raw image) on port 0, ide-cd
 * (256 KiB image) on port 1 and an empty ide-cd on port 2, through the
 * harness, as a hostile guest. Beyond the generic actions (fuzz-dev.h):
 *
 *   0  a command in a slot: Register H2D FIS (mostly implemented commands,
 *      NCQ with tags, ATAPI packets, sometimes a control FIS or garbage),
 *      header flags, up to 8 PRDT entries (fz_addr, any byte count) or a
 *      PRDTL of up to 65535 over whatever RAM holds; issued or not
 *   1  a port register written with any value (CLB/FB anywhere, CMD, IS,
 *      IE, SCTL for COMRESET, SACT, CI)
 *   2  an HBA register (GHC with HR and IE, IS)
 *   3  reap block completions
 *   4  the spec check: drain, system reset, start port 0, then IDENTIFY
 *      reports the model and a WRITE DMA of 4 KiB lands on the image
 */
#include "fuzz-ata-common.h"

static const unsigned port_regs[] = {0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x2c, 0x30,
                                     0x34, 0x38, 0x3c};

static void setup(fz *f)
{
    tes_device *c;
    ad a;

    fa_drives(f);
    c = fa_device(f, "ich9-ahci", NULL);
    fz_device_fixed(f, fz_device_add(f, c, NULL));
    fz_device_add(f, fa_device(f, "ide-hd", "drive=d0,bus=ide.0"), NULL);
    fz_device_add(f, fa_device(f, "ide-cd", "drive=d1,bus=ide.1"), NULL);
    fz_device_add(f, fa_device(f, "ide-cd", "bus=ide.2"), NULL);
    tes_harness_bar_map(f->h, c, 5, AD_ABAR);
    tes_harness_msi_enable(f->h, c);
    fz_window_add(f, AD_ABAR, 0x1000, false);
    a = (ad){.h = f->h, .ctrl = c, .ram = f->ram, .ram_size = f->ram_size};
    ad_wr(&a, 0x04, 0x80000002u);
    for (unsigned p = 0; p < 3; p++) {
        ad_port_start(&a, p);
    }
}

static ad drv(fz *f)
{
    return (ad){.h = f->h, .ctrl = f->dev[0], .ram = f->ram, .ram_size = f->ram_size};
}

static void command(fz *f)
{
    ad a = drv(f);
    uint8_t sel = fz_u8(f), cmd = fa_cmd(f), cdb[12];
    unsigned p = fz_u8(f) % 3, slot = fz_u8(f) % 32, n = fz_u8(f) % 9;
    uint64_t lba = sel & 0x40 ? fz_u64(f) & 0xffffffffffffull : fz_u16(f) % 2100;
    uint32_t count = sel & 0x20 ? fz_u16(f) : fz_u8(f) % 9;
    uint8_t feat = cmd == 0x60 || cmd == 0x61 ? (uint8_t)(fz_u8(f) % 9) : fz_u8(f);
    uint8_t *h = f->ram + AD_CLB + 0x400 * p + 32 * slot;

    fa_packet(f, cdb);
    if (cmd == 0x60 || cmd == 0x61) {
        count = slot << 3;
    }
    ad_cmd(&a, p, slot, cmd, feat, lba, count, cmd == 0xa0 ? cdb : NULL, (uint16_t)n,
           sel & 1);
    for (unsigned i = 0; i < n; i++) {
        uint8_t k = fz_u8(f);
        ad_prdt(&a, p, slot, i, k & 1 ? fz_addr(f) : 0x200000 + fz_u16(f) * 8ull,
                k & 2 ? fz_u32(f) & 0x3fffff : 512u * (fz_u8(f) % 9 + 1));
    }
    if (sel & 2) { /* a huge PRDTL over whatever is there */
        uint16_t prdtl = fz_u16(f);
        memcpy(h + 2, &prdtl, 2);
    }
    if (sel & 4) { /* control FIS (SRST toggles) or garbage */
        f->ram[ad_ctba(p, slot) + 1] = fz_u8(f) & 0x80 ? 0x80 : 0;
        f->ram[ad_ctba(p, slot) + 15] = fz_u8(f);
        f->ram[ad_ctba(p, slot)] = fz_u8(f) & 1 ? 0x27 : fz_u8(f);
    }
    if (!(sel & 8)) {
        if (cmd == 0x60 || cmd == 0x61) {
            ad_wr(&a, ad_port(p, 0x34), 1u << slot);
        }
        ad_wr(&a, ad_port(p, 0x38), 1u << slot);
    }
}

static void port_write(fz *f)
{
    ad a = drv(f);
    unsigned p = fz_u8(f) % 6, reg = port_regs[fz_u8(f) % 12];
    uint32_t v = fz_u8(f) & 1 ? fz_u32(f) : (uint32_t)fz_addr(f);

    ad_wr(&a, ad_port(p, reg), v);
}

static void hba_write(fz *f)
{
    ad a = drv(f);
    uint8_t sel = fz_u8(f);

    ad_wr(&a, sel & 1 ? 0x08 : 0x04, fz_u32(f));
}

/* After anything at all, a reset HBA identifies its disk and a DMA write
 * reaches the image. */
static void spec_check(fz *f)
{
    ad a = drv(f);
    uint64_t lba = fz_u8(f) * 8ull;
    uint8_t seed = fz_u8(f);

    fz_block_drain(f);
    tes_harness_reset(f->h);
    tes_harness_bar_map(f->h, f->dev[0], 5, AD_ABAR);
    ad_wr(&a, 0x04, 0x80000002u);
    ad_port_start(&a, 0);
    ad_cmd(&a, 0, 0, 0xec, 0, 0, 0, NULL, 1, false);
    ad_prdt(&a, 0, 0, 0, FA_CHECK_BUF, 512);
    if ((ad_run(&a, 0, 1, false) & 0xff) != 0x50 ||
        memcmp(f->ram + FA_CHECK_BUF + 54, "EQUMH RADDSI K", 14) != 0) {
        fz_fail(f, "ich9-ahci: IDENTIFY after reset does not report the model");
    }
    for (unsigned i = 0; i < 4096; i++) {
        f->ram[FA_CHECK_BUF + i] = (uint8_t)(seed + i * 13 + i / 512);
    }
    ad_cmd(&a, 0, 1, 0xca, 0, lba, 8, NULL, 1, true);
    ad_prdt(&a, 0, 1, 0, FA_CHECK_BUF, 4096);
    if ((ad_run(&a, 0, 2, false) & 0xff) != 0x50) {
        fz_fail(f, "ich9-ahci: a DMA write after reset ends with TFD 0x%x",
                ad_rd(&a, ad_port(0, 0x20)));
    }
    fa_check_file(f, lba * 512, f->ram + FA_CHECK_BUF, 4096);
}

static void op(fz *f, unsigned i)
{
    switch (i) {
    case 0: case 1: command(f); break;
    case 2: port_write(f); break;
    case 3: hba_write(f); break;
    case 4: tes_harness_block_poll(f->h); break;
    case 5: spec_check(f); break;
    }
}

static const fz_target ahci_target = {
    .plugins = {"ata", NULL},
    .ram_size = FA_RAM_SIZE,
    .init = fa_init,
    .setup = setup,
    .n_ops = 6,
    .op = op,
};

FZ_TARGET(ahci_target)
