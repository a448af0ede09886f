#!/usr/bin/env python3
"""CPU benchmark: tessera against QEMU (TCG) on the same Debian kernel and
initramfs, both arches, alternating runs; prints medians and ratios. Not a
pass/fail test.

    tests/bench/cpu-bench.py [build/tessera] [runs (default 3)]
        [--arch arm64|amd64|both] [--interp] [--only boot|progs|loop]

Per arch, each run boots Debian's kernel with its default command line
(crypto self-tests on, `quiet`) and a busybox initramfs plus Debian's xz and
mawk (scripts/guest-progs), then runs, timed on the host from the console
markers around each:
  boot       exec to /init's userspace marker
  bc         busybox bc -l, 4*a(1) to 600 digits
  sort       busybox sort -n of 50k numbers
  bzip2      busybox bzip2 of 1 MiB of the busybox binary
  sha512sum  busybox sha512sum of 32 MiB
  xz         Debian's xz -2 of that 1 MiB
  mawk       Debian's mawk, a floating-point loop (sqrt, division)
  progs      the sum of the six programs
  loop       a busybox shell loop of 100000 iterations
  mips       guest instructions in the loop (tessera's `info cpus`) per
             second of loop time; QEMU's figure assumes the same count
--interp adds tessera with -accel tcg,jit=off (the interpreter).
"""
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootbench  # noqa: E402
from bootbench import guestlib  # noqa: E402

PROGS = [
    ("bc", "echo 'scale=600; 4*a(1)' | bc -l >/dev/null"),
    ("sort", "sort -n /tmp/nums >/dev/null"),
    ("bzip2", "bzip2 -c /tmp/text >/dev/null"),
    ("sha512sum", "sha512sum /tmp/big >/dev/null"),
    ("xz", "/usr/local/bin/xz -2 -T1 -c /tmp/text >/dev/null"),
    ("mawk", "/usr/local/bin/mawk 'BEGIN { s = 0; for (i = 1; i <= 1500000; i++)"
             " s += sqrt(i) * 1.5 / i; printf \"%f\\n\", s }' >/dev/null"),
]
LOOP = 100000
TIMEOUT = 1800


def script(only):
    """The guest's /test.sh: inputs first (not timed), then markers."""
    s = ["seq 1 50000 | awk '{ print ($1 * 7919) % 100003 }' >/tmp/nums",
         "dd if=/bin/busybox of=/tmp/text bs=1024 count=1024 2>/dev/null",
         "for i in 1 2 3 4; do cat /tmp/text /tmp/text /tmp/text /tmp/text /tmp/text"
         " /tmp/text /tmp/text /tmp/text; done >/tmp/big",
         "echo BENCH-READY"]
    if only in (None, "progs"):
        for name, cmd in PROGS:
            s += ["echo P-%s-S" % name, cmd, "echo P-%s-E" % name]
    if only in (None, "loop"):
        s += ["echo LOOP-START",
              "i=0; while [ $i -lt %d ]; do i=$((i+1)); done" % LOOP,
              "echo LOOP-END"]
    return "\n".join(s) + "\n"


def markers(only):
    m = ["BENCH-READY"]
    if only in (None, "progs"):
        m += ["P-%s-%s" % (n, e) for n, _ in PROGS for e in "SE"]
    if only in (None, "loop"):
        m += ["LOOP-START", "LOOP-END"]
    return m


ARCHES = {
    "arm64": {
        "qemu": "qemu-system-aarch64", "parts": "guest-arm64",
        "argv": ["-M", "virt", "-cpu", "cortex-a57"],
        "append": "console=ttyAMA0 panic=-1 quiet",
    },
    "amd64": {
        "qemu": "qemu-system-x86_64", "parts": "guest-amd64",
        "argv": ["-M", "q35", "-cpu", "qemu64"],
        "append": "console=ttyS0 panic=-1 quiet",
    },
}


