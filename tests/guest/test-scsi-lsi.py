#!/usr/bin/env python3
"""guest suite, lsi53c895a: Debian's kernel with the tutorial's LSI line
(an lsi53c895a and two scsi-hd targets on qcow2 images attached without
format=, probed) on `tessera -M virt` (arm64) or `-M q35` (amd64); the
guest's sym53c8xx and sd_mod drivers are the judges, the host checks the
images afterwards. One boot. TAP output.

    test-scsi-lsi.py TESSERA [ARCH [EMULATOR]]

ARCH: arm64 (default; Debian's arm64 kernel and its tools archive) or
amd64 (-M q35, AMD64_CMDLINE; no tools archive, so no ext4 there).

Checks: sym53c8xx attaches to the 53C895A; /sys/class/scsi_device lists
exactly <host>:0:0:0 and <host>:0:1:0 (QEMU HARDDISK, the tuples QEMU's
lsi53c895a gives); the guest reads the pattern the host put in boot.qcow2
and writes one with dd oflag=direct that the host finds in the image
afterwards; arm64: mkfs.ext4 on disk.qcow2, 201 files, umount, and on the
host `qemu-img check` and `e2fsck -fn` find both clean; on tessera, the
driver trips nothing the chip logs under -d guest_errors,unimp. EMULATOR (default:
TESSERA) runs the same checks on qemu-system-aarch64/-x86_64.
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

SCRIPT = r"""
i=0
while [ $i -lt 150 ]; do
    b=$(ls -d /sys/class/scsi_device/*/device/block/* 2>/dev/null | wc -l)
    [ "$b" -ge 2 ] && break
    sleep 0.1
    i=$((i + 1))
done
echo "SYM-ATTACH=$(dmesg | grep -c 'sym0: <895a>')"
for d in /sys/class/scsi_device/*; do
    echo "SCSIDEV ${d##*/} $(cat $d/device/type) $(cat $d/device/vendor) \
