/*
 * PCIe native hot-plug through the harness: the slot registers of a root
 * port and a switch downstream port as Linux pciehp drives them, QMP
 * device_add / device_del and DEVICE_DELETED, a surprise removal of an
 * NVMe controller with writes in flight, and virtio-blk-pci, virtio-net-pci
 * and e1000e coming and going. Plugin files come from $PCIE_PLUGIN,
 * $EDU_PLUGIN, $NVME_PLUGIN, $VIRTIO_PLUGIN and $E1000_PLUGIN (meson).
 *
 * Layout: root port rp1 (chassis 1, slot 5) at pci.0 04.0, secondary bus 1.
 */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <tessera/harness.h>

#include "../../nvme/tests/nvme-drv.h"

#define RP_DEVFN (4 << 3)
#define EDU_ID 0x11e81234u

#define MEM_BASE 0x20
#define MEM_LIMIT 0x22
#define EXP_LNKSTA 0x12
#define EXP_SLTCAP 0x14
#define EXP_SLTCTL 0x18
#define EXP_SLTSTA 0x1a

#define SLTCAP_HPC 0x0040
#define SLTCAP_NCCS 0x00040000
#define CTL_ABPE 0x0001
#define CTL_PDCE 0x0008
#define CTL_CCIE 0x0010
#define CTL_HPIE 0x0020
#define CTL_AIC_OFF 0x00c0
#define CTL_PIC_ON 0x0100
#define CTL_PIC_BLINK 0x0200
#define CTL_PIC_OFF 0x0300
#define CTL_PIC 0x0300
#define CTL_PCC 0x0400
#define CTL_DLLSCE 0x1000
#define STA_ABP 0x0001
#define STA_PDC 0x0008
#define STA_CC 0x0010
#define STA_PDS 0x0040
#define STA_DLLSC 0x0100
#define LNKSTA_DLLLA 0x2000
/* What pciehp enables: every event and the interrupt. */
#define CTL_EVENTS (CTL_ABPE | CTL_PDCE | CTL_CCIE | CTL_HPIE | CTL_DLLSCE)

static const char *pcie_path, *edu_path, *nvme_path, *virtio_path, *e1000_path;

typedef struct fx {
    tes_harness *h;
    tes_device *rp;
    unsigned exp;
} fx;

static uint32_t rd(fx *f, int bus, int devfn, uint32_t off, unsigned size)
{
    return tes_harness_cfg_read_bdf(f->h, bus, devfn, off, size);
}

static void wr(fx *f, int bus, int devfn, uint32_t off, uint32_t val, unsigned size)
{
    tes_harness_cfg_write_bdf(f->h, bus, devfn, off, val, size);
}

static uint16_t sltctl(fx *f)
{
    return rd(f, 0, RP_DEVFN, f->exp + EXP_SLTCTL, 2);
}

static uint16_t sltsta(fx *f)
{
    return rd(f, 0, RP_DEVFN, f->exp + EXP_SLTSTA, 2);
}

static void set_sltctl(fx *f, uint16_t v)
{
    wr(f, 0, RP_DEVFN, f->exp + EXP_SLTCTL, v, 2);
}

static void clear_sltsta(fx *f, uint16_t bits)
{
    wr(f, 0, RP_DEVFN, f->exp + EXP_SLTSTA, bits, 2);
}

static tes_device *dev(tes_harness *h, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(h, type, props);

    if (!d) {
        g_error("%s,%s: %s", type, props ? props : "", tes_harness_error(h));
    }
    return d;
}

static unsigned find_exp(fx *f)
{
    unsigned off = rd(f, 0, RP_DEVFN, TES_PCI_CAPABILITY_LIST, 1) & 0xfc;

    for (int n = 0; off && n < 48; n++) {
        if (rd(f, 0, RP_DEVFN, off, 1) == TES_PCI_CAP_ID_EXP) {
            return off;
        }
        off = rd(f, 0, RP_DEVFN, off + 1, 1) & 0xfc;
    }
    g_error("no PCIe capability");
}

