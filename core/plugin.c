/*
 * tessera core: the plugin loader.
 *
 * A plugin is a .so exporting one symbol, TES_PLUGIN_SYMBOL, a
 * tes_plugin_desc. Load order (first name wins):
 *
 *   1. -plugin FILE, in command-line order (from_cli: they win type
 *      look-ups over default places, see registry.c);
 *   2. TESSERA_PLUGIN_PATH, ':'-separated directories or .so files;
 *   3. the build tree's plugins/ directory, only when the running
 *      executable lives in the build tree (so an installed tessera never
 *      picks up a stale build);
 *   4. the installed plugin directory.
 *
 * A file from a default place whose descriptor name is already loaded is
 * closed again without init: a build-tree copy does not clash with the
 * installed one, and `-plugin ./my-edu.so` named "edu" replaces the stock
 * edu. Every refusal is one line naming the file.
 *
 * A -plugin file that cannot load is fatal. A file found in a default
 * place that cannot load is skipped: one stray or stale .so must not stop
 * every run. Its refusal is kept; it becomes the fatal error when the run
 * asks for a type the file declares (or a type nobody provides, when the
 * file could not even be opened), and is otherwise printed as one warning
 * line once start-up is done (plugins_warn_skipped).
 *
 * Files are opened with dlopen(RTLD_NOW | RTLD_LOCAL): every symbol is
 * bound at load, so a plugin that calls a core function (plugins link
 * none) is refused here with the loader's own reason, instead of dying
 * with "symbol lookup error" the first time the call runs.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

/* The 1.0 descriptor ends with fini; later minors only append. */
#define DESC_SIZE_1_0 (offsetof(tes_plugin_desc, fini) + sizeof(void (*)(void)))
/* Directory depth scanned for *.so: the build tree has plugins/NAME/NAME.so. */
#define SCAN_DEPTH 2

/* A default-place file that was refused, kept for the messages. */
typedef struct skipped_plugin {
    char *path;
    char *reason; /* the refusal line, naming the file */
    char *name;   /* descriptor name, NULL when unreadable */
    GStrv types;  /* "KIND:NAME" its descriptor declares; NULL when unreadable */
} skipped_plugin;

static GPtrArray *loaded; /* plugin*, load order */
static GPtrArray *skipped; /* skipped_plugin*, scan order */
static bool dirs_overridden;
static char *build_dir_override;
static char *install_dir_override;

GPtrArray *plugins_list(void)
{
    if (!loaded) {
        loaded = g_ptr_array_new();
    }
    return loaded;
}

void plugins_set_default_dirs(const char *build_dir, const char *install_dir)
{
    g_free(build_dir_override);
    g_free(install_dir_override);
    build_dir_override = g_strdup(build_dir);
    install_dir_override = g_strdup(install_dir);
    dirs_overridden = true;
}

static plugin *plugin_find_name(const char *name)
{
    GPtrArray *l = plugins_list();

    for (guint i = 0; i < l->len; i++) {
        plugin *p = g_ptr_array_index(l, i);
        if (strcmp(p->desc->name, name) == 0) {
            return p;
        }
    }
    return NULL;
}

static void plugin_close(plugin *p)
{
    if (p->handle) {
        dlclose(p->handle);
    }
    g_free(p->path);
    g_free(p);
}

static const char *desc_name(const tes_plugin_desc *d)
{
    /* A foreign-major descriptor may lay out differently past the first
     * eight bytes; read the name only when the size says it is there. */
    if (d->size >= offsetof(tes_plugin_desc, name) + sizeof(char *) && d->name) {
        return d->name;
    }
    return "?";
}

/* The ABI checks of docs/sdk.md "ABI rules": same major, minor not newer,
 * descriptor at least as large as 1.0's. */
static bool desc_check(const char *path, const tes_plugin_desc *d, char **errp)
{
    if (d->abi_major != TES_ABI_MAJOR) {
        core_set_error(errp,
                       "plugin '%s' (%s) is built for SDK ABI %u.%u, this tessera provides "
                       "ABI %u.%u (major differs)",
                       path, desc_name(d), d->abi_major, d->abi_minor, TES_ABI_MAJOR,
                       TES_ABI_MINOR);
        return false;
    }
    if (d->abi_minor > TES_ABI_MINOR) {
        core_set_error(errp,
                       "plugin '%s' (%s) is built for SDK ABI %u.%u, newer than this "
                       "tessera's ABI %u.%u",
                       path, desc_name(d), d->abi_major, d->abi_minor, TES_ABI_MAJOR,
                       TES_ABI_MINOR);
        return false;
    }
    if (d->size < DESC_SIZE_1_0) {
        core_set_error(errp,
                       "plugin '%s': descriptor is %u bytes, smaller than the ABI 1.0 "
                       "descriptor (%zu bytes)",
                       path, d->size, (size_t)DESC_SIZE_1_0);
        return false;
    }
    if (!d->name || !d->name[0] || strchr(d->name, ':')) {
        core_set_error(errp, "plugin '%s': descriptor has no valid name", path);
        return false;
    }
    return true;
}

