#!/usr/bin/env python3
"""guest suite: CPU topology and NUMA as the guest sees them, one boot per
architecture. TAP output.

    test-numa.py TESSERA amd64|arm64 [EMULATOR]

amd64: the tutorial's line on q35 as written,
    -M q35 -smp 4,sockets=2,cores=2,threads=1 -m 2304M
    -numa node,mem=2048,cpus=0-1 -numa node,mem=256,cpus=2-3
(SRAT from the board, CPUID topology and APIC IDs from cpu-x86; no -numa
dist, so no SLIT: Linux's 10/20).
arm64: the same shape on virt with the nodes' RAM from memory backends and
a distance,
    -M virt -smp 4,sockets=2,cores=2,threads=1 -m 2304M
    -object memory-backend-ram,id=m0,size=2048M -object memory-backend-ram,id=m1,size=256M
    -numa node,memdev=m0,cpus=0-1 -numa node,memdev=m1,cpus=2-3
    -numa dist,src=0,dst=1,val=15
(the DT's memory nodes and cpus with numa-node-id, distance-map, cpu-map).
The guest judges, from sysfs: two nodes online; each node's MemTotal close
to 2048 and 256 MiB; each node's cpulist; the distance files (10 20 / 20 10
on amd64, 10 15 / 15 10 on arm64); per CPU the package and core IDs and
the sibling lists (2 sockets, 2 cores a socket, 1 thread a core).

EMULATOR (qemu-system-x86_64 / qemu-system-aarch64) runs the same checks on
QEMU; QEMU 5.1+ machines refuse the legacy mem=, so with EMULATOR the amd64
nodes take memdev= backends as well.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import value  # noqa: E402
from tesstest import check, tap_report  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s
MiB = 1 << 20

TEST_SCRIPT = """\
echo "NODES=$(cat /sys/devices/system/node/online)"
for n in /sys/devices/system/node/node*; do
    i=${n##*node}
    echo "NODE$i MEM=$(grep MemTotal $n/meminfo | tr -s ' ' | cut -d' ' -f4)"
    echo "NODE$i CPUS=$(cat $n/cpulist)"
    echo "NODE$i DIST=$(cat $n/distance)"
done
for c in /sys/devices/system/cpu/cpu[0-9]*; do
    t=$c/topology
    echo "CPU ${c##*cpu} pkg=$(cat $t/physical_package_id) core=$(cat $t/core_id) \
threads=$(cat $t/thread_siblings_list) cores=$(cat $t/core_siblings_list)"
done
echo "NPROC=$(grep -c ^processor /proc/cpuinfo)"
"""

NODES = "-numa node,mem=2048,cpus=0-1 -numa node,mem=256,cpus=2-3".split()
BACKENDS = ["-object", "memory-backend-ram,id=m0,size=2048M",
            "-object", "memory-backend-ram,id=m1,size=256M",
            "-numa", "node,memdev=m0,cpus=0-1", "-numa", "node,memdev=m1,cpus=2-3"]
TOPO = ["-smp", "4,sockets=2,cores=2,threads=1", "-m", "2304M"]


def argv_amd64(emu, parts, initrd, qemu):
    return ([emu, "-M", "q35", "-cpu", "qemu64"] + TOPO + (BACKENDS if qemu else NODES)
            + ["-nographic", "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd,
               "-append", guestlib.AMD64_CMDLINE])


def argv_arm64(emu, parts, initrd, qemu):
    return ([emu, "-M", "virt", "-cpu", "cortex-a57"] + TOPO + BACKENDS
            + ["-numa", "dist,src=0,dst=1,val=15", "-nographic", "-no-reboot",
               "-kernel", parts["KERNEL"], "-initrd", initrd, "-append", guestlib.CMDLINE])


def cpu_lines(c):
    """{cpu: {'pkg': .., 'core': .., 'threads': .., 'cores': ..}}"""
    out = {}
    for line in c.splitlines():
        f = line.split()
        if len(f) == 6 and f[0] == "CPU" and f[1].isdigit():
            out[int(f[1])] = dict(kv.split("=", 1) for kv in f[2:])
    return out


def check_nodes(c, remote):
    check("two NUMA nodes online (0-1)", value(c, "NODES") == "0-1", c[-3000:])
    mem = [int(value(c, "NODE%d MEM" % i) or 0) // 1024 for i in (0, 1)]
    # MemTotal is what the kernel manages: less its image and early
    # reservations (node 0 holds them), never more than the node.
    check("node 0 MemTotal close to 2048 MiB (1800..2048)", 1800 <= mem[0] <= 2048,
          "MiB: %r" % mem)
    check("node 1 MemTotal close to 256 MiB (224..256)", 224 <= mem[1] <= 256, "MiB: %r" % mem)
    check("node 0 has CPUs 0-1, node 1 CPUs 2-3",
          value(c, "NODE0 CPUS") == "0-1" and value(c, "NODE1 CPUS") == "2-3", c[-3000:])
    check("distances: 10 local, %d remote" % remote,
          value(c, "NODE0 DIST") == "10 %d" % remote and value(c, "NODE1 DIST") == "%d 10" % remote,
          "%s / %s" % (value(c, "NODE0 DIST"), value(c, "NODE1 DIST")))


def check_topology(c):
    cpus = cpu_lines(c)
    pkgs = {i: cpus[i]["pkg"] for i in cpus}
    check("4 CPUs online", value(c, "NPROC") == "4" and len(cpus) == 4, repr(cpus))
    check("2 sockets: CPUs 0-1 in one package, 2-3 in another",
          len(cpus) == 4 and pkgs[0] == pkgs[1] and pkgs[2] == pkgs[3] and pkgs[0] != pkgs[2],
          repr(pkgs))
    check("2 cores a socket: distinct core IDs within each package, core siblings 0-1 / 2-3",
          len(cpus) == 4 and cpus[0]["core"] != cpus[1]["core"]
          and cpus[2]["core"] != cpus[3]["core"]
          and [cpus[i]["cores"] for i in range(4)] == ["0-1", "0-1", "2-3", "2-3"], repr(cpus))
    check("1 thread a core: each CPU its own thread sibling",
          len(cpus) == 4 and all(cpus[i]["threads"] == str(i) for i in range(4)), repr(cpus))


def run(emu, arch, qemu, wd):
    parts = guestlib.amd64_parts() if arch == "amd64" else guestlib.guest_parts()
    initrd = guestlib.make_initrd(wd, parts["INITRD"], TEST_SCRIPT)
    argv = (argv_amd64 if arch == "amd64" else argv_arm64)(emu, parts, initrd, qemu)
    b = guestlib.Boot(argv, BOOT_TIMEOUT)
    c = b.console
    check("did not time out (%d s)" % BOOT_TIMEOUT, not b.timed_out, b.tail())
    check("no kernel panic, oops or NUMA fallback",
          all(s not in c for s in ("Kernel panic", "Oops", "No NUMA configuration found",
                                   "Faking a node")), b.tail())
    check("the test script ran to its end", "tessera-guest: test.sh exited 0" in c, b.tail())
    check_nodes(c, 20 if arch == "amd64" else 15)
    check_topology(c)


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ("amd64", "arm64"):
        print(__doc__)
        return 2
    emu = sys.argv[3] if len(sys.argv) > 3 else sys.argv[1]
    wd = guestlib.workdir()
    try:
        run(emu, sys.argv[2], len(sys.argv) > 3, wd)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
