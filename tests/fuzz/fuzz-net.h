/*
 * Network actions shared by the NIC fuzz targets (fuzz-virtio-net.c,
 * fuzz-e1000.c, fuzz-e1000e.c), on top of fuzz-dev.h and the harness's
 * network backend (tes_harness_netdev: netdev FN_NETDEV plays the outside
 * world).
 *
 *   fn_frame     an Ethernet frame built from the input: to our MAC, to
 *                broadcast, multicast or anyone, with or without a VLAN
 *                tag, IPv4 (any IHL, total length, protocol), IPv6 (any
 *                next header), TCP (any data offset), UDP, ARP or any
 *                ethertype, payload of any length up to 64 KiB
 *   fn_hdr       an offload header (tes_net_hdr) for such a frame: sane
 *                (partial checksum, TSO4/6, UFO with the frame's offsets)
 *                or any bytes
 *   fn_backend   one backend event: a frame arrives (with or without a
 *                header, on any queue), a burst of them, the main loop
 *                runs (kept frames offered again), the link goes down or
 *                up, sent frames are taken (so they do not pile up)
 *   fn_drain     take every frame the NIC sent, and every MSI
 */
#ifndef FUZZ_NET_H
#define FUZZ_NET_H

#include <tessera/net.h>

#include "fuzz-dev.h"

#define FN_NETDEV "n0"
#define FN_FRAME_MAX TES_NET_MAX_FRAME

/* The MAC the NICs get (mac=), and the one frames come from. */
extern const uint8_t fn_mac[6];
extern const uint8_t fn_peer[6];

/* Build a frame into buf (up to max bytes); its length (>= 1). */
size_t fn_frame(fz *f, uint8_t *buf, size_t max);
/* An offload header for the frame buf/len. */
void fn_hdr(fz *f, tes_net_hdr *h, const uint8_t *buf, size_t len);
/* One backend event; nqueues is the netdev's queue count. */
void fn_backend(fz *f, unsigned nqueues);
void fn_drain(fz *f);
/* The harness netdev's options for this input: "id=n0[,queues=N]
 * [,vnet_hdr=on]", from sel. */
const char *fn_netdev_opts(uint8_t sel, unsigned queues);

#endif
