#!/usr/bin/env python3
"""Guest sequential read throughput through an NVMe controller (-device
nvme, Linux's nvme + nvme-core drivers): Debian's arm64 kernel in tessera
and in QEMU (qemu-system-aarch64 -M virt -cpu cortex-a57, TCG), the same
initramfs and the same raw image, alternately. Prints the median MB/s of
each and the ratio. Not a pass/fail test.

    tests/bench/nvme-guest.py [build/tessera] [runs (default 3)]

In the guest: dd if=/dev/nvme0n1 of=/dev/null bs=1M count=256 iflag=direct
(the benchmark itself is in guestbench.py).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestbench  # noqa: E402

# The nvme driver probes asynchronously: the script waits for the disk.
NVME = guestbench.Disk(title="nvme", device="nvme,drive=d0,serial=bench", modules=["nvme"],
                       path="/dev/nvme0n1", wait=True)

if __name__ == "__main__":
    sys.exit(guestbench.main(NVME))
