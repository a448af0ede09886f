/*
 * board-x86: the ACPI table writer the x86 boards share (board-q35's q35,
 * board-pc's pc), compiled into both plugins from one static library
 * (aml.c). A small AML byte writer for the DSDT (ACPI 6.4, section 20),
 * resource descriptors (6.4), and the tables every PC board has (RSDP,
 * RSDT, XSDT, FADT, FACS, MADT), parameterised by the board's PM block,
 * SCI, reset register and interrupt overrides. The board writes the
 * DSDT body and any extra table (q35's MCFG). No host-table use here.
 */
#ifndef BOARD_X86_AML_H
#define BOARD_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/pxb.h>

/* ---- a growable byte buffer (allocation failure sets oom) ---- */

typedef struct aml {
    uint8_t *b;
    size_t len, cap;
    bool oom;
} aml;

void aml_put(aml *a, const void *p, size_t n);
void aml_u8(aml *a, uint8_t v);
void aml_le(aml *a, uint64_t v, unsigned n); /* n bytes, little-endian */

/* ---- AML terms ---- */

enum {
    AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME = 0x08, AML_BYTE = 0x0a, AML_WORD = 0x0b,
    AML_DWORD = 0x0c, AML_STRING = 0x0d, AML_QWORD = 0x0e, AML_SCOPE = 0x10,
    AML_BUFFER = 0x11, AML_PACKAGE = 0x12, AML_METHOD = 0x14, AML_DUAL = 0x2e,
    AML_MULTI = 0x2f, AML_EXT = 0x5b, AML_LOCAL0 = 0x60, AML_ARG0 = 0x68, AML_ARG3 = 0x6b,
    AML_STORE = 0x70, AML_AND = 0x7b, AML_OR = 0x7d, AML_DEVICE = 0x82,
    AML_CREATE_DWORD_FIELD = 0x8a, AML_LAND = 0x90, AML_LLESS = 0x95, AML_IF = 0xa0,
    AML_ELSE = 0xa1, AML_RETURN = 0xa4, AML_ONES = 0xff,
    /* after AML_EXT */
    AML_EXT_OPREGION = 0x80, AML_EXT_FIELD = 0x81,
};

/* A PkgLength placeholder: write the body after it, then close_pkg()
 * encodes the final length (20.2.4). */
size_t aml_open_pkg(aml *a);
void aml_close_pkg(aml *a, size_t at);
/* NameString: "\\_SB.PCI0", "^FOO", "_HID"; segments padded with '_'. */
void aml_name(aml *a, const char *path);
void aml_integer(aml *a, uint64_t v);   /* the shortest encoding */
void aml_string(aml *a, const char *s);
void aml_eisaid(aml *a, const char *id); /* "PNP0A03" as its DWord */
void aml_name_int(aml *a, const char *n, uint64_t v);
void aml_name_eisaid(aml *a, const char *n, const char *id);
/* Device(n) {: returns the package to close with aml_close_pkg. */
size_t aml_open_device(aml *a, const char *n);
/* Method(n, nargs, serialized?) {: close with aml_close_pkg. */
size_t aml_open_method(aml *a, const char *n, unsigned nargs, bool serialized);
/* Method(method, 2) { If (Arg0 == i) { Notify(<name(i)>, Arg1) } for each
 * i < n }: a hotplug block's notify dispatch (CTFY, MTFY). */
void aml_method_notify_each(aml *a, const char *method, unsigned n,
                            void (*name)(char out[5], unsigned i));
/* Name(n, Buffer() {bytes}) */
void aml_name_buffer(aml *a, const char *n, const aml *bytes);

/* ---- resource descriptors (ACPI 6.4, 6.4.2 and 6.4.3) ---- */

/* Word/DWord/QWord (width 2, 4, 8) address space: producer, fixed range.
 * type 0 memory, 1 I/O, 2 bus numbers. */
void aml_res_addr(aml *r, unsigned width, uint8_t type, uint8_t tflags, uint64_t min,
                  uint64_t max);
void aml_res_io(aml *r, uint16_t port, uint8_t len);
void aml_res_irq(aml *r, unsigned irq); /* edge, active high, ISA */
/* Extended Interrupt (6.4.3.6): consumer, level, active high, shared;
 * the first interrupt number is at byte 5 of the descriptor. */
void aml_res_ext_irq(aml *r, const uint8_t *irqs, unsigned n);
void aml_res_end(aml *r);

/* ---- DSDT pieces both boards have ---- */

/* Name(_CRS) of a PCI root bridge: buses 0..last_bus, 0xcf8, the I/O
 * ranges around it, the 32-bit window [mem32_base, mem32_end) and the
 * 64-bit one (mem64_size 0: none). */
