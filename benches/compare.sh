#!/usr/bin/env bash
# Compares claimlint with the read+parse floor (and Semgrep, and another claimlint build) on
# generated exports, and checks that claimlint finds every planted mistake.
#
#   bash benches/compare.sh [--runs N] [--sizes "1000 10000 50000"] [--quick]
#                           [--baseline BINARY] [--gallery DIR] [--work DIR]
#                           [--timeout SECONDS] [--semgrep-runs N] [--seed S] [--no-build]
#
# It builds release claimlint and the examples, writes with `examples/gen-export.rs` the
# default-mix directory exports of each size, the 10,000-file tenant in YAML form, and four
# shapes (500 clients x 5 connections, 5 clients x 500 connections, 500 x 500 with 5 rules,
# 2,000 rules), then runs on
# each, interleaved, N times (default 5): the floor (`examples/floor.rs`: walk, read, parse,
# nothing else), `claimlint EXPORT --format json --fail-on never`, the same with `--proof none`,
# and BINARY when given. It prints medians of wall time, CPU time (user + system) and peak RSS
# (GNU time), throughput, the claimlint/floor ratio and the growth from the second-largest to
# the largest size; then `--jobs 1` against `--jobs 2` on the 10,000-file export (speedup, and
# whether the reports are byte-identical); then, when `semgrep` is on PATH or SEMGREP names it,
# Semgrep with benches/semgrep-claims.yaml (its CL101 patterns) on the same exports.
#
#   --quick          the 1,000 and 10,000-file exports only (no 50,000, no shapes)
#   --gallery DIR    time one more export, e.g. a replicated public rules gallery
#   --work DIR       keep the generated exports there and reuse them while their generator
#                    arguments and source are unchanged (default: a temporary folder)
#   --timeout S      give up on a claimlint run after S seconds (default 180); later runs of
#                    that export are skipped and the table says TIMEOUT
#
# Exit status: 0 all good; 1 a planted finding is missing from claimlint's report (a FAIL line
# names it), claimlint failed, or the reports of --jobs 1 and 2 differ; 2 the script could not
# run; 3 nothing failed but some claimlint run timed out.
set -euo pipefail

runs=5
sizes="1000 10000 50000"
quick=0
baseline=""
gallery=""
work=""
timeout_s=180
semgrep_runs=1
seed=1
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --sizes) sizes="$2"; shift 2 ;;
        --quick) quick=1; sizes="1000 10000"; shift ;;
        --baseline) baseline="$2"; shift 2 ;;
        --gallery) gallery="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        --timeout) timeout_s="$2"; shift 2 ;;
        --semgrep-runs) semgrep_runs="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
repo=$PWD
[ -z "$baseline" ] || [ -x "$baseline" ] || { echo "baseline $baseline is not an executable file" >&2; exit 2; }
[ -z "$gallery" ] || [ -d "$gallery" ] || { echo "gallery $gallery is not a folder" >&2; exit 2; }
[ -z "$baseline" ] || baseline=$(cd "$(dirname "$baseline")" && echo "$PWD/$(basename "$baseline")")
[ -z "$gallery" ] || gallery=$(cd "$gallery" && pwd)

# JSON: jq, or python3 (COMPARE_JSON=python3 forces the latter, to test it).
if [ "${COMPARE_JSON:-}" != python3 ] && command -v jq >/dev/null; then
    json=jq
elif command -v python3 >/dev/null; then
    json=python3
else
    echo "compare.sh needs jq or python3 to read claimlint's JSON output" >&2
    exit 2
fi

if [ "$build" = 1 ]; then
    cargo build --release --quiet --bin claimlint --examples
fi
claimlint=$repo/target/release/claimlint
floor=$repo/target/release/examples/floor
gen=$repo/target/release/examples/gen-export
for b in "$claimlint" "$floor" "$gen"; do
    [ -x "$b" ] || { echo "$b is missing: run without --no-build" >&2; exit 2; }
done

if [ -n "$work" ]; then
    mkdir -p "$work"
    work=$(cd "$work" && pwd)
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
tmp=$work/.runs
mkdir -p "$tmp"

# Peak RSS and CPU time: GNU time, else (no /usr/bin/time and no way to install it) a python3
# wrapper that reads the same numbers from wait4's rusage and writes them in GNU time's words
# (COMPARE_TIMER=python forces the wrapper, to test it; its peak RSS includes the few MB of the
# forked python3 before exec).
timer=(/usr/bin/time -v -o)
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing GNU time (apt-get install -y time)" >&2
    apt-get install -y -qq time >/dev/null 2>&1 || true
