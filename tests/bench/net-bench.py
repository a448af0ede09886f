#!/usr/bin/env python3
"""Guest network throughput and small-packet rate: Debian's arm64 kernel in
tessera and in QEMU (qemu-system-aarch64 -M virt -cpu cortex-a57, TCG), the
same initramfs and device options, per NIC and per backend. Prints medians
and the tessera/QEMU ratio (higher is better for tessera). Not a pass/fail
test.

    tests/bench/net-bench.py [build/tessera] [--runs N] [--mib M]
                             [--nic virtio-net-pci,e1000,e1000e] [--backend user,tap]

Per boot (one per emulator, NIC and backend), each of --runs times:
  tx    guest -> host: the host fetches M MiB from the guest's busybox
        httpd (sendfile; through hostfwd with user), timed on the host
        (MB/s). (dd | nc measures busybox nc's 1 KiB writes, not the NIC.)
  rx    host -> guest: nc HOST PORT > /dev/null, a host source writes M MiB
        and closes (MB/s)
  ping  ping -A (next request as soon as the reply is in) of 18-byte
        payloads to the host end: round trips per second, one small frame
        each way
Times are taken on the host between console markers the guest prints
around each step. user: slirp, the host is 10.0.2.2 (the sink and source
listen on 127.0.0.1; slirp answers the pings itself). tap (root only): a
network namespace made here, the host end 192.168.77.1 in it.
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
import guestlib  # noqa: E402

MODULES = {"virtio-net-pci": ["virtio_pci", "virtio_net"], "e1000": ["e1000"],
           "e1000e": ["e1000e"]}
TAP_HOST, TAP_GUEST = "192.168.77.1", "192.168.77.2"

DHCP = """\
cat > /tmp/dhcp.sh <<'EOS'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add $ip/${mask:-24} dev $interface
[ -n "$router" ] && ip route add default via ${router%% *}
EOS
chmod +x /tmp/dhcp.sh
ip link set eth0 up
udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 10 -T 1 >/dev/null 2>&1
"""

STATIC = """\
ip addr add %s/24 dev eth0
ip link set eth0 up
sleep 1
""" % TAP_GUEST

SERVE = """\
mkdir -p /www
dd if=/dev/zero of=/www/tx bs=65536 count=%(blocks)d 2>/dev/null
httpd -p 8080 -h /www
"""

RUN = """\
echo TX-PLEASE-%(r)d
read answer
echo RX-GO-%(r)d
nc %(host)s %(source)d > /dev/null
echo RX-DONE-%(r)d
echo PING-GO-%(r)d
ping -A -q -c %(pings)d -s 18 %(ping)s > /tmp/ping
echo PING-DONE-%(r)d
grep -o '[0-9]* packets received' /tmp/ping
"""


def serve(port, mode, nbytes, bind, stop):
    """Host end: 'sink' reads nbytes then closes, 'source' writes nbytes
    then closes; one connection after another until stop is set."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((bind, port))
    ls.listen(4)
    ls.settimeout(0.5)
    chunk = bytes(1 << 16)
    while not stop.is_set():
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        with c:
            left = nbytes
            while left > 0:
                if mode == "sink":
                    d = c.recv(1 << 16)
                    if not d:
                        break
                    left -= len(d)
                else:
                    c.sendall(chunk[:min(left, len(chunk))])
                    left -= min(left, len(chunk))
    ls.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def servers_main(argv):
    """--servers BIND SINK SOURCE NBYTES: run both host ends (in a netns)."""
    bind, sink, source, nbytes = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    stop = threading.Event()
    for port, mode in ((sink, "sink"), (source, "source")):
        threading.Thread(target=serve, args=(port, mode, nbytes, bind, stop), daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    stop.set()


def start_servers(bind, nbytes, netns=None):
    sink, source = free_port(), free_port()
    argv = [sys.executable, os.path.abspath(__file__), "--servers", bind, str(sink),
            str(source), str(nbytes)]
    if netns:
        argv = ["ip", "netns", "exec", netns] + argv
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    return p, sink, source


FETCH = ("import sys, time, urllib.request as u\n"
         "t = time.monotonic(); n = len(u.urlopen(sys.argv[1], timeout=120).read())\n"
         "print(n, time.monotonic() - t)\n")


def fetcher(url, netns, out):
    """An action: GET url (in netns), append (bytes, seconds), let the guest go on."""
    def act(b):
        argv = [sys.executable, "-c", FETCH, url]
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        p = subprocess.run(argv, capture_output=True, text=True)
        try:
            n, secs = p.stdout.split()
            out.append((int(n), float(secs)))
        except ValueError:
            print("tx fetch failed: %s" % (p.stdout + p.stderr).strip())
        b.send("ok\n")
    return act


def one_boot(emu, parts, wd, nic, backend, args, netns=None):
    nbytes = args.mib << 20
    host = "10.0.2.2" if backend == "user" else TAP_HOST
    srv, sink, source = start_servers("127.0.0.1" if backend == "user" else "0.0.0.0",
                                      nbytes, netns)
    script = (DHCP if backend == "user" else STATIC) + SERVE % {"blocks": nbytes >> 16}
    for r in range(args.runs):
        script += RUN % {"r": r, "blocks": nbytes >> 16, "host": host, "sink": sink,
                         "source": source, "pings": args.pings, "ping": host}
    mods = guestlib.module_files(parts, MODULES[nic])
    sub = os.path.join(wd, os.path.basename(emu) + nic + backend)
    os.makedirs(sub, exist_ok=True)
    initrd = guestlib.make_initrd(sub, parts["INITRD"], guestlib.insmod_script(mods) + script,
                                  modules=mods)
    fwd = free_port()
    if backend == "user":
        extra = ["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8080" % fwd]
    else:
        extra = ["-netdev", "tap,id=n0,ifname=tessbench0,script=%s,downscript=no"
                 % os.path.join(wd, "ifup.sh")]
    extra += ["-device", "%s,netdev=n0" % nic]
    argv = guestlib.emulator_argv(emu, parts["KERNEL"], initrd, extra=extra)
    if netns:
        argv = ["ip", "netns", "exec", netns] + argv
    markers = ["%s-%s-%d" % (k, e, r) for r in range(args.runs) for k in ("RX", "PING")
               for e in ("GO", "DONE")]
    tx = []
    url = ("http://127.0.0.1:%d/tx" % fwd if backend == "user"
           else "http://%s:8080/tx" % TAP_GUEST)
    actions = {"TX-PLEASE-%d" % r: fetcher(url, netns, tx) for r in range(args.runs)}
    try:
        b = guestlib.Boot(argv, 600, markers=markers, actions=actions)
        b.tx = tx
    finally:
        srv.stdin.close()
        srv.wait()
    return b


def figures(b, args):
    """{metric: [per-run values]} from the console marker times."""
    out = {"tx MB/s": [], "rx MB/s": [], "ping rt/s": []}
    mb = (args.mib << 20) / 1e6
    got = [int(x) for x in re.findall(r"^(\d+) packets received", b.console, re.M)]
    for r in range(args.runs):
        t = {k: b.marks.get("%s-%d" % (k, r)) for k in
             ("RX-GO", "RX-DONE", "PING-GO", "PING-DONE")}
        if None in t.values():
            break
        if r < len(b.tx):
            out["tx MB/s"].append(b.tx[r][0] / 1e6 / max(b.tx[r][1], 1e-6))
        out["rx MB/s"].append(mb / max(t["RX-DONE"] - t["RX-GO"], 1e-6))
        n = got[r] if r < len(got) else 0
        out["ping rt/s"].append(n / max(t["PING-DONE"] - t["PING-GO"], 1e-6))
    return out


def setup_netns(wd):
    ns = "tessbench%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
    with open(os.path.join(wd, "ifup.sh"), "w") as f:
        f.write("#!/bin/sh\nip addr add %s/24 dev \"$1\" && ip link set \"$1\" up\n" % TAP_HOST)
    os.chmod(os.path.join(wd, "ifup.sh"), 0o755)
    return ns


def report(rows):
    print("\n%-6s %-15s %-10s %12s %12s %8s" % ("net", "NIC", "metric", "tessera", "qemu",
                                                "ratio"))
    for backend, nic, metric, t, q in rows:
        tm = statistics.median(t) if t else float("nan")
        qm = statistics.median(q) if q else float("nan")
        ratio = "%.2fx" % (tm / qm) if t and q and qm > 0 else "-"
        print("%-6s %-15s %-10s %12.1f %12.1f %8s" % (backend, nic, metric, tm, qm, ratio))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--servers":
        return servers_main(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tessera", nargs="?", default="build/tessera")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=32)
    ap.add_argument("--pings", type=int, default=2000)
    ap.add_argument("--nic", default="virtio-net-pci")
    ap.add_argument("--backend", default="user,tap")
    ap.add_argument("--qemu", default=shutil.which("qemu-system-aarch64") or "none",
                    help="QEMU binary, or none")
    args = ap.parse_args()
    qemu = None if args.qemu == "none" else args.qemu
    parts = guestlib.guest_parts()
    wd = guestlib.workdir()
    rows = []
    backends = args.backend.split(",")
    if "tap" in backends and (os.geteuid() != 0 or not os.path.exists("/dev/net/tun")):
        print("tap: skipped (needs root and /dev/net/tun)")
        backends.remove("tap")
    try:
        for backend in backends:
            ns = setup_netns(wd) if backend == "tap" else None
            try:
                for nic in args.nic.split(","):
                    res = {}
                    for name, emu in (("tessera", args.tessera), ("qemu", qemu)):
                        if not emu:
                            continue
                        b = one_boot(emu, parts, wd, nic, backend, args, ns)
                        res[name] = figures(b, args)
                        if not res[name]["rx MB/s"]:
                            print("%s %s %s: no figures\n%s" % (name, nic, backend, b.tail()))
                    for metric in ("tx MB/s", "rx MB/s", "ping rt/s"):
                        rows.append((backend, nic, metric, res.get("tessera", {}).get(metric, []),
                                     res.get("qemu", {}).get(metric, [])))
                        print("%s %s %s: tessera %s qemu %s" % (
                            backend, nic, metric,
                            ["%.1f" % v for v in res.get("tessera", {}).get(metric, [])],
                            ["%.1f" % v for v in res.get("qemu", {}).get(metric, [])]),
                            flush=True)
            finally:
                if ns:
                    subprocess.run(["ip", "netns", "del", ns])
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
