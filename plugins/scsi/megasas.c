/*
 * megasas: the LSI MegaRAID SAS 1078 host bus adapter (PCI 1000:0060,
 * Linux megaraid_sas, BSD mfi), an HBA of the SCSI bus speaking MFI frames.
 *
 * User manual
 *
 *   -device megasas,id=scsi0[,max_sge=N][,max_cmds=N][,msi=on|off]
 *           [,msix=on|off][,use_jbod=on|off][,sas_address=N][,hba_serial=S]
 *   -device scsi-hd,drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0
 *
 *   max_sge      scatter-gather entries per frame, 16..255, default 128
 *   max_cmds     frames in flight, 16..2048, default 1000
 *   msi, msix    offer the MSI (1 vector) and MSI-X (15 vectors, BAR0
 *                0x2000) capabilities, default on; with MSI-X offered the
 *                firmware status says so and Linux then also uses IEEE SGLs
 *   use_jbod     off (default): every device at LUN 0 is a logical drive
 *                numbered by its scsi-id, as QEMU's megasas shows disks
 *                (Linux: <host>:2:<scsi-id>:0); on: no logical drives, the
 *                devices are system physical drives (Linux:
 *                <host>:0:<scsi-id>:<lun>, through PD pass-through)
 *   sas_address  the controller's SAS address (0: derived from the slot)
 *   hba_serial   controller serial number, default QEMU's
 *
 * The child SCSI bus is "ID.0"; scsi-id 0..63, LUN 0..255, channel 0.
 * BAR0 (64-bit memory, 16 KiB) holds the registers and the MSI-X table,
 * BAR2 (I/O, 256 bytes) the registers again, BAR3 (64-bit memory, 256 KiB)
 * is the 1078's queue window (reads 0, writes ignored).
 *
 * The firmware starts READY; an INIT frame gives the reply queue and the
 * producer/consumer index words in guest memory and makes it OPERATIONAL.
 * Frames are posted to the inbound queue port; each completes by writing
 * its status into the frame and, unless it asked not to be posted, by
 * writing its context into the reply queue, the producer index, and
 * raising the interrupt (MSI-X vector 0, MSI, or INTx while not masked by
 * bit 31 of the outbound interrupt mask; cleared through ODCR0). Frames:
 * LD READ/WRITE (READ/WRITE 16 to the logical drive), LD and PD SCSI
 * pass-through (CDB as given), DCMDs (megasas-dcmd.c), ABORT (of a
 * parked event wait) and INIT. SGLs are 32-bit, 64-bit or IEEE; the sense
 * buffer 32- or 64-bit. Everything the guest gives is checked: an unknown
 * command, too many SGEs, an SGL outside RAM end the frame with an MFI
 * status (INVALID_CMD, INVALID_PARAMETER, MEMORY_NOT_AVAILABLE) and a
 * guest_errors line; a frame or reply queue outside RAM is dropped, a
 * sense buffer outside RAM left unwritten, with a guest_errors line; DMA
 * or an MSI the guest aims at the controller's own registers does not
 * reach them. Reset (the doorbell's READY bit, a system reset) aborts what
 * is in flight without posting it. Migration waits for the bus requests
 * in flight and carries the registers, the queue addresses and indexes,
 * and the parked event waits. A device plugged or unplugged while the
 * driver runs (device_add/device_del) completes the parked event wait
 * with an LD created/deleted event (PD inserted/removed with use_jbod):
 * Linux then re-reads the drive lists and adds or removes the disk.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "megasas-regs.h"
#include "scsi-trace.h"

#define DEFAULT_SERIAL "QEMU123456"

void mfi_guest_error(megasas *s, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (!H->log_enabled(TES_LOG_GUEST_ERROR)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    H->log(TES_LOG_GUEST_ERROR, "megasas %s: %s", H->dev_id(s->dev), msg);
}

int mfi_dma_read_slow(megasas *s, uint64_t addr, void *buf, uint64_t len)
{
    int ret;

    s->dma_depth++;
    ret = H->dma_read(s->dev, addr, buf, len);
    s->dma_depth--;
    return ret;
}

int mfi_dma_write_slow(megasas *s, uint64_t addr, const void *buf, uint64_t len)
{
    int ret;

    s->dma_depth++;
    ret = H->dma_write(s->dev, addr, buf, len);
    s->dma_depth--;
    return ret;
}

/* ---- interrupts ---- */

static bool intr_enabled(megasas *s)
{
    return !(s->intr_mask & MFI_1078_RM);
}

/* INTx is a level: a reply posted and not cleared, interrupts unmasked. */
static void update_intx(megasas *s)
{
    bool msg = H->pci_msix_enabled(s->dev) || H->pci_msi_enabled(s->dev);

    trace_megasas_irq(0, !msg && intr_enabled(s) && (s->osts & MFI_1078_RM));

    H->pci_set_irq(s->dev, !msg && intr_enabled(s) && (s->osts & MFI_1078_RM));
}

static void raise_now(void *opaque)
{
    megasas *s = opaque;

    s->raise_deferred = false;
    if (!(s->osts & MFI_1078_RM) || !intr_enabled(s)) {
        return; /* taken (or masked) before the batch ended */
    }
    if (H->pci_msix_enabled(s->dev) || H->pci_msi_enabled(s->dev)) {
        s->dma_depth++; /* the message address may be our own BAR */
        trace_megasas_irq(1, 1);
        H->pci_notify(s->dev, 0);
        s->dma_depth--;
    } else {
        update_intx(s);
    }
}

/* A reply posted: the status bit at once, the interrupt when the batch
 * ends (1.11), one for all of a batch's replies (a message or the INTx
 * level a reply each took ~140 instructions, callgrind). */
