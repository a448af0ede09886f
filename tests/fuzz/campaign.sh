#!/bin/bash
# A fuzzing campaign: each target for a given time, one after the other
# (or -j at once), nice'd; prints one line per target:
#
#   target  seconds  execs  exec/s  cov  ft  dev-edges  corpus  crashes  hangs  leaks  ooms
#
#   tests/fuzz/campaign.sh [-b BUILD] [-t SECONDS] [-j JOBS] [TARGET...]
#
# BUILD (default build-asan) is a -Dfuzz=enabled build; TARGETs are names
# (fuzz-nvme) and default to every target there. The corpus grows in
# BUILD/tests/fuzz/campaign/TARGET/corpus across campaigns (seeded from
# tests/fuzz/corpus/TARGET); findings land in .../TARGET/crash-*,
# timeout-*, leak-*, oom-*; libFuzzer's own log in .../TARGET/log. After
# a finding the target restarts (with the corpus so far) for the time
# left, so one campaign counts every distinct finding it reaches.
# cov is libFuzzer's count of covered edges (of every instrumented object:
# core, harness, plugins), ft its finer "features"; dev-edges the edges of
# the device's own sources (plugins/<dir>/*.c, <dir> from the target's name:
# fuzz-virtio-blk-pci -> virtio) that the final corpus covers, of all there
# are (libFuzzer's -print_coverage; "-" for host-input targets).
set -u
build=build-asan
secs=3600
jobs=1
while getopts b:t:j: o; do
    case $o in
    b) build=$OPTARG ;;
    t) secs=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) echo "usage: $0 [-b BUILD] [-t SECONDS] [-j JOBS] [TARGET...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
src=$(cd "$(dirname "$0")" && pwd)
dir=$build/tests/fuzz
if [ $# -eq 0 ]; then
    set -- $(cd "$dir" && ls fuzz-* 2>/dev/null | grep -v '\.p$' | sort)
fi
[ $# -gt 0 ] || { echo "campaign: no fuzz targets in $dir (meson setup -Dfuzz=enabled)" >&2; exit 2; }

# The plugins/ directory a target's name points at (longest match), or "".
plugdir() {
    n=${1#fuzz-}
    while [ -n "$n" ]; do
        [ -d "$src/../../plugins/$n" ] && { echo "$n"; return; }
        case $n in *-*) n=${n%-*} ;; *) return ;; esac
    done
}

# Edges of plugins/DIR covered by the corpus of target t, as "hit/all".
dev_edges() {
    pd=$(plugdir "$1")
    [ -n "$pd" ] || { echo -; return; }
    "$dir/$1" -runs=0 -print_coverage=1 "$2" 2>&1 | grep -E '^(UN)?COVERED_FUNC' |
        grep "/plugins/$pd/" | sed -n 's/.*edges: \([0-9]*\)\/\([0-9]*\) .*/\1 \2/p' |
        awk '{ a += $1; b += $2 } END { printf "%d/%d", a, b }'
}

# One target: run, restarting after each finding, until secs have passed.
run_target() {
    t=$1
    out=$dir/campaign/$t
    mkdir -p "$out/corpus"
    : > "$out/log"
    start=$(date +%s)
    execs=0
    # Inputs up to 4 KiB, or twice the largest seed (whole migration streams).
    big=$(find "$src/corpus/$t" -type f -printf '%s\n' 2>/dev/null | sort -n | tail -1)
    maxlen=$(( ${big:-0} * 2 > 4096 ? ${big:-0} * 2 : 4096 ))
    while :; do
        left=$((secs - ($(date +%s) - start)))
        [ $left -gt 0 ] || break
        nice -n 10 "$dir/$t" -max_total_time=$left -timeout="${FUZZ_TIMEOUT:-10}" \
            -rss_limit_mb=2048 -max_len="$maxlen" -print_final_stats=1 \
            -artifact_prefix="$out/" "$out/corpus" "$src/corpus/$t" >> "$out/log" 2>&1
        n=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/log" | tail -1 | awk '{print $2}')
        execs=$((execs + ${n:-0}))
        # Count each run's executions once.
        sed -i 's/stat::number_of_executed_units/stat::counted_units/' "$out/log"
    done
    last=$(grep -E '^#[0-9]+.*cov: ' "$out/log" | tail -1)
    cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(ls "$out/corpus" | wc -l)
    edges=$(dev_edges "$t" "$out/corpus")
    count() { ls "$out" | grep -c "^$1-" ; }
    printf '%-24s %6s %10s %8s %6s %7s %11s %6s %7s %5s %5s %4s\n' "$t" "$secs" "$execs" \
        "$((execs / (secs > 0 ? secs : 1)))" "${cov:-?}" "${ft:-?}" "$edges" "$corp" \
        "$(count crash)" "$(count timeout)" "$(count leak)" "$(count oom)"
}

printf '%-24s %6s %10s %8s %6s %7s %11s %6s %7s %5s %5s %4s\n' target seconds execs exec/s \
    cov ft dev-edges corpus crashes hangs leaks ooms
running=0
for t in "$@"; do
    run_target "$t" &
    running=$((running + 1))
    if [ $running -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
echo "findings: $dir/campaign/<target>/{crash,timeout,leak,oom}-* (replay: $dir/<target> FILE)"
