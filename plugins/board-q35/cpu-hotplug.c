/*
 * board-x86: the ACPI CPU hotplug register block (cpu-hotplug.h has the
 * register map, after QEMU's docs/specs/acpi_cpu_hotplug.rst). Pure state:
 * the board maps it and raises the GPE (x86-cpuhp.c).
 */
#include <string.h>

#include "cpu-hotplug.h"
#include "x86-trace.h"

void x86_cpuhp_init(x86_cpuhp *hp, unsigned max_cpus, const uint32_t *apic_id,
                    void (*eject)(void *opaque, unsigned idx), void *opaque)
{
    memset(hp, 0, sizeof(*hp));
    hp->max_cpus = max_cpus < X86_CPUHP_MAX ? max_cpus : X86_CPUHP_MAX;
    for (unsigned i = 0; i < hp->max_cpus; i++) {
        hp->apic_id[i] = apic_id ? apic_id[i] : i;
    }
    hp->eject = eject;
    hp->opaque = opaque;
}

static bool selected(const x86_cpuhp *hp)
{
    return hp->selector < hp->max_cpus;
}

/* The block as the guest reads it, byte by byte. */
static uint8_t reg_byte(const x86_cpuhp *hp, unsigned o)
{
    uint32_t data = 0;

    if (!selected(hp)) {
        return 0;
    }
    if (o == 4) {
        return hp->flags[hp->selector] & (CPUHP_PRESENT | CPUHP_INSERT | CPUHP_REMOVE);
    }
    if (o >= 8 && o < 12) {
        if (hp->command == CPUHP_CMD_NEXT_EVENT) {
            data = hp->selector;
        } else if (hp->command == CPUHP_CMD_ARCH_ID) {
            data = hp->apic_id[hp->selector];
        }
        return (uint8_t)(data >> (8 * (o - 8)));
    }
    return 0; /* [0..3]: the APIC ID's upper half (0); [5..7] */
}

static void trace_read(const x86_cpuhp *hp, uint64_t off, uint64_t v)
{
    if (!selected(hp)) {
        trace_cpuhp_acpi_invalid_idx_selected(hp->selector);
    } else if (off == 4) {
        trace_cpuhp_acpi_read_flags(hp->selector, (uint8_t)v);
    } else if (off == 8) {
        trace_cpuhp_acpi_read_cmd_data(hp->selector, (uint32_t)v);
    }
}

uint64_t x86_cpuhp_read(x86_cpuhp *hp, uint64_t off, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size && i < 8; i++) {
        if (off + i < X86_CPUHP_LEN) {
            v |= (uint64_t)reg_byte(hp, (unsigned)(off + i)) << (8 * i);
        }
    }
    trace_read(hp, off, v);
    return v;
}

/* Command 0: the next CPU with an event, from the selector on. */
static void select_next_event(x86_cpuhp *hp)
{
    unsigned start = selected(hp) ? hp->selector : 0;

    for (unsigned n = 0; n < hp->max_cpus; n++) {
        unsigned i = (start + n) % hp->max_cpus;

        if (hp->flags[i] & (CPUHP_INSERT | CPUHP_REMOVE)) {
            hp->selector = i;
            return;
        }
    }
}

/* The control byte: one action per write, in QEMU's order. */
static void control_write(x86_cpuhp *hp, uint8_t v)
{
    uint8_t *f;

    if (!selected(hp)) {
        trace_cpuhp_acpi_invalid_idx_selected(hp->selector);
        return;
    }
    f = &hp->flags[hp->selector];
    if (v & 2) {
        trace_cpuhp_acpi_clear_inserting_evt(hp->selector);
        *f &= (uint8_t)~CPUHP_INSERT;
    } else if (v & 4) {
        trace_cpuhp_acpi_clear_remove_evt(hp->selector);
        *f &= (uint8_t)~CPUHP_REMOVE;
    } else if ((v & 8) && (hp->selector == 0 || !(*f & CPUHP_PRESENT))) {
        trace_cpuhp_acpi_ejecting_invalid_cpu(hp->selector);
    } else if (v & 8) {
        /* _EJ0: the boot CPU stays (Linux never offers it). */
        trace_cpuhp_acpi_ejecting_cpu(hp->selector);
        *f = 0;
        if (hp->eject) {
            hp->eject(hp->opaque, hp->selector);
        }
    }
}

/* _OST (COST in the DSDT) writes the event, then the status: QEMU sends
 * ACPI_DEVICE_OST on the status, and so do we. */
static void data_write(x86_cpuhp *hp, uint32_t v)
{
    if (hp->command == CPUHP_CMD_OST_EVENT) {
        trace_cpuhp_acpi_write_ost_ev(hp->selector, v);
        hp->ost_event = v;
        if (selected(hp)) {
            hp->ost_ev[hp->selector] = v;
        }
    } else if (hp->command == CPUHP_CMD_OST_STATUS) {
        trace_cpuhp_acpi_write_ost_status(hp->selector, v);
        hp->ost_status = v;
        if (selected(hp)) {
            hp->ost_st[hp->selector] = v;
            if (hp->ost) {
                hp->ost(hp->opaque, hp->selector);
            }
        }
    }
}

void x86_cpuhp_write(x86_cpuhp *hp, uint64_t off, uint64_t val, unsigned size)
{
    if (!hp->max_cpus) {
        return;
    }
    switch (off) {
    case 0:
        hp->selector = (uint32_t)val;
        trace_cpuhp_acpi_write_idx(hp->selector);
        break;
    case 4:
        control_write(hp, (uint8_t)val);
        if (size > 1) {
            x86_cpuhp_write(hp, 5, val >> 8, 1);
        }
        break;
    case 5:
        hp->command = (uint8_t)val;
        trace_cpuhp_acpi_write_cmd(hp->selector, hp->command);
        if (hp->command == CPUHP_CMD_NEXT_EVENT) {
            select_next_event(hp);
        }
        break;
    case 8:
        data_write(hp, (uint32_t)val);
        break;
    default:
        break; /* reserved */
    }
}

void x86_cpuhp_plug(x86_cpuhp *hp, unsigned idx, bool hot)
{
    if (idx < hp->max_cpus) {
        hp->flags[idx] = (uint8_t)(CPUHP_PRESENT | (hot ? CPUHP_INSERT : 0));
    }
}

bool x86_cpuhp_unplug_request(x86_cpuhp *hp, unsigned idx)
{
    if (idx >= hp->max_cpus || !(hp->flags[idx] & CPUHP_PRESENT)) {
        return false;
    }
    hp->flags[idx] |= CPUHP_REMOVE;
    return true;
}

void x86_cpuhp_reset(x86_cpuhp *hp)
{
    for (unsigned i = 0; i < hp->max_cpus; i++) {
        hp->flags[i] &= (uint8_t)~CPUHP_INSERT;
    }
    hp->selector = 0;
    hp->command = 0;
}

bool x86_cpuhp_state_ok(const x86_cpuhp *hp)
{
    for (unsigned i = 0; i < X86_CPUHP_MAX; i++) {
        uint8_t f = hp->flags[i];

        if ((f & ~(CPUHP_PRESENT | CPUHP_INSERT | CPUHP_REMOVE)) ||
            ((f & (CPUHP_INSERT | CPUHP_REMOVE)) && !(f & CPUHP_PRESENT)) ||
            (f && i >= hp->max_cpus)) {
            return false;
        }
    }
    return true;
}
