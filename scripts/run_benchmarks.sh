#!/usr/bin/env bash
# Builds every Google Benchmark target (benchmarks/<x>_benchmark.cpp -> <x>_benchmark) in
# Release in build-bench/, runs each with JSON output, and prints a short summary.
#
# Usage: scripts/run_benchmarks.sh [results-dir] [extra benchmark flags...]
#   results-dir defaults to build-bench/results; one <name>.json per benchmark binary.
#   Example: scripts/run_benchmarks.sh /tmp/bench --benchmark_filter=read_csv
# Environment: JOBS (parallel build jobs, default nproc), BUILD_DIR (default build-bench),
#   BENCHMARKS (space-separated subset of targets, e.g. "io_benchmark"; default all).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BUILD_DIR="${BUILD_DIR:-$TAILOR_ROOT/build-bench}"
RESULTS_DIR="${1:-$BUILD_DIR/results}"
shift || true
mkdir -p "$RESULTS_DIR"
RESULTS_DIR="$(cd "$RESULTS_DIR" && pwd)"

cmake -S "$TAILOR_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTAILOR_BUILD_BENCHMARKS=ON -DTAILOR_BUILD_TESTS=OFF -DTAILOR_BUILD_EXAMPLES=OFF \
  "${CMAKE_LAUNCHER[@]}" >/dev/null

targets=()
if [[ -n "${BENCHMARKS:-}" ]]; then
  read -r -a targets <<<"$BENCHMARKS"
else
  for src in "$TAILOR_ROOT"/benchmarks/*_benchmark.cpp; do
    [[ -e "$src" ]] || continue
    targets+=("$(basename "$src" .cpp)")
  done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "run_benchmarks: no benchmarks/*_benchmark.cpp found" >&2
  exit 1
fi
echo "== building ${targets[*]}"
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${targets[@]}"

failed=()
for name in "${targets[@]}"; do
  binary="$BUILD_DIR/benchmarks/$name"
  out="$RESULTS_DIR/$name.json"
  echo "== running $name -> $out"
  if ! "$binary" --benchmark_format=json --benchmark_out="$out" --benchmark_out_format=json \
    "$@" >/dev/null; then
    echo "run_benchmarks: $name failed" >&2
    failed+=("$name")
  fi
done

echo "== summary (real time per iteration; throughput where reported)"
if command -v python3 >/dev/null 2>&1; then
  python3 - "$RESULTS_DIR" "${targets[@]}" <<'PY'
import json, os, sys
results_dir, names = sys.argv[1], sys.argv[2:]
for name in names:
    path = os.path.join(results_dir, name + ".json")
    if not os.path.exists(path):
        continue
    with open(path) as f:
        data = json.load(f)
    print(f"{name}:")
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") not in ("mean",):
            continue
        parts = [f"{b['real_time']:.4g} {b.get('time_unit', 'ns')}"]
        if "bytes_per_second" in b:
            parts.append(f"{b['bytes_per_second'] / 1e6:.1f} MB/s")
        if "items_per_second" in b:
            parts.append(f"{b['items_per_second'] / 1e6:.3g} M items/s")
        print(f"  {b['name']:<50} " + "  ".join(parts))
PY
else
  ls -l "$RESULTS_DIR"
fi

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run_benchmarks: failed: ${failed[*]}" >&2
  exit 1
fi
echo "run_benchmarks: results in $RESULTS_DIR"
