#!/usr/bin/env python3
"""Write the seed corpus of fuzz-virtio-gpu (tests/fuzz/fuzz-virtio-gpu.c
gives the actions): the driver's fbdev sequence (create, attach, set
scanout, transfer, flush) then the spec check; the same across a
migration; display info and EDID; fenced and unknown commands; cursor
commands; events_clear.

    mkseeds-virtio-gpu.py OUTDIR
"""
import os
import struct
import sys

GENERIC = 11  # fuzz-dev-common.c ACT_GENERIC
MIGRATE = 9
CMD, CURSOR, CONFIG, REAP, CHECK = GENERIC + 2, GENERIC + 3, GENERIC + 4, GENERIC + 5, GENERIC + 7
TYPES = [0x100, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106, 0x107, 0x10a, 0x108, 0x200, 0x300]


def b(*v):
    return bytes(v)


def cmd(slot, t, body, fence=False):
    sel = TYPES.index(t) | (0x40 if fence else 0)
    return b(CMD, slot, sel) + struct.pack("<Q", 0x1000 + slot) + body


def create(slot, res, fmt_index, w, h):
    return cmd(slot, 0x101, b(res, fmt_index, w, h))


def rect(x, y, w, h):
    return b(x, y, w, h)


def fbdev(fence=False):
    return (create(0, 1, 1, 64, 64)
            + cmd(1, 0x106, b(1, 4) + b(0x00, 0x10, 0x20, 0x30), fence)  # 4 pages
            + cmd(2, 0x103, b(1) + rect(0, 0, 64, 64) + b(0), fence)
            + cmd(3, 0x105, b(1) + rect(0, 0, 64, 64) + b(0) + struct.pack("<H", 0), fence)
            + cmd(4, 0x104, b(1) + rect(0, 0, 64, 64), fence)
            + b(REAP))


SEEDS = {
    "fbdev-sequence-then-spec-check": b(0) + fbdev() + b(CHECK, 7),
    "fbdev-fenced-migrate-then-spec-check": b(3) + fbdev(True) + b(MIGRATE, 0) + b(CHECK, 9),
    "display-info-and-edid": b(0) + cmd(0, 0x100, b()) + cmd(1, 0x10a, b(0))
    + cmd(2, 0x10a, b(2)) + b(REAP),
    "unknown-and-3d-commands-fenced": b(4) + cmd(0, 0x200, b(0), True)
    + b(CMD, 1, 0xc0) + struct.pack("<IQ", 0x12345, 7) + b(0, 3) + b(REAP),
    "cursor-update-and-move": b(0) + b(CURSOR, 0, 0) + bytes(range(8))
    + b(CURSOR, 1, 1) + bytes(range(8)) + b(REAP),
    "events-clear-and-config-reads": b(0) + b(CONFIG, 0) + struct.pack("<I", 1)
    + b(CONFIG, 0x81, 8) + b(REAP),
    "unref-detach-while-shown": b(0) + fbdev() + cmd(5, 0x107, b(1)) + cmd(6, 0x102, b(1))
    + b(REAP, CHECK, 3),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
