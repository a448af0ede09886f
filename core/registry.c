/*
 * tessera core: the type registry and the object tree.
 *
 * Types come from plugins (plugin.c hands each loaded plugin to
 * registry_add_plugin_types). Two plugins may provide the same name: a
 * -plugin file wins, "PLUGIN:TYPE" names one, and otherwise look-up fails
 * listing the providers (docs/DESIGN: "Types, properties, state").
 *
 * The object tree is QEMU's qdev shape: buses own devices, devices own
 * child buses. The root is "main-system-bus" (kind System); buses created
 * without a parent device are further roots, walked after it. Property
 * tables drive defaults, -device T,help, parsing and "info qtree".
 */
#include <errno.h>
#include <string.h>

#include "core.h"
#include "display.h"
#include "input.h"
#include "numa.h"

/* 1.0 sizes of structs plugins hand us; later minors only append. */
#define TYPE_INFO_SIZE_1_0 (offsetof(tes_type_info, describe) + sizeof(void *))
#define PCI_INFO_SIZE_1_0 (offsetof(tes_pci_info, config_write) + sizeof(void *))
#define CPU_OPS_SIZE_1_0 (offsetof(tes_cpu_ops, get_pc) + sizeof(void *))
#define MACHINE_OPS_SIZE_1_0 (offsetof(tes_machine_ops, powerdown) + sizeof(void *))

static GPtrArray *types;       /* type_entry*, registration order */
static tes_bus *root_bus;      /* main-system-bus */
static GPtrArray *extra_roots; /* tes_bus* created without a parent */
static GHashTable *name_count; /* type name -> next N of "type.N" */

/* ---- types ---- */

static const char *kind_word(tes_type_kind k)
{
    switch (k) {
    case TES_KIND_MACHINE:
        return "machine";
    case TES_KIND_CPU:
        return "CPU model";
    default:
        return "device";
    }
}

/* The option that takes the type, for hints: -device, -M, -cpu. */
static const char *kind_option(tes_type_kind k)
{
    switch (k) {
    case TES_KIND_MACHINE:
        return "-M";
    case TES_KIND_CPU:
        return "-cpu";
    default:
        return "-device";
    }
}

/* TES_TYPE_* of a type; 0 for plugins built before the field (ABI 1.2). */
static uint32_t type_flags(const tes_type_info *t)
{
    return t->size >= offsetof(tes_type_info, flags) + sizeof(t->flags) ? t->flags : 0;
}

static const char *type_bus_kind(const tes_type_info *t)
{
    return t->bus ? t->bus : TES_BUS_SYSTEM;
}

/* Why a type cannot be registered, or NULL when it is fine. */
static const char *type_problem(const tes_type_info *t)
{
    uint32_t need = 0;

    if (t->size < TYPE_INFO_SIZE_1_0) {
        return "type info smaller than the ABI 1.0 tes_type_info";
    }
    if (!t->name || !t->name[0] || strpbrk(t->name, ":,= ")) {
        return "type has no valid name";
    }
    if (t->kind == TES_KIND_MACHINE) {
        need = MACHINE_OPS_SIZE_1_0;
    } else if (t->kind == TES_KIND_CPU) {
        need = CPU_OPS_SIZE_1_0;
    } else if (t->kind != TES_KIND_DEVICE) {
        return "type has an unknown kind";
    } else if (strcmp(type_bus_kind(t), TES_BUS_PCI) == 0) {
        need = PCI_INFO_SIZE_1_0;
    }
    /* Every class_info struct starts with its size like all ABI structs. */
    if (need && (!t->class_info || *(const uint32_t *)t->class_info < need)) {
        return "class_info missing or smaller than its ABI 1.0 size";
    }
    return NULL;
}

void registry_add_plugin_types(plugin *p)
{
    const tes_type_info *const *list = p->desc->types;

    if (!types) {
        types = g_ptr_array_new_with_free_func(g_free);
    }
    for (size_t i = 0; list && list[i]; i++) {
        const char *why = type_problem(list[i]);
        if (why) {
            /* A plugin bug, not the user's: say so, keep the other types. */
            fprintf(stderr, "tessera: plugin '%s' (%s): type #%zu ignored: %s\n", p->path,
                    p->desc->name, i, why);
            continue;
        }
        type_entry *te = g_new0(type_entry, 1);
        te->info = list[i];
        te->plugin = p;
        g_ptr_array_add(types, te);
        core_log(TES_LOG_PLUGIN, "plugin: %s provides %s '%s'", p->desc->name,
                 kind_word(list[i]->kind), list[i]->name);
    }
}

void registry_clear_types(void)
{
    if (types) {
        g_ptr_array_set_size(types, 0);
    }
}

static GPtrArray *providers(const char *plug, const char *name, tes_type_kind kind)
{
    GPtrArray *out = g_ptr_array_new();

    for (guint i = 0; types && i < types->len; i++) {
        type_entry *te = g_ptr_array_index(types, i);
        if (te->info->kind == kind && strcmp(te->info->name, name) == 0 &&
            (!plug || strcmp(te->plugin->desc->name, plug) == 0)) {
            g_ptr_array_add(out, te);
        }
    }
    return out;
}

static const type_entry *choose_provider(GPtrArray *found, const char *name,
                                         tes_type_kind kind, char **errp)
{
    const type_entry *cli = NULL;
    unsigned n_cli = 0;
    GString *list;

    if (found->len == 1) {
        return g_ptr_array_index(found, 0);
    }
    for (guint i = 0; i < found->len; i++) {
        const type_entry *te = g_ptr_array_index(found, i);
        if (te->plugin->from_cli) {
            cli = te;
            n_cli++;
        }
    }
    if (n_cli == 1) {
        return cli;
    }
    list = g_string_new(NULL);
    for (guint i = 0; i < found->len; i++) {
        const type_entry *te = g_ptr_array_index(found, i);
        g_string_append_printf(list, "%s%s (%s)", i ? ", " : "", te->plugin->desc->name,
                               te->plugin->path);
    }
    core_set_error(errp,
                   "%s '%s' is provided by several plugins: %s; choose one with %s PLUGIN:%s "
                   "or -plugin FILE",
                   kind_word(kind), name, list->str, kind_option(kind), name);
    g_string_free(list, true);
    return NULL;
}

static bool any_from_cli(GPtrArray *found)
{
    for (guint i = 0; i < found->len; i++) {
        if (((const type_entry *)g_ptr_array_index(found, i))->plugin->from_cli) {
            return true;
        }
    }
    return false;
}

