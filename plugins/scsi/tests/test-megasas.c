/*
 * megasas through the harness: the firmware state handshake, the INIT
 * frame, DCMDs (controller info, drive lists), LD READ/WRITE and SCSI
 * pass-through with 32-bit, 64-bit and IEEE SGLs, completions in the reply
 * queue with INTx and MSI-X, bad frames answered with MFI status codes,
 * a reset in the middle of I/O, and migration with a parked event wait.
 * The test plays the megaraid_sas driver. Plugins: $VIRTIO_PLUGIN (unused
 * here, loaded by the shared fixture) and $SCSI_PLUGIN.
 */
#include "tests/scsi-drv.h"

#define IMG (8ull << 20)
#define MG_BAR0 0x80000000ull
#define MG_IO 0xc000
#define RQ 0x80000ull
#define PI 0x81000ull
#define CI 0x81004ull
#define QINFO 0x82000ull
#define FRAMES 0x100000ull /* slot s at + 0x1000 * s */
#define SENSE 0x90000ull   /* slot s at + 0x100 * s */
#define ENTRIES 64

/* Registers, commands, flags, status codes (the MFI interface). */
#define OMSG0 0x18
#define IDB 0x20
#define OSTS 0x30
#define OMSK 0x34
#define IQP 0x40
#define ODCR0 0xa0
#define OSP0 0xb0
#define IQPL 0xc0
#define IQPH 0xc4
#define ST_READY 0xb0000000u
#define ST_OPERATIONAL 0xc0000000u
#define C_INIT 0
#define C_LD_READ 1
#define C_LD_WRITE 2
#define C_LD_SCSI 3
#define C_PD_SCSI 4
#define C_DCMD 5
#define C_ABORT 6
#define F_DONT_POST 0x1
#define F_SGL64 0x2
#define F_DIR_WRITE 0x8
#define F_DIR_READ 0x10
#define F_IEEE 0x20
#define S_OK 0x00
#define S_INVALID_CMD 0x01
#define S_INVALID_DCMD 0x02
#define S_INVALID_PARAMETER 0x03
#define S_DEVICE_NOT_FOUND 0x0c
#define S_MEMORY_NOT_AVAILABLE 0x20
#define S_SCSI_DONE_WITH_ERROR 0x2d
#define S_WRONG_STATE 0x32

typedef struct mg {
    sd_fixture f;
    tes_harness *h;
    tes_device *dev;
    uint8_t *ram;
    uint32_t consumer;
} mg;

static void w16(mg *m, uint64_t a, uint16_t v)
{
    m->ram[a] = v;
    m->ram[a + 1] = v >> 8;
}

static void w32(mg *m, uint64_t a, uint32_t v)
{
    w16(m, a, v);
    w16(m, a + 2, v >> 16);
}

static void w64(mg *m, uint64_t a, uint64_t v)
{
    w32(m, a, v);
    w32(m, a + 4, v >> 32);
}

static uint32_t r32(mg *m, uint64_t a)
{
    return m->ram[a] | m->ram[a + 1] << 8 | m->ram[a + 2] << 16 | (uint32_t)m->ram[a + 3] << 24;
}

static uint32_t reg(mg *m, uint32_t off)
{
    return (uint32_t)tes_harness_read(m->h, MG_BAR0 + off, 4);
}

static void reg_w(mg *m, uint32_t off, uint32_t v)
{
    tes_harness_write(m->h, MG_BAR0 + off, v, 4);
}

static uint64_t frame(unsigned slot)
{
    return FRAMES + 0x1000ull * slot;
}

static uint64_t data(unsigned slot)
{
    return SD_DATA + SD_SLOT_DATA * slot;
}

/* A frame header: context 0x100 + slot, status 0xff until answered. */
static void hdr(mg *m, unsigned slot, uint8_t cmd, uint16_t flags, uint8_t sges, uint32_t len)
{
    uint64_t f = frame(slot);

    memset(m->ram + f, 0, 0x1000);
    m->ram[f] = cmd;
    m->ram[f + 2] = 0xff;
    m->ram[f + 7] = sges;
    w32(m, f + 8, 0x100 + slot);
    w16(m, f + 0x10, flags);
    w32(m, f + 0x14, len);
}

/* SGE i of the SGL at off, in the format flags say. */
static void sge(mg *m, unsigned slot, uint32_t off, uint16_t flags, unsigned i, uint64_t addr,
                uint32_t len)
{
    uint64_t f = frame(slot) + off;

    if (flags & F_IEEE) {
        w64(m, f + 16 * i, addr);
        w32(m, f + 16 * i + 8, len);
    } else if (flags & F_SGL64) {
        w64(m, f + 12 * i, addr);
        w32(m, f + 12 * i + 8, len);
    } else {
        w32(m, f + 8 * i, (uint32_t)addr);
        w32(m, f + 8 * i + 4, len);
    }
}

static uint8_t fire(mg *m, unsigned slot)
{
    reg_w(m, IQP, (uint32_t)frame(slot) | 1 << 1 | 1);
    tes_harness_block_wait(m->h);
    return m->ram[frame(slot) + 2];
}

