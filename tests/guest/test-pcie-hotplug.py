#!/usr/bin/env python3
"""guest suite, PCIe native hot-plug and PCI expander bridges: one boot per
ARCH, Debian's kernel (pciehp, pcieport built in; nvme, e1000e modules) as
the judge. TAP output.

    test-pcie-hotplug.py TESSERA amd64|arm64|pc [EMULATOR]

amd64 boots -M q35 (guestlib.AMD64_CMDLINE), arm64 -M virt; their
command line carries the tutorial's lines as written:
    -device pcie-root-port,id=root,slot=0
    -device pxb-pcie,id=pcie.1,bus_nr=2,bus=pcie.0
    -device ioh3420,id=pcie_bridge1,bus=pcie.1,chassis=1
    -device e1000e,bus=pcie_bridge1
  - QMP blockdev-add of a qcow2 node, device_add nvme,drive=NODE,bus=root:
    the guest's pciehp powers the slot on, nvme0n1 appears with the
    serial given; the guest writes a pattern with O_DIRECT and reads it
    back;
  - QMP device_del: DEVICE_DELETED (device id and path) arrives only after
    the guest's pciehp has powered the slot off (the attention button, 5 s
    of blinking), nvme0n1 is gone in the guest, and the pattern is in the
    image on the host (qemu-img convert), which qemu-img check finds clean;
  - virtio-blk-pci (a raw node) on an xio3130-downstream port of a switch
    and e1000e on a second root port, both behind the pxb-pcie, are
    hot-added the same way (vda, an e1000e function bound) and removed
    (DEVICE_DELETED each, gone);
  - the e1000e behind the ioh3420 behind the pxb-pcie sits on bus
    bus_nr + 1 = 3 (0000:03:00.0, 8086:10d3, driver e1000e), the root port
    on bus 2, the expander's host bridge on bus 0.
pc boots -M pc with the tutorial's NUMA line (no hot-plug: a short boot):
    -smp 4,sockets=2,cores=2,threads=1 -m 2304M
    -numa node,mem=2048,cpus=0-1 -numa node,mem=256,cpus=2-3
    -device pxb,id=bridge1,bus=pci.0,bus_nr=3,numa_node=1
    -device nvme,drive=nvme0,serial=deadbeaf1,num_queues=8,bus=bridge1,addr=0x3
  plus the PCI chapter's e1000 on the same bus (addr=0x4): the expander's
  pci-bridge is 0000:03:00.0 (1b36:0001), the nvme 0000:04:03.0 (driver
  nvme, numa_node 1) and the e1000 0000:04:04.0 (driver e1000), as on QEMU.
EMULATOR (default TESSERA) runs the same boot on qemu-system-x86_64 /
qemu-system-aarch64 (q35 there needs
-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off for pciehp).
"""
import hashlib
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import value  # noqa: E402
from tesstest import Qmp, check, tap_report  # noqa: E402

BOOT_TIMEOUT = 420  # the meson timeout is 600 s
MiB = 1 << 20
IMAGE_SIZE = 16 * MiB
GUEST_OFF = MiB
GUEST_LEN = 256 * 1024
SERIAL = "hotplug1"
MODULES = ["nvme", "e1000e", "virtio_pci", "virtio_blk"]
DELETE_WAIT = 60  # s: pciehp blinks 5 s, waits 1 s after power-off