/* The root port, its bus numbered 1; MSI enabled (vector 0) unless intx. */
static void up(fx *f, bool msi)
{
    f->h = tes_harness_new(32 << 20);
    if (!tes_harness_load(f->h, pcie_path) || !tes_harness_load(f->h, edu_path) ||
        !tes_harness_load(f->h, nvme_path) || !tes_harness_load(f->h, virtio_path) ||
        !tes_harness_load(f->h, e1000_path)) {
        g_error("load: %s", tes_harness_error(f->h));
    }
    f->rp = dev(f->h, "pcie-root-port", "id=rp1,addr=04.0,chassis=1,slot=5");
    wr(f, 0, RP_DEVFN, TES_PCI_PRIMARY_BUS, 0 | 1 << 8 | 1 << 16, 4);
    f->exp = find_exp(f);
    if (msi) {
        g_assert_true(tes_harness_msi_enable(f->h, f->rp));
    }
}

static char *qmp(fx *f, const char *json)
{
    return tes_harness_qmp(f->h, json);
}

static void assert_ok(char *reply)
{
    g_assert_cmpstr(reply, ==, "{\"return\":{}}");
    free(reply);
}

static void drain_msis(fx *f)
{
    while (tes_harness_msi_pop(f->h, NULL, NULL)) {
    }
}

/* An empty slot is powered off with its power indicator off; the
 * capability says hot-plug capable with Command Completed support. */
static void test_empty_slot_off(void)
{
    fx f;

    up(&f, true);
    g_assert_true(rd(&f, 0, RP_DEVFN, f.exp + EXP_SLTCAP, 4) & SLTCAP_HPC);
    g_assert_false(rd(&f, 0, RP_DEVFN, f.exp + EXP_SLTCAP, 4) & SLTCAP_NCCS);
    g_assert_cmphex(sltctl(&f) & (CTL_PCC | CTL_PIC), ==, CTL_PCC | CTL_PIC_OFF);
    g_assert_cmphex(sltctl(&f) & 0xc0, ==, CTL_AIC_OFF);
    g_assert_false(sltsta(&f) & STA_PDS);
    /* A device cold-plugged before the guest runs finds the slot on. */
    dev(f.h, "edu", "id=e1,bus=rp1");
    g_assert_cmphex(sltctl(&f) & (CTL_PCC | CTL_PIC), ==, CTL_PIC_ON);
    g_assert_true(sltsta(&f) & STA_PDS);
    tes_harness_free(f.h);
}

/* Every Slot Control write completes at once: CC, and one MSI per rising
 * edge of the pending condition (the guest clears CC before the next). */
static void test_command_completed(void)
{
    fx f;

    up(&f, true);
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_OFF | CTL_PCC);
    g_assert_true(sltsta(&f) & STA_CC);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 1);
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_OFF | CTL_PCC);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 1); /* still pending: no edge */
    clear_sltsta(&f, STA_CC);
    g_assert_false(sltsta(&f) & STA_CC);
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_OFF | CTL_PCC);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 2);
    /* A Slot Status write alone is no command. */
    clear_sltsta(&f, STA_CC);
    clear_sltsta(&f, STA_CC);
    g_assert_false(sltsta(&f) & STA_CC);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 2);
    tes_harness_free(f.h);
}

