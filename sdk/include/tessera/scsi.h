/*
 * tessera SDK: the SCSI plugin's interface (installed as <tessera/scsi.h>),
 * which host bus adapters (virtio-scsi, megasas, lsi53c895a, a vendor's HBA)
 * use to reach the SCSI devices (scsi-hd, scsi-cd) plugged into their bus.
 * Plain C, every struct starts with its size; tables only grow. No host
 * table entry is needed: plugins/scsi registers the table with
 * host->iface_register and an HBA finds it with iface_lookup.
 *
 * An HBA creates its child bus in realize:
 *
 *   const tes_scsi_ops *so = H->iface_lookup(TES_SCSI_IFACE,
 *                                            TES_SCSI_IFACE_VERSION);
 *   tes_scsi_bus_info bi = {.size = sizeof(bi), .max_channel = 0,
 *       .max_target = 255, .max_lun = 16383, .ops = &my_hba_ops,
 *       .opaque = s};
 *   s->sbus = so->bus_new(dev, NULL, &bi);  // bus "ID.0", kind "SCSI"
 *
 * and frees it with so->bus_free(s->sbus) in unrealize (the core has then
 * unplugged the devices on it already). Devices go on the bus with
 * -device scsi-hd,drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0.
 *
 * A command is a request: req_new() addresses a LUN by channel, scsi-id and
 * lun and carries the CDB; the HBA gives the data buffer (host iovecs it
 * mapped itself, e.g. a virtqueue element, or guest addresses that
 * req_map() maps through host->dma_map: never copied), then req_submit().
 * ops->complete runs exactly once per submitted request, possibly before
 * req_submit returns, with status, sense data and residual filled in; the
 * request is freed when complete returns. Requests run concurrently and
 * complete in any order (block I/O is asynchronous).
 *
 * The bus answers for the target: a channel:id with no device at all ends
 * with host_status TES_SCSI_HOST_NO_TARGET (a selection timeout); a missing
 * LUN of a present target answers INQUIRY with peripheral qualifier 3,
 * REPORT LUNS with the LUNs present, and anything else with CHECK
 * CONDITION, ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED.
 *
 * Task management (tmf) is synchronous: the requests it ends complete
 * (status TASK ABORTED, host_status ABORTED or RESET) before it returns.
 * Hotplug: ops->attached / ops->detached run when a device is plugged or
 * unplugged (device_add/device_del, and cold plug at start-up).
 *
 * History: version 1 (SDK 1.3 core; plugins/scsi 0.1).
 *
 * Every call runs with the machine lock held, like all device callbacks.
 */
#ifndef TESSERA_SCSI_H
#define TESSERA_SCSI_H

#include <tessera/tessera.h>

struct iovec;

#define TES_SCSI_IFACE "scsi"
#define TES_SCSI_IFACE_VERSION 1
#define TES_SCSI_BUS "SCSI" /* bus kind of the HBAs' child buses */

#define TES_SCSI_CDB_MAX 32   /* bytes of CDB a request carries */
#define TES_SCSI_SENSE_MAX 96 /* bytes of sense data a request returns */

/* SAM-5 status codes (section 5.3). */
#define TES_SCSI_GOOD 0x00
#define TES_SCSI_CHECK_CONDITION 0x02
#define TES_SCSI_BUSY 0x08
#define TES_SCSI_RESERVATION_CONFLICT 0x18
#define TES_SCSI_TASK_SET_FULL 0x28
#define TES_SCSI_TASK_ABORTED 0x40

/* What the bus reports besides the SAM status. */
typedef enum tes_scsi_host_status {
    TES_SCSI_HOST_OK = 0,
    TES_SCSI_HOST_NO_TARGET = 1, /* no device at channel:id (selection timeout) */
    TES_SCSI_HOST_ABORTED = 2,   /* ended by abort task / abort task set */
    TES_SCSI_HOST_RESET = 3,     /* ended by a LUN, target or bus reset */
    TES_SCSI_HOST_OVERRUN = 4,   /* the command moves more data than the buffer
                                    holds, or in the other direction */
    TES_SCSI_HOST_ERROR = 5,     /* the data buffer could not be mapped */
} tes_scsi_host_status;

/* Data direction as the initiator set it up. */
typedef enum tes_scsi_dir {
    TES_SCSI_DIR_NONE = 0,
    TES_SCSI_DIR_FROM_DEV = 1, /* data-in: READ, INQUIRY */
    TES_SCSI_DIR_TO_DEV = 2,   /* data-out: WRITE, MODE SELECT */
} tes_scsi_dir;

/* One command. The bus allocates it (req_new); fields are read-only for
 * the HBA except those marked "HBA". */
typedef struct tes_scsi_req {
    uint32_t size; /* sizeof(tes_scsi_req) */
    uint32_t channel, id, lun;
    uint64_t tag; /* the HBA's task tag (abort task finds it) */
    uint8_t cdb[TES_SCSI_CDB_MAX];
    uint32_t cdb_len;
    /* HBA, before submit (or through req_map): the data buffer, host
     * pointers valid until complete runs. */
    tes_scsi_dir dir;
    const struct iovec *iov;
    unsigned iovcnt;
    /* Filled in at completion. */
    uint8_t status;     /* TES_SCSI_GOOD, ... */
    uint8_t sense_len;  /* bytes of sense (fixed format), 0 unless CHECK CONDITION */
    uint8_t sense[TES_SCSI_SENSE_MAX];
    uint32_t host_status; /* tes_scsi_host_status */
    uint64_t residual;    /* bytes of the buffer not transferred */
    void *priv;           /* HBA: priv_size bytes asked of req_new, zeroed */
} tes_scsi_req;

