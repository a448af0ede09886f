/*
 * board-x86: QEMU's "modern" ACPI CPU hotplug interface (QEMU's
 * docs/specs/acpi_cpu_hotplug.rst), which q35 and pc both carry: a 12-byte
 * I/O block at 0x0cd8 through which the DSDT's \_SB.CPUS methods select a
 * possible CPU, read whether it is present and has an insert or remove
 * event pending, acknowledge the events, eject it and report _OST; and
 * GPE0 bit 2 (\_GPE._E02 calls \_SB.CPUS.CSCN) to tell the guest.
 *
 *   [0x0] DWord  write: CPU selector (0 .. maxcpus-1)
 *                read: upper 32 bits of the APIC ID after command 3, else 0
 *   [0x4] Byte   read: bit 0 enabled (present), 1 insert event, 2 remove
 *                event; write: 1 clears the insert event, else 2 clears the
 *                remove event, else 3 ejects the CPU (not the boot CPU)
 *   [0x5] Byte   command: 0 select the next CPU with an event (from the
 *                selector on, wrapping; unchanged when none), 1 / 2 the
 *                next data write is the _OST event / status, 3 data reads
 *                the APIC ID
 *   [0x8] DWord  read: the selector after command 0, the APIC ID after 3;
 *                write: the _OST event / status after 1 / 2
 *
 * The register logic here touches no host table: the fuzz target and
 * unit test drive it alone. x86-cpuhp.c maps it and wires the events.
 */
#ifndef BOARD_X86_CPU_HOTPLUG_H
#define BOARD_X86_CPU_HOTPLUG_H

#include <stdbool.h>
#include <stdint.h>

#include "aml.h"

#define X86_CPUHP_BASE 0x0cd8u
#define X86_CPUHP_LEN 12u
#define X86_CPUHP_GPE_BIT 2u /* _E02, as QEMU's q35 and pc */
#define X86_CPUHP_MAX 256u

/* flags[] bits (the first three as the status register reads them) */
enum { CPUHP_PRESENT = 1, CPUHP_INSERT = 2, CPUHP_REMOVE = 4 };
/* commands */
enum { CPUHP_CMD_NEXT_EVENT = 0, CPUHP_CMD_OST_EVENT = 1, CPUHP_CMD_OST_STATUS = 2,
       CPUHP_CMD_ARCH_ID = 3 };

typedef struct x86_cpuhp {
    /* set up by x86_cpuhp_init, not migrated: from -smp */
    unsigned max_cpus;                 /* 0: no hotplug interface */
    uint32_t apic_id[X86_CPUHP_MAX];
    /* The guest ejected CPU idx (not 0): the board removes it. */
    void (*eject)(void *opaque, unsigned idx);
    void *opaque;
    /* The guest reported _OST status for CPU idx (ost_ev/ost_st[idx]):
     * the board sends QMP ACPI_DEVICE_OST. NULL: nobody listens. Set
     * after x86_cpuhp_init. */
    void (*ost)(void *opaque, unsigned idx);
    /* guest-visible state, migrated */
    uint32_t selector;
    uint32_t command;
    uint32_t ost_event, ost_status; /* the last _OST written, any CPU */
    uint8_t flags[X86_CPUHP_MAX];
    /* each CPU's last _OST (query-acpi-ospm-status), state version 3 */
    uint32_t ost_ev[X86_CPUHP_MAX], ost_st[X86_CPUHP_MAX];
} x86_cpuhp;

/* max_cpus possible CPUs (clamped to X86_CPUHP_MAX), apic_id[i] each;
 * none present yet. */
void x86_cpuhp_init(x86_cpuhp *hp, unsigned max_cpus, const uint32_t *apic_id,
                    void (*eject)(void *opaque, unsigned idx), void *opaque);
/* Offsets within the block; any size 1..4. Guest values never fail. */
uint64_t x86_cpuhp_read(x86_cpuhp *hp, uint64_t off, unsigned size);
void x86_cpuhp_write(x86_cpuhp *hp, uint64_t off, uint64_t val, unsigned size);
/* CPU idx is there; with an insert event for the guest when hot. */
void x86_cpuhp_plug(x86_cpuhp *hp, unsigned idx, bool hot);
/* device_del: a remove event. false: idx is not a present CPU. */
bool x86_cpuhp_unplug_request(x86_cpuhp *hp, unsigned idx);
/* System reset: the tables now list every present CPU, so pending
 * insert events go; remove requests stay (QEMU's device_del too). */
void x86_cpuhp_reset(x86_cpuhp *hp);
/* Loaded state from a stream is guest input too: false when it names
 * events of CPUs that are not there. */
bool x86_cpuhp_state_ok(const x86_cpuhp *hp);

/* ---- AML (cpu-hotplug-aml.c) ---- */
/* Device(\_SB.CPUS) (ACPI0010) with the register fields, CSTA, CEJ0,
 * COST, CTFY and CSCN, and one Device(Cnnn) (ACPI0007, _STA, _MAT, _EJ0
 * but on C000, _OST, _PXM with node[]) per possible CPU. Inside
 * Scope(\_SB). node: NULL without -numa. */
void x86_cpuhp_aml(aml *a, const x86_cpuhp *hp, const uint32_t *node);
/* Scope(\_GPE) { Method(_E02) { \_SB.CPUS.CSCN() } }, at the top level. */
void x86_cpuhp_aml_gpe(aml *a);

#endif
