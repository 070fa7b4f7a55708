"""Presets (issue 9): `Engine(preset=...)`, and the decorator's default engine and the adapters
on the `request` preset (sub-second backoff, a 30 s deadline)."""

from __future__ import annotations

from typing import Iterator

import pytest
import tenacity

import smartretry as sr
from smartretry import _adapt
from smartretry.tenacity import adaptive


@pytest.fixture
def fresh_default() -> Iterator[None]:
    sr.set_default_engine(None)
    yield
    sr.set_default_engine(None)


def test_engine_presets() -> None:
    req = sr.Engine(preset="request", clock=sr.ManualClock())
    bg = sr.Engine(preset="background", clock=sr.ManualClock())
    assert req.policy()["preset"] == "request" and req.policy()["deadline"] == 30.0
    assert bg.policy()["preset"] == "background" and sr.Engine().policy()["preset"] == "background"
    first = req.preview("k", sr.Failure.http(503), steps=1)[0]
    assert first.should_retry and first.delay < 1.0
    # Every other field patches over the preset.
    assert sr.Engine(preset="request", deadline=5).policy()["deadline"] == 5.0
    with pytest.raises(sr.PolicyError):
        sr.Engine(preset="fast")


def test_decorator_default_engine_is_request(fresh_default: None) -> None:
    assert sr.default_engine().policy()["preset"] == "request"

    @sr.retry(key="d")
    def ok() -> int:
        return 1

    assert ok() == 1 and sr.default_engine().stats()["successes"] == 1


def test_adapters_default_to_the_request_preset(fresh_default: None) -> None:
    assert _adapt.Tracker(None, "k", None).engine.policy()["preset"] == "request"
    calls = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) < 2:
            raise TimeoutError("slow")
        return 7

    with sr.testing():
        assert tenacity.Retrying(**adaptive(key="tn"))(flaky) == 7
    eng = sr.default_engine()
    assert eng.policy()["preset"] == "request" and eng.stats()["successes_after_retry"] == 1
