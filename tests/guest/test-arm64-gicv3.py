#!/usr/bin/env python3
"""guest suite, GICv3 with an ITS: Debian's arm64 kernel on
`tessera -M virt,gic-version=3 -smp 16` with an NVMe disk whose MSI-X
vectors are LPIs the ITS translates; Linux's irq-gic-v3(-its) and nvme
drivers are the judges. TAP output.

    test-arm64-gicv3.py TESSERA CASE [EMULATOR]

CASE (each boots once):
  gicv3   16 vCPUs come online (PSCI CPU_ON, then each finds its
          redistributor by affinity), the timer PPIs and the UART SPI are
          GICv3 interrupts, every CPU took IPIs (ICC_SGI1R_EL1); nvme0q0..
          q16 are ITS-MSI interrupts that fired, and the guest reads the
          pattern the host wrote and writes one the host finds (its I/O
          completes through LPIs the ITS translated)

One boot of -smp 16 carries it all: on a loaded 2-core host it reaches
userspace in 4 to 15 s (QEMU's TCG: 12 to 250 s on the same line).

EMULATOR (default: TESSERA) runs the same checks on qemu-system-aarch64.
"""
import hashlib
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from tesstest import check, tap_report  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s
MiB = 1 << 20
IMAGE_SIZE = 16 * MiB
PATTERN_LEN = MiB   # host pattern at offset 0
GUEST_OFF = 4 * MiB  # where the guest writes its own
GUEST_LEN = 256 * 1024
SMP = 16
NOTES = []  # TAP comments, printed after the report (TAP's version line comes first)

SCRIPT = """\
echo "ONLINE=$(cat /sys/devices/system/cpu/online)"
echo "HOST-MD5=$(dd if=/dev/nvme0n1 bs=65536 count=%(blocks)d iflag=direct 2>/dev/null \
| md5sum | cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
echo "GUEST-MD5=$(md5sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=/dev/nvme0n1 bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "DD-STATUS=$?"
cat /proc/interrupts
"""


def irq_lines(console):
    """/proc/interrupts rows: name -> (counts per CPU, the rest of the line)."""
    rows = {}
    for line in console.splitlines():
        m = re.match(r"^\s*([0-9A-Za-z]+):((?:\s+\d+)+)\s*(.*)$", line)
        if m:
            counts = [int(x) for x in m.group(2).split()]
            rows[m.group(3).split()[-1] if m.group(3) else m.group(1)] = (counts, m.group(3))
            rows.setdefault(m.group(1), (counts, m.group(3)))
    return rows


def check_cpus(b, rows):
    check("gicv3: the guest ran its test script and powered off (status 0)",
          b.status == 0 and "test.sh exited 0" in b.console, b.tail())
    check("gicv3: no kernel oops, panic or failed insmod",
          not re.search(r"Oops|Kernel panic|INSMOD-FAILED|BUG:", b.console), b.tail())
    check("gicv3: all %d CPUs online" % SMP,
          guestlib.value(b.console, "ONLINE") == "0-%d" % (SMP - 1), b.tail())
    timer = rows.get("arch_timer", ([], ""))
    check("gicv3: the timer PPI and the UART SPI are GICv3 interrupts",
          "GICv3" in timer[1] and "GICv3" in rows.get("uart-pl011", ([], ""))[1],
          "%r" % (timer,))
    ipi = rows.get("IPI0", ([], ""))[0]
    ipi1 = rows.get("IPI1", ([], ""))[0]
    check("gicv3: every CPU took SGIs (IPI rescheduling or function call)",
          len(ipi) == SMP and all(a + c > 0 for a, c in zip(ipi, ipi1)), "%r %r" % (ipi, ipi1))


def check_nvme(b, rows, img):
    q = sorted((k for k in rows if re.match(r"nvme0q\d+$", k)), key=lambda k: int(k[6:]))
    check("gicv3: nvme0q0..nvme0q%d are ITS-MSI interrupts" % SMP,
          len(q) == SMP + 1 and all("ITS-MSI" in rows[k][1] for k in q),
          "\n".join("%s: %s" % (k, rows[k][1]) for k in q) or b.tail())
    fired = sum(sum(rows[k][0]) for k in q if k != "nvme0q0")
    check("gicv3: the admin queue and the I/O queues took LPIs",
          q and sum(rows["nvme0q0"][0]) > 0 and fired > 0, "I/O LPIs: %d" % fired)
    want = hashlib.md5(guestlib.pattern(PATTERN_LEN, b"gicv3")).hexdigest()
    check("gicv3: the guest reads the pattern the host wrote",
          guestlib.value(b.console, "HOST-MD5") == want, b.tail())
    with open(img, "rb") as f:
        f.seek(GUEST_OFF)
        got = hashlib.md5(f.read(GUEST_LEN)).hexdigest()
    check("gicv3: the image holds the guest's pattern after exit",
          guestlib.value(b.console, "DD-STATUS") == "0" and
          guestlib.value(b.console, "GUEST-MD5") == got, b.tail())


def run_gicv3(emu, parts, wd):
    img = os.path.join(wd, "disk.img")
    with open(img, "wb") as f:
        f.write(guestlib.pattern(PATTERN_LEN, b"gicv3"))
        f.truncate(IMAGE_SIZE)
    script = SCRIPT % {"blocks": PATTERN_LEN // 65536, "gblocks": GUEST_LEN // 4096,
                       "gseek": GUEST_OFF // 4096}
    mods = guestlib.module_files(parts, ["nvme"])
    initrd = guestlib.make_initrd(wd, parts["INITRD"], guestlib.insmod_script(mods) + script,
                                  modules=mods)
    extra = ["-drive", "file=%s,if=none,format=raw,id=d0" % img,
             "-device", "nvme,drive=d0,serial=gicv3,max_ioqpairs=%d" % SMP]
    # nowatchdog: 16 vCPUs on a loaded 2-core host may not all run within
    # the lockup detectors' thresholds (at load 20, QEMU's TCG took 4 min on
    # this line and its guest printed a "BUG:" line); the test studies the
    # GIC, not the scheduler.
    argv = guestlib.emulator_argv(emu, parts["KERNEL"], initrd, smp=SMP,
                                  append=guestlib.CMDLINE + " quiet nowatchdog", extra=extra)
    argv[argv.index("virt")] = "virt,gic-version=3"
    b = guestlib.Boot(argv, BOOT_TIMEOUT)
    rows = irq_lines(b.console)
    NOTES.append("# %s: %d vCPUs to userspace in %s s, %.1f s in all"
                 % (os.path.basename(emu), SMP, "%.1f" % b.t_marker if b.t_marker else "-",
                    b.elapsed))
    check_cpus(b, rows)
    check_nvme(b, rows, img)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    tessera, case = sys.argv[1], sys.argv[2]
    emu = sys.argv[3] if len(sys.argv) > 3 else tessera
    wd = guestlib.workdir()
    try:
        parts = guestlib.guest_parts()
        if case == "gicv3":
            run_gicv3(emu, parts, wd)
        else:
            check("known case '%s'" % case, False, __doc__)
    except guestlib.GuestError as e:
        check("%s: guest parts prepared" % case, False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    status = tap_report()
    print("\n".join(NOTES))
    return status


if __name__ == "__main__":
    sys.exit(main())
