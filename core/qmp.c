/*
 * tessera core: the QMP monitor (QEMU Machine Protocol, JSON over a unix
 * socket).
 *
 *   tessera -M none -qmp unix:/tmp/qmp.sock,server=on,wait=off
 *
 * A client gets the greeting, must send qmp_capabilities, then may execute
 * commands; each reply is one JSON object per line ("\r\n" as QEMU), with
 * the request's "id" echoed. Events (STOP, RESUME, SHUTDOWN, RESET) go to
 * every negotiated client. Messages may arrive split across reads or
 * several in one read: a small splitter counts braces outside strings, and
 * refuses (one error, the message skipped) nesting past 1024 or a message
 * past 4 MiB before json-glib sees it. Commands run in the main loop under
 * the machine lock. Sockets never block: output waits in a queue per
 * client; a client that does not read stops being read, and one whose
 * queue still overflows (events) is disconnected.
 */
#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "blockdev.h"
#include "core.h"
#include "display.h"
#include "input-qmp.h"
#include "json-check.h"
#include "monitor.h"
#include "numa.h"

typedef struct qmp_server {
    GSocket *sock;
    GSource *src;
    char *path;
} qmp_server;

struct qmp_client {
    GSocket *sock;
    GSource *src;     /* input; NULL while paused for a full output queue */
    GSource *out_src; /* G_IO_OUT, only while out holds bytes */
    GString *msg;     /* the message being assembled */
    int depth;        /* {} and [] nesting outside strings */
    bool in_str, esc;
    bool skipping;    /* discarding a message over a limit, to its end */
    bool negotiated;
    GByteArray *out;  /* replies and events not yet sent; under out_lock */
    bool dropped;     /* its queue overflowed: closed from the main loop */
};


/* QEMU's limits (json-streamer.c): deeper nesting would let one message
 * overflow json-glib's recursive parser; a longer message, our memory. */
#define QMP_MAX_NESTING 1024
#define QMP_MAX_MESSAGE (4u << 20)
/* Output queue per client. Above PAUSE we stop reading its commands until
 * it drains (a client that writes without reading stalls only itself);
 * a queue already past MAX when more comes is a client that stopped
 * reading altogether (events keep coming): it is disconnected. */
#define QMP_OUT_PAUSE (64u << 10)
#define QMP_OUT_MAX (1u << 20)
/* Each client may hold a message and a queue of a few MiB: so many at most
 * (QEMU's socket chardev serves one). */
#define QMP_MAX_CLIENTS 64

static GPtrArray *servers; /* qmp_server* */
/* The client list and every client's out queue, so that qmp_event() from
 * any thread only appends; sockets are touched by the main loop alone. */
static GMutex out_lock;
static GPtrArray *clients; /* qmp_client* */
static gint flush_scheduled;

static void client_close(qmp_client *c);
static void client_input_watch(qmp_client *c);
/* In-process clients (fuzzing): commands that reach host files or run
 * host commands (migrate's file: and exec:) are refused. */
static bool sandboxed;

/* ---- output ---- */

/* Queue one line; out_lock held. */
static void queue_line(qmp_client *c, JsonNode *node)
{
    char *text;

    if (c->dropped) {
        return;
    }
    if (c->out->len > QMP_OUT_MAX) {
        c->dropped = true;
        core_log(TES_LOG_PLUGIN, "qmp: a client stopped reading (%u bytes queued): "
                 "disconnected", c->out->len);
        return;
    }
    text = json_to_string(node, FALSE);
    g_byte_array_append(c->out, (const guint8 *)text, strlen(text));
    g_byte_array_append(c->out, (const guint8 *)"\r\n", 2);
    g_free(text);
}

static gboolean client_writable(GSocket *sock, GIOCondition cond, gpointer opaque);

/* Send what the socket takes now, never waiting; main loop only. False
 * when the client is gone (then freed). */
