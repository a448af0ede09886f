#!/usr/bin/env python3
"""Migration round trips of the x86 machines' own state, mid-activity,
which the harness cannot build (it hosts no machine): through the binary,
with a fake bzImage (tests/lib/fake-bzimage.py) whose 64-bit code plays
the guest's driver, with no interrupts. It records what it reads in RAM
at RES and its progress at STAGE, which the test reads with HMP xp, and
waits for the test's signal before each step that must come after a cut.
Every run is compared with the same script unmigrated. TAP output.

ACPI memory hotplug (the 0x0a00 block of board-q35's mem-hotplug.c, in
the machine's section), on q35 and pc, as Linux's acpi_memhotplug drives
it; the signal is GPE0 bit 3 (the board's "look at the slots"):

  stage 1  slot 1 selected (empty), once     test: object-add + device_add dimm1
  stage 2  insert event seen, address, size  test: device_del dimm1
  stage 3  remove event seen, insert event   test: stop, migrate to a file;
           cleared; the eject still to do          the destination (same
                                                   -object/-device) loads it;
                                                   device_del dimm0 there
  stage 4  through the selection made before the cut: slot 1's flags, _OST
           (eject request, in progress), the eject; then slot 0's flags

On the destination the guest's eject must reach the board (DEVICE_DELETED
dimm1) and query-acpi-ospm-status must show what it wrote.

NVDIMM (-device nvdimm with and without label-size=, the board's NFIT
module and its label _DSM: a 4 KiB page at 0xfef00000 and I/O 0x0a18),
on q35 and pc; the signal is the power button (system_powerdown sets
PM1_STS.PWRBTN_STS):

  stage 1  pmem at 4 GiB written; with labels: the label area's size
           (function 4), the first half of a label write (function 6)
                                             test: stop, migrate, load
  stage 2  the second half written, both read back in one transfer
           (function 5); the pmem read back

    mig-x86-machine.py TESSERA
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
FAILED_EXITS = []  # (vm, exit status, stderr) of every VM that quit badly
DSM_PAGE = 0xfef00000
HIGH_PD = 0x30000
PMEM = 0x100000000
DATA = 0x1000800  # the label bytes, in the image after the code
LABEL_A = bytes((i * 7 + 1) & 0xff for i in range(256))
LABEL_B = bytes((i * 13 + 5) & 0xff for i in range(256))
MEM = ["-m", "32M,slots=2,maxmem=1G"]  # small: a save scans all RAM
DIMM0 = ["-object", "memory-backend-ram,id=m0,size=4M", "-device",
         "pc-dimm,id=dimm0,memdev=m0"]
DIMM1 = ["-object", "memory-backend-ram,id=m1,size=4M", "-device",
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

    def put32(self, addr, v):
        """(A disp32 is sign-extended: 0xfef00000 needs a register.)"""
        self.b += b"\x48\xbf" + struct.pack("<Q", addr)  # mov rdi, addr
        self.b += b"\xc7\x07" + struct.pack("<I", v)  # mov dword [rdi], v

    def put64(self, addr, v):
        self.b += b"\x48\xb8" + struct.pack("<Q", v)  # mov rax, v
        self.b += b"\x48\xbf" + struct.pack("<Q", addr) + b"\x48\x89\x07"  # mov [rdi], rax

    def copy(self, dst, src, n):
        """n bytes from src to dst (rep movsb; 64-bit addresses)."""
        self.b += (b"\x48\xbe" + struct.pack("<Q", src) + b"\x48\xbf" +
                   struct.pack("<Q", dst) + b"\xb9" + struct.pack("<I", n) + b"\xf3\xa4")

    def keep(self, addr, n):
        """RES[..] = n dwords of memory at addr."""
        self.copy(RES + 4 * self.nres, addr, 4 * n)
        self.nres += n

    def map_high(self):
        """The 2 MiB at 4 GiB mapped 1:1 (the loader maps the first 4 GiB):
        PDPT[4] (the loader's PDPT at 0xa000) -> a page directory at
        HIGH_PD whose first entry is a 2 MiB page."""
        self.put64(HIGH_PD, 0x100000000 | 0x83)
        self.put64(0xa000 + 8 * 4, HIGH_PD | 3)
        self.b += b"\x0f\x20\xd8\x0f\x22\xd8"  # mov rax, cr3; mov cr3, rax

    def wait_pwrbtn(self):
        """Spin until PM1_STS.PWRBTN_STS (0x600 on both boards), clear it."""
        self.mov_edx(0x600)
        top = len(self.b)
        self.b += b"\x66\xed\xf6\xc4\x01\x74"  # in ax, dx; test ah, 1; jz top
        self.b.append((top - (len(self.b) + 1)) & 0xff)
        self.b += b"\xb8\x00\x01\x00\x00\x66\xef"  # mov eax, 0x100; out dx, ax

    def dsm(self, func, off=0, length=0, src=0):
        """One NCAL: the request in the page, the port written; the answer's
        length and status kept."""
        for i, v in enumerate((1, 1, func, off, length)):
            self.put32(DSM_PAGE + 4 * i, v)
        if src:
            self.copy(DSM_PAGE + 20, src, length)
        self.out32(0x0a18, 0)
        self.keep(DSM_PAGE, 2)


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
    def __init__(self, wd, name, machine, args, image):
        self.qmp_path = os.path.join(wd, name + ".qmp")
        self.proc = subprocess.Popen(
            [TESSERA, "-M", machine, "-display", "none", "-kernel",
             os.path.join(wd, image), "-qmp",
             "unix:%s,server=on,wait=off" % self.qmp_path] + MEM + args,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.machine, self.image = machine, image
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
        if self.proc.returncode is not None:
            return self.proc.returncode, ""  # ended (and looked at) before
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
        err = err.decode(errors="replace")
        if self.proc.returncode != 0 or "Sanitizer" in err or "runtime error" in err:
            FAILED_EXITS.append((self.qmp_path, self.proc.returncode, err[-2000:]))
        return self.proc.returncode, err


def ok(r):
    return r.get("return") == {}


def plug_dimm1(vm):
    r1 = vm.q.cmd("object-add", {"qom-type": "memory-backend-ram", "id": "m1",
                                 "size": 4 << 20})
    r2 = vm.q.cmd("device_add", {"driver": "pc-dimm", "id": "dimm1", "memdev": "m1"})
    return ok(r1) and ok(r2), (r1, r2)


def run(wd, machine, cut):
    """The script on one machine, or cut after stage 3 onto a second one.
    Returns (RES words, ospm status, DEVICE_DELETED seen, notes) or None."""
    name = "%s-%s" % (machine, "cut" if cut else "ref")
    vm = Vm(wd, name, machine, DIMM0, machine + ".bzImage")
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
            dst = cross(wd, vm, notes, DIMM0 + DIMM1)
            if not dst:
                return None, notes
            vm = dst
        r = vm.q.cmd("device_del", {"id": "dimm0"})
        if not ok(r) or not vm.wait_stage(4):
            return None, ("device_del dimm0 / stage 4", r)
        deleted = vm.q.wait_event("DEVICE_DELETED", timeout=10)
        ospm = vm.q.cmd("query-acpi-ospm-status").get("return")
        return (vm.words(RES, NRES), ospm, (deleted or {}).get("data", {}).get("device")), notes
    finally:
        vm.quit()


def cross(wd, vm, notes, args):
    """Stop vm, migrate it to a file, end it; a destination with args
    loads the file. Returns the destination running, or None (notes say
    why)."""
    stream = vm.qmp_path[:-len(".qmp")] + ".mig"
    vm.q.cmd("stop")
    vm.q.cmd("migrate-set-parameters", {"max-bandwidth": 1 << 40})  # a file: no cap
    r = vm.q.cmd("migrate", {"uri": "file:" + stream})
    notes.append(wait_migration(vm.q) if ok(r) else r)
    vm.quit()
    dst = Vm(wd, os.path.basename(stream)[:-4] + "-dst", vm.machine, args +
             ["-incoming", "file:" + stream], vm.image)
    # the source was stopped: the destination waits for cont, as QEMU's
    if dst.q.wait_status("paused") != "paused" or not ok(dst.q.cmd("cont")) or \
            dst.q.wait_status("running") != "running":
        notes.append(dst.quit())
        return None
    notes.append(dst.words(STAGE, 1))
    return dst


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
    # at its start, dimm1 at the next 128 MiB boundary (a Linux section).
    want = [0, 3, 0x08000000, 1, 4 << 20, 7, 5, 5, 0, 5, 0]
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


# ---- NVDIMM ----

def nvdimm_guest(labels):
    a = Asm()
    a.map_high()
    a.put64(PMEM, 0x1122334455667788)
    a.put64(PMEM + (1 << 20), 0x99aabbccddeeff00)
    a.put64(PMEM + (2 << 20) - 8, 0x0123456789abcdef)
    if labels:
        a.dsm(4)                               # 0, 1: length 16, status 0
        a.keep(DSM_PAGE + 8, 2)                # 2, 3: label size, max transfer
        a.dsm(6, 0, len(LABEL_A), DATA)        # 4, 5: 8, 0
    a.stage(1)
    a.wait_pwrbtn()                            # (after the cut)
    if labels:
        a.dsm(6, 256, len(LABEL_B), DATA + 256)  # 6, 7: 8, 0
        a.dsm(5, 0, 512)                       # 8, 9: 520, 0
        a.keep(DSM_PAGE + 8, 128)              # 10..137: the 512 bytes
        a.dsm(5, (128 << 10) - 100, 200)       # past the area: 8, 3
    a.keep(PMEM, 2)
    a.keep(PMEM + (1 << 20), 2)
    a.keep(PMEM + (2 << 20) - 8, 2)
    a.stage(2)
    a.halt()
    assert len(a.b) <= DATA - 0x1000000
    return bytes(a.b).ljust(DATA - 0x1000000, b"\xcc") + LABEL_A + LABEL_B, a.nres


def nvdimm_args(labels):
    return ["-object", "memory-backend-ram,id=nv0,size=4M", "-device",
            "nvdimm,memdev=nv0,id=nvdimm0" + (",label-size=128K" if labels else "")]


def nvdimm_run(wd, machine, labels, cut):
    name = "%s-nv%s-%s" % (machine, "l" if labels else "", "cut" if cut else "ref")
    code, nres = nvdimm_guest(labels)
    image = name + ".bzImage"
    with open(os.path.join(wd, image), "wb") as f:
        f.write(fake.bzimage(code))
    args = nvdimm_args(labels)
    vm = Vm(wd, name, "%s,nvdimm=on" % machine, args, image)
    notes = []
    try:
        if not vm.wait_stage(1):
            return None, "stage 1 not reached"
        if cut:
            dst = cross(wd, vm, notes, args)
            if not dst:
                return None, notes
            vm = dst
        r = vm.q.cmd("system_powerdown")
        if not ok(r) or not vm.wait_stage(2):
            return None, ("system_powerdown / stage 2", r)
        return vm.words(RES, nres), notes
    finally:
        vm.quit()


def words(b):
    return list(struct.unpack("<%dI" % (len(b) // 4), b))


def check_nvdimm(wd, machine, labels):
    what = "%s nvdimm%s" % (machine, " label-size=128K" if labels else "")
    pmem = [0x55667788, 0x11223344, 0xddeeff00, 0x99aabbcc, 0x89abcdef, 0x01234567]
    want = ([16, 0, 128 << 10, 4076, 8, 0, 8, 0, 520, 0] + words(LABEL_A + LABEL_B) +
            [8, 3] if labels else []) + pmem
    ref, why = nvdimm_run(wd, machine, labels, False)
    check("%s: unmigrated, the pmem reads back%s" % (
        what, ", the label _DSM gives the area's size and the label written in two "
        "transfers" if labels else ""), ref == want,
          why if ref is None else ["%#x" % v for v in ref])
    got, notes = nvdimm_run(wd, machine, labels, True)
    check("%s: migrated between the %s: the same" % (
        what, "two label transfers" if labels else "pmem's write and read"),
          got == want and notes == ["completed", [1]],
          (notes, None if got is None else ["%#x" % v for v in got]))


# The cases by name, as the coverage test (test-migration-coverage.py)
# lists them with -l, like a GLib test program.
CASES = {}
for _m in ("q35", "pc"):
    CASES["/migrate/x86-machine/%s/memory-hotplug" % _m] = (check_machine, _m)
    CASES["/migrate/x86-machine/%s/nvdimm" % _m] = (check_nvdimm, _m, False)
    CASES["/migrate/x86-machine/%s/nvdimm/label-size" % _m] = (check_nvdimm, _m, True)


def main():
    if "-l" in sys.argv[1:]:
        print("\n".join(CASES))
        return 0
    wd = tempfile.mkdtemp(prefix="tessera-mig-x86-")
    try:
        for fn, *args in CASES.values():
            fn(wd, *args)
        check("every VM ended with status 0 on quit, no sanitizer report", not FAILED_EXITS,
              FAILED_EXITS)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
