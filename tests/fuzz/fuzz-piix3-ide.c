/*
 * Fuzz target: piix3-ide with ide-hd (1 MiB raw image) on ide.0 and two
 * ide-cd on ide.1 (a 256 KiB image; no medium) through the harness, as a
 * hostile guest. Beyond the generic actions (fuzz-dev.h):
 *
 *   0  a command: task file (LBA28 or LBA48, counts, features) and a
 *      command byte, mostly implemented ones, to either channel and unit
 *   1  a PRD table of up to 16 entries anywhere in RAM: guest addresses
 *      (fz_addr), any length, EOT or not
 *   2  bus-master start or stop with the table pointer anywhere
 *   3  PIO: up to 1 KiB through the data port, either way
 *   4  an ATAPI packet (mostly implemented opcodes) to the CD
 *   5  reap block completions
 *   6  the spec check: drain, system reset, then IDENTIFY by PIO reports
 *      the model, and a DMA write of 4 KiB lands on the image
 */
#include "fuzz-ata-common.h"

static void setup(fz *f)
{
    tes_device *c;

    fa_drives(f);
    c = fa_device(f, "piix3-ide", NULL);
    fz_device_fixed(f, fz_device_add(f, c, NULL));
    fz_device_add(f, fa_device(f, "ide-hd", "drive=d0,bus=ide.0"), NULL);
    fz_device_add(f, fa_device(f, "ide-cd", "drive=d1,bus=ide.1,unit=0"), NULL);
    fz_device_add(f, fa_device(f, "ide-cd", "bus=ide.1,unit=1"), NULL);
    tes_harness_bar_map(f->h, c, 4, AD_BM_PORT);
    fz_window_add(f, 0x1f0, 8, true);
    fz_window_add(f, 0x3f6, 1, true);
    fz_window_add(f, 0x170, 8, true);
    fz_window_add(f, 0x376, 1, true);
    fz_window_add(f, AD_BM_PORT, 16, true);
}

static ad drv(fz *f)
{
    return (ad){.h = f->h, .ctrl = f->dev[0], .ram = f->ram, .ram_size = f->ram_size};
}

static void command(fz *f)
{
    ad a = drv(f);
    uint8_t sel = fz_u8(f), cmd = fa_cmd(f), feat = fz_u8(f);
    uint64_t lba = sel & 0x40 ? fz_u64(f) & 0xffffffffffffull : fz_u16(f) % 2100;
    uint32_t count = sel & 0x20 ? fz_u16(f) : fz_u8(f) % 9;

    ad_issue(&a, sel & 1, (sel >> 1) & 1, cmd, feat, lba, count, sel & 0x10);
}

static void prd_table(fz *f)
{
    ad a = drv(f);
    uint64_t at = (fz_u32(f) % (FA_RAM_SIZE - 0x100)) & ~7ull;
    unsigned n = fz_u8(f) % 17;

    for (unsigned i = 0; i < n; i++) {
        uint8_t k = fz_u8(f);
        uint32_t addr = k & 1 ? (uint32_t)fz_addr(f) : (uint32_t)(fz_u16(f) * 0x40u);
        uint32_t len = k & 2 ? fz_u16(f) : 512u * (fz_u8(f) % 9);
        uint32_t w1 = len | ((k & 4) || i + 1 == n ? 0x80000000u : 0);

        memcpy(f->ram + at + 8 * i, &addr, 4);
        memcpy(f->ram + at + 8 * i + 4, &w1, 4);
    }
    (void)a;
}

static void bm(fz *f)
{
    ad a = drv(f);
    uint8_t sel = fz_u8(f);
    uint32_t table = sel & 2 ? (uint32_t)fz_addr(f) : (uint32_t)AD_PRD;

    if (sel & 4) {
        tes_harness_io_write(f->h, AD_BM_PORT + 8 * (sel & 1), fz_u8(f), 1);
        return;
    }
    ad_bm_start(&a, sel & 1, table, sel & 8);
}

static void pio(fz *f)
{
    uint8_t sel = fz_u8(f);
    unsigned n = fz_u16(f) % 1025;
    uint16_t port = sel & 1 ? 0x170 : 0x1f0;

    for (unsigned i = 0; i < n; i += 2) {
        if (sel & 2) {
            tes_harness_io_write(f->h, port, fz_u16(f), 2);
        } else {
            tes_harness_io_read(f->h, port, sel & 4 ? 4 : 2);
        }
    }
}

static void packet(fz *f)
{
    ad a = drv(f);
    uint8_t cdb[12], sel = fz_u8(f);

    fa_packet(f, cdb);
    ad_issue(&a, 1, sel & 1, 0xa0, sel >> 7, (uint64_t)fz_u16(f) << 8, 0, false);
    for (int i = 0; i < 12; i += 2) {
        tes_harness_io_write(f->h, 0x170, cdb[i] | cdb[i + 1] << 8, 2);
    }
}

/* After anything at all, a reset controller identifies its disk and a
 * DMA write reaches the image. */
static void spec_check(fz *f)
{
    ad a = drv(f);
    uint8_t id[512];
    uint64_t lba = fz_u8(f) * 8ull;
    uint8_t seed = fz_u8(f);

    fz_block_drain(f);
    tes_harness_reset(f->h);
    tes_harness_bar_map(f->h, f->dev[0], 4, AD_BM_PORT);
    ad_issue(&a, 0, 0, 0xec, 0, 0, 0, false);
    if (!ad_pio_in(&a, 0, id, 512) || memcmp(id + 54, "EQUMH RADDSI K", 14) != 0) {
        fz_fail(f, "piix3-ide: IDENTIFY after reset does not report the model");
    }
    for (unsigned i = 0; i < 4096; i++) {
        f->ram[FA_CHECK_BUF + i] = (uint8_t)(seed + i * 13 + i / 512);
    }
    ad_prd(&a, 0, (uint32_t)FA_CHECK_BUF, 4096, true);
    ad_issue(&a, 0, 0, 0xca, 0, lba, 8, false);
    ad_bm_start(&a, 0, AD_PRD, false);
    if (ad_wait(&a, 0) != 0x50) {
        fz_fail(f, "piix3-ide: a DMA write after reset ends with status 0x%x",
                ad_inb(&a, 0x1f7));
    }
    fa_check_file(f, lba * 512, f->ram + FA_CHECK_BUF, 4096);
}

static void op(fz *f, unsigned i)
{
    switch (i) {
    case 0: command(f); break;
    case 1: prd_table(f); break;
    case 2: bm(f); break;
    case 3: pio(f); break;
    case 4: packet(f); break;
    case 5: tes_harness_block_poll(f->h); break;
    case 6: spec_check(f); break;
    }
}

static const fz_target piix_target = {
    .plugins = {"ata", NULL},
    .ram_size = FA_RAM_SIZE,
    .init = fa_init,
    .setup = setup,
    .n_ops = 7,
    .op = op,
};

FZ_TARGET(piix_target)