/* No provider: say so, naming the skipped files that might have been it. */
static void lookup_failed(const char *plug, const char *tname, tes_type_kind kind, char **errp)
{
    g_autofree char *maybe = plugins_skipped_unknown();
    g_autofree char *tail = maybe ? g_strdup_printf("; a plugin that cannot load may provide "
                                                    "it: %s", maybe)
                                  : g_strdup("");

    if (plug) {
        core_set_error(errp, "no plugin '%s' provides %s '%s'%s", plug, kind_word(kind), tname,
                       tail);
        return;
    }
    core_set_error(errp, "unknown %s '%s' (try %s help)%s", kind_word(kind), tname,
                   kind_option(kind), tail);
}

const type_entry *type_lookup(const char *name, tes_type_kind kind, char **errp)
{
    const char *colon = strchr(name, ':');
    g_autofree char *plug = colon ? g_strndup(name, colon - name) : NULL;
    const char *tname = colon ? colon + 1 : name;
    g_autoptr(GPtrArray) found = providers(plug, tname, kind);
    const char *refused = plugins_skipped_provider(plug, tname, kind);

    /* A provider that could not load is the one error worth showing: the
     * run would otherwise use another provider, or none, silently. Unless
     * a -plugin file provides the type: that one would have won anyway. */
    if (refused && !any_from_cli(found)) {
        core_set_error(errp, "%s '%s' is provided by a plugin that cannot load: %s",
                       kind_word(kind), tname, refused);
        return NULL;
    }
    if (found->len == 0) {
        lookup_failed(plug, tname, kind, errp);
        return NULL;
    }
    return choose_provider(found, tname, kind, errp);
}

static gint type_cmp(gconstpointer a, gconstpointer b)
{
    const type_entry *x = *(const type_entry *const *)a;
    const type_entry *y = *(const type_entry *const *)b;
    int c = strcmp(x->info->name, y->info->name);

    return c ? c : strcmp(x->plugin->desc->name, y->plugin->desc->name);
}

GPtrArray *types_of_kind(tes_type_kind kind)
{
    GPtrArray *out = g_ptr_array_new();

    for (guint i = 0; types && i < types->len; i++) {
        type_entry *te = g_ptr_array_index(types, i);
        if (te->info->kind == kind) {
            g_ptr_array_add(out, te);
        }
    }
    g_ptr_array_sort(out, type_cmp);
    return out;
}

/* -device help: grouped by the bus kind they plug into, QEMU's line shape. */
static void print_devices(GPtrArray *list, FILE *out)
{
    g_autoptr(GPtrArray) kinds = g_ptr_array_new();

    for (guint i = 0; i < list->len; i++) {
        const char *k = type_bus_kind(((type_entry *)g_ptr_array_index(list, i))->info);
        if (!g_ptr_array_find_with_equal_func(kinds, k, g_str_equal, NULL)) {
            g_ptr_array_add(kinds, (gpointer)k);
        }
    }
    g_ptr_array_sort(kinds, (GCompareFunc)g_strcmp0);
    for (guint k = 0; k < kinds->len; k++) {
        const char *kind = *(const char **)&kinds->pdata[k];
        fprintf(out, "%s%s devices:\n", k ? "\n" : "", kind);
        for (guint i = 0; i < list->len; i++) {
            const type_entry *te = g_ptr_array_index(list, i);
            if (strcmp(type_bus_kind(te->info), kind) == 0) {
                fprintf(out, "name \"%s\", bus %s, desc \"%s\", plugin \"%s\"\n",
                        te->info->name, kind, te->info->desc ? te->info->desc : "",
                        te->plugin->desc->name);
            }
        }
    }
}

void types_print_help(tes_type_kind kind, FILE *out)
{
    g_autoptr(GPtrArray) list = types_of_kind(kind);

    if (kind == TES_KIND_DEVICE) {
        print_devices(list, out);
        return;
    }
    fprintf(out, kind == TES_KIND_MACHINE ? "Supported machines are:\n" : "Available CPUs:\n");
    for (guint i = 0; i < list->len; i++) {
        const type_entry *te = g_ptr_array_index(list, i);
        fprintf(out, "%-20s %s (plugin %s)\n", te->info->name,
                te->info->desc ? te->info->desc : "", te->plugin->desc->name);
    }
}

static const char *prop_kind_name(tes_prop_kind k)
{
    static const char *const names[] = {
        [TES_PROP_BOOL] = "bool",    [TES_PROP_U8] = "uint8",   [TES_PROP_U16] = "uint16",
        [TES_PROP_U32] = "uint32",   [TES_PROP_U64] = "uint64", [TES_PROP_SIZE] = "size",
        [TES_PROP_STRING] = "str",   [TES_PROP_DRIVE] = "drive", [TES_PROP_CHR] = "chr",
        [TES_PROP_NETDEV] = "netdev", [TES_PROP_MACADDR] = "macaddr",
    };

    return (unsigned)k < G_N_ELEMENTS(names) && names[k] ? names[k] : "?";
}

static bool prop_is_number(tes_prop_kind k)
{
    return k == TES_PROP_U8 || k == TES_PROP_U16 || k == TES_PROP_U32 || k == TES_PROP_U64 ||
           k == TES_PROP_SIZE;
}

static uint64_t kind_max(tes_prop_kind k);

/* " (MIN..MAX, default: D)": the range only where the table declares one
 * (min or max set; max 0 means the kind's own maximum). */
static char *prop_notes(const tes_prop_info *p)
{
    GString *n = g_string_new(NULL);

    if (prop_is_number(p->kind) && (p->min || p->max)) {
        g_string_append_printf(n, "%" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT, p->min,
                               p->max ? p->max : kind_max(p->kind));
    }
    if (p->defval) {
        g_string_append_printf(n, "%sdefault: %s", n->len ? ", " : "", p->defval);
    }
    if (n->len) {
        g_string_prepend(n, " (");
        g_string_append_c(n, ')');
    }
    return g_string_free(n, false);
}

void type_print_props(const type_entry *t, FILE *out)
{
    const tes_prop_info *p = t->info->props;

    if (!p || !p->name) {
        fprintf(out, "There are no options for %s.\n", t->info->name);
        return;
    }
    fprintf(out, "%s options:\n", t->info->name);
    for (; p->name; p++) {
        g_autofree char *lhs = g_strdup_printf("%s=<%s>", p->name, prop_kind_name(p->kind));
        g_autofree char *notes = prop_notes(p);
        fprintf(out, "  %-24s - %s%s\n", lhs, p->help ? p->help : "", notes);
    }
}

