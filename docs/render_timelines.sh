#!/usr/bin/env bash
# Redraws docs/timeline_gil_{on,off}.{svg,png}: the article's performance
# comparison (scripts/article/6_performance_comparison.mini: sequential, a
# thread pool, a process pool) traced with the GIL on and with it off, and
# each SVG rendered to PNG by headless Chromium (installed if missing); and
# docs/timeline_design_NAME.svg: the convoy experiment (scripts/convoy.mini,
# 20 short sleeps next to a CPU-bound thread) under each GIL design; and
# docs/timeline_c_releases_gil.{svg,png}: hashing and compressing on
# threads, whose lanes run C code without the GIL side by side.
#   docs/render_timelines.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/deps.sh
mini_install_deps
command -v chromium > /dev/null || apt-get install -y -q chromium > /dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j"$(nproc)" > /dev/null
# docs/NAME.svg -> docs/NAME.png, at the SVG's own size.
to_png() {
    local svg=docs/$1.svg size
    size=$(sed -n 's/.*<svg[^>]* width="\([0-9]*\)" height="\([0-9]*\)".*/\1,\2/p' "$svg" | head -1)
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --window-size="$size" --screenshot="$PWD/docs/$1.png" \
        "file://$PWD/$svg" 2> /dev/null
}
for mode in on off; do
    (cd scripts/article && ../../build/mini --gil=$mode \
        --gil-timeline="../../docs/timeline_gil_$mode.svg" 6_performance_comparison.mini)
    to_png timeline_gil_$mode
done
build/mini --gil-timeline=docs/timeline_c_releases_gil.svg scripts/c_releases_gil.mini 4 8 > /dev/null
to_png timeline_c_releases_gil
for design in mini cpython legacy fifo off; do
    build/mini --gil=$design --gil-timeline=docs/timeline_design_$design.svg scripts/convoy.mini 20 > /dev/null
done
