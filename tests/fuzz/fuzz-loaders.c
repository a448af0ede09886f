/*
 * fuzz-loaders: the boards' kernel, initrd and DTB loaders fed from fuzz
 * bytes, as -kernel/-initrd/-dtb/-append files would reach them.
 *
 *   arm64 (board-virt): read_file() of each image, the Image header
 *     (text_offset, image_size, flags), the placement of kernel, initrd
 *     and DTB in RAM, a -dtb checked and given a /chosen by libfdt; the
 *     images are then copied into RAM of exactly -m bytes that ends at a
 *     guard page, so a placement past the end of RAM faults.
 *   amd64 (board-q35): the bzImage setup header, the host-side xz
 *     decompression of its payload, the vmlinux ELF's program headers,
 *     and the copy of segments, initrd, command line and boot_params into
 *     RAM of exactly lowmem bytes, the same way.
 *
 * virt.c is compiled in (its loaders are static) with a host table whose
 * error() only formats; boot.c is compiled in as test-q35-tables does.
 *
 * Input: byte 0 picks the board (even: arm64, odd: amd64), byte 1 the RAM
 * (16, 32 or 64 MiB), bytes 2..5 and 6..9 the kernel's and initrd's
 * lengths (le32), byte 10 the -append length; then the kernel, initrd and
 * append bytes, and the rest is the -dtb (arm64; none when empty).
 * Lengths are clamped to what is there.
 */
#define _GNU_SOURCE /* memfd_create */
#include <glib.h>
#include <stdarg.h>
#include <sys/mman.h>

#include "../../plugins/board-virt/virt.c"

#define HDR_LEN 11

typedef struct fz_images {
    const uint8_t *kernel, *initrd, *dtb;
    size_t kernel_len, initrd_len, dtb_len;
    char *append;
    uint64_t ram_size;
} fz_images;

static bool verbose; /* FUZZ_VERBOSE=1: say what each input came to */

/* Format as the core would (so format bugs show); print only if asked. */
static void fz_error(tes_device *dev, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (verbose) {
        fprintf(stderr, "fuzz-loaders: arm64: %s\n", buf);
    }
}

static tes_host fz_host = {.size = sizeof(tes_host), .error = fz_error};

/* Guest RAM: malloc'ing 16..64 MiB per input makes ASan poison and unpoison
 * megabytes of shadow each time (4 inputs a second). One mapping instead,
 * between PROT_NONE guard pages; RAM of a given size ends at the upper
 * guard, so a copy past the end of RAM faults. */
#define RAM_MAX (64ull << 20)
#define GUARD 4096ull
static uint8_t *ram_area;

static uint8_t *fz_ram(uint64_t size)
{
    return ram_area + GUARD + RAM_MAX - size;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ram_area = mmap(NULL, RAM_MAX + 2 * GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ram_area == MAP_FAILED || mprotect(ram_area + GUARD, RAM_MAX, PROT_READ | PROT_WRITE)) {
        abort();
    }
    H = &fz_host;
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    return 0;
}

/* After virt.c's H is set: q35.h names its own host table H too. */
#include "q35.h"

/* A file holding bytes, named as -kernel would name it. */
static int fz_file(const uint8_t *data, size_t len, char path[64])
{
    int fd = memfd_create("fuzz-loaders", MFD_CLOEXEC);

    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        abort(); /* the test machinery, not the loader */
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

static uint32_t le32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fz_split(const uint8_t *data, size_t size, fz_images *im)
{
    const uint8_t *p = data + HDR_LEN;
    size_t left = size - HDR_LEN;
    size_t alen;

    im->ram_size = (16ull << 20) << (data[1] % 3);
    im->kernel_len = MIN(le32_at(data + 2), left);
    im->kernel = p;
    p += im->kernel_len;
    left -= im->kernel_len;
    im->initrd_len = MIN(le32_at(data + 6), left);
    im->initrd = p;
    p += im->initrd_len;
    left -= im->initrd_len;
    alen = MIN(data[10], left);
    im->append = g_strndup((const char *)p, alen);
    p += alen;
    left -= alen;
    im->dtb = p;
    im->dtb_len = left;
}

/* What virt_init and virt_devices_done do with the images, minus the
 * board; then load_blobs() into exactly ram_size bytes. */
static void fz_arm64(const fz_images *im)
{
    virt_machine m = {.ram_size = im->ram_size};
    tes_machine_config cfg = {.size = sizeof(cfg), .append = im->append};
    char kpath[64], ipath[64], dpath[64];
    int kfd = fz_file(im->kernel, im->kernel_len, kpath);
    int ifd = im->initrd_len ? fz_file(im->initrd, im->initrd_len, ipath) : -1;
    int dfd = im->dtb_len ? fz_file(im->dtb, im->dtb_len, dpath) : -1;
    int ret;

    cfg.kernel = kpath;
    cfg.initrd = ifd >= 0 ? ipath : NULL;
    cfg.dtb = dfd >= 0 ? dpath : NULL;
    ret = load_images(&m, &cfg);
    /* Without -dtb the board generates one from its devices: not input. */
    if (!ret && cfg.dtb) {
        ret = make_dtb(&m, &cfg);
        ret = ret ? ret : place_dtb(&m);
    }
    if (!ret) {
        m.ram_ptr = fz_ram(m.ram_size);
        const blob *bs[] = {&m.kernel, &m.initrd, &m.dtb};
        for (unsigned i = 0; i < 3; i++) {
            if (bs[i]->data && bs[i]->size) {
                memcpy(m.ram_ptr + (bs[i]->addr - virt_memmap[VIRT_MEM].base), bs[i]->data,
                       bs[i]->size);
            }
        }
        if (verbose) {
            fprintf(stderr, "fuzz-loaders: arm64: loaded (kernel at 0x%llx, dtb at 0x%llx)\n",
                    (unsigned long long)m.kernel.addr, (unsigned long long)m.dtb.addr);
        }
    }
    free(m.kernel.data);
    free(m.initrd.data);
    free(m.dtb.data);
    close(kfd);
    if (ifd >= 0) {
        close(ifd);
    }
    if (dfd >= 0) {
        close(dfd);
    }
}

/* q35's prepare_kernel and load_ram, with the bytes already in memory. */
static void fz_amd64(const fz_images *im)
{
    q35_boot_cfg bc = {
        .lowmem = im->ram_size,
        .kernel = im->kernel,
        .kernel_size = im->kernel_len,
        .initrd = im->initrd_len ? im->initrd : NULL,
        .initrd_size = im->initrd_len,
        .cmdline = im->append,
        .rsdp = 0xe0000,
    };
    q35_boot_info info = {0};
    char err[200];

    bc.ram = fz_ram(bc.lowmem);
    bool ok = q35_boot_prepare(&bc, &info, err, sizeof(err)) &&
              q35_boot_load(&bc, &info, err, sizeof(err));
    if (verbose) {
        fprintf(stderr, "fuzz-loaders: amd64: %s\n", ok ? "loaded" : err);
    }
    free(info.vmlinux);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_images im;

    if (size < HDR_LEN) {
        return 0;
    }
    fz_split(data, size, &im);
    if (data[0] & 1) {
        fz_amd64(&im);
    } else {
        fz_arm64(&im);
    }
    g_free(im.append);
    return 0;
}
