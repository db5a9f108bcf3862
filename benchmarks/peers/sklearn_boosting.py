#!/usr/bin/python3
"""scikit-learn peer of benchmarks/learn_boosting_benchmark.cpp: fits
HistGradientBoostingRegressor / HistGradientBoostingClassifier with the settings tailor's
benchmark uses (max_iter 100, learning_rate 0.1, max_leaf_nodes 31, min_samples_leaf 20,
l2_regularization 0, max_bins 255, early_stopping off) on the CSVs of make_boosting_data.py,
REPEATS times each, and prints one JSON object per task: fit seconds (all and median),
predict rows/s (median) and held-out RMSE or log-loss.
Threads: set OMP_NUM_THREADS (run_boosting_comparison.sh sets it to match tailor's).
Usage: sklearn_boosting.py PREFIX [REPEATS]"""
import json
import statistics
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return np.ascontiguousarray(data[:, :-1]), data[:, -1]


def main():
    prefix = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    settings = dict(max_iter=100, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20,
                    l2_regularization=0.0, max_bins=255, early_stopping=False, random_state=0)
    for task, make in (("reg", HistGradientBoostingRegressor),
                       ("clf", HistGradientBoostingClassifier)):
        X, y = load(f"{prefix}_{task}_train.csv")
        X_test, y_test = load(f"{prefix}_{task}_test.csv")
        fit_s, predict_rate = [], []
        for _ in range(repeats):
            model = make(**settings)
            start = time.perf_counter()
            model.fit(X, y)
            fit_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            pred = model.predict(X_test) if task == "reg" else model.predict_proba(X_test)[:, 1]
            predict_rate.append(len(y_test) / (time.perf_counter() - start))
        if task == "reg":
            metric = {"rmse": float(np.sqrt(np.mean((pred - y_test) ** 2)))}
        else:
            p = np.clip(pred, 1e-15, 1 - 1e-15)
            metric = {"log_loss": float(-np.mean(y_test * np.log(p) + (1 - y_test) * np.log(1 - p)))}
        print(json.dumps({"peer": "sklearn", "task": task, "n_train": len(y),
                          "fit_s": fit_s, "fit_s_median": statistics.median(fit_s),
                          "predict_rows_per_s_median": statistics.median(predict_rate),
                          "n_iter": int(model.n_iter_), **metric}))


if __name__ == "__main__":
    main()
