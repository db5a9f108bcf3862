#!/usr/bin/python3
"""Writes the train/test CSVs that benchmarks/learn_boosting_benchmark.cpp and
sklearn_boosting.py both read (header line, then x0..x9,y), so both fit the SAME rows:
  PREFIX_reg_{train,test}.csv  Friedman #1: y = 10 sin(pi x0 x1) + 20 (x2 - 1/2)^2 + 10 x3 + 5 x4
                               + N(0, 1), x ~ U[0,1]^10
  PREFIX_clf_{train,test}.csv  a known logistic model: P(y=1|x) = sigmoid(x0 - x1 + x2^2/2
                               + sin(2 x3)/2 - 1/2), x ~ N(0,1)^10, y ~ Bernoulli
Values are written with 17 significant digits, so they read back bit-identically.
Usage: make_boosting_data.py N_TRAIN N_TEST PREFIX [SEED]   (SEED default 20261129: other seeds
give independent replications of both designs)"""
import sys

import numpy as np


def friedman1(n, rng):
    X = rng.uniform(size=(n, 10))
    y = (10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3]
         + 5 * X[:, 4] + rng.normal(size=n))
    return X, y


def logistic(n, rng):
    X = rng.normal(size=(n, 10))
    eta = X[:, 0] - X[:, 1] + 0.5 * X[:, 2] ** 2 + 0.5 * np.sin(2 * X[:, 3]) - 0.5
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y


def write(path, X, y):
    header = ",".join([f"x{j}" for j in range(X.shape[1])] + ["y"])
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=header, comments="",
               fmt="%.17g")


def main():
    n_train, n_test, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 20261129)
    for task, make in (("reg", friedman1), ("clf", logistic)):
        write(f"{prefix}_{task}_train.csv", *make(n_train, rng))
        write(f"{prefix}_{task}_test.csv", *make(n_test, rng))


if __name__ == "__main__":
    main()
