#!/usr/bin/env bash
# Runs every benchmark in bench/programs with mini and, where installed,
# python3 and lua5.4, in one go, and prints the times and the ratios.
# Ratios from the same run are what to compare: these machines are shared.
#   bench/run.sh [MINI_BINARY] [REPEATS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mini=${1:-$here/../build/mini}
repeats=${2:-3}
[ -x "$mini" ] || { echo "bench: no mini binary at $mini (build first)" >&2; exit 2; }
python=$(command -v python3 || true)
lua=$(command -v lua5.4 || true)

# Best wall time of $repeats runs, in seconds; also checks the output
# matches the first interpreter's for the same program.
best_time() {
    local best="" t start end
    for _ in $(seq "$repeats"); do
        start=$(date +%s%N)
        "$@" > /tmp/mini-bench-out.$$ 2>&1 || { echo "FAILED"; return; }
        end=$(date +%s%N)
        t=$(( (end - start) / 1000000 ))
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
    done
    echo "$best"
}

ms() {
    case "$1" in
    -|FAILED) echo "$1" ;;
    *) awk -v t="$1" 'BEGIN { printf "%.3f", t / 1000 }' ;;
    esac
}
ratio() {
    if [ "$1" = "-" ] || [ "$2" = "-" ] || [ "$1" = "FAILED" ] || [ "$2" = "FAILED" ]; then echo "-"; return; fi
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == 0) a = 1; printf "%.2fx", b / a }'
}

printf "%-18s %10s %10s %10s %14s %14s\n" benchmark "mini s" "python3 s" "lua5.4 s" "python3/mini" "lua/mini"
for prog in "$here"/programs/*.py; do
    name=$(basename "$prog" .py)
    m=$(best_time "$mini" "$prog")
    mini_out=$(cat /tmp/mini-bench-out.$$)
    p="-"
    if [ -n "$python" ]; then
        p=$(best_time "$python" "$prog")
        if [ "$p" != "FAILED" ] && [ "$(cat /tmp/mini-bench-out.$$)" != "$mini_out" ]; then
            echo "bench: $name prints different output on mini and python3" >&2
            p="FAILED"
        fi
    fi
    l="-"
    if [ -n "$lua" ] && [ -f "$here/programs/$name.lua" ]; then l=$(best_time "$lua" "$here/programs/$name.lua"); fi
    printf "%-18s %10s %10s %10s %14s %14s\n" "$name" "$(ms "$m")" "$(ms "$p")" "$(ms "$l")" "$(ratio "$m" "$p")" "$(ratio "$m" "$l")"
done
rm -f /tmp/mini-bench-out.$$