fi
if [ ! -x /usr/bin/time ] || [ "${COMPARE_TIMER:-}" = python ]; then
    command -v python3 >/dev/null || { echo "compare.sh needs GNU time (/usr/bin/time) or python3" >&2; exit 2; }
    cat >"$tmp/ptime.py" <<'EOF'
import os, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
start = time.monotonic()
child = subprocess.Popen(cmd)
_, status, ru = os.wait4(child.pid, 0)
wall = time.monotonic() - start
with open(out, "w") as f:
    f.write(f"Wall (seconds): {wall:.4f}\n")
    f.write(f"User time (seconds): {ru.ru_utime:.2f}\nSystem time (seconds): {ru.ru_stime:.2f}\n")
    f.write(f"Maximum resident set size (kbytes): {ru.ru_maxrss}\n")
sys.exit(os.waitstatus_to_exitcode(status) % 256)
EOF
    timer=(python3 "$tmp/ptime.py")
fi

fmt() { awk -v v="$1" -v f="$2" 'BEGIN {if (v == "nan") print "TIMEOUT"; else printf f, v}'; }
mb_of() { awk -v r="$1" 'BEGIN {if (r == "nan") print "-"; else printf "%.0f", r * 1024 / 1e6}'; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "nan" || b == "nan" || a == "" || b == "" || b == 0) print "nan"; else printf "%.2f", a / b}'; }
# ratio A B -> "A/Bx", or "-" when either is missing
ratio() { local r; r=$(div "$1" "$2"); if [ "$r" = nan ]; then echo "-"; else echo "${r}x"; fi; }

# measure OUT CMD... -> appends "WALL RSS_KIB CPU" to OUT.times and the command's stdout to
# OUT.stdout (first run only kept); returns 0, or 124 on timeout, or the command's status.
measure() {
    local out=$1 start end status=0
    shift
    start=$EPOCHREALTIME
    "${timer[@]}" "$out.time" timeout -k 5 "$timeout_s" "$@" >"$out.last" 2>"$out.stderr" || status=$?
    end=$EPOCHREALTIME
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
        return 124
    fi
    local rss cpu wall
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out.time")
    cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ {t += $2} END {print t}' "$out.time")
    # The python3 wrapper times the command itself, without its own start-up.
    wall=$(awk -F': ' '/^Wall \(seconds\)/ {print $2}' "$out.time")
    [ -n "$wall" ] || wall=$(awk -v s="$start" -v e="$end" 'BEGIN {print e - s}')
    awk -v w="$wall" -v r="$rss" -v c="$cpu" 'BEGIN {printf "%.4f %d %.2f\n", w, r, c}' >>"$out.times"
    [ -e "$out.stdout" ] || cp "$out.last" "$out.stdout"
    return "$status"
}

# missing_planted EXPORT REPORT -> prints one JSON object per planted finding that the report
# lacks. Entries are grouped by (policy, file, claim, attribute): the report needs at least as
# many matching findings as there are entries (several clients can be planted in tenant.yaml).
missing_planted() {
    local export=$1 report=$2
    if [ "$json" = jq ]; then
        jq -nc --slurpfile p "$export/planted.json" --slurpfile r "$report" --arg root "$export/" '
            def key: [.policy, .file, .claim, .attribute];
            ($r[0].findings | map(. + {file: (.location.file | ltrimstr($root))})) as $found
            | $p[0] | group_by(key)[] | .[0] as $e | length as $want
            | ([$found[] | select(.policy == $e.policy and .file == $e.file
                  and ($e.claim == null or .claim == $e.claim)
                  and ($e.attribute == null or .attribute == $e.attribute))] | length) as $have
            | select($have < $want) | $e + {want: $want, have: $have}'
    else
        python3 - "$export" "$report" <<'EOF'
import json, sys
from collections import Counter
root, report = sys.argv[1] + "/", sys.argv[2]
planted = json.load(open(sys.argv[1] + "/planted.json"))
found = json.load(open(report))["findings"]
for f in found:
    f["file"] = f["location"]["file"][len(root):] if f["location"]["file"].startswith(root) else f["location"]["file"]
want = Counter(json.dumps([e["policy"], e["file"], e.get("claim"), e.get("attribute")]) for e in planted)
for key, n in sorted(want.items()):
    policy, file, claim, attribute = json.loads(key)
    have = sum(1 for f in found if f["policy"] == policy and f["file"] == file
               and (claim is None or f.get("claim") == claim)
               and (attribute is None or f.get("attribute") == attribute))
    if have < n:
        e = {"policy": policy, "file": file, "want": n, "have": have}
        if claim is not None: e["claim"] = claim
        if attribute is not None: e["attribute"] = attribute
        print(json.dumps(e))
EOF
    fi
}

