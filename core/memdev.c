/*
 * tessera core: memory backends (-object memory-backend-*) and the
 * machine's RAM built from them.
 *
 *   -object memory-backend-ram,id=m0,size=1G[,share=on|off]
 *   -object memory-backend-file,id=m1,size=16G,mem-path=FILE|DIR[,share=on|off]
 *   -object memory-backend-memfd,id=m2,size=1G[,share=on|off]
 *
 * QEMU's grammar: a bare "share" means share=on; sizes take K/M/G/T and a
 * bare number is bytes. memory-backend-file maps its file MAP_SHARED when
 * share=on, so what the guest writes is in the file (the point of a pmem
 * image); share=off maps it privately (the file is only read). A file
 * shorter than size= is extended (QEMU's ftruncate); a directory as
 * mem-path gets an unlinked temporary file. memfd is shared by default.
 * Options QEMU has for host memory policy (prealloc, merge, dump,
 * host-nodes, policy, reserve, discard-data, align, readonly, pmem,
 * x-use-canonical-path-for-ramblock-id) are accepted and have no effect
 * here, except readonly=on, which maps the file read-only.
 *
 * A backend is mapped when its user takes it: a NUMA node's memdev=
 * (machine_ram_new maps every node's backend back to back into one
 * reservation, so the board sees one contiguous RAM block, as QEMU's
 * machine RAM container) or a device's (memdev_region: nvdimm). One user
 * each, as QEMU's "already busy" check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "numa.h"

typedef enum { MD_RAM, MD_FILE, MD_MEMFD } memdev_kind;

typedef struct memdev {
    char *id;
    memdev_kind kind;
    uint64_t size;
    char *mem_path;
    bool share, readonly;
    char *user; /* who took it, NULL: free */
    tes_device *owner; /* the device that took it (memdev_region), NULL: none */
} memdev;

static GPtrArray *memdevs;

static memdev *memdev_find(const char *id)
{
    for (guint i = 0; memdevs && i < memdevs->len; i++) {
        memdev *m = g_ptr_array_index(memdevs, i);
        if (strcmp(m->id, id) == 0) {
            return m;
        }
    }
    return NULL;
}

static void memdev_free(gpointer p)
{
    memdev *m = p;

    g_free(m->id);
    g_free(m->mem_path);
    g_free(m->user);
    g_free(m);
}

void memdevs_reset(void)
{
    g_clear_pointer(&memdevs, g_ptr_array_unref);
}

bool memdev_exists(const char *id)
{
    return memdev_find(id) != NULL;
}

uint64_t memdev_size(const char *id)
{
    memdev *m = memdev_find(id);

    return m ? m->size : 0;
}

/* ---- -object parsing ---- */

static bool parse_bool(const char *key, const char *val, bool *out, char **errp)
{
    if (!val || strcmp(val, "on") == 0 || strcmp(val, "yes") == 0 || strcmp(val, "true") == 0) {
        *out = true; /* QEMU: a bare "share" is share=on */
        return true;
    }
    if (strcmp(val, "off") == 0 || strcmp(val, "no") == 0 || strcmp(val, "false") == 0) {
        *out = false;
        return true;
    }
    core_set_error(errp, "-object: Parameter '%s' expects 'on' or 'off', got '%s'", key, val);
    return false;
}

