#!/bin/sh
# -vga and the pc/q35 default display (core/vga-cli.c), as TAP: QEMU's
# grammar (std, virtio, none; its other types and unknown ones are one
# error line), the default VGA at QEMU's slot (q35 00:01.0, pc 00:02.0),
# and what turns it off (-vga none, -nodefaults, a VGA-class -device). No
# guest: the boards start a fake bzImage stopped (-S) and the monitor's
# "info pci" is the judge.
#
#   test-vga-cli.sh TESSERA_BINARY
set -u

tessera=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
run_as=""

. "$(dirname "$0")/../lib/refuse.sh"

python3 "$(dirname "$0")/../lib/fake-bzimage.py" "$tmp/bzImage"
base="-kernel $tmp/bzImage -display none -S"

# pci_check NAME WANT ARGS...: start stopped with the monitor on stdin,
# "info pci", quit; WANT is the slot of the one VGA there, or "none".
pci_check() {
    name=$1 want=$2
    shift 2
    printf 'info pci\nquit\n' | "$tessera" $base -monitor stdio "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    count=$(grep -c "VGA controller: PCI device 1234:1111" "$tmp/out")
    if [ "$status" -ne 0 ] || ! grep -q "Host bridge" "$tmp/out"; then
        echo "# exit status $status"
        not_ok "$name"
    elif [ "$want" = none ] && [ "$count" = 0 ]; then
        ok "$name"
    elif [ "$want" != none ] && [ "$count" = 1 ] &&
        grep -A1 "device *$want, function 0:" "$tmp/out" | grep -q "VGA controller"; then
        ok "$name"
    else
        not_ok "$name"
    fi
}

pci_check "default/q35: a std VGA at 00:01.0" 1 -M q35
pci_check "default/pc: a std VGA at 00:02.0" 2 -M pc
pci_check "default/q35: made before -net nic, it keeps 00:01.0" 1 -M q35 -net nic -net none
pci_check "-vga std on q35 is the same VGA" 1 -M q35 -vga std
pci_check "-device VGA,xres=640,yres=480 replaces the default (one VGA)" 1 -M q35 \
    -device VGA,xres=640,yres=480
pci_check "-vga none drops the default" none -M q35 -vga none
pci_check "-nodefaults drops the default" none -M pc -nodefaults
pci_check "-device bochs-display (class 0x0380) keeps the default, as on QEMU" 1 -M q35 \
    -device bochs-display
refuse "-vga foo is one error line naming what exists" \
    "^tessera: -vga foo: unknown VGA type \(expected std, virtio or none\)" -- \
    -M q35 $base -vga foo
refuse "-vga cirrus (a QEMU type tessera does not model) is one error line" \
    "-vga cirrus: tessera has no cirrus VGA" -- -M q35 $base -vga cirrus
refuse "-vga virtio without a virtio-vga is one error line" \
    "-vga virtio: no plugin provides the virtio-vga device" -- -M q35 $base -vga virtio
refuse "-vga std with -device VGA: the second VGA is refused" \
    "legacy VGA ports and memory are taken" -- -M q35 $base -vga std -device VGA

echo "1..$n"
exit $failed