/* device_add on the port: presence and link up, PDC + ABP + DLLSC. */
static void test_device_add_events(void)
{
    fx f;

    up(&f, true);
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_OFF | CTL_PCC);
    clear_sltsta(&f, STA_CC);
    drain_msis(&f);
    assert_ok(qmp(&f, "{\"execute\":\"device_add\",\"arguments\":"
                      "{\"driver\":\"edu\",\"id\":\"e1\",\"bus\":\"rp1\"}}"));
    g_assert_cmphex(sltsta(&f) & (STA_PDS | STA_PDC | STA_ABP | STA_DLLSC), ==,
                    STA_PDS | STA_PDC | STA_ABP | STA_DLLSC);
    g_assert_true(rd(&f, 0, RP_DEVFN, f.exp + EXP_LNKSTA, 2) & LNKSTA_DLLLA);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 1);
    /* pciehp powers the slot on and finds the function at 00.0. */
    clear_sltsta(&f, STA_PDC | STA_ABP | STA_DLLSC);
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_ON);
    g_assert_cmphex(rd(&f, 1, 0, TES_PCI_VENDOR_ID, 4), ==, EDU_ID);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 2); /* the command completed */
    tes_harness_free(f.h);
}

/* device_del presses the attention button; the device stays until the
 * guest switches the slot off (power controller, then indicator), then
 * goes with DEVICE_DELETED and presence/link down. */
static void test_device_del_sequence(void)
{
    fx f;
    char *ev;

    up(&f, true);
    dev(f.h, "edu", "id=e1,bus=rp1");
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_ON);
    clear_sltsta(&f, STA_CC);
    drain_msis(&f);
    free(tes_harness_qmp_events(f.h));
    assert_ok(qmp(&f, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"e1\"}}"));
    g_assert_true(sltsta(&f) & STA_ABP);
    g_assert_cmpuint(tes_harness_msi_count(f.h), ==, 1);
    clear_sltsta(&f, STA_ABP);
    /* pciehp blinks for 5 s: another device_del would cancel it. */
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_BLINK);
    clear_sltsta(&f, STA_CC);
    ev = qmp(&f, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"e1\"}}");
    g_assert_nonnull(strstr(ev, "power indicator blinking"));
    free(ev);
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_BLINK | CTL_PCC);
    clear_sltsta(&f, STA_CC);
    g_assert_cmphex(rd(&f, 1, 0, TES_PCI_VENDOR_ID, 4), ==, EDU_ID);
    ev = tes_harness_qmp_events(f.h);
    g_assert_cmpstr(ev, ==, "");
    free(ev);
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_OFF | CTL_PCC);
    g_assert_cmphex(rd(&f, 1, 0, TES_PCI_VENDOR_ID, 4), ==, 0xffffffff);
    ev = tes_harness_qmp_events(f.h);
    g_assert_nonnull(strstr(ev, "\"event\":\"DEVICE_DELETED\""));
    g_assert_nonnull(strstr(ev, "\"device\":\"e1\""));
    g_assert_nonnull(strstr(ev, "\"path\":\"/machine/peripheral/e1\""));
    free(ev);
    g_assert_cmphex(sltsta(&f) & (STA_PDS | STA_PDC | STA_DLLSC | STA_CC), ==,
                    STA_PDC | STA_DLLSC | STA_CC);
    g_assert_false(rd(&f, 0, RP_DEVFN, f.exp + EXP_LNKSTA, 2) & LNKSTA_DLLLA);
    ev = qmp(&f, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"e1\"}}");
    g_assert_nonnull(strstr(ev, "Device 'e1' not found"));
    free(ev);
    tes_harness_free(f.h);
}

/* A slot the guest left off: device_del needs no guest. */
static void test_device_del_powered_off(void)
{
    fx f;
    char *ev;

    up(&f, false);
    set_sltctl(&f, CTL_AIC_OFF | CTL_PIC_OFF | CTL_PCC); /* the guest: empty, off */
    assert_ok(qmp(&f, "{\"execute\":\"device_add\",\"arguments\":"
                      "{\"driver\":\"edu\",\"id\":\"e2\",\"bus\":\"rp1\"}}"));
    g_assert_cmphex(sltctl(&f) & (CTL_PCC | CTL_PIC), ==, CTL_PCC | CTL_PIC_OFF);
    free(tes_harness_qmp_events(f.h));
    assert_ok(qmp(&f, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"e2\"}}"));
    ev = tes_harness_qmp_events(f.h);
    g_assert_nonnull(strstr(ev, "\"device\":\"e2\""));
    free(ev);
    g_assert_false(sltsta(&f) & STA_PDS);
    tes_harness_free(f.h);
}

