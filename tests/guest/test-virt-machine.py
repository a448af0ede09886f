#!/usr/bin/env python3
"""The virt machine without a guest: the device tree it hands the kernel
(dumped with -M virt,dumpdtb=FILE and decoded with dtc), where it puts the
kernel, initrd and DTB, and its set-up errors. TAP output.

    test-virt-machine.py TESSERA
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from machinetest import run, run_quit  # noqa: E402
from tesstest import check, tap_report  # noqa: E402

MiB = 1 << 20


def fake_image(path, image_size, flags=0xa, magic=b"ARM\x64"):
    """An arm64 Image header (booting.rst): code0/1, text_offset 0,
    image_size, flags, reserved, magic at 0x38, then padding."""
    hdr = struct.pack("<IIQQQQQQ4sI", 0x14000010, 0, 0, image_size, flags, 0, 0, 0, magic, 0)
    with open(path, "wb") as f:
        f.write(hdr + b"\0" * 4096)


def dts_of(path):
    p = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", path], capture_output=True,
                       text=True)
    return p.stdout if p.returncode == 0 else ""


def node(dts, name):
    """Body of the first node called name (no nested braces inside)."""
    m = re.search(r"\b" + re.escape(name) + r" \{(.*?)\n\t*\};", dts, re.S)
    return m.group(1) if m else ""


def check_dtb(tessera, wd):
    kernel, initrd, out = (os.path.join(wd, n) for n in ("Image", "initrd", "virt.dtb"))
    fake_image(kernel, 3 * MiB)
    with open(initrd, "wb") as f:
        f.write(b"\x07" * 100000)
    rc, log = run(tessera, "-M", "virt,dumpdtb=" + out, "-smp", "4", "-m", "256M",
                  "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyAMA0 foo=bar")
    check("dumpdtb writes the tree and exits 0", rc == 0 and os.path.exists(out), log)
    dts = dts_of(out) if os.path.exists(out) else ""
    check("the dumped tree decodes with dtc", dts != "", log)
    check("root is linux,dummy-virt with 2 address and size cells",
          'compatible = "linux,dummy-virt"' in dts and "#address-cells = <0x02>" in dts, dts)
    cpus = re.findall(r"cpu@(\d+) \{", dts)
    check("-smp 4 gives cpu@0..3, cortex-a57, enabled through PSCI",
          cpus == ["0", "1", "2", "3"] and dts.count('compatible = "arm,cortex-a57"') == 4
          and dts.count('enable-method = "psci"') == 4, dts)
    check("/memory@40000000 covers -m 256M",
          "reg = <0x00 0x40000000 0x00 0x10000000>" in node(dts, "memory@40000000"), dts)
    check("PSCI through HVC, 0.2 function ids",
          'method = "hvc"' in node(dts, "psci") and "cpu_on = <0xc4000003>" in dts, dts)
    check("timer PPIs 13 14 11 10, level-high, wired to 4 CPUs (0xf04)",
          "interrupts = <0x01 0x0d 0xf04 0x01 0x0e 0xf04 0x01 0x0b 0xf04 0x01 0x0a 0xf04>"
          in node(dts, "timer"), dts)
    gic = node(dts, "intc@8000000")
    check("GICv2 distributor and CPU interface, 3 interrupt cells, v2m frame",
          'compatible = "arm,cortex-a15-gic"' in gic
          and "reg = <0x00 0x8000000 0x00 0x10000 0x00 0x8010000 0x00 0x10000>" in gic
          and "#interrupt-cells = <0x03>" in gic and "arm,gic-v2m-frame" in gic, dts)
    uart = node(dts, "pl011@9000000")
    check("PL011 on SPI 1 with uartclk and apb_pclk",
          "interrupts = <0x00 0x01 0x04>" in uart and 'uartclk\\0apb_pclk' in uart, dts)
    check("PL031 on SPI 2", "interrupts = <0x00 0x02 0x04>" in node(dts, "pl031@9010000"), dts)
    chosen = node(dts, "chosen")
    check("/chosen: bootargs from -append, stdout-path on the PL011",
          'bootargs = "console=ttyAMA0 foo=bar"' in chosen
          and 'stdout-path = "/pl011@9000000"' in chosen, dts)
    # Kernel at 0x40200000 (RAM + 2 MiB, text_offset 0) for image_size
    # 3 MiB ends at 0x40500000; the initrd follows at the next 2 MiB.
    check("initrd placed after the kernel's image_size, 2 MiB aligned",
          "linux,initrd-start = <0x00 0x40600000>" in chosen
          and "linux,initrd-end = <0x00 0x406186a0>" in chosen, chosen)
    check("no kaslr-seed (it would force KPTI on the A57)",
          dts != "" and "kaslr-seed" not in dts, dts)
    check_dtb_pcie(dts)
    check_dtb_virtio_mmio(dts)
    return out


def imap_entry(slot, pin):
    """One interrupt-map entry as dtc prints it: slot's devfn, pin, the GIC
    phandle (2), unit address 0 0, SPI 3 + (slot + pin - 1) % 4, level."""
    spi = 3 + (slot + pin - 1) % 4
    return "0x%s 0x00 0x00 0x%02x 0x02 0x00 0x00 0x00 0x%02x 0x04" % (
        "%x" % (slot << 11) if slot else "00", pin, spi)


def check_dtb_pcie(dts):
    """As QEMU's create_pcie() with highmem=off (ECAM for 16 buses below
    4 GiB, no 64-bit window)."""
    pcie = node(dts, "pcie@10000000")
    check("/pcie@10000000 is a pci-host-ecam-generic bridge, 3 address cells, domain 0",
          'compatible = "pci-host-ecam-generic"' in pcie and 'device_type = "pci"' in pcie
          and "#address-cells = <0x03>" in pcie and "#size-cells = <0x02>" in pcie
          and "#interrupt-cells = <0x01>" in pcie and "linux,pci-domain = <0x00>" in pcie
          and "dma-coherent;" in pcie, dts)
    check("pcie: ECAM at 0x3f000000 (16 MiB), bus-range 0..15",
          "reg = <0x00 0x3f000000 0x00 0x1000000>" in pcie
          and "bus-range = <0x00 0x0f>" in pcie, pcie)
    check("pcie: ranges: I/O 0x3eff0000 -> port 0 (64 KiB), MEM32 0x10000000 1:1",
          "ranges = <0x1000000 0x00 0x00 0x00 0x3eff0000 0x00 0x10000 0x2000000 0x00 "
          "0x10000000 0x00 0x10000000 0x00 0x2eff0000>" in pcie, pcie)
    check("pcie: MSIs go to the v2m frame (msi-map over all requester ids)",
          "msi-map = <0x00 0x03 0x00 0x10000>" in pcie
          and "phandle = <0x03>" in node(dts, "v2m@8020000"), dts)
    entries = " ".join(imap_entry(s, p) for s in range(4) for p in range(1, 5))
    check("pcie: interrupt-map swizzles 4 slots x INTA..D onto SPIs 3..6, level-high",
          "interrupt-map-mask = <0x1800 0x00 0x00 0x07>" in pcie
          and ("interrupt-map = <%s>" % entries) in pcie, "wanted %s\n%s" % (entries, pcie))


def check_dtb_virtio_mmio(dts):
    nodes = re.findall(r"virtio_mmio@([0-9a-f]+) \{", dts)
    want = ["%x" % (0x0a000000 + 0x200 * i) for i in range(32)]
    check("32 /virtio_mmio nodes at 0x0a000000 + 0x200 * i, lowest address first",
          nodes == want, nodes)
    last = node(dts, "virtio_mmio@a003e00")
    check("virtio_mmio: compatible virtio,mmio, 0x200 of registers, SPI 16 + i, edge",
          'compatible = "virtio,mmio"' in last and "reg = <0x00 0xa003e00 0x00 0x200>" in last
          and "interrupts = <0x00 0x2f 0x01>" in last and "dma-coherent;" in last, last)


def check_dtb_gicv3(tessera, wd):
    """gic-version=3 (and max): QEMU's GICv3 nodes, the ITS as the PCIe
    MSI controller, timer PPIs without a CPU mask; its=off: no ITS."""
    kernel, out = os.path.join(wd, "Image"), os.path.join(wd, "v3.dtb")
    rc, log = run(tessera, "-M", "virt,gic-version=max,dumpdtb=" + out, "-smp", "16",
                  "-kernel", kernel)
    dts = dts_of(out) if rc == 0 else ""
    gic, its = node(dts, "intc@8000000"), node(dts, "its@8080000")
    check("gicv3: max picks arm,gic-v3: distributor and 16 redistributors of 128 KiB",
          'compatible = "arm,gic-v3"' in gic and "#redistributor-regions = <0x01>" in gic
          and "reg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x200000>" in gic
          and "#interrupt-cells = <0x03>" in gic, log + dts)
    check("gicv3: the ITS child is an msi-controller with one cell, PCIe msi-map on it",
          'compatible = "arm,gic-v3-its"' in its and "msi-controller;" in its
          and "#msi-cells = <0x01>" in its and "reg = <0x00 0x8080000 0x00 0x20000>" in its
          and "msi-map = <0x00 0x04 0x00 0x10000>" in node(dts, "pcie@10000000")
          and "phandle = <0x04>" in its, dts)
    check("gicv3: timer PPIs level-high without a CPU mask",
          "interrupts = <0x01 0x0d 0x04 0x01 0x0e 0x04 0x01 0x0b 0x04 0x01 0x0a 0x04>"
          in node(dts, "timer") and len(re.findall(r"cpu@[0-9a-f]+ \{", dts)) == 16, dts)
    rc, log = run(tessera, "-M", "virt,gic-version=3,its=off,dumpdtb=" + out, "-kernel", kernel)
    dts = dts_of(out) if rc == 0 else ""
    check("gicv3: its=off leaves out the ITS and the msi-map (INTx only)",
          'compatible = "arm,gic-v3"' in dts and "gic-v3-its" not in dts
          and "msi-map" not in dts, log + dts)


def check_user_dtb(tessera, wd):
    src, blob, out = (os.path.join(wd, n) for n in ("user.dts", "user.dtb", "user-out.dtb"))
    kernel = os.path.join(wd, "Image")
    with open(src, "w") as f:
        f.write('/dts-v1/;\n/ { model = "user-tree"; #address-cells = <2>; '
                '#size-cells = <2>; };\n')
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", blob, src], check=True)
    rc, log = run(tessera, "-M", "virt,dumpdtb=" + out, "-kernel", kernel, "-dtb", blob,
                  "-append", "hello")
    dts = dts_of(out) if rc == 0 else ""
    check("-dtb: the user's tree is used, /chosen bootargs added",
          'model = "user-tree"' in dts and 'bootargs = "hello"' in node(dts, "chosen"),
          log + dts)
    junk = os.path.join(wd, "junk.dtb")
    with open(junk, "wb") as f:
        f.write(b"this is not a device tree" * 10)
    rc, log = run(tessera, "-M", "virt", "-kernel", kernel, "-dtb", junk)
    check("-dtb with a bad file fails naming it", rc != 0 and junk in log, log)


def check_errors(tessera, wd):
    kernel = os.path.join(wd, "Image")
    rc, log = run(tessera, "-M", "virt,gic-version=4", "-kernel", kernel)
    check("gic-version=4 is refused with a clear message",
          rc != 0 and "property 'gic-version' wants 2, 3 or max, got '4'" in log, log)
    rc, log = run(tessera, "-M", "virt,gic-version=2", "-smp", "9", "-kernel", kernel)
    check("gic-version=2 refuses a 9th vCPU (GICv2 serves 8), naming gic-version=3",
          rc != 0 and "gic-version=2 serves up to 8 vCPUs, -smp asks for 9" in log, log)
    rc, log = run_quit(tessera, "-M", "virt")
    check("no -kernel: the machine starts with nothing to boot, says so once, quits",
          rc == 0 and log.count("machine 'virt': nothing to boot: no -kernel given") == 1, log)
    rc, log = run(tessera, "-M", "virt", "-kernel", "/nonexistent/Image")
    check("a missing kernel file is named with its errno text",
          rc != 0 and "kernel '/nonexistent/Image': No such file or directory" in log, log)
    bad = os.path.join(wd, "notimage")
    fake_image(bad, 3 * MiB, magic=b"NOPE")
    rc, log = run(tessera, "-M", "virt", "-kernel", bad)
    check("a file without the ARM\\x64 magic is not an arm64 Image",
          rc != 0 and ("kernel '%s' is not an arm64 Image" % bad) in log, log)
    rc, log = run(tessera, "-M", "virt", "-m", "4M", "-kernel", kernel)
    check("a kernel whose image_size does not fit in RAM is refused",
          rc != 0 and "too small" in log, log)
    rc, log = run(tessera, "-M", "virt", "-smp", "65", "-kernel", kernel)
    check("-smp 65 is refused (max 64 CPUs)", rc != 0 and "at most 64" in log, log)


def check_missing_plugins(tessera, wd):
    """A tessera outside its build tree with only some plugins on
    TESSERA_PLUGIN_PATH: virt names the plugin it misses."""
    build = os.path.dirname(os.path.abspath(tessera))
    so = {n: os.path.join(build, "plugins", n, n + ".so")
          for n in ("cpu-arm", "arm-platform", "board-virt", "pcie", "virtio")}
    installed = "/usr/local/lib/x86_64-linux-gnu/tessera/plugins"
    if not all(os.path.exists(p) for p in so.values()) or os.path.isdir(installed):
        return  # not a build tree, or installed plugins would be found too
    exe = os.path.join(wd, "tessera")
    shutil.copy(tessera, exe)
    kernel = os.path.join(wd, "Image")
    for missing, other, what in (("pcie", "virtio", "gpex"), ("virtio", "pcie", "virtio-mmio")):
        env = dict(os.environ, TESSERA_PLUGIN_PATH=":".join(
            so[n] for n in ("cpu-arm", "arm-platform", "board-virt", other)))
        p = subprocess.run([exe, "-nographic", "-M", "virt", "-kernel", kernel],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           timeout=30, env=env)
        log = p.stdout + p.stderr
        check("virt without the %s plugin fails naming it and interface '%s'" % (missing, what),
              p.returncode != 0 and ("needs the %s plugin" % missing) in log
              and ("'%s'" % what) in log and "Segmentation" not in log, log)


def check_platform_devices(tessera, wd):
    """-device TYPE,addr=,irq= on virt: placed and described, or refused
    with one line naming the device and the problem."""
    kernel = os.path.join(wd, "Image")
    dtb = os.path.join(wd, "plat.dtb")
    rc, log = run(tessera, "-M", "virt,dumpdtb=" + dtb, "-kernel", kernel,
                  "-device", "pl031,addr=0x0c200000,irq=113")
    dts = dts_of(dtb) if rc == 0 else ""
    rtc = node(dts, "pl031@c200000") if dts else ""
    check("-device pl031,addr=,irq=: a DT node with its reg, SPI and compatible",
          "reg = <0x00 0xc200000 0x00 0x1000>" in rtc
          and "interrupts = <0x00 0x71 0x04>" in rtc
          and r'compatible = "arm,pl031\0arm,primecell"' in rtc
          and 'clock-names = "apb_pclk"' in rtc, log + dts)
    bad = {
        "pl011": "needs addr= and irq= on virt",
        "pl011,addr=0x9000000,irq=112": "is not a free, 4 KiB aligned range",
        "pl011,addr=0x0c000800,irq=112": "is not a free, 4 KiB aligned range",
        "pl011,addr=0x40000000,irq=112": "is not a free, 4 KiB aligned range",
        "pl011,addr=0x0c000000,irq=1": "SPI 1 is taken",
        "pl011,addr=0x0c000000,irq=60": "SPI 60 is taken",
        "pl011,addr=0x0c000000,irq=256": "SPI 256 is taken or out of range",
        "pl011,addr=0x0c000000,irq=x": "irq= wants a number, got 'x'",
    }
    for dev, want in bad.items():
        rc, log = run(tessera, "-M", "virt,dumpdtb=" + dtb, "-kernel", kernel, "-device", dev)
        check("-device %s is refused: %s" % (dev, want),
              rc != 0 and want in log and len(log.strip().splitlines()) == 1, log)
    rc, log = run(tessera, "-device", "pl011,help")
    check("-device pl011,help shows addr= and irq= of a platform device",
          rc == 0 and "addr=<uint64>" in log and "irq=<uint32>" in log
          and 'compatible "arm,pl011"' in log, log)
    rc, log = run(tessera, "-M", "virt,dumpdtb=" + dtb, "-kernel", kernel,
                  "-device", "pl011,addr=0x0c000000,irq=112",
                  "-device", "pl031,addr=0x0c000000,irq=113")
    check("two platform devices at one address are refused",
          rc != 0 and "pl031.1': addr=0xc000000" in log, log)


def check_numa_dtb(tessera, wd):
    """-smp topology and -numa in the tree: one memory node per NUMA node
    (numa-node-id), numa-node-id on cpus, distance-map with -numa dist,
    and /cpus/cpu-map socket/cluster/core[/thread] as QEMU writes it."""
    out = os.path.join(wd, "numa.dtb")
    rc, log = run(tessera, "-M", "virt,dumpdtb=" + out, "-smp", "4,sockets=2,cores=2",
                  "-m", "2304M", "-numa", "node,mem=2048,cpus=0-1", "-numa",
                  "node,mem=256,cpus=2-3", "-numa", "dist,src=0,dst=1,val=15")
    dts = dts_of(out) if rc == 0 else ""
    m0, m1 = node(dts, "memory@40000000"), node(dts, "memory@c0000000")
    check("-numa: memory@40000000 (2 GiB, node 0) and memory@c0000000 (256 MiB, node 1)",
          "numa-node-id = <0x00>" in m0 and "reg = <0x00 0x40000000 0x00 0x80000000>" in m0
          and "numa-node-id = <0x01>" in m1
          and "reg = <0x00 0xc0000000 0x00 0x10000000>" in m1, dts[:1500] + log)
    check("-numa: cpu@0, cpu@1 on node 0 and cpu@2, cpu@3 on node 1",
          all("numa-node-id = <0x0%d>" % (i // 2) in node(dts, "cpu@%d" % i) for i in range(4)),
          dts)
    dm = node(dts, "distance-map")
    check("-numa dist: distance-map numa-distance-map-v1 with 10/15",
          'compatible = "numa-distance-map-v1"' in dm and
          "distance-matrix = <0x00 0x00 0x0a 0x00 0x01 0x0f 0x01 0x00 0x0f 0x01 0x01 0x0a>"
          in dm, dm)
    cm = dts.split("cpu-map {", 1)[-1]
    want = [("socket0", "core0", 0x100), ("socket0", "core1", 0x101),
            ("socket1", "core0", 0x102), ("socket1", "core1", 0x103)]
    got = re.findall(r"(socket\d+) \{\s*cluster0 \{|(core\d+) \{\s*cpu = <(0x[0-9a-f]+)>", cm)
    cores = [(c, int(p, 16)) for s_, c, p in got if c]
    check("cpu-map: socket0/cluster0/core0..1 and socket1/cluster0/core0..1 point at cpu@0..3",
          "cpu-map {" in dts and cores == [(c, p) for s_, c, p in want]
          and "socket1 {" in cm and "phandle = <0x103>" in node(dts, "cpu@3"), cm[:1200])
    rc, log = run(tessera, "-M", "virt,dumpdtb=" + out, "-smp", "2", "-m", "256M")
    dts = dts_of(out) if rc == 0 else ""
    check("no -numa: one memory node without numa-node-id, no distance-map",
          "numa-node-id" not in dts and "distance-map" not in dts
          and "reg = <0x00 0x40000000 0x00 0x10000000>" in node(dts, "memory@40000000"), dts)
    rc, log = run(tessera, "-M", "virt,dumpdtb=" + out, "-smp", "4,dies=2")
    check("-smp dies= on virt: QEMU's line", rc != 0 and "dies not supported" in log, log)


def check_nvdimm_dtb(tessera, wd):
    """-M virt,nvdimm=on with -m slots=,maxmem= and two -device nvdimm: one
    pmem-region node each (Linux's of_pmem), persistent (no volatile), in
    device memory from the first GiB above RAM, each at a 128 MiB boundary."""
    out = os.path.join(wd, "nvdimm.dtb")
    nv = ["-object", "memory-backend-ram,id=mem1,size=64M", "-device", "nvdimm,memdev=mem1",
          "-object", "memory-backend-ram,id=mem2,size=32M", "-device", "nvdimm,memdev=mem2"]
    rc, log = run(tessera, "-M", "virt,nvdimm=on,dumpdtb=" + out, "-m", "512M,slots=2,maxmem=2G",
                  *nv)
    dts = dts_of(out) if rc == 0 else ""
    p0, p1 = node(dts, "pmem@80000000"), node(dts, "pmem@88000000")
    check("nvdimm: pmem@80000000 (64 MiB: first GiB above 512M of RAM at 1 GiB)",
          'compatible = "pmem-region"' in p0 and "reg = <0x00 0x80000000 0x00 0x4000000>" in p0
          and "volatile" not in p0, dts[:2000] + log)
    check("nvdimm: the second module at the next 128 MiB boundary, pmem@88000000 (32 MiB)",
          'compatible = "pmem-region"' in p1 and "reg = <0x00 0x88000000 0x00 0x2000000>" in p1,
          dts[:2000])
    rc, log = run(tessera, "-M", "virt,dumpdtb=" + out, "-m", "512M,slots=2,maxmem=2G", *nv[:4])
    check("virt without nvdimm=on refuses -device nvdimm in one line",
          rc != 0 and log.strip() == "tessera: machine 'virt': -device nvdimm needs "
          "-machine virt,nvdimm=on", log)
    rc, log = run(tessera, "-M", "virt,nvdimm=on,dumpdtb=" + out, "-m", "512M", *nv[:4])
    check("nvdimm without -m slots=,maxmem= is refused in one line",
          rc != 0 and len(log.strip().splitlines()) == 1 and "needs device memory" in log, log)


def main():
    tessera = sys.argv[1]
    wd = tempfile.mkdtemp(prefix="tessera-virt-")
    try:
        if shutil.which("dtc") is None:
            check("dtc (device-tree-compiler) is installed", False,
                  "run scripts/install-deps")
        else:
            check_dtb(tessera, wd)
            check_dtb_gicv3(tessera, wd)
            check_user_dtb(tessera, wd)
            check_errors(tessera, wd)
            check_platform_devices(tessera, wd)
            check_missing_plugins(tessera, wd)
            check_numa_dtb(tessera, wd)
            check_nvdimm_dtb(tessera, wd)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
