#!/usr/bin/env python3
"""scikit-learn peer for tailor's segment module (benchmarks/segment_benchmark.cpp --peer_csv).

Fits the CSV written by `segment_benchmark --write_csv=...` with settings matched to tailor's
peer mode and prints/writes JSON:
  NMF     n_components=8, init='nndsvda', solver='cd', max_iter=200, tol=0 (all 200 sweeps),
          no regularization; objective = 0.5 * ||X - WH||_F^2 (sklearn's beta-divergence 2).
  KMeans  n_clusters=8, n_init=4, init='k-means++', max_iter=300, tol=1e-4,
          algorithm='lloyd' and 'elkan'; inertia_.
Threads are limited with threadpoolctl (BLAS and OpenMP) to --threads.

Usage: sklearn_segment.py data.csv [--out sklearn.json] [--threads 2]
       sklearn_segment.py --compare tailor.json sklearn.json
"""
import argparse
import json
import sys
import time


def fit(csv_path, threads):
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.decomposition import NMF
    from threadpoolctl import threadpool_limits

    X = np.loadtxt(csv_path, delimiter=",", skiprows=1)
    out = {"rows": X.shape[0], "cols": X.shape[1], "threads": threads}
    with threadpool_limits(limits=threads):
        t0 = time.perf_counter()
        nmf = NMF(n_components=8, init="nndsvda", solver="cd", max_iter=200, tol=0.0)
        W = nmf.fit_transform(X)
        out["nmf_seconds"] = time.perf_counter() - t0
        out["nmf_objective"] = 0.5 * float(np.linalg.norm(X - W @ nmf.components_) ** 2)
        out["nmf_iterations"] = int(nmf.n_iter_)
        for algorithm in ("lloyd", "elkan"):
            t0 = time.perf_counter()
            km = KMeans(n_clusters=8, n_init=4, init="k-means++", max_iter=300, tol=1e-4,
                        algorithm=algorithm, random_state=0).fit(X)
            out[f"kmeans_{algorithm}_seconds"] = time.perf_counter() - t0
            out[f"kmeans_{algorithm}_inertia"] = float(km.inertia_)
    return out


def compare(tailor_path, sklearn_path):
    t = json.load(open(tailor_path))
    s = json.load(open(sklearn_path))
    rows = [
        ("NMF objective (HALS vs cd)", t["nmf_objective"], s["nmf_objective"],
         t["nmf_seconds"], s["nmf_seconds"]),
        ("KMeans inertia (lloyd vs lloyd)", t["kmeans_lloyd_inertia"], s["kmeans_lloyd_inertia"],
         t["kmeans_lloyd_seconds"], s["kmeans_lloyd_seconds"]),
        ("KMeans inertia (hamerly vs elkan)", t["kmeans_hamerly_inertia"],
         s["kmeans_elkan_inertia"], t["kmeans_hamerly_seconds"], s["kmeans_elkan_seconds"]),
    ]
    print(f"n = {t['rows']}, p = {t['cols']}, threads = {t['threads']}")
    print(f"{'quantity':36s} {'tailor':>14s} {'sklearn':>14s} {'rel.diff':>9s} "
          f"{'tailor s':>9s} {'sklearn s':>9s} {'speedup':>8s}")
    ok = True
    for name, a, b, ta, tb in rows:
        rel = (a - b) / b
        ok = ok and abs(rel) <= 0.01
        print(f"{name:36s} {a:14.6g} {b:14.6g} {rel:+9.2%} {ta:9.3f} {tb:9.3f} {tb / ta:7.2f}x")
    print("within 1%:", "yes" if ok else "NO")
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv", nargs="?")
    parser.add_argument("--out")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compare", nargs=2, metavar=("TAILOR_JSON", "SKLEARN_JSON"))
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    if not args.csv:
        parser.error("a CSV path is required")
    result = fit(args.csv, args.threads)
    text = json.dumps(result)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
