/*
 * q35 without a CPU: the ACPI tables acpi.c builds (checked field by field
 * and disassembled by iasl, the ACPICA compiler, which must report no
 * error), the e820 map, and the bzImage loader of boot.c on a synthetic
 * bzImage (an xz-compressed ELF made here with liblzma): segments, zero
 * page, command line, initrd placement, GDT and page tables.
 *
 * acpi.c and boot.c are compiled into this test (they use no host table).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>

#include "../nvdimm-acpi.h"
#include "../q35.h"

const tes_host *q35_tes_host; /* q35.h declares it; the code under test never calls it */

#define ACPI_LEN 0x20000

static uint64_t rd(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = n; i-- > 0;) {
        v = v << 8 | p[i];
    }
    return v;
}

static void wr(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--) {
        s += *p++;
    }
    return s;
}

static uint8_t *build(unsigned ncpus, size_t *used)
{
    q35_acpi_cfg cfg = {.devs.ncpus = ncpus, .mem64_base = 0x800000000ull,
                        .mem64_size = 0x800000000ull};
    uint8_t *buf = g_malloc0(ACPI_LEN);

    *used = q35_acpi_build(&cfg, buf, Q35_ACPI_BASE, ACPI_LEN);
    g_assert_cmpuint(*used, >, 36);
    return buf;
}

/* The table with signature sig (through the XSDT, the FADT for DSDT/FACS). */
static const uint8_t *find(const uint8_t *buf, size_t used, const char *sig, size_t *len)
{
    char s[5];
    const uint8_t *t;

    for (unsigned i = 0; (t = q35_acpi_table(buf, Q35_ACPI_BASE, used, i, s, len)); i++) {
        if (strcmp(s, sig) == 0) {
            return t;
        }
    }
    g_assert_not_reached();
}

static void test_rsdp(void)
{
    size_t used;
    uint8_t *b = build(1, &used);
    uint64_t xsdt = rd(b + 24, 8), rsdt = rd(b + 16, 4);

    g_assert_cmpmem(b, 8, "RSD PTR ", 8);
    g_assert_cmpuint(b[15], ==, 2);
    g_assert_cmpuint(sum(b, 20), ==, 0);
    g_assert_cmpuint(sum(b, 36), ==, 0);
    g_assert_cmpuint(rd(b + 20, 4), ==, 36);
    g_assert_true(xsdt > Q35_ACPI_BASE && xsdt < Q35_ACPI_BASE + used);
    g_assert_cmpmem(b + (xsdt - Q35_ACPI_BASE), 4, "XSDT", 4);
    g_assert_cmpmem(b + (rsdt - Q35_ACPI_BASE), 4, "RSDT", 4);
    g_free(b);
}

static void test_checksums(void)
{
    static const char *const sigs[] = {"FACP", "APIC", "MCFG", "DSDT"};
    size_t used, len;
    uint8_t *b = build(8, &used);

    for (unsigned i = 0; i < G_N_ELEMENTS(sigs); i++) {
        const uint8_t *t = find(b, used, sigs[i], &len);
        g_assert_cmpuint(rd(t + 4, 4), ==, len);
        g_assert_cmpuint(sum(t, len), ==, 0);
    }
    g_assert_cmpuint(rd(find(b, used, "FACS", &len) + 4, 4), ==, 64);
    g_free(b);
}

/* Entries: 4 local APICs (UID = APIC id = i, enabled), the IOAPIC, IRQ0 ->
 * GSI 2, SCI level/high, LINT1 NMI. */
