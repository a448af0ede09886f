#!/usr/bin/env python3
"""guest suite: ACPI S3 and s2idle on q35 (one boot, migrated once). TAP.

    test-suspend.py TESSERA [MACHINE]

MACHINE: q35 (default) or pc; on pc the host quits at step 4 instead
(quit while suspended), to keep that boot short. Debian's amd64 kernel (guestlib.AMD64_CMDLINE)
with a virtio-blk disk the host filled with a pattern. The guest script
goes through, in order (the host acts on each marker over QMP):

 1. writes pattern P1 (from its initrd) to the disk with O_DIRECT, then
    `echo mem > /sys/power/state`. Host: SUSPEND, "suspended"; stop gives
    "paused" and system_wakeup is then refused; cont goes back to
    "suspended" (QEMU 9: cont never wakes S3) and the guest stays asleep;
    system_wakeup, WAKEUP, "running". The guest reads P1 back, writes P2.
 2. `echo +4 > /sys/class/rtc/rtc0/wakealarm` and S3: the CMOS RTC alarm
    (RTC_STS with RTC_EN) wakes it with no command from the host (WAKEUP
    3 s or more after SUSPEND).
 3. the same alarm and `echo freeze > /sys/power/state` (s2idle): the run
    state stays "running" and system_wakeup is refused, as QEMU's; the
    alarm (ACPI RTC fixed event, the SCI) brings it back.
 3s. s2idle with ttyS0's power/wakeup enabled: a byte the host types on
    the serial line wakes it (pm_wakeup_irq 4), not the 40 s RTC fallback.
 4. S3; the host migrates the suspended guest to a file and quits; a
    second tessera loads it (-incoming file:), stays "suspended" until
    system_wakeup; the guest resumes there, reads P1 and P2 back and marks
    the disk.
 5. S3, stop and system_reset: RESET, "prelaunch" (as QEMU's) until
    cont, and then the guest resumes (QEMU: SeaBIOS finds the S3 flag in
    CMOS and jumps to the waking vector).
 6. the same with system_reset straight from "suspended".
 7. S3 once more, and `quit` ends tessera.
The host then reads P1, P2 and the mark from the image file.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import pattern, value  # noqa: E402
from tesstest import Qmp, check, tap_report  # noqa: E402

BOOT_TIMEOUT = 300  # per process; the meson timeout is 600 s
MiB = 1 << 20
IMAGE_SIZE = 4 * MiB
PATTERN_LEN = MiB
CHUNK = 65536  # P1 at 1 MiB, P2 right after it, the mark at 3 MiB
MARK = "suspend-test-mark"
MODULES = ["virtio_pci", "virtio_blk"]
EVENT_WAIT = 60  # s

MD5 = "md5sum | cut -d' ' -f1"
SCRIPT = """\
sleep 1
echo "POWER-STATE=$(cat /sys/power/state)"
echo "MD5-HOST=$(dd if=/dev/vda bs=65536 count=16 2>/dev/null | {md5})"
dd if=/p1.bin of=/dev/vda bs=65536 seek=16 oflag=direct conv=fsync 2>/dev/null
echo "P1-WRITE-RC=$?"
echo SUSPENDING-1
echo mem > /sys/power/state; echo "S3-QMP-RC=$?"
echo "RESUMED-1"
echo "MD5-P1-1=$(dd if=/dev/vda bs=65536 skip=16 count=1 iflag=direct 2>/dev/null | {md5})"
dd if=/p2.bin of=/dev/vda bs=65536 seek=17 oflag=direct conv=fsync 2>/dev/null
echo "P2-WRITE-RC=$?"
echo "MD5-P2-1=$(dd if=/dev/vda bs=65536 skip=17 count=1 iflag=direct 2>/dev/null | {md5})"
echo +4 > /sys/class/rtc/rtc0/wakealarm; echo "ALARM-RC=$?"
echo "DATE-BEFORE-2=$(date +%s)"
echo SUSPENDING-2
echo mem > /sys/power/state; echo "S3-RTC-RC=$?"
echo "DATE-AFTER-2=$(date +%s)"
echo "RESUMED-2"
echo +4 > /sys/class/rtc/rtc0/wakealarm
echo FREEZING-3
echo freeze > /sys/power/state; echo "FREEZE-RC=$?"
echo "RESUMED-3"
echo enabled > /sys/class/tty/ttyS0/power/wakeup; echo "TTY-WAKE-RC=$?"
echo +40 > /sys/class/rtc/rtc0/wakealarm
echo "DATE-BEFORE-3S=$(date +%s)"
echo FREEZING-SERIAL
echo freeze > /sys/power/state; echo "FREEZE-S-RC=$?"
echo "DATE-AFTER-3S=$(date +%s)"
echo "WAKE-IRQ-S=$(cat /sys/power/pm_wakeup_irq 2>&1)"
echo 0 > /sys/class/rtc/rtc0/wakealarm
echo disabled > /sys/class/tty/ttyS0/power/wakeup
echo "RESUMED-3S"
echo SUSPENDING-4
echo mem > /sys/power/state; echo "S3-MIG-RC=$?"
echo "RESUMED-4"
echo "MD5-P1-4=$(dd if=/dev/vda bs=65536 skip=16 count=1 iflag=direct 2>/dev/null | {md5})"
echo "MD5-P2-4=$(dd if=/dev/vda bs=65536 skip=17 count=1 iflag=direct 2>/dev/null | {md5})"
printf '{mark}' | dd of=/dev/vda bs=65536 seek=48 conv=sync,fsync oflag=direct 2>/dev/null
echo "MARK-RC=$?"
echo "AFTER-BUG=$(dmesg | grep -c -e BUG -e Oops -e 'Call Trace')"
dmesg | grep -e 'PM: ' -e 'ACPI: PM' | tail -n 6 | sed 's/^/PM-LOG /'
echo SUSPENDING-5
echo mem > /sys/power/state; echo "S3-RESET-RC=$?"
echo "RESUMED-5"
echo "MD5-P2-5=$(dd if=/dev/vda bs=65536 skip=17 count=1 iflag=direct 2>/dev/null | {md5})"
echo SUSPENDING-6
echo mem > /sys/power/state; echo "S3-RESET2-RC=$?"
echo "RESUMED-6"
echo SUSPENDING-7
echo mem > /sys/power/state
echo "NOT-REACHED-7"
""".format(mark=MARK, md5=MD5)


def wait_event(q, name, timeout):
    """The first `name` event within timeout (kept events first); removes it."""
    deadline = time.time() + timeout
    while True:
        for e in q.events:
            if e.get("event") == name:
                q.events.remove(e)
                return e
        if time.time() >= deadline:
            return None
        q.sock.settimeout(max(0.1, deadline - time.time()))
        try:
            q.events.append(q.recv())
        except (OSError, ValueError, EOFError):
            return None
        finally:
            q.sock.settimeout(10.0)


def connect(path):
    q = Qmp(path, timeout=30)
    q.negotiate()
    return q


def guarded(out, key, fn):
    """fn(out) in the console reader; an exception is recorded, not raised."""
    def act(b):
        try:
            fn(out)
        except Exception as e:  # the checks report what is missing
            out.setdefault("errors", []).append("%s: %r" % (key, e))
    return act


def step1(q):
    """QMP wakeup, with stop/cont while suspended first."""
    def fn(out):
        out["s1_suspend"] = wait_event(q, "SUSPEND", EVENT_WAIT) is not None
        out["s1_status"] = q.status()
        q.cmd("stop")
        out["s1_stopped"] = q.status()
        out["s1_wake_paused"] = q.cmd("system_wakeup")
        q.cmd("cont")
        out["s1_cont"] = q.status()
        time.sleep(1.5)
        out["s1_cont_later"] = q.status()
        out["s1_wakeup"] = q.cmd("system_wakeup")
        out["s1_wakeup_event"] = wait_event(q, "WAKEUP", EVENT_WAIT) is not None
        out["s1_after"] = q.status()
    return fn


def step2(q):
    """The RTC alarm wakes S3 by itself."""
    def fn(out):
        out["s2_suspend"] = wait_event(q, "SUSPEND", EVENT_WAIT) is not None
        t0 = time.time()
        out["s2_status"] = q.status()
        out["s2_wakeup_event"] = wait_event(q, "WAKEUP", EVENT_WAIT) is not None
        out["s2_secs"] = time.time() - t0
        out["s2_after"] = q.status()
    return fn


def step3(q):
    """s2idle: "running" throughout, system_wakeup refused."""
    def fn(out):
        states = set()
        for _ in range(10):
            time.sleep(0.2)
            states.add(q.status())
        out["s3_states"] = states
        out["s3_wakeup"] = q.cmd("system_wakeup")
        out["s3_events"] = [e.get("event") for e in q.events]
    return fn


def step3_serial(b):
    """s2idle with ttyS0 a wakeup source: a byte on the serial line wakes it.
    Sent a few times (the first may come before the guest froze); an RTC
    alarm 40 s on is the guest's fallback, told apart by pm_wakeup_irq."""
    def fn(out):
        for _ in range(3):
            time.sleep(3)
            b.send("\r")
    return fn