count_findings() {
    if [ "$json" = jq ]; then jq '.findings | length' "$1"; else python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$1"; fi
}
count_planted() {
    if [ "$json" = jq ]; then jq 'length' "$1"; else python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$1"; fi
}
count_semgrep() {
    if [ "$json" = jq ]; then jq '.results | length' "$1"; else python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' "$1"; fi
}
# Planted non-namespaced claim names: CL101, and CL103 (restricted names have no namespace either).
count_unnamespaced() {
    if [ "$json" = jq ]; then jq '[.[] | select(.policy == "CL101" or .policy == "CL103")] | length' "$1"; else python3 -c 'import json,sys; print(sum(1 for e in json.load(open(sys.argv[1])) if e["policy"] in ("CL101", "CL103")))' "$1"; fi
}

# The exports: NAME FORMAT GENERATOR-ARGUMENTS.
largest=0
for s in $sizes; do
    if [ "$s" -gt "$largest" ]; then largest=$s; fi
done
tenk=10000
case " $sizes " in *" 10000 "*) ;; *) tenk=$largest ;; esac
exports=()
for s in $sizes; do exports+=("default-$s directory --files $s"); done
exports+=("yaml-$tenk yaml --files $tenk")
if [ "$quick" = 0 ]; then
    exports+=("clients-500x5 directory --files 1000 --clients 500 --connections 4 --databases 1 --enabled 500 --rules 20 --actions 20 --apis 20")
    exports+=("connections-5x500 directory --files 1000 --clients 5 --connections 495 --databases 5 --enabled 5 --rules 20 --actions 20 --apis 20")
    exports+=("logins-500x500 directory --files 1000 --clients 500 --connections 500 --databases 0 --enabled 500 --rules 5 --actions 0 --apis 10")
    exports+=("rules-2000 directory --files 1000 --clients 10 --connections 4 --databases 1 --enabled 10 --rules 2000 --actions 0 --apis 10")
fi

gen_hash=$(cat examples/gen-export.rs | cksum | cut -d' ' -f1)
echo "claimlint $("$claimlint" --version | awk '{print $2}') at $(git rev-parse --short HEAD 2>/dev/null || echo '?')," \
    "$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo '?')), $runs runs each, interleaved," \
    "timeout ${timeout_s} s${baseline:+, baseline $baseline}"
echo "exports in $work (seed $seed)"
for entry in "${exports[@]}"; do
    read -r name format args <<<"$entry"
    dir=$work/$name
    stamp="$format $args --seed $seed gen:$gen_hash"
    if [ -d "$dir" ] && [ "$(cat "$work/$name.stamp" 2>/dev/null)" = "$stamp" ]; then
        continue
    fi
    rm -rf "$dir"
    # shellcheck disable=SC2086
    echo "  $name: $("$gen" --out "$dir" --format "$format" $args --seed "$seed")"
    echo "$stamp" >"$work/$name.stamp"
done
if [ -n "$gallery" ]; then
    exports+=("gallery external")
fi

failed=0
timed_out=0
fail() { echo "FAIL $*"; failed=1; }