/* Platform devices take addr= and irq= from the board's user. */
static void platform_print_help(const tes_type_info *t, FILE *out)
{
    const tes_platform_info *p = type_platform_info(t);

    if (!p) {
        return;
    }
    fprintf(out, "platform device (compatible \"%s\", %u MMIO region%s, %u interrupt%s):\n",
            p->compatible ? p->compatible : "", p->num_mmio, p->num_mmio == 1 ? "" : "s",
            p->num_irqs, p->num_irqs == 1 ? "" : "s");
    fprintf(out, "  %-24s - %s\n", "addr=<uint64>", "MMIO base of its first region");
    fprintf(out, "  %-24s - %s\n", "irq=<uint32>",
            "first interrupt line, board numbering (virt: SPI)");
}

/* ---- buses ---- */

tes_bus *sysbus_root(void)
{
    if (!root_bus) {
        root_bus = g_new0(tes_bus, 1);
        root_bus->name = g_strdup("main-system-bus");
        root_bus->kind = g_strdup(TES_BUS_SYSTEM);
        root_bus->children = g_ptr_array_new();
    }
    return root_bus;
}

static void foreach_root(void (*fn)(tes_bus *b, void *opaque), void *opaque)
{
    fn(sysbus_root(), opaque);
    for (guint i = 0; extra_roots && i < extra_roots->len; i++) {
        fn(g_ptr_array_index(extra_roots, i), opaque);
    }
}

/* Depth-first walk: a bus, then each device and its child buses. Stops
 * when fn returns true; returns that. */
static bool walk_bus(tes_bus *b, bool (*bus_fn)(tes_bus *, void *),
                     bool (*dev_fn)(tes_device *, void *), void *opaque)
{
    if (bus_fn && bus_fn(b, opaque)) {
        return true;
    }
    for (guint i = 0; i < b->children->len; i++) {
        tes_device *d = g_ptr_array_index(b->children, i);
        if (dev_fn && dev_fn(d, opaque)) {
            return true;
        }
        for (guint j = 0; j < d->buses->len; j++) {
            if (walk_bus(g_ptr_array_index(d->buses, j), bus_fn, dev_fn, opaque)) {
                return true;
            }
        }
    }
    return false;
}

static bool walk_tree(bool (*bus_fn)(tes_bus *, void *), bool (*dev_fn)(tes_device *, void *),
                      void *opaque)
{
    if (walk_bus(sysbus_root(), bus_fn, dev_fn, opaque)) {
        return true;
    }
    for (guint i = 0; extra_roots && i < extra_roots->len; i++) {
        if (walk_bus(g_ptr_array_index(extra_roots, i), bus_fn, dev_fn, opaque)) {
            return true;
        }
    }
    return false;
}

struct bus_query {
    const char *name;
    const char *kind;
    tes_bus *found;
    unsigned count;
};

static bool bus_matches(tes_bus *b, void *opaque)
{
    struct bus_query *q = opaque;

    if ((q->name && strcmp(b->name, q->name) == 0) || (q->kind && strcmp(b->kind, q->kind) == 0)) {
        q->found = b;
        return true;
    }
    return false;
}

static bool bus_count_kind(tes_bus *b, void *opaque)
{
    struct bus_query *q = opaque;

    q->count += strcmp(b->kind, q->kind) == 0;
    return false;
}

tes_bus *bus_find(const char *name)
{
    struct bus_query q = {.name = name};

    walk_tree(bus_matches, NULL, &q);
    return q.found;
}

tes_bus *bus_find_kind(const char *kind)
{
    struct bus_query q = {.kind = kind};

    walk_tree(bus_matches, NULL, &q);
    return q.found;
}

static bool bus_matches_empty(tes_bus *b, void *opaque)
{
    struct bus_query *q = opaque;

    if (strcmp(b->kind, q->kind) == 0 && b->children->len == 0) {
        q->found = b;
        return true;
    }
    return false;
}

/* The bus a device without bus= goes to. For bus kinds that plugins
 * provide (virtio, scsi, ...), the first empty bus of the kind, else the
 * first one: a machine creates many one-device buses (virt's 32
 * virtio-mmio transports), and QEMU puts the next device on the first bus
 * with room. PCI devices always go to the first PCI bus (the root bus,
 * which is never empty: the host bridge sits at 00.0), System ones to the
 * root. */
static tes_bus *auto_bus(const char *kind)
{
    struct bus_query q = {.kind = kind};

    if (strcmp(kind, TES_BUS_SYSTEM) == 0) {
        return sysbus_root();
    }
    if (strcmp(kind, TES_BUS_PCI) != 0) {
        walk_tree(bus_matches_empty, NULL, &q);
    }
    return q.found ? q.found : bus_find_kind(kind);
}

tes_bus *bus_create(tes_device *parent, const char *kind, const char *name, void *opaque)
{
    tes_bus *b = g_new0(tes_bus, 1);

    b->kind = g_strdup(kind ? kind : TES_BUS_SYSTEM);
    if (name) {
        b->name = g_strdup(name);
    } else {
        /* Unnamed: "pci.0", "pci.1"... like QEMU's automatic bus names. */
        struct bus_query q = {.kind = b->kind};
        g_autofree char *lower = g_ascii_strdown(b->kind, -1);
        walk_tree(bus_count_kind, NULL, &q);
        b->name = g_strdup_printf("%s.%u", lower, q.count);
    }
    b->parent = parent;
    b->opaque = opaque;
    b->children = g_ptr_array_new();
    if (parent) {
        g_ptr_array_add(parent->buses, b);
    } else {
        if (!extra_roots) {
            extra_roots = g_ptr_array_new();
        }
        g_ptr_array_add(extra_roots, b);
    }
    return b;
}

static void bus_free(tes_bus *b)
{
    /* Children go first, last plugged first. */
    while (b->children->len) {
        dev_free(g_ptr_array_index(b->children, b->children->len - 1));
    }
    if (b->parent) {
        g_ptr_array_remove(b->parent->buses, b);
    } else if (b != root_bus && extra_roots) {
        g_ptr_array_remove(extra_roots, b);
    }
    if (b->pci) {
        pci_bus_free(b);
    }
    g_ptr_array_free(b->children, true);
    g_free(b->name);
    g_free(b->kind);
    g_free(b);
}

/* ---- devices: properties ---- */

