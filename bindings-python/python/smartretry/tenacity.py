"""tenacity adapter: adaptive waits, and ``retry`` / ``stop`` callables that feed outcomes back
to the engine and enforce its give-up (guardrails, budgets, breakers)::

    from smartretry.tenacity import adaptive, wait_adaptive
    @tenacity.retry(**adaptive(engine, key="payments"))       # retry + stop + wait
    @tenacity.retry(wait=wait_adaptive(engine, key="payments"), stop=stop_after_attempt(5))

With only ``wait_adaptive`` the engine learns from failures but not from successes; add
``retry=retry_adaptive(...)`` so successes are recorded too. On a ManualClock engine (or under
``smartretry.testing()``) the wait advances the clock and returns 0.

Adaptive rate limiting (policy ``rate_limit``): ``before=before_acquire(engine, key=...)`` takes
the engine's token before every attempt, first ones included, and waits for it
(``before_acquire_async`` under ``AsyncRetrying``); ``adaptive(...)`` includes it
(``adaptive(..., asynchronous=True)`` for ``async def`` functions).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Type, Union

import tenacity
from tenacity import RetryCallState
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from . import _config
from ._adapt import Tracker
from ._context import ContextArg
from ._native import Engine, Recommendation

ExcTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]


def _tracker(
    engine: Optional[Engine], key: str, tenant: Optional[str], rs: RetryCallState, context: ContextArg = None
) -> Tracker:
    eng = engine or _config.default_engine()
    slot = (id(eng), key, tenant)
    trackers: Dict[Any, Tracker] = rs.__dict__.setdefault("_smartretry", {})
    tr = trackers.get(slot)
    if tr is None:
        tr = trackers[slot] = Tracker(eng, key, tenant, context)
    elif tr.context is None and context is not None:
        tr.context = context
    return tr


def recommendation(rs: RetryCallState) -> Optional[Recommendation]:
    """The engine's latest recommendation for this tenacity call, if any."""
    trackers: Dict[Any, Tracker] = rs.__dict__.get("_smartretry", {})
    for tr in trackers.values():
        return tr.recommendation
    return None


class _Base:
    def __init__(
        self,
        engine: Optional[Engine] = None,
        *,
        key: str,
        tenant: Optional[str] = None,
        context: ContextArg = None,
    ) -> None:
        self.engine = engine
        self.key = key
        self.tenant = tenant
        # The attempt context (a dict, or a callable asked before each decision).
        self.context = context

    def _decide(self, rs: RetryCallState) -> Optional[Recommendation]:
        outcome = rs.outcome
        if outcome is None or not outcome.failed:
            return None
        tr = _tracker(self.engine, self.key, self.tenant, rs, self.context)
        return tr.failed(rs.attempt_number, outcome.exception())


class wait_adaptive(_Base, wait_base):
    """Wait as long as the engine recommends for the failure that just happened."""

    def __call__(self, retry_state: RetryCallState) -> float:
        rec = self._decide(retry_state)
        if rec is None or not rec.should_retry:
            return 0.0
        tr = _tracker(self.engine, self.key, self.tenant, retry_state)
        return _config.effective_delay(tr.engine, rec.delay)


class retry_adaptive(_Base, retry_base):
    """Retry while the engine says so, on the exceptions in ``on``; record successes."""

    def __init__(
        self,
        engine: Optional[Engine] = None,
        *,
        key: str,
        tenant: Optional[str] = None,
        on: ExcTypes = Exception,
        context: ContextArg = None,
    ) -> None:
        super().__init__(engine, key=key, tenant=tenant, context=context)
        self.on = on

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        if outcome is None:
            return False
        tr = _tracker(self.engine, self.key, self.tenant, retry_state, self.context)
        if not outcome.failed:
            tr.succeeded()
            return False
        exc = outcome.exception()
        if not isinstance(exc, self.on):
            tr.abandon()
            return False
        rec = tr.failed(retry_state.attempt_number, exc)
        return rec.should_retry


class stop_adaptive(_Base, stop_base):
    """Stop when the engine says give up or escalate (attempt caps, deadline, budgets, breakers)."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        rec = self._decide(retry_state)
        return rec is not None and not rec.should_retry


class before_acquire:
    """``before=``: take the engine's rate-limiter token for ``key`` before every attempt (first
    ones included) and wait for it on the engine's clock (zero until the key is throttled)."""

    def __init__(self, engine: Optional[Engine] = None, *, key: str, dependency: Optional[str] = None) -> None:
        self.engine = engine
        self.key = key
        self.dependency = dependency

    def __call__(self, retry_state: RetryCallState) -> None:
        eng = self.engine or _config.default_engine()
        _config.wait(eng, eng.acquire(self.key, self.dependency))


class before_acquire_async(before_acquire):
    """``before_acquire`` for ``AsyncRetrying``: waits with ``asyncio.sleep``."""

    async def __call__(self, retry_state: RetryCallState) -> None:  # type: ignore[override]
        eng = self.engine or _config.default_engine()
        await _config.wait_async(eng, eng.acquire(self.key, self.dependency))


def adaptive(
    engine: Optional[Engine] = None,
    *,
    key: str,
    tenant: Optional[str] = None,
    on: ExcTypes = Exception,
    asynchronous: bool = False,
    context: ContextArg = None,
) -> Dict[str, Any]:
    """``retry``, ``stop``, ``wait`` and ``before`` (the rate limiter's token) for
    ``tenacity.retry(**adaptive(...))``; raises the last error itself when the engine gives up
    (``reraise=True``). ``asynchronous=True`` for ``async def`` functions (the token is waited
    for with ``asyncio.sleep``). ``context``: the attempt context for the learned tier and the
    history, a dict or a callable giving it before each decision (e.g. the current queue
    depth)."""
    before = before_acquire_async if asynchronous else before_acquire
    return {
        "retry": retry_adaptive(engine, key=key, tenant=tenant, on=on, context=context),
        "stop": stop_adaptive(engine, key=key, tenant=tenant, context=context),
        "wait": wait_adaptive(engine, key=key, tenant=tenant, context=context),
        "before": before(engine, key=key),
        "reraise": True,
    }


__all__ = [
    "adaptive",
    "before_acquire",
    "before_acquire_async",
    "recommendation",
    "retry_adaptive",
    "stop_adaptive",
    "tenacity",
    "wait_adaptive",
]
