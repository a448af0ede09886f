/*
 * Unit tests: -smp topology, -numa and -object memory-backend-* (core/numa.c,
 * core/memdev.c): what QEMU accepts completes as QEMU completes it, and
 * what it refuses is refused with its line.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.c" /* cli_parse_smp_topo, as test-cli.c */
#include "core.h"
#include "numa.h"

#define MiB (1ull << 20)

/* -smp S, then each -numa; false with the first error in *errp. */
static bool setup(const char *smp, const char *const *numa, char **errp)
{
    cli_smp t = {0};

    numa_reset();
    memdevs_reset();
    if (smp && !cli_parse_smp_topo(smp, &t, errp)) {
        return false;
    }
    topology_set(&t);
    for (unsigned i = 0; numa && numa[i]; i++) {
        if (!numa_parse(numa[i], errp)) {
            return false;
        }
    }
    return true;
}

/* The tutorial's line: two nodes of 2048 and 256 MiB, CPUs 0-1 and 2-3. */
static void test_tutorial_line(void)
{
    const char *numa[] = {"node,mem=2048,cpus=0-1", "node,mem=256,cpus=2-3", NULL};
    char *err = NULL;
    const tes_topology *t;

    g_assert_true(setup("4,sockets=2,cores=2,threads=1", numa, &err));
    g_assert_true(numa_complete(2304 * MiB, "x86_64", 1, &err));
    g_assert_null(err);
    t = machine_topology();
    g_assert_cmpuint(t->cpus, ==, 4);
    g_assert_cmpuint(t->sockets, ==, 2);
    g_assert_cmpuint(t->cores, ==, 2);
    g_assert_cmpuint(t->threads, ==, 1);
    g_assert_cmpuint(t->dies, ==, 1);
    g_assert_cmpuint(t->nodes, ==, 2);
    g_assert_cmpuint(t->node_mem[0], ==, 2048 * MiB);
    g_assert_cmpuint(t->node_mem[1], ==, 256 * MiB);
    g_assert_cmpuint(t->cpu_node[0], ==, 0);
    g_assert_cmpuint(t->cpu_node[1], ==, 0);
    g_assert_cmpuint(t->cpu_node[2], ==, 1);
    g_assert_cmpuint(t->cpu_node[3], ==, 1);
    /* no -numa dist: Linux's defaults, and no SLIT/distance-map */
    g_assert_false(t->distance_given);
    g_assert_cmpuint(t->distance[0 * 2 + 1], ==, 20);
    g_assert_cmpuint(t->distance[1 * 2 + 1], ==, 10);
    {
        GString *out = g_string_new(NULL);
        numa_info_print(out);
        g_assert_cmpstr(out->str, ==, "2 nodes\nnode 0 cpus: 0 1\nnode 0 size: 2048 MB\n"
                        "node 0 plugged: 0 MB\nnode 1 cpus: 2 3\nnode 1 size: 256 MB\n"
                        "node 1 plugged: 0 MB\n");
        g_string_free(out, TRUE);
    }
}

/* A distance given one way is taken for the other as well. */
static void test_dist_symmetric_fill(void)
{
    const char *numa[] = {"node,nodeid=0", "node,nodeid=1", "node,nodeid=2",
                          "dist,src=0,dst=1,val=15", "dist,src=0,dst=2,val=30",
                          "dist,src=2,dst=1,val=25", NULL};
    char *err = NULL;
    const tes_topology *t;

    g_assert_true(setup("3", numa, &err));
    g_assert_true(numa_complete(3 * 64 * MiB, "aarch64", 1, &err));
    t = machine_topology();
    g_assert_true(t->distance_given);
    g_assert_cmpuint(t->distance[1 * 3 + 0], ==, 15);
    g_assert_cmpuint(t->distance[2 * 3 + 0], ==, 30);
    g_assert_cmpuint(t->distance[1 * 3 + 2], ==, 25);
    g_assert_cmpuint(t->distance[2 * 3 + 2], ==, 10);
    /* no mem= anywhere: RAM split evenly; CPUs by socket % nodes, and
     * -smp 3 is one socket of 3 cores (QEMU prefers cores) */
    g_assert_cmpuint(t->node_mem[0], ==, 64 * MiB);
    g_assert_cmpuint(t->node_mem[2], ==, 64 * MiB);
    g_assert_cmpuint(t->cpu_node[2], ==, 0);
}

static void test_dist_pair_missing(void)
{
    const char *numa[] = {"node", "node", "node", "dist,src=0,dst=1,val=15", NULL};
    char *err = NULL;

    g_assert_true(setup(NULL, numa, &err));
    g_assert_false(numa_complete(3 * 64 * MiB, "x86_64", 1, &err));
    g_assert_cmpstr(err, ==, "-numa dist: The distance between node 0 and 2 is missing, at "
                    "least one distance value between each nodes should be provided.");
    g_free(err);
}

