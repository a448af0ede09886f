/*
 * tessera core: -blockdev and the block monitor commands.
 *
 *   -blockdev driver=file,node-name=f0,filename=disk.img
 *   -blockdev driver=qcow2,node-name=n0,file=f0
 *   -blockdev driver=qcow2,node-name=top,file=f1,backing=n0|null,lazy-refcounts=on|off
 *            [,cache.direct=on|off][,cache.no-flush=on|off][,discard=unmap|ignore]
 *   -blockdev driver=raw,node-name=n0,file.driver=file,file.filename=disk.img
 *   -blockdev '{"driver":"qcow2","node-name":"n0","file":{"driver":"file","filename":"disk.img"}}'
 *   -device nvme,drive=n0,serial=x
 *
 * QMP blockdev-add takes the JSON form's object; the dotted form becomes the
 * same object (keys split on dots, values strings), so every spelling goes
 * through blockdev_add_json(). A node is opened as a drive named after its
 * node-name through drive_add(), the call -drive uses (block.c owns the
 * formats and how a drive is opened): a "file" node as format=raw, a raw or
 * qcow2 node as its format over its file child's path. A file node another
 * node names as file= is closed and becomes part of that node (as in QEMU,
 * it is then no longer usable by a device); blockdev-del of the format node
 * gives it back.
 *
 * query-block, query-blockstats and HMP "info block" list every drive,
 * -drive's (by id: "device") and -blockdev's (by node-name).
 */
#include <json-glib/json-glib.h>
#include <string.h>

#include "blockdev.h"
#include "core.h"

typedef struct bdev_node {
    char *name;
    char *driver;    /* file, raw, qcow2 */
    char *filename;
    char *opts;      /* what drive_add() got, to open it again */
    char *parent;    /* the node that took it as its file, or NULL */
    bool inline_child; /* given inside its parent: goes with it */
    bool medium;     /* parent is the drive it was inserted in as a medium */
    bool backing;    /* parent is the qcow2 node it backs (still open itself) */
} bdev_node;

static GPtrArray *nodes; /* bdev_node*: the monitor's nodes, open order */

static const char *const common_keys[] = {"driver", "node-name", "read-only", "auto-read-only",
                                          "force-share", "discard", "detect-zeroes", "cache",
                                          NULL};
static const char *const file_keys[] = {"filename", "aio", "locking", "aio-max-batch", NULL};
static const char *const format_keys[] = {"file", NULL};
static const char *const qcow2_keys[] = {"file", "backing", "lazy-refcounts", NULL};

static void node_free(gpointer p)
{
    bdev_node *n = p;

    g_free(n->name);
    g_free(n->driver);
    g_free(n->filename);
    g_free(n->opts);
    g_free(n->parent);
    g_free(n);
}

static bdev_node *node_find(const char *name)
{
    for (guint i = 0; nodes && name && i < nodes->len; i++) {
        bdev_node *n = g_ptr_array_index(nodes, i);
        if (!strcmp(n->name, name)) {
            return n;
        }
    }
    return NULL;
}

void blockdev_reset(void)
{
    g_clear_pointer(&nodes, g_ptr_array_unref);
}

/* ---- values: JSON types or keyval strings ---- */

static const char *get_str(JsonObject *o, const char *key, bool required, char **errp)
{
    JsonNode *n = json_object_get_member(o, key);

    if (!n) {
        if (required) {
            core_set_error(errp, "Parameter '%s' is missing", key);
        }
        return NULL;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        core_set_error(errp, "Invalid parameter type for '%s', expected: string", key);
        return NULL;
    }
    return json_node_get_string(n);
}

/* 0/1, or -1 with *errp set; def when absent. */
static int get_bool(JsonObject *o, const char *key, int def, char **errp)
{
    JsonNode *n = o ? json_object_get_member(o, key) : NULL;
    const char *s;

    if (!n) {
        return def;
    }
    if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN) {
        return json_node_get_boolean(n);
    }
    s = JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
        ? json_node_get_string(n) : "";
    if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true")) {
        return 1;
    }
    if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false")) {
        return 0;
    }
    core_set_error(errp, "Parameter '%s' expects 'on' or 'off'", key);
    return -1;
}

