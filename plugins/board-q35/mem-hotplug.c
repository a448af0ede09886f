/*
 * board-x86: ACPI memory hotplug (mem-hotplug.h), the interface QEMU's pc
 * and q35 give their guests (docs/specs/acpi_mem_hotplug.rst), so the
 * guest's driver (Linux's acpi_memhotplug) sees the same thing.
 *
 * Registers at I/O 0x0a00, of the slot the selector names:
 *   read   0x00 address low, 0x04 high, 0x08 size low, 0x0c high,
 *          0x10 proximity domain, 0x14 flags: bit 0 enabled, 1 insert
 *          event, 2 remove event; the rest of 0x14..0x17 reads ones.
 *          A selector past the last slot reads 0 everywhere.
 *   write  0x00 selector, 0x04 _OST event, 0x08 _OST status (QMP
 *          ACPI_DEVICE_OST goes out, through the board), 0x14
 *          control: bit 1 clears the insert event, bit 2 the remove
 *          event, bit 3 ejects the module (the guest has let go of it).
 *
 * DSDT (inside \_SB): Device(MHPC) (PNP0A06, the block in _CRS) with the
 * fields over the block, a mutex, MSCN (for each slot: an insert event
 * becomes Notify(MPxx, 1) "device check", a remove event Notify(MPxx, 3)
 * "eject request", each cleared once sent), and per slot Device(MPxx)
 * (PNP0C80) whose _STA, _CRS (a QWord memory range), _PXM, _OST and _EJ0
 * select the slot and read or write the block. \_GPE._E03 calls MSCN.
 * Linux adds the memory on the device check, and on the eject request
 * offlines it, calls _EJ0 and reads _STA 0 after it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mem-hotplug.h"
#include "x86-trace.h"

/* ---- registers ---- */

static x86_memslot *selected(x86_memhp *m)
{
    return m->selector < m->nslots ? &m->slot[m->selector] : NULL;
}

/* Byte off (0..23) of the selected slot's register image. */
static uint8_t reg_byte(x86_memhp *m, unsigned off)
{
    x86_memslot *s = selected(m);
    bool dimm = s && s->dev && !s->nvdimm;
    uint64_t v;

    if (!s) {
        return 0;
    }
    if (off < 8) {
        v = dimm ? s->addr : 0;
    } else if (off < 16) {
        v = dimm ? s->size : 0;
    } else if (off < 20) {
        v = dimm ? s->node : 0;
    } else if (off == 20) {
        return (uint8_t)((s->enabled ? 1 : 0) | (s->inserting ? 2 : 0) | (s->removing ? 4 : 0));
    } else {
        return 0xff;
    }
    return (uint8_t)(v >> (8 * (off % 8)));
}

uint64_t x86_memhp_read(x86_memhp *m, uint64_t off, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size && i < 8; i++) {
        v |= (uint64_t)(off + i < X86_MEMHP_LEN ? reg_byte(m, (unsigned)(off + i)) : 0xff)
             << (8 * i);
    }
    if (!selected(m)) {
        trace_mhp_acpi_invalid_slot_selected(m->selector);
    } else if (off == 20) {
        trace_mhp_acpi_read_flags(m->selector, (uint32_t)v);
    } else {
        trace_mhp_acpi_read_reg(m->selector, (uint32_t)off, (uint32_t)v);
    }
    return v;
}

static void control_write(x86_memhp *m, x86_memslot *s, uint8_t v)
{
    if (v & 2) {
        trace_mhp_acpi_clear_insert_evt(m->selector);
        s->inserting = false;
    }
    if (v & 4) {
        trace_mhp_acpi_clear_remove_evt(m->selector);
        s->removing = false;
    }
    if ((v & 8) && !(s->dev && !s->nvdimm)) {
        trace_mhp_acpi_ejecting_invalid_slot(m->selector);
    } else if (v & 8) {
        struct tes_device *dev = s->dev;

        trace_mhp_acpi_pc_dimm_deleted(m->selector);
        /* The slot empties but keeps the guest's last _OST codes, as
         * QEMU's unplug clears only the module: query-acpi-ospm-status
         * still shows how the eject went. */
        *s = (x86_memslot){.ost_event = s->ost_event, .ost_status = s->ost_status};
        if (m->eject) {
            m->eject(m->opaque, dev);
        }
    }
}

