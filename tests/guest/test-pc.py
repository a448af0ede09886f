#!/usr/bin/env python3
"""guest suite: the `pc` machine (i440FX + PIIX3, plugins/board-pc) with
Debian's amd64 kernel (scripts/guest-amd64), in one boot that shares every
check. TAP output.

    test-pc.py TESSERA [EMULATOR]

The command line is the tutorial's base line on pc: -M pc -smp 4 -m 4096M
-net nic -net user,hostfwd=tcp::PORT-:22 (pc's default NIC, an e1000)
-serial stdio (-display none for its -vnc), plus a virtio-blk-pci disk
at pci.0 slot 4 and the tutorial's conventional bridge (-device
pci-bridge,id=bridge0,chassis_nr=1 -device e1000,bus=bridge0,addr=0x3).
The guest judges:
  - the chipset in sysfs (an lspci view): 8086:1237 (i440FX) at 00:00.0,
    8086:7000 (PIIX3) at 00:01.0, 8086:7113 (PIIX4 PM) at 00:01.3, and
    the default VGA 1234:1111 at 00:02.0 (QEMU's layout); ACPI
    found \\_SB.PCI0 (PNP0A03) and the link devices (PNP0C0F);
  - PCI interrupts through the PIRQ links: each device's IRQ is one the
    links offer (5, 10, 11), the PIIX3's PIRQ registers hold what Linux
    chose through _SRS, and the e1000 (INTx only) takes interrupts on its
    IO-APIC line;
  - the e1000 gets a DHCP lease from slirp (10.0.2.15) and the e1000 behind
    the bridge probes with its interrupt routed through the bridge;
  - the disk reads the host's pattern and takes an O_DIRECT write the host
    finds in the image;
  - the tutorial's -hda boot.qcow2 (qcow2 by probing, no format=) is an IDE
    disk on the PIIX3 (ata_piix, /dev/sda): it reads the pattern qemu-img
    put there and takes an O_DIRECT write; qemu-img check then finds the
    image clean and the write in it;
  - RAM above 4 GiB (3 GiB below, 1 GiB above): MemTotal near 4 GiB;
    4 CPUs; the hostfwd port accepts a connection from the host;
  - `poweroff -f` (ACPI S5: PIIX4 SLP_TYP 0) ends the emulator with 0.
Kernel command line: console=ttyS0 panic=-1 cryptomgr.notests no_timer_check.
EMULATOR (default: TESSERA) runs the same checks on qemu-system-x86_64.
"""
import hashlib
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import amd64_parts, pattern, value  # noqa: E402
from tesstest import check  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s
CMDLINE = guestlib.AMD64_CMDLINE  # with no_timer_check (see guestlib)
MiB = 1 << 20
IMAGE_SIZE = 16 * MiB
PATTERN_LEN = MiB
GUEST_OFF = 8 * MiB + 4096
GUEST_LEN = 256 * 1024
LINK_IRQS = ("5", "10", "11")

DHCP_SCRIPT = """#!/bin/sh
case "$1" in
bound|renew)
    ip addr add $ip/${mask:-24} dev $interface
    echo "LEASE ip=$ip router=$router"
    ;;
esac
"""

