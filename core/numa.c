/*
 * tessera core: CPU topology and NUMA, QEMU's grammar and checks.
 *
 *   -smp 4,sockets=2,cores=2,threads=1 -m 2304M
 *   -numa node,nodeid=0,cpus=0-1,mem=2048 -numa node,nodeid=1,cpus=2-3,mem=256
 *   -numa node,memdev=m0,cpus=0-1 (with -object memory-backend-ram,id=m0,size=1G)
 *   -numa dist,src=0,dst=1,val=21
 *   -numa cpu,node-id=1,socket-id=1
 *
 * node: nodeid= (default: the next free one, as QEMU), cpus=A or A-B
 * (repeatable), mem= (a bare number is MiB, QEMU's legacy form, which its
 * newer machine types refuse but the tutorials we serve use) or memdev=
 * (every node or none). dist: src, dst, val (10 for a node to itself,
 * more than 10 otherwise; the other direction is taken as the same unless
 * given). cpu: node-id plus any of socket-id, die-id, cluster-id, core-id,
 * thread-id: every vCPU at that position goes to the node.
 *
 * Completion follows QEMU's numa_complete_configuration(): with no node
 * saying mem=, the RAM is split evenly (8 MiB granules, the rest on the
 * last node); the nodes' memory must add up to -m; node IDs must be
 * contiguous; CPUs no node names go to node (socket % nodes). Error lines
 * are QEMU's, prefixed with the option.
 */
#include <errno.h>
#include <string.h>

#include "core.h"
#include "numa.h"

typedef struct numa_node {
    bool present, has_mem;
    uint64_t mem;
    char *memdev;
} numa_node;

static struct {
    cli_smp smp;
    numa_node node[NUMA_MAX_NODES];
    unsigned nb_nodes;        /* -numa node options seen */
    unsigned max_nodeid;      /* highest nodeid + 1 */
    uint8_t dist[NUMA_MAX_NODES][NUMA_MAX_NODES]; /* 0: not given */
    bool have_dist;
    int32_t *cpu_node;        /* [max_cpus], -1: not assigned */
    /* what machine_topology() returns */
    tes_topology topo;
    uint64_t node_mem[NUMA_MAX_NODES];
    uint32_t *cpu_node_out;
    uint8_t *distance;
} numa;

/* -m maxmem=, slots= (topology_set_memory) */
static uint64_t mem_maxmem;
static unsigned mem_slots;

void topology_set_memory(uint64_t maxmem, unsigned slots)
{
    mem_maxmem = maxmem;
    mem_slots = slots;
}

static const cli_smp smp_default = {1, 1, 1, 1, 1, 1, 1};

void numa_reset(void)
{
    for (unsigned i = 0; i < NUMA_MAX_NODES; i++) {
        g_free(numa.node[i].memdev);
    }
    g_free(numa.cpu_node);
    g_free(numa.cpu_node_out);
    g_free(numa.distance);
    memset(&numa, 0, sizeof(numa));
    topology_set_memory(0, 0);
}

void topology_set(const cli_smp *smp)
{
    numa.smp = smp && smp->max_cpus ? *smp : smp_default;
    g_free(numa.cpu_node);
    numa.cpu_node = g_new(int32_t, numa.smp.max_cpus);
    for (unsigned i = 0; i < numa.smp.max_cpus; i++) {
        numa.cpu_node[i] = -1;
    }
}

static void ensure_topology(void)
{
    if (!numa.cpu_node) {
        topology_set(NULL);
    }
}

/* ---- sizes (cli.h: also -m's, in the core library for -numa and -object) ---- */

static bool size_suffix(char c, uint64_t *mult)
{
    switch (g_ascii_toupper(c)) {
    case 'B': *mult = 1; return true;
    case 'K': *mult = 1ull << 10; return true;
    case 'M': *mult = 1ull << 20; return true;
    case 'G': *mult = 1ull << 30; return true;
    case 'T': *mult = 1ull << 40; return true;
    default: return false;
    }
}