static void up(mg *m, const char *props)
{
    g_autofree char *p = g_strdup_printf("id=scsi0%s", props ? props : "");

    sd_harness(&m->f, 2, IMG);
    m->h = m->f.d.h;
    m->ram = tes_harness_ram(m->h);
    m->dev = sd_dev(&m->f, "megasas", p);
    sd_dev(&m->f, "scsi-hd", "drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0");
    sd_dev(&m->f, "scsi-hd", "drive=d1,bus=scsi0.0,channel=0,scsi-id=1,lun=0");
    g_assert_cmphex(tes_harness_bar_map(m->h, m->dev, 0, MG_BAR0), ==, MG_BAR0);
    m->consumer = 0;
}

/* The INIT frame (polled, as megaraid_sas issues it): status. */
static uint8_t init_fw(mg *m, uint32_t entries)
{
    hdr(m, 0, C_INIT, F_DONT_POST, 0, 32);
    w32(m, frame(0) + 0x18, QINFO);
    memset(m->ram + QINFO, 0, 32);
    w32(m, QINFO + 4, entries);
    w32(m, QINFO + 8, RQ);
    w32(m, QINFO + 16, PI);
    w32(m, QINFO + 24, CI);
    w32(m, PI, 0);
    w32(m, CI, 0);
    m->consumer = 0;
    return fire(m, 0);
}

static void up_init(mg *m, const char *props)
{
    up(m, props);
    g_assert_cmphex(init_fw(m, ENTRIES), ==, S_OK);
    reg_w(m, OMSK, ~0x80000000u); /* enable_intr */
}

/* A DCMD into slot's data buffer (32-bit SGL, polled unless post). */
static uint8_t dcmd(mg *m, unsigned slot, uint32_t opcode, uint32_t mbox0, uint32_t len,
                    bool post)
{
    hdr(m, slot, C_DCMD, post ? 0 : F_DONT_POST, 1, len);
    w32(m, frame(slot) + 0x18, opcode);
    w32(m, frame(slot) + 0x1c, mbox0);
    sge(m, slot, 0x28, 0, 0, data(slot), len);
    memset(m->ram + data(slot), 0xee, len);
    return fire(m, slot);
}

/* Next context in the reply queue, or -1; consumes it. */
static int64_t reply(mg *m)
{
    uint32_t ctx;

    if (r32(m, PI) == m->consumer) {
        return -1;
    }
    ctx = r32(m, RQ + 4 * m->consumer);
    m->consumer = (m->consumer + 1) % ENTRIES;
    w32(m, CI, m->consumer);
    return ctx;
}

/* ---- tests ---- */

static void test_handshake_and_init(void)
{
    mg m;

    up(&m, NULL);
    g_assert_cmphex(tes_harness_cfg_read(m.h, m.dev, 0, 4), ==, 0x00601000);
    g_assert_cmphex(tes_harness_cfg_read(m.h, m.dev, 0x0a, 2), ==, 0x0104);
    /* READY, MSI-X offered, 128 SGEs, 1000 commands; OMSG0 says the same. */
    g_assert_cmphex(reg(&m, OSP0), ==, ST_READY | 0x04000000u | 128 << 16 | 1000);
    g_assert_cmphex(reg(&m, OMSG0), ==, reg(&m, OSP0));
    tes_harness_log_capture(m.h, TES_LOG_GUEST_ERROR);
    /* Before INIT every other frame is refused. */
    g_assert_cmphex(dcmd(&m, 1, 0x01010000, 0, 64, false), ==, S_WRONG_STATE);
    g_assert_cmphex(init_fw(&m, 1), ==, S_INVALID_PARAMETER);
    g_assert_cmphex(init_fw(&m, 5000), ==, S_INVALID_PARAMETER);
    g_assert_cmphex(reg(&m, OSP0) & 0xf0000000u, ==, ST_READY);
    g_assert_cmphex(init_fw(&m, ENTRIES), ==, S_OK);
    g_assert_cmphex(reg(&m, OSP0) & 0xf0000000u, ==, ST_OPERATIONAL);
    g_assert_cmphex(init_fw(&m, ENTRIES), ==, S_WRONG_STATE);
    /* The doorbell's READY bit (MFI_RESET_FLAGS) takes it back. */
    reg_w(&m, IDB, 0x7);
    g_assert_cmphex(reg(&m, OSP0) & 0xf0000000u, ==, ST_READY);
    g_assert_cmphex(init_fw(&m, ENTRIES), ==, S_OK);
    g_assert_nonnull(strstr(tes_harness_log_text(m.h), "INIT"));
    sd_down(&m.f);
}

static void test_no_msix_and_io_bar(void)
{
    mg m;

    up(&m, ",msix=off,max_sge=64,max_cmds=256");
    g_assert_cmphex(reg(&m, OSP0), ==, ST_READY | 64 << 16 | 256);
    g_assert_cmphex(tes_harness_bar_map(m.h, m.dev, 2, MG_IO), ==, MG_IO);
    g_assert_cmphex(tes_harness_io_read(m.h, MG_IO + OSP0, 4), ==, reg(&m, OSP0));
    g_assert_null(tes_harness_device(m.h, "megasas", "id=x,max_sge=300"));
    sd_down(&m.f);
}