def step4(q, state_file):
    """Migrate the suspended guest to a file, then quit the source."""
    def fn(out):
        out["s4_suspend"] = wait_event(q, "SUSPEND", EVENT_WAIT) is not None
        out["s4_migrate"] = q.cmd("migrate", {"uri": "file:" + state_file})
        deadline = time.time() + 120
        st = None
        while time.time() < deadline:
            st = q.cmd("query-migrate").get("return", {}).get("status")
            if st in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.2)
        out["s4_migrated"] = st
        out["s4_src_status"] = q.status()
        q.cmd("quit")
    return fn


def step4_quit(q):
    """pc: quit while suspended ends the run."""
    def fn(out):
        out["s4_suspend"] = wait_event(q, "SUSPEND", EVENT_WAIT) is not None
        out["s4_status"] = q.status()
        out["s4_quit"] = q.cmd("quit")
    return fn


def dest_wake(qmp_path, out):
    """On the destination: "suspended" after the load, then system_wakeup."""
    try:
        q = connect(qmp_path)
        out["d_status"] = q.wait_status("suspended", 120)
        time.sleep(1.0)
        out["d_status_later"] = q.status()
        out["d_wakeup"] = q.cmd("system_wakeup")
        out["d_wakeup_event"] = wait_event(q, "WAKEUP", EVENT_WAIT) is not None
        out["d_q"] = q
    except Exception as e:
        out.setdefault("errors", []).append("dest: %r" % e)