static bool client_flush(qmp_client *c)
{
    bool dead;
    gsize left;

    g_mutex_lock(&out_lock);
    while (c->out->len && !c->dropped) {
        GError *gerr = NULL;
        gssize n = g_socket_send(c->sock, (const char *)c->out->data, c->out->len, NULL,
                                 &gerr);

        if (n < 0) {
            c->dropped = !g_error_matches(gerr, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
            g_error_free(gerr);
            break;
        }
        g_byte_array_remove_range(c->out, 0, n);
    }
    dead = c->dropped;
    left = c->out->len;
    g_mutex_unlock(&out_lock);
    if (dead) {
        client_close(c);
        return false;
    }
    if (left && !c->out_src) {
        c->out_src = g_socket_create_source(c->sock, G_IO_OUT, NULL);
        g_source_set_callback(c->out_src, (GSourceFunc)(void (*)(void))client_writable, c,
                              NULL);
        g_source_attach(c->out_src, NULL);
    } else if (!left && c->out_src) {
        g_source_destroy(c->out_src);
        g_clear_pointer(&c->out_src, g_source_unref);
    }
    if (!c->src && left < QMP_OUT_PAUSE / 2) {
        client_input_watch(c); /* drained: read its commands again */
    }
    return true;
}

static gboolean client_writable(GSocket *sock, GIOCondition cond, gpointer opaque)
{
    qmp_client *c = opaque;

    GSource *self = g_source_ref(c->out_src);
    gboolean keep;

    /* client_flush() destroys this source once the queue is empty, or
     * frees the client. */
    keep = client_flush(c) && c->out_src == self;
    g_source_unref(self);
    return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void client_send(qmp_client *c, JsonNode *node)
{
    g_mutex_lock(&out_lock);
    queue_line(c, node);
    g_mutex_unlock(&out_lock);
}

/* Events are queued from any thread, under any lock; this sends them. */
static gboolean flush_all(gpointer opaque)
{
    g_atomic_int_set(&flush_scheduled, 0);
    for (guint i = 0; clients && i < clients->len;) {
        qmp_client *c = g_ptr_array_index(clients, i);

        i += client_flush(c); /* a closed client left the list */
    }
    return G_SOURCE_REMOVE;
}

static void schedule_flush(void)
{
    /* Default priority, not idle: with busy sources (slirp's, timers) an
     * idle source starved and DEVICE_DELETED from a vCPU thread (the guest
     * powering a slot off) waited for the next command's reply. */
    if (g_atomic_int_compare_and_exchange(&flush_scheduled, 0, 1)) {
        g_idle_add_full(G_PRIORITY_DEFAULT, flush_all, NULL, NULL);
    }
    g_main_context_wakeup(NULL);
}

static JsonNode *obj_node(JsonObject *o)
{
    JsonNode *n = json_node_alloc();

    json_node_init_object(n, o);
    json_object_unref(o);
    return n;
}

static void send_reply(qmp_client *c, JsonNode *ret, JsonNode *id)
{
    JsonObject *o = json_object_new();
    JsonNode *n;

    json_object_set_member(o, "return", ret);
    if (id) {
        json_object_set_member(o, "id", json_node_copy(id));
    }
    n = obj_node(o);
    client_send(c, n);
    json_node_unref(n);
}

static void send_error(qmp_client *c, const char *cls, const char *desc, JsonNode *id)
{
    JsonObject *e = json_object_new();
    JsonObject *o = json_object_new();
    JsonNode *n;

    json_object_set_string_member(e, "class", cls);
    json_object_set_string_member(e, "desc", desc);
    json_object_set_object_member(o, "error", e);
    if (id) {
        json_object_set_member(o, "id", json_node_copy(id));
    }
    n = obj_node(o);
    client_send(c, n);
    json_node_unref(n);
}

static void send_greeting(qmp_client *c)
{
    JsonObject *qemu = json_object_new();
    JsonObject *ver = json_object_new();
    JsonObject *qmp = json_object_new();
    JsonObject *o = json_object_new();
    JsonNode *n;

    json_object_set_int_member(qemu, "micro", 0);
    json_object_set_int_member(qemu, "minor", 1);
    json_object_set_int_member(qemu, "major", 0);
    json_object_set_object_member(ver, "qemu", qemu);
    json_object_set_string_member(ver, "package", "tessera " TESSERA_VERSION);
    json_object_set_object_member(qmp, "version", ver);
    json_object_set_array_member(qmp, "capabilities", json_array_new());
    json_object_set_object_member(o, "QMP", qmp);
    n = obj_node(o);
    client_send(c, n);
    json_node_unref(n);
}

/* The harness's record of events (tes_harness_qmp_events), or NULL. */
static GString *event_capture;

void qmp_event_capture(GString *buf)
{
    event_capture = buf;
}

void qmp_event(const char *name)
{
    qmp_event_data(name, NULL);
}

void qmp_event_data(const char *name, JsonObject *data)
{
    JsonObject *ts = json_object_new();
    JsonObject *o = json_object_new();
    gint64 now = g_get_real_time();
    JsonNode *n;

    json_object_set_string_member(o, "event", name);
    if (data) {
        json_object_set_object_member(o, "data", data);
    }
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    json_object_set_object_member(o, "timestamp", ts);
    n = obj_node(o);
    if (event_capture) {
        g_autofree char *text = json_to_string(n, FALSE);

        g_string_append_printf(event_capture, "%s\n", text);
    }
    /* Callers may hold the machine lock: queue only, the main loop sends. */
    g_mutex_lock(&out_lock);
    for (guint i = 0; clients && i < clients->len; i++) {
        qmp_client *c = g_ptr_array_index(clients, i);

        if (c->negotiated) {
            queue_line(c, n);
        }
    }
    g_mutex_unlock(&out_lock);
    json_node_unref(n);
    schedule_flush();
}

void qmp_event_device_deleted(const char *id, const char *name)
{
    JsonObject *data = json_object_new();
    g_autofree char *path = id ? g_strdup_printf("/machine/peripheral/%s", id)
                               : g_strdup_printf("/machine/peripheral-anon/%s",
                                                 name ? name : "device");

    if (id) {
        json_object_set_string_member(data, "device", id);
    }
    json_object_set_string_member(data, "path", path);
    qmp_event_data("DEVICE_DELETED", data);
}

/* ---- commands ---- */

static JsonNode *empty_return(void)
{
    return obj_node(json_object_new());
}

static const char *arg_string(JsonObject *args, const char *name, char **err)
{
    JsonNode *n = args ? json_object_get_member(args, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        core_set_error(err, "Parameter '%s' is missing or not a string", name);
        return NULL;
    }
    return json_node_get_string(n);
}

static JsonNode *cmd_capabilities(JsonObject *args, qmp_client *c, char **err)
{
    if (c->negotiated) {
        /* QEMU answers CommandNotFound here; see dispatch(). */
        core_set_error(err, "Capabilities negotiation is already complete, command ignored");
        return NULL;
    }
    c->negotiated = true;
    return empty_return();
}

static JsonNode *cmd_query_status(JsonObject *args, qmp_client *c, char **err)
{
    JsonObject *o = json_object_new();
    runstate s = runstate_get();

    json_object_set_string_member(o, "status", runstate_name(s));
    json_object_set_boolean_member(o, "running", s == RUN_RUNNING);
    json_object_set_boolean_member(o, "singlestep", FALSE);
    return obj_node(o);
}

static JsonNode *cmd_stop(JsonObject *args, qmp_client *c, char **err)
{
    /* QEMU: stop outside "running" changes nothing. */
    /* From S3 too: cont then goes back to "suspended" (QEMU 9). */
    if (runstate_get() == RUN_RUNNING || runstate_get() == RUN_SUSPENDED) {
        vm_stop(RUN_PAUSED);
    }
    return empty_return();
}

static JsonNode *cmd_cont(JsonObject *args, qmp_client *c, char **err)
{
    runstate s = runstate_get();

    if (s == RUN_INMIGRATE) {
        core_set_error(err, "Guest is waiting for an incoming migration");
        return NULL;
    }
    if (s == RUN_SHUTDOWN) {
        core_set_error(err, "Guest is shutting down; 'cont' is not possible");
        return NULL;
    }
    if (migration_in_progress()) {
        /* Not live: the stream is RAM as it is while the guest is stopped. */
        core_set_error(err, "a migration is in progress; 'cont' is not possible");
        return NULL;
    }
    vm_start();
    return empty_return();
}

static JsonNode *cmd_quit(JsonObject *args, qmp_client *c, char **err)
{
    /* The reply goes out before the main loop sees the request. */
    core_request_shutdown(0);
    return empty_return();
}

static JsonNode *cmd_system_reset(JsonObject *args, qmp_client *c, char **err)
{
    core_request_reset();
    return empty_return();
}

static JsonNode *cmd_system_powerdown(JsonObject *args, qmp_client *c, char **err)
{
    machine_powerdown();
    return empty_return();
}

static JsonNode *cmd_system_wakeup(JsonObject *args, qmp_client *c, char **err)
{
    if (!core_system_wakeup(err)) {
        return NULL;
    }
    return empty_return();
}

static JsonNode *plugin_node(plugin *p)
{
    const tes_plugin_desc *d = p->desc;
    JsonObject *o = json_object_new();
    JsonArray *types = json_array_new();
    char *abi = g_strdup_printf("%u.%u", d->abi_major, d->abi_minor);

    json_object_set_string_member(o, "name", d->name);
    json_object_set_string_member(o, "version", d->version ? d->version : "");
    json_object_set_string_member(o, "abi", abi);
    json_object_set_string_member(o, "file", p->path);
    json_object_set_string_member(o, "license", d->license ? d->license : "");
    json_object_set_boolean_member(o, "from-cli", p->from_cli);
    for (size_t i = 0; d->types && d->types[i]; i++) {
        json_array_add_string_element(types, d->types[i]->name);
    }
    json_object_set_array_member(o, "types", types);
    g_free(abi);
    return obj_node(o);
}

static JsonNode *cmd_query_plugins(JsonObject *args, qmp_client *c, char **err)
{
    GPtrArray *l = plugins_list();
    JsonArray *a = json_array_new();
    JsonNode *n = json_node_alloc();

    for (guint i = 0; i < l->len; i++) {
        json_array_add_element(a, plugin_node(g_ptr_array_index(l, i)));
    }
    json_node_init_array(n, a);
    json_array_unref(a);
    return n;
}

bool qmp_is_sandboxed(void)
{
    return sandboxed;
}

static bool sandbox_refuses(char **err)
{
    if (sandboxed) {
        core_set_error(err, "not available to a sandboxed monitor");
    }
    return sandboxed;
}

static JsonNode *cmd_migrate(JsonObject *args, qmp_client *c, char **err)
{
    const char *uri = arg_string(args, "uri", err);

    if (sandbox_refuses(err)) {
        return NULL;
    }
    if (!uri || !migrate_start(uri, err)) {
        core_set_error(err, "migrate: failed to start");
        return NULL;
    }
    return empty_return();
}

static JsonNode *cmd_migrate_incoming(JsonObject *args, qmp_client *c, char **err)
{
    const char *uri = arg_string(args, "uri", err);

    if (!uri || sandbox_refuses(err)) {
        return NULL;
    }
    if (!migrate_incoming_deferred(uri, err)) {
        core_set_error(err, "migrate-incoming: failed");
        return NULL;
    }
    return empty_return();
}

static JsonNode *cmd_migrate_cancel(JsonObject *args, qmp_client *c, char **err)
{
    migrate_cancel();
    return empty_return();
}

static JsonNode *cmd_query_migrate(JsonObject *args, qmp_client *c, char **err)
{
    const char *desc = NULL;
    const char *st = migrate_status(&desc);
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "status", st ? st : "none");
    if (desc) {
        json_object_set_string_member(o, "error-desc", desc);
    }
    migrate_query_stats(o);
    return obj_node(o);
}

/* QEMU's migrate-set-parameters: downtime-limit (ms), max-bandwidth
 * (bytes/s); all are checked before any is set. */
static JsonNode *cmd_migrate_set_parameters(JsonObject *args, qmp_client *c, char **err)
{
    static const char *const names[] = {"downtime-limit", "max-bandwidth"};
    GList *members = args ? json_object_get_members(args) : NULL;
    int64_t old[2] = {ram_get_param(names[0]), ram_get_param(names[1])};
    bool ok = true;

    for (GList *m = members; m && ok; m = m->next) {
        JsonNode *n = json_object_get_member(args, m->data);

        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
            core_set_error(err, "Parameter '%s' expects an integer", (char *)m->data);
            ok = false;
        } else {
            ok = ram_set_param(m->data, json_node_get_int(n), err);
        }
    }
    g_list_free(members);
    if (!ok) {
        ram_set_param(names[0], old[0], NULL);
        ram_set_param(names[1], old[1], NULL);
        return NULL;
    }
    return empty_return();
}

