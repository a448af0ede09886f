#!/usr/bin/env python3
"""The cost of translation on arm64: 4 KiB random reads from an nvme disk
on virt with and without the SMMUv3 (-M virt,iommu=smmuv3 and
iommu.passthrough=0, the default DMA domain in strict mode, so every PRP
is an IOVA the SMMU translates and every unmap a TLBI + CMD_SYNC), in
tessera and in QEMU (qemu-system-aarch64 -M virt -cpu cortex-a57, TCG)
with the same Debian arm64 kernel, initramfs and raw image. Prints IOPS of
each and the ratios: with/without the SMMU per emulator (the cost of
translation) and tessera/QEMU.

    tests/bench/iommu-nvme-arm64.py [build/tessera] [runs (default 1)]

In the guest: a static arm64 program (below) does COUNT pread()s of 4 KiB
with O_DIRECT at random 4 KiB-aligned offsets of /dev/nvme0n1 (64 MiB) at
queue depth 1 (busybox has no fio), timed on the host between console
markers: IOPS per wall second, and per second of the emulator process's
CPU time (/proc/PID/stat at the markers), which moves far less on a
shared, loaded host. Not a pass/fail test.
"""
import os
import shutil
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "guest"))
import guestlib  # noqa: E402

COUNT = 16384
BLOCKS = 16384  # 64 MiB of 4 KiB blocks: a power of two (the offset is masked)

# openat(O_RDONLY | O_DIRECT), then COUNT pread64()s at offsets from a
# 64-bit LCG; exit 0, or 1 on a short read.
RANDREAD_ASM = """\
    .global _start
    .text
_start:
    mov x0, #-100
    adr x1, path
    mov x2, #0x10000
    mov x3, #0
    mov x8, #56
    svc #0
    cmp x0, #0
    b.lt fail
    mov x19, x0
    ldr x20, =%(count)d
    ldr x21, =12345
    adrp x22, buf
    add x22, x22, :lo12:buf
loop:
    ldr x9, =6364136223846793005
    mul x21, x21, x9
    ldr x9, =1442695040888963407
    add x21, x21, x9
    lsr x3, x21, #33
    and x3, x3, #%(mask)d
    lsl x3, x3, #12
    mov x0, x19
    mov x1, x22
    mov x2, #4096
    mov x8, #67
    svc #0
    cmp x0, #4096
    b.ne fail
    subs x20, x20, #1
    b.ne loop
    mov x0, #0
    mov x8, #93
    svc #0
fail:
    mov x0, #1
    mov x8, #93
    svc #0
path:
    .asciz "/dev/nvme0n1"
    .ltorg
    .bss
    .balign 4096
buf:
    .skip 4096
"""

SCRIPT = """\
%(insmod)s
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
dd if=/dev/nvme0n1 of=/dev/null bs=4k count=256 iflag=direct 2>/dev/null
echo RR-START
/randread
echo "RR-END status $?"
"""


def cpu_seconds(pid):
    """User + system CPU seconds of process pid so far (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_actions(cpu):
    def note(m):
        def act(b):
            try:
                cpu[m] = cpu_seconds(b.proc.pid)
            except (OSError, ValueError, IndexError):
                pass
        return act
    return {m: note(m) for m in ("RR-START", "RR-END status 0")}


def one(emu, parts, initrd, img, smmu):
    """(IOPS per wall second, per emulator CPU second) or None."""
    argv = guestlib.emulator_argv(
        emu, parts["KERNEL"], initrd, append=guestlib.CMDLINE + " quiet" +
        (" iommu.passthrough=0" if smmu else ""),
        extra=["-drive", "file=%s,if=none,id=d0,format=raw" % img,
               "-device", "nvme,drive=d0,serial=bench"])
    if smmu:
        argv[argv.index("virt")] = "virt,iommu=smmuv3"
    cpu = {}
    b = guestlib.Boot(argv, 600, markers=["RR-START", "RR-END status 0"],
                      actions=cpu_actions(cpu))
    if "RR-END status 0" not in b.marks or len(cpu) != 2:
        print("  %s smmuv3=%s: no result\n%s" % (os.path.basename(emu), smmu, b.tail(15)))
        return None
    return (COUNT / (b.marks["RR-END status 0"] - b.marks["RR-START"]),
            COUNT / max(cpu["RR-END status 0"] - cpu["RR-START"], 0.01))


def ratio(a, b):
    return a / b if a and b else 0


def report(emus, res, runs):
    print("4 KiB O_DIRECT random reads, QD1, %d runs, medians: IOPS per wall second "
          "(per emulator CPU second); load %s" % (runs, open("/proc/loadavg").read().split()[0]))
    med = {}
    for k, v in res.items():
        med[k] = (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
    for name, _ in emus:
        off, on = med.get((name, False), (0, 0)), med.get((name, True), (0, 0))
        print("  %-8s no IOMMU %7.0f (%7.0f)   smmuv3 %7.0f (%7.0f)   with/without %.2f "
              "(%.2f)" % (name, off[0], off[1], on[0], on[1], ratio(on[0], off[0]),
                          ratio(on[1], off[1])))
        for smmu in (False, True):
            print("      runs %-8s %s" % ("smmuv3" if smmu else "none", " ".join(
                "%.0f/%.0f" % x for x in res.get((name, smmu), []))))
    if len(emus) == 2:
        for smmu in (False, True):
            t, q = med.get(("tessera", smmu), (0, 0)), med.get(("qemu", smmu), (0, 0))
            print("  tessera/qemu %-10s %.2f (%.2f per CPU s)" % (
                "smmuv3" if smmu else "no IOMMU", ratio(t[0], q[0]), ratio(t[1], q[1])))


def main():
    emu = sys.argv[1] if len(sys.argv) > 1 else "build/tessera"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    emus = [("tessera", emu)] + ([("qemu", "qemu-system-aarch64")]
                                 if shutil.which("qemu-system-aarch64") else [])
    wd = guestlib.workdir()
    try:
        parts = guestlib.guest_parts()
        mods = guestlib.module_files(parts, ["nvme"])
        rr = guestlib.assemble(wd, "randread", RANDREAD_ASM % {"count": COUNT,
                                                               "mask": BLOCKS - 1})
        initrd = guestlib.make_initrd(wd, parts["INITRD"], SCRIPT % {
            "insmod": guestlib.insmod_script(mods)}, files=[rr], modules=mods)
        img = os.path.join(wd, "disk.img")
        with open(img, "wb") as f:
            f.write(os.urandom(1 << 20) * (BLOCKS // 256))
        res = {}
        for _ in range(runs):
            for name, path in emus:
                for smmu in (False, True):
                    r = one(path, parts, initrd, img, smmu)
                    if r:
                        res.setdefault((name, smmu), []).append(r)
        report(emus, res, runs)
    finally:
        shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()
