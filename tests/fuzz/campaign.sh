#!/bin/bash
# A fuzzing campaign: each target for a given time, one after the other
# (or -j at once), nice'd; prints one line per target:
#
#   target  seconds  execs  exec/s  cov  ft  dev-edges  corpus  crashes  hangs  leaks  ooms  slow
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
# A timeout-* input is replayed once with six times the time limit: one
# that finishes was slow only because the nice'd campaign got little CPU
# on a loaded machine (renamed slow-*, counted under slow, its time in the
# log), one that does not is a hang.
set -u
# GLib 2.74's GSlice gives each thread that allocates a 2 KiB magazine,
# freed by a thread-exit destructor: LeakSanitizer, checking while a block
# worker thread exits, once reported that as a leak (fuzz-qcow2; see
# tests/fuzz/open-findings/README.md).
# Plain malloc also lets ASan see GSlice's blocks. Read by GLib as it loads.
export G_SLICE=always-malloc
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

# The code a target is about, as a grep -E pattern over libFuzzer's
# "edges: h/n FUNCTION PATH:LINE" lines: plugins/DIR for a device target;
# for the host-input ones the parsers and loaders (not the rest of
# registry.c or virt.c, which they never mean to reach).
target_src() {
    case $1 in
    fuzz-cli)
        echo '/core/cli\.c| (dev_set_opts|set_opt|set_prop|set_number|parse_number|parse_bool|'`
            `'set_drive|set_chr|set_id|id_valid|split_opts|opts_want_help|is_help_word|'`
            `'dev_set_prop|prop_find|kind_max|type_lookup|providers|choose_provider|dev_new|'`
            `'apply_defaults|lookup_failed) /.*/core/registry\.c| (parse_opts|set_opt|'`
            `'ignored_opt|check_opts|split_opts|opts_clear|drive_opts_check) /.*/core/block\.c|'`
            `' (dev_platform_opt|parse_u64) /.*/core/board\.c' ;;
    fuzz-loaders)
        echo ' (read_file|le64|kernel_layout|fits_in_ram|align_up|place_initrd|place_dtb|'`
            `'load_images|user_dtb_ok|make_dtb) /.*/plugins/board-virt/virt\.c| '`
            `'(virt_fdt_set_chosen|set_chosen_props) /|/plugins/board-q35/boot\.c' ;;
    # The NICs: their own sources (with virtio's core and PCI transport
    # for virtio-net; e1000 and e1000e live in plugins/net).
    fuzz-virtio-net) echo '/plugins/virtio/(virtio-net[a-z-]*|virtio|virtio-pci)\.c' ;;
    fuzz-e1000|fuzz-e1000e) echo '/plugins/net/' ;;
    # The ATA controllers live in plugins/ata, the SCSI HBAs in plugins/scsi.
    fuzz-ahci|fuzz-piix3-ide) echo '/plugins/ata/' ;;
    fuzz-megasas|fuzz-lsi53c895a) echo '/plugins/scsi/' ;;
    fuzz-pxb) echo '/plugins/pcie/' ;;
    fuzz-virtio-iommu) echo '/plugins/iommu/(virtio-iommu|viommu-map)\.c|/plugins/virtio/virtio-iommu-pci\.c' ;;
    # The display models share plugins/display (DISPI and EDID code too).
    fuzz-bochs-display) echo '/plugins/display/(bochs-display|dispi|edid)\.c' ;;
    fuzz-vga) echo '/plugins/display/(vga|vga-regs|dispi|edid)\.c' ;;
    *) pd=$(plugdir "$1"); [ -z "$pd" ] || echo "/plugins/$pd/" ;;
    esac
}

# Edges of the target's code covered by the corpus of target t, as
# "hit/all".
dev_edges() {
    re=$(target_src "$1")
    [ -n "$re" ] || { echo -; return; }
    "$dir/$1" -runs=0 -print_coverage=1 "$2" 2>&1 | grep -E '^(UN)?COVERED_FUNC' |
        grep -E "$re" | sed -n 's/.*edges: \([0-9]*\)\/\([0-9]*\) .*/\1 \2/p' |
        awk '{ a += $1; b += $2 } END { printf "%d/%d", a, b }'
}

# Replay each timeout-* of target t (in out) with six times the limit:
# those that finish become slow-*.
confirm_hangs() {
    lim=$(( ${FUZZ_TIMEOUT:-10} * 6 ))
    for f in "$2"/timeout-*; do
        [ -f "$f" ] || continue
        if "$dir/$1" -timeout="$lim" "$f" > "$f.replay" 2>&1; then
            echo "campaign: $f: $(grep -o 'in [0-9]* ms' "$f.replay") on replay: slow, no hang" >> "$2/log"
            mv "$f" "$2/slow-${f##*/timeout-}"
        fi
        rm -f "$f.replay"
    done
}

# One target: run, restarting after each finding, until secs have passed.
run_target() {
    t=$1
    out=$dir/campaign/$t
    mkdir -p "$out/corpus"
    : > "$out/log"
    # A target that cannot set itself up (a plugin not built, a stale
    # build) fails on every input: stop here rather than restart it for
    # the whole hour and call each restart a finding.
    : > "$out/empty-input"
    if ! "$dir/$t" "$out/empty-input" > "$out/log" 2>&1; then
        echo "campaign: $t fails on an empty input; build $build first (ninja -C $build):" >&2
        grep -m1 'invariant' "$out/log" >&2 || grep -m1 'ERROR' "$out/log" >&2
        return 1
    fi
    start=$(date +%s)
    execs=0
    # Inputs up to 4 KiB, or twice the largest seed (whole migration streams).
    big=$(find "$src/corpus/$t" -type f -printf '%s\n' 2>/dev/null | sort -n | tail -1)
    maxlen=$(( ${big:-0} * 2 > 4096 ? ${big:-0} * 2 : 4096 ))
    while :; do
        left=$((secs - ($(date +%s) - start)))
        [ $left -gt 0 ] || break
        dict=""
        [ -f "$src/$t.dict" ] && dict=-dict=$src/$t.dict
        nice -n 10 "$dir/$t" -max_total_time=$left -timeout="${FUZZ_TIMEOUT:-10}" \
            -rss_limit_mb=2048 -max_len="$maxlen" -print_final_stats=1 $dict \
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
    confirm_hangs "$t" "$out"
    count() { ls "$out" | grep -c "^$1-" ; }
    printf '%-24s %6s %10s %8s %6s %7s %11s %6s %7s %5s %5s %4s %4s\n' "$t" "$secs" "$execs" \
        "$((execs / (secs > 0 ? secs : 1)))" "${cov:-?}" "${ft:-?}" "$edges" "$corp" \
        "$(count crash)" "$(count timeout)" "$(count leak)" "$(count oom)" "$(count slow)"
}

printf '%-24s %6s %10s %8s %6s %7s %11s %6s %7s %5s %5s %4s %4s\n' target seconds execs exec/s \
    cov ft dev-edges corpus crashes hangs leaks ooms slow
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
