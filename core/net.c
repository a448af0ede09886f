/*
 * tessera core: network backends (-netdev) and the NIC side of them.
 *
 *   -netdev user,id=ID[,net=A/M][,hostfwd=...][,guestfwd=...][,restrict=on]
 *   -netdev tap,id=ID[,ifname=][,script=][,downscript=][,fd=][,vnet_hdr=on][,queues=N]
 *   -netdev socket,id=ID,listen=[HOST]:PORT | connect=HOST:PORT
 *   -netdev stream,id=ID,server=on|off,addr.type=inet|unix,addr.host=,addr.port=
 *   -device NIC,netdev=ID
 *
 * One netdev feeds one NIC (QEMU's peer). Frames the backend receives are
 * offered to the NIC with the machine lock held, from the main loop only:
 * when the NIC is inside a net_* call (slirp answers ARP from inside
 * slirp_input), or cannot take a frame, the frame is kept in a per-queue
 * list and an idle source offers it again, so a NIC's receive() never
 * runs nested inside its own transmit path. A NIC that cannot take a frame
 * makes the backend stop reading (back-pressure to the kernel socket or
 * tap queue) until it calls net_flush and the list drains.
 *
 * The contract NICs see is sdk/include/tessera/net.h; backends see
 * net-int.h. Software offloads (checksum, TSO) are in net-offload.c.
 */
#include <errno.h>
#include <string.h>

#include "net-int.h"

static GPtrArray *netdevs; /* tes_netdev*, creation order */
static unsigned mac_next;  /* QEMU's default MACs: 52:54:00:12:34:56 + n */

/* ---- options ---- */

bool net_opts_parse(const char *text, net_opts *o, char **errp)
{
    o->items = g_ptr_array_new();
    while (text && *text) {
        GString *item = g_string_new(NULL);
        const char *p = text;

        /* ",," is a literal comma, as in QEMU's option syntax. */
        for (; *p && !(*p == ',' && p[1] != ','); p++) {
            g_string_append_c(item, *p);
            if (*p == ',') {
                p++;
            }
        }
        text = *p ? p + 1 : p;
        char *eq = strchr(item->str, '=');
        net_opt *opt = g_new0(net_opt, 1);
        opt->key = g_strndup(item->str, eq ? (gsize)(eq - item->str) : item->len);
        opt->value = g_strdup(eq ? eq + 1 : "");
        g_string_free(item, true);
        g_ptr_array_add(o->items, opt);
        if (!*opt->key) {
            core_set_error(errp, "empty option in '%s'", text);
            return false;
        }
    }
    return true;
}

void net_opts_free(net_opts *o)
{
    for (guint i = 0; o->items && i < o->items->len; i++) {
        net_opt *opt = g_ptr_array_index(o->items, i);
        g_free(opt->key);
        g_free(opt->value);
        g_free(opt);
    }
    if (o->items) {
        g_ptr_array_free(o->items, true);
    }
    o->items = NULL;
}

const char *net_opt_get(net_opts *o, const char *key)
{
    const char *v = NULL;

    for (guint i = 0; i < o->items->len; i++) {
        net_opt *opt = g_ptr_array_index(o->items, i);
        if (strcmp(opt->key, key) == 0) {
            opt->used = true;
            v = opt->value;
        }
    }
    return v;
}

GPtrArray *net_opt_get_all(net_opts *o, const char *key)
{
    GPtrArray *all = g_ptr_array_new();

    for (guint i = 0; i < o->items->len; i++) {
        net_opt *opt = g_ptr_array_index(o->items, i);
        if (strcmp(opt->key, key) == 0) {
            opt->used = true;
            g_ptr_array_add(all, opt->value);
        }
    }
    return all;
}

bool net_opt_bool(net_opts *o, const char *key, bool def, bool *out, char **errp)
{
    const char *v = net_opt_get(o, key);

    *out = def;
    if (!v) {
        return true;
    }
    if (!*v || !strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
        *out = true; /* a bare "restrict" means on, as QEMU's flags */
    } else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
        *out = false;
    } else {
        core_set_error(errp, "option '%s' wants on|off, got '%s'", key, v);
        return false;
    }
    return true;
}

bool net_opt_uint(net_opts *o, const char *key, unsigned def, unsigned max, unsigned *out,
                  char **errp)
{
    const char *v = net_opt_get(o, key);
    char *end;
    unsigned long n;

    *out = def;
    if (!v) {
        return true;
    }
    n = strtoul(v, &end, 0);
    if (!*v || *end || n < 1 || n > max) {
        core_set_error(errp, "option '%s' wants 1..%u, got '%s'", key, max, v);
        return false;
    }
    *out = n;
    return true;
}

/* ---- netdevs ---- */