def step_reset(n, stop_first):
    """system_reset in S3 (stopped first or not): prelaunch, then cont."""
    def fn(out):
        q = out["d_q"]
        k = "s%d_" % n
        out[k + "suspend"] = wait_event(q, "SUSPEND", EVENT_WAIT) is not None
        if stop_first:
            q.cmd("stop")
            out[k + "stopped"] = q.status()
        out[k + "reset"] = q.cmd("system_reset")
        out[k + "reset_event"] = wait_event(q, "RESET", EVENT_WAIT) is not None
        out[k + "status"] = q.status()
        time.sleep(1.5)
        out[k + "status_later"] = q.status()
        out[k + "cont"] = q.cmd("cont")
        out[k + "after"] = q.status()
    return fn


def step_quit(out):
    def fn(out):
        q = out["d_q"]
        out["s7_suspend"] = wait_event(q, "SUSPEND", EVENT_WAIT) is not None
        out["s7_status"] = q.status()
        out["s7_quit_t"] = time.time()
        out["s7_quit"] = q.cmd("quit")
    return fn


def argv_for(emu, machine, parts, initrd, img, qmp_path):
    return [emu, "-M", machine, "-cpu", "qemu64", "-m", "512M", "-nographic", "-no-reboot",
            "-kernel", parts["KERNEL"], "-initrd", initrd,
            "-append", guestlib.AMD64_CMDLINE + " no_console_suspend",
            "-drive", "file=%s,if=none,id=d0,format=raw" % img,
            "-device", "virtio-blk-pci,drive=d0",
            "-qmp", "unix:%s,server=on,wait=off" % qmp_path]


