#!/usr/bin/env bash
# GIL and process benchmarks: each program of bench/gil runs on mini with
# the GIL on, with it off, and on python3 (where installed), one after the
# other, so the lines of one run compare under the same machine load. Then,
# for each measurement of the line, the ratio mini/python3 (below 1: mini
# is faster or, for ratios such as threaded/sequential, lower).
#   bench/gil.sh [MINI_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mini=${1:-$here/../build/mini}
[ -x "$mini" ] || { echo "bench: no mini binary at $mini (build first)" >&2; exit 2; }
python=$(command -v python3 || true)

# For each measurement of a line (a number with its unit: 1.5 us, 2.0x,
# 0.65s, 70%), its label (the words since the previous one) and mini's value
# over python3's in the same place of python3's line.
ratios() {
    awk -v a="$1" -v b="$2" '
    function measures(line, vals, labels,    n, t, i, k, label) {
        n = split(line, t, /[ (),;]+/); k = 0; label = ""
        for (i = 1; i <= n; i++) {
            if (t[i] ~ /^[0-9.]+(s|x|%)$/ || (t[i] ~ /^[0-9.]+$/ && t[i + 1] ~ /^(ms|us|s)$/)) {
                vals[++k] = t[i] + 0; labels[k] = label; label = ""
                if (t[i + 1] ~ /^(ms|us|s)$/) i++
            } else if (t[i] != "") {
                label = label == "" ? t[i] : label " " t[i]
            }
        }
        return k
    }
    BEGIN {
        n = measures(a, va, la); m = measures(b, vb, lb); out = ""
        for (i = 1; i <= n && i <= m; i++)
            if (vb[i] > 0) out = out sprintf("%s%s %.2f", out == "" ? "" : "; ", la[i], va[i] / vb[i])
        print out
    }'
}

for prog in "$here"/gil/*.py; do
    name=$(basename "$prog" .py)
    echo "== $name"
    on=$("$mini" "$prog")
    off=$("$mini" --gil=off "$prog")
    printf '  %-16s %s\n' "mini GIL on" "$on" "mini GIL off" "$off"
    if [ -n "$python" ]; then
        py=$("$python" "$prog")
        printf '  %-16s %s\n' "python3" "$py"
        printf '  %-16s %s\n' "on/python3" "$(ratios "$on" "$py")" "off/python3" "$(ratios "$off" "$py")"
    fi
done

# The GIL designs (vm/gil.c) next to the interpreters whose GILs they
# reproduce: Python 2.7 (legacy) and python3 (cpython), where installed.
echo "== GIL designs (scripts/gil_designs.mini)"
designs=$here/../scripts/gil_designs.mini
for design in mini cpython legacy fifo off; do
    echo "  $("$mini" --gil=$design "$designs")"
done
python27=$(command -v python2.7 || ls "${PYENV_ROOT:-$HOME/.pyenv}"/versions/2.7*/bin/python2.7 2>/dev/null | head -1 || true)
for py in "$python27" "$python"; do
    if [ -n "$py" ]; then echo "  $("$py" "$designs")"; fi
done
