#!/usr/bin/env python3
"""The q35 machine without a guest: the ACPI tables it builds for the
command line (-M q35,dumpacpi=DIR, disassembled with iasl), how RAM size
moves the 64-bit PCI window, and its set-up errors. TAP output.

    test-q35-machine.py TESSERA
"""
import os
import re
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "lib"))
from machinetest import dump_acpi as dump, iasl, run, run_quit  # noqa: E402
from machinetest import dump_tables, main as machine_main  # noqa: E402
from tesstest import check  # noqa: E402


def check_tables(tessera, wd):
    sigs = ("RSDP", "RSDT", "XSDT", "FACP", "FACS", "DSDT", "APIC", "MCFG")
    d, texts = dump_tables(tessera, wd, "q35", sigs, "-smp", "4", "-m", "1G")
    if texts is None:
        return
    madt = texts["APIC"]
    check("-smp 4: the MADT has 4 enabled local APICs",
          len(re.findall(r"Subtable Type : 00 \[Processor Local APIC\]", madt)) == 4, madt)
    dsdt = texts["DSDT"]
    check("-smp 4: the DSDT declares processors C000..C003 only",
          all("Device (C00%d)" % i in dsdt for i in range(4)) and "Device (C004)" not in dsdt,
          dsdt)
    check("the DSDT has \\_SB.PCI0 (PNP0A08) with _CRS, _PRT and _OSC",
          "Device (PCI0)" in dsdt and "PNP0A08" in dsdt and "Name (_PRT" in dsdt
          and "Method (_OSC" in dsdt, dsdt)
    # -m 1G: all below 4 GiB, so the 64-bit window starts at 4 GiB.
    check("-m 1G: the 64-bit PCI window starts at 4 GiB",
          "0x0000000100000000, // Range Minimum" in dsdt, dsdt)
    with open(os.path.join(d, "RSDP.dat"), "rb") as f:
        rsdp = f.read()
    check("the RSDP is revision 2 with a valid checksum",
          rsdp[:8] == b"RSD PTR " and rsdp[15] == 2 and sum(rsdp[:20]) % 256 == 0
          and sum(rsdp[:36]) % 256 == 0, repr(rsdp))
    rc, log, d = dump(tessera, wd, "q35", "-m", "3G")
    dsdt = iasl(d, "DSDT")
    check("-m 3G: 1 GiB of RAM above 4 GiB moves the 64-bit window to 5 GiB",
          "0x0000000140000000, // Range Minimum" in dsdt, log + dsdt)


def check_device_table(tessera, wd):
    """A device's own table (tessera/acpi.h): intel-iommu's DMAR."""
    rc, log, d = dump(tessera, wd, "q35", "-device", "intel_iommu,intremap=on")
    dmar = iasl(d, "DMAR") if rc == 0 and os.path.exists(os.path.join(d, "DMAR.dat")) else ""
    xsdt = iasl(d, "XSDT") if rc == 0 else ""
    check("-device intel_iommu adds a DMAR that iasl decodes: one unit at 0xfed90000 for "
          "every PCI device, interrupt remapping with the I/O APIC as ff:00.0",
          "Register Base Address : 00000000FED90000" in dmar and "Flags : 03" in dmar
          and "[IOAPIC Device]" in dmar and "PCI Bus Number : FF" in dmar, log + dmar)
    check("... and the XSDT lists it after the MCFG (FACP, APIC, MCFG, DMAR)",
          len(re.findall(r"ACPI Table Address +\d+ :", xsdt)) == 4, xsdt)
    rc, log = run(tessera, "-M", "pc,dumpacpi=" + wd, "-device", "intel-iommu")
    check("intel-iommu elsewhere is refused with QEMU's words",
          rc != 0 and "Intel IOMMU is only supported by q35 machine" in log, log)


