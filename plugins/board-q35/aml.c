/*
 * board-x86: the ACPI writer the x86 boards share (see aml.h). Tables
 * (ACPI 6.x; revisions as Linux 6.1 reads them): RSDP rev 2 with RSDT and
 * XSDT; FADT rev 5 (the board's PM block and SCI, no SMI_CMD: ACPI mode is
 * always on, the board's reset register); FACS; MADT (one enabled local
 * APIC per CPU, IOAPIC 0 from GSI 0, IRQ0 -> GSI2, the SCI and the
 * board's PCI IRQs as level/active-high overrides, LINT1 NMI). The DSDT
 * body and any extra table come from the board.
 */
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "cpu-hotplug.h"

#define OEM_ID "TESSRA"
#define OEM_TABLE_ID "TESSERA "
#define CREATOR_ID "TSRA"
#define HDR_LEN 36

/* ---- a growable byte buffer ---- */

void aml_put(aml *a, const void *p, size_t n)
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

void aml_u8(aml *a, uint8_t v)
{
    aml_put(a, &v, 1);
}

void aml_le(aml *a, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        aml_u8(a, i < 8 ? (uint8_t)(v >> (8 * i)) : 0);
    }
}

/* ---- AML (ACPI 6.4, section 20.2) ---- */

/* A PkgLength placeholder: bodies are written after it and aml_close_pkg()
 * encodes the final length, shrinking the 4 reserved bytes to 1..4. */
size_t aml_open_pkg(aml *a)
{
    size_t at = a->len;

    aml_le(a, 0, 4);
    return at;
}

void aml_close_pkg(aml *a, size_t at)
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
void aml_name(aml *a, const char *path)
{
    const char *segs[8];
    size_t lens[8];
    unsigned n = 0;

    while (*path == '\\' || *path == '^') {
        aml_u8(a, (uint8_t)*path++);
    }
    for (const char *p = path; *p && n < 8; n++) {
        const char *dot = strchr(p, '.');
        segs[n] = p;
        lens[n] = dot ? (size_t)(dot - p) : strlen(p);
        p += lens[n] + (dot ? 1 : 0);
    }
    if (n == 2) {
        aml_u8(a, AML_DUAL);
    } else if (n > 2) {
        aml_u8(a, AML_MULTI);
        aml_u8(a, (uint8_t)n);
    }
    for (unsigned i = 0; i < n; i++) {
        char seg[4] = {'_', '_', '_', '_'};
        memcpy(seg, segs[i], lens[i] > 4 ? 4 : lens[i]);
        aml_put(a, seg, 4);
    }
}

void aml_integer(aml *a, uint64_t v)
{
    if (v == 0 || v == 1) {
        aml_u8(a, v ? AML_ONE : AML_ZERO);
    } else if (v == UINT64_MAX) {
        aml_u8(a, AML_ONES);
    } else if (v <= 0xff) {
        aml_u8(a, AML_BYTE);
        aml_u8(a, (uint8_t)v);
    } else if (v <= 0xffff) {
        aml_u8(a, AML_WORD);
        aml_le(a, v, 2);
    } else if (v <= 0xffffffff) {
        aml_u8(a, AML_DWORD);
        aml_le(a, v, 4);
    } else {
        aml_u8(a, AML_QWORD);
        aml_le(a, v, 8);
    }
}

void aml_string(aml *a, const char *s)
{
    aml_u8(a, AML_STRING);
    aml_put(a, s, strlen(s) + 1);
}

/* EISAID("PNP0A08"): three 5-bit letters and four hex digits, stored
 * big-endian as a DWord (20.2.3 / ACPI 6.4 19.6.35). */
void aml_eisaid(aml *a, const char *id)
{
    unsigned vendor = (unsigned)((id[0] - 0x40) & 0x1f) << 10 |
                      (unsigned)((id[1] - 0x40) & 0x1f) << 5 | ((id[2] - 0x40) & 0x1f);
    unsigned product = (unsigned)strtoul(id + 3, NULL, 16);
    uint8_t b[5] = {AML_DWORD, (uint8_t)(vendor >> 8), (uint8_t)vendor, (uint8_t)(product >> 8),
                    (uint8_t)product};

    aml_put(a, b, sizeof(b));
}

