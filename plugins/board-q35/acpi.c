/*
 * board-q35: the q35 machine's ACPI tables, generated at start-up into the
 * 0xe0000..0xfffff area (e820 reserved), with a small AML writer for the
 * DSDT.
 *
 * Tables (ACPI 6.x; revisions as Linux 6.1 reads them): RSDP rev 2 with
 * RSDT and XSDT; FADT rev 5 (ICH9 PM block at 0x600, SCI on IRQ 9, no
 * SMI_CMD: ACPI mode is always on, reset register 0xcf9); FACS; MADT (one
 * enabled local APIC per CPU, IOAPIC 0 at 0xfec00000 from GSI 0, IRQ0 ->
 * GSI2 and SCI overrides, LINT1 NMI); MCFG (ECAM at 0xb0000000, buses
 * 0..255); DSDT: \_SB.PCI0 (PNP0A08) with _CRS, a _PRT routing INTA..D of
 * every slot straight to GSIs 16..23 (q35.h q35_pci_gsi: no PIRQ link
 * devices), an _OSC that grants every control asked for, COM1, one ACPI0007
 * processor device per CPU, and \_S5.
 */
#include <stdlib.h>
#include <string.h>

#include "q35.h"

#define OEM_ID "TESSRA"
#define OEM_TABLE_ID "TESSERA "
#define CREATOR_ID "TSRA"
#define HDR_LEN 36

/* ---- a growable byte buffer ---- */

typedef struct aml {
    uint8_t *b;
    size_t len, cap;
    bool oom;
} aml;

static void put(aml *a, const void *p, size_t n)
{
    if (a->len + n > a->cap) {
        size_t cap = (a->cap ? a->cap * 2 : 1024) + n;
        uint8_t *nb = realloc(a->b, cap);
        if (!nb) {
            a->oom = true;
            return;
        }
        a->b = nb;
        a->cap = cap;
    }
    memcpy(a->b + a->len, p, n);
    a->len += n;
}

static void u8(aml *a, uint8_t v)
{
    put(a, &v, 1);
}

static void le(aml *a, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        u8(a, i < 8 ? (uint8_t)(v >> (8 * i)) : 0);
    }
}

/* ---- AML (ACPI 6.4, section 20.2) ---- */

enum {
    AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME = 0x08, AML_BYTE = 0x0a, AML_WORD = 0x0b,
    AML_DWORD = 0x0c, AML_STRING = 0x0d, AML_QWORD = 0x0e, AML_SCOPE = 0x10,
    AML_BUFFER = 0x11, AML_PACKAGE = 0x12, AML_METHOD = 0x14, AML_DUAL = 0x2e,
    AML_MULTI = 0x2f, AML_EXT = 0x5b, AML_DEVICE = 0x82, AML_ARG3 = 0x6b,
    AML_RETURN = 0xa4, AML_ONES = 0xff,
};

/* A PkgLength placeholder: bodies are written after it and close_pkg()
 * encodes the final length, shrinking the 4 reserved bytes to 1..4. */
static size_t open_pkg(aml *a)
{
    size_t at = a->len;

    le(a, 0, 4);
    return at;
}

