#!/usr/bin/env python3
"""guest suite, trace events and monitor inspection: one boot of Debian's
amd64 kernel on `tessera -M q35` with an NVMe, traced as a user would:

    -trace 'pci_nvme*' -trace 'tco*' -msg timestamp=on -D trace.log

  - the guest's nvme driver probes the controller and sees nvme0n1;
  - trace.log holds QEMU's log-backend lines (TID@SEC.USEC:NAME ARGS) for
    the probe: the CC write enabling the controller, Identify (admin
    opcode 0x6), reads on the I/O queues, MSI-X interrupts, doorbells;
  - while the guest waits, HMP `info registers` shows RIP in the kernel's
    text, `x /1xb` at that RIP reads through the guest's page tables,
    QMP query-cpus-fast names the vCPU, `info lapic` shows the LAPIC
    Linux enabled (SPIV) and its timer vector in LVTT, and `info pic` the
    8259 pair and the I/O APIC pins Linux routed;
  - the ICH9 TCO watchdog (issue 17) under Linux's own lpc_ich and
    iTCO_wdt (heartbeat=3, the shortest it takes: Debian 6.1's iTCO_wdt
    writes TCO_TMR 5 ticks, so two expiries of 3 s):
    iTCO_wdt finds the version 2 TCO block at 0x660 and /dev/watchdog0
    appears; its start and reload are traced (tco_timer_reload ticks=5);
    then /dev/watchdog is opened and never fed: the timer expires twice
    (tco_timer_expired traced), QMP WATCHDOG {"action": "reset"} goes out
    and the reset ends tessera (-no-reboot) with status 0 before the
    guest's 30 s sleep is over.

    test-trace.py TESSERA
"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import value  # noqa: E402
from tesstest import Qmp, check, tap_report  # noqa: E402

BOOT_TIMEOUT = 420  # the meson timeout is 600 s
MODULES = ["nvme", "lpc_ich"]
WDT_MODULES = ["iTCO_wdt"]  # loaded with heartbeat=3: 5 ticks of 0.6 s

SCRIPT = """\
sleep 1
echo "NVME=$(ls /sys/block | grep ^nvme | tr '\\n' ' ')"
echo "READ=$(dd if=/dev/nvme0n1 bs=4096 count=1 iflag=direct 2>/dev/null | wc -c)"
echo INSPECT-PLEASE
read x
dmesg | grep -i tco | sed 's/^/DMESG: /'
echo "WDT=$(ls /dev | grep '^watchdog' | tr '\\n' ' ')"
echo "WDT-TIMEOUT=$(cat /sys/class/watchdog/watchdog0/timeout 2>/dev/null)"
exec 3>/dev/watchdog
echo WDT-ARMED
sleep 30
echo WDT-SURVIVED
"""


def wdt_insmod(parts):
    """iTCO_wdt's dependencies, then iTCO_wdt itself with heartbeat=3."""
    files = guestlib.module_files(parts, WDT_MODULES)
    lines = guestlib.insmod_script(files[:-1])
    return files, lines + "insmod /modules/iTCO_wdt.ko heartbeat=3 || echo 'INSMOD-FAILED'\n"


def watch_watchdog(qmp_path, out):
    """Wait (in the console reader) for QMP WATCHDOG once the guest opened
    /dev/watchdog; the emulator runs on meanwhile."""
    def act(b):
        try:
            q = Qmp(qmp_path, timeout=60)
            q.negotiate()
            out["watchdog"] = q.wait_event("WATCHDOG", timeout=60)
        except Exception as e:
            out["wdt-error"] = repr(e)
    return act


