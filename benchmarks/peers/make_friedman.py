#!/usr/bin/python3
"""Writes Friedman #1 train/test CSVs (p = 10, noise sd 1; test targets noisy too) for the
forest benchmarks: y = 10 sin(pi x0 x1) + 20 (x2 - 1/2)^2 + 10 x3 + 5 x4 + N(0, 1), x ~ U[0,1]^10.
Usage: make_friedman.py N_TRAIN N_TEST OUT_PREFIX  (writes OUT_PREFIX_train.csv, _test.csv)."""
import sys

import numpy as np


def friedman1(n, rng):
    X = rng.uniform(size=(n, 10))
    y = (10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3]
         + 5 * X[:, 4] + rng.normal(size=n))
    return X, y


def write(path, X, y):
    header = ",".join([f"x{j}" for j in range(X.shape[1])] + ["y"])
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=header, comments="",
               fmt="%.17g")


def main():
    n_train, n_test, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = np.random.default_rng(12345)
    write(prefix + "_train.csv", *friedman1(n_train, rng))
    write(prefix + "_test.csv", *friedman1(n_test, rng))


if __name__ == "__main__":
    main()
