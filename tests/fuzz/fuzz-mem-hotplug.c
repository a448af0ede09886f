/*
 * fuzz-mem-hotplug: the x86 boards' ACPI memory hotplug register block
 * (plugins/board-q35/mem-hotplug.c, I/O 0x0a00 on q35 and pc) driven as a
 * guest and the board would: 1..4-byte reads and writes anywhere in (and
 * just past) the 24 bytes, with modules plugged (DIMMs and nvdimms, as
 * the board's devmem.c fills the slots), removal requested and ejected in
 * between; and the DSDT's \_SB.MHPC for the input's slot count.
 *
 * mem-hotplug.c and aml.c are compiled in (no host table: the block is
 * plain state the board's I/O callbacks forward to). Checks, per input:
 * an eject reaches the board once, for a DIMM that was in that slot (never
 * an nvdimm, never an empty slot, never twice), and leaves the slot
 * empty; a selector
 * past the slots reads 0 and changes nothing; an empty slot's flags read
 * 0; the AML's outer package length matches what was written.
 *
 * Input: byte 0 the slot count (0..31), then 4-byte operations: kind,
 * offset, size, value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem-hotplug.h"

#define MAX_SLOTS 32

static struct tes_device *devs; /* MAX_SLOTS fake device handles */
static int ejected[MAX_SLOTS];
static x86_memslot shadow[MAX_SLOTS];

static struct tes_device *dev_of(unsigned i)
{
    return (struct tes_device *)((char *)devs + i);
}

static void fail(const char *what, unsigned slot)
{
    fprintf(stderr, "fuzz-mem-hotplug: %s (slot %u)\n", what, slot);
    abort();
}

static void eject(void *opaque, struct tes_device *dev)
{
    x86_memhp *m = opaque;
    unsigned i = (unsigned)((char *)dev - (char *)devs);

    if (i >= m->nslots || shadow[i].dev != dev || shadow[i].nvdimm) {
        fail("eject of a device that is no DIMM in a slot", i);
    }
    if (m->slot[i].dev || m->slot[i].enabled) {
        fail("the slot still holds the ejected DIMM", i);
    }
    ejected[i]++;
    shadow[i].dev = NULL;
}

/* The board's side: plug (a DIMM or nvdimm), request removal. */
static void board_op(x86_memhp *m, uint8_t slot, uint8_t what)
{
    x86_memslot *s;

    if (!m->nslots) {
        return;
    }
    slot %= m->nslots;
    s = &m->slot[slot];
    if (what & 1) {
        if (!s->dev) {
            *s = (x86_memslot){.dev = dev_of(slot), .addr = 0x100000000ull + slot * (1ull << 28),
                               .size = 1ull << 27, .node = what >> 4,
                               .nvdimm = (what & 2) != 0, .enabled = !(what & 2),
                               .inserting = !(what & 2) && (what & 4)};
            shadow[slot] = *s;
        }
    } else if (s->dev && !s->nvdimm) {
        s->removing = true;
    }
}

static void check_selector(x86_memhp *m, uint32_t before_sel, const x86_memslot *before)
{
    if (before_sel < m->nslots) {
        return;
    }
    if (memcmp(before, m->slot, m->nslots * sizeof(*before)) != 0) {
        fail("a write through a selector past the slots changed a slot", before_sel);
    }
}

static void reg_access(x86_memhp *m, uint8_t kind, uint8_t off, uint8_t sz, uint8_t val)
{
    unsigned size = 1u << (sz & 3);
    uint64_t o = off % 28, v = (uint64_t)val * 0x01010101u;
    static x86_memslot before[MAX_SLOTS];

    if (size > 4) {
        size = 4;
    }
    if (kind & 1) {
        uint32_t sel = m->selector;

        if (o == 0 && size == 4 && (kind & 2)) {
            v = val % (m->nslots + 2); /* mostly valid selectors */
        }
        memcpy(before, m->slot, m->nslots * sizeof(*before));
        x86_memhp_write(m, o, v, size);
        if (o != 0) {
            check_selector(m, sel, before);
        }
        return;
    }
    v = x86_memhp_read(m, o, size);
    if (m->selector >= m->nslots && o + size <= 20 && v != 0) {
        fail("a selector past the slots reads non-zero", m->selector);
    }
    if (m->selector < m->nslots && !m->slot[m->selector].dev && o == 20 && (v & 0xff)) {
        fail("an empty slot reads flags", m->selector);
    }
}

static void aml_check(unsigned nslots)
{
    aml a = {0};

    x86_dsdt_memhp(&a, nslots);
    x86_dsdt_memhp_gpe(&a, nslots);
    if (!nslots && a.len) {
        fail("AML for no slots", 0);
    }
    if (nslots && (a.len < 3 || a.b[0] != AML_EXT || a.b[1] != 0x82)) {
        fail("MHPC is not a Device", nslots);
    }
    free(a.b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    x86_memslot slots[MAX_SLOTS];
    x86_memhp m = {0};

    if (!devs) {
        devs = malloc(MAX_SLOTS);
    }
    if (size < 1) {
        return 0;
    }
    memset(slots, 0, sizeof(slots));
    memset(shadow, 0, sizeof(shadow));
    memset(ejected, 0, sizeof(ejected));
    m = (x86_memhp){.nslots = data[0] % MAX_SLOTS, .slot = slots, .eject = eject};
    m.opaque = &m;
    aml_check(m.nslots);
    for (size_t i = 1; i + 4 <= size; i += 4) {
        if ((data[i] & 0xc0) == 0xc0) {
            board_op(&m, data[i + 1], data[i + 2]);
        } else {
            reg_access(&m, data[i], data[i + 1], data[i + 2], data[i + 3]);
        }
    }
    return 0;
}
