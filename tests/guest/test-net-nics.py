#!/usr/bin/env python3
"""guest suite: the e1000 and e1000e NICs (plugins/net) under Linux's own
e1000 and e1000e drivers, on user networking (-netdev user, libslirp).
TAP output.

    test-net-nics.py TESSERA CASE [EMULATOR]

CASE is ARCH-NIC[-TOPOLOGY]:
  arm64-e1000, arm64-e1000e   -M virt (PCIe host bridge, GICv2m MSI)
  amd64-e1000, amd64-e1000e   -M q35
  amd64-e1000-bridge          the tutorial's conventional topology:
                              -device pci-bridge,id=bridge0,chassis_nr=1
                              -device e1000,bus=bridge0,addr=0x3
  amd64-e1000e-switch         the tutorial's PCIe switch: ioh3420 root port,
                              x3130-upstream, xio3130-downstream,chassis=9,
                              e1000e behind it
  amd64-e1000e-legacy         the tutorial's base line `-net nic -net user`:
                              q35's default NIC, which is the e1000e

Each case boots once with `-device NIC,netdev=n0 -netdev user,id=n0`; the
guest loads the driver module, which must probe (EEPROM checksum, PHY,
MAC 52:54:00:12:34:56), bring the link up, get a DHCP lease from slirp
(10.0.2.15, router 10.0.2.2) with busybox udhcpc, and fetch 2 MiB from an
HTTP server this script runs on the host's loopback (slirp's 10.0.2.2);
the sha256 the guest prints must be the file's. The interrupt mode is
checked too (MSI-X vectors for e1000e, the legacy line for e1000).
EMULATOR (default: TESSERA) runs the same checks on QEMU.
"""
import functools
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from tesstest import check, tap_report  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s
BLOB_SIZE = 2 << 20
MAC = "52:54:00:12:34:56"

# udhcpc calls this with the lease in the environment.
DHCP_SCRIPT = """#!/bin/sh
case "$1" in
bound|renew)
    ip addr add $ip/${mask:-24} dev $interface
    for r in $router; do ip route add default via $r dev $interface; done
    echo "LEASE ip=$ip router=$router dns=$dns"
    ;;
esac
"""