static bool in_list(const char *const *list, const char *key)
{
    for (; *list; list++) {
        if (!strcmp(*list, key)) {
            return true;
        }
    }
    return false;
}

/* Every member of o is one the driver takes. */
static bool keys_ok(JsonObject *o, const char *const *own, char **errp)
{
    GList *members = json_object_get_members(o);
    bool ok = true;

    for (GList *l = members; l && ok; l = l->next) {
        if (!in_list(common_keys, l->data) && !in_list(own, l->data)) {
            core_set_error(errp, "Parameter '%s' is unexpected", (const char *)l->data);
            ok = false;
        }
    }
    g_list_free(members);
    return ok;
}

/* ---- the dotted form ---- */

/* Dotted keys deeper than this are refused: blockdev options nest three
 * levels at most, and the recursion below must stay shallow. */
#define KEYVAL_MAX_DEPTH 16

/* "a.b=v" into o: {"a": {"b": "v"}}. */
static bool keyval_put(JsonObject *o, const char *key, const char *val, int depth, char **errp)
{
    const char *dot = strchr(key, '.');
    g_autofree char *head = dot ? g_strndup(key, dot - key) : g_strdup(key);
    JsonNode *n = json_object_get_member(o, head);

    if (!*head || (dot && !dot[1]) || depth > KEYVAL_MAX_DEPTH) {
        core_set_error(errp, "Invalid parameter '%s'", key);
        return false;
    }
    if (!dot) {
        if (n) {
            core_set_error(errp, "Parameter '%s' is given twice or used inconsistently", key);
            return false;
        }
        json_object_set_string_member(o, head, val);
        return true;
    }
    if (n && !JSON_NODE_HOLDS_OBJECT(n)) {
        core_set_error(errp, "Parameters '%s.*' used inconsistently", head);
        return false;
    }
    if (!n) {
        json_object_set_object_member(o, head, json_object_new());
    }
    return keyval_put(json_object_get_object_member(o, head), dot + 1, val, depth + 1, errp);
}

static JsonObject *keyval_parse(const char *optarg, char **errp)
{
    GPtrArray *items = drive_split_opts(optarg);
    JsonObject *o = json_object_new();
    bool ok = true;

    for (guint i = 0; i < items->len && ok; i++) {
        char *item = g_ptr_array_index(items, i);
        char *eq = strchr(item, '=');

        if (!*item) {
            continue;
        }
        if (!eq) {
            core_set_error(errp, "Expected '=' after parameter '%s'", item);
            ok = false;
            break;
        }
        *eq = '\0';
        ok = keyval_put(o, item, eq + 1, 0, errp);
    }
    g_ptr_array_free(items, TRUE);
    if (!ok) {
        json_object_unref(o);
        return NULL;
    }
    return o;
}

static JsonObject *json_parse(const char *text, char **errp)
{
    JsonParser *p = json_parser_new();
    GError *gerr = NULL;
    JsonObject *o = NULL;
    JsonNode *root;

    if (!json_parser_load_from_data(p, text, -1, &gerr)) {
        core_set_error(errp, "JSON parse error, %s", gerr->message);
        g_error_free(gerr);
    } else if (!(root = json_parser_get_root(p)) || !JSON_NODE_HOLDS_OBJECT(root)) {
        core_set_error(errp, "-blockdev: JSON must be an object");
    } else {
        o = json_object_ref(json_node_get_object(root));
    }
    g_object_unref(p);
    return o;
}

/* ---- opening ---- */

/* QEMU's cache.direct / cache.no-flush as -drive's cache= mode. Both on
 * has no -drive spelling: O_DIRECT with flushes kept (the safe side). */
