#!/usr/bin/env python3
"""guest suite: live migration of a busy guest, three times in a row. TAP.

    test-migrate.py ARCH TESSERA [URI-KIND]

ARCH is arm64 (`-M virt`) or amd64 (`-M q35`); URI-KIND is tcp (default),
unix or exec (stop, migrate to `exec:cat > FILE`, start the destination
with `-incoming exec:cat FILE`: the issue 17 path).
Two vCPUs (the second must run on every destination: its powered state
moves with the machine). The guest writes a fresh random block to its NVMe disk (O_DIRECT) and
prints the block's md5 as STEP=N, over and over, until the host types
"end" on the last destination's console. The host migrates it
source -> d1 -> d2 -> d3 while it runs, each hop starting when the guest
has printed two steps on the current machine; each source quits after its
migration completes. Checked:
  - every hop completes (query-migrate: RAM statistics and the downtime;
    MIGRATION events active, completed) and each destination goes on
    printing (so no state was lost: interrupts, THRE, timers, halted vCPUs);
  - the steps printed across the four consoles are 1..N, each exactly once
    and in order (no line lost or repeated at a handover);
  - the last destination ends the script and exits at the guest's poweroff;
  - the disk on the host holds every step's block (the sources' writes
    were flushed before their handover).
"""
import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from tesstest import Qmp, check, tap_report  # noqa: E402

HOPS = 3
STEPS = 400           # the guest's loop at most: the host types "end" after the last hop
HOP_AFTER = 2         # each machine prints this many steps before its hop
BLOCK = 16 * 4096     # one step's write
IMAGE_SIZE = 8 << 20
TIMEOUT = 400         # the meson timeout is 600 s

SCRIPT = """\
%(insmod)s
i=0
while [ ! -b /dev/%(dev)s ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
n=1
while [ $n -le %(steps)d ]; do
    dd if=/dev/urandom of=/tmp/b bs=4096 count=16 2>/dev/null
    dd if=/tmp/b of=/dev/%(dev)s bs=4096 seek=$((n * 16)) oflag=direct conv=notrunc \
2>/dev/null
    echo "STEP=$n $(md5sum < /tmp/b | cut -d' ' -f1)"
    n=$((n + 1))
    read -t 0.3 x && [ "$x" = end ] && break
done
echo MIGRATE-DONE
"""


ALL = []  # every emulator started: killed at the end whatever happened


class Vm:
    """One emulator process with its console collected in a thread."""

    def __init__(self, argv, name):
        self.name = name
        self.argv = argv
        self.console = ""
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        ALL.append(self)
        self.reader.start()

    def _read(self):
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(4096)
            if not chunk:
                break
            buf += chunk
            self.console = buf.decode(errors="replace").replace("\r\n", "\n")

    def wait_text(self, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.console:
                return True
            if self.proc.poll() is not None:
                self.reader.join()
                return text in self.console
            time.sleep(0.05)
        return False

    def finish(self, timeout):
        """Exit status, or None after killing it at timeout."""
        try:
            st = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            st = None
        self.reader.join()
        self.proc.stdin.close()
        return st

    def tail(self, n=15):
        return "\n".join(["last console lines of %s:" % self.name]
                         + self.console.splitlines()[-n:])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


DISKS = {  # -device, guest block device, guest modules
    "nvme": ("nvme,drive=d0,serial=mig17", "nvme0n1", ["nvme"]),
    "virtio": ("virtio-blk-pci,drive=d0", "vda", ["virtio_pci", "virtio_blk"]),
}


def guest_script(parts, disk):
    """The busy guest's script and modules (shared with tests/bench)."""
    mods = guestlib.module_files(parts, DISKS[disk][2])
    return SCRIPT % {"insmod": guestlib.insmod_script(mods), "steps": STEPS,
                     "dev": DISKS[disk][1]}, mods


def base_argv(emu, arch, parts, initrd, img, disk="nvme"):
    disk = ["-drive", "file=%s,if=none,id=d0,format=raw,cache=none" % img,
            "-device", DISKS[disk][0]]
    if arch == "arm64":
        return guestlib.emulator_argv(emu, parts["KERNEL"], initrd, smp=2, mem="256M",
                                      extra=disk)
    return ([emu, "-M", "q35", "-cpu", "qemu64", "-smp", "2", "-m", "256M", "-nographic",
             "-no-reboot",
             "-kernel", parts["KERNEL"], "-initrd", initrd, "-append",
             guestlib.AMD64_CMDLINE] + disk)


def migrate(src, qmp_path, uri, out):
    """Migrate src to uri over QMP; the final status, or the error."""
    q = Qmp(qmp_path, timeout=30)
    q.negotiate()
    if uri.startswith("exec:"):
        q.cmd("stop")
    r = q.cmd("migrate", {"uri": uri})
    if "error" in r:
        return "migrate: %s" % r["error"]
    deadline = time.monotonic() + 120
    st = None
    while time.monotonic() < deadline:
        st = q.cmd("query-migrate").get("return", {}).get("status")
        if st in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.1)
    info = q.cmd("query-migrate").get("return", {})
    info["events"] = [e["data"]["status"] for e in q.events if e["event"] == "MIGRATION"]
    out.append(info)
    try:
        q.cmd("quit")
    except OSError:
        pass  # it went already
    return st


