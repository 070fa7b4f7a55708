"""Per-call overhead of smartretry's decorator against tenacity, backoff and stamina, measured
side by side in one process, paired and interleaved. Overhead = decorated call minus the same
undecorated work, at each percentile.

    bindings-python/.venv/bin/python bindings-python/bench/bench_overhead.py [--out benchmarks/python.md]

Zero waits come from each library's own configuration, nothing is patched: smartretry caps the
failure's class at `max_delay: 0` (the engine still learns: models are built and plans refit by
its background worker during the run), tenacity `wait_none()`, backoff `constant(interval=0)`,
stamina's testing mode (stamina's own switch; it changes nothing outside stamina).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from typing import Any, Awaitable, Callable, Dict, List, Tuple

import backoff
import stamina
import stamina.instrumentation
import tenacity

import smartretry

CALLS = 20_000  # per batch
ROUNDS = 7  # timed rounds; each runs every library once, in a rotated order
ATTEMPTS = 3
PCTS = (0.5, 0.99, 0.999)


class Boom(Exception):
    pass


def flip() -> Callable[[], int]:
    """Fails on every other call: each retried call fails once, then succeeds."""
    state = [0]

    def f() -> int:
        state[0] += 1
        if state[0] & 1:
            raise Boom("once")
        return 1

    return f


def ok() -> int:
    return 1


async def aok() -> int:
    return 1


def timed(f: Callable[[], Any]) -> List[int]:
    out = [0] * CALLS
    clock = time.perf_counter_ns
    for i in range(CALLS):
        t = clock()
        f()
        out[i] = clock() - t
    return out


def atimed(f: Callable[[], Awaitable[Any]]) -> List[int]:
    async def many() -> List[int]:
        out = [0] * CALLS
        clock = time.perf_counter_ns
        for i in range(CALLS):
            t = clock()
            await f()
            out[i] = clock() - t
        return out

    return asyncio.run(many())


ZERO_WAIT = {"unknown": {"max_delay": 0}}


def engines() -> Tuple[smartretry.Engine, smartretry.Engine]:
    learning = smartretry.Engine(classes=ZERO_WAIT)
    heuristic = smartretry.Engine(classes=ZERO_WAIT, learning={"enabled": False})
    return learning, heuristic


def check_zero_waits(engine: smartretry.Engine) -> None:
    """The configuration, not a patch, makes the engine's waits zero: check it asks for none."""
    for i in range(2_000):
        ep = engine.begin("zero-wait-check")
        rec = engine.record(ep, smartretry.Failure.exception_type("Boom"))
        assert rec.delay == 0.0, f"the engine asked for a {rec.delay} s wait"
        engine.record_success(ep)


def decorators(learning: smartretry.Engine, heuristic: smartretry.Engine) -> Dict[str, Any]:
    return {
        "smartretry (learning on, default)": smartretry.retry(key="bench", on=Boom, engine=learning),
        "smartretry (learning off)": smartretry.retry(key="bench", on=Boom, engine=heuristic),
        "tenacity": tenacity.retry(
            retry=tenacity.retry_if_exception_type(Boom),
            stop=tenacity.stop_after_attempt(ATTEMPTS),
            wait=tenacity.wait_none(),
        ),
        "backoff": backoff.on_exception(
            backoff.constant, Boom, max_tries=ATTEMPTS, interval=0, jitter=None
        ),
        "stamina": stamina.retry(on=Boom, attempts=ATTEMPTS),
    }


def pct(xs: List[int], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))] / 1000.0


