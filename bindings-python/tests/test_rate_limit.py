"""The adaptive client rate limiter from Python: the native method, the decorator, attempts()
and the tenacity adapter honour it before every attempt, on a ManualClock (waits advance it)."""

from __future__ import annotations

import asyncio
from typing import List

import pytest
import tenacity

import smartretry as sr
from smartretry.tenacity import adaptive, before_acquire

START = 1_700_000_000.0
KEY = "api"


def throttled_engine(clock: sr.ManualClock) -> sr.Engine:
    """An engine with the limiter on, that saw 20 calls/s for 3 s, then a throttle."""
    engine = sr.Engine(clock=clock, seed=7, rate_limit={})
    for _ in range(60):
        clock.advance(engine.acquire(KEY))
        engine.record_first_success(KEY)
        clock.advance(0.05)
    ep = engine.begin(KEY)
    engine.record(ep, sr.Failure(http_status=429))
    return engine


def test_zero_until_throttled_and_off_without_policy() -> None:
    clock = sr.ManualClock(START)
    off = sr.Engine(clock=clock, seed=7)
    on = sr.Engine(clock=clock, seed=7, rate_limit={})
    for engine in (off, on):
        for _ in range(50):
            assert engine.acquire(KEY) == 0.0
            engine.record_first_success(KEY)
    ep = off.begin(KEY)
    off.record(ep, sr.Failure(http_status=429))
    assert [off.acquire(KEY) for _ in range(50)] == [0.0] * 50


def test_a_throttle_queues_calls() -> None:
    clock = sr.ManualClock(START)
    engine = throttled_engine(clock)
    waits = [engine.acquire(KEY) for _ in range(30)]
    assert waits == sorted(waits)
    assert waits[-1] > 1.0
    assert engine.acquire("other") == 0.0
    # A call that will not wait takes nothing.
    assert engine.acquire_within(KEY, 0.001) is None
    later = engine.acquire_within(KEY, 1e6)
    assert later is not None and later > waits[-1]


def test_bad_input_is_a_typed_error() -> None:
    clock = sr.ManualClock(START)
    engine = sr.Engine(clock=clock, rate_limit={})
    with pytest.raises(sr.SmartRetryError):
        engine.acquire("")
    with pytest.raises(sr.SmartRetryError):
        engine.acquire(KEY, "bad\ndependency")
    with pytest.raises(sr.SmartRetryError):
        engine.acquire_within(KEY, -1.0)
    with pytest.raises(sr.SmartRetryError):
        sr.Engine(clock=clock, rate_limit={"beta": 2})


def test_decorator_waits_for_the_token_before_every_attempt() -> None:
    clock = sr.ManualClock(START)
    engine = throttled_engine(clock)
    calls: List[float] = []

    @sr.retry(key=KEY, engine=engine)
    def call() -> None:
        calls.append(clock.now())

    start = clock.now()
    for _ in range(30):
        call()
    # 30 first attempts at a cut rate of ~14/s cannot all go at once: the clock moved by the
    # limiter's waits, and calls are spaced out.
    assert clock.now() - start > 1.0
    assert calls == sorted(calls) and calls[-1] - calls[0] > 1.0


def test_async_decorator_and_attempts_honour_it() -> None:
    clock = sr.ManualClock(START)
    engine = throttled_engine(clock)

    @sr.retry(key=KEY, engine=engine)
    async def call() -> int:
        return 1

    start = clock.now()

    async def burst() -> int:
        return sum([await call() for _ in range(15)])

    assert asyncio.run(burst()) == 15
    mid = clock.now()
    assert mid - start > 0.3
    for _ in range(15):
        for attempt in sr.attempts(KEY, engine=engine):
            with attempt:
                pass
    assert clock.now() - mid > 0.3


def test_tenacity_before_acquire() -> None:
    clock = sr.ManualClock(START)
    engine = throttled_engine(clock)
    start = clock.now()
    for _ in range(30):
        tenacity.Retrying(**adaptive(engine, key=KEY))(lambda: None)
    assert clock.now() - start > 1.0
    mid = clock.now()
    r = tenacity.Retrying(before=before_acquire(engine, key=KEY), stop=tenacity.stop_after_attempt(1))
    for _ in range(30):
        r(lambda: None)
    assert clock.now() - mid > 1.0


def test_the_on_flag_follows_the_policy() -> None:
    """The decorators skip the token call while `rate_limit_on` is False (acquire would answer
    0.0 and change nothing); the flag turns with the policy."""
    clock = sr.ManualClock(START)
    engine = sr.Engine(clock=clock, seed=7)
    assert engine.rate_limit_on is False
    assert engine.acquire(KEY) == 0.0
    on = sr.Engine(clock=clock, seed=7, rate_limit={})
    assert on.rate_limit_on is True
    on.set_policy({"seed": 7})
    assert on.rate_limit_on is False
