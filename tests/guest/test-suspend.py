#!/usr/bin/env python3
"""guest suite: ACPI S3 suspend to RAM and resume on q35 (one short boot).
TAP output.

    test-suspend.py TESSERA [EMULATOR]

The guest (Debian's amd64 kernel, guestlib.AMD64_CMDLINE) lists "mem" in
/sys/power/state (the DSDT has \\_S3), reads its virtio-blk disk, then runs
`echo mem > /sys/power/state` in the background. The host sees QMP SUSPEND,
query-status "suspended", sends system_wakeup and sees WAKEUP; the guest
(resumed through the FACS waking vector: tessera starts vCPU 0 there in
real mode as firmware would) prints a marker from the shell and reads the
disk again, which still gives the host's pattern.
EMULATOR (default TESSERA) runs the same boot on qemu-system-x86_64 (SeaBIOS
resumes the guest there).
"""
import hashlib
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import pattern, value  # noqa: E402
from tesstest import Qmp, check, tap_report  # noqa: E402

BOOT_TIMEOUT = 300  # the meson timeout is 600 s
MiB = 1 << 20
IMAGE_SIZE = 4 * MiB
PATTERN_LEN = MiB
MODULES = ["virtio_pci", "virtio_blk"]
EVENT_WAIT = 60  # s

SCRIPT = """\
sleep 1
echo "POWER-STATE=$(cat /sys/power/state)"
echo "MD5-BEFORE=$(dd if=/dev/vda bs=65536 count=16 2>/dev/null | md5sum | cut -d' ' -f1)"
(echo mem > /sys/power/state; echo "SUSPEND-RC=$?") &
echo SUSPENDING
wait
echo "RESUMED-MARKER $(cat /proc/uptime | cut -d' ' -f1)"
echo "MD5-AFTER=$(dd if=/dev/vda bs=65536 count=16 iflag=direct 2>/dev/null | md5sum \
| cut -d' ' -f1)"
echo "AFTER-BUG=$(dmesg | grep -c -e BUG -e Oops -e 'Call Trace')"
dmesg | grep -i -e 'PM: ' -e ACPI: | tail -n 8 | sed 's/^/PM-LOG /'
"""


def wait_event(q, name, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(e.get("event") == name for e in q.events):
            return True
        q.sock.settimeout(max(0.1, deadline - time.time()))
        try:
            q.events.append(q.recv())
        except (OSError, ValueError):
            break
        finally:
            q.sock.settimeout(10.0)
    return any(e.get("event") == name for e in q.events)


def wake(qmp_path, out):
    """On SUSPENDING: SUSPEND, query-status, system_wakeup, WAKEUP."""
    def act(b):
        try:
            q = Qmp(qmp_path)
            q.negotiate()
            out["suspend"] = wait_event(q, "SUSPEND", EVENT_WAIT)
            out["status"] = q.cmd("query-status").get("return", {}).get("status")
            out["wakeup"] = q.cmd("system_wakeup")
            out["wakeup_event"] = wait_event(q, "WAKEUP", EVENT_WAIT)
            out["status_after"] = q.cmd("query-status").get("return", {}).get("status")
            time.sleep(3)  # where vCPU 0 went, for the report of a failed resume
            out["regs"] = q.cmd("human-monitor-command",
                                {"command-line": "info registers"})
        except Exception as e:  # the checks report what is missing
            out["error"] = repr(e)
    return act


def run(emu, parts, wd):
    files = guestlib.module_files(parts, MODULES)
    script = guestlib.insmod_script(files) + SCRIPT
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=files)
    img = os.path.join(wd, "disk.raw")
    with open(img, "wb") as f:
        f.truncate(IMAGE_SIZE)
        f.write(pattern(PATTERN_LEN, b"suspend"))
    qmp_path = os.path.join(wd, "qmp.sock")
    out = {}
    argv = [emu, "-M", "q35", "-cpu", "qemu64", "-m", "512M", "-nographic", "-no-reboot",
            "-kernel", parts["KERNEL"], "-initrd", initrd, "-append", guestlib.AMD64_CMDLINE + " no_console_suspend",
            "-drive", "file=%s,if=none,id=d0,format=raw" % img,
            "-device", "virtio-blk-pci,drive=d0",
            "-qmp", "unix:%s,server=on,wait=off" % qmp_path]
    argv += os.environ.get("SUSPEND_DEBUG_ARGS", "").split()
    # Stop once the script is done: qemu-system-x86_64 (7.2, SeaBIOS resume)
    # did not end on the guest's poweroff after a resume within 300 s.
    b = guestlib.Boot(argv, BOOT_TIMEOUT, actions={"SUSPENDING": wake(qmp_path, out)},
                      until=("tessera-guest: test.sh exited", 1))
    # On stderr: a TAP comment before "TAP version" is an error to meson.
    print("# %s: userspace after %s s, %.1f s in all" % (os.path.basename(emu), b.t_marker,
                                                        b.elapsed), file=sys.stderr)
    c = b.console
    want = hashlib.md5(pattern(PATTERN_LEN, b"suspend")).hexdigest()
    check("did not time out, no panic or oops", not b.timed_out and
          all(s not in c for s in ("Kernel panic", "Oops", "soft lockup")), b.tail())
    check("/sys/power/state lists mem (\\_S3 in the DSDT)",
          "mem" in (value(c, "POWER-STATE") or "").split(), repr(value(c, "POWER-STATE")))
    check("the disk reads the host's pattern before suspend", value(c, "MD5-BEFORE") == want,
          b.tail())
    check("QMP SUSPEND after echo mem > /sys/power/state", out.get("suspend") is True,
          "%r\n%s" % (out, b.tail()))
    check("query-status says suspended", out.get("status") == "suspended", repr(out))
    check("system_wakeup succeeds and WAKEUP follows",
          out.get("wakeup") == {"return": {}} and out.get("wakeup_event") is True, repr(out))
    check("query-status says running after the wakeup", out.get("status_after") == "running",
          repr(out))
    check("the guest resumes: the write returns 0 and the shell prints its marker",
          value(c, "SUSPEND-RC") == "0" and "RESUMED-MARKER" in c,
          "%s\nexit %s; QMP: %r" % (b.tail(), b.status, out))
    check("the disk still reads the host's pattern after resume",
          value(c, "MD5-AFTER") == want, b.tail())
    check("no BUG/Oops/Call Trace in dmesg after resume", value(c, "AFTER-BUG") == "0",
          b.tail())
    check("the test script ran to its end", "tessera-guest: test.sh exited 0" in c, b.tail())


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    emu = sys.argv[2] if len(sys.argv) > 2 else sys.argv[1]
    wd = guestlib.workdir()
    try:
        run(emu, guestlib.amd64_parts(), wd)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
