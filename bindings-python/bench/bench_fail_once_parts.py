"""Where a fail-once call's time goes: the decorated call against its native calls alone (with
an exception to read, and with a prebuilt Failure) and the bare work. Every call timed on its
own after a warm-up (the engine's models built first), p50 of 5 x 100,000 calls, the parts
interleaved; a rough split (the percentile bench against the other libraries is
bench_overhead.py).

    bindings-python/.venv/bin/python bindings-python/bench/bench_fail_once_parts.py
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable, Dict, List

import smartretry as sr

ZERO_WAIT = {"unknown": {"max_delay": 0}}


class Boom(Exception):
    pass


def p50(f: Callable[[], Any], n: int = 100_000) -> float:
    clock = time.perf_counter_ns
    out = [0] * n
    for i in range(n):
        t = clock()
        f()
        out[i] = clock() - t
    out.sort()
    return out[n // 2] / 1000


def main() -> None:
    for learning in (True, False):
        eng = sr.Engine(classes=ZERO_WAIT, learning={"enabled": learning})
        exc = Boom("once")
        prebuilt = sr.Failure.exception_type("Boom")
        state = [0]

        def flip() -> int:
            state[0] += 1
            if state[0] & 1:
                raise Boom("once")
            return 1

        def twice() -> int:
            try:
                return flip()
            except Boom:
                return flip()

        def native(failure: object) -> Callable[[], None]:
            def f() -> None:
                ep, _ = eng.begin_fail("bench", failure)
                eng.record_success(ep)

            return f

        decorated = sr.retry(key="bench", on=Boom, engine=eng)(flip)
        parts = {
            "decorated fail once": decorated,
            "bare work (two calls)": twice,
            "begin_fail(exception) + record_success": native(exc),
            "begin_fail(Failure) + record_success": native(prebuilt),
            "from_exception": lambda: sr.from_exception(exc),
        }
        for f in parts.values():  # warm-up: the models are built, the plans rebuilt
            p50(f)
        runs: Dict[str, List[float]] = {name: [] for name in parts}
        for _ in range(5):
            for name, f in parts.items():
                runs[name].append(p50(f))
        print(f"learning {'on' if learning else 'off'}: p50 per call, median of 5 runs (µs)")
        for name, xs in runs.items():
            print(f"  {name:40s} {statistics.median(xs):.2f}  ({min(xs):.2f}-{max(xs):.2f})")


if __name__ == "__main__":
    main()