def hop(emu, argv, wd, n, cur, kind, out):
    """Start destination n, migrate cur to it; returns the destination."""
    qmp = os.path.join(wd, "qmp%d.sock" % (n + 1))
    if kind == "tcp":
        port = free_port()
        uri_in = uri_out = "tcp:127.0.0.1:%d" % port
    elif kind == "unix":
        uri_in = uri_out = "unix:" + os.path.join(wd, "mig%d.sock" % n)
    else:
        f = os.path.join(wd, "state%d" % n)
        uri_out, uri_in = "exec:cat > " + f, "exec:cat " + f
    dst = None
    if kind != "exec":
        dst = Vm(argv + ["-qmp", "unix:%s,server=on,wait=off" % qmp, "-incoming", uri_in],
                 "d%d" % (n + 1))
        # the destination listens once its monitor answers
        Qmp(qmp, timeout=30).sock.close()
    st = migrate(cur, os.path.join(wd, "qmp%d.sock" % n), uri_out, out)
    if kind == "exec":
        dst = Vm(argv + ["-qmp", "unix:%s,server=on,wait=off" % qmp, "-incoming", uri_in],
                 "d%d" % (n + 1))
        q = Qmp(qmp, timeout=30)
        q.negotiate()
        # the source was stopped: the destination waits for cont (QEMU too)
        paused = q.wait_status("paused", 60)
        if out:
            out[-1]["destination-status"] = paused
        q.cmd("cont")
    return dst, st


def steps_of(console):
    return [(int(m.group(1)), m.group(2)) for m in
            re.finditer(r"^STEP=(\d+) ([0-9a-f]{32})$", console, re.M)]


def wait_steps(vm, n, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(steps_of(vm.console)) >= n:
            return True
        if vm.proc.poll() is not None:
            vm.reader.join()
            return len(steps_of(vm.console)) >= n
        time.sleep(0.05)
    return False


def run(arch, emu, kind):
    wd = guestlib.workdir()
    parts = guestlib.guest_parts(arch=arch)
    script, mods = guest_script(parts, "nvme")
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=mods)
    img = os.path.join(wd, "disk.raw")
    with open(img, "wb") as f:
        f.truncate(IMAGE_SIZE)
    argv = base_argv(emu, arch, parts, initrd, img)
    vms = [Vm(argv + ["-qmp", "unix:%s,server=on,wait=off" % os.path.join(wd, "qmp0.sock")],
              "source")]
    stats, ok, t0 = [], True, time.monotonic()
    for n in range(HOPS):
        cur = vms[-1]
        seen = wait_steps(cur, HOP_AFTER, TIMEOUT - (time.monotonic() - t0))
        check("hop %d: the guest printed %d steps on %s" % (n + 1, HOP_AFTER, cur.name),
              seen, cur.tail())
        if not seen:
            ok = False
            break
        dst, st = hop(emu, argv, wd, n, cur, kind, stats)
        vms.append(dst)
        src_st = cur.finish(30)
        info = stats[-1] if stats else {}
        check("hop %d: migration %s -> %s completed, the source quit (status %s)"
              % (n + 1, cur.name, dst.name, src_st), st == "completed" and src_st == 0,
              "%s %s\n%s\n%s" % (st, stats[-1:], cur.tail(), dst.tail()))
        check("hop %d: query-migrate gave RAM statistics and the downtime, MIGRATION "
              "events went active then completed" % (n + 1),
              info.get("ram", {}).get("transferred", 0) > 0 and "downtime" in info
              and info.get("events", [])[-2:] == ["active", "completed"], str(info))
        if kind == "exec":
            check("hop %d: the source was stopped, so the destination waited paused for "
                  "cont" % (n + 1), info.get("destination-status") == "paused", str(info))
    last = vms[-1]
    if ok and wait_steps(last, HOP_AFTER, TIMEOUT - (time.monotonic() - t0)):
        last.proc.stdin.write(b"end\n")
        last.proc.stdin.flush()
    done = ok and last.wait_text("MIGRATE-DONE", TIMEOUT - (time.monotonic() - t0))
    st = last.finish(60 if done else 1)
    for vm in vms:
        if vm.proc.poll() is None:
            vm.finish(1)
    check("the last destination ran the script to its end and exited 0 at the guest's "
          "poweroff (status %s)" % st, done and st == 0, last.tail())
    # the consoles joined: a line the guest was printing at a handover
    # starts on one machine and ends on the next
    got = steps_of("".join(vm.console for vm in vms))
    check("steps 1..N printed once each, in order, across the hops (N = %d)" % len(got),
          [n for n, _ in got] == list(range(1, len(got) + 1)) and len(got) > 2 * HOPS,
          "\n".join("%s: %s" % (vm.name, [n for n, _ in steps_of(vm.console)]) for vm in vms))
    with open(img, "rb") as f:
        disk = f.read()
    bad = [n for n, md5 in got
           if hashlib.md5(disk[n * BLOCK:(n + 1) * BLOCK]).hexdigest() != md5]
    check("the host's disk holds every step's block", got and not bad, "bad steps %s" % bad)
    sys.stderr.write("migrate %s %s: %.1f s\n" % (arch, kind, time.monotonic() - t0))
    for info in stats:
        sys.stderr.write("  %s downtime %s ms, total %s ms, %s bytes, %s syncs\n"
                         % (info.get("status"), info.get("downtime"), info.get("total-time"),
                            info.get("ram", {}).get("transferred"),
                            info.get("ram", {}).get("dirty-sync-count")))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("arm64", "amd64"):
        print(__doc__)
        return 2
    kind = sys.argv[3] if len(sys.argv) > 3 else "tcp"
    try:
        run(sys.argv[1], sys.argv[2], kind)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    except (OSError, EOFError, ValueError) as e:  # a monitor that went away
        check("the monitors answered", False, "%r\n%s" % (e, "\n".join(
            "%s (status %s): %s" % (vm.name, vm.proc.poll(), vm.tail(3)) for vm in ALL)))
    finally:
        for vm in ALL:
            if vm.proc.poll() is None:
                vm.proc.kill()
                vm.proc.wait()
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