SCRIPT = """\
sleep 1
echo "PXB-LIST=$(cd /sys/bus/pci/devices && for d in *; do \
echo "$d:$(cat $d/vendor | cut -c3-):$(cat $d/device | cut -c3-):\
$(basename "$(readlink $d/driver)")"; done | tr '\\n' ' ')"
echo HOTPLUG-PLEASE
read x
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    [ -e /sys/block/nvme0n1 ] && break
    sleep 1
done
for i in 1 2 3 4 5 6 7 8 9 10; do
    # two e1000e: the one behind the pxb-pcie and the hot-added one
    [ -e /sys/block/vda ] && [ "$(ls /sys/bus/pci/drivers/e1000e | grep -c :)" = 2 ] && break
    sleep 1
done
echo "HP-DISKS=$(ls /sys/block | grep nvme | tr '\\n' ' ')"
echo "HP-VDA=$(cat /sys/block/vda/size 2>/dev/null)"
echo "HP-E1000E=$(ls /sys/bus/pci/drivers/e1000e | grep : | tr '\\n' ' ')"
echo "HP-SERIAL=$(cat /sys/class/nvme/nvme0/serial 2>/dev/null)"
dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
echo "HP-GUEST-SHA=$(sha256sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=/dev/nvme0n1 bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "HP-DD=$?"
echo "HP-READBACK=$(dd if=/dev/nvme0n1 bs=4096 skip=%(gseek)d count=%(gblocks)d iflag=direct \
2>/dev/null | sha256sum | cut -d' ' -f1)"
echo UNPLUG-PLEASE
read x
for i in 1 2 3 4 5 6 7 8 9 10; do
    [ -e /sys/block/nvme0n1 ] || break
    sleep 1
done
echo "HP-AFTER=$(ls /sys/block | grep -c -e nvme -e vda)"
echo "HP-E1000E-AFTER=$(ls /sys/bus/pci/drivers/e1000e | grep : | tr '\\n' ' ')"
echo "HP-PCIEHP=$(dmesg | grep -c 'pciehp.*Slot')"
echo "HP-BUG=$(dmesg | grep -c -e BUG -e Oops -e 'Call Trace')"
dmesg | grep -e pciehp -e 'pcieport.*Slot' | sed 's/^/HP-LOG /' | tail -n 20
echo "HP-LOG devices: $(ls /sys/bus/pci/devices | tr '\n' ' ')"
for d in /sys/bus/pci/devices/0000:00:*; do
    [ "$(cat $d/class)" = 0x060400 ] || continue
    echo "HP-LOG root port $(basename $d) config: $(hexdump -v -s 64 -n 96 -e '16/1 "%%02x " "|"' $d/config)"
done
"""


def qmp_step(qmp_path, out, name, fn):
    """At the guest's request: fn(qmp) into out[name], then let it go on."""
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


def step_hotplug(img, img2):
    def fn(q):
        add = q.cmd("blockdev-add", {"driver": "qcow2", "node-name": "hp0",
                                     "file": {"driver": "file", "filename": img}})
        dev = q.cmd("device_add", {"driver": "nvme", "drive": "hp0", "bus": "root",
                                   "serial": SERIAL, "id": "hpnvme"})
        add2 = q.cmd("blockdev-add", {"driver": "raw", "node-name": "hp1",
                                      "file": {"driver": "file", "filename": img2}})
        others = [q.cmd("device_add", {"driver": "virtio-blk-pci", "drive": "hp1",
                                       "bus": "dn1", "id": "hpvblk"}),
                  q.cmd("device_add", {"driver": "e1000e", "bus": "root2", "id": "hpnic",
                                       "netdev": "n1"})]
        return {"blockdev-add": add, "device_add": dev, "others": [add2] + others}
    return fn


def wait_deleted(q, dev_id, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for e in q.events:
            if e.get("event") == "DEVICE_DELETED" and e.get("data", {}).get("device") == dev_id:
                return e
        try:
            q.events.append(q.recv())
        except OSError:
            pass
    return None


def step_unplug(q):
    q.events = []
    t0 = time.time()
    r = q.cmd("device_del", {"id": "hpnvme"})
    early = [e for e in q.events if e.get("event") == "DEVICE_DELETED"]
    others = [q.cmd("device_del", {"id": i}) for i in ("hpvblk", "hpnic")]
    ev = wait_deleted(q, "hpnvme", DELETE_WAIT)
    others += [wait_deleted(q, i, DELETE_WAIT) for i in ("hpvblk", "hpnic")]
    info = q.cmd("human-monitor-command", {"command-line": "info pci"}) if not ev else None
    return {"device_del": r, "early": early, "event": ev, "secs": time.time() - t0,
            "info-pci": info, "others": others}


def make_image(wd):
    img = os.path.join(wd, "hp.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", img, str(IMAGE_SIZE)],
                   check=True)
    return img


