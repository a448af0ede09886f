#!/usr/bin/env python3
"""guest suite: intel-iommu (plugins/iommu) on q35 with Debian's amd64
kernel and intel_iommu=on, in one boot. TAP output.

    test-amd64-iommu.py TESSERA [EMULATOR]

The command line is the tutorial's: -M q35,kernel_irqchip=split and
-device nvme,drive=nvme0,serial=deadbeaf1,num_queues=8 -drive
file=disk.qcow2,if=none,id=nvme0 -device intel_iommu,intremap=on (QEMU's
older spelling of the device). The guest judges:
  - dmesg: the DMAR table is found and DMAR translation is enabled
    ("DMAR: Intel(R) Virtualization Technology for Directed I/O");
  - /sys/class/iommu/dmar0 exists and the NVMe function sits in an
    iommu_group whose default domain translates (type DMA or DMA-FQ);
  - the nvme disk reads the pattern qemu-img put in the image and takes an
    O_DIRECT write, both through translated DMA (PRPs are IOVAs), which
    the host finds in the qcow2 image (qemu-img check clean);
  - interrupt remapping: "Enabled IRQ remapping in xapic mode", the nvme
    queues' MSI-X vectors are IR-PCI-MSIX interrupts and the I/O APIC's
    (the serial port's, the timer's) IR-IO-APIC ones, and they fire;
  - a virtio-blk-pci disk beside it works too: virtio devices do not offer
    VIRTIO_F_ACCESS_PLATFORM (QEMU's iommu_platform=off), so Linux gives
    them guest-physical addresses and their DMA bypasses translation, as
    in QEMU;
  - no DMAR fault is reported and poweroff ends the emulator with 0.
EMULATOR (default: TESSERA) runs the same checks on qemu-system-x86_64.
"""
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import amd64_parts, pattern, value  # noqa: E402
from tesstest import check  # noqa: E402

BOOT_TIMEOUT = 480
CMDLINE = guestlib.AMD64_CMDLINE + " intel_iommu=on quiet"
MiB = 1 << 20
IMAGE_SIZE = 16 * MiB
PATTERN_LEN = MiB
GUEST_OFF = 8 * MiB + 4096
GUEST_LEN = 256 * 1024

TEST_SCRIPT = """\
%(insmod)s
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
echo "DMESG-BEGIN"
dmesg | grep -i -e DMAR -e iommu
echo "DMESG-END"
echo "DMAR0=$(ls -d /sys/class/iommu/dmar0 2>/dev/null)"
N=$(readlink -f /sys/class/nvme/nvme0/device)
echo "NVME-DEV=$N"
echo "NVME-GROUP=$(basename $(readlink $N/iommu_group) 2>/dev/null)"
echo "NVME-DOMAIN=$(cat $N/iommu_group/type 2>/dev/null)"
echo "GROUPS=$(ls /sys/kernel/iommu_groups | wc -l)"
echo "IRQS-BEGIN"
cat /proc/interrupts
echo "IRQS-END"
DEV=/dev/nvme0n1
echo "DISK HOST-MD5=$(dd if=$DEV bs=65536 count=%(blocks)d iflag=direct 2>/dev/null \
| md5sum | cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
echo "DISK GUEST-MD5=$(md5sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=$DEV bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "DISK DD-STATUS=$?"
echo "DISK READBACK-MD5=$(dd if=$DEV bs=4096 skip=%(gseek)d count=%(gblocks)d iflag=direct \
2>/dev/null | md5sum | cut -d' ' -f1)"
sync
echo "VDA HOST-MD5=$(dd if=/dev/vda bs=65536 count=%(blocks)d iflag=direct 2>/dev/null \
| md5sum | cut -d' ' -f1)"
echo "FAULTS=$(dmesg | grep -c 'DMAR: \\[DMA')"
"""



def argv_for(emu, parts, initrd, img, vd):
    return [emu, "-M", "q35,kernel_irqchip=split", "-cpu", "qemu64", "-m", "512M",
            "-nographic", "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd,
            "-append", CMDLINE,
            "-device", "nvme,drive=nvme0,serial=deadbeaf1,num_queues=8",
            "-drive", "file=%s,if=none,id=nvme0" % img,
            "-drive", "file=%s,if=none,id=vd0,format=raw" % vd,
            "-device", "virtio-blk-pci,drive=vd0",
            "-device", "intel_iommu,intremap=on"]