/* Without MSI the port's INTA# follows the pending events. */
static void test_intx_level(void)
{
    fx f;

    up(&f, false);
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_OFF | CTL_PCC);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.rp), ==, 1);
    clear_sltsta(&f, STA_CC);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.rp), ==, 0);
    assert_ok(qmp(&f, "{\"execute\":\"device_add\",\"arguments\":"
                      "{\"driver\":\"edu\",\"id\":\"e3\",\"bus\":\"rp1\"}}"));
    g_assert_cmpint(tes_harness_intx_level(f.h, f.rp), ==, 1);
    /* Hot-Plug Interrupt Enable off masks it, on brings it back. */
    set_sltctl(&f, (CTL_EVENTS & ~CTL_HPIE) | CTL_AIC_OFF | CTL_PIC_OFF | CTL_PCC);
    g_assert_cmpint(tes_harness_intx_level(f.h, f.rp), ==, 0);
    clear_sltsta(&f, 0x1ff);
    tes_harness_free(f.h);
}

/* The root bus and other non-slot buses refuse, as QEMU's words. */
static void test_refusals(void)
{
    fx f;
    char *r;

    up(&f, false);
    r = qmp(&f, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"edu\",\"id\":\"x\"}}");
    g_assert_nonnull(strstr(r, "Bus 'pci.0' does not support hotplugging"));
    free(r);
    dev(f.h, "edu", "id=e0,addr=06.0");
    r = qmp(&f, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"e0\"}}");
    g_assert_nonnull(strstr(r, "Bus 'pci.0' does not support hotplugging"));
    free(r);
    r = qmp(&f, "{\"execute\":\"device_add\",\"arguments\":"
                "{\"driver\":\"edu\",\"id\":\"y\",\"bus\":\"nosuch\"}}");
    g_assert_nonnull(strstr(r, "Bus 'nosuch' not found"));
    free(r);
    tes_harness_free(f.h);
}

/* ---- surprise removal with writes in flight ---- */

#define NV_BAR 0x80000000ull
#define NV_DATA 0x800000ull
#define NV_WRITES 32
#define NV_BLOCKS 8 /* 4 KiB per write */

static char *nv_image(void)
{
    char *path = NULL;
    int fd = g_file_open_tmp("pcihp-XXXXXX.img", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 4 << 20), ==, 0);
    close(fd);
    return path;
}

static void nv_submit_writes(nd *d)
{
    for (unsigned i = 0; i < NV_WRITES; i++) {
        uint8_t s[64];
        uint32_t cdw[6] = {i * NV_BLOCKS, 0, NV_BLOCKS - 1};

        memset(d->ram + NV_DATA + i * 4096ull, 0xa0 + i, 4096);
        nd_sqe(s, 0x01, 1, NV_DATA + i * 4096ull, 0, cdw);
        nd_push(d, 1, s);
    }
    nd_ring(d, 1);
}

/* A guest that switches the slot off under a busy controller: tessera
 * stays up, the writes the controller took reach the image. */
