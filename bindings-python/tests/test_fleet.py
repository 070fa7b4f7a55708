"""FleetStore against a real redis-server on an ephemeral port (scripts/test-python.sh installs
it): two engines pool what they learned; a dead server is a typed error, never a crash."""

from __future__ import annotations

import json
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
