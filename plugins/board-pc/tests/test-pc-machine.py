#!/usr/bin/env python3
"""The pc machine without a guest: the ACPI tables it builds for the
command line (-M pc,dumpacpi=DIR, disassembled with iasl: the PIIX4 PM
block in the FADT, the link devices and their PCI_Config fields in the
DSDT, the MADT's level overrides), how RAM size moves the PCI windows
(QEMU's split: 3 GiB below 4 GiB from -m 3.5G on), its versioned names,
and its set-up errors. TAP output.

    test-pc-machine.py TESSERA
"""
import os
import re
import shutil
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "lib"))
from machinetest import dump_acpi as dump, iasl, run, run_quit  # noqa: E402
from machinetest import dump_tables, main as machine_main  # noqa: E402
from tesstest import check  # noqa: E402


def check_dsdt(dsdt):
    check("the DSDT has \\_SB.PCI0 (PNP0A03) with _CRS and a _PRT of 128 entries",
          "Device (PCI0)" in dsdt and "PNP0A03" in dsdt and "Name (_PRT, Package (0x80)"
          in dsdt, dsdt)
    check("the PIIX3's PIRQ registers are PCI_Config fields PRQ0..PRQ3 at 0x60",
          "OperationRegion (P40C, PCI_Config, 0x60, 0x04)" in dsdt
          and all("PRQ%d,   8" % n in dsdt for n in range(4)), dsdt)
    links = re.findall(r"Device \(LNK([A-DS])\)", dsdt)
    check("PCI interrupt links LNKA..LNKD with _PRS, _STA, _DIS, _CRS, _SRS, and LNKS",
          links == list("ABCDS") and dsdt.count("Method (_SRS, 1") == 5
          and dsdt.count("Method (_DIS, 0") == 4, dsdt)
    check("_PRS offers IRQs 5, 10, 11 level, active high, shared",
          "Interrupt (ResourceConsumer, Level, ActiveHigh, Shared" in dsdt
          and "0x00000005,\n                    0x0000000A,\n                    0x0000000B," in dsdt,
          dsdt)
    # slot 0 INTA -> LNKD, slot 1 INTA -> LNKA, slot 3 INTA -> LNKC
    prt = re.findall(r"0x([0-9A-F]+),\s*\n\s*(Zero|One|0x0[23]),\s*\n\s*\\_SB\.LNK([A-DS])", dsdt)
    want = {("FFFF", "Zero"): "D", ("0001FFFF", "One"): "B", ("0003FFFF", "Zero"): "C",
            ("0003FFFF", "One"): "D", ("0001FFFF", "Zero"): "S"}
    got = {(a, p): l for a, p, l in prt}
    check("the _PRT swizzles slot S pin P to LNK[(S + P - 1) % 4] (01.0 INTA#: LNKS)",
          all(got.get(k) == v for k, v in want.items()), repr(sorted(got.items())[:8]))
    check("\\_S5 is SLP_TYP 0 (PIIX4 soft off)",
          re.search(r"Name \(\\_S5, Package \(0x04\)[^\n]*\s*\{\s*Zero,\s*Zero,", dsdt) is not None,
          dsdt)


