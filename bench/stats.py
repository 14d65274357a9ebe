"""The one percentile definition behind every figure in docs/benchmarks.md (the Rust side,
benches/stats/mod.rs, is the same): linear interpolation between the closest ranks,
Hyndman & Fan's type 7 (the default of R and NumPy; statistics.quantiles(method="inclusive")).
For sorted x[0..n] the p-th percentile sits at rank h = (n - 1) * p / 100:
x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]). The median is the 50th.

scripts/bench runs these doctests before every run (python3 -m doctest bench/stats.py).

>>> round(percentile([18.3, 1.2, 5.34, 0.9], 50), 9)  # the true median of four: (1.2 + 5.34) / 2
3.27
>>> [round(percentile(range(1, 11), p), 2) for p in (25, 50, 75, 95, 99)]  # as R's quantile(1:10)
[3.25, 5.5, 7.75, 9.55, 9.91]
>>> percentile([15, 20, 35, 40, 50], 40)  # as numpy.percentile
29.0
>>> percentile([7], 99), percentile([], 50)
(7.0, None)
>>> s = summary([3, None, 1, 2])
>>> s["n"], s["min"], s["p25"], s["median"], s["p75"], s["max"], s["mean"]
(3, 1, 1.5, 2.0, 2.5, 3, 2.0)
>>> summary([None]) is None
True
"""

import math


def percentile(xs, p):
    """The p-th percentile (0..100) of xs (any order), or None when empty."""
    v = sorted(xs)
    if not v:
        return None
    h = (len(v) - 1) * min(max(p, 0), 100) / 100
    lo = math.floor(h)
    hi = min(lo + 1, len(v) - 1)
    return float(v[lo] + (h - lo) * (v[hi] - v[lo]))


def median(xs):
    return percentile(xs, 50)


def summary(xs):
    """Count, spread (min, p25, p75, max), centre and tail of xs; None values are dropped."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {
        "n": len(xs),
        "min": min(xs),
        "p25": percentile(xs, 25),
        "median": percentile(xs, 50),
        "p75": percentile(xs, 75),
        "p95": percentile(xs, 95),
        "p99": percentile(xs, 99),
        "max": max(xs),
        "mean": sum(xs) / len(xs),
    }
