#!/usr/bin/env bash
# Gathers the fuzzer's seed corpus into DIR (created if need be): every
# script test (tests/**/*.mini) and the stdlib's modules written in mini,
# one file each, named by path. libFuzzer reads the folder; nothing is
# copied into the repository.
# usage: tests/fuzz/seeds.sh DIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mkdir -p "$1"
cd "$root"
find tests stdlib scripts -name '*.mini' -not -path 'tests/scripts/runner_selftest/*' -print0 |
  while IFS= read -r -d '' f; do
    cp "$f" "$1/$(printf '%s' "$f" | tr '/ ' '__')"
  done