/* dlerror() after a failed dlopen(file): the reason, without the file name
 * it starts with (the caller's line names the file already). */
static char *dl_reason(const char *file)
{
    const char *e = dlerror();
    size_t n = strlen(file);

    if (!e) {
        return g_strdup("unknown dynamic loader error");
    }
    if (strncmp(e, file, n) == 0 && e[n] == ':' && e[n + 1] == ' ') {
        e += n + 2;
    }
    if (strstr(e, "undefined symbol")) {
        /* The usual cause: a core function called directly. */
        return g_strdup_printf("%s (a plugin links no core symbol: it reaches the core "
                               "through the tes_host table given to init)", e);
    }
    return g_strdup(e);
}

/* Rule 5 of docs/sdk.md: the descriptor symbol carries the major, so a
 * plugin of another major exports tessera_plugin_vN for some N != ours. */
static int foreign_major(void *h)
{
    char sym[32];

    for (int major = 0; major <= 64; major++) {
        snprintf(sym, sizeof(sym), "tessera_plugin_v%d", major);
        if (major != TES_ABI_MAJOR && dlsym(h, sym)) {
            return major;
        }
    }
    return -1;
}

static void no_descriptor(const char *path, void *h, char **errp)
{
    int major = foreign_major(h);

    if (major >= 0) {
        core_set_error(errp,
                       "plugin '%s' is built for SDK ABI %d.x (it exports tessera_plugin_v%d), "
                       "this tessera provides ABI %u.%u (major differs)",
                       path, major, major, TES_ABI_MAJOR, TES_ABI_MINOR);
        return;
    }
    core_set_error(errp, "plugin '%s': no %s descriptor (not a tessera plugin?)", path,
                   TES_PLUGIN_SYMBOL);
}

/* "KIND:NAME" of every type a descriptor of our major declares, so a
 * refused plugin can still be named as the provider of a type. */
static GStrv desc_type_names(const tes_plugin_desc *d)
{
    GPtrArray *names;

    if (d->abi_major != TES_ABI_MAJOR || d->size < DESC_SIZE_1_0 || !d->types) {
        return NULL;
    }
    names = g_ptr_array_new();
    for (size_t i = 0; d->types[i]; i++) {
        if (d->types[i]->name) {
            g_ptr_array_add(names, g_strdup_printf("%d:%s", d->types[i]->kind,
                                                   d->types[i]->name));
        }
    }
    g_ptr_array_add(names, NULL);
    return (GStrv)g_ptr_array_free(names, false);
}

/* Open and check, without init: the caller may still skip it by name.
 * On refusal *skip (when given) gets what the descriptor declared. */
static plugin *plugin_open(const char *path, bool from_cli, skipped_plugin *skip, char **errp)
{
    /* Without a '/', dlopen() would search the library path, not "here". */
    g_autofree char *file = strchr(path, '/') ? g_strdup(path) : g_strconcat("./", path, NULL);
    void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    const tes_plugin_desc *d;
    plugin *p;

    if (!h) {
        g_autofree char *why = dl_reason(file);
        core_set_error(errp, "plugin '%s': cannot load: %s", path, why);
        return NULL;
    }
    d = dlsym(h, TES_PLUGIN_SYMBOL);
    if (!d) {
        no_descriptor(path, h, errp);
        dlclose(h);
        return NULL;
    }
    if (!desc_check(path, d, errp)) {
        if (skip) {
            skip->types = desc_type_names(d);
            skip->name = d->abi_major == TES_ABI_MAJOR ? g_strdup(desc_name(d)) : NULL;
        }
        dlclose(h);
        return NULL;
    }
    p = g_new0(plugin, 1);
    p->path = g_strdup(path);
    p->desc = d;
    p->handle = h;
    p->from_cli = from_cli;
    return p;
}

