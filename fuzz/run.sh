#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, one after the other, seeding each
# corpus from the repository's fixtures, and prints one line per target: executions, corpus
# size, and whether it found a crash (saved under fuzz/artifacts/<target>/).
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); on a stable toolchain it runs with
# RUSTC_BOOTSTRAP=1, which lets cargo-fuzz pass the unstable flags its instrumentation needs. The
# targets are built without a sanitizer: claimlint is safe Rust, so AddressSanitizer finds
# nothing more and runs four times slower; crashes here are panics, aborts, timeouts and
# out-of-memory.
set -uo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(yaml_export json_resource directory_tree script script_idioms config_policy render)
fi
export RUSTC_BOOTSTRAP=1
fixtures=../tests/fixtures

seed() {
    local target="$1" dir="corpus/$1"
    mkdir -p "$dir"
    [ -n "$(ls -A "$dir")" ] && return
    case "$target" in
        yaml_export) find "$fixtures" ../examples -name '*.yaml' -size -64k -not -path '*/.claimlint*' ;;
        json_resource) find "$fixtures" -name '*.json' -size -16k | head -400 ;;
        script|script_idioms|render) find "$fixtures" -name '*.js' -size -16k | head -400 ;;
        config_policy) find ../policies "$fixtures" -name '*.yaml' -size -16k | head -200 ;;
        directory_tree) find "$fixtures" -name '*.json' -size -4k | head -100 ;;
    esac | while read -r file; do
        if [ "$target" = directory_tree ] || [ "$target" = json_resource ] || [ "$target" = script ] || [ "$target" = config_policy ]; then
            # These targets read a leading selector byte.
            { printf '\001'; cat "$file"; } > "$dir/$(printf '%s' "$file" | md5sum | cut -c1-16)"
        else
            cp "$file" "$dir/$(printf '%s' "$file" | md5sum | cut -c1-16)"
        fi
    done
}

cargo fuzz build --sanitizer none >/dev/null 2>&1 || { echo "fuzz/run.sh: cargo fuzz build failed" >&2; exit 2; }
status=0
for target in "${targets[@]}"; do
    seed "$target"
    log="target/$target.log"
    mkdir -p target
    cargo fuzz run --sanitizer none "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 \
        -print_final_stats=1 >"$log" 2>&1
    code=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    corpus=$(ls "corpus/$target" | wc -l)
    if [ $code -eq 0 ]; then
        echo "$target: ${execs:-?} executions in ${seconds} s, corpus ${corpus}, no crash"
    else
        status=1
        echo "$target: FAILED after ${execs:-?} executions (exit $code); see fuzz/$log and fuzz/artifacts/$target/"
    fi
done
exit $status
