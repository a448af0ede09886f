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
run_as="" # a command prefix for refuse(), e.g. to drop root

. "$(dirname "$0")/../lib/refuse.sh"

base="-M none -display none -S"
# This tessera's ABI minor, from the SDK header (the messages name it).
minor=$(sed -n 's/^#define TES_ABI_MINOR \([0-9]*\)$/\1/p' \
    "$(dirname "$0")/../../sdk/include/tessera/types.h")

refuse "plugin built for a newer ABI minor is refused" \
    "fixture-new-minor\.so" "ABI 1\.99" "ABI 1\.$minor([^0-9]|$)" "newer" -- \
    $base -plugin "$fx/fixture-new-minor.so"
refuse "plugin built for another ABI major is refused" \
    "fixture-major2\.so" "ABI 2\.0" "ABI 1\.$minor([^0-9]|$)" "major differs" -- \
    $base -plugin "$fx/fixture-major2.so"
refuse "plugin of a future ABI major is named as such, not 'not a plugin'" \
    "fixture-v2sym\.so" "built for SDK ABI 2\.x" "tessera_plugin_v2" \
    "this tessera provides ABI 1\.[0-9]+" "major differs" -- \
    $base -plugin "$fx/fixture-v2sym.so"
refuse "shared object without descriptor is refused" \
    "fixture-nodesc\.so" "no tessera_plugin_v1 descriptor" -- \
    $base -plugin "$fx/fixture-nodesc.so"
refuse "plugin whose init fails is refused" \
    "fixture-initfail\.so" "init failed: No such device" -- \
    $base -plugin "$fx/fixture-initfail.so"
refuse "missing plugin file is refused" \
    "no-such-plugin\.so" "cannot load" -- \
    $base -plugin "$fx/no-such-plugin.so"
# The loader's own reason, not libltdl's "file not found" for everything.
head -c 256 /dev/urandom >"$tmp/garbage.so"
mkdir "$tmp/dir.so"
refuse "garbage file is refused with the loader's reason" \
    "garbage\.so': cannot load: invalid ELF header" -- \
    $base -plugin "$tmp/garbage.so"
refuse "directory is refused with the loader's reason" \
    "dir\.so': cannot load: .*Is a directory" -- \
    $base -plugin "$tmp/dir.so"
# Symbols are bound at load: a plugin calling a core function is refused
# there, not killed later by "symbol lookup error" (exit 127).
refuse "plugin calling a core symbol is refused at load" \
    "fixture-undef\.so': cannot load: undefined symbol: core_log" "tes_host" -- \
    $base -plugin "$fx/fixture-undef.so"
if [ "$status" -eq 127 ]; then
    not_ok "plugin calling a core symbol does not exit 127"
else
    ok "plugin calling a core symbol does not exit 127"
fi
# Unreadable: root reads anything, so run as nobody when root.
cp "$fx/fixture-dup-a.so" "$tmp/unreadable.so"
chmod 000 "$tmp/unreadable.so"
chmod 755 "$tmp"
as_user=""
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
if [ "$(id -u)" -ne 0 ] || [ -n "$as_user" ]; then
    run_as=$as_user
    refuse "unreadable file is refused with the loader's reason" \
        "unreadable\.so': cannot load: .*Permission denied" -- \
        $base -plugin "$tmp/unreadable.so"
    run_as=""
else
    n=$((n + 1))
    echo "ok $n # SKIP unreadable file: running as root without setpriv"
fi

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
# QEMU's lines without /dev/kvm, joined; with it, "not supported in this build".
for kvm in "-accel kvm" "-enable-kvm" "-machine none,accel=kvm" \
        "-machine none,accel=kvm,kernel_irqchip=split"; do
    refuse "KVM is refused: $kvm" \
        "^tessera: (Could not access KVM kernel module: .*; )?failed to initialize kvm: " -- \
        $base $kvm
done
refuse "missing drive image is refused" \
    "$tmp/missing\.img" "No such file" -- \
    $base -drive "file=$tmp/missing.img,if=none,id=d0,format=raw"

