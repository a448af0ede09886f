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

/*
 * Removable media (ABI 1.5). A device with a tray (ide-cd, scsi-cd)
 * registers these with host->drive_set_media_ops() in realize; the
 * monitor's eject, blockdev-change-medium, blockdev-open-tray/-close-tray
 * and blockdev-remove-medium/-insert-medium then drive it as QEMU's
 * BlockDevOps do. A drive whose device registered no ops (a disk) is not
 * removable: the monitor refuses to change it. Every callback runs on the
 * main loop with the machine lock held, never from inside a device call.
 */
typedef struct tes_drive_media_ops {
    uint32_t size; /* sizeof(tes_drive_media_ops) */
    /*
     * The monitor moved the tray: load false opens it (the guest must see
     * no medium from now on; the medium may be removed next, after the
     * core drained the drive), load true closes it over the drive's
     * medium, which may be new or absent (host->drive_has_medium and
     * drive_size tell). The device reports the change to the guest as a
     * real drive does (MMC: NOT READY, then UNIT ATTENTION, and a GESN
     * media event).
     */
    void (*change_media)(void *opaque, bool load);
    /* The monitor asks for the medium while the guest holds the tray
     * locked: tell the guest (GESN eject request); force also unlocks. */
    void (*eject_request)(void *opaque, bool force);
    /* The tray as the device sees it (NULL: the device has no tray). */
    bool (*is_tray_open)(void *opaque);
    /* PREVENT ALLOW MEDIUM REMOVAL is in force (NULL: never). */
    bool (*is_medium_locked)(void *opaque);
} tes_drive_media_ops;

#endif
