#!/usr/bin/env python3
"""Boot Debian's amd64 kernel + busybox initramfs in tessera and in QEMU
(qemu-system-x86_64 -M q35 -cpu qemu64 -m 512M, TCG; QEMU boots through
SeaBIOS and runs the kernel's own XZ decompressor, tessera decompresses on
the host and enters startup_64), alternately, and print medians and
ratios. Not a pass/fail test.

    tests/bench/boot-amd64.py [build/tessera] [runs (default 3)]

Figures, measured on the host from when a line appears on the serial
console:
  boot   exec to /init's userspace marker
  total  exec to the emulator's exit after `poweroff -f`
  loop   a CPU-bound busybox loop (200000 shell iterations): guest
         instruction throughput
"""
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "guest"))
import guestlib  # noqa: E402

CMDLINE = "console=ttyS0 panic=-1 cryptomgr.notests"
LOOP = 200000
SCRIPT = """\
echo LOOP-START
i=0; while [ $i -lt %d ]; do i=$((i+1)); done
echo LOOP-END
""" % LOOP
TIMEOUT = 600


def guest_parts():
    script = os.path.join(guestlib.SRC_ROOT, "scripts", "guest-amd64")
    p = subprocess.run([script], capture_output=True, text=True)
    if p.returncode != 0:
        raise guestlib.GuestError("scripts/guest-amd64 failed:\n" + p.stderr.strip())
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def argv(emu, parts, initrd):
    return [emu, "-M", "q35", "-cpu", "qemu64", "-smp", "1", "-m", "512M", "-nographic",
            "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd, "-append", CMDLINE]


def one_run(emu, parts, initrd):
    b = guestlib.Boot(argv(emu, parts, initrd), TIMEOUT, markers=("LOOP-START", "LOOP-END"))
    if b.t_marker is None or "LOOP-END" not in b.marks:
        print("%s: did not finish (status %s%s)\n%s" % (
            emu, b.status, ", timed out" if b.timed_out else "", b.tail(15)))
        return None
    return {"boot": b.t_marker, "total": b.elapsed,
            "loop": b.marks["LOOP-END"] - b.marks["LOOP-START"]}


def report(results):
    names = list(results)
    for key in ("boot", "total", "loop"):
        line = "%-6s" % key
        for n in names:
            if results[n]:
                line += "  %s %7.2f s" % (n, statistics.median(r[key] for r in results[n]))
            else:
                line += "  %s     n/a" % n
        if len(names) == 2 and all(results[n] for n in names):
            ratio = (statistics.median(r[key] for r in results[names[0]]) /
                     statistics.median(r[key] for r in results[names[1]]))
            line += "  ratio %.2fx" % ratio
        print(line)


def main():
    tessera = sys.argv[1] if len(sys.argv) > 1 else "build/tessera"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    emus = {"tessera": tessera}
    qemu = shutil.which("qemu-system-x86_64")
    if qemu:
        emus["qemu"] = qemu
    else:
        print("qemu-system-x86_64 not installed: tessera figures only")
    wd = guestlib.workdir()
    try:
        parts = guest_parts()
        initrd = guestlib.make_initrd(wd, parts["INITRD"], SCRIPT)
        results = {n: [] for n in emus}
        for _ in range(runs):
            for n, emu in emus.items():  # alternate: drift hits both alike
                r = one_run(emu, parts, initrd)
                if r:
                    results[n].append(r)
        print("amd64 boot on q35 (%s), median of %d, kernel %s" % (CMDLINE, runs,
                                                                  parts.get("KVER", "?")))
        report(results)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
