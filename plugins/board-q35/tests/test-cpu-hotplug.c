/*
 * The ACPI CPU hotplug register block alone (cpu-hotplug.c compiled in):
 * the register map of QEMU's docs/specs/acpi_cpu_hotplug.rst as the DSDT's
 * CSCN, CSTA, CEJ0 and COST use it.
 */
#include <glib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cpu-hotplug.h"
#include "mem-hotplug.h"
#include "x86-trace.h"

enum { SEL = 0, FLAGS = 4, CMD = 5, DATA = 8 };

static unsigned ejected[8], n_ejected;

static void on_eject(void *opaque, unsigned idx)
{
    g_assert_true(opaque == &n_ejected);
    ejected[n_ejected++ % 8] = idx;
}

/* 4 possible CPUs with APIC IDs 0, 2, 4, 6; 0 and 1 present. */
static void setup(x86_cpuhp *hp)
{
    static const uint32_t ids[4] = {0, 2, 4, 6};

    n_ejected = 0;
    x86_cpuhp_init(hp, 4, ids, on_eject, &n_ejected);
    x86_cpuhp_plug(hp, 0, false);
    x86_cpuhp_plug(hp, 1, false);
}

static unsigned status_of(x86_cpuhp *hp, unsigned idx)
{
    x86_cpuhp_write(hp, SEL, idx, 4);
    return (unsigned)x86_cpuhp_read(hp, FLAGS, 1);
}

static void test_status(void)
{
    x86_cpuhp hp;

    setup(&hp);
    g_assert_cmphex(status_of(&hp, 0), ==, 1);
    g_assert_cmphex(status_of(&hp, 2), ==, 0);
    x86_cpuhp_plug(&hp, 2, true);
    g_assert_cmphex(status_of(&hp, 2), ==, 3); /* enabled, insert event */
    g_assert_cmphex(status_of(&hp, 4), ==, 0); /* beyond maxcpus: nothing */
    g_assert_cmphex(x86_cpuhp_read(&hp, DATA, 4), ==, 0);
}

/* Command 0 moves the selector to the next CPU with an event (wrapping),
 * and leaves it when there is none; data reads the selector. */
static void test_next_event(void)
{
    x86_cpuhp hp;

    setup(&hp);
    x86_cpuhp_write(&hp, SEL, 1, 4);
    x86_cpuhp_write(&hp, CMD, CPUHP_CMD_NEXT_EVENT, 1);
    g_assert_cmpuint(x86_cpuhp_read(&hp, DATA, 4), ==, 1);
    x86_cpuhp_plug(&hp, 3, true);
    g_assert_true(x86_cpuhp_unplug_request(&hp, 0));
    x86_cpuhp_write(&hp, CMD, CPUHP_CMD_NEXT_EVENT, 1);
    g_assert_cmpuint(x86_cpuhp_read(&hp, DATA, 4), ==, 3);
    g_assert_cmphex(x86_cpuhp_read(&hp, FLAGS, 1), ==, 3);
    x86_cpuhp_write(&hp, FLAGS, 2, 1); /* clear the insert event */
    g_assert_cmphex(x86_cpuhp_read(&hp, FLAGS, 1), ==, 1);
    x86_cpuhp_write(&hp, CMD, CPUHP_CMD_NEXT_EVENT, 1);
    g_assert_cmpuint(x86_cpuhp_read(&hp, DATA, 4), ==, 0); /* wrapped to CPU 0 */
    g_assert_cmphex(x86_cpuhp_read(&hp, FLAGS, 1), ==, 5); /* remove event */
    x86_cpuhp_write(&hp, FLAGS, 4, 1);
    g_assert_cmphex(x86_cpuhp_read(&hp, FLAGS, 1), ==, 1);
}

/* Eject: the board hears of CPUs but the boot one, which stays; an absent
 * CPU cannot be ejected or asked to be unplugged. */
