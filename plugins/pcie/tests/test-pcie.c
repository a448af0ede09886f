/*
 * pcie plugin tests, through the harness: no guest, no CPU. Plugin files
 * come from $PCIE_PLUGIN and $EDU_PLUGIN (meson sets them).
 *
 * The seed layout: a root port on pci.0 at 04.0, an x3130 upstream port
 * behind it, two xio3130 downstream ports (00.0, 01.0) behind that, an edu
 * behind each, numbered depth-first as Linux does: root port secondary 1,
 * upstream 2, downstream ports 3 and 4.
 */
#include <glib.h>
#include <string.h>
#include <tessera/harness.h>

#include <tessera/gpex.h>

#define RP_DEVFN (4 << 3)
#define EDU_ID 0x11e81234u
#define EDU_REG_ID 0x00
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_BAR1 0x20000000ull /* edu behind dn1 */
#define EDU_BAR2 0x20100000ull /* edu behind dn2 */

/* Type 1 header and PCIe capability offsets. */
#define MEM_BASE 0x20
#define MEM_LIMIT 0x22
#define EXP_FLAGS 0x02
#define EXP_LNKCAP 0x0c
#define EXP_LNKSTA 0x12
#define EXP_SLTCAP 0x14
#define EXP_SLTSTA 0x1a
#define SLTSTA_PDS 0x0040
#define LNKSTA_DLLLA 0x2000

static const char *pcie_path, *edu_path;

typedef struct seed {
    tes_harness *h;
    tes_device *rp, *up, *dn1, *dn2, *dn3, *e1, *e2;
} seed;

static tes_device *dev(tes_harness *h, const char *type, const char *props)
{
    tes_device *d = tes_harness_device(h, type, props);

    if (!d) {
        g_error("%s,%s: %s", type, props ? props : "", tes_harness_error(h));
    }
    return d;
}

static tes_harness *harness(void)
{
    tes_harness *h = tes_harness_new(16 << 20);

    if (!tes_harness_load(h, pcie_path) || !tes_harness_load(h, edu_path)) {
        g_error("load: %s", tes_harness_error(h));
    }
    return h;
}

static void seed_up(seed *s)
{
    tes_harness *h = s->h = harness();

    s->rp = dev(h, "pcie-root-port", "id=rp1,addr=04.0,chassis=1,slot=5,port=7");
    s->up = dev(h, "x3130-upstream", "id=up1,bus=rp1");
    s->dn1 = dev(h, "xio3130-downstream", "id=dn1,bus=up1,addr=00.0,chassis=2,slot=1,port=1");
    s->dn2 = dev(h, "xio3130-downstream", "id=dn2,bus=up1,addr=01.0,chassis=2,slot=2,port=2");
    s->dn3 = dev(h, "xio3130-downstream", "id=dn3,bus=up1,addr=02.0,chassis=2,slot=3,port=3");
    s->e1 = dev(h, "edu", "id=e1,bus=dn1");
    s->e2 = dev(h, "edu", "id=e2,bus=dn2");
}

static uint32_t rd(seed *s, int bus, int devfn, uint32_t off, unsigned size)
{
    return tes_harness_cfg_read_bdf(s->h, bus, devfn, off, size);
}

static void wr(seed *s, int bus, int devfn, uint32_t off, uint32_t val, unsigned size)
{
    tes_harness_cfg_write_bdf(s->h, bus, devfn, off, val, size);
}

static void set_buses(seed *s, int bus, int devfn, int pri, int sec, int sub)
{
    wr(s, bus, devfn, TES_PCI_PRIMARY_BUS, pri | sec << 8 | sub << 16, 4);
}

/* Depth-first, as Linux's pci_scan_bridge: open the subordinate range
 * wide while scanning below, then close it to what was found. */
