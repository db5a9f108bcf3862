#!/bin/bash
# tailor's meta-learners (benchmarks/cate_meta_benchmark.cpp) vs the same learners built from
# scikit-learn (sklearn_meta_learners.py) on the SAME Nie & Wager (2021) setup A rows
# (make_nie_wager_a.py, sigma = 1), in one run: fit seconds (wall and process CPU), test
# sqrt(PEHE) for X/DR x forest/HGB, plus tailor's other candidates (R-learner, smoothed boosted
# effect models, causal forest).
# Usage: benchmarks/peers/run_meta_learner_comparison.sh BUILD_DIR [N_TRAIN] [THREADS] [REPEATS] [SKLEARN_SPECS]
#   BUILD_DIR holds benchmarks/cate_meta_benchmark (cmake --build BUILD_DIR --target cate_meta_benchmark);
#   N_TRAIN default 100000 (10,000 test rows); THREADS default 2; REPEATS default 1 (medians when more);
#   SKLEARN_SPECS default "x:hgb dr:hgb x:forest dr:forest" (the forest DR-learner is the slow one).
#   TAILOR_META_CF_TREES (default 2000) sets the causal forest's trees.
# Data go to /tmp/tailor_nwa_N_TRAIN_{train,test}.csv (reused when present); raw results beside them
# (*_tailor_result.json, *_sklearn_result.jsonl). Needs /usr/bin/python3 with python3-sklearn.
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the peer only, as the environment notes advise.
# The peer runs with OMP_WAIT_POLICY=PASSIVE: on a loaded shared machine libgomp's spin-waiting
# makes HistGradientBoosting with 2 OpenMP threads collapse (an X-learner on 2,000 rows: > 200 s
# instead of 7 s at load 16); passive waiting is the fair setting there.
set -euo pipefail
build_dir=${1:?usage: run_meta_learner_comparison.sh BUILD_DIR [N_TRAIN] [THREADS] [REPEATS] [SKLEARN_SPECS]}
n_train=${2:-100000}
threads=${3:-2}
repeats=${4:-1}
specs=${5:-x:hgb dr:hgb x:forest dr:forest}
here=$(cd "$(dirname "$0")" && pwd)
prefix=/tmp/tailor_nwa_${n_train}
[[ -f ${prefix}_test.csv ]] || /usr/bin/python3 "$here/make_nie_wager_a.py" "$n_train" 10000 "$prefix"
tailor_json=${prefix}_tailor_result.json
sklearn_jsonl=${prefix}_sklearn_result.jsonl
echo "tailor start $(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
TAILOR_META_PREFIX=$prefix TAILOR_META_THREADS=$threads \
  "$build_dir/benchmarks/cate_meta_benchmark" --benchmark_repetitions="$repeats" \
  --benchmark_format=json --benchmark_out="$tailor_json" --benchmark_out_format=json > /dev/null
echo "sklearn start $(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086  # specs is a word list
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=PASSIVE \
  /usr/bin/python3 "$here/sklearn_meta_learners.py" "$prefix" "$threads" "$repeats" $specs \
  | tee "$sklearn_jsonl"
echo "end $(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$tailor_json" "$sklearn_jsonl" <<'PY'
import json, statistics, sys
tailor = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("run_type") == "iteration"]
sk = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
def t(name, key):
    runs = [b for b in tailor if b["run_name"].split("/")[0] == name]
    if not runs:
        return None
    return statistics.median(b["real_time"] if key == "fit_s" else b[key] for b in runs)
def s(learner, base, key):
    runs = [r for r in sk if r["learner"] == learner and r["base"] == base]
    return statistics.median(r[key] for r in runs) if runs else None
def f(v, fmt):  # fmt like "12.1f"; "-" right-aligned to the same width when missing
    return format(v, fmt) if v is not None else format("-", ">" + fmt.split(".")[0])
print(f"n_train = {int(tailor[0]['n_train'])}, test 10,000, medians of runs")
print(f"{'learner':34} {'tailor fit s':>12} {'cpu s':>8} {'sqrt_pehe':>9} | {'sklearn fit s':>13} {'cpu s':>8} {'sqrt_pehe':>9} | speed-up wall, cpu")
for label, name, learner, base in (("X-learner, forest", "BM_XLearnerForest", "x", "forest"),
                                   ("DR-learner, forest", "BM_DRLearnerForest", "dr", "forest"),
                                   ("X-learner, forest, out-of-bag", "BM_XLearnerForestOutOfBag", "x", "forest"),
                                   ("DR-learner, forest, out-of-bag", "BM_DRLearnerForestOutOfBag", "dr", "forest"),
                                   ("X-learner, boosting/HGB", "BM_XLearnerBoosting", "x", "hgb"),
                                   ("DR-learner, boosting/HGB", "BM_DRLearnerBoosting", "dr", "hgb"),
                                   ("R-learner, boosting", "BM_RLearnerBoosting", None, None),
                                   ("DR-learner, boosting, smooth effect", "BM_DRLearnerBoostingSmoothEffect", None, None),
                                   ("R-learner, boosting, smooth effect", "BM_RLearnerBoostingSmoothEffect", None, None),
                                   ("causal forest", "BM_CausalForest", None, None)):
    tf, tc, tp = t(name, "fit_s"), t(name, "fit_cpu_s"), t(name, "sqrt_pehe")
    sf, sc, sp = (s(learner, base, k) for k in ("fit_s", "fit_cpu_s", "sqrt_pehe")) if learner else (None,) * 3
    ratio = f"{sf / tf:.1f}x, {sc / tc:.1f}x" if tf and sf else "-"
    print(f"{label:34} {f(tf, '12.1f')} {f(tc, '8.1f')} {f(tp, '9.4f')} | {f(sf, '13.1f')} {f(sc, '8.1f')} {f(sp, '9.4f')} | {ratio}")
PY
echo "raw results: $tailor_json $sklearn_jsonl"