static const net_backend *const backends[] = {
    &net_user_backend, &net_tap_backend, &net_socket_backend, &net_stream_backend,
};

tes_netdev *netdev_find(const char *id)
{
    for (guint i = 0; netdevs && id && i < netdevs->len; i++) {
        tes_netdev *nd = g_ptr_array_index(netdevs, i);
        if (strcmp(nd->id, id) == 0) {
            return nd;
        }
    }
    return NULL;
}

static bool check_unused(tes_netdev *nd, net_opts *o, char **errp)
{
    for (guint i = 0; i < o->items->len; i++) {
        net_opt *opt = g_ptr_array_index(o->items, i);
        if (!opt->used) {
            core_set_error(errp, "netdev '%s': unknown option '%s' for type %s", nd->id,
                           opt->key, nd->ops->type);
            return false;
        }
    }
    return true;
}

static void netdev_free(tes_netdev *nd)
{
    if (nd->ops->cleanup) {
        nd->ops->cleanup(nd);
    }
    if (nd->bh) {
        g_source_remove(nd->bh);
    }
    for (unsigned q = 0; q < NET_MAX_QUEUES; q++) {
        g_queue_clear_full(&nd->pending[q], g_free);
    }
    g_free(nd->id);
    g_free(nd->user);
    g_free(nd);
}

bool net_dry_run;

static bool dry_init(tes_netdev *nd, net_opts *o, char **errp)
{
    for (guint i = 0; i < o->items->len; i++) {
        ((net_opt *)g_ptr_array_index(o->items, i))->used = true;
    }
    return true;
}

static const net_backend dry_backend = {.type = "unopened", .init = dry_init};

tes_netdev *netdev_create(const char *id, const net_backend *ops, net_opts *o, char **errp)
{
    tes_netdev *nd;
    char *err = NULL;

    if (!id || !*id) {
        core_set_error(errp, "netdev %s: id= is required", ops->type);
        return NULL;
    }
    if (netdev_find(id)) {
        core_set_error(errp, "netdev '%s': duplicate id", id);
        return NULL;
    }
    nd = g_new0(tes_netdev, 1);
    nd->id = g_strdup(id);
    nd->ops = ops;
    nd->nqueues = 1;
    nd->nic_queues = 1;
    net_opt_get(o, "id"); /* ours, not the backend's */
    if (!ops->init(nd, o, &err) || !check_unused(nd, o, &err)) {
        if (err && !g_str_has_prefix(err, "netdev '")) {
            core_set_error(errp, "netdev '%s': %s", id, err);
            g_free(err);
        } else if (errp) {
            *errp = err;
        } else {
            g_free(err);
        }
        nd->ops = ops;
        netdev_free(nd);
        return NULL;
    }
    if (!netdevs) {
        netdevs = g_ptr_array_new();
    }
    g_ptr_array_add(netdevs, nd);
    return nd;
}

static const net_backend *backend_by_type(const char *type)
{
    for (size_t i = 0; i < G_N_ELEMENTS(backends); i++) {
        if (strcmp(backends[i]->type, type) == 0) {
            return backends[i];
        }
    }
    return NULL;
}

/* -netdev TYPE,id=ID,...; legacy marks netdevs made for -net/-nic. */
tes_netdev *netdev_add_opts(const char *optarg, bool legacy, char **errp)
{
    net_opts o = {0};
    const char *comma = strchr(optarg, ',');
    g_autofree char *type = comma ? g_strndup(optarg, comma - optarg) : g_strdup(optarg);
    const net_backend *be = backend_by_type(type);
    tes_netdev *nd = NULL;

    if (!be) {
        core_set_error(errp, "netdev: unknown type '%s' (expected user, tap, socket or stream)",
                       type);
        return NULL;
    }
    if (net_dry_run && be != &net_user_backend) {
        be = &dry_backend;
    }
    if (net_opts_parse(comma ? comma + 1 : NULL, &o, errp)) {
        nd = netdev_create(net_opt_get(&o, "id"), be, &o, errp);
    }
    net_opts_free(&o);
    if (nd) {
        nd->legacy = legacy;
    }
    return nd;
}

bool netdev_add(const char *optarg, char **errp)
{
    return netdev_add_opts(optarg, false, errp) != NULL;
}

bool netdev_claim(tes_netdev *nd, const char *devname, char **errp)
{
    if (nd->user) {
        core_set_error(errp, "netdev '%s' is already in use by %s", nd->id, nd->user);
        return false;
    }
    nd->user = g_strdup(devname);
    return true;
}

