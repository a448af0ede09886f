#!/usr/bin/env python3
"""CPU hotplug on q35 and pc without a guest: the tables -smp N,maxcpus=M
builds (dumpacpi + iasl: the MADT's possible CPUs, \\_SB.CPUS and _E02),
-device and QMP device_add of qemu64-x86_64-cpu with their refusals,
query-hotpluggable-cpus / query-cpus-fast / query-acpi-ospm-status, device_del, and migration of a
machine with a hot-added CPU to a destination given the same -device.
TAP output.

    test-cpu-hotplug-machine.py TESSERA
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "lib"))
import machinetest  # noqa: E402
from machinetest import iasl  # noqa: E402
from tesstest import Qmp, check, tap_report  # noqa: E402

TESSERA = sys.argv[1] if len(sys.argv) > 1 else "tessera"
CPU = "qemu64-x86_64-cpu"
SMP = ["-smp", "2,maxcpus=4"]


def cpu_dev(core, ident=None):
    return "%s,%ssocket-id=0,core-id=%d,thread-id=0" % (CPU, "id=%s," % ident if ident else "",
                                                        core)


def run(*args):
    return machinetest.run(TESSERA, *args, timeout=60)


def madt_enabled(madt):
    """Processor Enabled bits of the MADT's local APIC entries, in order."""
    return [int(b) for b in re.findall(r"Processor Enabled : (\d)", madt)]


def check_tables(wd, machine):
    d = tempfile.mkdtemp(dir=wd)
    rc, log = run("-M", "%s,dumpacpi=%s" % (machine, d), *SMP)
    madt, dsdt = iasl(d, "APIC"), iasl(d, "DSDT")
    check("%s: -smp 2,maxcpus=4: iasl disassembles the MADT and DSDT" % machine,
          rc == 0 and madt and dsdt, log)
    check("%s: the MADT lists 4 CPUs, the 2 absent ones not enabled" % machine,
          madt_enabled(madt) == [1, 1, 0, 0], madt)
    check("%s: the DSDT has \\_SB.CPUS (ACPI0010) over I/O 0x0cd8 with C000..C003" % machine,
          "Device (CPUS)" in dsdt and "ACPI0010" in dsdt and
          "OperationRegion (PRST, SystemIO, 0x0CD8, 0x0C)" in dsdt and
          all("Device (C00%d)" % i in dsdt for i in range(4)) and "Device (C004)" not in dsdt,
          dsdt)
    check("%s: \\_GPE._E02 calls \\_SB.CPUS.CSCN; CPUs but C000 have _EJ0" % machine,
          re.search(r"Method \(_E02.*?\\_SB\.CPUS\.CSCN", dsdt, re.S) is not None and
          dsdt.count("Method (_EJ0") == 3, dsdt)
    d = tempfile.mkdtemp(dir=wd)
    rc, log = run("-M", "%s,dumpacpi=%s" % (machine, d), *SMP, "-device", cpu_dev(3))
    check("%s: -device %s,core-id=3: the MADT enables CPU 3" % (machine, CPU),
          rc == 0 and madt_enabled(iasl(d, "APIC")) == [1, 1, 0, 1], log)
    d = tempfile.mkdtemp(dir=wd)
    rc, log = run("-M", "%s,dumpacpi=%s" % (machine, d), *SMP, "-m", "512M", "-numa",
                  "node,mem=256,cpus=0-1", "-numa", "node,mem=256,cpus=2-3")
    dsdt = iasl(d, "DSDT")
    check("%s: with -numa each possible CPU has its node's _PXM" % machine,
          rc == 0 and re.findall(r"Name \(_PXM, (\w+)\)", dsdt) == ["Zero", "Zero", "One", "One"],
          log + dsdt)
    d = tempfile.mkdtemp(dir=wd)
    rc, log = run("-M", "%s,dumpacpi=%s" % (machine, d), "-smp", "2")
    dsdt = iasl(d, "DSDT")
    check("%s: -smp 2 without maxcpus: no hotplug interface in the DSDT" % machine,
          rc == 0 and dsdt and "CPUS" not in dsdt and "_E02" not in dsdt, log + dsdt)


REFUSALS = [
    ("an occupied slot", [cpu_dev(1)], "CPU[1] with APIC ID 1 exists"),
    ("a core-id beyond maxcpus", [cpu_dev(4)], "Invalid CPU core-id: 4 must be in range 0:3"),
    ("no thread-id", [CPU + ",socket-id=0,core-id=2"], "CPU thread-id is not set"),
    ("another model than -cpu", ["max-x86_64-cpu,socket-id=0,core-id=2,thread-id=0"],
     "Invalid CPU type, expected cpu type: 'qemu64-x86_64-cpu'"),
    ("an unknown property", [cpu_dev(2) + ",apic-id=2"],
     "Property 'qemu64-x86_64-cpu.apic-id' not found"),
    ("the same slot twice", [cpu_dev(2), cpu_dev(2)], "CPU[2] with APIC ID 2 exists"),
]


