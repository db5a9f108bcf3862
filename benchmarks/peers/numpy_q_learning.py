#!/usr/bin/env python3
"""numpy peer for tailor's two-stage linear Q-learning (benchmarks/dtr_benchmark.cpp).

Draws design B of datasets/dtr_designs.hpp (psi2 = (0.5, 0, -1)) with numpy, then times
two-stage linear Q-learning as an analyst writes it in numpy: stage-2 least squares on
(1, X1, X2, A1, A1X1, A2, A2X2, A2A1), the pseudo-outcome max over A2, stage-1 least squares on
(1, X1, A1, A1X1), and HC0 sandwich errors per stage (np.linalg.lstsq + one Gram inverse).

    numpy_q_learning.py [--n 1000000] [--repeats 3] [--threads 2]

Prints one JSON line: {"peer": "numpy", "n": ..., "seconds": median, "blas": ...,
"stage1": [...], "stage2": [...]}.
"""
import argparse
import json
import os
import statistics
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    rng = np.random.default_rng(args.seed)
    n = args.n
    expit = lambda t: 1.0 / (1.0 + np.exp(-t))
    x1 = rng.standard_normal(n)
    a1 = (rng.random(n) < expit(0.3 - 0.5 * x1)).astype(float)
    x2 = 0.5 * x1 + 0.5 * a1 + rng.standard_normal(n)
    a2 = (rng.random(n) < expit(-0.2 + 0.5 * x2)).astype(float)
    y = 1 + x1 + 0.5 * x2 + a1 * (0.25 - 0.5 * x1) + a2 * (0.5 - a1) + rng.standard_normal(n)

    def ols(d, target):
        beta, *_ = np.linalg.lstsq(d, target, rcond=None)
        e = target - d @ beta
        bread = np.linalg.inv(d.T @ d)
        meat = (d * e[:, None]).T @ (d * e[:, None])
        return beta, np.sqrt(np.diag(bread @ meat @ bread))

    def fit():
        ones = np.ones(n)
        main2 = np.column_stack([ones, x1, x2, a1, a1 * x1])
        contrast2 = np.column_stack([ones, x2, a1])
        d2 = np.column_stack([main2, a2[:, None] * contrast2])
        beta2, se2 = ols(d2, y)
        q0 = main2 @ beta2[:5]
        q1 = q0 + contrast2 @ beta2[5:]
        pseudo = np.maximum(q0, q1)
        d1 = np.column_stack([ones, x1, a1, a1 * x1])
        beta1, se1 = ols(d1, pseudo)
        return beta1, beta2

    times = []
    result = None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - t0)
    try:
        blas = np.show_config.__module__ and str(np.__config__.blas_opt_info.get("libraries", "?"))
    except Exception:  # numpy >= 1.25 changed the config API
        blas = "unknown"
    print(json.dumps({"peer": "numpy", "n": n, "seconds": statistics.median(times),
                      "blas": blas, "stage1": [round(v, 4) for v in result[0]],
                      "stage2": [round(v, 4) for v in result[1]]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
