#!/bin/sh
# Host input the first fuzzing campaign found silently accepted, misread or
# destructive (issue 11), as TAP: each bad command line must end the
# process non-zero with one clear line; the good neighbours must still run.
# No guest: q35 boots a fake bzImage stopped (-S), virt dumps its DT.
#
#   test-host-input.sh TESSERA_BINARY
set -u

tessera=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
run_as=""

. "$(dirname "$0")/../lib/refuse.sh"

base="-M none -display none -S"
python3 "$(dirname "$0")/../lib/fake-bzimage.py" "$tmp/bzImage"
q35="-M q35 -kernel $tmp/bzImage -display none -S"
virt="-M virt,dumpdtb=$tmp/virt.dtb -display none -S"
truncate -s 1M "$tmp/a.img"
truncate -s 1M "$tmp/b.img"
drives="-drive file=$tmp/a.img,if=none,id=d0,format=raw -drive file=$tmp/b.img,if=none,id=d1,format=raw"

# ---- one drive backs one device; nvme serials are unique ----
refuse "drive/one-device: two nvme on one drive (drive= before id=) are refused" \
    "drive 'd0' is already in use by device 'nvme'" -- \
    $base $drives -device nvme,drive=d0,serial=a -device nvme,drive=d0,serial=b
refuse "drive/one-device: two virtio-blk-pci on one drive are refused" \
    "drive 'd0' is already in use" -- \
    $base $drives -device virtio-blk-pci,drive=d0 -device virtio-blk-pci,drive=d0,id=v1
refuse "drive/one-device: nvme then virtio-blk with ids on one drive is refused" \
    "drive 'd0' is already in use by device 'n0'" -- \
    $base $drives -device nvme,id=n0,drive=d0,serial=a -device virtio-blk-pci,drive=d0
refuse "nvme/serial-unique: two controllers with one serial are refused" \
    "serial 'a' is already used by another nvme controller" -- \
    $base $drives -device nvme,drive=d0,serial=a -device nvme,drive=d1,serial=a
monitor_shows "nvme/serial-unique: two drives, two serials start" "info pci" \
    "PCI device 1b36:0010.*" $drives -device nvme,drive=d0,serial=a -device nvme,drive=d1,serial=b

# ---- host files are never deleted by a socket option ----
for opt in -qmp -serial; do
    echo "precious" >"$tmp/file.txt"
    refuse "socket-path/keeps-files: $opt unix:FILE refuses a regular file" \
        "^tessera: $opt: '$tmp/file\.txt' exists and is not a socket; not replacing it\$" -- \
        $base $opt "unix:$tmp/file.txt,server=on,wait=off"
    if [ "$(cat "$tmp/file.txt" 2>/dev/null)" = precious ]; then
        ok "socket-path/keeps-files: $opt unix:FILE leaves the file as it was"
    else
        not_ok "socket-path/keeps-files: $opt unix:FILE leaves the file as it was"
    fi
done
long=$tmp/$(printf '%0120d' 0).sock
refuse "socket-path/not-truncated: a -qmp path over 107 bytes is refused" \
    "-qmp: socket path '.*' is too long \(1\.\.107 bytes\)" -- \
    $base -qmp "unix:$long,server=on,wait=off"
refuse "socket-path/not-truncated: a -serial path over 107 bytes is refused" \
    "-serial: socket path '.*' is too long" -- \
    $base -serial "unix:$long,server=on,wait=off"
# A stale socket of an earlier run (nobody listening) is replaced.
if python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" \
    "$tmp/stale.sock" 2>/dev/null; then
    monitor_shows "socket-path/stale-socket: a stale -qmp socket is replaced" "info status" \
        "VM status" -qmp "unix:$tmp/stale.sock,server=on,wait=off"
else
    n=$((n + 1))
    echo "ok $n # SKIP stale socket: python3 cannot bind a Unix socket here"
fi

# ---- names are unique ----
refuse "names/unique: a duplicate id is refused with QEMU's words" \
    "^tessera: Duplicate ID 'e0' for device\$" -- \
    $base -device edu,id=e0 -device edu,id=e0
refuse "names/unique: an automatic name skips a user id (edu.0 taken, next is edu.1)" \
    "^tessera: Duplicate ID 'edu\.1' for device\$" -- \
    $base -device edu,id=edu.0 -device edu -device edu,id=edu.1
refuse "names/unique: a user id may not take an automatic name" \
    "^tessera: Duplicate ID 'edu\.0' for device\$" -- \
    $base -device edu -device edu,id=edu.0

# ---- -M none: no CPUs, no kernel ----
refuse "none/cpu: an unknown -cpu is refused" \
    "unknown CPU model 'nosuchcpu'" -- $base -cpu nosuchcpu
refuse "none/cpu: a -cpu on a machine without CPUs is refused" \
    "machine 'none' has no CPUs: -cpu cannot be used" -- $base -cpu cortex-a57
refuse "none/smp: -smp 64 on a machine without CPUs is refused" \
    "machine 'none' has no CPUs: -smp cannot be used" -- $base -smp 64
refuse "none/kernel: -kernel is refused (a missing file went unnoticed)" \
    "-kernel parameter is not supported" -- $base -kernel "$tmp/missing"
for opt in -initrd -append -dtb; do
    refuse "boot-options: $opt without -kernel is refused" \
        "^tessera: $opt only allowed with -kernel option\$" -- $base $opt x
done

# ---- -smp ----
refuse "smp/overflow: sockets=4096,cores=4096,threads=4096 is refused, not 1 CPU" \
    "-smp: 68719476736 CPUs is more than 4096" -- \
    $base -smp sockets=4096,cores=4096,threads=4096