static JsonNode *cmd_query_migrate_parameters(JsonObject *args, qmp_client *c, char **err)
{
    JsonObject *o = json_object_new();

    json_object_set_int_member(o, "downtime-limit", ram_get_param("downtime-limit"));
    json_object_set_int_member(o, "max-bandwidth", ram_get_param("max-bandwidth"));
    return obj_node(o);
}

static JsonNode *cmd_hmp(JsonObject *args, qmp_client *c, char **err)
{
    const char *line = arg_string(args, "command-line", err);
    GString *out;
    JsonNode *n;

    if (!line) {
        return NULL;
    }
    out = g_string_new(NULL);
    hmp_execute(line, out); /* HMP errors are output text, as in QEMU */
    n = json_node_init_string(json_node_alloc(), out->str);
    g_string_free(out, TRUE);
    return n;
}

static JsonNode *cmd_query_version(JsonObject *args, qmp_client *c, char **err)
{
    JsonObject *qemu = json_object_new();
    JsonObject *o = json_object_new();

    json_object_set_int_member(qemu, "micro", 0);
    json_object_set_int_member(qemu, "minor", 1);
    json_object_set_int_member(qemu, "major", 0);
    json_object_set_object_member(o, "qemu", qemu);
    json_object_set_string_member(o, "package", "tessera " TESSERA_VERSION);
    return obj_node(o);
}

static JsonNode *cmd_blockdev_add(JsonObject *args, qmp_client *c, char **err)
{
    if (sandbox_refuses(err)) {
        return NULL; /* it opens host files */
    }
    if (!args) {
        core_set_error(err, "Parameter 'driver' is missing");
        return NULL;
    }
    return blockdev_add_json(args, err) ? empty_return() : NULL;
}

static JsonNode *cmd_blockdev_del(JsonObject *args, qmp_client *c, char **err)
{
    const char *name = arg_string(args, "node-name", err);

    return name && blockdev_del(name, err) ? empty_return() : NULL;
}

/* ---- removable media (block-media.c) ---- */

/* An optional string member: NULL when absent, *bad when not a string. */
static const char *opt_string(JsonObject *args, const char *name, bool *bad, char **err)
{
    JsonNode *n = args ? json_object_get_member(args, name) : NULL;

    if (!n || *bad) {
        return NULL;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        core_set_error(err, "Invalid parameter type for '%s', expected: string", name);
        *bad = true;
        return NULL;
    }
    return json_node_get_string(n);
}

