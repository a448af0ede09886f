/*
 * fuzz-cpu-hotplug: the x86 boards' ACPI CPU hotplug register block
 * (plugins/board-q35/cpu-hotplug.c, compiled in: it touches no host
 * table) driven as the guest's AML and the host's device_add/device_del
 * would, plus the AML and MADT writers for any maxcpus.
 *
 * Input: byte 0 is maxcpus (1..X86_CPUHP_MAX), then 6-byte operations:
 * op, a, b, c, d, e:
 *   0 guest write (offset a % 16, value b..e, size 1, 2 or 4)
 *   1 guest read (offset a % 16, size 1..4)
 *   2 device_add of CPU a (hot when b is odd)
 *   3 device_del of CPU a
 *   4 system reset
 *   5 migration: the flags b..e poked at CPU a, kept only when the load
 *     check accepts them (as the board's post_load refuses the rest)
 *   6 the DSDT part and the MADT for the current state
 * Invariants: guest accesses never make the state one the load check
 * refuses; only present CPUs other than 0 are ejected and they are absent
 * after; reads never have bits beyond the register's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "cpu-hotplug.h"

static unsigned n_ejected;

static void on_eject(void *opaque, unsigned idx)
{
    x86_cpuhp *hp = opaque;

    /* control_write clears the flags before telling the board */
    if (idx == 0 || idx >= hp->max_cpus || hp->flags[idx]) {
        fprintf(stderr, "fuzz-cpu-hotplug: eject of CPU %u (flags 0x%x)\n", idx,
                hp->flags[idx < X86_CPUHP_MAX ? idx : 0]);
        abort();
    }
    n_ejected++;
}

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz-cpu-hotplug: %s\n", what);
        abort();
    }
}

static void dsdt_body(aml *a, const void *opaque)
{
    x86_cpuhp_aml(a, opaque, NULL);
}

/* The DSDT part and the whole table set (MADT from the flags). */
static void tables(x86_cpuhp *hp)
{
    acpi_board b = {.ncpus = 1, .cpuhp = hp, .dsdt_body = dsdt_body, .opaque = hp};
    aml a = {0};
    size_t len = 256 * 1024;
    uint8_t *buf = malloc(len);

    x86_cpuhp_aml_gpe(&a);
    check(!a.oom, "AML writer out of memory");
    free(a.b);
    check(buf && acpi_build(&b, buf, 0xe0000, len) > 0, "the tables do not fit in 256 KiB");
    free(buf);
}

static void step(x86_cpuhp *hp, const uint8_t *p)
{
    static const unsigned sizes[4] = {1, 2, 4, 4};
    uint32_t v = (uint32_t)p[2] | (uint32_t)p[3] << 8 | (uint32_t)p[4] << 16 |
                 (uint32_t)p[5] << 24;
    unsigned idx = p[1] % (hp->max_cpus + 1); /* one beyond, too */
    x86_cpuhp saved;

    switch (p[0] % 7) {
    case 0:
        x86_cpuhp_write(hp, p[1] % 16, v, sizes[p[2] & 3]);
        check(x86_cpuhp_state_ok(hp), "a guest write left a state the load refuses");
        break;
    case 1:
        if ((p[1] % 16) == 4) {
            check((x86_cpuhp_read(hp, 4, 1) & ~7ull) == 0, "status has unknown bits");
        }
        x86_cpuhp_read(hp, p[1] % 16, 1 + p[2] % 4);
        break;
    case 2:
        x86_cpuhp_plug(hp, idx, p[2] & 1);
        break;
    case 3:
        check(x86_cpuhp_unplug_request(hp, idx) ==
              (idx < hp->max_cpus && (hp->flags[idx] & CPUHP_PRESENT)),
              "unplug request of an absent CPU accepted");
        break;
    case 4:
        x86_cpuhp_reset(hp);
        break;
    case 5:
        saved = *hp;
        memcpy(&hp->flags[p[1] % (X86_CPUHP_MAX - 3)], p + 2, 4);
        if (!x86_cpuhp_state_ok(hp)) {
            *hp = saved;
        }
        break;
    default:
        tables(hp);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static x86_cpuhp hp;
    uint32_t ids[X86_CPUHP_MAX];

    if (size < 1) {
        return 0;
    }
    for (unsigned i = 0; i < X86_CPUHP_MAX; i++) {
        ids[i] = i * 3;
    }
    x86_cpuhp_init(&hp, 1 + data[0] % X86_CPUHP_MAX, ids, on_eject, &hp);
    x86_cpuhp_plug(&hp, 0, false);
    for (size_t at = 1; at + 6 <= size; at += 6) {
        step(&hp, data + at);
    }
    return 0;
}