bool cli_parse_size_unit(const char *s, uint64_t bare_mult, const char *opt, uint64_t *bytes,
                         char **errp)
{
    uint64_t mult = bare_mult;
    const char *p = s;
    char *end;
    double v;

    v = g_ascii_strtod(p, &end);
    /* !(v > 0) also refuses "nan", whose conversion to an integer below is
     * undefined (UBSan, fuzz-cli); "inf" fails the range check. */
    if (end == p || !(v > 0) || *p == '-' || *p == '+') {
        goto bad;
    }
    if (*end && size_suffix(*end, &mult)) {
        end++;
        if (g_ascii_strcasecmp(end, "iB") == 0 || g_ascii_strcasecmp(end, "B") == 0) {
            end += strlen(end);
        }
    }
    if (*end || v * mult >= 18446744073709551616.0) {
        goto bad;
    }
    *bytes = (uint64_t)(v * mult);
    return true;
bad:
    if (errp && !*errp) {
        *errp = g_strdup_printf("%s: invalid size '%s' (expected a number with an optional "
                                "K/M/G/T suffix, e.g. %s)", opt, s,
                                bare_mult == 1 ? "1073741824 or 1G" : "512 or 1G");
    }
    return false;
}

/* ---- parsing ---- */

static bool parse_uint(const char *opt, const char *key, const char *val, uint64_t max,
                       uint64_t *out, char **errp)
{
    char *end;
    guint64 v;

    if (!*val || !g_ascii_isdigit(*val)) {
        goto bad;
    }
    v = g_ascii_strtoull(val, &end, 0);
    if (*end || v > max) {
        goto bad;
    }
    *out = v;
    return true;
bad:
    core_set_error(errp, "-numa %s: Parameter '%s' expects an integer%s, got '%s'", opt, key,
                   max < G_MAXUINT32 ? " in range" : "", val);
    return false;
}

/* cpus=A or A-B, QEMU's range list item. */
static bool node_cpus(unsigned nodeid, const char *val, char **errp)
{
    char **ab = g_strsplit(val, "-", 2);
    uint64_t a = 0, b = 0;
    bool ok = ab[0] && parse_uint("node", "cpus", ab[0], G_MAXUINT32, &a, errp) &&
              (!ab[1] || parse_uint("node", "cpus", ab[1], G_MAXUINT32, &b, errp));

    g_strfreev(ab);
    if (!ok) {
        core_set_error(errp, "-numa node: Parameter 'cpus' expects a number or a range, got "
                       "'%s'", val);
        return false;
    }
    b = strchr(val, '-') ? b : a;
    if (b < a) {
        core_set_error(errp, "-numa node: Invalid range %s in 'cpus'", val);
        return false;
    }
    if (b >= numa.smp.max_cpus) {
        core_set_error(errp, "-numa node: CPU index (%" G_GUINT64_FORMAT ") should be smaller "
                       "than maxcpus (%u)", b, numa.smp.max_cpus);
        return false;
    }
    for (uint64_t i = a; i <= b; i++) {
        numa.cpu_node[i] = (int32_t)nodeid;
    }
    return true;
}

/* nodeid= first (cpus= needs it), then the rest in order. */
static bool node_nodeid(char **items, unsigned *nodeid, char **errp)
{
    uint64_t v = numa.nb_nodes;

    for (char **p = items; *p; p++) {
        if (g_str_has_prefix(*p, "nodeid=") &&
            !parse_uint("node", "nodeid", *p + 7, G_MAXUINT16, &v, errp)) {
            return false;
        }
    }
    if (v >= NUMA_MAX_NODES) {
        core_set_error(errp, "-numa node: Max number of NUMA nodes reached: %" G_GUINT64_FORMAT,
                       v);
        return false;
    }
    if (numa.node[v].present) {
        core_set_error(errp, "-numa node: Duplicate NUMA nodeid: %" G_GUINT64_FORMAT, v);
        return false;
    }
    *nodeid = (unsigned)v;
    return true;
}

static bool node_item(numa_node *n, unsigned nodeid, const char *item, char **errp)
{
    const char *val = strchr(item, '=') ? strchr(item, '=') + 1 : NULL;

    if (!val) {
        core_set_error(errp, "-numa node: Invalid parameter '%s'", item);
        return false;
    }
    if (g_str_has_prefix(item, "nodeid=")) {
        return true;
    }
    if (g_str_has_prefix(item, "cpus=")) {
        return node_cpus(nodeid, val, errp);
    }
    if (g_str_has_prefix(item, "mem=")) {
        n->has_mem = true;
        return cli_parse_size_unit(val, 1ull << 20, "-numa node: mem", &n->mem, errp);
    }
    if (g_str_has_prefix(item, "memdev=")) {
        if (!memdev_exists(val)) {
            core_set_error(errp, "-numa node: memdev=%s is ambiguous (no -object "
                           "memory-backend-* has id=%s)", val, val);
            return false;
        }
        g_free(n->memdev);
        n->memdev = g_strdup(val);
        return true;
    }
    if (g_str_has_prefix(item, "initiator=")) {
        return true; /* HMAT only: no effect without hmat=on */
    }
    core_set_error(errp, "-numa node: Invalid parameter '%.*s'", (int)(val - 1 - item), item);
    return false;
}