static bool cache_mode(JsonObject *o, GString *s, char **errp)
{
    JsonNode *n = json_object_get_member(o, "cache");
    JsonObject *c;
    int direct, no_flush;

    if (!n) {
        return true;
    }
    if (!JSON_NODE_HOLDS_OBJECT(n)) {
        core_set_error(errp, "Invalid parameter type for 'cache', expected: object");
        return false;
    }
    c = json_node_get_object(n);
    if (!keys_ok(c, (const char *const[]){"direct", "no-flush", NULL}, errp) ||
        (direct = get_bool(c, "direct", 0, errp)) < 0 ||
        (no_flush = get_bool(c, "no-flush", 0, errp)) < 0) {
        return false;
    }
    drive_opts_append(s, "cache", direct ? "none" : no_flush ? "unsafe" : "writeback");
    return true;
}

/* The keys every driver shares, as -drive keys. */
static bool common_opts(JsonObject *o, GString *s, char **errp)
{
    int ro = get_bool(o, "read-only", 0, errp);
    const char *discard = get_str(o, "discard", false, errp);
    const char *zeroes = get_str(o, "detect-zeroes", false, errp);

    if (ro < 0 || (get_bool(o, "auto-read-only", 0, errp) < 0) ||
        get_bool(o, "force-share", 0, errp) < 0 || !cache_mode(o, s, errp) ||
        (errp && *errp)) {
        return false;
    }
    if (ro) {
        drive_opts_append(s, "readonly", "on");
    }
    if (discard) {
        drive_opts_append(s, "discard", discard);
    }
    if (zeroes && strcmp(zeroes, "off") != 0) {
        drive_opts_append(s, "detect-zeroes", zeroes);
    }
    return true;
}

static bool name_ok(const char *name, char **errp)
{
    bool ok = name && g_ascii_isalpha(name[0]) && strlen(name) < 32;

    for (const char *p = name; ok && *p; p++) {
        ok = g_ascii_isalnum(*p) || *p == '-' || *p == '.' || *p == '_';
    }
    if (!ok) {
        core_set_error(errp, "Invalid node-name: '%s'", name ? name : "");
        return false;
    }
    if (drive_find(name) || node_find(name)) {
        core_set_error(errp, "Duplicate nodes with node-name='%s'", name);
        return false;
    }
    return true;
}

static bdev_node *node_add(const char *name, const char *driver, const char *file,
                           const char *opts)
{
    bdev_node *n = g_new0(bdev_node, 1);

    n->name = g_strdup(name);
    n->driver = g_strdup(driver);
    n->filename = g_strdup(file);
    n->opts = g_strdup(opts);
    if (!nodes) {
        nodes = g_ptr_array_new_with_free_func(node_free);
    }
    g_ptr_array_add(nodes, n);
    return n;
}

/* A file node's own options: path, aio=, the common keys. */
static bool file_opts(JsonObject *o, GString *s, const char **path, char **errp)
{
    const char *aio = get_str(o, "aio", false, errp);

    if (!keys_ok(o, file_keys, errp) || get_bool(o, "locking", 0, errp) < 0 ||
        (errp && *errp)) {
        return false;
    }
    *path = get_str(o, "filename", true, errp);
    if (!*path) {
        return false;
    }
    drive_opts_append(s, "file", *path);
    if (aio) {
        drive_opts_append(s, "aio", aio);
    }
    return common_opts(o, s, errp);
}

/* Open NAME over base (a file node's keys) as a drive of that format. */
static bool node_open(const char *name, const char *base, const char *format, char **errp)
{
    GString *s = g_string_new(base);
    bool ok;

    drive_opts_append(s, "format", format);
    drive_opts_append(s, "if", "none");
    drive_opts_append(s, "id", name);
    ok = drive_add(s->str, errp);
    g_string_free(s, TRUE);
    return ok;
}

static bool add_file_node(JsonObject *o, const char *name, char **errp)
{
    GString *s = g_string_new(NULL);
    const char *path;
    bool ok = file_opts(o, s, &path, errp) && node_open(name, s->str, "raw", errp);

    if (ok) {
        node_add(name, "file", path, s->str);
    }
    g_string_free(s, TRUE);
    return ok;
}

/* file=NAME: a file node of the monitor's, closed as a drive of its own
 * (refused while a device uses it); its keys start the parent's. */