static void test_eject(void)
{
    x86_cpuhp hp;

    setup(&hp);
    x86_cpuhp_write(&hp, SEL, 0, 4);
    x86_cpuhp_write(&hp, FLAGS, 8, 1);
    g_assert_cmpuint(n_ejected, ==, 0);
    g_assert_cmphex(status_of(&hp, 0), ==, 1);
    g_assert_false(x86_cpuhp_unplug_request(&hp, 2));
    x86_cpuhp_write(&hp, SEL, 2, 4);
    x86_cpuhp_write(&hp, FLAGS, 8, 1);
    g_assert_cmpuint(n_ejected, ==, 0);
    g_assert_true(x86_cpuhp_unplug_request(&hp, 1));
    x86_cpuhp_write(&hp, SEL, 1, 4);
    x86_cpuhp_write(&hp, FLAGS, 8, 1);
    g_assert_cmpuint(n_ejected, ==, 1);
    g_assert_cmpuint(ejected[0], ==, 1);
    g_assert_cmphex(status_of(&hp, 1), ==, 0);
}

static void test_arch_id_and_ost(void)
{
    x86_cpuhp hp;

    setup(&hp);
    x86_cpuhp_write(&hp, SEL, 3, 4);
    x86_cpuhp_write(&hp, CMD, CPUHP_CMD_ARCH_ID, 1);
    g_assert_cmpuint(x86_cpuhp_read(&hp, DATA, 4), ==, 6);
    g_assert_cmpuint(x86_cpuhp_read(&hp, SEL, 4), ==, 0); /* upper half */
    x86_cpuhp_write(&hp, CMD, CPUHP_CMD_OST_EVENT, 1);
    x86_cpuhp_write(&hp, DATA, 3, 4);
    x86_cpuhp_write(&hp, CMD, CPUHP_CMD_OST_STATUS, 1);
    x86_cpuhp_write(&hp, DATA, 0x80, 4);
    g_assert_cmpuint(hp.ost_event, ==, 3);
    g_assert_cmpuint(hp.ost_status, ==, 0x80);
}

static unsigned ost_calls, ost_last;

static void on_ost(void *opaque, unsigned idx)
{
    ost_calls++;
    ost_last = idx;
}

/* COST writes the event then the status: one report per status write
 * (QEMU's ACPI_DEVICE_OST), kept per CPU for query-acpi-ospm-status. */
static void test_ost_reports_per_cpu(void)
{
    x86_cpuhp hp;

    setup(&hp);
    hp.ost = on_ost;
    ost_calls = 0;
    x86_cpuhp_write(&hp, SEL, 2, 4);
    x86_cpuhp_write(&hp, CMD, CPUHP_CMD_OST_EVENT, 1);
    x86_cpuhp_write(&hp, DATA, 1, 4);
    g_assert_cmpuint(ost_calls, ==, 0); /* the event alone is no report */
    x86_cpuhp_write(&hp, CMD, CPUHP_CMD_OST_STATUS, 1);
    x86_cpuhp_write(&hp, DATA, 0, 4);
    g_assert_cmpuint(ost_calls, ==, 1);
    g_assert_cmpuint(ost_last, ==, 2);
    x86_cpuhp_write(&hp, SEL, 3, 4);
    x86_cpuhp_write(&hp, CMD, CPUHP_CMD_OST_EVENT, 1);
    x86_cpuhp_write(&hp, DATA, 3, 4);
    x86_cpuhp_write(&hp, CMD, CPUHP_CMD_OST_STATUS, 1);
    x86_cpuhp_write(&hp, DATA, 0x80, 4);
    g_assert_cmpuint(ost_calls, ==, 2);
    g_assert_cmpuint(ost_last, ==, 3);
    g_assert_cmpuint(hp.ost_ev[2], ==, 1);
    g_assert_cmpuint(hp.ost_st[2], ==, 0);
    g_assert_cmpuint(hp.ost_ev[3], ==, 3);
    g_assert_cmpuint(hp.ost_st[3], ==, 0x80);
    /* A selector past maxcpus reports nothing and stores nothing. */
    x86_cpuhp_write(&hp, SEL, 9, 4);
    x86_cpuhp_write(&hp, DATA, 5, 4);
    g_assert_cmpuint(ost_calls, ==, 2);
}

