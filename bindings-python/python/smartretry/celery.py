"""Celery integration: the engine decides each retry's countdown, and gives up::

    from smartretry.celery import SmartRetryTask

    @app.task(bind=True, base=SmartRetryTask, smartretry_engine=engine,
              smartretry_on=(ConnectionError, TimeoutError))
    def charge(self, order_id): ...

When the task raises one of ``smartretry_on`` (default: any ``Exception``), the failure is recorded
in the task's episode and the engine's recommendation becomes ``self.retry(countdown=delay)``;
when the engine says stop, the error is re-raised and the task fails (the recommendation is
attached to it, as for ``smartretry.retry``). A success (first try or after retries) and the
give-up are fed back, so the engine learns how long the task's failures last.

One episode per task id across its retries: the episode lives in the worker process, keyed by
the task id, and Celery's ``request.retries`` numbers the attempts (a redelivered attempt is
recorded once). Celery's own cap is lifted (``max_retries = None``): the policy's attempt caps,
deadline, budgets and breakers decide. A retry that runs in another process than its first
attempt (prefork children, other machines) starts a new episode there; the ``solo`` and
``threads`` pools keep every retry of a task in one engine.

Options (task attributes, or keyword arguments of ``app.task``): ``smartretry_engine`` (default:
``smartretry.default_engine()``), ``smartretry_key`` (default: the task's name),
``smartretry_tenant``, ``smartretry_on``. On a ManualClock engine (or under
``smartretry.testing()``) the countdown is 0 and a manual clock is advanced by the delay instead.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Optional, Tuple, Type, Union

import celery  # type: ignore[import-untyped]
from celery.exceptions import Ignore, Reject, Retry  # type: ignore[import-untyped]

from . import _config
from ._adapt import Tracker
from ._native import Engine

ExcTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]

# Episodes of tasks between their retries, per worker process. Bounded: a task whose retry never
# comes back (revoked, expired, run elsewhere) must not hold its episode forever.
MAX_OPEN_EPISODES = 10_000

# Exceptions Celery uses for control flow: never failures of the task.
_CONTROL = (Retry, Ignore, Reject)


class _Episodes:
    """Open episodes by task id (oldest evicted and abandoned first)."""

    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self._open: "OrderedDict[str, Tracker]" = OrderedDict()
        self._limit = limit

    def get(self, task_id: str, engine: Engine, key: str, tenant: Optional[str]) -> Tracker:
        with self._lock:
            tr = self._open.get(task_id)
            if tr is None or tr.engine is not engine or tr.key != key:
                tr = self._open[task_id] = Tracker(engine, key, tenant)
            evicted = []
            while len(self._open) > self._limit:
                evicted.append(self._open.popitem(last=False)[1])
        for old in evicted:
            old.abandon()
        return tr

    def close(self, task_id: str) -> None:
        with self._lock:
            self._open.pop(task_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)


EPISODES = _Episodes(MAX_OPEN_EPISODES)


class SmartRetryTask(celery.Task):  # type: ignore[misc]
    """A Celery task whose retries the engine schedules (see the module's documentation)."""

    abstract = True
    # The engine's policy caps the attempts; Celery's default of 3 retries would cut it short.
    max_retries = None
    smartretry_engine: Optional[Engine] = None
    smartretry_key: Optional[str] = None
    smartretry_tenant: Optional[str] = None
    smartretry_on: ExcTypes = Exception

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        engine = self.smartretry_engine or _config.default_engine()
        key = self.smartretry_key or self.name
        request = self.request
        task_id = request.id
        if task_id is None:  # called directly, not through a worker: no retries to schedule
            return super().__call__(*args, **kwargs)
        attempt = int(request.retries or 0) + 1
        try:
            result = super().__call__(*args, **kwargs)
        except _CONTROL:
            raise
        except BaseException as exc:
            tr = EPISODES.get(task_id, engine, key, self.smartretry_tenant)
            if not isinstance(exc, self.smartretry_on):
                tr.abandon()
                EPISODES.close(task_id)
                raise
            rec = tr.failed(attempt, exc)
            if not rec.should_retry:
                EPISODES.close(task_id)
                raise
            raise self.retry(exc=exc, countdown=_config.effective_delay(engine, rec.delay))
        tr = EPISODES.get(task_id, engine, key, self.smartretry_tenant)
        tr.succeeded()
        EPISODES.close(task_id)
        return result


__all__ = ["EPISODES", "MAX_OPEN_EPISODES", "SmartRetryTask"]
