#!/usr/bin/env python3
"""Migration round trip of ACPI memory hotplug on q35 and pc, mid-activity:
the machine's register block at I/O 0x0a00 (board-q35's mem-hotplug.c,
migrated in the machine's section), which the harness cannot build (it
hosts no machine), driven by a guest as Linux's acpi_memhotplug drives
it, through the binary.

The guest is a fake bzImage (tests/lib/fake-bzimage.py) whose 64-bit code
plays the driver, with no interrupts: it selects slot 1 once and keeps
that selection for everything after, waits for GPE0 bit 3 (the board's
"look at the slots") before each step, records what it reads in RAM at
RES and its progress at STAGE, which the test reads with HMP xp:

  stage 1  slot 1 selected (empty)           test: object-add + device_add dimm1
  stage 2  insert event seen, address, size  test: device_del dimm1
  stage 3  remove event seen, insert event   test: stop, migrate to a file;
           cleared; the eject still to do          the destination (same
                                                   -object/-device) loads it;
                                                   device_del dimm0 there
  stage 4  through the selection made before the cut: slot 1's flags, _OST
           (eject request, in progress), the eject; then slot 0's flags

On the destination the guest's eject must reach the board (DEVICE_DELETED
dimm1) and query-acpi-ospm-status must show what it wrote. The values are
checked against what an unmigrated run reads (the same script, no cut).
TAP output.

    mig-mem-hotplug.py TESSERA
"""
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tesstest import Qmp, check, tap_report  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "fake_bzimage", os.path.join(HERE, "..", "lib", "fake-bzimage.py"))
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)

TESSERA = sys.argv[1] if len(sys.argv) > 1 else "tessera"
MEMHP = 0x0a00
GPE0 = {"q35": 0x620, "pc": 0xafe0}  # GPE0_STS of ICH9-LPC and PIIX4_PM
STAGE = 0x1100000
RES = STAGE + 4
NRES = 11
MEM = ["-m", "128M,slots=2,maxmem=1G"]
DIMM0 = ["-object", "memory-backend-ram,id=m0,size=128M", "-device",
         "pc-dimm,id=dimm0,memdev=m0"]
DIMM1 = ["-object", "memory-backend-ram,id=m1,size=128M", "-device",
         "pc-dimm,id=dimm1,memdev=m1"]


# ---- the guest: a few x86-64 instructions, assembled here ----

class Asm:
    def __init__(self):
        self.b = bytearray()
        self.nres = 0

    def mov_edx(self, v):
        self.b += b"\xba" + struct.pack("<I", v)

    def mov_eax(self, v):
        self.b += b"\xb8" + struct.pack("<I", v)

    def out32(self, port, v):
        self.mov_edx(port)
        self.mov_eax(v)
        self.b += b"\xef"  # out dx, eax

    def out8(self, port, v):
        self.mov_edx(port)
        self.b += b"\xb0" + bytes([v]) + b"\xee"  # mov al, v; out dx, al

    def store_eax(self, addr):
        self.b += b"\x89\x04\x25" + struct.pack("<I", addr)  # mov [addr], eax

    def record(self, port, size):
        """RES[n] = what an in of size bytes at port reads."""
        self.mov_edx(port)
        self.b += b"\x31\xc0" + (b"\xec" if size == 1 else b"\xed")  # xor eax; in
        self.store_eax(RES + 4 * self.nres)
        self.nres += 1

    def stage(self, n):
        self.mov_eax(n)
        self.store_eax(STAGE)

    def wait_gpe(self, gpe0):
        """Spin until GPE0_STS bit 3, then clear it (write 1 to clear)."""
        self.mov_edx(gpe0)
        top = len(self.b)
        self.b += b"\xec\xa8\x08\x74"  # in al, dx; test al, 8; jz top
        self.b.append((top - (len(self.b) + 1)) & 0xff)
        self.b += b"\xb0\x08\xee"  # mov al, 8; out dx, al

    def halt(self):
        self.b += b"\xf4\xeb\xfd"