void aml_pci_root_crs(aml *a, unsigned last_bus, uint64_t mem32_base, uint64_t mem32_end,
                      uint64_t mem64_base, uint64_t mem64_size);
/* ---- PCI host bridges and expanders (aml-pxb.c) ---- */
/* One host bridge's resources: buses first..last, I/O [io_base, io_end)
 * (with 0..0xcf7 and the 0xcf8 ports when cf8), memory [mem32_base,
 * mem32_end) and [mem64_base, + mem64_size) (size 0: none). */
typedef struct aml_pci_host {
    unsigned first_bus, last_bus;
    bool cf8;
    uint32_t io_base, io_end;
    uint64_t mem32_base, mem32_end;
    uint64_t mem64_base, mem64_size;
} aml_pci_host;
/* Split whole (the main bridge's, cf8 set) between the main bridge and
 * the n expanders x (ascending bus_nr), one exp_out each. */
void aml_pci_hosts_plan(const aml_pci_host *whole, const tes_pxb_info *x, unsigned n,
                        aml_pci_host *main_out, aml_pci_host *exp_out);
void aml_pci_host_crs(aml *a, const aml_pci_host *h); /* Name(_CRS) */
/* Open Device(PCxx) of expander x with _HID/_CID, _ADR, _UID, _BBN, _PXM
 * and _CRS from h; the caller adds _PRT (and _OSC) and closes it. */
size_t aml_pxb_open(aml *a, const tes_pxb_info *x, const aml_pci_host *h);
/* A _PRT entry's source and source index for the interrupt pin (0..3)
 * of slot on the main host bridge's root bus. */
typedef void aml_prt_source(aml *a, unsigned slot, unsigned pin);
/* Name(_PRT, Package{Package{0xSSSSFFFF, pin, source, index}, ...}) for
 * every slot and pin of a root bus. On an expander's bus (pxb_slot >= 0)
 * a pin reaches the main root bus through the expander function at
 * pxb_slot, rotated by the device's slot as through a bridge; -1: the
 * main root bus itself. */
void aml_pci_prt(aml *a, int pxb_slot, aml_prt_source *source);
/* PCI0 (pci0 writes it, with what whole leaves the main bridge) and one
 * Device(PCxx) per expander (at most 16) with its _PRT and, when
 * pxb_extra, what that adds (q35's _OSC). */
void aml_pci_hosts(aml *a, const aml_pci_host *whole, const tes_pxb_info *pxbs, unsigned n,
                   void (*pci0)(aml *a, const aml_pci_host *h), aml_prt_source *source,
                   void (*pxb_extra)(aml *a));

void aml_dsdt_com1(aml *a);                  /* Device(COM1): 0x3f8, IRQ 4 */
/* Device(n) with _HID hid and a _CRS of nports I/O ranges and one IRQ. */
void aml_isa_device(aml *a, const char *n, const char *hid, const uint16_t *ports,
                    const uint8_t *lens, unsigned nports, unsigned irq);
/* Device(KBD) (PNP0303: 0x60, 0x64, IRQ 1) and Device(MOU) (PNP0F13: IRQ 12). */
void aml_dsdt_ps2(aml *a);
void aml_dsdt_cpus(aml *a, unsigned ncpus);  /* Device(Cnnn): ACPI0007 */
void aml_dsdt_s5(aml *a, unsigned slp_typ);  /* Name(\_S5, Package{typ, typ, 0, 0}) */
/* Name(name, Package{typ, typ, 0, 0}): "\\_S3" (Linux offers "mem" in
 * /sys/power/state only when the DSDT has it). */
void aml_dsdt_sleep(aml *a, const char *name, unsigned slp_typ);

/* ---- the tables ---- */

typedef struct acpi_board {
    unsigned ncpus;              /* processor UID i, i < ncpus */
    const uint32_t *apic_id;     /* APIC id of processor i; NULL: i */
    uint64_t ioapic_base, lapic_base;
    /* FADT: the PM register blocks (I/O ports), the SCI, the reset register */
    uint16_t sci_irq;
    uint32_t pm1_evt, pm1_cnt, pm_tmr, gpe0;
    uint8_t gpe0_len;
    uint16_t reset_port;
    uint8_t reset_value;
    /* MADT: ISA IRQs (besides the SCI) that are level, active high on
     * their IOAPIC pin (PCI interrupts through PIRQ links) */
    uint16_t level_irqs;
    /* The DSDT's body (after its header) and an optional extra table the
     * XSDT lists after the FADT and MADT (q35's MCFG; NULL: none). */
    void (*dsdt_body)(aml *a, const void *opaque);
    void (*extra_table)(aml *t, const void *opaque);
    const void *opaque;
    /* Tables devices added through <tessera/acpi.h>: listed after the
     * extra table, with the board's header. */
    const struct acpi_dev_table *dev_tables;
    unsigned ndev_tables; /* at most ACPI_MAX_DEV_TABLES */
    /* -numa: SRAT (and SLIT) after the device tables; NULL or no nodes:
     * none, as QEMU. */
    const struct acpi_numa *numa;
    /* CPU hotplug (cpu-hotplug.h; NULL: none): the MADT lists every
     * possible CPU, those not present without the Enabled flag. */
    const struct x86_cpuhp *cpuhp;
} acpi_board;

