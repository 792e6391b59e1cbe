#!/usr/bin/env bash
# The headline demo: installs what is missing, builds build/mini, then
# prints the article's CPU benchmark table measured on this machine, with a
# "Threaded (GIL off)" row from a second run under `mini --gil=off`.
#   scripts/demo.sh [N]      (N: the range of each task, default 10**7)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/deps.sh
mini_install_deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j"$(nproc)" > /dev/null
echo
echo "Measuring (about 10 s)..."
gil_off=$(build/mini --gil=off scripts/cpu_table.mini --threaded-only "$@")
build/mini scripts/cpu_table.mini --gil-off-threaded="$gil_off" "$@"
