/*
 * The x86 boards' NVDIMM tables (nvdimm-acpi.c): no host dependency, so
 * the table tests link it alone.
 */
#ifndef BOARD_X86_NVDIMM_ACPI_H
#define BOARD_X86_NVDIMM_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "aml.h"

/* An NVDIMM the board placed: guest physical range. */
#define X86_MAX_NVDIMMS 32
typedef struct x86_nvdimm {
    uint64_t addr, size;
} x86_nvdimm;

/* The NFIT's bytes after its header for n modules (false: out of memory). */
bool x86_nfit_body(const x86_nvdimm *nvd, unsigned n, aml *t);
/* \_SB.NVDR (ACPI0012) with n module children NV00.. (inside \_SB). */
void x86_dsdt_nvdimm(aml *a, unsigned n);

#endif
