#!/usr/bin/env python3
"""Boot Debian's arm64 kernel + busybox initramfs in tessera and in QEMU
(qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512M, TCG), alternately;
print boot, total, loop and guest-MIPS medians and ratios (bootbench.py
says what each figure is). Not a pass/fail test.

    tests/bench/boot-arm64.py [build/tessera] [runs (default 3)]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootbench  # noqa: E402
from bootbench import guestlib  # noqa: E402


def argv(emu, parts, initrd, extra):
    return guestlib.emulator_argv(emu, parts["KERNEL"], initrd, extra=extra)


if __name__ == "__main__":
    sys.exit(bootbench.main("arm64 boot (%s)" % guestlib.CMDLINE, "qemu-system-aarch64",
                            guestlib.guest_parts, argv))
