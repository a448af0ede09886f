#!/usr/bin/env python3
"""guest suite, network: Debian's arm64 kernel on `tessera -M virt` with a
NIC (virtio-net-pci by default); the guest's drivers and busybox's udhcpc,
wget, httpd and sha256sum are the judges. TAP output.

    test-arm64-net.py TESSERA CASE [NIC] [EMULATOR]

CASE (each boots once, its checks share the boot):
  user    -smp 2, -netdev user with hostfwd; virtio-net with mq=on,queues=2:
          a DHCP lease from slirp (10.0.2.15, router 10.0.2.2); 2 MiB
          fetched from a python http.server the test runs on 127.0.0.1
          (through 10.0.2.2) has the right sha256; the guest's httpd is
          reached from the host through hostfwd; guestfwd=...-cmd: answers
          the guest; (virtio) two combined
          queues in sysfs and interrupts on both RX queues; QMP set_link
          takes the carrier down and up; HMP info network shows NIC and
          backend
  stream  two tessera guests joined by -netdev stream (QEMU 7.2's
          addr.type=inet syntax, server=on / server=off): each fetches a
          file the other serves and the sha256 sums match
  stream-qemu  the same with guest b in qemu-system-aarch64: tessera's
          stream netdev speaks QEMU's wire format
  tap     (root, /dev/net/tun) a network namespace made by the test, -netdev
          tap with script= configuring the host end, queues=2 and vnet_hdr:
          2 MiB from the namespace has the right sha256, the namespace
          reaches the guest's httpd; skipped with a reason when not root
  amd64-user  the user case with Debian's amd64 kernel on -M q35
          (scripts/guest-amd64)

NIC is virtio-net-pci, e1000 or e1000e (the mq checks are virtio's).
EMULATOR (default TESSERA) runs the same checks on qemu-system-aarch64
where the case allows (user, stream); the monitor checks need tessera.
"""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from tesstest import Qmp, check, tap_report  # noqa: E402

BOOT_TIMEOUT = 480
BLOB_LEN = 2 << 20
NIC_MODULES = {"virtio-net-pci": ["virtio_pci", "virtio_net"], "e1000": ["e1000"],
               "e1000e": ["e1000e"]}

DHCP = """\
cat > /tmp/dhcp.sh <<'EOS'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add $ip/${mask:-24} dev $interface
[ -n "$router" ] && ip route add default via ${router%% *}
echo "LEASE=$ip ROUTER=${router%% *}"
EOS
chmod +x /tmp/dhcp.sh
ip link set eth0 up
udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 10 -T 1 2>&1 || echo DHCP-FAILED
"""

# The guest's own web server: one file, reached from the host.
HTTPD = """\
mkdir -p /www
echo "served by the guest" > /www/hello
dd if=/dev/urandom of=/www/blob bs=4096 count=256 2>/dev/null
echo "OWN-SHA=$(sha256sum /www/blob | cut -d' ' -f1)"
httpd -p 8080 -h /www
"""

FETCH = """\
i=0
until wget -q -O /tmp/f http://%(host)s/blob 2>/dev/null; do
    i=$((i + 1)); [ $i -ge 60 ] && break; sleep 1
done
echo "FETCH-SHA=$(sha256sum /tmp/f | cut -d' ' -f1)"
"""

USER_SCRIPT = DHCP + HTTPD + FETCH % {"host": "10.0.2.2:@HTTP@"} + """\
echo "GUESTFWD=$(nc 10.0.2.100 1234 </dev/null)"
echo "QUEUES=$(ls /sys/class/net/eth0/queues | tr '\\n' ' ')"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
    wget -q -O /dev/null http://10.0.2.2:@HTTP@/small &
done
wait
grep -E 'virtio[0-9]+-input' /proc/interrupts | while read n a b rest; do
    echo "IRQ ${rest##* } $((a + b))"
done
echo HOSTFWD-PLEASE
read answer
echo LINK-DOWN-PLEASE
read answer
# e1000's watchdog notices a link change up to 2 s later: poll, up to 4 s.
i=0; while [ $i -lt 4 ] && [ "$(cat /sys/class/net/eth0/carrier)" != 0 ]; do sleep 1; i=$((i+1)); done
echo "CARRIER-DOWN=$(cat /sys/class/net/eth0/carrier)"
echo LINK-UP-PLEASE
read answer
i=0; while [ $i -lt 4 ] && [ "$(cat /sys/class/net/eth0/carrier)" != 1 ]; do sleep 1; i=$((i+1)); done
echo "CARRIER-UP=$(cat /sys/class/net/eth0/carrier)"
"""