static void raise_reply(megasas *s)
{
    s->osts |= MFI_1078_RM;
    if (s->has_defer) {
        /* Once a batch: the core would find it queued, ~40 instructions a
         * reply (callgrind). Set first: outside a batch it runs at once. */
        if (!s->raise_deferred) {
            s->raise_deferred = true;
            H->defer_call(s->dev, raise_now, s);
        }
    } else {
        raise_now(s);
    }
}

/* ---- completion ---- */

/* Frames in flight are a doubly linked list: at QD 32 a search for the
 * one completing was most of the completion's cost (cache misses). */
static void cmd_link(megasas *s, mcmd *c)
{
    c->next = s->cmds;
    c->pprev = &s->cmds;
    if (s->cmds) {
        s->cmds->pprev = &c->next;
    }
    s->cmds = c;
    s->ncmds++;
}

static void cmd_remove(megasas *s, mcmd *c)
{
    *c->pprev = c->next;
    if (c->next) {
        c->next->pprev = c->pprev;
    }
    s->ncmds--;
}

#if defined(__SANITIZE_ADDRESS__)
#define SPARE_CMDS 0 /* under ASan a finished frame is freed: use after free shows */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPARE_CMDS 0
#endif
#endif
#ifndef SPARE_CMDS
#define SPARE_CMDS 64
#endif

/* A frame record, uninitialised (the caller fills it whole). */
static mcmd *cmd_alloc(megasas *s)
{
    mcmd *c = s->spare;

    if (!c) {
        return malloc(sizeof(*c)); /* not calloc: that skips glibc's per-thread cache */
    }
    s->spare = c->next;
    s->nspare--;
    return c;
}

static void cmd_unlink(megasas *s, mcmd *c)
{
    cmd_remove(s, c);
    if (s->nspare >= SPARE_CMDS) {
        free(c);
        return;
    }
    c->next = s->spare;
    s->spare = c;
    s->nspare++;
}

static void spares_free(megasas *s)
{
    while (s->spare) {
        mcmd *c = s->spare;

        s->spare = c->next;
        free(c);
    }
    s->nspare = 0;
}

/* The context into the reply queue, the producer index after it. A full
 * queue (the driver stopped consuming) loses the completion: writing over
 * an entry not consumed yet would lose another one anyway. */
/* A reply queue index the guest wrote, modulo the queue's size: without
 * a division (~20 cycles, two a reply) when it is in range, as it is. */
static uint32_t queue_index(const megasas *s, uint32_t v)
{
    return v < s->rq_entries ? v : v % s->rq_entries;
}

/* Map the reply queue and its indexes for generation gen; false (and
 * nothing kept) when one of them is not wholly in RAM. */
static bool reply_map(megasas *s, uint64_t gen, uint32_t width)
{
    uint64_t rq_len = (uint64_t)s->rq_entries * width, n = rq_len, pn = 4, cn = 4;

    s->ring_gen = 0;
    if (!gen) {
        return false;
    }
    s->rq_host = H->dma_map(s->dev, s->rq_pa, &n, true);
    s->pi_host = H->dma_map(s->dev, s->pi_pa, &pn, true);
    s->ci_host = H->dma_map(s->dev, s->ci_pa, &cn, false);
    if (!s->rq_host || n < rq_len || !s->pi_host || pn < 4 || !s->ci_host || cn < 4) {
        return false;
    }
    s->ring_gen = gen;
    return true;
}

/* Whether the reply queue and its indexes are mapped for the generation
 * gen (0: read it here), mapping them when not: then the reply goes
 * through the kept pointers, else through the page cache (dma-cache.h)
 * or the core. */
static bool reply_kept(megasas *s, uint32_t width, uint64_t gen)
{
    if (!gen && s->dc.usable) {
        gen = H->dma_generation(s->dev);
    }
    return gen && (gen == s->ring_gen || reply_map(s, gen, width));
}

/* A write of len bytes at the queue's addr (kept: the host pointer). */
static inline int reply_write(megasas *s, bool kept, uint8_t *host, uint64_t addr, const void *buf,
                       uint32_t len)
{
    if (!kept) {
        return mfi_dma_write(s, addr, buf, len);
    }
    memcpy(host, buf, len);
    H->dma_unmap(s->dev, host, len, true);
    return TES_MEM_OK;
}

static void post_reply(megasas *s, uint64_t context, uint64_t gen)
{
    uint32_t width = s->ctx64 ? 8 : 4, next;
    uint64_t off;
    uint8_t ci[4], ent[8];
    bool kept;

    if (s->rq_entries < 2 || s->producer >= s->rq_entries) {
        return; /* only a refused migration stream leaves these */
    }
    next = s->producer + 1 == s->rq_entries ? 0 : s->producer + 1; /* no div */
    kept = reply_kept(s, width, gen);
    if (kept) {
        memcpy(ci, s->ci_host, 4);
    } else if (mfi_dma_read(s, s->ci_pa, ci, 4) != TES_MEM_OK) {
        mfi_guest_error(s, "consumer index at 0x%llx is not in RAM",
                        (unsigned long long)s->ci_pa);
        return;
    }
    if (next == queue_index(s, mfi_le32(ci))) {
        mfi_guest_error(s, "reply queue full (%u entries), completion of context 0x%llx lost",
                        s->rq_entries, (unsigned long long)context);
        return;
    }
    mfi_st64(ent, context);
    off = (uint64_t)s->producer * width;
    if (reply_write(s, kept, kept ? s->rq_host + off : NULL, s->rq_pa + off, ent, width) !=
        TES_MEM_OK) {
        mfi_guest_error(s, "reply queue at 0x%llx is not in RAM", (unsigned long long)s->rq_pa);
        return;
    }
    s->producer = next;
    mfi_st32(ci, next);
    reply_write(s, kept, s->pi_host, s->pi_pa, ci, 4);
    raise_reply(s);
}

