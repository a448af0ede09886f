#!/bin/sh
# sdk: build the installed copy of docs/examples/pci-counter (in
# `pkg-config --variable=examplesdir tessera-sdk-1`) out of tree against a
# staged install of this build, with nothing but pkg-config's flags, run its
# harness test, and load the plugin into the installed tessera. TAP output.
#
#   test-example.sh BUILD_ROOT SOURCE_ROOT
#
# Staging: `meson install --destdir STAGE` installs under STAGE/PREFIX. The
# .pc files still say prefix=PREFIX, so the staged copies get their prefix=
# line pointed at STAGE/PREFIX: that is all a relocated install differs in
# (pkg-config's --define-prefix guesses wrong with multiarch libdirs, and
# PKG_CONFIG_SYSROOT_DIR would also rewrite glib's paths).
set -u
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
SCRATCH=$BUILD/tests/sdk/example-scratch # test-linkage.sh checks the .so here
STAGE=$SCRATCH/stage
EXB=$SCRATCH/build
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); failed=1; echo "not ok $n - $1"
    [ -f "$SCRATCH/log" ] && sed 's/^/# /' "$SCRATCH/log" | tail -40
}
check() { # check DESCRIPTION COMMAND...: output goes to $SCRATCH/log
    desc=$1; shift
    if "$@" >"$SCRATCH/log" 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}
bail() { echo "Bail out! $1"; [ -f "$SCRATCH/log" ] && sed 's/^/# /' "$SCRATCH/log" | tail -40; exit 1; }

rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"

# 1. staged install
check "meson install --destdir stages the SDK, harness and tessera" \
    meson install -C "$BUILD" --destdir "$STAGE" --no-rebuild
PC=$(find "$STAGE" -name tessera-sdk-1.pc | head -n 1)
[ -n "$PC" ] || bail "no tessera-sdk-1.pc in the staged install"
PCDIR=$(dirname "$PC")
PREFIX=$(sed -n 's/^prefix=//p' "$PC")
for f in "$PCDIR"/tessera-*.pc; do
    sed -i "s|^prefix=.*|prefix=$STAGE$PREFIX|" "$f"
done
LIBDIR=$(PKG_CONFIG_PATH=$PCDIR pkg-config --variable=libdir tessera-harness-1)
PLUGINDIR=$(PKG_CONFIG_PATH=$PCDIR pkg-config --variable=plugindir tessera-sdk-1)
TESSERA=$STAGE$PREFIX/bin/tessera

# 1b. QEMU's binary names are installed as names of the same binary
for name in tessera-system-x86_64 tessera-system-aarch64; do
    if [ "$(readlink "$STAGE$PREFIX/bin/$name")" = tessera ]; then
        ok "$name is installed as a name of tessera"
    else
        ls -l "$STAGE$PREFIX/bin" >"$SCRATCH/log" 2>&1
        not_ok "$name is installed as a name of tessera"
    fi
done

# 2. the flags point at the staged headers, not the source tree
cflags=$(PKG_CONFIG_PATH=$PCDIR pkg-config --cflags tessera-sdk-1)
case "$cflags" in
*"-I$STAGE$PREFIX/include"*) ok "pkg-config --cflags tessera-sdk-1 points at the staged headers" ;;
*) echo "$cflags" >"$SCRATCH/log"; not_ok "pkg-config --cflags tessera-sdk-1 points at the staged headers" ;;
esac

# 2b. the .pc version is the ABI version of the installed headers
HDR=$(find "$STAGE" -path '*/tessera/types.h' | head -n 1)
abi=$(sed -n 's/^#define TES_ABI_MAJOR \([0-9]*\).*/\1/p' "$HDR").$(sed -n \
    's/^#define TES_ABI_MINOR \([0-9]*\).*/\1/p' "$HDR")
pcver=$(PKG_CONFIG_PATH=$PCDIR pkg-config --modversion tessera-sdk-1)
if [ "$pcver" = "$abi" ]; then
    ok "pkg-config --modversion tessera-sdk-1 is the headers' ABI version ($abi)"
else
    echo "modversion '$pcver', types.h says '$abi'" >"$SCRATCH/log"
    not_ok "pkg-config --modversion tessera-sdk-1 is the headers' ABI version ($abi)"
fi

# 3. the example and the guides are installed with the SDK; configure and
# build a copy of the installed example out of tree
export PKG_CONFIG_PATH=$PCDIR
EXDIR=$STAGE$(pkg-config --variable=examplesdir tessera-sdk-1 | sed "s|^$STAGE||")
for f in pci-counter/meson.build pci-counter/pci-counter.c pci-counter/test-pci-counter.c \
         ../sdk.md ../testing.md; do
    [ -f "$EXDIR/$f" ] || missing_doc="$missing_doc $f"
done
if [ -z "${missing_doc:-}" ]; then
    ok "the example and docs/sdk.md, docs/testing.md are installed with the SDK"
else
    echo "not installed under $EXDIR:$missing_doc" >"$SCRATCH/log"
    not_ok "the example and docs/sdk.md, docs/testing.md are installed with the SDK"
fi
cp -r "$EXDIR/pci-counter" "$SCRATCH/src"
# -Dwerror=true: the example, and the SDK headers it includes, stay clean
# under the example's own warning_level=2.
check "example configures out of tree with dependency('tessera-sdk-1', version : '>=1.1')" \
    meson setup -Dwerror=true ${EXAMPLE_SETUP_ARGS:-} "$EXB" "$SCRATCH/src"
check "example builds pci-counter.so and its harness test without warnings (werror)" \
    ninja -C "$EXB"
[ -f "$EXB/pci-counter.so" ] || bail "pci-counter.so was not built"

# 4. nothing from the source tree leaked into the compile lines
if grep -q -e "$SRC/sdk" -e "$SRC/core" "$EXB/compile_commands.json"; then
    grep -o -e "-I$SRC[^ \"]*" "$EXB/compile_commands.json" >"$SCRATCH/log"
    not_ok "example compiles with the staged SDK only"
else
    ok "example compiles with the staged SDK only"
fi

# 5. its harness test, against the staged libtessera-harness
export LD_LIBRARY_PATH=$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
check "example harness test passes" \
    env PCI_COUNTER_PLUGIN="$EXB/pci-counter.so" "$EXB/test-pci-counter" --tap
if ldd "$EXB/test-pci-counter" | grep -q "$STAGE"; then
    ok "example test links the staged libtessera-harness"
else
    ldd "$EXB/test-pci-counter" >"$SCRATCH/log"; not_ok "example test links the staged libtessera-harness"
fi

# 6. the installed tessera lists and uses it
export TESSERA_PLUGIN_PATH=$PLUGINDIR
check "tessera -list-plugins shows pci-counter" \
    sh -c "'$TESSERA' -plugin '$EXB/pci-counter.so' -list-plugins | grep -q pci-counter"
printf 'info pci\nquit\n' | timeout 60 "$TESSERA" -M none -display none \
    -plugin "$EXB/pci-counter.so" -device pci-counter -monitor stdio >"$SCRATCH/log" 2>&1
if grep -qi "1b36:0101" "$SCRATCH/log"; then
    ok "tessera -M none -device pci-counter: info pci shows 1b36:0101"
else
    not_ok "tessera -M none -device pci-counter: info pci shows 1b36:0101"
fi

echo "1..$n"
exit $failed
