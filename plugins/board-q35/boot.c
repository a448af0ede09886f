/*
 * board-q35: direct Linux boot for q35 (no firmware).
 *
 * The bzImage (Documentation/x86/boot.rst, protocol >= 2.12) is opened on
 * the host: its payload (payload_offset/payload_length: an .xz stream with
 * the uncompressed size appended, as arch/x86/boot/compressed/mkpiggy.c
 * writes it) is decompressed with liblzma into the vmlinux ELF, whose
 * PT_LOAD segments go to their physical addresses (LOAD_PHYSICAL_ADDR,
 * 16 MiB). That skips the ~4.5 G guest instructions of the in-guest XZ
 * decompressor. vCPU 0 then enters the kernel's own startup_64 (ELF
 * e_entry, physical) in long mode, as boot.rst's 64-bit protocol asks:
 * identity paging for the first 4 GiB, a GDT with flat __BOOT_CS (0x10,
 * 64-bit code) and __BOOT_DS (0x18), RSI = boot_params, interrupts off.
 *
 * Low memory (the kernel reserves the first MiB itself; APs' trampoline
 * goes there later): GDT 0x6000, boot_params 0x7000, page tables
 * 0x9000..0xefff, command line 0x20000. The initrd goes as high as
 * initrd_addr_max and RAM below 4 GiB allow, page aligned.
 */
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q35.h"

#define BOOT_GDT 0x6000u
#define BOOT_PARAMS 0x7000u
#define BOOT_PML4 0x9000u
#define BOOT_PDPT 0xa000u
#define BOOT_PD 0xb000u /* 4 pages: 4 GiB of 2 MiB pages */
#define BOOT_CMDLINE 0x20000u
#define BOOT_CMDLINE_MAX 0x10000u

/* Setup header fields (boot.rst, "THE REAL-MODE KERNEL HEADER"). */
#define HDR_START 0x1f1
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PAYLOAD_OFFSET 0x248
#define HDR_PAYLOAD_LENGTH 0x24c
#define HDR_INIT_SIZE 0x260
#define HDR_MIN_END 0x268
#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80

/* boot_params (the zero page, arch/x86/include/uapi/asm/bootparam.h). */
#define BP_ACPI_RSDP 0x070
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

#define E820_RAM 1
#define E820_RESERVED 2
#define LOW_RAM_END 0x9fc00ull /* below it: usable; EBDA/VGA/BIOS above */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static bool fail(char *err, size_t len, const char *msg)
{
    snprintf(err, len, "%s", msg);
    return false;
}

/* ---- e820 ---- */

static void e820_add(q35_e820 *map, unsigned *n, uint64_t addr, uint64_t size, uint32_t type)
{
    if (size && *n < Q35_E820_MAX) {
        map[(*n)++] = (q35_e820){addr, size, type};
    }
}

unsigned q35_e820_build(uint64_t lowmem, uint64_t highmem, q35_e820 *map)
{
    unsigned n = 0;

    e820_add(map, &n, 0, LOW_RAM_END, E820_RAM);
    /* EBDA, VGA window and the BIOS area, which holds the ACPI tables */
    e820_add(map, &n, LOW_RAM_END, 0x100000 - LOW_RAM_END, E820_RESERVED);
    e820_add(map, &n, 0x100000, lowmem - 0x100000, E820_RAM);
    /* Linux uses MMCONFIG only when the MCFG area is reserved here */
    e820_add(map, &n, Q35_ECAM_BASE, (uint64_t)Q35_ECAM_BUSES << 20, E820_RESERVED);
    e820_add(map, &n, Q35_IOAPIC_BASE, 0x1000, E820_RESERVED);
    e820_add(map, &n, Q35_LAPIC_BASE, 0x1000, E820_RESERVED);
    e820_add(map, &n, Q35_HIGHMEM_BASE, highmem, E820_RAM);
    return n;
}

/* ---- the bzImage and its payload ---- */