static bool opt_bool(JsonObject *args, const char *name, bool *bad, char **err)
{
    JsonNode *n = args ? json_object_get_member(args, name) : NULL;

    if (!n || *bad) {
        return false;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
        core_set_error(err, "Invalid parameter type for '%s', expected: boolean", name);
        *bad = true;
        return false;
    }
    return json_node_get_boolean(n);
}

static JsonNode *cmd_eject(JsonObject *args, qmp_client *c, char **err)
{
    bool bad = false;
    const char *device = opt_string(args, "device", &bad, err);
    const char *id = opt_string(args, "id", &bad, err);
    bool force = opt_bool(args, "force", &bad, err);

    return !bad && media_eject(device, id, force, err) ? empty_return() : NULL;
}

static JsonNode *cmd_open_tray(JsonObject *args, qmp_client *c, char **err)
{
    bool bad = false;
    const char *device = opt_string(args, "device", &bad, err);
    const char *id = opt_string(args, "id", &bad, err);
    bool force = opt_bool(args, "force", &bad, err);

    return !bad && media_open_tray(device, id, force, err) ? empty_return() : NULL;
}

static JsonNode *cmd_close_tray(JsonObject *args, qmp_client *c, char **err)
{
    bool bad = false;
    const char *device = opt_string(args, "device", &bad, err);
    const char *id = opt_string(args, "id", &bad, err);

    return !bad && media_close_tray(device, id, err) ? empty_return() : NULL;
}

static JsonNode *cmd_remove_medium(JsonObject *args, qmp_client *c, char **err)
{
    const char *id = arg_string(args, "id", err);

    return id && media_remove(id, err) ? empty_return() : NULL;
}

static JsonNode *cmd_insert_medium(JsonObject *args, qmp_client *c, char **err)
{
    const char *id = arg_string(args, "id", err);
    const char *node = id ? arg_string(args, "node-name", err) : NULL;

    return node && media_insert(id, node, err) ? empty_return() : NULL;
}

static JsonNode *cmd_change_medium(JsonObject *args, qmp_client *c, char **err)
{
    bool bad = false;
    media_change_args a = {
        .device = opt_string(args, "device", &bad, err),
        .id = opt_string(args, "id", &bad, err),
        .format = opt_string(args, "format", &bad, err),
        .ro_mode = opt_string(args, "read-only-mode", &bad, err),
        .force = opt_bool(args, "force", &bad, err),
    };

    if (bad || sandbox_refuses(err)) {
        return NULL; /* it opens host files */
    }
    a.filename = arg_string(args, "filename", err);
    return a.filename && media_change(&a, err) ? empty_return() : NULL;
}

static JsonNode *cmd_query_block(JsonObject *args, qmp_client *c, char **err)
{
    return block_query();
}

static JsonNode *cmd_query_blockstats(JsonObject *args, qmp_client *c, char **err)
{
    return block_query_stats();
}

/* set_link {"name": netdev or NIC id, "up": bool} */
static JsonNode *cmd_set_link(JsonObject *args, qmp_client *c, char **err)
{
    const char *name = arg_string(args, "name", err);
    JsonNode *up = args ? json_object_get_member(args, "up") : NULL;

    if (!name) {
        return NULL;
    }
    if (!up || !JSON_NODE_HOLDS_VALUE(up) || json_node_get_value_type(up) != G_TYPE_BOOLEAN) {
        core_set_error(err, "Parameter 'up' is missing or not a boolean");
        return NULL;
    }
    if (!netdev_set_link(name, json_node_get_boolean(up), err)) {
        return NULL;
    }
    return empty_return();
}

/* ---- CPUs (cpu-hotplug.c) ---- */

static JsonNode *cmd_query_hotpluggable_cpus(JsonObject *args, qmp_client *c, char **err)
{
    return cpu_query_hotpluggable(err);
}

static JsonNode *cmd_query_cpus_fast(JsonObject *args, qmp_client *c, char **err)
{
    return cpu_query_fast();
}

/* ---- device_add / device_del ----
 * Types flagged TES_TYPE_HOTPLUG (their bus tells the guest: SCSI devices)
 * go and come at once. A PCI function goes on the secondary bus of a port
 * with a hot-plug slot (pcie-slot.c: the guest is told, and takes part in
 * the removal); other buses refuse as QEMU's do. */

static bool type_hotpluggable(const tes_type_info *t)
{
    return t->size >= offsetof(tes_type_info, flags) + sizeof(t->flags) &&
           (t->flags & TES_TYPE_HOTPLUG);
}

/* pc-dimm (1.7): the machine plugs it and asks the guest to let go. */
static bool type_machine_hotplug(const tes_type_info *t)
{
    return t->size >= offsetof(tes_type_info, flags) + sizeof(t->flags) &&
           (t->flags & TES_TYPE_MACHINE_HOTPLUG);
}

static bool type_is_pci(const tes_type_info *t)
{
    return t->bus && strcmp(t->bus, TES_BUS_PCI) == 0;
}

/* A PCI type goes by bus= onto a hot-plug slot; its default bus (the root
 * bus) never is one. */
static bool pci_target_ok(JsonObject *args, char **err)
{
    JsonNode *n = json_object_get_member(args, "bus");
    const char *name = n && JSON_NODE_HOLDS_VALUE(n) &&
                       json_node_get_value_type(n) == G_TYPE_STRING
                       ? json_node_get_string(n) : NULL;
    tes_bus *bus = name ? bus_find(name) : bus_find_kind(TES_BUS_PCI);

    if (!bus) {
        core_set_error(err, "Bus '%s' not found", name ? name : "(PCI)");
        return false;
    }
    if (!pci_bus_hotpluggable(bus)) {
        core_set_error(err, "Bus '%s' does not support hotplugging", bus->name);
        return false;
    }
    return true;
}

/* name=value as -device takes it (a comma doubled). */
static void opt_append(GString *s, const char *v)
{
    for (; *v; v++) {
        g_string_append_c(s, *v);
        if (*v == ',') {
            g_string_append_c(s, ',');
        }
    }
}

static bool opt_member(GString *opts, JsonObject *args, const char *name, char **err)
{
    JsonNode *n = json_object_get_member(args, name);

    if (!JSON_NODE_HOLDS_VALUE(n)) {
        core_set_error(err, "Parameter '%s' is not a string, number or boolean", name);
        return false;
    }
    g_string_append_c(opts, ',');
    opt_append(opts, name);
    g_string_append_c(opts, '=');
    switch (json_node_get_value_type(n)) {
    case G_TYPE_STRING: opt_append(opts, json_node_get_string(n)); return true;
    case G_TYPE_INT64: g_string_append_printf(opts, "%" G_GINT64_FORMAT, json_node_get_int(n));
        return true;
    case G_TYPE_BOOLEAN: g_string_append(opts, json_node_get_boolean(n) ? "on" : "off");
        return true;
    default:
        core_set_error(err, "Parameter '%s' is not a string, number or boolean", name);
        return false;
    }
}