def check_tables(tessera, wd):
    sigs = ("RSDP", "RSDT", "XSDT", "FACP", "FACS", "DSDT", "APIC")
    _, texts = dump_tables(tessera, wd, "pc", sigs, "-smp", "2", "-m", "4096M")
    if texts is None:
        return
    fadt = texts["FACP"]
    check("the FADT points at the PIIX4 PM block (0x600), GPE0 0xafe0 and SCI 9",
          re.search(r"PM1A Event Block Address : 00000600", fadt) is not None
          and re.search(r"GPE0 Block Address : 0000AFE0", fadt) is not None
          and re.search(r"SCI Interrupt : 0009", fadt) is not None, fadt)
    madt = texts["APIC"]
    check("the MADT makes IRQs 5, 9, 10, 11 level, active high",
          all(re.search(r"Source : %02X\s*\n[^\n]*Interrupt : %08X\s*\n[^\n]*"
                        r"Flags \(decoded below\) : 000D" % (i, i), madt)
              for i in (5, 9, 10, 11)), madt)
    dsdt = texts["DSDT"]
    check_dsdt(dsdt)
    check("-m 4096M: low RAM ends at 3 GiB, where the 32-bit window starts; the 64-bit "
          "window at 5 GiB",
          "0xC0000000,         // Range Minimum" in dsdt
          and "0x0000000140000000, // Range Minimum" in dsdt, dsdt)
    rc, log, d = dump(tessera, wd, "pc", "-m", "3583M")
    dsdt = iasl(d, "DSDT")
    check("-m 3583M (below 3.5 GiB): all RAM below 4 GiB, no split",
          "0xDFF00000,         // Range Minimum" in dsdt
          and "0x0000000100000000, // Range Minimum" in dsdt, log + dsdt)


def check_names_and_errors(tessera, wd):
    rc, log, d = dump(tessera, wd, "pc-i440fx-7.2")
    check("-M pc-i440fx-7.2 is the same machine",
          rc == 0 and os.path.exists(os.path.join(d, "DSDT.dat")), log)
    rc, log = run(tessera, "-M", "help")
    check("-M help lists pc", re.search(r"^\s*pc\s", log, re.M) is not None, log)
    rc, log = run_quit(tessera, "-M", "pc")
    check("no -kernel: the machine starts with nothing to boot, says so once, quits",
          rc == 0 and log.count("machine 'pc': nothing to boot: no -kernel given") == 1, log)
    bad = os.path.join(wd, "notakernel")
    with open(bad, "wb") as f:
        f.write(b"\0" * 8192)
    rc, log = run(tessera, "-M", "pc", "-kernel", bad)
    check("a file without a bzImage header is refused by name",
          rc != 0 and "notakernel" in log and "bzImage" in log, log)
    rc, log = run(tessera, "-M", "pc,accel=kvm", "-kernel", bad)
    check("accel=kvm is refused: tcg is the only accelerator",
          rc != 0 and "failed to initialize kvm" in log, log)
    rc, log = run(tessera, "-M", "pc", "-smp", "9", "-kernel", bad)
    check("-smp 9 is refused (max 8)", rc != 0 and "8" in log, log)
    rc, log = run(tessera, "-M", "pc", "-m", "8M", "-kernel", bad)
    check("-m 8M is refused (16 MiB at least)", rc != 0 and "16 MiB" in log, log)
    rc, log = run(tessera, "-M", "pc,dumpacpi=" + wd, "-device", "PIIX3")
    check("-device PIIX3 is refused (the board creates it)",
          rc != 0 and "'PIIX3' is part of the board" in log, log)
    rc, log = run(tessera, "-M", "pc,dumpacpi=" + wd, "-device", "e1000,bus=pci.0,addr=0x3",
                  "-device", "pci-bridge,id=bridge0,chassis_nr=1",
                  "-device", "e1000,bus=bridge0,addr=0x3")
    check("the tutorial's devices on pci.0 and behind bridge0 are accepted", rc == 0, log)


def srat_mem(path):
    """[(base, length, node)] of the SRAT's memory affinity entries and
    [(apic_id, node)] of its local APIC ones."""
    with open(path, "rb") as f:
        t = f.read()
    mem, cpus, off = [], [], 48
    while off + 2 <= len(t) and t[off + 1] >= 2:
        e = t[off:off + t[off + 1]]
        if e[0] == 1:
            node, base, length = struct.unpack_from("<I2xQQ", e, 2)
            mem.append((base, length, node))
        elif e[0] == 0:
            cpus.append((e[3], e[2]))
        off += t[off + 1]
    return mem, cpus


