#!/usr/bin/env bash
# PyTorch CPU peer for tailor's CTR models (benchmarks/peers/torch_ctr.py) on a generated world.
#   benchmarks/peers/run_ctr_peer.sh OUTDIR N TEST_N
# Writes OUTDIR/train_N.csv and OUTDIR/test_TEST_N.csv with gen_data.py (20 fields, seed 0) if
# they are missing, then trains FM and DeepFM with lazy Adam (1 epoch, 2 threads, embedding
# dim 16, batch 4096, lr 1e-3) and prints one JSON line per run; the load average is printed
# before each step. Environment overrides: PYTHON (default /usr/bin/python3), GEN_DATA
# (default /work/shared/peers/gen_data.py), THREADS (2), EPOCHS (1), REPEATS (1), MODELS
# ("fm deepfm"). MODELS may name any torch_ctr.py model: the single-task lr, fm, deepfm, widedeep,
# ipnn (MLP --hidden 400,400,400) and the multi-task esmm, escm2_ips, escm2_dr (funnel towers
# 400,400,400) and shared_bottom, mmoe, ple (experts 256,128, towers 128), which read both the
# click and conversion columns and report auc_click / auc_ctcvr (+ auc_cvr_clicked for the funnel
# models); e.g. MODELS="esmm mmoe". Needs Debian's python3-torch, python3-pandas, python3-numpy,
# python3-scipy.
set -euo pipefail
out=${1:?usage: run_ctr_peer.sh OUTDIR N TEST_N}
n=${2:?usage: run_ctr_peer.sh OUTDIR N TEST_N}
test_n=${3:?usage: run_ctr_peer.sh OUTDIR N TEST_N}
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-/usr/bin/python3}
gen=${GEN_DATA:-/work/shared/peers/gen_data.py}
threads=${THREADS:-2}
epochs=${EPOCHS:-1}
repeats=${REPEATS:-1}
models=${MODELS:-fm deepfm}

mkdir -p "$out"
train="$out/train_$n.csv"
test="$out/test_${n}_$test_n.csv"
if [[ ! -s "$train" || ! -s "$test" ]]; then
  echo "loadavg: $(cat /proc/loadavg)"
  # Written under temporary names first so an interrupted run never leaves a half file behind
  # (the summary's paths therefore end in .tmp); the summary is kept next to the data.
  "$python" "$gen" ctr --n "$n" --test-n "$test_n" --fields 20 --seed 0 \
    --out "$train.tmp" --test-out "$test.tmp" > "$out/gen_${n}_$test_n.json"
  mv "$train.tmp" "$train"
  mv "$test.tmp" "$test"
  cat "$out/gen_${n}_$test_n.json"
fi

for model in $models; do
  echo "loadavg: $(cat /proc/loadavg)"
  "$python" "$here/torch_ctr.py" --train "$train" --test "$test" --model "$model" \
    --optimizer lazy_adam --embedding-dim 16 --batch 4096 --lr 1e-3 --epochs "$epochs" \
    --hidden 400,400,400 --threads "$threads" --seed 0 --repeats "$repeats"
done
