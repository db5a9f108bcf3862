#!/usr/bin/python3
"""scikit-learn peer of benchmarks/cate_meta_benchmark.cpp: the X-learner (Kunzel et al. 2019) and
the 5-fold cross-fitted DR-learner (Kennedy 2023), written with the same steps as
tailor/cate/x_learner.hpp and dr_learner.hpp, on the CSVs of make_nie_wager_a.py.
Base learners ("forest"): RandomForestRegressor / RandomForestClassifier(n_estimators=200,
min_samples_leaf=5, n_jobs=THREADS), otherwise sklearn defaults; ("hgb"):
HistGradientBoostingRegressor / HistGradientBoostingClassifier with sklearn defaults (max_iter 100,
learning_rate 0.1, 31 leaves, min_samples_leaf 20, early stopping on above 10,000 rows).
Propensities are clipped into [0.01, 0.99] as tailor's default propensity_clip does.
X-learner:  mu0 on controls, mu1 on treated; D1 = Y - mu0(x) (treated), D0 = mu1(x) - Y
            (controls); tau1, tau0 fitted on them; tau(x) = g(x) tau0(x) + (1 - g(x)) tau1(x),
            g = propensity classifier fitted on all rows.
DR-learner: per fold (StratifiedKFold on W, shuffled), mu0, mu1, e fitted on the other folds;
            AIPW scores Gamma = mu1 - mu0 + W (Y - mu1)/e - (1 - W)(Y - mu0)/(1 - e);
            tau = regression of Gamma on x over all rows.
Prints one JSON line per (learner, base, repetition): fit seconds (the whole fit, not the
prediction; wall and process CPU, all threads), predict seconds and test sqrt(PEHE) = sqrt(mean (tau_hat - tau)^2).
Usage: sklearn_meta_learners.py PREFIX THREADS REPEATS LEARNER:BASE [LEARNER:BASE ...]
       e.g. x:forest dr:forest x:hgb dr:hgb. Threads for HGB: set OMP_NUM_THREADS."""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.model_selection import StratifiedKFold

CLIP = 0.01


def load(path):
    data = np.genfromtxt(path, delimiter=",", names=True)
    X = np.column_stack([data[f"x{j + 1}"] for j in range(6)])
    return np.ascontiguousarray(X), data["w"], data["y"], data["tau"]


def learners(base, threads, seed):
    if base == "forest":
        return (lambda: RandomForestRegressor(n_estimators=200, min_samples_leaf=5, n_jobs=threads,
                                              random_state=seed),
                lambda: RandomForestClassifier(n_estimators=200, min_samples_leaf=5,
                                               n_jobs=threads, random_state=seed))
    return (lambda: HistGradientBoostingRegressor(random_state=seed),
            lambda: HistGradientBoostingClassifier(random_state=seed))


def fit_x(X, w, y, reg, clf):
    t, c = w == 1, w == 0
    mu0 = reg().fit(X[c], y[c])
    mu1 = reg().fit(X[t], y[t])
    d1 = y[t] - mu0.predict(X[t])
    d0 = mu1.predict(X[c]) - y[c]
    tau1 = reg().fit(X[t], d1)
    tau0 = reg().fit(X[c], d0)
    g = clf().fit(X, w)

    def predict(Xn):
        gn = np.clip(g.predict_proba(Xn)[:, 1], CLIP, 1 - CLIP)
        return gn * tau0.predict(Xn) + (1 - gn) * tau1.predict(Xn)
    return predict


def fit_dr(X, w, y, reg, clf, seed, folds=5):
    n = len(y)
    mu0, mu1, e = np.empty(n), np.empty(n), np.empty(n)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, w):
        t, c = train[w[train] == 1], train[w[train] == 0]
        mu0[test] = reg().fit(X[c], y[c]).predict(X[test])
        mu1[test] = reg().fit(X[t], y[t]).predict(X[test])
        e[test] = clf().fit(X[train], w[train]).predict_proba(X[test])[:, 1]
    e = np.clip(e, CLIP, 1 - CLIP)
    scores = mu1 - mu0 + w * (y - mu1) / e - (1 - w) * (y - mu0) / (1 - e)
    tau = reg().fit(X, scores)
    return tau.predict


def main():
    prefix, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    X, w, y, _ = load(prefix + "_train.csv")
    X_test, _, _, tau_test = load(prefix + "_test.csv")
    for spec in sys.argv[4:]:
        learner, base = spec.split(":")
        for r in range(repeats):
            reg, clf = learners(base, threads, r)
            start, cpu_start = time.perf_counter(), time.process_time()
            predict = fit_x(X, w, y, reg, clf) if learner == "x" else fit_dr(X, w, y, reg, clf, r)
            fit_s = time.perf_counter() - start
            fit_cpu_s = time.process_time() - cpu_start
            start = time.perf_counter()
            tau_hat = predict(X_test)
            predict_s = time.perf_counter() - start
            pehe = float(np.sqrt(np.mean((tau_hat - tau_test) ** 2)))
            print(json.dumps({"peer": "sklearn", "learner": learner, "base": base, "rep": r,
                              "n_train": len(y), "fit_s": fit_s, "fit_cpu_s": fit_cpu_s, "predict_s": predict_s,
                              "sqrt_pehe": pehe}), flush=True)


if __name__ == "__main__":
    main()