def value(console, key):
    m = re.search(r"^%s=(.*)$" % re.escape(key), console, re.M)
    return m.group(1).strip() if m else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def host_http(wd, bind="127.0.0.1", netns=None):
    """A python http.server on bind serving /blob (2 MiB) and /small;
    returns (process, port, sha256 of blob)."""
    www = os.path.join(wd, "www")
    os.makedirs(www, exist_ok=True)
    blob = os.urandom(BLOB_LEN)
    with open(os.path.join(www, "blob"), "wb") as f:
        f.write(blob)
    with open(os.path.join(www, "small"), "wb") as f:
        f.write(os.urandom(20000))
    port = free_port()
    argv = [sys.executable, "-m", "http.server", "--bind", bind, str(port)]
    if netns:
        argv = ["ip", "netns", "exec", netns] + argv
    p = subprocess.Popen(argv, cwd=www, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, port, hashlib.sha256(blob).hexdigest()


def amd64_parts():
    script = os.path.join(guestlib.SRC_ROOT, "scripts", "guest-amd64")
    p = subprocess.run([script], capture_output=True, text=True)
    if p.returncode != 0:
        raise guestlib.GuestError("scripts/guest-amd64 failed:\n" + p.stderr.strip())
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def emu_argv(arch, emu, parts, initrd, smp=1, extra=()):
    if arch == "arm64":
        return guestlib.emulator_argv(emu, parts["KERNEL"], initrd, smp=smp, extra=extra)
    return ([emu, "-M", "q35", "-cpu", "qemu64", "-smp", str(smp), "-m", "512M",
             "-nographic", "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd,
             "-append", guestlib.AMD64_CMDLINE] + list(extra))


def nic_device(nic, netdev, extra=""):
    return ["-device", "%s,netdev=%s%s" % (nic, netdev, extra)]


def make_initrd(parts, wd, nic, script, name="initrd"):
    mods = guestlib.module_files(parts, NIC_MODULES[nic])
    sub = os.path.join(wd, name)
    os.makedirs(sub, exist_ok=True)
    return guestlib.make_initrd(sub, parts["INITRD"], guestlib.insmod_script(mods) + script,
                                modules=mods)


def check_common(b, name):
    check("%s: the guest ran its test script and powered off (status 0)" % name,
          not b.timed_out and "tessera-guest: test.sh exited 0" in b.console
          and b.status == 0, "exit status %s\n%s" % (b.status, b.tail()))
    check("%s: no kernel oops, panic or failed insmod" % name,
          "Internal error: Oops" not in b.console and "Kernel panic" not in b.console
          and "INSMOD-FAILED" not in b.console, b.tail())


# ---- user ----

def user_actions(qmp_path, fwd_port, out):
    """Monitor and host-side steps at the guest's markers."""
    def qmp(cmd, args=None):
        q = Qmp(qmp_path)
        q.negotiate()
        return q.cmd(cmd, args)

    def hostfwd(b):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/hello" % fwd_port,
                                        timeout=30) as r:
                out["hostfwd"] = r.read().decode()
        except Exception as e:  # the check reports it
            out["hostfwd"] = repr(e)
        b.send("ok\n")

    def link(up):
        def act(b):
            try:
                out["set_link %s" % up] = qmp("set_link", {"name": "n0", "up": up})
                if not up:
                    out["info network"] = qmp("human-monitor-command",
                                              {"command-line": "info network"}).get("return")
            except Exception as e:
                out["error"] = repr(e)
            b.send("ok\n")
        return act

    acts = {"HOSTFWD-PLEASE": hostfwd}
    if qmp_path:
        acts["LINK-DOWN-PLEASE"] = link(False)
        acts["LINK-UP-PLEASE"] = link(True)
    else:
        acts["LINK-DOWN-PLEASE"] = lambda b: b.send("ok\n")
        acts["LINK-UP-PLEASE"] = lambda b: b.send("ok\n")
    return acts


