#!/usr/bin/env python3
"""Write the seed corpus of fuzz-intel-iommu (tests/fuzz/fuzz-intel-iommu.c
gives the actions): inputs that reach the deep paths a random start
rarely finds: a 3-level translation enabled and used both ways, queued
invalidation with a wait descriptor, and interrupt remapping of an MSI.

    mkseeds-intel-iommu.py OUTDIR
"""
import os
import struct
import sys

GENERIC = 11   # fuzz-dev-common.c ACT_GENERIC
REG, PLANT, DMA, MSI = GENERIC + 0, GENERIC + 3, GENERIC + 4, GENERIC + 7
REGS = [0x18, 0x20, 0x28, 0x2c, 0x34, 0x38, 0x3c, 0x40, 0x88, 0x90, 0x9c, 0xa0, 0xa4, 0xa8,
        0xb8, 0x200, 0x208, 0x20c, 0x22c, 0x238, 0x248, 0x258]
ROOT, CTX, L3, L2, L1, PAGE, IQ, IRT = (0x10000, 0x11000, 0x12000, 0x13000, 0x14000,
                                        0x20000, 0x30000, 0x40000)
EDU = 0x18  # 00:03.0


def u8(v):
    return struct.pack("<B", v)


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def gcmd(bits):
    return u8(REG) + u8(REGS.index(0x18)) + u16(bits >> 23)


def ptr_reg(reg, addr, low=0):
    # fz_addr: kind 0 = u32 % RAM, then the low bits byte
    return u8(REG) + u8(REGS.index(reg)) + u8(0) + u32(addr) + u8(low)


def entry(at, target, kind=0x2):
    return u8(PLANT) + u32(at) + u8(kind) + u32(target)


def ctx_hi(at, aw, did):
    return u8(PLANT) + u32(at) + u8(1 | aw << 1) + u16(did)


def dma(iova, length, write):
    return u8(DMA) + u8(0) + u32(iova) + u8(0) + u8(length - 1) + u8(write)


def translation():
    return (u8(0) + entry(ROOT, CTX, 0) + entry(CTX + 16 * EDU, L3, 0) +
            ctx_hi(CTX + 16 * EDU + 8, 1, 1) + entry(L3 + 8, L2) + entry(L2, L1) +
            entry(L1, PAGE) + ptr_reg(0x20, ROOT) + gcmd(1 << 30) + gcmd(1 << 31) +
            dma(0x40000010, 64, 1) + dma(0x40000010, 64, 0) + dma(0x40001000, 8, 1))


def queued():
    # planted entries have bit 0 set: a context-cache invalidation (0x1),
    # then a wait descriptor (0x5)
    return (translation() + ptr_reg(0x90, IQ) + gcmd(1 << 31 | 1 << 26) +
            entry(IQ, 0, 0) + entry(IQ + 16, 0x1000, 0x4) +
            u8(REG) + u8(REGS.index(0x88)) + u16(2) + dma(0x40000010, 8, 0))


def remapped():
    irte_lo = u8(PLANT) + u32(IRT + 16 * 5) + u8(0x80) + u8(0x40) + u8(3)
    return (u8(4) + irte_lo +
            u8(REG) + u8(REGS.index(0xb8)) + struct.pack("<Q", IRT | 7) +
            gcmd(1 << 24) + gcmd(1 << 25) +
            u8(MSI) + u32(5 << 5 | 0x10) + u32(0) + u8(MSI) + u32(0) + u32(0x30))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in (("translate-3level-read-write", translation()),
                       ("queued-invalidation-wait", queued()),
                       ("intremap-msi-and-compat-blocked", remapped())):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
