#!/usr/bin/env python3
"""Plain-Python peer for tailor's bidding replay (benchmarks/bidding_benchmark.cpp).

The way RTB research code evaluates bidders (rlb-dp, optimal-rtb): a Python loop over
pre-parsed (click, market_price, pCTR) tuples under the rlb-dp protocol (episodes of N auctions,
budget B = int(CPM_train * c0 * N), bids truncated, capped at 300 and at the budget left, ties
win), and the RLB dynamic program in pure Python. Written for this benchmark from the protocol
and the formulas of Cai et al. (WSDM 2017), not taken from their code.

    python_replay.py --campaign DIR [--episode 1000] [--c0 0.03125] [--repeats 3] [--dp]

Prints one JSON line per measurement: {"peer": "python", "what": ..., "auctions": n,
"seconds": median, "auctions_per_second": ..., "impressions": ..., "clicks": ..., "cost": ...}.
"""
import argparse
import json
import statistics
import sys
import time


def read_log(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts:
                rows.append((int(parts[0]), int(parts[1]), float(parts[2])))
    return rows


def replay(rows, bid_fn, episode, budget, max_bid=300):
    imp = clk = cost = 0
    n = episode
    b = budget
    for click, price, theta in rows:
        a = min(bid_fn(theta, n, b), max_bid, b)
        if a >= price:
            imp += 1
            clk += click
            b -= price
            cost += price
        n -= 1
        if n == 0:
            n = episode
            b = budget
    return imp, clk, cost


def solve_rlb(episode, budget, theta_avg, pdf):
    """V[n][b] for n = 0..N-1 (the recursion of Cai et al. 2017, with the early stop)."""
    top = len(pdf) - 1
    v_inc = 0.0
    for m in pdf:
        v_inc += m * theta_avg
    v_max = 0.0
    rows = [[0.0] * (budget + 1)]
    for _ in range(1, episode):
        v = rows[-1]
        a = [0] * (budget + 1)
        bb = budget - 1
        for b in range(budget, 0, -1):
            while bb >= 0 and (v[bb] - v[b]) + theta_avg >= 0:
                bb -= 1
            a[b] = min(top, b) if bb < 0 else min(top, b - bb - 1)
        v_max += v_inc
        nxt = [0.0] * (budget + 1)
        for b in range(1, budget + 1):
            s = v[b]
            vb = v[b]
            for d in range(a[b] + 1):
                s += pdf[d] * (theta_avg + (v[b - d] - vb))
            nxt[b] = s
            if abs(s - v_max) < 1e-10:
                for k in range(b + 1, budget + 1):
                    nxt[k] = v_max
                break
        rows.append(nxt)
    return rows


def median_time(fn, repeats):
    times = []
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--campaign", required=True, help="directory with info.json and test.theta.txt")
    p.add_argument("--episode", type=int, default=1000)
    p.add_argument("--c0", type=float, default=1 / 32)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dp", action="store_true", help="also solve the RLB DP and replay RLB")
    args = p.parse_args()

    with open(args.campaign + "/info.json") as f:
        info = json.load(f)
    rows = read_log(args.campaign + "/test.theta.txt")
    cpm = info["cost_train"] / info["imp_train"]
    theta_avg = info["clk_train"] / info["imp_train"]
    cpc = info["cost_train"] / info["clk_train"]
    budget = int(cpm * args.c0 * args.episode)
    counts = info["price_counter_train"]
    total = sum(counts)
    pdf = [(c + 1) / (total + len(counts)) for c in counts]

    def emit(what, seconds, result):
        imp, clk, cost = result
        print(json.dumps({"peer": "python", "what": what, "auctions": len(rows),
                          "seconds": seconds, "auctions_per_second": len(rows) / seconds,
                          "impressions": imp, "clicks": clk, "cost": cost}), flush=True)

    mcpc = lambda theta, n, b: int(theta * cpc)
    linear = lambda theta, n, b: int(theta * 10 / theta_avg)
    emit("mcpc", *median_time(lambda: replay(rows, mcpc, args.episode, budget), args.repeats))
    emit("linear_b0_10", *median_time(lambda: replay(rows, linear, args.episode, budget),
                                      args.repeats))
    if args.dp:
        t0 = time.perf_counter()
        v = solve_rlb(args.episode, budget, theta_avg, pdf)
        dp_seconds = time.perf_counter() - t0
        print(json.dumps({"peer": "python", "what": "rlb_dp_solve", "seconds": dp_seconds,
                          "episode": args.episode, "budget": budget,
                          "value_start": v[args.episode - 1][budget]}), flush=True)

        def rlb(theta, n, b):
            row = v[n - 1]
            vb = row[b]
            a = 0
            for d in range(1, min(b, 300) + 1):
                if theta + (row[b - d] - vb) >= 0:
                    a = d
                else:
                    break
            return a

        emit("rlb", *median_time(lambda: replay(rows, rlb, args.episode, budget), 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