/* The memory block: _OST status of the selected slot is one report; a
 * selector past the slots none. */
static void test_mem_ost_reports(void)
{
    x86_memslot slots[2] = {{0}};
    x86_memhp m = {.nslots = 2, .slot = slots, .ost = on_ost};

    ost_calls = 0;
    x86_memhp_write(&m, 0, 1, 4);
    x86_memhp_write(&m, 4, 1, 4);
    g_assert_cmpuint(ost_calls, ==, 0);
    x86_memhp_write(&m, 8, 0, 4);
    g_assert_cmpuint(ost_calls, ==, 1);
    g_assert_cmpuint(ost_last, ==, 1);
    g_assert_cmpuint(slots[1].ost_event, ==, 1);
    g_assert_cmpuint(slots[1].ost_status, ==, 0);
    x86_memhp_write(&m, 0, 7, 4);
    x86_memhp_write(&m, 8, 0, 4);
    g_assert_cmpuint(ost_calls, ==, 1);
}

static struct tes_device *mem_ejected;

static void on_mem_eject(void *opaque, struct tes_device *dev)
{
    mem_ejected = dev;
}

/* _EJ0 after _OST: the slot empties (reads 0, the board told once) but
 * keeps the codes the guest wrote, as QEMU's, for query-acpi-ospm-status. */
static void test_mem_eject_keeps_ost(void)
{
    static char dimm;
    x86_memslot slots[2] = {{0}};
    x86_memhp m = {.nslots = 2, .slot = slots, .eject = on_mem_eject};

    slots[1] = (x86_memslot){.dev = (struct tes_device *)&dimm, .addr = 1ull << 32,
                             .size = 128 << 20, .enabled = true, .removing = true};
    mem_ejected = NULL;
    x86_memhp_write(&m, 0, 1, 4);
    x86_memhp_write(&m, 0x14, 4, 1);
    x86_memhp_write(&m, 4, 3, 4);
    x86_memhp_write(&m, 8, 0x80, 4);
    x86_memhp_write(&m, 0x14, 8, 1);
    g_assert_true(mem_ejected == (struct tes_device *)&dimm);
    g_assert_cmphex(x86_memhp_read(&m, 0x14, 1), ==, 0);
    g_assert_cmphex(x86_memhp_read(&m, 0, 4), ==, 0);
    g_assert_null(slots[1].dev);
    g_assert_cmpuint(slots[1].ost_event, ==, 3);
    g_assert_cmpuint(slots[1].ost_status, ==, 0x80);
}

/* What migrates is guest input on load: events of absent CPUs, unknown
 * bits or CPUs beyond maxcpus are refused. Reset drops insert events. */
static void test_state_checks(void)
{
    x86_cpuhp hp;

    setup(&hp);
    x86_cpuhp_plug(&hp, 2, true);
    g_assert_true(x86_cpuhp_state_ok(&hp));
    hp.flags[3] = CPUHP_INSERT;
    g_assert_false(x86_cpuhp_state_ok(&hp));
    hp.flags[3] = 0x80 | CPUHP_PRESENT;
    g_assert_false(x86_cpuhp_state_ok(&hp));
    hp.flags[3] = 0;
    hp.flags[5] = CPUHP_PRESENT;
    g_assert_false(x86_cpuhp_state_ok(&hp));
    hp.flags[5] = 0;
    x86_cpuhp_unplug_request(&hp, 1);
    x86_cpuhp_reset(&hp);
    g_assert_cmphex(hp.flags[2], ==, CPUHP_PRESENT);
    g_assert_cmphex(hp.flags[1], ==, CPUHP_PRESENT | CPUHP_REMOVE);
}

