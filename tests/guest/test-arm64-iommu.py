#!/usr/bin/env python3
"""guest suite: the Arm SMMUv3 (plugins/iommu arm-smmuv3) on
`-M virt,iommu=smmuv3` with Debian's arm64 kernel (arm-smmu-v3 built in)
and iommu.passthrough=0, in one boot. TAP output.

    test-arm64-iommu.py TESSERA [EMULATOR]
    test-arm64-iommu.py TESSERA migrate

An nvme controller (qcow2 image) sits behind the gpex host bridge, so
every PRP and queue entry it fetches is an IOVA the SMMU translates. The
guest judges:
  - dmesg: arm-smmu-v3 probes the unit at 0x9050000 (its "ias 48-bit"
    line; QEMU's says 44) with no error, and no event, command or global
    error is reported afterwards;
  - /sys/class/iommu/smmu3.0x0000000009050000 exists and the NVMe function sits in an
    iommu_group (listed under /sys/kernel/iommu_groups) whose default
    domain translates (DMA or DMA-FQ);
  - the disk reads the pattern qemu-img put in the image, and takes an
    O_DIRECT write of a random pattern that reads back and that the host
    finds in the image (qemu-img check clean);
  - a virtio-blk-pci disk beside it reads its pattern: virtio devices do
    not offer VIRTIO_F_ACCESS_PLATFORM (QEMU's iommu_platform=off), so
    Linux gives them guest-physical addresses and their DMA bypasses
    translation, as in QEMU;
  - poweroff ends the emulator with 0.
EMULATOR (default: TESSERA) runs the same checks on qemu-system-aarch64.

migrate: the SMMU's state moves with the guest. The guest writes a
pattern through the nvme (translated), then waits on the console; the
host migrates the machine to a file over QMP, ends the source and starts
the destination from it (-incoming file:), which types the line the
guest waits for. A qcow2 image with cache=none: the source flushes it
before the handover and the destination re-reads its metadata (the
source allocated clusters after the destination opened it). There, with
the SMMU's caches cold and its tables in the
guest's RAM, the guest reads the pattern back, writes and reads a second
one (the host finds both in the image), no SMMU event is reported, and
the destination exits at the guest's poweroff.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import pattern, value  # noqa: E402
from tesstest import Qmp, check, tap_report  # noqa: E402

BOOT_TIMEOUT = 480
CMDLINE = guestlib.CMDLINE + " iommu.passthrough=0"
MiB = 1 << 20
IMAGE_SIZE = 16 * MiB
PATTERN_LEN = MiB
GUEST_OFF = 8 * MiB + 4096
GUEST_LEN = 256 * 1024
SMMU_SYSFS = "/sys/class/iommu/smmu3.0x0000000009050000"

TEST_SCRIPT = """\
%(insmod)s
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
echo "DMESG-BEGIN"
dmesg | grep -i -e smmu -e iommu
echo "DMESG-END"
echo "SMMU=$(ls -d %(sysfs)s 2>/dev/null)"
N=$(readlink -f /sys/class/nvme/nvme0/device)
echo "NVME-DEV=$N"
G=$(basename $(readlink $N/iommu_group) 2>/dev/null)
echo "NVME-GROUP=$G"
echo "NVME-DOMAIN=$(cat $N/iommu_group/type 2>/dev/null)"
echo "GROUP-DEVICES=$(ls /sys/kernel/iommu_groups/$G/devices 2>/dev/null | tr '\\n' ' ')"
D=/dev/nvme0n1
echo "HOST-MD5=$(dd if=$D bs=65536 count=%(blocks)d iflag=direct 2>/dev/null \
| md5sum | cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
echo "GUEST-MD5=$(md5sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=$D bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "DD-STATUS=$?"
echo "READBACK-MD5=$(dd if=$D bs=4096 skip=%(gseek)d count=%(gblocks)d iflag=direct \
2>/dev/null | md5sum | cut -d' ' -f1)"
sync
echo "VDA-MD5=$(dd if=/dev/vda bs=65536 count=%(blocks)d iflag=direct 2>/dev/null \
| md5sum | cut -d' ' -f1)"
echo "EVENTS=$(dmesg | grep -c -i -e 'event 0x' -e 'CMDQ error' -e 'gerror')"
"""



def argv_for(emu, parts, initrd, img, vd):
    argv = guestlib.emulator_argv(emu, parts["KERNEL"], initrd, smp=2, append=CMDLINE,
                                  extra=["-device", "nvme,drive=nvme0,serial=deadbeaf1",
                                         "-drive", "file=%s,if=none,id=nvme0" % img,
                                         "-drive", "file=%s,if=none,id=vd0,format=raw" % vd,
                                         "-device", "virtio-blk-pci,drive=vd0"])
    argv[argv.index("virt")] = "virt,iommu=smmuv3"
    return argv


SMMU_NODE = """smmuv3@9050000 {
#iommu-cells = <0x01>;
dma-coherent;
interrupt-names = "eventq\\0priq\\0cmdq-sync\\0gerror";
interrupts = <0x00 0x4a 0x01 0x00 0x4b 0x01 0x00 0x4c 0x01 0x00 0x4d 0x01>;
reg = <0x00 0x9050000 0x00 0x20000>;
compatible = "arm,smmu-v3";
};"""


def check_dtb(emu, wd):
    """The device tree as QEMU's virt writes it (gic-version=2 for QEMU):
    the smmuv3 node (phandle aside) and the pcie node's iommu-map to it."""
    dtb = os.path.join(wd, "virt.dtb")
    subprocess.run([emu, "-M", "virt,iommu=smmuv3,gic-version=2,dumpdtb=" + dtb,
                    "-cpu", "cortex-a57", "-nographic"], capture_output=True, timeout=60)
    dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", dtb], capture_output=True,
                         text=True).stdout if os.path.exists(dtb) else ""
    node = re.search(r"(smmuv3@9050000 \{.*?\};)", dts, re.S)
    lines = [l.strip() for l in (node.group(1) if node else "").splitlines()]
    ph = [l.split("<")[1].rstrip(">;") for l in lines if l.startswith("phandle")]
    body = "\n".join(l for l in lines if not l.startswith("phandle"))
    check("dumpdtb: the smmuv3 node as QEMU's (arm,smmu-v3, 128 KiB at 0x9050000, SPIs "
          "74..77 edge, #iommu-cells 1)", body == SMMU_NODE, dts[-3000:] or "no dtb")
    check("dumpdtb: the pcie node maps every requester id onto it (iommu-map)",
          bool(ph) and ("iommu-map = <0x00 %s 0x00 0x10000>;" % ph[0]) in dts, dts[-3000:])
    bad = subprocess.run([emu, "-M", "virt,iommu=bogus", "-nographic", "-kernel", dtb],
                         capture_output=True, text=True, timeout=60)
    check("iommu=bogus is refused with one line naming the property",
          bad.returncode != 0 and "iommu" in bad.stderr and
          (len(bad.stderr.strip().splitlines()) == 1 or "qemu" in os.path.basename(emu)),
          "status %d: %s" % (bad.returncode, bad.stderr))