void x86_memhp_write(x86_memhp *m, uint64_t off, uint64_t val, unsigned size)
{
    x86_memslot *s;

    if (off == 0) {
        m->selector = (uint32_t)val;
        trace_mhp_acpi_write_slot(m->selector);
        return;
    }
    s = selected(m);
    if (!s) {
        trace_mhp_acpi_invalid_slot_selected(m->selector);
        return; /* a selector past the slots: writes have no effect */
    }
    if (off == 4) {
        trace_mhp_acpi_write_ost_ev(m->selector, (uint32_t)val);
        s->ost_event = (uint32_t)val;
    } else if (off == 8) {
        trace_mhp_acpi_write_ost_status(m->selector, (uint32_t)val);
        /* _OST writes the event, then the status: QEMU reports on this. */
        s->ost_status = (uint32_t)val;
        if (m->ost) {
            m->ost(m->opaque, m->selector);
        }
    } else if (off <= 20 && off + size > 20) {
        control_write(m, s, (uint8_t)(val >> (8 * (20 - off))));
    }
}

/* ---- AML ---- */

enum {
    OP_STORE = 0x70, OP_ADD = 0x72, OP_SUBTRACT = 0x74, OP_INCREMENT = 0x75,
    OP_SHIFT_LEFT = 0x79, OP_NOTIFY = 0x86, OP_CREATE_QWORD_FIELD = 0x8f,
    OP_LEQUAL = 0x93, OP_WHILE = 0xa2,
    EXT_MUTEX = 0x01, EXT_ACQUIRE = 0x23, EXT_RELEASE = 0x27,
    ARG1 = 0x69, ARG2 = 0x6a,
};

/* A plain number as a PkgLength (a field element's bit count). */
static void pkg_number(aml *a, unsigned n)
{
    if (n < 0x40) {
        aml_u8(a, (uint8_t)n);
    } else {
        aml_u8(a, (uint8_t)(0x40 | (n & 0xf)));
        aml_u8(a, (uint8_t)(n >> 4));
    }
}

/* Field(HPMR, flags) { [Offset(skip / 8),] name0, bits0, ... } */
static void field(aml *a, uint8_t flags, unsigned skip, const char *const *names,
                  const uint8_t *bits, unsigned n)
{
    size_t at;

    aml_u8(a, AML_EXT);
    aml_u8(a, AML_EXT_FIELD);
    at = aml_open_pkg(a);
    aml_name(a, "HPMR");
    aml_u8(a, flags);
    if (skip) {
        aml_u8(a, 0x00); /* ReservedField */
        pkg_number(a, skip);
    }
    for (unsigned i = 0; i < n; i++) {
        aml_name(a, names[i]);
        pkg_number(a, bits[i]);
    }
    aml_close_pkg(a, at);
}

static void block_fields(aml *a)
{
    static const char *const regs[] = {"MRBL", "MRBH", "MRLL", "MRLH", "MPX_"};
    static const char *const flags[] = {"MES_", "MINS", "MRMV", "MEJ_"};
    static const char *const ctl[] = {"MSEL", "MOEV", "MOSC"};
    static const uint8_t b32[] = {32, 32, 32, 32, 32}, b1[] = {1, 1, 1, 1};

    /* OperationRegion(HPMR, SystemIO, 0x0a00, 24) */
    aml_u8(a, AML_EXT);
    aml_u8(a, AML_EXT_OPREGION);
    aml_name(a, "HPMR");
    aml_u8(a, 1);
    aml_integer(a, X86_MEMHP_BASE);
    aml_integer(a, X86_MEMHP_LEN);
    field(a, 0x03, 0, regs, b32, 5);          /* DWordAcc, NoLock, Preserve */
    field(a, 0x41, 20 * 8, flags, b1, 4);     /* ByteAcc, NoLock, WriteAsZeros */
    field(a, 0x03, 0, ctl, b32, 3);
    /* Mutex(MLCK, 0) */
    aml_u8(a, AML_EXT);
    aml_u8(a, EXT_MUTEX);
    aml_name(a, "MLCK");
    aml_u8(a, 0);
}

static void acquire(aml *a)
{
    aml_u8(a, AML_EXT);
    aml_u8(a, EXT_ACQUIRE);
    aml_name(a, "MLCK");
    aml_le(a, 0xffff, 2);
}

static void release(aml *a)
{
    aml_u8(a, AML_EXT);
    aml_u8(a, EXT_RELEASE);
    aml_name(a, "MLCK");
}

/* MSEL = Arg0: the slot the method was called for */
static void select_arg0(aml *a)
{
    aml_u8(a, AML_STORE);
    aml_u8(a, AML_ARG0);
    aml_name(a, "MSEL");
}