static bdev_node *take_file_ref(const char *ref, const char *parent, char **errp)
{
    bdev_node *f = node_find(ref);

    if (!f || strcmp(f->driver, "file") != 0) {
        core_set_error(errp, "Cannot find file node '%s' (a -blockdev driver=file node)", ref);
        return NULL;
    }
    if (f->parent) {
        core_set_error(errp, "Node '%s' is already the file of node '%s'", ref, f->parent);
        return NULL;
    }
    if (!drive_del(ref, errp)) {
        return NULL;
    }
    f->parent = g_strdup(parent);
    return f;
}

/* The file child, given by name or inline: its keys into s. */
static bool file_child(JsonObject *o, const char *name, GString *s, const char **path,
                       bdev_node **ref, char **errp)
{
    JsonNode *n = json_object_get_member(o, "file");
    JsonObject *c;
    const char *cname, *driver;

    if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
        if (!(*ref = take_file_ref(json_node_get_string(n), name, errp))) {
            return false;
        }
        g_string_append(s, (*ref)->opts);
        *path = (*ref)->filename;
        return true;
    }
    if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
        core_set_error(errp, n ? "Invalid parameter type for 'file', expected: object or "
                                 "string" : "Parameter 'file' is missing");
        return false;
    }
    c = json_node_get_object(n);
    driver = json_object_has_member(c, "driver") ? get_str(c, "driver", true, errp) : "file";
    cname = get_str(c, "node-name", false, errp);
    if (!driver || (errp && *errp)) {
        return false;
    }
    if (cname && !strcmp(cname, name)) {
        core_set_error(errp, "Duplicate nodes with node-name='%s'", cname);
        return false;
    }
    if (cname && !name_ok(cname, errp)) {
        return false;
    }
    if (strcmp(driver, "file") != 0) {
        core_set_error(errp, "file.driver=%s is not supported (expected file)", driver);
        return false;
    }
    return file_opts(c, s, path, errp);
}

static void record_inline_child(JsonObject *o, const char *parent, const char *path)
{
    JsonNode *n = json_object_get_member(o, "file");
    JsonObject *c = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
    const char *cname = c && json_object_has_member(c, "node-name")
                        ? json_object_get_string_member(c, "node-name") : NULL;
    bdev_node *child;

    if (cname) {
        child = node_add(cname, "file", path, "");
        child->parent = g_strdup(parent);
        child->inline_child = true;
    }
}

/* backing=NODE (a monitor node, opened again read-only as the backing
 * file; in use while the top is) or null (none, whatever the image's header
 * says). *bnode: the node, for its parent link. */
static bool backing_opt(JsonObject *o, GString *s, bdev_node **bnode, char **errp)
{
    JsonNode *n = json_object_get_member(o, "backing");
    const char *ref;
    bdev_node *b;

    if (!n) {
        return true;
    }
    if (JSON_NODE_HOLDS_NULL(n)) {
        drive_opts_append(s, "backing", "null");
        return true;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        core_set_error(errp, "Invalid parameter type for 'backing', expected: a node name or "
                       "null");
        return false;
    }
    ref = json_node_get_string(n);
    if (!strcmp(ref, "null")) {
        drive_opts_append(s, "backing", "null");
        return true;
    }
    b = node_find(ref);
    if (!b) {
        core_set_error(errp, "Cannot find node-name='%s' for 'backing' (a -blockdev node)", ref);
        return false;
    }
    drive_opts_append(s, "backing.file.filename", b->filename);
    drive_opts_append(s, "backing.driver", !strcmp(b->driver, "qcow2") ? "qcow2" : "raw");
    *bnode = b;
    return true;
}

/* The qcow2 driver's own keys: backing, lazy-refcounts. */
static bool qcow2_opts_of(JsonObject *o, GString *s, bdev_node **bnode, char **errp)
{
    int lazy = get_bool(o, "lazy-refcounts", -1, errp);

    if (lazy == -1 && errp && *errp) {
        return false;
    }
    if (lazy >= 0) {
        drive_opts_append(s, "lazy-refcounts", lazy ? "on" : "off");
    }
    return backing_opt(o, s, bnode, errp);
}

