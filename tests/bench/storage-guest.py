#!/usr/bin/env python3
"""Guest storage figures side by side with QEMU: 4 KiB random read and
write IOPS at queue depth 32 and 1 MiB sequential read and write MB/s at
depth 8, measured inside the same Debian guest kernel on tessera and on
QEMU (TCG), on a qcow2 image and on a raw one, behind one storage
controller given as a parameter. Medians over runs and the ratio
tessera/QEMU. Not a pass/fail test.

    tests/bench/storage-guest.py [TESSERA] [--runs N] [--seconds S]
        [--hba virtio-blk-pci,virtio-scsi-pci,nvme,megasas,lsi53c895a]
        [--format raw,qcow2] [--arch arm64,amd64] [--qemu-prefix P]
        [--workloads randread,randwrite,seqread,seqwrite]

Defaults: build/tessera, 3 runs, 3 s per workload, --hba virtio-blk-pci,
--format qcow2,raw, --arch arm64. arm64 is `-M virt -cpu cortex-a57`
(qemu-system-aarch64), amd64 `-M q35 -cpu qemu64` (qemu-system-x86_64).

One boot per (arch, hba, emulator, run): every format is a disk of that
boot (disk i: drive di; on a SCSI HBA a scsi-hd at channel 0, scsi-id i,
lun 0), the emulators alternate. The images hold 256 MiB of random data
(the qcow2 one is `qemu-img convert`ed from the raw one, so it is fully
allocated: the guest's writes overwrite clusters, none are allocated) and
are read once beforehand, so both emulators find them in the host's page
cache (both use cache=writeback).

In the guest: tests/bench/gio.c, a static program built here with clang
for the guest's architecture (no libc) and binutils' ld, O_DIRECT and Linux
native AIO on the block device. Figures are host-timed from when its GIO-START/GIO-END
markers show on the console (an emulator's guest clock need not follow
the host's); the guest-timed figure is printed beside each run, and the
same work per second of the emulator process's CPU time (/proc/PID/stat at
each marker: on a host shared with other jobs it moves far less than the
wall-clock figure; an emulator idling while the host's I/O completes is
not charged for the wait, so read both).

Adding a controller: one line in HBAS (its -device lines, its guest
modules and how the guest finds disk i).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
from collections import namedtuple

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "guest"))
import guestlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1 << 20
SPAN_MIB = 256
TIMEOUT = 900

# name, mode, block size, queue depth, unit: what each boot runs per disk.
Workload = namedtuple("Workload", "name mode bs qd unit")
WORKLOADS = [
    Workload("randread", "randread", 4096, 32, "IOPS"),
    Workload("randwrite", "randwrite", 4096, 32, "IOPS"),
    Workload("seqread", "seqread", MiB, 8, "MB/s"),
    Workload("seqwrite", "seqwrite", MiB, 8, "MB/s"),
]

# hba: the -device arguments for disks 0..n-1 (drive ids d0..), the guest
# modules, and a shell function body printing disk $1's /dev path.
Hba = namedtuple("Hba", "devices modules find")

# Any channel: megaraid_sas shows JBOD disks on channel 2 (QEMU's megasas).
SCSI_FIND = 'b=$(ls /sys/class/scsi_device/*:*:$1:0/device/block 2>/dev/null); ' \
            '[ -n "$b" ] && echo /dev/$b'


def scsi_hba(driver, modules):
    return Hba(lambda n: ["-device", "%s,id=hba0" % driver] + sum(
        (["-device", "scsi-hd,drive=d%d,bus=hba0.0,channel=0,scsi-id=%d,lun=0" % (i, i)]
         for i in range(n)), []), modules + ["sd_mod"], SCSI_FIND)


HBAS = {
    "virtio-blk-pci": Hba(
        lambda n: sum((["-device", "virtio-blk-pci,drive=d%d" % i] for i in range(n)), []),
        ["virtio_pci", "virtio_blk"], 'echo /dev/vd$(echo abcdefgh | cut -c$(($1 + 1)))'),
    "nvme": Hba(
        lambda n: sum((["-device", "nvme,drive=d%d,serial=disk%d" % (i, i)]
                       for i in range(n)), []),
        ["nvme"], 'for c in /sys/class/nvme/nvme*; do read s < $c/serial; '
        '[ "$s" = disk$1 ] && [ -b /dev/${c##*/}n1 ] && echo /dev/${c##*/}n1; done'),
    "virtio-scsi-pci": scsi_hba("virtio-scsi-pci", ["virtio_pci", "virtio_scsi"]),
    "megasas": scsi_hba("megasas", ["megaraid_sas"]),
    "lsi53c895a": scsi_hba("lsi53c895a", ["sym53c8xx"]),
}

ARCHS = {
    # arch: (clang target, linker, QEMU binary); the linkers are binutils'
    # (scripts/install-deps installs both).
    "arm64": ("aarch64-linux-gnu", "aarch64-linux-gnu-ld", "qemu-system-aarch64"),
    "amd64": ("x86_64-linux-gnu", "ld", "qemu-system-x86_64"),
}


def build_gio(wd, arch):
    """gio.c for the guest: clang (no libc) to an object, binutils to a
    static executable."""
    obj, out = os.path.join(wd, "gio.o"), os.path.join(wd, "gio")
    steps = [["clang", "--target=" + ARCHS[arch][0], "-O2", "-ffreestanding", "-fno-builtin",
              "-fno-stack-protector", "-fno-pic", "-c", "-o", obj, os.path.join(HERE, "gio.c")],
             [ARCHS[arch][1], "-static", "-o", out, obj]]
    for argv in steps:
        try:
            p = subprocess.run(argv, capture_output=True, text=True)
        except OSError as e:
            raise guestlib.GuestError("building gio.c: %s: %s" % (argv[0], e))
        if p.returncode != 0:
            raise guestlib.GuestError("building gio.c: %s failed:\n%s"
                                      % (argv[0], p.stderr.strip()))
    return out


def guest_script(hba, formats, secs):
    n = len(formats)
    lines = ["dev() { %s; }" % hba.find,
             "i=0",
             "while [ $i -lt 100 ]; do",
             "    ok=1",
             "    for k in %s; do [ -b \"$(dev $k)\" ] || ok=0; done" %
             " ".join(str(k) for k in range(n)),
             "    [ $ok = 1 ] && break",
             "    sleep 0.1; i=$((i + 1))",
             "done"]
    for k, fmt in enumerate(formats):
        lines.append("D=$(dev %d); echo \"DISK %s $D\"" % (k, fmt))
        for w in WORKLOADS:
            lines.append('/gio %s.%s "$D" %s %d %d %d %d || echo GIO-STATUS $?' % (
                fmt, w.name, w.mode, w.bs, w.qd, secs, SPAN_MIB))
    return "\n".join(lines) + "\n"


def make_images(wd, formats):
    raw = os.path.join(wd, "disk.raw")
    with open(raw, "wb") as f:
        block = os.urandom(MiB)
        for i in range(SPAN_MIB + 16):
            f.write(block[i % 4096:] + block[:i % 4096])
    imgs = {"raw": raw}
    if "qcow2" in formats:
        q = os.path.join(wd, "disk.qcow2")
        p = subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, q],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise guestlib.GuestError("qemu-img convert failed: " + p.stderr.strip())
        imgs["qcow2"] = q
    return imgs


def warm(paths):
    for path in paths:
        with open(path, "rb") as f:
            while f.read(16 * MiB):
                pass


def amd64_parts():
    p = subprocess.run([os.path.join(guestlib.SRC_ROOT, "scripts", "guest-amd64")],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise guestlib.GuestError("scripts/guest-amd64 failed:\n" + p.stderr.strip())
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def argv_for(arch, emu, parts, initrd, extra):
    if arch == "arm64":
        return guestlib.emulator_argv(emu, parts["KERNEL"], initrd, extra=extra)
    return ([emu, "-M", "q35", "-cpu", "qemu64", "-smp", "1", "-m", "512M", "-nographic",
             "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd,
             "-append", guestlib.AMD64_CMDLINE] + list(extra))


def markers(formats):
    return [m for f in formats for w in WORKLOADS
            for m in ("GIO-START %s.%s" % (f, w.name), "GIO-END %s.%s " % (f, w.name))]


def cpu_seconds(pid):
    """User + system CPU seconds of process pid so far (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_actions(formats, cpu):
    """Boot actions noting the emulator's CPU time in cpu[marker] when each
    marker shows: on a shared host, work per emulator CPU second moves far
    less than work per wall second."""
    def note(m):
        def act(b):
            try:
                cpu[m] = cpu_seconds(b.proc.pid)
            except (OSError, ValueError, IndexError):
                pass
        return act
    return {m: note(m) for m in markers(formats)}


def figures(b, formats, cpu):
    """{(format, workload): (host-timed, guest-timed, per emulator CPU
    second)} for what completed."""
    out = {}
    for f in formats:
        for w in WORKLOADS:
            name = "%s.%s" % (f, w.name)
            m = re.search(r"^GIO-END %s ops=(\d+) bytes=(\d+) usecs=(\d+) errors=0$"
                          % re.escape(name), b.console, re.M)
            t0, t1 = b.marks.get("GIO-START %s" % name), b.marks.get("GIO-END %s " % name)
            if not m or t0 is None or t1 is None or t1 <= t0:
                continue
            ops, nbytes, us = int(m.group(1)), int(m.group(2)), int(m.group(3))
            per = (lambda s: ops / s) if w.unit == "IOPS" else (lambda s: nbytes / s / 1e6)
            c = cpu.get("GIO-END %s " % name, 0) - cpu.get("GIO-START %s" % name, 0)
            out[(f, w.name)] = (per(t1 - t0), per(us / 1e6) if us else 0.0,
                                per(c) if c > 0 else 0.0)
    return out


def one_run(arch, hba, emu, parts, initrd, imgs, formats):
    extra = []
    for k, f in enumerate(formats):
        extra += ["-drive", "file=%s,if=none,format=%s,id=d%d" % (imgs[f], f, k)]
    extra += HBAS[hba].devices(len(formats))
    if "qemu" in os.path.basename(emu):
        extra += ["-nic", "none"]
    cpu = {}
    b = guestlib.Boot(argv_for(arch, emu, parts, initrd, extra), TIMEOUT,
                      markers=markers(formats), actions=cpu_actions(formats, cpu))
    got = figures(b, formats, cpu)
    if len(got) < len(formats) * len(WORKLOADS):
        print("%s: %d of %d figures (status %s%s)\n%s" % (
            emu, len(got), len(formats) * len(WORKLOADS), b.status,
            ", timed out" if b.timed_out else "", b.tail(15)))
    return got


def report(arch, hba, formats, emus, results, runs):
    print("\n%s, %s, %d run(s), medians; per wall second (host-timed) and per second of"
          " the emulator's CPU time" % (arch, hba, runs))
    for f in formats:
        for w in WORKLOADS:
            key = (f, w.name)
            wall = {n: statistics.median(r[0] for r in results[n][key])
                    for n in emus if results[n].get(key)}
            cpu = {n: statistics.median(r[2] for r in results[n][key])
                   for n in emus if results[n].get(key)}
            line = "  %-6s %-9s %s QD%-2d" % (f, w.name, "4K" if w.bs == 4096 else "1M", w.qd)
            for n in emus:
                line += "  %s %s" % (n, "%8.1f %s (%.1f/CPU s)" % (wall[n], w.unit, cpu[n])
                                     if n in wall else "n/a")
            if len(wall) == 2 and wall["qemu"] > 0 and cpu["qemu"] > 0:
                line += "  ratio tessera/qemu %.2f (%.2f per CPU s)" % (
                    wall["tessera"] / wall["qemu"], cpu["tessera"] / cpu["qemu"])
            print(line)
            for n in emus:
                print("      %s runs (host-timed/guest-timed/per CPU s): %s" % (
                    n, " ".join("%.0f/%.0f/%.0f" % r for r in results[n].get(key, []))))
    sys.stdout.flush()


def bench(arch, hba, args, wd, imgs):
    parts = guestlib.guest_parts() if arch == "arm64" else amd64_parts()
    # sd_mod pulls crc-t10dif, whose PCLMUL flavour refuses -cpu qemu64.
    mods = [m for m in guestlib.module_files(parts, HBAS[hba].modules) if "pclmul" not in m]
    gio = build_gio(wd, arch)
    initrd = guestlib.make_initrd(wd, parts["INITRD"], guestlib.insmod_script(mods)
                                  + guest_script(HBAS[hba], args.format, args.seconds),
                                  files=[gio], modules=mods)
    emus = {"tessera": args.tessera}
    qemu = shutil.which(args.qemu_prefix + ARCHS[arch][2])
    if qemu:
        emus["qemu"] = qemu
    else:
        print("%s not found: tessera only" % ARCHS[arch][2])
    results = {n: {} for n in emus}
    for _ in range(args.runs):
        for n, e in emus.items():
            warm(imgs.values())
            for key, r in one_run(arch, hba, e, parts, initrd, imgs, args.format).items():
                results[n].setdefault(key, []).append(r)
    report(arch, hba, args.format, emus, results, args.runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tessera", nargs="?",
                    default=os.path.join(guestlib.SRC_ROOT, "build", "tessera"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--hba", default="virtio-blk-pci")
    ap.add_argument("--format", default="qcow2,raw")
    ap.add_argument("--arch", default="arm64")
    ap.add_argument("--workloads", default=",".join(w.name for w in WORKLOADS))
    ap.add_argument("--qemu-prefix", default="",
                    help="directory of qemu-system-* (with /); one without it: tessera only")
    args = ap.parse_args()
    wanted = args.workloads.split(",")
    WORKLOADS[:] = [w for w in WORKLOADS if w.name in wanted]
    args.format = args.format.split(",")
    bad = [h for h in args.hba.split(",") if h not in HBAS]
    bad += [f for f in args.format if f not in ("raw", "qcow2")]
    bad += [a for a in args.arch.split(",") if a not in ARCHS]
    bad += [w for w in wanted if w not in [x.name for x in WORKLOADS]]
    if bad or args.runs < 1 or args.seconds < 1:
        print("storage-guest: unknown %s (hba: %s; format: raw, qcow2; arch: %s;"
              " workloads: randread, randwrite, seqread, seqwrite)"
              % (", ".join(bad) or "count", ", ".join(HBAS), ", ".join(ARCHS)), file=sys.stderr)
        return 2
    print("uptime (the host is shared: figures move with its load): "
          + open("/proc/loadavg").read().strip())
    wd = guestlib.workdir()
    try:
        imgs = make_images(wd, args.format)
        for arch in args.arch.split(","):
            for hba in args.hba.split(","):
                bench(arch, hba, args, wd, imgs)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