static const char *dev_label(tes_device *d)
{
    return d->id ? d->id : d->type->name;
}

static const tes_prop_info *prop_find(const tes_type_info *t, const char *name)
{
    for (const tes_prop_info *p = t->props; p && p->name; p++) {
        if (strcmp(p->name, name) == 0) {
            return p;
        }
    }
    return NULL;
}

static uint64_t kind_max(tes_prop_kind k)
{
    switch (k) {
    case TES_PROP_U8:
        return UINT8_MAX;
    case TES_PROP_U16:
        return UINT16_MAX;
    case TES_PROP_U32:
        return UINT32_MAX;
    default:
        return UINT64_MAX;
    }
}

/* Integers as QEMU's qemu_strtou64() with base 0 reads them: 0x hex, a
 * leading 0 octal ("010" is 8), else decimal. Sizes as qemu_strtosz():
 * decimal or 0x hex with a K/M/G/T (1024-based) suffix, "010" is 10. */
static bool parse_number(const char *s, bool sized, uint64_t *out)
{
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    int base = hex ? 16 : (!sized && s[0] == '0' && s[1]) ? 8 : 10;
    const char *digits = hex ? s + 2 : s;
    char *end;
    uint64_t v, mult = 1;

    if (!g_ascii_isxdigit(digits[0])) {
        return false;
    }
    errno = 0;
    v = g_ascii_strtoull(digits, &end, base);
    if (errno) {
        return false;
    }
    if (sized && *end) {
        const char *sfx = strchr("KMGT", g_ascii_toupper(*end));
        if (!sfx || (end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))) {
            return false;
        }
        mult = 1ull << (10 * (sfx - "KMGT" + 1));
        end = "";
    }
    if (*end || (mult > 1 && v > UINT64_MAX / mult)) {
        return false;
    }
    *out = v * mult;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"};
    static const char *const no[] = {"off", "false", "no", "0"};

    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(s, yes[i]) == 0 || g_ascii_strcasecmp(s, no[i]) == 0) {
            *out = g_ascii_strcasecmp(s, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static bool set_number(tes_device *d, const tes_prop_info *p, const char *value, char **errp)
{
    uint64_t max = p->max ? p->max : kind_max(p->kind);
    uint64_t v;
    void *field = (char *)d->s + p->offset;

    if (!parse_number(value, p->kind == TES_PROP_SIZE, &v)) {
        core_set_error(errp, "%s '%s': property '%s' wants a number %" G_GUINT64_FORMAT
                       "..%" G_GUINT64_FORMAT "%s, got '%s'", kind_word(d->type->kind),
                       dev_label(d), p->name, p->min, max,
                       p->kind == TES_PROP_SIZE ? " (K/M/G/T suffixes allowed)" : "", value);
        return false;
    }
    if (v < p->min || v > max) {
        core_set_error(errp, "%s '%s': property '%s' wants %" G_GUINT64_FORMAT "..%"
                       G_GUINT64_FORMAT ", got %s", kind_word(d->type->kind), dev_label(d),
                       p->name, p->min, max, value);
        return false;
    }
    switch (p->kind) {
    case TES_PROP_U8:
        *(uint8_t *)field = v;
        break;
    case TES_PROP_U16:
        *(uint16_t *)field = v;
        break;
    case TES_PROP_U32:
        *(uint32_t *)field = v;
        break;
    default:
        *(uint64_t *)field = v;
        break;
    }
    return true;
}

static bool set_drive(tes_device *d, const tes_prop_info *p, const char *value, char **errp)
{
    tes_drive *drv = drive_find(value);

    if (!drv) {
        core_set_error(errp, "device '%s': property '%s': drive '%s' not found", dev_label(d),
                       p->name, value);
        return false;
    }
    tes_drive **field = (tes_drive **)((char *)d->s + p->offset);
    if (*field == drv) {
        return true;
    }
    if (!drive_claim(drv, dev_label(d), errp)) {
        return false;
    }
    if (*field) {
        drive_release(*field);
    }
    *field = drv;
    return true;
}

static bool set_netdev(tes_device *d, const tes_prop_info *p, const char *value, char **errp)
{
    tes_netdev *nd = netdev_find(value);
    tes_netdev **field = (tes_netdev **)((char *)d->s + p->offset);

    if (!nd) {
        core_set_error(errp, "device '%s': property '%s': netdev '%s' not found", dev_label(d),
                       p->name, value);
        return false;
    }
    if (*field == nd) {
        return true;
    }
    if (!netdev_claim(nd, dev_label(d), errp)) {
        return false;
    }
    if (*field) {
        netdev_release(*field);
    }
    *field = nd;
    return true;
}

static bool set_macaddr(tes_device *d, const tes_prop_info *p, const char *value, char **errp)
{
    uint8_t *field = (uint8_t *)d->s + p->offset;

    if (!net_parse_mac(value, field)) {
        core_set_error(errp, "device '%s': property '%s' wants a unicast MAC address "
                       "(52:54:00:12:34:56), got '%s'", dev_label(d), p->name, value);
        return false;
    }
    return true;
}

/* "serialN" (or N) is the N-th -serial; the core has no named chardevs yet. */
static bool set_chr(tes_device *d, const tes_prop_info *p, const char *value, char **errp)
{
    const char *num = g_str_has_prefix(value, "serial") ? value + 6 : value;
    uint64_t idx;
    tes_chr *chr = NULL;

    if (parse_number(num, false, &idx) && idx < 64) {
        chr = serial_chr(idx);
    }
    if (!chr) {
        core_set_error(errp, "device '%s': property '%s': chardev '%s' not found (use serialN for "
                       "the N-th -serial)", dev_label(d), p->name, value);
        return false;
    }
    *(tes_chr **)((char *)d->s + p->offset) = chr;
    return true;
}

static bool set_prop(tes_device *d, const tes_prop_info *p, const char *value, char **errp)
{
    void *field = (char *)d->s + p->offset;
    bool b;

    switch (p->kind) {
    case TES_PROP_BOOL:
        if (!parse_bool(value, &b)) {
            core_set_error(errp, "%s '%s': property '%s' wants on|off, got '%s'",
                           kind_word(d->type->kind), dev_label(d), p->name, value);
            return false;
        }
        *(bool *)field = b;
        return true;
    case TES_PROP_STRING:
        g_free(*(char **)field);
        *(char **)field = g_strdup(value);
        return true;
    case TES_PROP_DRIVE:
    case TES_PROP_CHR:
        if (!(p->kind == TES_PROP_DRIVE ? set_drive : set_chr)(d, p, value, errp)) {
            return false;
        }
        g_hash_table_insert(d->prop_text, g_strdup(p->name), g_strdup(value));
        return true;
    case TES_PROP_NETDEV:
        if (!set_netdev(d, p, value, errp)) {
            return false;
        }
        g_hash_table_insert(d->prop_text, g_strdup(p->name), g_strdup(value));
        return true;
    case TES_PROP_MACADDR:
        if (!set_macaddr(d, p, value, errp)) {
            return false;
        }
        g_hash_table_insert(d->prop_text, g_strdup(p->name), g_strdup(value));
        return true;
    case TES_PROP_U8:
    case TES_PROP_U16:
    case TES_PROP_U32:
    case TES_PROP_U64:
    case TES_PROP_SIZE:
        return set_number(d, p, value, errp);
    }
    core_set_error(errp, "%s '%s': property '%s' has an unknown kind %d",
                   kind_word(d->type->kind), dev_label(d), p->name, p->kind);
    return false;
}

bool dev_set_prop(tes_device *d, const char *name, const char *value, char **errp)
{
    const tes_prop_info *p = prop_find(d->type, name);

    if (!p) {
        core_set_error(errp, "%s '%s': no property '%s' (try %s %s,help)",
                       kind_word(d->type->kind), dev_label(d), name, kind_option(d->type->kind),
                       d->type->name);
        return false;
    }
    return set_prop(d, p, value, errp);
}

bool dev_has_prop(tes_device *d, const char *name)
{
    return prop_find(d->type, name) != NULL;
}

char *prop_value_string(tes_device *d, const tes_prop_info *p)
{
    const void *field = (const char *)d->s + p->offset;
    const char *text;

    switch (p->kind) {
    case TES_PROP_BOOL:
        return g_strdup(*(const bool *)field ? "on" : "off");
    case TES_PROP_U8:
        return g_strdup_printf("%u", *(const uint8_t *)field);
    case TES_PROP_U16:
        return g_strdup_printf("%u", *(const uint16_t *)field);
    case TES_PROP_U32:
        return g_strdup_printf("%u", *(const uint32_t *)field);
    case TES_PROP_U64:
    case TES_PROP_SIZE:
        return g_strdup_printf("%" G_GUINT64_FORMAT, *(const uint64_t *)field);
    case TES_PROP_STRING:
        return g_strdup(*(char *const *)field ? *(char *const *)field : "");
    case TES_PROP_DRIVE:
    case TES_PROP_CHR:
    case TES_PROP_NETDEV:
        text = g_hash_table_lookup(d->prop_text, p->name);
        return g_strdup(text ? text : "");
    case TES_PROP_MACADDR:
        return net_format_mac(field);
    }
    return g_strdup("?");
}

/* ---- devices: life cycle ---- */

/* A NIC whose mac= was not given gets QEMU's next default when it is
 * realized (not created), so NICs are numbered as QEMU numbers them and a
 * PCI wrapper passing mac= on to its inner device does not use one up. */
static void assign_default_macs(tes_device *d)
{
    for (const tes_prop_info *p = d->type->props; p && p->name; p++) {
        if (p->kind == TES_PROP_MACADDR && !g_hash_table_contains(d->prop_text, p->name)) {
            uint8_t *mac = (uint8_t *)d->s + p->offset;
            net_default_mac(mac);
            g_hash_table_insert(d->prop_text, g_strdup(p->name), net_format_mac(mac));
        }
    }
}

static bool apply_defaults(tes_device *d, char **errp)
{
    for (const tes_prop_info *p = d->type->props; p && p->name; p++) {
        g_autofree char *err = NULL;
        if (p->kind == TES_PROP_MACADDR && !p->defval) {
            continue; /* assign_default_macs(), at realize */
        }
        if (p->defval && !set_prop(d, p, p->defval, &err)) {
            core_set_error(errp, "%s '%s': bad default of property '%s' (plugin bug): %s",
                           kind_word(d->type->kind), d->type->name, p->name, err);
            return false;
        }
    }
    return true;
}

/* -global DRIVER.PROP=VALUE (QEMU's): a default for every DRIVER created
 * from now on, applied after the type's own defaults and before the
 * properties the creator gives. */
typedef struct global_prop {
    char *driver, *prop, *value;
} global_prop;
static GPtrArray *globals;

static void global_free(gpointer p)
{
    global_prop *g = p;

    g_free(g->driver);
    g_free(g->prop);
    g_free(g->value);
    g_free(g);
}

bool registry_global_check(const char *spec, char **errp)
{
    const char *eq = strchr(spec, '='), *dot = eq ? memchr(spec, '.', eq - spec) : NULL;

    if (!eq || !dot || dot == spec || dot + 1 == eq) {
        core_set_error(errp, "-global: '%s' is not DRIVER.PROPERTY=VALUE", spec);
        return false;
    }
    return true;
}

bool registry_add_global(const char *spec, char **errp)
{
    const char *eq = strchr(spec, '='), *dot;
    global_prop *g;

    if (!registry_global_check(spec, errp)) {
        return false;
    }
    dot = memchr(spec, '.', eq - spec);
    if (!globals) {
        globals = g_ptr_array_new_with_free_func(global_free);
    }
    g = g_new0(global_prop, 1);
    g->driver = g_strndup(spec, dot - spec);
    g->prop = g_strndup(dot + 1, eq - dot - 1);
    g->value = g_strdup(eq + 1);
    g_ptr_array_add(globals, g);
    return true;
}

static bool apply_globals(tes_device *d, char **errp)
{
    for (guint i = 0; globals && i < globals->len; i++) {
        global_prop *g = g_ptr_array_index(globals, i);
        const tes_prop_info *p;
        g_autofree char *err = NULL;

        if (strcmp(g->driver, d->type->name) != 0) {
            continue;
        }
        if (!(p = prop_find(d->type, g->prop))) {
            core_set_error(errp, "-global %s.%s: %s '%s' has no property '%s'", g->driver,
                           g->prop, kind_word(d->type->kind), d->type->name, g->prop);
            return false;
        }
        if (!set_prop(d, p, g->value, &err)) {
            core_set_error(errp, "-global %s.%s=%s: %s", g->driver, g->prop, g->value, err);
            return false;
        }
    }
    return true;
}

void registry_clear_globals(void)
{
    g_clear_pointer(&globals, g_ptr_array_unref);
}

tes_device *dev_new(const char *type, tes_type_kind kind, char **errp)
{
    const type_entry *te = type_lookup(type, kind, errp);
    tes_device *d;

    if (!te) {
        return NULL;
    }
    d = g_new0(tes_device, 1);
    d->te = te;
    d->type = te->info;
    d->s = g_malloc0(MAX(te->info->instance_size, 1));
    d->buses = g_ptr_array_new();
    d->regions = g_ptr_array_new();
    d->prop_text = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!apply_defaults(d, errp) || !apply_globals(d, errp)) {
        dev_free(d);
        return NULL;
    }
    return d;
}

static bool id_valid(const char *id)
{
    /* QEMU's rule: a letter, then letters, digits, '-', '.', '_'. */
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *c = id; *c; c++) {
        if (!g_ascii_isalnum(*c) && !strchr("-._", *c)) {
            return false;
        }
    }
    return true;
}