static void test_madt(void)
{
    size_t used, len;
    uint8_t *b = build(4, &used);
    const uint8_t *t = find(b, used, "APIC", &len);
    unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;

    g_assert_cmpuint(rd(t + 36, 4), ==, 0xfee00000);
    g_assert_cmpuint(rd(t + 40, 4), ==, 1);
    for (size_t off = 44; off < len; off += t[off + 1]) {
        const uint8_t *e = t + off;
        g_assert_cmpuint(e[1], >=, 2);
        if (e[0] == 0) {
            g_assert_cmpuint(e[2], ==, lapics);
            g_assert_cmpuint(e[3], ==, lapics);
            g_assert_cmpuint(rd(e + 4, 4), ==, 1);
            lapics++;
        } else if (e[0] == 1) {
            g_assert_cmpuint(rd(e + 4, 4), ==, 0xfec00000);
            g_assert_cmpuint(rd(e + 8, 4), ==, 0);
            ioapics++;
        } else if (e[0] == 2) {
            bool pit = e[3] == 0 && rd(e + 4, 4) == 2 && rd(e + 8, 2) == 0;
            bool sci = e[3] == 9 && rd(e + 4, 4) == 9 && rd(e + 8, 2) == 0x0d;
            g_assert_true(pit || sci);
            isos++;
        } else if (e[0] == 4) {
            g_assert_cmpuint(e[2], ==, 0xff);
            g_assert_cmpuint(e[5], ==, 1);
            nmis++;
        }
    }
    g_assert_cmpuint(lapics, ==, 4);
    g_assert_cmpuint(ioapics, ==, 1);
    g_assert_cmpuint(isos, ==, 2);
    g_assert_cmpuint(nmis, ==, 1);
    g_free(b);
}

static void test_fadt(void)
{
    size_t used, len;
    uint8_t *b = build(1, &used);
    const uint8_t *f = find(b, used, "FACP", &len);
    uint32_t flags = (uint32_t)rd(f + 112, 4);

    g_assert_cmpuint(len, ==, 268);
    g_assert_cmpuint(rd(f + 46, 2), ==, 9);        /* SCI_INT */
    g_assert_cmpuint(rd(f + 48, 4), ==, 0);        /* SMI_CMD: no mode switch */
    g_assert_cmpuint(rd(f + 56, 4), ==, 0x600);    /* PM1a_EVT */
    g_assert_cmpuint(rd(f + 64, 4), ==, 0x604);    /* PM1a_CNT */
    g_assert_cmpuint(rd(f + 76, 4), ==, 0x608);    /* PM_TMR */
    g_assert_cmpuint(rd(f + 80, 4), ==, 0x620);    /* GPE0 */
    g_assert_cmpuint(f[88], ==, 4);
    g_assert_cmpuint(f[89], ==, 2);
    g_assert_cmpuint(f[91], ==, 4);
    g_assert_cmpuint(f[92], ==, 16);
    g_assert_true(flags & (1u << 8));              /* TMR_VAL_EXT: 32-bit timer */
    g_assert_true(flags & (1u << 10));             /* RESET_REG_SUP */
    g_assert_false(flags & (1u << 20));            /* not HW_REDUCED */
    g_assert_cmpuint(f[116], ==, 1);               /* reset register: I/O */
    g_assert_cmpuint(rd(f + 120, 8), ==, 0xcf9);
    g_assert_cmpuint(f[128], ==, 6);
    g_assert_cmpuint(rd(f + 140, 8), ==, rd(f + 40, 4)); /* X_DSDT == DSDT */
    g_assert_cmpuint(rd(f + 172 + 4, 8), ==, 0x604);     /* X_PM1a_CNT */
    g_free(b);
}

static void test_mcfg(void)
{
    size_t used, len;
    uint8_t *b = build(1, &used);
    const uint8_t *t = find(b, used, "MCFG", &len);

    g_assert_cmpuint(len, ==, 60);
    g_assert_cmpuint(rd(t + 44, 8), ==, 0xb0000000);
    g_assert_cmpuint(rd(t + 52, 2), ==, 0);
    g_assert_cmpuint(t[54], ==, 0);
    g_assert_cmpuint(t[55], ==, 255);
    g_free(b);
}

/* ---- iasl ---- */

static char *dump_tables(const uint8_t *b, size_t used)
{
    char *dir = g_dir_make_tmp("q35-acpi-XXXXXX", NULL);
    const uint8_t *t;
    char sig[5];
    size_t len;

    g_assert_nonnull(dir);
    for (unsigned i = 0; (t = q35_acpi_table(b, Q35_ACPI_BASE, used, i, sig, &len)); i++) {
        g_autofree char *p = g_strdup_printf("%s/%s.dat", dir, sig);
        g_assert_true(g_file_set_contents(p, (const char *)t, (gssize)len, NULL));
    }
    return dir;
}

