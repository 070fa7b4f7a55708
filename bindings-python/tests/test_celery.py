"""smartretry.celery against a real Celery worker (solo pool) on a real Redis broker: the engine
picks each retry's countdown and the give-up, and hears every outcome. The worker's engine runs on
a ManualClock (countdowns of 0), so results are polled with a bounded timeout, never timed."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, Tuple

import pytest

from redis_helpers import redis_server

HERE = Path(__file__).resolve().parent
RESULT_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        env = dict(os.environ, SMARTRETRY_TEST_BROKER=f"{url}/0")
        os.environ["SMARTRETRY_TEST_BROKER"] = env["SMARTRETRY_TEST_BROKER"]
        tasks = importlib.import_module("celery_tasks")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "celery_tasks", "worker", "--pool=solo",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
            cwd=HERE,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            yield tasks
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def outcome(tasks: ModuleType, task: Any, *args: Any) -> Tuple[str, Any]:
    res = task.delay(*args)
    value = res.get(timeout=RESULT_TIMEOUT, propagate=False)
    return res.state, value


def report(tasks: ModuleType) -> Dict[str, Any]:
    state, value = outcome(tasks, tasks.report)
    assert state == "SUCCESS", value
    out: Dict[str, Any] = value
    return out


COUNTERS = ("episodes", "retries", "successes", "give_ups")


def run(tasks: ModuleType, task: Any, *args: Any) -> Tuple[str, Any, Dict[str, Any]]:
    """Run one task to its end: its state and value, and what the worker's engine saw meanwhile
    (counter growth, attempts per name, open episodes, clock moved)."""
    before = report(tasks)
    state, value = outcome(tasks, task, *args)
    after = report(tasks)
    seen = {k: after["stats"][k] - before["stats"][k] for k in COUNTERS}
    seen.update(attempts=after["attempts"], open=after["open_episodes"], clock=after["clock"] - before["clock"])
    return state, value, seen


def test_retries_until_success_with_the_engines_countdown(worker: ModuleType) -> None:
    state, value, seen = run(worker, worker.flaky, "a", 2)
    # Two failures, two retries scheduled by the engine, one success: one episode, 3 attempts.
    assert (state, value) == ("SUCCESS", {"attempts": 3, "retries": 2})
    assert (seen["episodes"], seen["retries"], seen["successes"], seen["open"]) == (1, 2, 1, 0)
    # The countdowns were the engine's delays: its manual clock moved by them.
    assert seen["clock"] > 0


def test_gives_up_when_the_engine_says_stop(worker: ModuleType) -> None:
    state, value, seen = run(worker, worker.doomed, "b")
    assert state == "FAILURE"
    assert isinstance(value, ConnectionError), value
    # max_attempts=4 in the worker's policy: 4 attempts, 3 retries, then the error is re-raised.
    assert (seen["attempts"]["b"], seen["retries"], seen["give_ups"], seen["open"]) == (4, 3, 1, 0)


def test_an_error_outside_smartretry_on_fails_at_once(worker: ModuleType) -> None:
    state, value, seen = run(worker, worker.wrong, "c")
    assert state == "FAILURE"
    assert isinstance(value, KeyError), value
    assert (seen["attempts"]["c"], seen["retries"], seen["give_ups"], seen["open"]) == (1, 0, 0, 0)


def test_first_try_successes_are_recorded(worker: ModuleType) -> None:
    state, value, seen = run(worker, worker.flaky, "d", 0)
    assert (state, value) == ("SUCCESS", {"attempts": 1, "retries": 0})
    assert (seen["successes"], seen["retries"], seen["open"]) == (1, 0, 0)
