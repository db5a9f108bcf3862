#!/usr/bin/python3
"""scikit-learn peer for benchmarks/learn_forest_benchmark.cpp: RandomForestRegressor with the
issue's settings (min_samples_leaf=5, max_features=1/3, bootstrap, n_jobs) on the same CSVs.
Prints one JSON line per repetition: fit_seconds, predict_seconds, predict_rows_per_second,
test_rmse. Usage: sklearn_forest.py TRAIN.csv TEST.csv TREES THREADS REPETITIONS"""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestRegressor


def main():
    train = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
    test = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)
    trees, threads, repetitions = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    X, y = train[:, :-1], train[:, -1]
    X_test, y_test = test[:, :-1], test[:, -1]
    for r in range(repetitions):
        model = RandomForestRegressor(n_estimators=trees, min_samples_leaf=5, max_features=1 / 3,
                                      bootstrap=True, n_jobs=threads, random_state=r)
        start = time.perf_counter()
        model.fit(X, y)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        prediction = model.predict(X_test)
        predict_seconds = time.perf_counter() - start
        rmse = float(np.sqrt(np.mean((prediction - y_test) ** 2)))
        print(json.dumps({"fit_seconds": fit_seconds, "predict_seconds": predict_seconds,
                          "predict_rows_per_second": len(y_test) / predict_seconds,
                          "test_rmse": rmse, "trees": trees, "rows": len(y)}), flush=True)
        del model


if __name__ == "__main__":
    main()