static void test_surprise_removal_inflight(void)
{
    fx f;
    nd d = {0};
    g_autofree char *img = nv_image();
    g_autofree char *opt = g_strdup_printf("file=%s,if=none,id=d0,format=raw", img);
    g_autofree uint8_t *buf = g_malloc(4096);
    char *ev;
    FILE *fp;

    up(&f, false);
    g_assert_true(tes_harness_drive(f.h, opt));
    d.h = f.h;
    d.ram = tes_harness_ram(f.h);
    d.dev = dev(f.h, "nvme", "id=nv0,bus=rp1,drive=d0,serial=hp1");
    wr(&f, 0, RP_DEVFN, MEM_BASE, (uint32_t)(NV_BAR >> 16), 2);
    wr(&f, 0, RP_DEVFN, MEM_LIMIT, (uint32_t)((NV_BAR + 0xfffff) >> 16), 2);
    wr(&f, 0, RP_DEVFN, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY | TES_PCI_COMMAND_MASTER, 2);
    d.bar = tes_harness_bar_map(f.h, d.dev, 0, NV_BAR);
    g_assert_true(nd_enable(&d));
    g_assert_cmphex(nd_create_ioq(&d, 1, 64, 0), ==, 0);
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_ON);
    nv_submit_writes(&d);
    free(tes_harness_qmp_events(f.h));
    /* No device_del, no driver unbind: power off under the controller. */
    set_sltctl(&f, CTL_EVENTS | CTL_AIC_OFF | CTL_PIC_OFF | CTL_PCC);
    ev = tes_harness_qmp_events(f.h);
    g_assert_nonnull(strstr(ev, "\"device\":\"nv0\""));
    free(ev);
    fp = fopen(img, "rb");
    g_assert_nonnull(fp);
    for (unsigned i = 0; i < NV_WRITES; i++) {
        g_assert_cmpuint(fread(buf, 1, 4096, fp), ==, 4096);
        g_assert_cmphex(buf[0], ==, 0xa0 + i);
        g_assert_cmphex(buf[4095], ==, 0xa0 + i);
    }
    fclose(fp);
    /* The drive is free again for a new controller in the slot. */
    assert_ok(qmp(&f, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"nvme\","
                      "\"id\":\"nv1\",\"bus\":\"rp1\",\"drive\":\"d0\",\"serial\":\"hp2\"}}"));
    tes_harness_free(f.h);
    g_unlink(img);
}

/* The tutorial's other devices come and go too: virtio-blk-pci and
 * virtio-net-pci behind a switch's downstream ports, e1000e on a root
 * port; each power-off frees one (ASan watches the unrealize paths). */
