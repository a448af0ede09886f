/*
 * tessera core: the network options of the command line that make NICs.
 *
 *   -netdev TYPE,id=ID,...               a backend; -device NIC,netdev=ID
 *   -nic TYPE[,model=M][,mac=A][,backend options]    one NIC + its backend
 *   -nic none                            no NIC
 *   -net nic[,model=M][,macaddr=A][,vlan=N][,addr=S]  legacy NIC ...
 *   -net user|tap|socket|stream[,vlan=N][,backend options]  ... and backend
 *
 * Without model= the NIC is the board's default (tes_machine_ops.
 * default_nic: e1000e on q35, virtio-net-pci on virt); "virtio" means
 * virtio-net-pci, as in QEMU. The legacy -net pairs each vlan's NIC with
 * that vlan's backend (vlan 0 when not given). QEMU connects a vlan through
 * a hub, so one backend may serve several NICs there; we have no hub and
 * refuse that with a line that says what to write instead.
 *
 * NICs made here are created after the machine and before the -device
 * options, as QEMU's boards create them during machine init. Without any
 * network option no NIC is created (QEMU adds a default e1000/e1000e with
 * user networking; tessera does not, so the PCI layout guests and tests
 * see stays the one the command line describes; -nic user gives it).
 */
#include <string.h>

#include "net-int.h"

typedef struct pending_nic {
    char *model;   /* NULL: the board's default */
    char *dev_opts; /* mac=, addr=, id= for the device */
    char *netdev;  /* id, or NULL for a NIC without backend */
    const char *what; /* "-nic" or "-net nic" */
} pending_nic;

static GPtrArray *pending; /* pending_nic*, command-line order */
static unsigned auto_ids;

static void pending_add(const char *what, char *model, char *dev_opts, const char *netdev)
{
    pending_nic *p = g_new0(pending_nic, 1);

    if (!pending) {
        pending = g_ptr_array_new();
    }
    p->what = what;
    p->model = model;
    p->dev_opts = dev_opts;
    p->netdev = g_strdup(netdev);
    g_ptr_array_add(pending, p);
}

/* Split "k=v,..." into device keys (listed in dev_keys, renamed through
 * the table) and the rest (for the backend). */
static void split(net_opts *o, const char *const *dev_keys, GString *dev, GString *rest,
                  char **model)
{
    for (guint i = 0; i < o->items->len; i++) {
        net_opt *opt = g_ptr_array_index(o->items, i);
        bool is_dev = false;

        if (strcmp(opt->key, "model") == 0) {
            g_free(*model);
            *model = g_strdup(opt->value);
            continue;
        }
        for (size_t k = 0; dev_keys[k]; k += 2) {
            if (strcmp(opt->key, dev_keys[k]) == 0) {
                g_string_append_printf(dev, ",%s=%s", dev_keys[k + 1], opt->value);
                is_dev = true;
            }
        }
        if (!is_dev) {
            GString *out = rest;
            g_string_append_printf(out, ",%s", opt->key);
            if (*opt->value || strchr(opt->key, '=')) {
                g_string_append_c(out, '=');
            }
            /* Values go back through the parser: keep commas escaped. */
            for (const char *c = opt->value; *c; c++) {
                g_string_append_c(out, *c);
                if (*c == ',') {
                    g_string_append_c(out, ',');
                }
            }
        }
    }
}

/* -nic TYPE,...: one NIC, one backend named after it. */
static bool nic_option(const char *optarg, char **errp)
{
    static const char *const dev_keys[] = {"mac", "mac", "addr", "addr", "id", "id", NULL};
    const char *comma = strchr(optarg, ',');
    g_autofree char *type = comma ? g_strndup(optarg, comma - optarg) : g_strdup(optarg);
    net_opts o = {0};
    GString *dev = g_string_new(NULL), *rest = g_string_new(type);
    char *model = NULL;
    bool ok = net_opts_parse(comma ? comma + 1 : NULL, &o, errp);

    if (ok && strcmp(type, "none") != 0) {
        g_autofree char *id = g_strdup_printf("__nic%u", auto_ids++);
        split(&o, dev_keys, dev, rest, &model);
        g_string_append_printf(rest, ",id=%s", id);
        ok = netdev_add_opts(rest->str, true, errp) != NULL;
        if (ok) {
            pending_add("-nic", model, g_string_free(dev, false), id);
            dev = NULL;
            model = NULL;
        }
    }
    net_opts_free(&o);
    if (dev) {
        g_string_free(dev, true);
    }
    g_string_free(rest, true);
    g_free(model);
    return ok;
}

