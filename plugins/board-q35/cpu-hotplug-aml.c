/*
 * board-x86: the DSDT side of CPU hotplug (cpu-hotplug.h), tessera's own
 * AML over QEMU's register interface:
 *
 *   Device (\_SB.CPUS) {                  ACPI0010 processor container
 *     Mutex (CPLK), OperationRegion (PRST, SystemIO, 0x0cd8, 12)
 *     Field: CPEN CINS CRMV CEJE (byte 4), CCMD (5), CSEL (0), CDAT (8)
 *     CSTA (uid)        select; 0xF when present, else 0
 *     CEJ0 (uid)        select; eject
 *     COST (uid, ev, st, buf)   _OST: event and status to the block
 *     CTFY (uid, code)  Notify (Cnnn, code)
 *     CSCN ()           while command 0 finds a CPU with an event:
 *                       insert -> Notify 1 (device check), clear it;
 *                       remove -> Notify 3 (eject request), clear it
 *     Device (Cnnn) { _HID ACPI0007, _UID n, _STA, _MAT (its MADT
 *                     local APIC entry, enabled), _EJ0, _OST, _PXM }
 *   }
 *   Scope (\_GPE) { Method (_E02) { \_SB.CPUS.CSCN () } }
 *
 * Linux (drivers/acpi/acpi_processor.c) then adds a CPU it is told about
 * with the APIC ID from _MAT (the MADT lists it as not enabled), and
 * ejects one by offlining it and calling _EJ0.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cpu-hotplug.h"

/* AML opcodes beyond aml.h's (ACPI 6.4, 20.3) */
enum {
    OP_LOCAL1 = 0x61, OP_LOCAL2 = 0x62, OP_ARG1 = 0x69, OP_ARG2 = 0x6a,
    OP_INCREMENT = 0x75, OP_NOTIFY = 0x86, OP_LEQUAL = 0x93, OP_WHILE = 0xa2,
    EXT_MUTEX = 0x01, EXT_ACQUIRE = 0x23, EXT_RELEASE = 0x27,
    REGION_SYSTEM_IO = 1,
    FIELD_BYTE_ACC = 1, FIELD_DWORD_ACC = 3, FIELD_WRITE_ZEROS = 2 << 5,
};

static void cpu_name(char out[5], unsigned i)
{
    snprintf(out, 5, "C%03X", i & 0xfff);
}

static void acquire(aml *a)
{
    aml_u8(a, AML_EXT);
    aml_u8(a, EXT_ACQUIRE);
    aml_name(a, "CPLK");
    aml_le(a, 0xffff, 2);
}

static void release(aml *a)
{
    aml_u8(a, AML_EXT);
    aml_u8(a, EXT_RELEASE);
    aml_name(a, "CPLK");
}

/* Store (src, name): src is one opcode byte (Local/Arg/One/Zero). */
static void store_op(aml *a, uint8_t src, const char *name)
{
    aml_u8(a, AML_STORE);
    aml_u8(a, src);
    aml_name(a, name);
}

static void store_int(aml *a, uint64_t v, const char *name)
{
    aml_u8(a, AML_STORE);
    aml_integer(a, v);
    aml_name(a, name);
}

/* If (LEqual (name, One)) { — close with aml_close_pkg. */
static size_t if_flag(aml *a, const char *name)
{
    size_t at;

    aml_u8(a, AML_IF);
    at = aml_open_pkg(a);
    aml_u8(a, OP_LEQUAL);
    aml_name(a, name);
    aml_u8(a, AML_ONE);
    return at;
}

/* A field element: NameSeg and its width in bits (< 64). */
static void field_unit(aml *a, const char *seg, unsigned bits)
{
    aml_name(a, seg);
    aml_u8(a, (uint8_t)bits);
}

static void field_skip(aml *a, unsigned bits)
{
    aml_u8(a, 0);
    aml_u8(a, (uint8_t)bits);
}

