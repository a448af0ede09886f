#!/bin/bash
# Compares two builds' IOPS ratio against raw io_uring, one run of each in
# turn, N times (the host's speed drifts; each run's ratio is taken inside
# one process, side by side with raw, so the two builds' figures compare).
#
#   tests/bench/ab-iops.sh BUILD_A BUILD_B DEVICE [N] [FILE]
#
# DEVICE: virtio-scsi, megasas, virtio-blk or nvme. FILE: the image both
# read (default /tmp/iops.img; a 1 GiB file of random data is the one
# docs/benchmarks.md uses). Prints each build's ratios per CPU second and
# their median.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 BUILD_A BUILD_B DEVICE [N] [FILE]" >&2; exit 2; }
A=$1 B=$2 DEV=$3 N=${4:-10} FILE=${5:-/tmp/iops.img}
case $DEV in
virtio-scsi | megasas) PL=scsi/scsi.so ;;
virtio-blk) PL=virtio/virtio.so ;;
nvme) PL=nvme/nvme.so ;;
*) echo "$0: unknown device '$DEV'" >&2; exit 2 ;;
esac
[ -f "$FILE" ] || { echo "$0: $FILE: no such file" >&2; exit 1; }
for b in "$A" "$B"; do
    [ -x "$b/tests/bench/$DEV-iops" ] || { echo "$0: $b/tests/bench/$DEV-iops not built" >&2; exit 1; }
done
for _ in $(seq "$N"); do
    for b in "$A" "$B"; do
        r=$(VIRTIO_PLUGIN="$b/plugins/virtio/virtio.so" "$b/tests/bench/$DEV-iops" \
            --plugin "$b/plugins/$PL" --runs 1 --seconds 2 "$FILE" |
            awk '/^ratio per CPU second:/ {print $5}')
        echo "$b $r"
    done
done | awk '{v[$1] = v[$1] " " $2; n[$1]++; x[$1, n[$1]] = $2}
    END {
        for (k in v) {
            m = n[k]
            for (i = 1; i <= m; i++) s[i] = x[k, i]
            for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
            med = m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
            printf "%s:%s  median %.3f\n", k, v[k], med
        }
    }'