def check_errors(tessera, wd):
    rc, log = run_quit(tessera, "-M", "q35")
    check("no -kernel: the machine starts with nothing to boot, says so once, quits",
          rc == 0 and log.count("machine 'q35': nothing to boot: no -kernel given") == 1, log)
    bad = os.path.join(wd, "notakernel")
    with open(bad, "wb") as f:
        f.write(b"\0" * 8192)
    rc, log = run(tessera, "-M", "q35", "-kernel", bad)
    check("a file without a bzImage header is refused by name",
          rc != 0 and "notakernel" in log and "bzImage" in log, log)
    old = os.path.join(wd, "oldkernel")
    hdr = bytearray(8192)
    hdr[0x1fe:0x200] = b"\x55\xaa"
    hdr[0x202:0x206] = b"HdrS"
    hdr[0x206:0x208] = struct.pack("<H", 0x0204)
    with open(old, "wb") as f:
        f.write(hdr)
    rc, log = run(tessera, "-M", "q35", "-kernel", old)
    check("boot protocol 2.04 is refused (2.12 needed)",
          rc != 0 and "2.12" in log, log)
    rc, log = run(tessera, "-M", "q35,accel=kvm", "-kernel", bad)
    check("accel=kvm is refused: tcg is the only accelerator",
          rc != 0 and "failed to initialize kvm" in log, log)
    rc, log = run(tessera, "-M", "q35", "-smp", "9", "-kernel", bad)
    check("-smp 9 is refused (max 8)", rc != 0 and "8" in log, log)
    rc, log = run(tessera, "-M", "q35,dumpacpi=" + wd, "-device",
                  "pl011,addr=0x0c000000,irq=5")
    check("a platform device with addr=/irq= is refused: q35 places none",
          rc != 0 and "machine 'q35' does not place platform devices" in log, log)
    rc, log = run(tessera, "-M", "q35,dumpacpi=" + wd, "-device", "ide-cd,bus=ide.5")
    check("q35's ICH9 AHCI has six ports, ide.0..ide.5 (an ide-cd on ide.5)", rc == 0, log)
    rc, log = run(tessera, "-M", "q35,dumpacpi=" + wd, "-device", "ide-cd,bus=ide.6")
    check("... and no ide.6", rc != 0 and "ide.6" in log, log)
    check_watchdog_options(tessera, wd)


def check_watchdog_options(tessera, wd):
    """-watchdog-action and -global ICH9-LPC.noreboot (the TCO watchdog's
    options): QEMU's values taken, a bad one is one line and exit 1."""
    for action in ("reset", "shutdown", "poweroff", "pause", "debug", "none", "inject-nmi"):
        rc, log = run(tessera, "-M", "q35,dumpacpi=" + wd, "-watchdog-action", action)
        check("-watchdog-action %s is taken" % action, rc == 0, log)
    rc, log = run(tessera, "-M", "q35,dumpacpi=" + wd, "-watchdog-action", "reboot")
    check("-watchdog-action reboot: one line naming the actions, exit 1",
          rc == 1 and log.strip().count("\n") == 0 and "unknown action 'reboot'" in log
          and "inject-nmi" in log, log)
    rc, log = run_quit(tessera, "-M", "q35", "-global", "ICH9-LPC.noreboot=true")
    check("-global ICH9-LPC.noreboot=true (QEMU's spelling) is taken", rc == 0, log)
    for spec, want in (("ICH9-LPC.noreboot", "not DRIVER.PROPERTY=VALUE"),
                       ("ICH9-LPC.nosuch=on", "has no property 'nosuch'"),
                       ("ICH9-LPC.noreboot=maybe", "wants on|off")):
        rc, log = run(tessera, "-M", "q35,dumpacpi=" + wd, "-global", spec)
        check("-global %s: '...%s...', exit 1" % (spec, want), rc == 1 and want in log, log)


def srat_entries(path):
    """[(type, fields...)] of a SRAT: ('cpu', apic_id, node) for local APIC
    and x2APIC affinity, ('mem', base, length, node) for memory."""
    with open(path, "rb") as f:
        t = f.read()
    out, off = [], 48
    while off + 2 <= len(t) and t[off + 1] >= 2:
        typ, ln = t[off], t[off + 1]
        e = t[off:off + ln]
        if typ == 0:
            out.append(("cpu", e[3], e[2] | int.from_bytes(e[9:12], "little") << 8))
        elif typ == 2:
            out.append(("cpu", struct.unpack_from("<I", e, 8)[0], struct.unpack_from("<I", e, 4)[0]))
        elif typ == 1:
            node, base, length = struct.unpack_from("<I2xQQ", e, 2)
            out.append(("mem", base, length, node))
        off += ln
    return out


