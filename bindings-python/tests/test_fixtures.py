"""The shared fixtures (`tests/fixtures/*.json` at the repository root; format in
`tests/fixtures/README.md`), run through the Python binding: the same failure JSON must give
the same classification, recommendation, events or error code as the Rust core's own runner
(`core/tests/fixtures.rs`), so a binding that drifts fails here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import smartretry as sr

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
CLOCK_START = 1_700_000_000.0
SEED = 0x5EED


def load() -> List[Tuple[str, Dict[str, Any]]]:
    cases = []
    for path in sorted(FIXTURES.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            cases.append((f"{path.stem}: {case['name']}", case))
    return cases


CASES = load()


def run(case: Dict[str, Any]) -> Dict[str, Any]:
    """One case, as the README says: default policy, manual clock, an observer of event types."""
    engine = sr.Engine(seed=SEED, clock=sr.ManualClock(CLOCK_START))
    events: List[str] = []
    engine.add_observer(lambda e: events.append(e["type"]))
    failure = sr.Failure.from_json(json.dumps(case["failure"]))
    header = case.get("retry_after_header")
    if header is not None:
        failure = failure.with_retry_after(sr.parse_retry_after(header, now=engine.now()))
    error_class, rule = engine.classify(failure)
    ep = engine.begin(case.get("key", "fixture"), case.get("tenant"))
    rec = engine.record(ep, failure)
    return {
        "class": error_class,
        "rule": rule,
        "retry_after": failure.retry_after,
        "action": rec.action,
        "tier": rec.tier,
        "delay": rec.delay,
        "events": events,
    }


def test_fixtures_exist() -> None:
    assert len(CASES) >= 100 and len({name for name, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[n for n, _ in CASES])
def test_fixture(case: Dict[str, Any]) -> None:
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(sr.SmartRetryError) as info:
            run(case)
        assert info.value.code == expect["error"]
        return
    got = run(case)
    for field in ("class", "rule", "action", "tier", "events"):
        if field in expect:
            assert got[field] == expect[field], field
    if "retry_after" in expect:
        assert got["retry_after"] == pytest.approx(expect["retry_after"], abs=1e-6)
    if "delay" in expect:
        lo, hi = expect["delay"]
        assert lo - 1e-9 <= got["delay"] <= hi + 1e-9
