"""Observers never freeze the interpreter (issue 10): events are delivered after the core call,
with the GIL held and no engine lock held, so observers may add or clear observers, and other
threads may do so while one records. Each scenario runs in a subprocess with a timeout, so a
regression fails the test instead of hanging the suite."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any, Dict, List

import pytest

import smartretry as sr


def run_isolated(code: str, timeout: float = 60.0) -> str:
    """Run `code` in a fresh interpreter; a hang becomes a test failure, not a stuck suite."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung for {timeout} s (observer deadlock?)")
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_observer_that_clears_observers_does_not_hang() -> None:
    out = run_isolated(
        """
        import smartretry as sr
        e = sr.Engine(clock=sr.ManualClock())
        e.add_observer(lambda ev: e.clear_observers())
        ep = e.begin("k")
        rec = e.record(ep, sr.Failure.http(503))
        seen = []
        e.add_observer(lambda ev: (seen.append(ev["type"]), e.add_observer(lambda ev: None)))
        e.record(ep, sr.Failure.http(503))
        print(rec.action, seen)
        """
    )
    assert out.strip() == "retry ['attempt', 'decision']"


def test_recording_while_another_thread_adds_and_clears_observers() -> None:
    out = run_isolated(
        """
        import threading
        import smartretry as sr
        e = sr.Engine(clock=sr.ManualClock())
        stop = threading.Event()
        counts = {"events": 0, "records": 0, "churn": 0}

        def record():
            for _ in range(3000):
                ep = e.begin("k")
                e.record(ep, sr.Failure.http(503))
                e.record_success(ep)
                counts["records"] += 1
            stop.set()

        def churn():
            while not stop.is_set():
                e.add_observer(lambda ev: counts.__setitem__("events", counts["events"] + 1))
                sr.log_events(e)
                e.clear_observers()
                counts["churn"] += 1

        threads = [threading.Thread(target=record), threading.Thread(target=churn)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(counts["records"], counts["churn"] > 0)
        """
    )
    assert out.split() == ["3000", "True"]


def test_observer_errors_do_not_change_decisions(
    engine: sr.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: List[Dict[str, Any]] = []
    raised: List[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", raised.append)

    def bad(ev: Dict[str, Any]) -> None:
        raise RuntimeError("observer bug")

    engine.add_observer(bad)
    engine.add_observer(seen.append)
    ep = engine.begin("k")
    rec = engine.record(ep, sr.Failure.http(503))
    assert [type(r.exc_value) for r in raised] == [RuntimeError, RuntimeError]
    assert rec.should_retry and [e["type"] for e in seen] == ["attempt", "decision"]
    assert engine.dropped_events == 0


def test_events_use_the_core_schema(engine: sr.Engine) -> None:
    seen: List[Dict[str, Any]] = []
    engine.add_observer(seen.append)
    ep = engine.begin("k", "acme")
    engine.record(ep, sr.Failure.http(503))
    engine.record_success(ep)
    attempt, decision, success = seen
    assert attempt == {
        "type": "attempt", "key": "k", "tenant": "acme", "class": "unavailable",
        "attempt": 1, "elapsed": 0.0,
    }
    assert set(decision) == {"type", "key", "tenant", "class", "attempt", "elapsed", "recommendation"}
    assert decision["recommendation"]["action"] == "retry"
    assert success["type"] == "success" and success["attempt"] == 2


def test_add_observer_refuses_non_callables(engine: sr.Engine) -> None:
    for bad in (None, 42, "print"):
        with pytest.raises(TypeError):
            engine.add_observer(bad)  # type: ignore[arg-type]