static void number_buses(seed *s)
{
    set_buses(s, 0, RP_DEVFN, 0, 1, 0xff);
    set_buses(s, 1, 0, 1, 2, 0xff);
    set_buses(s, 2, 0 << 3, 2, 3, 3);
    set_buses(s, 2, 1 << 3, 2, 4, 4);
    set_buses(s, 2, 2 << 3, 2, 5, 5);
    set_buses(s, 1, 0, 1, 2, 5);
    set_buses(s, 0, RP_DEVFN, 0, 1, 5);
}

/* Walk the capability list as a driver does; 0 when absent. */
static unsigned find_cap(seed *s, int bus, int devfn, uint8_t id)
{
    unsigned off = rd(s, bus, devfn, TES_PCI_CAPABILITY_LIST, 1) & 0xfc;

    for (int n = 0; off && n < 48; n++) {
        if (rd(s, bus, devfn, off, 1) == id) {
            return off;
        }
        off = rd(s, bus, devfn, off + 1, 1) & 0xfc;
    }
    return 0;
}

static void check_port(seed *s, int bus, int devfn, uint32_t ids, unsigned type)
{
    unsigned exp = find_cap(s, bus, devfn, TES_PCI_CAP_ID_EXP);

    g_assert_cmphex(rd(s, bus, devfn, TES_PCI_VENDOR_ID, 4), ==, ids);
    g_assert_cmphex(rd(s, bus, devfn, TES_PCI_CLASS_DEVICE, 2), ==, 0x0604);
    g_assert_cmphex(rd(s, bus, devfn, TES_PCI_HEADER_TYPE, 1) & 0x7f, ==, 1);
    g_assert_cmpuint(exp, !=, 0);
    g_assert_cmphex((rd(s, bus, devfn, exp + EXP_FLAGS, 2) >> 4) & 0xf, ==, type);
    /* pcieport needs an interrupt for its services: MSI, or INTA#. */
    g_assert_cmpuint(find_cap(s, bus, devfn, TES_PCI_CAP_ID_MSI), !=, 0);
    g_assert_cmpuint(find_cap(s, bus, devfn, TES_PCI_CAP_ID_PM), !=, 0);
    g_assert_cmphex(rd(s, bus, devfn, TES_PCI_INTERRUPT_PIN, 1), ==, 1);
}

static void test_seed_ids_and_types(void)
{
    seed s;

    seed_up(&s);
    number_buses(&s);
    check_port(&s, 0, RP_DEVFN, 0x000c1b36, TES_PCIE_TYPE_ROOT_PORT);
    check_port(&s, 1, 0, 0x8232104c, TES_PCIE_TYPE_UPSTREAM);
    check_port(&s, 2, 0 << 3, 0x8233104c, TES_PCIE_TYPE_DOWNSTREAM);
    check_port(&s, 2, 1 << 3, 0x8233104c, TES_PCIE_TYPE_DOWNSTREAM);
    tes_harness_free(s.h);
}

/* Slot number in Slot Capabilities, port number in Link Capabilities,
 * hot-plug capable slot; presence follows what sits behind the port. */
static void test_slot_registers(void)
{
    seed s;
    unsigned exp;
    uint32_t sltcap;

    seed_up(&s);
    number_buses(&s);
    exp = find_cap(&s, 0, RP_DEVFN, TES_PCI_CAP_ID_EXP);
    g_assert_true(rd(&s, 0, RP_DEVFN, exp + EXP_FLAGS, 2) & 0x0100); /* slot implemented */
    sltcap = rd(&s, 0, RP_DEVFN, exp + EXP_SLTCAP, 4);
    g_assert_cmpuint(sltcap >> 19, ==, 5);
    g_assert_cmphex(sltcap & 0x43, ==, 0x43); /* button, power controller, hot-plug capable */
    g_assert_cmpuint(rd(&s, 0, RP_DEVFN, exp + EXP_LNKCAP, 4) >> 24, ==, 7);
    g_assert_true(rd(&s, 0, RP_DEVFN, exp + EXP_SLTSTA, 2) & SLTSTA_PDS);

    exp = find_cap(&s, 2, 1 << 3, TES_PCI_CAP_ID_EXP);
    g_assert_cmpuint(rd(&s, 2, 1 << 3, exp + EXP_SLTCAP, 4) >> 19, ==, 2);
    g_assert_cmpuint(rd(&s, 2, 1 << 3, exp + EXP_LNKCAP, 4) >> 24, ==, 2);
    g_assert_true(rd(&s, 2, 1 << 3, exp + EXP_SLTSTA, 2) & SLTSTA_PDS);
    g_assert_true(rd(&s, 2, 1 << 3, exp + EXP_LNKSTA, 2) & LNKSTA_DLLLA);
    /* dn3 has nothing behind it. */
    g_assert_false(rd(&s, 2, 2 << 3, exp + EXP_SLTSTA, 2) & SLTSTA_PDS);
    g_assert_false(rd(&s, 2, 2 << 3, exp + EXP_LNKSTA, 2) & LNKSTA_DLLLA);
    /* The upstream port has no slot. */
    exp = find_cap(&s, 1, 0, TES_PCI_CAP_ID_EXP);
    g_assert_false(rd(&s, 1, 0, exp + EXP_FLAGS, 2) & 0x0100);
    tes_harness_free(s.h);
}

