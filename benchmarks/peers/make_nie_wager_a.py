#!/usr/bin/python3
"""Writes Nie & Wager (2021, Biometrika, section 6) setup A train/test CSVs for the meta-learner
comparison (benchmarks/cate_meta_benchmark.cpp vs sklearn_meta_learners.py), with the formulas of
benchmarks/cate_benchmark.cpp's nie_wager_a generator:
  X ~ U[0,1]^6,  b(x) = sin(pi x1 x2) + 2 (x3 - 0.5)^2 + x4 + 0.5 x5,
  e(x) = trim_0.1(sin(pi x1 x2)),  tau(x) = (x1 + x2) / 2,
  W ~ Bernoulli(e(X)),  Y = b(X) + (W - 0.5) tau(X) + sigma N(0, 1),  sigma = 1.
Columns: x1..x6, w, y, tau, e (tau and e are the truth, used only for scoring).
Usage: make_nie_wager_a.py N_TRAIN N_TEST OUT_PREFIX  (writes OUT_PREFIX_train.csv, _test.csv)."""
import sys

import numpy as np


def setup_a(n, rng, sigma=1.0):
    X = rng.uniform(size=(n, 6))
    x1, x2, x3, x4, x5 = (X[:, j] for j in range(5))
    b = np.sin(np.pi * x1 * x2) + 2 * (x3 - 0.5) ** 2 + x4 + 0.5 * x5
    e = np.clip(np.sin(np.pi * x1 * x2), 0.1, 0.9)
    tau = 0.5 * (x1 + x2)
    w = (rng.uniform(size=n) < e).astype(float)
    y = b + (w - 0.5) * tau + sigma * rng.normal(size=n)
    return X, w, y, tau, e


def write(path, X, w, y, tau, e):
    header = ",".join([f"x{j + 1}" for j in range(X.shape[1])] + ["w", "y", "tau", "e"])
    np.savetxt(path, np.column_stack([X, w, y, tau, e]), delimiter=",", header=header,
               comments="", fmt="%.17g")


def main():
    n_train, n_test, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = np.random.default_rng(20210601)
    write(prefix + "_train.csv", *setup_a(n_train, rng))
    write(prefix + "_test.csv", *setup_a(n_test, rng))


if __name__ == "__main__":
    main()
