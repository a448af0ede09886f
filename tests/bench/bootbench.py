"""Shared body of the boot benchmarks (boot-arm64.py, boot-amd64.py): boot
the same kernel + busybox initramfs in tessera and in QEMU alternately and
print medians and ratios. Not a pass/fail test.

Figures, measured on the host from when a line appears on the serial
console:
  boot   exec to /init's userspace marker
  total  exec to the emulator's exit after `poweroff -f`
  loop   a CPU-bound busybox loop (200000 shell iterations)
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


def one_run(argv, wd, counted):
    """argv(extra) gives the emulator's command line with extra appended."""
    extra, actions, count = [], {}, {}
    if counted:
        sock = os.path.join(wd, "bench.qmp")
        extra = ["-qmp", "unix:%s,server=on,wait=off" % sock]
        for m in ("LOOP-START", "LOOP-END"):
            actions[m] = lambda b, m=m: count.__setitem__(m, insns(sock))
    b = guestlib.Boot(argv(extra), TIMEOUT, markers=("LOOP-START", "LOOP-END"),
                      actions=actions)
    if b.t_marker is None or "LOOP-END" not in b.marks:
        print("%s: did not finish (status %s%s)\n%s" % (
            b.argv[0], b.status, ", timed out" if b.timed_out else "", b.tail(15)))
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


def main(title, qemu_name, guest_parts, argv):
    """guest_parts() -> {KERNEL, INITRD, KVER}; argv(emu, parts, initrd,
    extra) -> command line."""
    tessera = sys.argv[1] if len(sys.argv) > 1 else "build/tessera"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    emus = {"tessera": tessera}
    qemu = shutil.which(qemu_name)
    if qemu:
        emus["qemu"] = qemu
    else:
        print("%s not installed: tessera figures only" % qemu_name)
    wd = guestlib.workdir()
    try:
        parts = guest_parts()
        initrd = guestlib.make_initrd(wd, parts["INITRD"], SCRIPT)
        results = {n: [] for n in emus}
        for _ in range(runs):
            for n, emu in emus.items():  # alternate: drift hits both alike
                r = one_run(lambda extra: argv(emu, parts, initrd, extra), wd,
                            n == "tessera")
                if r:
                    results[n].append(r)
        print("%s, median of %d, kernel %s" % (title, runs, parts.get("KVER", "?")))
        report(results)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return 0