/* ---- -net: vlans ---- */

typedef struct vlan {
    unsigned n;
    GPtrArray *nics;  /* net_opts* of "-net nic" */
    GPtrArray *backends; /* netdev ids */
} vlan;

static vlan *vlan_get(GPtrArray *vlans, unsigned n)
{
    for (guint i = 0; i < vlans->len; i++) {
        vlan *v = g_ptr_array_index(vlans, i);
        if (v->n == n) {
            return v;
        }
    }
    vlan *v = g_new0(vlan, 1);
    v->n = n;
    v->nics = g_ptr_array_new();
    v->backends = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(vlans, v);
    return v;
}

/* vlan= and name= are ours, not the backend's or the NIC's. */
static bool take_vlan(net_opts *o, unsigned *n, char **errp)
{
    const char *v = net_opt_get(o, "vlan");
    char *end;

    net_opt_get(o, "name");
    *n = 0;
    if (v) {
        *n = strtoul(v, &end, 10);
        if (!*v || *end) {
            core_set_error(errp, "-net: vlan wants a number, got '%s'", v);
            return false;
        }
    }
    return true;
}

/* Take the options already used (vlan=, name=) out of o: they are no
 * NIC's or backend's. */
static void drop_used(net_opts *o)
{
    for (guint i = 0; i < o->items->len; i++) {
        net_opt *opt = g_ptr_array_index(o->items, i);
        if (opt->used) {
            g_free(opt->key);
            g_free(opt->value);
            g_free(opt);
            g_ptr_array_remove_index(o->items, i--);
        }
    }
}

static bool net_option(GPtrArray *vlans, const char *optarg, char **errp)
{
    const char *comma = strchr(optarg, ',');
    g_autofree char *type = comma ? g_strndup(optarg, comma - optarg) : g_strdup(optarg);
    net_opts *o = g_new0(net_opts, 1);
    unsigned n;

    if (!net_opts_parse(comma ? comma + 1 : NULL, o, errp) || !take_vlan(o, &n, errp)) {
        net_opts_free(o);
        g_free(o);
        return false;
    }
    drop_used(o);
    if (strcmp(type, "nic") == 0) {
        g_ptr_array_add(vlan_get(vlans, n)->nics, o);
        return true;
    }
    if (strcmp(type, "none") == 0) {
        net_opts_free(o);
        g_free(o);
        return true;
    }
    /* A backend: hand it its own options back, without vlan= and name=. */
    GString *rest = g_string_new(type);
    char *model = NULL;
    static const char *const none[] = {NULL};
    g_autofree char *id = g_strdup_printf("__net%u", auto_ids++);
    split(o, none, NULL, rest, &model);
    g_string_append_printf(rest, ",id=%s", id);
    bool ok = !model && netdev_add_opts(rest->str, true, errp) != NULL;
    if (model) {
        core_set_error(errp, "-net %s: no option 'model' (it belongs to -net nic)", type);
    } else if (ok) {
        g_ptr_array_add(vlan_get(vlans, n)->backends, g_strdup(id));
    }
    g_free(model);
    g_string_free(rest, true);
    net_opts_free(o);
    g_free(o);
    return ok;
}