/* The device holding nd goes away: no more callbacks into it. */
void netdev_release(tes_netdev *nd)
{
    g_clear_pointer(&nd->user, g_free);
    nd->nic = NULL;
    nd->nops = NULL;
    nd->nopaque = NULL;
    nd->mac = NULL;
    nd->nic_queues = 1;
    nd->rx_offloads = 0;
    for (unsigned q = 0; q < NET_MAX_QUEUES; q++) {
        g_queue_clear_full(&nd->pending[q], g_free);
    }
    if (nd->blocked) {
        nd->blocked = false;
        if (nd->ops->rx_ready) {
            nd->ops->rx_ready(nd);
        }
    }
}

/* QEMU warns about a netdev no device uses; the run goes on. */
void netdevs_warn_unused(void)
{
    for (guint i = 0; netdevs && i < netdevs->len; i++) {
        tes_netdev *nd = g_ptr_array_index(netdevs, i);
        if (!nd->user && !nd->legacy) {
            fprintf(stderr, "tessera: warning: netdev %s has no peer\n", nd->id);
        }
    }
}

void netdevs_close_all(void)
{
    while (netdevs && netdevs->len) {
        netdev_free(g_ptr_array_steal_index(netdevs, netdevs->len - 1));
    }
}

/* ---- MAC addresses ---- */

bool net_parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;

    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &tail) != 6 &&
        sscanf(s, "%2x-%2x-%2x-%2x-%2x-%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &tail) != 6) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = v[i];
    }
    return !(mac[0] & 1); /* a NIC's own address is never multicast */
}

void net_default_mac(uint8_t mac[6])
{
    static const uint8_t base[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    unsigned n = mac_next++;

    memcpy(mac, base, 6);
    mac[5] = (uint8_t)(0x56 + n);
    mac[4] = (uint8_t)(0x34 + ((0x56 + n) >> 8));
}

char *net_format_mac(const uint8_t mac[6])
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                           mac[4], mac[5]);
}

/* Harness: every run numbers its NICs from the first default again. */
void net_reset_macs(void)
{
    mac_next = 0;
}

/* ---- the monitor: set_link, info network ---- */

static tes_device *nic_shown(tes_device *nic);

/* The netdev whose NIC is called name (its id or qtree name, or those of
 * the PCI function it is shown as). */
static tes_netdev *netdev_of_nic(const char *name)
{
    for (guint i = 0; netdevs && i < netdevs->len; i++) {
        tes_netdev *nd = g_ptr_array_index(netdevs, i);
        tes_device *shown = nd->nic ? nic_shown(nd->nic) : NULL;

        if ((nd->user && strcmp(nd->user, name) == 0) ||
            (shown && ((shown->id && strcmp(shown->id, name) == 0) ||
                       (shown->name && strcmp(shown->name, name) == 0)))) {
            return nd;
        }
    }
    return NULL;
}

/* QMP set_link name=: a netdev id or the id of the NIC using one. */
bool netdev_set_link(const char *name, bool up, char **errp)
{
    tes_netdev *nd = netdev_find(name);

    if (!nd) {
        nd = netdev_of_nic(name);
    }
    if (!nd) {
        core_set_error(errp, "Device '%s' not found", name);
        return false;
    }
    if (nd->link_down == !up) {
        return true;
    }
    nd->link_down = !up;
    if (nd->nops && nd->nops->link_changed) {
        nd->nops->link_changed(nd->nopaque, up);
    }
    if (up) {
        net_flush(nd, 0);
    }
    return true;
}

/* A NIC on a plugin's own bus under a PCI function (virtio-net-device in
 * virtio-net-pci) is shown as that function, the device users typed. */
static tes_device *nic_shown(tes_device *nic)
{
    tes_bus *b = nic->bus;

    if (b && b->parent && !b->pci && strcmp(b->kind, TES_BUS_SYSTEM) != 0 &&
        b->parent->pci) {
        return b->parent;
    }
    return nic;
}

void net_info_print(GString *out)
{
    for (guint i = 0; netdevs && i < netdevs->len; i++) {
        tes_netdev *nd = g_ptr_array_index(netdevs, i);

        if (nd->nic) {
            g_autofree char *mac = nd->mac ? net_format_mac(nd->mac) : g_strdup("?");
            tes_device *shown = nic_shown(nd->nic);
            g_string_append_printf(out, "%s: index=0,type=nic,model=%s,macaddr=%s%s\n",
                                   shown->id ? shown->id : shown->name, shown->type->name, mac,
                                   nd->link_down ? " (link down)" : "");
            g_string_append(out, " \\ ");
        }
        g_string_append_printf(out, "%s: index=0,type=%s", nd->id, nd->ops->type);
        if (nd->ops->info) {
            g_string_append_c(out, ',');
            nd->ops->info(nd, out);
        }
        g_string_append_printf(out, "%s\n", nd->link_down ? " (link down)" : "");
    }
}

/* Every netdev, for the harness and the monitor. */
GPtrArray *netdevs_list(void)
{
    return netdevs;
}
