#!/usr/bin/env python3
"""guest suite: ATA on `tessera -M q35` (plugins/ata), one boot, Debian's
amd64 kernel and its own drivers as the judges. TAP output.

    test-amd64-ata.py TESSERA [EMULATOR]

The boot has
  - a disk on q35's ICH9 AHCI port 0 (-drive if=none -device ide-hd,
    bus=ide.0, model AHCI-DISK): ahci + libata + sd_mod, MSI;
  - an ide-cd on AHCI port 2 (bus=ide.2) holding an ISO 9660 image this
    test makes with genisoimage: sr_mod + cdrom + isofs mount it and read
    a file whose sha256 the host knows;
  - a piix3-ide (-device piix3-ide,id=pata, buses pata.0/pata.1) with a
    disk on pata.0 (model PIIX-DISK): ata_piix, legacy ports, IRQ 14.
Each disk: the guest reads the host's pattern (sha256), then writes its
own with dd oflag=direct, which the host finds in the image (sha256).
EMULATOR (default TESSERA) runs the same boot on qemu-system-x86_64.
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

amd64 = guestlib.guest_test_module("test-amd64.py", "amd64")

MiB = 1 << 20
PATTERN_LEN = amd64.PATTERN_LEN  # the disks are test-amd64.py's (make_image)
GUEST_OFF = amd64.GUEST_OFF
GUEST_LEN = amd64.GUEST_LEN
CD_FILE_LEN = 300 * 1024 + 17
MODULES = ["ahci", "ata_piix", "sd_mod", "sr_mod", "isofs"]
DISKS = ["AHCI-DISK", "PIIX-DISK"]

SCRIPT = """\
sleep 2
for b in /sys/block/sd*; do
    echo "BLK $(basename $b) MODEL=$(cat $b/device/model)"
done
for M in %(models)s; do
    D=
    for b in /sys/block/sd*; do
        case "$(cat $b/device/model)" in $M*) D=/dev/$(basename $b);; esac
    done
    echo "DISK $M DEV=$D"
    echo "DISK $M HOST-SHA=$(dd if=$D bs=65536 count=%(blocks)d 2>/dev/null | sha256sum \
| cut -d' ' -f1)"
    dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
    echo "DISK $M GUEST-SHA=$(sha256sum < /tmp/p | cut -d' ' -f1)"
    dd if=/tmp/p of=$D bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
    echo "DISK $M DD-STATUS=$?"
done
mkdir -p /mnt/cd
mount -t iso9660 -o ro /dev/sr0 /mnt/cd; echo "CD-MOUNT=$?"
echo "CD-SHA=$(sha256sum < /mnt/cd/data.bin | cut -d' ' -f1)"
echo "CD-HELLO=$(cat /mnt/cd/hello.txt)"
umount /mnt/cd
echo "AHCI-MSI=$(grep -c 'PCI-MSI.*ahci' /proc/interrupts)"
echo "PIIX-IRQ14=$(grep -c '^ *14:.*ata_piix' /proc/interrupts)"
for d in /sys/class/ata_device/dev*; do
    echo "XFER $(basename $d) $(cat $d/xfer_mode 2>/dev/null)"
