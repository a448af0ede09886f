/* Temporary: backends not written yet. */
#include "net-int.h"

static bool stub_init(tes_netdev *nd, net_opts *o, char **errp)
{
    core_set_error(errp, "type %s is not available yet", nd->ops->type);
    return false;
}

const net_backend net_tap_backend = {.type = "tap", .init = stub_init};
const net_backend net_socket_backend = {.type = "socket", .init = stub_init};
const net_backend net_stream_backend = {.type = "stream", .init = stub_init};
