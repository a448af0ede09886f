/*
 * The x86 boards' NVDIMMs (-machine q35|pc,nvdimm=on, -device nvdimm):
 * the ACPI NFIT and the NVDIMM root device of the DSDT (placement in
 * device memory: devmem.c x86_board_memdevs).
 *
 * NFIT (ACPI 6.4, 5.2.25), per module i (handle i + 1, as QEMU numbers
 * them from slot 0): an SPA range structure (persistent memory GUID,
 * write-back + non-volatile attributes), a memory device to SPA range map
 * (one way, whole module) and an NVDIMM control region (QEMU's Intel
 * vendor/device ids, format interface code 0x0301, byte-addressable).
 * DSDT: \_SB.NVDR (ACPI0012) with one NVnn child per module (_ADR: its
 * handle). The root's _DSM, and a label-less module's, answer every UUID
 * and function with Buffer{0}: "no function supported" (function 0's bit
 * 0 clear), so Linux's nfit driver asks nothing further and creates one
 * label-less pmem namespace per module. A module with label-size= gets
 * the Intel DSM interface's label functions, 4 (label area size), 5
 * (read) and 6 (write), through QEMU's protocol (nvdimm-acpi.h): Linux
 * then keeps namespace labels there (ndctl init-labels, create-namespace).
 * No health, no ARS (QEMU has neither for these).
 */
#include <stdio.h>
#include <string.h>

#include "aml.h"
#include "nvdimm-acpi.h"

/* ---- NFIT ---- */

/* 66F0D379-B4F3-4074-AC43-0D3318B78CDB, persistent memory, as stored */
static const uint8_t pmem_guid[16] = {
    0x79, 0xd3, 0xf0, 0x66, 0xf3, 0xb4, 0x74, 0x40,
    0xac, 0x43, 0x0d, 0x33, 0x18, 0xb7, 0x8c, 0xdb,
};

static void nfit_spa(aml *t, unsigned idx, const x86_nvdimm *n)
{
    aml_le(t, 0, 2);          /* type: SPA range */
    aml_le(t, 56, 2);
    aml_le(t, idx, 2);        /* SPA range structure index */
    aml_le(t, 0, 2);          /* flags: no proximity domain */
    aml_le(t, 0, 4);
    aml_le(t, 0, 4);          /* proximity domain */
    aml_put(t, pmem_guid, 16);
    aml_le(t, n->addr, 8);
    aml_le(t, n->size, 8);
    aml_le(t, 0x8 | 0x8000, 8); /* EFI_MEMORY_WB | EFI_MEMORY_NV */
}

static void nfit_memdev(aml *t, unsigned idx, const x86_nvdimm *n)
{
    aml_le(t, 1, 2);          /* type: memory device to SPA range map */
    aml_le(t, 48, 2);
    aml_le(t, idx, 4);        /* NFIT device handle */
    aml_le(t, idx, 2);        /* physical id */
    aml_le(t, 0, 2);          /* region id */
    aml_le(t, idx, 2);        /* SPA range structure index */
    aml_le(t, idx, 2);        /* control region index */
    aml_le(t, n->size, 8);    /* region size */
    aml_le(t, 0, 8);          /* region offset */
    aml_le(t, 0, 8);          /* region DPA */
    aml_le(t, 0, 2);          /* interleave structure index: none */
    aml_le(t, 1, 2);          /* interleave ways */
    aml_le(t, 0, 2);          /* state flags: all well */
    aml_le(t, 0, 2);
}

static void nfit_dcr(aml *t, unsigned idx)
{
    aml_le(t, 4, 2);          /* type: NVDIMM control region */
    aml_le(t, 80, 2);
    aml_le(t, idx, 2);        /* control region index */
    aml_le(t, 0x8086, 2);     /* vendor, device, revision: QEMU's */
    aml_le(t, 0x0001, 2);
    aml_le(t, 0x0001, 2);
    aml_le(t, 0, 2);          /* subsystem vendor, device, revision */
    aml_le(t, 0, 2);
    aml_le(t, 0, 2);
    aml_u8(t, 0);             /* valid fields */
    aml_u8(t, 0);             /* manufacturing location */
    aml_le(t, 0, 2);          /* manufacturing date */
    aml_le(t, 0, 2);
    aml_le(t, 0x123456 + idx, 4); /* serial number (QEMU's + handle) */
    aml_le(t, 0x0301, 2);     /* format interface code: byte addressable */
    aml_le(t, 0, 2);          /* no block control windows */
    for (unsigned i = 0; i < 5; i++) {
        aml_le(t, 0, 8);      /* window size, command/status registers */
    }
    aml_le(t, 0, 2);          /* flags */
    aml_le(t, 0, 6);
}