declare -A cl_wall fl_wall files_of
rows=()
for entry in "${exports[@]}"; do
    read -r name format _ <<<"$entry"
    dir=$work/$name
    [ "$name" = gallery ] && dir=$gallery
    o=$tmp/$name
    rm -f "$o".*
    variants=(floor claimlint noproof)
    if [ -n "$baseline" ]; then variants+=(baseline); fi
    declare -A dead=()
    for _ in $(seq "$runs"); do
        for v in "${variants[@]}"; do
            [ -n "${dead[$v]:-}" ] && continue
            status=0
            case $v in
                floor) measure "$o.floor" "$floor" "$dir" || status=$? ;;
                claimlint) measure "$o.claimlint" "$claimlint" "$dir" --format json --fail-on never || status=$? ;;
                noproof) measure "$o.noproof" "$claimlint" "$dir" --format json --fail-on never --proof none || status=$? ;;
                baseline) measure "$o.baseline" "$baseline" "$dir" --format json --fail-on never || status=$? ;;
            esac
            if [ "$status" = 124 ]; then
                echo "TIMEOUT $name: $v ran longer than $timeout_s s; its remaining runs are skipped"
                dead[$v]=1
                [ "$v" = floor ] || timed_out=1
            elif [ "$status" = 2 ] && [ "$v" != floor ]; then
                # Input errors (CL001): a generated export must have none.
                [ "$name" = gallery ] || fail "$name: $v exited 2 (input errors in a generated export): $(head -c 300 "$o.$v.stderr")"
            elif [ "$status" != 0 ]; then
                fail "$name: $v exited $status: $(head -c 300 "$o.$v.stderr")"
                dead[$v]=1
            fi
        done
    done
    unset dead

    # Size of the export, from the floor's count.
    read -r _ nfiles _ nbytes _ nfailed _ < <(cat "$o.floor.stdout" 2>/dev/null || echo "files 0 bytes 0 failed 0")
    [ "${nfailed:-0}" = 0 ] || [ "$name" = gallery ] || fail "$name: the floor could not parse $nfailed generated files"
    col() { if [ -s "$o.$1.times" ]; then cut -d' ' -f"$2" "$o.$1.times" | median; else echo nan; fi; }
    fw=$(col floor 1); frss=$(col floor 2)
    cw=$(col claimlint 1); crss=$(col claimlint 2); ccpu=$(col claimlint 3)
    nw=$(col noproof 1)
    bw=$(col baseline 1)
    cl_wall[$name]=$cw
    fl_wall[$name]=$fw
    files_of[$name]=$nfiles
    mb=$(awk -v b="$nbytes" 'BEGIN {printf "%.1f", b / 1e6}')
    row=$(printf '%-18s %7s %7s %9s %8s %8s %9s %7s %9s %9s %8s %9s' "$name" "$nfiles" "$mb" \
        "$(fmt "$cw" '%.3f')" "$(fmt "$ccpu" '%.2f')" "$(mb_of "$crss")" \
        "$(awk -v n="$nfiles" -v w="$cw" 'BEGIN {if (w == "nan") print "-"; else printf "%.0f", n / w}')" \
        "$(awk -v n="$nbytes" -v w="$cw" 'BEGIN {if (w == "nan") print "-"; else printf "%.2f", n / 1e6 / w}')" \
        "$(fmt "$nw" '%.3f')" "$(fmt "$fw" '%.4f')" \
        "$(mb_of "$frss")" \
        "$(ratio "$cw" "$fw")")
    if [ -n "$baseline" ]; then
        row+=$(printf ' %9s %7s' "$(fmt "$bw" '%.3f')" "$(ratio "$cw" "$bw")")
    fi
    rows+=("$row")

    # Every planted finding must be in the report.
    if [ -f "$dir/planted.json" ]; then
        if [ -s "$o.claimlint.stdout" ]; then
            missing=$(missing_planted "$dir" "$o.claimlint.stdout")
            planted=$(count_planted "$dir/planted.json")
            if [ -n "$missing" ]; then
                while IFS= read -r m; do fail "$name: planted finding missing from claimlint's report: $m"; done <<<"$missing"
            else
                echo "PASS $name: all $planted planted findings reported ($(count_findings "$o.claimlint.stdout") findings in all)"
            fi
        else
            echo "SKIP $name: no claimlint report (timed out), planted findings not checked"
        fi
    fi
done

echo
printf '%-18s %7s %7s %9s %8s %8s %9s %7s %9s %9s %8s %9s' export files MB wall_s cpu_s rss_MB files/s MB/s noproof_s floor_s floorMB cl/floor
if [ -n "$baseline" ]; then printf ' %9s %7s' base_s cl/base; fi
echo
for r in "${rows[@]}"; do echo "$r"; done
echo "(medians of $runs runs; wall_s, cpu_s (user+sys) and rss_MB (peak) are claimlint --format json;"
echo " noproof_s is the same with --proof none; floor_s is examples/floor: walk, read, parse, nothing else)"

# Growth from the second-largest to the largest default export.
read -r -a sorted <<<"$(tr ' ' '\n' <<<"$sizes" | grep . | sort -n | tr '\n' ' ')"
if [ "${#sorted[@]}" -ge 2 ]; then
    a=default-${sorted[-2]}
    b=default-${sorted[-1]}
    echo
    echo "growth ${sorted[-2]} -> ${sorted[-1]} files ($(ratio "${files_of[$b]}" "${files_of[$a]}") the files):" \
        "claimlint $(if [ "${cl_wall[$b]}" = nan ]; then echo "timed out on $b"; else ratio "${cl_wall[$b]}" "${cl_wall[$a]}"; fi)," \
        "floor $(ratio "${fl_wall[$b]}" "${fl_wall[$a]}")"
fi