/* What SRAT and SLIT describe (srat.c). Guest RAM is one block whose
 * first lowmem bytes are at 0 and the rest at 4 GiB; node i has the
 * node_mem[i] bytes after node i - 1's. */
typedef struct acpi_numa {
    unsigned nodes;
    const uint64_t *node_mem;  /* [nodes] */
    const uint32_t *cpu_node;  /* node of processor i, i < max_cpus */
    /* -smp maxcpus: processors ncpus..max_cpus-1 are not there yet (CPU
     * hotplug) but have their affinity in the SRAT, as QEMU writes it;
     * possible_apic_id[i] for them (NULL: none listed). */
    unsigned max_cpus;
    const uint32_t *possible_apic_id;
    const uint8_t *distance;   /* [nodes * nodes] */
    bool slit;                 /* -numa dist was given: a SLIT too */
    uint64_t lowmem;
    /* Device memory (memory hotplug): a hot-pluggable range of the last
     * node, as QEMU's build_srat (size 0: none). */
    uint64_t hotplug_base, hotplug_size;
} acpi_numa;

/* SRAT (ACPI 6.4, 5.2.16): a local APIC affinity per processor (x2APIC
 * affinity for IDs above 254) and memory affinity ranges per node, cut at
 * the 640 KiB hole and at lowmem (the rest from 4 GiB). */
void acpi_build_srat(aml *t, const acpi_board *b);
/* SLIT (5.2.17): the node distance matrix. */
void acpi_build_slit(aml *t, const acpi_board *b);

/* A device's table (tessera/acpi.h add_table): signature, revision and the
 * bytes after the header. */
#define ACPI_MAX_DEV_TABLES 4
typedef struct acpi_dev_table {
    char sig[4];
    uint8_t rev;
    uint8_t *body;
    size_t len;
} acpi_dev_table;

/* Common table header; acpi_finish() fills length and checksum. */
void acpi_header(aml *t, const char *sig, uint8_t rev);
void acpi_finish(aml *t);

/* Build RSDP, RSDT, XSDT, FADT, FACS, DSDT, MADT (and the extra table)
 * into buf, which the guest sees at physical address base. Returns the
 * bytes used (the RSDP first, at base), or 0 when len is too small. */
size_t acpi_build(const acpi_board *b, uint8_t *buf, uint64_t base, size_t len);
/* Walk built tables: the i-th table the XSDT lists (0 is the FADT, whose
 * DSDT and FACS come as i = n and n + 1), with its signature in sig[5].
 * NULL past the end. */
const uint8_t *acpi_table_find(const uint8_t *buf, uint64_t base, size_t len, unsigned i,
                               char sig[5], size_t *tlen);

/* ---- the \_SB devices both x86 boards describe (x86-dsdt.c) ---- */

struct x86_nvdimm;
/* Processors and memory devices, as q35 and pc describe them alike. */
typedef struct x86_acpi_devs {
    unsigned ncpus;                /* processor UID i, i < ncpus */
    const uint32_t *apic_id;       /* APIC id of processor i (host->cpu_arch_id); NULL: i */
    const struct acpi_numa *numa;  /* SRAT/SLIT (NULL: none) */
    /* CPU hotplug (cpu-hotplug.h; NULL: none): MADT and \_SB.CPUS */
    const struct x86_cpuhp *cpuhp;
    bool nvdimm;                   /* nvdimm=on: \_SB.NVDR */
    const struct x86_nvdimm *nvd;  /* its modules: NFIT, NVnn (labels: _DSM) */
    unsigned nnvd;                 /* (x86_board_memdevs) */
    unsigned mem_slots;            /* -m slots=: \_SB.MHPC (mem-hotplug.c) */
} x86_acpi_devs;

/* The end of Scope(\_SB) (opened at sb): COM1, the processors (or CPU
 * hotplug's CPUS), NVDR, MHPC; then, after it, the hotplug GPE methods,
 * \_S3 and \_S5 with the chipset's SLP_TYP values. */
void x86_dsdt_sb_end(aml *a, size_t sb, const x86_acpi_devs *d, unsigned slp_s3,
                     unsigned slp_s5);

#endif