static bool check_header(const q35_boot_cfg *cfg, char *err, size_t len)
{
    const uint8_t *k = cfg->kernel;

    if (cfg->kernel_size < HDR_MIN_END + 4 || rd16(k + HDR_BOOT_FLAG) != 0xaa55 ||
        memcmp(k + HDR_MAGIC, "HdrS", 4) != 0) {
        return fail(err, len, "not an x86 bzImage (no HdrS setup header at 0x202)");
    }
    if (rd16(k + HDR_VERSION) < 0x020c) {
        snprintf(err, len, "boot protocol %u.%02u is too old: 2.12 or later is needed",
                 k[HDR_VERSION + 1], k[HDR_VERSION]);
        return false;
    }
    if (!(k[HDR_LOADFLAGS] & LOADED_HIGH)) {
        return fail(err, len, "a zImage (loaded low) is not supported: use a bzImage");
    }
    return true;
}

#define XZ_MEMLIMIT (128ull << 20)

/* The payload: an .xz stream followed by its uncompressed size (le32). */
static bool decompress(const q35_boot_cfg *cfg, q35_boot_info *info, char *err, size_t len)
{
    const uint8_t *k = cfg->kernel;
    unsigned sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
    uint64_t off = (uint64_t)(sects + 1) * 512 + rd32(k + HDR_PAYLOAD_OFFSET);
    uint64_t plen = rd32(k + HDR_PAYLOAD_LENGTH);
    /* Linux's xz payloads use a dictionary of at most 32 MiB (64 MiB of
     * decoder memory); the stream's header could ask for 4 GiB. */
    uint64_t memlimit = XZ_MEMLIMIT;
    size_t in_pos = 0, out_pos = 0;
    const uint8_t *p;

    if (plen < 16 || off + plen > cfg->kernel_size) {
        return fail(err, len, "payload_offset/payload_length point outside the file");
    }
    p = k + off;
    if (memcmp(p, "\xfd" "7zXZ\0", 6) != 0) {
        snprintf(err, len, "the payload is not xz-compressed (magic %02x %02x); only "
                 "CONFIG_KERNEL_XZ kernels are supported", p[0], p[1]);
        return false;
    }
    /* The size is the file's word: the kernel must fit in low RAM anyway
     * (elf_check), so a bigger one is refused before allocating it. */
    info->vmlinux_size = rd32(p + plen - 4);
    if (info->vmlinux_size < 64 || info->vmlinux_size > cfg->lowmem) {
        snprintf(err, len, "the payload says it decompresses to %zu bytes: not a kernel "
                 "that fits in %llu MiB of low RAM", info->vmlinux_size,
                 (unsigned long long)(cfg->lowmem >> 20));
        return false;
    }
    info->vmlinux = malloc(info->vmlinux_size);
    if (!info->vmlinux) {
        return fail(err, len, "out of memory for the decompressed kernel");
    }
    lzma_ret r = lzma_stream_buffer_decode(&memlimit, 0, NULL, p, &in_pos, plen - 4,
                                           info->vmlinux, &out_pos, info->vmlinux_size);
    if (r != LZMA_OK || out_pos != info->vmlinux_size) {
        snprintf(err, len, "xz payload does not decompress (liblzma error %d, %zu of %zu bytes)",
                 (int)r, out_pos, info->vmlinux_size);
        return false;
    }
    return true;
}

/* ---- the vmlinux ELF ---- */

#define PT_LOAD 1

typedef struct seg {
    uint64_t offset, paddr, filesz, memsz;
} seg;

static bool elf_seg(const q35_boot_info *info, unsigned i, seg *s)
{
    const uint8_t *e = info->vmlinux;
    uint64_t phoff = rd64(e + 0x20);
    unsigned phentsize = rd16(e + 0x36);
    const uint8_t *ph = e + phoff + (uint64_t)i * phentsize;

    if (rd32(ph) != PT_LOAD) {
        return false;
    }
    s->offset = rd64(ph + 0x08);
    s->paddr = rd64(ph + 0x18);
    s->filesz = rd64(ph + 0x20);
    s->memsz = rd64(ph + 0x28);
    return true;
}

