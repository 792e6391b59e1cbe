#!/usr/bin/env bash
# The headline demo: installs what is missing, builds build/mini, then runs
# the article's CPU-bound work on threads with the GIL on and with it off.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/deps.sh
mini_install_deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j"$(nproc)" > /dev/null
echo
build/mini scripts/cpu_threads.mini "$@"
echo
build/mini --gil=off scripts/cpu_threads.mini "$@"