void aml_name_int(aml *a, const char *n, uint64_t v)
{
    aml_u8(a, AML_NAME);
    aml_name(a, n);
    aml_integer(a, v);
}

void aml_name_eisaid(aml *a, const char *n, const char *id)
{
    aml_u8(a, AML_NAME);
    aml_name(a, n);
    aml_eisaid(a, id);
}

size_t aml_open_device(aml *a, const char *n)
{
    size_t at;

    aml_u8(a, AML_EXT);
    aml_u8(a, AML_DEVICE);
    at = aml_open_pkg(a);
    aml_name(a, n);
    return at;
}

size_t aml_open_method(aml *a, const char *n, unsigned nargs, bool serialized)
{
    size_t at;

    aml_u8(a, AML_METHOD);
    at = aml_open_pkg(a);
    aml_name(a, n);
    aml_u8(a, (uint8_t)(nargs | (serialized ? 8 : 0)));
    return at;
}

/* Name(n, Buffer() {bytes}) */
void aml_name_buffer(aml *a, const char *n, const aml *bytes)
{
    size_t at;

    aml_u8(a, AML_NAME);
    aml_name(a, n);
    aml_u8(a, AML_BUFFER);
    at = aml_open_pkg(a);
    aml_integer(a, bytes->len);
    aml_put(a, bytes->b, bytes->len);
    aml_close_pkg(a, at);
}

/* ---- resource descriptors (ACPI 6.4, 6.4.2 and 6.4.3) ---- */

/* Word/DWord/QWord address space descriptors: producer, min and max fixed. */
void aml_res_addr(aml *r, unsigned width, uint8_t type, uint8_t tflags, uint64_t min,
                     uint64_t max)
{
    static const uint8_t tag[9] = {[2] = 0x88, [4] = 0x87, [8] = 0x8a};

    aml_u8(r, tag[width]);
    aml_le(r, 3 + 5 * width, 2);
    aml_u8(r, type);  /* 0 memory, 1 I/O, 2 bus numbers */
    aml_u8(r, 0x0c);  /* _MIF | _MAF, producer, positive decode */
    aml_u8(r, tflags);
    aml_le(r, 0, width); /* granularity */
    aml_le(r, min, width);
    aml_le(r, max, width);
    aml_le(r, 0, width); /* translation: bus address == CPU address */
    aml_le(r, max - min + 1, width);
}

void aml_res_io(aml *r, uint16_t port, uint8_t len)
{
    uint8_t d[8] = {0x47, 0x01, (uint8_t)port, (uint8_t)(port >> 8), (uint8_t)port,
                    (uint8_t)(port >> 8), 1, len};

    aml_put(r, d, sizeof(d));
}

void aml_res_irq(aml *r, unsigned irq)
{
    uint8_t d[3] = {0x22, (uint8_t)(1u << irq), (uint8_t)(1u << irq >> 8)};

    aml_put(r, d, sizeof(d));
}

void aml_res_ext_irq(aml *r, const uint8_t *irqs, unsigned n)
{
    aml_u8(r, 0x89);
    aml_le(r, 2 + 4 * n, 2);
    aml_u8(r, 0x09); /* consumer, level, active high, shared */
    aml_u8(r, (uint8_t)n);
    for (unsigned i = 0; i < n; i++) {
        aml_le(r, irqs[i], 4);
    }
}

void aml_res_end(aml *r)
{
    uint8_t d[2] = {0x79, 0x00};

    aml_put(r, d, sizeof(d));
}

/* ---- DSDT pieces ---- */