static bool cpu_device_is(const char *driver)
{
    g_autofree char *model = cpu_hotplug_model(driver);

    return model != NULL;
}

/* A CPU type (cpu-hotplug.c): its members as -device options. */
static JsonNode *device_add_cpu(const char *driver, JsonObject *args, char **err)
{
    g_autoptr(GString) opts = g_string_new("");
    GList *names = json_object_get_members(args);
    bool ok = true;

    for (GList *l = names; l && ok; l = l->next) {
        ok = strcmp(l->data, "driver") == 0 || opt_member(opts, args, l->data, err);
    }
    g_list_free(names);
    if (!ok || !cpu_device_add(driver, opts->str, err)) {
        return NULL;
    }
    return empty_return();
}

/* device_add {"driver": T, "id": ..., properties...}: as -device T,... */
static JsonNode *cmd_device_add(JsonObject *args, qmp_client *c, char **err)
{
    const char *driver = arg_string(args, "driver", err);
    g_autoptr(GString) opts = NULL;
    GList *names;
    const type_entry *te;
    tes_device *d;
    bool ok = true, help = false, pci;

    if (!driver) {
        return NULL;
    }
    if (cpu_device_is(driver)) {
        return device_add_cpu(driver, args, err);
    }
    if (!(te = type_lookup(driver, TES_KIND_DEVICE, err))) {
        return NULL;
    }
    pci = !type_hotpluggable(te->info) && type_is_pci(te->info);
    if (pci && !pci_target_ok(args, err)) {
        return NULL;
    }
    if (!pci && !type_hotpluggable(te->info) && !type_machine_hotplug(te->info)) {
        core_set_error(err, "Device '%s' does not support hotplugging", driver);
        return NULL;
    }
    opts = g_string_new(driver);
    names = json_object_get_members(args);
    for (GList *l = names; l && ok; l = l->next) {
        ok = strcmp(l->data, "driver") == 0 || opt_member(opts, args, l->data, err);
    }
    g_list_free(names);
    if (!ok || opts_want_help(strchr(opts->str, ',') ? strchr(opts->str, ',') + 1 : NULL)) {
        core_set_error(err, "device_add: bad parameters");
        return NULL;
    }
    d = dev_create_cli(opts->str, &help, err);
    if (!d) {
        return NULL;
    }
    if (pci) {
        pcie_slot_plugged(d);
    }
    if (type_machine_hotplug(te->info) && !machine_hotplug(d, err)) {
        dev_free(d);
        return NULL;
    }
    return empty_return();
}

static JsonNode *cmd_device_del(JsonObject *args, qmp_client *c, char **err)
{
    const char *id = arg_string(args, "id", err);
    tes_device *d = id ? dev_find(id) : NULL;

    if (d && d->type->kind == TES_KIND_CPU) {
        bool handled;
        bool ok = cpu_device_del(d, &handled, err);

        /* The guest ejects it; DEVICE_DELETED comes then. */
        if (handled) {
            return ok ? empty_return() : NULL;
        }
    }
    if (!id) {
        return NULL;
    }
    if (!d) {
        core_set_error(err, "Device '%s' not found", id);
        return NULL;
    }
    if (d->user_created && type_machine_hotplug(d->type)) {
        /* The guest ejects it; DEVICE_DELETED comes then (dev_unplug). */
        return machine_unplug_request(d, err) ? empty_return() : NULL;
    }
    if (!type_hotpluggable(d->type) && d->pci) {
        /* The guest powers the slot off; DEVICE_DELETED comes then. */
        return pcie_slot_unplug_request(d, err) ? empty_return() : NULL;
    }
    if (!d->user_created || !type_hotpluggable(d->type)) {
        core_set_error(err, "Device '%s' does not support hotplugging", id);
        return NULL;
    }
    /* Unplugged at once (QEMU's SCSI devices are too): its bus tells the
     * guest from unrealize. */
    dev_free(d);
    qmp_event_device_deleted(id, NULL);
    return empty_return();
}

/* screendump filename [device [head]] [format=ppm|png], QEMU's arguments. */
static JsonNode *cmd_screendump(JsonObject *args, qmp_client *c, char **err)
{
    bool bad = false;
    const char *file = sandbox_refuses(err) ? NULL : arg_string(args, "filename", err);
    const char *device = opt_string(args, "device", &bad, err);
    const char *format = opt_string(args, "format", &bad, err);
    JsonNode *hn = args ? json_object_get_member(args, "head") : NULL;
    tes_console *con;
    gint64 head = 0;

    if (!file || bad) {
        return NULL;
    }
    if (hn) {
        if (!JSON_NODE_HOLDS_VALUE(hn) || json_node_get_value_type(hn) != G_TYPE_INT64 ||
            json_node_get_int(hn) < 0 || json_node_get_int(hn) > INT_MAX) {
            core_set_error(err, "Invalid parameter type for 'head', expected: integer");
            return NULL;
        }
        head = json_node_get_int(hn);
        if (!device) {
            core_set_error(err, "'head' must be used with 'device'");
            return NULL;
        }
    }
    con = display_console_find(device, (int)head, err);
    if (!con || !display_screendump(con, file, format, err)) {
        return NULL;
    }
    return empty_return();
}

/* ---- object_add / object_del: memory backends (memdev.c) ----
 * QEMU's shape: {"qom-type": "memory-backend-ram", "id": "m1",
 * "size": 1073741824, ...}, each member a property (a "props" object as
 * older QEMUs took it too); the same text -object takes. */

static bool object_opts(GString *opts, JsonObject *args, char **err)
{
    GList *names = json_object_get_members(args);
    bool ok = true;

    for (GList *l = names; l && ok; l = l->next) {
        JsonNode *n = json_object_get_member(args, l->data);

        if (strcmp(l->data, "qom-type") == 0) {
            continue;
        }
        if (strcmp(l->data, "props") == 0 && JSON_NODE_HOLDS_OBJECT(n)) {
            ok = object_opts(opts, json_node_get_object(n), err);
        } else {
            ok = opt_member(opts, args, l->data, err);
        }
    }
    g_list_free(names);
    return ok;
}

