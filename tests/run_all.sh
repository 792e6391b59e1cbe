#!/usr/bin/env bash
# Builds mini in build/ (Release, warnings as errors) and runs every test.
# Extra arguments go to ctest, e.g. tests/run_all.sh -R script/syntax
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/deps.sh
mini_install_deps

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMINI_WERROR=ON
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" "$@"