static void test_ctrl_info_and_lists(void)
{
    mg m;
    uint8_t *d;

    up_init(&m, NULL);
    g_assert_cmphex(dcmd(&m, 1, 0x01010000, 0, 0x800, false), ==, S_OK);
    d = m.ram + data(1);
    g_assert_cmphex(r32(&m, data(1)), ==, 0x00601000);
    g_assert_cmpstr((char *)d + 0x540, ==, "LSI MegaRAID SAS 8708EM2");
    g_assert_cmpstr((char *)d + 0x590, ==, "QEMU123456");
    g_assert_cmpuint(d[0x5b8] | d[0x5b9] << 8, ==, 1000); /* max_cmds */
    g_assert_cmpuint(d[0x5c0], ==, 2);                    /* LDs present */
    g_assert_cmpuint(d[0x5e8], ==, 3);                    /* stripe min */
    /* LD list: 2 drives, ids 0 and 1, optimal, sizes in sectors. */
    g_assert_cmphex(dcmd(&m, 1, 0x03010000, 0, 8 + 16 * 64, false), ==, S_OK);
    g_assert_cmpuint(r32(&m, data(1)), ==, 2);
    g_assert_cmpuint(d[8], ==, 0);
    g_assert_cmpuint(d[8 + 4], ==, 3);
    g_assert_cmpuint(r32(&m, data(1) + 16), ==, IMG / 512);
    g_assert_cmpuint(d[24], ==, 1);
    /* LD target id list (the query megaraid_sas prefers). */
    g_assert_cmphex(dcmd(&m, 1, 0x03010100, 1, 75, false), ==, S_OK);
    g_assert_cmpuint(r32(&m, data(1) + 4), ==, 2);
    g_assert_cmpuint(d[11], ==, 0);
    g_assert_cmpuint(d[12], ==, 1);
    /* PD list: none exposed to the host without use_jbod, both for ALL. */
    g_assert_cmphex(dcmd(&m, 1, 0x02010100, 5, 512, false), ==, S_OK);
    g_assert_cmpuint(r32(&m, data(1) + 4), ==, 0);
    g_assert_cmphex(dcmd(&m, 1, 0x02010100, 0, 512, false), ==, S_OK);
    g_assert_cmpuint(r32(&m, data(1) + 4), ==, 2);
    g_assert_cmphex(dcmd(&m, 1, 0x02020000, 1, 512, false), ==, S_OK);
    g_assert_cmpmem(d + 4 + 8, 4, "QEMU", 4);
    g_assert_cmphex(dcmd(&m, 1, 0x02020000, 7, 512, false), ==, S_DEVICE_NOT_FOUND);
    g_assert_cmphex(dcmd(&m, 1, 0x03020000, 1, 384, false), ==, S_OK);
    g_assert_cmpuint(d[0], ==, 1);
    g_assert_cmphex(dcmd(&m, 1, 0x03020000, 9, 384, false), ==, S_DEVICE_NOT_FOUND);
    /* The answer is cut to the data length; others succeed or are refused. */
    g_assert_cmphex(dcmd(&m, 1, 0x01010000, 0, 16, false), ==, S_OK);
    g_assert_cmphex(d[16], ==, 0xee);
    g_assert_cmphex(dcmd(&m, 1, 0x01040100, 0, 20, false), ==, S_OK);
    g_assert_cmphex(dcmd(&m, 1, 0x01020100, 0, 64, false), ==, S_OK);
    g_assert_cmphex(dcmd(&m, 1, 0x01101000, 0, 0, false), ==, S_OK);
    g_assert_cmphex(dcmd(&m, 1, 0x01050000, 0, 0, false), ==, S_OK);
    g_assert_cmphex(dcmd(&m, 1, 0x0badcafe, 0, 0, false), ==, S_INVALID_DCMD);
    sd_down(&m.f);
}

static uint8_t pthru(mg *m, unsigned slot, uint8_t cmd, uint8_t target, const uint8_t *cdb,
                     unsigned cdb_len, uint16_t flags, uint32_t len);

/* The 64-bit context queue (MFI_QUEUE_FLAG_CONTEXT64): 8-byte replies. */
static void test_context64(void)
{
    mg m;

    up(&m, NULL);
    hdr(&m, 0, C_INIT, F_DONT_POST, 0, 32);
    w32(&m, frame(0) + 0x18, QINFO);
    memset(m.ram + QINFO, 0, 32);
    w32(&m, QINFO, 0x2);
    w32(&m, QINFO + 4, ENTRIES);
    w32(&m, QINFO + 8, RQ);
    w32(&m, QINFO + 16, PI);
    w32(&m, QINFO + 24, CI);
    g_assert_cmphex(fire(&m, 0), ==, S_OK);
    hdr(&m, 1, C_DCMD, 0, 0, 0);
    w32(&m, frame(1) + 0x0c, 0xabcd0123);
    w32(&m, frame(1) + 0x18, 0x01101000);
    g_assert_cmphex(fire(&m, 1), ==, S_OK);
    g_assert_cmphex(r32(&m, PI), ==, 1);
    g_assert_cmphex(r32(&m, RQ), ==, 0x101);
    g_assert_cmphex(r32(&m, RQ + 4), ==, 0xabcd0123);
    sd_down(&m.f);
}