static bool plugin_start(plugin *p, char **errp)
{
    int ret = p->desc->init ? p->desc->init(host_table()) : 0;

    if (ret < 0) {
        core_set_error(errp, "plugin '%s' (%s): init failed: %s", p->path, p->desc->name,
                       g_strerror(-ret));
        return false;
    }
    core_log(TES_LOG_PLUGIN, "plugin: loaded %s %s (ABI %u.%u) from %s%s", p->desc->name,
             p->desc->version ? p->desc->version : "?", p->desc->abi_major,
             p->desc->abi_minor, p->path, p->from_cli ? " (-plugin)" : "");
    g_ptr_array_add(plugins_list(), p);
    registry_add_plugin_types(p);
    return true;
}

static bool same_file(const char *a, const char *b)
{
    g_autofree char *ra = realpath(a, NULL);
    g_autofree char *rb = realpath(b, NULL);

    return ra && rb && strcmp(ra, rb) == 0;
}

plugin *plugin_load(const char *path, bool from_cli, char **errp)
{
    plugin *p = plugin_open(path, from_cli, NULL, errp);
    plugin *old;

    if (!p) {
        return NULL;
    }
    old = plugin_find_name(p->desc->name);
    if (old) {
        /* Loading the very same file twice (harness set-ups) is harmless. */
        bool same = same_file(old->path, p->path);
        if (!same) {
            core_set_error(errp, "plugin '%s' (%s): a plugin named '%s' is already loaded from '%s'",
                           path, p->desc->name, p->desc->name, old->path);
        }
        plugin_close(p);
        return same ? old : NULL;
    }
    if (!plugin_start(p, errp)) {
        plugin_close(p);
        return NULL;
    }
    return p;
}

/* ---- default places ---- */

static gint path_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void scan_dir(const char *dir, int depth, GPtrArray *out)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *ent;

    if (!d) {
        core_log(TES_LOG_PLUGIN, "plugin: no directory %s", dir);
        return;
    }
    while ((ent = g_dir_read_name(d))) {
        char *full = g_build_filename(dir, ent, NULL);
        if (g_file_test(full, G_FILE_TEST_IS_DIR)) {
            if (depth > 1) {
                scan_dir(full, depth - 1, out);
            }
            g_free(full);
        } else if (g_str_has_suffix(ent, ".so")) {
            g_ptr_array_add(out, full);
        } else {
            g_free(full);
        }
    }
    g_dir_close(d);
}

/* Files of one place (a directory or a .so), sorted for determinism. */
static void place_files(const char *place, GPtrArray *out)
{
    GPtrArray *files = g_ptr_array_new();

    if (g_file_test(place, G_FILE_TEST_IS_DIR)) {
        scan_dir(place, SCAN_DEPTH, files);
        g_ptr_array_sort(files, path_cmp);
    } else if (g_file_test(place, G_FILE_TEST_EXISTS)) {
        g_ptr_array_add(files, g_strdup(place));
    } else {
        core_log(TES_LOG_PLUGIN, "plugin: %s does not exist, skipped", place);
    }
    for (guint i = 0; i < files->len; i++) {
        g_ptr_array_add(out, g_ptr_array_index(files, i));
    }
    g_ptr_array_free(files, true);
}

static bool exe_in_build_tree(void)
{
    g_autofree char *exe = realpath("/proc/self/exe", NULL);
    g_autofree char *root = realpath(TESSERA_BUILD_ROOT, NULL);

    return exe && root && g_str_has_prefix(exe, root) && exe[strlen(root)] == '/';
}

static GPtrArray *default_places(void)
{
    GPtrArray *places = g_ptr_array_new_with_free_func(g_free);
    const char *env = g_getenv("TESSERA_PLUGIN_PATH");

    if (env) {
        g_auto(GStrv) parts = g_strsplit(env, ":", -1);
        for (char **s = parts; *s; s++) {
            if (**s) {
                g_ptr_array_add(places, g_strdup(*s));
            }
        }
    }
    if (dirs_overridden) {
        if (build_dir_override) {
            g_ptr_array_add(places, g_strdup(build_dir_override));
        }
        if (install_dir_override) {
            g_ptr_array_add(places, g_strdup(install_dir_override));
        }
        return places;
    }
    if (exe_in_build_tree()) {
        g_ptr_array_add(places, g_strdup(TESSERA_BUILD_PLUGINDIR));
    }
    g_ptr_array_add(places, g_strdup(TESSERA_PLUGINDIR));
    return places;
}

static void skip_file(const char *path, skipped_plugin *skip, char *reason)
{
    skip->path = g_strdup(path);
    skip->reason = reason;
    if (!skipped) {
        skipped = g_ptr_array_new();
    }
    g_ptr_array_add(skipped, g_new(skipped_plugin, 1));
    *(skipped_plugin *)g_ptr_array_index(skipped, skipped->len - 1) = *skip;
    core_log(TES_LOG_PLUGIN, "plugin: %s skipped: %s", path, reason);
}

