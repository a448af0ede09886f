#!/usr/bin/env python3
"""guest suite: disks as users give them to `tessera -M q35`, one boot,
Debian's amd64 kernel (scripts/guest-amd64) as the judge. TAP output.

    test-q35-disks.py TESSERA [EMULATOR]

The command line is QEMU's shorthand, nothing else:
    -hda disk.qcow2 -cdrom a.iso -qmp unix:...
As in QEMU, -hda is the ICH9 AHCI port 0 (/dev/sda) and -cdrom (index 2)
port 2 (/dev/sr0, drive "ide2-cd0").
  - /dev/sda (qcow2 by probing) reads the pattern qemu-img put there and
    takes an O_DIRECT write; afterwards qemu-img check finds the image
    clean and the write in it;
  - the guest mounts a.iso and reads its file; while it is mounted (Linux
    locked the tray) QMP eject is refused with QEMU's "Device 'ide2-cd0' is
    locked and force was not specified" and the medium stays;
  - after umount, QMP blockdev-change-medium puts b.iso in: DEVICE_TRAY_MOVED
    comes twice (open, close), query-block names b.iso, and the guest's
    sr driver reads the new disc (mount shows b's file);
  - QMP eject empties the drive: query-block shows tray_open and no
    "inserted", and the guest's read of /dev/sr0 fails with "No medium
    found".
  - QMP blockdev-add of a raw node holding c.iso, blockdev-open-tray (the
    guest's open of the empty drive closed it), blockdev-insert-medium and
    blockdev-close-tray: query-block names c.iso
    and the guest mounts disc c (a run-time node used by a device).
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
from guestlib import pattern, value  # noqa: E402
from tesstest import Qmp, check, tap_report  # noqa: E402

BOOT_TIMEOUT = 420  # the meson timeout is 600 s
MiB = 1 << 20
IMAGE_SIZE = 16 * MiB
PATTERN_LEN = MiB
GUEST_OFF = 8 * MiB + 4096
GUEST_LEN = 256 * 1024
MODULES = ["ahci", "sd_mod", "sr_mod", "isofs"]
CD = "ide2-cd0"

SCRIPT = """\
sleep 2
echo "SDA-MODEL=$(cat /sys/block/sda/device/model 2>/dev/null)"
echo "SDA-HOST-SHA=$(dd if=/dev/sda bs=65536 count=%(blocks)d 2>/dev/null | sha256sum \
| cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
echo "SDA-GUEST-SHA=$(sha256sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=/dev/sda bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "SDA-DD=$?"
sync
mkdir -p /mnt/cd
mount -t iso9660 -o ro /dev/sr0 /mnt/cd; echo "A-MOUNT=$?"
echo "A-NAME=$(cat /mnt/cd/name.txt)"
echo LOCKED-EJECT-PLEASE
read x
echo "A-STILL=$(cat /mnt/cd/name.txt)"
umount /mnt/cd
echo CHANGE-PLEASE
read x
for i in 1 2 3 4 5 6 7 8 9 10; do
    mount -t iso9660 -o ro /dev/sr0 /mnt/cd 2>/dev/null && break
    sleep 1
done
echo "B-NAME=$(cat /mnt/cd/name.txt)"
echo "B-SHA=$(sha256sum < /mnt/cd/data.bin | cut -d' ' -f1)"
umount /mnt/cd
echo EMPTY-PLEASE
read x
sleep 1
echo "EMPTY-READ=$(dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>&1 | head -1)"
echo INSERT-PLEASE
read x
for i in 1 2 3 4 5 6 7 8 9 10; do
    mount -t iso9660 -o ro /dev/sr0 /mnt/cd 2>/dev/null && break
    sleep 1