/* msix=off: MSI (one vector) when the driver enables it, no INTx then. */
static void test_msi(void)
{
    mg m;
    uint64_t addr;
    uint32_t msg;

    up_init(&m, ",msix=off");
    g_assert_true(tes_harness_msi_enable(m.h, m.dev));
    while (tes_harness_msi_pop(m.h, &addr, &msg)) {
    }
    g_assert_cmphex(dcmd(&m, 1, 0x01040100, 0, 20, true), ==, S_OK);
    g_assert_cmpint(reply(&m), ==, 0x101);
    g_assert_cmpuint(tes_harness_msi_count(m.h), ==, 1);
    g_assert_cmpint(tes_harness_intx_level(m.h, m.dev), ==, 0);
    sd_down(&m.f);
}

/* The reply queue (kept mapped between replies): a full queue loses the
 * completion and says so, the producer wraps, and a second INIT after a
 * reset moves queue and indexes (replies go to the new ones only). */
static void test_reply_queue_full_wrap_and_move(void)
{
    const uint64_t rq2 = 0x84000, pi2 = 0x85000, ci2 = 0x85004;
    mg m;

    up(&m, NULL);
    tes_harness_log_capture(m.h, TES_LOG_GUEST_ERROR);
    g_assert_cmphex(init_fw(&m, 4), ==, S_OK);
    reg_w(&m, OMSK, ~0x80000000u);
    for (unsigned slot = 1; slot <= 4; slot++) {
        g_assert_cmphex(dcmd(&m, slot, 0x01040100, 0, 20, true), ==, S_OK);
    }
    /* Four entries hold three replies; the fourth is lost. */
    g_assert_cmpuint(r32(&m, PI), ==, 3);
    for (unsigned i = 0; i < 3; i++) {
        g_assert_cmphex(r32(&m, RQ + 4 * i), ==, 0x101 + i);
    }
    g_assert_nonnull(strstr(tes_harness_log_text(m.h), "reply queue full"));
    w32(&m, CI, 3); /* the driver took all three */
    g_assert_cmphex(dcmd(&m, 5, 0x01040100, 0, 20, true), ==, S_OK);
    g_assert_cmphex(r32(&m, RQ + 4 * 3), ==, 0x105);
    g_assert_cmpuint(r32(&m, PI), ==, 0); /* wrapped */
    /* Reset, and INIT with the queue and its indexes elsewhere. */
    reg_w(&m, IDB, 0x7);
    hdr(&m, 0, C_INIT, F_DONT_POST, 0, 32);
    w32(&m, frame(0) + 0x18, QINFO);
    memset(m.ram + QINFO, 0, 32);
    w32(&m, QINFO + 4, 8);
    w32(&m, QINFO + 8, rq2);
    w32(&m, QINFO + 16, pi2);
    w32(&m, QINFO + 24, ci2);
    w32(&m, pi2, 0);
    w32(&m, ci2, 0);
    memset(m.ram + RQ, 0xaa, 16);
    w32(&m, PI, 0x55);
    g_assert_cmphex(fire(&m, 0), ==, S_OK);
    reg_w(&m, OMSK, ~0x80000000u);
    g_assert_cmphex(dcmd(&m, 6, 0x01040100, 0, 20, true), ==, S_OK);
    g_assert_cmphex(r32(&m, rq2), ==, 0x106);
    g_assert_cmpuint(r32(&m, pi2), ==, 1);
    g_assert_cmphex(r32(&m, RQ), ==, 0xaaaaaaaau);
    g_assert_cmphex(r32(&m, PI), ==, 0x55);
    sd_down(&m.f);
}

/* use_jbod: no logical drives; the devices are system physical drives. */
static void test_jbod(void)
{
    static const uint8_t inq[6] = {0x12, 0, 0, 0, 36, 0};
    mg m;

    up_init(&m, ",use_jbod=on");
    g_assert_cmphex(dcmd(&m, 1, 0x03010100, 1, 75, false), ==, S_OK);
    g_assert_cmpuint(r32(&m, data(1) + 4), ==, 0);
    g_assert_cmphex(dcmd(&m, 1, 0x02010100, 5, 512, false), ==, S_OK);
    g_assert_cmpuint(r32(&m, data(1) + 4), ==, 2);
    g_assert_cmpuint(m.ram[data(1) + 8 + 24], ==, 1); /* device id of the second */
    g_assert_cmphex(dcmd(&m, 1, 0x02020000, 0, 512, false), ==, S_OK);
    g_assert_cmphex(m.ram[data(1) + 184], ==, 0x40); /* SYSTEM */
    g_assert_cmphex(pthru(&m, 4, C_LD_SCSI, 0, inq, 6, F_DIR_READ, 36), ==,
                    S_DEVICE_NOT_FOUND);
    g_assert_cmphex(pthru(&m, 4, C_PD_SCSI, 0, inq, 6, F_DIR_READ, 36), ==, S_OK);
    sd_down(&m.f);
}

