#!/usr/bin/env python3
"""Guest sequential read throughput through virtio-blk-pci: Debian's arm64
kernel in tessera and in QEMU (qemu-system-aarch64 -M virt -cpu cortex-a57,
TCG), the same initramfs and the same raw image, alternately. Prints the
median MB/s of each and the ratio. Not a pass/fail test.

    tests/bench/virtio-blk-guest.py [build/tessera] [runs (default 3)]

In the guest: dd if=/dev/vda of=/dev/null bs=1M count=256 iflag=direct
(the benchmark itself is in guestbench.py).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestbench  # noqa: E402

VIRTIO_BLK = guestbench.Disk(title="virtio-blk-pci", device="virtio-blk-pci,drive=d0",
                             modules=["virtio_pci", "virtio_blk"], path="/dev/vda", wait=False)

if __name__ == "__main__":
    sys.exit(guestbench.main(VIRTIO_BLK))
