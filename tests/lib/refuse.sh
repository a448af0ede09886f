# TAP helpers for tests that run the tessera binary (sourced by
# tests/sdk/test-refusals.sh and tests/sdk/test-host-input.sh).
#
# The sourcing script sets: tessera (the binary), tmp (a scratch
# directory), n=0, failed=0, and run_as (a command prefix, usually "").

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
    $run_as "$tessera" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
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

# monitor_shows NAME CMD PATTERN ARGS...: start with the monitor on stdin,
# run CMD then quit; stdout must match PATTERN and the exit status be 0.
monitor_shows() {
    name=$1 cmd=$2 pattern=$3
    shift 3
    printf '%s\nquit\n' "$cmd" | "$tessera" $base -monitor stdio "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    if [ "$status" -eq 0 ] && grep -Eq "$pattern" "$tmp/out"; then
        ok "$name"
    else
        echo "# exit status $status"
        not_ok "$name"
    fi
}
