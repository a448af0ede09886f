#!/usr/bin/env python3
"""The network options of the real binary (no guest): -netdev, -nic and
-net as users write them, their one-line errors, the unused-netdev
warning, HMP info network and set_link, QMP set_link. TAP output.

    test-net-cli.py TESSERA
"""
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tesstest import Qmp, check, tap_report  # noqa: E402

TESSERA = sys.argv[1] if len(sys.argv) > 1 else "build/tessera"
BASE = [TESSERA, "-M", "none", "-display", "none", "-S"]


def refused(name, args, *want):
    """The command line fails at once with exit 1 and one line holding want."""
    p = subprocess.run(BASE + args, capture_output=True, text=True, timeout=20)
    lines = p.stderr.strip().splitlines()
    ok = p.returncode == 1 and len(lines) == 1 and all(w in lines[0] for w in want)
    check(name, ok, "status %s, stderr %r, wanted %r" % (p.returncode, p.stderr, want))


def monitor(args, commands):
    """Start with -monitor stdio, run HMP commands, quit; (stdout, stderr)."""
    p = subprocess.run(BASE + args + ["-monitor", "stdio"], input="\n".join(commands + ["q"]),
                       capture_output=True, text=True, timeout=20)
    return p.stdout, p.stderr


def busy_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


def test_refusals():
    refused("unknown netdev type is refused", ["-netdev", "vde,id=n0"],
            "netdev: unknown type 'vde'")
    refused("netdev without id= is refused", ["-netdev", "user"], "id= is required")
    refused("duplicate netdev id is refused", ["-netdev", "user,id=n0", "-netdev", "user,id=n0"],
            "netdev 'n0': duplicate id")
    refused("unknown netdev option is refused", ["-netdev", "user,id=n0,colour=blue"],
            "netdev 'n0': unknown option 'colour' for type user")
    refused("bad hostfwd port is refused with the rule", ["-netdev",
            "user,id=n0,hostfwd=tcp::abc-:22"], "invalid host forwarding rule 'tcp::abc-:22'")
    refused("hostfwd without guest part is refused", ["-netdev", "user,id=n0,hostfwd=tcp::5022"],
            "invalid host forwarding rule")
    refused("bad net= is refused", ["-netdev", "user,id=n0,net=10.0.2.0/99"], "net=")
    refused("guestfwd to anything but cmd: is refused",
            ["-netdev", "user,id=n0,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:80"],
            "only cmd:COMMAND")
    s, port = busy_port()
    refused("hostfwd on a busy port is refused", ["-netdev",
            "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22" % port],
            "could not set up host forwarding rule")
    s.close()
    refused("unknown netdev id in -device is refused",
            ["-device", "virtio-net-pci,netdev=nope"], "netdev 'nope' not found")
    refused("a netdev used by two NICs is refused",
            ["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0",
             "-device", "virtio-net-pci,netdev=n0"], "netdev 'n0' is already in use")
    refused("a multicast mac= is refused", ["-device", "virtio-net-pci,mac=01:00:5e:00:00:01"],
            "unicast MAC")
    refused("tap fd= that is no tap is refused", ["-netdev", "tap,id=t0,fd=0"],
            "'0' is not an open tap file descriptor")
    refused("stream client to a closed port is refused", ["-netdev",
            "stream,id=s0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=1"],
            "cannot connect to 127.0.0.1:1")
    refused("socket wants listen= or connect=", ["-netdev", "socket,id=s0"],
            "listen=[HOST]:PORT or connect=HOST:PORT")
    refused("-nic without model= on a machine without a default NIC is refused",
            ["-nic", "user"], "no default NIC model; give model=")
    refused("two NICs on one -net vlan are refused (no hub)",
            ["-net", "nic,model=virtio-net-pci", "-net", "nic,model=virtio-net-pci",
             "-net", "user"], "vlan 0 has 2 NICs")


def test_info_network_and_links():
    out, err = monitor(["-nic", "user,model=virtio-net-pci,mac=52:54:00:aa:bb:cc",
                        "-net", "nic,model=virtio", "-net", "user,restrict=on",
                        "-netdev", "user,id=lonely"],
                       ["info network", "set_link __nic0 off", "info network",
                        "set_link nope on"])
    check("-nic user,model=,mac= makes a NIC with that MAC on a user backend",
          "virtio-net-pci.0: index=0,type=nic,model=virtio-net-pci,macaddr=52:54:00:aa:bb:cc"
          in out and "\\ __nic0: index=0,type=user,net=10.0.2.0,restrict=off" in out, out)
    check("-net nic,model=virtio + -net user pair up; the NIC takes QEMU's first default MAC",
          "model=virtio-net-pci,macaddr=52:54:00:12:34:56" in out and "restrict=on" in out, out)
    check("an unused netdev is warned about once, the run goes on",
          err.count("warning: netdev lonely has no peer") == 1, err)
    check("HMP set_link off shows (link down) in info network",
          "macaddr=52:54:00:aa:bb:cc (link down)" in out, out)
    check("HMP set_link of an unknown name answers Device not found",
          "Device 'nope' not found" in out, out)


def test_qmp_set_link():
    wd = tempfile.mkdtemp()
    path = os.path.join(wd, "qmp.sock")
    p = subprocess.Popen(BASE + ["-netdev", "user,id=n0", "-device",
                                 "virtio-net-pci,netdev=n0,id=nic0", "-qmp",
                                 "unix:%s,server=on,wait=off" % path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        q = Qmp(path)
        q.negotiate()
        r1 = q.cmd("set_link", {"name": "nic0", "up": False})
        info = q.cmd("human-monitor-command", {"command-line": "info network"})
        r2 = q.cmd("set_link", {"name": "n0", "up": True})
        r3 = q.cmd("set_link", {"name": "ghost", "up": True})
        r4 = q.cmd("set_link", {"name": "n0"})
        q.cmd("quit")
        p.wait(timeout=10)
    finally:
        p.kill()
        p.wait()
    check("QMP set_link by NIC id and by netdev id answers {}",
          r1.get("return") == {} and r2.get("return") == {}, "%s %s" % (r1, r2))
    check("QMP set_link took the link down (info network)",
          "(link down)" in info.get("return", ""), info)
    check("QMP set_link of an unknown name is a GenericError naming it",
          "Device 'ghost' not found" in r3.get("error", {}).get("desc", ""), r3)
    check("QMP set_link without up is an error", "error" in r4, r4)


def main():
    test_refusals()
    test_info_network_and_links()
    test_qmp_set_link()
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
