#!/usr/bin/env python3
"""guest suite: s2idle (`echo freeze > /sys/power/state`) on arm64 virt, one
boot. TAP output.

    test-suspend-arm64.py TESSERA [EMULATOR]

The virt machine has no S3: /sys/power/mem_sleep offers only s2idle (no
PSCI SYSTEM_SUSPEND, as on QEMU 7.2's virt), so "mem" is s2idle too; it
needs only idle vCPUs and a wakeup interrupt. Debian's arm64 kernel arms the
PL031 alarm (`echo +4 > /sys/class/rtc/rtc0/wakealarm`, rtc-pl031 is a
wakeup source) and freezes; the host sees query-status "running"
throughout and system_wakeup refused (QEMU's behaviour: s2idle is no
suspended state), and the alarm brings the guest back, 2 s or more
later. It does so twice, and a virtio-blk disk written before the first
freeze reads the same after the second. EMULATOR (default TESSERA) runs
the same boot on qemu-system-aarch64.
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

BOOT_TIMEOUT = 300
CHUNK = 65536
MODULES = ["virtio_mmio", "virtio_blk"]

SCRIPT = """\
sleep 1
echo "POWER-STATE=$(cat /sys/power/state)"
echo "MEM-SLEEP=$(cat /sys/power/mem_sleep)"
echo "RTC-WAKEUP=$(cat /sys/class/rtc/rtc0/device/power/wakeup)"
dd if=/p1.bin of=/dev/vda bs=65536 seek=1 oflag=direct conv=fsync 2>/dev/null
echo "WRITE-RC=$?"
for n in 1 2; do
  echo +4 > /sys/class/rtc/rtc0/wakealarm
  echo "FREEZING-$n $(date +%s)"
  echo freeze > /sys/power/state; echo "FREEZE-RC-$n=$?"
  echo "THAWED-$n $(date +%s)"
done
echo "MD5-AFTER=$(dd if=/dev/vda bs=65536 skip=1 count=1 iflag=direct 2>/dev/null \
| md5sum | cut -d' ' -f1)"
echo "AFTER-BUG=$(dmesg | grep -c -e BUG -e Oops -e 'Call Trace')"
"""


def watch(qmp_path, out, n):
    """While the guest freezes: the run state, and system_wakeup refused."""
    def act(b):
        try:
            if "q" not in out:
                out["q"] = Qmp(qmp_path, timeout=30)
                out["q"].negotiate()
            q = out["q"]
            t0 = time.time()
            states = set()
            for _ in range(10):
                time.sleep(0.2)
                states.add(q.status())
            out["states%d" % n] = states
            out["wakeup%d" % n] = q.cmd("system_wakeup")
            out["events%d" % n] = [e.get("event") for e in q.events]
            out["watched%d" % n] = time.time() - t0
        except Exception as e:  # the checks report what is missing
            out["error%d" % n] = repr(e)
    return act


def run(emu, parts, wd):
    files = guestlib.module_files(parts, MODULES)
    p1 = os.path.join(wd, "p1.bin")
    with open(p1, "wb") as f:
        f.write(pattern(CHUNK, b"arm64-p1"))
    initrd = guestlib.make_initrd(wd, parts["INITRD"], guestlib.insmod_script(files) + SCRIPT,
                                  files=[p1], modules=files)
    img = os.path.join(wd, "disk.raw")
    with open(img, "wb") as f:
        f.truncate(4 * CHUNK)
    qmp_path = os.path.join(wd, "qmp.sock")
    out = {}
    argv = guestlib.emulator_argv(
        emu, parts["KERNEL"], initrd, append=guestlib.CMDLINE + " no_console_suspend",
        extra=["-drive", "file=%s,if=none,id=d0,format=raw" % img,
               "-device", "virtio-blk-device,drive=d0",
               "-qmp", "unix:%s,server=on,wait=off" % qmp_path])
    acts = {"FREEZING-%d" % n: watch(qmp_path, out, n) for n in (1, 2)}
    b = guestlib.Boot(argv, BOOT_TIMEOUT, actions=acts,
                      until=("tessera-guest: test.sh exited", 1))
    print("# %s: userspace after %s s, %.1f s in all" % (os.path.basename(emu), b.t_marker,
                                                        b.elapsed), file=sys.stderr)
    out.pop("q", None)
    c = b.console
    check("did not time out, no panic or oops", not b.timed_out and
          all(s not in c for s in ("Kernel panic", "Oops", "soft lockup")), b.tail())
    check("/sys/power/state lists freeze, mem_sleep only s2idle; the PL031 wakes",
          "freeze" in (value(c, "POWER-STATE") or "").split()
          and value(c, "MEM-SLEEP") == "[s2idle]" and value(c, "RTC-WAKEUP") == "enabled",
          b.tail())
    check("the guest wrote its pattern", value(c, "WRITE-RC") == "0", b.tail())
    for n in (1, 2):
        before = c.split("FREEZING-%d " % n)[-1].split("\n")[0] if "FREEZING-%d " % n in c else ""
        after = c.split("THAWED-%d " % n)[-1].split("\n")[0] if "THAWED-%d " % n in c else ""
        secs = (int(after) - int(before)) if before.isdigit() and after.isdigit() else -1
        check("freeze %d: query-status stays running, system_wakeup refused, no SUSPEND" % n,
              out.get("states%d" % n) == {"running"} and "error" in out.get("wakeup%d" % n, {})
              and "SUSPEND" not in out.get("events%d" % n, ["?"]), repr(out))
        check("freeze %d: the PL031 alarm brings it back (write returns 0, 2..30 s later)" % n,
              value(c, "FREEZE-RC-%d" % n) == "0" and 2 <= secs <= 30,
              "%d s\n%s" % (secs, b.tail()))
    check("the disk reads the pattern back after both",
          value(c, "MD5-AFTER") == hashlib.md5(pattern(CHUNK, b"arm64-p1")).hexdigest(),
          b.tail())
    check("no BUG/Oops/Call Trace in dmesg", value(c, "AFTER-BUG") == "0", b.tail())


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    emu = sys.argv[2] if len(sys.argv) > 2 else sys.argv[1]
    wd = guestlib.workdir()
    try:
        run(emu, guestlib.guest_parts(), wd)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
