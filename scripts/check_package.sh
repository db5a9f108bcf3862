#!/usr/bin/env bash
# Proves tailor works as a package: installs it to a temporary prefix and builds two tiny
# consumer projects, one with find_package(tailor) and one with add_subdirectory(tailor).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cmake -S "$TAILOR_ROOT" -B "$WORK/build" -G Ninja -DTAILOR_BUILD_TESTS=OFF \
  -DTAILOR_BUILD_EXAMPLES=OFF -DTAILOR_BUILD_BENCHMARKS=OFF -DCMAKE_INSTALL_PREFIX="$WORK/prefix" >/dev/null
cmake --install "$WORK/build" >/dev/null
test -f "$WORK/prefix/share/cmake/tailor/tailorConfig.cmake"
test -f "$WORK/prefix/share/cmake/tailor/tailorConfigVersion.cmake"
test -f "$WORK/prefix/include/tailor/tailor.hpp"

echo "== consumer via find_package(tailor)"
cmake -S "$TAILOR_ROOT/tests/package/consumer_find_package" -B "$WORK/find" -G Ninja \
  "${CMAKE_LAUNCHER[@]}" -DCMAKE_PREFIX_PATH="$WORK/prefix" >/dev/null
cmake --build "$WORK/find" -j "$JOBS" >/dev/null
"$WORK/find/consumer"

echo "== consumer via add_subdirectory(tailor)"
cmake -S "$TAILOR_ROOT/tests/package/consumer_subdirectory" -B "$WORK/sub" -G Ninja \
  "${CMAKE_LAUNCHER[@]}" -DTAILOR_SOURCE_DIR="$TAILOR_ROOT" >/dev/null
cmake --build "$WORK/sub" -j "$JOBS" >/dev/null
"$WORK/sub/consumer"

echo "== a version request tailor cannot satisfy must fail"
mkdir -p "$WORK/badver"
cat > "$WORK/badver/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(badver LANGUAGES CXX)
find_package(tailor 99.0 REQUIRED)
CM
if cmake -S "$WORK/badver" -B "$WORK/badver/build" -DCMAKE_PREFIX_PATH="$WORK/prefix" >/dev/null 2>&1; then
  echo "check_package: find_package(tailor 99.0) unexpectedly succeeded" >&2
  exit 1
fi
echo "check_package: OK"
