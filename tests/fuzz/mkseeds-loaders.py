#!/usr/bin/env python3
"""Write the seed corpus of fuzz-loaders (tests/fuzz/fuzz-loaders.c gives
the input layout): arm64 Images with and without initrd and -dtb, and the
fake bzImage of tests/lib/fake-bzimage.py with an initrd and -append.

    mkseeds-loaders.py OUTDIR
"""
import importlib.util
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "fake_bzimage", os.path.join(HERE, "..", "lib", "fake-bzimage.py"))
fake = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fake)

DTS = """/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>; compatible = "linux,dummy-virt";
    chosen { stdout-path = "/pl011@9000000"; };
    memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x1000000>; }; };
"""


def arm64_image(text_offset=0, image_size=0x20000, flags=0x2, body=256):
    hdr = struct.pack("<IIQQQQQQ4sI", 0x14000010, 0, text_offset, image_size, flags,
                      0, 0, 0, b"ARM\x64", 0)
    return hdr + b"\x00" * body


def seed(board, ram, kernel, initrd=b"", append=b"", dtb=b""):
    return (bytes([board, ram]) + struct.pack("<II", len(kernel), len(initrd)) +
            bytes([len(append)]) + kernel + initrd + append + dtb)


def dtb():
    try:
        return subprocess.run(["dtc", "-I", "dts", "-O", "dtb"], input=DTS.encode(),
                              capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return b""


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {
        "arm64-image": seed(0, 0, arm64_image()),
        "arm64-image-initrd-append": seed(0, 1, arm64_image(), b"\x07" * 300,
                                          b"console=ttyAMA0 rdinit=/init"),
        "arm64-image-old-no-size": seed(0, 0, arm64_image(image_size=0)),
        "arm64-image-dtb": seed(0, 2, arm64_image(), b"\x01" * 64, b"quiet", dtb()),
        "amd64-bzimage": seed(1, 1, fake.bzimage()),
        "amd64-bzimage-initrd-append": seed(1, 2, fake.bzimage(), b"\x07" * 300,
                                            b"console=ttyS0 rdinit=/init"),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
