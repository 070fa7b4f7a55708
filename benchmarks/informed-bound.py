"""The best J any retry policy can reach on scenario 20 (load-dependent) without seeing the
future: one that knows each job's recovery distribution exactly (the queue depth and the day,
as the scenario draws them) and plans its attempts optimally against it, by dynamic
programming. Beside it: the oracle (retries once, at the recovery) and the best policy that knows
only the pooled distribution (what a perfectly learned Bayesian curve knows).

J per job = time from the first failure to the success + c x failed attempts (the first
included), as the simulator counts it. Usage: python3 benchmarks/informed-bound.py (numpy).
"""

from math import erf, log, sqrt

import numpy as np

C = 10.0  # seconds per failed attempt (scenario 20's c)
SIGMA = 0.3  # the recovery's log-normal spread once depth and day are known
DAY_FACTOR = [3.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5]  # Monday .. Sunday


def best_cost(times, survival):
    """Least expected cost of an attempt schedule on the grid `times` (increasing), where
    survival[i] = P(still down at times[i]); the first attempt has failed at time 0."""
    k = len(times)
    value = np.zeros(k)  # expected cost from a failed attempt at times[i] on
    value[-1] = times[-1]
    for i in range(k - 2, -1, -1):
        if survival[i] <= 0:
            value[i] = times[i]
            continue
        down = survival[i + 1 :] / survival[i]
        value[i] = np.min((1 - down) * times[i + 1 :] + down * (C + value[i + 1 :]))
    return np.min((1 - survival) * times + survival * (C + value)) + C


def informed(median):
    mu = log(median)
    times = np.exp(np.linspace(log(0.3 * median), log(4 * median), 250))
    survival = np.array([0.5 * (1 - erf((log(t) - mu) / (SIGMA * sqrt(2)))) for t in times])
    return best_cost(times, survival)


def main():
    rng = np.random.default_rng(1)
    n = 3000
    depth = np.exp(np.log(100) + rng.standard_normal(n))
    factor = np.array(DAY_FACTOR)[rng.integers(0, 7, n)]
    median = 20 * depth / 100 * factor
    recovery = median * np.exp(SIGMA * rng.standard_normal(n))
    oracle = recovery.mean() + C
    grid = np.exp(np.linspace(np.log(median.min()), np.log(median.max()), 40))
    costs = np.array([informed(m) for m in grid])
    knows_context = np.interp(np.log(median), np.log(grid), costs).mean()
    pooled = np.sort(recovery)
    times = np.exp(np.linspace(np.log(pooled[0] * 0.9), np.log(pooled[-1] * 1.01), 400))
    survival = 1 - np.searchsorted(pooled, times, side="right") / len(pooled)
    knows_pool = best_cost(times, survival)
    print(f"oracle J {oracle:.1f}")
    print(f"knows each job's distribution: J {knows_context:.1f} ({knows_context / oracle:.3f}x oracle)")
    print(f"knows the pooled distribution: J {knows_pool:.1f} ({knows_pool / oracle:.3f}x oracle)")
    print(f"context-aware / pooled: {knows_context / knows_pool:.3f}")


if __name__ == "__main__":
    main()