/* iasl -d on one table; its .dsl text (NULL when iasl failed). */
static char *iasl(const char *dir, const char *sig)
{
    g_autofree char *dat = g_strdup_printf("%s/%s.dat", dir, sig);
    g_autofree char *dsl = g_strdup_printf("%s/%s.dsl", dir, sig);
    g_autofree char *out = NULL, *err = NULL;
    const char *argv[] = {"iasl", "-d", dat, NULL};
    int status = -1;
    char *text = NULL;

    g_assert_true(g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               &err, &status, NULL));
    if (!g_spawn_check_wait_status(status, NULL) || strstr(out, "Error") ||
        strstr(err, "Error")) {
        g_test_message("iasl -d %s:\n%s%s", sig, out, err);
        return NULL;
    }
    g_file_get_contents(dsl, &text, NULL, NULL);
    return text;
}

static void test_iasl(void)
{
    static const char *const sigs[] = {"FACP", "APIC", "MCFG", "FACS", "DSDT"};
    g_autofree char *path = g_find_program_in_path("iasl");
    size_t used;
    uint8_t *b = build(4, &used);
    g_autofree char *dir = NULL;
    char *dsdt = NULL;
    const char *s3;

    if (!path) {
        g_test_skip("iasl not installed (Debian package acpica-tools; scripts/install-deps)");
        g_free(b);
        return;
    }
    dir = dump_tables(b, used);
    for (unsigned i = 0; i < G_N_ELEMENTS(sigs); i++) {
        char *text = iasl(dir, sigs[i]);
        g_assert_nonnull(text);
        g_assert_null(strstr(text, "**** Unknown"));
        if (strcmp(sigs[i], "DSDT") == 0) {
            dsdt = text;
        } else {
            g_free(text);
        }
    }
    g_assert_nonnull(strstr(dsdt, "Device (PCI0)"));
    g_assert_nonnull(strstr(dsdt, "EisaId (\"PNP0A08\")"));
    g_assert_nonnull(strstr(dsdt, "EisaId (\"PNP0A03\")"));
    g_assert_nonnull(strstr(dsdt, "Method (_OSC, 4"));
    g_assert_nonnull(strstr(dsdt, "Return (Arg3)"));
    g_assert_nonnull(strstr(dsdt, "Name (\\_S5, Package (0x04)"));
    /* \_S3 = {1, 1, 0, 0}, QEMU's: Linux offers "mem" only with it */
    s3 = strstr(dsdt, "Name (\\_S3, Package (0x04)");
    g_assert_nonnull(s3);
    s3 = strchr(s3, '{');
    g_assert_nonnull(s3);
    s3 += strspn(s3, "{ \t\n");
    g_assert_cmpint(strncmp(s3, "One", 3), ==, 0);
    g_assert_nonnull(strstr(dsdt, "EisaId (\"PNP0501\")"));
    g_assert_nonnull(strstr(dsdt, "Device (C003)"));
    g_assert_null(strstr(dsdt, "Device (C004)"));
    /* slot 31 INTD: GSI 16 + (31 + 3) % 8 = 18 */
    g_assert_nonnull(strstr(dsdt, "0x001FFFFF, \n                    0x03, \n"
                                  "                    Zero, \n                    0x12"));
    g_assert_nonnull(strstr(dsdt, "0xFEBFFFFF"));
    g_free(dsdt);
    g_free(b);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* ---- e820 ---- */

static void test_e820(void)
{
    q35_e820 map[Q35_E820_MAX];
    unsigned n = q35_e820_build(0x80000000, 0x40000000, map);
    uint64_t ram = 0;
    bool ecam = false, high = false;

    for (unsigned i = 0; i < n; i++) {
        if (map[i].type == 1) {
            ram += map[i].size;
            /* no RAM in the BIOS area or the PCI hole */
            g_assert_true(map[i].addr + map[i].size <= 0x9fc00 ||
                          (map[i].addr >= 0x100000 && map[i].addr + map[i].size <= 0x80000000) ||
                          map[i].addr >= 0x100000000ull);
            high |= map[i].addr == 0x100000000ull && map[i].size == 0x40000000;
        } else {
            ecam |= map[i].addr == 0xb0000000 && map[i].size == 0x10000000;
        }
    }
    g_assert_cmpuint(ram, ==, 0x9fc00 + 0x80000000 - 0x100000 + 0x40000000);
    g_assert_true(ecam);
    g_assert_true(high);
    g_assert_cmpuint(map[0].addr, ==, 0);
    g_assert_cmpuint(map[0].type, ==, 1);
}

/* ---- a synthetic bzImage ---- */

#define RAM_SIZE (64 * MiB)
#define SEG1 0x1000000ull
#define SEG2 0x1400000ull

static uint8_t *make_elf(size_t *size)
{
    size_t len = 0x1000 + 0x2000 + 0x100;
    uint8_t *e = g_malloc0(len);
    uint8_t *ph;

    memcpy(e, "\x7f" "ELF\x02\x01\x01", 7);
    wr(e + 0x10, 2, 2);           /* ET_EXEC */
    wr(e + 0x12, 62, 2);          /* EM_X86_64 */
    wr(e + 0x18, SEG1 + 0x40, 8); /* e_entry */
    wr(e + 0x20, 64, 8);          /* e_phoff */
    wr(e + 0x36, 56, 2);
    wr(e + 0x38, 2, 2);
    for (unsigned i = 0; i < 2; i++) {
        ph = e + 64 + 56 * i;
        wr(ph, 1, 4);
        wr(ph + 0x08, i ? 0x3000 : 0x1000, 8);
        wr(ph + 0x10, 0xffffffff81000000ull + (i ? SEG2 - SEG1 : 0), 8);
        wr(ph + 0x18, i ? SEG2 : SEG1, 8);
        wr(ph + 0x20, i ? 0x100 : 0x2000, 8);
        wr(ph + 0x28, i ? 0x1000 : 0x3000, 8);
    }
    for (size_t i = 0x1000; i < len; i++) {
        e[i] = (uint8_t)(i * 7 + 1);
    }
    *size = len;
    return e;
}

/* setup_sects 1, protocol 2.15, xz payload 0x100 bytes into the
 * protected-mode part. */
static uint8_t *make_bzimage(size_t *size, uint32_t initrd_max)
{
    size_t elen, xlen = 0;
    g_autofree uint8_t *elf = make_elf(&elen);
    uint8_t *xz = g_malloc(elen + 4096);
    size_t pm = 1024, poff = 0x100;
    uint8_t *k;

    g_assert_cmpint(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, elf, elen, xz, &xlen,
                                            elen + 4096), ==, LZMA_OK);
    wr(xz + xlen, elen, 4);
    xlen += 4;
    *size = pm + poff + xlen;
    k = g_malloc0(*size);
    k[0x1f1] = 1;
    wr(k + 0x1fe, 0xaa55, 2);
    k[0x200] = 0xeb;
    k[0x201] = 0x6a;
    memcpy(k + 0x202, "HdrS", 4);
    wr(k + 0x206, 0x020f, 2);
    k[0x211] = 0x01;
    wr(k + 0x22c, initrd_max, 4);
    wr(k + 0x238, 2047, 4);
    wr(k + 0x248, poff, 4);
    wr(k + 0x24c, xlen, 4);
    wr(k + 0x260, 0x800000, 4); /* init_size: 8 MiB */
    memcpy(k + pm + poff, xz, xlen);
    g_free(xz);
    return k;
}