/* LD READ of 8 sectors at LBA 4 in two 32-bit SGEs, posted: INTx. */
static void test_ld_read_write_intx(void)
{
    mg m;
    g_autofree uint8_t *buf = g_malloc(4096);
    FILE *fp;

    up_init(&m, ",msix=off,msi=off");
    hdr(&m, 2, C_LD_READ, F_DIR_READ, 2, 8);
    m.ram[frame(2) + 4] = 1; /* LD 1 */
    w32(&m, frame(2) + 0x20, 4);
    sge(&m, 2, 0x28, 0, 0, data(2), 1024);
    sge(&m, 2, 0x28, 0, 1, data(2) + 8192, 3072);
    g_assert_cmphex(fire(&m, 2), ==, S_OK);
    for (unsigned i = 0; i < 4096; i++) {
        uint64_t a = i < 1024 ? data(2) + i : data(2) + 8192 + i - 1024;
        g_assert_cmphex(m.ram[a], ==, sd_pattern(2048 + i));
    }
    g_assert_cmpint(reply(&m), ==, 0x102);
    g_assert_cmpint(reply(&m), ==, -1);
    g_assert_cmphex(reg(&m, OSTS) & 0x80000000u, ==, 0x80000000u);
    g_assert_cmpint(tes_harness_intx_level(m.h, m.dev), ==, 1);
    reg_w(&m, ODCR0, reg(&m, OSTS));
    g_assert_cmpint(tes_harness_intx_level(m.h, m.dev), ==, 0);
    /* LD WRITE with a 64-bit SGL and FUA, to LD 0 at LBA 100. */
    hdr(&m, 3, C_LD_WRITE, F_DIR_WRITE | F_SGL64, 1, 8);
    m.ram[frame(3) + 5] = 0x08;
    w32(&m, frame(3) + 0x20, 100);
    sge(&m, 3, 0x28, F_SGL64, 0, data(3), 4096);
    memset(m.ram + data(3), 0x5a, 4096);
    reg_w(&m, OMSK, 0xffffffffu); /* masked: posted, no interrupt */
    g_assert_cmphex(fire(&m, 3), ==, S_OK);
    g_assert_cmpint(tes_harness_intx_level(m.h, m.dev), ==, 0);
    reg_w(&m, OMSK, ~0x80000000u);
    g_assert_cmpint(tes_harness_intx_level(m.h, m.dev), ==, 1);
    g_assert_cmpint(reply(&m), ==, 0x103);
    fp = fopen(m.f.img[0], "rb");
    g_assert_nonnull(fp);
    g_assert_cmpint(fseek(fp, 100 * 512, SEEK_SET), ==, 0);
    g_assert_cmpuint(fread(buf, 1, 4096, fp), ==, 4096);
    fclose(fp);
    for (unsigned i = 0; i < 4096; i++) {
        g_assert_cmphex(buf[i], ==, 0x5a);
    }
    sd_down(&m.f);
}

/* The frame, reply queue and index pages megasas keeps mapped
 * (dma-cache.c) follow bus mastering: with Bus Master Enable cleared after
 * a completed frame, the next frame is not even read (no status, no
 * reply); set again, it runs and is posted. A moved reply queue (a second
 * INIT after a reset) is where replies go next. */
static void test_kept_mappings_follow_master_and_init(void)
{
    uint32_t cmd;
    mg m;

    up_init(&m, "");
    hdr(&m, 2, C_LD_READ, F_DIR_READ, 1, 8);
    sge(&m, 2, 0x28, 0, 0, data(2), 4096);
    g_assert_cmphex(fire(&m, 2), ==, S_OK);
    g_assert_cmpint(reply(&m), ==, 0x102);
    cmd = tes_harness_cfg_read(m.h, m.dev, 4, 2);
    tes_harness_cfg_write(m.h, m.dev, 4, cmd & ~4u, 2);
    hdr(&m, 3, C_LD_READ, F_DIR_READ, 1, 8);
    sge(&m, 3, 0x28, 0, 0, data(3), 4096);
    g_assert_cmphex(fire(&m, 3), ==, 0xff); /* the frame was never read */
    g_assert_cmpint(reply(&m), ==, -1);
    tes_harness_cfg_write(m.h, m.dev, 4, cmd, 2);
    g_assert_cmphex(fire(&m, 3), ==, S_OK);
    g_assert_cmpint(reply(&m), ==, 0x103);
    /* Reset, and INIT with the reply queue one page up. */
    reg_w(&m, IDB, 1 << 1); /* READY: soft reset */
    w32(&m, QINFO + 8, RQ + 0x3000);
    w32(&m, PI, 0);
    w32(&m, CI, 0);
    hdr(&m, 4, C_INIT, F_DONT_POST, 0, 32);
    w32(&m, frame(4) + 0x18, QINFO);
    g_assert_cmphex(fire(&m, 4), ==, S_OK);
    memset(m.ram + RQ, 0, 8);
    hdr(&m, 2, C_LD_READ, F_DIR_READ, 1, 8);
    sge(&m, 2, 0x28, 0, 0, data(2), 4096);
    g_assert_cmphex(fire(&m, 2), ==, S_OK);
    g_assert_cmpuint(r32(&m, RQ + 0x3000), ==, 0x102);
    g_assert_cmpuint(r32(&m, RQ), ==, 0);
    g_assert_cmpuint(r32(&m, PI), ==, 1);
    sd_down(&m.f);
}

