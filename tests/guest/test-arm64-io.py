#!/usr/bin/env python3
"""guest suite, storage: Debian's arm64 kernel on `tessera -M virt` with
virtio-blk over PCI (behind the gpex host bridge, a root port and a
switch) and over virtio-mmio; the guest's virtio_pci, virtio_mmio,
virtio_blk, ext4 and pcieport drivers and Debian's mkfs.ext4/blkdiscard
are the judges, the host checks the image afterwards. TAP output.

    test-arm64-io.py TESSERA CASE [EMULATOR]

CASE (each boots once):
  blk-pci   -smp 4, virtio-blk-pci num-queues=4 (MSI-X through the v2m
            frame): the guest has 4 blk-mq queues and one MSI per queue,
            reads the pattern the host wrote, writes another with
            dd oflag=direct that the host finds in the image; virtio-rng-pci
            feeds /dev/hwrng
  blk-mmio  the same data checks through virtio-blk-device on the first
            virtio-mmio transport (0x0a000000, SPI 16; QEMU: the last one);
            a second virtio-blk-device lands on the next transport
  ext4      mkfs.ext4 + 500 files in 5 directories, umount; on the host
            e2fsck -fn passes and debugfs lists and reads the files
  discard   blkdiscard -z on a 512- but not 4K-aligned range of an image
            full of 0xAA zeroes exactly that range
  switch    the seed layout (root port, x3130 upstream, two xio3130
            downstream ports, a virtio-blk-pci behind each): both disks
            read the pattern, pcieport binds the three ports, and
            `info pci` / `info qtree` (QMP human-monitor-command while the
            guest runs) show the switch

EMULATOR (default: TESSERA) runs the same checks on qemu-system-aarch64
(QEMU's device names are the same; only the monitor checks need tessera).
On failure the last 30 console lines are printed.
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
from tesstest import Qmp, check  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s
MiB = 1 << 20
IMAGE_SIZE = 64 * MiB
PATTERN_LEN = MiB          # host pattern at offset 0
GUEST_OFF = 8 * MiB + 4096  # where the guest writes its own pattern
GUEST_LEN = 256 * 1024
MODULES = ["virtio_pci", "virtio_mmio", "virtio_blk", "virtio_rng", "ext4"]

# Busybox dd: the guest pattern is made in the guest (urandom), written with
# O_DIRECT and reported by md5 so the host can look for it.
DATA_SCRIPT = """\
for d in /sys/block/vd*; do
    [ "$(cat $d/size)" = %(sectors)d ] && DEV=/dev/${d##*/} && break
done
echo "DEVICE=$DEV"
echo "HOST-MD5=$(dd if=$DEV bs=65536 count=%(blocks)d 2>/dev/null | md5sum | cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
echo "GUEST-MD5=$(md5sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=$DEV bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "DD-STATUS=$?"
sync
echo "READBACK-MD5=$(dd if=$DEV bs=4096 skip=%(gseek)d count=%(gblocks)d iflag=direct \
2>/dev/null | md5sum | cut -d' ' -f1)"
""" % {"blocks": PATTERN_LEN // 65536, "gblocks": GUEST_LEN // 4096,
       "gseek": GUEST_OFF // 4096, "sectors": IMAGE_SIZE // 512}

MQ_SCRIPT = """\
echo "MQ-QUEUES=$(ls /sys/block/vda/mq | wc -l)"
echo "MSI-VECTORS=$(grep -c 'virtio.-req' /proc/interrupts)"
echo "RNG=$(cat /sys/class/misc/hw_random/rng_current)"
echo "RNG-BYTES=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)"
"""

EXT4_SCRIPT = """\
mkdir -p /mnt
/usr/local/sbin/mkfs.ext4 -q -F /dev/vda
echo "MKFS-STATUS=$?"
mount -t ext4 /dev/vda /mnt || echo MOUNT-FAILED
for d in 0 1 2 3 4; do
    mkdir /mnt/d$d
    i=0
    while [ $i -lt 100 ]; do
        echo "tessera file $d-$i" > /mnt/d$d/f$i
        i=$((i + 1))
    done
done
echo "FILES=$(find /mnt -type f | wc -l)"
umount /mnt
echo "UMOUNT-STATUS=$?"
"""

DISCARD_OFF, DISCARD_LEN = 1536, 5120
DISCARD_SCRIPT = """\
echo "WZ-MAX=$(cat /sys/block/vda/queue/write_zeroes_max_bytes)"
/usr/local/sbin/blkdiscard -z -o %d -l %d /dev/vda
echo "BLKDISCARD-STATUS=$?"
sync
""" % (DISCARD_OFF, DISCARD_LEN)

SWITCH_SCRIPT = """\
echo "PCIEPORT=$(ls -d /sys/bus/pci/drivers/pcieport/0000:* | wc -l)"
for d in /sys/block/vd*; do
    n=${d##*/}
    echo "DISK $n $(readlink $d) $(dd if=/dev/$n bs=65536 count=%d 2>/dev/null | md5sum \
| cut -d' ' -f1)"
done
echo MONITOR-PLEASE
read answer
echo "MONITOR-$answer"
""" % (PATTERN_LEN // 65536)

SWITCH_DEVICES = [
    "-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
    "-device", "x3130-upstream,id=up1,bus=rp1",
    "-device", "xio3130-downstream,id=dn1,bus=up1,chassis=2,slot=1",
    "-device", "xio3130-downstream,id=dn2,bus=up1,chassis=2,slot=2",
    "-device", "virtio-blk-pci,drive=d0,bus=dn1",
    "-device", "virtio-blk-pci,drive=d1,bus=dn2",
]



def make_image(path, fill=None):
    """IMAGE_SIZE bytes: sparse with the host pattern at 0, or all fill."""
    return guestlib.make_image(path, IMAGE_SIZE, pattern(PATTERN_LEN, b"host"), fill)


def drive(path, ident):
    return ["-drive", "file=%s,if=none,format=raw,id=%s" % (path, ident)]



def boot(emu, parts, wd, script, extra, smp=1, tools=False, actions=None):
    mods = guestlib.module_files(parts, MODULES)
    initrd = guestlib.make_initrd(wd, parts["INITRD"], guestlib.insmod_script(mods) + script,
                                  modules=mods, extra=[parts["TOOLS"]] if tools else [])
    argv = guestlib.emulator_argv(emu, parts["KERNEL"], initrd, smp=smp, extra=extra)
    return guestlib.Boot(argv, BOOT_TIMEOUT, actions=actions)


def check_common(b, name):
    """Reached userspace, loaded the modules, ran the script, powered off."""
    check("%s: the guest ran its test script and powered off (status 0)" % name,
          not b.timed_out and "tessera-guest: test.sh exited 0" in b.console
          and b.status == 0, "exit status %s\n%s" % (b.status, b.tail()))
    check("%s: no kernel oops, panic or failed insmod" % name,
          "Internal error: Oops" not in b.console and "Kernel panic" not in b.console
          and "INSMOD-FAILED" not in b.console, b.tail())


def check_data(b, name, img):
    """The guest read the host pattern; the host finds the guest's."""
    want = hashlib.md5(pattern(PATTERN_LEN, b"host")).hexdigest()
    check("%s: the guest reads the pattern the host wrote" % name,
          value(b.console, "HOST-MD5") == want, "wanted %s\n%s" % (want, b.tail()))
    guest = value(b.console, "GUEST-MD5")
    check("%s: dd oflag=direct succeeds and reads back the same" % name,
          value(b.console, "DD-STATUS") == "0" and guest
          and value(b.console, "READBACK-MD5") == guest, b.tail())
    with open(img, "rb") as f:
        f.seek(GUEST_OFF)
        got = hashlib.md5(f.read(GUEST_LEN)).hexdigest()
        f.seek(0)
        head = f.read(PATTERN_LEN)
    check("%s: after exit the image holds the guest's pattern at its offset" % name,
          guest is not None and got == guest, "guest %s, image %s" % (guest, got))
    check("%s: the host pattern is intact" % name, head == pattern(PATTERN_LEN, b"host"))


def run_blk_pci(emu, parts, wd, tessera=True):
    img = make_image(os.path.join(wd, "disk.img"))
    extra = drive(img, "d0") + ["-device", "virtio-blk-pci,drive=d0,num-queues=4",
                                "-device", "virtio-rng-pci"]
    b = boot(emu, parts, wd, MQ_SCRIPT + DATA_SCRIPT, extra, smp=4)
    check_common(b, "blk-pci")
    check("blk-pci: num-queues=4 with -smp 4 gives /sys/block/vda/mq 4 queues",
          value(b.console, "MQ-QUEUES") == "4", b.tail())
    check("blk-pci: one MSI-X vector per request queue (virtioN-req.0..3)",
          value(b.console, "MSI-VECTORS") == "4", b.tail())
    check("blk-pci: virtio-rng-pci is the hwrng and /dev/hwrng gives bytes",
          (value(b.console, "RNG") or "").startswith("virtio_rng")
          and value(b.console, "RNG-BYTES") == "64", b.tail())
    check_data(b, "blk-pci", img)


def run_blk_mmio(emu, parts, wd, tessera):
    img = make_image(os.path.join(wd, "disk.img"))
    img2 = os.path.join(wd, "second.img")
    with open(img2, "wb") as f:
        f.truncate(4 * MiB)
    # Two devices without bus=: each must find a free transport of its own.
    extra = drive(img, "d0") + drive(img2, "d1") + [
        "-device", "virtio-blk-device,drive=d0", "-device", "virtio-blk-device,drive=d1"]
    script = "readlink /sys/block/vda\nreadlink /sys/block/vdb\n" + DATA_SCRIPT
    b = boot(emu, parts, wd, script, extra)
    check_common(b, "blk-mmio")
    # QEMU fills its transports from the highest address down (a003e00
    # first), and Linux probes them lowest first: its first -device ends
    # up last. tessera fills them lowest first, so they are vda, vdb.
    want = [("a000000", "vda"), ("a000200", "vdb")] if tessera else [("a003e00", "vdb"),
                                                                    ("a003c00", "vda")]
    check("blk-mmio: the first -device is %s on %s.virtio_mmio, the second %s on %s" % (
          want[0][1], want[0][0], want[1][1], want[1][0]),
          all(re.search(r"%s\.virtio_mmio/virtio\d+/block/%s" % w, b.console) for w in want)
          and value(b.console, "DEVICE") == "/dev/" + want[0][1], b.tail())
    check_data(b, "blk-mmio", img)


def run_ext4(emu, parts, wd, tessera=True):
    img = os.path.join(wd, "disk.img")
    with open(img, "wb") as f:
        f.truncate(IMAGE_SIZE)
    b = boot(emu, parts, wd, EXT4_SCRIPT, drive(img, "d0")
             + ["-device", "virtio-blk-pci,drive=d0"], tools=True)
    check_common(b, "ext4")
    check("ext4: mkfs.ext4, mount, 500 files, umount all succeed in the guest",
          value(b.console, "MKFS-STATUS") == "0" and value(b.console, "FILES") == "500"
          and value(b.console, "UMOUNT-STATUS") == "0", b.tail())
    fsck = subprocess.run(["e2fsck", "-fn", img], capture_output=True, text=True)
    check("ext4: e2fsck -fn on the host finds the file system clean",
          fsck.returncode == 0, fsck.stdout + fsck.stderr)
    ls = subprocess.run(["debugfs", "-R", "ls /d3", img], capture_output=True, text=True)
    names = set(re.findall(r"\bf\d+\b", ls.stdout))
    check("ext4: debugfs lists the 100 files of /d3",
          names == {"f%d" % i for i in range(100)}, ls.stdout[-2000:] + ls.stderr)
    cat = subprocess.run(["debugfs", "-R", "cat /d4/f42", img], capture_output=True,
                         text=True)
    check("ext4: debugfs reads /d4/f42 back", cat.stdout == "tessera file 4-42\n",
          repr(cat.stdout) + cat.stderr)


def run_discard(emu, parts, wd, tessera=True):
    img = make_image(os.path.join(wd, "disk.img"), fill=0xAA)
    b = boot(emu, parts, wd, DISCARD_SCRIPT, drive(img, "d0")
             + ["-device", "virtio-blk-pci,drive=d0"], tools=True)
    check_common(b, "discard")
    check("discard: the device offers write-zeroes and blkdiscard -z succeeds",
          value(b.console, "BLKDISCARD-STATUS") == "0"
          and int(value(b.console, "WZ-MAX") or 0) > 0, b.tail())
    with open(img, "rb") as f:
        data = f.read(64 * 1024)
    end = DISCARD_OFF + DISCARD_LEN
    check("discard: exactly [1536, 6656) is zero",
          data[DISCARD_OFF:end] == bytes(DISCARD_LEN), data[DISCARD_OFF:end][:64].hex())
    check("discard: the bytes before and after still hold 0xAA",
          data[:DISCARD_OFF] == b"\xaa" * DISCARD_OFF
          and data[end:] == b"\xaa" * (len(data) - end))


def monitor_action(qmp_path, out):
    """While the guest waits at `read`: info pci and info qtree over QMP,
    then let the guest go on."""
    def act(b):
        try:
            q = Qmp(qmp_path)
            q.negotiate()
            for cmd in ("info pci", "info qtree"):
                out[cmd] = q.cmd("human-monitor-command", {"command-line": cmd}).get(
                    "return", "")
        except Exception as e:  # the checks report what is missing
            out["error"] = repr(e)
        b.send("done\n")
    return act


def check_monitor(out):
    pci, qtree = out.get("info pci", ""), out.get("info qtree", "")
    # After the guest enumerated: root port on bus 0, upstream port on
    # bus 1, the downstream ports on bus 2, one disk each on buses 3, 4.
    want_ids = ['id "rp1"', 'id "up1"', 'id "dn1"', 'id "dn2"']
    check("switch: info pci shows the ports (ids) and two virtio-blk functions",
          all(w in pci for w in want_ids) and pci.count("1af4:1042") == 2,
          out.get("error", "") + pci)
    check("switch: info pci shows the guest's bus numbers (buses 1..4 behind the ports)",
          all(re.search(r"Bus +%d, device +\d+, function 0" % n, pci) for n in range(5)),
          pci)
    nest = re.search(r'dev: pcie-root-port, id "rp1".*?bus: rp1.*?dev: x3130-upstream, '
                     r'id "up1".*?bus: up1.*?dev: xio3130-downstream, id "dn1".*?bus: dn1'
                     r'.*?dev: virtio-blk-pci.*?dev: xio3130-downstream, id "dn2".*?bus: dn2'
                     r'.*?dev: virtio-blk-pci', qtree, re.S)
    check("switch: info qtree nests rp1 > up1 > dn1, dn2 > virtio-blk-pci", nest,
          out.get("error", "") + qtree)


def run_switch(emu, parts, wd, monitor=True):
    img0 = make_image(os.path.join(wd, "d0.img"))
    img1 = make_image(os.path.join(wd, "d1.img"))
    out = {}
    extra = drive(img0, "d0") + drive(img1, "d1") + SWITCH_DEVICES
    actions = {}
    if monitor:
        qmp_path = os.path.join(wd, "qmp.sock")
        extra += ["-qmp", "unix:%s,server=on,wait=off" % qmp_path]
        actions["MONITOR-PLEASE"] = monitor_action(qmp_path, out)
    else:
        actions["MONITOR-PLEASE"] = lambda b: b.send("done\n")
    b = boot(emu, parts, wd, SWITCH_SCRIPT, extra, actions=actions)
    check_common(b, "switch")
    # pcieport binds every PCIe port: the root port, the switch's upstream
    # port and its two downstream ports.
    check("switch: pcieport binds all four ports (root, upstream, 2 downstream)",
          value(b.console, "PCIEPORT") == "4", b.tail())
    want = hashlib.md5(pattern(PATTERN_LEN, b"host")).hexdigest()
    disks = re.findall(r"^DISK (vd\w) (\S+) (\w+)$", b.console, re.M)
    behind = [d for d in disks if re.search(r"0000:02:0[01]\.0/0000:0[34]:00\.0/", d[1])]
    check("switch: two disks, each behind a downstream port, both read the pattern",
          len(behind) == 2 and all(d[2] == want for d in behind),
          "%s\n%s" % (disks, b.tail()))
    check("switch: the guest went on after the monitor queries",
          "MONITOR-done" in b.console, b.tail())
    if monitor:
        check_monitor(out)


def main():
    return guestlib.case_main(__doc__, {
        "blk-pci": run_blk_pci, "blk-mmio": run_blk_mmio, "ext4": run_ext4,
        "discard": run_discard, "switch": run_switch}, tools=("ext4", "discard"))


if __name__ == "__main__":
    sys.exit(main())