def guest(gpe0):
    a = Asm()
    a.out8(gpe0, 8)                 # a stale GPE cleared
    a.out32(MEMHP, 1)               # select slot 1 (empty), once
    a.record(MEMHP + 0x14, 1)       # 0: flags: 0
    a.stage(1)
    a.wait_gpe(gpe0)                # dimm1 plugged
    a.record(MEMHP + 0x14, 1)       # 1: enabled | insert
    a.record(MEMHP + 0x00, 4)       # 2: address low
    a.record(MEMHP + 0x04, 4)       # 3: address high
    a.record(MEMHP + 0x08, 4)       # 4: size low
    a.stage(2)
    a.wait_gpe(gpe0)                # device_del dimm1
    a.record(MEMHP + 0x14, 1)       # 5: enabled | insert | remove
    a.out8(MEMHP + 0x14, 2)         # MSCN: insert event sent (Notify 1)
    a.record(MEMHP + 0x14, 1)       # 6: enabled | remove
    a.stage(3)
    a.wait_gpe(gpe0)                # (after the cut) device_del dimm0
    a.record(MEMHP + 0x14, 1)       # 7: slot 1 still selected: enabled | remove
    a.out8(MEMHP + 0x14, 4)         # remove event sent (Notify 3)
    a.out32(MEMHP + 0x04, 3)        # _OST: eject request,
    a.out32(MEMHP + 0x08, 0x80)     #       in progress
    a.out8(MEMHP + 0x14, 8)         # _EJ0
    a.record(MEMHP + 0x14, 1)       # 8: empty: 0
    a.out32(MEMHP, 0)
    a.record(MEMHP + 0x14, 1)       # 9: slot 0: enabled | remove
    a.record(MEMHP + 0x00, 4)       # 10: its address low
    a.stage(4)
    a.halt()
    assert a.nres == NRES
    return bytes(a.b)


# ---- the machine ----

