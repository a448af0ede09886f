#!/usr/bin/env python3
"""guest suite, megasas: the tutorial's megasas line (LSI MegaRAID SAS 1078,
two scsi-hd on qcow2 images at scsi-id 0 and 1) under Debian's kernel, whose
megaraid_sas and sd_mod drivers are the judges; the host checks the images
afterwards with qemu-img and e2fsck. One boot. TAP output.

    test-scsi-megasas.py TESSERA [ARCH [EMULATOR]]

ARCH: arm64 (default; -M virt, Debian's arm64 kernel) or amd64 (-M q35,
Debian's amd64 kernel; no mkfs.ext4 there: scripts/guest-amd64 has no tools
archive, so the ext4 check is skipped).

Checks: /sys/class/scsi_device lists the two disks as QEMU's megasas shows
them (logical drives on the driver's channel 2: <host>:2:0:0 and
<host>:2:1:0, as qemu-system-aarch64 and qemu-system-x86_64 showed with
these kernels); the guest reads the pattern the host wrote on each disk and
writes one with dd oflag=direct that the host finds in the qcow2 image;
mkfs.ext4 (arm64) on the second disk, files written, umount, and the
host's e2fsck -fn finds it clean; qemu-img check finds both images clean;
(tessera only, the QMP part) a scsi-hd added with QMP device_add at
scsi-id 2 appears as <host>:2:2:0 and goes after device_del.
EMULATOR (default: TESSERA) runs the same checks on QEMU.
"""
import hashlib
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import pattern, value  # noqa: E402
from tesstest import check  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s
MiB = 1 << 20
IMAGE_SIZE = 64 * MiB
PATTERN_LEN = MiB
GUEST_OFF = 8 * MiB + 4096
GUEST_LEN = 256 * 1024
# What QEMU 8/9's megasas shows (logical drives, channel 2): checked with
# qemu-system-aarch64 -M virt and qemu-system-x86_64 -M q35 on these kernels.
WANT_TUPLES = ["2:0:0", "2:1:0"]

