#!/usr/bin/env bash
# Installs claimlint for the composite action (action.yml): the claimlint-auth0 wheel of version
# $INPUT_VERSION, into a virtualenv of its own under $RUNNER_TEMP, whose scripts folder is added
# to $GITHUB_PATH. No Rust toolchain is needed. pip's usual environment variables apply
# (.ci/run installs the locally built wheel with PIP_NO_INDEX and PIP_FIND_LINKS).
set -euo pipefail

version="${INPUT_VERSION:?the version input is empty}"
: "${RUNNER_TEMP:?RUNNER_TEMP is not set}" "${GITHUB_PATH:?GITHUB_PATH is not set}"

python=""
for candidate in python3 python; do
    if command -v "$candidate" > /dev/null 2>&1; then
        python="$candidate"
        break
    fi
done
if [ -z "$python" ]; then
    echo "::error title=claimlint::no python3 or python on PATH; add actions/setup-python before this action"
    exit 1
fi

venv="$RUNNER_TEMP/claimlint-venv"
"$python" -m venv "$venv"
# Windows puts a virtualenv's programs in Scripts\, everything else in bin/.
if [ -d "$venv/Scripts" ]; then bin="$venv/Scripts"; else bin="$venv/bin"; fi
"$bin/python" -m pip install --quiet --disable-pip-version-check "claimlint-auth0==$version"
echo "$bin" >> "$GITHUB_PATH"
"$bin/claimlint" --version