typedef struct boot_fixture {
    uint8_t *ram, *kernel, initrd[0x1800];
    size_t ksize;
    q35_boot_cfg cfg;
    q35_boot_info info;
} boot_fixture;

static bool boot(boot_fixture *f, uint32_t initrd_max, char *err)
{
    f->ram = g_malloc0(RAM_SIZE);
    f->kernel = make_bzimage(&f->ksize, initrd_max);
    memset(f->initrd, 0x5a, sizeof(f->initrd));
    f->cfg = (q35_boot_cfg){.ram = f->ram, .lowmem = RAM_SIZE, .kernel = f->kernel,
                            .kernel_size = f->ksize, .initrd = f->initrd,
                            .initrd_size = sizeof(f->initrd),
                            .cmdline = "console=ttyS0 quiet", .rsdp = 0xe0000};
    return q35_boot_prepare(&f->cfg, &f->info, err, 200) &&
           q35_boot_load(&f->cfg, &f->info, err, 200);
}

static void boot_free(boot_fixture *f)
{
    free(f->info.vmlinux);
    g_free(f->ram);
    g_free(f->kernel);
}

static void test_boot_segments(void)
{
    boot_fixture f;
    char err[200] = "";
    g_autofree uint8_t *elf = NULL;
    size_t elen;

    g_assert_true(boot(&f, 0x37ffffff, err));
    elf = make_elf(&elen);
    g_assert_cmpuint(f.info.entry, ==, SEG1 + 0x40);
    g_assert_cmpmem(f.ram + SEG1, 0x2000, elf + 0x1000, 0x2000);
    g_assert_cmpmem(f.ram + SEG2, 0x100, elf + 0x3000, 0x100);
    for (unsigned i = 0x2000; i < 0x3000; i++) {
        g_assert_cmpuint(f.ram[SEG1 + i], ==, 0); /* bss zeroed */
    }
    g_assert_cmpuint(f.info.kernel_end, ==, SEG1 + 0x800000); /* init_size wins */
    boot_free(&f);
}