static void close_pkg(aml *a, size_t at)
{
    size_t body = a->len - at - 4;
    unsigned n = body + 1 < 0x40 ? 1 : body + 2 < 0x1000 ? 2 : body + 3 < 0x100000 ? 3 : 4;
    size_t total = body + n;
    uint8_t enc[4];

    if (a->oom) {
        return;
    }
    if (n == 1) {
        enc[0] = (uint8_t)total;
    } else {
        /* 20.2.4: byte 0 holds the count of following bytes and bits 0..3 */
        enc[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
        for (unsigned i = 1; i < n; i++) {
            enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
        }
    }
    memmove(a->b + at + n, a->b + at + 4, body);
    memcpy(a->b + at, enc, n);
    a->len = at + n + body;
}

/* NameString: "\\_SB.PCI0", "^FOO", "_HID"; segments padded with '_'. */
static void name(aml *a, const char *path)
{
    const char *segs[8];
    size_t lens[8];
    unsigned n = 0;

    while (*path == '\\' || *path == '^') {
        u8(a, (uint8_t)*path++);
    }
    for (const char *p = path; *p && n < 8; n++) {
        const char *dot = strchr(p, '.');
        segs[n] = p;
        lens[n] = dot ? (size_t)(dot - p) : strlen(p);
        p += lens[n] + (dot ? 1 : 0);
    }
    if (n == 2) {
        u8(a, AML_DUAL);
    } else if (n > 2) {
        u8(a, AML_MULTI);
        u8(a, (uint8_t)n);
    }
    for (unsigned i = 0; i < n; i++) {
        char seg[4] = {'_', '_', '_', '_'};
        memcpy(seg, segs[i], lens[i] > 4 ? 4 : lens[i]);
        put(a, seg, 4);
    }
}

static void integer(aml *a, uint64_t v)
{
    if (v == 0 || v == 1) {
        u8(a, v ? AML_ONE : AML_ZERO);
    } else if (v == UINT64_MAX) {
        u8(a, AML_ONES);
    } else if (v <= 0xff) {
        u8(a, AML_BYTE);
        u8(a, (uint8_t)v);
    } else if (v <= 0xffff) {
        u8(a, AML_WORD);
        le(a, v, 2);
    } else if (v <= 0xffffffff) {
        u8(a, AML_DWORD);
        le(a, v, 4);
    } else {
        u8(a, AML_QWORD);
        le(a, v, 8);
    }
}

static void string(aml *a, const char *s)
{
    u8(a, AML_STRING);
    put(a, s, strlen(s) + 1);
}

/* EISAID("PNP0A08"): three 5-bit letters and four hex digits, stored
 * big-endian as a DWord (20.2.3 / ACPI 6.4 19.6.35). */
static void eisaid(aml *a, const char *id)
{
    unsigned vendor = (unsigned)((id[0] - 0x40) & 0x1f) << 10 |
                      (unsigned)((id[1] - 0x40) & 0x1f) << 5 | ((id[2] - 0x40) & 0x1f);
    unsigned product = (unsigned)strtoul(id + 3, NULL, 16);
    uint8_t b[5] = {AML_DWORD, (uint8_t)(vendor >> 8), (uint8_t)vendor, (uint8_t)(product >> 8),
                    (uint8_t)product};

    put(a, b, sizeof(b));
}

static void name_int(aml *a, const char *n, uint64_t v)
{
    u8(a, AML_NAME);
    name(a, n);
    integer(a, v);
}

static void name_eisaid(aml *a, const char *n, const char *id)
{
    u8(a, AML_NAME);
    name(a, n);
    eisaid(a, id);
}

static size_t open_device(aml *a, const char *n)
{
    size_t at;

    u8(a, AML_EXT);
    u8(a, AML_DEVICE);
    at = open_pkg(a);
    name(a, n);
    return at;
}

/* Name(n, Buffer() {bytes}) */
static void name_buffer(aml *a, const char *n, const aml *bytes)
{
    size_t at;

    u8(a, AML_NAME);
    name(a, n);
    u8(a, AML_BUFFER);
    at = open_pkg(a);
    integer(a, bytes->len);
    put(a, bytes->b, bytes->len);
    close_pkg(a, at);
}

/* ---- resource descriptors (ACPI 6.4, 6.4.2 and 6.4.3) ---- */

/* Word/DWord/QWord address space descriptors: producer, min and max fixed. */
static void res_addr(aml *r, unsigned width, uint8_t type, uint8_t tflags, uint64_t min,
                     uint64_t max)
{
    static const uint8_t tag[9] = {[2] = 0x88, [4] = 0x87, [8] = 0x8a};

    u8(r, tag[width]);
    le(r, 3 + 5 * width, 2);
    u8(r, type);  /* 0 memory, 1 I/O, 2 bus numbers */
    u8(r, 0x0c);  /* _MIF | _MAF, producer, positive decode */
    u8(r, tflags);
    le(r, 0, width); /* granularity */
    le(r, min, width);
    le(r, max, width);
    le(r, 0, width); /* translation: bus address == CPU address */
    le(r, max - min + 1, width);
}

static void res_io(aml *r, uint16_t port, uint8_t len)
{
    uint8_t d[8] = {0x47, 0x01, (uint8_t)port, (uint8_t)(port >> 8), (uint8_t)port,
                    (uint8_t)(port >> 8), 1, len};

    put(r, d, sizeof(d));
}

static void res_irq(aml *r, unsigned irq)
{
    uint8_t d[3] = {0x22, (uint8_t)(1u << irq), (uint8_t)(1u << irq >> 8)};

    put(r, d, sizeof(d));
}

static void res_end(aml *r)
{
    uint8_t d[2] = {0x79, 0x00};

    put(r, d, sizeof(d));
}

/* ---- the DSDT body ---- */

static void pci0_crs(aml *a, const q35_acpi_cfg *cfg)
{
    aml r = {0};

    res_addr(&r, 2, 2, 0, 0, Q35_ECAM_BUSES - 1);
    res_io(&r, 0xcf8, 8);
    res_addr(&r, 2, 1, 3, 0x0000, 0x0cf7); /* I/O: _RNG entire */
    res_addr(&r, 2, 1, 3, 0x0d00, 0xffff);
    /* The 32-bit window: read/write, cacheable (_MEM 1). No VGA hole:
     * 0xa0000..0xbffff is plain RAM here. */
    res_addr(&r, 4, 0, 3, Q35_PCI_MEM32_BASE, Q35_PCI_MEM32_END - 1);
    if (cfg->mem64_size) {
        res_addr(&r, 8, 0, 3, cfg->mem64_base, cfg->mem64_base + cfg->mem64_size - 1);
    }
    res_end(&r);
    name_buffer(a, "_CRS", &r);
    free(r.b);
}

/* Package { Package {0xSSSSFFFF, pin, Zero, gsi}, ... }: GSI mode, which
 * Linux treats as level-triggered, active-low. */
static void pci0_prt(aml *a)
{
    size_t at, e;

    u8(a, AML_NAME);
    name(a, "_PRT");
    u8(a, AML_PACKAGE);
    at = open_pkg(a);
    u8(a, 32 * 4);
    for (unsigned slot = 0; slot < 32; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            u8(a, AML_PACKAGE);
            e = open_pkg(a);
            u8(a, 4);
            integer(a, (uint64_t)slot << 16 | 0xffff);
            integer(a, pin);
            integer(a, 0);
            integer(a, q35_pci_gsi(slot, pin));
            close_pkg(a, e);
        }
    }
    close_pkg(a, at);
}