/* Status into the frame, then the reply queue unless the frame said not
 * to (polled frames); c is freed. */
static void cmd_finish(megasas *s, mcmd *c, uint8_t status, uint8_t scsi_status,
                       uint8_t sense_len)
{
    uint8_t b[3] = {sense_len, status, scsi_status};
    uint64_t gen = 0; /* one generation read for the status and the reply */

    if (c->cmd == MFI_CMD_DCMD || c->cmd == MFI_CMD_INIT || c->cmd == MFI_CMD_ABORT) {
        mfi_dma_write_gen(s, &gen, c->frame + FR_STATUS, &status, 1);
    } else {
        mfi_dma_write_gen(s, &gen, c->frame + FR_SENSE_LEN, b, 3);
    }
    if (!(c->flags & MFI_FRAME_DONT_POST)) {
        if (s->rq_entries) {
            post_reply(s, c->context, gen);
        } else {
            mfi_guest_error(s, "frame at 0x%llx to post before the INIT frame",
                            (unsigned long long)c->frame);
        }
    }
    cmd_unlink(s, c);
}

/* ---- scatter-gather ---- */

uint32_t mfi_sgl_read_any(megasas *s, uint64_t frame, const uint8_t *hdr, uint32_t off,
                          uint16_t flags, unsigned count, msgl *out)
{
    unsigned esz = flags & MFI_FRAME_IEEE ? 16 : flags & MFI_FRAME_SGL64 ? 12 : 8;
    uint8_t all[MFI_MAX_SGE * 16];
    const uint8_t *sg = all;

    out->n = 0;
    out->total = 0;
    if (count > s->max_sge) {
        mfi_guest_error(s, "frame at 0x%llx: %u SGEs, the firmware said %u at most",
                        (unsigned long long)frame, count, s->max_sge);
        return MFI_STAT_INVALID_PARAMETER;
    }
    if (off + count * esz <= MFI_FRAME_SIZE) {
        sg = hdr + off; /* one or two SGEs of an I/O frame: no second DMA */
    } else if (mfi_dma_read(s, frame + off, all, count * esz) != TES_MEM_OK) {
        mfi_guest_error(s, "frame at 0x%llx: SGL runs out of RAM", (unsigned long long)frame);
        return MFI_STAT_MEMORY_NOT_AVAILABLE;
    }
    for (unsigned i = 0; i < count; i++) {
        const uint8_t *raw = sg + i * esz;
        uint64_t addr;
        uint32_t len;

        addr = esz == 8 ? mfi_le32(raw) : mfi_le32(raw) | (uint64_t)mfi_le32(raw + 4) << 32;
        len = mfi_le32(raw + (esz == 8 ? 4 : 8));
        if (len) {
            out->sg[out->n].addr = addr;
            out->sg[out->n++].len = len;
            out->total += len;
        }
    }
    return MFI_STAT_OK;
}

uint32_t mfi_sgl_write(megasas *s, const msgl *sgl, uint64_t limit, const void *buf,
                       uint64_t len)
{
    uint64_t done = 0;

    len = len < limit ? len : limit;
    for (unsigned i = 0; i < sgl->n && done < len; i++) {
        uint64_t n = sgl->sg[i].len < len - done ? sgl->sg[i].len : len - done;

        if (mfi_dma_write(s, sgl->sg[i].addr, (const uint8_t *)buf + done, n) !=
            TES_MEM_OK) {
            mfi_guest_error(s, "SGE %u (0x%llx, %llu bytes) is not in RAM", i,
                            (unsigned long long)sgl->sg[i].addr, (unsigned long long)n);
            return MFI_STAT_MEMORY_NOT_AVAILABLE;
        }
        done += n;
    }
    return MFI_STAT_OK;
}

/* ---- SCSI commands: LD READ/WRITE, LD/PD pass-through ---- */

static void hba_complete(void *opaque, tes_scsi_req *req)
{
    megasas *s = opaque;
    mcmd *c = *(mcmd **)req->priv;
    uint8_t status = MFI_STAT_OK, sense_len = 0;

    c->req = NULL;
    if (c->dead) {
        cmd_unlink(s, c); /* aborted by a reset: nothing reaches the guest */
        return;
    }
    switch (req->host_status) {
    case TES_SCSI_HOST_OK:
        if (req->status != TES_SCSI_GOOD) {
            status = MFI_STAT_SCSI_DONE_WITH_ERROR;
        }
        break;
    case TES_SCSI_HOST_NO_TARGET:
        status = MFI_STAT_DEVICE_NOT_FOUND;
        break;
    default:
        status = MFI_STAT_SCSI_IO_FAILED;
        break;
    }
    if (req->sense_len && c->sense_len) {
        sense_len = req->sense_len < c->sense_len ? req->sense_len : c->sense_len;
        if (mfi_dma_write(s, c->sense_addr, req->sense, sense_len) != TES_MEM_OK) {
            mfi_guest_error(s, "sense buffer at 0x%llx is not in RAM",
                            (unsigned long long)c->sense_addr);
            sense_len = 0;
        }
    }
    cmd_finish(s, c, status, req->status, sense_len);
}

/* LD n is the device at scsi-id n, LUN 0 (QEMU's numbering); none with
 * use_jbod (the devices are system physical drives then). */
static bool ld_present(megasas *s, uint32_t id)
{
    return !s->use_jbod && id < MFI_MAX_LD && scsi_bus_lu(s->sbus, 0, id, 0);
}

