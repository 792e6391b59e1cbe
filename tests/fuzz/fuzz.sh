#!/usr/bin/env bash
# Fuzzes mini with libFuzzer (tests/README.md, "Fuzzing"): builds the
# harness in build-fuzz/ (clang, ASan+UBSan, installing clang and its
# runtime if missing), replays the crash corpus tests/fuzz/crashes/, then
# fuzzes for SECONDS (default 180) in fork mode, one job at a time.
# Fails if a crash or a leak was found, and prints each such input;
# timeouts and out-of-memory inputs are listed but do not fail (work in C
# that no budget interrupts, like 10**10**9, is not a bug).
# Arguments after SECONDS go to libFuzzer (a later flag wins):
#   tests/fuzz/fuzz.sh 36000             # ten hours
#   tests/fuzz/fuzz.sh 3600 -fork=2      # two fuzzing processes at a time
# The corpus it grows is kept in build-fuzz/fuzz/corpus/ for the next run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/deps.sh
MINI_DEB_PACKAGES+=(clang libclang-rt-14-dev)
mini_install_deps

seconds=${1:-180}
shift || true
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Release -DMINI_WERROR=ON \
      -DMINI_SANITIZE=address,undefined -DMINI_FUZZ=ON
cmake --build build-fuzz -j"$(nproc)" --target fuzz_mini
ctest --test-dir build-fuzz --output-on-failure -L fuzz

work=$PWD/build-fuzz/fuzz
rm -rf "$work/seeds" "$work/found" "$work/scratch"
mkdir -p "$work/corpus" "$work/seeds" "$work/found" "$work/scratch"
tests/fuzz/seeds.sh "$work/seeds"
cp tests/fuzz/crashes/* "$work/seeds/"
# The programs run in a scratch folder: they may write files.
(cd "$work/scratch" &&
 UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=allocator_may_return_null=1 \
 "$OLDPWD/build-fuzz/tests/fuzz/fuzz_mini" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
   -close_fd_mask=3 -timeout=10 -rss_limit_mb=2048 -max_total_time="$seconds" \
   -dict="$OLDPWD/tests/fuzz/mini.dict" -artifact_prefix="$work/found/" "$@" \
   "$work/corpus" "$work/seeds")

status=0
for f in "$work"/found/*; do
  [ -e "$f" ] || continue
  case "$(basename "$f")" in
    crash-*|leak-*|deadly-*)
      status=1
      printf '\n==== %s (fails the run) ====\n' "$f"
      cat -v "$f"
      printf '\n==== reproduce: build-fuzz/tests/fuzz/fuzz_mini %s ====\n' "$f" ;;
    *)
      printf '\n==== %s (not a failure: no budget cuts work in C) ====\n' "$f"
      head -c 2000 "$f" | cat -v; echo ;;
  esac
done
if [ "$status" -ne 0 ]; then
  echo "fuzz: found crashes (above). Fix each, then add its input to tests/fuzz/crashes/." >&2
fi
exit "$status"