static bool parse_node(char **items, char **errp)
{
    unsigned nodeid;
    numa_node n = {0};

    if (!node_nodeid(items, &nodeid, errp)) {
        return false;
    }
    for (char **p = items; *p; p++) {
        if (!node_item(&n, nodeid, *p, errp)) {
            g_free(n.memdev);
            return false;
        }
    }
    if (n.has_mem && n.memdev) {
        core_set_error(errp, "-numa node: cannot specify both mem= and memdev=");
        g_free(n.memdev);
        return false;
    }
    if (n.memdev) {
        n.mem = memdev_size(n.memdev);
    }
    n.present = true;
    numa.node[nodeid] = n;
    numa.nb_nodes++;
    numa.max_nodeid = MAX(numa.max_nodeid, nodeid + 1);
    return true;
}

/* key=value items of dist and cpu into vals[] by keys[] (-1: absent). */
static bool parse_keys(const char *opt, char **items, const char *const *keys, unsigned n,
                       int64_t *vals, char **errp)
{
    for (unsigned k = 0; k < n; k++) {
        vals[k] = -1;
    }
    for (char **p = items; *p; p++) {
        const char *eq = strchr(*p, '=');
        unsigned k = 0;
        uint64_t v;

        while (eq && k < n && (strncmp(*p, keys[k], eq - *p) || keys[k][eq - *p])) {
            k++;
        }
        if (!eq || k == n) {
            core_set_error(errp, "-numa %s: Invalid parameter '%.*s'", opt,
                           eq ? (int)(eq - *p) : (int)strlen(*p), *p);
            return false;
        }
        if (!parse_uint(opt, keys[k], eq + 1, G_MAXUINT16, &v, errp)) {
            return false;
        }
        vals[k] = (int64_t)v;
    }
    return true;
}

static bool parse_dist(char **items, char **errp)
{
    static const char *const keys[] = {"src", "dst", "val"};
    int64_t v[3];

    if (!parse_keys("dist", items, keys, 3, v, errp)) {
        return false;
    }
    for (unsigned k = 0; k < 3; k++) {
        if (v[k] < 0) {
            core_set_error(errp, "-numa dist: Parameter '%s' is missing", keys[k]);
            return false;
        }
    }
    if (v[0] >= NUMA_MAX_NODES || v[1] >= NUMA_MAX_NODES) {
        core_set_error(errp, "-numa dist: Invalid node %" G_GINT64_FORMAT ", max possible could "
                       "be %d", MAX(v[0], v[1]), NUMA_MAX_NODES - 1);
        return false;
    }
    if (!numa.node[v[0]].present || !numa.node[v[1]].present) {
        core_set_error(errp, "-numa dist: Source/Destination NUMA node is missing. Please use "
                       "'-numa node' option to declare it first.");
        return false;
    }
    if (v[0] == v[1] && v[2] != 10) {
        core_set_error(errp, "-numa dist: Local distance of node %" G_GINT64_FORMAT " should "
                       "be 10.", v[0]);
        return false;
    }
    if (v[2] < 10 || v[2] > 255) {
        core_set_error(errp, "-numa dist: NUMA distance (%" G_GINT64_FORMAT ") is invalid, it "
                       "shouldn't be less than 10%s.", v[2], v[2] > 255 ? " or more than 255" : "");
        return false;
    }
    numa.dist[v[0]][v[1]] = (uint8_t)v[2];
    numa.have_dist = true;
    return true;
}

/* The position of vCPU i: socket, die, cluster, core, thread. */
static void cpu_ids(unsigned i, int64_t id[5])
{
    const cli_smp *t = &numa.smp;

    id[4] = i % t->threads;
    i /= t->threads;
    id[3] = i % t->cores;
    i /= t->cores;
    id[2] = i % t->clusters;
    i /= t->clusters;
    id[1] = i % t->dies;
    id[0] = i / t->dies;
}

