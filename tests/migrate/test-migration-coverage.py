#!/usr/bin/env python3
"""Issue 17's rule, checked: every device type, machine and CPU model a
plugin registers has a migration round trip in the migrate suite.
-device help, -M help and -cpu help list the types; every migrate test
program lists its cases with -l (the GLib programs, and mig-x86-machine.py
for what needs a whole machine). COVERAGE names, for each type, the cases
that round-trip it mid-activity. A type missing from COVERAGE fails (a new
device shipped without a case), and so does a named case that no program
registers (a renamed or dropped case) and an entry for a type no plugin
registers any more. A type with no state of its own is listed in EXEMPT
with the reason, and the claim is checked: its section in a real
migration stream (tessera -M <machine>, migrate to file:) is empty.

usage: test-migration-coverage.py PATH-TO-TESSERA MIG-PROGRAM...  (TAP on stdout)
"""
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tesstest import Qmp, check, tap_report  # noqa: E402

TESSERA = sys.argv[1] if len(sys.argv) > 1 else "tessera"
PROGRAMS = sys.argv[2:]

M = "/migrate/"
# Every virtio case: the transport (virtio-mmio or the -pci proxy) and the
# device under it both migrate with it.
VIRTIO_MMIO = [M + "virtio-%s-device/mmio" % t
               for t in ("blk", "rng", "net", "keyboard", "mouse", "tablet", "gpu")]

COVERAGE = {
    # virtio bus: over virtio-mmio, and under their -pci proxy (which
    # creates the -device and carries its state)
    "virtio-blk-device": [M + "virtio-blk-device/mmio", M + "virtio-blk-pci/msix"],
    "virtio-gpu-device": [M + "virtio-gpu-device/mmio", M + "virtio-gpu-pci/msix"],
    "virtio-iommu-device": [M + "virtio-iommu-pci"],
    "virtio-keyboard-device": [M + "virtio-keyboard-device/mmio"],
    "virtio-mouse-device": [M + "virtio-mouse-device/mmio"],
    "virtio-tablet-device": [M + "virtio-tablet-device/mmio"],
    "virtio-net-device": [M + "virtio-net-device/mmio", M + "virtio-net-pci/intx"],
    "virtio-rng-device": [M + "virtio-rng-device/mmio"],
    "virtio-scsi-device": [M + "virtio-scsi-pci/scsi-hd+scsi-cd"],
    # disks: under their controller, a command in flight
    "scsi-cd": [M + "virtio-scsi-pci/scsi-hd+scsi-cd", M + "lsi53c895a", M + "megasas"],
    "scsi-hd": [M + "virtio-scsi-pci/scsi-hd+scsi-cd", M + "lsi53c895a", M + "megasas"],
    "ide-cd": [M + "piix3-ide", M + "ich9-ahci"],
    "ide-hd": [M + "piix3-ide", M + "ich9-ahci"],
    "nvme-ns": [M + "nvme"],
    # PCI
    "ICH9-LPC": [M + "ICH9-LPC", M + "ICH9-LPC-tco"],
    "PIIX3": [M + "PIIX3"],
    "PIIX4_PM": [M + "PIIX4_PM"],
    "VGA": [M + "VGA"],
    "bochs-display": [M + "bochs-display"],
    "e1000": [M + "e1000"],
    "e1000e": [M + "e1000e"],
    "edu": [M + "edu/intx", M + "edu/msi"],
    "gpex-root": [M + "gpex-pcihost+gpex-root"],
    "i440FX": [M + "i440FX", M + "i440FX-pcihost+i440FX"],
    "ich9-ahci": [M + "ich9-ahci"],
    "ioh3420": [M + "ioh3420"],
    "pcie-root-port": [M + "pcie-root-port"],
    "xio3130-downstream": [M + "xio3130-downstream", M + "x3130-upstream+xio3130-downstream"],
    "x3130-upstream": [M + "x3130-upstream+xio3130-downstream"],
    "pci-bridge": [M + "pci-bridge"],
    "pxb": [M + "pxb"],
    "pxb-pcie": [M + "pxb-pcie"],
    "lsi53c895a": [M + "lsi53c895a"],
    "mch": [M + "q35-pcihost+mch"],
    "megasas": [M + "megasas"],
    "nvme": [M + "nvme"],
    "piix3-ide": [M + "piix3-ide"],
    "virtio-blk-pci": [M + "virtio-blk-pci/intx", M + "virtio-blk-pci/msix"],
    "virtio-gpu-pci": [M + "virtio-gpu-pci/msix"],
    "virtio-iommu-pci": [M + "virtio-iommu-pci"],
    "virtio-keyboard-pci": [M + "virtio-keyboard-pci/msix"],
    "virtio-mouse-pci": [M + "virtio-mouse-pci/intx"],
    "virtio-net-pci": [M + "virtio-net-pci/intx", M + "virtio-net-pci/msix"],
    "virtio-rng-pci": [M + "virtio-rng-pci/msix"],
    "virtio-scsi-pci": [M + "virtio-scsi-pci/scsi-hd+scsi-cd"],
    "virtio-tablet-pci": [M + "virtio-tablet-pci/msix"],
    # system bus
    "arm-gic": [M + "arm-gic"],
    "arm-gicv3": [M + "arm-gicv3", M + "arm-gicv3/its", M + "cpu-arm/vtimer-gicv3"],
    "arm-smmuv3": [M + "arm-smmuv3"],
    "gpex-pcihost": [M + "gpex-pcihost+gpex-root"],
    "i440FX-pcihost": [M + "i440FX-pcihost+i440FX"],
    "i8042": [M + "i8042"],
    "i8254": [M + "i8254"],
    "i8259": [M + "i8259"],
    "intel-iommu": [M + "intel-iommu"],
    "intel_iommu": [M + "intel_iommu"],
    "ioapic": [M + "ioapic"],
    "isa-serial": [M + "isa-serial"],
    "mc146818rtc": [M + "mc146818rtc"],
    "nvdimm": [M + "nvdimm", M + "nvdimm/label-size", M + "x86-machine/q35/nvdimm",
               M + "x86-machine/pc/nvdimm/label-size"],
    "pc-dimm": [M + "pc-dimm", M + "x86-machine/q35/memory-hotplug"],
    "pl011": [M + "pl011"],
    "pl031": [M + "pl031"],
    "q35-pcihost": [M + "q35-pcihost+mch"],
    "virtio-mmio": VIRTIO_MMIO,
}