def source_checks(b, out):
    c = b.console
    want = hashlib.md5(pattern(PATTERN_LEN, b"suspend")).hexdigest()
    p1 = hashlib.md5(pattern(CHUNK, b"p1")).hexdigest()
    p2 = hashlib.md5(pattern(CHUNK, b"p2")).hexdigest()
    check("source: no panic or oops, ended by the migration step",
          not b.timed_out and all(s not in c for s in ("Kernel panic", "Oops", "soft lockup")),
          b.tail())
    check("/sys/power/state lists freeze and mem",
          {"freeze", "mem"} <= set((value(c, "POWER-STATE") or "").split()),
          repr(value(c, "POWER-STATE")))
    check("the disk reads the host's pattern, and the guest writes P1",
          value(c, "MD5-HOST") == want and value(c, "P1-WRITE-RC") == "0", b.tail())
    check("1: SUSPEND and query-status suspended",
          out.get("s1_suspend") is True and out.get("s1_status") == "suspended", repr(out))
    check("1: stop while suspended gives paused; system_wakeup is then refused",
          out.get("s1_stopped") == "paused" and "error" in out.get("s1_wake_paused", {}),
          repr(out))
    check("1: cont goes back to suspended, and the guest stays asleep",
          out.get("s1_cont") == "suspended" and out.get("s1_cont_later") == "suspended",
          repr(out))
    check("1: system_wakeup, WAKEUP, running",
          out.get("s1_wakeup") == {"return": {}} and out.get("s1_wakeup_event") is True
          and out.get("s1_after") == "running", repr(out))
    check("1: the guest resumed: the write returned 0",
          value(c, "S3-QMP-RC") == "0" and "RESUMED-1" in c, b.tail())
    check("1: P1 reads back after resume; P2 written and read back",
          value(c, "MD5-P1-1") == p1 and value(c, "P2-WRITE-RC") == "0"
          and value(c, "MD5-P2-1") == p2, b.tail())
    check("2: SUSPEND, then the RTC alarm wakes it: WAKEUP with no command, after 2..30 s",
          out.get("s2_suspend") is True and out.get("s2_status") == "suspended"
          and out.get("s2_wakeup_event") is True and 2.0 <= out.get("s2_secs", 0) <= 30,
          repr(out))
    check("2: the guest resumed from the alarm (write returned 0), running",
          value(c, "ALARM-RC") == "0" and value(c, "S3-RTC-RC") == "0" and "RESUMED-2" in c
          and out.get("s2_after") == "running", b.tail())
    try:
        slept = int(value(c, "DATE-AFTER-2")) - int(value(c, "DATE-BEFORE-2"))
    except (TypeError, ValueError):
        slept = -1
    check("2: the RTC kept time in S3: the guest's clock moved 3..30 s across it",
          3 <= slept <= 30, "%d s" % slept)
    check("3: s2idle: query-status stays running, system_wakeup refused, no SUSPEND",
          out.get("s3_states") == {"running"} and "error" in out.get("s3_wakeup", {})
          and "SUSPEND" not in out.get("s3_events", []), repr(out))
    check("3: the RTC alarm ends s2idle", value(c, "FREEZE-RC") == "0" and "RESUMED-3" in c,
          b.tail())
    try:
        slept = int(value(c, "DATE-AFTER-3S")) - int(value(c, "DATE-BEFORE-3S"))
    except (TypeError, ValueError):
        slept = -1
    check("3: a byte on the serial line (ttyS0 power/wakeup enabled) ends s2idle "
          "(pm_wakeup_irq 4, %d s, before the 40 s RTC fallback)" % slept,
          value(c, "FREEZE-S-RC") == "0" and value(c, "WAKE-IRQ-S") == "4" and 0 <= slept < 30,
          "WAKE-IRQ=%s\n%s" % (value(c, "WAKE-IRQ-S"), b.tail()))

def migration_check(out):
    check("4: migration of the suspended guest completes; the source is postmigrate",
          out.get("s4_suspend") is True and out.get("s4_migrate") == {"return": {}}
          and out.get("s4_migrated") == "completed"
          and out.get("s4_src_status") == "postmigrate", repr(out))


def dest_checks(d, out, img):
    c = d.console
    p1 = hashlib.md5(pattern(CHUNK, b"p1")).hexdigest()
    p2 = hashlib.md5(pattern(CHUNK, b"p2")).hexdigest()
    check("4: the destination loads the stream and stays suspended",
          out.get("d_status") == "suspended" and out.get("d_status_later") == "suspended",
          repr(out))
    check("4: system_wakeup on the destination, WAKEUP; the guest resumes there",
          out.get("d_wakeup") == {"return": {}} and out.get("d_wakeup_event") is True
          and value(c, "S3-MIG-RC") == "0" and "RESUMED-4" in c, "%r\n%s" % (out, d.tail()))
    check("4: P1 and P2 read back on the destination",
          value(c, "MD5-P1-4") == p1 and value(c, "MD5-P2-4") == p2, d.tail())
    check("no BUG/Oops/Call Trace in dmesg after four resumes", value(c, "AFTER-BUG") == "0",
          d.tail())
    for n, rc, md5 in ((5, "S3-RESET-RC", "MD5-P2-5"), (6, "S3-RESET2-RC", None)):
        k = "s%d_" % n
        how = "stopped in S3" if n == 5 else "suspended"
        check("%d: system_reset %s: RESET, prelaunch until cont" % (n, how),
              out.get(k + "suspend") is True and out.get(k + "reset") == {"return": {}}
              and out.get(k + "stopped", "paused") == "paused"
              and out.get(k + "reset_event") is True and out.get(k + "status") == "prelaunch"
              and out.get(k + "status_later") == "prelaunch", repr(out))
        check("%d: cont: running, the guest resumes" % n,
              out.get(k + "cont") == {"return": {}} and out.get(k + "after") == "running"
              and value(c, rc) == "0" and (md5 is None or value(c, md5) == p2),
              "%r\n%s" % (out, d.tail()))
    check("7: quit while suspended ends tessera with status 0 within 10 s",
          "NOT-REACHED-7" not in c and out.get("s7_suspend") is True
          and out.get("s7_status") == "suspended"
          and out.get("s7_quit") == {"return": {}} and d.status == 0 and not d.timed_out
          and out.get("s7_exit_secs", 99) < 10, "%r exit %s" % (out, d.status))
    with open(img, "rb") as f:
        f.seek(16 * CHUNK)
        disk = f.read(2 * CHUNK)
        f.seek(48 * CHUNK)
        mark = f.read(len(MARK))
    check("the image holds P1, P2 and the mark the guest wrote",
          disk == pattern(CHUNK, b"p1") + pattern(CHUNK, b"p2") and mark == MARK.encode(),
          repr(mark))