/* Method(_OSC, 4) { Return (Arg3) }: the capabilities buffer comes back
 * unchanged, so CDW1 reports no error and CDW3 grants every control the OS
 * asked for (native PCIe hotplug, PME, AER, capability structure). */
static void pci0_osc(aml *a)
{
    size_t at;

    u8(a, AML_METHOD);
    at = open_pkg(a);
    name(a, "_OSC");
    u8(a, 4); /* 4 arguments, not serialized */
    u8(a, AML_RETURN);
    u8(a, AML_ARG3);
    close_pkg(a, at);
}

static void dsdt_pci0(aml *a, const q35_acpi_cfg *cfg)
{
    size_t dev = open_device(a, "PCI0");

    name_eisaid(a, "_HID", "PNP0A08");
    name_eisaid(a, "_CID", "PNP0A03");
    name_int(a, "_ADR", 0);
    name_int(a, "_SEG", 0);
    name_int(a, "_UID", 0);
    name_int(a, "_BBN", 0);
    pci0_crs(a, cfg);
    pci0_prt(a);
    pci0_osc(a);
    close_pkg(a, dev);
}

static void dsdt_com1(aml *a)
{
    size_t dev = open_device(a, "COM1");
    aml r = {0};

    name_eisaid(a, "_HID", "PNP0501");
    name_int(a, "_UID", 1);
    res_io(&r, 0x3f8, 8);
    res_irq(&r, 4);
    res_end(&r);
    name_buffer(a, "_CRS", &r);
    free(r.b);
    close_pkg(a, dev);
}

/* ACPI 6: processors are Device(Cnnn) with _HID "ACPI0007"; _UID matches
 * the MADT's processor UID. */
static void dsdt_cpus(aml *a, unsigned ncpus)
{
    for (unsigned i = 0; i < ncpus; i++) {
        char n[5];
        size_t dev;

        n[0] = 'C';
        n[1] = "0123456789ABCDEF"[(i >> 8) & 0xf];
        n[2] = "0123456789ABCDEF"[(i >> 4) & 0xf];
        n[3] = "0123456789ABCDEF"[i & 0xf];
        n[4] = 0;
        dev = open_device(a, n);
        u8(a, AML_NAME);
        name(a, "_HID");
        string(a, "ACPI0007");
        name_int(a, "_UID", i);
        close_pkg(a, dev);
    }
}

