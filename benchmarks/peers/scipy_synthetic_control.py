#!/usr/bin/env python3
"""scipy peer for tailor's synthetic control (benchmarks/pricing_benchmark.cpp).

The common Python formulation: donor weights by scipy.optimize.nnls on the pre-period outcomes
with an appended heavy row that enforces sum(w) = 1 approximately, then normalised. Times the
California fit plus its 38 in-space placebos on Proposition 99, and (--large) all 1,001 placebo
fits of a random-walk panel of 1,000 donors x 100 periods with 80 pre-periods (the shapes of
pricing_benchmark's BM_PlaceboLarge; its own draw, so only the timing is comparable).

    scipy_synthetic_control.py --prop99 FILE [--large] [--repeats 3]

Prints one JSON line per measurement with the median seconds and fits per second.
"""
import argparse
import csv
import json
import statistics
import sys
import time

import numpy as np
from scipy.optimize import nnls


def sc_weights(donor_pre, treated_pre, heavy=1e4):
    a = np.vstack([donor_pre, heavy * np.ones(donor_pre.shape[1])])
    b = np.concatenate([treated_pre, [heavy]])
    w, _ = nnls(a, b, maxiter=50 * a.shape[1])
    return w / w.sum()


def placebo_loop(y, treated, start):
    units = y.shape[0]
    donors = [u for u in range(units) if u != treated]
    ratios = []
    for t in [treated] + donors:
        pool = [u for u in donors if u != t]
        w = sc_weights(y[pool, :start].T, y[t, :start])
        gap = y[t] - w @ y[pool]
        ratios.append(np.mean(gap[start:] ** 2) / np.mean(gap[:start] ** 2))
    return 1 + sum(r >= ratios[0] for r in ratios[1:])


def timed(fn, repeats):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prop99", required=True)
    p.add_argument("--large", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    rows = list(csv.DictReader(open(args.prop99), delimiter=";"))
    states = sorted({r["State"] for r in rows})
    years = sorted({int(r["Year"]) for r in rows})
    y = np.zeros((len(states), len(years)))
    for r in rows:
        y[states.index(r["State"]), years.index(int(r["Year"]))] = float(r["PacksPerCapita"])
    ca = states.index("California")
    start = years.index(1989)
    seconds, rank = timed(lambda: placebo_loop(y, ca, start), args.repeats)
    print(json.dumps({"peer": "scipy", "what": "prop99_placebos", "fits": len(states),
                      "seconds": seconds, "fits_per_second": len(states) / seconds,
                      "california_rank": int(rank)}), flush=True)
    if args.large:
        rng = np.random.default_rng(3)
        big = 50 + 10 * rng.standard_normal((1001, 1)) + np.cumsum(rng.standard_normal((1001, 100)), axis=1)
        seconds, rank = timed(lambda: placebo_loop(big, 0, 80), 1)
        print(json.dumps({"peer": "scipy", "what": "large_placebos", "fits": 1001,
                          "seconds": seconds, "fits_per_second": 1001 / seconds}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
