#!/usr/bin/env python3
"""Trace events and monitor inspection of the real tessera binary, no guest
kernel: -trace's forms and errors, QMP trace-event-get/set-state, HMP
trace-event and info trace-events; query-pci, qom-list/qom-get, info qtree,
info mtree -f, info irq and xp on `-M none` with an edu; info registers,
x, info tlb/mem, info lapic, info pic, help info and query-cpus-fast on q35
paused (-S) at the entry of the fake bzImage (tests/lib/fake-bzimage.py:
`hlt` at 16 MiB, long mode); info lapic's one line and an empty info pic on
virt.

usage: test-trace-inspect.py PATH-TO-TESSERA     (TAP on stdout)
"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tesstest import Qmp, check, tap_report  # noqa: E402

TESSERA = sys.argv[1] if len(sys.argv) > 1 else "tessera"


def run(*args, stdin=""):
    p = subprocess.run([TESSERA] + list(args), input=stdin.encode(), capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def start(tmp, name, *args):
    path = os.path.join(tmp, name + ".sock")
    proc = subprocess.Popen([TESSERA, "-qmp", "unix:%s,server=on,wait=off" % path,
                             "-display", "none"] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    q = Qmp(path)
    q.negotiate()
    return proc, q


def stop(proc, q):
    try:
        q.cmd("quit")
    except (OSError, EOFError):
        pass
    try:
        return proc.communicate(timeout=20)[1].decode(errors="replace")
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[1].decode(errors="replace")


def hmp(q, line):
    return q.cmd("human-monitor-command", {"command-line": line}).get("return", "")


def cli_checks(tmp):
    rc, out, err = run("-trace", "help")
    names = out.split()
    check("trace/cli/help-lists-plugin-events",
          rc == 0 and "pci_nvme_mmio_read" in names and "ich9_gpe_readb" in names, out[:400])
    # One event of each shipped device family (register accesses at least).
    want = ["virtio_pci_common_write", "virtio_mmio_read", "virtio_queue_notify",
            "e1000x_mmio_write", "ahci_mem_read", "ahci_irq", "bmdma_write", "pl011_read",
            "pl011_irq_state", "gic_dist_write", "gicv3_its_read", "pl031_read",
            "mc146818_rtc_ioport_write", "pic_set_irq", "ioapic_mem_write",
            "scsi_req_parsed", "megasas_mmio_write", "lsi_reg_read", "vtd_reg_write",
            "smmuv3_write_mmio", "edu_mmio_read", "pci_nvme_irq_msix"]
    check("trace/cli/every-device-family-has-trace-points",
          all(w in names for w in want), [w for w in want if w not in names])
    rc, out, err = run("-M", "none", "-display", "none", "-trace", "no_such_event",
                       "-trace", "tco*", "-monitor", "stdio", stdin="quit\n")
    check("trace/cli/unknown-exact-name-warns-pattern-matching-nothing-is-fine",
          rc == 0 and "trace event 'no_such_event' does not exist" in err and "tco" not in err,
          err)
    for bad, want in (("bogus=1", "unknown option 'bogus=1'"), ("", "event pattern"),
                      ("events=/nonexistent/x", "/nonexistent/x")):
        rc, out, err = run("-M", "none", "-trace", bad)
        check("trace/cli/bad-%s-is-one-line-and-exit-1" % (bad.split("=")[0] or "empty"),
              rc != 0 and want in err and len(err.strip().splitlines()) == 1, err)
    rc, out, err = run("-M", "none", "-msg", "colour=on")
    check("trace/cli/bad-msg-option-refused", rc != 0 and "-msg" in err, err)


def trace_qmp_checks(tmp):
    evfile = os.path.join(tmp, "events")
    with open(evfile, "w") as f:
        f.write("# nvme, but not the MMIO reads\npci_nvme*\n\n-pci_nvme_mmio_read\n")
    proc, q = start(tmp, "trace", "-M", "none", "-trace", "events=" + evfile,
                    "-trace", "enable=ich9_gpe_*", "-d", "trace:pic_set_irq")
    r = q.cmd("trace-event-get-state", {"name": "pci_nvme_mmio_*"})
    states = {e["name"]: e["state"] for e in r.get("return", [])}
    check("trace/events-file/patterns-in-order-minus-disables",
          states.get("pci_nvme_mmio_write") == "enabled" and
          states.get("pci_nvme_mmio_read") == "disabled", r)
    r = q.cmd("trace-event-get-state", {"name": "ich9_gpe_readb"})
    check("trace/qmp/get-state-shape", r.get("return") ==
          [{"name": "ich9_gpe_readb", "state": "enabled", "vcpu": False}], r)
    r = q.cmd("trace-event-get-state", {"name": "pic_set_irq"})
    check("trace/cli/d-trace-pattern-enables", r.get("return", [{}])[0].get("state") == "enabled", r)
    r = q.cmd("trace-event-set-state", {"name": "ich9_*", "enable": False})
    r2 = q.cmd("trace-event-get-state", {"name": "ich9_*"})
    check("trace/qmp/set-state-pattern-disables-all",
          r == {"return": {}} and r2.get("return") and
          all(e["state"] == "disabled" for e in r2["return"]), (r, r2))
    r = q.cmd("trace-event-get-state", {"name": "no_such_event"})
    check("trace/qmp/unknown-exact-name-is-an-error",
          "unknown event" in r.get("error", {}).get("desc", ""), r)
    r = q.cmd("trace-event-get-state", {"name": "no_such*"})
    check("trace/qmp/pattern-matching-nothing-is-empty", r == {"return": []}, r)
    r = q.cmd("trace-event-set-state", {"name": "ich9_gpe_readb"})
    check("trace/qmp/set-state-needs-enable", "error" in r, r)
    out = hmp(q, "trace-event ioapic_set_irq on")
    out2 = hmp(q, "info trace-events ioapic_*")
    check("trace/hmp/trace-event-and-info-trace-events",
          out == "" and "ioapic_set_irq : state 1\n" in out2 and
          "ioapic_mem_read : state 0\n" in out2, (out, out2))
    out = hmp(q, "trace-event no_such_event on")
    check("trace/hmp/unknown-event-error", "unknown event" in out, out)
    stop(proc, q)


def none_checks(tmp):
    proc, q = start(tmp, "none", "-M", "none", "-device", "edu,id=e0")
    r = q.cmd("query-pci")
    devs = r.get("return", [{}])[0].get("devices", [])
    edu = [d for d in devs if d.get("qdev_id") == "e0"]
    check("inspect/query-pci/edu-with-ids-class-and-bar",
          edu and edu[0]["id"]["vendor"] == 0x1234 and edu[0]["id"]["device"] == 0x11e8 and
          edu[0]["class_info"]["class"] == 0x00ff and edu[0]["regions"] and
          edu[0]["regions"][0]["bar"] == 0 and edu[0]["regions"][0]["size"] == 1 << 20 and
          "slot" in edu[0] and "function" in edu[0], r)
    r = q.cmd("qom-list", {"path": "/machine/peripheral"})
    check("inspect/qom-list/peripheral-lists-ids",
          {"name": "e0", "type": "child<edu>"} in r.get("return", []), r)
    r = q.cmd("qom-list", {"path": "/machine/peripheral/e0"})
    names = {e["name"]: e["type"] for e in r.get("return", [])}
    check("inspect/qom-list/device-properties",
          names.get("dma_mask") == "uint64" and names.get("type") == "string", r)
    r = q.cmd("qom-get", {"path": "/machine/peripheral/e0", "property": "dma_mask"})
    r2 = q.cmd("qom-get", {"path": "/machine/peripheral/e0", "property": "plugin"})
    check("inspect/qom-get/typed-value-and-plugin",
          r.get("return") == 0xfffffff and r2.get("return") == "edu", (r, r2))
    r = q.cmd("qom-get", {"path": "/machine/peripheral/e0", "property": "nope"})
    r2 = q.cmd("qom-list", {"path": "/machine/peripheral/nope"})
    check("inspect/qom/errors",
          "not found" in r.get("error", {}).get("desc", "") and
          "not found" in r2.get("error", {}).get("desc", ""), (r, r2))
    out = hmp(q, "info qtree")
    check("inspect/qtree/names-each-devices-plugin",
          re.search(r'dev: edu, id "e0"\n\s+plugin = "edu"\n', out) is not None, out)
    out = hmp(q, "info mtree -f")
    check("inspect/mtree-f/flat-view-of-ecam",
          "FlatView #0" in out and "(prio 0, i/o): pcie-ecam" in out, out)
    # ECAM bus 0: the edu's vendor/device id through xp.
    bdf = edu[0]["slot"] << 15 if edu else 0
    out = hmp(q, "xp /1xw 0x%x" % (0x30000000 + bdf))
    out2 = hmp(q, "xp /2xh 0x%x" % (0x30000000 + bdf))
    check("inspect/xp/reads-config-space-through-ecam",
          out == "%016x: 0x11e81234\n" % (0x30000000 + bdf) and
          out2.endswith(": 0x1234 0x11e8\n"), (out, out2))
    out = hmp(q, "xp /1xq 0")
    check("inspect/xp/bad-format-refused", "invalid char in format" in out, out)
    # A non-ASCII format letter is named escaped: the first byte of a UTF-8
    # character alone made the reply invalid UTF-8 (fuzz-qmp-json).
    out = hmp(q, "xp /\u040e 0")
    check("inspect/xp/non-ascii-format-char-escaped",
          out == "invalid char in format: '\\xd0'\n", out)
    out = hmp(q, "info tlb")
    r = q.cmd("query-cpus-fast")
    check("inspect/no-cpu/tlb-and-cpus-fast", out == "no CPU\n" and r == {"return": []},
          (out, r))
    stop(proc, q)


def fake_bzimage(tmp):
    path = os.path.join(tmp, "bzImage")
    subprocess.run([sys.executable, os.path.join(HERE, "..", "lib", "fake-bzimage.py"), path],
                   check=True)
    return path


def q35_checks(tmp):
    proc, q = start(tmp, "q35", "-M", "q35", "-S", "-m", "64M", "-kernel", fake_bzimage(tmp),
                    "-serial", "null")
    regs = hmp(q, "info registers")
    m = re.search(r"RIP=([0-9a-f]{16})", regs)
    check("inspect/info-registers/qemu-layout",
          m and re.search(r"^RAX=[0-9a-f]{16} RBX=", regs, re.M) and "CR3=" in regs and
          re.search(r"^CS =0010 ", regs, re.M) is not None, regs)
    rip = int(m.group(1), 16) if m else 0
    out = hmp(q, "x /1xb 0x%x" % rip)
    check("inspect/x/reads-hlt-at-rip-through-page-tables",
          out == "%016x: 0xf4\n" % rip, out)
    tlb = hmp(q, "info tlb")
    mem = hmp(q, "info mem")
    check("inspect/info-tlb-and-mem/boot-page-tables",
          re.search(r"^0000000000000000: 0000000000000000 .*W$", tlb, re.M) and
          re.search(r"^0000000000000000-[0-9a-f]{16} [0-9a-f]{16} -rw$", mem, re.M),
          tlb[:600] + mem[:400])
    r = q.cmd("query-cpus-fast")
    c0 = (r.get("return") or [{}])[0]
    check("inspect/query-cpus-fast/shape",
          c0.get("cpu-index") == 0 and c0.get("target") == "x86_64" and
          c0.get("props", {}).get("socket-id") == 0 and "qom-path" in c0 and
          "thread-id" in c0, r)
    out = hmp(q, "info irq")
    check("inspect/info-irq/per-controller", "IRQ statistics for" in out, out)
    out = hmp(q, "info lapic")
    out1 = hmp(q, "info lapic 0")
    check("inspect/info-lapic/current-cpu-in-qemu-layout",
          out.startswith("dumping local APIC state for CPU 0 \n\nLVT0\t 0x") and
          re.search(r"^LVTT\t 0x[0-9a-f]{8} active-hi edge ", out, re.M) and
          re.search(r"^SPIV\t 0x[0-9a-f]{8} APIC (en|dis)abled, focus=o", out, re.M) and
          re.search(r"^ISR\t .*\nIRR\t .*\n\nAPR 0x00 TPR 0x[0-9a-f]{2} DFR 0x0f LDR", out,
                    re.M) and out1 == out, out)
    out = hmp(q, "info lapic 5")
    check("inspect/info-lapic/unknown-apic-id", out == "No CPU available\n", out)
    out = hmp(q, "info pic")
    check("inspect/info-pic/8259-pair-and-ioapic",
          re.search(r"^pic0: irr=00 imr=[0-9a-f]{2} isr=00 hprio=0 irq_base=[0-9a-f]{2} rr_sel=0 "
                    r"elcr=[0-9a-f]{2} fnm=0\npic1: irr=00 ", out, re.M) and
          out.count("\n  pin ") == 24 and out.endswith("  IRR      (none)\n  Remote IRR (none)\n")
          and "ioapic0: ver=0x20 id=0x00 sel=0x00\n" in out, out)
    items = hmp(q, "info")
    helpinfo = hmp(q, "help info")
    check("inspect/help-info/lists-lapic-and-pic",
          re.search(r"^info lapic +-- show the local APIC state", items, re.M) and
          re.search(r"^info pic +-- show PIC state", items, re.M) and
          helpinfo == items, (items, helpinfo))
    stop(proc, q)
    proc, q = start(tmp, "virt", "-M", "virt", "-S", "-m", "64M")
    out = hmp(q, "info lapic")
    check("inspect/info-lapic/not-on-arm",
          out == "Local APIC information not available for aarch64 CPUs\n", out)
    out = hmp(q, "info pic")
    check("inspect/info-pic/nothing-for-the-gic (as QEMU)", out == "", out)
    stop(proc, q)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cli_checks(tmp)
        trace_qmp_checks(tmp)
        none_checks(tmp)
        q35_checks(tmp)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
