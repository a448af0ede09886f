/*
 * tessera core: what the network backends (net-*.c) and the harness share
 * with core/net.c. Nothing here crosses the ABI; NICs see sdk net.h.
 */
#ifndef TESSERA_NET_INT_H
#define TESSERA_NET_INT_H

#include <sys/uio.h>

#include "core.h"

#define NET_MAX_QUEUES 64   /* queue pairs of a backend or NIC */
#define NET_PENDING_MAX 4096 /* frames kept per NIC queue before dropping */

/* -netdev TYPE,k=v,...: the options in order; a backend takes what it
 * knows (marking it used) and netdev_add refuses whatever is left. */
typedef struct net_opt {
    char *key, *value;
    bool used;
} net_opt;

typedef struct net_opts {
    GPtrArray *items; /* net_opt* */
} net_opts;

const char *net_opt_get(net_opts *o, const char *key);         /* last one wins */
GPtrArray *net_opt_get_all(net_opts *o, const char *key);       /* char*, free the array */
bool net_opt_bool(net_opts *o, const char *key, bool def, bool *out, char **errp);
bool net_opt_uint(net_opts *o, const char *key, unsigned def, unsigned max, unsigned *out,
                  char **errp);

typedef struct net_backend {
    const char *type;
    /* Set nd->be, nd->nqueues, nd->offloads; false with *errp. */
    bool (*init)(tes_netdev *nd, net_opts *o, char **errp);
    /* A frame to the outside on backend queue bq. hdr is never NULL when
     * nd->offloads is non-zero (a zero header then), always NULL else. */
    void (*send)(tes_netdev *nd, unsigned bq, const tes_net_hdr *hdr, const struct iovec *iov,
                 unsigned iovcnt);
    /* The NIC takes frames again after net_deliver returned false. */
    void (*rx_ready)(tes_netdev *nd);
    /* The NIC enabled these receive offloads (a subset of nd->offloads). */
    void (*set_rx_offloads)(tes_netdev *nd, unsigned mask);
    /* The NIC uses backend queues 0..n-1 now. */
    void (*set_queues)(tes_netdev *nd, unsigned n);
    /* HMP info network: "type=user,net=10.0.2.0,..." */
    void (*info)(tes_netdev *nd, GString *out);
    void (*cleanup)(tes_netdev *nd);
} net_backend;

struct tes_netdev {
    char *id;
    const net_backend *ops;
    void *be;           /* backend state */
    unsigned nqueues;   /* backend queue pairs */
    unsigned offloads;  /* native TES_NET_OFFLOAD_* (vnet header) */
    unsigned rx_offloads;
    bool link_down;
    bool legacy;        /* made by -net/-nic: no "unused" warning */
    char *user;         /* device label holding it (netdev=) */
    /* The NIC side (net_attach). */
    tes_device *nic;
    const tes_net_ops *nops;
    void *nopaque;
    const uint8_t *mac;
    unsigned nic_queues; /* active queue pairs (net_set_queues) */
    int in_call;         /* inside net_send/net_flush: defer deliveries */
    bool blocked;        /* a delivery failed: backends wait for rx_ready */
    GQueue pending[NET_MAX_QUEUES]; /* net_frame*, per NIC queue */
    guint bh;            /* idle source delivering pending frames */
    uint64_t tx_frames, rx_frames, rx_dropped;
};

/* Backends, from the main loop (or the harness) with the lock held: offer
 * a frame received on backend queue bq to the NIC (hdr may be NULL).
 * true: go on; false: the NIC is full, stop reading until ops->rx_ready
 * (the frame was kept, or dropped past NET_PENDING_MAX). */
bool net_deliver(tes_netdev *nd, unsigned bq, const tes_net_hdr *hdr, const uint8_t *buf,
                 size_t len);
/* As net_deliver, but returns the NIC's receive() answer (harness). */
int net_deliver_ret(tes_netdev *nd, unsigned bq, const tes_net_hdr *hdr, const uint8_t *buf,
                    size_t len);
/* Offer kept frames to the NIC now (the idle source does this). */
void net_run_pending(tes_netdev *nd);
unsigned net_pending_count(tes_netdev *nd);
/* Create a netdev of backend ops (the harness' own backend). */
tes_netdev *netdev_create(const char *id, const net_backend *ops, net_opts *o, char **errp);
void net_opts_free(net_opts *o);
bool net_opts_parse(const char *text, net_opts *o, char **errp);

/* Software offloads (net-offload.c): finish frame (len bytes, writable)
 * as hdr asks (checksum, then segmentation), calling emit once per
 * resulting frame. 0, or -EINVAL when the header does not fit. */
typedef void (*net_emit_fn)(void *ctx, const uint8_t *buf, size_t len);
int net_offload_finish(uint8_t *frame, size_t len, const tes_net_hdr *hdr, net_emit_fn emit,
                       void *ctx);
/* Hash of a frame's flow (addresses and ports) for queue selection. */
uint32_t net_flow_hash(const uint8_t *frame, size_t len);

/* Backends (net-slirp.c, net-tap.c, net-socket.c). */
/* Parse -netdev/-nic/-net, open nothing (the command-line fuzzer): user
 * networking is made in-process without its forwarding rules (hostfwd
 * binds host ports, guestfwd runs commands); tap, socket and stream take
 * any options unopened; net_cli_create_nics creates no NIC. */
extern bool net_dry_run;

extern const net_backend net_user_backend;
extern const net_backend net_tap_backend;
extern const net_backend net_socket_backend;
extern const net_backend net_stream_backend;

#endif
