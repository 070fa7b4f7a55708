"""A Celery app for test_celery.py, imported by a real worker process (``celery -A celery_tasks
worker``) on the Redis broker in ``SMARTRETRY_TEST_BROKER``. The engine runs on a ManualClock: its
countdowns are 0 and the clock is advanced instead, so the test never waits for time."""

from __future__ import annotations

import os
from typing import Any, Dict

from celery import Celery  # type: ignore[import-untyped]

import smartretry as sr
from smartretry.celery import EPISODES, SmartRetryTask

BROKER = os.environ.get("SMARTRETRY_TEST_BROKER", "redis://127.0.0.1:6379/0")
app = Celery("celery_tasks", broker=BROKER, backend=BROKER)
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"])

clock = sr.ManualClock(1_700_000_000.0)
engine = sr.Engine(clock=clock, preset="background", max_attempts=4, seed=7)
# Attempts made per name, in this worker process.
ATTEMPTS: Dict[str, int] = {}


def attempt(name: str) -> int:
    ATTEMPTS[name] = ATTEMPTS.get(name, 0) + 1
    return ATTEMPTS[name]


@app.task(bind=True, base=SmartRetryTask, smartretry_engine=engine, smartretry_key="flaky",
          smartretry_on=(ConnectionError,))
def flaky(self: Any, name: str, failures: int) -> Dict[str, Any]:
    """Fails with ConnectionError `failures` times, then succeeds."""
    n = attempt(name)
    if n <= failures:
        raise ConnectionError(f"{name}: attempt {n} refused")
    return {"attempts": n, "retries": self.request.retries}


@app.task(bind=True, base=SmartRetryTask, smartretry_engine=engine, smartretry_key="doomed",
          smartretry_on=(ConnectionError,))
def doomed(self: Any, name: str) -> None:
    attempt(name)
    raise ConnectionError(f"{name}: always refused")


@app.task(bind=True, base=SmartRetryTask, smartretry_engine=engine, smartretry_key="wrong",
          smartretry_on=(ConnectionError,))
def wrong(self: Any, name: str) -> None:
    """Raises an error the task does not retry on."""
    attempt(name)
    raise KeyError(name)


@app.task
def report() -> Dict[str, Any]:
    """What the worker's engine saw, and what is still open."""
    return {
        "stats": engine.stats(),
        "attempts": dict(ATTEMPTS),
        "open_episodes": len(EPISODES),
        "clock": clock.now(),
    }