static bool parse_cpu(char **items, char **errp)
{
    static const char *const keys[] = {"node-id", "socket-id", "die-id", "cluster-id",
                                       "core-id", "thread-id"};
    int64_t v[6];
    bool any = false;

    if (!parse_keys("cpu", items, keys, 6, v, errp)) {
        return false;
    }
    if (v[0] < 0) {
        core_set_error(errp, "-numa cpu: Parameter 'node-id' is missing");
        return false;
    }
    if (v[0] >= NUMA_MAX_NODES || !numa.node[v[0]].present) {
        core_set_error(errp, "-numa cpu: Invalid node-id=%" G_GINT64_FORMAT ", NUMA node must "
                       "be declared with -numa node,nodeid=%" G_GINT64_FORMAT " before it's "
                       "used with -numa cpu,node-id=%" G_GINT64_FORMAT, v[0], v[0], v[0]);
        return false;
    }
    for (unsigned i = 0; i < numa.smp.max_cpus; i++) {
        int64_t id[5];
        bool match = true;

        cpu_ids(i, id);
        for (unsigned k = 0; k < 5; k++) {
            match = match && (v[k + 1] < 0 || v[k + 1] == id[k]);
        }
        if (match) {
            numa.cpu_node[i] = (int32_t)v[0];
            any = true;
        }
    }
    if (!any) {
        core_set_error(errp, "-numa cpu: no match found");
    }
    return any;
}

bool numa_parse(const char *arg, char **errp)
{
    char **items = g_strsplit(arg, ",", -1);
    const char *type = items[0] ? items[0] : "";
    bool ok;

    ensure_topology();
    if (g_str_has_prefix(type, "type=")) {
        type += 5;
    }
    if (strcmp(type, "node") == 0) {
        ok = parse_node(items + 1, errp);
    } else if (strcmp(type, "dist") == 0) {
        ok = parse_dist(items + 1, errp);
    } else if (strcmp(type, "cpu") == 0) {
        ok = parse_cpu(items + 1, errp);
    } else {
        core_set_error(errp, "-numa: Parameter 'type' does not accept value '%s' (expected "
                       "node, dist or cpu)", type);
        ok = false;
    }
    g_strfreev(items);
    return ok;
}

/* ---- completion ---- */

/* QEMU's numa_default_auto_split(): 8 MiB granules (its legacy machines'
 * alignment), the remainder on the last node. */
static void split_ram(uint64_t ram_size)
{
    unsigned n = numa.nb_nodes;
    uint64_t each = (ram_size / n) & ~((8ull << 20) - 1), used = 0;

    for (unsigned i = 0; i < n; i++) {
        numa.node[i].mem = i + 1 == n ? ram_size - used : each;
        used += numa.node[i].mem;
    }
}

static bool check_mem(uint64_t ram_size, char **errp)
{
    uint64_t total = 0;
    unsigned with_memdev = 0, with_mem = 0;

    for (unsigned i = 0; i < numa.nb_nodes; i++) {
        with_memdev += numa.node[i].memdev != NULL;
        with_mem += numa.node[i].has_mem;
    }
    if (with_memdev && with_memdev != numa.nb_nodes) {
        core_set_error(errp, "-numa node: memdev option must be specified for either all or no "
                       "nodes");
        return false;
    }
    if (!with_memdev && !with_mem) {
        split_ram(ram_size);
    }
    for (unsigned i = 0; i < numa.nb_nodes; i++) {
        total += numa.node[i].mem;
    }
    if (total != ram_size) {
        core_set_error(errp, "-numa node: total memory for NUMA nodes (0x%" G_GINT64_MODIFIER
                       "x) should equal RAM size (0x%" G_GINT64_MODIFIER "x)", total, ram_size);
        return false;
    }
    for (unsigned i = 0; i < numa.nb_nodes && with_memdev; i++) {
        g_autofree char *user = g_strdup_printf("NUMA node %u", i);
        if (!memdev_claim(numa.node[i].memdev, user, errp)) {
            return false;
        }
    }
    return true;
}

/* QEMU's validate_numa_distance() and complete_init_numa_distance(). */
static bool check_distances(char **errp)
{
    unsigned n = numa.nb_nodes;
    bool asym = false;

    for (unsigned s = 0; s < n && numa.have_dist; s++) {
        for (unsigned d = s; d < n; d++) {
            uint8_t a = numa.dist[s][d], b = numa.dist[d][s];
            if (!a && !b && s != d) {
                core_set_error(errp, "-numa dist: The distance between node %u and %u is "
                               "missing, at least one distance value between each nodes should "
                               "be provided.", s, d);
                return false;
            }
            asym = asym || (a && b && a != b);
        }
    }
    for (unsigned s = 0; s < n && asym; s++) {
        for (unsigned d = 0; d < n; d++) {
            if (s != d && !numa.dist[s][d]) {
                core_set_error(errp, "-numa dist: At least one asymmetrical pair of distances "
                               "is given, please provide distances for both directions of all "
                               "node pairs.");
                return false;
            }
        }
    }
    for (unsigned s = 0; s < n; s++) {
        for (unsigned d = 0; d < n; d++) {
            uint8_t def = numa.have_dist ? numa.dist[d][s] : (s == d ? 10 : 20);
            numa.dist[s][d] = numa.dist[s][d] ? numa.dist[s][d] : s == d ? 10 : def;
        }
    }
    return true;
}