void aml_pci_root_crs(aml *a, unsigned last_bus, uint64_t mem32_base, uint64_t mem32_end,
                      uint64_t mem64_base, uint64_t mem64_size)
{
    aml r = {0};

    aml_res_addr(&r, 2, 2, 0, 0, last_bus);
    aml_res_io(&r, 0xcf8, 8);
    aml_res_addr(&r, 2, 1, 3, 0x0000, 0x0cf7); /* I/O: _RNG entire */
    aml_res_addr(&r, 2, 1, 3, 0x0d00, 0xffff);
    /* The 32-bit window: read/write, cacheable (_MEM 1). No VGA hole:
     * 0xa0000..0xbffff is plain RAM here. */
    aml_res_addr(&r, 4, 0, 3, mem32_base, mem32_end - 1);
    if (mem64_size) {
        aml_res_addr(&r, 8, 0, 3, mem64_base, mem64_base + mem64_size - 1);
    }
    aml_res_end(&r);
    aml_name_buffer(a, "_CRS", &r);
    free(r.b);
}

void aml_isa_device(aml *a, const char *n, const char *hid, const uint16_t *ports,
                    const uint8_t *lens, unsigned nports, unsigned irq)
{
    size_t dev = aml_open_device(a, n);
    aml r = {0};

    aml_name_eisaid(a, "_HID", hid);
    for (unsigned i = 0; i < nports; i++) {
        aml_res_io(&r, ports[i], lens[i]);
    }
    aml_res_irq(&r, irq);
    aml_res_end(&r);
    aml_name_buffer(a, "_CRS", &r);
    free(r.b);
    aml_close_pkg(a, dev);
}

/* The i8042's two ports as QEMU's DSDTs describe them: Linux's i8042
 * driver binds through PNP to these and otherwise, on an ACPI machine,
 * does not look for the controller at all (unless i8042.nopnp). */
void aml_dsdt_ps2(aml *a)
{
    static const uint16_t kbd_ports[] = {0x60, 0x64};
    static const uint8_t kbd_lens[] = {1, 1};

    aml_isa_device(a, "KBD", "PNP0303", kbd_ports, kbd_lens, 2, 1);
    aml_isa_device(a, "MOU", "PNP0F13", NULL, NULL, 0, 12);
}

void aml_dsdt_com1(aml *a)
{
    size_t dev = aml_open_device(a, "COM1");
    aml r = {0};

    aml_name_eisaid(a, "_HID", "PNP0501");
    aml_name_int(a, "_UID", 1);
    aml_res_io(&r, 0x3f8, 8);
    aml_res_irq(&r, 4);
    aml_res_end(&r);
    aml_name_buffer(a, "_CRS", &r);
    free(r.b);
    aml_close_pkg(a, dev);
}

/* ACPI 6: processors are Device(Cnnn) with _HID "ACPI0007"; _UID matches
 * the MADT's processor UID. */
void aml_dsdt_cpus(aml *a, unsigned ncpus)
{
    for (unsigned i = 0; i < ncpus; i++) {
        char n[5];
        size_t dev;

        n[0] = 'C';
        n[1] = "0123456789ABCDEF"[(i >> 8) & 0xf];
        n[2] = "0123456789ABCDEF"[(i >> 4) & 0xf];
        n[3] = "0123456789ABCDEF"[i & 0xf];
        n[4] = 0;
        dev = aml_open_device(a, n);
        aml_u8(a, AML_NAME);
        aml_name(a, "_HID");
        aml_string(a, "ACPI0007");
        aml_name_int(a, "_UID", i);
        aml_close_pkg(a, dev);
    }
}

void aml_dsdt_s5(aml *a, unsigned slp_typ)
{
    aml_dsdt_sleep(a, "\\_S5", slp_typ);
}

void aml_dsdt_sleep(aml *a, const char *name, unsigned slp_typ)
{
    size_t pkg;

    /* \_Sx: SLP_TYPa, SLP_TYPb, reserved, reserved */
    aml_u8(a, AML_NAME);
    aml_name(a, name);
    aml_u8(a, AML_PACKAGE);
    pkg = aml_open_pkg(a);
    aml_u8(a, 4);
    aml_integer(a, slp_typ);
    aml_integer(a, slp_typ);
    aml_integer(a, 0);
    aml_integer(a, 0);
    aml_close_pkg(a, pkg);
}

