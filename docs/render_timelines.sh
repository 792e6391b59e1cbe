#!/usr/bin/env bash
# Redraws docs/timeline_gil_{on,off}.{svg,png}: the article's performance
# comparison (scripts/article/6_performance_comparison.mini: sequential, a
# thread pool, a process pool) traced with the GIL on and with it off, and
# each SVG rendered to PNG by headless Chromium (installed if missing); and
# docs/timeline_design_NAME.svg: the convoy experiment (scripts/convoy.mini,
# 20 short sleeps next to a CPU-bound thread) under each GIL design.
#   docs/render_timelines.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/deps.sh
mini_install_deps
command -v chromium > /dev/null || apt-get install -y -q chromium > /dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j"$(nproc)" > /dev/null
for mode in on off; do
    svg=docs/timeline_gil_$mode.svg
    (cd scripts/article && ../../build/mini --gil=$mode --gil-timeline="../../$svg" \
        6_performance_comparison.mini)
    size=$(sed -n 's/.*<svg[^>]* width="\([0-9]*\)" height="\([0-9]*\)".*/\1,\2/p' "$svg" | head -1)
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --window-size="$size" --screenshot="$PWD/docs/timeline_gil_$mode.png" \
        "file://$PWD/$svg" 2> /dev/null
done
for design in mini cpython legacy fifo off; do
    build/mini --gil=$design --gil-timeline=docs/timeline_design_$design.svg scripts/convoy.mini 20 > /dev/null
done