static bool set_id(tes_device *d, const char *id, char **errp)
{
    if (!id_valid(id)) {
        core_set_error(errp, "device id '%s' is invalid: use a letter, then letters, digits, "
                       "'-', '.' or '_'", id);
        return false;
    }
    /* QEMU's words. dev_find() matches the names of devices without id=
     * too, which auto_name() keeps apart from every id. */
    if (dev_find(id)) {
        core_set_error(errp, "Duplicate ID '%s' for device", id);
        return false;
    }
    g_free(d->id);
    d->id = g_strdup(id);
    /* drive= may have come first: the drive names its user by this id
     * (query-block's qdev, the monitor's id= for removable media). */
    for (const tes_prop_info *p = d->type->props; p && p->name; p++) {
        tes_drive **field = (tes_drive **)((char *)d->s + p->offset);

        if (p->kind == TES_PROP_DRIVE && *field) {
            drive_rename_user(*field, id);
        }
    }
    return true;
}

/* Split "k=v,k=v" where ",," stands for a literal comma. */
static GPtrArray *split_opts(const char *opts)
{
    GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);

    for (const char *c = opts; *c; c++) {
        if (*c == ',' && c[1] == ',') {
            g_string_append_c(cur, ',');
            c++;
        } else if (*c == ',') {
            g_ptr_array_add(items, g_string_free(cur, false));
            cur = g_string_new(NULL);
        } else {
            g_string_append_c(cur, *c);
        }
    }
    g_ptr_array_add(items, g_string_free(cur, false));
    return items;
}

