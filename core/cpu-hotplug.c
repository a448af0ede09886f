/*
 * tessera core: CPU hot-plug, QEMU's way.
 *
 *   -smp 2,maxcpus=4                      two vCPUs, two free slots
 *   -device qemu64-x86_64-cpu,socket-id=2,core-id=0,thread-id=0[,id=c2]
 *   (QMP) device_add driver=qemu64-x86_64-cpu socket-id=3 core-id=0 ...
 *   (QMP) device_del id=c2                the guest ejects it, then
 *                                         DEVICE_DELETED
 *   (QMP) query-hotpluggable-cpus, query-cpus-fast
 *
 * A CPU's type name is "<model>-<arch>-cpu" as in QEMU ("qemu64-x86_64-cpu",
 * "max-x86_64-cpu"; Arm's arch part is "arm"); the model must be the -cpu
 * one. socket-id, core-id and thread-id are required (die-id and
 * cluster-id when the topology has more than one), node-id must agree with
 * -numa. The ids pick the vCPU index (thread fastest, as QEMU numbers
 * them); the slot must be free. The core creates the vCPU there (waiting
 * for INIT/SIPI or PSCI like any secondary) and hands it to the machine
 * (tes_machine_ops.cpu_plugged), which tells the guest when the machine is
 * already built (device_add) and just lists it when it is not (-device,
 * as a destination of migration needs). device_del asks the machine to
 * ask the guest (cpu_unplug_request); the board calls host->cpu_remove
 * after the guest's eject and the vCPU goes from the main loop.
 */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "numa.h"

enum { L_SOCKET, L_DIE, L_CLUSTER, L_CORE, L_THREAD, L_N };
static const char *const level_key[L_N] = {"socket-id", "die-id", "cluster-id", "core-id",
                                           "thread-id"};

typedef struct cpu_req {
    int64_t ids[L_N]; /* -1: not given */
    int64_t node;
    char *id;
} cpu_req;

static const tes_machine_ops *machine_ops_of(tes_device **m)
{
    *m = machine_current();
    return *m ? (*m)->type->class_info : NULL;
}

static bool has_plug(const tes_machine_ops *ops)
{
    return ops && ops->size >= offsetof(tes_machine_ops, cpu_plugged) + sizeof(void *) &&
           ops->cpu_plugged;
}

static bool has_unplug(const tes_machine_ops *ops)
{
    return ops && ops->size >= offsetof(tes_machine_ops, cpu_unplug_request) + sizeof(void *) &&
           ops->cpu_unplug_request;
}

/* The arch part of QEMU's CPU type names. */
static const char *qemu_arch(const char *arch)
{
    return strcmp(arch, "aarch64") == 0 ? "arm" : arch;
}

/* The provider of model whose arch the name gives: "max-x86_64-cpu" is
 * cpu-x86's max even where cpu-arm has a "max" too. */
static const type_entry *cpu_type_for(const char *model, const char *arch)
{
    g_autoptr(GPtrArray) all = types_of_kind(TES_KIND_CPU);

    for (guint i = 0; i < all->len; i++) {
        const type_entry *te = g_ptr_array_index(all, i);
        const tes_cpu_ops *cops = te->info->class_info;

        if (strcmp(te->info->name, model) == 0 && cops && cops->arch &&
            strcmp(qemu_arch(cops->arch), arch) == 0) {
            return te;
        }
    }
    return NULL;
}

char *cpu_hotplug_model(const char *driver)
{
    size_t n = driver ? strlen(driver) : 0;
    g_autofree char *model = NULL;
    const type_entry *te;
    char *dash;

    if (n < 5 || strcmp(driver + n - 4, "-cpu") != 0) {
        return NULL;
    }
    model = g_strndup(driver, n - 4);
    dash = strrchr(model, '-');
    if (!dash || dash == model) {
        return NULL;
    }
    *dash = '\0';
    te = cpu_type_for(model, dash + 1);
    return te ? g_strdup_printf("%s:%s", te->plugin->desc->name, te->info->name) : NULL;
}