def run() -> Dict[str, Dict[str, Any]]:
    stamina.set_testing(True, attempts=ATTEMPTS)
    # no retry hooks (stamina logs every scheduled retry by default; the others log nothing here)
    stamina.instrumentation.set_on_retry_hooks([])
    learning, heuristic = engines()
    check_zero_waits(learning)
    decos = decorators(learning, heuristic)
    wrapped = {
        name: {"success": d(ok), "fail_once": d(flip()), "async": d(aok)} for name, d in decos.items()
    }

    def twice_factory() -> Callable[[], int]:
        f = flip()

        def twice() -> int:
            try:
                return f()
            except Boom:
                return f()

        return twice

    base = {"success": ok, "fail_once": twice_factory(), "async": aok}
    names = ["(bare call)"] + list(wrapped)
    samples: Dict[str, Dict[str, List[List[int]]]] = {
        n: {k: [] for k in base} for n in names
    }
    for rnd in range(ROUNDS + 1):  # round 0 is the warm-up
        order = names[rnd % len(names):] + names[: rnd % len(names)]
        for n in order:
            fns = base if n == "(bare call)" else wrapped[n]
            for kind, f in fns.items():
                xs = atimed(f) if kind == "async" else timed(f)
                if rnd > 0:
                    samples[n][kind].append(xs)
    out: Dict[str, Dict[str, Any]] = {}
    for n in wrapped:
        row: Dict[str, Any] = {}
        for kind in base:
            mine = [x for r in samples[n][kind] for x in r]
            bare = [x for r in samples["(bare call)"][kind] for x in r]
            row[kind] = [pct(mine, p) - pct(bare, p) for p in PCTS]
            per_round = [
                pct(m, 0.5) - pct(b, 0.5)
                for m, b in zip(samples[n][kind], samples["(bare call)"][kind])
            ]
            row[kind + "_spread"] = (min(per_round), max(per_round))
        out[n] = row
    stats = learning.stats()
    out["_engine"] = {"episodes": stats.get("episodes"), "models": stats.get("models")}
    return out


def table(rows: Dict[str, Dict[str, Any]]) -> str:
    head = (
        "| library | success: p50 / p99 / p99.9 (µs) | fail once, zero wait: p50 / p99 / p99.9 (µs) "
        "| async success: p50 / p99 / p99.9 (µs) |"
    )
    lines = [head, "| --- | ---: | ---: | ---: |"]
    for name, r in rows.items():
        if name.startswith("_"):
            continue
        cells = []
        for kind in ("success", "fail_once", "async"):
            p50, p99, p999 = r[kind]
            lo, hi = r[kind + "_spread"]
            cells.append(f"{p50:.2f} / {p99:.2f} / {p999:.2f} (p50 {lo:.2f}-{hi:.2f})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; load average {load:.1f} at the end"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="write the markdown report here")
    args = ap.parse_args()
    rows = run()
    versions = ", ".join(
        f"{m.__name__} {getattr(m, '__version__', '') or _dist_version(m.__name__)}"
        for m in (smartretry, tenacity, backoff, stamina)
    )
    eng = rows["_engine"]
    md = f"""# Python: per-call overhead of retry decorators

Measured side by side in one process: overhead = decorated call minus the same undecorated work,
each call timed on its own (`perf_counter_ns`), at the same percentile. Paired and interleaved:
{ROUNDS} rounds after a warm-up round, each running every library (and the bare call) for
{CALLS:,} calls per case, in a rotated order; the spread is the range of the rounds' p50.

Zero waits come from each library's own configuration; nothing is patched. smartretry: the
failure's class capped at `max_delay: 0` (checked before the run: the engine asked for no wait);
tenacity `wait_none()`, backoff `constant(interval=0)`, stamina in its testing mode with its
retry hooks (logging) off. Every library makes at most {ATTEMPTS} attempts.

smartretry "learning on" is the default engine (system clock): it learned from every failure
during the run, its models being refit and plans rebuilt by its background worker
({eng['episodes']} failure episodes on {eng['models']} models by the end). "learning off" is the
heuristic tier only: the binding's own overhead.

Command (from the repository root, after `scripts/test-python.sh` made the venv):

    bindings-python/.venv/bin/python bindings-python/bench/bench_overhead.py --out benchmarks/python.md

Machine: {machine()}. Packages: {versions}.

{table(rows)}

Targets: success ≤ 1.5 µs, fail once ≤ 4 µs (learning on), async success ≤ 3 µs (p50).
The machine is shared with other builds: read single figures as ±30%.
"""
    print(md)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(md)


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
