/*
 * board-x86: direct Linux boot from a bzImage (boot.c), shared by the q35
 * (board-q35) and pc (board-pc) machines through a static library.
 */
#ifndef BOARD_X86_BOOT_H
#define BOARD_X86_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct q35_e820 {
    uint64_t addr, size;
    uint32_t type; /* 1 RAM, 2 reserved */
} q35_e820;
#define Q35_E820_MAX 16

typedef struct q35_boot_cfg {
    uint8_t *ram;                 /* host pointer to guest RAM [0, lowmem) */
    uint64_t lowmem, highmem;     /* RAM below 4 GiB, RAM from 4 GiB */
    const uint8_t *kernel;        /* the bzImage */
    size_t kernel_size;
    const uint8_t *initrd;        /* may be NULL */
    size_t initrd_size;
    const char *cmdline;          /* may be NULL */
    uint64_t rsdp;                /* ACPI RSDP address (0: none) */
    /* The board's e820 map (board-pc); NULL: q35's (q35_e820_build) */
    const q35_e820 *e820;
    unsigned e820_n;
} q35_boot_cfg;

/* Where the loader put things, and the entry state of vCPU 0. */
typedef struct q35_boot_info {
    uint64_t entry;               /* startup_64, physical */
    uint64_t boot_params;         /* the zero page (RSI) */
    uint64_t cr3, gdt_base;
    uint16_t gdt_limit;
    uint64_t kernel_start, kernel_end; /* incl. init_size */
    uint64_t initrd_addr;
    uint8_t *vmlinux;             /* decompressed image (malloc'd) */
    size_t vmlinux_size;
} q35_boot_info;

/* Decompress the bzImage's payload (host side) into info->vmlinux.
 * false with a one-line reason in err. */
bool q35_boot_prepare(const q35_boot_cfg *cfg, q35_boot_info *info, char *err, size_t errlen);
/* Copy the prepared kernel, initrd, command line, boot_params, GDT and
 * page tables into guest RAM (again at each reset). */
bool q35_boot_load(const q35_boot_cfg *cfg, q35_boot_info *info, char *err, size_t errlen);

#endif