/* Pass-through: INQUIRY (IEEE SGL) on LD 0; READ 10 (PD); a READ past
 * the end ends with CHECK CONDITION and the sense in the sense buffer. */
static uint8_t pthru(mg *m, unsigned slot, uint8_t cmd, uint8_t target, const uint8_t *cdb,
                     unsigned cdb_len, uint16_t flags, uint32_t len)
{
    hdr(m, slot, cmd, flags, len ? 1 : 0, len);
    m->ram[frame(slot) + 1] = 96;
    m->ram[frame(slot) + 4] = target;
    m->ram[frame(slot) + 6] = cdb_len;
    w32(m, frame(slot) + 0x18, SENSE + 0x100 * slot);
    memcpy(m->ram + frame(slot) + 0x20, cdb, cdb_len);
    if (len) {
        sge(m, slot, 0x30, flags, 0, data(slot), len);
    }
    return fire(m, slot);
}

static void test_pass_through(void)
{
    static const uint8_t inq[6] = {0x12, 0, 0, 0, 36, 0};
    static const uint8_t tur[6] = {0};
    static const uint8_t rd10[10] = {0x28, 0, 0, 0, 0, 2, 0, 0, 2, 0};
    static const uint8_t past[10] = {0x28, 0, 0, 0x10, 0, 0, 0, 0, 1, 0};
    mg m;

    up_init(&m, NULL);
    pthru(&m, 4, C_LD_SCSI, 0, tur, 6, 0, 0); /* a power-on unit attention, maybe */
    g_assert_cmphex(pthru(&m, 4, C_LD_SCSI, 0, inq, 6, F_DIR_READ | F_IEEE, 36), ==, S_OK);
    g_assert_cmpmem(m.ram + data(4) + 8, 4, "QEMU", 4);
    pthru(&m, 5, C_PD_SCSI, 1, tur, 6, 0, 0);
    g_assert_cmphex(pthru(&m, 5, C_PD_SCSI, 1, rd10, 10, F_DIR_READ | F_SGL64, 1024), ==,
                    S_OK);
    for (unsigned i = 0; i < 1024; i++) {
        g_assert_cmphex(m.ram[data(5) + i], ==, sd_pattern(1024 + i));
    }
    g_assert_cmphex(pthru(&m, 6, C_LD_SCSI, 1, past, 10, F_DIR_READ, 512), ==,
                    S_SCSI_DONE_WITH_ERROR);
    g_assert_cmphex(m.ram[frame(6) + 3], ==, 0x02);     /* CHECK CONDITION */
    g_assert_cmpuint(m.ram[frame(6) + 1], >=, 18);      /* sense length */
    g_assert_cmphex(m.ram[SENSE + 0x600 + 2] & 0xf, ==, 0x5); /* ILLEGAL REQUEST */
    g_assert_cmphex(m.ram[SENSE + 0x600 + 12], ==, 0x21);     /* LBA out of range */
    /* No such LD: DEVICE NOT FOUND without reaching the bus. */
    g_assert_cmphex(pthru(&m, 7, C_LD_SCSI, 5, inq, 6, F_DIR_READ, 36), ==,
                    S_DEVICE_NOT_FOUND);
    g_assert_cmphex(pthru(&m, 7, C_LD_SCSI, 70, inq, 6, F_DIR_READ, 36), ==,
                    S_DEVICE_NOT_FOUND);
    g_assert_cmphex(pthru(&m, 7, C_PD_SCSI, 5, inq, 6, F_DIR_READ, 36), ==,
                    S_DEVICE_NOT_FOUND);
    for (int i = 0; i < 8; i++) { /* every frame was posted */
        g_assert_cmpint(reply(&m), >=, 0x104);
    }
    g_assert_cmpint(reply(&m), ==, -1);
    sd_down(&m.f);
}