def check_numa(tessera, wd):
    """The tutorial's NUMA line: SRAT splits RAM per node around the holes;
    -numa dist adds a SLIT; -smp cores=3 spaces APIC IDs as QEMU does."""
    MiB = 1 << 20
    rc, log, d = dump(tessera, wd, "q35", "-smp", "4,sockets=2,cores=2,threads=1", "-m", "2304M",
                      "-numa", "node,mem=2048,cpus=0-1", "-numa", "node,mem=256,cpus=2-3")
    srat = srat_entries(os.path.join(d, "SRAT.dat")) if rc == 0 else []
    check("-numa: dumpacpi writes a SRAT and, without -numa dist, no SLIT",
          rc == 0 and srat and not os.path.exists(os.path.join(d, "SLIT.dat")), log)
    check("SRAT: APIC 0, 1 on node 0 and 2, 3 on node 1",
          [e for e in srat if e[0] == "cpu"] == [("cpu", 0, 0), ("cpu", 1, 0), ("cpu", 2, 1),
                                                 ("cpu", 3, 1)], repr(srat))
    # q35 keeps 2 GiB below 4 GiB: node 0 is [0, 640K) + [1M, 2G), node 1 at 4 GiB
    check("SRAT: node 0 RAM below the PCI hole (less 640K..1M), node 1's 256 MiB at 4 GiB",
          [e for e in srat if e[0] == "mem"] == [
              ("mem", 0, 640 * 1024, 0), ("mem", MiB, 2048 * MiB - MiB, 0),
              ("mem", 1 << 32, 256 * MiB, 1)], repr(srat))
    if shutil.which("iasl"):
        check("iasl disassembles the SRAT", iasl(d, "SRAT") != "", d)
    rc, log, d = dump(tessera, wd, "q35", "-smp", "6,sockets=2,cores=3", "-m", "1G",
                      "-numa", "node,cpus=0-2", "-numa", "node,cpus=3-5",
                      "-numa", "dist,src=0,dst=1,val=21")
    srat = srat_entries(os.path.join(d, "SRAT.dat")) if rc == 0 else []
    check("-smp 6,sockets=2,cores=3: APIC IDs 0-2 and 4-6 (2 core bits), in the SRAT too",
          [(e[1], e[2]) for e in srat if e[0] == "cpu"] == [(0, 0), (1, 0), (2, 0), (4, 1),
                                                            (5, 1), (6, 1)], repr(srat) + log)
    try:
        with open(os.path.join(d, "SLIT.dat"), "rb") as f:
            slit = f.read()
    except OSError:
        slit = b""
    check("-numa dist,src=0,dst=1,val=21: SLIT 10 21 / 21 10",
          slit[36:44] == struct.pack("<Q", 2) and slit[44:48] == bytes([10, 21, 21, 10]),
          slit.hex())
    rc, log, d = dump(tessera, wd, "q35", "-smp", "2,maxcpus=4", "-m", "1G",
                      "-numa", "node,cpus=0-1",
                      "-numa", "node,cpus=2-3")
    srat = srat_entries(os.path.join(d, "SRAT.dat")) if rc == 0 else []
    check("-smp 2,maxcpus=4: the SRAT places the 2 CPUs not yet there (APIC 2, 3: node 1)",
          [e for e in srat if e[0] == "cpu"] == [("cpu", 0, 0), ("cpu", 1, 0), ("cpu", 2, 1),
                                                 ("cpu", 3, 1)], repr(srat) + log)
    rc, log = run(tessera, "-M", "q35,dumpacpi=" + wd, "-m", "1G", "-numa", "node,mem=512")
    check("node memory not adding up to -m: QEMU's line, non-zero exit",
          rc != 0 and "total memory for NUMA nodes (0x20000000) should equal RAM size "
          "(0x40000000)" in log, log)


NV_MEM = ["-m", "2G,slots=4,maxmem=10G", "-object", "memory-backend-ram,id=mem1,size=64M",
          "-device", "nvdimm,memdev=mem1,id=nvdimm1"]
PMEM_GUID = bytes.fromhex("79d3f066f3b47440ac430d3318b78cdb")


def nfit_structs(data):
    """[(type, bytes)] of an NFIT's structures (after the 40-byte head)."""
    out, off = [], 40
    while off + 4 <= len(data):
        typ, ln = struct.unpack_from("<HH", data, off)
        if ln < 4:
            break
        out.append((typ, data[off:off + ln]))
        off += ln
    return out


