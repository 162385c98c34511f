#!/usr/bin/env bash
# The composite action's logic (action.yml), in two steps:
#
#   run.sh lint   runs claimlint on $INPUT_PATHS with SARIF output to $INPUT_SARIF_FILE, prints a
#                 human-readable report to the log, and records the exit code in $GITHUB_OUTPUT
#                 (`exit-code`, and `sarif-file` when the log was written). It succeeds whatever
#                 claimlint found, so the SARIF upload runs before the gate.
#   run.sh gate   fails the step according to $EXIT_CODE: 1 = findings at or above
#                 $INPUT_FAIL_ON, 2 = claimlint could not lint the input (an input error, a usage
#                 error or no export found).
#
# .ci/run runs both with a faked GitHub environment, against the wheel it built.
set -euo pipefail

lint() {
    : "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
    local sarif="${INPUT_SARIF_FILE:-claimlint.sarif}"
    local fail_on="${INPUT_FAIL_ON:-error}"

    # Several paths: one per line, or separated by spaces on one line.
    local -a paths=()
    local line
    if [[ "${INPUT_PATHS:-}" == *$'\n'* ]]; then
        while IFS= read -r line; do
            line="${line#"${line%%[![:space:]]*}"}"
            line="${line%"${line##*[![:space:]]}"}"
            [ -n "$line" ] && paths+=("$line")
        done <<< "$INPUT_PATHS"
    else
        read -r -a paths <<< "${INPUT_PATHS:-.}"
    fi
    [ "${#paths[@]}" -gt 0 ] || paths=(.)

    local -a options=(--fail-on "$fail_on")
    if [ -n "${INPUT_BASELINE:-}" ]; then options+=(--baseline "$INPUT_BASELINE"); fi
    # Extra arguments, separated by spaces (no shell quoting, nothing is evaluated).
    local -a extra=()
    read -r -a extra <<< "${INPUT_ARGS:-}"

    rm -f -- "$sarif"
    mkdir -p -- "$(dirname -- "$sarif")"
    local code=0
    claimlint "${paths[@]}" "${options[@]}" "${extra[@]}" --format sarif --output "$sarif" || code=$?
    echo "exit-code=$code" >> "$GITHUB_OUTPUT"
    if [ -s "$sarif" ]; then
        echo "sarif-file=$sarif" >> "$GITHUB_OUTPUT"
    else
        echo "::warning title=claimlint::no SARIF log was written (exit code $code); nothing to upload"
    fi

    # The same run for people reading the log; its exit code is the one above.
    echo "::group::claimlint report"
    claimlint "${paths[@]}" "${options[@]}" "${extra[@]}" --format human --color always || true
    echo "::endgroup::"
}

gate() {
    local code="${EXIT_CODE:-}"
    case "$code" in
        0)
            echo "claimlint: no finding at or above --fail-on ${INPUT_FAIL_ON:-error}"
            ;;
        1)
            echo "::error title=claimlint::findings at or above --fail-on ${INPUT_FAIL_ON:-error} (see the report in the log and the code scanning alerts)"
            exit 1
            ;;
        2)
            echo "::error title=claimlint::claimlint could not lint the input: an input error (CL001), a usage error or no export found (exit code 2; see the log)"
            exit 2
            ;;
        *)
            echo "::error title=claimlint::claimlint did not run to the end (exit code '${code}')"
            exit 1
            ;;
    esac
}

case "${1:-}" in
    lint) lint ;;
    gate) gate ;;
    *) echo "usage: run.sh lint|gate" >&2; exit 64 ;;
esac