# Machines: the board's own state (ACPI memory and CPU hotplug blocks).
MACHINES = {
    "q35": [M + "x86-machine/q35/memory-hotplug", M + "x86-machine/q35/nvdimm"],
    "pc": [M + "x86-machine/pc/memory-hotplug", M + "x86-machine/pc/nvdimm"],
}

# CPU models, by plugin: "max" exists in both.
CPUS = {
    ("cortex-a57", "cpu-arm"): [M + "cpu-arm/cortex-a57", M + "cpu-arm/vtimer-gicv3"],
    ("max", "cpu-arm"): [M + "cpu-arm/max"],
    ("qemu64", "cpu-x86"): [M + "cpu-x86/qemu64", M + "cpu-x86/lapic-timer"],
    ("max", "cpu-x86"): [M + "cpu-x86/max"],
}

# No state of their own: checked below (their stream section holds no
# fields and no blob; a PCI function's core-owned PCI state aside). Empty
# today: every device type has state.
EXEMPT_DEVICES = {}
EXEMPT_MACHINES = {
    "virt": "its guest-visible state lives in RAM and its devices (GIC, PL011, PL031, "
            "gpex), which have cases; the board's fields come from the command line",
    "none": "an empty machine: its optional test PCI host is gpex-pcihost",
}


def run(*args):
    p = subprocess.run([TESSERA] + list(args), capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def list_cases():
    """Case path -> the program that registers it."""
    cases = {}
    for prog in PROGRAMS:
        cmd = ([sys.executable, prog] if prog.endswith(".py") else [prog]) + ["-l"]
        out = subprocess.run(cmd, capture_output=True, timeout=60,
                             stdin=subprocess.DEVNULL).stdout.decode(errors="replace")
        for name in re.findall(r"^(/migrate/\S+)$", out, re.M):
            cases[name] = os.path.basename(prog)
    return cases


class Stream:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, n):
        if self.p + n > len(self.d):
            raise ValueError("stream cut short at %d" % self.p)
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def u(self, fmt):
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]

    def s(self):
        return self.take(self.u("I")).decode(errors="replace")

    def runs(self, page):
        while True:
            self.u("Q")
            n = self.u("I")
            if n == 0:
                return
            self.take(n * page)


def device_sections(data):
    """(type, payload) of every DEVICE section of a stream (core/migration.c's
    format, versions 2 and 3)."""
    st = Stream(data)
    if st.take(8) != b"TESMIG\r\n" or st.u("I") not in (2, 3):
        raise ValueError("not a version 2/3 stream")
    out = []
    while True:
        tag = st.u("B")
        if tag == 0:
            return out
        if tag == 1:  # RAM
            st.s()
            st.u("Q")
            st.runs(st.u("I"))
            st.u("Q")
        elif tag == 6:  # RAM_DIRTY
            st.s()
            st.runs(4096)
            st.u("Q")
        elif tag == 2:
            st.u("q")
        elif tag in (4, 7):  # SUSPENDED, PAUSED: u8 1
            st.u("B")
        elif tag == 5:
            st.take(st.u("I"))
        elif tag == 3:
            st.s()
            typ = st.s()
            st.s()
            st.s()
            st.u("I")
            out.append((typ, st.take(st.u("Q"))))
        else:
            raise ValueError("unknown section tag %d" % tag)