static uint32_t scsi_submit(megasas *s, mcmd *c, uint32_t id, uint32_t lun, const uint8_t *cdb,
                            unsigned cdb_len, tes_scsi_dir dir, const msgl *sgl)
{
    tes_scsi_req *req = scsi_ops.req_new(s->sbus, 0, id, lun, c->context, cdb, cdb_len,
                                         sizeof(mcmd *));
    int ret;

    if (!req) {
        return MFI_STAT_SCSI_IO_FAILED;
    }
    *(mcmd **)req->priv = c;
    ret = sgl->n ? scsi_ops.req_map(req, s->dev, dir, sgl->sg, sgl->n) : 0;
    if (ret < 0) {
        mfi_guest_error(s, "frame at 0x%llx: SGL of %u entries cannot be mapped (%d)",
                        (unsigned long long)c->frame, sgl->n, ret);
        scsi_ops.req_free(req);
        return ret == -EFAULT ? MFI_STAT_MEMORY_NOT_AVAILABLE : MFI_STAT_INVALID_PARAMETER;
    }
    if (!sgl->n) {
        req->dir = TES_SCSI_DIR_NONE;
    }
    c->req = req;
    scsi_ops.req_submit(req); /* hba_complete may run before this returns */
    return MFI_PENDING;
}

static tes_scsi_dir frame_dir(uint16_t flags)
{
    switch (flags & (MFI_FRAME_DIR_READ | MFI_FRAME_DIR_WRITE)) {
    case MFI_FRAME_DIR_READ: return TES_SCSI_DIR_FROM_DEV;
    case MFI_FRAME_DIR_WRITE: return TES_SCSI_DIR_TO_DEV;
    default: return TES_SCSI_DIR_NONE;
    }
}

static void sense_setup(mcmd *c, const uint8_t *hdr)
{
    c->sense_len = hdr[FR_SENSE_LEN] < MFI_SENSE_MAX ? hdr[FR_SENSE_LEN] : MFI_SENSE_MAX;
    c->sense_addr = mfi_le32(hdr + FR_SENSE_LO);
    if (c->flags & MFI_FRAME_SENSE64) {
        c->sense_addr |= (uint64_t)mfi_le32(hdr + FR_SENSE_HI) << 32;
    }
}

static uint32_t do_scsi(megasas *s, mcmd *c, const uint8_t *hdr)
{
    bool ld = c->cmd == MFI_CMD_LD_SCSI_IO;
    uint32_t id = hdr[FR_TARGET], lun = hdr[FR_LUN], st;
    unsigned cdb_len = hdr[FR_CDB_LEN];
    tes_scsi_dir dir = frame_dir(c->flags);
    msgl *sgl = &s->io_sgl;

    sense_setup(c, hdr);
    if (cdb_len == 0 || cdb_len > 16) {
        mfi_guest_error(s, "pass-through CDB of %u bytes", cdb_len);
        return MFI_STAT_INVALID_PARAMETER;
    }
    if (ld && (lun != 0 || !ld_present(s, id))) {
        return MFI_STAT_DEVICE_NOT_FOUND;
    }
    if (dir == TES_SCSI_DIR_NONE && hdr[FR_SGE_COUNT] && mfi_le32(hdr + FR_XFER_LEN)) {
        mfi_guest_error(s, "pass-through with data but no direction (flags 0x%x)", c->flags);
        return MFI_STAT_INVALID_PARAMETER;
    }
    st = dir == TES_SCSI_DIR_NONE ? (sgl->n = 0, MFI_STAT_OK)
                                  : mfi_sgl_read(s, c->frame, hdr, SGL_PASS, c->flags,
                                                 hdr[FR_SGE_COUNT], sgl);
    if (st == MFI_STAT_OK) {
        st = scsi_submit(s, c, id, lun, hdr + FR_CDB, cdb_len, dir, sgl);
    }
    return st;
}

/* LD READ/WRITE: a READ 16 / WRITE 16 of the logical drive (FUA from the
 * access byte, as the driver copies CDB byte 1 there). */
static uint32_t do_ldio(megasas *s, mcmd *c, const uint8_t *hdr)
{
    bool write = c->cmd == MFI_CMD_LD_WRITE;
    uint32_t id = hdr[FR_TARGET], st;
    uint64_t lba = mfi_le32(hdr + FR_LBA_LO) | (uint64_t)mfi_le32(hdr + FR_LBA_HI) << 32;
    uint8_t cdb[16] = {write ? 0x8a : 0x88, hdr[FR_LUN] & 0x08};
    msgl *sgl = &s->io_sgl;

    sense_setup(c, hdr);
    if (!ld_present(s, id)) {
        return MFI_STAT_DEVICE_NOT_FOUND;
    }
    st_be64(cdb + 2, lba);
    st_be32(cdb + 10, mfi_le32(hdr + FR_XFER_LEN));
    st = mfi_sgl_read(s, c->frame, hdr, SGL_IO, c->flags, hdr[FR_SGE_COUNT], sgl);
    if (st == MFI_STAT_OK) {
        st = scsi_submit(s, c, id, 0, cdb, 16,
                         write ? TES_SCSI_DIR_TO_DEV : TES_SCSI_DIR_FROM_DEV, sgl);
    }
    return st;
}

/* ---- events ---- */

/* The pending event into the first parked EVENT_WAIT, which completes;
 * the driver re-reads its drive lists and waits again. */
void mfi_event_deliver(megasas *s)
{
    uint8_t d[MFI_EVT_DETAIL_SIZE] = {0};
    mcmd *c = s->cmds;

    while (c && !c->aen) {
        c = c->next;
    }
    if (!c || !s->ev_pending) {
        return;
    }
    s->ev_pending = false;
    mfi_st32(d, s->event_seq);
    mfi_st32(d + 8, s->ev_code);
    bool pd = s->ev_code == MR_EVT_PD_INSERTED || s->ev_code == MR_EVT_PD_REMOVED;
    mfi_st16(d + 12, pd ? 0x0002 : 0x0001); /* locale PD / LD, class INFO */
    d[16] = pd ? 0x0a : 0x02;                 /* argument: a PD / an LD */
    mfi_st16(d + 32, s->ev_target);
    d[34] = s->ev_target;
    snprintf((char *)d + 128, 128, "%s %u %s", pd ? "PD" : "VD", s->ev_target,
             s->ev_code == MR_EVT_LD_CREATED || s->ev_code == MR_EVT_PD_INSERTED ? "added"
                                                                                : "removed");
    if (c->evt_len && mfi_dma_write(s, c->evt_addr, d, c->evt_len < sizeof(d) ?
                                   c->evt_len : sizeof(d)) != TES_MEM_OK) {
        mfi_guest_error(s, "event detail at 0x%llx is not in RAM",
                        (unsigned long long)c->evt_addr);
    }
    c->aen = false;
    cmd_finish(s, c, MFI_STAT_OK, 0, 0);
}