done
echo "C-NAME=$(cat /mnt/cd/name.txt)"
umount /mnt/cd
"""


def make_iso(wd, name, data):
    src = os.path.join(wd, name + "-src")
    os.makedirs(src)
    with open(os.path.join(src, "name.txt"), "w") as f:
        f.write("disc %s\n" % name)
    with open(os.path.join(src, "data.bin"), "wb") as f:
        f.write(data)
    iso = os.path.join(wd, name + ".iso")
    p = subprocess.run(["genisoimage", "-quiet", "-r", "-J", "-o", iso, src],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise guestlib.GuestError("genisoimage failed (scripts/install-deps installs it): %s"
                                  % p.stderr.strip())
    return iso


def make_hda(wd):
    raw = os.path.join(wd, "disk.raw")
    hda = os.path.join(wd, "disk.qcow2")
    with open(raw, "wb") as f:
        f.write(pattern(PATTERN_LEN, b"host"))
        f.truncate(IMAGE_SIZE)
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, hda], check=True)
    os.unlink(raw)
    return hda


def qmp_step(qmp_path, out, name, fn):
    """At a guest's request: run fn(qmp) (results into out[name]), then let
    the guest go on."""
    def act(b):
        try:
            q = out.get("_qmp")
            if q is None:
                q = out["_qmp"] = Qmp(qmp_path)
                q.negotiate()
            out[name] = fn(q)
        except Exception as e:  # the checks report what is missing
            out[name] = {"error": repr(e)}
        b.send("go\n")
    return act


def step_locked(q):
    r = q.cmd("eject", {"device": CD})
    return {"eject": r, "block": q.cmd("query-block")}


def step_change(b_iso):
    def fn(q):
        q.events = []
        r = q.cmd("blockdev-change-medium", {"device": CD, "filename": b_iso,
                                             "format": "raw"})
        moved = [q.wait_event("DEVICE_TRAY_MOVED"), q.wait_event("DEVICE_TRAY_MOVED")]
        return {"change": r, "moved": moved, "block": q.cmd("query-block")}
    return fn


def step_eject(q):
    r = q.cmd("eject", {"device": CD})
    return {"eject": r, "block": q.cmd("query-block")}


def step_insert(c_iso):
    """A node made at run time (blockdev-add) becomes the empty drive's medium."""
    def fn(q):
        add = q.cmd("blockdev-add", {"driver": "raw", "node-name": "cnode", "read-only": True,
                                     "file": {"driver": "file", "filename": c_iso}})
        # Linux closed the tray again when the guest opened the empty
        # /dev/sr0 (cdrom autoclose), as with a real drive: open it first.
        opened = q.cmd("blockdev-open-tray", {"device": CD})
        # insert-medium takes the device's id only: -cdrom's device has none,
        # so the qdev name query-block gives (QEMU: an object path)
        qdev = cd_entry({"block": q.cmd("query-block")}).get("qdev", "")
        ins = q.cmd("blockdev-insert-medium", {"id": qdev, "node-name": "cnode"})
        close = q.cmd("blockdev-close-tray", {"device": CD})
        return {"add": add, "open": opened, "insert": ins, "close": close,
                "block": q.cmd("query-block")}
    return fn


def cd_entry(res):
    for e in res.get("block", {}).get("return", []):
        if e.get("device") == CD:
            return e
    return {}


def check_hda(c, hda):
    want = hashlib.sha256(pattern(PATTERN_LEN, b"host")).hexdigest()
    check("-hda disk.qcow2 is /dev/sda on AHCI port 0 and reads qemu-img's pattern",
          value(c, "SDA-HOST-SHA") == want, "got %s" % value(c, "SDA-HOST-SHA"))
    chk = subprocess.run(["qemu-img", "check", hda], capture_output=True, text=True)
    out = hda + ".raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", hda, out], check=True)
    with open(out, "rb") as f:
        f.seek(GUEST_OFF)
        got = hashlib.sha256(f.read(GUEST_LEN)).hexdigest()
    check("-hda: the guest's O_DIRECT write is in the qcow2 image, qemu-img check clean",
          value(c, "SDA-DD") == "0" and got == value(c, "SDA-GUEST-SHA") and
          chk.returncode == 0 and "No errors were found" in chk.stdout,
          "dd %s, qemu-img check %d: %s" % (value(c, "SDA-DD"), chk.returncode,
                                            chk.stdout.strip()))