/* Odd sizes and offsets, and a block with no CPUs, do nothing harmful. */
static void test_odd_accesses(void)
{
    x86_cpuhp hp = {0};

    x86_cpuhp_write(&hp, FLAGS, 8, 1);
    g_assert_cmpuint(x86_cpuhp_read(&hp, 11, 4), ==, 0);
    setup(&hp);
    x86_cpuhp_write(&hp, SEL, 0xffffffff, 4);
    x86_cpuhp_write(&hp, FLAGS, 0xff, 2);
    x86_cpuhp_write(&hp, CMD, CPUHP_CMD_NEXT_EVENT, 1);
    g_assert_cmpuint(hp.selector, ==, 0xffffffff); /* no event: it stays */
    g_assert_cmpuint(x86_cpuhp_read(&hp, DATA, 4), ==, 0);
    g_assert_cmpuint(x86_cpuhp_read(&hp, 10, 4), ==, 0);
    g_assert_cmpuint(n_ejected, ==, 0);
}

/* s in the AML bytes (which hold NULs: no strstr). */
static bool has(const aml *a, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i + n <= a->len; i++) {
        if (memcmp(a->b + i, s, n) == 0) {
            return true;
        }
    }
    return false;
}

/* The AML names what the guest needs; iasl checks the rest
 * (test-cpu-hotplug-machine.py). */
static void test_aml(void)
{
    x86_cpuhp hp;
    aml a = {0};

    setup(&hp);
    x86_cpuhp_aml(&a, &hp, NULL);
    x86_cpuhp_aml_gpe(&a);
    g_assert_false(a.oom);
    g_assert_true(has(&a, "ACPI0010"));
    g_assert_true(has(&a, "CSCN"));
    g_assert_true(has(&a, "C003"));
    g_assert_false(has(&a, "C004"));
    g_assert_true(has(&a, "_E02"));
    free(a.b);
}

/* ---- trace points: QEMU's cpuhp_acpi_* and mhp_acpi_* lines (a host
 * with only trace_emit, the events switched on as the core would) ---- */

static GString *trace_log;

static void capture(const tes_trace_event *ev, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_string_append_vprintf(trace_log, fmt, ap);
    va_end(ap);
    g_string_append_c(trace_log, '\n');
}

/* Events whose names start with prefix on, into trace_log. */
static void trace_start(const char *prefix)
{
    static tes_host host = {.size = sizeof(tes_host), .trace_emit = capture};

    trace_log = g_string_new(NULL);
    x86_trace_host = &host;
    for (unsigned i = 0; i < TES_TRACE_COUNT_; i++) {
        x86_trace_events[i].state = g_str_has_prefix(x86_trace_events[i].name, prefix);
    }
}

static void trace_stop(void)
{
    for (unsigned i = 0; i < TES_TRACE_COUNT_; i++) {
        x86_trace_events[i].state = 0;
    }
    g_string_free(trace_log, TRUE);
}

static void test_trace(void)
{
    x86_cpuhp hp;

    trace_start("cpuhp_");
    setup(&hp);
    g_assert_cmphex(status_of(&hp, 1), ==, 1);
    x86_cpuhp_write(&hp, CMD, 3, 1); /* 3: the arch id */
    g_assert_cmphex(x86_cpuhp_read(&hp, DATA, 4), ==, 2);
    g_assert_true(x86_cpuhp_unplug_request(&hp, 1));
    x86_cpuhp_write(&hp, FLAGS, 8, 1);
    x86_cpuhp_write(&hp, SEL, 9, 4);
    x86_cpuhp_read(&hp, FLAGS, 1);
    g_assert_cmpstr(trace_log->str, ==,
                    "cpuhp_acpi_write_idx set active cpu idx: 0x1\n"
                    "cpuhp_acpi_read_flags idx[0x1] flags: 0x1\n"
                    "cpuhp_acpi_write_cmd idx[0x1] cmd: 0x3\n"
                    "cpuhp_acpi_read_cmd_data idx[0x1] data: 0x2\n"
                    "cpuhp_acpi_ejecting_cpu 0x1\n"
                    "cpuhp_acpi_write_idx set active cpu idx: 0x9\n"
                    "cpuhp_acpi_invalid_idx_selected 0x9\n");
    trace_stop();
}

