#!/usr/bin/env python3
"""Reference numbers for tests/uplift/curves_test.cpp and uplift_at_k_test.cpp.

scikit-uplift (sklift.metrics) and CausalML (causalml.metrics.visualize) are not installable
here, so their formulas are re-implemented below with numpy only, following their published
source (sklift 0.5: uplift_curve, qini_curve, perfect_*_curve, uplift_auc_score,
qini_auc_score, uplift_at_k, uplift_by_percentile; CausalML 0.15: get_cumlift, get_cumgain,
get_qini, auuc_score, qini_score — pandas' sort/interpolate replaced by numpy equivalents).
Written from their documented formulas, not copied.

Usage: /usr/bin/python3 benchmarks/peers/uplift_metrics_peer.py tests/uplift/data
Writes peer_data.csv (y, y_continuous, w, score, score_tied) and peer_expected.csv (name,value).
"""
import os
import sys

import numpy as np


# ---- scikit-uplift -------------------------------------------------------------------------
def _sk_cumulative(y, score, w):
    order = np.argsort(score, kind="mergesort")[::-1]
    y, score, w = y[order], score[order], w[order]
    y_t = np.where(w == 1, y, 0.0)
    y_c = np.where(w == 0, y, 0.0)
    thresholds = np.r_[np.where(np.diff(score))[0], score.size - 1]
    n_t = np.cumsum(w)[thresholds].astype(float)
    n_all = (thresholds + 1).astype(float)
    n_c = n_all - n_t
    return n_all, n_t, n_c, np.cumsum(y_t)[thresholds], np.cumsum(y_c)[thresholds]


def _safe_div(a, b):
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b != 0)


def _prepend_zero(x, v):
    if x.size == 0 or v[0] != 0 or x[0] != 0:
        return np.r_[0.0, x], np.r_[0.0, v]
    return x, v


def sk_uplift_curve(y, score, w):
    n_all, n_t, n_c, yt, yc = _sk_cumulative(y, score, w)
    return _prepend_zero(n_all, (_safe_div(yt, n_t) - _safe_div(yc, n_c)) * n_all)


def sk_qini_curve(y, score, w):
    n_all, n_t, n_c, yt, yc = _sk_cumulative(y, score, w)
    return _prepend_zero(n_all, yt - yc * _safe_div(n_t, n_c))


def sk_perfect_uplift_curve(y, w):
    cr = np.sum((y == 1) & (w == 0))
    tn = np.sum((y == 0) & (w == 1))
    summand = y if cr > tn else w
    return sk_uplift_curve(y, 2 * (y == w) + summand, w)


def sk_perfect_qini_curve(y, w, negative_effect=True):
    if negative_effect:
        return sk_qini_curve(y, y * w - y * (1 - w), w)
    ratio = y[w == 1].sum() - len(y[w == 1]) * y[w == 0].sum() / len(y[w == 0])
    return np.array([0, ratio, len(y)], float), np.array([0, ratio, ratio], float)


def trapezoid(x, v):
    return float(np.sum(np.diff(x) * (v[1:] + v[:-1]) / 2.0))


def _normalized(actual, perfect):
    xa, va = actual
    xp, vp = perfect
    base = trapezoid(np.array([0, xp[-1]]), np.array([0, vp[-1]]))
    return (trapezoid(xa, va) - base) / (trapezoid(xp, vp) - base)


def sk_uplift_auc_score(y, score, w):
    return _normalized(sk_uplift_curve(y, score, w), sk_perfect_uplift_curve(y, w))


def sk_qini_auc_score(y, score, w, negative_effect=True):
    return _normalized(sk_qini_curve(y, score, w), sk_perfect_qini_curve(y, w, negative_effect))


def sk_uplift_at_k(y, score, w, strategy, k):
    order = np.argsort(score, kind="mergesort")[::-1]
    if strategy == "overall":
        n = int(len(y) * k)
        top_y, top_w = y[order][:n], w[order][:n]
        return top_y[top_w == 1].mean() - top_y[top_w == 0].mean()
    n_c = int((w == 0).sum() * k)
    n_t = int((w == 1).sum() * k)
    return y[order][w[order] == 1][:n_t].mean() - y[order][w[order] == 0][:n_c].mean()


def sk_uplift_by_percentile(y, score, w, strategy, bins):
    order = np.argsort(score, kind="mergesort")[::-1]
    out = []
    for flag in (1, 0):
        if strategy == "overall":
            ys = np.array_split(y[order], bins)
            ws = np.array_split(w[order], bins)
            sel = [yy[ww == flag] for yy, ww in zip(ys, ws)]
        else:
            sel = np.array_split(y[order][w[order] == flag], bins)
        rate = np.array([s.mean() for s in sel])
        size = np.array([len(s) for s in sel])
        out.append((rate, rate * (1 - rate) / size))
    (rt, vt), (rc, vc) = out
    return rt - rc, np.sqrt(vt + vc)


