#!/usr/bin/env bash
# RegressionForest vs scikit-learn RandomForestRegressor on the same Friedman #1 CSVs.
# Usage: benchmarks/peers/run_forest_comparison.sh BUILD_DIR [TREES=100] [THREADS=2] [REPS=3] [N=100000]
# Prints medians of fit time, predict throughput and held-out RMSE for both, and the ratios.
set -euo pipefail
build=${1:?build dir with learn_forest_benchmark}
trees=${2:-100}
threads=${3:-2}
reps=${4:-3}
n=${5:-100000}
here=$(cd "$(dirname "$0")" && pwd)
prefix=/tmp/tailor_friedman_${n}
[[ -f ${prefix}_train.csv ]] || /usr/bin/python3 "$here/make_friedman.py" "$n" 20000 "$prefix"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)  (cores: $(nproc))"
TAILOR_FOREST_TRAIN=${prefix}_train.csv TAILOR_FOREST_TEST=${prefix}_test.csv \
TAILOR_FOREST_TREES=$trees TAILOR_FOREST_THREADS=$threads \
  "$build/benchmarks/learn_forest_benchmark" \
  --benchmark_filter="BM_RegressionForest(Fit/${n}|Predict)" --benchmark_repetitions="$reps" \
  --benchmark_min_time=0.01 --benchmark_format=json > /tmp/tailor_forest_bench.json
/usr/bin/python3 "$here/sklearn_forest.py" ${prefix}_train.csv ${prefix}_test.csv \
  "$trees" "$threads" "$reps" > /tmp/tailor_forest_sklearn.jsonl
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - <<'PY'
import json, statistics as st
bench = json.load(open("/tmp/tailor_forest_bench.json"))["benchmarks"]
runs = [b for b in bench if b.get("run_type") == "iteration"]
fit = [b for b in runs if "Fit" in b["name"]]
pred = [b for b in runs if "Predict" in b["name"]]
unit = {"ms": 1e-3, "s": 1.0, "us": 1e-6, "ns": 1e-9}
t_fit = st.median(b["real_time"] * unit[b["time_unit"]] for b in fit)
t_rmse = st.median(b["test_rmse"] for b in fit)
t_pred = st.median(b["items_per_second"] for b in pred)
sk = [json.loads(l) for l in open("/tmp/tailor_forest_sklearn.jsonl")]
s_fit = st.median(r["fit_seconds"] for r in sk)
s_rmse = st.median(r["test_rmse"] for r in sk)
s_pred = st.median(r["predict_rows_per_second"] for r in sk)
print(f"trees={sk[0]['trees']} rows={sk[0]['rows']} repetitions={len(sk)} (medians)")
print(f"fit seconds      tailor {t_fit:8.3f}   sklearn {s_fit:8.3f}   speedup {s_fit / t_fit:5.2f}x")
print(f"predict rows/s   tailor {t_pred:8.0f}   sklearn {s_pred:8.0f}   ratio   {t_pred / s_pred:5.2f}x")
print(f"test RMSE        tailor {t_rmse:8.4f}   sklearn {s_rmse:8.4f}   rel.diff {100 * (t_rmse / s_rmse - 1):+.2f}%")
PY
