"""Operator surfaces from Python: the attempt history, the admin endpoint through a real HTTP
client on 127.0.0.1, the prometheus_client collector, and structured logging."""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional, Tuple

import pytest

import smartretry as sr
import smartretry.ops

TOKEN = "python-test-token-0123456789"
# 2023-11-14 13:00:00 UTC, a Tuesday.
TUESDAY_1PM = 1_699_966_800.0


def one_episode(engine: sr.Engine, clock: sr.ManualClock, key: str = "payments") -> sr.Recommendation:
    ep = engine.begin(key)
    ep.set_meta(payload_size=2048, downstream_latency=0.25, job_type="invoice")
    rec = engine.record(ep, sr.Failure(http_status=503))
    clock.advance(rec.delay)
    ep.set_meta(payload_size=2048, downstream_latency=0.04, job_type="invoice")
    engine.record_success(ep)
    return rec


def test_history_has_the_feature_fields(tmp_path: Path) -> None:
    clock = sr.ManualClock(TUESDAY_1PM)
    engine = sr.Engine(clock=clock, seed=1)
    path = tmp_path / "history.jsonl"
    engine.write_history(path, worker_version="py-1.2")
    one_episode(engine, clock)
    engine.flush_history()
    lines = [json.loads(l) for l in path.read_text().splitlines()]
    assert [r["attempt"] for r in lines] == [1, 2]
    first = lines[0]
    assert (first["hour_of_day"], first["day_of_week"]) == (13, 1)
    assert first["payload_size"] == 2048
    assert first["worker_version"] == "py-1.2"
    assert first["downstream_latency"] == 0.25
    assert lines[1]["downstream_latency"] == 0.04
    assert lines[1]["outcome"] == "success"


def test_history_rotates_within_its_bound(tmp_path: Path) -> None:
    clock = sr.ManualClock(TUESDAY_1PM)
    engine = sr.Engine(clock=clock, seed=1)
    path = tmp_path / "h.jsonl"
    engine.write_history(path, max_bytes=4096, max_files=2)
    for _ in range(60):
        one_episode(engine, clock)
    engine.stop_history()
    assert path.stat().st_size <= 4096
    assert Path(f"{path}.1").exists() and Path(f"{path}.2").exists()
    assert not Path(f"{path}.3").exists()


def test_bad_history_and_meta_are_typed_errors(tmp_path: Path, engine: sr.Engine) -> None:
    with pytest.raises(sr.InvalidConfigError):
        engine.write_history(tmp_path / "h.jsonl", max_bytes=10)
    with pytest.raises(sr.SnapshotIOError):
        engine.write_history(tmp_path / "missing-dir" / "h.jsonl")
    ep = engine.begin("q")
    with pytest.raises(sr.InvalidDurationError):
        ep.set_meta(downstream_latency=-1.0)
    with pytest.raises(sr.InvalidKeyError):
        ep.set_meta(worker_version="bad\nversion")
    with pytest.raises(OverflowError):
        ep.set_meta(payload_size=-5)


def http(method: str, url: str, body: Optional[dict] = None, token: Optional[str] = None) -> Tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
            status = r.status
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        status = e.code
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


def test_admin_endpoint_serves_and_steers(engine: sr.Engine, clock: sr.ManualClock) -> None:
    with engine.serve_admin(token=TOKEN) as admin:
        assert admin.url.startswith("http://127.0.0.1:")
        for _ in range(3):
            one_episode(engine, clock)
        status, stats = http("GET", f"{admin.url}/stats")
        assert status == 200 and stats["episodes"] == 3
        status, recent = http("GET", f"{admin.url}/decisions?limit=1")
        assert recent[0]["key"] == "payments"
        assert recent[0]["recommendation"]["reason"]
        status, text = http("GET", f"{admin.url}/metrics")
        assert "smartretry_episodes_total 3" in text

        patch = {"scope": "queue", "name": "mail", "patch": {"fixed_delay": 9}}
        assert http("PUT", f"{admin.url}/overrides", patch)[0] == 401
        status, listed = http("PUT", f"{admin.url}/overrides", patch, TOKEN)
        assert status == 200 and listed[0]["name"] == "mail"
        rec = one_episode(engine, clock, "mail")
        assert (rec.delay, rec.tier) == (9.0, "operator")
        assert admin.recent(1)[0]["recommendation"]["tier"] == "operator"
        assert admin.metrics_dict()["decisions_by_tier"]["operator"] == 1
        assert "smartretry_decisions_total{tier=\"operator\"} 1" in admin.metrics()
    with pytest.raises(sr.InvalidStateError):
        admin.url