static bool parse_value(const char *driver, const char *key, const char *val, int64_t *out,
                        char **errp)
{
    guint64 v;

    if (!g_ascii_string_to_unsigned(val, 10, 0, INT32_MAX, &v, NULL)) {
        core_set_error(errp, "%s: property '%s' wants a number 0..%d, got '%s'", driver, key,
                       INT32_MAX, val);
        return false;
    }
    *out = (int64_t)v;
    return true;
}

static bool parse_item(const char *driver, char *item, cpu_req *r, char **errp)
{
    char *eq = strchr(item, '=');

    if (!eq) {
        core_set_error(errp, "%s: '%s' is not key=value", driver, item);
        return false;
    }
    *eq = '\0';
    if (strcmp(item, "id") == 0) {
        g_free(r->id);
        r->id = g_strdup(eq + 1);
        return true;
    }
    if (strcmp(item, "node-id") == 0) {
        return parse_value(driver, item, eq + 1, &r->node, errp);
    }
    for (unsigned l = 0; l < L_N; l++) {
        if (strcmp(item, level_key[l]) == 0) {
            return parse_value(driver, item, eq + 1, &r->ids[l], errp);
        }
    }
    core_set_error(errp, "Property '%s.%s' not found", driver, item);
    return false;
}

static bool parse_req(const char *driver, const char *opts, cpu_req *r, char **errp)
{
    g_auto(GStrv) items = opts && *opts ? g_strsplit(opts, ",", -1) : NULL;

    for (unsigned i = 0; items && items[i]; i++) {
        if (items[i][0] && !parse_item(driver, items[i], r, errp)) {
            return false;
        }
    }
    return true;
}

/* The vCPU index the ids name, as x86_cpu_pre_plug checks them. */
static bool req_index(const tes_topology *t, cpu_req *r, unsigned *index, char **errp)
{
    const unsigned count[L_N] = {t->sockets, t->dies, t->clusters, t->cores, t->threads};
    unsigned idx = 0;

    for (unsigned l = 0; l < L_N; l++) {
        bool required = l == L_SOCKET || l == L_CORE || l == L_THREAD || count[l] > 1;

        if (r->ids[l] < 0 && required) {
            core_set_error(errp, "CPU %s is not set", level_key[l]);
            return false;
        }
        r->ids[l] = r->ids[l] < 0 ? 0 : r->ids[l];
        if (r->ids[l] >= count[l]) {
            core_set_error(errp, "Invalid CPU %s: %" G_GINT64_FORMAT " must be in range 0:%u",
                           level_key[l], r->ids[l], count[l] - 1);
            return false;
        }
        idx = idx * count[l] + (unsigned)r->ids[l];
    }
    if (r->node >= 0 && r->node != (t->nodes ? t->cpu_node[idx] : 0)) {
        core_set_error(errp, "node-id=%" G_GINT64_FORMAT " must match numa node specified "
                       "with -numa option", r->node);
        return false;
    }
    *index = idx;
    return true;
}

/* Which slot, and is it free? */
static bool slot_free(const tes_machine_ops *ops, unsigned index, const char *id, char **errp)
{
    tes_cpu *old = cpu_by_index(index);

    if (old && ops->arch && strcmp(ops->arch, "x86_64") == 0 && old->ops->arch_id) {
        core_set_error(errp, "CPU[%u] with APIC ID %" G_GUINT64_FORMAT " exists", index,
                       old->ops->arch_id(old, old->dev->s));
        return false;
    }
    if (old) {
        core_set_error(errp, "CPU[%u] exists", index);
        return false;
    }
    if (id && dev_find(id)) {
        core_set_error(errp, "Duplicate ID '%s' for device", id);
        return false;
    }
    return true;
}

static bool plug_checks(tes_device *m, const tes_machine_ops *ops, const char *driver,
                        const char *model, char **errp)
{
    if (!has_plug(ops)) {
        core_set_error(errp, "machine '%s' does not support CPU hot-plug (device '%s')",
                       m ? m->type->name : "none", driver);
        return false;
    }
    const type_entry *want = machine_cfg.cpu_model
                             ? type_lookup(machine_cfg.cpu_model, TES_KIND_CPU, NULL) : NULL;

    if (!want || want != type_lookup(model, TES_KIND_CPU, NULL)) {
        core_set_error(errp, "Invalid CPU type, expected cpu type: '%s-%s-cpu'",
                       want ? want->info->name : "?", qemu_arch(ops->arch ? ops->arch : "?"));
        return false;
    }
    return true;
}