def check_nvdimm_nfit(d, log):
    path = os.path.join(d, "NFIT.dat")
    data = open(path, "rb").read() if os.path.exists(path) else b""
    check("-M q35,nvdimm=on + -device nvdimm: dumpacpi writes an NFIT (revision 1, checksum 0)",
          data[:4] == b"NFIT" and len(data) == struct.unpack_from("<I", data, 4)[0]
          and data[8] == 1 and sum(data) % 256 == 0, log + repr(data[:40]))
    st = nfit_structs(data)
    check("NFIT: an SPA range, a memory device map and a control region, in that order",
          [t for t, _ in st] == [0, 1, 4] and [len(b) for _, b in st] == [56, 48, 80], repr(st))
    if [t for t, _ in st] != [0, 1, 4]:
        return
    spa, mdev, dcr = (b for _, b in st)
    check("SPA range 1: persistent memory GUID, 64 MiB at 4 GiB (first GiB above RAM), WB|NV",
          struct.unpack_from("<H", spa, 4)[0] == 1 and spa[16:32] == PMEM_GUID
          and struct.unpack_from("<QQQ", spa, 32) == (4 << 30, 64 << 20, 0x8008), spa.hex())
    check("memory device map: handle 1 -> SPA 1 and control region 1, whole module, 1 way",
          struct.unpack_from("<IHHHH", mdev, 4) == (1, 1, 0, 1, 1)
          and struct.unpack_from("<QQQHH", mdev, 16) == (64 << 20, 0, 0, 0, 1), mdev.hex())
    check("control region 1: vendor 8086 device 0001, format interface code 0x0301",
          struct.unpack_from("<HHH", dcr, 4) == (1, 0x8086, 0x0001)
          and struct.unpack_from("<H", dcr, 28)[0] == 0x0301, dcr.hex())


def check_nvdimm(tessera, wd):
    """-M q35,nvdimm=on with -m slots=,maxmem= and a 64 MiB -device nvdimm."""
    rc, log, d = dump(tessera, wd, "q35", *NV_MEM)
    rc, log = run(tessera, "-M", "q35,nvdimm=on,dumpacpi=" + d, *NV_MEM, "-trace", "mhp_pc_dimm_*")
    check("nvdimm=on with an nvdimm: dumpacpi exits 0", rc == 0, log)
    check("-trace mhp_pc_dimm_*: QEMU's lines for the module's slot and address",
          "mhp_pc_dimm_assigned_slot 0\n" in log
          and "mhp_pc_dimm_assigned_address 0x100000000\n" in log, log)
    check_nvdimm_nfit(d, log)
    dsdt = iasl(d, "DSDT") if shutil.which("iasl") else ""
    check("DSDT: \\_SB.NVDR (ACPI0012) with NV00 (_ADR 1) and _DSM methods",
          "Device (NVDR)" in dsdt and '"ACPI0012"' in dsdt and "Device (NV00)" in dsdt
          and "Method (_DSM" in dsdt, dsdt[-3000:])
    check("maxmem=10G,slots=4 moves the 64-bit PCI window above device memory (16 GiB)",
          "0x0000000400000000, // Range Minimum" in dsdt, dsdt[-3000:])
    check("iasl decodes the NFIT", shutil.which("iasl") is None or iasl(d, "NFIT") != "")
    rc, log, d = dump(tessera, wd, "q35", "-m", "1G")
    check("without nvdimm=on: no NFIT, no NVDR",
          rc == 0 and not os.path.exists(os.path.join(d, "NFIT.dat"))
          and "NVDR" not in iasl(d, "DSDT"), log)