static bool add_format_node(JsonObject *o, const char *name, const char *driver, char **errp)
{
    GString *s = g_string_new(NULL);
    bdev_node *ref = NULL, *bnode = NULL;
    const char *path = NULL;
    bool qc = !strcmp(driver, "qcow2");
    bool ok = keys_ok(o, qc ? qcow2_keys : format_keys, errp) &&
              file_child(o, name, s, &path, &ref, errp) && common_opts(o, s, errp) &&
              (!qc || qcow2_opts_of(o, s, &bnode, errp)) &&
              node_open(name, s->str, driver, errp);

    if (ok) {
        node_add(name, driver, path, s->str);
        record_inline_child(o, name, path);
        if (bnode && !bnode->parent) {
            bnode->parent = g_strdup(name); /* blockdev-del refuses it now */
            bnode->backing = true;
        }
    } else if (ref) {
        /* give the file node back as it was */
        g_clear_pointer(&ref->parent, g_free);
        node_open(ref->name, ref->opts, "raw", NULL);
    }
    g_string_free(s, TRUE);
    return ok;
}

bool blockdev_add_json(JsonObject *o, char **errp)
{
    const char *driver = get_str(o, "driver", true, errp);
    const char *name = driver ? get_str(o, "node-name", false, errp) : NULL;

    if (!driver || (errp && *errp)) {
        return false;
    }
    if (!name) {
        core_set_error(errp, "'node-name' must be specified for the root node");
        return false;
    }
    if (!name_ok(name, errp)) {
        return false;
    }
    if (!strcmp(driver, "file")) {
        return keys_ok(o, file_keys, errp) && add_file_node(o, name, errp);
    }
    if (!strcmp(driver, "raw") || !strcmp(driver, "qcow2")) {
        return add_format_node(o, name, driver, errp);
    }
    core_set_error(errp, "Parameter 'driver' does not accept value '%s' (expected file, raw "
                   "or qcow2)", driver);
    return false;
}

static JsonObject *cli_parse_any(const char *optarg, char **errp)
{
    const char *p = optarg + strspn(optarg, " \t\n");

    return *p == '{' ? json_parse(p, errp) : keyval_parse(optarg, errp);
}

bool blockdev_add_cli(const char *optarg, char **errp)
{
    JsonObject *o = cli_parse_any(optarg, errp);
    bool ok;

    if (!o) {
        return false;
    }
    ok = blockdev_add_json(o, errp);
    json_object_unref(o);
    return ok;
}

/* What blockdev_add_json() checks before it opens anything. */
static bool check_json(JsonObject *o, GString *scratch, char **errp)
{
    const char *driver = get_str(o, "driver", true, errp);
    const char *name = driver ? get_str(o, "node-name", false, errp) : NULL;
    JsonNode *file = json_object_get_member(o, "file");
    const char *path;

    if (!driver || (errp && *errp) || (name && !name_ok(name, errp))) {
        return false;
    }
    if (!strcmp(driver, "file")) {
        return file_opts(o, scratch, &path, errp);
    }
    if (!keys_ok(o, !strcmp(driver, "qcow2") ? qcow2_keys : format_keys, errp) ||
        !common_opts(o, scratch, errp)) {
        return false;
    }
    if (!strcmp(driver, "qcow2") && get_bool(o, "lazy-refcounts", 0, errp) < 0) {
        return false;
    }
    if (file && JSON_NODE_HOLDS_OBJECT(file)) {
        return file_opts(json_node_get_object(file), scratch, &path, errp);
    }
    return true;
}

bool blockdev_check(const char *optarg, char **errp)
{
    JsonObject *o = cli_parse_any(optarg, errp);
    GString *scratch = g_string_new(NULL);
    bool ok = o && check_json(o, scratch, errp);

    g_string_free(scratch, TRUE);
    if (o) {
        json_object_unref(o);
    }
    return ok;
}

/* blockdev-del: the monitor's nodes only, not while used; a file node the
 * deleted node had taken by name is a drive of its own again. */