/* Check the ELF and its segments; the kernel's extent in RAM. */
static bool elf_check(const q35_boot_cfg *cfg, q35_boot_info *info, char *err, size_t len)
{
    const uint8_t *e = info->vmlinux;
    unsigned phnum;
    seg s;

    if (info->vmlinux_size < 64 || memcmp(e, "\x7f" "ELF", 4) != 0 || e[4] != 2 ||
        rd16(e + 0x12) != 62) {
        return fail(err, len, "the decompressed payload is not an x86-64 ELF vmlinux");
    }
    /* Every sum of two file words below is checked as a difference: the
     * words are 64 bits and a sum can wrap (fuzz-loaders). */
    phnum = rd16(e + 0x38);
    if (rd64(e + 0x20) > info->vmlinux_size ||
        (uint64_t)phnum * rd16(e + 0x36) > info->vmlinux_size - rd64(e + 0x20) ||
        rd16(e + 0x36) < 56) {
        return fail(err, len, "vmlinux program headers are truncated");
    }
    info->entry = rd64(e + 0x18);
    info->kernel_start = UINT64_MAX;
    info->kernel_end = 0;
    for (unsigned i = 0; i < phnum; i++) {
        if (!elf_seg(info, i, &s)) {
            continue;
        }
        if (s.offset > info->vmlinux_size || s.filesz > info->vmlinux_size - s.offset ||
            s.filesz > s.memsz || s.paddr < 0x100000 || s.paddr > cfg->lowmem ||
            s.memsz > cfg->lowmem - s.paddr) {
            snprintf(err, len, "vmlinux segment at 0x%llx (+0x%llx) does not fit in RAM "
                     "below 0x%llx", (unsigned long long)s.paddr,
                     (unsigned long long)s.memsz, (unsigned long long)cfg->lowmem);
            return false;
        }
        info->kernel_start = s.paddr < info->kernel_start ? s.paddr : info->kernel_start;
        info->kernel_end = s.paddr + s.memsz > info->kernel_end ? s.paddr + s.memsz
                                                                : info->kernel_end;
    }
    if (info->kernel_end == 0) {
        return fail(err, len, "vmlinux has no PT_LOAD segment");
    }
    /* boot.rst: init_size bytes from the load address are the kernel's. */
    uint64_t init_end = info->kernel_start + rd32(cfg->kernel + HDR_INIT_SIZE);
    info->kernel_end = init_end > info->kernel_end ? init_end : info->kernel_end;
    if (info->kernel_end > cfg->lowmem) {
        return fail(err, len, "the kernel's init_size does not fit in RAM");
    }
    return true;
}

bool q35_boot_prepare(const q35_boot_cfg *cfg, q35_boot_info *info, char *err, size_t len)
{
    memset(info, 0, sizeof(*info));
    if (!check_header(cfg, err, len) || !decompress(cfg, info, err, len) ||
        !elf_check(cfg, info, err, len)) {
        free(info->vmlinux);
        info->vmlinux = NULL;
        return false;
    }
    if (cfg->cmdline && strlen(cfg->cmdline) >= BOOT_CMDLINE_MAX) {
        free(info->vmlinux); /* refused: the caller frees nothing */
        info->vmlinux = NULL;
        return fail(err, len, "-append is longer than 64 KiB");
    }
    return true;
}

/* ---- loading into RAM ---- */

static void load_segments(const q35_boot_cfg *cfg, const q35_boot_info *info)
{
    unsigned phnum = rd16(info->vmlinux + 0x38);
    seg s;

    for (unsigned i = 0; i < phnum; i++) {
        if (elf_seg(info, i, &s)) {
            memcpy(cfg->ram + s.paddr, info->vmlinux + s.offset, s.filesz);
            memset(cfg->ram + s.paddr + s.filesz, 0, s.memsz - s.filesz);
        }
    }
}

/* Highest page-aligned spot below initrd_addr_max and the end of low RAM,
 * above the kernel (boot.rst, "initrd_addr_max"). */