/* A device plugged or unplugged while the driver runs: an LD (or, with
 * use_jbod, a PD) event, as the firmware reports a drive change. */
static void hotplug_event(megasas *s, uint32_t id, uint32_t lun, bool added)
{
    if (s->fw_state != MFI_FWSTATE_OPERATIONAL || (!s->use_jbod && (lun || id >= MFI_MAX_LD))) {
        return;
    }
    s->event_seq++;
    s->ev_pending = true;
    s->ev_target = id;
    s->ev_code = s->use_jbod ? (added ? MR_EVT_PD_INSERTED : MR_EVT_PD_REMOVED)
                             : (added ? MR_EVT_LD_CREATED : MR_EVT_LD_DELETED);
    mfi_event_deliver(s);
}

static void hba_attached(void *opaque, uint32_t channel, uint32_t id, uint32_t lun)
{
    hotplug_event(opaque, id, lun, true);
}

static void hba_detached(void *opaque, uint32_t channel, uint32_t id, uint32_t lun)
{
    hotplug_event(opaque, id, lun, false);
}

/* ---- INIT and ABORT ---- */

static uint32_t do_init(megasas *s, const uint8_t *hdr)
{
    uint64_t qi = mfi_le32(hdr + FR_QINFO_LO) | (uint64_t)mfi_le32(hdr + FR_QINFO_HI) << 32;
    uint8_t q[32], pi[4];
    uint32_t entries;

    if (s->fw_state != MFI_FWSTATE_READY) {
        mfi_guest_error(s, "INIT frame while the firmware is not READY (0x%x)", s->fw_state);
        return MFI_STAT_WRONG_STATE;
    }
    if (mfi_dma_read(s, qi, q, sizeof(q)) != TES_MEM_OK) {
        mfi_guest_error(s, "INIT: queue info at 0x%llx is not in RAM", (unsigned long long)qi);
        return MFI_STAT_MEMORY_NOT_AVAILABLE;
    }
    entries = mfi_le32(q + 4);
    if (entries < 2 || entries > s->max_cmds + 1) {
        mfi_guest_error(s, "INIT: reply queue of %u entries (2..%u)", entries, s->max_cmds + 1);
        return MFI_STAT_INVALID_PARAMETER;
    }
    s->ctx64 = mfi_le32(q) & MFI_QUEUE_FLAG_CONTEXT64;
    s->rq_pa = mfi_le32(q + 8) | (uint64_t)mfi_le32(q + 12) << 32;
    s->pi_pa = mfi_le32(q + 16) | (uint64_t)mfi_le32(q + 20) << 32;
    s->ci_pa = mfi_le32(q + 24) | (uint64_t)mfi_le32(q + 28) << 32;
    s->ring_gen = 0;
    if (mfi_dma_read(s, s->pi_pa, pi, 4) != TES_MEM_OK ||
        mfi_dma_read(s, s->ci_pa, q, 4) != TES_MEM_OK) {
        mfi_guest_error(s, "INIT: producer/consumer index not in RAM");
        s->rq_pa = s->pi_pa = s->ci_pa = 0;
        return MFI_STAT_MEMORY_NOT_AVAILABLE;
    }
    s->rq_entries = entries;
    s->producer = mfi_le32(pi) % entries;
    s->fw_state = MFI_FWSTATE_OPERATIONAL;
    return MFI_STAT_OK;
}

/* Only parked event waits can be aborted (everything else completes on
 * its own). The aborted wait is dropped without a reply, as QEMU's
 * megasas does: Linux waits for the ABORT frame only. */
static uint32_t do_abort(megasas *s, const uint8_t *hdr)
{
    uint64_t ctx = mfi_le32(hdr + FR_ABORT_CONTEXT);
    uint64_t addr = mfi_le32(hdr + FR_ABORT_ADDR_LO) |
                    (uint64_t)mfi_le32(hdr + FR_ABORT_ADDR_HI) << 32;

    if (s->ctx64) {
        ctx |= (uint64_t)mfi_le32(hdr + FR_ABORT_CONTEXT + 4) << 32;
    }
    for (mcmd *c = s->cmds; c; c = c->next) {
        if (c->frame == addr && c->context == ctx) {
            if (!c->aen) {
                return MFI_STAT_ABORT_NOT_POSSIBLE;
            }
            cmd_unlink(s, c);
            return MFI_STAT_OK;
        }
    }
    return MFI_STAT_OK; /* already completed */
}

/* ---- frames ---- */

static uint32_t dispatch(megasas *s, mcmd *c, const uint8_t *hdr)
{
    if (c->cmd != MFI_CMD_INIT && s->fw_state != MFI_FWSTATE_OPERATIONAL) {
        mfi_guest_error(s, "frame command %u before the INIT frame", c->cmd);
        return MFI_STAT_WRONG_STATE;
    }
    switch (c->cmd) {
    case MFI_CMD_INIT: return do_init(s, hdr);
    case MFI_CMD_LD_READ:
    case MFI_CMD_LD_WRITE: return do_ldio(s, c, hdr);
    case MFI_CMD_LD_SCSI_IO:
    case MFI_CMD_PD_SCSI_IO: return do_scsi(s, c, hdr);
    case MFI_CMD_DCMD: return mfi_dcmd(s, c, hdr);
    case MFI_CMD_ABORT: return do_abort(s, hdr);
    default:
        mfi_guest_error(s, "frame at 0x%llx: unknown command 0x%x",
                        (unsigned long long)c->frame, c->cmd);
        return MFI_STAT_INVALID_CMD;
    }
}

