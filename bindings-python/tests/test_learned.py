"""The learned tier from Python: the attempt context (validated by the core, recorded in the
history), model files, and rollout (shadow, canary, full, automatic and manual rollback).

The model files are the committed fixtures (tests/fixtures/learned/, made by
core/tests/learned_tier.rs): ``window.srm`` knows a nightly window (02:00-02:20 UTC fails),
``bad.srm`` believes only waits of about an hour succeed, ``damaged.srm`` has one byte flipped,
``boosted.srm`` is the window model plus one tree that knows deep queues (above 500) recover slowly.
Time is a ManualClock: nothing sleeps.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Dict, List

import pytest

import smartretry as sr

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "learned"
WINDOW = FIXTURES / "window.srm"
BAD = FIXTURES / "bad.srm"
DAMAGED = FIXTURES / "damaged.srm"
BOOSTED = FIXTURES / "boosted.srm"

#: 2023-11-14 (a Tuesday) 00:00 UTC.
DAY = 1_699_920_000.0


def at_hour(h: float) -> float:
    return DAY + h * 3600.0


def long_waits_engine(clock: sr.ManualClock) -> sr.Engine:
    """An engine whose classes allow waits up to an hour (the window model wants 15 minutes)."""
    return sr.Engine(clock=clock, classes={c: {"max_delay": 3600} for c in sr.ERROR_CLASSES})


def test_context_is_recorded_in_the_history(tmp_path: Path) -> None:
    clock = sr.ManualClock(at_hour(13.0))
    engine = sr.Engine(clock=clock)
    path = tmp_path / "h.jsonl"
    engine.write_history(path)
    ctx: sr.AttemptContext = {
        "queue_depth": 120,
        "payload_size": 4096,
        "downstream_latency": 0.35,
        "worker_version": "w-2",
    }
    ep = engine.begin("reports", context=ctx)
    assert ep.context is not None and ep.context["queue_depth"] == 120
    rec = engine.record(ep, 503)
    clock.advance(rec.delay)
    ep.set_context({**ctx, "queue_depth": 80})
    engine.record_success(ep)
    engine.flush_history()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["queue_depth"] for r in rows] == [120, 80]
    assert rows[0]["payload_size"] == 4096
    assert rows[0]["downstream_latency"] == pytest.approx(0.35)
    assert rows[0]["worker_version"] == "w-2"


@pytest.mark.parametrize(
    "bad, error",
    [
        ({"day_of_week": 9}, sr.InvalidConfigError),
        ({"hour_of_day": 24}, sr.InvalidConfigError),
        ({"queue_dept": 3}, sr.InvalidConfigError),  # a typo is an error, not a neutral feature
        ({"queue_depth": -3}, sr.InvalidConfigError),
        ({"queue_depth": "many"}, sr.InvalidConfigError),
        ({"worker_version": ""}, sr.InvalidKeyError),  # the core's rule for names
        ({"downstream_latency": -1.0}, sr.InvalidDurationError),
        ({"downstream_latency": math.nan}, sr.InvalidDurationError),
        ({"downstream_latency": math.inf}, sr.InvalidDurationError),
        ({"hour_of_day": math.nan}, sr.InvalidConfigError),
        ({"queue_depth": [1]}, sr.InvalidConfigError),
        ({1: 2}, sr.InvalidConfigError),
    ],
)
def test_a_bad_context_is_a_typed_error(engine: sr.Engine, bad: Any, error: type) -> None:
    with pytest.raises(error) as info:
        engine.begin("reports", context=bad)
    assert isinstance(info.value, sr.SmartRetryError)
    ep = engine.begin("reports")
    with pytest.raises(error):
        ep.set_context(bad)
    assert ep.context is None
    # Not a mapping at all.
    with pytest.raises(sr.InvalidConfigError):
        engine.begin("reports", context="queue_depth=3")  # type: ignore[arg-type]


def test_the_window_model_waits_out_the_window_and_says_why(tmp_path: Path) -> None:
    clock = sr.ManualClock(at_hour(2.0 + 5.0 / 60.0))
    engine = long_waits_engine(clock)
    info = engine.load_model("db", WINDOW)
    assert info["features"] == len(info["feature_names"]) > 0
    assert set(info["metrics"]) >= {"cv_auc", "holdout_j_learned", "holdout_j_baseline"}
    assert "trainer" in info["training"]
    # Loading changes no mode: a new queue starts off.
    status = engine.rollout_status("db")
    assert status is not None and status["mode"] == "off" and status["model_loaded"]
    engine.set_rollout("db", "full")
    ep = engine.begin("db")
    rec = engine.record(ep, 503)
    assert rec.tier == "learned", str(rec)
    assert rec.delay == pytest.approx(900.0, abs=0.01)  # 02:05 -> just after 02:20
    assert "time_of_day=02:20" in rec.reason, rec.reason
    assert engine.learned_stats()["decisions"] == 1
    # Another queue is untouched.
    other = engine.record(engine.begin("other"), 503)
    assert other.tier != "learned"
    # Unloading keeps the mode; the decision falls back, counted.
    engine.unload_model("db")
    rec = engine.record(engine.begin("db"), 503)
    assert rec.tier != "learned"
    assert engine.learned_stats()["fallbacks"] == 1


def test_a_boosted_model_reads_the_load_through_its_trees() -> None:
    engine = long_waits_engine(sr.ManualClock(at_hour(13.0)))
    info = engine.load_model("db", BOOSTED)
    assert (info["kind"], info["trees"]) == ("boosted", 1)
    assert engine.load_model("other", WINDOW)["kind"] == "logistic"
    engine.set_rollout("db", "full")

    def delay_at(depth: int) -> sr.Recommendation:
        rec = engine.record(engine.begin("db", context={"queue_depth": depth}), 503)
        assert rec.tier == "learned", str(rec)
        return rec

    shallow, deep = delay_at(20), delay_at(5000)
    assert shallow.delay < 1.0, str(shallow)
    assert deep.delay > 30.0 * max(shallow.delay, 0.01), str(deep)
    assert "trees" in deep.reason, deep.reason


def test_a_damaged_file_is_refused_and_the_model_in_place_stays(tmp_path: Path) -> None:
    clock = sr.ManualClock(at_hour(2.0 + 5.0 / 60.0))
    engine = long_waits_engine(clock)
    engine.load_model("db", WINDOW)
    engine.set_rollout("db", "full")
    with pytest.raises(sr.InvalidModelError) as info:
        engine.load_model("db", DAMAGED)
    assert info.value.code == "INVALID_MODEL"
    with pytest.raises(sr.SnapshotIOError):
        engine.load_model("db", tmp_path / "missing.srm")
    status = engine.rollout_status("db")
    assert status is not None and status["model_loaded"] and status["mode"] == "full"
    rec = engine.record(engine.begin("db"), 503)
    assert rec.tier == "learned" and "time_of_day=02:20" in rec.reason


def test_rollout_needs_a_model_and_a_valid_mode(engine: sr.Engine) -> None:
    assert engine.rollout_status("db") is None
    for mode in ("shadow", "canary:0.2", "full"):
        with pytest.raises(sr.InvalidStateError):
            engine.set_rollout("db", mode)
    engine.set_rollout("db", "off")  # off needs nothing
    engine.load_model("db", WINDOW)
    for bad in ("canary:0", "canary:1.5", "canary:x", "on", ""):
        with pytest.raises(sr.InvalidConfigError):
            engine.set_rollout("db", bad)
    engine.set_rollout("db", "canary:0.2")
    status = engine.rollout_status("db")
    assert status is not None and status["mode"] == "canary:0.2"
    assert status["last_change"] == "operator"
    assert [s["queue"] for s in engine.rollouts()] == ["db"]
    engine.rollback_rollout("db")
    status = engine.rollout_status("db")
    assert status is not None and status["mode"] == "off"
    with pytest.raises(sr.InvalidKeyError):
        engine.set_rollout("", "off")


def test_rollout_config_is_validated_by_the_core(engine: sr.Engine) -> None:
    engine.set_rollout_config("q", min_episodes=20, rollback_regression=0.2)
    engine.set_rollout_config("q", {"z": 2.0}, auto_promote=True)
    with pytest.raises(sr.InvalidConfigError):
        engine.set_rollout_config("q", min_episdoes=20)  # type: ignore[call-arg]  # a typo
    with pytest.raises(sr.InvalidConfigError):
        engine.set_rollout_config("q", {"min_episodes": 1})
    with pytest.raises(sr.InvalidConfigError):
        engine.set_rollout_config("q", canary_weight=2.0)


def run_jobs(engine: sr.Engine, clock: sr.ManualClock, queue: str, jobs: int) -> List[float]:
    """Jobs whose dependency recovers 2 s after the first failure, every 10 minutes."""
    delays: List[float] = []
    for _ in range(jobs):
        clock.advance(600.0)
        start = clock.now()
        ep = engine.begin(queue)
        while True:
            if clock.now() - start >= 2.0 and ep.attempts > 0:
                engine.record_success(ep)
                break
            rec = engine.record(ep, 503)
            if not rec.should_retry:
                break
            delays.append(rec.delay)
            clock.advance(rec.delay)
    return delays


def test_a_bad_canary_is_rolled_back_automatically_within_the_bound() -> None:
    clock = sr.ManualClock(at_hour(9.0))
    engine = sr.Engine(clock=clock, seed=7)
    events: List[Dict[str, Any]] = []
    engine.add_observer(events.append)
    engine.set_rollout_config("q", min_episodes=20, rollback_regression=0.2)
    engine.load_model("q", BAD)
    engine.set_rollout("q", "canary:0.5")
    rolled_back_after = None
    for round_ in range(1, 41):
        run_jobs(engine, clock, "q", 5)
        status = engine.rollout_status("q")
        assert status is not None
        if status["mode"] == "off":
            rolled_back_after = round_ * 5
            break
    assert rolled_back_after is not None, "the bad canary was never rolled back"
    # As soon as both arms had their minimum episodes (about 2 x 20 jobs at 50%).
    assert rolled_back_after <= 80, f"rolled back only after {rolled_back_after} jobs"
    status = engine.rollout_status("q")
    assert status is not None
    assert status["last_change"] == "automatic rollback"
    assert status["verdict"] == "wait"  # the evidence starts over with the new mode
    assert engine.learned_stats()["rollbacks"] == 1
    assert any(e.get("type") == "learned" and e.get("change") == "rollback" for e in events), events
    # Off means off: the live tiers decide again.
    rec = engine.record(engine.begin("q"), 503)
    assert rec.tier != "learned"


def test_shadow_changes_nothing_and_promotion_needs_evidence() -> None:
    clock = sr.ManualClock(at_hour(9.0))
    engine = sr.Engine(clock=clock, seed=3)
    twin_clock = sr.ManualClock(at_hour(9.0))
    twin = sr.Engine(clock=twin_clock, seed=3)
    engine.load_model("q", BAD)
    engine.set_rollout("q", "shadow")
    with pytest.raises(sr.InvalidStateError, match="no evidence"):
        engine.promote_rollout("q")
    with pytest.raises(sr.InvalidStateError):
        engine.promote_rollout("never-seen")
    shadowed = run_jobs(engine, clock, "q", 40)
    assert shadowed == run_jobs(twin, twin_clock, "q", 40)
    status = engine.rollout_status("q")
    assert status is not None
    assert status["mode"] == "shadow" and status["verdict"] == "wait"
    assert status["evidence"]["shadow_diff"]["n"] == 40
    assert status["evidence"]["shadow_diff"]["mean"] > 0.0  # the bad schedule would cost more
    assert engine.learned_stats()["shadow_episodes"] == 40
    with pytest.raises(sr.InvalidStateError):
        engine.promote_rollout("q")
    engine.rollback_rollout("q")
    status = engine.rollout_status("q")
    assert status is not None and status["mode"] == "off"


def test_adapters_pass_the_context_per_attempt(tmp_path: Path) -> None:
    tenacity = pytest.importorskip("tenacity")
    from smartretry.tenacity import adaptive

    clock = sr.ManualClock(at_hour(13.0))
    engine = sr.Engine(clock=clock)
    path = tmp_path / "h.jsonl"
    engine.write_history(path)
    depth = iter([10, 20, 30])
    calls = 0

    @tenacity.retry(**adaptive(engine, key="reports", context=lambda: {"queue_depth": next(depth)}))
    def work() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("refused")
        return "ok"

    assert work() == "ok"
    engine.flush_history()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    # One context per decision, then the success carries the last one in force.
    assert [r["queue_depth"] for r in rows] == [10, 20, 20]


def test_the_backoff_adapter_takes_a_fixed_context(tmp_path: Path) -> None:
    pytest.importorskip("backoff")
    import smartretry.backoff as sb

    clock = sr.ManualClock(at_hour(13.0))
    engine = sr.Engine(clock=clock)
    path = tmp_path / "h.jsonl"
    engine.write_history(path)
    calls = 0

    @sb.on_exception(engine, ConnectionError, key="reports", context={"payload_size": 512})
    def work() -> str:
        nonlocal calls
        calls += 1
        if calls < 2:
            raise ConnectionError("refused")
        return "ok"

    assert work() == "ok"
    engine.flush_history()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["payload_size"] for r in rows] == [512, 512]
    # A bad context fails the call loudly, before any attempt is recorded as retried.
    @sb.on_exception(engine, ConnectionError, key="reports", context={"payload": 1})
    def typo() -> None:
        raise ConnectionError("refused")

    with pytest.raises(sr.InvalidConfigError):
        typo()


def test_the_decorator_and_attempts_take_the_context(tmp_path: Path) -> None:
    clock = sr.ManualClock(at_hour(13.0))
    engine = sr.Engine(clock=clock)
    path = tmp_path / "h.jsonl"
    engine.write_history(path)
    depth = iter([7, 8, 9])
    calls = 0

    @sr.retry(key="jobs", engine=engine, on=ConnectionError, context=lambda: {"queue_depth": next(depth)})
    def work() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("refused")
        return "ok"

    assert work() == "ok"
    for attempt in sr.attempts("blocks", engine=engine, context={"payload_size": 64}):
        with attempt:
            if attempt.number < 2:
                raise ConnectionError("refused")
    engine.flush_history()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    by_key: Dict[str, List[Dict[str, Any]]] = {}
    for r in rows:
        by_key.setdefault(r["queue"], []).append(r)
    # The callable is asked before each decision; the success carries the last context.
    assert [r["queue_depth"] for r in by_key["jobs"]] == [7, 8, 8]
    assert [r["payload_size"] for r in by_key["blocks"]] == [64, 64]

    # A typo in the context is the core's typed error, at the first failure.
    @sr.retry(key="jobs", engine=engine, context={"queue_dept": 1})  # type: ignore[call-overload]  # mypy sees the typo too
    def typo() -> None:
        raise ConnectionError("refused")

    with pytest.raises(sr.InvalidConfigError):
        typo()