/* -numa cpu: every vCPU of socket 1 on node 1, thread 1 of core 0 on 0. */
static void test_numa_cpu_by_position(void)
{
    const char *numa[] = {"node,nodeid=0", "node,nodeid=1", "cpu,node-id=1,socket-id=1",
                          "cpu,node-id=0,socket-id=1,core-id=0,thread-id=1", NULL};
    char *err = NULL;
    const tes_topology *t;

    g_assert_true(setup("8,sockets=2,cores=2,threads=2", numa, &err));
    g_assert_true(numa_complete(128 * MiB, "x86_64", 1, &err));
    t = machine_topology();
    g_assert_cmpuint(t->cpu_node[3], ==, 0); /* socket 0 */
    g_assert_cmpuint(t->cpu_node[4], ==, 1); /* socket 1, core 0, thread 0 */
    g_assert_cmpuint(t->cpu_node[5], ==, 0); /* socket 1, core 0, thread 1 */
    g_assert_cmpuint(t->cpu_node[7], ==, 1);
}

typedef struct bad_case {
    const char *smp;
    const char *numa[4];
    uint64_t ram;
    const char *err;
} bad_case;

/* QEMU's lines for each mistake, at parse or at completion. */
static void test_errors(void)
{
    static const bad_case cases[] = {
        {"4", {"node,mem=2048,cpus=0-1", "node,mem=255,cpus=2-3"}, 2304 * MiB,
         "-numa node: total memory for NUMA nodes (0x8ff00000) should equal RAM size "
         "(0x90000000)"},
        {"4", {"node,cpus=0-4"}, 0, "-numa node: CPU index (4) should be smaller than "
         "maxcpus (4)"},
        {"4", {"node,cpus=3-1"}, 0, "-numa node: Invalid range 3-1 in 'cpus'"},
        {"4", {"node,nodeid=0", "node,nodeid=0"}, 0, "-numa node: Duplicate NUMA nodeid: 0"},
        {"4", {"node,nodeid=128"}, 0, "-numa node: Max number of NUMA nodes reached: 128"},
        {"4", {"node,memdev=foo"}, 0, "-numa node: memdev=foo is ambiguous (no -object "
         "memory-backend-* has id=foo)"},
        {"4", {"node,nodeid=1"}, 64 * MiB, "-numa node: numa: Node ID missing: 0"},
        {"4", {"node,size=1"}, 0, "-numa node: Invalid parameter 'size'"},
        {"4", {"nodes"}, 0, "-numa: Parameter 'type' does not accept value 'nodes' (expected "
         "node, dist or cpu)"},
        {"4", {""}, 0, "-numa: Parameter 'type' does not accept value '' (expected node, dist "
         "or cpu)"},
        {"4", {"node", "node", "dist,src=0,dst=1,val=5"}, 0, "-numa dist: NUMA distance (5) is "
         "invalid, it shouldn't be less than 10."},
        {"4", {"node", "dist,src=0,dst=0,val=11"}, 0, "-numa dist: Local distance of node 0 "
         "should be 10."},
        {"4", {"node", "dist,src=0,dst=1,val=20"}, 0, "-numa dist: Source/Destination NUMA "
         "node is missing. Please use '-numa node' option to declare it first."},
        {"4", {"node", "dist,src=0,val=20"}, 0, "-numa dist: Parameter 'dst' is missing"},
        {"4", {"node", "dist,src=0,dst=x,val=20"}, 0, "-numa dist: Parameter 'dst' expects "
         "an integer in range, got 'x'"},
        {"4", {"node", "cpu,node-id=1"}, 0, "-numa cpu: Invalid node-id=1, NUMA node must be "
         "declared with -numa node,nodeid=1 before it's used with -numa cpu,node-id=1"},
        {"4,sockets=2", {"node", "cpu,node-id=0,socket-id=2"}, 0, "-numa cpu: no match found"},
        {"4,dies=2", {NULL}, 64 * MiB, "-smp: dies not supported by this machine's CPU "
         "topology"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *err = NULL;
        bool ok = setup(cases[i].smp, cases[i].numa, &err) &&
                  numa_complete(cases[i].ram ? cases[i].ram : 64 * MiB, "aarch64", 1, &err);

        g_assert_false(ok);
        g_assert_cmpstr(err, ==, cases[i].err);
        g_free(err);
    }
}

/* mem= on one node and memdev= on another, and mem= with memdev=. */
static void test_mem_and_memdev_mixed(void)
{
    const char *both[] = {"node,mem=64,memdev=m0", NULL};
    const char *mixed[] = {"node,mem=64", "node,memdev=m0", NULL};
    char *err = NULL;

    g_assert_true(setup(NULL, NULL, &err));
    g_assert_true(memdev_add("memory-backend-ram,id=m0,size=64M", &err));
    g_assert_false(numa_parse(both[0], &err));
    g_assert_cmpstr(err, ==, "-numa node: cannot specify both mem= and memdev=");
    g_clear_pointer(&err, g_free);
    for (unsigned i = 0; mixed[i]; i++) {
        g_assert_true(numa_parse(mixed[i], &err));
    }
    g_assert_false(numa_complete(128 * MiB, "x86_64", 1, &err));
    g_assert_cmpstr(err, ==, "-numa node: memdev option must be specified for either all or "
                    "no nodes");
    g_free(err);
}

/* object_del (QMP/HMP): refused while a device holds the backend, free
 * again (deletable, claimable) once the device is gone. */
static void test_object_del_in_use(void)
{
    tes_device owner = {.name = (char *)"dimm1"};
    tes_region *r;
    char *err = NULL;

    memdevs_reset();
    g_assert_true(memdev_add("memory-backend-ram,id=m1,size=1M", &err));
    g_assert_false(memdev_del("nope", &err));
    g_assert_cmpstr(err, ==, "object 'nope' not found");
    g_clear_pointer(&err, g_free);
    r = memdev_region(&owner, "m1", &err);
    g_assert_nonnull(r);
    g_assert_false(memdev_del("m1", &err));
    g_assert_cmpstr(err, ==, "object 'm1' is in use, can not be deleted");
    g_clear_pointer(&err, g_free);
    g_assert_null(memdev_region(NULL, "m1", &err));
    g_assert_nonnull(strstr(err, "can't use already busy memdev: m1 (used by dimm1)"));
    g_clear_pointer(&err, g_free);
    region_free(r);
    memdev_release_owner(&owner);
    g_ptr_array_free(owner.regions, TRUE);
    g_assert_true(memdev_del("m1", &err));
    g_assert_false(memdev_exists("m1"));
    g_assert_true(memdev_add("memory-backend-ram,id=m1,size=1M", &err));
    memdevs_reset();
}

/* -object grammar: bare share, sizes in bytes by default, errors. */
static void test_object_grammar(void)
{
    char *err = NULL;

    memdevs_reset();
    g_assert_true(memdev_add("memory-backend-file,share,id=mem1,mem-path=/tmp/x,size=16G",
                             &err));
    g_assert_cmpuint(memdev_size("mem1"), ==, 16ull << 30);
    g_assert_true(memdev_add("memory-backend-ram,id=r,size=4096", &err));
    g_assert_cmpuint(memdev_size("r"), ==, 4096);
    g_assert_false(memdev_add("memory-backend-ram,id=r,size=4096", &err));
    g_assert_nonnull(strstr(err, "duplicate"));
    g_clear_pointer(&err, g_free);
    g_assert_false(memdev_add("memory-backend-file,id=f,size=1M", &err));
    g_assert_cmpstr(err, ==, "-object f: mem-path property not set");
    g_clear_pointer(&err, g_free);
    g_assert_false(memdev_add("memory-backend-ram,id=z", &err));
    g_assert_cmpstr(err, ==, "-object z: can't create backend with size 0");
    g_clear_pointer(&err, g_free);
    g_assert_false(memdev_add("rng-random,id=rng0", &err));
    g_assert_nonnull(strstr(err, "invalid object type: rng-random"));
    g_clear_pointer(&err, g_free);
    g_assert_false(memdev_add("memory-backend-ram,id=s,size=1M,share=maybe", &err));
    g_assert_nonnull(strstr(err, "'share' expects 'on' or 'off'"));
    g_clear_pointer(&err, g_free);
    g_assert_false(memdev_add("", &err));
    g_clear_pointer(&err, g_free);
    /* one user per backend */
    g_assert_true(memdev_claim("r", "nvdimm0", &err));
    g_assert_false(memdev_claim("r", "nvdimm1", &err));
    g_assert_cmpstr(err, ==, "can't use already busy memdev: r (used by nvdimm0)");
    g_clear_pointer(&err, g_free);
    memdevs_reset();
}

/* share=on on a file backend: what is written through the mapping is in
 * the file (what NVDIMM's pmem relies on); share=off leaves it alone. */
static void test_file_backend_share(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-numa-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "pmem.img", NULL);
    g_autofree char *opt = g_strdup_printf("memory-backend-file,id=f,share,size=1M,mem-path=%s",
                                           path);
    g_autofree char *priv = g_strdup_printf("memory-backend-file,id=p,size=1M,mem-path=%s",
                                            path);
    char *err = NULL, *contents = NULL;
    gsize len = 0;
    uint8_t *p;

    memdevs_reset();
    g_assert_true(memdev_add(opt, &err));
    g_assert_true(memdev_add(priv, &err));
    p = memdev_map("f", NULL, &err);
    g_assert_nonnull(p);
    memcpy(p + 4096, "guest wrote this", 16);
    p = memdev_map("p", NULL, &err);
    g_assert_nonnull(p);
    g_assert_cmpmem(p + 4096, 16, "guest wrote this", 16);
    memcpy(p + 4096, "private", 7);
    g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
    g_assert_cmpuint(len, ==, 1 << 20);
    g_assert_cmpmem(contents + 4096, 16, "guest wrote this", 16);
    g_free(contents);
    /* a directory as mem-path: an unlinked temporary file in it */
    {
        g_autofree char *d = g_strdup_printf("memory-backend-file,id=d,size=64K,mem-path=%s",
                                             dir);
        g_assert_true(memdev_add(d, &err));
        p = memdev_map("d", NULL, &err);
        g_assert_nonnull(p);
        p[65535] = 1;
    }
    g_unlink(path);
    g_rmdir(dir);
    memdevs_reset();
}