def check_smmu(c):
    dm = c.split("DMESG-BEGIN", 1)[-1].split("DMESG-END", 1)[0]
    # tessera's unit says 48-bit (IDR5.OAS), QEMU's 44-bit
    check("dmesg: arm-smmu-v3 probes the unit at 0x9050000 (ias/oas line)",
          re.search(r"arm-smmu-v3 9050000\.smmuv3: ias (44|48)-bit, oas (44|48)-bit", dm)
          is not None, dm[-3000:])
    check("dmesg: no probe error (failed, unsupported, timeout)",
          not any(s in dm.lower() for s in ("failed", "unsupported", "timeout")), dm[-3000:])
    check("%s exists" % SMMU_SYSFS, value(c, "SMMU") == SMMU_SYSFS, c[-2000:])
    check("the nvme function is in an iommu_group that lists it",
          (value(c, "NVME-GROUP") or "").isdigit() and
          os.path.basename(value(c, "NVME-DEV") or "-") in (value(c, "GROUP-DEVICES") or ""),
          "NVME-DEV=%s NVME-GROUP=%s GROUP-DEVICES=%s" % (
              value(c, "NVME-DEV"), value(c, "NVME-GROUP"), value(c, "GROUP-DEVICES")))
    check("its default domain translates (DMA or DMA-FQ, not identity)",
          (value(c, "NVME-DOMAIN") or "").startswith("DMA"),
          "NVME-DOMAIN=%s" % value(c, "NVME-DOMAIN"))
    check("no SMMU event, command or global error reported", value(c, "EVENTS") == "0",
          dm[-3000:])


