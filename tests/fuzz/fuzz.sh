#!/usr/bin/env bash
# Fuzzes mini with libFuzzer (tests/README.md, "Fuzzing"): builds the
# harnesses in build-fuzz/ (clang, ASan+UBSan, installing clang and its
# runtime if missing), replays the corpora tests/fuzz/crashes/ and
# tests/fuzz/pickles/, then fuzzes in fork mode, one job at a time: the
# programs harness (fuzz_mini) for SECONDS (default 180), then the pickle
# harness (fuzz_pickle) for a third of that.
# Fails if a crash or a leak was found, and prints each such input;
# timeouts and out-of-memory inputs are listed but do not fail (work in C
# that no budget interrupts, like 10**10**9, is not a bug).
# Arguments after SECONDS go to libFuzzer (a later flag wins):
#   tests/fuzz/fuzz.sh 36000             # ten hours
#   tests/fuzz/fuzz.sh 3600 -fork=2      # two fuzzing processes at a time
# The corpora it grows are kept in build-fuzz/fuzz/<harness>/corpus/ for the next run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/deps.sh
MINI_DEB_PACKAGES+=(clang libclang-rt-14-dev)
mini_install_deps

seconds=${1:-180}
shift || true
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Release -DMINI_WERROR=ON \
      -DMINI_SANITIZE=address,undefined -DMINI_FUZZ=ON
cmake --build build-fuzz -j"$(nproc)" --target fuzz_mini fuzz_pickle
ctest --test-dir build-fuzz --output-on-failure -L fuzz

# fuzz HARNESS SECONDS DICT SEEDS...: DICT is libFuzzer's -dict= flag
# (or ""); the seed folders are copied into one.
fuzz() {
  local harness=$1 secs=$2 dict=$3 work=$PWD/build-fuzz/fuzz/$1
  shift 3
  rm -rf "$work/seeds" "$work/found" "$work/scratch"
  mkdir -p "$work/corpus" "$work/seeds" "$work/found" "$work/scratch"
  for seeds in "$@"; do cp "$seeds"/* "$work/seeds/"; done
  # The inputs run in a scratch folder: they may write files.
  (cd "$work/scratch" &&
   UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=allocator_may_return_null=1 \
   "$OLDPWD/build-fuzz/tests/fuzz/$harness" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
     -close_fd_mask=3 -timeout=10 -rss_limit_mb=2048 -max_total_time="$secs" \
     $dict -artifact_prefix="$work/found/" "${libfuzzer_args[@]}" \
     "$work/corpus" "$work/seeds")
}
libfuzzer_args=("$@")
program_seeds=$PWD/build-fuzz/fuzz/program-seeds
rm -rf "$program_seeds"
tests/fuzz/seeds.sh "$program_seeds"
fuzz fuzz_mini "$seconds" -dict="$PWD/tests/fuzz/mini.dict" "$program_seeds" tests/fuzz/crashes
fuzz fuzz_pickle $((seconds / 3)) "" tests/fuzz/pickles

status=0
for f in build-fuzz/fuzz/*/found/*; do
  [ -e "$f" ] || continue
  case "$(basename "$f")" in
    crash-*|leak-*|deadly-*)
      status=1
      printf '\n==== %s (fails the run) ====\n' "$f"
      cat -v "$f"
      printf '\n==== reproduce: build-fuzz/tests/fuzz/%s %s ====\n' "$(basename "$(dirname "$(dirname "$f")")")" "$f" ;;
    *)
      printf '\n==== %s (not a failure: no budget cuts work in C) ====\n' "$f"
      head -c 2000 "$f" | cat -v; echo ;;
  esac
done
if [ "$status" -ne 0 ]; then
  echo "fuzz: found crashes (above). Fix each, then add its input to tests/fuzz/crashes/ (fuzz_mini) or tests/fuzz/pickles/ (fuzz_pickle)." >&2
fi
exit "$status"