static void test_devices_answer_after_numbering(void)
{
    seed s;

    seed_up(&s);
    g_assert_cmphex(rd(&s, 1, 0, TES_PCI_VENDOR_ID, 4), ==, 0xffffffff);
    g_assert_cmphex(rd(&s, 3, 0, TES_PCI_VENDOR_ID, 4), ==, 0xffffffff);
    g_assert_cmphex(rd(&s, 4, 0, TES_PCI_VENDOR_ID, 4), ==, 0xffffffff);
    number_buses(&s);
    g_assert_cmphex(rd(&s, 3, 0, TES_PCI_VENDOR_ID, 4), ==, EDU_ID);
    g_assert_cmphex(rd(&s, 4, 0, TES_PCI_VENDOR_ID, 4), ==, EDU_ID);
    g_assert_cmphex(rd(&s, 5, 0, TES_PCI_VENDOR_ID, 4), ==, 0xffffffff); /* dn3: empty */
    g_assert_cmphex(rd(&s, 6, 0, TES_PCI_VENDOR_ID, 4), ==, 0xffffffff);
    g_assert_cmphex(tes_harness_cfg_read(s.h, s.e2, TES_PCI_VENDOR_ID, 4), ==, EDU_ID);
    tes_harness_free(s.h);
}

static void window(seed *s, int bus, int devfn, uint64_t base, uint64_t limit)
{
    wr(s, bus, devfn, MEM_BASE, (uint32_t)(base >> 16), 2);
    wr(s, bus, devfn, MEM_LIMIT, (uint32_t)(limit >> 16), 2);
    wr(s, bus, devfn, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY | TES_PCI_COMMAND_MASTER, 2);
}

/* BAR0 of each edu, and every bridge's memory window and MEM enable, as
 * Linux's resource assignment would leave them. */