static JsonNode *cmd_object_add(JsonObject *args, qmp_client *c, char **err)
{
    const char *type = arg_string(args, "qom-type", err);
    g_autoptr(GString) opts = NULL;

    if (!type || sandbox_refuses(err)) {
        return NULL; /* memory-backend-file opens host files */
    }
    opts = g_string_new(type);
    if (strchr(type, ',')) {
        core_set_error(err, "Invalid parameter 'qom-type'");
        return NULL;
    }
    if (!object_opts(opts, args, err)) {
        return NULL;
    }
    return memdev_add(opts->str, err) ? empty_return() : NULL;
}

static JsonNode *cmd_object_del(JsonObject *args, qmp_client *c, char **err)
{
    const char *id = arg_string(args, "id", err);

    return id && memdev_del(id, err) ? empty_return() : NULL;
}

/* QEMU 5.2's watchdog-set-action {"action": ...}; unknown names refused. */
static JsonNode *cmd_watchdog_set_action(JsonObject *args, qmp_client *c, char **err)
{
    const char *a = arg_string(args, "action", err);

    if (!a) {
        return NULL;
    }
    if (watchdog_action_parse(a) < 0) {
        core_set_error(err, "Parameter 'action' does not accept value '%s'", a);
        return NULL;
    }
    watchdog_set_action(a, NULL);
    return empty_return();
}

static JsonNode *cmd_query_commands(JsonObject *args, qmp_client *c, char **err);

static const qmp_cmd commands[] = {
    {"qmp_capabilities", cmd_capabilities},
    {"query-status", cmd_query_status},
    {"query-hotpluggable-cpus", cmd_query_hotpluggable_cpus},
    {"query-cpus-fast", cmd_query_cpus_fast},
    {"stop", cmd_stop},
    {"cont", cmd_cont},
    {"quit", cmd_quit},
    {"system_reset", cmd_system_reset},
    {"system_powerdown", cmd_system_powerdown},
    {"system_wakeup", cmd_system_wakeup},
    {"watchdog-set-action", cmd_watchdog_set_action},
    {"query-plugins", cmd_query_plugins},
    {"migrate", cmd_migrate},
    {"migrate-incoming", cmd_migrate_incoming},
    {"migrate_cancel", cmd_migrate_cancel},
    {"query-migrate", cmd_query_migrate},
    {"migrate-set-parameters", cmd_migrate_set_parameters},
    {"query-migrate-parameters", cmd_query_migrate_parameters},
    {"blockdev-add", cmd_blockdev_add},
    {"blockdev-del", cmd_blockdev_del},
    {"query-block", cmd_query_block},
    {"eject", cmd_eject},
    {"blockdev-open-tray", cmd_open_tray},
    {"blockdev-close-tray", cmd_close_tray},
    {"blockdev-remove-medium", cmd_remove_medium},
    {"blockdev-insert-medium", cmd_insert_medium},
    {"blockdev-change-medium", cmd_change_medium},
    {"query-blockstats", cmd_query_blockstats},
    {"human-monitor-command", cmd_hmp},
    {"query-version", cmd_query_version},
    {"query-commands", cmd_query_commands},
    {"set_link", cmd_set_link},
    {"device_add", cmd_device_add},
    {"device_del", cmd_device_del},
    {"screendump", cmd_screendump},
    {"send-key", qmp_send_key},
    {"input-send-event", qmp_input_send_event},
    {"object-add", cmd_object_add},
    {"object-del", cmd_object_del},
    {"object_add", cmd_object_add},
    {"object_del", cmd_object_del},
};

static JsonNode *cmd_query_commands(JsonObject *args, qmp_client *c, char **err)
{
    JsonArray *a = json_array_new();
    JsonNode *n = json_node_alloc();

    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        JsonObject *o = json_object_new();

        json_object_set_string_member(o, "name", commands[i].name);
        json_array_add_object_element(a, o);
    }
    for (size_t i = 0; qmp_inspect_commands[i].name; i++) {
        JsonObject *o = json_object_new();

        json_object_set_string_member(o, "name", qmp_inspect_commands[i].name);
        json_array_add_object_element(a, o);
    }
    json_node_init_array(n, a);
    json_array_unref(a);
    return n;
}

static const qmp_cmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    for (size_t i = 0; qmp_inspect_commands[i].name; i++) {
        if (strcmp(qmp_inspect_commands[i].name, name) == 0) {
            return &qmp_inspect_commands[i];
        }
    }
    return NULL;
}

/* ---- dispatch ---- */

static void execute(qmp_client *c, JsonObject *req, JsonNode *id)
{
    JsonNode *exe = json_object_get_member(req, "execute");
    JsonNode *argn = json_object_get_member(req, "arguments");
    const qmp_cmd *cmd;
    const char *name;
    char *err = NULL;
    JsonNode *ret;

    if (!exe || !JSON_NODE_HOLDS_VALUE(exe) || json_node_get_value_type(exe) != G_TYPE_STRING) {
        send_error(c, "GenericError", "QMP input lacks member 'execute'", id);
        return;
    }
    if (argn && !JSON_NODE_HOLDS_OBJECT(argn)) {
        send_error(c, "GenericError", "QMP input member 'arguments' must be an object", id);
        return;
    }
    name = json_node_get_string(exe);
    cmd = find_cmd(name);
    if (!c->negotiated && (!cmd || cmd->fn != cmd_capabilities)) {
        send_error(c, "CommandNotFound",
                   "Expecting capabilities negotiation with 'qmp_capabilities'", id);
        return;
    }
    if (!cmd) {
        char *desc = g_strdup_printf("The command %s has not been found", name);

        send_error(c, "CommandNotFound", desc, id);
        g_free(desc);
        return;
    }
    core_lock();
    ret = cmd->fn(argn ? json_node_get_object(argn) : NULL, c, &err);
    core_unlock();
    if (ret) {
        send_reply(c, ret, id);
    } else {
        send_error(c, cmd->fn == cmd_capabilities ? "CommandNotFound" : "GenericError",
                   err ? err : "command failed", id);
    }
    g_free(err);
}