static bool is_help_word(const char *s)
{
    return strcmp(s, "help") == 0 || strcmp(s, "?") == 0;
}

/* QEMU's rule: a "help" (or "?") item anywhere in the options asks for
 * help, whatever else they say (-device edu,dma_mask=1,help). */
bool opts_want_help(const char *opts)
{
    g_autoptr(GPtrArray) items = NULL;

    if (!opts || !opts[0]) {
        return false;
    }
    items = split_opts(opts);
    for (guint i = 0; i < items->len; i++) {
        if (is_help_word(g_ptr_array_index(items, i))) {
            return true;
        }
    }
    return false;
}

static bool type_is_pci_kind(const tes_type_info *t)
{
    return t->bus && strcmp(t->bus, TES_BUS_PCI) == 0;
}

static bool set_opt(tes_device *d, const char *item, char **errp)
{
    const char *eq = strchr(item, '=');
    g_autofree char *key = eq ? g_strndup(item, eq - item) : NULL;

    const tes_prop_info *bare = eq ? NULL : prop_find(d->type, item);

    /* QEMU's QemuOpts: a bare boolean key means key=on
     * (-machine pc,nvdimm). */
    if (bare && bare->kind == TES_PROP_BOOL) {
        return dev_set_prop(d, item, "on", errp);
    }
    if (!eq) {
        core_set_error(errp, "%s '%s': option '%s' wants KEY=VALUE", kind_word(d->type->kind),
                       dev_label(d), item);
        return false;
    }
    if (strcmp(key, "id") == 0) {
        return set_id(d, eq + 1, errp);
    }
    if (strcmp(key, "bus") == 0) {
        g_free(d->bus_opt);
        d->bus_opt = g_strdup(eq + 1);
        return true;
    }
    if ((strcmp(key, "addr") == 0 || strcmp(key, "irq") == 0) && type_platform_info(d->type)) {
        return dev_platform_opt(d, key, eq + 1, errp);
    }
    if (strcmp(key, "addr") == 0 && !type_is_pci_kind(d->type) && prop_find(d->type, "addr")) {
        return dev_set_prop(d, key, eq + 1, errp); /* a pc-dimm's guest address */
    }
    if (strcmp(key, "addr") == 0) {
        g_free(d->addr_opt);
        d->addr_opt = g_strdup(eq + 1);
        return true;
    }
    return dev_set_prop(d, key, eq + 1, errp);
}

bool dev_set_opts(tes_device *d, const char *opts, char **errp)
{
    g_autoptr(GPtrArray) items = NULL;

    if (!opts || !opts[0]) {
        return true;
    }
    items = split_opts(opts);
    for (guint i = 0; i < items->len; i++) {
        const char *item = g_ptr_array_index(items, i);
        if (item[0] && !set_opt(d, item, errp)) {
            return false;
        }
    }
    return true;
}

static tes_bus *choose_bus(tes_device *d, tes_bus *bus, char **errp)
{
    const char *want = type_bus_kind(d->type);

    if (!bus && d->bus_opt) {
        bus = bus_find(d->bus_opt);
        if (!bus) {
            core_set_error(errp, "device '%s': bus '%s' not found", dev_label(d), d->bus_opt);
            return NULL;
        }
    }
    if (!bus) {
        bus = auto_bus(want);
        if (!bus) {
            core_set_error(errp, "no bus of kind '%s' for device '%s' (%s)", want, dev_label(d),
                           strcmp(want, TES_BUS_PCI) == 0
                               ? "does the machine have a PCI host bridge?"
                               : "add the device that provides one first");
            return NULL;
        }
    }
    if (strcmp(bus->kind, want) != 0) {
        core_set_error(errp, "device '%s' plugs into a %s bus, bus '%s' is %s", dev_label(d), want,
                       bus->name, bus->kind);
        return NULL;
    }
    return bus;
}

/* "type.N" for a device without id=: the next N whose name no device has
 * (-device edu,id=edu.0 -device edu names the second edu.1), so every
 * device has its own name and a migration stream names each once. */
