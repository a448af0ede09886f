#!/bin/sh
# sdk: every device a board creates is found by type name, so -plugin
# swaps it for a vendor's (tests/fixtures: acme-uart's "pl011" on virt,
# acme-serial's "isa-serial" on q35). Without a guest: the boards create
# their devices before dumping their firmware tables, and the vendor
# models print a marker on their console at realize. TAP output.
#
#   test-board-swap.sh TESSERA FIXTURE_DIR
set -u
TESSERA=$1
FIX=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; printf '%s\n' "$2" | sed 's/^/# /'; }

# swap NAME MACHINE-ARGS... -- FIXTURE MARKER
run_swap() {
    what=$1 fixture=$2 marker=$3
    shift 3
    out=$("$TESSERA" -nographic "$@" -plugin "$FIX/$fixture" </dev/null 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q "$marker"; then
        ok "$what"
    else
        not_ok "$what" "exit $rc: $out"
    fi
    out=$("$TESSERA" -nographic "$@" </dev/null 2>&1)
    if printf '%s' "$out" | grep -q "$marker"; then
        not_ok "$what: without -plugin the stock model is used" "$out"
    else
        ok "$what: without -plugin the stock model is used"
    fi
}

run_swap "virt: -plugin fixture-pl011.so replaces the stock pl011 (serial0)" \
    fixture-pl011.so "acme-uart: vendor pl011 model in use" \
    -M "virt,dumpdtb=$tmp/virt.dtb"
run_swap "q35: -plugin fixture-serial.so replaces the stock isa-serial (COM1)" \
    fixture-serial.so "acme-serial: vendor 16550A model in use" \
    -M "q35,dumpacpi=$tmp"
echo "1..$n"
exit $failed