static void dispatch(qmp_client *c, const char *text)
{
    JsonParser *p;
    GError *gerr = NULL;
    JsonNode *root;
    const char *why;

    /* json-glib leaks what it built when a parse fails: it only sees
     * messages that parse (json-check.c). */
    if (!json_check(text, strlen(text), QMP_MAX_NESTING, &why)) {
        char *desc = g_strdup_printf("JSON parse error, %s", why);

        send_error(c, "GenericError", desc, NULL);
        g_free(desc);
        return;
    }
    p = json_parser_new();
    if (!json_parser_load_from_data(p, text, -1, &gerr)) {
        char *desc = g_strdup_printf("JSON parse error, %s", gerr->message);

        send_error(c, "GenericError", desc, NULL);
        g_free(desc);
        g_error_free(gerr);
    } else if (!(root = json_parser_get_root(p)) || !JSON_NODE_HOLDS_OBJECT(root)) {
        send_error(c, "GenericError", "QMP input must be a JSON object", NULL);
    } else {
        JsonObject *req = json_node_get_object(root);

        execute(c, req, json_object_get_member(req, "id"));
    }
    g_object_unref(p);
}

/* One command run without a client (the harness, tes_harness_qmp): the
 * reply's text, {"return": ...} or {"error": {"class", "desc"}}. Commands
 * that need a client (qmp_capabilities) are not found. */
char *qmp_run_text(const char *text)
{
    JsonParser *p = json_parser_new();
    JsonObject *reply = json_object_new(), *req = NULL;
    JsonNode *root, *exe, *argn = NULL, *ret = NULL;
    const qmp_cmd *cmd = NULL;
    char *err = NULL, *out;

    if (json_parser_load_from_data(p, text, -1, NULL) && (root = json_parser_get_root(p)) &&
        JSON_NODE_HOLDS_OBJECT(root)) {
        req = json_node_get_object(root);
        exe = json_object_get_member(req, "execute");
        argn = json_object_get_member(req, "arguments");
        cmd = exe && JSON_NODE_HOLDS_VALUE(exe) &&
              json_node_get_value_type(exe) == G_TYPE_STRING
              ? find_cmd(json_node_get_string(exe)) : NULL;
    }
    if (!cmd || cmd->fn == cmd_capabilities || (argn && !JSON_NODE_HOLDS_OBJECT(argn))) {
        core_set_error(&err, "not a command this monitor runs: %s", text);
    } else {
        core_lock();
        ret = cmd->fn(argn ? json_node_get_object(argn) : NULL, NULL, &err);
        core_unlock();
    }
    if (ret) {
        json_object_set_member(reply, "return", ret);
    } else {
        JsonObject *e = json_object_new();

        json_object_set_string_member(e, "class", "GenericError");
        json_object_set_string_member(e, "desc", err ? err : "command failed");
        json_object_set_object_member(reply, "error", e);
    }
    g_free(err);
    root = obj_node(reply);
    out = json_to_string(root, FALSE);
    json_node_unref(root);
    g_object_unref(p);
    return out;
}

/* A message over a limit: one error now, its bytes skipped to its end. */
static void skip_message(qmp_client *c, const char *why)
{
    send_error(c, "GenericError", why, NULL);
    g_string_truncate(c->msg, 0);
    c->skipping = true;
}

/* Track strings and nesting; true when ch ends a top-level value. */
static bool scan(qmp_client *c, char ch)
{
    if (c->in_str) {
        if (c->esc) {
            c->esc = false;
        } else if (ch == '\\') {
            c->esc = true;
        } else if (ch == '"') {
            c->in_str = false;
        }
        return false;
    }
    if (ch == '"') {
        c->in_str = true;
    } else if (ch == '{' || ch == '[') {
        c->depth++;
    } else if (ch == '}' || ch == ']') {
        c->depth--;
    }
    /* A value ends when its brackets close; a stray top-level token
     * ends at a newline and is reported as a parse error. */
    return c->depth <= 0 && (ch == '}' || ch == ']' || ch == '\n');
}

/* Feed bytes to the splitter; every complete top-level value is run. The
 * limits are checked before json-glib sees anything. Bytes are appended
 * to the message a run at a time, not one by one (megabyte messages). */
static void feed(qmp_client *c, const char *buf, gssize len)
{
    gssize start = 0;

    for (gssize i = 0; i < len; i++) {
        char ch = buf[i];
        gsize pending = c->msg->len + (gsize)(i + 1 - start);

        if (c->depth == 0 && c->msg->len == 0 && start == i && !c->skipping &&
            g_ascii_isspace(ch)) {
            start = i + 1;
            continue;
        }
        if (scan(c, ch)) {
            if (!c->skipping) {
                g_string_append_len(c->msg, buf + start, i + 1 - start);
                dispatch(c, c->msg->str);
            }
            g_string_truncate(c->msg, 0);
            c->depth = 0;
            c->skipping = false;
            start = i + 1;
        } else if (!c->skipping && c->depth > QMP_MAX_NESTING) {
            skip_message(c, "JSON nesting depth limit exceeded");
        } else if (!c->skipping && pending > QMP_MAX_MESSAGE) {
            skip_message(c, "JSON message size limit exceeded");
        }
        if (c->skipping) {
            start = i + 1;
        }
    }
    if (!c->skipping) {
        g_string_append_len(c->msg, buf + start, len - start);
    }
}

/* ---- connections ---- */

/* Main loop only; out_lock not held. */
static void client_close(qmp_client *c)
{
    g_mutex_lock(&out_lock);
    g_ptr_array_remove(clients, c);
    g_mutex_unlock(&out_lock);
    if (c->src) {
        g_source_destroy(c->src);
        g_source_unref(c->src);
    }
    if (c->out_src) {
        g_source_destroy(c->out_src);
        g_source_unref(c->out_src);
    }
    g_socket_close(c->sock, NULL);
    g_object_unref(c->sock);
    g_string_free(c->msg, TRUE);
    g_byte_array_unref(c->out);
    g_free(c);
}