def check_cli_refusals(wd):
    for what, devs, msg in REFUSALS:
        args = sum((["-device", x] for x in devs), [])
        rc, log = run("-M", "q35,dumpacpi=" + tempfile.mkdtemp(dir=wd), *SMP, *args)
        lines = [l for l in log.splitlines() if l.strip() and "ACPI tables dumped" not in l]
        check("-device of %s: exit 1 with one line naming it" % what,
              rc == 1 and len(lines) == 1 and msg in lines[0], (rc, log))
    rc, log = run("-M", "q35,dumpacpi=" + tempfile.mkdtemp(dir=wd), "-smp", "2",
                  "-device", cpu_dev(2))
    check("-device of a CPU with -smp 2 (no maxcpus): refused as out of range",
          rc == 1 and "must be in range 0:1" in log, (rc, log))


class Vm:
    def __init__(self, wd, name, machine, extra):
        self.qmp_path = os.path.join(wd, name + ".qmp")
        self.proc = subprocess.Popen(
            [TESSERA, "-M", machine, "-m", "128M", "-display", "none", "-kernel",
             os.path.join(wd, "bzImage"), "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
            + SMP + extra, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.qmp = None

    def connect(self):
        deadline = time.time() + 15
        while not os.path.exists(self.qmp_path) and time.time() < deadline:
            time.sleep(0.05)
        self.qmp = Qmp(self.qmp_path, 15.0)
        self.qmp.negotiate()
        return self.qmp

    def finish(self, timeout=20):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, err.decode(errors="replace")

    def quit(self):
        if self.proc.poll() is None and self.qmp:
            try:
                self.qmp.cmd("quit")
            except (OSError, EOFError):
                pass
        return self.finish()


def desc(r):
    return r.get("error", {}).get("desc", "")


def ret(r):
    return r.get("return")


def check_qmp(wd, machine):
    vm = Vm(wd, machine, machine, [])
    try:
        q = vm.connect()
        hp = ret(q.cmd("query-hotpluggable-cpus")) or []
        check("%s: query-hotpluggable-cpus: 4 slots, the last first, CPUs 0-1 with a "
              "qom-path" % machine,
              [e.get("props") for e in hp] ==
              [{"socket-id": 0, "core-id": c, "thread-id": 0} for c in (3, 2, 1, 0)] and
              ["qom-path" in e for e in hp] == [False, False, True, True] and
              all(e.get("type") == CPU and e.get("vcpus-count") == 1 for e in hp), hp)
        r = q.cmd("device_add", {"driver": CPU, "id": "c3", "socket-id": 0, "core-id": 3,
                                 "thread-id": 0})
        check("%s: device_add %s core-id=3 succeeds" % (machine, CPU), ret(r) == {}, r)
        r = q.cmd("device_add", {"driver": CPU, "id": "c3b", "socket-id": 0, "core-id": 3,
                                 "thread-id": 0})
        check("%s: device_add of the same slot again is refused" % machine,
              desc(r) == "CPU[3] with APIC ID 3 exists", r)
        cpus = ret(q.cmd("query-cpus-fast")) or []
        check("%s: query-cpus-fast lists vCPUs 0, 1, 3, the new one at "
              "/machine/peripheral/c3" % machine,
              [c.get("cpu-index") for c in cpus] == [0, 1, 3] and
              cpus[2].get("qom-path") == "/machine/peripheral/c3" and
              cpus[2].get("props", {}).get("core-id") == 3 and
              cpus[2].get("target") == "x86_64", cpus)
        os_ = ret(q.cmd("query-acpi-ospm-status"))
        check("%s: query-acpi-ospm-status: CPU slots 0-3, nothing reported yet, c3 named"
              % machine,
              os_ == [dict({"slot": str(i), "slot-type": "CPU", "source": 0, "status": 0},
                           **({"device": "c3"} if i == 3 else {})) for i in range(4)], os_)
        r = q.cmd("device_del", {"id": "qemu64.0"})
        check("%s: device_del of the boot CPU is refused" % machine,
              desc(r) == "Boot CPU is unpluggable", r)
        r = q.cmd("device_del", {"id": "c3"})
        check("%s: device_del c3 is accepted (the guest is asked to eject it)" % machine,
              ret(r) == {}, r)
        hmp = lambda line: ret(q.cmd("human-monitor-command", {"command-line": line}))
        r = hmp("device_add %s,id=c2,socket-id=0,core-id=2,thread-id=0" % CPU)
        r2 = hmp("device_add %s,id=c2b,socket-id=0,core-id=2,thread-id=0" % CPU)
        info = hmp("info hotpluggable-cpus") or ""
        check("%s: HMP device_add adds core 2, refuses it again, info hotpluggable-cpus "
              "lists it" % machine,
              r == "" and r2 == "Error: CPU[2] with APIC ID 2 exists\n" and
              info.startswith("Hotpluggable CPUs:\n") and
              'qom_path: "/machine/peripheral/c2"' in info and info.count('type: "') == 4,
              (r, r2, info))
        r = hmp("device_del c2")
        check("%s: HMP device_del c2 is accepted" % machine, r == "", r)
    finally:
        vm.quit()


def wait_migration(q, timeout=20):
    deadline = time.time() + timeout
    while True:
        r = q.cmd("query-migrate")
        st = r.get("return", {}).get("status")
        if st not in ("setup", "active", "cancelling") or time.time() > deadline:
            return r
        time.sleep(0.05)


def stream_field(stream, name):
    """The bytes of the migration stream's field NAME (core/migration.c:
    u32 length + name, u8 kind, u32 count, u32 byte length, bytes)."""
    with open(stream, "rb") as f:
        data = f.read()
    key = struct.pack("<I", len(name)) + name.encode()
    at = data.find(key)
    if at < 0:
        return None
    at += len(key) + 1 + 4
    (n,) = struct.unpack_from("<I", data, at)
    return data[at + 4:at + 4 + n]


def check_migration(wd):
    stream = os.path.join(wd, "cpuhp.mig")
    src = Vm(wd, "src", "q35", [])
    try:
        q = src.connect()
        q.cmd("device_add", {"driver": CPU, "id": "c2", "socket-id": 0, "core-id": 2,
                             "thread-id": 0})
        q.cmd("device_add", {"driver": CPU, "id": "c3", "socket-id": 0, "core-id": 3,
                             "thread-id": 0})
        q.cmd("device_del", {"id": "c3"})
        r = q.cmd("migrate", {"uri": "file:" + stream})
        r = wait_migration(q) if ret(r) == {} else r
        check("migration of a machine with hot-added CPUs completes",
              r.get("return", {}).get("status") == "completed", r)
    finally:
        src.quit()
    flags = stream_field(stream, "cpuhp_flags") or b""
    # No guest acknowledged anything (the fake kernel halts): CPU 2 present
    # with its insert event, CPU 3 with insert and remove events.
    check("the stream carries the hotplug flags: pending insert (CPU 2) and remove (CPU 3)",
          flags[:4] == bytes([1, 1, 3, 7]), flags[:8])
    check("the stream carries the selector and command registers",
          stream_field(stream, "cpuhp_selector") == bytes(4) and
          stream_field(stream, "cpuhp_command") == bytes(4))
    dst = Vm(wd, "dst", "q35", ["-device", cpu_dev(2, "c2"), "-device", cpu_dev(3, "c3"),
                                "-incoming", "file:" + stream])
    try:
        q = dst.connect()
        st = q.wait_status("running")
        cpus = ret(q.cmd("query-cpus-fast")) or []
        check("a destination given -device of the CPUs loads the stream and runs",
              st == "running" and [c.get("cpu-index") for c in cpus] == [0, 1, 2, 3],
              (st, cpus))
    finally:
        dst.quit()
    bad = Vm(wd, "bad", "q35", ["-device", cpu_dev(3, "c3"), "-incoming", "file:" + stream])
    code, err = bad.finish()
    check("a destination without CPU 2 refuses the stream: exit 1, one line",
          code == 1 and len(err.strip().splitlines()) == 1 and "CPU 2 is present" in err,
          (code, err))
    bad = Vm(wd, "bad2", "q35", ["-device", cpu_dev(3, "c2"), "-device", cpu_dev(2, "c3"),
                                 "-incoming", "file:" + stream])
    code, err = bad.finish()
    check("a destination with the two CPUs' slots swapped refuses the stream (APIC ID)",
          code == 1 and len(err.strip().splitlines()) == 1 and "APIC ID" in err, (code, err))


def main():
    wd = tempfile.mkdtemp(prefix="tessera-cpuhp-")
    try:
        subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "..", "tests", "lib",
                                                     "fake-bzimage.py"),
                        os.path.join(wd, "bzImage")], check=True)
        have_iasl = shutil.which("iasl") is not None
        for machine in ("q35", "pc"):
            if have_iasl:
                check_tables(wd, machine)
            check_qmp(wd, machine)
        if not have_iasl:
            check("iasl is installed (acpica-tools; scripts/install-deps)", False)
        check_cli_refusals(wd)
        check_migration(wd)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
