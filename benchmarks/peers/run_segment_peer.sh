#!/usr/bin/env bash
# Runs tailor's segment module against scikit-learn on the same generated CSV.
#   benchmarks/peers/run_segment_peer.sh BUILD_DIR [ROWS=100000] [THREADS=2] [COLS=20]
#                                        [REPEATS=3] [NMF=1]
# Needs Debian's python3-sklearn (/usr/bin/python3) and the target segment_benchmark built in
# BUILD_DIR. Each fit runs REPEATS times on each side; medians of wall and CPU seconds are
# compared. NMF=0 skips NMF (the K-Means comparison alone). Writes its files to
# ${TMPDIR:-/tmp}/tailor_segment_peer/.
set -euo pipefail
build=${1:?usage: run_segment_peer.sh BUILD_DIR [ROWS] [THREADS] [COLS] [REPEATS] [NMF]}
rows=${2:-100000}
threads=${3:-2}
cols=${4:-20}
repeats=${5:-3}
nmf=${6:-1}
here=$(cd "$(dirname "$0")" && pwd)
work=${TMPDIR:-/tmp}/tailor_segment_peer
mkdir -p "$work"
bench="$build/benchmarks/segment_benchmark"
python=${PYTHON:-/usr/bin/python3}
data="$work/data_${rows}x${cols}.csv"
[ -s "$data" ] || "$bench" --write_csv="$data" --rows="$rows" --cols="$cols"
skip_t=() skip_s=()
if [ "$nmf" = 0 ]; then skip_t=(--skip_nmf); skip_s=(--skip-nmf); fi
"$bench" --peer_csv="$data" --peer_out="$work/tailor.json" --threads="$threads" \
  --repeats="$repeats" "${skip_t[@]}"
"$python" "$here/sklearn_segment.py" "$data" --out "$work/sklearn.json" --threads "$threads" \
  --repeats "$repeats" "${skip_s[@]}" > /dev/null
"$python" "$here/sklearn_segment.py" --compare "$work/tailor.json" "$work/sklearn.json"
