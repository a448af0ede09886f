/*
 * tessera core: QMP inspection commands, in QEMU's shapes.
 *
 *   trace-event-get-state {"name": PATTERN}
 *       -> [{"name", "state": "enabled"|"disabled", "vcpu": false}, ...]
 *   trace-event-set-state {"name": PATTERN, "enable": BOOL}
 *   query-cpus-fast -> [{"cpu-index", "qom-path", "thread-id", "target",
 *                        "props": {"socket-id", "core-id", "thread-id"}}]
 *   query-pci       (core/pci-query.c)
 *   qom-list {"path"} -> [{"name", "type"}]
 *   qom-get {"path", "property"} -> the value
 *   query-acpi-ospm-status -> [{"device", "slot", "slot-type", "source",
 *                               "status"}, ...] (the board's hotplug slots,
 *                               tes_machine_ops.ospm_status)
 *
 * QOM paths follow QEMU's: /machine/peripheral/ID for -device ...,id=ID,
 * /machine/peripheral-anon/device[N] for -device without id=, and
 * /machine/unattached/device[N] for what the board made (N counts in tree
 * order). A device's properties are its type's table plus "type",
 * "realized", "parent_bus" and "plugin" (the plugin that provides it).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "blockdev.h"
#include "core.h"
#include "monitor.h"
#include "numa.h"
#include "tracing.h"

JsonArray *pci_query(void); /* pci-query.c */

static JsonNode *arr_node(JsonArray *a)
{
    JsonNode *n = json_node_alloc();

    json_node_init_array(n, a);
    json_array_unref(a);
    return n;
}

static JsonNode *empty_obj(void)
{
    JsonNode *n = json_node_alloc();
    JsonObject *o = json_object_new();

    json_node_init_object(n, o);
    json_object_unref(o);
    return n;
}

static const char *get_str(JsonObject *args, const char *name, char **err)
{
    JsonNode *n = args ? json_object_get_member(args, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        core_set_error(err, "Parameter '%s' is missing or not a string", name);
        return NULL;
    }
    return json_node_get_string(n);
}

/* ---- trace events ---- */

/* QEMU's check_events(): an exact name must exist, a pattern may match
 * nothing. */
static bool events_exist(const char *name, char **err)
{
    if (!strpbrk(name, "*?") && !trace_exists(name)) {
        core_set_error(err, "unknown event \"%s\"", name);
        return false;
    }
    return true;
}

typedef struct state_ctx {
    const char *glob;
    JsonArray *out;
} state_ctx;

static void add_state(const char *name, bool enabled, void *opaque)
{
    state_ctx *c = opaque;
    JsonObject *o;

    if (!core_glob_match(c->glob, name)) {
        return;
    }
    o = json_object_new();
    json_object_set_string_member(o, "name", name);
    json_object_set_string_member(o, "state", enabled ? "enabled" : "disabled");
    json_object_set_boolean_member(o, "vcpu", FALSE);
    json_array_add_object_element(c->out, o);
}

static JsonNode *cmd_trace_get(JsonObject *args, qmp_client *c, char **err)
{
    const char *name = get_str(args, "name", err);
    state_ctx ctx;

    if (!name || !events_exist(name, err)) {
        return NULL;
    }
    ctx.glob = name;
    ctx.out = json_array_new();
    trace_foreach(add_state, &ctx);
    return arr_node(ctx.out);
}

static JsonNode *cmd_trace_set(JsonObject *args, qmp_client *c, char **err)
{
    const char *name = get_str(args, "name", err);
    JsonNode *en = args ? json_object_get_member(args, "enable") : NULL;

    if (!name) {
        return NULL;
    }
    if (!en || !JSON_NODE_HOLDS_VALUE(en) || json_node_get_value_type(en) != G_TYPE_BOOLEAN) {
        core_set_error(err, "Parameter 'enable' is missing or not a boolean");
        return NULL;
    }
    if (!events_exist(name, err)) {
        return NULL;
    }
    trace_set_pattern(name, json_node_get_boolean(en));
    return empty_obj();
}

/* ---- QOM paths ---- */

typedef struct qom_walk {
    const char *want_path; /* find the device of this path, or */
    tes_device *want_dev;  /* the path of this device, or */
    const char *list_dir;  /* list the children of this container */
    JsonArray *list;
    tes_device *found;
    char *path;
    unsigned anon, unattached;
} qom_walk;

static char *dev_qom_path(tes_device *d, qom_walk *w)
{
    if (d->user_created && d->id) {
        return g_strdup_printf("/machine/peripheral/%s", d->id);
    }
    if (d->user_created) {
        return g_strdup_printf("/machine/peripheral-anon/device[%u]", w->anon++);
    }
    return g_strdup_printf("/machine/unattached/device[%u]", w->unattached++);
}