static void test_boot_params(void)
{
    boot_fixture f;
    char err[200] = "";
    const uint8_t *bp;

    g_assert_true(boot(&f, 0x37ffffff, err));
    bp = f.ram + f.info.boot_params;
    g_assert_cmpmem(bp + 0x202, 4, "HdrS", 4);       /* setup header copied */
    g_assert_cmpuint(bp[0x210], ==, 0xff);           /* type_of_loader */
    g_assert_cmpuint(bp[0x211] & 0x81, ==, 0x81);    /* LOADED_HIGH, CAN_USE_HEAP */
    g_assert_cmpstr((const char *)f.ram + rd(bp + 0x228, 4), ==, "console=ttyS0 quiet");
    g_assert_cmpuint(rd(bp + 0x070, 8), ==, 0xe0000); /* acpi_rsdp_addr */
    /* initrd: as high as RAM allows, page aligned, contents intact */
    g_assert_cmpuint(rd(bp + 0x218, 4), ==, (RAM_SIZE - 0x1800) & ~0xfffull);
    g_assert_cmpuint(rd(bp + 0x21c, 4), ==, 0x1800);
    g_assert_cmpuint(f.ram[rd(bp + 0x218, 4) + 0x17ff], ==, 0x5a);
    g_assert_cmpuint(bp[0x1e8], >=, 4);              /* e820 entries */
    g_assert_cmpuint(rd(bp + 0x2d0 + 8, 8), ==, 0x9fc00);
    g_assert_cmpuint(rd(bp + 0x2d0 + 16, 4), ==, 1);
    boot_free(&f);
}

static void test_boot_initrd_max(void)
{
    boot_fixture f;
    char err[200] = "";

    g_assert_true(boot(&f, 40 * MiB - 1, err));
    g_assert_cmpuint(f.info.initrd_addr, ==, (40 * MiB - 0x1800) & ~0xfffull);
    boot_free(&f);
}

/* 64-bit boot protocol: __BOOT_CS 0x10 long-mode code, __BOOT_DS 0x18,
 * identity map of the first 4 GiB. */
static void test_boot_paging(void)
{
    boot_fixture f;
    char err[200] = "";
    const uint8_t *r;

    g_assert_true(boot(&f, 0x37ffffff, err));
    r = f.ram;
    g_assert_cmpuint(f.info.gdt_limit, >=, 0x1f);
    g_assert_cmpuint(rd(r + f.info.gdt_base + 0x10, 8) & 0x00f0ff0000000000ull, ==,
                     0x00a09b0000000000ull); /* P, S, code exec/read, L, G */
    g_assert_cmpuint(rd(r + f.info.gdt_base + 0x18, 8) & 0x00f0ff0000000000ull, ==,
                     0x00c0930000000000ull);
    /* walk 0xfee00000 and the kernel entry through the tables */
    uint64_t vas[] = {0xfee00000, f.info.entry, 0};
    for (unsigned i = 0; i < G_N_ELEMENTS(vas); i++) {
        uint64_t va = vas[i], e = rd(r + f.info.cr3 + 8 * ((va >> 39) & 511), 8);
        g_assert_cmpuint(e & 3, ==, 3);
        e = rd(r + (e & ~0xfffull) + 8 * ((va >> 30) & 511), 8);
        g_assert_cmpuint(e & 3, ==, 3);
        e = rd(r + (e & ~0xfffull) + 8 * ((va >> 21) & 511), 8);
        g_assert_cmpuint(e & 0x83, ==, 0x83);
        g_assert_cmphex(e & ~0x1fffffull, ==, va & ~0x1fffffull);
    }
    boot_free(&f);
}