TEST_SCRIPT = """\
%(insmod)s
sleep 1
for d in /sys/bus/pci/devices/*; do
    echo "PCI $(basename $d) $(cat $d/vendor):$(cat $d/device) irq=$(cat $d/irq)"
done
echo "PCI0=$(cat /sys/bus/acpi/devices/PNP0A03:00/path 2>/dev/null)"
echo "LINKS=$(ls -d /sys/bus/acpi/devices/PNP0C0F:* 2>/dev/null | wc -l)"
echo "PIRQRC=$(dd if=/sys/bus/pci/devices/0000:00:01.0/config bs=1 skip=96 count=4 \
2>/dev/null | od -An -tu1 | tr -s ' ')"
echo "MEMTOTAL=$(grep MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2)"
echo "NPROC=$(grep -c ^processor /proc/cpuinfo)"
for n in /sys/class/net/eth*; do
    echo "NIC $(basename $n) $(readlink -f $n/device) $(basename $(readlink $n/device/driver))"
done
# the NIC of -net nic: the e1000 straight on pci.0 (not behind the bridge)
for n in /sys/class/net/eth*; do
    case $(readlink -f $n/device) in
    /sys/devices/pci0000:00/0000:00:??.?) ETH=$(basename $n) ;;
    esac
done
echo "ETH=$ETH"
ip link set lo up
for n in /sys/class/net/eth*; do ip link set $(basename $n) up; done
i=0
while [ "$(cat /sys/class/net/$ETH/carrier 2>/dev/null)" != 1 ] && [ $i -lt 50 ]; do
    sleep 0.2; i=$((i + 1))
done
echo "CARRIER=$(cat /sys/class/net/$ETH/carrier 2>/dev/null)"
udhcpc -i $ETH -n -q -t 10 -T 2 -s /dhcp.sh
echo HOSTFWD-PLEASE
read x
echo "IRQS-BEGIN"
grep eth /proc/interrupts
echo "IRQS-END"
DEV=/dev/vda
echo "DISK HOST-MD5=$(dd if=$DEV bs=65536 count=%(blocks)d 2>/dev/null | md5sum \
| cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/p bs=4096 count=%(gblocks)d 2>/dev/null
echo "DISK GUEST-MD5=$(md5sum < /tmp/p | cut -d' ' -f1)"
dd if=/tmp/p of=$DEV bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "DISK DD-STATUS=$?"
echo "HDA HOST-MD5=$(dd if=/dev/sda bs=65536 count=%(blocks)d 2>/dev/null | md5sum \
| cut -d' ' -f1)"
dd if=/tmp/p of=/dev/sda bs=4096 seek=%(gseek)d oflag=direct conv=notrunc 2>/dev/null
echo "HDA DD-STATUS=$?"
sync
"""


def pci_lines(console):
    """{'0000:00:01.0': ('0x8086:0x7000', '10'), ...} from the PCI lines."""
    out = {}
    for line in console.splitlines():
        f = line.split()
        if len(f) == 4 and f[0] == "PCI" and f[3].startswith("irq="):
            out[f[1]] = (f[2], f[3][4:])
    return out


def nics(console):
    """{sysfs device path: (ifname, driver)} from the NIC lines."""
    out = {}
    for line in console.splitlines():
        f = line.split()
        if len(f) == 4 and f[0] == "NIC":
            out[f[2]] = (f[1], f[3])
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def argv_for(emu, parts, initrd, img, hda, port):
    # The tutorial's base line (-serial stdio with -display none for its -vnc)
    return [emu, "-M", "pc", "-cpu", "qemu64", "-smp", "4", "-m", "4096M",
            "-display", "none", "-serial", "stdio",
            "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd, "-append", CMDLINE,
            "-net", "nic", "-net", "user,hostfwd=tcp:127.0.0.1:%d-:22" % port,
            "-drive", "file=%s,if=none,id=d0,format=raw" % img,
            "-device", "virtio-blk-pci,drive=d0,bus=pci.0,addr=0x4",
            "-device", "pci-bridge,id=bridge0,chassis_nr=1,bus=pci.0,addr=0x5",
            "-device", "e1000,bus=bridge0,addr=0x3,netdev=n1", "-netdev", "user,id=n1",
            "-hda", hda]


def check_boot(b):
    check("did not time out (%d s)" % BOOT_TIMEOUT, not b.timed_out, b.tail())
    check("no kernel panic, oops or soft lockup",
          all(s not in b.console for s in ("Kernel panic", "Oops", "soft lockup")), b.tail())
    check("no ACPI errors: the DSDT's AML (links, PCI_Config fields) evaluates cleanly",
          "ACPI Error" not in b.console and "ACPI BIOS Error" not in b.console,
          "\n".join(l for l in b.console.splitlines() if "ACPI" in l and "rror" in l))
    check("the test script ran to its end", "tessera-guest: test.sh exited 0" in b.console,
          b.tail())
    check("poweroff -f (ACPI S5 through PIIX4 PM1_CNT) ends the emulator with 0",
          b.status == 0 and "reboot: Power down" in b.console,
          "exit status %s\n%s" % (b.status, b.tail()))


