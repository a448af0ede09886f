#!/usr/bin/env python3
"""Write the smallest bzImage board-q35 boots: a setup header (boot
protocol 2.12, loaded high) whose xz payload is an x86-64 ELF with one
PT_LOAD segment at 16 MiB holding `hlt; jmp .`. Enough for tests that need
q35 to get past -kernel without a real kernel (and as a fuzz seed). A test
may give its own 64-bit code instead (bzimage(code): entered at 16 MiB in
long mode, the first 4 GiB identity mapped, interrupts off).

    fake-bzimage.py OUT
"""
import lzma
import struct
import sys
import zlib

LOAD = 0x1000000


def vmlinux(code=b"\xf4\xeb\xfd"):  # hlt; jmp $-1
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0,
                       2, 62, 1, LOAD, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 7, 120, LOAD, LOAD, len(code), 0x1000, 0x1000)
    return ehdr + phdr + code


def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7f | 0x80])
        n >>= 7
    return out + bytes([n])


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def xz_stored(data):
    """An .xz stream (no integrity check) holding data in LZMA2
    uncompressed chunks: every byte of data is in the file as is, so a
    fuzzer's mutations of it reach the ELF parser instead of breaking the
    decompression."""
    crc = lambda b: struct.pack("<I", zlib.crc32(b))
    flags = b"\0\0"  # check: none
    header = b"\xfd7zXZ\0" + flags + crc(flags)
    bh = pad4(bytes([0, 0x00, 0x21, 0x01, 0x00]))  # one filter: LZMA2, 4 KiB dict
    bh = bytes([(len(bh) + 4) // 4 - 1]) + bh[1:]
    bh += crc(bh)
    chunks = b""
    for i in range(0, len(data), 0x10000):
        part = data[i:i + 0x10000]
        chunks += bytes([1 if i == 0 else 2]) + struct.pack(">H", len(part) - 1) + part
    chunks += b"\0"
    block = bh + pad4(chunks)
    index = pad4(b"\0" + varint(1) + varint(len(bh) + len(chunks)) + varint(len(data)))
    index += crc(index)
    back = struct.pack("<I", len(index) // 4 - 1) + flags
    return header + block + index + crc(back) + back + b"YZ"


def bzimage(code=None):
    elf = vmlinux(code) if code else vmlinux()
    payload = xz_stored(elf) + struct.pack("<I", len(elf))
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


assert lzma.decompress(xz_stored(b"check" * 99)) == b"check" * 99

if __name__ == "__main__":
    with open(sys.argv[1], "wb") as f:
        f.write(bzimage())
