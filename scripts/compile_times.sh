#!/usr/bin/env bash
# Measures compile cost (user CPU seconds, g++ -O2, C++20) of each umbrella header on its own
# and of the README's "A taste" program (examples/readme_taste.cpp), the way a consumer builds
# them (fmt as a compiled library, as tailor's CMake target links it).
#   scripts/compile_times.sh [include_dir] [repeats]
# include_dir defaults to this checkout's include/; pass another checkout's to compare. Prints
# the median of `repeats` runs (default 3) per translation unit. Run it on an idle machine.
# EXTRA_FLAGS adds compiler flags (e.g. -DFMT_HEADER_ONLY for a checkout that used fmt that way).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
INCLUDE="${1:-$TAILOR_ROOT/include}"
REPEATS="${2:-3}"
CXX="${CXX:-g++}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
FLAGS=(-std=c++20 -O2 -c -w -I"$INCLUDE" -I/usr/include/eigen3 ${EXTRA_FLAGS:-})
# The headers of the checkout given, plus examples/ of this one for the README program.

measure() {  # name, source file -> prints "name median_seconds"
  local times=()
  for ((r = 0; r < REPEATS; ++r)); do
    local t
    /usr/bin/time -o "$WORK/time.txt" -f "%U" "$CXX" "${FLAGS[@]}" "$2" -o "$WORK/out.o" \
      >/dev/null 2>&1 || { echo "compile_times: $1 failed to compile" >&2; return 1; }
    times+=("$(tail -1 "$WORK/time.txt")")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v name="$1" '{a[NR]=$1} END {printf "%-28s %6.2f s\n", name, a[int((NR+1)/2)]}'
}

for header in core learn segment cate uplift policy ope io pipeline tailor; do
  [[ -f "$INCLUDE/tailor/$header.hpp" ]] || continue
  printf '#include <tailor/%s.hpp>\nint main() { return 0; }\n' "$header" > "$WORK/$header.cpp"
  measure "tailor/$header.hpp" "$WORK/$header.cpp"
done
measure "README program" "$TAILOR_ROOT/examples/readme_taste.cpp"