def check_iommu(c):
    dm = c.split("DMESG-BEGIN", 1)[-1].split("DMESG-END", 1)[0]
    check("dmesg: the DMAR table is found (ACPI: DMAR) and the unit at 0xfed90000 is used",
          "ACPI: DMAR" in c and "fed90000" in dm.lower(), dm[-3000:])
    check("dmesg: DMA remapping is enabled (Intel(R) Virtualization Technology for "
          "Directed I/O)", "Intel(R) Virtualization Technology for Directed I/O" in dm,
          dm[-3000:])
    check("/sys/class/iommu/dmar0 exists", value(c, "DMAR0") == "/sys/class/iommu/dmar0",
          c[-2000:])
    check("the nvme function is in an iommu_group", (value(c, "NVME-GROUP") or "").isdigit(),
          "NVME-DEV=%s NVME-GROUP=%s" % (value(c, "NVME-DEV"), value(c, "NVME-GROUP")))
    check("its default domain translates (DMA or DMA-FQ, not identity)",
          (value(c, "NVME-DOMAIN") or "").startswith("DMA"),
          "NVME-DOMAIN=%s" % value(c, "NVME-DOMAIN"))
    check("dmesg: interrupt remapping enabled (Enabled IRQ remapping in xapic mode)",
          "Enabled IRQ remapping in xapic mode" in dm, dm[-3000:])
    irqs = c.split("IRQS-BEGIN", 1)[-1].split("IRQS-END", 1)[0].splitlines()
    nvme = [l for l in irqs if "nvme0q" in l]
    check("the nvme queues' vectors are remapped (IR-PCI-MSI/MSIX) and fire",
          len(nvme) >= 2 and all("IR-PCI-MSI" in l for l in nvme) and
          sum(int(x) for l in nvme for x in l.split()[1:2] if x.isdigit()) > 0, "\n".join(irqs))
    ioapic = [l for l in irqs if "IO-APIC" in l]
    check("the I/O APIC's interrupts are remapped (IR-IO-APIC) and fire",
          bool(ioapic) and all("IR-IO-APIC" in l for l in ioapic) and
          any(int(l.split()[1]) > 0 for l in ioapic if l.split()[1].isdigit()), "\n".join(irqs))
    check("no DMAR fault reported", value(c, "FAULTS") == "0", dm[-3000:])


def check_disk(c, wd, img):
    want = hashlib.md5(pattern(PATTERN_LEN, b"nvme")).hexdigest()
    check("the nvme disk reads qemu-img's pattern through translated DMA",
          "DISK HOST-MD5=%s" % want in c, c[-2000:])
    chk = subprocess.run(["qemu-img", "check", img], capture_output=True, text=True)
    got = guestlib.image_md5(img, GUEST_OFF, GUEST_LEN)
    vd = hashlib.md5(pattern(PATTERN_LEN, b"virtio")).hexdigest()
    check("a virtio-blk-pci disk beside it reads its pattern (its DMA bypasses translation)",
          "VDA HOST-MD5=%s" % vd in c, c[-2000:])
    check("the guest's O_DIRECT write is in the qcow2 image and reads back, qemu-img "
          "check clean",
          value(c, "DISK DD-STATUS") == "0" and value(c, "DISK GUEST-MD5") == got
          and value(c, "DISK READBACK-MD5") == got and chk.returncode == 0,
          chk.stdout + chk.stderr + c[-1500:])


def run(emu, wd):
    parts = amd64_parts()
    mods = guestlib.module_files(parts, ["nvme", "virtio_pci", "virtio_blk"])
    script = TEST_SCRIPT % {"insmod": guestlib.insmod_script(mods),
                            "blocks": PATTERN_LEN // 65536, "gblocks": GUEST_LEN // 4096,
                            "gseek": GUEST_OFF // 4096}
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=mods)
    img = guestlib.make_qcow2(os.path.join(wd, "disk.qcow2"), IMAGE_SIZE,
                              pattern(PATTERN_LEN, b"nvme"))
    vd = os.path.join(wd, "vd.img")
    with open(vd, "wb") as f:
        f.truncate(IMAGE_SIZE)
        f.write(pattern(PATTERN_LEN, b"virtio"))
    b = guestlib.Boot(argv_for(emu, parts, initrd, img, vd), BOOT_TIMEOUT)
    c = b.console
    guestlib.check_boot(b, BOOT_TIMEOUT)
    check_iommu(c)
    check_disk(c, wd, img)


def main():
    return guestlib.emu_main(__doc__, run)


if __name__ == "__main__":
    sys.exit(main())