/* Method(MRST, 1): Local0 = 0; lock; select; If (MES == 1) { Local0 = 0xf } */
static void method_mrst(aml *a)
{
    size_t m = aml_open_method(a, "MRST", 1, false), i;

    aml_u8(a, AML_STORE);
    aml_integer(a, 0);
    aml_u8(a, AML_LOCAL0);
    acquire(a);
    select_arg0(a);
    aml_u8(a, AML_IF);
    i = aml_open_pkg(a);
    aml_u8(a, OP_LEQUAL);
    aml_name(a, "MES_");
    aml_integer(a, 1);
    aml_u8(a, AML_STORE);
    aml_integer(a, 0xf);
    aml_u8(a, AML_LOCAL0);
    aml_close_pkg(a, i);
    release(a);
    aml_u8(a, AML_RETURN);
    aml_u8(a, AML_LOCAL0);
    aml_close_pkg(a, m);
}

/* dst = (hi << 32) | lo */
static void store_u64(aml *a, const char *hi, const char *lo, const char *dst)
{
    aml_u8(a, AML_OR);
    aml_u8(a, OP_SHIFT_LEFT);
    aml_name(a, hi);
    aml_integer(a, 32);
    aml_u8(a, 0x00); /* no target */
    aml_name(a, lo);
    aml_name(a, dst);
}

/* Method(MCRS, 1, Serialized): a QWord memory range of the slot's module. */
static void method_mcrs(aml *a)
{
    static const struct {
        const char *n;
        unsigned off;
    } f[] = {{"MINV", 14}, {"MAXV", 22}, {"LENV", 38}};
    size_t m = aml_open_method(a, "MCRS", 1, true);
    aml r = {0};

    /* Consumer, min/max fixed; read-write, cacheable. Filled below. */
    aml_u8(&r, 0x8a);
    aml_le(&r, 43, 2);
    aml_u8(&r, 0);    /* memory */
    aml_u8(&r, 0x0d); /* consumer, _MIF, _MAF */
    aml_u8(&r, 0x03); /* read-write, cacheable */
    aml_le(&r, 0, 8 * 5);
    aml_res_end(&r);
    aml_name_buffer(a, "MR64", &r);
    free(r.b);
    for (unsigned i = 0; i < 3; i++) {
        aml_u8(a, OP_CREATE_QWORD_FIELD);
        aml_name(a, "MR64");
        aml_integer(a, f[i].off);
        aml_name(a, f[i].n);
    }
    acquire(a);
    select_arg0(a);
    store_u64(a, "MRBH", "MRBL", "MINV");
    store_u64(a, "MRLH", "MRLL", "LENV");
    /* MAXV = MINV + LENV - 1 */
    aml_u8(a, OP_SUBTRACT);
    aml_u8(a, OP_ADD);
    aml_name(a, "MINV");
    aml_name(a, "LENV");
    aml_u8(a, 0x00);
    aml_integer(a, 1);
    aml_name(a, "MAXV");
    release(a);
    aml_u8(a, AML_RETURN);
    aml_name(a, "MR64");
    aml_close_pkg(a, m);
}

/* Method(MPXM, 1): the slot's proximity domain. */
static void method_mpxm(aml *a)
{
    size_t m = aml_open_method(a, "MPXM", 1, false);

    acquire(a);
    select_arg0(a);
    aml_u8(a, AML_STORE);
    aml_name(a, "MPX_");
    aml_u8(a, AML_LOCAL0);
    release(a);
    aml_u8(a, AML_RETURN);
    aml_u8(a, AML_LOCAL0);
    aml_close_pkg(a, m);
}

/* Method(MOST, 4): _OST's event and status into the block. */
static void method_most(aml *a)
{
    size_t m = aml_open_method(a, "MOST", 4, false);

    acquire(a);
    select_arg0(a);
    aml_u8(a, AML_STORE);
    aml_u8(a, ARG1);
    aml_name(a, "MOEV");
    aml_u8(a, AML_STORE);
    aml_u8(a, ARG2);
    aml_name(a, "MOSC");
    release(a);
    aml_close_pkg(a, m);
}

/* Method(MEJ0, 2): the eject bit. */
static void method_mej0(aml *a)
{
    size_t m = aml_open_method(a, "MEJ0", 2, false);

    acquire(a);
    select_arg0(a);
    aml_u8(a, AML_STORE);
    aml_integer(a, 1);
    aml_name(a, "MEJ_");
    release(a);
    aml_close_pkg(a, m);
}