static void map_edus(seed *s)
{
    wr(s, 3, 0, TES_PCI_BAR0, (uint32_t)EDU_BAR1, 4);
    wr(s, 3, 0, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    wr(s, 4, 0, TES_PCI_BAR0, (uint32_t)EDU_BAR2, 4);
    wr(s, 4, 0, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    window(s, 2, 0 << 3, EDU_BAR1, EDU_BAR1 + 0xfffff);
    window(s, 2, 1 << 3, EDU_BAR2, EDU_BAR2 + 0xfffff);
    window(s, 1, 0, EDU_BAR1, EDU_BAR2 + 0xfffff);
    window(s, 0, RP_DEVFN, EDU_BAR1, EDU_BAR2 + 0xfffff);
}

static void test_bar_through_windows(void)
{
    seed s;

    seed_up(&s);
    number_buses(&s);
    map_edus(&s);
    g_assert_cmphex(tes_harness_read(s.h, EDU_BAR1 + EDU_REG_ID, 4), ==, 0x010000ed);
    g_assert_cmphex(tes_harness_read(s.h, EDU_BAR2 + EDU_REG_ID, 4), ==, 0x010000ed);
    /* Memory decoding off at the root port closes the path. */
    wr(&s, 0, RP_DEVFN, TES_PCI_COMMAND, 0, 2);
    g_assert_cmphex(tes_harness_read(s.h, EDU_BAR1 + EDU_REG_ID, 4), ==, 0xffffffff);
    wr(&s, 0, RP_DEVFN, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    g_assert_cmphex(tes_harness_read(s.h, EDU_BAR1 + EDU_REG_ID, 4), ==, 0x010000ed);
    /* A downstream window that does not cover the BAR hides it. */
    window(&s, 2, 0 << 3, EDU_BAR2, EDU_BAR2 + 0xfffff);
    g_assert_cmphex(tes_harness_read(s.h, EDU_BAR1 + EDU_REG_ID, 4), ==, 0xffffffff);
    tes_harness_free(s.h);
}

/* INTA# of the edu behind dn1 (slot 0 everywhere below the root port at
 * slot 4) reaches line (4 + 0) % 4 = 0; behind dn2 (slot 1) line 1. */
static void test_intx_swizzle(void)
{
    seed s;

    seed_up(&s);
    number_buses(&s);
    map_edus(&s);
    tes_harness_write(s.h, EDU_BAR1 + EDU_IRQ_RAISE, 1, 4);
    g_assert_cmpint(tes_harness_pci_line(s.h, 0), ==, 1);
    g_assert_cmpint(tes_harness_pci_line(s.h, 1), ==, 0);
    tes_harness_write(s.h, EDU_BAR1 + EDU_IRQ_ACK, 1, 4);
    g_assert_cmpint(tes_harness_pci_line(s.h, 0), ==, 0);
    tes_harness_write(s.h, EDU_BAR2 + EDU_IRQ_RAISE, 1, 4);
    g_assert_cmpint(tes_harness_pci_line(s.h, 1), ==, 1);
    g_assert_cmpint(tes_harness_pci_line(s.h, 0), ==, 0);
    g_assert_cmpint(tes_harness_pci_line(s.h, 2), ==, 0);
    g_assert_cmpint(tes_harness_pci_line(s.h, 3), ==, 0);
    tes_harness_free(s.h);
}

static void test_duplicate_slot_refused(void)
{
    tes_harness *h = harness();

    dev(h, "pcie-root-port", "id=a,chassis=1,slot=1");
    g_assert_null(tes_harness_device(h, "pcie-root-port", "id=b,chassis=1,slot=1"));
    g_assert_nonnull(strstr(tes_harness_error(h), "chassis 1 slot 1 is already taken by a"));
    dev(h, "pcie-root-port", "id=c,chassis=1,slot=2");
    g_assert_null(tes_harness_device(h, "pcie-root-port", "id=d,slot=9000"));
    tes_harness_free(h);
}

static void test_pci_bridge(void)
{
    seed s = {.h = harness()};
    tes_device *br;
    unsigned sid;

    g_assert_null(tes_harness_device(s.h, "pci-bridge", "id=br0"));
    g_assert_nonnull(strstr(tes_harness_error(s.h), "chassis_nr"));
    br = dev(s.h, "pci-bridge", "id=br1,chassis_nr=3,addr=05.0");
    dev(s.h, "edu", "bus=br1,addr=02.0");
    g_assert_cmphex(tes_harness_cfg_read(s.h, br, TES_PCI_VENDOR_ID, 4), ==, 0x00011b36);
    g_assert_cmphex(rd(&s, 0, 5 << 3, TES_PCI_CLASS_DEVICE, 2), ==, 0x0604);
    sid = find_cap(&s, 0, 5 << 3, 0x04);
    g_assert_cmpuint(sid, !=, 0);
    g_assert_cmpuint(rd(&s, 0, 5 << 3, sid + 3, 1), ==, 3);
    g_assert_cmpuint(find_cap(&s, 0, 5 << 3, TES_PCI_CAP_ID_MSI), !=, 0);
    g_assert_cmpuint(find_cap(&s, 0, 5 << 3, TES_PCI_CAP_ID_EXP), ==, 0); /* conventional */
    set_buses(&s, 0, 5 << 3, 0, 1, 1);
    g_assert_cmphex(rd(&s, 1, 2 << 3, TES_PCI_VENDOR_ID, 4), ==, EDU_ID);
    dev(s.h, "pci-bridge", "id=br2,chassis_nr=4,msi=off,addr=06.0");
    g_assert_cmpuint(find_cap(&s, 0, 6 << 3, TES_PCI_CAP_ID_MSI), ==, 0);
    tes_harness_free(s.h);
}

/* ioh3420 (QEMU's older root port, the tutorial's): Intel's ids, a root
 * port's PCIe capability, and a secondary bus named after its id. */
static void test_ioh3420(void)
{
    seed s = {.h = harness()};
    tes_device *rp = dev(s.h, "ioh3420", "id=rp9,chassis=1,addr=07.0");
    unsigned exp;

    dev(s.h, "edu", "bus=rp9,addr=00.0");
    g_assert_cmphex(tes_harness_cfg_read(s.h, rp, TES_PCI_VENDOR_ID, 4), ==, 0x34208086);
    g_assert_cmphex(rd(&s, 0, 7 << 3, TES_PCI_CLASS_DEVICE, 2), ==, 0x0604);
    exp = find_cap(&s, 0, 7 << 3, TES_PCI_CAP_ID_EXP);
    g_assert_cmpuint(exp, !=, 0);
    g_assert_cmphex(rd(&s, 0, 7 << 3, exp + EXP_FLAGS, 2) >> 4 & 0xf, ==,
                    TES_PCIE_TYPE_ROOT_PORT);
    set_buses(&s, 0, 7 << 3, 0, 1, 1);
    g_assert_cmphex(rd(&s, 1, 0, TES_PCI_VENDOR_ID, 4), ==, EDU_ID);
    tes_harness_free(s.h);
}

/* Switch trace events on (QMP trace-event-set-state). */
static void trace_on(tes_harness *h, const char *name)
{
    g_autofree char *json = g_strdup_printf("{\"execute\": \"trace-event-set-state\", "
                                            "\"arguments\": {\"name\": \"%s\", "
                                            "\"enable\": true}}", name);
    g_autofree char *r = tes_harness_qmp(h, json);

    g_assert_nonnull(strstr(r, "\"return\""));
}

/* ---- gpex ---- */

#define ECAM 0x3f000000ull /* virt: above the MMIO window and PIO */
#define PIO 0x3eff0000ull

static uint32_t ecam_rd(tes_harness *h, int bus, int devfn, uint32_t reg, unsigned size)
{
    return tes_harness_read(h, ECAM + ((uint64_t)bus << 20 | devfn << 12 | reg), size);
}

static void ecam_wr(tes_harness *h, int bus, int devfn, uint32_t reg, uint32_t val, unsigned size)
{
    tes_harness_write(h, ECAM + ((uint64_t)bus << 20 | devfn << 12 | reg), val, size);
}

static tes_device *gpex_up(tes_harness *h)
{
    const tes_host *H = tes_harness_host(h);
    const tes_gpex_iface *g = H->iface_lookup(TES_GPEX_IFACE, 1);
    tes_device *gp = dev(h, "gpex-pcihost", NULL);

    g_assert_nonnull(g);
    g_assert_cmpuint(g->size, >=, sizeof(tes_gpex_iface));
    g_assert_cmpuint(H->region_size(g->ecam(gp)), ==, 16 << 20);
    g_assert_cmpuint(H->region_size(g->pio(gp)), ==, 0x10000);
    g_assert_cmphex(H->region_size(g->mmio(gp)), ==, 0x2eff0000);
    g_assert_cmpstr(H->bus_name(g->root_bus(gp)), ==, "pcie.0");
    g_assert_null(g->ecam(NULL));
    H->region_add(H->system_memory(), ECAM, g->ecam(gp), 0);
    H->region_add(H->system_memory(), 0x10000000, g->mmio(gp), 0);
    H->region_add(H->system_memory(), PIO, g->pio(gp), 0);
    return gp;
}

static void test_gpex_ecam(void)
{
    tes_harness *h = harness();

    gpex_up(h);
    dev(h, "edu", "id=e0,bus=pcie.0,addr=03.0");
    dev(h, "pcie-root-port", "id=rp0,bus=pcie.0,addr=02.0");
    dev(h, "edu", "id=e1,bus=rp0");
    /* 00.0 is the host bridge function. */
    g_assert_cmphex(ecam_rd(h, 0, 0, TES_PCI_VENDOR_ID, 4), ==, 0x00081b36);
    g_assert_cmphex(ecam_rd(h, 0, 0, TES_PCI_CLASS_DEVICE, 2), ==, 0x0600);
    g_assert_cmphex(ecam_rd(h, 0, 3 << 3, TES_PCI_VENDOR_ID, 4), ==, EDU_ID);
    g_assert_cmphex(ecam_rd(h, 0, 3 << 3, TES_PCI_DEVICE_ID, 2), ==, 0x11e8);
    g_assert_cmphex(ecam_rd(h, 0, 4 << 3, TES_PCI_VENDOR_ID, 4), ==, 0xffffffff);
    g_assert_cmphex(ecam_rd(h, 0, 2 << 3, TES_PCI_VENDOR_ID, 4), ==, 0x000c1b36);
    /* Numbered through ECAM writes, bus 1 decodes behind the port. */
    g_assert_cmphex(ecam_rd(h, 1, 0, TES_PCI_VENDOR_ID, 4), ==, 0xffffffff);
    ecam_wr(h, 0, 2 << 3, TES_PCI_PRIMARY_BUS, 0x010100, 4);
    g_assert_cmphex(ecam_rd(h, 1, 0, TES_PCI_VENDOR_ID, 4), ==, EDU_ID);
    /* Not the harness's pci.0: its config cycles do not reach pcie.0. */
    g_assert_cmphex(tes_harness_cfg_read_bdf(h, 0, 3 << 3, 0, 4), ==, 0xffffffff);
    tes_harness_free(h);
}

static void test_gpex_mmio_and_intx(void)
{
    tes_harness *h = harness();
    tes_device *gp = gpex_up(h);

    dev(h, "edu", "id=e0,bus=pcie.0,addr=03.0");
    tes_harness_log_capture(h, TES_LOG_TRACE);
    trace_on(h, "gpex_set_irq");
    ecam_wr(h, 0, 3 << 3, TES_PCI_BAR0, 0x10000000, 4);
    ecam_wr(h, 0, 3 << 3, TES_PCI_COMMAND, TES_PCI_COMMAND_MEMORY, 2);
    g_assert_cmphex(tes_harness_read(h, 0x10000000, 4), ==, 0x010000ed);
    /* INTA# of slot 3 drives output (3 + 0) % 4. */
    g_assert_cmpint(tes_harness_irq_level(h, gp, 3), ==, 0);
    tes_harness_write(h, 0x10000000 + EDU_IRQ_RAISE, 1, 4);
    g_assert_cmpint(tes_harness_irq_level(h, gp, 3), ==, 1);
    g_assert_cmpint(tes_harness_irq_level(h, gp, 0), ==, 0);
    tes_harness_write(h, 0x10000000 + EDU_IRQ_ACK, 1, 4);
    g_assert_cmpint(tes_harness_irq_level(h, gp, 3), ==, 0);
    /* Our gpex_set_irq lines: the output and its level. */
    g_assert_nonnull(strstr(tes_harness_log_text(h), "gpex_set_irq set_irq num 3 level 1\n"
                                                     "gpex_set_irq set_irq num 3 level 0\n"));
    tes_harness_free(h);
}

/* ---- trace points ---- */

/* The ports' set-up (ours), their config cycles (the core's pci_cfg_*,
 * QEMU's format) and a hot-plug slot command (QEMU's
 * pcie_cap_slot_write_config), only once switched on. */
static void test_trace_points(void)
{
    seed s;
    const char *log;
    unsigned exp;

    s.h = harness();
    tes_harness_log_capture(s.h, TES_LOG_TRACE);
    dev(s.h, "pcie-root-port", "id=quiet,addr=06.0,chassis=9,slot=9");
    g_assert_null(strstr(tes_harness_log_text(s.h), "pcie_port_init"));
    trace_on(s.h, "pcie_port_init");
    trace_on(s.h, "pci_bridge_init");
    trace_on(s.h, "pci_cfg_*");
    trace_on(s.h, "pcie_cap_slot_write_config");
    trace_on(s.h, "pxb_init");
    s.rp = dev(s.h, "pcie-root-port", "id=rp1,addr=04.0,chassis=1,slot=5,port=7");
    dev(s.h, "pci-bridge", "id=br1,addr=05.0,chassis_nr=3");
    dev(s.h, "pxb", "id=px0,addr=07.0,bus_nr=32");
    log = tes_harness_log_text(s.h);
    g_assert_nonnull(strstr(log, "pxb_init px0 bus_nr 32 pcie 0\n"));
    g_assert_nonnull(strstr(log, "pcie_port_init rp1 (pcie-root-port) chassis 1 slot 5\n"));
    g_assert_nonnull(strstr(log, "pci_bridge_init br1 chassis_nr 3 msi 1\n"));
    g_assert_cmphex(rd(&s, 0, RP_DEVFN, TES_PCI_VENDOR_ID, 4), ==, 0x000c1b36);
    g_assert_nonnull(strstr(tes_harness_log_text(s.h),
                            "pci_cfg_read pcie-root-port 00:04.0 @0x0 -> 0xc1b36\n"));
    exp = find_cap(&s, 0, RP_DEVFN, TES_PCI_CAP_ID_EXP);
    /* Indicators off, power off: an empty slot's command. */
    wr(&s, 0, RP_DEVFN, exp + 0x18, 0x07c0, 2);
    log = tes_harness_log_text(s.h);
    g_assert_nonnull(strstr(log, "pci_cfg_write pcie-root-port 00:04.0 @0x"));
    g_assert_nonnull(strstr(log, "pcie_cap_slot_write_config rp1 > (null): pds: not present, "
                                 "pic: off->off, aic: off->off, power: off->off\n"));
    tes_harness_free(s.h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    pcie_path = g_getenv("PCIE_PLUGIN");
    edu_path = g_getenv("EDU_PLUGIN");
    if (!pcie_path || !edu_path) {
        g_printerr("set PCIE_PLUGIN and EDU_PLUGIN to the plugin files\n");
        return 1;
    }
    g_test_add_func("/pcie/switch/seed-layout-ids-and-port-types", test_seed_ids_and_types);
    g_test_add_func("/pcie/switch/slot-and-port-numbers-and-presence", test_slot_registers);
    g_test_add_func("/pcie/switch/devices-answer-only-after-bus-numbering",
                    test_devices_answer_after_numbering);
    g_test_add_func("/pcie/switch/bar-behind-switch-reachable-through-windows",
                    test_bar_through_windows);
    g_test_add_func("/pcie/switch/intx-swizzles-to-root-line", test_intx_swizzle);
    g_test_add_func("/pcie/root-port/duplicate-chassis-slot-refused",
                    test_duplicate_slot_refused);
    g_test_add_func("/pcie/pci-bridge/chassis-nr-slot-id-and-msi", test_pci_bridge);
    g_test_add_func("/pcie/ioh3420/intel-ids-root-port-secondary-bus", test_ioh3420);
    g_test_add_func("/pcie/gpex/ecam-decodes-bus-devfn-register", test_gpex_ecam);
    g_test_add_func("/pcie/gpex/mmio-window-and-intx-outputs", test_gpex_mmio_and_intx);
    g_test_add_func("/pcie/trace/port-init-config-cycles-slot-command", test_trace_points);
    return g_test_run();
}