/* A default-place file: loaded, skipped by name, or refused and recorded. */
static void load_default_file(const char *path)
{
    skipped_plugin skip = {0};
    char *err = NULL;
    plugin *p = plugin_open(path, false, &skip, &err);

    if (!p) {
        skip_file(path, &skip, err);
        return;
    }
    if (plugin_find_name(p->desc->name)) {
        core_log(TES_LOG_PLUGIN, "plugin: %s skipped, '%s' is already loaded", path,
                 p->desc->name);
        plugin_close(p);
        return;
    }
    if (!plugin_start(p, &err)) {
        skip.name = g_strdup(p->desc->name);
        skip.types = desc_type_names(p->desc);
        plugin_close(p);
        skip_file(path, &skip, err);
    }
}

bool plugins_load_all(GPtrArray *cli_files, char **errp)
{
    g_autoptr(GPtrArray) places = default_places();
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; cli_files && i < cli_files->len; i++) {
        if (!plugin_load(g_ptr_array_index(cli_files, i), true, errp)) {
            return false;
        }
    }
    for (guint i = 0; i < places->len; i++) {
        place_files(g_ptr_array_index(places, i), files);
    }
    for (guint i = 0; i < files->len; i++) {
        load_default_file(g_ptr_array_index(files, i));
    }
    return true;
}

/* ---- skipped files ---- */

static bool skip_declares(const skipped_plugin *sk, const char *plug, const char *key)
{
    if (!sk->types || (plug && (!sk->name || strcmp(sk->name, plug) != 0))) {
        return false;
    }
    return g_strv_contains((const char *const *)sk->types, key);
}

const char *plugins_skipped_provider(const char *plug, const char *type, tes_type_kind kind)
{
    g_autofree char *key = g_strdup_printf("%d:%s", kind, type);

    for (guint i = 0; skipped && i < skipped->len; i++) {
        const skipped_plugin *sk = g_ptr_array_index(skipped, i);
        if (skip_declares(sk, plug, key)) {
            return sk->reason;
        }
    }
    return NULL;
}

char *plugins_skipped_unknown(void)
{
    GString *out = NULL;

    for (guint i = 0; skipped && i < skipped->len; i++) {
        const skipped_plugin *sk = g_ptr_array_index(skipped, i);
        if (!sk->types) {
            out = out ? g_string_append(out, "; ") : g_string_new(NULL);
            g_string_append(out, sk->reason);
        }
    }
    return out ? g_string_free(out, false) : NULL;
}

void plugins_warn_skipped(void)
{
    static guint warned; /* each file once, however often start-up asks */

    for (; skipped && warned < skipped->len; warned++) {
        const skipped_plugin *sk = g_ptr_array_index(skipped, warned);
        fprintf(stderr, "tessera: warning: %s; skipped\n", sk->reason);
    }
}

/* ---- listing and teardown ---- */

static const char *kind_suffix(tes_type_kind k)
{
    switch (k) {
    case TES_KIND_MACHINE:
        return " (machine)";
    case TES_KIND_CPU:
        return " (cpu)";
    default:
        return "";
    }
}

void plugins_print_list(FILE *out)
{
    GPtrArray *l = plugins_list();

    fprintf(out, "Plugins (name version abi file: types), this tessera provides ABI %u.%u:\n",
            TES_ABI_MAJOR, TES_ABI_MINOR);
    for (guint i = 0; i < l->len; i++) {
        plugin *p = g_ptr_array_index(l, i);
        const tes_plugin_desc *d = p->desc;
        fprintf(out, "%s %s abi %u.%u %s:", d->name, d->version ? d->version : "?",
                d->abi_major, d->abi_minor, p->path);
        for (size_t t = 0; d->types && d->types[t]; t++) {
            fprintf(out, "%s %s%s", t ? "," : "", d->types[t]->name,
                    kind_suffix(d->types[t]->kind));
        }
        fputc('\n', out);
    }
}

void plugins_unload_all(void)
{
    GPtrArray *l = plugins_list();

    /* Devices run plugin code: they go before the code does. */
    registry_reset();
    registry_clear_types();
    for (guint i = l->len; i-- > 0;) {
        plugin *p = g_ptr_array_index(l, i);
        if (p->desc->fini) {
            p->desc->fini();
        }
        plugin_close(p);
    }
    g_ptr_array_set_size(l, 0);
}