def run_user(emu, tessera, parts, wd, nic, arch="arm64"):
    http, port, sha = host_http(wd)
    fwd = free_port()
    virtio = nic == "virtio-net-pci"
    qmp_path = os.path.join(wd, "qmp.sock") if emu == tessera else None
    out = {}
    try:
        initrd = make_initrd(parts, wd, nic, USER_SCRIPT.replace("@HTTP@", str(port)))
        extra = (["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8080,"
                  "guestfwd=tcp:10.0.2.100:1234-cmd:echo from-the-host" % fwd]
                 + nic_device(nic, "n0", ",mq=on,queues=2" if virtio and qmp_path else ""))
        if qmp_path:
            extra += ["-qmp", "unix:%s,server=on,wait=off" % qmp_path]
        argv = emu_argv(arch, emu, parts, initrd, smp=2, extra=extra)
        b = guestlib.Boot(argv, BOOT_TIMEOUT, actions=user_actions(qmp_path, fwd, out))
    finally:
        http.kill()
        http.wait()
    check_common(b, "user")
    check("user: DHCP lease 10.0.2.15 with router 10.0.2.2 from slirp",
          value(b.console, "LEASE") == "10.0.2.15 ROUTER=10.0.2.2", b.tail())
    check("user: 2 MiB from the host's http.server via 10.0.2.2 has the right sha256",
          value(b.console, "FETCH-SHA") == sha, "want %s\n%s" % (sha, b.tail()))
    check("user: guestfwd=tcp:10.0.2.100:1234-cmd:... answers the guest's connection",
          value(b.console, "GUESTFWD") == "from-the-host", b.tail())
    check("user: the guest's httpd answers the host through hostfwd",
          out.get("hostfwd") == "served by the guest\n", "%r\n%s" % (out.get("hostfwd"),
                                                                    b.tail()))
    if virtio and qmp_path:
        queues = (value(b.console, "QUEUES") or "").split()
        check("user: mq=on,queues=2 with -smp 2: two combined channels (rx-0,1 tx-0,1)",
              queues == ["rx-0", "rx-1", "tx-0", "tx-1"], b.tail())
        irqs = dict(re.findall(r"^IRQ (\S+) (\d+)$", b.console, re.M))
        busy = [k for k, v in irqs.items() if int(v) > 0]
        check("user: interrupts on more than one RX queue (flows spread over queues)",
              len(busy) >= 2, "%s\n%s" % (irqs, b.tail()))
    if qmp_path:
        check("user: QMP set_link off/on answers and the guest sees carrier 0 then 1",
              out.get("set_link False", {}).get("return") == {}
              and value(b.console, "CARRIER-DOWN") == "0"
              and value(b.console, "CARRIER-UP") == "1", "%s\n%s" % (out, b.tail()))
        info = out.get("info network") or ""
        check("user: info network shows the NIC, its MAC, the user backend and link down",
              re.search(r"type=nic,model=%s,macaddr=52:54:00:12:34:56" % re.escape(nic), info)
              and "n0: index=0,type=user,net=10.0.2.0" in info and "link down" in info, info)


# ---- stream ----

STREAM_SCRIPT = """\
ip addr add 192.168.76.%(me)d/24 dev eth0
ip link set eth0 up
""" + HTTPD + FETCH % {"host": "192.168.76.%(peer)d:8080"} + """\
touch /www/done
i=0
until wget -q -O /dev/null http://192.168.76.%(peer)d:8080/done 2>/dev/null; do
    i=$((i + 1)); [ $i -ge 60 ] && break; sleep 1
done
sleep 2
"""


def run_stream(emu, parts, wd, nic, emu_b=None):
    port = free_port()
    addr = "addr.type=inet,addr.host=127.0.0.1,addr.port=%d" % port
    listening = threading.Event()
    boots = {}

    def guest(name, me, peer, server, emu=emu):
        # Both finish together: each waits for the other's /done.
        script = STREAM_SCRIPT % {"me": me, "peer": peer}
        initrd = make_initrd(parts, wd, nic, script, name)
        extra = ["-netdev", "stream,id=s0,server=%s,%s" % ("on" if server else "off", addr)]
        extra += nic_device(nic, "s0")
        argv = guestlib.emulator_argv(emu, parts["KERNEL"], initrd, extra=extra)
        acts = {guestlib.USERSPACE_MARKER: lambda b: listening.set()} if server else {}
        boots[name] = guestlib.Boot(argv, BOOT_TIMEOUT, actions=acts)
        listening.set()  # never leave the client waiting

    a = threading.Thread(target=guest, args=("a", 1, 2, True))
    a.start()
    listening.wait(BOOT_TIMEOUT)
    guest("b", 2, 1, False, emu_b or emu)
    a.join()
    for name in ("a", "b"):
        check_common(boots[name], "stream guest %s" % name)
    for me, peer in (("a", "b"), ("b", "a")):
        own = value(boots[peer].console, "OWN-SHA")
        got = value(boots[me].console, "FETCH-SHA")
        check("stream: guest %s fetched guest %s's file over the stream netdev, same sha256"
              % (me, peer), own and got == own,
              "%s served %s, %s got %s\n%s" % (peer, own, me, got, boots[me].tail()))


# ---- tap ----

