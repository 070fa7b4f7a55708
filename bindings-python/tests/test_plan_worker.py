"""The engine's background plan worker stops with the engine, and the interpreter exits cleanly.

Run in a child interpreter, because it counts this process's threads by name (Linux /proc):
pytest and other tests' engines must not be counted.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CHILD = textwrap.dedent(
    """
    import gc
    import os
    import time
    from pathlib import Path

    import smartretry as sr

    def plan_threads_now() -> int:
        n = 0
        for p in Path("/proc/self/task").iterdir():
            try:
                n += p.joinpath("comm").read_text().strip() == "smartretry-plan"
            except FileNotFoundError:
                pass  # a thread that ended between the listing and the read
        return n

    def plan_threads(expected: int = -1) -> int:
        # Once it is `expected`, or after five seconds: a thread just joined can stay listed in
        # /proc for a moment (the join returns before the kernel releases its task); a worker
        # that really outlived its engine is still counted after the wait.
        deadline = time.monotonic() + 5
        while True:
            n = plan_threads_now()
            if n == expected or expected < 0 or time.monotonic() >= deadline:
                return n
            os.sched_yield()

    engine = sr.Engine(clock=sr.SystemClock())
    for i in range(300):
        ep = engine.begin(f"q{i % 5}")
        engine.record(ep, sr.Failure.http(503))
        engine.record_success(ep)
    assert plan_threads(1) == 1, f"{plan_threads()} workers while the engine learns"

    # A forked child inherits the engine but not its worker: it keeps deciding and learning
    # (rebuilding inline) and lets go of the engine without waiting for a thread it lacks.
    child = os.fork()
    if child == 0:
        try:
            assert plan_threads(0) == 0
            for i in range(300):
                ep = engine.begin(f"q{i % 5}")
                engine.record(ep, sr.Failure.http(503))
                engine.record_success(ep)
            assert plan_threads(0) == 0
            del ep, engine
            gc.collect()
        except BaseException:
            os._exit(1)
        os._exit(0)
    assert os.waitpid(child, 0)[1] == 0, "the forked child failed"

    del ep, engine
    gc.collect()
    assert plan_threads(0) == 0, "the worker outlived its engine"

    # An engine still alive at exit does not keep the interpreter from exiting.
    kept = sr.Engine(clock=sr.SystemClock())
    ep = kept.begin("q")
    kept.record(ep, sr.Failure.http(503))
    assert plan_threads(1) == 1
    print("ok")
    """
)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads through /proc")
def test_the_plan_worker_stops_with_the_engine() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
