#!/usr/bin/env bash
# GIL benchmarks: each program of bench/gil runs on mini with the GIL on,
# with it off, and on python3 (where installed), one after the other, so the
# lines of one run compare under the same machine load.
#   bench/gil.sh [MINI_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mini=${1:-$here/../build/mini}
[ -x "$mini" ] || { echo "bench: no mini binary at $mini (build first)" >&2; exit 2; }
python=$(command -v python3 || true)
for prog in "$here"/gil/*.py; do
    name=$(basename "$prog" .py)
    echo "== $name"
    printf '  %-16s %s\n' "mini GIL on" "$("$mini" "$prog")"
    printf '  %-16s %s\n' "mini GIL off" "$("$mini" --gil=off "$prog")"
    if [ -n "$python" ]; then printf '  %-16s %s\n' "python3" "$("$python" "$prog")"; fi
done