/* Field by field: a compound literal of the record became a `rep stos`,
 * dear at every frame (perf). */
static void frame_init(mcmd *c, megasas *s, uint64_t addr, const uint8_t *hdr)
{
    c->s = s;
    c->next = NULL;
    c->pprev = NULL;
    c->frame = addr;
    c->context = mfi_le32(hdr + FR_CONTEXT);
    c->sense_addr = 0;
    c->flags = mfi_le16(hdr + FR_FLAGS);
    c->cmd = hdr[FR_CMD];
    c->sense_len = 0;
    c->req = NULL;
    c->aen = false;
    c->evt_addr = 0;
    c->evt_len = 0;
    c->dead = false;
}

static void handle_frame(megasas *s, uint64_t addr)
{
    uint8_t hdr[MFI_FRAME_SIZE];
    uint32_t st;
    mcmd *c;

    if (s->fw_state == MFI_FWSTATE_FAULT) {
        mfi_guest_error(s, "frame at 0x%llx while the firmware is in FAULT: dropped",
                        (unsigned long long)addr);
        return;
    }
    if (mfi_dma_read(s, addr, hdr, sizeof(hdr)) != TES_MEM_OK) {
        mfi_guest_error(s, "frame at 0x%llx is not in RAM: dropped", (unsigned long long)addr);
        return;
    }
    c = cmd_alloc(s);
    if (!c) {
        return;
    }
    frame_init(c, s, addr, hdr);
    if (s->ctx64) {
        c->context |= (uint64_t)mfi_le32(hdr + FR_CONTEXT + 4) << 32;
    }
    cmd_link(s, c);
    if (s->ncmds > s->max_cmds) {
        mfi_guest_error(s, "more than %u frames in flight", s->max_cmds);
        cmd_finish(s, c, MFI_STAT_INVALID_PARAMETER, 0, 0);
        return;
    }
    /* A bus request may complete (and free c) before dispatch returns. */
    st = dispatch(s, c, hdr);
    if (st != MFI_PENDING) {
        cmd_finish(s, c, st, 0, 0);
    } else if (hdr[FR_CMD] == MFI_CMD_DCMD) {
        mfi_event_deliver(s); /* a parked event wait: an event that came before it */
    }
}

/* End every frame in flight without posting it: bus requests are aborted
 * (their completion finds the frame dead), parked event waits dropped. */
static mcmd *first_on_bus(megasas *s)
{
    mcmd *c = s->cmds;

    while (c && !c->req) {
        c = c->next;
    }
    return c;
}

static void abort_all(megasas *s)
{
    unsigned tries = s->ncmds;
    mcmd *c;

    for (c = s->cmds; c; c = c->next) {
        c->dead = true;
    }
    /* Abort task set of each LUN with requests (no unit attention); a bus
     * reset if that left any (it ends every request). */
    while ((c = first_on_bus(s)) && tries--) {
        scsi_ops.tmf(s->sbus, TES_SCSI_TMF_ABORT_TASK_SET, c->req->channel, c->req->id,
                     c->req->lun, 0);
    }
    if (first_on_bus(s)) {
        scsi_ops.tmf(s->sbus, TES_SCSI_TMF_BUS_RESET, 0, 0, 0, 0);
    }
    for (mcmd *d = s->cmds, *next; d; d = next) {
        next = d->next;
        if (!d->req) { /* with one: cannot happen after a bus reset; left for its completion */
            cmd_unlink(s, d);
        }
    }
}

static void soft_reset(megasas *s)
{
    abort_all(s);
    s->fw_state = MFI_FWSTATE_READY;
    s->intr_mask = 0xffffffffu;
    s->osts = 0;
    s->frame_hi = 0;
    s->rq_pa = s->pi_pa = s->ci_pa = 0;
    s->rq_entries = s->producer = 0;
    s->ring_gen = 0;
    s->ctx64 = false;
    s->ev_pending = false;
    update_intx(s);
}

/* ---- registers ---- */

static uint32_t fw_status(megasas *s)
{
    return (s->msix ? MFI_FWSTATE_MSIX_SUPPORTED : 0) | s->fw_state | (s->max_sge & 0xff) << 16 |
           (s->max_cmds & 0xffff);
}

static uint64_t reg_read(void *opaque, uint64_t off, unsigned size)
{
    megasas *s = opaque;

    switch (off) {
    case MFI_OMSG0:
    case MFI_OSP0: return fw_status(s);
    case MFI_OSTS: return s->osts;
    case MFI_OMSK: return s->intr_mask;
    case MFI_ODCR0: return s->osts ? 1 : 0;
    default: return 0;
    }
}

static void doorbell(megasas *s, uint32_t val)
{
    if (val & MFI_FWINIT_ABORT) {
        abort_all(s);
    }
    if (val & MFI_FWINIT_READY) {
        soft_reset(s);
    }
    if (val & MFI_FWINIT_STOP_ADP) {
        abort_all(s);
        s->fw_state = MFI_FWSTATE_FAULT;
    }
}

