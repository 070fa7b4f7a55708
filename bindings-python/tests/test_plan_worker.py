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


FORKS = textwrap.dedent(
    """
    import os
    import time

    import smartretry as sr

    def learn(engine: sr.Engine, keys: int, rounds: int) -> None:
        for i in range(keys * rounds):
            ep = engine.begin(f"q{i % keys}")
            engine.record(ep, sr.Failure.http(503))
            engine.record_success(ep)

    def finished(pid: int, seconds: float) -> int | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            time.sleep(0.005)
        return None

    # Each fork comes right after a burst of learning, while the worker rebuilds plans (without
    # the fork hooks one fork in twenty to a hundred lands while it holds a model's lock).
    hung = 0
    for _ in range(500):
        engine = sr.Engine(clock=sr.SystemClock())
        learn(engine, 5, 60)
        child = os.fork()
        if child == 0:
            # Every model's lock is taken: one held by the parent's worker would never be let go.
            learn(engine, 5, 2)
            os._exit(0)
        status = finished(child, 10)
        if status is None:
            hung += 1
            os.kill(child, 9)
            os.waitpid(child, 0)
        else:
            assert status == 0, f"a forked child failed: {status}"
    assert hung == 0, f"{hung} of 500 forked children hung"
    print("ok")
    """
)


def test_a_fork_never_inherits_a_lock_held_by_the_plan_worker() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FORKS], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
