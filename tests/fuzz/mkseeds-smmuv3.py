#!/usr/bin/env python3
"""Write the seed corpus of fuzz-smmuv3 (tests/fuzz/fuzz-smmuv3.c gives
the actions): inputs that reach the deep paths a random start rarely
finds: a linear stream table, a CD and 4K tables with translated DMA both
ways; commands (CFGI, TLBI, CMD_SYNC with MSI, a bad one acknowledged);
events from faults into a small event queue that overflows; a 2-level
stream table with the 64K granule; CMD_SYNCs whose MSI writes the
queue's own registers.

    mkseeds-smmuv3.py OUTDIR
"""
import os
import struct
import sys

GENERIC = 11   # fuzz-dev-common.c ACT_GENERIC
REG, STE, CD, DESC, RAW, CMD, DMA = (GENERIC + 0, GENERIC + 2, GENERIC + 3, GENERIC + 4,
                                     GENERIC + 5, GENERIC + 6, GENERIC + 7)
REGS = [0x20, 0x44, 0x50, 0x64, 0x68, 0x80, 0x88, 0x90, 0x98, 0x9c, 0xa0, 0x100a8, 0x100ac,
        0xb0]
STRTAB, CDADDR, CMDQ, EVTQ, L0, L1, L2, L3, PAGE = (0x10000, 0x18000, 0x20000, 0x22000,
                                                    0x30000, 0x31000, 0x32000, 0x33000,
                                                    0x40000)
EDU = 0x18  # 00:03.0: stream id 0x18


def u8(v):
    return struct.pack("<B", v)


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def addr(a):
    return u8(0) + u32(a)  # fz_addr kind 0: u32 % RAM


def reg32(reg, val):
    return u8(REG) + u8(REGS.index(reg)) + u32(val)


def reg64(reg, val):
    return u8(REG) + u8(REGS.index(reg)) + u64(val)


def raw(at, val):
    return u8(RAW) + u32(at) + u64(val)


def enable(cfg=8, cmd_log2=3, evt_log2=2):
    return (u8(REG) + u8(REGS.index(0x80)) + addr(STRTAB) +
            u8(REG) + u8(REGS.index(0x88)) + u8(cfg >> 16) + u8((cfg >> 6) & 0x1f) +
            u8(cfg & 0x3f) +
            u8(REG) + u8(REGS.index(0x90)) + addr(CMDQ) + u8(cmd_log2) +
            u8(REG) + u8(REGS.index(0xa0)) + addr(EVTQ) + u8(evt_log2) +
            reg64(0x50, 5) + u8(REG) + u8(REGS.index(0x20)) + u8(0xd))


def dma(iova, length, write):
    return u8(DMA) + u8(0) + u32(iova) + u8(0) + u8(length - 1) + u8(write)


def tables_4k():
    cd0 = 7 << 48 | 1 << 45 | 1 << 41 | 5 << 32 | 1 << 31 | 16
    return (raw(STRTAB + 64 * EDU, CDADDR | 5 << 1 | 1) + raw(CDADDR, cd0) +
            raw(CDADDR + 8, L0) + raw(L0, L1 | 3) + raw(L1 + 8, L2 | 3) + raw(L2, L3 | 3) +
            raw(L3, PAGE | 0x403) + raw(L3 + 8, PAGE + 0x1000 | 0x483))


def translation():
    return (tables_4k() + enable() + dma(0x40000010, 64, 1) +
            dma(0x40000010, 64, 0) + dma(0x40001000, 8, 1) + dma(0x40002000, 8, 0))


def cmd(op, d0hi, d1):
    # fz: op index, CS bits, d0 high word, d1 kind (1: u32)
    ops = [0x01, 0x03, 0x04, 0x05, 0x06, 0x10, 0x11, 0x12, 0x13, 0x20, 0x22, 0x30, 0x46,
           0x46, 0x7f, 0x44]
    return u8(CMD) + u8(ops.index(op)) + u8(1) + u32(d0hi) + u8(1) + u32(d1)


def commands():
    return (translation() + cmd(0x03, EDU, 1) + cmd(0x12, 7 << 16, 0x40000001) +
            cmd(0x11, 7 << 16, 0) + cmd(0x46, 0xcafe, 0x50000) + cmd(0x7f, 0, 0) +
            reg64(0x64, 1) + cmd(0x04, 0, 31) + cmd(0x30, 0, 0) + dma(0x40000000, 8, 0))


def events():
    return (translation() + b"".join(dma(0x50000000 + i * 0x1000, 4, i & 1)
                                     for i in range(6)) +
            reg32(0x100ac, 0x80000003) + dma(0x50000000, 4, 1))


def sync_msi_to_prod():
    # CMD_SYNCs whose MSI writes CMDQ_PROD itself: the queue must not run
    # again from inside its own command (re-entry)
    return (translation() + cmd(0x46, 5, 0x09050098) + cmd(0x46, 2, 0x09050098) +
            cmd(0x46, 1, 0x09050064) + dma(0x40000000, 8, 0))


def sync_msi_chases_prod():
    # a queue of 8 CMD_SYNCs, each MSI moving PROD 7 ahead of itself: the
    # queue never empties; one write of PROD runs one queue's worth
    syncs = b"".join(raw(CMDQ + 16 * i, 0x46 | 1 << 12 | ((i + 7) & 15) << 32) +
                     raw(CMDQ + 16 * i + 8, 0x09050098) for i in range(8))
    return translation() + syncs + reg32(0x98, 1) + dma(0x40000000, 8, 0)


def two_level_64k():
    cd0 = 9 << 48 | 1 << 45 | 1 << 41 | 5 << 32 | 1 << 31 | 1 << 6 | 22
    return (raw(STRTAB, 0x60000 | 9) + raw(0x60000 + 64 * EDU, CDADDR | 5 << 1 | 1) +
            raw(CDADDR, cd0) + raw(CDADDR + 8, 0x70000) + raw(0x70000 + 16, 0x80000 | 3) +
            raw(0x80000 + 8, 0x90000 | 0x403) + enable(cfg=1 << 16 | 8 << 6 | 16) +
            dma(0x40010004, 16, 0) + dma(0x40010004, 16, 1))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in (("translation-4k", translation()), ("commands-sync-error", commands()),
                       ("events-overflow", events()), ("two-level-64k", two_level_64k()),
                       ("sync-msi-writes-prod", sync_msi_to_prod()),
                       ("sync-msi-chases-prod", sync_msi_chases_prod())):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
