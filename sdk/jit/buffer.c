/*
 * tessera JIT: the code buffer. One memfd mapped twice: blocks are
 * written through a read-write view and run through a read-execute view
 * at another address, so no page is ever writable and executable at once
 * (W^X) while patching a chained jump stays a plain store.
 *
 * Allocation is a bump pointer; when a block no longer fits, every block
 * is dropped (tes_jit_flush) and allocation starts over after the head
 * (the shared prologue and epilogue, which survive flushes).
 */
#define _GNU_SOURCE
#include "jit-internal.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

static char *errf(const char *what)
{
    char *s = NULL;

    if (asprintf(&s, "tessera-jit: code buffer: %s: %s", what, strerror(errno)) < 0) {
        s = NULL;
    }
    return s;
}

bool jit_buf_init(tes_jit *j, size_t size, char **err)
{
    long pg = sysconf(_SC_PAGESIZE);

    size = (size + pg - 1) & ~(size_t)(pg - 1);
    j->memfd = memfd_create("tessera-jit", MFD_CLOEXEC);
    if (j->memfd < 0) {
        *err = errf("memfd_create");
        return false;
    }
    if (ftruncate(j->memfd, size) < 0) {
        *err = errf("ftruncate");
        close(j->memfd);
        return false;
    }
    j->rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, j->memfd, 0);
    if (j->rw == MAP_FAILED) {
        *err = errf("mmap (rw)");
        close(j->memfd);
        return false;
    }
    j->rx = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, j->memfd, 0);
    if (j->rx == MAP_FAILED) {
        *err = errf("mmap (rx)");
        munmap(j->rw, size);
        close(j->memfd);
        return false;
    }
    j->size = size;
    return true;
}

void jit_buf_free(tes_jit *j)
{
    if (j->rw) {
        munmap(j->rw, j->size);
        munmap(j->rx, j->size);
        close(j->memfd);
    }
}
