#!/usr/bin/env python3
"""guest suite, virtio-iommu: `-device virtio-iommu-pci` with an NVMe disk
behind it, one boot per architecture, Linux's default DMA domain
(iommu.passthrough=0). TAP output.

    test-virtio-iommu.py TESSERA ARCH [EMULATOR]

ARCH:
  arm64  -M virt (the device tree's virtio_iommu node and iommu-map):
         Linux's virtio-iommu driver binds, /sys/kernel/iommu_groups
         lists the NVMe function in a DMA domain, the disk reads the
         pattern the host wrote and writes one the host finds (every DMA,
         the MSIs through the software MSI window included, translated);
         no fault is reported. Debian's 6.1 kernels leave
         CONFIG_VIRTIO_IOMMU unset: scripts/guest-virtio-iommu builds the
         driver as a module from Debian's packages (once, cached).
  amd64  -M q35 (the VIOT table): the table reaches the guest as tessera
         wrote it and the NVMe disk moves data both ways. Debian's amd64
         kernel has neither the driver nor the VIOT parser it needs
         (ACPI_VIOT, built-in only), so it cannot attach: the driver
         checks are reported as TAP skips, and NVMe DMA goes through the
         device's boot bypass.

EMULATOR (default: TESSERA) runs the same checks on qemu-system-aarch64 /
qemu-system-x86_64.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from tesstest import check, tap_report  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s
MiB = 1 << 20
IMAGE_SIZE = 16 * MiB
HOST_LEN = 256 * 1024     # the host's pattern at offset 0
GUEST_OFF = 4 * MiB       # where the guest writes its own
GUEST_LEN = 256 * 1024
# tessera's VIOT body for a virtio-iommu-pci at 00:02.0 (QEMU's layout):
# two nodes from offset 48, the virtio-pci IOMMU node (type 3, bdf 0x0010)
# and a PCI range node (type 1) for segment 0, bdf 0000..ffff, output 48.
VIOT_BODY = ("02 00 30 00 00 00 00 00 00 00 00 00 "
             "03 00 10 00 00 00 10 00 00 00 00 00 00 00 00 00 "
             "01 00 18 00 00 00 00 00 00 00 00 00 00 00 ff ff 30 00 00 00 00 00 00 00")

SCRIPT = """\
sleep 1
NVME=$(basename $(readlink /sys/class/nvme/nvme0/device))
echo "NVME-BDF=$NVME"
echo "VIOMMU-BOUND=$(ls /sys/bus/virtio/drivers/virtio_iommu 2>/dev/null | grep -c virtio)"
echo "GROUPS=$(ls /sys/kernel/iommu_groups/*/devices/ 2>/dev/null | sort | tr '\\n' ' ')"
G=$(basename "$(readlink /sys/bus/pci/devices/$NVME/iommu_group 2>/dev/null)")
echo "NVME-GROUP-TYPE=$(cat /sys/kernel/iommu_groups/$G/type 2>/dev/null)"
echo "VIOMMU-PCI=$(cat /sys/bus/pci/devices/*/device | grep -c 0x1057)"
echo "VIOT=$(od -An -v -tx1 /sys/firmware/acpi/tables/VIOT 2>/dev/null | tr -s ' \\n' ' ')"
echo "HOST-MD5=$(dd if=/dev/nvme0n1 bs=4096 count=%(hblocks)d iflag=direct 2>/dev/null \
| md5sum | cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
echo "GUEST-MD5=$(md5sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=/dev/nvme0n1 bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "DD-STATUS=$?"
sync
""" % {"hblocks": HOST_LEN // 4096, "gblocks": GUEST_LEN // 4096, "gseek": GUEST_OFF // 4096}


def md5_at(path, off, length):
    with open(path, "rb") as f:
        f.seek(off)
        return hashlib.md5(f.read(length)).hexdigest()


def skip(name, reason):
    """A TAP skip: the check exists but this guest cannot run it."""
    check("%s # SKIP %s" % (name, reason), True)


def make_image(wd):
    img = os.path.join(wd, "disk.img")
    with open(img, "wb") as f:
        f.truncate(IMAGE_SIZE)
        f.write(guestlib.pattern(HOST_LEN, b"viommu-host"))
    return img


def driver_ko(arch):
    """The virtio-iommu module to insmod (None: built in or not buildable)."""
    if arch != "arm64":
        return None
    script = os.path.join(guestlib.SRC_ROOT, "scripts", "guest-virtio-iommu")
    p = subprocess.run([script], capture_output=True, text=True)
    if p.returncode != 0:
        raise guestlib.GuestError("scripts/guest-virtio-iommu failed:\n" + p.stderr.strip())
    ko = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line).get("KO")
    return ko or None


def boot(emu, arch, parts, wd, img):
    ko = driver_ko(arch)
    # crct10dif-pclmul needs PCLMULQDQ, which -cpu qemu64 lacks (amd64).
    mods = [m for m in guestlib.module_files(parts, ["virtio_pci", "nvme"]) if "pclmul" not in m]
    # The IOMMU's driver before nvme: nvme's probe then finds its domain.
    order = ([m for m in mods if "nvme" not in m] + ([ko] if ko else [])
             + [m for m in mods if "nvme" in m])
    initrd = guestlib.make_initrd(wd, parts["INITRD"], guestlib.insmod_script(order) + SCRIPT,
                                  modules=order)
    extra = ["-net", "none", "-drive", "file=%s,if=none,format=raw,id=d0" % img,
             "-device", "virtio-iommu-pci,addr=02.0", "-device", "nvme,drive=d0,serial=viommu0"]
    if arch == "arm64":
        argv = guestlib.emulator_argv(emu, parts["KERNEL"], initrd,
                                      append=guestlib.CMDLINE + " iommu.passthrough=0",
                                      extra=extra)
    else:
        argv = [emu, "-M", "q35", "-m", "512M", "-nographic", "-no-reboot",
                "-kernel", parts["KERNEL"], "-initrd", initrd,
                "-append", guestlib.AMD64_CMDLINE + " iommu.passthrough=0"] + extra
    return guestlib.Boot(argv, BOOT_TIMEOUT)


def check_common(b, arch, img):
    v = lambda k: guestlib.value(b.console, k)  # noqa: E731
    check("%s: the guest ran its test script and powered off (status 0)" % arch,
          not b.timed_out and "tessera-guest: test.sh exited 0" in b.console
          and b.status == 0, "exit status %s\n%s" % (b.status, b.tail()))
    check("%s: no oops, panic or failed insmod" % arch,
          "Internal error: Oops" not in b.console and "Kernel panic" not in b.console
          and "BUG:" not in b.console and "INSMOD-FAILED" not in b.console, b.tail())
    check("%s: the virtio-iommu function 1af4:1057 is on the PCI bus" % arch,
          v("VIOMMU-PCI") == "1", b.tail())
    want = hashlib.md5(guestlib.pattern(HOST_LEN, b"viommu-host")).hexdigest()
    check("%s: the NVMe disk reads the pattern the host wrote" % arch,
          v("HOST-MD5") == want, "wanted %s\n%s" % (want, b.tail()))
    guest = v("GUEST-MD5")
    check("%s: the host finds the pattern the guest wrote with O_DIRECT" % arch,
          v("DD-STATUS") == "0" and guest and md5_at(img, GUEST_OFF, GUEST_LEN) == guest,
          b.tail())


def check_driver(b):
    v = lambda k: guestlib.value(b.console, k)  # noqa: E731
    bdf = v("NVME-BDF") or "?"
    check("arm64: the virtio-iommu driver binds (input range and page mask read)",
          v("VIOMMU-BOUND") == "1"
          and re.search(r"virtio_iommu virtio\d+: page mask: 0xfffffffffffff000", b.console),
          b.tail())
    check("arm64: /sys/kernel/iommu_groups lists the NVMe function %s" % bdf,
          bdf in (v("GROUPS") or "").split(), b.tail())
    check("arm64: the NVMe function's group has the default DMA domain",
          v("NVME-GROUP-TYPE") == "DMA", b.tail())
    check("arm64: no translation fault reported",
          not re.search(r"virtio_iommu.*fault", b.console, re.I), b.tail())


def check_dtb(emu, wd):
    """-M virt,dumpdtb: the tree decodes (no duplicate phandle) and holds
    QEMU's binding: the function's node and the pcie node's iommu-map
    sending every other requester id to it."""
    out = os.path.join(wd, "virt.dtb")
    p = subprocess.run([emu, "-M", "virt,gic-version=2,dumpdtb=" + out, "-smp", "4", "-net",
                        "none", "-nographic", "-device", "virtio-iommu-pci,addr=02.0",
                        "-device", "nvme,serial=x"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    d = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", out], capture_output=True,
                       text=True) if os.path.exists(out) else None
    dts = d.stdout if d and d.returncode == 0 else ""
    check("arm64: dumpdtb with virtio-iommu-pci decodes with dtc", dts != "",
          p.stdout + p.stderr + (d.stderr if d else ""))
    m = re.search(r"virtio_iommu@2,0 \{(.*?)\};", dts, re.S)
    node = m.group(1) if m else ""
    ph = re.search(r"phandle = <(0x[0-9a-f]+)>", node)
    ph = ph.group(1) if ph else "?"
    check("arm64: its node: compatible, reg of 00:02.0, #iommu-cells = 1",
          'compatible = "virtio,pci-iommu\\0pci1af4,1057"' in node
          and "reg = <0x1000 0x00 0x00 0x00 0x00>" in node
          and "#iommu-cells = <0x01>" in node, node or dts)
    want = "iommu-map = <0x00 %s 0x00 0x10 0x11 %s 0x11 0xffef>;" % (ph, ph)
    check("arm64: the pcie node's iommu-map sends every other rid to it", want in dts,
          "want %s\n%s" % (want, dts))


def check_viot(b, tessera):
    viot = guestlib.value(b.console, "VIOT") or ""
    check("amd64: the VIOT table reaches the guest", viot.startswith("56 49 4f 54"), b.tail())
    if tessera:
        check("amd64: its body is the one tessera wrote (QEMU's layout)",
              viot.split()[36:] == VIOT_BODY.split(), viot)


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ("arm64", "amd64"):
        print(__doc__)
        return 2
    tessera, arch = sys.argv[1], sys.argv[2]
    emu = sys.argv[3] if len(sys.argv) > 3 else tessera
    wd = guestlib.workdir()
    try:
        parts = guestlib.guest_parts(arch=arch)
        if arch == "arm64":
            check_dtb(emu, wd)
        img = make_image(wd)
        b = boot(emu, arch, parts, wd, img)
        check_common(b, arch, img)
        if arch == "arm64":
            check_driver(b)
        else:
            check_viot(b, emu == tessera)
            reason = "Debian's amd64 kernel has no CONFIG_VIRTIO_IOMMU nor ACPI_VIOT"
            skip("amd64: the virtio-iommu driver binds", reason)
            skip("amd64: /sys/kernel/iommu_groups lists the NVMe function", reason)
    except guestlib.GuestError as e:
        check("%s: guest parts prepared" % arch, False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