bool x86_nfit_body(const x86_nvdimm *nvd, unsigned n, aml *t)
{
    aml_le(t, 0, 4); /* reserved */
    for (unsigned i = 0; i < n; i++) {
        nfit_spa(t, i + 1, &nvd[i]);
        nfit_memdev(t, i + 1, &nvd[i]);
        nfit_dcr(t, i + 1);
    }
    return !t->oom;
}

/* ---- DSDT ---- */

/* Method(_DSM, 4) { Return (Buffer(One) { 0 }) }: nothing supported. */
static void dsm_none(aml *a)
{
    size_t m = aml_open_method(a, "_DSM", 4, false);
    size_t at;

    aml_u8(a, AML_RETURN);
    aml_u8(a, AML_BUFFER);
    at = aml_open_pkg(a);
    aml_integer(a, 1);
    aml_u8(a, 0);
    aml_close_pkg(a, at);
    aml_close_pkg(a, m);
}

/* 4309AC30-0D11-11E4-9191-0800200C9A66, the Intel DSM interface, as
 * ToUUID stores it. */
static const uint8_t intel_dsm_uuid[16] = {
    0x30, 0xac, 0x09, 0x43, 0x11, 0x0d, 0xe4, 0x11,
    0x91, 0x91, 0x08, 0x00, 0x20, 0x0c, 0x9a, 0x66,
};

enum {
    OP_SUBTRACT = 0x74, OP_CONCAT = 0x73, OP_SHIFT_LEFT = 0x79, OP_DEREF_OF = 0x83,
    OP_SIZE_OF = 0x87, OP_INDEX = 0x88, OP_OBJECT_TYPE = 0x8e, OP_LNOT = 0x92,
    OP_LEQUAL = 0x93, OP_LGREATER = 0x94, EXT_CREATE_FIELD = 0x13,
    LOCAL1 = 0x61, LOCAL2 = 0x62, ARG1 = 0x69, ARG2 = 0x6a, ARG4 = 0x6c,
};

/* Field(region, DWordAcc, NoLock, Preserve) { names[i], bits[i] ... } */
static void dword_field(aml *a, const char *region, const char *const *names,
                        const uint32_t *bits, unsigned n)
{
    size_t at;

    aml_u8(a, AML_EXT);
    aml_u8(a, AML_EXT_FIELD);
    at = aml_open_pkg(a);
    aml_name(a, region);
    aml_u8(a, 0x03);
    for (unsigned i = 0; i < n; i++) {
        aml_name(a, names[i]);
        /* the field's bit count as a PkgLength: 1, 2 or 3 bytes (FARG's
         * and ODAT's 32k bits need 3: a 2-byte one holds 12 bits) */
        if (bits[i] < 0x40) {
            aml_u8(a, (uint8_t)bits[i]);
        } else if (bits[i] < 0x1000) {
            aml_u8(a, (uint8_t)(0x40 | (bits[i] & 0xf)));
            aml_u8(a, (uint8_t)(bits[i] >> 4));
        } else {
            aml_u8(a, (uint8_t)(0x80 | (bits[i] & 0xf)));
            aml_u8(a, (uint8_t)(bits[i] >> 4));
            aml_u8(a, (uint8_t)(bits[i] >> 12));
        }
    }
    aml_close_pkg(a, at);
}

static void opregion(aml *a, const char *name, uint8_t space, uint64_t base, uint64_t len)
{
    aml_u8(a, AML_EXT);
    aml_u8(a, AML_EXT_OPREGION);
    aml_name(a, name);
    aml_u8(a, space);
    aml_integer(a, base);
    aml_integer(a, len);
}

/* The port, the page and its two views (the request, the answer). */
static void dsm_regions(aml *a)
{
    static const char *const port[] = {"NTFI"};
    static const char *const in[] = {"HDLE", "REVS", "FUNC", "FARG"};
    static const char *const out[] = {"RLEN", "ODAT"};
    static const uint32_t port_bits[] = {32};
    static const uint32_t in_bits[] = {32, 32, 32, (X86_NVDIMM_DSM_SIZE - 12) * 8};
    static const uint32_t out_bits[] = {32, (X86_NVDIMM_DSM_SIZE - 4) * 8};

    opregion(a, "NPIO", 1, X86_NVDIMM_DSM_IO, X86_NVDIMM_DSM_IO_LEN);
    dword_field(a, "NPIO", port, port_bits, 1);
    opregion(a, "NRAM", 0, X86_NVDIMM_DSM_PAGE, X86_NVDIMM_DSM_SIZE);
    dword_field(a, "NRAM", in, in_bits, 4);
    dword_field(a, "NRAM", out, out_bits, 2);
}

