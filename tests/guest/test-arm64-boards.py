#!/usr/bin/env python3
"""guest suite: the virt board composed of swappable plugins. One boot of
Debian's arm64 kernel on `tessera -M virt` checks, through the guest:

  - a vendor's "pl011" (tests/fixtures/fixture-pl011.so, plugin acme-uart)
    given with -plugin replaces the stock UART: its marker reaches the
    console and the guest boots on it (console=ttyAMA0);
  - a second PL011 added with -device pl011,addr=,irq=,chardev=serial1 is
    ttyAMA1 in the guest: what the guest writes there lands in the file
    behind -serial file:;
  - an out-of-tree platform device (tests/fixtures/fixture-platdev.so,
    acme-timer: two regions, two interrupts, extra properties) added with
    -device shows up in /proc/device-tree with its reg, interrupts and
    properties, and its ID register reads back through /dev/mem.

    test-arm64-boards.py TESSERA FIXTURE_DIR
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from tesstest import check, tap_report  # noqa: E402

BOOT_TIMEOUT = 480
UART1_BASE, UART1_SPI = 0x0c000000, 112
PLAT_BASE, PLAT_SPI = 0x0c100000, 120
ACME_MARKER = "acme-uart: vendor pl011 model in use"

SCRIPT = """\
echo "TTYS=$(ls /dev/ttyAMA* | tr '\\n' ' ')"
echo tessera-uart1-hello > /dev/ttyAMA1 && echo "UART1-WRITE-OK"
d=/proc/device-tree/timer@c100000
hex() { od -An -tx1 -v "$1" | tr -d ' \\n'; }
echo "PLAT-COMPAT=$(tr '\\0' ' ' < $d/compatible)"
echo "PLAT-REG=$(hex $d/reg)"
echo "PLAT-IRQ=$(hex $d/interrupts)"
echo "PLAT-ANSWER=$(hex $d/acme,answer)"
echo "PLAT-LABEL=$(tr -d '\\0' < $d/acme,label)"
[ -e $d/dma-coherent ] && echo "PLAT-DMA-COHERENT"
echo "PLAT-ID=$(devmem 0x0c100000 32)"
"""


def cells(*vals):
    return "".join("%08x" % v for v in vals)


def run_platform(tessera, fixtures, parts, wd):
    uart1 = os.path.join(wd, "uart1.txt")
    initrd = guestlib.make_initrd(wd, parts["INITRD"], SCRIPT)
    extra = ["-serial", "mon:stdio", "-serial", "file:" + uart1,
             "-plugin", os.path.join(fixtures, "fixture-pl011.so"),
             "-plugin", os.path.join(fixtures, "fixture-platdev.so"),
             "-device", "pl011,addr=0x%x,irq=%d,chardev=serial1" % (UART1_BASE, UART1_SPI),
             "-device", "acme-timer,addr=0x%x,irq=%d" % (PLAT_BASE, PLAT_SPI)]
    b = guestlib.Boot(guestlib.emulator_argv(tessera, parts["KERNEL"], initrd, extra=extra),
                      BOOT_TIMEOUT)
    c = b.console
    check("platform: the guest boots to userspace and powers off (status 0)",
          not b.timed_out and b.status == 0 and guestlib.USERSPACE_MARKER in c
          and "tessera-guest: test.sh exited 0" in c, "status %s\n%s" % (b.status, b.tail()))
    check("-plugin acme-uart: its pl011 replaces virt's stock UART (marker on the console)",
          ACME_MARKER in c and c.index(ACME_MARKER) < c.index("Booting Linux"), b.tail())
    check("-device pl011: the guest probes a second PL011 as ttyAMA1",
          "ttyAMA0" in c and "/dev/ttyAMA1" in c
          and "c000000.pl011: ttyAMA1 at MMIO 0xc000000" in c, b.tail())
    with open(uart1, errors="replace") as f:
        out1 = f.read()
    check("-device pl011: what the guest writes to ttyAMA1 reaches serial1's file",
          "UART1-WRITE-OK" in c and "tessera-uart1-hello" in out1,
          "serial1 file: %r\n%s" % (out1[-200:], b.tail()))
    want = {
        "PLAT-COMPAT=acme,timer-v2 acme,timer": "compatible from the type",
        "PLAT-REG=" + cells(0, PLAT_BASE, 0, 0x1000, 0, PLAT_BASE + 0x1000, 0, 0x200):
            "reg: both regions, the second after the first",
        "PLAT-IRQ=" + cells(0, PLAT_SPI, 4, 0, PLAT_SPI + 1, 4):
            "interrupts: SPIs irq= and irq=+1, level",
        "PLAT-ANSWER=" + cells(42): "an extra u32 property",
        "PLAT-LABEL=tessera-platdev": "an extra string property",
        "PLAT-DMA-COHERENT": "an extra empty property",
        "PLAT-ID=0xAC3E7173": "its ID register read through /dev/mem (mapped at addr=)",
    }
    for line, what in want.items():
        check("-device acme-timer: /proc/device-tree shows it: %s" % what
              if "ID" not in line else "-device acme-timer: %s" % what,
              line in c, "wanted '%s'\n%s" % (line, b.tail(40)))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    tessera, fixtures = sys.argv[1], sys.argv[2]
    wd = guestlib.workdir()
    try:
        run_platform(tessera, fixtures, guestlib.guest_parts(), wd)
    except guestlib.GuestError as e:
        check("platform: guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
