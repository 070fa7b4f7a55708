"""What a fork costs the parent when its engine is learning (BENCHMARKS.md, section 14).

Each fork is made on a new engine (system clock), either idle or right after a burst of 300
episodes over 5 keys, while its plan worker is rebuilding: the fork hook waits until the worker
is between two rebuilds. Prints p50 and p99 of `os.fork()` as timed in the parent, rows
alternated. Usage: python bench/bench_fork.py [forks per row, default 300]
"""

from __future__ import annotations

import os
import sys
import time

import smartretry as sr


def fork_times(busy: bool, n: int) -> list[float]:
    times = []
    for _ in range(n):
        engine = sr.Engine(clock=sr.SystemClock())
        if busy:
            for i in range(300):
                ep = engine.begin(f"q{i % 5}")
                engine.record(ep, sr.Failure.http(503))
                engine.record_success(ep)
        start = time.perf_counter_ns()
        child = os.fork()
        if child == 0:
            os._exit(0)
        times.append((time.perf_counter_ns() - start) / 1000)
        os.waitpid(child, 0)
    return sorted(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    for busy in (False, True, False, True):
        t = fork_times(busy, n)
        what = "right after a burst of learning" if busy else "the engine idle"
        print(f"{what}: fork() in the parent p50 {t[len(t) // 2]:.0f} us, p99 {t[int(len(t) * 0.99)]:.0f} us")


if __name__ == "__main__":
    main()