static void test_bad_frames(void)
{
    static const uint8_t inq[6] = {0x12, 0, 0, 0, 36, 0};
    mg m;

    up_init(&m, NULL);
    tes_harness_log_capture(m.h, TES_LOG_GUEST_ERROR);
    hdr(&m, 1, 0x7f, 0, 0, 0);
    g_assert_cmphex(fire(&m, 1), ==, S_INVALID_CMD);
    g_assert_cmpint(reply(&m), ==, 0x101);
    /* More SGEs than the firmware said. */
    hdr(&m, 2, C_LD_READ, F_DIR_READ, 200, 1);
    m.ram[frame(2) + 4] = 0;
    g_assert_cmphex(fire(&m, 2), ==, S_INVALID_PARAMETER);
    g_assert_nonnull(strstr(tes_harness_log_text(m.h), "SGEs"));
    /* An SGL pointing outside RAM, for I/O and for a DCMD answer. */
    hdr(&m, 3, C_LD_READ, F_DIR_READ | F_SGL64, 1, 1);
    sge(&m, 3, 0x28, F_SGL64, 0, 0x4000000000ull, 512);
    g_assert_cmphex(fire(&m, 3), ==, S_MEMORY_NOT_AVAILABLE);
    hdr(&m, 4, C_DCMD, 0, 1, 0x800);
    w32(&m, frame(4) + 0x18, 0x01010000);
    sge(&m, 4, 0x28, 0, 0, SD_RAM - 16, 0x800);
    g_assert_cmphex(fire(&m, 4), ==, S_MEMORY_NOT_AVAILABLE);
    /* SGL shorter than the transfer: the bus ends it, the guest sees a failure. */
    hdr(&m, 5, C_LD_READ, F_DIR_READ, 1, 8);
    sge(&m, 5, 0x28, 0, 0, data(5), 512);
    g_assert_cmphex(fire(&m, 5), !=, S_OK);
    /* A CDB of 0 or 17 bytes. */
    g_assert_cmphex(pthru(&m, 6, C_LD_SCSI, 0, inq, 0, F_DIR_READ, 36), ==,
                    S_INVALID_PARAMETER);
    for (unsigned i = 2; i <= 6; i++) {
        g_assert_cmpint(reply(&m), ==, 0x100 + i);
    }
    /* A frame outside RAM is dropped (nothing to answer in). */
    reg_w(&m, IQP, 0xfff00001u);
    reg_w(&m, IQPH, 0x40);
    reg_w(&m, IQPL, 0x00000001u);
    g_assert_cmpint(reply(&m), ==, -1);
    g_assert_nonnull(strstr(tes_harness_log_text(m.h), "not in RAM"));
    /* After all that the controller still works. */
    g_assert_cmphex(dcmd(&m, 1, 0x01010000, 0, 64, false), ==, S_OK);
    sd_down(&m.f);
}

/* Writes in flight when the system resets, or when the driver resets the
 * firmware: nothing is posted afterwards, the firmware is READY and a new
 * INIT brings it back. */
static void test_reset_mid_io(gconstpointer doorbell)
{
    mg m;

    up_init(&m, NULL);
    for (unsigned s = 1; s <= 8; s++) {
        hdr(&m, s, C_LD_WRITE, F_DIR_WRITE | F_SGL64, 1, 256);
        m.ram[frame(s) + 4] = s & 1;
        w32(&m, frame(s) + 0x20, 512 * s);
        sge(&m, s, 0x28, F_SGL64, 0, data(s), 256 * 512);
        reg_w(&m, IQP, (uint32_t)frame(s) | 1);
    }
    if (doorbell) {
        reg_w(&m, IDB, 0x7);
    } else {
        tes_harness_reset(m.h);
        g_assert_cmphex(tes_harness_bar_map(m.h, m.dev, 0, MG_BAR0), ==, MG_BAR0);
    }
    tes_harness_block_wait(m.h);
    g_assert_cmphex(reg(&m, OSP0) & 0xf0000000u, ==, ST_READY);
    g_assert_cmpint(tes_harness_intx_level(m.h, m.dev), ==, 0);
    w32(&m, PI, 0x5555);
    tes_harness_block_wait(m.h);
    g_assert_cmphex(r32(&m, PI), ==, 0x5555); /* nothing posted after the reset */
    g_assert_cmphex(init_fw(&m, ENTRIES), ==, S_OK);
    reg_w(&m, OMSK, ~0x80000000u);
    for (int i = 0; i < 2; i++) { /* a system reset leaves a unit attention */
        hdr(&m, 2, C_LD_READ, F_DIR_READ, 1, 1);
        sge(&m, 2, 0x28, 0, 0, data(2), 512);
        w32(&m, frame(2) + 0x18, SENSE);
        m.ram[frame(2) + 1] = 96;
        if (fire(&m, 2) == S_OK) {
            break;
        }
        g_assert_true(!doorbell && i == 0);
        g_assert_cmphex(m.ram[frame(2) + 2], ==, S_SCSI_DONE_WITH_ERROR);
        g_assert_cmphex(m.ram[SENSE + 2] & 0xf, ==, 0x6);
        g_assert_cmpint(reply(&m), ==, 0x102);
    }
    g_assert_cmphex(m.ram[frame(2) + 2], ==, S_OK);
    g_assert_cmpint(reply(&m), ==, 0x102);
    sd_down(&m.f);
}

/* MSI-X vector 0 per completion; an event wait parked across a state
 * save/load; a disk plugged while the driver runs completes it with an
 * LD created event; an ABORT of a parked wait completes alone. */