def run(emu, machine, parts, wd):
    files = guestlib.module_files(parts, MODULES)
    extra = []
    for name in ("p1", "p2"):
        path = os.path.join(wd, name + ".bin")
        with open(path, "wb") as f:
            f.write(pattern(CHUNK, name.encode()))
        extra.append(path)
    script = guestlib.insmod_script(files) + SCRIPT
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, files=extra, modules=files)
    img = os.path.join(wd, "disk.raw")
    with open(img, "wb") as f:
        f.truncate(IMAGE_SIZE)
        f.write(pattern(PATTERN_LEN, b"suspend"))
    state = os.path.join(wd, "state.mig")
    out = {}
    src_qmp = os.path.join(wd, "qmp.sock")
    argv = argv_for(emu, machine, parts, initrd, img, src_qmp)
    q = {}

    def qmp():
        if "q" not in q:
            q["q"] = connect(src_qmp)
        return q["q"]

    acts = {"SUSPENDING-1": lambda b: guarded(out, "1", step1(qmp()))(b),
            "SUSPENDING-2": lambda b: guarded(out, "2", step2(qmp()))(b),
            "FREEZING-3": lambda b: guarded(out, "3", step3(qmp()))(b),
            "FREEZING-SERIAL": lambda b: guarded(out, "3s", step3_serial(b))(b),
            "SUSPENDING-4": lambda b: guarded(out, "4", step4(qmp(), state))(b)}
    if machine == "pc":
        acts["SUSPENDING-4"] = lambda b: guarded(out, "4", step4_quit(qmp()))(b)
    b = guestlib.Boot(argv, BOOT_TIMEOUT, actions=acts)
    print("# source: userspace after %s s, %.1f s in all; RTC wake after %.1f s in S3"
          % (b.t_marker, b.elapsed, out.get("s2_secs", -1)), file=sys.stderr)
    source_checks(b, out)
    if machine == "pc":
        check("4: quit while suspended ends tessera with status 0",
              out.get("s4_suspend") is True and out.get("s4_status") == "suspended"
              and out.get("s4_quit") == {"return": {}} and b.status == 0, repr(out))
        return
    migration_check(out)
    if out.get("s4_migrated") != "completed":
        check("destination run", False, "no migration stream: %r" % out)
        return
    dst_qmp = os.path.join(wd, "qmp-dst.sock")
    # Without -no-reboot: with it, system_reset ends the process (QEMU's too).
    dargv = [a for a in argv_for(emu, machine, parts, initrd, img, dst_qmp)
             if a != "-no-reboot"] + ["-incoming", "file:" + state]
    waker = threading.Thread(target=dest_wake, args=(dst_qmp, out), daemon=True)
    waker.start()
    acts = {"SUSPENDING-5": guarded(out, "5", step_reset(5, True)),
            "SUSPENDING-6": guarded(out, "6", step_reset(6, False)),
            "SUSPENDING-7": guarded(out, "7", step_quit(out))}
    d = guestlib.Boot(dargv, BOOT_TIMEOUT, actions=acts)
    if "s7_quit_t" in out:
        out["s7_exit_secs"] = round(time.time() - out["s7_quit_t"], 1)
    out.pop("d_q", None)
    print("# destination: %.1f s in all" % d.elapsed, file=sys.stderr)
    dest_checks(d, out, img)
    if out.get("errors"):
        print("# QMP errors: %r" % out["errors"], file=sys.stderr)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    emu = sys.argv[1]
    machine = sys.argv[2] if len(sys.argv) > 2 else "q35"
    wd = guestlib.workdir()
    try:
        run(emu, machine, guestlib.amd64_parts(), wd)
    except (guestlib.GuestError, subprocess.SubprocessError) as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
