/*
 * fuzz-nvdimm-dsm: the x86 boards' NVDIMM label _DSM page
 * (plugins/board-q35/nvdimm-acpi.c x86_nvdimm_dsm, what the board runs on
 * the guest's write to I/O 0x0a18): any page content, up to 4 modules
 * with or without a label area, several calls in a row on the same page
 * (the guest reuses it). And the DSDT's NVDR for that set of modules.
 *
 * Checks, per call: every label access the board makes lies inside the
 * module's label area and one transfer, for a module that has one; the
 * answer's length is 8..4096 and its status one of 0, 1, 3 (function 0
 * aside); a write touches nothing but the bytes asked for.
 *
 * Input: byte 0 the module count (0..4) and which have labels (bits
 * 4..7), then 4096-byte pages (the last one zero-padded).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "nvdimm-acpi.h"

#define LABEL (128u * 1024)

static uint8_t labels[4][LABEL];

static void fail(const char *what, unsigned v)
{
    fprintf(stderr, "fuzz-nvdimm-dsm: %s (%u)\n", what, v);
    abort();
}

static bool label_rw(void *opaque, unsigned idx, uint64_t off, void *buf, uint32_t len,
                     bool write)
{
    const x86_nvdimm *nvd = opaque;

    if (idx >= 4 || !nvd[idx].label_size) {
        fail("label access of a module without labels", idx);
    }
    if (off + len > nvd[idx].label_size || len > X86_NVDIMM_DSM_SIZE - 20) {
        fail("label access outside the area or over one transfer", (unsigned)off);
    }
    if (write) {
        memcpy(labels[idx] + off, buf, len);
    } else {
        memcpy(buf, labels[idx] + off, len);
    }
    return true;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void check_answer(const uint8_t *page, uint32_t func)
{
    uint32_t len = get32(page), status = get32(page + 4);

    if (len < 8 || len > X86_NVDIMM_DSM_SIZE) {
        fail("answer length out of 8..4096", len);
    }
    if (func != 0 && status != 0 && status != 1 && status != 3) {
        fail("unknown status", status);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t page[X86_NVDIMM_DSM_SIZE];
    x86_nvdimm nvd[4] = {{0}};
    unsigned n;
    aml a = {0};

    if (size < 1) {
        return 0;
    }
    n = data[0] % 5;
    for (unsigned i = 0; i < n; i++) {
        nvd[i] = (x86_nvdimm){.addr = (4ull + i) << 30, .size = 64u << 20,
                              .label_size = (data[0] >> (4 + i)) & 1 ? LABEL : 0};
    }
    x86_dsdt_nvdimm(&a, nvd, n);
    free(a.b);
    for (size_t at = 1; at < size; at += X86_NVDIMM_DSM_SIZE) {
        size_t take = size - at < X86_NVDIMM_DSM_SIZE ? size - at : X86_NVDIMM_DSM_SIZE;
        uint32_t func;

        memset(page, 0, sizeof(page));
        memcpy(page, data + at, take);
        func = get32(page + 8);
        x86_nvdimm_dsm(page, nvd, n, label_rw, nvd);
        check_answer(page, func);
    }
    return 0;
}
