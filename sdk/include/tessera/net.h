/*
 * tessera SDK: network backends (-netdev) as NICs see them (ABI 1.3).
 *
 * A NIC reaches its backend through a tes_netdev handle: a property of kind
 * TES_PROP_NETDEV (its value on the command line is a -netdev id) fills a
 * `tes_netdev *` field of the instance, NULL when netdev= was not given.
 * Every net_* entry of the host table accepts a NULL netdev: sends are
 * dropped (counted as sent), the link reads as up, no packet ever arrives.
 * So a NIC never tests for a backend.
 *
 * How a NIC uses it (the whole contract; e1000 and virtio-net do this):
 *
 *   typedef struct nic {
 *       tes_device *dev;
 *       tes_netdev *nd;     // TES_PROP_NETDEV "netdev"
 *       uint8_t mac[6];     // TES_PROP_MACADDR "mac"
 *       ...
 *   } nic;
 *
 *   static const tes_prop_info props[] = {
 *       TES_PROP("mac", TES_PROP_MACADDR, nic, mac, NULL, 0, 0, "MAC address"),
 *       TES_PROP("netdev", TES_PROP_NETDEV, nic, nd, NULL, 0, 0, "-netdev id"),
 *       TES_PROP_END,
 *   };
 *
 *   static const tes_net_ops ops = {
 *       .size = sizeof(tes_net_ops),
 *       .can_receive = nic_can_receive, // a free RX descriptor?
 *       .receive = nic_receive,         // copy into guest buffers
 *       .link_changed = nic_link,       // set STATUS.LU, raise LSC
 *   };
 *
 *   realize:  H->net_attach(dev, s->nd, &ops, s, s->mac);
 *             s->link_up = H->net_link_up(s->nd);
 *   TX:       H->net_send(s->nd, 0, NULL, iov, n);   // frame, no FCS
 *   RX:       the core calls ops.receive(s, 0, hdr, buf, len) when
 *             ops.can_receive(s, 0) says yes. Return len when the frame
 *             was taken (or deliberately dropped by a filter, or too big:
 *             the hardware drops those too), 0 when there is no buffer
 *             after all. On 0 (or can_receive false) the core keeps the
 *             frame and every later one, in order, and stops asking.
 *   guest posts RX buffers (RDT write, virtqueue kick):
 *             H->net_flush(s->nd, 0);  // the core retries queued frames
 *
 * A mac field left unset gets QEMU's next default (52:54:00:12:34:56, then
 * ...:57, ...), so the guest sees the addresses QEMU users expect.
 *
 * When things run. Every callback runs with the machine lock held, from
 * the main loop (or from a harness call), NEVER from inside a net_* call
 * the NIC makes: net_send and net_flush return before any receive or
 * link_changed runs, so a NIC may call them in the middle of a ring walk.
 * A backend that answers at once (slirp answering ARP) has its answer
 * queued and delivered from the main loop a moment later.
 *
 * Frames. Ethernet frames without preamble and FCS, from the destination
 * MAC on. Received frames may be shorter than 60 bytes (pad them if the
 * hardware would) and, with receive offloads enabled, up to 64 KiB plus
 * headers. Frames handed to net_send are copied or written before it
 * returns: the buffers can be reused at once.
 *
 * Queues. Queue numbers are the NIC's own (0 for single-queue NICs). A
 * multi-queue NIC says how many queue pairs the guest enabled with
 * net_set_queues (virtio-net's VQ_PAIRS_SET); net_queues tells how many
 * the backend has (tap queues=N; 1 for the others). When the backend has
 * as many, queue i is backend queue i; when it has fewer, the core spreads
 * received frames over the NIC's queues by a hash of the flow (addresses
 * and ports), so the same flow always lands on the same queue, and sends
 * from any queue go out through backend queue (queue % backend queues).
 *
 * Offloads (virtio-net header, virtio 1.2 section 5.1.6). net_send takes
 * an optional tes_net_hdr: NULL means a complete frame. A header may ask
 * for a partial checksum (TES_NET_HDR_F_NEEDS_CSUM) and segmentation
 * (gso_type): when the backend takes that natively (net_offloads, a tap
 * with vnet_hdr=on) the header is passed through, otherwise the core
 * finishes the frame in software first (checksum, then TCP/UDP
 * segmentation as Linux GSO does it: IPv4 id +1 per segment, sequence
 * numbers advanced, FIN/PSH on the last segment only, CWR on the first).
 * So a NIC may offer TSO to its guest whatever the backend.
 * In the other direction, received frames are complete (hdr NULL or all
 * zero) unless the NIC enabled receive offloads with net_set_rx_offloads;
 * then hdr may carry NEEDS_CSUM/DATA_VALID and GSO within the mask
 * enabled. A NIC that does not understand the header never enables it.
 */
#ifndef TESSERA_NET_H
#define TESSERA_NET_H

#include <tessera/types.h>

struct iovec;

/* The virtio-net header minus num_buffers, in host byte order (the core
 * converts for the backend; a virtio device converts from the guest). */
typedef struct tes_net_hdr {
    uint8_t flags;        /* TES_NET_HDR_F_* */
    uint8_t gso_type;     /* TES_NET_GSO_*, possibly | TES_NET_GSO_ECN */
    uint16_t hdr_len;     /* bytes of Ethernet+IP+TCP/UDP headers */
    uint16_t gso_size;    /* payload bytes per segment */
    uint16_t csum_start;  /* checksum everything from this offset ... */
    uint16_t csum_offset; /* ... into csum_start + csum_offset */
} tes_net_hdr;

#define TES_NET_HDR_F_NEEDS_CSUM 1 /* checksum not computed yet */
#define TES_NET_HDR_F_DATA_VALID 2 /* received: checksum verified */

#define TES_NET_GSO_NONE 0
#define TES_NET_GSO_TCPV4 1
#define TES_NET_GSO_UDP 3 /* UFO: IPv4 fragments */
#define TES_NET_GSO_TCPV6 4
#define TES_NET_GSO_ECN 0x80 /* with TCPV4/TCPV6: the sender set CWR */

/* Offload masks: what a backend takes in sent frames natively
 * (net_offloads) and what a NIC accepts in received frames
 * (net_set_rx_offloads). */
#define TES_NET_OFFLOAD_CSUM (1u << 0) /* partial checksums */
#define TES_NET_OFFLOAD_TSO4 (1u << 1)
#define TES_NET_OFFLOAD_TSO6 (1u << 2)
#define TES_NET_OFFLOAD_ECN (1u << 3)
#define TES_NET_OFFLOAD_UFO (1u << 4)

/* The largest frame the core carries: 64 KiB of GSO payload plus headers. */
#define TES_NET_MAX_FRAME (65536 + 256)

/* The NIC's side, given to net_attach. */
typedef struct tes_net_ops {
    uint32_t size; /* sizeof(tes_net_ops) */
    /* Can queue take a frame now? NULL: always. Cheap, called often. */
    bool (*can_receive)(void *opaque, unsigned queue);
    /*
     * A frame for queue (see the header comment for hdr). Returns len when
     * the frame was consumed (delivered, or dropped as the hardware would
     * drop it), 0 when it could not be taken now: the core keeps it and
     * retries after net_flush. Never called from inside a net_* call.
     */
    int (*receive)(void *opaque, unsigned queue, const tes_net_hdr *hdr, const uint8_t *buf,
                   size_t len);
    /* QMP set_link / HMP set_link changed the link; NULL: not interested. */
    void (*link_changed)(void *opaque, bool up);
} tes_net_ops;

#endif