class Vm:
    def __init__(self, wd, name, machine, extra):
        self.qmp_path = os.path.join(wd, name + ".qmp")
        self.proc = subprocess.Popen(
            [TESSERA, "-M", machine, "-display", "none", "-kernel",
             os.path.join(wd, machine + ".bzImage"), "-qmp",
             "unix:%s,server=on,wait=off" % self.qmp_path] + MEM + DIMM0 + extra,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 15
        while not os.path.exists(self.qmp_path) and time.time() < deadline:
            time.sleep(0.05)
        self.q = Qmp(self.qmp_path, 15.0)
        self.q.negotiate()

    def hmp(self, line):
        return self.q.cmd("human-monitor-command", {"command-line": line}).get("return", "")

    def words(self, addr, n):
        text = self.hmp("xp /%dwx 0x%x" % (n, addr))
        return [int(w, 16) for line in text.splitlines()
                for w in re.findall(r"0x[0-9a-f]+", line.split(":", 1)[-1])]

    def wait_stage(self, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.words(STAGE, 1) == [n]:
                return True
            time.sleep(0.05)
        return False

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.q.cmd("quit")
            except (OSError, EOFError):
                pass
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err.decode(errors="replace")


def ok(r):
    return r.get("return") == {}


def plug_dimm1(vm):
    r1 = vm.q.cmd("object-add", {"qom-type": "memory-backend-ram", "id": "m1",
                                 "size": 128 << 20})
    r2 = vm.q.cmd("device_add", {"driver": "pc-dimm", "id": "dimm1", "memdev": "m1"})
    return ok(r1) and ok(r2), (r1, r2)


def run(wd, machine, cut):
    """The script on one machine, or cut after stage 3 onto a second one.
    Returns (RES words, ospm status, DEVICE_DELETED seen, notes) or None."""
    name = "%s-%s" % (machine, "cut" if cut else "ref")
    vm = Vm(wd, name, machine, [])
    notes = []
    try:
        if not vm.wait_stage(1):
            return None, "stage 1 not reached"
        good, why = plug_dimm1(vm)
        if not good or not vm.wait_stage(2):
            return None, ("device_add / stage 2", why)
        r = vm.q.cmd("device_del", {"id": "dimm1"})
        if not ok(r) or not vm.wait_stage(3):
            return None, ("device_del / stage 3", r)
        if cut:
            stream = os.path.join(wd, name + ".mig")
            vm.q.cmd("stop")
            r = vm.q.cmd("migrate", {"uri": "file:" + stream})
            st = wait_migration(vm.q) if ok(r) else r
            notes.append(st)
            vm.quit()
            vm = Vm(wd, name + "-dst", machine, DIMM1 + ["-incoming", "file:" + stream])
            if vm.q.wait_status("running") != "running":
                return None, ("destination not running", vm.quit())
            notes.append(vm.words(STAGE, 1))
        r = vm.q.cmd("device_del", {"id": "dimm0"})
        if not ok(r) or not vm.wait_stage(4):
            return None, ("device_del dimm0 / stage 4", r)
        deleted = vm.q.wait_event("DEVICE_DELETED", timeout=10)
        ospm = vm.q.cmd("query-acpi-ospm-status").get("return")
        return (vm.words(RES, NRES), ospm, (deleted or {}).get("data", {}).get("device")), notes
    finally:
        vm.quit()


def wait_migration(q, timeout=20):
    deadline = time.time() + timeout
    while True:
        st = q.cmd("query-migrate").get("return", {}).get("status")
        if st not in ("setup", "active", "cancelling") or time.time() > deadline:
            return st


def check_machine(wd, machine):
    with open(os.path.join(wd, machine + ".bzImage"), "wb") as f:
        f.write(fake.bzimage(guest(GPE0[machine])))
    ref, why = run(wd, machine, False)
    check("%s: the driver script runs to its end unmigrated" % machine, ref is not None, why)
    if ref is None:
        return
    res, ospm, deleted = ref
    # Device memory starts at the first GiB above RAM (4 GiB here): dimm0
    # at its start, dimm1 the next 128 MiB boundary.
    want = [0, 3, 0x08000000, 1, 128 << 20, 7, 5, 5, 0, 5, 0]
    check("%s: unmigrated, the guest reads the insert and remove events, the eject "
          "empties slot 1, slot 0 has its remove event" % machine, res == want,
          ["%#x" % v for v in res])
    # Slot 1 empty after the eject, with the _OST codes the guest wrote
    # (QEMU keeps them); dimm0 still in slot 0.
    check("%s: unmigrated, the eject reaches the board (DEVICE_DELETED dimm1), "
          "query-acpi-ospm-status shows the guest's _OST, dimm0 left" % machine,
          deleted == "dimm1" and ospm == [
              {"device": "dimm0", "slot": "0", "slot-type": "DIMM", "source": 0, "status": 0},
              {"slot": "1", "slot-type": "DIMM", "source": 3, "status": 0x80}],
          (deleted, ospm))
    got, notes = run(wd, machine, True)
    check("%s: cut mid-eject (slot 1 selected, remove event pending): the stream loads "
          "and the guest goes on" % machine, got is not None and notes[:2] == ["completed", [3]],
          (notes, got))
    if got is None:
        return
    check("%s: migrated, the guest reads through the selection made before the cut what "
          "it read unmigrated" % machine, got[0] == res, ["%#x" % v for v in got[0]])
    check("%s: migrated, the eject reaches the destination's board, _OST reported there"
          % machine, got[1:] == ref[1:], (got[1:], ref[1:]))


def main():
    wd = tempfile.mkdtemp(prefix="tessera-mig-memhp-")
    try:
        for machine in ("q35", "pc"):
            check_machine(wd, machine)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