static void qom_visit(tes_device *d, void *opaque)
{
    qom_walk *w = opaque;
    char *path = dev_qom_path(d, w);
    char *slash = strrchr(path, '/');

    if (w->want_path && !w->found && strcmp(path, w->want_path) == 0) {
        w->found = d;
    }
    if (w->want_dev == d && !w->path) {
        w->path = g_strdup(path);
    }
    if (w->list_dir && strlen(w->list_dir) == (size_t)(slash - path) &&
        strncmp(path, w->list_dir, slash - path) == 0) {
        JsonObject *o = json_object_new();
        char *type = g_strdup_printf("child<%s>", d->type->name);

        json_object_set_string_member(o, "name", slash + 1);
        json_object_set_string_member(o, "type", type);
        json_array_add_object_element(w->list, o);
        g_free(type);
    }
    g_free(path);
}

static tes_device *qom_find(const char *path)
{
    qom_walk w = {.want_path = path};

    devices_foreach(qom_visit, &w);
    return w.found;
}

/* The QOM path of d (g_free), NULL when it is not in the tree. */
char *qom_path_of(tes_device *d)
{
    qom_walk w = {.want_dev = d};

    devices_foreach(qom_visit, &w);
    return w.path;
}

static void list_add(JsonArray *a, const char *name, const char *type)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "name", name);
    json_object_set_string_member(o, "type", type);
    json_array_add_object_element(a, o);
}

static const char *prop_qom_type(tes_prop_kind kind)
{
    switch (kind) {
    case TES_PROP_BOOL:
        return "bool";
    case TES_PROP_U8:
        return "uint8";
    case TES_PROP_U16:
        return "uint16";
    case TES_PROP_U32:
        return "uint32";
    case TES_PROP_U64:
        return "uint64";
    case TES_PROP_SIZE:
        return "size";
    default:
        return "str";
    }
}

static void list_device(tes_device *d, JsonArray *a)
{
    char *bus = g_strdup_printf("link<%s>", d->bus ? d->bus->kind : "bus");

    list_add(a, "type", "string");
    list_add(a, "realized", "bool");
    list_add(a, "plugin", "string");
    list_add(a, "parent_bus", bus);
    g_free(bus);
    for (const tes_prop_info *p = d->type->props; p && p->name; p++) {
        list_add(a, p->name, prop_qom_type(p->kind));
    }
}

static JsonNode *cmd_qom_list(JsonObject *args, qmp_client *c, char **err)
{
    const char *path = get_str(args, "path", err);
    JsonArray *a;
    tes_device *d;

    if (!path) {
        return NULL;
    }
    a = json_array_new();
    if (strcmp(path, "/") == 0) {
        list_add(a, "type", "string");
        list_add(a, "machine", "child<container>");
    } else if (strcmp(path, "/machine") == 0) {
        list_add(a, "type", "string");
        list_add(a, "peripheral", "child<container>");
        list_add(a, "peripheral-anon", "child<container>");
        list_add(a, "unattached", "child<container>");
    } else if (!strcmp(path, "/machine/peripheral") || !strcmp(path, "/machine/unattached") ||
               !strcmp(path, "/machine/peripheral-anon")) {
        qom_walk w = {.list_dir = path, .list = a};

        list_add(a, "type", "string");
        devices_foreach(qom_visit, &w);
    } else if ((d = qom_find(path))) {
        list_device(d, a);
    } else {
        json_array_unref(a);
        core_set_error(err, "Device '%s' not found", path);
        return NULL;
    }
    return arr_node(a);
}

static JsonNode *value_node(tes_device *d, const tes_prop_info *p)
{
    char *text = prop_value_string(d, p);
    JsonNode *n = json_node_alloc();

    switch (p->kind) {
    case TES_PROP_BOOL:
        json_node_init_boolean(n, strcmp(text, "on") == 0);
        break;
    case TES_PROP_U8:
    case TES_PROP_U16:
    case TES_PROP_U32:
    case TES_PROP_U64:
    case TES_PROP_SIZE:
        json_node_init_int(n, (gint64)g_ascii_strtoull(text, NULL, 10));
        break;
    default:
        json_node_init_string(n, text);
        break;
    }
    g_free(text);
    return n;
}

static JsonNode *string_node(const char *s)
{
    JsonNode *n = json_node_alloc();

    json_node_init_string(n, s ? s : "");
    return n;
}

static JsonNode *container_get(const char *path, const char *prop, char **err)
{
    if (strcmp(prop, "type") == 0) {
        return string_node(strcmp(path, "/machine") == 0 ? "machine" : "container");
    }
    core_set_error(err, "Property 'container.%s' not found", prop);
    return NULL;
}

