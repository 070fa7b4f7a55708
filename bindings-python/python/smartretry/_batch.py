"""Batches: retry only the failed items, each with its own episode and decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Generic,
    List,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
)

from . import _config
from ._errors import RetryExhausted
from ._native import Engine, Episode, Recommendation
from ._native import check_key
from ._retry import On, _Filter, log_decision

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class BatchResult(Generic[T, R]):
    """What became of each item, by its index in the input."""

    items: Sequence[T]
    results: Dict[int, R] = field(default_factory=dict)
    errors: Dict[int, RetryExhausted] = field(default_factory=dict)
    attempts: Dict[int, int] = field(default_factory=dict)
    recommendations: Dict[int, List[Recommendation]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_first(self) -> None:
        """Raise the first item's ``RetryExhausted``, if any item failed for good."""
        for i in sorted(self.errors):
            raise self.errors[i]


class _BatchState(Generic[T, R]):
    def __init__(self, engine: Engine, key: str, tenant: Optional[str], on: On, items: Sequence[T]):
        self.engine = engine
        self.key = key
        self.tenant = tenant
        check_key(key, tenant)
        self.filter = _Filter(on)
        self.catch = self.filter.catch
        self.result: BatchResult[T, R] = BatchResult(items)
        self.episodes: Dict[int, Episode] = {}
        self.due: Dict[int, float] = {}

    def take(self, outcomes: Sequence[Any], idx: List[int]) -> None:
        """Record one round's outcomes (values, or exception instances for failed items)."""
        if len(outcomes) != len(idx):
            raise ValueError(f"the batch function returned {len(outcomes)} outcomes for {len(idx)} items")
        eng = self.engine
        now = eng.now()
        for i, out in zip(idx, outcomes):
            self.result.attempts[i] = self.result.attempts.get(i, 0) + 1
            ep = self.episodes.get(i)
            if not isinstance(out, BaseException):
                if ep is None:
                    eng.record_first_success(self.key, self.tenant)
                else:
                    eng.record_success(ep)
                self.result.results[i] = out
                continue
            if not isinstance(out, self.catch) or not self.filter.wants(out, eng):
                if ep is not None:
                    eng.abandon(ep)
                raise out
            if ep is None:
                ep = self.episodes[i] = eng.begin(self.key, self.tenant)
            rec = eng.record(ep, out)
            log_decision(f"{self.key}[{i}]", rec, out)
            self.result.recommendations.setdefault(i, []).append(rec)
            if rec.should_retry:
                self.due[i] = now + rec.delay
            else:
                err = RetryExhausted(f"{self.key}[{i}]", rec, ep.attempts)
                err.__cause__ = out
                self.result.errors[i] = err

    def next_wait(self) -> float:
        return max(0.0, min(self.due.values()) - self.engine.now())

    def due_now(self) -> List[int]:
        now = self.engine.now()
        if _config.is_testing():
            ready = list(self.due)
        else:
            ready = [i for i, t in self.due.items() if t <= now + 1e-6]
        for i in ready:
            del self.due[i]
        return sorted(ready)


def _outcomes(state: "_BatchState[Any, Any]", exc: BaseException, n: int) -> List[Any]:
    if not isinstance(exc, state.catch):
        raise exc
    return [exc] * n


def retry_batch(
    items: Sequence[T],
    process: Callable[[List[T]], Sequence[Any]],
    *,
    key: str,
    on: On = Exception,
    engine: Optional[Engine] = None,
    tenant: Optional[str] = None,
) -> BatchResult[T, Any]:
    """Run ``process`` on the items, then again on the failed ones only, each as its own
    decision says. ``process(items)`` returns one outcome per item, in order: a value, or an
    exception instance for an item that failed (if ``process`` raises, every item of that call
    failed with it). Items the engine gives up on are in ``result.errors``."""
    state: _BatchState[T, Any] = _BatchState(
        engine or _config.default_engine(), key, tenant, on, items
    )
    idx: List[int] = list(range(len(items)))
    while idx:
        try:
            outcomes: Sequence[Any] = process([items[i] for i in idx])
        except BaseException as exc:  # noqa: BLE001 - classified like a per-item failure
            outcomes = _outcomes(state, exc, len(idx))
        state.take(outcomes, idx)
        if not state.due:
            break
        idx = []
        while not idx:
            _config.wait(state.engine, state.next_wait())
            idx = state.due_now()
    return state.result


async def retry_batch_async(
    items: Sequence[T],
    process: Callable[[List[T]], Awaitable[Sequence[Any]]],
    *,
    key: str,
    on: On = Exception,
    engine: Optional[Engine] = None,
    tenant: Optional[str] = None,
) -> BatchResult[T, Any]:
    """``retry_batch`` for an ``async`` batch function."""
    state: _BatchState[T, Any] = _BatchState(
        engine or _config.default_engine(), key, tenant, on, items
    )
    idx: List[int] = list(range(len(items)))
    while idx:
        try:
            outcomes: Sequence[Any] = await process([items[i] for i in idx])
        except BaseException as exc:  # noqa: BLE001 - classified like a per-item failure
            outcomes = _outcomes(state, exc, len(idx))
        state.take(outcomes, idx)
        if not state.due:
            break
        idx = []
        while not idx:
            await _config.wait_async(state.engine, state.next_wait())
            idx = state.due_now()
    return state.result


__all__: Tuple[str, ...] = ("BatchResult", "retry_batch", "retry_batch_async")