done
sync
"""


def pattern(n, seed):
    return amd64.pattern(n, seed)


def make_iso(wd):
    src = os.path.join(wd, "iso-src")
    os.makedirs(src)
    with open(os.path.join(src, "hello.txt"), "w") as f:
        f.write("hello from tessera\n")
    data = pattern(CD_FILE_LEN, b"cd")
    with open(os.path.join(src, "data.bin"), "wb") as f:
        f.write(data)
    iso = os.path.join(wd, "cd.iso")
    p = subprocess.run(["genisoimage", "-quiet", "-r", "-J", "-o", iso, src],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise guestlib.GuestError("genisoimage failed (scripts/install-deps installs it): %s"
                                  % p.stderr.strip())
    return iso, hashlib.sha256(data).hexdigest()


def guest_wrote(path, console, model):
    want = None
    for line in console.splitlines():
        if line.startswith("DISK %s GUEST-SHA=" % model):
            want = line.split("=", 1)[1].strip()
    with open(path, "rb") as f:
        f.seek(GUEST_OFF)
        got = hashlib.sha256(f.read(GUEST_LEN)).hexdigest()
    return want is not None and want == got


def run(emu, parts, wd):
    # crct10dif-pclmul needs PCLMULQDQ, which -cpu qemu64 lacks (the
    # generic crct10dif serves sd_mod's t10-pi instead).
    files = [f for f in guestlib.module_files(parts, MODULES) if "pclmul" not in f]
    script = guestlib.insmod_script(files) + SCRIPT % {
        "models": " ".join(DISKS), "blocks": PATTERN_LEN // 65536,
        "gblocks": GUEST_LEN // 4096, "gseek": GUEST_OFF // 4096}
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=files)
    iso, cd_sha = make_iso(wd)
    imgs = {m: os.path.join(wd, m + ".img") for m in DISKS}
    for p in imgs.values():
        amd64.make_image(p)
    extra = ["-drive", "file=%s,if=none,id=d0,format=raw" % imgs["AHCI-DISK"],
             "-device", "ide-hd,drive=d0,bus=ide.0,model=AHCI-DISK",
             "-drive", "file=%s,if=none,id=cd,format=raw,readonly=on" % iso,
             "-device", "ide-cd,drive=cd,bus=ide.2",
             "-device", "piix3-ide,id=pata",
             "-drive", "file=%s,if=none,id=d1,format=raw" % imgs["PIIX-DISK"],
             "-device", "ide-hd,drive=d1,bus=pata.0,model=PIIX-DISK"]
    b = guestlib.Boot(amd64.emulator_argv(emu, parts["KERNEL"], initrd, extra=extra),
                      amd64.BOOT_TIMEOUT)
    amd64.check_common(b, "ata")
    check("ata: every module loads", "INSMOD-FAILED" not in b.console, b.tail())
    host_sha = hashlib.sha256(pattern(PATTERN_LEN, b"host")).hexdigest()
    for m in DISKS:
        check("ata: %s is found by its model" % m,
              "DISK %s DEV=/dev/sd" % m in b.console, b.tail())
        check("ata: %s reads the host's pattern (sha256)" % m,
              "DISK %s HOST-SHA=%s" % (m, host_sha) in b.console, b.tail())
        check("ata: %s takes the guest's O_DIRECT write (sha256 in the image)" % m,
              "DISK %s DD-STATUS=0" % m in b.console and
              guest_wrote(imgs[m], b.console, m), b.tail())
    check("ata: the ISO mounts (iso9660 on ide-cd, sr_mod)", "CD-MOUNT=0" in b.console,
          b.tail())
    check("ata: a file read from the CD matches (sha256)", "CD-SHA=%s" % cd_sha in b.console,
          b.tail())
    check("ata: hello.txt on the CD", "CD-HELLO=hello from tessera" in b.console, b.tail())
    check("ata: ahci uses MSI", "AHCI-MSI=0" not in b.console and "AHCI-MSI=" in b.console,
          b.tail())
    check("ata: ata_piix moves data by bus-master DMA (MWDMA2)",
          "XFER dev7.0 XFER_MW_DMA_2" in b.console, b.tail())
    check("ata: ahci runs the disk in UDMA mode", "XFER dev1.0 XFER_UDMA_5" in b.console, b.tail())
    check("ata: ata_piix interrupts on IRQ 14",
          "PIIX-IRQ14=0" not in b.console and "PIIX-IRQ14=" in b.console, b.tail())


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    emu = sys.argv[2] if len(sys.argv) > 2 else sys.argv[1]
    wd = guestlib.workdir()
    try:
        run(emu, amd64.guest_parts(), wd)
    except guestlib.GuestError as e:
        check("ata: guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