def machine_stream(wd, name, args):
    qmp = os.path.join(wd, name + ".qmp")
    path = os.path.join(wd, name + ".mig")
    p = subprocess.Popen([TESSERA] + args + ["-m", "64M", "-display", "none", "-S",
                          "-qmp", "unix:%s,server=on,wait=off" % qmp],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        q = Qmp(qmp)
        q.negotiate()
        q.cmd("migrate", {"uri": "file:" + path})
        for _ in range(200):
            st = q.cmd("query-migrate").get("return", {}).get("status")
            if st not in ("setup", "active"):
                break
            subprocess.run(["sleep", "0.05"])
        q.cmd("quit")
        p.wait(timeout=20)
        with open(path, "rb") as f:
            return f.read(), None
    except (OSError, EOFError, subprocess.TimeoutExpired) as e:
        return None, "%s: %s" % (e, p.stderr.read().decode(errors="replace")[-500:])
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


EMPTY_STATE = b"\0\0\0\0" + b"\0"  # no fields, no custom blob (dev_state_save)


def own_state(payload, pci):
    """A section's payload after the core-owned PCI state (core/pci.c
    pci_state_save: version, config, MSI-X table and PBA, INTx level)."""
    if not pci:
        return payload
    st = Stream(payload)
    st.u("I")
    st.take(st.u("I"))
    st.take(st.u("I") * 16)
    st.take(st.u("I"))
    st.take(1)
    return payload[st.p:]


def check_exempt(wd, kind, name, why, pci=False):
    args = ["-M", name] if kind == "machine" else ["-M", "none", "-device", name]
    data, err = machine_stream(wd, name, args)
    try:
        secs = [own_state(payload, pci)
                for typ, payload in device_sections(data or b"") if typ == name]
    except ValueError as e:
        secs, err = [], "%s %s" % (err or "", e)
    check("%s %s needs no case (%s): its section of a migration stream is empty"
          % (kind, name, why), secs == [EMPTY_STATE], err or secs)


def check_table(what, name, names, cases):
    if not names:
        check("%s %s has a migration round trip" % (what, name), False,
              "no entry in tests/migrate/test-migration-coverage.py: add a mid-activity "
              "case (tests/migrate/migtest.h) and list it there")
        return
    stale = [n for n in names if n not in cases]
    check("%s %s has a migration round trip: %s" % (what, name, " ".join(names)), not stale,
          "no migrate program registers %s" % stale)


def main():
    cases = list_cases()
    types = re.findall(r'^name "([^"]+)", bus [^,]+, desc "[^"]*", plugin "([^"]+)"',
                       run("-device", "help"), re.M)
    machines = [m.group(1) for m in re.finditer(r"^(\S+)\s+(.*)$", run("-M", "help"), re.M)
                if m.group(1) != "Supported" and "(as " not in m.group(2)]
    cpus = re.findall(r"^(\S+)\s+.*\(plugin (\S+)\)$", run("-cpu", "help"), re.M)
    check("the lists are there (-device help, -M help, -cpu help, the programs' -l)",
          len(types) > 40 and len(machines) >= 3 and len(cpus) >= 2 and len(cases) > 40,
          "%d types, %d machines, %d CPUs, %d cases" % (len(types), len(machines),
                                                      len(cpus), len(cases)))
    types_bus = dict(re.findall(r'^name "([^"]+)", bus ([^,]+),', run("-device", "help"), re.M))
    for name, plugin in types:
        if name not in EXEMPT_DEVICES:
            check_table("device", "%s (plugin %s)" % (name, plugin), COVERAGE.get(name), cases)
    for model, plugin in cpus:
        check_table("CPU", "%s (plugin %s)" % (model, plugin), CPUS.get((model, plugin)),
                    cases)
    with tempfile.TemporaryDirectory(prefix="tessera-migcov-") as wd:
        for name, why in EXEMPT_DEVICES.items():
            check_exempt(wd, "device", name, why, types_bus.get(name) == "PCI")
        for name in machines:
            if name in EXEMPT_MACHINES:
                check_exempt(wd, "machine", name, EXEMPT_MACHINES[name])
            else:
                check_table("machine", name, MACHINES.get(name), cases)
    stale = sorted((set(COVERAGE) | set(EXEMPT_DEVICES)) - {n for n, _ in types})
    stale += sorted((set(MACHINES) | set(EXEMPT_MACHINES)) - set(machines))
    stale += sorted("%s (%s)" % c for c in set(CPUS) - set(cpus))
    check("every table entry is a registered type, machine or CPU (no stale entries)",
          not stale, stale)
    sys.exit(tap_report())


main()
