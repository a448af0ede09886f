/*
 * The x86 boards' NVDIMM tables (nvdimm-acpi.c): no host dependency, so
 * the table tests link it alone.
 */
#ifndef BOARD_X86_NVDIMM_ACPI_H
#define BOARD_X86_NVDIMM_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "aml.h"

/* An NVDIMM the board placed: guest physical range, its label area. */
#define X86_MAX_NVDIMMS 32
typedef struct x86_nvdimm {
    uint64_t addr, size;
    uint64_t label_size; /* 0: label-less */
} x86_nvdimm;

/* The NFIT's bytes after its header for n modules (false: out of memory). */
bool x86_nfit_body(const x86_nvdimm *nvd, unsigned n, aml *t);
/* \_SB.NVDR (ACPI0012) with n module children NV00.. (inside \_SB); the
 * modules with a label area (nvd NULL: none) get the _DSM below. */
void x86_dsdt_nvdimm(aml *a, const x86_nvdimm *nvd, unsigned n);

/* ---- the _DSM of modules with labels (QEMU's docs/specs/acpi_nvdimm.rst
 * protocol): NVnn._DSM copies its arguments into a 4 KiB page at
 * X86_NVDIMM_DSM_PAGE, writes the page's address to the I/O port
 * X86_NVDIMM_DSM_IO and returns the answer the board left in the page.
 *   in:  [0] NFIT handle, [4] revision, [8] function, [12..] Arg3's
 *        first buffer (function 5: offset, length; 6: offset, length,
 *        data)
 *   out: [0] length of the answer (this field included), [4..] the
 *        answer: function 0, the supported functions bitmap; else a
 *        status (0 success, 1 not supported, 3 invalid input) and data
 * The page is the board's RAM, outside the guest's RAM (E820 has no
 * entry over it): the guest maps it through the DSDT's OperationRegion. */
#define X86_NVDIMM_DSM_IO 0x0a18u
#define X86_NVDIMM_DSM_IO_LEN 4u
#define X86_NVDIMM_DSM_PAGE 0xfef00000ull
#define X86_NVDIMM_DSM_SIZE 4096u

/* Label access of module idx (0-based, the NFIT's handle - 1): read or
 * write len bytes at off; false on failure. */
typedef bool (*x86_nvdimm_label_fn)(void *opaque, unsigned idx, uint64_t off, void *buf,
                                    uint32_t len, bool write);
/* Answer the request in page (X86_NVDIMM_DSM_SIZE bytes) in place. Any
 * content is guest input: never fails, never reads or writes outside. */
void x86_nvdimm_dsm(uint8_t *page, const x86_nvdimm *nvd, unsigned n, x86_nvdimm_label_fn fn,
                    void *opaque);

#endif