def check_chipset(c):
    pci = pci_lines(c)
    for addr, ids, what in (("0000:00:00.0", "0x8086:0x1237", "i440FX"),
                            ("0000:00:01.0", "0x8086:0x7000", "PIIX3"),
                            ("0000:00:01.3", "0x8086:0x7113", "PIIX4 PM"),
                            ("0000:00:02.0", "0x1234:0x1111", "the default std VGA")):
        check("sysfs shows %s %s at %s" % (what, ids, addr[5:]),
              pci.get(addr, ("", ""))[0] == ids, "\n".join("%s %s" % kv for kv in pci.items()))
    check("ACPI enumerates \\_SB.PCI0 (PNP0A03) and the PCI interrupt links (LNKA..D, LNKS)",
          value(c, "PCI0") == "\\_SB_.PCI0" and value(c, "LINKS") == "5", c[-3000:])
    check("RAM above 4 GiB is used: MemTotal > 3.7 GiB of -m 4096M",
          int(value(c, "MEMTOTAL") or 0) > 3.7 * (1 << 20), "MEMTOTAL=%s" % value(c, "MEMTOTAL"))


def slot_of(addr):
    return int(addr.split(":")[2].split(".")[0], 16)


def check_irqs(c):
    pci = pci_lines(c)
    n = nics(c)
    direct = [p.rsplit("/", 1)[1] for p in n if p.count("/0000:") == 1]
    devs = {a: pci.get(a, ("", ""))[1] for a in direct + ["0000:00:04.0"]}
    check("the e1000 and virtio-blk on pci.0 have link IRQs (5, 10, 11)",
          len(devs) == 2 and all(v in LINK_IRQS for v in devs.values()), repr(devs))
    rc = (value(c, "PIRQRC") or "").split()
    # slot S INTA# is PIRQ (S - 1) & 3 (PIIX3, QEMU's pc)
    check("the PIIX3 PIRQ registers hold the IRQs Linux set through the links' _SRS",
          len(rc) == 4 and len(devs) == 2 and
          all(rc[(slot_of(a) - 1) & 3] == v for a, v in devs.items()),
          "PIRQRC=%s %r" % (rc, devs))
    irqs = c.split("IRQS-BEGIN", 1)[-1].split("IRQS-END", 1)[0].strip().splitlines()
    eth = value(c, "ETH") or "?"
    # "11:  17  0  IO-APIC  11-fasteoi  eth0, eth1": a shared line lists both
    line = [l for l in irqs if eth in l.split("fasteoi", 1)[-1].replace(",", " ").split()]
    counts = [int(x) for x in line[0].split()[1:3] if x.isdigit()] if line else []
    check("the e1000 takes interrupts on its IO-APIC line (level, fasteoi)",
          bool(line) and "IO-APIC" in line[0] and "fasteoi" in line[0] and sum(counts) > 0,
          "\n".join(irqs))


def check_net(c):
    n = nics(c)
    direct = [d for p, (i, d) in n.items() if p.count("/0000:") == 1]
    bridged = [d for p, (i, d) in n.items() if p.count("/0000:") == 2]
    check("-net nic is an e1000 on pci.0 bound by Linux's e1000", direct == ["e1000"], repr(n))
    check("the e1000 behind pci-bridge bridge0 probes (e1000 driver)", bridged == ["e1000"],
          repr(n))
    check("the e1000's link comes up and slirp leases 10.0.2.15",
          value(c, "CARRIER") == "1" and "LEASE ip=10.0.2.15 router=10.0.2.2" in c, c[-3000:])