def test_admin_refuses_public_addresses(engine: sr.Engine) -> None:
    with pytest.raises(sr.InvalidConfigError):
        engine.serve_admin(listen="0.0.0.0:0")
    with pytest.raises(sr.InvalidConfigError):
        engine.serve_admin(token="short")


def test_operate_from_env(tmp_path: Path, engine: sr.Engine, clock: sr.ManualClock) -> None:
    env = {
        "SMARTRETRY_HISTORY": str(tmp_path / "h.jsonl"),
        "SMARTRETRY_ADMIN_LISTEN": "127.0.0.1:0",
        "SMARTRETRY_WORKER_VERSION": "env-3",
    }
    with smartretry.ops.operate_from_env(engine, env) as ops:
        assert ops.admin is not None
        one_episode(engine, clock)
        assert http("GET", f"{ops.admin.url}/stats")[1]["episodes"] == 1
    assert '"worker_version":"env-3"' in (tmp_path / "h.jsonl").read_text()
    nothing = smartretry.ops.operate_from_env(engine, {})
    assert nothing.admin is None and nothing.history is None


def test_prometheus_client_collector(engine: sr.Engine, clock: sr.ManualClock) -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    registry = prometheus_client.CollectorRegistry()
    with engine.serve_admin() as admin:
        registry.register(smartretry.ops.PrometheusCollector(admin))
        for _ in range(2):
            one_episode(engine, clock)
        text = prometheus_client.generate_latest(registry).decode()
    assert 'smartretry_decisions_total{tier="heuristic"} 2.0' in text
    assert "smartretry_time_to_success_seconds_count 2.0" in text


def test_json_log_lines_follow_the_event_schema(
    engine: sr.Engine, clock: sr.ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    sr.json_log_events(engine)
    with caplog.at_level(logging.INFO, logger="smartretry.events"):
        one_episode(engine, clock)
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "smartretry.events"]
    assert [e["type"] for e in events] == ["attempt", "decision", "success"]
    assert list(events[1])[0] == "type"
    assert events[1]["recommendation"]["action"] == "retry"


def test_structlog_events(engine: sr.Engine, clock: sr.ManualClock) -> None:
    structlog = pytest.importorskip("structlog")
    with structlog.testing.capture_logs() as logs:
        sr.structlog_events(engine, structlog.get_logger("smartretry"))
        one_episode(engine, clock)
    assert [l["event"] for l in logs] == [
        "smartretry.attempt",
        "smartretry.decision",
        "smartretry.success",
    ]
    assert logs[1]["key"] == "payments" and logs[1]["type"] == "decision"


def test_a_forked_child_does_not_write_its_parents_buffered_history_again(tmp_path: Path) -> None:
    # Attempts are buffered before they reach the file; a child inherits that buffer, and the
    # parent writes it: the child must not write it a second time.
    path = tmp_path / "attempts.jsonl"
    engine = sr.Engine(clock=sr.ManualClock(1_700_000_000.0))
    engine.write_history(path)

    def attempts(key: str, n: int) -> None:
        for _ in range(n):
            ep = engine.begin(key)
            engine.record(ep, sr.Failure.http(503))
            engine.record_success(ep)

    attempts("parent-before", 5)  # buffered, not yet on disk
    child = os.fork()
    if child == 0:
        code = 1
        try:
            attempts("child", 3)
            engine.flush_history()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    attempts("parent-after", 2)
    engine.flush_history()
    keys = [json.loads(line)["queue"] for line in path.read_text().splitlines()]
    # Two attempts per episode (the failure and the success).
    assert sorted(set(keys)) == ["child", "parent-after", "parent-before"]
    assert keys.count("parent-before") == 10
    assert keys.count("child") == 6
    assert keys.count("parent-after") == 4