static void test_virtio_and_nic(void)
{
    fx f;
    g_autofree char *img = nv_image();
    g_autofree char *opt = g_strdup_printf("file=%s,if=none,id=vd,format=raw", img);
    static const char *const adds[] = {
        "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-blk-pci\","
        "\"id\":\"vb\",\"bus\":\"dn1\",\"drive\":\"vd\"}}",
        "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-net-pci\","
        "\"id\":\"vn\",\"bus\":\"dn2\",\"netdev\":\"n1\"}}",
        "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"e1000e\","
        "\"id\":\"ne\",\"bus\":\"rp1\",\"netdev\":\"n2\"}}",
    };
    char *ev;

    up(&f, false);
    g_assert_true(tes_harness_drive(f.h, opt));
    g_assert_true(tes_harness_netdev(f.h, "id=n1"));
    g_assert_true(tes_harness_netdev(f.h, "id=n2"));
    dev(f.h, "pcie-root-port", "id=rp2,addr=06.0,chassis=1,slot=6");
    dev(f.h, "x3130-upstream", "id=up1,bus=rp2");
    dev(f.h, "xio3130-downstream", "id=dn1,bus=up1,addr=00.0,chassis=2,slot=1");
    dev(f.h, "xio3130-downstream", "id=dn2,bus=up1,addr=01.0,chassis=2,slot=2");
    for (unsigned i = 0; i < 3; i++) {
        assert_ok(qmp(&f, adds[i]));
    }
    assert_ok(qmp(&f, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"vb\"}}"));
    assert_ok(qmp(&f, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"vn\"}}"));
    assert_ok(qmp(&f, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"ne\"}}"));
    free(tes_harness_qmp_events(f.h));
    /* Buses: rp2 -> 2, up1 -> 3, dn1 -> 4, dn2 -> 5; pciehp's power-off. */
    wr(&f, 0, 6 << 3, TES_PCI_PRIMARY_BUS, 0 | 2 << 8 | 5 << 16, 4);
    wr(&f, 2, 0, TES_PCI_PRIMARY_BUS, 2 | 3 << 8 | 5 << 16, 4);
    wr(&f, 3, 0, TES_PCI_PRIMARY_BUS, 3 | 4 << 8 | 4 << 16, 4);
    wr(&f, 3, 1 << 3, TES_PCI_PRIMARY_BUS, 3 | 5 << 8 | 5 << 16, 4);
    g_assert_cmphex(rd(&f, 4, 0, TES_PCI_VENDOR_ID, 4), ==, 0x10421af4);
    g_assert_cmphex(rd(&f, 5, 0, TES_PCI_VENDOR_ID, 4), ==, 0x10411af4);
    for (unsigned i = 0; i < 2; i++) {
        unsigned exp = 0, off = rd(&f, 3, i << 3, TES_PCI_CAPABILITY_LIST, 1) & 0xfc;

        for (int n = 0; off && n < 48 && !exp; n++) {
            exp = rd(&f, 3, i << 3, off, 1) == TES_PCI_CAP_ID_EXP ? off : 0;
            off = rd(&f, 3, i << 3, off + 1, 1) & 0xfc;
        }
        g_assert_cmpuint(exp, !=, 0);
        wr(&f, 3, i << 3, exp + EXP_SLTCTL, CTL_AIC_OFF | CTL_PIC_ON, 2);
        wr(&f, 3, i << 3, exp + EXP_SLTCTL, CTL_AIC_OFF | CTL_PIC_OFF | CTL_PCC, 2);
    }
    set_sltctl(&f, CTL_AIC_OFF | CTL_PIC_ON);
    set_sltctl(&f, CTL_AIC_OFF | CTL_PIC_OFF | CTL_PCC);
    ev = tes_harness_qmp_events(f.h);
    g_assert_nonnull(strstr(ev, "\"device\":\"vb\""));
    g_assert_nonnull(strstr(ev, "\"device\":\"vn\""));
    g_assert_nonnull(strstr(ev, "\"device\":\"ne\""));
    free(ev);
    g_assert_cmphex(rd(&f, 4, 0, TES_PCI_VENDOR_ID, 4), ==, 0xffffffff);
    tes_harness_free(f.h);
    g_unlink(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    pcie_path = g_getenv("PCIE_PLUGIN");
    edu_path = g_getenv("EDU_PLUGIN");
    nvme_path = g_getenv("NVME_PLUGIN");
    virtio_path = g_getenv("VIRTIO_PLUGIN");
    e1000_path = g_getenv("E1000_PLUGIN");
    if (!pcie_path || !edu_path || !nvme_path || !virtio_path || !e1000_path) {
        g_printerr("set PCIE_PLUGIN, EDU_PLUGIN, NVME_PLUGIN, VIRTIO_PLUGIN and E1000_PLUGIN "
                   "to the plugin files\n");
        return 1;
    }
    g_test_add_func("/pcie/hotplug/empty-slot-powered-off-occupied-on", test_empty_slot_off);
    g_test_add_func("/pcie/hotplug/slot-control-write-completes-with-one-msi-per-edge",
                    test_command_completed);
    g_test_add_func("/pcie/hotplug/device-add-raises-presence-button-and-link-events",
                    test_device_add_events);
    g_test_add_func("/pcie/hotplug/device-del-waits-for-the-guest-to-power-the-slot-off",
                    test_device_del_sequence);
    g_test_add_func("/pcie/hotplug/device-del-of-a-powered-off-slot-is-immediate",
                    test_device_del_powered_off);
    g_test_add_func("/pcie/hotplug/intx-follows-pending-events", test_intx_level);
    g_test_add_func("/pcie/hotplug/root-bus-and-unknown-bus-refuse", test_refusals);
    g_test_add_func("/pcie/hotplug/surprise-removal-keeps-inflight-writes",
                    test_surprise_removal_inflight);
    g_test_add_func("/pcie/hotplug/virtio-blk-net-and-e1000e-behind-switch-and-root-port",
                    test_virtio_and_nic);
    return g_test_run();
}
