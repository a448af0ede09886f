#!/bin/sh
# One fuzz target as a meson test (suite 'fuzz'):
#
#   run-fuzz.sh EXE CORPUS OUTDIR fuzz|replay
#
# replay: EXE is the plain build (replay-main.c): run every input of CORPUS.
# fuzz:   EXE is a libFuzzer build: replay CORPUS, then fuzz for
#         $FUZZ_SECONDS (default 10) seconds. New inputs go to OUTDIR/new
#         (never into the checked-in corpus), crashes to OUTDIR/crash-*.
#         An input running over $FUZZ_TIMEOUT (default 10) seconds is a hang;
#         over 2 GB of RSS is a failure too.
# Any crash, sanitizer report, leak or hang exits non-zero: the test fails
# and the log names the input to replay (`EXE FILE`).
set -u
# GLib 2.74's GSlice gives each thread that allocates a 2 KiB magazine,
# freed by a thread-exit destructor: LeakSanitizer, checking while a block
# worker thread exits, once reported that as a leak (fuzz-qcow2; see
# tests/fuzz/open-findings/README.md).
# Plain malloc also lets ASan see GSlice's blocks. Read by GLib as it loads.
export G_SLICE=always-malloc
exe=$1
corpus=$2
out=$3
mode=$4
mkdir -p "$out/new"
# Inputs up to 4 KiB, or twice the largest seed (whole migration streams).
big=$(find "$corpus" -type f -printf '%s\n' | sort -n | tail -1)
maxlen=$(( ${big:-0} * 2 > 4096 ? ${big:-0} * 2 : 4096 ))
if [ "$mode" = replay ]; then
    exec "$exe" "$corpus"
fi
# A target's dictionary (tests/fuzz/TARGET.dict: option and property
# names for fuzz-cli), when it has one.
dict=$(dirname "$0")/$(basename "$exe").dict
[ -f "$dict" ] && set -- -dict="$dict" || set --
# libFuzzer's default exit status for a crash is 77, which meson reads as
# "skipped": every finding exits 1 instead.
# The seed is fixed (FUZZ_SEED, default 1) so that `make check` explores the
# same inputs here as on CI for the same commit: a random seed made CI fail
# on shallow bugs a developer's run had not met. Campaigns (campaign.sh)
# keep libFuzzer's random seed.
exec "$exe" -seed="${FUZZ_SEED:-1}" \
    -max_total_time="${FUZZ_SECONDS:-10}" -timeout="${FUZZ_TIMEOUT:-10}" \
    -error_exitcode=1 -timeout_exitcode=1 \
    -rss_limit_mb=2048 -max_len="$maxlen" -print_final_stats=1 "$@" \
    -artifact_prefix="$out/" "$out/new" "$corpus"
