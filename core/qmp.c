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
 * several in one read: a small splitter counts braces outside strings.
 * Commands run in the main loop under the machine lock.
 */
#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "monitor.h"

typedef struct qmp_server {
    GSocket *sock;
    GSource *src;
    char *path;
} qmp_server;

typedef struct qmp_client {
    GSocket *sock;
    GSource *src;
    GString *msg; /* the message being assembled */
    int depth;    /* {} and [] nesting outside strings */
    bool in_str, esc;
    bool negotiated;
} qmp_client;

typedef JsonNode *(*qmp_fn)(JsonObject *args, qmp_client *c, char **err);

typedef struct qmp_cmd {
    const char *name;
    qmp_fn fn;
} qmp_cmd;

static GPtrArray *servers; /* qmp_server* */
static GPtrArray *clients; /* qmp_client* */

/* ---- output ---- */

static void client_send(qmp_client *c, JsonNode *node)
{
    char *text = json_to_string(node, FALSE);
    GString *line = g_string_new(text);
    gsize off = 0;

    g_string_append(line, "\r\n");
    while (off < line->len) {
        gssize n = g_socket_send(c->sock, line->str + off, line->len - off, NULL, NULL);

        if (n <= 0) {
            break; /* client gone: its read source sees the hang-up */
        }
        off += n;
    }
    g_string_free(line, TRUE);
    g_free(text);
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

void qmp_event(const char *name)
{
    JsonObject *ts = json_object_new();
    JsonObject *o = json_object_new();
    gint64 now = g_get_real_time();
    JsonNode *n;

    core_lock(); /* the client list is changed under the lock */
    json_object_set_string_member(o, "event", name);
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    json_object_set_object_member(o, "timestamp", ts);
    n = obj_node(o);
    for (guint i = 0; clients && i < clients->len; i++) {
        qmp_client *c = g_ptr_array_index(clients, i);

        if (c->negotiated) {
            client_send(c, n);
        }
    }
    json_node_unref(n);
    core_unlock();
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
    if (runstate_get() == RUN_RUNNING) {
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

static JsonNode *cmd_migrate(JsonObject *args, qmp_client *c, char **err)
{
    const char *uri = arg_string(args, "uri", err);

    if (!uri || !migrate_start(uri, err)) {
        core_set_error(err, "migrate: failed to start");
        return NULL;
    }
    return empty_return();
}

static JsonNode *cmd_migrate_incoming(JsonObject *args, qmp_client *c, char **err)
{
    const char *uri = arg_string(args, "uri", err);

    if (!uri) {
        return NULL;
    }
    if (runstate_get() != RUN_INMIGRATE) {
        vm_stop(RUN_INMIGRATE);
    }
    if (!migrate_incoming(uri, err)) {
        core_set_error(err, "migrate-incoming: failed");
        return NULL;
    }
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

static JsonNode *cmd_query_commands(JsonObject *args, qmp_client *c, char **err);

static const qmp_cmd commands[] = {
    {"qmp_capabilities", cmd_capabilities},
    {"query-status", cmd_query_status},
    {"stop", cmd_stop},
    {"cont", cmd_cont},
    {"quit", cmd_quit},
    {"system_reset", cmd_system_reset},
    {"system_powerdown", cmd_system_powerdown},
    {"query-plugins", cmd_query_plugins},
    {"migrate", cmd_migrate},
    {"migrate-incoming", cmd_migrate_incoming},
    {"query-migrate", cmd_query_migrate},
    {"human-monitor-command", cmd_hmp},
    {"query-version", cmd_query_version},
    {"query-commands", cmd_query_commands},
    {"set_link", cmd_set_link},
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
    JsonParser *p = json_parser_new();
    GError *gerr = NULL;
    JsonNode *root;

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

/* Feed bytes to the splitter; every complete top-level value is run. */
static void feed(qmp_client *c, const char *buf, gssize len)
{
    for (gssize i = 0; i < len; i++) {
        char ch = buf[i];

        if (c->depth == 0 && c->msg->len == 0 && g_ascii_isspace(ch)) {
            continue;
        }
        g_string_append_c(c->msg, ch);
        if (c->in_str) {
            if (c->esc) {
                c->esc = false;
            } else if (ch == '\\') {
                c->esc = true;
            } else if (ch == '"') {
                c->in_str = false;
            }
            continue;
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
        if (c->depth <= 0 && (ch == '}' || ch == ']' || ch == '\n')) {
            dispatch(c, c->msg->str);
            g_string_truncate(c->msg, 0);
            c->depth = 0;
        }
    }
}

/* ---- connections ---- */

static void client_free(qmp_client *c)
{
    g_source_destroy(c->src);
    g_source_unref(c->src);
    g_socket_close(c->sock, NULL);
    g_object_unref(c->sock);
    g_string_free(c->msg, TRUE);
    g_free(c);
}

static gboolean client_readable(GSocket *sock, GIOCondition cond, gpointer opaque)
{
    qmp_client *c = opaque;
    char buf[4096];
    gssize n = -1;

    if (cond & G_IO_IN) {
        n = g_socket_receive(sock, buf, sizeof(buf), NULL, NULL);
    }
    if (n <= 0) {
        core_lock();
        g_ptr_array_remove(clients, c);
        core_unlock();
        client_free(c);
        return G_SOURCE_REMOVE;
    }
    feed(c, buf, n);
    return G_SOURCE_CONTINUE;
}

static void client_add(GSocket *sock)
{
    qmp_client *c = g_new0(qmp_client, 1);

    /* Blocking: we read only when readable, and a reply is written whole. */
    g_socket_set_blocking(sock, TRUE);
    c->sock = sock;
    c->msg = g_string_new(NULL);
    c->src = g_socket_create_source(sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(c->src, (GSourceFunc)(void (*)(void))client_readable, c, NULL);
    g_source_attach(c->src, NULL);
    core_lock();
    if (!clients) {
        clients = g_ptr_array_new();
    }
    g_ptr_array_add(clients, c);
    core_unlock();
    send_greeting(c);
}

static gboolean server_acceptable(GSocket *sock, GIOCondition cond, gpointer opaque)
{
    GSocket *cs = g_socket_accept(sock, NULL, NULL);

    if (cs) {
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
    GSocket *s = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                              G_SOCKET_PROTOCOL_DEFAULT, &gerr);

    if (!s) {
        goto fail;
    }
    unlink(path); /* a stale socket of an earlier run */
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
    while (clients && clients->len) {
        client_free(g_ptr_array_steal_index(clients, clients->len - 1));
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
