#!/usr/bin/env bash
# Runs every benchmark in bench/programs with mini and, where installed,
# python3 and lua5.4, in one go, and prints CPU times, peak memory and the
# ratios, then the geometric mean of mini/python3 over all programs.
# Ratios from the same run are what to compare: these machines are shared,
# and CPU time (user + system) is steadier than wall time under load.
#   bench/run.sh [MINI_BINARY] [REPEATS] [PROGRAM...]
# PROGRAM names (without .py) pick some programs; default: all of them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mini=${1:-$here/../build/mini}
repeats=${2:-3}
shift $(( $# < 2 ? $# : 2 ))
[ -x "$mini" ] || { echo "bench: no mini binary at $mini (build first)" >&2; exit 2; }
python=$(command -v python3 || true)
lua=$(command -v lua5.4 || true)
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (Debian package time)" >&2; exit 2; }
out=$(mktemp) stats=$(mktemp)
trap 'rm -f "$out" "$stats"' EXIT

# "CPU_MS RSS_KB": the least CPU time (user + system, milliseconds) of
# $repeats runs and the largest peak resident set size among them; FAILED
# if a run fails. The output of the last run is left in $out.
measure() {
    local best="" rss=0 t m
    for _ in $(seq "$repeats"); do
        /usr/bin/time -f "%U %S %M" -o "$stats" "$@" > "$out" 2>&1 || { echo "FAILED"; return; }
        read -r t m <<< "$(awk '{ printf "%d %d", ($1 + $2) * 1000, $3 }' "$stats")"
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
        if [ "$m" -gt "$rss" ]; then rss=$m; fi
    done
    echo "$best $rss"
}

secs() {
    case "$1" in
    -|FAILED) echo "$1" ;;
    *) awk -v t="$1" 'BEGIN { printf "%.2f", t / 1000 }' ;;
    esac
}
mib() {
    case "$1" in
    -|FAILED) echo "$1" ;;
    *) awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' ;;
    esac
}
# mini's time over the other's: below 1 means mini is faster.
ratio() {
    case "$1$2" in *-*|*FAILED*) echo "-"; return ;; esac
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == 0) a = 1; if (b == 0) b = 1; printf "%.2f", a / b }'
}

if [ $# -gt 0 ]; then
    progs=()
    for name in "$@"; do progs+=("$here/programs/$name.py"); done
else
    progs=("$here"/programs/*.py)
fi

printf "%-18s %8s %8s %8s %12s %10s %10s %10s\n" \
    benchmark "mini s" "py3 s" "lua s" "mini/py3" "mini/lua" "mini MiB" "py3 MiB"
log_sum=0 count=0
for prog in "${progs[@]}"; do
    name=$(basename "$prog" .py)
    read -r m m_rss <<< "$(measure "$mini" "$prog") -"
    mini_out=$(cat "$out")
    p="-" p_rss="-"
    if [ -n "$python" ]; then
        read -r p p_rss <<< "$(measure "$python" "$prog") -"
        if [ "$p" != "FAILED" ] && [ "$(cat "$out")" != "$mini_out" ]; then
            echo "bench: $name prints different output on mini and python3" >&2
            p="FAILED"
        fi
    fi
    l="-"
    if [ -n "$lua" ] && [ -f "$here/programs/$name.lua" ]; then
        read -r l _ <<< "$(measure "$lua" "$here/programs/$name.lua")"
    fi
    r=$(ratio "$m" "$p")
    if [ "$r" != "-" ]; then
        log_sum=$(awk -v s="$log_sum" -v a="$m" -v b="$p" 'BEGIN { if (a == 0) a = 1; if (b == 0) b = 1; printf "%.12f", s + log(a / b) }')
        count=$((count + 1))
    fi
    printf "%-18s %8s %8s %8s %12s %10s %10s %10s\n" "$name" "$(secs "$m")" "$(secs "$p")" "$(secs "$l")" \
        "$r" "$(ratio "$m" "$l")" "$(mib "$m_rss")" "$(mib "$p_rss")"
done
if [ "$count" -gt 0 ]; then
    awk -v s="$log_sum" -v n="$count" 'BEGIN { printf "geometric mean of mini/py3 over %d programs: %.3f\n", n, exp(s / n) }'
fi