static void regs(aml *a)
{
    size_t at;

    aml_u8(a, AML_EXT);
    aml_u8(a, EXT_MUTEX);
    aml_name(a, "CPLK");
    aml_u8(a, 0);
    aml_u8(a, AML_EXT);
    aml_u8(a, AML_EXT_OPREGION);
    aml_name(a, "PRST");
    aml_u8(a, REGION_SYSTEM_IO);
    aml_integer(a, X86_CPUHP_BASE);
    aml_integer(a, X86_CPUHP_LEN);
    /* bytes 4 and 5: flags (write 1 acts, zeros elsewhere) and command */
    aml_u8(a, AML_EXT);
    aml_u8(a, AML_EXT_FIELD);
    at = aml_open_pkg(a);
    aml_name(a, "PRST");
    aml_u8(a, FIELD_BYTE_ACC | FIELD_WRITE_ZEROS);
    field_skip(a, 32);
    field_unit(a, "CPEN", 1);
    field_unit(a, "CINS", 1);
    field_unit(a, "CRMV", 1);
    field_unit(a, "CEJE", 1);
    field_skip(a, 4);
    field_unit(a, "CCMD", 8);
    aml_close_pkg(a, at);
    /* DWords 0 and 8: selector and data */
    aml_u8(a, AML_EXT);
    aml_u8(a, AML_EXT_FIELD);
    at = aml_open_pkg(a);
    aml_name(a, "PRST");
    aml_u8(a, FIELD_DWORD_ACC);
    field_unit(a, "CSEL", 32);
    field_skip(a, 32);
    field_unit(a, "CDAT", 32);
    aml_close_pkg(a, at);
}

/* CSTA (uid): Local0 = 0xF when CPEN, else 0 */
static void method_csta(aml *a)
{
    size_t m = aml_open_method(a, "CSTA", 1, true), i;

    acquire(a);
    store_op(a, AML_ARG0, "CSEL");
    aml_u8(a, AML_STORE);
    aml_u8(a, AML_ZERO);
    aml_u8(a, AML_LOCAL0);
    i = if_flag(a, "CPEN");
    aml_u8(a, AML_STORE);
    aml_integer(a, 0xf);
    aml_u8(a, AML_LOCAL0);
    aml_close_pkg(a, i);
    release(a);
    aml_u8(a, AML_RETURN);
    aml_u8(a, AML_LOCAL0);
    aml_close_pkg(a, m);
}

static void method_cej0(aml *a)
{
    size_t m = aml_open_method(a, "CEJ0", 1, true);

    acquire(a);
    store_op(a, AML_ARG0, "CSEL");
    store_op(a, AML_ONE, "CEJE");
    release(a);
    aml_close_pkg(a, m);
}

static void method_cost(aml *a)
{
    size_t m = aml_open_method(a, "COST", 4, true);

    acquire(a);
    store_op(a, AML_ARG0, "CSEL");
    store_int(a, CPUHP_CMD_OST_EVENT, "CCMD");
    store_op(a, OP_ARG1, "CDAT");
    store_int(a, CPUHP_CMD_OST_STATUS, "CCMD");
    store_op(a, OP_ARG2, "CDAT");
    release(a);
    aml_close_pkg(a, m);
}

static void method_ctfy(aml *a, unsigned n)
{
    aml_method_notify_each(a, "CTFY", n, cpu_name);
}

/* One event: If (CINS) {CTFY (Local1, 1); CINS = 1; Local0 = 1}
 * (CRMV with 3 likewise). */
static void scan_event(aml *a, const char *flag, unsigned code)
{
    size_t i = if_flag(a, flag);

    aml_name(a, "CTFY");
    aml_u8(a, OP_LOCAL1);
    aml_integer(a, code);
    store_op(a, AML_ONE, flag);
    aml_u8(a, AML_STORE);
    aml_u8(a, AML_ONE);
    aml_u8(a, AML_LOCAL0);
    aml_close_pkg(a, i);
}

/* CSCN: Local0 "found one", Local2 counts rounds (at most 2 per CPU, so a
 * block that never clears its events cannot hang the guest). */
