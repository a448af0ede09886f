"""Shared part of the guest disk benchmarks (virtio-blk-guest.py,
nvme-guest.py): sequential read throughput of one guest block device, with
Debian's arm64 kernel in tessera and in QEMU (qemu-system-aarch64 -M virt
-cpu cortex-a57, TCG), the same initramfs and the same raw image,
alternately. Prints the median MB/s of each and the ratio.

In the guest: dd if=DISK of=/dev/null bs=1M count=256 iflag=direct, timed
with the guest's /proc/uptime (1 MiB requests, O_DIRECT so the guest's page
cache does not hide the device). The image holds 256 MiB of data (not
holes), read once beforehand so both emulators find it in the host's page
cache. Each script gives only its device: see Disk.
"""
import os
import re
import shutil
import statistics
import sys
from collections import namedtuple

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "guest"))
import guestlib  # noqa: E402

MiB = 1 << 20
COUNT = 256
TIMEOUT = 600

# title: the report's name for it; device: the -device argument (drive d0);
# modules: the guest kernel modules to load; path: its block device in the
# guest; wait: whether the driver probes asynchronously, so the script
# waits (up to 10 s) for path to appear.
Disk = namedtuple("Disk", "title device modules path wait")

# Busybox dd prints no rate. Timed on the host from when the markers show
# on the console (an emulator's guest clock need not follow the host's);
# the guest's own /proc/uptime figure is printed beside it.
WAIT = """\
i=0
while [ ! -b %s ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
"""
SCRIPT = """\
t0=$(cut -d' ' -f1 /proc/uptime)
echo DD-START
dd if=%s of=/dev/null bs=1M count=%d iflag=direct 2>/dev/null
echo "DD-END status $?"
echo "DD: from $t0 to $(cut -d' ' -f1 /proc/uptime)"
"""


def script(disk):
    return (WAIT % disk.path if disk.wait else "") + SCRIPT % (disk.path, COUNT)


def make_image(path):
    with open(path, "wb") as f:
        block = os.urandom(MiB)
        for i in range(COUNT + 16):
            f.write(block[i % 4096:] + block[:i % 4096])
    with open(path, "rb") as f:  # warm the host's page cache
        while f.read(16 * MiB):
            pass


def mbps(secs):
    return COUNT * MiB / secs / 1e6 if secs > 0 else None


def rate(b):
    """(host-timed MB/s, guest-timed MB/s), 10^6 bytes/s; None if dd failed."""
    m = re.search(r"^DD: from ([\d.]+) to ([\d.]+)", b.console, re.M)
    if not m or "DD-END status 0" not in b.console or "DD-START" not in b.marks:
        return None
    return (mbps(b.marks["DD-END status 0"] - b.marks["DD-START"]),
            mbps(float(m.group(2)) - float(m.group(1))))


def one_run(disk, emu, parts, initrd, img):
    extra = ["-drive", "file=%s,if=none,format=raw,id=d0" % img, "-device", disk.device]
    if "qemu" in os.path.basename(emu):
        extra += ["-nic", "none"]
    b = guestlib.Boot(guestlib.emulator_argv(emu, parts["KERNEL"], initrd, extra=extra),
                      TIMEOUT, markers=("DD-START", "DD-END status 0"))
    r = rate(b)
    if r is None:
        print("%s: no dd figure (status %s%s)\n%s" % (
            emu, b.status, ", timed out" if b.timed_out else "", b.tail(15)))
    return r


def report(disk, emus, results):
    med = {n: statistics.median(r[0] for r in results[n]) for n in emus if results[n]}
    line = "%s seq read, dd bs=1M iflag=direct, %d MiB (host-timed):" % (disk.title, COUNT)
    for n in emus:
        line += "  %s %s" % (n, "%.1f MB/s" % med[n] if n in med else "n/a")
    if len(med) == 2:
        line += "  ratio tessera/qemu %.2fx" % (med["tessera"] / med["qemu"])
    print(line)
    for n in emus:
        print("  %s runs (host-timed / guest-timed MB/s): %s" % (
            n, " ".join("%.1f/%.1f" % r for r in results[n])))


def emulators(tessera):
    emus = {"tessera": tessera}
    qemu = shutil.which("qemu-system-aarch64")
    if qemu:
        emus["qemu"] = qemu
    else:
        print("qemu-system-aarch64 not found: tessera only")
    return emus


def main(disk):
    """The benchmark for disk; command line: [build/tessera] [runs (default 3)]."""
    tessera = sys.argv[1] if len(sys.argv) > 1 else os.path.join(guestlib.SRC_ROOT, "build",
                                                                 "tessera")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    parts = guestlib.guest_parts()
    wd = guestlib.workdir()
    try:
        mods = guestlib.module_files(parts, disk.modules)
        initrd = guestlib.make_initrd(wd, parts["INITRD"],
                                      guestlib.insmod_script(mods) + script(disk), modules=mods)
        img = os.path.join(wd, "disk.img")
        make_image(img)
        emus = emulators(tessera)
        results = {n: [] for n in emus}
        for _ in range(runs):
            for n, e in emus.items():
                r = one_run(disk, e, parts, initrd, img)
                if r is not None:
                    results[n].append(r)
        report(disk, emus, results)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return 0