static bool vlan_pair(vlan *v, char **errp)
{
    static const char *const dev_keys[] = {"macaddr", "mac", "addr", "addr", "id", "id",
                                           "netdev", "netdev", NULL};

    if (v->nics->len > 1 || v->backends->len > 1) {
        core_set_error(errp, "-net: vlan %u has %u NICs and %u backends; tessera connects one "
                       "NIC to one backend (no hub): give each NIC its own vlan=, or use "
                       "-netdev TYPE,id=ID with -device MODEL,netdev=ID", v->n, v->nics->len,
                       v->backends->len);
        return false;
    }
    if (v->nics->len == 0) {
        fprintf(stderr, "tessera: warning: -net: vlan %u has a backend but no NIC "
                "(add -net nic)\n", v->n);
        return true;
    }
    net_opts *o = g_ptr_array_index(v->nics, 0);
    GString *dev = g_string_new(NULL), *rest = g_string_new(NULL);
    char *model = NULL;
    split(o, dev_keys, dev, rest, &model);
    if (rest->len) {
        core_set_error(errp, "-net nic: unknown option '%s'", rest->str + 1);
        g_string_free(dev, true);
        g_string_free(rest, true);
        g_free(model);
        return false;
    }
    g_string_free(rest, true);
    if (v->backends->len == 0 && !strstr(dev->str, ",netdev=")) {
        fprintf(stderr, "tessera: warning: -net nic: vlan %u is not connected to a host "
                "network (add -net user)\n", v->n);
    }
    pending_add("-net nic", model, g_string_free(dev, false),
                v->backends->len ? g_ptr_array_index(v->backends, 0) : NULL);
    return true;
}

static void vlan_free(gpointer p)
{
    vlan *v = p;

    for (guint i = 0; i < v->nics->len; i++) {
        net_opts_free(g_ptr_array_index(v->nics, i));
        g_free(g_ptr_array_index(v->nics, i));
    }
    g_ptr_array_free(v->nics, true);
    g_ptr_array_free(v->backends, true);
    g_free(v);
}

/* Before the machine: every backend of -netdev, -nic and -net. */
bool net_cli_backends(GPtrArray *netdevs, GPtrArray *nics, GPtrArray *nets, char **errp)
{
    GPtrArray *vlans = g_ptr_array_new_with_free_func(vlan_free);
    bool ok = true;

    for (guint i = 0; ok && i < netdevs->len; i++) {
        ok = netdev_add(g_ptr_array_index(netdevs, i), errp);
    }
    for (guint i = 0; ok && i < nics->len; i++) {
        ok = nic_option(g_ptr_array_index(nics, i), errp);
    }
    for (guint i = 0; ok && i < nets->len; i++) {
        ok = net_option(vlans, g_ptr_array_index(nets, i), errp);
    }
    for (guint i = 0; ok && i < vlans->len; i++) {
        ok = vlan_pair(g_ptr_array_index(vlans, i), errp);
    }
    g_ptr_array_free(vlans, true);
    return ok;
}

/* After the machine, before -device: the NICs of -nic and -net nic. */
bool net_cli_create_nics(char **errp)
{
    bool ok = true;

    for (guint i = 0; ok && pending && !net_dry_run && i < pending->len; i++) {
        pending_nic *p = g_ptr_array_index(pending, i);
        const char *model = p->model ? p->model : machine_default_nic();
        bool printed;

        if (!model) {
            core_set_error(errp, "%s: this machine has no default NIC model; give model=", p->what);
            ok = false;
            break;
        }
        if (strcmp(model, "virtio") == 0) {
            model = "virtio-net-pci";
        }
        g_autofree char *opt = g_strdup_printf("%s%s%s%s", model, p->netdev ? ",netdev=" : "",
                                               p->netdev ? p->netdev : "", p->dev_opts);
        ok = dev_create_cli(opt, &printed, errp) != NULL || printed;
    }
    for (guint i = 0; pending && i < pending->len; i++) {
        pending_nic *p = g_ptr_array_index(pending, i);
        g_free(p->model);
        g_free(p->dev_opts);
        g_free(p->netdev);
        g_free(p);
    }
    g_clear_pointer(&pending, g_ptr_array_unref);
    return ok;
}