static void reg_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    megasas *s = opaque;
    uint32_t v = (uint32_t)val;

    if (s->dma_depth) {
        mfi_guest_error(s, "DMA or MSI into the registers (0x%llx) ignored",
                        (unsigned long long)off);
        return;
    }
    switch (off) {
    case MFI_IDB:
        doorbell(s, v);
        break;
    case MFI_OMSK: {
        bool was = intr_enabled(s);
        s->intr_mask = v;
        if (!was && intr_enabled(s) && (s->osts & MFI_1078_RM)) {
            raise_reply(s); /* a reply posted while masked */
        }
        update_intx(s);
        break;
    }
    case MFI_ODCR0:
        s->osts &= ~v;
        update_intx(s);
        break;
    case MFI_IQPH:
        s->frame_hi = v;
        break;
    case MFI_IQP:
    case MFI_IQPL:
        /* Frames are 64-byte aligned; bits 1..5 carry the frame count,
         * which the SGE count already tells. */
        handle_frame(s, (v & ~0x3fu) | (off == MFI_IQPL ? (uint64_t)s->frame_hi << 32 : 0));
        s->frame_hi = 0;
        break;
    default:
        break;
    }
}

TES_TRACE_RW_WRAP(reg, reg_read, reg_write, megasas_mmio_read, megasas_mmio_write)

static const tes_mem_ops reg_ops = {
    .size = sizeof(tes_mem_ops),
    .read = reg_traced_read,
    .write = reg_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 4, .valid_max = 4,
    .impl_min = 4, .impl_max = 4,
};

static uint64_t port_read(void *opaque, uint64_t off, unsigned size)
{
    return reg_read(opaque, off & 0xff, size);
}

static void port_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    reg_write(opaque, off & 0xff, val, size);
}

TES_TRACE_RW_WRAP(port, port_read, port_write, megasas_port_read, megasas_port_write)

static const tes_mem_ops port_ops = {
    .size = sizeof(tes_mem_ops),
    .read = port_traced_read,
    .write = port_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 4, .valid_max = 4,
    .impl_min = 4, .impl_max = 4,
};

static uint64_t queue_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void queue_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
}

TES_TRACE_RW_WRAP(queue, queue_read, queue_write, megasas_queue_read, megasas_queue_write)

static const tes_mem_ops queue_ops = {
    .size = sizeof(tes_mem_ops),
    .read = queue_traced_read,
    .write = queue_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8,
};

/* ---- the device ---- */

static const tes_scsi_hba_ops hba_ops = {
    .size = sizeof(tes_scsi_hba_ops),
    .complete = hba_complete,
    .attached = hba_attached,
    .detached = hba_detached,
};

static int setup_bars(tes_device *dev, megasas *s)
{
    tes_region *bar0 = H->region_new_container(dev, "megasas-bar0", MFI_BAR0_SIZE);
    tes_region *regs = H->region_new_io(dev, "megasas-mmio", MFI_REGS_SIZE, &reg_ops, s);
    tes_region *io = H->region_new_io(dev, "megasas-io", 256, &port_ops, s);
    tes_region *q = H->region_new_io(dev, "megasas-queue", MFI_QUEUE_BAR_SIZE, &queue_ops, s);
    int ret;

    H->region_add(bar0, 0, regs, 0);
    ret = H->pci_register_bar(dev, 0, TES_PCI_BAR_MEM64, bar0);
    ret = ret ?: H->pci_register_bar(dev, 2, TES_PCI_BAR_IO, io);
    ret = ret ?: H->pci_register_bar(dev, 3, TES_PCI_BAR_MEM64, q);
    if (ret == 0 && s->msi) {
        ret = H->pci_msi_init(dev, 0x50, 1, true, false);
    }
    if (ret >= 0 && s->msix) {
        ret = H->pci_msix_init(dev, 0x68, MFI_MSIX_VECTORS, 0, bar0, MFI_MSIX_TABLE,
                               MFI_MSIX_PBA);
    }
    if (ret < 0) {
        H->error(dev, "megasas: cannot set up the BARs and MSI/MSI-X capabilities (%d)", ret);
        return ret;
    }
    return 0;
}

static int mg_realize(tes_device *dev, void *st)
{
    megasas *s = st;
    tes_scsi_bus_info bi = {.size = sizeof(bi), .max_channel = 0, .max_target = MFI_MAX_LD - 1,
                            .max_lun = 255, .ops = &hba_ops, .opaque = s};
    int ret;

    s->dev = dev;
    dcache_init(&s->dc, dev);
    s->has_defer = H->size >= offsetof(tes_host, defer_call) + sizeof(void *);
    if (s->max_sge < 16 || s->max_sge > MFI_MAX_SGE || s->max_cmds < 16 ||
        s->max_cmds > MFI_MAX_CMDS) {
        H->error(dev, "megasas: max_sge wants 16..%u and max_cmds 16..%u (got %u, %u)",
                 MFI_MAX_SGE, MFI_MAX_CMDS, s->max_sge, s->max_cmds);
        return -EINVAL;
    }
    ret = setup_bars(dev, s);
    if (ret < 0) {
        return ret;
    }
    s->sbus = scsi_ops.bus_new(dev, NULL, &bi);
    if (!s->sbus) {
        return -EINVAL;
    }
    s->fw_state = MFI_FWSTATE_READY;
    s->intr_mask = 0xffffffffu;
    return 0;
}

static void mg_unrealize(tes_device *dev, void *st)
{
    megasas *s = st;

    abort_all(s);
    scsi_ops.bus_free(s->sbus);
    s->sbus = NULL;
    spares_free(s);
}

static void mg_reset(tes_device *dev, void *st)
{
    soft_reset(st);
}

/* Migration: bus requests are drained first, so what stays in flight are
 * the parked event waits: saved as (frame, context, flags). */
static int mg_pre_save(tes_device *dev, void *st)
{
    megasas *s = st;

    scsi_ops.drain(s->sbus);
    return 0;
}