/* -numa node,memdev=: the board's RAM is the nodes' backends back to
 * back, contiguous for the board, and the backends are taken. */
static void test_machine_ram_from_memdevs(void)
{
    const char *numa[] = {"node,memdev=a", "node,memdev=b", NULL};
    char *err = NULL;
    tes_region *r;
    uint8_t *p;

    numa_reset();
    memdevs_reset();
    g_assert_true(memdev_add("memory-backend-ram,id=a,size=8M", &err));
    g_assert_true(memdev_add("memory-backend-memfd,id=b,size=4M", &err));
    topology_set(NULL);
    for (unsigned i = 0; numa[i]; i++) {
        g_assert_true(numa_parse(numa[i], &err));
    }
    g_assert_true(numa_complete(12 * MiB, "x86_64", 1, &err));
    g_assert_false(memdev_claim("a", "x", &err));
    g_clear_pointer(&err, g_free);
    machine_cfg.ram_size = 12 * MiB;
    r = machine_ram_new(NULL, "ram", &err);
    g_assert_nonnull(r);
    g_assert_cmpuint(region_size(r), ==, 12 * MiB);
    p = region_ram_ptr(r);
    p[0] = 1;
    p[12 * MiB - 1] = 2; /* the last byte, in b's memfd */
    g_assert_cmpuint(p[12 * MiB - 1], ==, 2);
    region_free(r);
    numa_reset();
    memdevs_reset();
}

