#!/usr/bin/env bash
# Coverage-guided fuzzing of every model loader and every file reader with clang's libFuzzer, ASan
# and UBSan:
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET_FILTER=.]
# Builds build-fuzz/ with clang++ and -DTAILOR_FUZZ=ON, seeds each target's working corpus from
# tests/fuzz/corpus/models/<loader>.bin or tests/fuzz/corpus/parsers/<reader>/, runs each loader
# and reader for SECONDS_PER_TARGET, and prints one line per target: executions, executions per
# second, corpus entries, findings. (Dunnhumby readers fuzz their transactions file.)
# A finding (crash, sanitizer report, uncaught non-FormatError exception, a single allocation
# above 64 MiB, an input taking over 2 s) leaves its input in build-fuzz/findings/<loader>/.
# Needs clang (apt-get install clang). CI does not run this; it replays the corpora instead.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
SECONDS_PER_TARGET="${1:-60}"
FILTER="${2:-.}"
BUILD="${FUZZ_BUILD_DIR:-$TAILOR_ROOT/build-fuzz}"
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing (apt-get install clang)" >&2; exit 1; }

cmake -S "$TAILOR_ROOT" -B "$BUILD" -G Ninja "${CMAKE_LAUNCHER[@]}" -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Release -DTAILOR_FUZZ=ON -DTAILOR_BUILD_TESTS=ON -DTAILOR_BUILD_EXAMPLES=OFF \
  -DTAILOR_BUILD_BENCHMARKS=OFF -DTAILOR_PACKAGE_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target fuzz_models fuzz_parsers -j "$JOBS"

export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
printf '%-40s %12s %10s %8s %9s\n' target executions exec/s corpus findings
total_runs=0
total_findings=0
# run_target NAME BINARY SEED... : fuzzes one target (environment set by the caller).
run_target() {
  local name="$1" binary="$2"
  shift 2
  local corpus="$BUILD/corpus/$name" findings="$BUILD/findings/$name" log="$BUILD/logs/$name.log"
  rm -rf "$findings"  # each run reports its own findings (keep reproducers in tests/fuzz/corpus/regressions)
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  cp -n "$@" "$corpus/"
  set +e
  "$binary" "$corpus" -max_total_time="$SECONDS_PER_TARGET" -malloc_limit_mb=64 -rss_limit_mb=2048 \
    -timeout=2 -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
  set -e
  local runs rate entries found
  runs="$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)"
  rate="$(grep -oE '^stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)"
  entries="$(find "$corpus" -type f | wc -l)"
  found="$(find "$findings" -type f | wc -l)"
  printf '%-40s %12s %10s %8s %9s\n' "$name" "$runs" "$rate" "$entries" "$found"
  total_runs=$((total_runs + runs))
  total_findings=$((total_findings + found))
}

for seed in "$TAILOR_ROOT"/tests/fuzz/corpus/models/*.bin; do
  name="$(basename "$seed" .bin)"
  [[ "$name" =~ $FILTER ]] || continue
  TAILOR_FUZZ_LOADER="$name" run_target "models/$name" "$BUILD/tests/fuzz/fuzz_models" "$seed"
done
export TAILOR_TEST_SOURCE_DIR="$TAILOR_ROOT/tests"
for dir in "$TAILOR_ROOT"/tests/fuzz/corpus/parsers/*/; do
  name="$(basename "$dir")"
  [[ "$name" =~ $FILTER ]] || continue
  case "$name" in
    dunnhumby_completejourney) file=transactions.csv ;;
    dunnhumby_original) file=transaction_data.csv ;;
    *) file="" ;;
  esac
  if [[ -n "$file" ]]; then
    TAILOR_FUZZ_PARSER="$name" TAILOR_FUZZ_FILE="$file" \
      run_target "parsers/$name" "$BUILD/tests/fuzz/fuzz_parsers" "$dir/$file"
  else
    TAILOR_FUZZ_PARSER="$name" run_target "parsers/$name" "$BUILD/tests/fuzz/fuzz_parsers" "$dir"/*
  fi
done
echo "fuzz.sh: $total_runs executions, $total_findings findings (logs in $BUILD/logs)"
[[ $total_findings -eq 0 ]]
