#!/usr/bin/env python3
"""guest suite: boot Debian's amd64 kernel (a bzImage, decompressed on the
host and entered at startup_64) with a busybox initramfs on
`tessera -M q35` and let the guest judge. TAP output.

    test-amd64.py TESSERA CASE [EMULATOR]

CASE is one of:
  smp1, smp4  boots to userspace, the guest sees N CPUs (the APs come up
              through INIT/SIPI), ACPI found the PCIe host bridge and the
              IOAPIC, `poweroff -f` (ACPI S5 through PM1_CNT) ends the
              emulator with status 0
  disks       -smp 1 with a virtio-blk-pci disk and an nvme disk on pcie.0
              (INTx routed by the DSDT's _PRT, then MSI-X through the
              LAPIC window): each reads the pattern the host wrote and
              writes another with dd oflag=direct that the host finds in
              its image. Without the nvme plugin only virtio-blk runs and
              the nvme half is reported as skipped.

Kernel command line: guestlib.AMD64_CMDLINE (crypto self-tests off: they are
most of a boot; no_timer_check: see guestlib).
EMULATOR (default: TESSERA) runs the same checks on qemu-system-x86_64
(-M q35 with SeaBIOS), to tell a broken test from a broken tessera.
On failure the last 30 console lines are printed.
"""
import hashlib
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from tesstest import check, tap_report  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s
CMDLINE = guestlib.AMD64_CMDLINE
MiB = 1 << 20
IMAGE_SIZE = 64 * MiB
PATTERN_LEN = MiB
GUEST_OFF = 8 * MiB + 4096
GUEST_LEN = 256 * 1024

CPU_SCRIPT = """\
echo "CPUS=$(grep -c ^processor /proc/cpuinfo) NPROC=$(nproc)"
echo "PCI0=$(cat /sys/bus/acpi/devices/PNP0A08:00/path 2>/dev/null)"
echo "IOAPIC-IRQS=$(grep -c IO-APIC /proc/interrupts)"
"""

# One block per disk: the host pattern's md5, then a guest pattern
# (urandom) written with O_DIRECT and read back.
DISK_SCRIPT = """\
for DEV in %(devs)s; do
    echo "DISK $DEV HOST-MD5=$(dd if=$DEV bs=65536 count=%(blocks)d 2>/dev/null | md5sum \
| cut -d' ' -f1)"
    dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
    echo "DISK $DEV GUEST-MD5=$(md5sum < /tmp/p | cut -d' ' -f1)"
    dd if=/tmp/p of=$DEV bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
    echo "DISK $DEV DD-STATUS=$?"
    sync
done
echo "MSIX=$(grep -c -e PCI-MSIX -e PCI-MSI /proc/interrupts)"
"""


def guest_parts():
    """scripts/guest-amd64's KEY=VALUE output (cached after the first run)."""
    script = os.path.join(guestlib.SRC_ROOT, "scripts", "guest-amd64")
    p = subprocess.run([script], capture_output=True, text=True)
    if p.returncode != 0:
        raise guestlib.GuestError("scripts/guest-amd64 failed (status %d):\n%s"
                                  % (p.returncode, p.stderr.strip()))
    parts = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    for key in ("KERNEL", "INITRD"):
        if not os.path.exists(parts.get(key, "")):
            raise guestlib.GuestError("scripts/guest-amd64 gave no usable %s" % key)
    return parts


def emulator_argv(emu, kernel, initrd, smp=1, mem="512M", extra=()):
    """The same command line for tessera and qemu-system-x86_64."""
    return ([emu, "-M", "q35", "-cpu", "qemu64", "-smp", str(smp), "-m", mem, "-nographic",
             "-no-reboot", "-kernel", kernel, "-initrd", initrd, "-append", CMDLINE]
            + list(extra))


def check_common(b, name):
    check("%s: did not time out (%d s)" % (name, BOOT_TIMEOUT), not b.timed_out, b.tail())
    check("%s: kernel reaches userspace (/init prints its marker)" % name,
          guestlib.USERSPACE_MARKER in b.console, b.tail())
    check("%s: no kernel panic or oops" % name,
          "Kernel panic" not in b.console and "Oops" not in b.console, b.tail())
    check("%s: test script ran to its end" % name,
          "tessera-guest: test.sh exited 0" in b.console, b.tail())
    check("%s: poweroff -f ends the emulator with exit status 0" % name,
          b.status == 0 and "reboot: Power down" in b.console,
          "exit status %s\n%s" % (b.status, b.tail()))


