#!/usr/bin/env python3
"""guest suite: memory hotplug on q35 (or pc), one short boot. TAP output.

    test-memory-hotplug.py TESSERA [q35|pc] [EMULATOR]

The tutorial's line with half its RAM (the migration below moves all
of it), -m 1024M,slots=4,maxmem=3072M, with a cold-plugged
256 MiB DIMM (-object memory-backend-ram,id=m0 -device pc-dimm,memdev=m0)
and the kernel's memhp_default_state=online_movable (Debian's kernel does
not online hot-added memory by itself; movable so it can be offlined).
Once the guest is up, QMP: object-add memory-backend-ram m1 512 MiB,
device_add pc-dimm dimm1 (ACPI GPE 3, \\_SB.MHPC scan, PNP0C80 device
check: Linux's acpi_memhotplug adds the memory); the refusals on the way:
a memdev already in use, object-del of a backend in use, a DIMM over
maxmem. The guest sees MemTotal grow by the DIMM, its range as System RAM
in /proc/iomem, and fills a tmpfs file whose pages go to the new movable
zone. Then device_del dimm1: the guest offlines the blocks (migrating the
tmpfs pages out), ejects the DIMM (_EJ0), DEVICE_DELETED arrives, object-del
m1 succeeds, MemTotal is back and the tmpfs file still reads the same.
The guest's _OST reports reach QMP as ACPI_DEVICE_OST (device check:
source 1 status 0; eject request: 0x84 ejection in progress, then 0) and
query-acpi-ospm-status.
Before the boot, without slots/maxmem a pc-dimm is refused with QEMU's
line.
EMULATOR (qemu-system-x86_64) runs the same boot on QEMU.
"""
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import value  # noqa: E402
from tesstest import Qmp, check, tap_report  # noqa: E402

BOOT_TIMEOUT = 400  # each side; the meson timeout is 900 s
MiB = 1 << 20
COLD = 256 * MiB
HOT = 512 * MiB
EVENT_WAIT = 180  # s: offlining migrates the tmpfs pages out first

# No echo: the "go" typed on the destination's console until the guest
# answers must not land inside the lines the checks read.
SCRIPT = """\
stty -echo 2>/dev/null
memtotal() { sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo; }
movfree() { sed -n '/zone *Movable/,/pages free/s/.*pages free *//p' /proc/zoneinfo; }
ram() { grep -i 'system ram' /proc/iomem | tr -d ' ' | tr '\\n' ' '; }
echo "MEM0=$(memtotal)"
echo "IOMEM0=$(ram)"
m0=$(memtotal)
echo READY-FOR-PLUG
i=0; while [ $i -lt 240 ] && [ "$(memtotal)" -le "$m0" ]; do sleep 0.5; i=$((i+1)); done
sleep 1
m1=$(memtotal)
echo "MEM1=$m1"
echo "IOMEM1=$(ram)"
for b in /sys/devices/system/memory/memory*; do
  [ "$(cat $b/state)" = online ] && echo "BLOCK $(basename $b) $(cat $b/valid_zones)"
done | grep -c Movable | sed 's/^/MOVABLE_BLOCKS=/'
echo "MOVFREE0=$(movfree)"
mkdir -p /mnt/t && mount -t tmpfs -o size=200m tmpfs /mnt/t
dd if=/dev/urandom of=/mnt/t/fill bs=1M count=128 2>/dev/null
echo "MOVFREE1=$(movfree)"
echo "SUM1=$(md5sum /mnt/t/fill | cut -d' ' -f1)"
echo READY-FOR-MIGRATE
read x
echo "RESUMED=$x"
echo "SUM15=$(md5sum /mnt/t/fill | cut -d' ' -f1)"
echo READY-FOR-UNPLUG
i=0; while [ $i -lt 240 ] && [ "$(memtotal)" -ge "$m1" ]; do sleep 0.5; i=$((i+1)); done
sleep 1
echo "MEM2=$(memtotal)"
echo "IOMEM2=$(ram)"
echo "SUM2=$(md5sum /mnt/t/fill | cut -d' ' -f1)"
echo "BUGS=$(dmesg | grep -c -e BUG -e Oops -e 'Call Trace')"
dmesg | grep -i -e memory -e hotplug -e PNP0C80 | grep -v -e 'Freeing' | tail -n 12 \
  | sed 's/^/DMESG /'
"""


def ost_is(source, status):
    return guestlib.ost_is("DIMM", 1, source, status)