static void buffer_of(aml *a, const uint8_t *b, unsigned n)
{
    size_t at;

    aml_u8(a, AML_BUFFER);
    at = aml_open_pkg(a);
    aml_integer(a, n);
    aml_put(a, b, n);
    aml_close_pkg(a, at);
}

/* If (LNot (LEqual (Arg0, ToUUID (Intel)))) { Return (Buffer { 0 }) }:
 * no function of another interface (Linux probes several). */
static void uuid_check(aml *a)
{
    static const uint8_t none[1] = {0};
    size_t at;

    aml_u8(a, AML_IF);
    at = aml_open_pkg(a);
    aml_u8(a, OP_LNOT);
    aml_u8(a, OP_LEQUAL);
    aml_u8(a, AML_ARG0);
    buffer_of(a, intel_dsm_uuid, 16);
    aml_u8(a, AML_RETURN);
    buffer_of(a, none, 1);
    aml_close_pkg(a, at);
}

/* If (ObjectType (Arg3) == Package) { If (SizeOf (Arg3) > 0) {
 *     FARG = DerefOf (Arg3[0]) } } */
static void copy_arg3(aml *a)
{
    size_t i1, i2;

    aml_u8(a, AML_IF);
    i1 = aml_open_pkg(a);
    aml_u8(a, OP_LEQUAL);
    aml_u8(a, OP_OBJECT_TYPE);
    aml_u8(a, AML_ARG3);
    aml_integer(a, 4);
    aml_u8(a, AML_IF);
    i2 = aml_open_pkg(a);
    aml_u8(a, OP_LGREATER);
    aml_u8(a, OP_SIZE_OF);
    aml_u8(a, AML_ARG3);
    aml_integer(a, 0);
    aml_u8(a, AML_STORE);
    aml_u8(a, OP_DEREF_OF);
    aml_u8(a, OP_INDEX);
    aml_u8(a, AML_ARG3);
    aml_integer(a, 0);
    aml_u8(a, AML_ZERO); /* no target */
    aml_name(a, "FARG");
    aml_close_pkg(a, i2);
    aml_close_pkg(a, i1);
}

static void store_to(aml *a, uint8_t arg, const char *name)
{
    aml_u8(a, AML_STORE);
    aml_u8(a, arg);
    aml_name(a, name);
}

/* Method (NCAL, 5, Serialized): Arg0-3 _DSM's, Arg4 the NFIT handle. The
 * answer: the first RLEN - 4 bytes of ODAT, as a Buffer. */
static void method_ncal(aml *a)
{
    size_t m = aml_open_method(a, "NCAL", 5, true);
    size_t at;

    uuid_check(a);
    store_to(a, ARG4, "HDLE");
    store_to(a, ARG1, "REVS");
    store_to(a, ARG2, "FUNC");
    copy_arg3(a);
    aml_u8(a, AML_STORE);
    aml_integer(a, X86_NVDIMM_DSM_PAGE);
    aml_name(a, "NTFI");
    aml_u8(a, OP_SUBTRACT);
    aml_name(a, "RLEN");
    aml_integer(a, 4);
    aml_u8(a, LOCAL1);
    aml_u8(a, OP_SHIFT_LEFT);
    aml_u8(a, LOCAL1);
    aml_integer(a, 3);
    aml_u8(a, LOCAL1);
    aml_u8(a, AML_EXT);
    aml_u8(a, EXT_CREATE_FIELD);
    aml_name(a, "ODAT");
    aml_integer(a, 0);
    aml_u8(a, LOCAL1);
    aml_name(a, "OBUF");
    aml_u8(a, OP_CONCAT);
    aml_u8(a, AML_BUFFER);
    at = aml_open_pkg(a);
    aml_integer(a, 0);
    aml_close_pkg(a, at);
    aml_name(a, "OBUF");
    aml_u8(a, LOCAL2);
    aml_u8(a, AML_RETURN);
    aml_u8(a, LOCAL2);
    aml_close_pkg(a, m);
}

/* Method (_DSM, 4) { Return (\_SB.NVDR.NCAL (Arg0, Arg1, Arg2, Arg3, handle)) } */
static void dsm_labels(aml *a, unsigned handle)
{
    size_t m = aml_open_method(a, "_DSM", 4, false);

    aml_u8(a, AML_RETURN);
    aml_name(a, "\\_SB.NVDR.NCAL");
    for (unsigned i = 0; i < 4; i++) {
        aml_u8(a, (uint8_t)(AML_ARG0 + i));
    }
    aml_integer(a, handle);
    aml_close_pkg(a, m);
}