def inspect(qmp_path, out):
    def act(b):
        try:
            q = Qmp(qmp_path)
            q.negotiate()
            time.sleep(0.3)  # the shell reaches its read: the guest idles in the kernel
            regs = q.cmd("human-monitor-command", {"command-line": "info registers"})
            out["regs"] = regs.get("return", "")
            m = re.search(r"RIP=([0-9a-f]{16})", out["regs"])
            if m:
                out["x"] = q.cmd("human-monitor-command",
                                 {"command-line": "x /1xb 0x" + m.group(1)}).get("return", "")
            out["cpus"] = q.cmd("query-cpus-fast")
            out["lapic"] = q.cmd("human-monitor-command",
                                 {"command-line": "info lapic"}).get("return", "")
            out["pic"] = q.cmd("human-monitor-command",
                               {"command-line": "info pic"}).get("return", "")
        except Exception as e:  # the checks report what is missing
            out["error"] = repr(e)
        b.send("go\n")
    return act


def check_trace(log):
    lines = log.splitlines()
    pre = r"^[0-9]+@[0-9]+\.[0-9]{6}:"
    check("trace lines in QEMU's log-backend format, pci_nvme and tco events only",
          lines and all(re.match(pre + r"(pci_nvme|tco)_[a-z_]+ ", l) for l in lines),
          "\n".join(lines[:5]))

    def has(rx):
        return any(re.match(pre + rx, l) for l in lines)
    check("the CC write enabling the controller is traced",
          has(r"pci_nvme_mmio_write addr 0x14 data 0x[0-9a-f]*[13579bdf] size 4$") and
          has(r"pci_nvme_mmio_start_success "), "")
    check("Identify (admin opcode 0x6) and its completion are traced",
          has(r"pci_nvme_admin_cmd cid [0-9]+ sqid 0 opc 0x6$") and
          has(r"pci_nvme_enqueue_req_completion cid [0-9]+ cqid 0 "), "")
    check("reads on an I/O queue are traced (opcode 0x2, nsid 0x1)",
          has(r"pci_nvme_io_cmd cid [0-9]+ nsid 0x1 sqid [1-9][0-9]* opc 0x2$"), "")
    check("doorbells and MSI-X interrupts are traced",
          has(r"pci_nvme_mmio_doorbell_sq sqid [1-9]") and has(r"pci_nvme_irq_msix "), "")
    tco = [l for l in lines if re.match(pre + "tco_", l)]
    check("iTCO_wdt's TCO_TMR write (5 ticks at 0x672) and its start are traced",
          has(r"tco_io_write addr=0x12 val=0x5$") and
          has(r"tco_timer_reload ticks=5 \(3000 ms\)$"), "\n".join(tco[:20]))
    check("the unfed watchdog expired twice, nothing forbidding the reboot",
          has(r"tco_timer_expired timeouts_no=0 no_reboot=0/0$") and
          has(r"tco_timer_expired timeouts_no=1 no_reboot=0/0$"), "\n".join(tco[-10:]))


def check_watchdog(b, out):
    dm = "\n".join(l for l in b.console.splitlines() if l.startswith("DMESG: "))
    check("iTCO_wdt found the ICH9's version 2 TCO block at 0x660",
          re.search(r"Found a ICH9 TCO device \(Version=2, TCOBASE=0x0660\)", dm) is not None,
          dm or b.tail())
    check("iTCO_wdt initialised with heartbeat=3, /dev/watchdog0 there with that timeout",
          "initialized. heartbeat=3 sec" in dm and "watchdog0" in (value(b.console, "WDT") or "")
          and value(b.console, "WDT-TIMEOUT") == "3", dm or b.tail())
    check("the unfed watchdog reset the machine: QMP WATCHDOG action reset",
          (out.get("watchdog") or {}).get("data") == {"action": "reset"}, repr(out))
    check("the reset ended tessera (-no-reboot) with 0 before the guest's sleep ended",
          "WDT-ARMED" in b.console and "WDT-SURVIVED" not in b.console and b.status == 0,
          b.tail())


