#!/bin/bash
# Compares tailor's GradientBoosting with scikit-learn's HistGradientBoosting on the SAME
# generated data, in one run: fit time (median of REPEATS), predict rows/s, held-out RMSE
# (Friedman #1 regression) and log-loss (logistic classification), and the ratios.
# Usage: benchmarks/peers/run_boosting_comparison.sh BUILD_DIR [N_TRAIN] [N_TEST] [REPEATS] [THREADS] [SEED]
#   SEED (optional) generates an independent replication of the data (make_boosting_data.py);
#   without it the default seed is used.
#   BUILD_DIR holds learn_boosting_benchmark (cmake --build BUILD_DIR --target learn_boosting_benchmark).
# Data go to /tmp/tailor_boosting_N_TRAIN_*.csv and are reused when present; the raw results
# are kept beside them (*_tailor_result.json, *_sklearn_result.jsonl).
# Needs /usr/bin/python3 with python3-sklearn and libopenblas0-pthread (Debian). OPENBLAS_CORETYPE
# and OPENBLAS_L2_SIZE are unset for the peer only, as the environment notes advise.
set -euo pipefail
build_dir=${1:?usage: run_boosting_comparison.sh BUILD_DIR [N_TRAIN] [N_TEST] [REPEATS] [THREADS]}
n_train=${2:-100000}
n_test=${3:-20000}
repeats=${4:-3}
threads=${5:-2}
seed=${6:-}
here=$(cd "$(dirname "$0")" && pwd)
prefix=/tmp/tailor_boosting_${n_train}${seed:+_seed$seed}
if [[ ! -f ${prefix}_clf_test.csv ]]; then
  /usr/bin/python3 "$here/make_boosting_data.py" "$n_train" "$n_test" "$prefix" $seed
fi
echo "machine load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
tailor_json=${prefix}_tailor_result.json
sklearn_json_file=${prefix}_sklearn_result.jsonl
TAILOR_BOOSTING_PREFIX=$prefix TAILOR_BOOSTING_THREADS=$threads \
  "$build_dir/benchmarks/learn_boosting_benchmark" --benchmark_repetitions="$repeats" \
  --benchmark_format=json --benchmark_out="$tailor_json" --benchmark_out_format=json > /dev/null
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=$threads \
  /usr/bin/python3 "$here/sklearn_boosting.py" "$prefix" "$repeats" > "$sklearn_json_file"
echo "machine load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$tailor_json" "$sklearn_json_file" "$n_train" "$threads" <<'PY'
import json, statistics, sys
tailor = json.load(open(sys.argv[1]))["benchmarks"]
sk = {r["task"]: r for r in map(json.loads, open(sys.argv[2]).read().strip().splitlines())}
def runs(name):  # run names carry suffixes such as /iterations:1/real_time
    return [b for b in tailor
            if b.get("run_name", "").split("/")[0] == name and b.get("run_type") == "iteration"]
print(f"n_train = {sys.argv[3]}, p = 10, threads = {sys.argv[4]}, "
      f"medians of {len(runs('BM_BoostingRegressorFit'))} runs")
for task, fit, pred, metric in (("reg", "BM_BoostingRegressorFit", "BM_BoostingRegressorPredict", "rmse"),
                                ("clf", "BM_BoostingClassifierFit", "BM_BoostingClassifierPredict", "log_loss")):
    fit_runs = runs(fit)
    t_fit = statistics.median(b["real_time"] for b in fit_runs) / 1e3
    t_all = [round(b["real_time"] / 1e3, 3) for b in fit_runs]
    t_pred = statistics.median(b["items_per_second"] for b in runs(pred))
    t_metric = fit_runs[-1][metric]
    s = sk[task]
    print(f"{task}: fit  tailor {t_fit:.3f} s {t_all}  sklearn {s['fit_s_median']:.3f} s "
          f"{[round(x, 3) for x in s['fit_s']]}  speed-up {s['fit_s_median'] / t_fit:.2f}x")
    print(f"{task}: predict tailor {t_pred:,.0f} rows/s  sklearn {s['predict_rows_per_s_median']:,.0f} rows/s"
          f"  ratio {t_pred / s['predict_rows_per_s_median']:.2f}x")
    print(f"{task}: held-out {metric} tailor {t_metric:.5f}  sklearn {s[metric]:.5f}"
          f"  ratio {t_metric / s[metric]:.4f}")
PY
echo "raw results: $tailor_json $sklearn_json_file"