def check_disk(c, wd, img):
    want = hashlib.md5(pattern(PATTERN_LEN, b"nvme")).hexdigest()
    check("the nvme disk reads qemu-img's pattern through translated DMA",
          value(c, "HOST-MD5") == want, c[-2000:])
    chk = subprocess.run(["qemu-img", "check", img], capture_output=True, text=True)
    got = guestlib.image_md5(img, GUEST_OFF, GUEST_LEN)
    vd = hashlib.md5(pattern(PATTERN_LEN, b"virtio")).hexdigest()
    check("a virtio-blk-pci disk beside it reads its pattern (no ACCESS_PLATFORM: its DMA "
          "bypasses translation, as in QEMU)", value(c, "VDA-MD5") == vd, c[-2000:])
    check("the guest's O_DIRECT write reads back and is in the qcow2 image, qemu-img "
          "check clean",
          value(c, "DD-STATUS") == "0" and value(c, "GUEST-MD5") == got
          and value(c, "READBACK-MD5") == got and chk.returncode == 0,
          chk.stdout + chk.stderr + c[-1500:])


MIGRATE_SCRIPT = """\
%(insmod)s
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
D=/dev/nvme0n1
dd if=/dev/urandom of=/tmp/p bs=4096 count=64 2>/dev/null
echo "PRE-MD5=$(md5sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=$D bs=4096 seek=%(seek1)d oflag=direct conv=notrunc 2>/dev/null
echo MIGRATE-NOW
read x
echo "RESUMED=$x"
echo "POST-READ-MD5=$(dd if=$D bs=4096 skip=%(seek1)d count=64 iflag=direct 2>/dev/null \
| md5sum | cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/q bs=4096 count=64 2>/dev/null
echo "POST-MD5=$(md5sum < /tmp/q | cut -d' ' -f1)"
dd if=/tmp/q of=$D bs=4096 seek=%(seek2)d oflag=direct conv=notrunc 2>/dev/null
echo "POST-READBACK-MD5=$(dd if=$D bs=4096 skip=%(seek2)d count=64 iflag=direct \
2>/dev/null | md5sum | cut -d' ' -f1)"
sync
echo "EVENTS=$(dmesg | grep -c -i -e 'event 0x' -e 'CMDQ error' -e 'gerror')"
"""


class TypeLater(guestlib.Boot):
    """A boot that types text on the console delay seconds after start
    (the destination of a migration shows nothing to react to)."""

    def __init__(self, argv, timeout, text, delay, until=None):
        self.later = (text, delay)
        super().__init__(argv, timeout, until=until)

    def _run(self, timeout):
        t = threading.Timer(self.later[1], lambda: self.send(self.later[0]))
        t.start()
        try:
            super()._run(timeout)
        finally:
            t.cancel()


def migrate_action(qmp_path, state_file, out):
    """At MIGRATE-NOW: migrate to state_file, then end the source."""
    def act(b):
        try:
            q = Qmp(qmp_path, timeout=60)
            q.negotiate()
            out["migrate"] = q.cmd("migrate", {"uri": "file:" + state_file})
            deadline = time.time() + 120
            while time.time() < deadline:
                st = q.cmd("query-migrate").get("return", {}).get("status")
                if st in ("completed", "failed", "cancelled"):
                    break
                time.sleep(0.2)
            out["status"] = st
        except Exception as e:  # the checks report it
            out["error"] = repr(e)
        b.proc.kill()
    return act