static void test_boot_rejects(void)
{
    boot_fixture f;
    char err[200] = "";

    g_assert_true(boot(&f, 0x37ffffff, err));
    free(f.info.vmlinux); /* each prepare below starts from a clean info */
    f.info.vmlinux = NULL;
    /* not a bzImage */
    f.kernel[0x202] = 'X';
    g_assert_false(q35_boot_prepare(&f.cfg, &f.info, err, sizeof(err)));
    g_assert_nonnull(strstr(err, "HdrS"));
    f.kernel[0x202] = 'H';
    /* a gzip payload */
    f.kernel[1024 + 0x100] = 0x1f;
    g_assert_false(q35_boot_prepare(&f.cfg, &f.info, err, sizeof(err)));
    g_assert_nonnull(strstr(err, "xz"));
    /* an initrd that does not fit above the kernel */
    f.kernel[1024 + 0x100] = 0xfd;
    wr(f.kernel + 0x22c, 0x1000000 + 0x10000 - 1, 4);
    g_assert_true(q35_boot_prepare(&f.cfg, &f.info, err, sizeof(err)));
    g_assert_false(q35_boot_load(&f.cfg, &f.info, err, sizeof(err)));
    g_assert_nonnull(strstr(err, "initrd"));
    boot_free(&f);
}

/* ---- the NVDIMM label _DSM page (nvdimm-acpi.c), QEMU's protocol ---- */

static uint8_t fake_labels[2][128 * 1024];

