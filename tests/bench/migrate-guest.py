#!/usr/bin/env python3
"""Live migration of a busy guest, tessera side by side with QEMU. Not a
pass/fail test: prints figures, medians and ratios.

    tests/bench/migrate-guest.py [build/tessera] [runs (default 3)] [amd64|arm64]

The guest of tests/guest/test-migrate.py (writes a random block to its disk
with O_DIRECT and prints, in a loop; two vCPUs, 256 MiB) boots on the source;
once it has printed two steps, a destination starts with -incoming tcp:,
and once its QMP monitor answers (the machine is built) the source
migrates to it over QMP with both emulators' defaults (downtime-limit
300 ms, max-bandwidth 128 MiB/s). Measured from the
source's query-migrate once completed: total-time, downtime, and
ram.transferred. Runs alternate between the emulators:
  - QEMU (qemu-system-x86_64 -M q35 / qemu-system-aarch64 -M virt, TCG)
    with virtio-blk-pci (QEMU's nvme cannot migrate);
  - tessera with virtio-blk-pci (the ratio is taken on this pair);
  - tessera with nvme.
"""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
import guestlib  # noqa: E402
from tesstest import Qmp  # noqa: E402

tm = guestlib.guest_test_module("test-migrate.py", "test_migrate")

QEMU = {"amd64": "qemu-system-x86_64", "arm64": "qemu-system-aarch64"}


def wait_listen(port, timeout):
    """True once something listens on 127.0.0.1:port (/proc/net/tcp): a
    probe connection would be taken for the migration stream."""
    want = ":%04X" % port
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[1].endswith(want) and cols[3] == "0A":
                    return True
        time.sleep(0.1)
    return False


def wait_qmp(path, timeout):
    """The destination's QMP monitor, once it answers: both emulators
    create their monitors after the machine, so the migration starts on a
    built destination. tessera listens for the stream before it builds the
    machine (a source started meanwhile waits instead of being refused);
    without this wait its total time would count the destination's start
    (the bzImage's xz payload decompressed: ~1.2 s of CPU), QEMU's not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            try:
                q = Qmp(path, timeout=30)
                q.negotiate()
                return q
            except OSError:
                pass
        time.sleep(0.1)
    return None


def one_run(emu, arch, disk, parts, wd):
    """(total ms, downtime ms, bytes) of one migration, or None."""
    script, mods = tm.guest_script(parts, disk)
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=mods)
    img = os.path.join(wd, "disk.raw")
    with open(img, "wb") as f:
        f.truncate(tm.IMAGE_SIZE)
    argv = tm.base_argv(emu, arch, parts, initrd, img, disk)
    if "qemu" in emu:
        argv += ["-accel", "tcg"]
    qmp0, qmp1 = os.path.join(wd, "b0.sock"), os.path.join(wd, "b1.sock")
    port = tm.free_port()
    src = tm.Vm(argv + ["-qmp", "unix:%s,server=on,wait=off" % qmp0], "source")
    try:
        if not tm.wait_steps(src, 2, 400):
            sys.stderr.write("%s: the guest did not start\n%s\n" % (emu, src.tail()))
            return None
        dst = tm.Vm(argv + ["-qmp", "unix:%s,server=on,wait=off" % qmp1,
                            "-incoming", "tcp:127.0.0.1:%d" % port], "dest")
        if not wait_listen(port, 60) or not wait_qmp(qmp1, 120):
            sys.stderr.write("%s: the destination never got ready\n%s\n" % (emu, dst.tail()))
            return None
        q = Qmp(qmp0, timeout=30)
        q.negotiate()
        q.cmd("migrate", {"uri": "tcp:127.0.0.1:%d" % port})
        info = {}
        for _ in range(3000):
            info = q.cmd("query-migrate").get("return", {})
            if info.get("status") in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.1)
        q.cmd("quit")
        if info.get("status") != "completed":
            sys.stderr.write("%s %s: %s\n%s\n" % (emu, disk, info, dst.tail()))
            return None
        if not tm.wait_steps(dst, 1, 60):
            # The figures stand; the run is flagged (QEMU's TCG q35 guest
            # has been seen to panic on its destination).
            sys.stderr.write("%s %s: the guest did not go on on the destination\n%s\n"
                             % (emu, disk, dst.tail(4)))
        return (info["total-time"], info["downtime"], info["ram"]["transferred"])
    finally:
        for vm in list(tm.ALL):
            if vm.proc.poll() is None:
                vm.proc.kill()
                vm.proc.wait()
        tm.ALL.clear()


def main():
    emu = sys.argv[1] if len(sys.argv) > 1 else "build/tessera"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    arch = sys.argv[3] if len(sys.argv) > 3 else "amd64"
    parts = guestlib.guest_parts(arch=arch)
    cases = [("qemu virtio-blk", QEMU[arch], "virtio"), ("tessera virtio-blk", emu, "virtio"),
             ("tessera nvme", emu, "nvme")]
    res = {c[0]: [] for c in cases}
    for r in range(runs):
        for name, e, disk in cases:
            wd = guestlib.workdir()
            got = one_run(e, arch, disk, parts, wd)
            print("run %d %-20s %s" % (r + 1, name, got), flush=True)
            if got:
                res[name].append(got)
    print("%s, %d runs, medians:" % (arch, runs))
    med = {}
    for name, _, _ in cases:
        if res[name]:
            med[name] = [statistics.median(v[i] for v in res[name]) for i in range(3)]
            print("  %-20s total %7.0f ms  downtime %5.0f ms  sent %6.1f MiB"
                  % (name, med[name][0], med[name][1], med[name][2] / 1048576))
    if "qemu virtio-blk" in med and "tessera virtio-blk" in med:
        q, t = med["qemu virtio-blk"], med["tessera virtio-blk"]
        print("  ratio tessera/QEMU (virtio-blk): total %.2f  downtime %.2f  bytes %.2f"
              % (t[0] / max(q[0], 1), t[1] / max(q[1], 1), t[2] / max(q[2], 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
