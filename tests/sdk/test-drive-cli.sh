#!/bin/sh
# -hda..-hdd, -cdrom and -drive if=ide|virtio|scsi|none as a user sees
# them (issue 13): exit status and the one error line, or the device the
# board got. No guest: q35 boots a fake bzImage stopped (-S).
#
#   test-drive-cli.sh TESSERA_BINARY
set -u

tessera=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
run_as=""
. "$(dirname "$0")/../lib/refuse.sh"

python3 "$(dirname "$0")/../lib/fake-bzimage.py" "$tmp/bzImage"
# An arm64 Image header (magic "ARM\x64" at 56) with nothing to run: -S.
python3 -c 'import struct, sys
h = bytearray(4096)
struct.pack_into("<QQQ", h, 8, 0, 4096, 0xa)
h[56:60] = b"ARM\x64"
open(sys.argv[1], "wb").write(h)' "$tmp/Image"
truncate -s 1M "$tmp/a.img"
truncate -s 1M "$tmp/b.img"
q35="-M q35 -kernel $tmp/bzImage -display none -S"
virt="-M virt -kernel $tmp/Image -display none -S"

# ---- IDE: ide-hd/ide-cd come from the ata plugin ----
if "$tessera" -device help 2>/dev/null | grep -q '"ide-hd"'; then
    base=$q35
    monitor_shows "ide/q35: -hda is an ide-hd on ide.0" "info qtree" \
        'dev: ide-hd' -hda "$tmp/a.img"
    monitor_shows "ide/q35: -cdrom is an ide-cd on ide.2" "info qtree" \
        'dev: ide-cd' -cdrom "$tmp/a.img"
else
    refuse "ide/q35: -hda without the IDE devices is the core's unknown-device line" \
        "^tessera: unknown device 'ide-hd'" -- $q35 -hda "$tmp/a.img"
    refuse "ide/q35: -cdrom likewise names ide-cd" \
        "^tessera: unknown device 'ide-cd'" -- $q35 -cdrom "$tmp/a.img"
fi
refuse "ide/virt: if=ide on a board without IDE is QEMU's line" \
    "^tessera: machine type does not support if=ide,bus=0,unit=0\$" -- \
    $virt -drive "file=$tmp/a.img,if=ide"
refuse "ide/q35: -hdc and -cdrom both want index 2" \
    "^tessera: drive: a drive with if=ide,bus=2,unit=0 \(index=2\) exists\$" -- \
    $q35 -hdc "$tmp/a.img" -cdrom "$tmp/b.img"
refuse "ide/q35: an index beyond the board's buses is refused" \
    "^tessera: (machine type does not support if=ide,bus=9,unit=0|unknown device 'ide-hd')" -- \
    $q35 -drive "file=$tmp/a.img,if=ide,index=9"
refuse "ide/q35: index= with bus= is refused" \
    "^tessera: drive: index cannot be used with bus and unit\$" -- \
    $q35 -drive "file=$tmp/a.img,if=ide,index=1,bus=1"

# ---- virtio, scsi, none ----
base=$virt
monitor_shows "virtio/virt: -hda takes the board's default, virtio-blk-pci" "info qtree" \
    'dev: virtio-blk-pci' -hda "$tmp/a.img"
base=$q35
monitor_shows "virtio/q35: if=virtio is a virtio-blk-pci named virtio0" "info qtree" \
    'drive = "virtio0"' -drive "file=$tmp/a.img,if=virtio,format=raw"
refuse "scsi: if=scsi is one clear line" \
    "^tessera: drive: if=scsi is not supported yet" -- $q35 -drive "file=$tmp/a.img,if=scsi"
refuse "none: -hda on a board without a default interface is one line" \
    "^tessera: drive: this machine has no default disk interface" -- \
    -M none -display none -S -hda "$tmp/a.img"
refuse "none: an unknown if= is refused" \
    "^tessera: drive: unsupported bus type 'usb'" -- $q35 -drive "file=$tmp/a.img,if=usb"
refuse "none: a missing -hda image names the file" \
    "$tmp/missing\.img" "No such file" -- $virt -hda "$tmp/missing.img"

# ---- the tutorial's lines (raw images until qcow2 probing lands) ----
monitor_shows "tutorial: nvme on an if=none drive given after it" "info pci" \
    "1b36:0010" -device nvme,drive=nvme0,serial=deadbeaf1,num_queues=8 \
    -drive "file=$tmp/a.img,if=none,id=nvme0,format=raw"
monitor_shows "tutorial: virtio-blk-pci,num-queues=4 on an if=none drive" "info qtree" \
    'id "virtblk0"' -device virtio-blk-pci,drive=drive0,id=virtblk0,num-queues=4 \
    -drive "file=$tmp/a.img,if=none,id=drive0,format=raw"
monitor_shows "tutorial: -display none -accel tcg are accepted" "info status" \
    "VM status: (paused|prelaunch)" -accel tcg
refuse "tutorial: q35,accel=kvm,kernel_irqchip=split is QEMU's kvm failure" \
    "failed to initialize kvm" -- -machine q35,accel=kvm,kernel_irqchip=split \
    -kernel "$tmp/bzImage" -S
"$tessera" -machine q35,accel=kvm:tcg,kernel_irqchip=split -kernel "$tmp/bzImage" -S \
    -display none -monitor stdio </dev/null >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ] && [ "$(grep -c . "$tmp/err")" -eq 1 ] &&
    grep -q "^tessera: warning: .*kvm.*; falling back to tcg\$" "$tmp/err"; then
    ok "accel: kvm:tcg falls back to tcg with one warning line"
else
    not_ok "accel: kvm:tcg falls back to tcg with one warning line"
fi

echo "1..$n"
exit $failed