static void test_msix_aen_hotplug_migration(void)
{
    mg m;
    size_t bytes;
    uint64_t addr;
    uint32_t msg;
    void *blob;
    g_autofree char *opt = NULL;

    up_init(&m, NULL);
    m.f.img[2] = sd_make_image(IMG);
    opt = g_strdup_printf("file=%s,if=none,id=d2,format=raw", m.f.img[2]);
    g_assert_true(tes_harness_drive(m.h, opt));
    g_assert_true(tes_harness_msi_enable(m.h, m.dev));
    while (tes_harness_msi_pop(m.h, &addr, &msg)) {
    }
    g_assert_cmphex(dcmd(&m, 3, 0x01040500, 1, 256, true), ==, 0xff); /* parked */
    g_assert_cmphex(dcmd(&m, 1, 0x01040100, 0, 20, true), ==, S_OK);
    g_assert_cmpint(reply(&m), ==, 0x101);
    g_assert_cmpuint(tes_harness_msi_count(m.h), ==, 1);
    g_assert_true(tes_harness_msi_pop(m.h, &addr, &msg));
    g_assert_cmphex(addr, ==, TES_HARNESS_MSI_BASE);
    /* The parked wait goes through the stream. */
    blob = tes_harness_state_save(m.h, m.dev, &bytes);
    g_assert_nonnull(blob);
    g_assert_cmpint(tes_harness_state_load(m.h, m.dev, blob, bytes), ==, 0);
    sd_dev(&m.f, "scsi-hd", "drive=d2,bus=scsi0.0,channel=0,scsi-id=2,lun=0");
    g_assert_cmpint(reply(&m), ==, 0x103);
    g_assert_cmphex(m.ram[frame(3) + 2], ==, S_OK);
    g_assert_cmphex(r32(&m, data(3) + 8), ==, 0x8a); /* LD created */
    g_assert_cmphex(m.ram[data(3) + 32], ==, 2);
    g_assert_cmpuint(tes_harness_msi_count(m.h), ==, 1);
    g_assert_cmphex(dcmd(&m, 1, 0x03010100, 1, 75, false), ==, S_OK);
    g_assert_cmpuint(r32(&m, data(1) + 4), ==, 3);
    /* Parked again, then aborted: only the ABORT is posted. */
    g_assert_cmphex(dcmd(&m, 3, 0x01040500, 2, 256, true), ==, 0xff);
    hdr(&m, 2, C_ABORT, 0, 0, 0);
    w32(&m, frame(2) + 0x18, 0x103);
    w32(&m, frame(2) + 0x20, frame(3));
    g_assert_cmphex(fire(&m, 2), ==, S_OK);
    g_assert_cmpint(reply(&m), ==, 0x102);
    g_assert_cmpint(reply(&m), ==, -1);
    free(blob);
    /* (The harness's round trip re-creates megasas without its disks.) */
    m.dev = tes_harness_migrate(m.h, m.dev, &bytes);
    g_assert_nonnull(m.dev);
    g_assert_cmphex(reg(&m, OSP0) & 0xf0000000u, ==, ST_OPERATIONAL);
    /* A stream with a reply queue and a READY firmware is refused. */
    blob = tes_harness_state_save(m.h, m.dev, &bytes);
    g_assert_true(tes_harness_state_poke(m.dev, blob, bytes, "fw_state", 0, 0xb0000000u));
    g_assert_cmpint(tes_harness_state_load(m.h, m.dev, blob, bytes), <, 0);
    g_assert_true(tes_harness_state_poke(m.dev, blob, bytes, "fw_state", 0, 0xc0000000u));
    g_assert_true(tes_harness_state_poke(m.dev, blob, bytes, "producer", 0, ENTRIES));
    g_assert_cmpint(tes_harness_state_load(m.h, m.dev, blob, bytes), <, 0);
    free(blob);
    sd_down(&m.f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    sd_plugins_from_env(argc, argv);
    g_test_add_func("/megasas/handshake-and-init", test_handshake_and_init);
    g_test_add_func("/megasas/no-msix-and-io-bar", test_no_msix_and_io_bar);
    g_test_add_func("/megasas/reply-queue-full-wrap-and-move", test_reply_queue_full_wrap_and_move);
    g_test_add_func("/megasas/ctrl-info-and-drive-lists", test_ctrl_info_and_lists);
    g_test_add_func("/megasas/context64", test_context64);
    g_test_add_func("/megasas/msi", test_msi);
    g_test_add_func("/megasas/jbod", test_jbod);
    g_test_add_func("/megasas/ld-read-write-intx", test_ld_read_write_intx);
    g_test_add_func("/megasas/kept-mappings-follow-bus-master-and-init",
                    test_kept_mappings_follow_master_and_init);
    g_test_add_func("/megasas/pass-through-and-sense", test_pass_through);
    g_test_add_func("/megasas/bad-frames", test_bad_frames);
    g_test_add_data_func("/megasas/system-reset-mid-io", NULL, test_reset_mid_io);
    g_test_add_data_func("/megasas/doorbell-reset-mid-io", "", test_reset_mid_io);
    g_test_add_func("/megasas/msix-aen-hotplug-migration", test_msix_aen_hotplug_migration);
    return g_test_run();
}
