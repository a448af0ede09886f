#!/bin/sh
# sdk: CPU plugins carry CPUs and nothing else. Boards (virt, q35) and
# platform devices (GIC, UARTs, RTCs, ...) are plugins of their own that
# use the CPUs through the SDK's CPU<->board interface, so a vendor's board
# can use the stock CPUs and a user can swap any device. TAP output.
#
#   test-cpu-no-board.sh TESSERA CPU-PLUGIN.so [BOARD_RE] ...
#
# For each CPU plugin: nm -D shows the descriptor only, no import of a
# board library (libfdt for device trees, liblzma for kernel images); its
# symbol table holds no board or platform-device code (names matching
# BOARD_RE); tessera lists only CPU types for it.
set -u
TESSERA=$1
shift
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; printf '%s\n' "$2" | sed 's/^/# /'; }
check() { if [ -z "$2" ]; then ok "$1"; else not_ok "$1" "$2"; fi; }

# Function and data symbols of board and platform-device code.
BOARD_RE='^(virt|gic|pl011|pl031|fdt|q35|acpi|ich9|lpc|ioapic|pic|pit|rtc|i8042|kbd|serial|uart|e820|bzimage|kernel)_'

while [ $# -gt 0 ]; do
    so=$1
    shift
    name=$(basename "$so" .so)
    if [ ! -f "$so" ]; then
        not_ok "$name: plugin built" "$so is missing"
        continue
    fi
    exports=$(nm -D --defined-only "$so" | awk '{ print $NF }' | grep -v '^_' | sort -u)
    check "$name: nm -D exports only tessera_plugin_v1" \
        "$([ "$exports" = tessera_plugin_v1 ] || echo "exports: $exports")"
    board_libs=$(nm -D --undefined-only "$so" | awk '{ print $NF }' | grep -E '@(LIBFDT|XZ)_')
    check "$name: nm -D imports no board library (libfdt, liblzma)" "$board_libs"
    board_syms=$(nm "$so" | awk 'NF == 3 { print $3 }' | grep -E "$BOARD_RE")
    check "$name: no board or platform-device code in its symbol table" "$board_syms"
    types=$(TESSERA_PLUGIN_PATH="$so" "$TESSERA" --list-plugins 2>&1 |
            grep -F "$so:" | sed 's/.*\.so: //')
    non_cpu=$(printf '%s\n' "$types" | tr ',' '\n' | sed 's/^ *//' | grep -v '(cpu)$')
    check "$name: provides only CPU types ($types)" \
        "$([ -n "$types" ] || echo "no types listed")$non_cpu"
done
echo "1..$n"
exit $failed