bool blockdev_del(const char *name, char **errp)
{
    bdev_node *n = node_find(name);

    if (!n && drive_find(name)) {
        core_set_error(errp, "Node %s is not owned by the monitor", name);
        return false;
    }
    if (!n) {
        core_set_error(errp, "Failed to find node with node-name='%s'", name);
        return false;
    }
    if (n->parent) {
        core_set_error(errp, "Node '%s' is in use by node '%s'", name, n->parent);
        return false;
    }
    if (!drive_del(name, errp)) {
        return false;
    }
    for (guint i = nodes->len; i-- > 0;) {
        bdev_node *c = g_ptr_array_index(nodes, i);

        if (g_strcmp0(c->parent, name) != 0) {
            continue;
        }
        g_clear_pointer(&c->parent, g_free);
        if (c->backing) {
            c->backing = false; /* its drive never closed */
        } else if (c->inline_child) {
            g_ptr_array_remove_index(nodes, i);
        } else {
            node_open(c->name, c->opts, "raw", NULL);
        }
    }
    g_ptr_array_remove(nodes, n);
    return true;
}

/* ---- query-block, query-blockstats, info block ---- */

/* -drive's are named by their id ("device"), -blockdev's by node-name. */
const char *blockdev_drive_name(tes_drive *d)
{
    return node_find(drive_id(d)) ? "" : drive_id(d);
}

/* ---- nodes as removable media (block-media.c) ---- */

bool blockdev_take_medium(const char *name, const char *into, char **opts, char **errp)
{
    bdev_node *n = node_find(name);
    GString *s;

    if (!n) {
        core_set_error(errp, "Failed to find node with node-name='%s'", name);
        return false;
    }
    if (n->parent) {
        core_set_error(errp, "Node '%s' is already in use by '%s'", name, n->parent);
        return false;
    }
    if (!drive_del(name, errp)) {
        return false;
    }
    n->parent = g_strdup(into);
    n->medium = true;
    s = g_string_new(n->opts);
    drive_opts_append(s, "format", !strcmp(n->driver, "file") ? "raw" : n->driver);
    *opts = g_string_free(s, FALSE);
    return true;
}

void blockdev_return_medium(const char *from)
{
    for (guint i = 0; nodes && i < nodes->len; i++) {
        bdev_node *n = g_ptr_array_index(nodes, i);

        if (n->medium && !g_strcmp0(n->parent, from)) {
            g_clear_pointer(&n->parent, g_free);
            n->medium = false;
            node_open(n->name, n->opts, !strcmp(n->driver, "file") ? "raw" : n->driver, NULL);
        }
    }
}

/* "inserted": the medium, absent when the drive is empty (QEMU). */
static JsonObject *inserted(tes_drive *d)
{
    JsonObject *ins = json_object_new(), *img = json_object_new();
    const char *fmt = drive_format_name(d);

    json_object_set_string_member(ins, "file", drive_path(d));
    json_object_set_string_member(ins, "node-name", drive_id(d));
    json_object_set_boolean_member(ins, "ro", drive_readonly(d));
    json_object_set_string_member(ins, "drv", fmt);
    json_object_set_boolean_member(ins, "encrypted", FALSE);
    json_object_set_int_member(ins, "backing_file_depth", 0);
    json_object_set_string_member(ins, "detect_zeroes", "off");
    json_object_set_string_member(img, "filename", drive_path(d));
    json_object_set_string_member(img, "format", fmt);
    json_object_set_int_member(img, "virtual-size", (gint64)drive_size(d));
    json_object_set_object_member(ins, "image", img);
    return ins;
}

static void block_entry(tes_drive *d, void *opaque)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "device", blockdev_drive_name(d));
    if (drive_user(d)) {
        json_object_set_string_member(o, "qdev", drive_user(d));
    }
    json_object_set_boolean_member(o, "locked", media_locked(d));
    json_object_set_boolean_member(o, "removable", media_removable(d));
    if (media_has_tray(d)) {
        json_object_set_boolean_member(o, "tray_open", media_tray_open(d));
    }
    json_object_set_string_member(o, "type", "unknown");
    if (drive_has_medium(d)) {
        json_object_set_object_member(o, "inserted", inserted(d));
    }
    json_array_add_object_element(opaque, o);
}

