#!/usr/bin/env python3
"""guest suite: an NVDIMM over a shared memory-backend-file, one boot per
architecture. TAP output.

    test-nvdimm.py TESSERA amd64|arm64 [EMULATOR]

amd64: the tutorial's line (a 66 MiB image instead of 16 GiB) on pc,
    -M pc,nvdimm=on -m 2G,slots=4,maxmem=10G
    -object memory-backend-file,share=on,id=mem1,mem-path=IMG,size=66M
    -device nvdimm,memdev=mem1,id=nvdimm1,label-size=128K
(ACPI NFIT + NVDR: Linux's nfit, libnvdimm and nd_pmem modules), and
the label area, which Linux reads through the NVDIMM's _DSM.
arm64: the same module on virt (a pmem-region DT node: of_pmem), -m 512M.
The guest loads the modules, checks /dev/pmem0 and its size (64 MiB),
writes a pattern at offset 1 MiB with dd, syncs and powers off; the host
then finds the pattern in the image file, where the guest wrote it.

EMULATOR (qemu-system-x86_64 / qemu-system-aarch64) runs the same checks
on QEMU (amd64: the same 8 results on QEMU 7.2 TCG). QEMU's virt refuses
-device nvdimm with -kernel ("memory hotplug is not enabled: missing
acpi-ged device") and describes NVDIMMs by NFIT only, so the arm64 run is
skipped there.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import value  # noqa: E402
from tesstest import check, tap_report  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s
MiB = 1 << 20
SIZE = 64 * MiB
PATTERN = b"tessera-nvdimm-pattern-0123456789abcdef"
OFFSET = 1 * MiB

TEST_SCRIPT = """\
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/pmem0 ] && break; sleep 1; done
echo "PMEM=$(ls /dev/pmem0 2>&1)"
echo "PMEM_SECTORS=$(cat /sys/block/pmem0/size 2>&1)"
printf '%s' '""" + PATTERN.decode() + """' > /tmp/pat
dd if=/tmp/pat of=/dev/pmem0 bs=4096 seek=""" + str(OFFSET // 4096) + """ conv=notrunc,fsync \
2>/dev/null && echo "DD=ok"
sync
echo "READBACK=$(dd if=/dev/pmem0 bs=4096 skip=""" + str(OFFSET // 4096) + """ count=1 \
2>/dev/null | head -c """ + str(len(PATTERN)) + """)"
"""

MODULES = {"amd64": ["nfit", "nd_pmem"], "arm64": ["of_pmem", "nd_pmem"]}

# amd64: the module has a 128 KiB label area at the backend's end (2 MiB
# more backend: the guest's region stays 64 MiB). Linux's nfit finds the
# label functions in the _DSM's function 0 and libnvdimm reads the area
# through them (4: size, 5: data): nmem0's available_slots is counted from
# what it read (it fails with ENXIO when no label data could be read). The
# area is blank (no index blocks), so Linux keeps the whole region as one
# label-less namespace (/dev/pmem0 as before). Function 6 (writes) needs
# ndctl's ioctls (init-labels), which the busybox initrd does not have:
# the board's table test covers it.
LABEL = 128 * 1024
BACKEND = {"amd64": SIZE + 2 * MiB, "arm64": SIZE}
LABEL_SCRIPT = """\
N=/sys/bus/nd/devices
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e $N/namespace0.0 ] && break; sleep 1; done
echo "NMEM_CMDS=$(cat $N/nmem0/commands 2>&1)"
echo "NMEM_SLOTS=$(cat $N/nmem0/available_slots 2>&1)"
echo "NS_SIZE=$(cat $N/namespace0.0/size 2>&1)"
dmesg | grep -i -e 'ACPI Error' -e 'ACPI BIOS Error' -e nmem -e nvdimm | tail -n 12 \
| sed 's/^/NV-LOG /'
"""


def argv(emu, arch, parts, initrd, img):
    nv = ["-object", "memory-backend-file,share=on,id=mem1,mem-path=%s,size=%d"
          % (img, BACKEND[arch]),
          "-device", "nvdimm,memdev=mem1,id=nvdimm1" +
          (",label-size=%d" % LABEL if arch == "amd64" else "")]
    if arch == "amd64":
        return ([emu, "-M", os.environ.get("NVDIMM_X86_MACHINE", "pc") + ",nvdimm=on", "-cpu", "qemu64", "-m", "2G,slots=4,maxmem=10G"]
                + nv + ["-nographic", "-no-reboot", "-kernel", parts["KERNEL"],
                        "-initrd", initrd, "-append", guestlib.AMD64_CMDLINE])
    return ([emu, "-M", "virt,nvdimm=on", "-cpu", "cortex-a57", "-m", "512M,slots=2,maxmem=2G"] + nv
            + ["-nographic", "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd,
               "-append", guestlib.CMDLINE])


def run(emu, arch, qemu, wd):
    parts = guestlib.amd64_parts() if arch == "amd64" else guestlib.guest_parts()
    mods = guestlib.module_files(parts, MODULES[arch])
    script = guestlib.insmod_script(mods) + (LABEL_SCRIPT if arch == "amd64" else "") + \
        TEST_SCRIPT
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=mods)
    img = os.path.join(wd, "nvdimm.img")
    with open(img, "wb") as f:
        f.truncate(BACKEND[arch])
    b = guestlib.Boot(argv(emu, arch, parts, initrd, img), BOOT_TIMEOUT)
    c = b.console
    check("did not time out (%d s)" % BOOT_TIMEOUT, not b.timed_out, b.tail())
    check("no kernel panic or oops", "Kernel panic" not in c and "Oops" not in c, b.tail())
    check("every module loaded", "INSMOD-FAILED" not in c, b.tail())
    check("the test script ran to its end", "tessera-guest: test.sh exited 0" in c, b.tail())
    check("/dev/pmem0 exists", value(c, "PMEM") == "/dev/pmem0", c[-3000:])
    check("/dev/pmem0 is 64 MiB (%d sectors)" % (SIZE // 512),
          value(c, "PMEM_SECTORS") == str(SIZE // 512), value(c, "PMEM_SECTORS"))
    check("dd wrote the pattern and reads it back",
          value(c, "DD") == "ok" and value(c, "READBACK") == PATTERN.decode(), c[-2000:])
    with open(img, "rb") as f:
        f.seek(OFFSET)
        got = f.read(len(PATTERN))
    check("the host finds the pattern at offset 1 MiB of the image after power-off",
          got == PATTERN, repr(got))
    if arch == "amd64":
        check_labels(c, img)


def check_labels(c, img):
    """The label _DSM as Linux uses it: label commands, the area read."""
    cmds = (value(c, "NMEM_CMDS") or "").split()
    check("nmem0 offers the label commands (the _DSM's functions 4, 5, 6)",
          all(x in cmds for x in ("get_size", "get_data", "set_data")), value(c, "NMEM_CMDS"))
    slots = value(c, "NMEM_SLOTS") or ""
    check("Linux read the 128 KiB label area through the _DSM: nmem0 has free label slots "
          "(%s)" % slots, slots.isdigit() and int(slots) > 0,
          "\n".join(ln for ln in c.splitlines() if "NV-LOG" in ln or "NMEM" in ln))
    check("no ACPI error from the _DSM (the AML ran to its Return)",
          "ACPI Error" not in c and "ACPI BIOS Error" not in c,
          "\n".join(ln for ln in c.splitlines() if "NV-LOG" in ln))
    check("the blank area leaves one label-less 64 MiB namespace (Linux's fallback)",
          value(c, "NS_SIZE") == str(SIZE), value(c, "NS_SIZE"))


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ("amd64", "arm64"):
        print(__doc__)
        return 2
    emu = sys.argv[3] if len(sys.argv) > 3 else sys.argv[1]
    if len(sys.argv) > 3 and sys.argv[2] == "arm64":
        print("TAP version 13\n1..0 # SKIP QEMU's virt takes an nvdimm only with ACPI (its "
              "acpi-ged device: 'memory hotplug is not enabled') and describes it by NFIT only")
        return 0
    wd = guestlib.workdir()
    try:
        run(emu, sys.argv[2], len(sys.argv) > 3, wd)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