def run_migrate(emu, wd):
    parts = guestlib.guest_parts()
    mods = guestlib.module_files(parts, ["nvme"])
    seek1, seek2 = GUEST_OFF // 4096, (GUEST_OFF + MiB) // 4096
    script = MIGRATE_SCRIPT % {"insmod": guestlib.insmod_script(mods), "seek1": seek1,
                               "seek2": seek2}
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=mods)
    img = os.path.join(wd, "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", img, str(IMAGE_SIZE)],
                   check=True)
    argv = guestlib.emulator_argv(emu, parts["KERNEL"], initrd, append=CMDLINE,
                                  extra=["-device", "nvme,drive=nvme0,serial=deadbeaf1",
                                         "-drive", "file=%s,if=none,id=nvme0,format=qcow2,"
                                         "cache=none" % img])
    argv[argv.index("virt")] = "virt,iommu=smmuv3"
    qmp_path, state = os.path.join(wd, "qmp.sock"), os.path.join(wd, "state")
    out = {}
    src = guestlib.Boot(argv + ["-qmp", "unix:%s,server=on,wait=off" % qmp_path],
                        BOOT_TIMEOUT,
                        actions={"MIGRATE-NOW": migrate_action(qmp_path, state, out)})
    check("source: the guest wrote through the SMMU and the migration completed",
          value(src.console, "PRE-MD5") is not None and out.get("status") == "completed",
          "%s\n%s" % (out, src.tail()))
    dst = TypeLater(argv + ["-incoming", "file:" + state], BOOT_TIMEOUT, "go\n", 3)
    c = dst.console
    check("destination: exits 0 at the guest's poweroff", dst.status == 0 and not
          dst.timed_out, dst.tail())
    check("destination: the guest resumed (the line typed reached it) and ran to its end",
          (value(c, "RESUMED") or "").endswith("o") and "tessera-guest: test.sh exited 0" in c,
          dst.tail())
    pre, post = value(src.console, "PRE-MD5"), value(c, "POST-MD5")
    check("destination: the pattern written before migrating reads back through the SMMU",
          pre is not None and value(c, "POST-READ-MD5") == pre, dst.tail())
    host1 = guestlib.image_md5(img, seek1 * 4096, 64 * 4096)
    host2 = guestlib.image_md5(img, seek2 * 4096, 64 * 4096)
    check("destination: a new pattern is written and read back; the host finds both",
          post is not None and value(c, "POST-READBACK-MD5") == post and host2 == post
          and host1 == pre, "host %s %s\n%s" % (host1, host2, dst.tail()))
    check("destination: no SMMU event, command or global error reported",
          value(c, "EVENTS") == "0", dst.tail())


def run(emu, wd):
    parts = guestlib.guest_parts()
    mods = guestlib.module_files(parts, ["nvme", "virtio_pci", "virtio_blk"])
    script = TEST_SCRIPT % {"insmod": guestlib.insmod_script(mods), "sysfs": SMMU_SYSFS,
                            "blocks": PATTERN_LEN // 65536, "gblocks": GUEST_LEN // 4096,
                            "gseek": GUEST_OFF // 4096}
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=mods)
    img = guestlib.make_qcow2(os.path.join(wd, "disk.qcow2"), IMAGE_SIZE,
                              pattern(PATTERN_LEN, b"nvme"))
    vd = os.path.join(wd, "vd.img")
    with open(vd, "wb") as f:
        f.truncate(IMAGE_SIZE)
        f.write(pattern(PATTERN_LEN, b"virtio"))
    check_dtb(emu, wd)
    b = guestlib.Boot(argv_for(emu, parts, initrd, img, vd), BOOT_TIMEOUT)
    c = b.console
    guestlib.check_boot(b, BOOT_TIMEOUT)
    check_smmu(c)
    check_disk(c, wd, img)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    migrate = len(sys.argv) > 2 and sys.argv[2] == "migrate"
    emu = sys.argv[2] if len(sys.argv) > 2 and not migrate else sys.argv[1]
    wd = guestlib.workdir()
    try:
        (run_migrate if migrate else run)(emu, wd)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