/* ---- tables ---- */

void acpi_header(aml *t, const char *sig, uint8_t rev)
{
    aml_put(t, sig, 4);
    aml_le(t, 0, 4); /* length, patched by acpi_finish() */
    aml_u8(t, rev);
    aml_u8(t, 0);    /* checksum, patched by acpi_finish() */
    aml_put(t, OEM_ID, 6);
    aml_put(t, OEM_TABLE_ID, 8);
    aml_le(t, 1, 4);
    aml_put(t, CREATOR_ID, 4);
    aml_le(t, 1, 4);
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
    aml_u8(t, 1);
    aml_u8(t, bits);
    aml_u8(t, 0);
    aml_u8(t, access);
    aml_le(t, port, 8);
}

static void fadt_legacy_blocks(aml *t, const acpi_board *b)
{
    aml_le(t, b->pm1_evt, 4);
    aml_le(t, 0, 4);             /* PM1b_EVT */
    aml_le(t, b->pm1_cnt, 4);
    aml_le(t, 0, 4);             /* PM1b_CNT */
    aml_le(t, 0, 4);             /* PM2_CNT */
    aml_le(t, b->pm_tmr, 4);
    aml_le(t, b->gpe0, 4);
    aml_le(t, 0, 4);             /* GPE1 */
    aml_u8(t, 4);                /* PM1_EVT_LEN */
    aml_u8(t, 2);                /* PM1_CNT_LEN */
    aml_u8(t, 0);
    aml_u8(t, 4);                /* PM_TMR_LEN */
    aml_u8(t, b->gpe0_len);
    aml_u8(t, 0);
    aml_u8(t, 0);                /* GPE1_BASE */
    aml_u8(t, 0);                /* CST_CNT */
    aml_le(t, 0xfff, 2);         /* P_LVL2_LAT > 100: no C2 */
    aml_le(t, 0xfff, 2);         /* P_LVL3_LAT > 1000: no C3 */
    aml_le(t, 0, 4);             /* FLUSH_SIZE, FLUSH_STRIDE */
    aml_le(t, 0, 4);             /* DUTY_OFFSET/WIDTH, DAY_ALRM, MON_ALRM */
}

/* FADT flags (5.2.9, table 5.10) */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5)
#define FADT_RTC_S4 (1u << 7)
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_USE_PLATFORM_CLOCK (1u << 15)
/* IAPC_BOOT_ARCH: LEGACY_DEVICES and 8042 (both boards have the i8042,
 * described in the DSDT: aml_dsdt_ps2). No "VGA not present": pc and q35
 * have their std VGA unless -vga none. */
#define IAPC_LEGACY_DEVICES (1u << 0)
#define IAPC_8042 (1u << 1)

static void build_fadt(aml *t, const acpi_board *b, uint64_t facs, uint64_t dsdt)
{
    acpi_header(t, "FACP", 5);
    aml_le(t, facs, 4);
    aml_le(t, dsdt, 4);
    aml_u8(t, 0);                /* reserved */
    aml_u8(t, 0);                /* Preferred_PM_Profile: unspecified */
    aml_le(t, b->sci_irq, 2);
    aml_le(t, 0, 4);             /* SMI_CMD 0: ACPI mode is always on */
    aml_le(t, 0, 4);             /* ACPI_ENABLE/DISABLE, S4BIOS_REQ, PSTATE_CNT */
    fadt_legacy_blocks(t, b);
    aml_u8(t, 0x32);             /* CENTURY: CMOS register */
    aml_le(t, IAPC_LEGACY_DEVICES | IAPC_8042, 2);
    aml_u8(t, 0);
    aml_le(t, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RTC_S4 | FADT_TMR_VAL_EXT |
              FADT_RESET_REG_SUP | FADT_USE_PLATFORM_CLOCK, 4);
    gas_io(t, 8, 1, b->reset_port);
    aml_u8(t, b->reset_value);
    aml_le(t, 0, 2);             /* ARM_BOOT_ARCH */
    aml_u8(t, 1);                /* FADT minor version: 5.1 */
    aml_le(t, 0, 8);             /* X_FIRMWARE_CTRL: FIRMWARE_CTRL says it (once) */
    aml_le(t, dsdt, 8);
    gas_io(t, 32, 2, b->pm1_evt);
    gas_io(t, 0, 0, 0);      /* X_PM1b_EVT */
    gas_io(t, 16, 2, b->pm1_cnt);
    gas_io(t, 0, 0, 0);      /* X_PM1b_CNT */
    gas_io(t, 0, 0, 0);      /* X_PM2_CNT */
    gas_io(t, 32, 3, b->pm_tmr);
    gas_io(t, b->gpe0_len * 8, 1, b->gpe0);
    gas_io(t, 0, 0, 0);      /* X_GPE1 */
    gas_io(t, 0, 0, 0);      /* SLEEP_CONTROL_REG (hardware-reduced only) */
    gas_io(t, 0, 0, 0);      /* SLEEP_STATUS_REG */
}