/* The SDK's bus NUMA node (pxb numa_node=): only existing nodes, -1 for
 * none, and what was set reads back. */
static void test_bus_numa_node(void)
{
    const char *numa[] = {"node", "node", NULL};
    const tes_host *h = host_table();
    tes_bus *bus = g_new0(tes_bus, 1);
    char *err = NULL;

    g_assert_true(setup("2", numa, &err));
    g_assert_true(numa_complete(64 * MiB, "x86_64", 2, &err));
    g_assert_cmpint(h->bus_numa_node(bus), ==, -1);
    g_assert_cmpint(h->bus_set_numa_node(bus, 1), ==, 0);
    g_assert_cmpint(h->bus_numa_node(bus), ==, 1);
    g_assert_cmpint(h->bus_set_numa_node(bus, 2), ==, -EINVAL);
    g_assert_cmpint(h->bus_numa_node(bus), ==, 1);
    g_assert_cmpint(h->bus_set_numa_node(bus, -1), ==, 0);
    g_assert_cmpint(h->bus_numa_node(bus), ==, -1);
    g_assert_cmpint(h->machine_topology()->nodes, ==, 2);
    g_free(bus);
    numa_reset();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/numa/tutorial-line-gives-two-nodes-of-2048-and-256-mib",
                    test_tutorial_line);
    g_test_add_func("/numa/dist/one-direction-fills-the-other", test_dist_symmetric_fill);
    g_test_add_func("/numa/dist/missing-pair-refused", test_dist_pair_missing);
    g_test_add_func("/numa/cpu/assigns-by-socket-core-thread", test_numa_cpu_by_position);
    g_test_add_func("/numa/errors-are-qemus-lines", test_errors);
    g_test_add_func("/numa/mem-and-memdev-cannot-mix", test_mem_and_memdev_mixed);
    g_test_add_func("/numa/object/grammar-and-errors", test_object_grammar);
    g_test_add_func("/numa/object/file-share-on-writes-reach-the-file", test_file_backend_share);
    g_test_add_func("/numa/machine-ram/nodes-memdevs-back-to-back", test_machine_ram_from_memdevs);
    g_test_add_func("/numa/object/del-refused-in-use-free-after-owner", test_object_del_in_use);
    g_test_add_func("/numa/bus-node/set-get-and-range", test_bus_numa_node);
    return g_test_run();
}
