#!/usr/bin/env python3
"""Write the smallest bzImage board-q35 boots: a setup header (boot
protocol 2.12, loaded high) whose xz payload is an x86-64 ELF with one
PT_LOAD segment at 16 MiB holding `hlt; jmp .`. Enough for tests that need
q35 to get past -kernel without a real kernel (and as a fuzz seed).

    fake-bzimage.py OUT
"""
import lzma
import struct
import sys

LOAD = 0x1000000


def vmlinux():
    code = b"\xf4\xeb\xfd"  # hlt; jmp $-1
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0,
                       2, 62, 1, LOAD, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 7, 120, LOAD, LOAD, len(code), 0x1000, 0x1000)
    return ehdr + phdr + code


def bzimage():
    elf = vmlinux()
    payload = lzma.compress(elf, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    payload += struct.pack("<I", len(elf))
    setup_sects = 1
    img = bytearray((setup_sects + 1) * 512)
    img[0x1f1] = setup_sects
    struct.pack_into("<H", img, 0x1fe, 0xaa55)
    img[0x201] = 0x6a  # header length: 0x202 + 0x6a = 0x26c
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", img, 0x206, 0x020c)
    img[0x211] = 0x01  # LOADED_HIGH
    struct.pack_into("<I", img, 0x22c, 0x7fffffff)  # initrd_addr_max
    struct.pack_into("<I", img, 0x238, 2048)  # cmdline_size
    struct.pack_into("<I", img, 0x248, 0)  # payload_offset (after setup)
    struct.pack_into("<I", img, 0x24c, len(payload))
    struct.pack_into("<I", img, 0x260, 0x10000)  # init_size
    return bytes(img) + payload


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as f:
        f.write(bzimage())
