#!/usr/bin/env python3
"""guest suite: ACPI CPU hotplug on q35 and pc (two short boots). TAP output.

    test-cpu-hotplug.py TESSERA [EMULATOR]

-M q35 -smp 2,maxcpus=4: the guest (Debian's amd64 kernel) counts 4
possible CPUs, 2 present. When its script says so, the host sends QMP
device_add qemu64-x86_64-cpu (core-id=2), after two refusals (core-id
1 is taken, core-id 4 is beyond maxcpus); the guest sees cpu2 appear in
/sys/devices/system/cpu/present (the _E02 GPE, \\_SB.CPUS.CSCN's device
check), onlines it (INIT/SIPI), runs a process pinned to it, offlines it;
the host sends device_del and waits for DEVICE_DELETED (Linux's eject
calls _EJ0) and the guest sees present shrink back to 0-1. The guest's
_OST reports reach QMP as ACPI_DEVICE_OST events (device check: source
1 status 0; eject request: 0x84 ejection in progress, then 0) and
query-acpi-ospm-status.
The same boot runs on -M q35 then -M pc (PIIX4 PM's GPE0 at 0xafe0); each
check names its machine.
EMULATOR (default TESSERA) runs the same boots on qemu-system-x86_64.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import value  # noqa: E402
from tesstest import Qmp, check as tesstest_check, tap_report  # noqa: E402

BOOT_TIMEOUT = 300  # the meson timeout is 600 s
EVENT_WAIT = 60  # s
CPU = "qemu64-x86_64-cpu"

# wait_for FILE WORD: poll until FILE's first line is WORD (60 s at most).
SCRIPT = """\
wait_for() { i=0; while [ "$(cat $1)" != "$2" ] && [ $i -lt 600 ]; do sleep 0.1; \
i=$((i+1)); done; }
echo "POSSIBLE=$(cat /sys/devices/system/cpu/possible)"
echo "PRESENT-BEFORE=$(cat /sys/devices/system/cpu/present)"
echo READY-ADD
wait_for /sys/devices/system/cpu/present 0-2
echo "PRESENT-AFTER-ADD=$(cat /sys/devices/system/cpu/present)"
echo ONLINING
echo 1 > /sys/devices/system/cpu/cpu2/online; echo "ONLINE-RC=$?"
echo "ONLINE=$(cat /sys/devices/system/cpu/online)"
echo "NPROC=$(nproc)"
echo "RAN-ON=$(taskset -c 2 cut -d' ' -f39 /proc/self/stat 2>/dev/null || echo none)"
echo "IRQ-COLUMNS=$(head -n 1 /proc/interrupts | wc -w)"
echo 0 > /sys/devices/system/cpu/cpu2/online; echo "OFFLINE-RC=$?"
echo "ONLINE-AFTER-OFF=$(cat /sys/devices/system/cpu/online)"
echo READY-DEL
wait_for /sys/devices/system/cpu/present 0-1
echo "PRESENT-AFTER-DEL=$(cat /sys/devices/system/cpu/present)"
echo "AFTER-BUG=$(dmesg | grep -c -e BUG -e Oops -e 'Call Trace')"
echo "TSC-WARP=$(dmesg | grep -c 'TSC warp')"
dmesg | grep -i -e 'TSC warp' -e unstable | sed 's/^/TSC-LOG /'
echo "CLOCKSOURCE=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
dmesg | grep -i -e smpboot -e 'CPU2' -e 'cpu 2' -e ACPI.*[Pp]rocessor | tail -n 8 \
| sed 's/^/CPU-LOG /'
"""


def ost_is(source, status):
    return guestlib.ost_is("CPU", 2, source, status)


def add_cpu(qmp_path, out):
    """As a QEMU user does: the props of a free slot from
    query-hotpluggable-cpus (-smp 2,maxcpus=4 is 1 socket of 4 cores, as
    QEMU >= 6.2 prefers cores), given back to device_add."""
    def act(b):
        try:
            q = out["qmp"] = Qmp(qmp_path)
            q.negotiate()
            out["hotpluggable"] = q.cmd("query-hotpluggable-cpus")
            slots = {e["props"]["core-id"]: e for e in out["hotpluggable"]["return"]}
            taken = dict(slots[1]["props"])
            beyond = dict(slots[1]["props"], **{"core-id": 4})
            out["taken"] = q.cmd("device_add", dict(driver=CPU, id="c1", **taken))
            out["beyond"] = q.cmd("device_add", dict(driver=CPU, id="c4", **beyond))
            out["add"] = q.cmd("device_add", dict(driver=CPU, id="c2", **slots[2]["props"]))
            out["cpus"] = q.cmd("query-cpus-fast")
            # Linux answers the device check with _OST(1, 0) once it added it.
            q.seen_event("ACPI_DEVICE_OST", EVENT_WAIT, ost_is(1, 0))
            out["ost_add"] = guestlib.osts(q)
        except Exception as e:  # the checks report what is missing
            out["error"] = repr(e)
    return act


def del_cpu(out):
    def act(b):
        try:
            q = out["qmp"]
            out["del"] = q.cmd("device_del", {"id": "c2"})
            out["deleted"] = q.seen_event("DEVICE_DELETED", EVENT_WAIT)
            if not out["deleted"]:  # for the report: where the vCPUs are
                out["info_cpus"] = q.cmd("human-monitor-command",
                                         {"command-line": "info cpus"})
            out["cpus_after"] = q.cmd("query-cpus-fast")
            # The eject request: _OST(3, 0x84) "ejection in progress", then (3, 0) done.
            q.seen_event("ACPI_DEVICE_OST", 20, ost_is(3, 0))
            out["ost_del"] = guestlib.osts(q)[len(out.get("ost_add", [])):]
            out["ospm"] = q.cmd("query-acpi-ospm-status")
        except Exception as e:
            out["error"] = repr(e)
    return act


def error_desc(r):
    return (r or {}).get("error", {}).get("desc", "")


def run(emu, parts, wd, machine):
    initrd = guestlib.make_initrd(wd, parts["INITRD"], SCRIPT)
    qmp_path = os.path.join(wd, machine + "-qmp.sock")
    out = {}
    argv = [emu, "-M", machine, "-cpu", "qemu64", "-smp", "2,maxcpus=4", "-m", "256M",
            "-nographic", "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd,
            "-append", guestlib.AMD64_CMDLINE + " quiet",
            "-qmp", "unix:%s,server=on,wait=off" % qmp_path]
    b = guestlib.Boot(argv, BOOT_TIMEOUT, actions={"READY-ADD": add_cpu(qmp_path, out),
                                                    "READY-DEL": del_cpu(out)})
    c = b.console
    print("# %s -M %s: userspace after %s s, %.1f s in all; pinned process ran on %s"
          % (os.path.basename(emu), machine, b.t_marker, b.elapsed, value(c, "RAN-ON")),
          file=sys.stderr)

    def check(name, cond, detail=""):
        tesstest_check("%s: %s" % (machine, name), cond, detail)

    o = {k: v for k, v in out.items() if k != "qmp"}
    check("did not time out, no panic or oops", not b.timed_out and
          all(s not in c for s in ("Kernel panic", "Oops", "soft lockup")), b.tail())
    check("the guest counts 4 possible CPUs, 2 present (MADT: 2 not enabled)",
          value(c, "POSSIBLE") == "0-3" and value(c, "PRESENT-BEFORE") == "0-1", b.tail())
    hp = out.get("hotpluggable", {}).get("return", [])
    check("query-hotpluggable-cpus lists 4 slots, 2 with a qom-path",
          len(hp) == 4 and sum("qom-path" in e for e in hp) == 2 and
          all(e.get("type") == CPU and e.get("vcpus-count") == 1 for e in hp), repr(hp))
    check("device_add of a taken core-id is refused",
          "exists" in error_desc(out.get("taken")), repr(out.get("taken")))
    check("device_add of core-id=4 (maxcpus=4) is refused",
          "must be in range 0:3" in error_desc(out.get("beyond")), repr(out.get("beyond")))
    check("device_add of core-id=2 succeeds", out.get("add") == {"return": {}}, repr(o))
    check("query-cpus-fast lists 3 vCPUs after it",
          len(out.get("cpus", {}).get("return", [])) == 3, repr(out.get("cpus")))
    check("the guest sees cpu2 present (present 0-2)",
          value(c, "PRESENT-AFTER-ADD") == "0-2", b.tail())
    check("echo 1 > cpu2/online brings it up (online 0-2, nproc 3)",
          value(c, "ONLINE-RC") == "0" and value(c, "ONLINE") == "0-2" and
          value(c, "NPROC") == "3", b.tail())
    ran = value(c, "RAN-ON")
    check("a process pinned to cpu2 runs there (taskset; else /proc/interrupts has 3 CPUs)",
          ran == "2" or (ran == "none" and value(c, "IRQ-COLUMNS") == "3"), b.tail())
    check("echo 0 > cpu2/online takes it down",
          value(c, "OFFLINE-RC") == "0" and value(c, "ONLINE-AFTER-OFF") == "0-1", b.tail())
    check("device_del c2 succeeds and DEVICE_DELETED follows (the guest's _EJ0)",
          out.get("del") == {"return": {}} and out.get("deleted") is True,
          "%r\n%s" % (o, b.tail()))
    print("# ACPI_DEVICE_OST after device_add: %r; after device_del: %r"
          % (out.get("ost_add"), out.get("ost_del")), file=sys.stderr)
    check("the guest's _OST after the device check: ACPI_DEVICE_OST c2, CPU slot 2, "
          "source 1, status 0",
          {"device": "c2", "slot": "2", "slot-type": "CPU", "source": 1, "status": 0}
          in (out.get("ost_add") or []), repr(out.get("ost_add")))
    guestlib.check_ost_eject(out.get("ost_del"), "CPU", 2)
    ospm = [i for i in (out.get("ospm") or {}).get("return", []) if i.get("slot-type") == "CPU"]
    check("query-acpi-ospm-status: 4 CPU slots, slot 2 last reported (3, 0)",
          len(ospm) == 4 and (ospm[2].get("source"), ospm[2].get("status")) == (3, 0),
          repr(out.get("ospm")))
    check("query-cpus-fast lists 2 vCPUs after the eject",
          len(out.get("cpus_after", {}).get("return", [])) == 2, repr(out.get("cpus_after")))
    check("the guest's present list shrinks back to 0-1",
          value(c, "PRESENT-AFTER-DEL") == "0-1", b.tail())
    check("no BUG/Oops/Call Trace in dmesg", value(c, "AFTER-BUG") == "0", b.tail())
    # Linux's TSC sync check as the CPU comes up (a loaded host may still
    # make the clocksource watchdog drop the TSC: not this test's matter).
    check("the new CPU's TSC runs with the others' (no TSC warp; clocksource %s)"
          % value(c, "CLOCKSOURCE"), value(c, "TSC-WARP") == "0", b.tail())
    check("the test script ran to its end", "tessera-guest: test.sh exited 0" in c, b.tail())


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    emu = sys.argv[2] if len(sys.argv) > 2 else sys.argv[1]
    wd = guestlib.workdir()
    try:
        parts = guestlib.amd64_parts()
        for machine in ("q35", "pc"):
            run(emu, parts, wd, machine)
    except guestlib.GuestError as e:
        tesstest_check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