refuse "smp/maxcpus: maxcpus=128 on the 64-CPU virt is refused" \
    "machine 'virt' supports at most 64 CPUs, got maxcpus=128" -- \
    $virt -smp 2,maxcpus=128
refuse "virt/gic-version: -smp 9 with gic-version=2 is refused (8 CPU interfaces)" \
    "gic-version=2 serves up to 8 vCPUs, -smp asks for 9" -- \
    -M virt,gic-version=2,dumpdtb=$tmp/virt.dtb -display none -S -smp 9
refuse "virt/gic-version: an unknown gic-version is one line" \
    "property 'gic-version' wants 2, 3 or max, got '4'" -- \
    -M virt,gic-version=4,dumpdtb=$tmp/virt.dtb -display none -S
refuse "smp/topology: a topology that does not multiply out is refused" \
    "sockets \(1\) \* cores \(1\) \* threads \(1\) != maxcpus \(2\)" -- \
    $virt -smp 2,sockets=1,cores=1,threads=1

# ---- boards ----
refuse "q35/dtb: -dtb is refused, not ignored" \
    "machine 'q35': -dtb is not supported" -- \
    -M q35 -display none -S -kernel "$tmp/a.img" -dtb "$tmp/b.img"
mkdir "$tmp/dir"
for m in q35 virt; do
    refuse "$m/kernel-directory: a directory as -kernel is named as such" \
        "^tessera: machine '$m': kernel '$tmp/dir' is a directory\$" -- \
        -M $m -display none -S -kernel "$tmp/dir"
done

# ---- crafted images found by fuzz-loaders ----
# An arm64 Image header (magic at 0x38) and nothing else.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(0x38) + b"ARM\x64" + bytes(8))' \
    >"$tmp/Image"
refuse "virt/dtb-checked: a -dtb whose blocks overlap is refused (heap corruption before)" \
    "^tessera: machine 'virt': dtb '.*dtb-blocks-overlap\.dtb': not a valid flattened device tree \(version 17" -- \
    -M virt -display none -S -m 64M -kernel "$tmp/Image" \
    -dtb "$(dirname "$0")/data/dtb-blocks-overlap.dtb"
# The kernel of a fuzz-loaders input (layout in tests/fuzz/fuzz-loaders.c).
fuzz_kernel() {
    python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(d[11:11 + struct.unpack("<I", d[2:6])[0]])' "$1"
}
fuzz_kernel "$(dirname "$0")/../fuzz/corpus/fuzz-loaders/bzimage-segment-size-wraps" \
    >"$tmp/bz-wrap"
refuse "q35/elf-checked: a vmlinux segment size that wraps is refused (SIGSEGV before)" \
    "vmlinux segment at 0x1000000 \(\+0xffffffffffffe800\) does not fit in RAM" -- \
    -M q35 -display none -S -m 32M -kernel "$tmp/bz-wrap"

# The payload's last word says how big the kernel is once decompressed.
python3 -c 'import sys; d = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(d[:-4] + b"\xff\xff\xff\xff")' "$tmp/bzImage" >"$tmp/bz-4g"
refuse "q35/xz-size-capped: a payload claiming 4 GiB is refused before allocating it" \
    "the payload says it decompresses to 4294967295 bytes" -- \
    -M q35 -display none -S -m 64M -kernel "$tmp/bz-4g"

# ---- -drive values ----
refuse "drive/values: cache=bogus is refused" \
    "cache=bogus is invalid \(expected none\|writeback" -- \
    $base -drive "file=$tmp/a.img,if=none,id=d0,cache=bogus"
refuse "drive/values: aio=nonsense is refused" \
    "aio=nonsense is invalid" -- \
    $base -drive "file=$tmp/a.img,if=none,id=d0,aio=nonsense"
refuse "drive/values: a directory is refused, read-only too" \
    "'$tmp/dir' is a directory, not a disk image" -- \
    $base -drive "file=$tmp/dir,if=none,id=d0,readonly=on"
monitor_shows "drive/values: QEMU's cache=none,aio=io_uring,discard=unmap start" "info status" \
    "VM status" -drive "file=$tmp/a.img,if=none,id=d0,cache=none,aio=io_uring,discard=unmap"

# ---- board-internal devices ----
for dev in mch ICH9-LPC q35-pcihost i8259 ioapic i8254 mc146818rtc i8042; do
    refuse "board-internal: -device $dev on q35 is refused" \
        "device '$dev' is part of the board that creates it" -- $q35 -device $dev
done
for dev in arm-gic gpex-pcihost gpex-root virtio-mmio; do
    refuse "board-internal: -device $dev on virt is refused" \
        "device '$dev' is part of the board that creates it" -- $virt -device $dev
done
refuse "board-internal: -device pl011 on q35 (no platform devices) is refused" \
    "machine 'q35' does not place platform devices: device 'pl011\.0' \(pl011\)" -- \
    $q35 -device pl011
refuse "board-internal: -device pl031 on none is refused" \
    "machine 'none' does not place platform devices" -- $base -device pl031
"$tessera" $virt -device pl011,addr=0x0c000000,irq=112 >"$tmp/out" 2>"$tmp/err" </dev/null
if [ $? -eq 0 ] && command -v dtc >/dev/null &&
    dtc -I dtb -O dts "$tmp/virt.dtb" 2>/dev/null | grep -q "pl011@c000000"; then
    ok "board-internal: a second pl011 on virt is still placed (pl011@c000000 in the DT)"
elif ! command -v dtc >/dev/null; then
    n=$((n + 1))
    echo "ok $n # SKIP second pl011 on virt: no dtc"
else
    not_ok "board-internal: a second pl011 on virt is still placed (pl011@c000000 in the DT)"
fi

echo "1..$n"
exit $failed
