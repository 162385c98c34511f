#!/usr/bin/env bash
# Times the release binary from outside on the benchmark shapes and checks the evaluator's cost
# bounds: wall time (median of several runs) and peak memory (max RSS, /usr/bin/time -v).
#
#   bash benches/measure.sh [--runs N] [--no-build] [BASELINE_BINARY]
#
# BASELINE_BINARY (another claimlint build, e.g. one from `main`) is run in turn with this
# checkout's target/release/claimlint (A B A B ...), and both medians are printed; the bounds
# are checked against this checkout's binary only. Extra claimlint arguments for both binaries
# can be given in CLAIMLINT_ARGS (e.g. CLAIMLINT_ARGS='--jobs 1').
#
# Exit status: 0 every bound holds, 1 a bound failed, 2 the script could not run.
# A gate for people who want one; it is not part of .ci/run (timings depend on the machine).
set -euo pipefail

runs=5
build=1
baseline=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) baseline="$1"; shift ;;
    esac
done

# The issue's bounds: shape -> "seconds MB" (MB = 10^6 bytes; /usr/bin/time reports KiB).
declare -A bound=([shape-21]="0.3 150" [loop-bomb]="2 300")
shapes=(shape-21 loop-bomb)

cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/time ]; then
    echo "measure.sh needs GNU time at /usr/bin/time (Debian/Ubuntu: apt-get install -y time)" >&2
    exit 2
fi
if [ -n "$baseline" ] && [ ! -x "$baseline" ]; then
    echo "baseline binary $baseline is not an executable file" >&2
    exit 2
fi

if [ "$build" = 1 ]; then
    cargo build --release --quiet
    cargo bench --bench lint --no-run --quiet
fi
candidate=target/release/claimlint
[ -x "$candidate" ] || { echo "$candidate is missing: run without --no-build" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for shape in "${shapes[@]}"; do
    cargo bench --quiet --bench lint -- "$shape" --generate-only "$work/$shape" >/dev/null
done

read -r -a extra <<<"${CLAIMLINT_ARGS:-}"

# run BINARY EXPORT JSON_OUT -> prints "WALL_SECONDS MAX_RSS_KIB CPU_SECONDS" (CPU = user + system)
run() {
    local bin=$1 export=$2 out=$3 start end status
    start=$EPOCHREALTIME
    status=0
    /usr/bin/time -v -o "$work/time.txt" "$bin" "$export" --format json --fail-on never "${extra[@]}" \
        >"$out" 2>"$work/stderr.txt" || status=$?
    end=$EPOCHREALTIME
    if [ "$status" != 0 ]; then
        echo "$bin $export exited $status:" >&2
        cat "$work/stderr.txt" "$work/time.txt" >&2
        exit 2
    fi
    local rss cpu
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ {t += $2} END {print t}' "$work/time.txt")
    awk -v s="$start" -v e="$end" -v r="$rss" -v c="$cpu" 'BEGIN {printf "%.4f %d %.2f\n", e - s, r, c}'
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "claimlint $($candidate --version | awk '{print $2}') at $(git rev-parse --short HEAD 2>/dev/null || echo '?')," \
    "$(nproc) cores, $runs runs per binary${baseline:+, interleaved with $baseline}"
failed=0
for shape in "${shapes[@]}"; do
    export_dir="$work/$shape"
    : >"$work/a.txt"
    : >"$work/b.txt"
    for _ in $(seq "$runs"); do
        run "$candidate" "$export_dir" "$work/$shape.json" >>"$work/a.txt"
        if [ -n "$baseline" ]; then
            run "$baseline" "$export_dir" "$work/$shape.baseline.json" >>"$work/b.txt"
        fi
    done
    wall=$(cut -d' ' -f1 "$work/a.txt" | median)
    rss_mb=$(cut -d' ' -f2 "$work/a.txt" | median | awk '{printf "%.1f", $1 * 1024 / 1e6}')
    cpu=$(cut -d' ' -f3 "$work/a.txt" | median)
    walls=$(cut -d' ' -f1 "$work/a.txt" | sort -g | tr '\n' ' ')
    printf '%-10s median wall %.3f s, median max RSS %s MB, median CPU %.2f s  (wall runs: %s)\n' \
        "$shape" "$wall" "$rss_mb" "$cpu" "$walls"
    if [ -n "$baseline" ]; then
        b_wall=$(cut -d' ' -f1 "$work/b.txt" | median)
        b_rss=$(cut -d' ' -f2 "$work/b.txt" | median | awk '{printf "%.1f", $1 * 1024 / 1e6}')
        b_cpu=$(cut -d' ' -f3 "$work/b.txt" | median)
        printf '%-10s baseline    %.3f s, %s MB, CPU %.2f s; this / baseline: wall %.2fx, memory %.2fx\n' \
            "" "$b_wall" "$b_rss" "$b_cpu" "$(awk -v a="$wall" -v b="$b_wall" 'BEGIN {print a / b}')" \
            "$(awk -v a="$rss_mb" -v b="$b_rss" 'BEGIN {print a / b}')"
    fi
    read -r max_s max_mb <<<"${bound[$shape]}"
    for check in "time $wall $max_s s" "memory $rss_mb $max_mb MB"; do
        read -r what value limit unit <<<"$check"
        if awk -v v="$value" -v l="$limit" 'BEGIN {exit !(v < l)}'; then
            echo "PASS $shape $what: $value $unit < $limit $unit"
        else
            echo "FAIL $shape $what: $value $unit >= $limit $unit"
            failed=1
        fi
    done
done

# The loop bomb must end with an `evaluation-incomplete` note, not just end.
if command -v jq >/dev/null; then
    has_cl005() { jq -e '[.findings[] | select(.policy == "CL005")] | length > 0' "$1" >/dev/null; }
else
    has_cl005() { grep -q '"policy": *"CL005"' "$1"; }
fi
if has_cl005 "$work/loop-bomb.json"; then
    echo "PASS loop-bomb output has a CL005 evaluation-incomplete finding"
else
    echo "FAIL loop-bomb output has no CL005 evaluation-incomplete finding"
    failed=1
fi
exit "$failed"