SCRIPT = r"""
# Kernel notices (a hot-added disk's "sd ...: Attached") must not land in
# the middle of a KEY=VALUE line: only emergencies (an Oops) reach the console.
dmesg -n 1
i=0
while [ $i -lt 150 ]; do
    b=$(ls -d /sys/class/scsi_device/*/device/block/* 2>/dev/null | wc -l)
    [ "$b" -ge 2 ] && break
    sleep 0.1
    i=$((i + 1))
done
for d in /sys/class/scsi_device/*; do
    echo "SCSIDEV ${d##*/} $(cat $d/device/type) $(ls $d/device/block)"
done
dev() { ls /sys/class/scsi_device/*:*:$1:0/device/block | head -1; }
D0=/dev/$(dev 0)
D1=/dev/$(dev 1)
echo "DEVS=$D0 $D1"
echo "IRQ=$(grep -c megasas /proc/interrupts)"
echo "D0-HOST-MD5=$(dd if=$D0 bs=65536 count=%(blocks)d 2>/dev/null | md5sum | cut -d' ' -f1)"
echo "D1-HOST-MD5=$(dd if=$D1 bs=65536 count=%(blocks)d 2>/dev/null | md5sum | cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
echo "GUEST-MD5=$(md5sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=$D0 bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "DD-STATUS=$?"
echo "READBACK-MD5=$(dd if=$D0 bs=4096 skip=%(gseek)d count=%(gblocks)d iflag=direct \
2>/dev/null | md5sum | cut -d' ' -f1)"
if [ -x /usr/local/sbin/mkfs.ext4 ]; then
    /usr/local/sbin/mkfs.ext4 -q -F $D1
    s=$?
    mkdir -p /mnt
    mount -t ext4 $D1 /mnt
    s=$((s + $?))
    for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        dd if=/dev/urandom of=/mnt/f$n bs=4096 count=$n 2>/dev/null
    done
    echo "megasas ext4" > /mnt/hello.txt
    umount /mnt
    s=$((s + $?))
    echo "EXT4-STATUS=$s"
fi
sync
echo HOTPLUG-PLEASE
read answer
i=0
while [ $i -lt 100 ] && ! ls -d /sys/class/scsi_device/*:2:2:0/device/block/* >/dev/null 2>&1; do
    sleep 0.1
    i=$((i + 1))
done
echo "HOTPLUG-ADDED=$(ls /sys/class/scsi_device/*:2:2:0/device/block 2>/dev/null)"
echo UNPLUG-PLEASE
read answer
i=0
while [ $i -lt 100 ] && ls -d /sys/class/scsi_device/*:2:2:0 >/dev/null 2>&1; do
    sleep 0.1
    i=$((i + 1))
done
echo "HOTPLUG-LEFT=$(ls -d /sys/class/scsi_device/*:2:2:0 2>/dev/null | wc -l)"
# what the console no longer shows (dmesg -n 1 above)
echo "DMESG-BAD=$(dmesg | grep -c -E 'BUG:|Internal error: Oops|Kernel panic')"
""" % {"blocks": PATTERN_LEN // 65536, "gblocks": GUEST_LEN // 4096,
       "gseek": GUEST_OFF // 4096}


def check_images(c, wd, boot, disk, tools, b):
    guest = value(c, "GUEST-MD5")
    check("dd oflag=direct to the first disk succeeds and reads back the same",
          value(c, "DD-STATUS") == "0" and guest and value(c, "READBACK-MD5") == guest,
          b.tail())
    for img in (boot, disk):
        chk = subprocess.run(["qemu-img", "check", img], capture_output=True, text=True)
        check("qemu-img check finds %s clean" % os.path.basename(img), chk.returncode == 0,
              chk.stdout + chk.stderr)
    raw = guestlib.qcow2_raw(boot)
    with open(raw, "rb") as f:
        f.seek(GUEST_OFF)
        got = hashlib.md5(f.read(GUEST_LEN)).hexdigest()
    check("after exit boot.qcow2 holds the guest's data at its offset",
          guest is not None and got == guest, "guest %s, image %s" % (guest, got))
    if not tools:
        return
    check("ext4: mkfs.ext4, mount, 21 files, umount succeed in the guest",
          value(c, "EXT4-STATUS") == "0", b.tail())
    raw = guestlib.qcow2_raw(disk)
    fsck = subprocess.run(["e2fsck", "-fn", raw], capture_output=True, text=True)
    check("ext4: e2fsck -fn on the host finds disk.qcow2's file system clean",
          fsck.returncode == 0, fsck.stdout + fsck.stderr)
    cat = subprocess.run(["debugfs", "-R", "cat /hello.txt", raw], capture_output=True,
                         text=True)
    check("ext4: debugfs reads the guest's file back", cat.stdout.strip() == "megasas ext4",
          cat.stdout + cat.stderr)


def run(arch, emu, parts, wd, tessera):
    boot, disk, hot = (guestlib.make_qcow2(os.path.join(wd, name + ".qcow2"), IMAGE_SIZE,
                                           pattern(PATTERN_LEN, name.encode()))
                       for name in ("boot", "disk", "hot"))
    qmp_path = os.path.join(wd, "qmp.sock") if tessera else None
    out = {}
    actions = {
        "HOTPLUG-PLEASE": guestlib.qmp_action(qmp_path, "device_add", {
            "driver": "scsi-hd", "id": "hot2", "drive": "drive2", "bus": "scsi0.0",
            "channel": 0, "scsi-id": 2, "lun": 0}, out),
        "UNPLUG-PLEASE": guestlib.qmp_action(qmp_path, "device_del", {"id": "hot2"}, out),
    }
    extra = [  # The tutorial's line, word for word.
        "-device", "megasas,id=scsi0",
        "-device", "scsi-hd,drive=drive0,bus=scsi0.0,channel=0,scsi-id=0,lun=0,bootindex=1",
        "-drive", "file=%s,if=none,id=drive0" % boot,
        "-device", "scsi-hd,drive=drive1,bus=scsi0.0,channel=0,scsi-id=1,lun=0",
        "-drive", "file=%s,if=none,id=drive1" % disk]
    extra += ["-drive", "file=%s,if=none,id=drive2" % hot]
    if tessera:
        extra += ["-qmp", "unix:%s,server=on,wait=off" % qmp_path]
    extra += os.environ.get("MEGASAS_TEST_EXTRA", "").split()  # e.g. -d guest_errors
    tools = [parts["TOOLS"]] if "TOOLS" in parts else []
    names = ["megaraid_sas", "sd_mod"] + (["ext4"] if tools else [])
    # sd_mod pulls crc-t10dif, whose PCLMUL flavour refuses a CPU without
    # it (-cpu qemu64): the generic one serves.
    mods = [m for m in guestlib.module_files(parts, names) if "pclmul" not in m]
    initrd = guestlib.make_initrd(wd, parts["INITRD"], guestlib.insmod_script(mods) + SCRIPT,
                                  modules=mods, extra=tools)
    b = guestlib.Boot(guestlib.arch_argv(arch, emu, parts["KERNEL"], initrd, smp=2, extra=extra),
                      BOOT_TIMEOUT, actions=actions)
    c = b.console
    guestlib.check_ran(b, clean=value(c, "DMESG-BAD") == "0" and "BUG:" not in c)
    tuples = sorted(re.findall(r"^SCSIDEV (\d+:\d+:\d+:\d+) 0 sd\w$", c, re.M))
    check("/sys/class/scsi_device: two disks at <host>:%s as QEMU shows them"
          % " and <host>:".join(WANT_TUPLES),
          [t.split(":", 1)[1] for t in tuples] == WANT_TUPLES
          and len(set(t.split(":")[0] for t in tuples)) == 1, "%s\n%s" % (tuples, b.tail()))
    check("the driver took an interrupt line named megasas",
          int(value(c, "IRQ") or 0) >= 1, b.tail())
    for key, seed in (("D0", b"boot"), ("D1", b"disk")):
        want = hashlib.md5(pattern(PATTERN_LEN, seed)).hexdigest()
        check("%s: the guest reads the pattern the host wrote" % key,
              value(c, key + "-HOST-MD5") == want, b.tail())
    check_images(c, wd, boot, disk, bool(tools), b)
    if tessera:
        check("device_add of a scsi-hd at scsi-id 2: the event wait completes, the guest "
              "adds <host>:2:2:0", "return" in out.get("device_add", {})
              and (value(c, "HOTPLUG-ADDED") or "").startswith("sd"),
              repr(out.get("device_add")) + b.tail())
        check("device_del: the guest removes <host>:2:2:0",
              "return" in out.get("device_del", {}) and value(c, "HOTPLUG-LEFT") == "0",
              repr(out.get("device_del")) + b.tail())


def main():
    return guestlib.arch_main(__doc__, run)


if __name__ == "__main__":
    sys.exit(main())