def check_nvdimm_labels(tessera, wd):
    """label-size=128K: the module shrinks by its labels (66 MiB backend ->
    64 MiB in the NFIT) and its NV00 gets the label _DSM over the page and
    port of QEMU's protocol; iasl decodes it all."""
    d = tempfile.mkdtemp(dir=wd)
    rc, log = run(tessera, "-M", "q35,nvdimm=on,dumpacpi=" + d, "-m", "2G,slots=4,maxmem=10G",
                  "-object", "memory-backend-ram,id=mem1,size=66M",
                  "-device", "nvdimm,memdev=mem1,id=nvdimm1,label-size=128K")
    st = nfit_structs(open(os.path.join(d, "NFIT.dat"), "rb").read()) if rc == 0 else []
    check("label-size=128K on a 66 MiB backend: the NFIT's SPA range is 64 MiB",
          rc == 0 and st and struct.unpack_from("<Q", st[0][1], 40)[0] == 64 << 20, log)
    dsdt = iasl(d, "DSDT") if shutil.which("iasl") and rc == 0 else ""
    check("DSDT: NVDR has the _DSM port 0x0A18 and page 0xFEF00000 (4084-byte request "
          "and 4092-byte answer fields), NCAL, NV00 calls it",
          shutil.which("iasl") is None or (
              "OperationRegion (NPIO, SystemIO, 0x0A18, 0x04)" in dsdt and
              "OperationRegion (NRAM, SystemMemory, 0xFEF00000, 0x1000)" in dsdt and
              "Method (NCAL, 5, Serialized)" in dsdt and
              re.search(r"FARG,\s+32672", dsdt) and re.search(r"ODAT,\s+32736", dsdt) and
              re.search(r"Device \(NV00\).*?NCAL \(Arg0, Arg1, Arg2, Arg3, One\)", dsdt, re.S)),
          dsdt[-4000:])
    for size, mem, want in (("64K", "66M", "label size 0x10000 must be at least 0x20000"),
                            ("128K", "2M", "must be RAM and bigger than label-size plus 2 MiB")):
        rc, log = run(tessera, "-M", "q35,nvdimm=on,dumpacpi=" + wd, "-m", "2G,slots=4,maxmem=10G",
                      "-object", "memory-backend-ram,id=mem1,size=" + mem,
                      "-device", "nvdimm,memdev=mem1,label-size=" + size)
        lines = [ln for ln in log.splitlines() if ln.strip() and "tables dumped" not in ln]
        check("label-size=%s on a %s backend: one line '...%s...', non-zero exit"
              % (size, mem, want), rc != 0 and len(lines) == 1 and want in lines[0], log)


def check_nvdimm_errors(tessera, wd):
    """One clear line and a non-zero exit for each bad -m / nvdimm line."""
    nv = ["-object", "memory-backend-ram,id=mem1,size=64M", "-device", "nvdimm,memdev=mem1"]
    cases = [
        (["-m", "2G,slots=4"], "-m: slots= needs maxmem="),
        (["-m", "2G,maxmem=10G"], "-m: maxmem above the RAM size needs slots="),
        (["-m", "2G,slots=2,maxmem=1G"], "-m: maxmem (1024 MiB) is below the RAM size"),
        (["-m", "2G,slots=300,maxmem=4G"], "-m: slots wants a number 0..256, got '300'"),
        (["-m", "2G,foo=1"], "-m: unknown option 'foo=1'"),
        (["-M", "q35", "-m", "2G,slots=4,maxmem=10G"] + nv,
         "-device nvdimm needs -machine q35,nvdimm=on"),
        (["-M", "q35,nvdimm"] + nv, "memory devices (e.g. for memory hotplug) are not enabled, please specify the maxmem"),
        (["-M", "q35,nvdimm", "-m", "2G,slots=1,maxmem=3G"] + nv
         + ["-object", "memory-backend-ram,id=mem2,size=64M", "-device", "nvdimm,memdev=mem2"],
         "nvdimm 'nvdimm.1': no free slots left (-m slots=1)"),
        (["-M", "q35,nvdimm", "-m", "2G,slots=4,maxmem=2112M",
          "-object", "memory-backend-ram,id=mem1,size=128M", "-device", "nvdimm,memdev=mem1"],
         "not enough space, currently 0x0 in use of total space for memory devices 0x4000000"),
        (["-M", "q35,nvdimm", "-m", "2G,slots=4,maxmem=3G", "-device", "nvdimm"],
         "property 'memdev' is required"),
        (["-M", "q35,nvdimm", "-m", "2G,slots=4,maxmem=3G", "-device", "nvdimm,memdev=nope"],
         "memdev=nope"),
    ]
    for args, want in cases:
        # dumpacpi: no kernel needed; the errors come before anything is written
        argv = [a + ",dumpacpi=" + wd if i and args[i - 1] == "-M" else a
                for i, a in enumerate(args)]
        rc, log = run(tessera, *argv)
        lines = [ln for ln in log.splitlines() if ln.strip() and "tables dumped" not in ln]
        check("%s: one line '...%s...', non-zero exit" % (" ".join(args), want),
              rc != 0 and len(lines) == 1 and want in lines[0], log)


def main():
    return machine_main(__doc__, "tessera-q35-", [
        check_tables, check_device_table, check_errors, check_numa, check_nvdimm,
        check_nvdimm_labels, check_nvdimm_errors])


if __name__ == "__main__":
    sys.exit(main())
