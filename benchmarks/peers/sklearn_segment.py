#!/usr/bin/env python3
"""scikit-learn peer for tailor's segment module (benchmarks/segment_benchmark.cpp --peer_csv).

Fits the CSV written by `segment_benchmark --write_csv=...` with settings matched to tailor's
peer mode and prints/writes JSON:
  NMF     n_components=8, init='nndsvda', solver='cd', max_iter=200, tol=0 (all 200 sweeps),
          no regularization; objective = 0.5 * ||X - WH||_F^2 (sklearn's beta-divergence 2).
  KMeans  n_clusters=8, n_init=4, init='k-means++', max_iter=300, tol=1e-4,
          algorithm='lloyd' and 'elkan'; inertia_.
Threads are limited with threadpoolctl (BLAS and OpenMP) to --threads. Each fit is repeated
--repeats times; the JSON holds the median wall and CPU (process) seconds.

Usage: sklearn_segment.py data.csv [--out sklearn.json] [--threads 2] [--repeats 3] [--skip-nmf]
       sklearn_segment.py --compare tailor.json sklearn.json
"""
import argparse
import json
import statistics
import sys
import time


def timed(fn, repeats):
    """Median wall and CPU seconds of `repeats` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def fit(csv_path, threads, repeats, nmf_too):
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.decomposition import NMF
    from threadpoolctl import threadpool_limits

    X = np.loadtxt(csv_path, delimiter=",", skiprows=1)
    out = {"rows": X.shape[0], "cols": X.shape[1], "threads": threads, "repeats": repeats}
    with threadpool_limits(limits=threads):
        if nmf_too:
            def nmf_fit():
                nmf = NMF(n_components=8, init="nndsvda", solver="cd", max_iter=200, tol=0.0)
                W = nmf.fit_transform(X)
                return nmf, W
            wall, cpu, (nmf, W) = timed(nmf_fit, repeats)
            out["nmf_seconds"], out["nmf_cpu_seconds"] = wall, cpu
            out["nmf_objective"] = 0.5 * float(np.linalg.norm(X - W @ nmf.components_) ** 2)
            out["nmf_iterations"] = int(nmf.n_iter_)
        for algorithm in ("lloyd", "elkan"):
            wall, cpu, km = timed(
                lambda: KMeans(n_clusters=8, n_init=4, init="k-means++", max_iter=300, tol=1e-4,
                               algorithm=algorithm, random_state=0).fit(X), repeats)
            out[f"kmeans_{algorithm}_seconds"] = wall
            out[f"kmeans_{algorithm}_cpu_seconds"] = cpu
            out[f"kmeans_{algorithm}_inertia"] = float(km.inertia_)
    return out


def compare(tailor_path, sklearn_path):
    t = json.load(open(tailor_path))
    s = json.load(open(sklearn_path))
    rows = []
    if "nmf_objective" in t and "nmf_objective" in s:
        rows.append(("NMF objective (HALS vs cd)", "nmf", "nmf", 0.01))
    rows += [("KMeans inertia (lloyd vs lloyd)", "kmeans_lloyd", "kmeans_lloyd", 0.001),
             ("KMeans inertia (hamerly vs elkan)", "kmeans_hamerly", "kmeans_elkan", 0.001)]
    best_peer = min(s["kmeans_lloyd_seconds"], s["kmeans_elkan_seconds"])
    best_peer_cpu = min(s["kmeans_lloyd_cpu_seconds"], s["kmeans_elkan_cpu_seconds"])
    print(f"n = {t['rows']}, p = {t['cols']}, threads = {t['threads']}, "
          f"medians of {t.get('repeats', 1)} (tailor) / {s.get('repeats', 1)} (sklearn) fits")
    print(f"{'quantity':36s} {'tailor':>14s} {'sklearn':>14s} {'rel.diff':>9s} "
          f"{'tailor s':>9s} {'sklearn s':>9s} {'speedup':>8s} {'cpu speedup':>11s}")
    ok = True
    for name, tk, sk, tolerance in rows:
        key = "objective" if tk == "nmf" else "inertia"
        a, b = t[f"{tk}_{key}"], s[f"{sk}_{key}"]
        ta, tb = t[f"{tk}_seconds"], s[f"{sk}_seconds"]
        ca, cb = t.get(f"{tk}_cpu_seconds"), s.get(f"{sk}_cpu_seconds")
        rel = (a - b) / b
        ok = ok and abs(rel) <= tolerance
        cpu = f"{cb / ca:10.2f}x" if ca and cb else f"{'-':>11s}"
        print(f"{name:36s} {a:14.6g} {b:14.6g} {rel:+9.3%} {ta:9.3f} {tb:9.3f} {tb / ta:7.2f}x "
              f"{cpu}")
    tailor_best = min(t["kmeans_lloyd_seconds"], t["kmeans_hamerly_seconds"])
    tailor_best_cpu = min(t["kmeans_lloyd_cpu_seconds"], t["kmeans_hamerly_cpu_seconds"])
    print(f"KMeans, tailor's faster vs sklearn's faster: wall {best_peer / tailor_best:.2f}x, "
          f"cpu {best_peer_cpu / tailor_best_cpu:.2f}x")
    print("inertia within 0.1%, NMF objective within 1%:", "yes" if ok else "NO")
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv", nargs="?")
    parser.add_argument("--out")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-nmf", action="store_true")
    parser.add_argument("--compare", nargs=2, metavar=("TAILOR_JSON", "SKLEARN_JSON"))
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    if not args.csv:
        parser.error("a CSV path is required")
    result = fit(args.csv, args.threads, args.repeats, not args.skip_nmf)
    text = json.dumps(result)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
