#!/usr/bin/env python3
"""Migration soak: the busy guest of tests/guest/test-migrate.py migrated
HOPS times in a row. On demand (not in meson): the guest suite's
amd64-migrate/arm64-migrate make three hops; this makes hundreds.

    tests/bench/migrate-soak.py [--arch amd64|arm64] [--disk nvme|virtio]
        [--uri tcp|unix|exec] [--hops N] [build/tessera]

The guest writes a fresh random block to its disk (O_DIRECT) and prints
its md5 as STEP=N in a loop. Each hop starts once the guest has printed two
steps on the current machine; a destination that prints nothing within
60 s of its hop is a stall: its registers and vCPUs (HMP) and console are
printed and the soak stops. At the end the guest is told to finish, and
the steps across all machines must be 1..N once each, in order, with every
step's block on the host's disk. One line per hop:

    hop N  STATUS  downtime MS  total MS  bytes  hop-wall S  steps-on-source K

and a summary (hops done, stalls, medians); exit status 0 only if every
hop completed and every check held.
"""
import argparse
import hashlib
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

STALL_AFTER = 60  # seconds a destination may take to print its first steps


def dump_stall(wd, n, dst):
    """What a stalled destination is doing, twice, 3 s apart."""
    try:
        q = Qmp(os.path.join(wd, "qmp%d.sock" % (n + 1)), timeout=30)
        q.negotiate()
        for _ in range(2):
            for c in ("info status", "info registers", "info cpus", "info irq"):
                r = q.cmd("human-monitor-command", {"command-line": c})
                print("== %s\n%s" % (c, r.get("return", r.get("error"))))
            time.sleep(3)
    except (OSError, EOFError, ValueError) as e:
        print("== monitor: %r" % e)
    print(dst.tail(30))


def soak(a):
    tm.STEPS = 1000000  # the host ends the loop
    wd = guestlib.workdir()
    parts = guestlib.guest_parts(arch=a.arch)
    script, mods = tm.guest_script(parts, a.disk)
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=mods)
    img = os.path.join(wd, "disk.raw")
    need = (a.hops * 50 + 1000) * tm.BLOCK  # room for the steps (sparse)
    with open(img, "wb") as f:
        f.truncate(max(tm.IMAGE_SIZE, need))
    argv = tm.base_argv(a.emulator, a.arch, parts, initrd, img, a.disk)
    cur = tm.Vm(argv + ["-qmp", "unix:%s,server=on,wait=off" % os.path.join(wd, "qmp0.sock")],
                "source")
    vms, stats, failed = [cur], [], None
    if not tm.wait_steps(cur, tm.HOP_AFTER, 400):
        return "the source printed no steps\n" + cur.tail()
    for n in range(a.hops):
        if not tm.wait_steps(cur, tm.HOP_AFTER, STALL_AFTER):
            failed = "hop %d: %s stopped printing" % (n + 1, cur.name)
            dump_stall(wd, n - 1, cur)
            break
        t0 = time.monotonic()
        dst, st = tm.hop(a.emulator, argv, wd, n, cur, a.uri, stats)
        src_st = cur.finish(30)
        wall = time.monotonic() - t0
        info = stats[-1] if stats else {}
        print("hop %d  %s  downtime %s  total %s  bytes %s  hop-wall %.1f  steps-on-%s %d"
              % (n + 1, st, info.get("downtime"), info.get("total-time"),
                 info.get("ram", {}).get("transferred"), wall, cur.name,
                 len(tm.steps_of(cur.console))), flush=True)
        vms.append(dst)
        # the source's own log is no longer needed: keep its steps and its
        # last characters (a line cut by the handover shows there)
        cur.tail_text, cur.head_text = cur.console[-300:], cur.console[:300]
        lines = cur.console.split("\n")  # keep the first and last (partial) lines
        cur.console = "\n".join(lines[:1] + [l for l in lines[1:-1] if l.startswith("STEP=")]
                                + lines[-1:])
        if st != "completed" or src_st != 0:
            failed = "hop %d: status %s, source exit %s\n%s" % (n + 1, st, src_st, cur.tail())
            break
        if not tm.wait_steps(dst, 1, STALL_AFTER):
            failed = "hop %d: STALL: %s printed nothing for %d s" % (n + 1, dst.name,
                                                                     STALL_AFTER)
            dump_stall(wd, n, dst)
            break
        cur = dst
    if not failed:
        tm.wait_steps(cur, tm.HOP_AFTER, STALL_AFTER)
        cur.proc.stdin.write(b"end\n")
        cur.proc.stdin.flush()
        if not cur.wait_text("MIGRATE-DONE", 120):
            failed = "the last destination did not end the script\n" + cur.tail()
        elif cur.finish(60) != 0:
            failed = "the last destination did not exit 0\n" + cur.tail()
    for vm in vms:
        if vm.proc.poll() is None:
            vm.finish(1)
    # the consoles joined: a line printed across a handover is whole
    got = tm.steps_of("".join(vm.console for vm in vms))
    if [k for k, _ in got] != list(range(1, len(got) + 1)):
        failed = (failed or "") + "\nsteps lost or repeated across hops"
        prev = 0
        for vm in vms:
            ks = [k for k, _ in tm.steps_of(vm.console)]
            if ks and ks[0] != prev + 1 or ks != list(range(ks[0] if ks else 0,
                                                        (ks[-1] + 1) if ks else 0)):
                failed += "\n  %s: steps %s after %d; the previous machine ended %r" % (
                    vm.name, ks[:6], prev, getattr(vms[vms.index(vm) - 1], "tail_text", "")
                    [-200:] if vm is not vms[0] else "")
                failed += "\n  %s began %r" % (vm.name, getattr(vm, "head_text",
                                                                 vm.console)[:200])
            prev = ks[-1] if ks else prev
    with open(img, "rb") as f:
        bad = []
        for k, md5 in got:
            f.seek(k * tm.BLOCK)
            if hashlib.md5(f.read(tm.BLOCK)).hexdigest() != md5:
                bad.append(k)
    if bad:
        failed = (failed or "") + "\nblocks not on the host's disk: steps %s" % bad[:20]
    done = [s for s in stats if s.get("status") == "completed"]
    print("%s %s %s: %d of %d hops completed, %d steps, stalls %d"
          % (a.arch, a.disk, a.uri, len(done), a.hops, len(got),
             1 if failed and "STALL" in failed else 0))
    if done:
        for key in ("downtime", "total-time"):
            print("  median %s %.0f ms (max %d)" % (
                key, statistics.median(s.get(key, 0) for s in done),
                max(s.get(key, 0) for s in done)))
    return failed


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("emulator", nargs="?", default="build/tessera")
    p.add_argument("--arch", default="amd64", choices=("amd64", "arm64"))
    p.add_argument("--disk", default="nvme", choices=sorted(tm.DISKS))
    p.add_argument("--uri", default="tcp", choices=("tcp", "unix", "exec"))
    p.add_argument("--hops", type=int, default=50)
    a = p.parse_args()
    try:
        failed = soak(a)
    finally:
        for vm in tm.ALL:
            if vm.proc.poll() is None:
                vm.proc.kill()
                vm.proc.wait()
    if failed:
        print("FAILED: " + failed)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