TEST_SCRIPT = """\
%(insmod)s
sleep 1
echo "MAC=$(cat /sys/class/net/eth0/address 2>/dev/null)"
ip link set lo up
ip link set eth0 up
i=0
while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 50 ]; do
    sleep 0.2; i=$((i + 1))
done
echo "CARRIER=$(cat /sys/class/net/eth0/carrier 2>/dev/null)"
udhcpc -i eth0 -n -q -t 10 -T 2 -s /dhcp.sh
echo "ADDR=$(ip -4 addr show eth0 | grep -o 'inet [0-9.]*')"
wget -q -O /tmp/blob http://10.0.2.2:%(port)d/blob
echo "WGET-STATUS=$?"
echo "BLOB-SIZE=$(wc -c < /tmp/blob)"
echo "BLOB-SHA256=$(sha256sum /tmp/blob | cut -d' ' -f1)"
echo "IRQS-BEGIN"
grep eth0 /proc/interrupts
echo "IRQS-END"
echo "DRIVER=$(basename $(readlink /sys/class/net/eth0/device/driver))"
echo "PCIPATH=$(readlink -f /sys/class/net/eth0/device)"
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    """An HTTP server on 127.0.0.1 (slirp's 10.0.2.2), in a thread."""
    handler = functools.partial(QuietHandler, directory=directory)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def amd64_parts():
    script = os.path.join(guestlib.SRC_ROOT, "scripts", "guest-amd64")
    p = subprocess.run([script], capture_output=True, text=True)
    if p.returncode != 0:
        raise guestlib.GuestError("scripts/guest-amd64 failed (status %d):\n%s"
                                  % (p.returncode, p.stderr.strip()))
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def topology(case, nic):
    """-device/-net lines for the NIC (and the bridges it sits behind)."""
    net = "netdev=n0"
    if case.endswith("-legacy"):
        return ["-net", "nic", "-net", "user"]
    if case.endswith("-bridge"):
        return ["-device", "pci-bridge,id=bridge0,chassis_nr=1",
                "-device", "%s,bus=bridge0,addr=0x3,%s" % (nic, net)]
    if case.endswith("-switch"):
        return ["-device", "ioh3420,id=root_port1,bus=pcie.0",
                "-device", "x3130-upstream,id=upstream1,bus=root_port1",
                "-device", "xio3130-downstream,id=downstream1,bus=upstream1,chassis=9",
                "-device", "%s,bus=downstream1,%s" % (nic, net)]
    return ["-device", "%s,%s" % (nic, net)]


def argv_for(emu, arch, parts, initrd, extra):
    if arch == "arm64":
        return guestlib.emulator_argv(emu, parts["KERNEL"], initrd, extra=extra)
    return ([emu, "-M", "q35", "-cpu", "qemu64", "-smp", "1", "-m", "512M", "-nographic",
             "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd, "-append",
             guestlib.AMD64_CMDLINE] + list(extra))


def value(console, key):
    for line in console.splitlines():
        if line.startswith(key + "="):
            return line.split("=", 1)[1].strip()
    return None


def irq_lines(console):
    if "IRQS-BEGIN" not in console:
        return []
    return console.split("IRQS-BEGIN", 1)[1].split("IRQS-END", 1)[0].strip().splitlines()


def run(emu, case, wd):
    arch, nic = case.split("-")[:2]
    parts = guestlib.guest_parts() if arch == "arm64" else amd64_parts()
    blob = os.urandom(BLOB_SIZE)
    with open(os.path.join(wd, "blob"), "wb") as f:
        f.write(blob)
    httpd = serve(wd)
    try:
        mods = guestlib.module_files(parts, [nic])
        dhcp = os.path.join(wd, "dhcp.sh")
        with open(dhcp, "w") as f:
            f.write(DHCP_SCRIPT)
        script = TEST_SCRIPT % {"insmod": guestlib.insmod_script(mods),
                                "port": httpd.server_address[1]}
        initrd = guestlib.make_initrd(wd, parts["INITRD"], script, files=[dhcp], modules=mods)
        extra = topology(case, nic)
        if not case.endswith("-legacy"):
            extra += ["-netdev", "user,id=n0"]
        b = guestlib.Boot(argv_for(emu, arch, parts, initrd, extra), BOOT_TIMEOUT)
    finally:
        httpd.shutdown()
    c = b.console
    check("%s: did not time out (%d s)" % (case, BOOT_TIMEOUT), not b.timed_out, b.tail())
    check("%s: no kernel panic, oops or soft lockup" % case,
          "Kernel panic" not in c and "Oops" not in c and "soft lockup" not in c, b.tail())
    check("%s: the %s driver probes and binds" % (case, nic),
          value(c, "DRIVER") == nic and "INSMOD-FAILED" not in c, b.tail())
    check("%s: the MAC from the EEPROM is %s" % (case, MAC), value(c, "MAC") == MAC, b.tail())
    check("%s: the link comes up (carrier 1)" % case, value(c, "CARRIER") == "1", b.tail())
    check("%s: slirp's DHCP leases 10.0.2.15 with router 10.0.2.2" % case,
          "LEASE ip=10.0.2.15 router=10.0.2.2" in c and value(c, "ADDR") == "inet 10.0.2.15",
          b.tail())
    want = hashlib.sha256(blob).hexdigest()
    check("%s: 2 MiB fetched from the host's HTTP server, sha256 matches" % case,
          value(c, "WGET-STATUS") == "0" and value(c, "BLOB-SIZE") == str(BLOB_SIZE)
          and value(c, "BLOB-SHA256") == want, "wanted %s\n%s" % (want, b.tail()))
    irqs = irq_lines(c)
    if nic == "e1000e":
        check("%s: the driver uses MSI-X (rx, tx and other vectors)" % case,
              len(irqs) >= 3 and any("eth0-rx-0" in l for l in irqs), "\n".join(irqs))
    else:
        check("%s: the driver uses its legacy interrupt line" % case,
              len(irqs) == 1 and "MSI" not in irqs[0], "\n".join(irqs))
    if case.endswith("-bridge") or case.endswith("-switch"):
        # /sys/devices/pci0000:00/<bridge>/.../<nic>: one component per hop
        path = value(c, "PCIPATH") or ""
        hops = path.count("/0000:")
        want = 2 if case.endswith("-bridge") else 4
        check("%s: the NIC sits %d functions deep (sysfs %s)" % (case, want, path),
              hops == want, b.tail())


CASES = ["arm64-e1000", "arm64-e1000e", "amd64-e1000", "amd64-e1000e", "amd64-e1000-bridge",
         "amd64-e1000e-switch", "amd64-e1000e-legacy"]


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    tessera, case = sys.argv[1], sys.argv[2]
    emu = sys.argv[3] if len(sys.argv) > 3 else tessera
    wd = guestlib.workdir()
    try:
        if case not in CASES:
            check("known case '%s'" % case, False, __doc__)
        else:
            run(emu, case, wd)
    except guestlib.GuestError as e:
        check("%s: guest parts prepared" % case, False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