static void dsdt_body(aml *a, const q35_acpi_cfg *cfg)
{
    size_t sb, pkg;

    u8(a, AML_SCOPE);
    sb = open_pkg(a);
    name(a, "\\_SB");
    dsdt_pci0(a, cfg);
    dsdt_com1(a);
    dsdt_cpus(a, cfg->ncpus);
    close_pkg(a, sb);
    /* \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved */
    u8(a, AML_NAME);
    name(a, "\\_S5");
    u8(a, AML_PACKAGE);
    pkg = open_pkg(a);
    u8(a, 4);
    integer(a, Q35_SLP_TYP_S5);
    integer(a, Q35_SLP_TYP_S5);
    integer(a, 0);
    integer(a, 0);
    close_pkg(a, pkg);
}

/* ---- tables ---- */

static void header(aml *t, const char *sig, uint8_t rev)
{
    put(t, sig, 4);
    le(t, 0, 4); /* length, patched by finish() */
    u8(t, rev);
    u8(t, 0);    /* checksum, patched by finish() */
    put(t, OEM_ID, 6);
    put(t, OEM_TABLE_ID, 8);
    le(t, 1, 4);
    put(t, CREATOR_ID, 4);
    le(t, 1, 4);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--) {
        s += *p++;
    }
    return s;
}

/* Generic Address Structure (5.2.3.2): system I/O space. */
static void gas_io(aml *t, uint8_t bits, uint8_t access, uint64_t port)
{
    u8(t, 1);
    u8(t, bits);
    u8(t, 0);
    u8(t, access);
    le(t, port, 8);
}

static void fadt_legacy_blocks(aml *t)
{
    le(t, Q35_PM1_EVT, 4);
    le(t, 0, 4);             /* PM1b_EVT */
    le(t, Q35_PM1_CNT, 4);
    le(t, 0, 4);             /* PM1b_CNT */
    le(t, 0, 4);             /* PM2_CNT */
    le(t, Q35_PM_TMR, 4);
    le(t, Q35_GPE0, 4);
    le(t, 0, 4);             /* GPE1 */
    u8(t, 4);                /* PM1_EVT_LEN */
    u8(t, 2);                /* PM1_CNT_LEN */
    u8(t, 0);
    u8(t, 4);                /* PM_TMR_LEN */
    u8(t, Q35_GPE0_LEN);
    u8(t, 0);
    u8(t, 0);                /* GPE1_BASE */
    u8(t, 0);                /* CST_CNT */
    le(t, 0xfff, 2);         /* P_LVL2_LAT > 100: no C2 */
    le(t, 0xfff, 2);         /* P_LVL3_LAT > 1000: no C3 */
    le(t, 0, 4);             /* FLUSH_SIZE, FLUSH_STRIDE */
    le(t, 0, 4);             /* DUTY_OFFSET/WIDTH, DAY_ALRM, MON_ALRM */
}

/* FADT flags (5.2.9, table 5.10) */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5)
#define FADT_RTC_S4 (1u << 7)
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_USE_PLATFORM_CLOCK (1u << 15)
/* IAPC_BOOT_ARCH: LEGACY_DEVICES, VGA not present. No 8042 bit: Linux then
 * leaves the i8042 alone (it is here only for the reset line). */
#define IAPC_LEGACY_DEVICES (1u << 0)
#define IAPC_NO_VGA (1u << 2)