def run(emu, parts, wd):
    files = guestlib.module_files(parts, MODULES)
    wdt_files, wdt_lines = wdt_insmod(parts)
    script = guestlib.insmod_script(files) + wdt_lines + SCRIPT
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script,
                                  modules=files + [f for f in wdt_files if f not in files])
    img = os.path.join(wd, "nvme.raw")
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    log = os.path.join(wd, "trace.log")
    qmp_path = os.path.join(wd, "qmp.sock")
    out = {}
    argv = [emu, "-M", "q35", "-m", "512M", "-nographic", "-no-reboot",
            "-kernel", parts["KERNEL"], "-initrd", initrd,
            "-append", guestlib.AMD64_CMDLINE + " quiet",
            "-drive", "file=%s,if=none,id=d0,format=raw" % img,
            "-device", "nvme,drive=d0,serial=trace",
            "-trace", "pci_nvme*", "-trace", "tco*", "-msg", "timestamp=on", "-D", log,
            "-qmp", "unix:%s,server=on,wait=off" % qmp_path]
    b = guestlib.Boot(argv, BOOT_TIMEOUT, actions={"INSPECT-PLEASE": inspect(qmp_path, out),
                                                   "WDT-ARMED": watch_watchdog(qmp_path, out)})
    check("did not time out (%d s)" % BOOT_TIMEOUT, not b.timed_out, b.tail())
    check("the test script ran to its watchdog step", "WDT-ARMED" in b.console, b.tail())
    check_watchdog(b, out)
    check("the guest's nvme driver found nvme0n1 and read it",
          "nvme0n1" in (value(b.console, "NVME") or "") and value(b.console, "READ") == "4096",
          b.tail())
    check("no trace line on the console (they went to -D)",
          "pci_nvme_" not in b.console and "tco_" not in b.console,
          b.tail())
    with open(log) as f:
        check_trace(f.read())
    m = re.search(r"RIP=([0-9a-f]{16})", out.get("regs", ""))
    check("info registers: RIP in the kernel's text (0xffffffff8...)",
          m and m.group(1).startswith("ffffffff8"), repr(out))
    check("x /1xb at RIP reads through the guest's page tables",
          re.match(r"^[0-9a-f]{16}: 0x[0-9a-f]{2}\n$", out.get("x", "")) is not None, repr(out))
    lapic = out.get("lapic", "")
    # Linux's LOCAL_TIMER_VECTOR is 0xec (236): programmed into LVTT, masked
    # or not depending on whether the idle CPU's tick is stopped.
    check("info lapic: the booted kernel enabled the LAPIC and programmed LVTT",
          lapic.startswith("dumping local APIC state for CPU 0 \n") and
          re.search(r"^SPIV\t 0x[0-9a-f]{8} APIC enabled, .* spurious vec 255$", lapic, re.M)
          and re.search(r"^LVTT\t 0x[0-9a-f]{8} .* Fixed  \(vec 236\)$", lapic, re.M)
          and re.search(r"^ISR\t ", lapic, re.M), lapic or repr(out))
    pic = out.get("pic", "")
    routed = re.findall(r"^  pin (\d+) +0x[0-9a-f]{16} dest=[0-9a-f]+ vec=(\d+) +active-(?:hi|lo) "
                        r"(?:edge |level)        \S", pic, re.M)
    check("info pic: Linux routed I/O APIC pins (unmasked, vector >= 32); the 8259 pair shown",
          pic.startswith("pic0: irr=") and "\npic1: irr=" in pic and
          routed and all(int(v) >= 32 for _, v in routed), pic or repr(out))
    c0 = (out.get("cpus", {}).get("return") or [{}])[0]
    check("query-cpus-fast names vCPU 0 (x86_64)",
          c0.get("cpu-index") == 0 and c0.get("target") == "x86_64", repr(out.get("cpus")))


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    wd = guestlib.workdir()
    try:
        p = subprocess.run([os.path.join(guestlib.SRC_ROOT, "scripts", "guest-amd64")],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise guestlib.GuestError("scripts/guest-amd64 failed: " + p.stderr.strip())
        run(sys.argv[1], dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line),
            wd)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