def check_boot(b):
    check("did not time out (%d s)" % BOOT_TIMEOUT, not b.timed_out, b.tail())
    check("no kernel panic or oops", "Kernel panic" not in b.console and
          "Oops" not in b.console and value(b.console, "HP-BUG") == "0", b.tail())
    check("the test script ran to its end", "tessera-guest: test.sh exited 0" in b.console,
          b.tail())
    check("poweroff -f ends the emulator with exit status 0", b.status == 0, b.tail())


def check_hotplug(c, out, img):
    log = "\n".join(line for line in c.splitlines() if line.startswith("HP-LOG"))
    hp = out.get("hotplug", {})
    check("QMP blockdev-add of the qcow2 node and device_add nvme,drive=hp0,bus=root succeed",
          hp.get("blockdev-add") == {"return": {}} and hp.get("device_add") == {"return": {}},
          repr(hp))
    check("the guest's pciehp brings the hot-added controller up: nvme0n1 with its serial",
          value(c, "HP-DISKS") == "nvme0n1" and value(c, "HP-SERIAL") == SERIAL,
          "%r %r" % (value(c, "HP-DISKS"), value(c, "HP-SERIAL")))
    check("the guest writes a pattern with O_DIRECT and reads it back",
          value(c, "HP-DD") == "0" and value(c, "HP-READBACK") == value(c, "HP-GUEST-SHA"),
          "%r %r" % (value(c, "HP-DD"), value(c, "HP-READBACK")))
    un = out.get("unplug", {})
    ev = un.get("event") or {}
    check("QMP device_del returns at once, DEVICE_DELETED not yet (the guest decides)",
          un.get("device_del") == {"return": {}} and not un.get("early"), repr(un))
    check("DEVICE_DELETED names the device and its path after the guest powered the slot "
          "off (>= 5 s of pciehp's blinking)",
          ev.get("data", {}).get("device") == "hpnvme" and
          ev.get("data", {}).get("path") == "/machine/peripheral/hpnvme" and
          un.get("secs", 0) >= 5, repr(un) + "\n" + log)
    check("the disks are gone in the guest, pciehp logged the slots' events",
          value(c, "HP-AFTER") == "0" and int(value(c, "HP-PCIEHP") or 0) > 0,
          "%r %r" % (value(c, "HP-AFTER"), value(c, "HP-PCIEHP")))
    check("virtio-blk-pci on an xio3130-downstream port and e1000e on a root port (both "
          "behind the pxb-pcie) hot-added: vda (16 MiB) and an e1000e function bound",
          all(r == {"return": {}} for r in hp.get("others", [None])) and
          value(c, "HP-VDA") == str(IMAGE_SIZE // 512) and
          len((value(c, "HP-E1000E") or "").split()) == 2,
          "%r %r %r" % (hp.get("others"), value(c, "HP-VDA"), value(c, "HP-E1000E")))
    oth = un.get("others", [])
    check("... and removed: device_del of both, DEVICE_DELETED for each, gone in the guest",
          len(oth) == 4 and oth[:2] == [{"return": {}}] * 2 and all(oth[2:]) and
          len((value(c, "HP-E1000E-AFTER") or "").split()) == 1,
          "%r %r" % (oth, value(c, "HP-E1000E-AFTER")))
    raw = img + ".raw"
    chk = subprocess.run(["qemu-img", "check", img], capture_output=True, text=True)
    subprocess.run(["qemu-img", "convert", "-O", "raw", img, raw], check=True)
    with open(raw, "rb") as f:
        f.seek(GUEST_OFF)
        got = hashlib.sha256(f.read(GUEST_LEN)).hexdigest()
    check("the guest's data is in the image on the host, qemu-img check clean",
          got == value(c, "HP-GUEST-SHA") and chk.returncode == 0, chk.stdout.strip())


def pxb_args(arch):
    """The tutorial's pxb-pcie line, then the slots for virtio-blk-pci and
    e1000e behind the expander: pcie.0 keeps buses 0..1 (the first one for
    the port "root"), the expander 2.., Linux numbers depth-first from 00.0
    (pcie_bridge1 3, root2 4, rp3 5, up1 6, dn1 7)."""
    return ["-device", "pxb-pcie,id=pcie.1,bus_nr=2,bus=pcie.0",
            "-device", "ioh3420,id=pcie_bridge1,bus=pcie.1,chassis=1",
            "-device", "e1000e,bus=pcie_bridge1,netdev=n0",
            "-netdev", "user,id=n0",
            "-device", "pcie-root-port,id=root2,slot=2,bus=pcie.1",
            "-device", "ioh3420,id=rp3,chassis=3,bus=pcie.1",
            "-device", "x3130-upstream,id=up1,bus=rp3",
            "-device", "xio3130-downstream,id=dn1,bus=up1,chassis=4,slot=1",
            "-netdev", "user,id=n1"]


def check_pxb(c, arch):
    # On virt each host bridge node of the device tree is a PCI domain of
    # its own (Linux's ECAM driver), on q35 the expander shares segment 0.
    dom = "0000" if arch == "amd64" else "0001"
    devs = {}
    for item in (value(c, "PXB-LIST") or "").split():
        f = item.split(":")
        if len(f) >= 6:
            devs[":".join(f[:3])] = f[3:]
    check("pxb-pcie bus_nr=2: the ioh3420 on bus 2 (8086:3420, pcieport)",
          devs.get(dom + ":02:00.0") == ["8086", "3420", "pcieport"], repr(devs))
    check("the e1000e behind it on bus bus_nr + 1 = 3 (8086:10d3, e1000e)",
          devs.get(dom + ":03:00.0") == ["8086", "10d3", "e1000e"], repr(devs))


PC_SCRIPT = """\
sleep 1
echo "PXB-LIST=$(cd /sys/bus/pci/devices && for d in *; do \
echo "$d:$(cat $d/vendor | cut -c3-):$(cat $d/device | cut -c3-):\
$(basename "$(readlink $d/driver)")"; done | tr '\\n' ' ')"
echo "PXB-NUMA=$(cat /sys/bus/pci/devices/0000:04:03.0/numa_node 2>/dev/null)"
echo "PXB-NVME=$(ls /sys/block | grep nvme | tr '\\n' ' ')"
"""


def run_pc(emu, parts, wd):
    files = [f for f in guestlib.module_files(parts, ["e1000", "nvme"]) if "pclmul" not in f]
    initrd = guestlib.make_initrd(wd, parts["INITRD"], guestlib.insmod_script(files) + PC_SCRIPT,
                                  modules=files)
    img = make_image(wd)
    # QEMU 7.2 takes -numa node,mem= only on machine types up to 5.0.
    machine = "pc-i440fx-5.0" if "qemu-system" in os.path.basename(emu) else "pc"
    argv = [emu, "-M", machine, "-cpu", "qemu64", "-nographic", "-no-reboot",
            "-kernel", parts["KERNEL"], "-initrd", initrd, "-append", guestlib.AMD64_CMDLINE,
            "-smp", "4,sockets=2,cores=2,threads=1", "-m", "2304M",
            "-numa", "node,mem=2048,cpus=0-1", "-numa", "node,mem=256,cpus=2-3",
            "-device", "pxb,id=bridge1,bus=pci.0,bus_nr=3,numa_node=1",
            "-device", "nvme,drive=nvme0,serial=deadbeaf1,num_queues=8,bus=bridge1,addr=0x3",
            "-drive", "file=%s,if=none,id=nvme0" % img,
            "-device", "e1000,bus=bridge1,addr=0x4,netdev=n0", "-netdev", "user,id=n0"]
    b = guestlib.Boot(argv, BOOT_TIMEOUT)
    check("did not time out (%d s)" % BOOT_TIMEOUT, not b.timed_out, b.tail())
    check("the test script ran to its end, exit status 0",
          "tessera-guest: test.sh exited 0" in b.console and b.status == 0, b.tail())
    devs = {}
    for item in (value(b.console, "PXB-LIST") or "").split():
        f = item.split(":")
        if len(f) >= 6:
            devs[":".join(f[:3])] = f[3:]
    check("pxb bus_nr=3: its pci-bridge is 0000:03:00.0 (1b36:0001)",
          devs.get("0000:03:00.0", [])[:2] == ["1b36", "0001"], repr(devs))
    check("the nvme at bus=bridge1,addr=0x3 is 0000:04:03.0 (driver nvme, nvme0n1)",
          devs.get("0000:04:03.0", [])[2:] == ["nvme"] and
          value(b.console, "PXB-NVME") == "nvme0n1", "%r %r" % (devs, value(b.console, "PXB-NVME")))
    check("numa_node=1 of the pxb: the nvme behind it is on node 1 in sysfs",
          value(b.console, "PXB-NUMA") == "1", repr(value(b.console, "PXB-NUMA")))
    check("the e1000 at bus=bridge1,addr=0x4 is 0000:04:04.0 (8086:100e, driver e1000)",
          devs.get("0000:04:04.0") == ["8086", "100e", "e1000"], repr(devs))


def run(emu, arch, parts, wd):
    files = guestlib.module_files(parts, MODULES)
    if arch == "amd64":
        files = [f for f in files if "pclmul" not in f]
    script = guestlib.insmod_script(files) + SCRIPT % {
        "gblocks": GUEST_LEN // 4096, "gseek": GUEST_OFF // 4096}
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=files)
    img = make_image(wd)
    img2 = os.path.join(wd, "vd.raw")
    with open(img2, "wb") as f:
        f.truncate(IMAGE_SIZE)
    qmp_path = os.path.join(wd, "qmp.sock")
    out = {}
    actions = {"HOTPLUG-PLEASE": qmp_step(qmp_path, out, "hotplug", step_hotplug(img, img2)),
               "UNPLUG-PLEASE": qmp_step(qmp_path, out, "unplug", step_unplug)}
    extra = ["-device", "pcie-root-port,id=root,slot=0",
             "-qmp", "unix:%s,server=on,wait=off" % qmp_path] + pxb_args(arch)
    if arch == "amd64":
        argv = [emu, "-M", "q35", "-cpu", "qemu64", "-m", "512M", "-nographic", "-no-reboot",
                "-kernel", parts["KERNEL"], "-initrd", initrd,
                "-append", guestlib.AMD64_CMDLINE] + extra
        if "qemu-system" in os.path.basename(emu):
            argv += ["-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"]
    else:
        argv = guestlib.emulator_argv(emu, parts["KERNEL"], initrd, extra=extra)
    b = guestlib.Boot(argv, BOOT_TIMEOUT, actions=actions)
    # On stderr: a TAP comment before "TAP version" is an error to meson.
    print("# %s: userspace after %s s, %.1f s in all" % (os.path.basename(emu), b.t_marker,
                                                        b.elapsed), file=sys.stderr)
    check_boot(b)
    check_hotplug(b.console, out, img)
    check_pxb(b.console, arch)


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ("amd64", "arm64", "pc"):
        print(__doc__)
        return 2
    arch = sys.argv[2]
    emu = sys.argv[3] if len(sys.argv) > 3 else sys.argv[1]
    wd = guestlib.workdir()
    try:
        parts = guestlib.guest_parts() if arch == "arm64" else guestlib.amd64_parts()
        if arch == "pc":
            run_pc(emu, parts, wd)
        else:
            run(emu, arch, parts, wd)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