def check_numa(tessera, wd):
    """The tutorial's NUMA line on pc: 2304 MiB all below the PCI hole, so
    node 1 follows node 0 at 2 GiB; a 4 GiB machine splits node 1 at 3 GiB
    and 4 GiB."""
    MiB = 1 << 20
    rc, log, d = dump(tessera, wd, "pc", "-smp", "4,sockets=2,cores=2,threads=1",
                      "-m", "2304M", "-numa", "node,mem=2048,cpus=0-1",
                      "-numa", "node,mem=256,cpus=2-3")
    mem, cpus = srat_mem(os.path.join(d, "SRAT.dat")) if rc == 0 else ([], [])
    check("pc -numa: SRAT node 0 is [0, 640K) + [1M, 2G), node 1 [2G, 2304M)",
          mem == [(0, 640 * 1024, 0), (MiB, 2047 * MiB, 0), (2048 * MiB, 256 * MiB, 1)],
          repr(mem) + log)
    check("pc -numa: SRAT puts APICs 0, 1 on node 0 and 2, 3 on node 1",
          cpus == [(0, 0), (1, 0), (2, 1), (3, 1)], repr(cpus))
    rc, log, d = dump(tessera, wd, "pc", "-m", "4G", "-numa", "node,mem=2G",
                      "-numa", "node,mem=2G")
    mem, cpus = srat_mem(os.path.join(d, "SRAT.dat")) if rc == 0 else ([], [])
    check("pc -m 4G, two 2G nodes: node 1 is [2G, 3G) and [4G, 5G)",
          mem[2:] == [(2048 * MiB, 1024 * MiB, 1), (1 << 32, 1024 * MiB, 1)], repr(mem) + log)


def check_nvdimm(tessera, wd):
    """The tutorial's -M pc,nvdimm line (a 64 MiB module): the NFIT's SPA
    range at 4 GiB (2G of RAM all below the hole), NVDR in the DSDT, the
    64-bit PCI window above device memory."""
    rc, log, d = dump(tessera, wd, "pc,nvdimm", "-m", "2G,maxmem=10G,slots=4",
                      "-object", "memory-backend-ram,id=mem1,size=64M",
                      "-device", "nvdimm,memdev=mem1,id=nvdimm1")
    path = os.path.join(d, "NFIT.dat")
    nfit = open(path, "rb").read() if rc == 0 and os.path.exists(path) else b""
    check("pc,nvdimm: an NFIT whose SPA range is 64 MiB at 4 GiB, checksum 0",
          nfit[:4] == b"NFIT" and sum(nfit) % 256 == 0 and len(nfit) == 40 + 56 + 48 + 80
          and struct.unpack_from("<HH", nfit, 40) == (0, 56)
          and struct.unpack_from("<QQ", nfit, 40 + 32) == (4 << 30, 64 << 20), log)
    dsdt = iasl(d, "DSDT") if rc == 0 and shutil.which("iasl") else ""
    check("pc,nvdimm: \\_SB.NVDR (ACPI0012) with NV00; 64-bit window at 16 GiB",
          "Device (NVDR)" in dsdt and '"ACPI0012"' in dsdt and "Device (NV00)" in dsdt
          and "0x0000000400000000, // Range Minimum" in dsdt, dsdt[-3000:])
    rc, log, d = dump(tessera, wd, "pc", "-m", "2G,maxmem=10G,slots=4",
                      "-object", "memory-backend-ram,id=mem1,size=64M",
                      "-device", "nvdimm,memdev=mem1")
    check("pc without nvdimm=on refuses -device nvdimm",
          rc != 0 and "-device nvdimm needs -machine pc,nvdimm=on" in log, log)


def main():
    return machine_main(__doc__, "tessera-pc-", [
        check_tables, check_names_and_errors, check_numa, check_nvdimm])


if __name__ == "__main__":
    sys.exit(main())