def check_disk(c, img):
    host_md5 = hashlib.md5(pattern(PATTERN_LEN, b"host")).hexdigest()
    check("the virtio-blk disk reads the host's pattern",
          "DISK HOST-MD5=%s" % host_md5 in c, c[-2000:])
    with open(img, "rb") as f:
        f.seek(GUEST_OFF)
        got = hashlib.md5(f.read(GUEST_LEN)).hexdigest()
    check("the virtio-blk disk takes the guest's O_DIRECT write (found in the image)",
          value(c, "DISK DD-STATUS") == "0" and value(c, "DISK GUEST-MD5") == got, c[-2000:])


def make_hda(wd):
    """The tutorial's boot.qcow2: the host pattern, converted by qemu-img."""
    raw, hda = os.path.join(wd, "hda.raw"), os.path.join(wd, "boot.qcow2")
    with open(raw, "wb") as f:
        f.truncate(IMAGE_SIZE)
        f.write(pattern(PATTERN_LEN, b"hda"))
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, hda], check=True)
    return hda


def check_hda(c, wd, hda):
    want = hashlib.md5(pattern(PATTERN_LEN, b"hda")).hexdigest()
    check("-hda boot.qcow2 (probed qcow2) on the PIIX3 IDE reads qemu-img's pattern",
          "HDA HOST-MD5=%s" % want in c, c[-2000:])
    chk = subprocess.run(["qemu-img", "check", hda], capture_output=True, text=True)
    out = os.path.join(wd, "hda.out")
    subprocess.run(["qemu-img", "convert", "-O", "raw", hda, out], check=True)
    with open(out, "rb") as f:
        f.seek(GUEST_OFF)
        got = hashlib.md5(f.read(GUEST_LEN)).hexdigest()
    check("-hda: the guest's O_DIRECT write is in the qcow2 image, qemu-img check clean",
          value(c, "HDA DD-STATUS") == "0" and value(c, "DISK GUEST-MD5") == got
          and chk.returncode == 0, chk.stdout + chk.stderr + c[-1500:])


def run(emu, wd):
    parts = amd64_parts()
    mods = guestlib.module_files(parts, ["e1000", "virtio_pci", "virtio_blk", "ata_piix", "sd_mod"])
    dhcp = os.path.join(wd, "dhcp.sh")
    with open(dhcp, "w") as f:
        f.write(DHCP_SCRIPT)
    script = TEST_SCRIPT % {"insmod": guestlib.insmod_script(mods),
                            "blocks": PATTERN_LEN // 65536, "gblocks": GUEST_LEN // 4096,
                            "gseek": GUEST_OFF // 4096}
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, files=[dhcp], modules=mods)
    img = os.path.join(wd, "disk.img")
    with open(img, "wb") as f:
        f.truncate(IMAGE_SIZE)
        f.write(pattern(PATTERN_LEN, b"host"))
    hda = make_hda(wd)
    port = free_port()
    fwd = {}

    def hostfwd(boot):
        """hostfwd=tcp::PORT-:22 listens on the host while the guest runs."""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                fwd["connected"] = True
        except OSError as e:
            fwd["error"] = repr(e)
        boot.send("go\n")

    b = guestlib.Boot(argv_for(emu, parts, initrd, img, hda, port), BOOT_TIMEOUT,
                      actions={"HOSTFWD-PLEASE": hostfwd})
    c = b.console
    check_boot(b)
    check("-smp 4: the guest runs 4 CPUs", value(c, "NPROC") == "4", b.tail())
    check("-net user,hostfwd=tcp::PORT-:22: the host port accepts a connection",
          fwd.get("connected") is True, repr(fwd))
    check_chipset(c)
    check_irqs(c)
    check_net(c)
    check_disk(c, img)
    check_hda(c, wd, hda)


def main():
    return guestlib.emu_main(__doc__, run)


if __name__ == "__main__":
    sys.exit(main())
