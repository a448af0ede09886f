#!/usr/bin/env python3
"""cpu-bench-cpu.py arm64|amd64 TESSERA RUNS: like cpu-bench.py, but also CPU seconds of the
emulator process between markers (robust to a loaded machine)."""
import os, sys, subprocess, time, statistics, shutil
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
cb = __import__("cpu-bench")
from bootbench import guestlib
arch, tess, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
a = cb.ARCHES[arch]
parts = cb.run_script(a["parts"])
progs = cb.run_script("guest-progs", arch)["PROGS"]
wd = guestlib.workdir()
s = cb.script(None) + "poweroff -f\n"
initrd = guestlib.make_initrd(wd, parts["INITRD"], s, extra=[progs])
emus = {"tessera": [tess], "qemu": [shutil.which(a["qemu"])]}
marks = cb.markers(None)
res = {n: [] for n in emus}
def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
for _ in range(runs):
    for n, emu in emus.items():
        argv = emu + a["argv"] + ["-smp", "1", "-m", "512M", "-nographic", "-no-reboot",
               "-kernel", parts["KERNEL"], "-initrd", initrd, "-append", a["append"]]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        t = {}
        t0 = time.time(); c0 = cpu(p.pid)
        for line in p.stdout:
            l = line.strip()
            for m in marks:
                if l == m and m not in t:
                    t[m] = (time.time(), cpu(p.pid))
            if marks[-1] in t:
                break
        p.kill(); p.wait()
        r = {"boot": (t["BENCH-READY"][0] - t0, t["BENCH-READY"][1] - c0)}
        for name, _ in cb.PROGS:
            s_, e_ = t["P-%s-S" % name], t["P-%s-E" % name]
            r[name] = (e_[0] - s_[0], e_[1] - s_[1])
        r["progs"] = tuple(sum(r[x][i] for x, _ in cb.PROGS) for i in (0, 1))
        r["loop"] = (t["LOOP-END"][0] - t["LOOP-START"][0], t["LOOP-END"][1] - t["LOOP-START"][1])
        res[n].append(r)
shutil.rmtree(wd, ignore_errors=True)
keys = ["boot"] + [x for x, _ in cb.PROGS] + ["progs", "loop"]
print("%s, median of %d: wall s (tessera qemu ratio) | cpu s (tessera qemu ratio)" % (arch, runs))
for k in keys:
    w = [statistics.median(r[k][0] for r in res[n]) for n in ("tessera", "qemu")]
    c = [statistics.median(r[k][1] for r in res[n]) for n in ("tessera", "qemu")]
    print("%-10s %7.2f %7.2f %6.2fx | %7.2f %7.2f %6.2fx" % (k, w[0], w[1], w[0] / w[1], c[0], c[1], c[0] / max(c[1], 0.01)))