static gboolean client_readable(GSocket *sock, GIOCondition cond, gpointer opaque)
{
    qmp_client *c = opaque;
    GError *gerr = NULL;
    char buf[4096];
    gssize n = -1;
    bool full;

    if (cond & G_IO_IN) {
        n = g_socket_receive(sock, buf, sizeof(buf), NULL, &gerr);
    }
    if (n < 0 && g_error_matches(gerr, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_error_free(gerr);
        return G_SOURCE_CONTINUE;
    }
    g_clear_error(&gerr);
    if (n <= 0) {
        client_close(c);
        return G_SOURCE_REMOVE;
    }
    feed(c, buf, n);
    g_mutex_lock(&out_lock);
    full = c->out->len >= QMP_OUT_PAUSE;
    g_mutex_unlock(&out_lock);
    if (!client_flush(c)) {
        return G_SOURCE_REMOVE;
    }
    if (full && c->out_src) {
        /* It writes faster than it reads: hear it again once drained. */
        g_source_unref(c->src);
        c->src = NULL;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void client_input_watch(qmp_client *c)
{
    c->src = g_socket_create_source(c->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(c->src, (GSourceFunc)(void (*)(void))client_readable, c, NULL);
    g_source_attach(c->src, NULL);
}

static void client_add(GSocket *sock)
{
    qmp_client *c = g_new0(qmp_client, 1);

    /* Never blocking: a client that does not read must not stall us. */
    g_socket_set_blocking(sock, FALSE);
    c->sock = sock;
    c->msg = g_string_new(NULL);
    c->out = g_byte_array_new();
    client_input_watch(c);
    g_mutex_lock(&out_lock);
    if (!clients) {
        clients = g_ptr_array_new();
    }
    g_ptr_array_add(clients, c);
    g_mutex_unlock(&out_lock);
    send_greeting(c);
    client_flush(c);
}

/* ---- in-process clients (tests/fuzz/fuzz-qmp-json.c) ---- */

qmp_client *qmp_client_open_fd(int fd, bool sandbox)
{
    GSocket *sock = g_socket_new_from_fd(fd, NULL);

    if (!sock) {
        return NULL;
    }
    sandboxed = sandbox;
    client_add(sock);
    return g_ptr_array_index(clients, clients->len - 1);
}

/* As if bytes arrived on its socket; false once the client is gone (its
 * output queue overflowed): it is freed then. */
bool qmp_client_feed(qmp_client *c, const void *buf, size_t len)
{
    feed(c, buf, len);
    return client_flush(c);
}

void qmp_client_close(qmp_client *c)
{
    client_close(c);
}

static gboolean server_acceptable(GSocket *sock, GIOCondition cond, gpointer opaque)
{
    GSocket *cs = g_socket_accept(sock, NULL, NULL);

    if (cs && clients && clients->len >= QMP_MAX_CLIENTS) {
        core_log(TES_LOG_PLUGIN, "qmp: %d clients already: connection closed",
                 QMP_MAX_CLIENTS);
        g_socket_close(cs, NULL);
        g_object_unref(cs);
    } else if (cs) {
        client_add(cs);
    }
    return G_SOURCE_CONTINUE;
}

/* "unix:PATH[,server=on|off][,wait=on|off]", also the old "server" and
 * "nowait" flags. As in QEMU, a server waits for its first client unless
 * wait=off. */
static bool parse_spec(const char *spec, char **path, bool *wait, char **errp)
{
    char **items;
    bool ok = true;

    if (!g_str_has_prefix(spec, "unix:")) {
        core_set_error(errp, "-qmp: unsupported address '%s' (expected "
                       "unix:PATH,server=on,wait=off)", spec);
        return false;
    }
    items = g_strsplit(spec + 5, ",", -1);
    *wait = true;
    if (!items[0]) {
        /* "unix:" alone: g_strsplit of "" gives no items at all */
        g_strfreev(items);
        *path = NULL;
        core_set_error(errp, "-qmp: empty socket path in '%s'", spec);
        return false;
    }
    for (char **p = items + 1; *p && ok; p++) {
        if (!strcmp(*p, "server") || !strcmp(*p, "server=on")) {
            continue;
        } else if (!strcmp(*p, "nowait") || !strcmp(*p, "wait=off")) {
            *wait = false;
        } else if (!strcmp(*p, "wait=on")) {
            *wait = true;
        } else {
            core_set_error(errp, "-qmp: unsupported option '%s' in '%s' (only a listening "
                           "server: server=on, wait=on|off)", *p, spec);
            ok = false;
        }
    }
    *path = g_strdup(items[0]);
    g_strfreev(items);
    if (ok && !**path) {
        core_set_error(errp, "-qmp: empty socket path in '%s'", spec);
        ok = false;
    }
    return ok;
}

static GSocket *listen_unix(const char *path, char **errp)
{
    GError *gerr = NULL;
    GSocketAddress *addr;
    struct sockaddr_un sa;
    GSocket *s;

    if (!unix_socket_path_prepare("-qmp", path, &sa, errp)) {
        return NULL;
    }
    s = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &gerr);
    if (!s) {
        goto fail;
    }
    addr = g_unix_socket_address_new(path);
    if (!g_socket_bind(s, addr, TRUE, &gerr) || !g_socket_listen(s, &gerr)) {
        g_object_unref(addr);
        g_clear_object(&s);
        goto fail;
    }
    g_object_unref(addr);
    return s;
fail:
    core_set_error(errp, "-qmp: cannot listen on '%s': %s", path, gerr->message);
    g_error_free(gerr);
    return NULL;
}

bool qmp_spec_check(const char *spec, char **errp)
{
    struct sockaddr_un sa;
    char *path = NULL;
    bool wait;
    bool ok = parse_spec(spec, &path, &wait, errp) && unix_socket_addr("-qmp", path, &sa, errp);

    g_free(path);
    return ok;
}

bool qmp_add(const char *spec, char **errp)
{
    qmp_server *srv;
    char *path = NULL;
    bool wait;
    GSocket *s;

    if (!parse_spec(spec, &path, &wait, errp) || !(s = listen_unix(path, errp))) {
        g_free(path);
        return false;
    }
    srv = g_new0(qmp_server, 1);
    srv->sock = s;
    srv->path = path;
    srv->src = g_socket_create_source(s, G_IO_IN, NULL);
    g_source_set_callback(srv->src, (GSourceFunc)(void (*)(void))server_acceptable, srv,
                          NULL);
    g_source_attach(srv->src, NULL);
    if (!servers) {
        servers = g_ptr_array_new();
    }
    g_ptr_array_add(servers, srv);
    if (wait) {
        GSocket *cs = g_socket_accept(s, NULL, NULL);

        if (cs) {
            client_add(cs);
        }
    }
    return true;
}

void monitors_close_all(void)
{
    hmp_close_all();
    flush_all(NULL); /* the last replies and SHUTDOWN, if the socket takes them */
    while (clients && clients->len) {
        client_close(g_ptr_array_index(clients, clients->len - 1));
    }
    while (servers && servers->len) {
        qmp_server *srv = g_ptr_array_steal_index(servers, servers->len - 1);

        g_source_destroy(srv->src);
        g_source_unref(srv->src);
        g_socket_close(srv->sock, NULL);
        g_object_unref(srv->sock);
        unlink(srv->path);
        g_free(srv->path);
        g_free(srv);
    }
}
