#!/usr/bin/env python3
"""Boot Debian's amd64 kernel + busybox initramfs in tessera and in QEMU
(qemu-system-x86_64 -M q35 -cpu qemu64 -m 512M, TCG; QEMU boots through
SeaBIOS and runs the kernel's own XZ decompressor, tessera decompresses on
the host and enters startup_64), alternately; print boot, total, loop and
guest-MIPS medians and ratios (bootbench.py says what each figure is). Not
a pass/fail test.

    tests/bench/boot-amd64.py [build/tessera] [runs (default 3)]
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootbench  # noqa: E402
from bootbench import guestlib  # noqa: E402

CMDLINE = "console=ttyS0 panic=-1 cryptomgr.notests"


def guest_parts():
    script = os.path.join(guestlib.SRC_ROOT, "scripts", "guest-amd64")
    p = subprocess.run([script], capture_output=True, text=True)
    if p.returncode != 0:
        raise guestlib.GuestError("scripts/guest-amd64 failed:\n" + p.stderr.strip())
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def argv(emu, parts, initrd, extra):
    return [emu, "-M", "q35", "-cpu", "qemu64", "-smp", "1", "-m", "512M", "-nographic",
            "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd, "-append",
            CMDLINE] + list(extra)


if __name__ == "__main__":
    sys.exit(bootbench.main("amd64 boot on q35 (%s)" % CMDLINE, "qemu-system-x86_64",
                            guest_parts, argv))