# --jobs 1 against --jobs 2 on the 10,000-file export.
echo
dir=$work/default-$tenk
o=$tmp/jobs
rm -f "$o".*
jobs_dead=0
for _ in $(seq "$runs"); do
    for j in 1 2; do
        status=0
        measure "$o.$j" "$claimlint" "$dir" --format json --fail-on never --jobs "$j" || status=$?
        if [ "$status" = 124 ]; then
            echo "TIMEOUT --jobs $j on default-$tenk ran longer than $timeout_s s"
            timed_out=1; jobs_dead=1; break 2
        elif [ "$status" != 0 ]; then
            fail "--jobs $j on default-$tenk exited $status"; jobs_dead=1; break 2
        fi
    done
done
if [ "$jobs_dead" = 0 ]; then
    j1=$(cut -d' ' -f1 "$o.1.times" | median)
    j2=$(cut -d' ' -f1 "$o.2.times" | median)
    # Each run of one job is paired with the run of two that follows it: the median of those
    # ratios is steadier than the ratio of the medians when the machine's speed drifts.
    paired=$(paste -d' ' <(cut -d' ' -f1 "$o.1.times") <(cut -d' ' -f1 "$o.2.times") |
        awk '$2 > 0 {print $1 / $2}' | median)
    echo "--jobs 1 vs --jobs 2 on default-$tenk: $(printf '%.3f' "$j1") s vs $(printf '%.3f' "$j2") s," \
        "speedup $(ratio "$j1" "$j2") (median of the $runs paired runs' ratios: $(printf '%.2f' "$paired")x)"
    if cmp -s "$o.1.stdout" "$o.2.stdout"; then
        echo "PASS --jobs 1 and --jobs 2 reports are byte-identical ($(wc -c <"$o.1.stdout") bytes)"
    else
        fail "--jobs 1 and --jobs 2 reports differ on default-$tenk"
    fi
fi

# Semgrep with the CL101 patterns, on the same exports.
semgrep=${SEMGREP:-$(command -v semgrep || true)}
# Otherwise every semgrep command first waits on a network version check (95 s here, offline).
export SEMGREP_ENABLE_VERSION_CHECK=0
if [ -n "$semgrep" ] && [ -x "$semgrep" ]; then
    echo
    echo "Semgrep $("$semgrep" --version 2>/dev/null | tail -1) with benches/semgrep-claims.yaml (-j 2), median of $semgrep_runs run(s):"
    printf '%-18s %10s %9s %10s %9s %12s\n' export semgrep_s rss_MB claimlint_s sg/cl matches/planted
    for entry in "${exports[@]}"; do
        read -r name _ <<<"$entry"
        dir=$work/$name
        [ "$name" = gallery ] && dir=$gallery
        o=$tmp/$name.semgrep
        rm -f "$o".*
        status=0
        for _ in $(seq "$semgrep_runs"); do
            measure "$o" "$semgrep" scan --config benches/semgrep-claims.yaml -j 2 --metrics off \
                --disable-version-check --no-git-ignore --json --quiet "$dir" || status=$?
            [ "$status" = 0 ] || break
        done
        if [ "$status" = 124 ]; then
            printf '%-18s %10s\n' "$name" TIMEOUT
            continue
        elif [ "$status" != 0 ] && [ "$status" != 1 ]; then
            printf '%-18s %10s\n' "$name" "exit $status"
            continue
        fi
        sw=$(cut -d' ' -f1 "$o.times" | median)
        srss=$(cut -d' ' -f2 "$o.times" | median)
        planted=-
        if [ -f "$dir/planted.json" ]; then planted=$(count_unnamespaced "$dir/planted.json"); fi
        printf '%-18s %10.3f %9s %10s %9s %12s\n' "$name" "$sw" "$(mb_of "$srss")" \
            "$(awk -v v="${cl_wall[$name]}" 'BEGIN {if (v == "nan") print "TIMEOUT"; else printf "%.3f", v}')" \
            "$(ratio "$sw" "${cl_wall[$name]}")" "$(count_semgrep "$o.stdout")/$planted"
    done
    echo "(matches/planted: Semgrep's results against the planted CL101 and CL103 claims, whose names have"
    echo " no namespace; Semgrep cannot tell disabled rules or unbound actions, so none are planted there)"
else
    echo
    echo "Semgrep: not found (put semgrep on PATH or set SEMGREP=path to compare)"
fi

echo
if [ "$failed" = 1 ]; then
    echo "FAIL: see the FAIL lines above"
    exit 1
elif [ "$timed_out" = 1 ]; then
    echo "TIMEOUT: some claimlint runs took longer than $timeout_s s (see above)"
    exit 3
fi
echo "PASS: every planted finding was reported"
