#!/usr/bin/env bash
# Installs dependencies, builds tailor (tests, examples, benchmarks) and runs the whole test suite.
#   scripts/test.sh              Release build in build/
#   scripts/test.sh --sanitize   ASan+UBSan build of the tests in build-asan/ (tests only: the
#                                examples, benchmarks and the link-only ODR program are built and
#                                run by the Release build; skipping them here saves ~8 minutes)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$TAILOR_ROOT/scripts/install_deps.sh"

if [[ "${1:-}" == "--sanitize" ]]; then
  BUILD_DIR="${BUILD_DIR:-$TAILOR_ROOT/build-asan}"
  cmake -S "$TAILOR_ROOT" -B "$BUILD_DIR" -G Ninja "${CMAKE_LAUNCHER[@]}" \
    -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" -DTAILOR_SANITIZE=ON -DTAILOR_BUILD_TESTS=ON \
    -DTAILOR_BUILD_EXAMPLES=OFF -DTAILOR_BUILD_BENCHMARKS=OFF -DTAILOR_PACKAGE_TESTS=OFF -DTAILOR_DATA_DIR="$TAILOR_DATA_DIR"
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
else
  BUILD_DIR="${BUILD_DIR:-$TAILOR_ROOT/build}"
  cmake -S "$TAILOR_ROOT" -B "$BUILD_DIR" -G Ninja "${CMAKE_LAUNCHER[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DTAILOR_BUILD_TESTS=ON -DTAILOR_BUILD_EXAMPLES=ON -DTAILOR_BUILD_BENCHMARKS=ON \
    -DTAILOR_DATA_DIR="$TAILOR_DATA_DIR"
fi
cmake --build "$BUILD_DIR" -j "$JOBS"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"