tes_device *cpu_device_add(const char *driver, const char *opts, char **errp)
{
    g_autofree char *model = cpu_hotplug_model(driver);
    cpu_req r = {.ids = {-1, -1, -1, -1, -1}, .node = -1};
    tes_device *m, *dev = NULL;
    const tes_machine_ops *ops = machine_ops_of(&m);
    unsigned index;
    tes_cpu *cpu;
    int ret;

    if (!model) {
        core_set_error(errp, "'%s' is not a CPU type", driver);
        return NULL;
    }
    if (!plug_checks(m, ops, driver, model, errp) || !parse_req(driver, opts, &r, errp) ||
        !req_index(machine_topology(), &r, &index, errp) || !slot_free(ops, index, r.id, errp) ||
        !(cpu = cpu_new(model, index, r.id, errp))) {
        g_free(r.id);
        return NULL;
    }
    g_free(r.id);
    cpu->dev->user_created = true;
    g_clear_pointer(&m->error, g_free);
    ret = ops->cpu_plugged(m, m->s, cpu, machine_ready);
    if (ret < 0) {
        core_set_error(errp, "machine '%s': %s", m->type->name,
                       m->error ? m->error : g_strerror(-ret));
        g_clear_pointer(&m->error, g_free);
        cpu_destroy(cpu);
        return NULL;
    }
    dev = cpu->dev;
    core_log(TES_LOG_PLUGIN, "cpu-hotplug: vCPU %u (%s) %s", index, dev->name,
             machine_ready ? "hot-plugged" : "cold-plugged");
    cpu_kick(NULL);
    return dev;
}

void cpu_device_help(const char *driver, FILE *out)
{
    fprintf(out, "%s options (CPU hot-plug: the ids pick a free slot of -smp maxcpus=):\n",
            driver);
    fprintf(out, "  id=<str>\n");
    for (unsigned l = 0; l < L_N; l++) {
        fprintf(out, "  %s=<uint32>%s\n", level_key[l],
                l == L_DIE || l == L_CLUSTER ? " (when the topology has more than one)" : "");
    }
    fprintf(out, "  node-id=<uint32> (as -numa gives the slot)\n");
}

static tes_cpu *cpu_of_dev(tes_device *d)
{
    for (unsigned i = 0; i < cpu_count(); i++) {
        tes_cpu *cpu = cpu_by_index(i);

        if (cpu && cpu->dev == d) {
            return cpu;
        }
    }
    return NULL;
}

bool cpu_device_del(tes_device *d, bool *handled, char **errp)
{
    tes_cpu *cpu = d->type->kind == TES_KIND_CPU ? cpu_of_dev(d) : NULL;
    tes_device *m;
    const tes_machine_ops *ops = machine_ops_of(&m);
    int ret;

    *handled = cpu != NULL;
    if (!cpu) {
        return false;
    }
    if (cpu->index == 0) {
        core_set_error(errp, "Boot CPU is unpluggable");
        return false;
    }
    if (!has_unplug(ops)) {
        core_set_error(errp, "machine '%s' does not support CPU hot-unplug",
                       m ? m->type->name : "none");
        return false;
    }
    g_clear_pointer(&m->error, g_free);
    ret = ops->cpu_unplug_request(m, m->s, cpu);
    if (ret < 0) {
        core_set_error(errp, "%s", m->error ? m->error : g_strerror(-ret));
        g_clear_pointer(&m->error, g_free);
        return false;
    }
    return true;
}

/* From the main loop: the guest's eject came from inside a vCPU's slice. */
static gboolean remove_idle(gpointer opaque)
{
    tes_cpu *cpu = opaque;
    g_autofree char *id = NULL, *name = NULL;

    core_lock();
    if (cpu_by_index(cpu->index) == cpu && cpu->unplugging) {
        id = g_strdup(cpu->dev->id);
        name = g_strdup(cpu->dev->name);
        core_log(TES_LOG_PLUGIN, "cpu-hotplug: vCPU %u (%s) removed", cpu->index, name);
        cpu_destroy(cpu);
        qmp_event_device_deleted(id, id ? NULL : name);
    }
    core_unlock();
    return G_SOURCE_REMOVE;
}

