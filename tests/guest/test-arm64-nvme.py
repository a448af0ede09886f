#!/usr/bin/env python3
"""guest suite, NVMe: Debian's arm64 kernel on `tessera -M virt -smp 4` with
an nvme controller (max_ioqpairs=8) behind the gpex host bridge; Linux's
nvme/nvme-core drivers, Debian's mkfs.ext4/blkdiscard and the host's
e2fsck are the judges. TAP output.

    test-arm64-nvme.py TESSERA CASE [EMULATOR]

CASE (each boots once):
  nvme    three namespaces (nvme0n1..n3): 4/0/0 default/read/poll queues
          and nvme0q0..q4 in /proc/interrupts; the guest reads the pattern
          the host wrote and writes one with dd oflag=direct that the host
          finds; `echo 1 > reset_controller` in the middle of a large
          direct write loses nothing; blkdiscard -z on a 512- but not
          4K-aligned range of nvme0n2 zeroes exactly that range; ext4 made
          and filled on nvme0n3, a qcow2 image attached without format=
          (probed, as the tutorial's command lines do), fscks clean on the
          host and the image passes `qemu-img check`

EMULATOR (default: TESSERA) runs the same checks on qemu-system-aarch64.
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
PATTERN_LEN = MiB           # host pattern at offset 0 of nvme0n1
GUEST_OFF = 8 * MiB + 4096  # where the guest writes its own pattern
GUEST_LEN = 256 * 1024
RESET_OFF = 16 * MiB        # the write interrupted by a controller reset
RESET_LEN = 16 * MiB
DISCARD_OFF, DISCARD_LEN = 1536, 5120
MODULES = ["nvme", "ext4"]

SCRIPT = """\
echo "NS=$(ls /sys/block | grep ^nvme0n | sort | tr '\\n' ' ')"
echo "QUEUES=$(dmesg | grep -o '[0-9]*/[0-9]*/[0-9]* default/read/poll queues' | head -n 1)"
echo "IRQS=$(grep -o 'nvme0q[0-9]*' /proc/interrupts | sort | tr '\\n' ' ')"
D=/dev/nvme0n1
echo "HOST-MD5=$(dd if=$D bs=65536 count=%(blocks)d iflag=direct 2>/dev/null | md5sum \
| cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
echo "GUEST-MD5=$(md5sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=$D bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "DD-STATUS=$?"
echo "READBACK-MD5=$(dd if=$D bs=4096 skip=%(gseek)d count=%(gblocks)d iflag=direct \
2>/dev/null | md5sum | cut -d' ' -f1)"
# A controller reset in the middle of a large direct write.
dd if=/dev/urandom of=/tmp/r bs=65536 count=%(rblocks)d 2>/dev/null
echo "RESET-MD5=$(md5sum < /tmp/r | cut -d' ' -f1)"
dd if=/tmp/r of=$D bs=65536 seek=%(rseek)d oflag=direct conv=notrunc 2>/dev/null &
W=$!
usleep 50000
echo "RESET-DURING-WRITE=$(kill -0 $W 2>/dev/null && echo yes || echo no)"
echo 1 > /sys/class/nvme/nvme0/reset_controller
echo "RESET-WRITE=$?"
wait $W
echo "RESET-DD-STATUS=$?"
echo "RESET-READBACK-MD5=$(dd if=$D bs=65536 skip=%(rseek)d count=%(rblocks)d iflag=direct \
2>/dev/null | md5sum | cut -d' ' -f1)"
# Write zeroes on an unaligned range of nvme0n2.
echo "WZ-MAX=$(cat /sys/block/nvme0n2/queue/write_zeroes_max_bytes)"
/usr/local/sbin/blkdiscard -z -o %(doff)d -l %(dlen)d /dev/nvme0n2
echo "BLKDISCARD-STATUS=$?"
# ext4 on nvme0n3.
mkdir -p /mnt
/usr/local/sbin/mkfs.ext4 -q -F /dev/nvme0n3
echo "MKFS-STATUS=$?"
mount -t ext4 /dev/nvme0n3 /mnt || echo MOUNT-FAILED
for d in 0 1 2 3; do
    mkdir /mnt/d$d
    i=0
    while [ $i -lt 50 ]; do
        echo "tessera nvme $d-$i" > /mnt/d$d/f$i
        i=$((i + 1))
    done