static char *auto_name(const tes_type_info *t)
{
    unsigned n;
    char *name = NULL;

    if (!name_count) {
        name_count = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    n = GPOINTER_TO_UINT(g_hash_table_lookup(name_count, t->name));
    do {
        g_free(name);
        name = g_strdup_printf("%s.%u", t->name, n++);
    } while (dev_find(name));
    g_hash_table_insert(name_count, g_strdup(t->name), GUINT_TO_POINTER(n));
    return name;
}

static bool realize_failed(tes_device *d, int ret, char **errp)
{
    if (d->error) {
        core_set_error(errp, "device '%s': %s", dev_label(d), d->error);
    } else {
        core_set_error(errp, "device '%s': realize failed: %s", dev_label(d), g_strerror(-ret));
    }
    if (d->pci) {
        pci_unplug(d);
        d->pci = NULL;
    }
    g_ptr_array_remove(d->bus->children, d);
    d->bus = NULL;
    return false;
}

/* Every drive of d holds a medium, or d took it as removable (ABI 1.5
 * media ops, registered in realize): a disk cannot start empty. */
static bool drives_have_media(tes_device *d)
{
    for (const tes_prop_info *p = d->type->props; p && p->name; p++) {
        tes_drive **field = (tes_drive **)((char *)d->s + p->offset);
        void *opaque;

        if (p->kind == TES_PROP_DRIVE && *field && !drive_has_medium(*field) &&
            !drive_media_ops(*field, &opaque)) {
            return false;
        }
    }
    return true;
}

bool dev_realize(tes_device *d, tes_bus *bus, char **errp)
{
    bool is_pci;
    int ret = 0;

    if (d->realized) {
        core_set_error(errp, "device '%s' is already realized", dev_label(d));
        return false;
    }
    bus = choose_bus(d, bus, errp);
    if (!bus) {
        return false;
    }
    is_pci = strcmp(bus->kind, TES_BUS_PCI) == 0;
    if (d->addr_opt && !is_pci) {
        core_set_error(errp, "device '%s': addr= applies to PCI devices only", dev_label(d));
        return false;
    }
    if (!d->name) {
        d->name = d->id ? g_strdup(d->id) : auto_name(d->type);
    }
    d->bus = bus;
    g_ptr_array_add(bus->children, d);
    if (is_pci && !pci_plug(d, bus, d->addr_opt, errp)) {
        g_ptr_array_remove(bus->children, d);
        d->bus = NULL;
        return false;
    }
    assign_default_macs(d);
    if (d->type->realize) {
        ret = d->type->realize(d, d->s);
    }
    if (ret >= 0 && !d->error && !drives_have_media(d)) {
        d->error = g_strdup("Device needs media, but drive is empty"); /* QEMU's */
    }
    if (ret >= 0 && d->error) {
        /* An error reported through host->error (or by a host call such as
         * pci_msix_init) fails realize even when the plugin ignored it and
         * returned 0: the device would not work as the guest expects. */
        if (d->type->unrealize) {
            d->type->unrealize(d, d->s);
        }
        defer_cancel(d);
        ret = -EINVAL;
    }
    if (ret < 0) {
        return realize_failed(d, ret, errp);
    }
    d->realized = true;
    return true;
}

tes_device *dev_create_cli(const char *optarg, bool *help_printed, char **errp)
{
    const char *comma = strchr(optarg, ',');
    g_autofree char *driver = comma ? g_strndup(optarg, comma - optarg) : g_strdup(optarg);
    const char *opts = comma ? comma + 1 : NULL;
    tes_device *d;

    *help_printed = false;
    if (is_help_word(driver)) {
        types_print_help(TES_KIND_DEVICE, stdout);
        *help_printed = true;
        return NULL;
    }
    g_autofree char *cpu_model = cpu_hotplug_model(driver);
    if (cpu_model && opts_want_help(opts)) {
        cpu_device_help(driver, stdout);
        *help_printed = true;
        return NULL;
    }
    if (opts_want_help(opts)) {
        const type_entry *te = type_lookup(driver, TES_KIND_DEVICE, errp);
        if (te) {
            type_print_props(te, stdout);
            platform_print_help(te->info, stdout);
            *help_printed = true;
        }
        return NULL;
    }
    if (cpu_model) {
        return cpu_device_add(driver, opts, errp); /* cpu-hotplug.c */
    }
    d = dev_new(driver, TES_KIND_DEVICE, errp);
    if (d && (type_flags(d->type) & TES_TYPE_NO_USER)) {
        core_set_error(errp, "device '%s' is part of the board that creates it; it cannot be "
                       "added with -device", d->type->name);
        dev_free(d);
        return NULL;
    }
    if (d) {
        d->user_created = true;
    }
    if (d && (!dev_set_opts(d, opts, errp) || !dev_realize(d, NULL, errp))) {
        dev_free(d);
        d = NULL;
    }
    return d;
}

static void free_props(tes_device *d)
{
    for (const tes_prop_info *p = d->type->props; p && p->name; p++) {
        if (p->kind == TES_PROP_STRING) {
            char **field = (char **)((char *)d->s + p->offset);
            g_free(*field);
            *field = NULL;
        } else if (p->kind == TES_PROP_DRIVE) {
            /* The drive may be attached again (harness migrate, unplug). */
            tes_drive **field = (tes_drive **)((char *)d->s + p->offset);
            if (*field) {
                drive_release(*field);
                *field = NULL;
            }
        } else if (p->kind == TES_PROP_NETDEV) {
            tes_netdev **field = (tes_netdev **)((char *)d->s + p->offset);
            if (*field) {
                netdev_release(*field);
                *field = NULL;
            }
        }
    }
}

/* An IOMMU's claims (dma_set_iommu with its state as opaque) end with it:
 * the buses it claimed may already be gone when it unrealizes (a harness
 * frees its extra root bus first), so the core, not the plugin, drops them. */
static bool drop_iommu_of(tes_bus *b, void *opaque)
{
    if (b->iommu_opaque == opaque) {
        b->iommu = NULL;
        b->iommu_opaque = NULL;
    }
    return false;
}

/* ---- devices the guest gave back (host->dev_unplug, ABI 1.7) ----
 * Freed from the main loop, between two exec() calls of the vCPU thread:
 * the guest's _EJ0 write that released a memory module runs inside one,
 * and its soft TLB may still hold host pointers into the module's RAM
 * until it re-checks memory_generation() when exec() is entered again. */
static GPtrArray *unplug_pending;
static guint unplug_source;

static gboolean unplug_run(gpointer opaque)
{
    core_lock();
    unplug_source = 0;
    while (unplug_pending && unplug_pending->len) {
        tes_device *d = g_ptr_array_index(unplug_pending, 0);
        g_autofree char *id = g_strdup(d->id);
        g_autofree char *name = g_strdup(d->name);

        dev_free(d); /* takes it off the list */
        qmp_event_device_deleted(id, name);
    }
    core_unlock();
    return G_SOURCE_REMOVE;
}

void dev_unplug(tes_device *d)
{
    if (!d || (unplug_pending && g_ptr_array_find(unplug_pending, d, NULL))) {
        return;
    }
    if (!unplug_pending) {
        unplug_pending = g_ptr_array_new();
    }
    g_ptr_array_add(unplug_pending, d);
    if (!unplug_source) {
        unplug_source = g_idle_add(unplug_run, NULL);
    }
    g_main_context_wakeup(NULL);
}

void dev_free(tes_device *d)
{
    /* Child buses and their devices go first, as QEMU unrealizes. */
    while (d->buses->len) {
        bus_free(g_ptr_array_index(d->buses, d->buses->len - 1));
    }
    if (d->realized && d->type->unrealize) {
        d->type->unrealize(d, d->s);
    }
    defer_cancel(d); /* what it deferred must not run on freed state */
    display_dev_free(d);
    input_dev_free(d);
    if (d->s) {
        walk_tree(drop_iommu_of, NULL, d->s);
    }
    d->realized = false;
    if (d->pci) {
        pci_unplug(d);
        d->pci = NULL;
    }
    /* region_free() drops the region from d->regions; newest first. */
    while (d->regions->len) {
        region_free(g_ptr_array_index(d->regions, d->regions->len - 1));
    }
    if (d->bus) {
        g_ptr_array_remove(d->bus->children, d);
    }
    free_props(d);
    memdev_release_owner(d);
    if (unplug_pending) {
        g_ptr_array_remove(unplug_pending, d);
    }
    g_ptr_array_free(d->buses, true);
    g_ptr_array_free(d->regions, true);
    g_hash_table_destroy(d->prop_text);
    g_free(d->irq_out);
    dev_board_free(d);
    g_free(d->s);
    g_free(d->id);
    g_free(d->name);
    g_free(d->addr_opt);
    g_free(d->bus_opt);
    g_free(d->error);
    g_free(d);
}

struct dev_query {
    const char *key;
    tes_device *found;
    void (*fn)(tes_device *d, void *opaque);
    void *opaque;
};

static bool dev_matches(tes_device *d, void *opaque)
{
    struct dev_query *q = opaque;

    if ((d->id && strcmp(d->id, q->key) == 0) || (d->name && strcmp(d->name, q->key) == 0)) {
        q->found = d;
        return true;
    }
    return false;
}

tes_device *dev_find(const char *id_or_name)
{
    struct dev_query q = {.key = id_or_name};

    walk_tree(NULL, dev_matches, &q);
    return q.found;
}

static bool dev_call(tes_device *d, void *opaque)
{
    struct dev_query *q = opaque;

    q->fn(d, q->opaque);
    return false;
}

void devices_foreach(void (*fn)(tes_device *d, void *opaque), void *opaque)
{
    struct dev_query q = {.fn = fn, .opaque = opaque};

    walk_tree(NULL, dev_call, &q);
}

static void dev_reset(tes_device *d, void *opaque)
{
    if (!d->realized) {
        return;
    }
    /* Config space first: the device's reset may look at its BARs. */
    if (d->pci) {
        pci_reset(d);
    }
    if (d->type->reset) {
        d->type->reset(d, d->s);
    }
}

void devices_reset_all(void)
{
    devices_foreach(dev_reset, NULL);
}

/* ---- info qtree ---- */

struct qtree_ctx {
    GString *out;
    int indent;
};

static void qtree_line(void *opaque, const char *line)
{
    struct qtree_ctx *c = opaque;

    g_string_append_printf(c->out, "%*s%s\n", c->indent, "", line);
}

static void qtree_bus(tes_bus *b, struct qtree_ctx *c);

static void qtree_dev(tes_device *d, struct qtree_ctx *c)
{
    g_string_append_printf(c->out, "%*sdev: %s, id \"%s\"\n", c->indent, "", d->type->name,
                           d->id ? d->id : "");
    c->indent += 2;
    /* Which plugin provides it: with -plugin overrides, the type name
     * alone does not say. */
    g_string_append_printf(c->out, "%*splugin = \"%s\"\n", c->indent, "",
                           d->te && d->te->plugin ? d->te->plugin->desc->name : "core");
    for (const tes_prop_info *p = d->type->props; p && p->name; p++) {
        g_autofree char *v = prop_value_string(d, p);
        bool quote = p->kind == TES_PROP_STRING || p->kind == TES_PROP_DRIVE ||
                     p->kind == TES_PROP_CHR || p->kind == TES_PROP_NETDEV;
        g_string_append_printf(c->out, "%*s%s = %s%s%s\n", c->indent, "", p->name,
                               quote ? "\"" : "", v, quote ? "\"" : "");
    }
    if (d->type->describe && d->realized) {
        d->type->describe(d, d->s, qtree_line, c);
    }
    for (guint i = 0; i < d->buses->len; i++) {
        qtree_bus(g_ptr_array_index(d->buses, i), c);
    }
    c->indent -= 2;
}

static void qtree_bus(tes_bus *b, struct qtree_ctx *c)
{
    g_string_append_printf(c->out, "%*sbus: %s\n", c->indent, "", b->name);
    c->indent += 2;
    g_string_append_printf(c->out, "%*stype %s\n", c->indent, "", b->kind);
    for (guint i = 0; i < b->children->len; i++) {
        qtree_dev(g_ptr_array_index(b->children, i), c);
    }
    c->indent -= 2;
}

static void qtree_root(tes_bus *b, void *opaque)
{
    qtree_bus(b, opaque);
}

void qtree_print(GString *out)
{
    struct qtree_ctx c = {.out = out};

    foreach_root(qtree_root, &c);
}

void registry_reset(void)
{
    while (extra_roots && extra_roots->len) {
        bus_free(g_ptr_array_index(extra_roots, extra_roots->len - 1));
    }
    if (root_bus) {
        bus_free(root_bus);
        root_bus = NULL;
    }
    if (name_count) {
        g_hash_table_remove_all(name_count);
    }
}