static void build_facs(aml *t)
{
    aml_put(t, "FACS", 4);
    aml_le(t, 64, 4);
    aml_le(t, 0, 4);             /* hardware signature */
    aml_le(t, 0, 4);             /* firmware waking vector */
    aml_le(t, 0, 4);             /* global lock */
    aml_le(t, 0, 4);             /* flags */
    aml_le(t, 0, 8);             /* X waking vector */
    aml_u8(t, 2);                /* version */
    aml_le(t, 0, 3);
    aml_le(t, 0, 4);             /* OSPM flags */
    aml_le(t, 0, 24);
}

/* MADT interrupt source override (5.2.12.5); flags: polarity bits 1:0
 * (1 high, 3 low), trigger bits 3:2 (1 edge, 3 level). */
static void madt_iso(aml *t, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    aml_u8(t, 2);
    aml_u8(t, 10);
    aml_u8(t, 0); /* ISA */
    aml_u8(t, irq);
    aml_le(t, gsi, 4);
    aml_le(t, flags, 2);
}

/* Every possible CPU, as QEMU's pc_madt_cpu_entry: Enabled only when
 * present. In a MADT below revision 5 (ours is 4) Linux counts the others
 * as hot-pluggable (acpi_parse_lapic: no Online Capable flag needed). */
static void madt_possible_cpus(aml *t, const x86_cpuhp *hp)
{
    for (unsigned i = 0; i < hp->max_cpus; i++) {
        aml_u8(t, 0);
        aml_u8(t, 8);
        aml_u8(t, (uint8_t)i);
        aml_u8(t, (uint8_t)hp->apic_id[i]);
        aml_le(t, (hp->flags[i] & CPUHP_PRESENT) ? 1 : 0, 4);
    }
}

static void build_madt(aml *t, const acpi_board *cfg)
{
    acpi_header(t, "APIC", 4);
    aml_le(t, cfg->lapic_base, 4);
    aml_le(t, 1, 4); /* PCAT_COMPAT: 8259s present */
    if (cfg->cpuhp) {
        madt_possible_cpus(t, cfg->cpuhp);
    }
    for (unsigned i = 0; !cfg->cpuhp && i < cfg->ncpus; i++) {
        aml_u8(t, 0);    /* processor local APIC */
        aml_u8(t, 8);
        aml_u8(t, (uint8_t)i); /* processor UID */
        aml_u8(t, (uint8_t)(cfg->apic_id ? cfg->apic_id[i] : i)); /* APIC id */
        aml_le(t, 1, 4); /* enabled */
    }
    aml_u8(t, 1);        /* I/O APIC */
    aml_u8(t, 12);
    aml_u8(t, 0);        /* id */
    aml_u8(t, 0);
    aml_le(t, cfg->ioapic_base, 4);
    aml_le(t, 0, 4);     /* GSI base */
    madt_iso(t, 0, 2, 0);                /* PIT on IOAPIC pin 2, bus default */
    /* The SCI and the PCI links' IRQs: level, active high (the PIRQ
     * router inverts PCI's active-low INTx#), IRQ n on pin n. */
    for (unsigned irq = 1; irq < 16; irq++) {
        if (irq == cfg->sci_irq || (cfg->level_irqs >> irq & 1)) {
            madt_iso(t, (uint8_t)irq, irq, 0x0d);
        }
    }
    aml_u8(t, 4);        /* local APIC NMI: all processors, LINT1 */
    aml_u8(t, 6);
    aml_u8(t, 0xff);
    aml_le(t, 0, 2);
    aml_u8(t, 1);
}