def check_media(c, out, b_iso, b_sha, c_iso):
    check("-cdrom a.iso is /dev/sr0 on AHCI port 2: the guest mounts it and reads it",
          value(c, "A-MOUNT") == "0" and value(c, "A-NAME") == "disc a", repr(value(c, "A-NAME")))
    locked = out.get("locked", {})
    desc = locked.get("eject", {}).get("error", {}).get("desc", "")
    check("QMP eject of the mounted (guest-locked) disc is refused with QEMU's words",
          "Device '%s' is locked and force was not specified" % CD in desc, repr(locked))
    check("query-block then shows the drive locked, tray closed, medium in",
          cd_entry(locked).get("locked") is True and cd_entry(locked).get("tray_open") is False
          and "inserted" in cd_entry(locked), repr(cd_entry(locked)))
    check("the refused eject left the guest's disc in place",
          value(c, "A-STILL") == "disc a", repr(value(c, "A-STILL")))
    ch = out.get("change", {})
    moved = [m and m.get("data", {}) for m in ch.get("moved", [])]
    check("QMP blockdev-change-medium to b.iso succeeds", ch.get("change") == {"return": {}},
          repr(ch.get("change")))
    check("DEVICE_TRAY_MOVED: open then closed, naming the drive",
          len(moved) == 2 and moved[0] and moved[1] and moved[0].get("tray-open") is True and
          moved[1].get("tray-open") is False and moved[0].get("device") == CD, repr(moved))
    ins = cd_entry(ch).get("inserted", {})
    check("query-block shows b.iso inserted, tray closed, removable",
          ins.get("file") == b_iso and cd_entry(ch).get("tray_open") is False and
          cd_entry(ch).get("removable") is True, repr(cd_entry(ch)))
    check("the guest's sr driver reads the new disc (b's file and its sha256)",
          value(c, "B-NAME") == "disc b" and value(c, "B-SHA") == b_sha,
          "%r %r" % (value(c, "B-NAME"), value(c, "B-SHA")))
    ej = out.get("eject", {})
    check("QMP eject of the unmounted disc succeeds", ej.get("eject") == {"return": {}},
          repr(ej.get("eject")))
    check("query-block after eject: tray open, no inserted medium",
          cd_entry(ej).get("tray_open") is True and "inserted" not in cd_entry(ej),
          repr(cd_entry(ej)))
    check("the guest reads an empty drive: No medium found",
          "No medium found" in (value(c, "EMPTY-READ") or ""), repr(value(c, "EMPTY-READ")))
    ins = out.get("insert", {})
    check("QMP blockdev-add of a raw node, blockdev-open-tray, blockdev-insert-medium into "
          "the empty drive and blockdev-close-tray succeed",
          ins.get("add") == {"return": {}} and ins.get("open") == {"return": {}}
          and ins.get("insert") == {"return": {}}
          and ins.get("close") == {"return": {}}, repr(ins))
    check("query-block then shows the run-time node's image inserted, tray closed",
          cd_entry(ins).get("inserted", {}).get("file") == c_iso
          and cd_entry(ins).get("tray_open") is False, repr(cd_entry(ins)))
    check("the guest mounts the inserted disc and reads its file",
          value(c, "C-NAME") == "disc c", repr(value(c, "C-NAME")))


def run(emu, parts, wd):
    files = [f for f in guestlib.module_files(parts, MODULES) if "pclmul" not in f]
    script = guestlib.insmod_script(files) + SCRIPT % {
        "blocks": PATTERN_LEN // 65536, "gblocks": GUEST_LEN // 4096,
        "gseek": GUEST_OFF // 4096}
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=files)
    hda = make_hda(wd)
    a_iso = make_iso(wd, "a", pattern(100 * 1024, b"a"))
    b_data = pattern(300 * 1024 + 5, b"b")
    b_iso = make_iso(wd, "b", b_data)
    c_iso = make_iso(wd, "c", pattern(40 * 1024, b"c"))
    qmp_path = os.path.join(wd, "qmp.sock")
    out = {}
    actions = {
        "LOCKED-EJECT-PLEASE": qmp_step(qmp_path, out, "locked", step_locked),
        "CHANGE-PLEASE": qmp_step(qmp_path, out, "change", step_change(b_iso)),
        "EMPTY-PLEASE": qmp_step(qmp_path, out, "eject", step_eject),
        "INSERT-PLEASE": qmp_step(qmp_path, out, "insert", step_insert(c_iso)),
    }
    argv = [emu, "-M", "q35", "-cpu", "qemu64", "-m", "512M", "-nographic", "-no-reboot",
            "-kernel", parts["KERNEL"], "-initrd", initrd, "-append", guestlib.AMD64_CMDLINE,
            "-hda", hda, "-cdrom", a_iso, "-qmp", "unix:%s,server=on,wait=off" % qmp_path]
    b = guestlib.Boot(argv, BOOT_TIMEOUT, actions=actions)
    check("did not time out (%d s)" % BOOT_TIMEOUT, not b.timed_out, b.tail())
    check("no kernel panic or oops", "Kernel panic" not in b.console and "Oops" not in b.console,
          b.tail())
    check("the test script ran to its end", "tessera-guest: test.sh exited 0" in b.console,
          b.tail())
    check("poweroff -f ends the emulator with exit status 0", b.status == 0, b.tail())
    check_hda(b.console, hda)
    check_media(b.console, out, b_iso, hashlib.sha256(b_data).hexdigest(), c_iso)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    emu = sys.argv[2] if len(sys.argv) > 2 else sys.argv[1]
    wd = guestlib.workdir()
    try:
        p = subprocess.run([os.path.join(guestlib.SRC_ROOT, "scripts", "guest-amd64")],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise guestlib.GuestError("scripts/guest-amd64 failed: " + p.stderr.strip())
        run(emu, dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line), wd)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
