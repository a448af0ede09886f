/*
 * tessera SDK: block backends (-drive).
 *
 * A device gets a tes_drive through a TES_PROP_DRIVE property; the core
 * opened the image at start-up and refused a missing or read-only one.
 */
#ifndef TESSERA_BLOCK_H
#define TESSERA_BLOCK_H

#include <tessera/types.h>

struct iovec;

/* Asynchronous requests (ABI 1.1). */
typedef enum tes_blk_op {
    TES_BLK_READ = 1,
    TES_BLK_WRITE = 2,
    TES_BLK_FLUSH = 3,        /* fdatasync */
    TES_BLK_WRITE_ZEROES = 4, /* offset, len; may unmap when TES_BLK_MAY_UNMAP */
    TES_BLK_DISCARD = 5,      /* offset, len; reads afterwards return zeroes */
} tes_blk_op;

#define TES_BLK_MAY_UNMAP (1u << 0) /* write-zeroes may deallocate */
#define TES_BLK_FUA (1u << 1)       /* write reaches stable storage first */

/*
 * Completion of one request, called from the main loop with the machine
 * lock held (or from tes_harness_block_poll in the harness). ret is 0 on
 * success or -errno (-EIO, -ENOSPC, -EINVAL for a range past the end).
 */
typedef void (*tes_blk_cb)(void *opaque, int ret);

#endif