# ---- CausalML ------------------------------------------------------------------------------
def _interpolate(values):
    """pandas Series.interpolate() (linear on positions, forward direction)."""
    v = values.copy()
    idx = np.arange(v.size)
    ok = ~np.isnan(v)
    v[~ok] = np.interp(idx[~ok], idx[ok], v[ok])
    return v


def _cm_sorted(y, score, w):
    order = np.argsort(-score, kind="mergesort")  # distinct scores: any sort is the same
    y, w = y[order], w[order]
    k = np.arange(1, y.size + 1, dtype=float)
    n_t = np.cumsum(w)
    n_c = k - n_t
    with np.errstate(divide="ignore", invalid="ignore"):
        yt = np.cumsum(y * w)
        yc = np.cumsum(y * (1 - w))
    return k, n_t, n_c, yt, yc


def cm_cumgain(y, score, w, normalize):
    k, n_t, n_c, yt, yc = _cm_sorted(y, score, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = yt / n_t - yc / n_c
    lift = _interpolate(np.r_[0.0, lift])
    gain = lift * np.r_[0.0, k]
    if normalize:
        gain = gain / np.abs(gain[-1])
    return gain


def cm_qini(y, score, w, normalize):
    k, n_t, n_c, yt, yc = _cm_sorted(y, score, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = yt - yc * n_t / n_c
    q = _interpolate(np.r_[0.0, q])
    if normalize:
        q = q / np.abs(q[-1])
    return q


def cm_auuc_score(y, score, w):
    g = cm_cumgain(y, score, w, True)
    return g.sum() / g.shape[0]


def cm_qini_score(y, score, w):
    q = cm_qini(y, score, w, True)
    random_area = np.linspace(q[0], q[-1], q.shape[0]).sum()
    return (q.sum() - random_area) / q.shape[0]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
    rng = np.random.default_rng(20240607)
    n = 400
    x = rng.uniform(-1, 1, n)
    w = np.zeros(n)
    w[rng.permutation(n)[: n // 2]] = 1.0
    tau = 0.4 * x  # positive effect for x > 0
    p = np.clip(0.35 + tau * w, 0.01, 0.99)
    y = (rng.uniform(size=n) < p).astype(float)
    y_cont = 1.0 + x + 2.0 * tau * w + rng.normal(size=n)
    score = x + 0.5 * rng.normal(size=n)  # a noisy score, distinct values
    score_tied = np.round(score * 2.0) / 2.0  # heavy ties
    with open(os.path.join(out_dir, "peer_data.csv"), "w") as f:
        f.write("y,y_continuous,w,score,score_tied\n")
        for i in range(n):
            f.write(f"{y[i]:.0f},{y_cont[i]!r},{w[i]:.0f},{score[i]!r},{score_tied[i]!r}\n")
    rows = [
        ("sklift_uplift_auc_score", sk_uplift_auc_score(y, score, w)),
        ("sklift_qini_auc_score", sk_qini_auc_score(y, score, w)),
        ("sklift_qini_auc_score_no_negative", sk_qini_auc_score(y, score, w, False)),
        ("sklift_uplift_auc_score_tied", sk_uplift_auc_score(y, score_tied, w)),
        ("sklift_qini_auc_score_tied", sk_qini_auc_score(y, score_tied, w)),
        ("sklift_uplift_at_k_overall_0.3", sk_uplift_at_k(y, score, w, "overall", 0.3)),
        ("sklift_uplift_at_k_by_group_0.3", sk_uplift_at_k(y, score, w, "by_group", 0.3)),
        ("causalml_auuc_score", cm_auuc_score(y, score, w)),
        ("causalml_qini_score", cm_qini_score(y, score, w)),
        ("causalml_auuc_score_continuous", cm_auuc_score(y_cont, score, w)),
        ("causalml_qini_score_continuous", cm_qini_score(y_cont, score, w)),
    ]
    for strategy in ("overall", "by_group"):
        up, sd = sk_uplift_by_percentile(y, score, w, strategy, 10)
        rows += [(f"sklift_uplift_by_percentile_{strategy}_{b}", up[b]) for b in range(10)]
        rows += [(f"sklift_std_uplift_{strategy}_{b}", sd[b]) for b in range(10)]
    with open(os.path.join(out_dir, "peer_expected.csv"), "w") as f:
        f.write("name,value\n")
        for name, value in rows:
            f.write(f"{name},{float(value)!r}\n")
    for name, value in rows[:11]:
        print(f"{name:40s} {value: .12f}")


if __name__ == "__main__":
    main()
