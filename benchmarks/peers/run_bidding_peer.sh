#!/usr/bin/env bash
# tailor's bidding replay side by side with a plain Python replay loop on the same campaign.
#   benchmarks/peers/run_bidding_peer.sh BUILD_DIR [CAMPAIGN_DIR]
# CAMPAIGN_DIR defaults to $TAILOR_DATA_DIR/ipinyou_rlb/2997 (or ../shared/data/...). Runs the
# Python peer (Mcpc, linear b0 = 10, the RLB DP and RLB replay; 3 repeats, medians) and then
# bidding_benchmark (JSON in BUILD_DIR/bidding_benchmark.json, 5 repetitions, medians), printing
# the load average before each. Environment: PYTHON (default /usr/bin/python3).
set -euo pipefail
build=${1:?usage: run_bidding_peer.sh BUILD_DIR [CAMPAIGN_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
data=${TAILOR_DATA_DIR:-$here/../../../shared/data}
campaign=${2:-$data/ipinyou_rlb/2997}
python=${PYTHON:-/usr/bin/python3}

echo "loadavg: $(cat /proc/loadavg)"
"$python" "$here/python_replay.py" --campaign "$campaign" --repeats 3 --dp
echo "loadavg: $(cat /proc/loadavg)"
TAILOR_DATA_DIR=$(dirname "$(dirname "$campaign")") "$build/benchmarks/bidding_benchmark" \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out="$build/bidding_benchmark.json" --benchmark_out_format=json