static void stats_entry(tes_drive *d, void *opaque)
{
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"rd_bytes", offsetof(drive_stats, rd_bytes)},
        {"wr_bytes", offsetof(drive_stats, wr_bytes)},
        {"unmap_bytes", offsetof(drive_stats, unmap_bytes)},
        {"rd_operations", offsetof(drive_stats, rd_ops)},
        {"wr_operations", offsetof(drive_stats, wr_ops)},
        {"flush_operations", offsetof(drive_stats, flush_ops)},
        {"unmap_operations", offsetof(drive_stats, unmap_ops)},
        {"failed_rd_operations", offsetof(drive_stats, failed_rd_ops)},
        {"failed_wr_operations", offsetof(drive_stats, failed_wr_ops)},
        {"failed_flush_operations", offsetof(drive_stats, failed_flush_ops)},
        {"failed_unmap_operations", offsetof(drive_stats, failed_unmap_ops)},
        {"wr_highest_offset", offsetof(drive_stats, wr_highest_offset)},
    };
    JsonObject *o = json_object_new(), *st = json_object_new();
    drive_stats s;

    drive_get_stats(d, &s);
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
        json_object_set_int_member(st, fields[i].name,
                                   (gint64)*(uint64_t *)((char *)&s + fields[i].off));
    }
    json_object_set_boolean_member(st, "account_invalid", FALSE);
    json_object_set_boolean_member(st, "account_failed", TRUE);
    json_object_set_string_member(o, "device", blockdev_drive_name(d));
    json_object_set_string_member(o, "node-name", drive_id(d));
    if (drive_user(d)) {
        json_object_set_string_member(o, "qdev", drive_user(d));
    }
    json_object_set_object_member(o, "stats", st);
    json_array_add_object_element(opaque, o);
}

static JsonNode *drives_array(void (*fn)(tes_drive *d, void *opaque))
{
    JsonArray *a = json_array_new();
    JsonNode *n = json_node_alloc();

    drives_foreach(fn, a);
    json_node_init_array(n, a);
    json_array_unref(a);
    return n;
}

JsonNode *block_query(void)
{
    return drives_array(block_entry);
}

JsonNode *block_query_stats(void)
{
    return drives_array(stats_entry);
}

/* QEMU's "info block" layout. */
static void info_entry(tes_drive *d, void *opaque)
{
    GString *out = opaque;

    if (!drive_has_medium(d)) {
        g_string_append_printf(out, "%s: [not inserted]\n", drive_id(d));
    } else {
        g_string_append_printf(out, "%s: %s (%s%s)\n", drive_id(d), drive_path(d),
                               drive_format_name(d), drive_readonly(d) ? ", read-only" : "");
    }
    if (drive_user(d)) {
        g_string_append_printf(out, "    Attached to:      %s\n", drive_user(d));
    }
    if (media_removable(d) && drive_user(d)) {
        g_string_append_printf(out, "    Removable device: %slocked, tray %s\n",
                               media_locked(d) ? "" : "not ", media_tray_open(d) ? "open"
                                                                                 : "closed");
    }
    if (drive_has_medium(d)) {
        g_string_append_printf(out, "    Virtual size:     %" G_GUINT64_FORMAT " bytes\n",
                               drive_size(d));
    }
    g_string_append_c(out, '\n');
}

void block_info_print(GString *out)
{
    drives_foreach(info_entry, out);
}

/* QEMU's "info blockstats" line per drive. */
static void info_stats_entry(tes_drive *d, void *opaque)
{
    drive_stats s;

    drive_get_stats(d, &s);
    g_string_append_printf(opaque, "%s: rd_bytes=%" G_GUINT64_FORMAT " wr_bytes=%"
                           G_GUINT64_FORMAT " rd_operations=%" G_GUINT64_FORMAT
                           " wr_operations=%" G_GUINT64_FORMAT " flush_operations=%"
                           G_GUINT64_FORMAT " unmap_operations=%" G_GUINT64_FORMAT "\n",
                           drive_id(d), s.rd_bytes, s.wr_bytes, s.rd_ops, s.wr_ops,
                           s.flush_ops, s.unmap_ops);
}

void block_info_stats_print(GString *out)
{
    drives_foreach(info_stats_entry, out);
}