static bool ignored_key(const char *key)
{
    static const char *const keys[] = {
        "prealloc", "merge", "dump", "host-nodes", "policy", "reserve", "discard-data", "align",
        "pmem", "prealloc-threads", "x-use-canonical-path-for-ramblock-id", "offset",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (strcmp(key, keys[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool object_item(memdev *m, const char *item, bool *has_size, char **errp)
{
    const char *eq = strchr(item, '=');
    g_autofree char *key = eq ? g_strndup(item, eq - item) : g_strdup(item);
    const char *val = eq ? eq + 1 : NULL;

    if (strcmp(key, "share") == 0) {
        return parse_bool(key, val, &m->share, errp);
    }
    if (strcmp(key, "readonly") == 0) {
        return parse_bool(key, val, &m->readonly, errp);
    }
    if (val && strcmp(key, "id") == 0) {
        g_free(m->id);
        m->id = g_strdup(val);
        return true;
    }
    if (val && strcmp(key, "size") == 0) {
        *has_size = true;
        return cli_parse_size_unit(val, 1, "-object: size", &m->size, errp);
    }
    if (val && strcmp(key, "mem-path") == 0 && m->kind == MD_FILE) {
        g_free(m->mem_path);
        m->mem_path = g_strdup(val);
        return true;
    }
    if (ignored_key(key)) {
        return true;
    }
    core_set_error(errp, "-object: Property '%s' not found (memory-backend takes id=, size=, "
                   "share=%s)", key, m->kind == MD_FILE ? ", mem-path=, readonly=" : "");
    return false;
}

static bool object_kind(const char *type, memdev_kind *kind, char **errp)
{
    if (g_str_has_prefix(type, "qom-type=")) {
        type += 9;
    }
    if (strcmp(type, "memory-backend-ram") == 0) {
        *kind = MD_RAM;
    } else if (strcmp(type, "memory-backend-file") == 0) {
        *kind = MD_FILE;
    } else if (strcmp(type, "memory-backend-memfd") == 0) {
        *kind = MD_MEMFD;
    } else {
        core_set_error(errp, "-object: invalid object type: %s (expected memory-backend-ram, "
                       "memory-backend-file or memory-backend-memfd)", type);
        return false;
    }
    return true;
}

static bool object_check(memdev *m, bool has_size, char **errp)
{
    if (!m->id || !*m->id) {
        core_set_error(errp, "-object: Parameter 'id' is missing");
    } else if (memdev_find(m->id)) {
        core_set_error(errp, "-object: attempt to add duplicate property '%s' to object "
                       "(type 'container')", m->id);
    } else if (!has_size || m->size == 0) {
        core_set_error(errp, "-object %s: can't create backend with size 0", m->id);
    } else if (m->kind == MD_FILE && (!m->mem_path || !*m->mem_path)) {
        core_set_error(errp, "-object %s: mem-path property not set", m->id);
    } else {
        return true;
    }
    return false;
}

bool memdev_add(const char *optarg, char **errp)
{
    char **items = g_strsplit(optarg, ",", -1);
    memdev *m = g_new0(memdev, 1);
    bool has_size = false;
    bool ok = items[0] && object_kind(items[0], &m->kind, errp);

    if (!items[0]) {
        core_set_error(errp, "-object: Parameter 'qom-type' is missing");
    }
    m->share = m->kind == MD_MEMFD;
    for (char **p = items + (items[0] ? 1 : 0); ok && *p; p++) {
        ok = object_item(m, *p, &has_size, errp);
    }
    g_strfreev(items);
    ok = ok && object_check(m, has_size, errp);
    if (!ok) {
        memdev_free(m);
        return false;
    }
    if (!memdevs) {
        memdevs = g_ptr_array_new_with_free_func(memdev_free);
    }
    g_ptr_array_add(memdevs, m);
    return true;
}

bool memdev_claim(const char *id, const char *user, char **errp)
{
    memdev *m = memdev_find(id);

    if (!m) {
        core_set_error(errp, "memdev=%s is ambiguous (no -object memory-backend-* has id=%s)",
                       id, id);
        return false;
    }
    if (m->user) {
        core_set_error(errp, "can't use already busy memdev: %s (used by %s)", id, m->user);
        return false;
    }
    m->user = g_strdup(user);
    return true;
}

/* ---- mapping ---- */

/* The backing file of a file backend, sized: a directory gets an unlinked
 * temporary file (QEMU's qemu_ram_alloc_from_file with a directory). */
static int file_open(memdev *m, char **errp)
{
    struct stat st;
    int fd;

    if (stat(m->mem_path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fd = open(m->mem_path, O_TMPFILE | O_RDWR, 0600);
    } else {
        fd = open(m->mem_path, (m->readonly ? O_RDONLY : O_RDWR) | O_CREAT, 0644);
    }
    if (fd < 0) {
        core_set_error(errp, "-object %s: can't open backing store %s for guest RAM: %s",
                       m->id, m->mem_path, g_strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_size < m->size && S_ISREG(st.st_mode)) {
        if (st.st_size > 0 || m->readonly || ftruncate(fd, (off_t)m->size) < 0) {
            core_set_error(errp, "-object %s: backing store %s size 0x%" G_GINT64_MODIFIER "x "
                           "does not match 'size' option 0x%" G_GINT64_MODIFIER "x", m->id,
                           m->mem_path, (uint64_t)st.st_size, m->size);
            close(fd);
            return -1;
        }
    }
    return fd;
}

void *memdev_map(const char *id, void *at, char **errp)
{
    memdev *m = memdev_find(id);
    int prot = PROT_READ | PROT_WRITE;
    int flags = (m && m->share ? MAP_SHARED : MAP_PRIVATE) | (at ? MAP_FIXED : 0);
    int fd = -1;
    void *p;

    if (!m) {
        core_set_error(errp, "memdev=%s is ambiguous", id);
        return NULL;
    }
    if (m->kind == MD_FILE) {
        fd = file_open(m, errp);
    } else if (m->kind == MD_MEMFD) {
        fd = memfd_create(m->id, MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)m->size) < 0) {
            core_set_error(errp, "-object %s: memfd: %s", m->id, g_strerror(errno));
            fd = fd < 0 ? fd : (close(fd), -1);
        }
    } else {
        flags |= MAP_ANONYMOUS | MAP_NORESERVE;
    }
    if (m->kind != MD_RAM && fd < 0) {
        return NULL;
    }
    /* readonly with share: the guest's writes would fault the process, so
     * the mapping is private (copy on write) and the file stays intact. */
    if (m->readonly && m->share) {
        flags = (flags & ~MAP_SHARED) | MAP_PRIVATE;
    }
    p = mmap(at, m->size, prot, flags, fd, 0);
    if (fd >= 0) {
        close(fd);
    }
    if (p == MAP_FAILED) {
        core_set_error(errp, "-object %s: cannot map %" G_GUINT64_FORMAT " bytes: %s", m->id,
                       m->size, g_strerror(errno));
        return NULL;
    }
    return p;
}

/* ---- RAM regions over backends ---- */

/* Every node's backend back to back in one reservation. */
static uint8_t *map_nodes(const tes_topology *t, uint64_t size, char **errp)
{
    uint8_t *base = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                         -1, 0);
    uint64_t off = 0;

    if (base == MAP_FAILED) {
        core_set_error(errp, "cannot reserve %" G_GUINT64_FORMAT " bytes of RAM", size);
        return NULL;
    }
    for (unsigned i = 0; i < t->nodes; i++) {
        if (!memdev_map(numa_node_memdev(i), base + off, errp)) {
            munmap(base, size);
            return NULL;
        }
        off += t->node_mem[i];
    }
    return base;
}

tes_region *machine_ram_new(tes_device *machine, const char *name, char **errp)
{
    const tes_topology *t = machine_topology();
    uint64_t size = machine_cfg.ram_size;
    uint8_t *p;
    tes_region *r;

    if (!t->nodes || !numa_node_memdev(0)) {
        r = region_new_ram(machine, name, size);
        if (!r) {
            core_set_error(errp, "cannot allocate %" G_GUINT64_FORMAT " MiB of RAM", size >> 20);
        }
        return r;
    }
    p = map_nodes(t, size, errp);
    return p ? region_new_ram_mapped(machine, name, size, p) : NULL;
}

tes_region *memdev_region(tes_device *owner, const char *id, char **errp)
{
    memdev *m;
    void *p;

    if (!memdev_claim(id, owner ? owner->name : "a device", errp)) {
        return NULL;
    }
    m = memdev_find(id);
    p = memdev_map(id, NULL, errp);
    if (!p) {
        g_clear_pointer(&m->user, g_free);
        return NULL;
    }
    m->owner = owner;
    return region_new_ram_mapped(owner, id, memdev_size(id), p);
}

/* A device's backend is free again once the device is gone (its region,
 * the mapping, went with it): device_del of a pc-dimm, then object_del
 * or another device_add with the same memdev, as QEMU allows. */
void memdev_release_owner(tes_device *owner)
{
    for (guint i = 0; owner && memdevs && i < memdevs->len; i++) {
        memdev *m = g_ptr_array_index(memdevs, i);

        if (m->owner == owner) {
            g_clear_pointer(&m->user, g_free);
            m->owner = NULL;
        }
    }
}

/* QMP/HMP object_del: QEMU's user_creatable_del refuses an object in use. */
bool memdev_del(const char *id, char **errp)
{
    memdev *m = id ? memdev_find(id) : NULL;

    if (!m) {
        core_set_error(errp, "object '%s' not found", id ? id : "");
        return false;
    }
    if (m->user) {
        core_set_error(errp, "object '%s' is in use, can not be deleted", id);
        return false;
    }
    g_ptr_array_remove(memdevs, m);
    return true;
}