static void build_sdt(aml *t, const char *sig, const uint64_t *addr, unsigned n, unsigned w)
{
    acpi_header(t, sig, 1);
    for (unsigned i = 0; i < n; i++) {
        aml_le(t, addr[i], w);
    }
}

/* Fill the header's length and checksum (tables with a header only). */
void acpi_finish(aml *t)
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

static aml table_dsdt(const acpi_board *b)
{
    aml t = {0};

    acpi_header(&t, "DSDT", 2);
    b->dsdt_body(&t, b->opaque);
    if (!t.oom) {
        acpi_finish(&t);
    }
    return t;
}

size_t acpi_build(const acpi_board *b, uint8_t *buf, uint64_t base, size_t len)
{
    layout l = {.buf = buf, .base = base, .len = len, .used = 36};
    aml t = {0};
    uint64_t facs, dsdt, tabs[5 + ACPI_MAX_DEV_TABLES], rsdt, xsdt;
    unsigned n = 2;

    if (len < 36) {
        return 0;
    }
    memset(buf, 0, len);
    build_facs(&t);
    facs = place(&l, &t, 64);
    t = table_dsdt(b);
    dsdt = place(&l, &t, 16);
    build_fadt(&t, b, facs, dsdt);
    acpi_finish(&t);
    tabs[0] = place(&l, &t, 16);
    build_madt(&t, b);
    acpi_finish(&t);
    tabs[1] = place(&l, &t, 16);
    if (b->extra_table) {
        b->extra_table(&t, b->opaque);
        acpi_finish(&t);
        tabs[n++] = place(&l, &t, 16);
    }
    for (unsigned i = 0; i < b->ndev_tables && i < ACPI_MAX_DEV_TABLES; i++) {
        char sig[5] = {0};

        memcpy(sig, b->dev_tables[i].sig, 4);
        acpi_header(&t, sig, b->dev_tables[i].rev);
        aml_put(&t, b->dev_tables[i].body, b->dev_tables[i].len);
        if (!t.oom) {
            acpi_finish(&t);
        }
        tabs[n++] = place(&l, &t, 16);
    }
    if (b->numa && b->numa->nodes) {
        acpi_build_srat(&t, b);
        acpi_finish(&t);
        tabs[n++] = place(&l, &t, 16);
    }
    if (b->numa && b->numa->nodes && b->numa->slit) {
        acpi_build_slit(&t, b);
        acpi_finish(&t);
        tabs[n++] = place(&l, &t, 16);
    }
    build_sdt(&t, "RSDT", tabs, n, 4);
    acpi_finish(&t);
    rsdt = place(&l, &t, 16);
    build_sdt(&t, "XSDT", tabs, n, 8);
    acpi_finish(&t);
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

const uint8_t *acpi_table_find(const uint8_t *buf, uint64_t base, size_t len, unsigned i,
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
void aml_method_notify_each(aml *a, const char *method, unsigned n,
                            void (*name)(char out[5], unsigned i))
{
    size_t m = aml_open_method(a, method, 2, false);

    for (unsigned i = 0; i < n; i++) {
        char dev[5];
        size_t at;

        name(dev, i);
        aml_u8(a, AML_IF);
        at = aml_open_pkg(a);
        aml_u8(a, 0x93); /* LEqual */
        aml_u8(a, AML_ARG0);
        aml_integer(a, i);
        aml_u8(a, 0x86); /* Notify */
        aml_name(a, dev);
        aml_u8(a, AML_ARG0 + 1);
        aml_close_pkg(a, at);
    }
    aml_close_pkg(a, m);
}