done
dd if=/dev/urandom of=/mnt/big bs=65536 count=64 2>/dev/null
echo "FILES=$(find /mnt -type f | wc -l)"
umount /mnt
echo "UMOUNT-STATUS=$?"
sync
""" % {"blocks": PATTERN_LEN // 65536, "gblocks": GUEST_LEN // 4096,
       "gseek": GUEST_OFF // 4096, "rblocks": RESET_LEN // 65536,
       "rseek": RESET_OFF // 65536, "doff": DISCARD_OFF, "dlen": DISCARD_LEN}



def make_image(path, fill=None):
    """IMAGE_SIZE bytes: sparse with the host pattern at 0, or all fill."""
    return guestlib.make_image(path, IMAGE_SIZE, pattern(PATTERN_LEN, b"host"), fill)




def check_boot(b):
    check("nvme: the guest ran its test script and powered off (status 0)",
          not b.timed_out and "tessera-guest: test.sh exited 0" in b.console
          and b.status == 0, "exit status %s\n%s" % (b.status, b.tail()))
    check("nvme: no kernel oops, panic, failed insmod or controller timeout",
          "Internal error: Oops" not in b.console and "Kernel panic" not in b.console
          and "INSMOD-FAILED" not in b.console
          and not re.search(r"nvme.*timeout", b.console, re.I),
          b.tail())
    check("nvme: the namespaces show as nvme0n1, nvme0n2 (and nvme0n3)",
          value(b.console, "NS") == "nvme0n1 nvme0n2 nvme0n3", b.tail())
    check("nvme: -smp 4 with max_ioqpairs=8 gives 4/0/0 default/read/poll queues",
          value(b.console, "QUEUES") == "4/0/0 default/read/poll queues", b.tail())
    check("nvme: /proc/interrupts shows nvme0q0..nvme0q4",
          value(b.console, "IRQS") == "nvme0q0 nvme0q1 nvme0q2 nvme0q3 nvme0q4", b.tail())


def check_data(b, img):
    want = hashlib.md5(pattern(PATTERN_LEN, b"host")).hexdigest()
    check("nvme: the guest reads the pattern the host wrote",
          value(b.console, "HOST-MD5") == want, "wanted %s\n%s" % (want, b.tail()))
    guest = value(b.console, "GUEST-MD5")
    check("nvme: dd oflag=direct succeeds and reads back the same",
          value(b.console, "DD-STATUS") == "0" and guest
          and value(b.console, "READBACK-MD5") == guest, b.tail())
    check("nvme: after exit the image holds the guest's pattern at its offset",
          guest is not None and guestlib.image_md5(img, GUEST_OFF, GUEST_LEN) == guest)
    rst = value(b.console, "RESET-MD5")
    check("nvme: a controller reset in the middle of a direct write loses nothing",
          value(b.console, "RESET-DURING-WRITE") == "yes"
          and value(b.console, "RESET-WRITE") == "0" and value(b.console, "RESET-DD-STATUS") == "0"
          and rst and value(b.console, "RESET-READBACK-MD5") == rst
          and guestlib.image_md5(img, RESET_OFF, RESET_LEN) == rst, b.tail())


def check_discard(b, img):
    check("nvme: write zeroes offered and blkdiscard -z succeeds",
          value(b.console, "BLKDISCARD-STATUS") == "0"
          and int(value(b.console, "WZ-MAX") or 0) > 0, b.tail())
    with open(img, "rb") as f:
        data = f.read(64 * 1024)
    end = DISCARD_OFF + DISCARD_LEN
    check("nvme: blkdiscard -z zeroes exactly [1536, 6656), the rest keeps 0xAA",
          data[DISCARD_OFF:end] == bytes(DISCARD_LEN)
          and data[:DISCARD_OFF] == b"\xaa" * DISCARD_OFF
          and data[end:] == b"\xaa" * (len(data) - end), data[:8192].hex()[:400])


def check_ext4(b, qcow2):
    check("nvme: mkfs.ext4, mount, 201 files, umount succeed in the guest",
          value(b.console, "MKFS-STATUS") == "0" and value(b.console, "FILES") == "201"
          and value(b.console, "UMOUNT-STATUS") == "0", b.tail())
    chk = subprocess.run(["qemu-img", "check", qcow2], capture_output=True, text=True)
    check("nvme: the qcow2 image passes qemu-img check", chk.returncode == 0,
          chk.stdout + chk.stderr)
    img = qcow2 + ".raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", qcow2, img], check=True)
    fsck = subprocess.run(["e2fsck", "-fn", img], capture_output=True, text=True)
    check("nvme: e2fsck -fn on the host finds the file system clean",
          fsck.returncode == 0, fsck.stdout + fsck.stderr)
    cat = subprocess.run(["debugfs", "-R", "cat /d3/f42", img], capture_output=True,
                         text=True)
    check("nvme: debugfs reads /d3/f42 back", cat.stdout == "tessera nvme 3-42\n",
          repr(cat.stdout) + cat.stderr)


def run_nvme(emu, parts, wd, tessera=True):
    imgs = [make_image(os.path.join(wd, "n1.img")),
            make_image(os.path.join(wd, "n2.img"), fill=0xAA),
            os.path.join(wd, "n3.qcow2")]
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", imgs[2], str(IMAGE_SIZE)],
                   check=True)
    extra = []
    for i, img in enumerate(imgs):
        fmt = ",format=raw" if i < 2 else ""
        extra += ["-drive", "file=%s,if=none%s,id=d%d" % (img, fmt, i)]
    extra += ["-device", "nvme,id=nvme0,drive=d0,serial=tessera0,max_ioqpairs=8",
              "-device", "nvme-ns,drive=d1,nsid=2,bus=nvme0",
              "-device", "nvme-ns,drive=d2,nsid=3,bus=nvme0"]
    mods = guestlib.module_files(parts, MODULES)
    initrd = guestlib.make_initrd(wd, parts["INITRD"], guestlib.insmod_script(mods) + SCRIPT,
                                  modules=mods, extra=[parts["TOOLS"]])
    argv = guestlib.emulator_argv(emu, parts["KERNEL"], initrd, smp=4, extra=extra)
    b = guestlib.Boot(argv, BOOT_TIMEOUT)
    check_boot(b)
    check_data(b, imgs[0])
    check_discard(b, imgs[1])
    check_ext4(b, imgs[2])


def main():
    return guestlib.case_main(__doc__, {"nvme": run_nvme}, tools=("nvme",))


if __name__ == "__main__":
    sys.exit(main())
