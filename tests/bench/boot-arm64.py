#!/usr/bin/env python3
"""Boot Debian's arm64 kernel + busybox initramfs in tessera and in QEMU
(qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512M, TCG), alternately,
and print medians and ratios. Not a pass/fail test.

    tests/bench/boot-arm64.py [build/tessera] [runs (default 3)]

Figures, each measured on the host from when a line appears on the serial
console:
  boot   exec to /init's userspace marker
  total  exec to the emulator's exit after `poweroff -f`
  loop   a CPU-bound busybox loop (200000 shell iterations): guest
         instruction throughput, the "guest MIPS" comparison
  mips   guest instructions executed during the loop (tessera's `info cpus`
         over QMP at the two loop markers) per second of loop time; QEMU
         cannot count them, so its figure assumes the same instruction count
         (same kernel, same busybox loop) over its own loop time
"""
import os
import shutil
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "guest"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import guestlib  # noqa: E402
from tesstest import Qmp  # noqa: E402

LOOP = 200000
SCRIPT = """\
echo LOOP-START
i=0; while [ $i -lt %d ]; do i=$((i+1)); done
echo LOOP-END
""" % LOOP
TIMEOUT = 600


def insns(sock):
    """Guest instructions executed so far, summed over vCPUs."""
    q = Qmp(sock)
    q.negotiate()
    text = q.cmd("human-monitor-command", {"command-line": "info cpus"})["return"]
    q.sock.close()
    return sum(int(w.split("=")[1]) for w in text.split() if w.startswith("instructions="))


def one_run(emu, parts, initrd, wd, counted):
    extra, actions, count = [], {}, {}
    if counted:
        sock = os.path.join(wd, "bench.qmp")
        extra = ["-qmp", "unix:%s,server=on,wait=off" % sock]
        for m in ("LOOP-START", "LOOP-END"):
            actions[m] = lambda b, m=m: count.__setitem__(m, insns(sock))
    b = guestlib.Boot(guestlib.emulator_argv(emu, parts["KERNEL"], initrd, extra=extra),
                      TIMEOUT, markers=("LOOP-START", "LOOP-END"), actions=actions)
    if b.t_marker is None or "LOOP-END" not in b.marks:
        print("%s: did not finish (status %s%s)\n%s" % (
            emu, b.status, ", timed out" if b.timed_out else "", b.tail(15)))
        return None
    r = {"boot": b.t_marker, "total": b.elapsed,
         "loop": b.marks["LOOP-END"] - b.marks["LOOP-START"]}
    if len(count) == 2:
        r["insns"] = count["LOOP-END"] - count["LOOP-START"]
    return r


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def report(results):
    names = list(results)
    for key in ("boot", "total", "loop"):
        line = "%-6s" % key
        for n in names:
            if results[n]:
                line += "  %s %7.2f s" % (n, median(results[n], key))
            else:
                line += "  %s     n/a" % n
        if len(names) == 2 and all(results[n] for n in names):
            ratio = median(results[names[0]], key) / median(results[names[1]], key)
            line += "  ratio %.2fx" % ratio
        print(line)


def report_mips(results):
    counted = [r["insns"] for r in results.get("tessera", []) if "insns" in r]
    if not counted:
        print("mips    n/a (no instruction count from tessera)")
        return
    n = statistics.median(counted)
    line = "mips    tessera %7.1f" % (n / median(results["tessera"], "loop") / 1e6)
    if results.get("qemu"):
        line += "  qemu %7.1f (same %d instructions over its loop time)" % (
            n / median(results["qemu"], "loop") / 1e6, n)
    print(line)


def main():
    tessera = sys.argv[1] if len(sys.argv) > 1 else "build/tessera"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    emus = {"tessera": tessera}
    qemu = shutil.which("qemu-system-aarch64")
    if qemu:
        emus["qemu"] = qemu
    else:
        print("qemu-system-aarch64 not installed: tessera figures only")
    wd = guestlib.workdir()
    try:
        parts = guestlib.guest_parts()
        initrd = guestlib.make_initrd(wd, parts["INITRD"], SCRIPT)
        results = {n: [] for n in emus}
        for i in range(runs):
            for n, emu in emus.items():  # alternate: drift hits both alike
                r = one_run(emu, parts, initrd, wd, n == "tessera")
                if r:
                    results[n].append(r)
        print("arm64 boot (%s), median of %d, kernel %s" % (guestlib.CMDLINE, runs,
                                                           parts.get("KVER", "?")))
        report(results)
        report_mips(results)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