static void build_fadt(aml *t, uint64_t facs, uint64_t dsdt)
{
    header(t, "FACP", 5);
    le(t, facs, 4);
    le(t, dsdt, 4);
    u8(t, 0);                /* reserved */
    u8(t, 0);                /* Preferred_PM_Profile: unspecified */
    le(t, Q35_SCI_IRQ, 2);
    le(t, 0, 4);             /* SMI_CMD 0: ACPI mode is always on */
    le(t, 0, 4);             /* ACPI_ENABLE/DISABLE, S4BIOS_REQ, PSTATE_CNT */
    fadt_legacy_blocks(t);
    u8(t, 0x32);             /* CENTURY: CMOS register */
    le(t, IAPC_LEGACY_DEVICES | IAPC_NO_VGA, 2);
    u8(t, 0);
    le(t, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RTC_S4 | FADT_TMR_VAL_EXT |
              FADT_RESET_REG_SUP | FADT_USE_PLATFORM_CLOCK, 4);
    gas_io(t, 8, 1, Q35_RESET_PORT);
    u8(t, Q35_RESET_VALUE);
    le(t, 0, 2);             /* ARM_BOOT_ARCH */
    u8(t, 1);                /* FADT minor version: 5.1 */
    le(t, 0, 8);             /* X_FIRMWARE_CTRL: FIRMWARE_CTRL says it (once) */
    le(t, dsdt, 8);
    gas_io(t, 32, 2, Q35_PM1_EVT);
    gas_io(t, 0, 0, 0);      /* X_PM1b_EVT */
    gas_io(t, 16, 2, Q35_PM1_CNT);
    gas_io(t, 0, 0, 0);      /* X_PM1b_CNT */
    gas_io(t, 0, 0, 0);      /* X_PM2_CNT */
    gas_io(t, 32, 3, Q35_PM_TMR);
    gas_io(t, Q35_GPE0_LEN * 8, 1, Q35_GPE0);
    gas_io(t, 0, 0, 0);      /* X_GPE1 */
    gas_io(t, 0, 0, 0);      /* SLEEP_CONTROL_REG (hardware-reduced only) */
    gas_io(t, 0, 0, 0);      /* SLEEP_STATUS_REG */
}

static void build_facs(aml *t)
{
    put(t, "FACS", 4);
    le(t, 64, 4);
    le(t, 0, 4);             /* hardware signature */
    le(t, 0, 4);             /* firmware waking vector */
    le(t, 0, 4);             /* global lock */
    le(t, 0, 4);             /* flags */
    le(t, 0, 8);             /* X waking vector */
    u8(t, 2);                /* version */
    le(t, 0, 3);
    le(t, 0, 4);             /* OSPM flags */
    le(t, 0, 24);
}

/* MADT interrupt source override (5.2.12.5); flags: polarity bits 1:0
 * (1 high, 3 low), trigger bits 3:2 (1 edge, 3 level). */
static void madt_iso(aml *t, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    u8(t, 2);
    u8(t, 10);
    u8(t, 0); /* ISA */
    u8(t, irq);
    le(t, gsi, 4);
    le(t, flags, 2);
}

static void build_madt(aml *t, const q35_acpi_cfg *cfg)
{
    header(t, "APIC", 4);
    le(t, Q35_LAPIC_BASE, 4);
    le(t, 1, 4); /* PCAT_COMPAT: 8259s present */
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        u8(t, 0);    /* processor local APIC */
        u8(t, 8);
        u8(t, (uint8_t)i); /* processor UID */
        u8(t, (uint8_t)(cfg->apic_id ? cfg->apic_id[i] : i)); /* APIC id */
        le(t, 1, 4); /* enabled */
    }
    u8(t, 1);        /* I/O APIC */
    u8(t, 12);
    u8(t, 0);        /* id */
    u8(t, 0);
    le(t, Q35_IOAPIC_BASE, 4);
    le(t, 0, 4);     /* GSI base */
    madt_iso(t, 0, 2, 0);                /* PIT on IOAPIC pin 2, bus default */
    madt_iso(t, Q35_SCI_IRQ, Q35_SCI_IRQ, 0x0d); /* SCI: level, active high */
    u8(t, 4);        /* local APIC NMI: all processors, LINT1 */
    u8(t, 6);
    u8(t, 0xff);
    le(t, 0, 2);
    u8(t, 1);
}

static void build_mcfg(aml *t)
{
    header(t, "MCFG", 1);
    le(t, 0, 8);
    le(t, Q35_ECAM_BASE, 8);
    le(t, 0, 2);     /* segment */
    u8(t, 0);
    u8(t, Q35_ECAM_BUSES - 1);
    le(t, 0, 4);
}

static void build_sdt(aml *t, const char *sig, const uint64_t *addr, unsigned n, unsigned w)
{
    header(t, sig, 1);
    for (unsigned i = 0; i < n; i++) {
        le(t, addr[i], w);
    }
}

/* Fill the header's length and checksum (tables with a header only). */
static void finish(aml *t)
{
    t->b[4] = (uint8_t)t->len;
    t->b[5] = (uint8_t)(t->len >> 8);
    t->b[6] = (uint8_t)(t->len >> 16);
    t->b[7] = (uint8_t)(t->len >> 24);
    t->b[9] = (uint8_t)-sum(t->b, t->len);
}

/* ---- layout ---- */

typedef struct layout {
    uint8_t *buf;
    uint64_t base;
    size_t len, used;
    bool full;
} layout;