static JsonNode *cmd_qom_get(JsonObject *args, qmp_client *c, char **err)
{
    const char *path = get_str(args, "path", err);
    const char *prop = path ? get_str(args, "property", err) : NULL;
    tes_device *d;

    if (!prop) {
        return NULL;
    }
    if (!strcmp(path, "/") || !strcmp(path, "/machine") || !strcmp(path, "/machine/peripheral") ||
        !strcmp(path, "/machine/unattached") || !strcmp(path, "/machine/peripheral-anon")) {
        return container_get(path, prop, err);
    }
    if (!(d = qom_find(path))) {
        core_set_error(err, "Device '%s' not found", path);
        return NULL;
    }
    for (const tes_prop_info *p = d->type->props; p && p->name; p++) {
        if (strcmp(p->name, prop) == 0) {
            return value_node(d, p);
        }
    }
    if (strcmp(prop, "type") == 0) {
        return string_node(d->type->name);
    }
    if (strcmp(prop, "plugin") == 0) {
        return string_node(d->te && d->te->plugin ? d->te->plugin->desc->name : "core");
    }
    if (strcmp(prop, "parent_bus") == 0) {
        return string_node(d->bus ? d->bus->name : "");
    }
    if (strcmp(prop, "realized") == 0) {
        JsonNode *n = json_node_alloc();

        json_node_init_boolean(n, d->realized);
        return n;
    }
    core_set_error(err, "Property '%s.%s' not found", d->type->name, prop);
    return NULL;
}

/* ---- CPUs ---- */

static JsonObject *cpu_props(unsigned index)
{
    const tes_topology *t = machine_topology();
    JsonObject *p = json_object_new();
    unsigned threads = t && t->threads ? t->threads : 1;
    unsigned cores = t && t->cores ? t->cores : 1;

    json_object_set_int_member(p, "socket-id", index / (threads * cores));
    json_object_set_int_member(p, "core-id", (index / threads) % cores);
    json_object_set_int_member(p, "thread-id", index % threads);
    return p;
}

static JsonNode *cmd_query_cpus_fast(JsonObject *args, qmp_client *c, char **err)
{
    JsonArray *a = json_array_new();

    for (unsigned i = 0; i < cpu_count(); i++) {
        tes_cpu *cpu = cpu_by_index(i);
        JsonObject *o;
        char *path;

        if (!cpu) {
            continue;
        }
        o = json_object_new();
        path = qom_path_of(cpu->dev);
        json_object_set_int_member(o, "cpu-index", i);
        json_object_set_string_member(o, "qom-path", path ? path : "/machine/unattached/cpu");
        /* One vCPU thread runs every vCPU; QEMU gives each its own TID. */
        json_object_set_int_member(o, "thread-id", getpid());
        json_object_set_string_member(o, "target", cpu->ops->arch ? cpu->ops->arch : "");
        json_object_set_object_member(o, "props", cpu_props(i));
        json_array_add_object_element(a, o);
        g_free(path);
    }
    return arr_node(a);
}

static JsonNode *cmd_query_pci(JsonObject *args, qmp_client *c, char **err)
{
    return arr_node(pci_query());
}

/* ---- events and queries the board answers (ABI 1.8) ---- */

/* The text of a JSON object, parsed; NULL when it is anything else. */
static JsonObject *object_of(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *root;

    if (!text || !json_parser_load_from_data(p, text, -1, NULL) ||
        !(root = json_parser_get_root(p)) || !JSON_NODE_HOLDS_OBJECT(root)) {
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

static bool event_name_ok(const char *name)
{
    if (!name || !*name) {
        return false;
    }
    for (const char *c = name; *c; c++) {
        if (!g_ascii_isupper(*c) && !g_ascii_isdigit(*c) && *c != '_') {
            return false;
        }
    }
    return true;
}

int qmp_event_plugin(const char *name, const char *data_json)
{
    JsonObject *data = NULL;

    if (!event_name_ok(name) || (data_json && !(data = object_of(data_json)))) {
        core_log(TES_LOG_PLUGIN, "qmp_event: refused event '%s' (a name of [A-Z0-9_] and a "
                 "JSON object as data are expected)\n", name ? name : "(null)");
        return -EINVAL;
    }
    qmp_event_data(name, data);
    return 0;
}

static void ospm_put(void *ctx, const char *info_json)
{
    JsonObject *o = object_of(info_json);

    if (o) {
        json_array_add_object_element(ctx, o);
    } else {
        core_log(TES_LOG_PLUGIN, "query-acpi-ospm-status: the machine gave no JSON object\n");
    }
}

static JsonNode *cmd_query_ospm_status(JsonObject *args, qmp_client *c, char **err)
{
    tes_device *m = machine_current();
    const tes_machine_ops *ops = m ? m->type->class_info : NULL;
    JsonArray *a = json_array_new();

    if (ops && ops->size >= offsetof(tes_machine_ops, ospm_status) + sizeof(void *) &&
        ops->ospm_status) {
        ops->ospm_status(m, m->s, ospm_put, a);
    }
    return arr_node(a);
}

const qmp_cmd qmp_inspect_commands[] = {
    {"query-acpi-ospm-status", cmd_query_ospm_status},
    {"trace-event-get-state", cmd_trace_get},
    {"trace-event-set-state", cmd_trace_set},
    {"query-cpus-fast", cmd_query_cpus_fast},
    {"query-pci", cmd_query_pci},
    {"qom-list", cmd_qom_list},
    {"qom-get", cmd_qom_get},
    {NULL, NULL},
};
