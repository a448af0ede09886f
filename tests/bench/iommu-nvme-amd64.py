#!/usr/bin/env python3
"""The cost of translation: 4 KiB reads from an nvme disk on q35 with and
without -device intel-iommu (intel_iommu=on, the default DMA domain, so
every PRP is an IOVA the IOMMU translates), in tessera and in QEMU
(qemu-system-x86_64 -M q35, TCG) with the same Debian amd64 kernel,
initramfs and raw image. Prints IOPS of each and the ratios: with/without
the IOMMU per emulator (the cost of translation) and tessera/QEMU.

    tests/bench/iommu-nvme-amd64.py [build/tessera] [runs (default 1)]

In the guest: dd if=/dev/nvme0n1 of=/dev/null bs=4k count=16384
iflag=direct (4 KiB O_DIRECT reads at queue depth 1: busybox has no fio),
timed on the host between console markers. Not a pass/fail test.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "guest"))
import guestlib  # noqa: E402

COUNT = 16384
SCRIPT = """\
%(insmod)s
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
dd if=/dev/nvme0n1 of=/dev/null bs=4k count=256 iflag=direct 2>/dev/null
echo DD-START
dd if=/dev/nvme0n1 of=/dev/null bs=4k count=%(count)d iflag=direct 2>/dev/null
echo "DD-END status $?"
"""


def guest_parts():
    p = subprocess.run([os.path.join(guestlib.SRC_ROOT, "scripts", "guest-amd64")],
                       capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def one(emu, parts, initrd, img, iommu):
    argv = [emu, "-M", "q35", "-cpu", "qemu64", "-m", "512M", "-nographic", "-no-reboot",
            "-kernel", parts["KERNEL"], "-initrd", initrd,
            "-append", guestlib.AMD64_CMDLINE + " quiet" + (" intel_iommu=on" if iommu else ""),
            "-drive", "file=%s,if=none,id=d0,format=raw" % img,
            "-device", "nvme,drive=d0,serial=bench"]
    if iommu:
        argv += ["-device", "intel-iommu"]
    b = guestlib.Boot(argv, 600, markers=["DD-START", "DD-END status 0"])
    if "DD-END status 0" not in b.marks:
        print("  %s iommu=%s: no result\n%s" % (os.path.basename(emu), iommu, b.tail(15)))
        return None
    return COUNT / (b.marks["DD-END status 0"] - b.marks["DD-START"])


def main():
    emu = sys.argv[1] if len(sys.argv) > 1 else "build/tessera"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    emus = [("tessera", emu)] + ([("qemu", "qemu-system-x86_64")]
                                 if shutil.which("qemu-system-x86_64") else [])
    wd = guestlib.workdir()
    try:
        parts = guest_parts()
        mods = guestlib.module_files(parts, ["nvme"])
        initrd = guestlib.make_initrd(wd, parts["INITRD"], SCRIPT % {
            "insmod": guestlib.insmod_script(mods), "count": COUNT}, modules=mods)
        img = os.path.join(wd, "disk.img")
        with open(img, "wb") as f:
            f.write(os.urandom(1 << 20) * (COUNT // 256 + 2))
        res = {}
        for _ in range(runs):
            for name, path in emus:
                for iommu in (False, True):
                    r = one(path, parts, initrd, img, iommu)
                    if r:
                        res.setdefault((name, iommu), []).append(r)
        med = {k: statistics.median(v) for k, v in res.items()}
        print("4 KiB O_DIRECT reads, QD1, %d runs (median IOPS)" % runs)
        for name, _ in emus:
            off, on = med.get((name, False)), med.get((name, True))
            print("  %-8s no IOMMU %8.0f   intel-iommu %8.0f   with/without %.2f"
                  % (name, off or 0, on or 0, (on / off) if off and on else 0))
        if len(emus) == 2:
            for iommu in (False, True):
                t, q = med.get(("tessera", iommu)), med.get(("qemu", iommu))
                print("  tessera/qemu %-12s %.2f" % ("intel-iommu" if iommu else "no IOMMU",
                                                    t / q if t and q else 0))
    finally:
        shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()
