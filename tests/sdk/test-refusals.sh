#!/bin/sh
# Refusal cases of the tessera binary, as TAP: each bad plugin or bad option
# must end the process non-zero with one clear line on stderr naming what is
# wrong; the good cases must start.
#
#   test-refusals.sh TESSERA_BINARY FIXTURE_DIR
#
# FIXTURE_DIR holds the fixture plugins of tests/fixtures.
set -u

tessera=$1
fx=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}

not_ok() {
    n=$((n + 1))
    failed=1
    echo "not ok $n - $1"
    sed 's/^/# /' "$tmp/err" "$tmp/out"
}

# refuse NAME PATTERN... -- ARGS: tessera ARGS exits non-zero, stderr is one
# line and matches every PATTERN (grep -E).
refuse() {
    name=$1
    shift
    pats=""
    while [ "$1" != "--" ]; do
        pats="$pats
$1"
        shift
    done
    shift
    "$tessera" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    status=$?
    if [ "$status" -eq 0 ]; then
        echo "# exit status 0, expected non-zero"
        not_ok "$name"
        return
    fi
    if [ "$(grep -c . "$tmp/err")" -ne 1 ]; then
        echo "# expected exactly one line on stderr"
        not_ok "$name"
        return
    fi
    echo "$pats" | while IFS= read -r p; do
        [ -z "$p" ] || grep -Eq -- "$p" "$tmp/err" || echo "$p"
    done >"$tmp/missing"
    if [ -s "$tmp/missing" ]; then
        sed 's/^/# stderr lacks: /' "$tmp/missing"
        not_ok "$name"
        return
    fi
    ok "$name"
}

base="-M none -display none -S"

refuse "plugin built for a newer ABI minor is refused" \
    "fixture-new-minor\.so" "ABI 1\.99" "ABI 1\.2" "newer" -- \
    $base -plugin "$fx/fixture-new-minor.so"
refuse "plugin built for another ABI major is refused" \
    "fixture-major2\.so" "ABI 2\.0" "ABI 1\.2" "major differs" -- \
    $base -plugin "$fx/fixture-major2.so"
refuse "shared object without descriptor is refused" \
    "fixture-nodesc\.so" "no tessera_plugin_v1 descriptor" -- \
    $base -plugin "$fx/fixture-nodesc.so"
refuse "plugin whose init fails is refused" \
    "fixture-initfail\.so" "init failed: No such device" -- \
    $base -plugin "$fx/fixture-initfail.so"
refuse "missing plugin file is refused" \
    "no-such-plugin\.so" "cannot load" -- \
    $base -plugin "$fx/no-such-plugin.so"
refuse "type provided twice without a choice lists both providers" \
    "several plugins" "dup-a \(.*fixture-dup-a\.so\)" "dup-b \(.*fixture-dup-b\.so\)" \
    "dup-a:dup-dev|PLUGIN:dup-dev" -- \
    $base -plugin "$fx/fixture-dup-a.so" -plugin "$fx/fixture-dup-b.so" -device dup-dev
refuse "unknown device is refused" \
    "unknown device 'no-such-device'" -- \
    $base -device no-such-device
refuse "unknown property is refused" \
    "no property 'foo'" "fixture-dev" -- \
    $base -plugin "$fx/fixture-old-minor.so" -device fixture-dev,foo=1
refuse "property value out of range is refused" \
    "property 'count' wants 1\.\.64, got 0" -- \
    $base -plugin "$fx/fixture-old-minor.so" -device fixture-dev,count=0
refuse "bad boolean value is refused" \
    "property 'flag' wants on\|off, got 'maybe'" -- \
    $base -plugin "$fx/fixture-old-minor.so" -device fixture-dev,flag=maybe
for kvm in "-accel kvm" "-enable-kvm" "-machine none,accel=kvm"; do
    refuse "KVM is refused: $kvm" \
        "^tessera: KVM is not available here; use -accel tcg\$" -- \
        $base $kvm
done
refuse "missing drive image is refused" \
    "$tmp/missing\.img" "No such file" -- \
    $base -drive "file=$tmp/missing.img,if=none,id=d0,format=raw"

# The oldest-minor fixture loads into today's core.
"$tessera" -plugin "$fx/fixture-old-minor.so" -list-plugins >"$tmp/out" 2>"$tmp/err" </dev/null
if [ $? -eq 0 ] && grep -q "^fixture-old-minor 1\.0\.0 abi 1\.0 .*fixture-old-minor\.so: fixture-dev" "$tmp/out"; then
    ok "plugin built for ABI 1.0 loads and is listed"
else
    not_ok "plugin built for ABI 1.0 loads and is listed"
fi

# Start with the monitor on stdin, ask `info pci` / `info qtree`, quit:
# the output must match the pattern and the exit status be 0.
monitor_shows() {
    name=$1 cmd=$2 pattern=$3
    shift 3
    printf '%s\nquit\n' "$cmd" | "$tessera" $base -monitor stdio "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    if [ "$status" -eq 0 ] && grep -Eq "$pattern" "$tmp/out"; then
        ok "$name"
    else
        echo "# exit status $status; stderr:"; sed 's/^/#   /' "$tmp/err"
        not_ok "$name"
    fi
}

# PLUGIN:TYPE picks one of two providers.
monitor_shows "PLUGIN:TYPE selects one of two providers" "info qtree" 'dev: dup-dev, id "d0"' \
    -plugin "$fx/fixture-dup-a.so" -plugin "$fx/fixture-dup-b.so" -device dup-a:dup-dev,id=d0

# Swapping: a -plugin file wins over the default directory for its types;
# the stock edu is 1234:11e8, acme's is 1b36:0bad.
monitor_shows "-plugin FILE overrides the stock provider of a type" "info pci" \
    "PCI device 1b36:0bad" -plugin "$fx/fixture-swap-edu.so" -device edu
monitor_shows "without -plugin the stock provider is used" "info pci" \
    "PCI device 1234:11e8" -device edu
export TESSERA_PLUGIN_PATH="$fx/fixture-swap-edu.so"
refuse "two default-path providers of one type are listed" \
    "several plugins" "acme-edu \(.*fixture-swap-edu\.so\)" "edu \(.*edu\.so\)" -- \
    $base -device edu
monitor_shows "PLUGIN:TYPE picks the stock provider among default-path ones" "info pci" \
    "PCI device 1234:11e8" -device edu:edu
monitor_shows "PLUGIN:TYPE picks the other provider among default-path ones" "info pci" \
    "PCI device 1b36:0bad" -device acme-edu:edu
export TESSERA_PLUGIN_PATH=

echo "1..$n"
exit $failed