static int mg_save(tes_device *dev, void *st, tes_stream *out)
{
    megasas *s = st;
    uint8_t b[32];
    uint32_t n = 0;

    for (mcmd *c = s->cmds; c; c = c->next) {
        n += c->aen;
    }
    mfi_st32(b, n);
    H->stream_write(out, b, 4);
    for (mcmd *c = s->cmds; c; c = c->next) {
        if (c->aen) {
            mfi_st64(b, c->frame);
            mfi_st64(b + 8, c->context);
            mfi_st32(b + 16, c->flags);
            mfi_st64(b + 20, c->evt_addr);
            mfi_st32(b + 28, c->evt_len);
            H->stream_write(out, b, 32);
        }
    }
    return 0;
}

static int load_aens(tes_device *dev, megasas *s, tes_stream *in)
{
    uint8_t b[32];
    uint32_t n;
    int ret = H->stream_read(in, b, 4);

    if (ret < 0) {
        return ret;
    }
    n = mfi_le32(b);
    if (n > s->max_cmds) {
        H->error(dev, "megasas: %u event waits in the stream (at most %u)", n, s->max_cmds);
        return -EINVAL;
    }
    for (uint32_t i = 0; i < n; i++) {
        mcmd *c;

        ret = H->stream_read(in, b, 32);
        c = ret < 0 ? NULL : calloc(1, sizeof(*c));
        if (!c) {
            return ret < 0 ? ret : -ENOMEM;
        }
        *c = (mcmd){.s = s, .frame = mfi_le64(b), .context = mfi_le64(b + 8),
                    .flags = (uint16_t)mfi_le32(b + 16), .cmd = MFI_CMD_DCMD, .aen = true,
                    .evt_addr = mfi_le64(b + 20), .evt_len = mfi_le32(b + 28)};
        cmd_link(s, c);
    }
    return 0;
}

static int mg_load(tes_device *dev, void *st, tes_stream *in, uint32_t version)
{
    megasas *s = st;
    int ret;

    abort_all(s);
    ret = load_aens(dev, s, in);
    if (ret < 0) {
        soft_reset(s); /* nothing of the refused stream stays to be used */
    }
    return ret;
}

static int mg_post_load(tes_device *dev, void *st, uint32_t version)
{
    megasas *s = st;
    uint32_t fw = s->fw_state;
    bool queue_ok;

    s->ring_gen = 0; /* the stream's addresses: map them anew */
    queue_ok = s->rq_entries >= 2 && s->rq_entries <= s->max_cmds + 1 &&
               s->producer < s->rq_entries;

    /* READY has no reply queue, OPERATIONAL one; FAULT (the doorbell's
     * STOP_ADP) keeps what it had. */
    if (!(fw == MFI_FWSTATE_READY && !s->rq_entries && !s->producer) &&
        !(fw == MFI_FWSTATE_OPERATIONAL && queue_ok) &&
        !(fw == MFI_FWSTATE_FAULT && (queue_ok || (!s->rq_entries && !s->producer)))) {
        H->error(dev, "megasas: firmware state 0x%x with a reply queue of %u entries, "
                 "producer %u in the stream", s->fw_state, s->rq_entries, s->producer);
        soft_reset(s); /* nothing of the refused stream stays to be used */
        return -EINVAL;
    }
    update_intx(s);
    return 0;
}

static const tes_state_field mg_fields[] = {
    TES_FIELD_U32(megasas, fw_state), TES_FIELD_U32(megasas, intr_mask),
    TES_FIELD_U32(megasas, osts), TES_FIELD_U32(megasas, frame_hi),
    TES_FIELD_U64(megasas, rq_pa), TES_FIELD_U64(megasas, pi_pa),
    TES_FIELD_U64(megasas, ci_pa), TES_FIELD_U32(megasas, rq_entries),
    TES_FIELD_U32(megasas, producer), TES_FIELD_BOOL(megasas, ctx64),
    TES_FIELD_U32(megasas, event_seq), TES_FIELD_BOOL(megasas, ev_pending),
    TES_FIELD_U32(megasas, ev_code), TES_FIELD_U32(megasas, ev_target),
    TES_FIELD_END,
};

static const tes_state_info mg_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = mg_fields,
    .pre_save = mg_pre_save,
    .post_load = mg_post_load,
    .save = mg_save,
    .load = mg_load,
};

static const tes_prop_info mg_props[] = {
    TES_PROP("max_sge", TES_PROP_U32, megasas, max_sge, "128", 16, MFI_MAX_SGE,
             "scatter-gather entries per frame"),
    TES_PROP("max_cmds", TES_PROP_U32, megasas, max_cmds, "1000", 16, MFI_MAX_CMDS,
             "frames in flight"),
    TES_PROP("msi", TES_PROP_BOOL, megasas, msi, "on", 0, 0, "MSI capability"),
    TES_PROP("msix", TES_PROP_BOOL, megasas, msix, "on", 0, 0, "MSI-X capability"),
    TES_PROP("use_jbod", TES_PROP_BOOL, megasas, use_jbod, "off", 0, 0,
             "list the devices as system physical drives too"),
    TES_PROP("sas_address", TES_PROP_U64, megasas, sas_addr, "0", 0, 0,
             "SAS address (0: from the PCI slot)"),
    TES_PROP("hba_serial", TES_PROP_STRING, megasas, hba_serial, DEFAULT_SERIAL, 0, 0,
             "controller serial number"),
    TES_PROP_END,
};

static const tes_pci_info mg_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1000,
    .device_id = 0x0060,
    .subsystem_vendor_id = 0x1000,
    .subsystem_id = 0x1013,
    .class_id = 0x0104, /* RAID bus controller */
    .irq_pin = 1,
};

const tes_type_info megasas_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "megasas",
    .desc = "LSI MegaRAID SAS 1078 host bus adapter",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(megasas),
    .props = mg_props,
    .realize = mg_realize,
    .unrealize = mg_unrealize,
    .reset = mg_reset,
    .state = &mg_state,
    .class_info = &mg_pci,
};