static bool place_initrd(const q35_boot_cfg *cfg, q35_boot_info *info, char *err, size_t len)
{
    uint64_t max = (uint64_t)rd32(cfg->kernel + HDR_INITRD_ADDR_MAX) + 1;
    uint64_t top = max < cfg->lowmem ? max : cfg->lowmem;

    if (!cfg->initrd) {
        return true;
    }
    if (cfg->initrd_size > top || ((top - cfg->initrd_size) & ~0xfffull) < info->kernel_end) {
        snprintf(err, len, "initrd (%zu bytes) does not fit between the kernel (ends at "
                 "0x%llx) and 0x%llx", cfg->initrd_size, (unsigned long long)info->kernel_end,
                 (unsigned long long)top);
        return false;
    }
    info->initrd_addr = (top - cfg->initrd_size) & ~0xfffull;
    memcpy(cfg->ram + info->initrd_addr, cfg->initrd, cfg->initrd_size);
    return true;
}

static void build_boot_params(const q35_boot_cfg *cfg, const q35_boot_info *info)
{
    uint8_t *bp = cfg->ram + BOOT_PARAMS;
    const uint8_t *k = cfg->kernel;
    size_t hdr_end = 0x202 + k[0x201]; /* boot.rst: the header's own length */
    q35_e820 own[Q35_E820_MAX];
    const q35_e820 *map = cfg->e820 ? cfg->e820 : own;
    unsigned n = cfg->e820 ? cfg->e820_n : q35_e820_build(cfg->lowmem, cfg->highmem, own);

    memset(bp, 0, 4096);
    memcpy(bp + HDR_START, k + HDR_START, hdr_end - HDR_START);
    bp[HDR_TYPE_OF_LOADER] = 0xff;
    bp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
    wr(bp + HDR_HEAP_END_PTR, 0xfe00, 2);
    wr(bp + HDR_CMD_LINE_PTR, BOOT_CMDLINE, 4);
    wr(bp + HDR_RAMDISK_IMAGE, cfg->initrd ? info->initrd_addr : 0, 4);
    wr(bp + HDR_RAMDISK_SIZE, cfg->initrd ? cfg->initrd_size : 0, 4);
    wr(bp + BP_ACPI_RSDP, cfg->rsdp, 8);
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = bp + BP_E820_TABLE + 20 * i;
        wr(e, map[i].addr, 8);
        wr(e + 8, map[i].size, 8);
        wr(e + 16, map[i].type, 4);
    }
}

/* GDT: null, null, __BOOT_CS 0x10 (64-bit code), __BOOT_DS 0x18 (flat
 * data); identity map of 4 GiB with 2 MiB pages. */
static void build_gdt_and_paging(const q35_boot_cfg *cfg, q35_boot_info *info)
{
    uint8_t *ram = cfg->ram;

    memset(ram + BOOT_GDT, 0, 32);
    wr(ram + BOOT_GDT + 0x10, 0x00af9b000000ffffull, 8);
    wr(ram + BOOT_GDT + 0x18, 0x00cf93000000ffffull, 8);
    info->gdt_base = BOOT_GDT;
    info->gdt_limit = 0x1f;
    memset(ram + BOOT_PML4, 0, 0x2000);
    wr(ram + BOOT_PML4, BOOT_PDPT | 0x3, 8); /* present, writable */
    for (unsigned i = 0; i < 4; i++) {
        wr(ram + BOOT_PDPT + 8 * i, (BOOT_PD + 0x1000ull * i) | 0x3, 8);
    }
    for (uint64_t i = 0; i < 4 * 512; i++) {
        wr(ram + BOOT_PD + 8 * i, (i << 21) | 0x83, 8); /* present, writable, 2 MiB */
    }
    info->cr3 = BOOT_PML4;
}

bool q35_boot_load(const q35_boot_cfg *cfg, q35_boot_info *info, char *err, size_t len)
{
    const char *cmd = cfg->cmdline ? cfg->cmdline : "";
    uint32_t cmax = rd32(cfg->kernel + HDR_CMDLINE_SIZE);

    if (cmax && strlen(cmd) > cmax) {
        snprintf(err, len, "-append is %zu bytes; this kernel takes at most %u",
                 strlen(cmd), cmax);
        return false;
    }
    load_segments(cfg, info);
    if (!place_initrd(cfg, info, err, len)) {
        return false;
    }
    strcpy((char *)cfg->ram + BOOT_CMDLINE, cmd);
    build_boot_params(cfg, info);
    build_gdt_and_paging(cfg, info);
    info->boot_params = BOOT_PARAMS;
    return true;
}