/* Method(name, nargs) { [Return] (call(slot, Arg0..)) } */
static void slot_method(aml *a, const char *name, unsigned nargs, const char *call,
                        unsigned slot, bool ret)
{
    size_t m = aml_open_method(a, name, nargs, false);

    if (ret) {
        aml_u8(a, AML_RETURN);
    }
    aml_name(a, call);
    aml_integer(a, slot);
    for (unsigned i = 0; i < nargs; i++) {
        aml_u8(a, (uint8_t)(AML_ARG0 + i));
    }
    aml_close_pkg(a, m);
}

static void slot_name(char out[5], unsigned i)
{
    snprintf(out, 5, "MP%02X", i & 0xff);
}

static void slot_device(aml *a, unsigned i)
{
    char n[5];
    size_t dev;

    slot_name(n, i);
    dev = aml_open_device(a, n);
    aml_name_eisaid(a, "_HID", "PNP0C80");
    aml_name_int(a, "_UID", i);
    slot_method(a, "_CRS", 0, "MCRS", i, true);
    slot_method(a, "_STA", 0, "MRST", i, true);
    slot_method(a, "_PXM", 0, "MPXM", i, true);
    slot_method(a, "_OST", 3, "MOST", i, false);
    slot_method(a, "_EJ0", 1, "MEJ0", i, false);
    aml_close_pkg(a, dev);
}

/* Method(MTFY, 2): If (Arg0 == i) { Notify(MPii, Arg1) } for every slot. */
static void method_mtfy(aml *a, unsigned nslots)
{
    aml_method_notify_each(a, "MTFY", nslots, slot_name);
}

/* If (flag == 1) { MTFY(Local0, code); flag = 1 } (writing 1 clears it) */
static void scan_event(aml *a, const char *flag, unsigned code)
{
    size_t at;

    aml_u8(a, AML_IF);
    at = aml_open_pkg(a);
    aml_u8(a, OP_LEQUAL);
    aml_name(a, flag);
    aml_integer(a, 1);
    aml_name(a, "MTFY");
    aml_u8(a, AML_LOCAL0);
    aml_integer(a, code);
    aml_u8(a, AML_STORE);
    aml_integer(a, 1);
    aml_name(a, flag);
    aml_close_pkg(a, at);
}

/* Method(MSCN): every slot's pending insert and remove events. */
static void method_mscn(aml *a, unsigned nslots)
{
    size_t m = aml_open_method(a, "MSCN", 0, false), w;

    acquire(a);
    aml_u8(a, AML_STORE);
    aml_integer(a, 0);
    aml_u8(a, AML_LOCAL0);
    aml_u8(a, OP_WHILE);
    w = aml_open_pkg(a);
    aml_u8(a, AML_LLESS);
    aml_u8(a, AML_LOCAL0);
    aml_integer(a, nslots);
    aml_u8(a, AML_STORE);
    aml_u8(a, AML_LOCAL0);
    aml_name(a, "MSEL");
    scan_event(a, "MINS", 1); /* device check */
    scan_event(a, "MRMV", 3); /* eject request */
    aml_u8(a, OP_INCREMENT);
    aml_u8(a, AML_LOCAL0);
    aml_close_pkg(a, w);
    release(a);
    aml_close_pkg(a, m);
}

void x86_dsdt_memhp(aml *a, unsigned nslots)
{
    size_t dev;
    aml r = {0};

    if (!nslots) {
        return;
    }
    dev = aml_open_device(a, "MHPC");
    aml_name_eisaid(a, "_HID", "PNP0A06");
    aml_u8(a, AML_NAME);
    aml_name(a, "_UID");
    aml_string(a, "Memory hotplug resources");
    aml_res_io(&r, X86_MEMHP_BASE, X86_MEMHP_LEN);
    aml_res_end(&r);
    aml_name_buffer(a, "_CRS", &r);
    free(r.b);
    block_fields(a);
    /* Methods before their callers: AML parsers learn a method's
     * argument count from its definition. */
    method_mrst(a);
    method_mcrs(a);
    method_mpxm(a);
    method_most(a);
    method_mej0(a);
    for (unsigned i = 0; i < nslots; i++) {
        slot_device(a, i);
    }
    method_mtfy(a, nslots);
    method_mscn(a, nslots);
    aml_close_pkg(a, dev);
}

void x86_dsdt_memhp_gpe(aml *a, unsigned nslots)
{
    size_t sc, m;

    if (!nslots) {
        return;
    }
    aml_u8(a, AML_SCOPE);
    sc = aml_open_pkg(a);
    aml_name(a, "\\_GPE");
    m = aml_open_method(a, "_E03", 0, false);
    aml_name(a, "\\_SB.MHPC.MSCN");
    aml_close_pkg(a, m);
    aml_close_pkg(a, sc);
}