TAP_SCRIPT = """\
ip addr add 192.168.77.2/24 dev eth0
ip link set eth0 up
""" + HTTPD + FETCH % {"host": "192.168.77.1:@HTTP@"} + """\
echo "QUEUES=$(ls /sys/class/net/eth0/queues | tr '\\n' ' ')"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
    wget -q -O /dev/null http://192.168.77.1:@HTTP@/small &
done
wait
grep -E 'virtio[0-9]+-input' /proc/interrupts | while read n a b rest; do
    echo "IRQ ${rest##* } $((a + b))"
done
echo NS-PLEASE
read answer
"""


def tap_skip_reason():
    if os.geteuid() != 0:
        return "not root"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    if not shutil.which("ip"):
        return "no ip(8)"
    return None


def run_tap(emu, parts, wd, nic):
    reason = tap_skip_reason()
    if reason:
        print("# tap: skipped (%s)" % reason)
        check("tap: skipped: %s # SKIP" % reason, True)
        return
    ns = "tessnet%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        check("tap: skipped: cannot create a network namespace # SKIP", True)
        return
    virtio = nic == "virtio-net-pci"
    out = {}
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"])
        ifup = os.path.join(wd, "ifup.sh")
        with open(ifup, "w") as f:
            f.write("#!/bin/sh\nip addr add 192.168.77.1/24 dev \"$1\" && ip link set \"$1\" up\n")
        os.chmod(ifup, 0o755)
        # 0.0.0.0: the tap (and 192.168.77.1) exists only once tessera runs.
        http, port, sha = host_http(wd, "0.0.0.0", ns)

        def from_ns(b):
            p = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c",
                                "import urllib.request as u; print(u.urlopen("
                                "'http://192.168.77.2:8080/hello', timeout=30).read().decode()"
                                ", end='')"], capture_output=True, text=True)
            out["ns"] = p.stdout + p.stderr
            b.send("ok\n")
        initrd = make_initrd(parts, wd, nic, TAP_SCRIPT.replace("@HTTP@", str(port)))
        q = 2 if virtio else 1
        extra = ["-netdev", "tap,id=t0,ifname=tesstap0,script=%s,downscript=no,queues=%d,"
                 "vnet_hdr=on" % (ifup, q)]
        extra += nic_device(nic, "t0", ",mq=on,vectors=6" if virtio else "")
        argv = ["ip", "netns", "exec", ns] + guestlib.emulator_argv(
            emu, parts["KERNEL"], initrd, smp=2, extra=extra)
        try:
            b = guestlib.Boot(argv, BOOT_TIMEOUT, actions={"NS-PLEASE": from_ns})
        finally:
            http.kill()
            http.wait()
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    check_common(b, "tap")
    check("tap: 2 MiB from the namespace through the tap has the right sha256",
          value(b.console, "FETCH-SHA") == sha, "want %s\n%s" % (sha, b.tail()))
    check("tap: the namespace reaches the guest's httpd",
          out.get("ns") == "served by the guest\n", "%r\n%s" % (out.get("ns"), b.tail()))
    if virtio:
        irqs = dict(re.findall(r"^IRQ (\S+) (\d+)$", b.console, re.M))
        check("tap: queues=2 + mq=on: two combined channels and interrupts on both RX queues",
              (value(b.console, "QUEUES") or "").split() == ["rx-0", "rx-1", "tx-0", "tx-1"]
              and len([v for v in irqs.values() if int(v) > 0]) >= 2,
              "%s\n%s" % (irqs, b.tail()))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    tessera, case = sys.argv[1], sys.argv[2]
    nic = sys.argv[3] if len(sys.argv) > 3 else "virtio-net-pci"
    emu = sys.argv[4] if len(sys.argv) > 4 else tessera
    wd = guestlib.workdir()
    try:
        parts = amd64_parts() if case.startswith("amd64") else guestlib.guest_parts()
        if nic not in NIC_MODULES:
            check("known NIC '%s'" % nic, False, __doc__)
        elif case == "user":
            run_user(emu, tessera, parts, wd, nic)
        elif case == "amd64-user":
            run_user(emu, tessera, parts, wd, nic, "amd64")
        elif case == "stream":
            run_stream(emu, parts, wd, nic)
        elif case == "stream-qemu":
            qemu = shutil.which("qemu-system-aarch64")
            if qemu:
                run_stream(tessera, parts, wd, nic, qemu)
            else:
                check("stream-qemu: skipped: no qemu-system-aarch64 # SKIP", True)
        elif case == "tap":
            run_tap(emu, parts, wd, nic)
        else:
            check("known case '%s'" % case, False, __doc__)
    except guestlib.GuestError as e:
        check("%s: guest parts prepared" % case, False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