# DRIVER,help: exit 0, ranges shown where declared; a help item anywhere
# in the options wins over the others (QEMU's rule), even a bad value.
prints_help() {
    name=$1 pattern=$2
    shift 2
    "$tessera" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    status=$?
    if [ "$status" -eq 0 ] && grep -Eq -- "$pattern" "$tmp/out" && [ ! -s "$tmp/err" ]; then
        ok "$name"
    else
        echo "# exit status $status"
        not_ok "$name"
    fi
}
prints_help "DRIVER,help shows a declared property range" \
    '^  count=<uint8> +- queues \(1\.\.64, default: 4\)$' \
    -plugin "$fx/fixture-old-minor.so" -device fixture-dev,help
prints_help "DRIVER,prop=val,help prints help instead of refusing" \
    '^  count=<uint8> +- queues \(1\.\.64, default: 4\)$' \
    -plugin "$fx/fixture-old-minor.so" -device fixture-dev,count=0,help
prints_help "-device nvme,help shows max_ioqpairs' range" \
    '^  max_ioqpairs=<uint32> +- .*\(1\.\.64, default: 64\)$' -device nvme,help

# The oldest-minor fixture loads into today's core.
"$tessera" -plugin "$fx/fixture-old-minor.so" -list-plugins >"$tmp/out" 2>"$tmp/err" </dev/null
if [ $? -eq 0 ] && grep -q "^fixture-old-minor 1\.0\.0 abi 1\.0 .*fixture-old-minor\.so: fixture-dev" "$tmp/out"; then
    ok "plugin built for ABI 1.0 loads and is listed"
else
    not_ok "plugin built for ABI 1.0 loads and is listed"
fi

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

# A default place with plugins that cannot load: each is skipped with one
# warning line naming the file and the reason, and the run goes on; the
# refusal is fatal (one line) only when the run needs what it provides.
mkdir "$tmp/scan"
cp "$tmp/garbage.so" "$fx/fixture-new-minor.so" "$fx/fixture-undef.so" "$tmp/scan/"
# starts_with_warnings NAME COUNT PATTERN... -- ARGS: starts, quits from the
# monitor with status 0, stderr is COUNT lines matching every PATTERN.
starts_with_warnings() {
    name=$1 count=$2
    shift 2
    pats=""
    while [ "$1" != "--" ]; do
        pats="$pats
$1"
        shift
    done
    shift
    printf 'quit\n' | "$tessera" $base -monitor stdio "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    echo "$pats" | while IFS= read -r p; do
        [ -z "$p" ] || grep -Eq -- "$p" "$tmp/err" || echo "$p"
    done >"$tmp/missing"
    if [ "$status" -ne 0 ] || [ "$(grep -c . "$tmp/err")" -ne "$count" ] || [ -s "$tmp/missing" ]; then
        echo "# exit status $status, want 0 and $count stderr lines"
        sed 's/^/# stderr lacks: /' "$tmp/missing"
        not_ok "$name"
        return
    fi
    ok "$name"
}
export TESSERA_PLUGIN_PATH="$tmp/scan"
starts_with_warnings "scanned plugins that cannot load are skipped with one warning each" 3 \
    "^tessera: warning: plugin '$tmp/scan/garbage\.so': cannot load: invalid ELF header; skipped$" \
    "^tessera: warning: plugin '$tmp/scan/fixture-new-minor\.so' .*ABI 1\.99.*; skipped$" \
    "^tessera: warning: plugin '$tmp/scan/fixture-undef\.so': cannot load: undefined symbol: core_log" -- \
    -device edu
refuse "a skipped plugin providing a requested type is the one fatal line" \
    "device 'fixture-other-dev' is provided by a plugin that cannot load" \
    "fixture-new-minor\.so' \(fixture-new-minor\) is built for SDK ABI 1\.99" -- \
    $base -device fixture-other-dev
starts_with_warnings "a -plugin provider wins over a skipped one: warning only" 3 \
    "fixture-new-minor\.so' .*ABI 1\.99.*; skipped$" -- \
    -plugin "$fx/fixture-other.so" -device fixture-other-dev
refuse "an unknown type names the skipped plugins that may provide it" \
    "unknown device 'no-such-device'" "garbage\.so': cannot load: invalid ELF header" \
    "fixture-undef\.so': cannot load: undefined symbol" -- \
    $base -device no-such-device
refuse "-plugin FILE that cannot load stays fatal with a plugin directory" \
    "garbage\.so': cannot load: invalid ELF header" -- \
    $base -plugin "$tmp/garbage.so"
export TESSERA_PLUGIN_PATH=

echo "1..$n"
exit $failed
