#!/usr/bin/env python3
"""Guest sequential read throughput through an NVMe controller (-device
nvme, Linux's nvme + nvme-core drivers): Debian's arm64 kernel in tessera
and in QEMU (qemu-system-aarch64 -M virt -cpu cortex-a57, TCG), the same
initramfs and the same raw image, alternately. Prints the median MB/s of
each and the ratio. Not a pass/fail test.

    tests/bench/nvme-guest.py [build/tessera] [runs (default 3)]

In the guest: dd if=/dev/nvme0n1 of=/dev/null bs=1M count=256 iflag=direct,
timed with the guest's /proc/uptime (1 MiB requests, O_DIRECT so the
guest's page cache does not hide the device). The image holds 256 MiB of data (not
holes), read once beforehand so both emulators find it in the host's page
cache.
"""
import os
import re
import shutil
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "guest"))
import guestlib  # noqa: E402

MiB = 1 << 20
COUNT = 256
TIMEOUT = 600
# Busybox dd prints no rate. Timed on the host from when the markers show
# on the console (an emulator's guest clock need not follow the host's);
# the guest's own /proc/uptime figure is printed beside it.
# The nvme driver probes asynchronously: wait (up to 10 s) for the disk.
SCRIPT = """\
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
t0=$(cut -d' ' -f1 /proc/uptime)
echo DD-START
dd if=/dev/nvme0n1 of=/dev/null bs=1M count=%d iflag=direct 2>/dev/null
echo "DD-END status $?"
echo "DD: from $t0 to $(cut -d' ' -f1 /proc/uptime)"
""" % COUNT


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


def one_run(emu, parts, initrd, img):
    extra = ["-drive", "file=%s,if=none,format=raw,id=d0" % img,
             "-device", "nvme,drive=d0,serial=bench"]
    if "qemu" in os.path.basename(emu):
        extra += ["-nic", "none"]
    b = guestlib.Boot(guestlib.emulator_argv(emu, parts["KERNEL"], initrd, extra=extra),
                      TIMEOUT, markers=("DD-START", "DD-END status 0"))
    r = rate(b)
    if r is None:
        print("%s: no dd figure (status %s%s)\n%s" % (
            emu, b.status, ", timed out" if b.timed_out else "", b.tail(15)))
    return r


def report(emus, results):
    med = {n: statistics.median(r[0] for r in results[n]) for n in emus if results[n]}
    line = "nvme seq read, dd bs=1M iflag=direct, %d MiB (host-timed):" % COUNT
    for n in emus:
        line += "  %s %s" % (n, "%.1f MB/s" % med[n] if n in med else "n/a")
    if len(med) == 2:
        line += "  ratio tessera/qemu %.2fx" % (med["tessera"] / med["qemu"])
    print(line)
    for n in emus:
        print("  %s runs (host-timed / guest-timed MB/s): %s" % (
            n, " ".join("%.1f/%.1f" % r for r in results[n])))


def main():
    tessera = sys.argv[1] if len(sys.argv) > 1 else os.path.join(guestlib.SRC_ROOT, "build",
                                                                 "tessera")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    qemu = shutil.which("qemu-system-aarch64")
    parts = guestlib.guest_parts()
    wd = guestlib.workdir()
    try:
        mods = guestlib.module_files(parts, ["nvme"])
        initrd = guestlib.make_initrd(wd, parts["INITRD"],
                                      guestlib.insmod_script(mods) + SCRIPT, modules=mods)
        img = os.path.join(wd, "disk.img")
        make_image(img)
        emus = {"tessera": tessera}
        if qemu:
            emus["qemu"] = qemu
        else:
            print("qemu-system-aarch64 not found: tessera only")
        results = {n: [] for n in emus}
        for _ in range(runs):
            for n, e in emus.items():
                r = one_run(e, parts, initrd, img)
                if r is not None:
                    results[n].append(r)
        report(emus, results)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
