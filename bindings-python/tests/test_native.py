"""The native API: engine, failures, recommendations, errors, overrides, snapshots, observers."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Dict, List

import pytest

import smartretry as sr


def test_recommendation_attributes_and_str(engine: sr.Engine) -> None:
    ep = engine.begin("payments", "acme")
    rec = engine.record(ep, sr.Failure.http(503))
    assert rec.should_retry and rec.action == "retry"
    assert rec.error_class == "unavailable" and rec.tier == "heuristic"
    assert 0.0 <= rec.delay <= 300.0
    assert rec.attempt == 1 and rec.elapsed == 0.0
    assert rec.reason in str(rec) and str(rec).startswith("retry in")
    assert json.loads(rec.to_json())["action"] == "retry"
    assert isinstance(rec.clamps, list) and isinstance(rec.alternatives, list)
    engine.record_success(ep)
    assert ep.finished and ep.attempts == 2 and ep.failures == 1
    stats = engine.stats()
    assert stats["failures"] == 1 and stats["successes"] == 1 and stats["retries"] == 1


def test_retry_after_header_is_a_floor(engine: sr.Engine, clock: sr.ManualClock) -> None:
    ep = engine.begin("api")
    rec = engine.record(ep, sr.Failure.http(429, retry_after="40"))
    assert rec.delay >= 40.0 and "Retry-After" in rec.reason
    # an HTTP-date is resolved against the engine's (manual) clock
    date = "Tue, 14 Nov 2023 22:14:20 GMT"  # the manual clock's start + 60 s
    assert sr.parse_retry_after(date, now=clock.now()) == 60.0
    rec = engine.record(engine.begin("api"), sr.Failure.http(503, retry_after=date))
    assert rec.delay >= 60.0
    assert sr.parse_retry_after("2.5") == 2.5
    with pytest.raises(sr.InvalidRetryAfterError) as err:
        sr.Failure.http(429, retry_after="soon")
    assert err.value.code == "INVALID_RETRY_AFTER"


def test_permanent_failures_give_up(engine: sr.Engine) -> None:
    ep = engine.begin("api")
    rec = engine.record(ep, sr.Failure.http(404))
    assert rec.action == "give_up" and not rec.should_retry and ep.finished
    with pytest.raises(sr.InvalidStateError):
        engine.record_success(ep)
    ep = engine.begin("api")
    assert engine.record(ep, sr.Failure(message="please solve the captcha")).action in ("escalate", "retry")


def test_classify_and_failure_from(engine: sr.Engine) -> None:
    assert engine.classify(sr.failure_from(ConnectionResetError(104, "reset")))[0] == "connection"
    assert engine.classify(sr.failure_from(TimeoutError("slow")))[0] == "timeout"
    assert engine.classify(sr.failure_from(503))[0] == "unavailable"
    assert engine.classify(sr.failure_from("ECONNREFUSED"))[0] == "connection"
    assert engine.classify(sr.Failure.grpc(14))[0] == "unavailable"
    assert engine.classify(sr.Failure.of_class("auth")) == ("auth", "explicit")
    f = sr.failure_from(ValueError("bad"))
    assert f.exception == "ValueError" and f.message == "bad"
    assert "ValueError" in repr(f)
    with pytest.raises(sr.UnknownClassError):
        sr.Failure(error_class="bogus")


def test_policy_from_kwargs_dict_json_and_errors(clock: sr.ManualClock) -> None:
    e = sr.Engine({"classes": {"unavailable": {"max_attempts": 2}}}, clock=clock, deadline=60)
    assert e.policy()["deadline"] == 60.0
    ep = e.begin("q")
    assert e.record(ep, sr.Failure.http(503)).should_retry
    last = e.record(ep, sr.Failure.http(503))
    assert last.action == "give_up" and "limit is 2" in last.reason
    sr.Engine('{"seed": 3}', clock=clock)
    cases: List[Any] = [
        ({"classes": {"timeout": {"max_attempts": 0}}}, sr.InvalidConfigError),
        ({"classes": {"bogus": {}}}, sr.PolicyError),
        ("not json", sr.InvalidJsonError),
        ({"rules": [{"name": "x", "message": {"pattern": "("}, "class": "timeout"}]}, sr.PolicyError),
    ]
    for policy, err in cases:
        with pytest.raises(err) as info:
            sr.Engine(policy, clock=clock)
        assert isinstance(info.value, sr.SmartRetryError) and info.value.code
    with pytest.raises(sr.InvalidKeyError):
        e.begin("")


def test_overrides_at_run_time(engine: sr.Engine) -> None:
    engine.set_override(queue="payments", error_class="unavailable", fixed_delay=3.0)
    ep = engine.begin("payments")
    rec = engine.record(ep, sr.Failure.http(503))
    assert rec.tier == "operator" and rec.delay == 3.0
    engine.set_override(tenant="noisy", max_attempts=1)
    ep = engine.begin("other", "noisy")
    assert engine.record(ep, sr.Failure.http(503)).action == "give_up"
    assert {o["scope"] for o in engine.overrides()} == {"queue", "tenant"}
    engine.clear_override(queue="payments")
    engine.clear_override(tenant="noisy")
    assert engine.overrides() == []
    with pytest.raises(sr.InvalidPolicyError) as info:
        engine.set_override(queue="q", bogus=1)
    assert info.value.path == "bogus" and str(info.value).startswith("bogus: unknown field")
    with pytest.raises(TypeError):
        engine.set_override(max_attempts=2)


def test_recommend_is_a_dry_run_and_preview(engine: sr.Engine) -> None:
    ep = engine.begin("q")
    rec = engine.recommend(ep, sr.Failure.http(503))
    assert rec.should_retry and ep.failures == 0
    plan = engine.preview("q", sr.Failure.http(503), steps=10)
    assert plan[-1].action == "give_up" and len(plan) == 4
    assert engine.stats()["failures"] == 0


def test_snapshots_round_trip(engine: sr.Engine, tmp_path: Path, clock: sr.ManualClock) -> None:
    for _ in range(3):
        ep = engine.begin("q")
        engine.record(ep, sr.Failure.http(503))
        clock.advance(5)
        engine.record_success(ep)
    path = tmp_path / "model.snap"
    engine.save_snapshot(path)
    other = sr.Engine(clock=clock)
    other.load_snapshot(str(path))
    assert other.stats()["models"] == engine.stats()["models"] > 0
    other.merge_snapshot(path)
    data = engine.snapshot_bytes()
    third = sr.Engine(clock=clock)
    third.load_snapshot_bytes(data)
    third.load_snapshot_bytes(data, merge=True)
    assert third.snapshot_bytes() != b""
    (tmp_path / "bad").write_bytes(b"garbage\n{}")
    with pytest.raises(sr.SnapshotCorruptError) as err:
        other.load_snapshot(tmp_path / "bad")
    assert isinstance(err.value, sr.SnapshotError) and err.value.code == "SNAPSHOT_CORRUPT"
    with pytest.raises(sr.SnapshotIOError):
        other.load_snapshot(tmp_path / "missing")


def test_observers_receive_events(engine: sr.Engine) -> None:
    events: List[Dict[str, Any]] = []
    engine.add_observer(events.append)
    ep = engine.begin("q")
    engine.record(ep, sr.Failure.http(503))
    engine.record_success(ep)
    kinds = [e["type"] for e in events]
    assert kinds == ["attempt", "decision", "success"]
    assert events[1]["recommendation"]["action"] == "retry" and events[0]["class"] == "unavailable"
    engine.clear_observers()
    engine.record_first_success("q")
    assert len(events) == 3


def test_engine_is_shared_across_threads(engine: sr.Engine) -> None:
    def work() -> None:
        for _ in range(200):
            ep = engine.begin("shared")
            engine.record(ep, sr.Failure.http(503))
            engine.record_success(ep)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert engine.stats()["successes"] == 800


def test_clocks(clock: sr.ManualClock) -> None:
    clock.advance(2.5)
    assert clock.now() == 1_700_000_002.5
    assert clock.set(0) == 1_700_000_002.5
    with pytest.raises(sr.InvalidDurationError):
        clock.advance(-1)
    assert sr.SystemClock().now() > 1.6e9
    e = sr.Engine()
    assert not e.manual_clock and isinstance(e.clock, sr.SystemClock)
    with pytest.raises(TypeError):
        sr.Engine(clock=object())  # type: ignore[arg-type]


def test_fail_is_record_answering_the_wait() -> None:
    """The decorators' hot path: `begin_fail` / `fail` decide as `begin` / `record` do (same
    seed, same clock), answer the wait (-1.0: stop) and keep the decision on the episode."""
    twin_clock, clock = sr.ManualClock(1_700_000_000.0), sr.ManualClock(1_700_000_000.0)
    twin = sr.Engine(clock=twin_clock, seed=5, max_attempts=3)
    engine = sr.Engine(clock=clock, seed=5, max_attempts=3)
    ep, wait = engine.begin_fail("k", 503)
    ref = twin.begin("k")
    for _ in range(2):
        rec = twin.record(ref, 503)
        assert rec.should_retry and wait == rec.delay
        assert ep.recommendation is not None and ep.recommendation.delay == rec.delay
        assert str(ep.recommendation) == str(rec)
        clock.advance(wait)
        twin_clock.advance(rec.delay)
        wait = engine.fail(ep, 503)
    assert not twin.record(ref, 503).should_retry
    assert wait == -1.0 and ep.recommendation is not None and not ep.recommendation.should_retry
    # The call's own caps, as for `begin`.
    ep, wait = engine.begin_fail("k", ConnectionError("refused"), None, 1)
    assert wait == -1.0 and ep.attempts == 1
    fresh = engine.begin("k")
    assert fresh.recommendation is None
    with pytest.raises(sr.InvalidFailureError):
        engine.fail(fresh, 700)