static bool any_labels(const x86_nvdimm *nvd, unsigned n)
{
    for (unsigned i = 0; nvd && i < n; i++) {
        if (nvd[i].label_size) {
            return true;
        }
    }
    return false;
}

void x86_dsdt_nvdimm(aml *a, const x86_nvdimm *nvd, unsigned n)
{
    size_t root;

    root = aml_open_device(a, "NVDR");
    aml_u8(a, AML_NAME);
    aml_name(a, "_HID");
    aml_string(a, "ACPI0012");
    dsm_none(a);
    if (any_labels(nvd, n)) {
        dsm_regions(a);
        method_ncal(a);
    }
    for (unsigned i = 0; i < n; i++) {
        char name[5];
        size_t dev;

        snprintf(name, sizeof(name), "NV%02X", i & 0xff);
        dev = aml_open_device(a, name);
        aml_name_int(a, "_ADR", i + 1);
        if (nvd && nvd[i].label_size) {
            dsm_labels(a, i + 1);
        } else {
            dsm_none(a);
        }
        aml_close_pkg(a, dev);
    }
    aml_close_pkg(a, root);
}

/* ---- the _DSM page (the board calls this on the port write) ---- */

enum {
    DSM_OK = 0, DSM_UNSUPPORTED = 1, DSM_INVALID = 3,
    IN_ARG = 12,        /* the request's Arg3 buffer */
    OUT_DATA = 8,       /* an answer's data, after length and status */
    /* The most one transfer carries: a read's answer, a write's request
     * (QEMU's: the smaller of the two) */
    MAX_XFER = X86_NVDIMM_DSM_SIZE - IN_ARG - 8,
};

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* An answer: status and len bytes of data after it (already in place). */
static void answer(uint8_t *page, uint32_t status, uint32_t len)
{
    put32(page, 8 + len);
    put32(page + 4, status);
}

/* Functions 5 and 6: offset and length inside the label area and one
 * transfer (ACPI's Intel DSM spec: "Invalid Input Parameters"). */
static bool xfer_ok(const x86_nvdimm *d, uint32_t off, uint32_t len)
{
    return len <= MAX_XFER && (uint64_t)off + len <= d->label_size;
}

static void label_function(uint8_t *page, const x86_nvdimm *d, unsigned idx, uint32_t func,
                           x86_nvdimm_label_fn fn, void *opaque)
{
    uint32_t off = get32(page + IN_ARG), len = get32(page + IN_ARG + 4);
    uint8_t data[MAX_XFER];

    if (func == 4) {
        put32(page + OUT_DATA, (uint32_t)d->label_size);
        put32(page + OUT_DATA + 4, MAX_XFER);
        answer(page, DSM_OK, 8);
    } else if (!xfer_ok(d, off, len)) {
        answer(page, DSM_INVALID, 0);
    } else if (func == 5) {
        /* read into a copy first: the answer overwrites the request */
        bool ok = fn(opaque, idx, off, data, len, false);

        memcpy(page + OUT_DATA, data, ok ? len : 0);
        answer(page, ok ? DSM_OK : DSM_INVALID, ok ? len : 0);
    } else {
        memcpy(data, page + IN_ARG + 8, len);
        answer(page, fn(opaque, idx, off, data, len, true) ? DSM_OK : DSM_INVALID, 0);
    }
}

void x86_nvdimm_dsm(uint8_t *page, const x86_nvdimm *nvd, unsigned n, x86_nvdimm_label_fn fn,
                    void *opaque)
{
    uint32_t handle = get32(page), rev = get32(page + 4), func = get32(page + 8);
    const x86_nvdimm *d = handle >= 1 && handle <= n ? &nvd[handle - 1] : NULL;

    if (!d || !d->label_size || rev != 1) {
        /* the root device, a label-less module, a revision but 1 */
        if (func == 0) {
            put32(page, 8);
            put32(page + 4, 0);
        } else {
            answer(page, DSM_UNSUPPORTED, 0);
        }
        return;
    }
    if (func == 0) {
        put32(page, 8);
        put32(page + 4, 1u << 0 | 1u << 4 | 1u << 5 | 1u << 6);
    } else if (func >= 4 && func <= 6) {
        label_function(page, d, handle - 1, func, fn, opaque);
    } else {
        answer(page, DSM_UNSUPPORTED, 0);
    }
}