static bool fake_label_rw(void *opaque, unsigned idx, uint64_t off, void *buf, uint32_t len,
                          bool write)
{
    g_assert_cmpuint(idx, <, 2);
    g_assert_cmpuint(off + len, <=, sizeof(fake_labels[0]));
    if (write) {
        memcpy(fake_labels[idx] + off, buf, len);
    } else {
        memcpy(buf, fake_labels[idx] + off, len);
    }
    return true;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* A request in page: handle, revision 1, function, offset and length. */
static void dsm_call(uint8_t *page, uint32_t handle, uint32_t func, uint32_t off, uint32_t len)
{
    static const x86_nvdimm nvd[2] = {
        {.addr = 4ull << 30, .size = 64 << 20, .label_size = 128 * 1024},
        {.addr = 5ull << 30, .size = 64 << 20},
    };

    wr32(page, handle);
    wr32(page + 4, 1);
    wr32(page + 8, func);
    wr32(page + 12, off);
    wr32(page + 16, len);
    x86_nvdimm_dsm(page, nvd, 2, fake_label_rw, NULL);
}

static void test_nvdimm_dsm_functions(void)
{
    static uint8_t page[X86_NVDIMM_DSM_SIZE];

    dsm_call(page, 1, 0, 0, 0);
    g_assert_cmpuint(rd32(page), ==, 8);
    g_assert_cmphex(rd32(page + 4), ==, 0x71); /* functions 0, 4, 5, 6 */
    dsm_call(page, 2, 0, 0, 0);                /* label-less: nothing */
    g_assert_cmphex(rd32(page + 4), ==, 0);
    dsm_call(page, 0, 0, 0, 0);                /* the root: nothing either */
    g_assert_cmphex(rd32(page + 4), ==, 0);
    dsm_call(page, 1, 4, 0, 0);
    g_assert_cmpuint(rd32(page), ==, 16);
    g_assert_cmpuint(rd32(page + 4), ==, 0);
    g_assert_cmpuint(rd32(page + 8), ==, 128 * 1024);
    g_assert_cmpuint(rd32(page + 12), ==, 4076);
    /* write 4076 bytes at the area's end, read them back */
    memset(page + 20, 0xa5, 4076);
    dsm_call(page, 1, 6, 128 * 1024 - 4076, 4076);
    g_assert_cmpuint(rd32(page), ==, 8);
    g_assert_cmpuint(rd32(page + 4), ==, 0);
    g_assert_cmpuint(fake_labels[0][128 * 1024 - 1], ==, 0xa5);
    g_assert_cmpuint(fake_labels[0][128 * 1024 - 4077], ==, 0);
    dsm_call(page, 1, 5, 128 * 1024 - 8, 8);
    g_assert_cmpuint(rd32(page), ==, 16);
    g_assert_cmpuint(rd32(page + 4), ==, 0);
    g_assert_cmphex(rd32(page + 8), ==, 0xa5a5a5a5);
    dsm_call(page, 1, 7, 0, 0);
    g_assert_cmpuint(rd32(page + 4), ==, 1); /* not supported */
    dsm_call(page, 2, 5, 0, 8);
    g_assert_cmpuint(rd32(page + 4), ==, 1);
}

/* Offsets and lengths outside the area or over one transfer: status 3
 * "invalid input parameters", nothing read or written. */
static void test_nvdimm_dsm_bad_ranges(void)
{
    static const uint32_t bad[][2] = {
        {128 * 1024, 1}, {128 * 1024 - 4, 8}, {0, 4077}, {0xffffffff, 2},
        {0xfffffff0, 0x20}, {0, 0xffffffff},
    };
    static uint8_t page[X86_NVDIMM_DSM_SIZE];

    memset(fake_labels, 0, sizeof(fake_labels));
    for (unsigned f = 5; f <= 6; f++) {
        for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
            memset(page + 20, 0x5a, sizeof(page) - 20);
            dsm_call(page, 1, f, bad[i][0], bad[i][1]);
            g_assert_cmpuint(rd32(page), ==, 8);
            g_assert_cmpuint(rd32(page + 4), ==, 3);
        }
    }
    for (unsigned i = 0; i < sizeof(fake_labels[0]); i++) {
        g_assert_cmpuint(fake_labels[0][i], ==, 0);
    }
    /* a handle past the modules, a revision but 1 */
    dsm_call(page, 77, 5, 0, 8);
    g_assert_cmpuint(rd32(page + 4), ==, 1);
    wr32(page, 1);
    wr32(page + 4, 2);
    wr32(page + 8, 5);
    x86_nvdimm_dsm(page, NULL, 0, fake_label_rw, NULL);
    g_assert_cmpuint(rd32(page + 4), ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/q35/acpi/rsdp/rev2-checksums-point-to-xsdt-and-rsdt", test_rsdp);
    g_test_add_func("/q35/acpi/tables/lengths-and-checksums-add-up", test_checksums);
    g_test_add_func("/q35/acpi/madt/lapic-per-cpu-ioapic-overrides-nmi", test_madt);
    g_test_add_func("/q35/acpi/fadt/pm-blocks-sci-reset-register", test_fadt);
    g_test_add_func("/q35/acpi/mcfg/ecam-at-0xb0000000-buses-0-255", test_mcfg);
    g_test_add_func("/q35/acpi/iasl/disassembles-without-errors", test_iasl);
    g_test_add_func("/q35/nvdimm/dsm/functions-0-4-5-6", test_nvdimm_dsm_functions);
    g_test_add_func("/q35/nvdimm/dsm/bad-offsets-and-lengths-status-3",
                    test_nvdimm_dsm_bad_ranges);
    g_test_add_func("/q35/boot/e820/ram-holes-and-reserved-ecam", test_e820);
    g_test_add_func("/q35/boot/vmlinux/segments-at-paddr-bss-zeroed", test_boot_segments);
    g_test_add_func("/q35/boot/zero-page/header-cmdline-initrd-rsdp-e820", test_boot_params);
    g_test_add_func("/q35/boot/initrd/below-initrd-addr-max", test_boot_initrd_max);
    g_test_add_func("/q35/boot/long-mode/gdt-and-identity-paging", test_boot_paging);
    g_test_add_func("/q35/boot/rejects/bad-header-gzip-payload-initrd-overlap",
                    test_boot_rejects);
    return g_test_run();
}