/* A scatter-gather entry in guest (bus) addresses, for req_map. */
typedef struct tes_scsi_sge {
    uint64_t addr;
    uint64_t len;
} tes_scsi_sge;

typedef struct tes_scsi_bus tes_scsi_bus; /* opaque, owned by plugins/scsi */

/* What an HBA provides. Every callback gets info.opaque. */
typedef struct tes_scsi_hba_ops {
    uint32_t size; /* sizeof(tes_scsi_hba_ops) */
    /* req finished (status, sense, residual, host_status set); it is freed
     * when this returns. Required. */
    void (*complete)(void *opaque, tes_scsi_req *req);
    /* A device was plugged at channel:id:lun / unplugged (optional). */
    void (*attached)(void *opaque, uint32_t channel, uint32_t id, uint32_t lun);
    void (*detached)(void *opaque, uint32_t channel, uint32_t id, uint32_t lun);
} tes_scsi_hba_ops;

/* Given to bus_new(); copied. Devices outside these limits are refused. */
typedef struct tes_scsi_bus_info {
    uint32_t size; /* sizeof(tes_scsi_bus_info) */
    uint32_t max_channel, max_target, max_lun; /* inclusive */
    const tes_scsi_hba_ops *ops;
    void *opaque;
} tes_scsi_bus_info;

/* Task management functions (SAM-5 section 7). */
typedef enum tes_scsi_tmf {
    TES_SCSI_TMF_ABORT_TASK = 1,     /* the request with tag on channel:id:lun */
    TES_SCSI_TMF_ABORT_TASK_SET = 2, /* every request on channel:id:lun */
    TES_SCSI_TMF_LUN_RESET = 3,      /* abort all, unit attention on the LUN */
    TES_SCSI_TMF_TARGET_RESET = 4,   /* the same for every LUN of channel:id */
    TES_SCSI_TMF_BUS_RESET = 5,      /* the same for every device on the bus */
    TES_SCSI_TMF_QUERY_TASK = 6,     /* is tag in flight on channel:id:lun? */
    TES_SCSI_TMF_QUERY_TASK_SET = 7, /* is anything in flight there? */
} tes_scsi_tmf;

typedef enum tes_scsi_tmf_result {
    TES_SCSI_TMF_COMPLETE = 0,      /* done (nothing to abort counts) */
    TES_SCSI_TMF_SUCCEEDED = 1,     /* query: yes */
    TES_SCSI_TMF_REJECTED = 2,      /* unknown function */
    TES_SCSI_TMF_INCORRECT_LUN = 3, /* no such LUN on a present target */
    TES_SCSI_TMF_NO_TARGET = 4,     /* no device at channel:id */
} tes_scsi_tmf_result;

/* Interface "scsi" version 1. */
typedef struct tes_scsi_ops {
    uint32_t size; /* sizeof(tes_scsi_ops) */
    /* A SCSI bus as hba's child bus; name NULL gives "ID.0" (QEMU's name:
     * bus=scsi0.0 for id=scsi0). NULL after reporting through H->error. */
    tes_scsi_bus *(*bus_new)(tes_device *hba, const char *name, const tes_scsi_bus_info *info);
    /* In the HBA's unrealize: every request ended (drained) and the bus
     * forgotten. NULL is ignored. */
    void (*bus_free)(tes_scsi_bus *bus);
    tes_bus *(*bus)(tes_scsi_bus *bus); /* the core's bus */
    /* The i-th LUN present (plug order): false past the end. */
    bool (*lun_at)(tes_scsi_bus *bus, unsigned i, uint32_t *channel, uint32_t *id,
                   uint32_t *lun);
    /* A new request (NULL only when out of memory); cdb_len > TES_SCSI_CDB_MAX
     * keeps the first TES_SCSI_CDB_MAX bytes. */
    tes_scsi_req *(*req_new)(tes_scsi_bus *bus, uint32_t channel, uint32_t id, uint32_t lun,
                             uint64_t tag, const uint8_t *cdb, uint32_t cdb_len,
                             size_t priv_size);
    /* Map n guest ranges as req's buffer (dma_map through dma_dev, the DMA
     * master); unmapped when req is freed. 0, -EFAULT (not RAM: nothing
     * stays mapped), -EINVAL (more than 1024 pieces). */
    int (*req_map)(tes_scsi_req *req, tes_device *dma_dev, tes_scsi_dir dir,
                   const tes_scsi_sge *sg, unsigned n);
    /* Run req; complete() follows (maybe before this returns). */
    void (*req_submit)(tes_scsi_req *req);
    /* Drop a request never submitted (complete does not run). */
    void (*req_free)(tes_scsi_req *req);
    /* Task management; see the top comment. */
    tes_scsi_tmf_result (*tmf)(tes_scsi_bus *bus, tes_scsi_tmf fn, uint32_t channel,
                               uint32_t id, uint32_t lun, uint64_t tag);
    /* Wait until every request in flight has completed (complete ran):
     * the HBA's quiesce for reset and migration, so no request is in
     * flight when state is saved. */
    void (*drain)(tes_scsi_bus *bus);
    /* Requests submitted and not yet completed. */
    unsigned (*inflight)(tes_scsi_bus *bus);
    /* What req's CDB may move, as the addressed LUN reads it: the
     * direction and the most bytes (allocation or transfer length), before
     * any buffer is given. For HBAs whose data phases come before the
     * buffer is known (a SCRIPTS processor moving data piece by piece):
     * they stage that many bytes. TES_SCSI_DIR_NONE and 0 for commands
     * without data and unknown opcodes; an absent LUN moves only what the
     * target answers (INQUIRY, REQUEST SENSE, REPORT LUNS). */
    void (*req_xfer)(tes_scsi_req *req, tes_scsi_dir *dir, uint64_t *len);
} tes_scsi_ops;

#endif
