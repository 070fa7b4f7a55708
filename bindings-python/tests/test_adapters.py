"""Adapters against the real tenacity and backoff packages (urllib3: see test_e2e_http.py)."""

from __future__ import annotations

import asyncio
from typing import Any, List

import backoff
import pytest
import tenacity

import smartretry as sr
import smartretry.backoff as sb
from smartretry.tenacity import adaptive, recommendation, retry_adaptive, stop_adaptive, wait_adaptive


def flaky(n: int, exc: BaseException) -> Any:
    calls: List[int] = []

    def fn() -> int:
        calls.append(1)
        if len(calls) <= n:
            raise exc
        return len(calls)

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def test_tenacity_adaptive_retries_and_feeds_back(engine: sr.Engine, clock: sr.ManualClock) -> None:
    fn = flaky(2, ConnectionResetError("reset"))
    start = clock.now()
    assert tenacity.Retrying(**adaptive(engine, key="t1"))(fn) == 3
    assert clock.now() > start  # the engine's delays advanced the manual clock
    s = engine.stats()
    assert s["failures"] == 2 and s["successes_after_retry"] == 1 and s["episodes"] == 1


def test_tenacity_engine_gives_up(engine: sr.Engine) -> None:
    fn = flaky(10, PermissionError("denied"))
    with pytest.raises(PermissionError):
        tenacity.Retrying(**adaptive(engine, key="t2"))(fn)
    assert len(fn.calls) <= 3
    # with tenacity's own retry predicate, stop_adaptive enforces the engine's give-up
    fn = flaky(10, TimeoutError())
    r = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TimeoutError),
        wait=wait_adaptive(engine, key="t3"),
        stop=stop_adaptive(engine, key="t3") | tenacity.stop_after_attempt(10),
    )
    with pytest.raises(tenacity.RetryError) as info:
        r(fn)
    assert len(fn.calls) == 3  # the engine's timeout cap, not tenacity's 10
    assert engine.stats()["give_ups"] >= 1
    assert info.value.last_attempt.failed


def test_tenacity_wait_composes_and_async(engine: sr.Engine) -> None:
    w = wait_adaptive(engine, key="t4") + tenacity.wait_fixed(0)
    fn = flaky(1, TimeoutError())
    assert tenacity.Retrying(wait=w, retry=retry_adaptive(engine, key="t4"))(fn) == 2

    calls: List[int] = []

    @tenacity.retry(**adaptive(engine, key="t5", asynchronous=True))
    async def afn() -> str:
        calls.append(1)
        if len(calls) < 2:
            raise ConnectionRefusedError()
        return "ok"

    assert asyncio.run(afn()) == "ok"
    seen: List[Any] = []
    r = tenacity.Retrying(**adaptive(engine, key="t6"), before_sleep=lambda rs: seen.append(recommendation(rs)))
    r(flaky(1, TimeoutError()))
    assert isinstance(seen[0], sr.Recommendation)


def test_backoff_wait_gen(engine: sr.Engine) -> None:
    fn = flaky(2, ConnectionResetError())
    deco = sb.on_exception(engine, ConnectionError, key="b1")
    assert deco(fn)() == 3
    s = engine.stats()
    assert s["failures"] == 2 and s["successes_after_retry"] == 1

    # by hand, and the engine's give-up ends backoff's loop with the last error
    perm = flaky(10, PermissionError("no"))
    wrapped = backoff.on_exception(
        sb.wait_adaptive, Exception, jitter=None, on_success=sb.on_success, engine=engine, key="b2"
    )(perm)
    with pytest.raises(PermissionError):
        wrapped()
    assert len(perm.calls) <= 3

    # on_predicate: retry on a returned value (an HTTP status here)
    statuses = [503, 503, 200]
    got = backoff.on_predicate(
        sb.wait_adaptive, lambda s: s >= 500, jitter=None, engine=engine, key="b3"
    )(lambda: statuses.pop(0))()
    assert got == 200


def test_backoff_testing_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    slept: List[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    eng = sr.Engine()  # system clock: only testing() keeps it from waiting
    with sr.testing():
        assert sb.on_exception(eng, TimeoutError, key="b4")(flaky(2, TimeoutError()))() == 3
    assert all(s == 0 for s in slept)
