"""FleetStore against a real redis-server on an ephemeral port (scripts/test-python.sh installs
it): two engines pool what they learned; a dead server is a typed error, never a crash."""

from __future__ import annotations

import json
import os
import time
from typing import Callable

import pytest

import smartretry as sr
from redis_helpers import free_port

START = 1_700_000_000.0


def episodes(engine: sr.Engine) -> float:
    body = engine.snapshot_bytes().split(b"\n", 1)[1]
    return sum(m["episodes"] for m in json.loads(body)["models"])


def run(engine: sr.Engine, clock: sr.ManualClock, n: int) -> None:
    for _ in range(n):
        ep = engine.begin("q")
        rec = engine.record(ep, sr.Failure.http(503))
        clock.advance(rec.delay)
        engine.record_success(ep)
        clock.advance(60)


def test_two_engines_pool_what_they_learned(redis_url: str) -> None:
    clock = sr.ManualClock(START)
    policy = {"learning": {"half_life_episodes": 1e9}}
    a, b = sr.Engine(policy, clock=clock), sr.Engine(policy, clock=clock)
    with sr.FleetStore(a, redis_url, namespace="py", background=False) as sa, sr.FleetStore(
        b, redis_url, namespace="py", background=False
    ) as sb:
        run(a, clock, 4)
        run(b, clock, 6)
        for _ in range(2):
            sa.sync_now()
            sb.sync_now()
        assert episodes(a) == pytest.approx(10.0) and episodes(b) == pytest.approx(10.0)
        assert sa.stats()["peers"] == 1 and sa.stats()["failures"] == 0
        assert sa.engine_id != sb.engine_id
    with pytest.raises(sr.InvalidStateError):
        sa.sync_now()


def test_an_unreachable_server_is_a_typed_error() -> None:
    engine = sr.Engine(clock=sr.ManualClock(START))
    store = sr.FleetStore(engine, f"redis://127.0.0.1:{free_port()}", background=False, io_timeout=0.2)
    with pytest.raises(sr.FleetUnavailableError) as err:
        store.sync_now()
    assert err.value.code == "FLEET_UNAVAILABLE"
    assert store.stats()["failures"] == 1
    store.close()
    with pytest.raises(sr.InvalidConfigError):
        sr.FleetStore(engine, "http://nope")
    with pytest.raises(sr.InvalidConfigError):
        sr.FleetStore(engine, "redis://127.0.0.1:1", namespace="a{b}")


SHARED = {
    "budget": {"kind": "ratio", "ratio": 0, "min_per_sec": 2, "capacity": 4},
    "breaker": {"consecutive_failures": 2, "open_for": 30},
}


def fail_once(engine: sr.Engine, dependency: str | None = None) -> bool:
    ep = engine.begin("payments")
    failure = sr.Failure.http(503)
    rec = engine.record(ep, failure.on_dependency(dependency) if dependency else failure)
    engine.abandon(ep)
    return rec.should_retry


def test_engines_share_one_budget_and_open_breakers(redis_url: str) -> None:
    clock = sr.ManualClock(START)
    a, b = sr.Engine(SHARED, clock=clock), sr.Engine(SHARED, clock=clock)
    opts = dict(namespace="py-shared", background=False, share_budgets=2, share_breakers=True)
    with sr.FleetStore(a, redis_url, **opts) as sa, sr.FleetStore(b, redis_url, **opts) as sb:
        retries = 0
        # 20 s, a failing request on each engine every 100 ms, syncs every 500 ms: one budget
        # of 4 tokens refilled at 2 per second for both (44 retries).
        for tick in range(200):
            if tick % 5 == 0:
                sa.sync_now()
                sb.sync_now()
            retries += fail_once(a) + fail_once(b)
            clock.advance(0.1)
        assert 35 <= retries <= 45, retries
        assert sa.stats()["budget_rounds"] > 0
        fail_once(a, "db")
        fail_once(a, "db")
        sa.sync_now()
        sb.sync_now()
        assert sb.stats()["breakers_opened"] == 1
        assert sa.stats()["breakers_opened"] == 0
    with pytest.raises(sr.InvalidConfigError):
        sr.FleetStore(a, redis_url, share_budgets=0)


def in_child(body: Callable[[], bool]) -> int:
    """Fork, run `body` in the child, and return the child's exit status (0: body said yes)."""
    child = os.fork()
    if child == 0:
        code = 1
        try:
            code = 0 if body() else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_forked_child_joins_the_fleet_as_a_member_of_its_own(redis_url: str) -> None:
    # Celery's prefork pool and gunicorn's --preload fork a process whose engine already has a
    # store: the child must not publish as its parent, nor count the parent's evidence twice.
    clock = sr.ManualClock(START)
    policy = {"learning": {"half_life_episodes": 1e9}}
    a = sr.Engine(policy, clock=clock)
    with sr.FleetStore(a, redis_url, namespace="py-fork", background=False) as sa:
        run(a, clock, 4)
        sa.sync_now()
        parent_id = sa.engine_id

        def child() -> bool:
            run(a, clock, 6)
            sa.sync_now()
            # The child holds its parent's 4 episodes and its own 6, each once.
            return sa.engine_id != parent_id and episodes(a) == pytest.approx(10.0)

        assert in_child(child) == 0
        sa.sync_now()
        assert sa.engine_id == parent_id
        assert sa.stats()["peers"] == 1
        assert episodes(a) == pytest.approx(10.0)


def test_a_forked_child_syncs_in_the_background_on_its_own(redis_url: str) -> None:
    a = sr.Engine(clock=sr.SystemClock())
    with sr.FleetStore(a, redis_url, namespace="py-fork-bg", sync_interval=0.05) as sa:
        for _ in range(20):
            fail_once(a)

        def child() -> bool:
            for _ in range(20):
                ep = a.begin("payments")
                a.record(ep, sr.Failure.http(503))
                a.record_success(ep)
            # The child's own thread syncs (the parent's is not in this process); `stats` is
            # the child's own from the moment it took the store over.
            deadline = time.monotonic() + 30
            while sa.stats()["syncs"] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            return sa.stats()["syncs"] > 0 and sa.stats()["failures"] == 0

        assert in_child(child) == 0
        # The parent sees the child as another member of the fleet.
        deadline = time.monotonic() + 30
        while sa.stats()["peers"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sa.stats()["peers"] == 1