def ospm_slot(reply, slot):
    """(source, status) of DIMM slot N in a query-acpi-ospm-status reply."""
    for i in (reply or {}).get("return", []):
        if i.get("slot-type") == "DIMM" and i.get("slot") == str(slot):
            return (i.get("source"), i.get("status"))
    return None


def error_of(reply):
    return (reply.get("error") or {}).get("desc", "")


def plug(qmp_path, out):
    def act(b):
        try:
            q = out["qmp"] = Qmp(qmp_path)
            q.negotiate()
            out["add_m1"] = q.cmd("object-add", {"qom-type": "memory-backend-ram", "id": "m1",
                                                 "size": HOT})
            out["dimm_busy"] = q.cmd("device_add", {"driver": "pc-dimm", "id": "dimmx",
                                                    "memdev": "m0"})
            out["del_m0"] = q.cmd("object-del", {"id": "m0"})
            out["trace_on"] = q.cmd("trace-event-set-state", {"name": "mhp_acpi_plug",
                                                              "enable": True})
            out["add"] = q.cmd("device_add", {"driver": "pc-dimm", "id": "dimm1",
                                              "memdev": "m1"})
            out["del_m1_busy"] = q.cmd("object-del", {"id": "m1"})
            out["add_m2"] = q.cmd("object-add", {"qom-type": "memory-backend-ram", "id": "m2",
                                                 "size": 2048 * MiB})
            out["over"] = q.cmd("device_add", {"driver": "pc-dimm", "id": "dimm2",
                                               "memdev": "m2"})
            out["del_m2"] = q.cmd("object-del", {"id": "m2"})
            # Linux's acpi_memhotplug answers the device check with _OST(1, 0).
            q.seen_event("ACPI_DEVICE_OST", EVENT_WAIT, ost_is(1, 0))
            out["ost_add"] = guestlib.osts(q)
            out["ospm_add"] = q.cmd("query-acpi-ospm-status")
        except Exception as e:  # the checks report what is missing
            out["error"] = repr(e)
    return act


def migrate(out, state):
    """At READY-FOR-MIGRATE: migrate to a file, then end the source."""
    def act(b):
        try:
            q = out["qmp"]
            out["migrate"] = q.cmd("migrate", {"uri": "file:" + state})
            deadline = time.time() + 180
            st = None
            while time.time() < deadline:
                st = q.cmd("query-migrate").get("return", {}).get("status")
                if st in ("completed", "failed", "cancelled"):
                    break
                time.sleep(0.2)
            out["mig_status"] = st
        except Exception as e:  # the checks report it
            out["error_mig"] = repr(e)
        b.proc.kill()
    return act


class Destination(guestlib.Boot):
    """The incoming side: types "go" on the console every delay seconds
    until the guest answers (it waits for it: nothing shows before; a line
    typed while the stream still loads is lost with the UART's state)."""

    def __init__(self, argv, timeout, delay, actions, until):
        self.delay = delay
        self.done = threading.Event()
        actions = dict(actions, **{"RESUMED=": lambda b: b.done.set()})
        super().__init__(argv, timeout, actions=actions, until=until)

    def _type(self):
        while not self.done.wait(self.delay):
            try:
                self.send("go\n")
            except OSError:
                return

    def _run(self, timeout):
        t = threading.Thread(target=self._type, daemon=True)
        t.start()
        try:
            super()._run(timeout)
        finally:
            self.done.set()


def unplug(qmp_path, out):
    def act(b):
        try:
            q = Qmp(qmp_path)
            q.negotiate()
            out["del"] = q.cmd("device_del", {"id": "dimm1"})
            out["deleted"] = q.seen_event("DEVICE_DELETED", EVENT_WAIT)
            out["del_m1"] = q.cmd("object-del", {"id": "m1"})
            # The eject request: _OST(3, 0x84) "ejection in progress", then (3, 0).
            q.seen_event("ACPI_DEVICE_OST", 20, ost_is(3, 0))
            out["ost_del"] = guestlib.osts(q)
            out["ospm_del"] = q.cmd("query-acpi-ospm-status")
        except Exception as e:
            out["error2"] = repr(e)
    return act