$(cat $d/device/model) $(ls $d/device/block)"
done
dev() { ls /sys/class/scsi_device/*:0:$1:0/device/block; }
L0=/dev/$(dev 0)
L1=/dev/$(dev 1)
echo "DEVS=$L0 $L1"
echo "HOST-MD5=$(dd if=$L0 bs=65536 count=%(blocks)d iflag=direct 2>/dev/null | md5sum \
| cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
echo "GUEST-MD5=$(md5sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=$L0 bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "DD-STATUS=$?"
echo "READBACK-MD5=$(dd if=$L0 bs=4096 skip=%(gseek)d count=%(gblocks)d iflag=direct \
2>/dev/null | md5sum | cut -d' ' -f1)"
if [ -x /usr/local/sbin/mkfs.ext4 ]; then
    mkdir -p /mnt
    /usr/local/sbin/mkfs.ext4 -q -F $L1
    echo "MKFS-STATUS=$?"
    mount -t ext4 $L1 /mnt || echo MOUNT-FAILED
    for d in 0 1 2 3; do
        mkdir /mnt/d$d
        i=0
        while [ $i -lt 50 ]; do
            echo "tessera lsi $d-$i" > /mnt/d$d/f$i
            i=$((i + 1))
        done
    done
    dd if=/dev/urandom of=/mnt/big bs=65536 count=64 2>/dev/null
    echo "FILES=$(find /mnt -type f | wc -l)"
    umount /mnt
    echo "UMOUNT-STATUS=$?"
fi
sync
# The driver resets the bus once at probe ("SCSI BUS has been reset"): any
# other reset, abort, timeout or error is a failure.
dmesg | grep -iE 'sym0:.*(error|abort|reset|timeout)|I/O error' \
| grep -v 'SCSI BUS has been reset' | sed 's/^/SCSI-ERROR-LINE /'
echo "SCSI-ERRORS=$(dmesg | grep -iE 'sym0:.*(error|abort|reset|timeout)|I/O error' \
| grep -vc 'SCSI BUS has been reset')"
""" % {"blocks": PATTERN_LEN // 65536, "gblocks": GUEST_LEN // 4096,
       "gseek": GUEST_OFF // 4096}


def check_images(c, boot, disk, ext4):
    for img in (boot, disk):
        chk = subprocess.run(["qemu-img", "check", img], capture_output=True, text=True)
        check("%s passes qemu-img check" % os.path.basename(img), chk.returncode == 0,
              chk.stdout + chk.stderr)
    guest = value(c, "GUEST-MD5")
    with open(guestlib.qcow2_raw(boot), "rb") as f:
        f.seek(GUEST_OFF)
        got = hashlib.md5(f.read(GUEST_LEN)).hexdigest()
    check("after exit boot.qcow2 holds the guest's data at its offset",
          guest is not None and got == guest, "guest %s, image %s" % (guest, got))
    if not ext4:
        return
    check("mkfs.ext4, mount, 201 files, umount on the second target succeed",
          value(c, "MKFS-STATUS") == "0" and value(c, "FILES") == "201"
          and value(c, "UMOUNT-STATUS") == "0", c[-3000:])
    raw = guestlib.qcow2_raw(disk)
    fsck = subprocess.run(["e2fsck", "-fn", raw], capture_output=True, text=True)
    check("e2fsck -fn on the host finds disk.qcow2's file system clean",
          fsck.returncode == 0, fsck.stdout + fsck.stderr)
    cat = subprocess.run(["debugfs", "-R", "cat /d3/f42", raw], capture_output=True, text=True)
    check("debugfs reads /d3/f42 back", cat.stdout == "tessera lsi 3-42\n",
          repr(cat.stdout) + cat.stderr)


def run(arch, emu, parts, wd, tessera=True):
    boot = guestlib.make_qcow2(os.path.join(wd, "boot.qcow2"), IMAGE_SIZE,
                               pattern(PATTERN_LEN, b"lsi-boot"))
    disk = guestlib.make_qcow2(os.path.join(wd, "disk.qcow2"), IMAGE_SIZE)
    extra = [  # the tutorial's line, word for word (paths made absolute)
        "-device", "lsi53c895a,id=scsi0",
        "-device", "scsi-hd,drive=drive0,bus=scsi0.0,channel=0,scsi-id=0,lun=0,bootindex=1",
        "-drive", "file=%s,if=none,id=drive0" % boot,
        "-device", "scsi-hd,drive=drive1,bus=scsi0.0,channel=0,scsi-id=1,lun=0",
        "-drive", "file=%s,if=none,id=drive1" % disk]
    log = os.path.join(wd, "tessera.log")
    if tessera:  # what Linux does must never look like a guest error
        extra += ["-d", "guest_errors,unimp", "-D", log]
    names = ["sym53c8xx", "sd_mod"] + (["ext4"] if "TOOLS" in parts else [])
    # sd_mod pulls crc-t10dif, whose PCLMUL flavour refuses -cpu qemu64.
    mods = [m for m in guestlib.module_files(parts, names) if "pclmul" not in m]
    tools = [parts["TOOLS"]] if "TOOLS" in parts else []
    initrd = guestlib.make_initrd(wd, parts["INITRD"], guestlib.insmod_script(mods) + SCRIPT,
                                  modules=mods, extra=tools)
    b = guestlib.Boot(guestlib.arch_argv(arch, emu, parts["KERNEL"], initrd, smp=2, extra=extra),
                      BOOT_TIMEOUT)
    c = b.console
    guestlib.check_ran(b)
    check("sym53c8xx attaches to the 53C895A (sym0: <895a>)",
          int(value(c, "SYM-ATTACH") or 0) >= 1, b.tail())
    tuples = sorted(re.findall(r"^SCSIDEV (\d+:\d+:\d+:\d+) ", c, re.M))
    check("/sys/class/scsi_device holds exactly <host>:0:0:0 and <host>:0:1:0 (as on QEMU)",
          [t.split(":", 1)[1] for t in tuples] == ["0:0:0", "0:1:0"]
          and len(set(t.split(":")[0] for t in tuples)) == 1, "%s\n%s" % (tuples, b.tail()))
    check("both targets are QEMU HARDDISK (type 0) with a block device",
          len(re.findall(r"^SCSIDEV \d+:0:[01]:0 0 QEMU +QEMU HARDDISK +sd\w$", c, re.M)) == 2,
          b.tail())
    check("the guest reads the pattern the host put in boot.qcow2",
          value(c, "HOST-MD5") == hashlib.md5(pattern(PATTERN_LEN, b"lsi-boot")).hexdigest(),
          b.tail())
    check("dd oflag=direct succeeds and reads back the same",
          value(c, "DD-STATUS") == "0" and value(c, "GUEST-MD5")
          and value(c, "READBACK-MD5") == value(c, "GUEST-MD5"), b.tail())
    check("no SCSI error, abort, reset or timeout in dmesg",
          value(c, "SCSI-ERRORS") == "0", b.tail())
    check_images(c, boot, disk, bool(tools))
    if tessera:
        text = open(log).read() if os.path.exists(log) else ""
        lines = [ln for ln in text.splitlines() if "lsi53c895a" in ln]
        check("sym53c8xx trips no guest error or unimplemented feature of the chip "
              "(-d guest_errors,unimp, -D log written)", os.path.exists(log) and not lines,
              "\n".join(lines[:20]))


def main():
    return guestlib.arch_main(__doc__, run)


if __name__ == "__main__":
    sys.exit(main())