/* The memory block as Linux's acpi_memhotplug drives it after a plug:
 * MSCN reads the flags and clears the insert event, _OST reports, _CRS
 * reads the range; later _EJ0 ejects the DIMM. */
static void test_mem_trace(void)
{
    x86_memslot slots[2] = {{0}, {.dev = (struct tes_device *)&n_ejected,
                                  .addr = 0x140000000ull, .size = 0x10000000,
                                  .enabled = true, .inserting = true}};
    x86_memhp m = {.nslots = 2, .slot = slots};

    trace_start("mhp_acpi_");
    x86_memhp_write(&m, 0, 1, 4);
    g_assert_cmphex(x86_memhp_read(&m, 20, 1), ==, 3);
    x86_memhp_write(&m, 20, 2, 1);
    x86_memhp_write(&m, 4, 1, 4);
    x86_memhp_write(&m, 8, 0, 4);
    g_assert_cmphex(x86_memhp_read(&m, 4, 4), ==, 1);
    x86_memhp_write(&m, 20, 8, 1);
    g_assert_null(slots[1].dev);
    x86_memhp_write(&m, 0, 5, 4);
    g_assert_cmphex(x86_memhp_read(&m, 20, 1), ==, 0);
    g_assert_cmpstr(trace_log->str, ==,
                    "mhp_acpi_write_slot set active slot: 0x1\n"
                    "mhp_acpi_read_flags slot[0x1] flags: 0x3\n"
                    "mhp_acpi_clear_insert_evt slot[0x1] clear insert event\n"
                    "mhp_acpi_write_ost_ev slot[0x1] OST EVENT: 0x1\n"
                    "mhp_acpi_write_ost_status slot[0x1] OST STATUS: 0x0\n"
                    "mhp_acpi_read_reg slot[0x1] reg 0x4: 0x1\n"
                    "mhp_acpi_pc_dimm_deleted slot[0x1] pc-dimm deleted\n"
                    "mhp_acpi_write_slot set active slot: 0x5\n"
                    "mhp_acpi_invalid_slot_selected 0x5\n");
    trace_stop();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu-hotplug/regs/status-reads-present-and-insert", test_status);
    g_test_add_func("/cpu-hotplug/regs/next-event-selects-and-clears", test_next_event);
    g_test_add_func("/cpu-hotplug/regs/eject-spares-boot-and-absent-cpus", test_eject);
    g_test_add_func("/cpu-hotplug/regs/arch-id-and-ost", test_arch_id_and_ost);
    g_test_add_func("/cpu-hotplug/regs/ost-status-reports-per-cpu", test_ost_reports_per_cpu);
    g_test_add_func("/mem-hotplug/regs/ost-status-reports-the-slot", test_mem_ost_reports);
    g_test_add_func("/mem-hotplug/regs/eject-empties-the-slot-keeps-ost",
                    test_mem_eject_keeps_ost);
    g_test_add_func("/cpu-hotplug/state/load-checks-and-reset", test_state_checks);
    g_test_add_func("/cpu-hotplug/regs/odd-accesses-harmless", test_odd_accesses);
    g_test_add_func("/cpu-hotplug/aml/names-cpus-and-gpe", test_aml);
    g_test_add_func("/cpu-hotplug/trace/qemu-cpuhp-acpi-lines", test_trace);
    g_test_add_func("/mem-hotplug/trace/qemu-mhp-acpi-lines", test_mem_trace);
    return g_test_run();
}