def run_cpus(emu, parts, wd, smp):
    initrd = guestlib.make_initrd(wd, parts["INITRD"], CPU_SCRIPT)
    b = guestlib.Boot(emulator_argv(emu, parts["KERNEL"], initrd, smp=smp), BOOT_TIMEOUT)
    name = "smp%d" % smp
    check_common(b, name)
    want = "CPUS=%d NPROC=%d" % (smp, smp)
    check("%s: the guest sees %d CPU(s) (/proc/cpuinfo, nproc)" % (name, smp),
          want in b.console, "wanted '%s'\n%s" % (want, b.tail()))
    check("%s: ACPI enumerates \\_SB.PCI0 (PNP0A08)" % name,
          "PCI0=\\_SB_.PCI0" in b.console, b.tail())
    check("%s: interrupts go through the IOAPIC" % name,
          "IOAPIC-IRQS=0" not in b.console and "IOAPIC-IRQS=" in b.console, b.tail())


def pattern(n, seed):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s-%d" % (seed, i)).digest()
        i += 1
    return bytes(out[:n])


def make_image(path):
    with open(path, "wb") as f:
        f.truncate(IMAGE_SIZE)
        f.write(pattern(PATTERN_LEN, b"host"))


def guest_wrote(path, console, dev):
    """The guest's pattern (by its md5 on the console) is in the image."""
    want = None
    for line in console.splitlines():
        if line.startswith("DISK %s GUEST-MD5=" % dev):
            want = line.split("=", 1)[1].strip()
    with open(path, "rb") as f:
        f.seek(GUEST_OFF)
        got = hashlib.md5(f.read(GUEST_LEN)).hexdigest()
    return want is not None and want == got


def nvme_available(emu):
    p = subprocess.run([emu, "-device", "help"], capture_output=True, text=True)
    return "nvme" in p.stdout.split()


def run_disks(emu, parts, wd):
    have_nvme = nvme_available(emu)
    mods = ["virtio_pci", "virtio_blk"] + (["nvme"] if have_nvme else [])
    files = guestlib.module_files(parts, mods)
    devs = ["/dev/vda"] + (["/dev/nvme0n1"] if have_nvme else [])
    script = guestlib.insmod_script(files) + "sleep 1\n" + DISK_SCRIPT % {
        "devs": " ".join(devs), "blocks": PATTERN_LEN // 65536,
        "gblocks": GUEST_LEN // 4096, "gseek": GUEST_OFF // 4096}
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=files)
    imgs = {d: os.path.join(wd, os.path.basename(d) + ".img") for d in devs}
    extra = ["-drive", "file=%s,if=none,id=d0,format=raw" % imgs["/dev/vda"],
             "-device", "virtio-blk-pci,drive=d0"]
    if have_nvme:
        extra += ["-drive", "file=%s,if=none,id=d1,format=raw" % imgs["/dev/nvme0n1"],
                  "-device", "nvme,drive=d1,serial=tessera1"]
    for p in imgs.values():
        make_image(p)
    b = guestlib.Boot(emulator_argv(emu, parts["KERNEL"], initrd, smp=1, extra=extra),
                      BOOT_TIMEOUT)
    check_common(b, "disks")
    host_md5 = hashlib.md5(pattern(PATTERN_LEN, b"host")).hexdigest()
    for dev in devs:
        check("disks: %s reads the host's pattern" % dev,
              "DISK %s HOST-MD5=%s" % (dev, host_md5) in b.console, b.tail())
        check("disks: %s takes the guest's O_DIRECT write (found in the image)" % dev,
              "DISK %s DD-STATUS=0" % dev in b.console and
              guest_wrote(imgs[dev], b.console, dev), b.tail())
    check("disks: the drivers use MSI/MSI-X", "MSIX=0" not in b.console, b.tail())
    if not have_nvme:
        # a TAP skip directive: reported, not counted as a pass or failure
        check("disks: nvme on q35 # SKIP no nvme device type in this build", True)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    tessera, case = sys.argv[1], sys.argv[2]
    emu = sys.argv[3] if len(sys.argv) > 3 else tessera
    wd = guestlib.workdir()
    try:
        parts = guest_parts()
        if case in ("smp1", "smp4"):
            run_cpus(emu, parts, wd, int(case[3:]))
        elif case == "disks":
            run_disks(emu, parts, wd)
        else:
            check("known case '%s'" % case, False, __doc__)
    except guestlib.GuestError as e:
        check("%s: guest parts prepared" % case, False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
