#!/usr/bin/env bash
# Installs dependencies, builds the example programs and runs the flagship example on the
# bundled sample data (examples/data/). Extra arguments are passed to the example.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$TAILOR_ROOT/scripts/install_deps.sh"

FLAGSHIP="${TAILOR_FLAGSHIP:-dunnhumby_segments}"
BUILD_DIR="${BUILD_DIR:-$TAILOR_ROOT/build}"
cmake -S "$TAILOR_ROOT" -B "$BUILD_DIR" -G Ninja "${CMAKE_LAUNCHER[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DTAILOR_BUILD_TESTS=OFF -DTAILOR_BUILD_EXAMPLES=ON -DTAILOR_BUILD_BENCHMARKS=OFF
cmake --build "$BUILD_DIR" -j "$JOBS" --target "$FLAGSHIP"
mkdir -p "$TAILOR_ROOT/examples/output"
cd "$TAILOR_ROOT/examples/output"
"$BUILD_DIR/examples/$FLAGSHIP" "$@"