/* Copy table t at the next align-aligned offset; returns its address. */
static uint64_t place(layout *l, aml *t, size_t align)
{
    size_t off = (l->used + align - 1) & ~(align - 1);

    if (t->oom || off + t->len > l->len) {
        l->full = true;
        free(t->b);
        return 0;
    }
    memcpy(l->buf + off, t->b, t->len);
    l->used = off + t->len;
    free(t->b);
    *t = (aml){0};
    return l->base + off;
}

static aml table_dsdt(const q35_acpi_cfg *cfg)
{
    aml t = {0};

    header(&t, "DSDT", 2);
    dsdt_body(&t, cfg);
    if (!t.oom) {
        finish(&t);
    }
    return t;
}

static void build_rsdp(layout *l, uint64_t rsdt, uint64_t xsdt)
{
    uint8_t *r = l->buf;

    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, OEM_ID, 6);
    r[15] = 2;
    for (unsigned i = 0; i < 4; i++) {
        r[16 + i] = (uint8_t)(rsdt >> (8 * i));
        r[20 + i] = (uint8_t)(36 >> (8 * i));
    }
    for (unsigned i = 0; i < 8; i++) {
        r[24 + i] = (uint8_t)(xsdt >> (8 * i));
    }
    r[8] = (uint8_t)-sum(r, 20);    /* ACPI 1.0 checksum: first 20 bytes */
    r[32] = (uint8_t)-sum(r, 36);   /* extended checksum */
}

size_t q35_acpi_build(const q35_acpi_cfg *cfg, uint8_t *buf, uint64_t base, size_t len)
{
    layout l = {.buf = buf, .base = base, .len = len, .used = 36};
    aml t = {0};
    uint64_t facs, dsdt, tabs[3], rsdt, xsdt;

    if (len < 36) {
        return 0;
    }
    memset(buf, 0, len);
    build_facs(&t);
    facs = place(&l, &t, 64);
    t = table_dsdt(cfg);
    dsdt = place(&l, &t, 16);
    build_fadt(&t, facs, dsdt);
    finish(&t);
    tabs[0] = place(&l, &t, 16);
    build_madt(&t, cfg);
    finish(&t);
    tabs[1] = place(&l, &t, 16);
    build_mcfg(&t);
    finish(&t);
    tabs[2] = place(&l, &t, 16);
    build_sdt(&t, "RSDT", tabs, 3, 4);
    finish(&t);
    rsdt = place(&l, &t, 16);
    build_sdt(&t, "XSDT", tabs, 3, 8);
    finish(&t);
    xsdt = place(&l, &t, 16);
    if (l.full) {
        return 0;
    }
    build_rsdp(&l, rsdt, xsdt);
    return l.used;
}

/* ---- reading them back ---- */

static uint64_t rd(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = n; i-- > 0;) {
        v = v << 8 | p[i];
    }
    return v;
}

static const uint8_t *at_addr(const uint8_t *buf, uint64_t base, size_t len, uint64_t addr,
                              size_t *tlen)
{
    uint64_t off = addr - base;

    if (addr < base || off + 8 > len) {
        return NULL;
    }
    *tlen = (size_t)rd(buf + off + 4, 4);
    return off + *tlen <= len ? buf + off : NULL;
}

const uint8_t *q35_acpi_table(const uint8_t *buf, uint64_t base, size_t len, unsigned i,
                              char sig[5], size_t *tlen)
{
    const uint8_t *xsdt, *fadt, *t;
    size_t xlen, flen;
    unsigned n;

    if (len < 36 || memcmp(buf, "RSD PTR ", 8) != 0 ||
        !(xsdt = at_addr(buf, base, len, rd(buf + 24, 8), &xlen))) {
        return NULL;
    }
    n = (unsigned)(xlen - HDR_LEN) / 8;
    if (i < n) {
        t = at_addr(buf, base, len, rd(xsdt + HDR_LEN + 8 * i, 8), tlen);
    } else if (i <= n + 1 && (fadt = at_addr(buf, base, len, rd(xsdt + HDR_LEN, 8), &flen))) {
        /* FADT: DSDT at 40, FACS at 36 */
        t = at_addr(buf, base, len, rd(fadt + (i == n ? 40 : 36), 4), tlen);
    } else {
        return NULL;
    }
    if (t) {
        memcpy(sig, t, 4);
        sig[4] = 0;
    }
    return t;
}