static void method_cscn(aml *a, unsigned n)
{
    size_t m = aml_open_method(a, "CSCN", 0, true), w;

    acquire(a);
    aml_u8(a, AML_STORE);
    aml_u8(a, AML_ONE);
    aml_u8(a, AML_LOCAL0);
    aml_u8(a, AML_STORE);
    aml_u8(a, AML_ZERO);
    aml_u8(a, OP_LOCAL2);
    aml_u8(a, OP_WHILE);
    w = aml_open_pkg(a);
    aml_u8(a, AML_LAND);
    aml_u8(a, OP_LEQUAL);
    aml_u8(a, AML_LOCAL0);
    aml_u8(a, AML_ONE);
    aml_u8(a, AML_LLESS);
    aml_u8(a, OP_LOCAL2);
    aml_integer(a, 2 * n + 1);
    aml_u8(a, AML_STORE);
    aml_u8(a, AML_ZERO);
    aml_u8(a, AML_LOCAL0);
    aml_u8(a, OP_INCREMENT);
    aml_u8(a, OP_LOCAL2);
    store_int(a, CPUHP_CMD_NEXT_EVENT, "CCMD");
    aml_u8(a, AML_STORE);
    aml_name(a, "CDAT");
    aml_u8(a, OP_LOCAL1);
    scan_event(a, "CINS", 1);  /* device check: the CPU is there */
    scan_event(a, "CRMV", 3);  /* eject request */
    aml_close_pkg(a, w);
    release(a);
    aml_close_pkg(a, m);
}

/* _MAT: the MADT's processor local APIC entry, enabled. */
static void cpu_mat(aml *a, unsigned i, uint32_t apic_id)
{
    aml b = {0};

    aml_u8(&b, 0);
    aml_u8(&b, 8);
    aml_u8(&b, (uint8_t)i);
    aml_u8(&b, (uint8_t)apic_id);
    aml_le(&b, 1, 4);
    aml_name_buffer(a, "_MAT", &b);
    free(b.b);
}

/* Method (name, nargs) { target (uid, Arg0..Arg(pass-1)) }, returning
 * its value when it takes no arguments (_STA). */
static void forward(aml *a, const char *name, unsigned nargs, unsigned pass, const char *target,
                    unsigned i)
{
    size_t m = aml_open_method(a, name, nargs, false);

    if (nargs == 0) {
        aml_u8(a, AML_RETURN);
    }
    aml_name(a, target);
    aml_integer(a, i);
    for (unsigned k = 0; k < pass; k++) {
        aml_u8(a, (uint8_t)(AML_ARG0 + k));
    }
    aml_close_pkg(a, m);
}

static void cpu_device(aml *a, const x86_cpuhp *hp, unsigned i, const uint32_t *node)
{
    char c[5];
    size_t dev;

    cpu_name(c, i);
    dev = aml_open_device(a, c);
    aml_u8(a, AML_NAME);
    aml_name(a, "_HID");
    aml_string(a, "ACPI0007");
    aml_name_int(a, "_UID", i);
    forward(a, "_STA", 0, 0, "CSTA", i);
    cpu_mat(a, i, hp->apic_id[i]);
    if (i != 0) {
        forward(a, "_EJ0", 1, 0, "CEJ0", i);
    }
    forward(a, "_OST", 3, 3, "COST", i);
    if (node) {
        aml_name_int(a, "_PXM", node[i]);
    }
    aml_close_pkg(a, dev);
}

void x86_cpuhp_aml(aml *a, const x86_cpuhp *hp, const uint32_t *node)
{
    size_t dev = aml_open_device(a, "CPUS");

    aml_u8(a, AML_NAME);
    aml_name(a, "_HID");
    aml_string(a, "ACPI0010");
    aml_name_eisaid(a, "_CID", "PNP0A05");
    regs(a);
    method_csta(a);
    method_cej0(a);
    method_cost(a);
    method_ctfy(a, hp->max_cpus);
    method_cscn(a, hp->max_cpus);
    for (unsigned i = 0; i < hp->max_cpus; i++) {
        cpu_device(a, hp, i, node);
    }
    aml_close_pkg(a, dev);
}

void x86_cpuhp_aml_gpe(aml *a)
{
    size_t sc, m;

    aml_u8(a, AML_SCOPE);
    sc = aml_open_pkg(a);
    aml_name(a, "\\_GPE");
    m = aml_open_method(a, "_E02", 0, false);
    aml_name(a, "\\_SB.CPUS.CSCN");
    aml_close_pkg(a, m);
    aml_close_pkg(a, sc);
}
