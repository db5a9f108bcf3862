#!/usr/bin/env bash
# Runs tailor's segment module against scikit-learn on the same generated CSV.
#   benchmarks/peers/run_segment_peer.sh BUILD_DIR [ROWS=100000] [THREADS=2]
# Needs Debian's python3-sklearn (/usr/bin/python3) and the target segment_benchmark built in
# BUILD_DIR. Writes its files to ${TMPDIR:-/tmp}/tailor_segment_peer/.
set -euo pipefail
build=${1:?usage: run_segment_peer.sh BUILD_DIR [ROWS] [THREADS]}
rows=${2:-100000}
threads=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
work=${TMPDIR:-/tmp}/tailor_segment_peer
mkdir -p "$work"
bench="$build/benchmarks/segment_benchmark"
python=${PYTHON:-/usr/bin/python3}
"$bench" --write_csv="$work/data_$rows.csv" --rows="$rows"
"$bench" --peer_csv="$work/data_$rows.csv" --peer_out="$work/tailor.json" --threads="$threads"
"$python" "$here/sklearn_segment.py" "$work/data_$rows.csv" --out "$work/sklearn.json" \
  --threads "$threads" > /dev/null
"$python" "$here/sklearn_segment.py" --compare "$work/tailor.json" "$work/sklearn.json"
