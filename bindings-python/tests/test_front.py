"""The Pythonic front: decorator (sync, async), attempts(), batch, testing switch, logging."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, List

import pytest

import smartretry as sr


class Flaky:
    def __init__(self, failures: int, exc: BaseException) -> None:
        self.failures = failures
        self.exc = exc
        self.calls = 0

    def __call__(self, *args: Any) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc
        return self.calls


def test_decorator_retries_until_success(engine: sr.Engine, clock: sr.ManualClock) -> None:
    flaky = Flaky(2, TimeoutError("slow"))
    wrapped = sr.retry(key="t", engine=engine)(flaky)
    assert wrapped() == 3
    assert clock.now() > 1_700_000_000.0  # waited on the manual clock, not for real
    s = engine.stats()
    assert s["failures"] == 2 and s["successes_after_retry"] == 1


def test_decorator_gives_up_with_cause_and_recommendation(engine: sr.Engine) -> None:
    @sr.retry(key="perm", engine=engine, reraise=False)
    def missing() -> None:
        raise LookupError("not found")

    with pytest.raises(sr.RetryExhausted) as info:
        missing()
    err = info.value
    assert isinstance(err.__cause__, LookupError)
    assert err.recommendation.action == "give_up" and err.code == "RETRY_EXHAUSTED"
    assert isinstance(err, sr.SmartRetryError)
    assert err.recommendation.reason in str(err)


def test_on_filters_and_predicates(engine: sr.Engine) -> None:
    flaky = Flaky(5, KeyError("x"))
    with pytest.raises(KeyError):
        sr.retry(engine=engine, on=ValueError)(flaky)()
    assert flaky.calls == 1
    pred = Flaky(5, ValueError("no"))
    with pytest.raises(ValueError):
        sr.retry(engine=engine, on=lambda e: "retry" in str(e))(pred)()
    assert pred.calls == 1


def test_bare_decorator_and_default_engine(clock: sr.ManualClock) -> None:
    eng = sr.Engine(clock=clock)
    sr.set_default_engine(eng)
    try:
        @sr.retry
        def fine() -> int:
            return 42

        assert fine() == 42 and sr.default_engine() is eng
        assert eng.stats()["successes"] == 1
    finally:
        sr.set_default_engine(None)


def test_async_decorator(engine: sr.Engine) -> None:
    calls: List[int] = []

    @sr.retry(key="async", engine=engine, on=ConnectionError)
    async def fetch() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError("reset")
        return "ok"

    assert asyncio.run(fetch()) == "ok" and len(calls) == 3
    assert engine.stats()["failures"] == 2


def test_no_sleep_zero_and_testing_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: List[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    # immediate strategy: zero delays never reach time.sleep
    eng = sr.Engine(classes={"unknown": {"strategy": {"kind": "immediate"}}})
    assert sr.retry(engine=eng)(Flaky(2, RuntimeError("x")))() == 3
    assert sleeps == []
    # real delays are skipped under testing(), and waited again after it
    eng = sr.Engine()
    with sr.testing():
        assert sr.is_testing()
        assert sr.retry(engine=eng, on=TimeoutError)(Flaky(2, TimeoutError()))() == 3
    assert sleeps == [] and not sr.is_testing()
    assert sr.retry(engine=eng, on=TimeoutError)(Flaky(2, TimeoutError()))() == 3
    assert len(sleeps) == 1 and sleeps[0] > 0  # the first timeout retry goes at once


def test_attempts_sync(engine: sr.Engine) -> None:
    flaky = Flaky(2, ConnectionResetError())
    seen = []
    for attempt in sr.attempts("block", engine=engine, on=ConnectionError):
        with attempt:
            seen.append(attempt.number)
            flaky()
    assert seen == [1, 2, 3]
    with pytest.raises(PermissionError) as raised:
        for attempt in sr.attempts("block", engine=engine):
            with attempt:
                raise PermissionError("denied")
    assert getattr(raised.value, "recommendation").action == "give_up"
    with pytest.raises(sr.RetryExhausted) as info:
        for attempt in sr.attempts("block", engine=engine, reraise=False):
            with attempt:
                raise PermissionError("denied")
    assert isinstance(info.value.__cause__, PermissionError)


def test_attempts_async(engine: sr.Engine) -> None:
    async def main() -> int:
        flaky = Flaky(1, TimeoutError())
        async for attempt in sr.attempts("ablock", engine=engine):
            with attempt:
                return flaky()
        raise AssertionError("unreachable")

    assert asyncio.run(main()) == 2


def test_batch_retries_only_failed_items(engine: sr.Engine) -> None:
    rounds: List[List[int]] = []
    fails = {2: 1, 3: 2, 4: 99}

    def process(items: List[int]) -> List[Any]:
        rounds.append(items)
        out: List[Any] = []
        for i in items:
            if fails.get(i, 0) > 0:
                fails[i] -= 1
                out.append(ConnectionResetError(f"item {i}") if i != 4 else LookupError("gone"))
            else:
                out.append(i * 10)
        return out

    res = sr.retry_batch([1, 2, 3, 4], process, key="batch", engine=engine)
    assert rounds[0] == [1, 2, 3, 4] and all(1 not in r for r in rounds[1:])
    assert sum(r.count(2) for r in rounds) == 2 and sum(r.count(3) for r in rounds) == 3
    assert res.results == {0: 10, 1: 20, 2: 30}
    assert list(res.errors) == [3] and isinstance(res.errors[3].__cause__, LookupError)
    assert res.attempts == {0: 1, 1: 2, 2: 3, 3: 3}
    assert not res.ok
    with pytest.raises(sr.RetryExhausted):
        res.raise_first()


def test_batch_async(engine: sr.Engine) -> None:
    state = {"n": 0}

    async def process(items: List[str]) -> List[Any]:
        state["n"] += 1
        if state["n"] == 1:
            raise TimeoutError("whole batch timed out")
        return [s.upper() for s in items]

    res = asyncio.run(sr.retry_batch_async(["a", "b"], process, key="ab", engine=engine))
    assert res.ok and res.results == {0: "A", 1: "B"}


def test_logging(engine: sr.Engine, caplog: pytest.LogCaptureFixture) -> None:
    sr.log_events(engine)
    with caplog.at_level(logging.DEBUG, logger="smartretry"):
        sr.retry(key="logged", engine=engine, on=TimeoutError)(Flaky(1, TimeoutError()))()
    msgs = [r.getMessage() for r in caplog.records]
    assert any("logged: attempt 1 failed" in m and "retry in" in m for m in msgs)
    assert any(m.startswith("success:") for m in msgs)
    rec = [r for r in caplog.records if hasattr(r, "smartretry_recommendation")][0]
    assert isinstance(getattr(rec, "smartretry_recommendation"), sr.Recommendation)
