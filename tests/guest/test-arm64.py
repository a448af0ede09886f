#!/usr/bin/env python3
"""guest suite: boot Debian's arm64 kernel with a busybox initramfs on
`tessera -M virt` and let the guest judge. TAP output.

    test-arm64.py TESSERA CASE [EMULATOR]

CASE is one of:
  smp1, smp4  boots to userspace, the guest sees N CPUs, `poweroff -f`
              ends the emulator with status 0; smp1 also types a line on
              the console while 100000 lines go out: the shell reads it
              whole (the pl011's 16-bit writes used to swallow waiting
              input)
  reboot      `reboot -f` boots the kernel again (the machine reloads its
              images at reset); with -no-reboot it ends the emulator, 0
  sigill      a static arm64 program that executes `udf #0` dies of SIGILL
              (shell status 132) while the machine keeps running; a
              program that exits 42 through svc shows ELF execution works

EMULATOR (default: TESSERA) lets the same checks run on
qemu-system-aarch64, to tell a broken test from a broken tessera.
On failure the last 30 console lines are printed.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from tesstest import check, tap_report  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s

CPU_SCRIPT = """\
echo "CPUS=$(grep -c ^processor /proc/cpuinfo) NPROC=$(nproc)"
"""

# cat's 4 KiB tty writes (-opost: not split at each newline) go out with
# interrupts masked (the pl011 driver fills its FIFO until it is full, and
# ours never is): input that arrives meanwhile waits in the RX FIFO. The
# host types once the marker amid 100000 lines is out, while the rest go.
TYPING_SCRIPT = """\
{ seq 1 20000; echo TYPE-PLEASE; seq 20001 100000; echo FLOOD-END; } > /tmp/flood
stty -opost
cat /tmp/flood &
read -t 20 x
echo "TYPED=$x"
wait
stty opost
"""
TYPED = "typed while the console is busy"

SIGILL_SCRIPT = """\
/exit42
echo "EXIT42-STATUS=$?"
/udf
echo "UDF-STATUS=$?"
echo "STILL-ALIVE"
"""

UDF_ASM = """\
    .text
    .globl _start
_start:
    udf #0
"""

EXIT42_ASM = """\
    .text
    .globl _start
_start:
    mov x0, #42
    mov x8, #93      // exit
    svc #0
"""


def check_common(b, name):
    """Reached userspace, ran the test script, powered off cleanly."""
    check("%s: tessera did not time out (%d s)" % (name, BOOT_TIMEOUT), not b.timed_out,
          b.tail())
    check("%s: kernel reaches userspace (/init prints its marker)" % name,
          guestlib.USERSPACE_MARKER in b.console, b.tail())
    check("%s: no kernel panic or oops" % name,
          "Kernel panic" not in b.console and "Internal error: Oops" not in b.console,
          b.tail())
    check("%s: test script ran to its end" % name,
          "tessera-guest: test.sh exited 0" in b.console, b.tail())
    check("%s: poweroff -f ends the emulator with exit status 0" % name,
          b.status == 0 and "reboot: Power down" in b.console,
          "exit status %s\n%s" % (b.status, b.tail()))


def run_cpus(emu, parts, wd, smp):
    typing = smp == 1
    script = CPU_SCRIPT + (TYPING_SCRIPT if typing else "")
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script)
    actions = {"TYPE-PLEASE": lambda b: b.send(TYPED + "\n")} if typing else None
    b = guestlib.Boot(guestlib.emulator_argv(emu, parts["KERNEL"], initrd, smp=smp),
                      BOOT_TIMEOUT, actions=actions)
    name = "smp%d" % smp
    check_common(b, name)
    want = "CPUS=%d NPROC=%d" % (smp, smp)
    check("%s: the guest sees %d CPU(s) (/proc/cpuinfo, nproc)" % (name, smp),
          want in b.console, "wanted '%s'\n%s" % (want, b.tail()))
    if typing:
        check("%s: a line typed while the console is flooded reaches the shell whole" % name,
              "TYPED=" + TYPED in b.console and "FLOOD-END" in b.console,
              b.tail())


def run_reboot(emu, parts, wd):
    initrd = guestlib.make_initrd(wd, parts["INITRD"], "reboot -f\n")
    argv = guestlib.emulator_argv(emu, parts["KERNEL"], initrd, no_reboot=False)
    b = guestlib.Boot(argv, BOOT_TIMEOUT, until=(guestlib.USERSPACE_MARKER, 2))
    check("reboot: the kernel reaches userspace again after reboot -f",
          b.stopped and b.console.count("Booting Linux") >= 2, b.tail())
    b = guestlib.Boot(guestlib.emulator_argv(emu, parts["KERNEL"], initrd), BOOT_TIMEOUT)
    check("reboot: with -no-reboot, reboot -f ends the emulator with status 0",
          not b.timed_out and b.status == 0 and "reboot: Restarting system" in b.console
          and b.console.count("Booting Linux") == 1,
          "exit status %s\n%s" % (b.status, b.tail()))


def run_sigill(emu, parts, wd):
    udf = guestlib.assemble(wd, "udf", UDF_ASM)
    exit42 = guestlib.assemble(wd, "exit42", EXIT42_ASM)
    initrd = guestlib.make_initrd(wd, parts["INITRD"], SIGILL_SCRIPT, [udf, exit42])
    b = guestlib.Boot(guestlib.emulator_argv(emu, parts["KERNEL"], initrd), BOOT_TIMEOUT)
    check_common(b, "sigill")
    check("sigill: a static ELF runs and exits 42 through svc",
          "EXIT42-STATUS=42" in b.console, b.tail())
    check("sigill: udf #0 in userspace kills the program with SIGILL (status 132)",
          "UDF-STATUS=132" in b.console, b.tail())
    check("sigill: the guest keeps running after the SIGILL",
          "STILL-ALIVE" in b.console, b.tail())


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    tessera, case = sys.argv[1], sys.argv[2]
    emu = sys.argv[3] if len(sys.argv) > 3 else tessera
    wd = guestlib.workdir()
    try:
        parts = guestlib.guest_parts()
        if case in ("smp1", "smp4"):
            run_cpus(emu, parts, wd, int(case[3:]))
        elif case == "reboot":
            run_reboot(emu, parts, wd)
        elif case == "sigill":
            run_sigill(emu, parts, wd)
        else:
            check("known case '%s'" % case, False, __doc__)
    except guestlib.GuestError as e:
        check("%s: guest parts prepared" % case, False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