def run_script(*args):
    p = subprocess.run([os.path.join(guestlib.SRC_ROOT, "scripts", args[0])] + list(args[1:]),
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise guestlib.GuestError("scripts/%s failed:\n%s" % (args[0], p.stderr.strip()))
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def one_run(argv, wd, counted, only):
    extra, actions, count = [], {}, {}
    if counted and only in (None, "loop"):
        sock = os.path.join(wd, "bench.qmp")
        extra = ["-qmp", "unix:%s,server=on,wait=off" % sock]
        for m in ("LOOP-START", "LOOP-END"):
            actions[m] = lambda b, m=m: count.__setitem__(m, bootbench.insns(sock))
    ms = markers(only)
    b = guestlib.Boot(argv + extra, TIMEOUT, markers=ms, actions=actions)
    if b.t_marker is None or ms[-1] not in b.marks:
        print("%s: did not finish (status %s%s)\n%s" % (
            argv[0], b.status, ", timed out" if b.timed_out else "", b.tail(15)))
        return None
    r = {"boot": b.t_marker}
    if only in (None, "progs"):
        for n, _ in PROGS:
            r[n] = b.marks["P-%s-E" % n] - b.marks["P-%s-S" % n]
        r["progs"] = sum(r[n] for n, _ in PROGS)
    if only in (None, "loop"):
        r["loop"] = b.marks["LOOP-END"] - b.marks["LOOP-START"]
        if len(count) == 2:
            r["insns"] = count["LOOP-END"] - count["LOOP-START"]
    return r


def report(title, results, keys):
    names = [n for n in results if results[n]]
    print(title)
    print("%-10s" % "" + "".join("%12s" % n for n in names)
          + ("%10s" % "ratio" if "qemu" in names and "tessera" in names else ""))
    med = {n: {k: statistics.median(r[k] for r in results[n]) for k in keys}
           for n in names}
    for k in keys:
        line = "%-10s" % k + "".join("%10.2f s" % med[n][k] for n in names)
        if "qemu" in names and "tessera" in names:
            line += "%9.2fx" % (med["tessera"][k] / med["qemu"][k])
        print(line)
    counted = [r["insns"] for r in results.get("tessera", []) if "insns" in r]
    if counted and "loop" in keys:
        n = statistics.median(counted)
        line = "%-10s" % "mips" + "".join("%12.1f" % (n / med[x]["loop"] / 1e6) for x in names)
        print(line + "   (%d instructions in the loop)" % n)


def bench_arch(arch, tessera, runs, interp, only):
    a = ARCHES[arch]
    emus = {"tessera": [tessera]}
    if interp:
        emus["interp"] = [tessera, "-accel", "tcg,jit=off"]
    qemu = shutil.which(a["qemu"])
    if qemu:
        emus["qemu"] = [qemu]
    else:
        print("%s not installed: tessera figures only" % a["qemu"])
    parts = run_script(a["parts"])
    progs = run_script("guest-progs", arch)["PROGS"]
    wd = guestlib.workdir()
    try:
        initrd = guestlib.make_initrd(wd, parts["INITRD"], script(only), extra=[progs])
        results = {n: [] for n in emus}
        for _ in range(runs):
            for n, emu in emus.items():  # alternate: drift hits all alike
                argv = (emu + a["argv"] + ["-smp", "1", "-m", "512M", "-nographic",
                                          "-no-reboot", "-kernel", parts["KERNEL"],
                                          "-initrd", initrd, "-append", a["append"]])
                r = one_run(argv, wd, n == "tessera", only)
                if r:
                    results[n].append(r)
        keys = ["boot"]
        if only in (None, "progs"):
            keys += [n for n, _ in PROGS] + ["progs"]
        if only in (None, "loop"):
            keys += ["loop"]
        report("%s (%s), median of %d, kernel %s" % (arch, a["append"], runs,
                                                    parts.get("KVER", "?")), results, keys)
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def main():
    args = [x for x in sys.argv[1:]]
    arch, interp, only = "both", False, None
    pos = []
    while args:
        x = args.pop(0)
        if x == "--arch":
            arch = args.pop(0)
        elif x == "--interp":
            interp = True
        elif x == "--only":
            only = args.pop(0)
        else:
            pos.append(x)
    tessera = pos[0] if pos else "build/tessera"
    runs = int(pos[1]) if len(pos) > 1 else 3
    for a in (["arm64", "amd64"] if arch == "both" else [arch]):
        bench_arch(a, tessera, runs, interp, only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