/* dies exist on x86 only, clusters on Arm only (QEMU's machines' smp
 * properties). */
static bool check_levels(const char *arch, char **errp)
{
    bool x86 = arch && strcmp(arch, "x86_64") == 0;
    bool arm = arch && strcmp(arch, "aarch64") == 0;

    if (numa.smp.dies > 1 && !x86) {
        core_set_error(errp, "-smp: dies not supported by this machine's CPU topology");
        return false;
    }
    if (numa.smp.clusters > 1 && !arm) {
        core_set_error(errp, "-smp: clusters not supported by this machine's CPU topology");
        return false;
    }
    return true;
}

static void publish(void)
{
    unsigned n = numa.nb_nodes;

    g_free(numa.cpu_node_out);
    g_free(numa.distance);
    numa.cpu_node_out = g_new0(uint32_t, numa.smp.max_cpus);
    numa.distance = g_new0(uint8_t, n ? n * n : 1);
    for (unsigned i = 0; i < numa.smp.max_cpus && n; i++) {
        int64_t id[5];

        cpu_ids(i, id);
        /* QEMU's pc/virt get_default_cpu_node_id: socket % nodes. */
        numa.cpu_node_out[i] = numa.cpu_node[i] >= 0 ? (uint32_t)numa.cpu_node[i]
                                                      : (uint32_t)(id[0] % n);
    }
    for (unsigned i = 0; i < n; i++) {
        numa.node_mem[i] = numa.node[i].mem;
        memcpy(numa.distance + i * n, numa.dist[i], n);
    }
    numa.topo = (tes_topology){
        .size = sizeof(tes_topology),
        .cpus = numa.smp.cpus, .max_cpus = numa.smp.max_cpus,
        .sockets = numa.smp.sockets, .dies = numa.smp.dies, .clusters = numa.smp.clusters,
        .cores = numa.smp.cores, .threads = numa.smp.threads,
        .nodes = n, .node_mem = numa.node_mem, .cpu_node = numa.cpu_node_out,
        .distance = numa.distance, .distance_given = numa.have_dist,
        .maxmem = mem_maxmem, .ram_slots = mem_slots,
    };
}

bool numa_complete(uint64_t ram_size, const char *arch, unsigned cpus, char **errp)
{
    ensure_topology();
    if (numa.smp.max_cpus < cpus) {
        /* No -smp topology reached us (a machine made by a test with
         * machine_cfg.smp alone): one socket of that many cores, as
         * QEMU's -smp N. No -numa cpus= can name those CPUs yet. */
        cli_smp t = {cpus, cpus, 1, 1, 1, cpus, 1};
        topology_set(&t);
    }
    if (!check_levels(arch, errp)) {
        return false;
    }
    for (unsigned i = numa.max_nodeid; i-- > 0;) {
        /* QEMU reports the largest missing ID first. */
        if (!numa.node[i].present) {
            core_set_error(errp, "-numa node: numa: Node ID missing: %u", i);
            return false;
        }
    }
    if (numa.nb_nodes && (!check_mem(ram_size, errp) || !check_distances(errp))) {
        return false;
    }
    publish();
    return true;
}

const tes_topology *machine_topology(void)
{
    if (!numa.topo.size) {
        ensure_topology();
        publish();
    }
    return &numa.topo;
}

unsigned numa_nodes_given(void)
{
    return numa.nb_nodes;
}

const char *numa_node_memdev(unsigned i)
{
    return i < numa.nb_nodes ? numa.node[i].memdev : NULL;
}

/* QEMU's HMP "info numa" (without hotplugged memory: "plugged: 0 MB"). */
void numa_info_print(GString *out)
{
    const tes_topology *t = machine_topology();

    g_string_append_printf(out, "%u nodes\n", t->nodes);
    for (unsigned i = 0; i < t->nodes; i++) {
        g_string_append_printf(out, "node %u cpus:", i);
        for (unsigned c = 0; c < t->max_cpus; c++) {
            if (t->cpu_node[c] == i) {
                g_string_append_printf(out, " %u", c);
            }
        }
        g_string_append_printf(out, "\nnode %u size: %" G_GUINT64_FORMAT " MB\n", i,
                               t->node_mem[i] >> 20);
        g_string_append_printf(out, "node %u plugged: 0 MB\n", i);
    }
}
