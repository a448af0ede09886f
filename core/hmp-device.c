/*
 * tessera core: HMP device_add, device_del and info hotpluggable-cpus,
 * QEMU's spelling of the QMP commands, run through them (so the checks and
 * errors are the same):
 *
 *   device_add DRIVER[,PROP=VALUE...]   e.g. device_add
 *                                       qemu64-x86_64-cpu,id=c2,socket-id=0,core-id=2,thread-id=0
 *   device_del ID
 *   info hotpluggable-cpus
 */
#include <json-glib/json-glib.h>
#include <string.h>

#include "core.h"
#include "monitor.h"

/* Run cmd with args (taken) in-process; an error's desc goes to out. */
static bool run_qmp(const char *cmd, JsonObject *args, GString *out)
{
    JsonObject *req = json_object_new();
    JsonNode *n = json_node_alloc();
    g_autoptr(JsonParser) p = json_parser_new();
    g_autofree char *text = NULL, *reply = NULL;
    JsonNode *root;
    JsonObject *err;

    json_object_set_string_member(req, "execute", cmd);
    json_object_set_object_member(req, "arguments", args);
    json_node_init_object(n, req);
    json_object_unref(req);
    text = json_to_string(n, FALSE);
    json_node_unref(n);
    reply = qmp_run_text(text);
    if (!reply || !json_parser_load_from_data(p, reply, -1, NULL) ||
        !(root = json_parser_get_root(p)) || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_string_append(out, "Error: no reply\n");
        return false;
    }
    err = json_object_get_object_member(json_node_get_object(root), "error");
    if (err) {
        g_string_append_printf(out, "Error: %s\n",
                               json_object_get_string_member_with_default(err, "desc", "?"));
        return false;
    }
    return true;
}

bool hmp_device_add(const char *arg, GString *out)
{
    g_auto(GStrv) kv = g_strsplit(arg ? arg : "", ",", -1);
    JsonObject *args;

    if (!kv[0] || !*g_strstrip(kv[0])) {
        g_string_append(out, "usage: device_add driver[,prop=value][,...]\n");
        return false;
    }
    args = json_object_new();
    json_object_set_string_member(args, "driver", kv[0]);
    for (guint i = 1; kv[i]; i++) {
        char *eq = strchr(kv[i], '=');

        if (!*kv[i]) {
            continue;
        }
        if (!eq || eq == kv[i]) {
            g_string_append_printf(out, "Error: '%s' is not prop=value\n", kv[i]);
            json_object_unref(args);
            return false;
        }
        *eq = '\0';
        json_object_set_string_member(args, kv[i], eq + 1);
    }
    return run_qmp("device_add", args, out);
}

bool hmp_device_del(const char *arg, GString *out)
{
    g_autofree char *id = g_strstrip(g_strdup(arg ? arg : ""));
    JsonObject *args;

    if (!*id || strchr(id, ' ')) {
        g_string_append(out, "usage: device_del id\n");
        return false;
    }
    args = json_object_new();
    json_object_set_string_member(args, "id", id);
    return run_qmp("device_del", args, out);
}

static void print_props(JsonObject *props, GString *out)
{
    g_autoptr(GList) names = props ? json_object_get_members(props) : NULL;

    g_string_append(out, "  CPUInstance Properties:\n");
    for (GList *l = names; l; l = l->next) {
        g_string_append_printf(out, "    %s: \"%" G_GINT64_FORMAT "\"\n", (char *)l->data,
                               json_object_get_int_member(props, l->data));
    }
}

/* QEMU's hmp_hotpluggable_cpus layout. */
void hmp_info_hotpluggable_cpus(GString *out)
{
    char *err = NULL;
    JsonNode *n = cpu_query_hotpluggable(&err);
    JsonArray *a;

    if (!n) {
        g_string_append_printf(out, "Error: %s\n", err);
        g_free(err);
        return;
    }
    a = json_node_get_array(n);
    g_string_append(out, "Hotpluggable CPUs:\n");
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);

        g_string_append_printf(out, "  type: \"%s\"\n  vcpus_count: \"%" G_GINT64_FORMAT "\"\n",
                               json_object_get_string_member(o, "type"),
                               json_object_get_int_member(o, "vcpus-count"));
        if (json_object_has_member(o, "qom-path")) {
            g_string_append_printf(out, "  qom_path: \"%s\"\n",
                                   json_object_get_string_member(o, "qom-path"));
        }
        print_props(json_object_get_object_member(o, "props"), out);
    }
    json_node_unref(n);
}
