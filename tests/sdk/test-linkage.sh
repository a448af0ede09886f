#!/bin/sh
# sdk: every plugin exports exactly one symbol, the descriptor
# tessera_plugin_v1, and imports nothing but libc: no core symbol, which is
# what lets a plugin load into any core of its ABI major and into the
# harness. TAP output.
#
#   test-linkage.sh BUILD_ROOT [EXTRA.so ...]
#
# Checks BUILD_ROOT/plugins/*/*.so, the example plugin test-example.sh built
# (when it is there) and any extra files named. Imports must be weak or
# carry a version of one of $ALLOWED_VERSIONS (default: glibc, libfdt and
# liblzma, which machine plugins use for device trees and kernel images).
# Core symbols are unversioned.
set -u
BUILD=$1
shift
ALLOWED_VERSIONS=${ALLOWED_VERSIONS:-GLIBC_ LIBFDT_ XZ_}
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; printf '%s\n' "$2" | sed 's/^/# /'; }

# Defined dynamic symbols, minus the linker's own (_init, _fini, __bss_start,
# _edata, _end: all start with an underscore).
exports() {
    nm -D --defined-only "$1" | awk '{ print $NF }' | grep -v '^_' | sort -u
}

# Undefined dynamic symbols that are neither weak nor versioned by an
# allowed library.
bad_imports() {
    nm -D --undefined-only "$1" | while read -r kind name; do
        case "$kind" in w | v) continue ;; esac
        # A sanitizer build (make check's build-asan) leaves the runtime's
        # hooks to the executable: never core symbols.
        case "$name" in __asan_* | __ubsan_* | __sanitizer_* | __lsan_* | __sancov_*) continue ;; esac
        good=0
        for v in $ALLOWED_VERSIONS; do
            case "$name" in *@"$v"*) good=1 ;; esac
        done
        [ $good -eq 1 ] || echo "$name"
    done
}

check_plugin() {
    so=$1
    name=${so#"$BUILD"/}
    ex=$(exports "$so")
    if [ "$ex" = "tessera_plugin_v1" ]; then
        ok "$name exports only tessera_plugin_v1"
    else
        not_ok "$name exports only tessera_plugin_v1" "exports: $(echo $ex)"
    fi
    bad=$(bad_imports "$so")
    if [ -z "$bad" ]; then
        ok "$name imports only versioned system-library symbols"
    else
        not_ok "$name imports only versioned system-library symbols" "imports: $(echo $bad)"
    fi
}

found=0
for so in "$BUILD"/plugins/*/*.so "$BUILD"/tests/sdk/example-scratch/build/pci-counter.so "$@"; do
    [ -f "$so" ] || continue
    found=1
    check_plugin "$so"
done
if [ $found -eq 0 ]; then
    echo "Bail out! no plugin .so under $BUILD/plugins"
    exit 1
fi
echo "1..$n"
exit $failed
