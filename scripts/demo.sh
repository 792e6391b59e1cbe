#!/usr/bin/env bash
# The headline demo: installs what is missing, builds build/mini, then
# prints the article's CPU benchmark table measured on this machine, with a
# "Threaded (GIL off)" row from a second run under `mini --gil=off`.
#   scripts/demo.sh [N]      (N: the range of each task, default 10**7)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/deps.sh
# One line for the packages; apt's own output only if it fails.
MINI_DEPS_QUIET=1 mini_install_deps
echo "Building build/mini..."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j"$(nproc)" > /dev/null
echo "Measuring (about 10 s):"
echo "  measuring the tasks on threads with the GIL off..."
gil_off=$(build/mini --gil=off scripts/cpu_table.mini --threaded-only "$@")
table=$(build/mini scripts/cpu_table.mini --progress --gil-off-threaded="$gil_off" "$@")
echo
echo "$table"