def refusals(emu, check_prefix=""):
    """No boot: a pc-dimm without slots/maxmem, and over maxmem."""
    tmp = guestlib.workdir()  # dumpacpi=: no kernel needed, the checks come first
    base = [emu, "-M", "q35,dumpacpi=" + tmp, "-nographic"]
    dimm = ["-object", "memory-backend-ram,id=m0,size=256M", "-device", "pc-dimm,memdev=m0"]
    p = subprocess.run(base + ["-m", "512M"] + dimm, capture_output=True, text=True,
                       timeout=60)
    check("a pc-dimm without -m slots=,maxmem= is refused (QEMU's line, non-zero exit)",
          p.returncode != 0 and "please specify the maxmem option" in p.stderr, p.stderr)
    over = ["-object", "memory-backend-ram,id=m0,size=1G", "-device", "pc-dimm,memdev=m0"]
    p = subprocess.run(base + ["-m", "512M,slots=2,maxmem=1G"] + over, capture_output=True,
                       text=True, timeout=60)
    check("a pc-dimm over maxmem is refused at start-up", p.returncode != 0 and
          "not enough space" in p.stderr, p.stderr)
    shutil.rmtree(tmp, ignore_errors=True)


def run(emu, machine, parts, wd):
    initrd = guestlib.make_initrd(wd, parts["INITRD"], SCRIPT)
    qmp_path, qmp_dst = os.path.join(wd, "qmp.sock"), os.path.join(wd, "qmp-dst.sock")
    state = os.path.join(wd, "state")
    out = {}
    argv = [emu, "-M", machine, "-cpu", "qemu64", "-m", "1024M,slots=4,maxmem=3072M",
            "-object", "memory-backend-ram,id=m0,size=%d" % COLD,
            "-device", "pc-dimm,id=dimm0,memdev=m0",
            "-nographic", "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd,
            "-append", guestlib.AMD64_CMDLINE + " memhp_default_state=online_movable"]
    src = guestlib.Boot(argv + ["-qmp", "unix:%s,server=on,wait=off" % qmp_path],
                        BOOT_TIMEOUT, actions={"READY-FOR-PLUG": plug(qmp_path, out),
                                               "READY-FOR-MIGRATE": migrate(out, state)})
    # QEMU's rule: the destination's command line has the hot-plugged
    # backend and DIMM too; its RAM comes in the stream.
    dst = Destination(argv + ["-object", "memory-backend-ram,id=m1,size=%d" % HOT,
                              "-device", "pc-dimm,id=dimm1,memdev=m1",
                              "-qmp", "unix:%s,server=on,wait=off" % qmp_dst,
                              "-incoming", "file:" + state], BOOT_TIMEOUT, 3,
                      {"READY-FOR-UNPLUG": unplug(qmp_dst, out)},
                      ("tessera-guest: test.sh exited", 1))
    print("# %s %s: userspace after %s s, source %.1f s, destination %.1f s"
          % (os.path.basename(emu), machine, src.t_marker, src.elapsed, dst.elapsed),
          file=sys.stderr)
    b = src
    c = src.console
    out.pop("qmp", None)
    ok = {"return": {}}
    check("did not time out, no panic or oops", not b.timed_out and
          all(s not in c for s in ("Kernel panic", "Oops", "soft lockup")), b.tail())
    iomem0 = value(c, "IOMEM0") or ""
    check("the cold-plugged DIMM is System RAM at 4 GiB (100000000-10fffffff)",
          "100000000-10fffffff:SystemRAM" in iomem0, iomem0)
    check("object-add memory-backend-ram m1 (512 MiB) succeeds", out.get("add_m1") == ok,
          repr(out))
    check("device_add pc-dimm of a memdev already in use is refused",
          "busy" in error_of(out.get("dimm_busy", {})), repr(out.get("dimm_busy")))
    check("object-del of a backend in use (m0) is refused",
          "in use" in error_of(out.get("del_m0", {})), repr(out.get("del_m0")))
    check("device_add pc-dimm,id=dimm1,memdev=m1 succeeds", out.get("add") == ok, repr(out))
    m = re.search(r"^mhp_acpi_plug slot\[0x1\] addr 0x([0-9a-f]+) size 0x([0-9a-f]+)$", c,
                  re.M)
    check("trace mhp_acpi_plug (enabled over QMP) names slot 1, above the cold DIMM, "
          "512 MiB", out.get("trace_on") == ok and m and int(m.group(1), 16) >= 0x110000000
          and int(m.group(2), 16) == HOT, (out.get("trace_on"), m and m.group(0)))
    check("object-del of the hot-plugged DIMM's backend is refused",
          "in use" in error_of(out.get("del_m1_busy", {})), repr(out.get("del_m1_busy")))
    print("# ACPI_DEVICE_OST after device_add: %r" % out.get("ost_add"), file=sys.stderr)
    check("the guest's _OST after the device check: ACPI_DEVICE_OST dimm1, DIMM slot 1, "
          "source 1, status 0",
          {"device": "dimm1", "slot": "1", "slot-type": "DIMM", "source": 1, "status": 0}
          in (out.get("ost_add") or []), repr(out.get("ost_add")))
    check("query-acpi-ospm-status: DIMM slot 1 (1, 0), the cold slot 0 (0, 0)",
          ospm_slot(out.get("ospm_add"), 1) == (1, 0) and
          ospm_slot(out.get("ospm_add"), 0) == (0, 0), repr(out.get("ospm_add")))
    check("a DIMM over maxmem is refused (2 GiB more)",
          "not enough space" in error_of(out.get("over", {})), repr(out.get("over")))
    check("object-del of an unused backend (m2) succeeds", out.get("del_m2") == ok,
          repr(out.get("del_m2")))
    m0, m1 = (int(value(c, k) or 0) for k in ("MEM0", "MEM1"))
    grew = (m1 - m0) * 1024
    check("MemTotal grew by the DIMM's 512 MiB (%d KiB)" % (grew // 1024),
          HOT * 0.95 <= grew <= HOT, "MEM0=%d MEM1=%d\n%s" % (m0, m1, b.tail()))
    iomem1 = value(c, "IOMEM1") or ""
    check("the hot-plugged DIMM is System RAM at 4.25 GiB (110000000-12fffffff)",
          "110000000-12fffffff:SystemRAM" in iomem1, iomem1)
    check("its blocks are online in ZONE_MOVABLE",
          int(value(c, "MOVABLE_BLOCKS") or 0) >= HOT // (128 * MiB), value(c, "MOVABLE_BLOCKS"))
    f0, f1 = (int(value(c, k) or 0) for k in ("MOVFREE0", "MOVFREE1"))
    check("a 128 MiB tmpfs file went into the new movable memory (%d pages)" % (f0 - f1),
          f0 - f1 >= 16384, "MOVFREE0=%d MOVFREE1=%d" % (f0, f1))
    check("the migration (hot-plugged DIMM included) completed",
          out.get("migrate") == ok and out.get("mig_status") == "completed", repr(out))
    b, c = dst, dst.console
    check("destination: the guest resumed and the tmpfs file in the DIMM reads the same",
          (value(c, "RESUMED") or "").endswith("o") and value(c, "SUM15") == value(src.console, "SUM1"),
          "%s %s\n%s" % (value(c, "SUM15"), value(src.console, "SUM1"), dst.tail()))
    check("destination: did not time out, no panic or oops", not dst.timed_out and
          all(s not in c for s in ("Kernel panic", "Oops", "soft lockup")), dst.tail())
    check("device_del dimm1 is accepted", out.get("del") == ok, repr(out))
    check("DEVICE_DELETED arrives after the guest ejected the DIMM",
          out.get("deleted") is True, "%r\n%s" % (out, b.tail(40)))
    print("# ACPI_DEVICE_OST on the destination after device_del: %r" % out.get("ost_del"),
          file=sys.stderr)
    guestlib.check_ost_eject(out.get("ost_del"), "DIMM", 1)
    check("query-acpi-ospm-status after the eject: DIMM slot 1 (3, 0)",
          ospm_slot(out.get("ospm_del"), 1) == (3, 0), repr(out.get("ospm_del")))
    check("object-del m1 succeeds once the DIMM is gone", out.get("del_m1") == ok,
          repr(out.get("del_m1")))
    m2 = int(value(c, "MEM2") or 0)
    check("MemTotal is back where it was (%d KiB)" % m2, abs(m2 - m0) <= 1024,
          "MEM0=%d MEM2=%d" % (m0, m2))
    iomem2 = value(c, "IOMEM2") or ""
    check("the DIMM's range is gone from /proc/iomem", "110000000" not in iomem2, iomem2)
    check("the tmpfs file reads the same after its pages moved out",
          value(src.console, "SUM1") and value(src.console, "SUM1") == value(c, "SUM2"),
          "%s %s" % (value(src.console, "SUM1"), value(c, "SUM2")))
    check("no BUG/Oops/Call Trace in dmesg", value(c, "BUGS") == "0",
          "\n".join(l for l in c.splitlines() if l.startswith("DMESG")) + "\n" + b.tail())
    check("the test script ran to its end", "tessera-guest: test.sh exited 0" in c, b.tail())


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    machine = sys.argv[2] if len(sys.argv) > 2 else "q35"
    emu = sys.argv[3] if len(sys.argv) > 3 else sys.argv[1]
    wd = guestlib.workdir()
    try:
        if emu == sys.argv[1]:
            refusals(emu)
        run(emu, machine, guestlib.amd64_parts(), wd)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