void cpu_remove(tes_cpu *cpu)
{
    if (!cpu || cpu->unplugging || cpu->index == 0) {
        return;
    }
    cpu->unplugging = true;
    cpu->powered = false; /* not one more slice */
    g_idle_add(remove_idle, cpu);
    g_main_context_wakeup(NULL);
}

/* ---- QMP ---- */

static JsonObject *cpu_props(const tes_topology *t, unsigned i)
{
    JsonObject *o = json_object_new();
    unsigned id[L_N];

    tes_topology_ids(t, i, &id[L_SOCKET], &id[L_DIE], &id[L_CLUSTER], &id[L_CORE],
                     &id[L_THREAD]);
    if (t->nodes) {
        json_object_set_int_member(o, "node-id", t->cpu_node[i]);
    }
    json_object_set_int_member(o, "socket-id", id[L_SOCKET]);
    if (t->dies > 1) {
        json_object_set_int_member(o, "die-id", id[L_DIE]);
    }
    if (t->clusters > 1) {
        json_object_set_int_member(o, "cluster-id", id[L_CLUSTER]);
    }
    json_object_set_int_member(o, "core-id", id[L_CORE]);
    json_object_set_int_member(o, "thread-id", id[L_THREAD]);
    return o;
}

static char *qom_path(tes_cpu *cpu)
{
    tes_device *d = cpu->dev;

    if (!d->user_created) {
        return g_strdup_printf("/machine/unattached/device[%u]", cpu->index);
    }
    return d->id ? g_strdup_printf("/machine/peripheral/%s", d->id)
                 : g_strdup_printf("/machine/peripheral-anon/%s", d->name);
}

static JsonNode *array_node(JsonArray *a)
{
    JsonNode *n = json_node_alloc();

    json_node_init_array(n, a);
    json_array_unref(a);
    return n;
}

/* QEMU lists the possible CPUs last first. */
JsonNode *cpu_query_hotpluggable(char **errp)
{
    tes_device *m;
    const tes_machine_ops *ops = machine_ops_of(&m);
    const tes_topology *t = machine_topology();
    JsonArray *a;

    const type_entry *want = machine_cfg.cpu_model
                             ? type_lookup(machine_cfg.cpu_model, TES_KIND_CPU, NULL) : NULL;

    if (!has_plug(ops) || !want) {
        core_set_error(errp, "machine does not support hot-plugging CPUs");
        return NULL;
    }
    a = json_array_new();
    for (unsigned i = t->max_cpus; i-- > 0;) {
        JsonObject *o = json_object_new();
        tes_cpu *cpu = cpu_by_index(i);

        g_autofree char *type = g_strdup_printf("%s-%s-cpu", want->info->name,
                                                qemu_arch(ops->arch ? ops->arch : "?"));
        json_object_set_string_member(o, "type", type);
        json_object_set_int_member(o, "vcpus-count", 1);
        json_object_set_object_member(o, "props", cpu_props(t, i));
        if (cpu) {
            g_autofree char *path = qom_path(cpu);
            json_object_set_string_member(o, "qom-path", path);
        }
        json_array_add_object_element(a, o);
    }
    return array_node(a);
}

JsonNode *cpu_query_fast(void)
{
    const tes_topology *t = machine_topology();
    JsonArray *a = json_array_new();

    for (unsigned i = 0; i < cpu_count(); i++) {
        tes_cpu *cpu = cpu_by_index(i);
        JsonObject *o;

        if (!cpu) {
            continue;
        }
        o = json_object_new();
        g_autofree char *path = qom_path(cpu);
        json_object_set_int_member(o, "cpu-index", i);
        json_object_set_string_member(o, "qom-path", path);
        /* One vCPU thread runs them all (accel.c): the process stands in. */
        json_object_set_int_member(o, "thread-id", getpid());
        if (i < t->max_cpus) {
            json_object_set_object_member(o, "props", cpu_props(t, i));
        }
        json_object_set_string_member(o, "target", cpu->ops->arch ? cpu->ops->arch : "");
        json_array_add_object_element(a, o);
    }
    return array_node(a);
}
