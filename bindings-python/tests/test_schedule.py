"""RetrySchedule over the Rust schedule, on a SQLite file and on a real redis-server: the same
rules (claim with a lease, redelivery after it, ack, nack), and typed errors for bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import smartretry as sr
from redis_helpers import free_port

NOW = 1_700_000_000.0


@pytest.fixture(params=["sqlite", "redis"])
def schedule(request: pytest.FixtureRequest, tmp_path: Path) -> sr.RetrySchedule:
    if request.param == "sqlite":
        return sr.RetrySchedule(str(tmp_path / "retries.db"))
    url: str = request.getfixturevalue("redis_url")
    return sr.RetrySchedule(url, namespace="py")


def test_a_claim_is_leased_redelivered_after_its_lease_and_acked_once(schedule: sr.RetrySchedule) -> None:
    schedule.schedule("job-1", b"orders/1", NOW + 10)
    assert schedule.claim_due(NOW, 10, 30) == []
    (claim,) = schedule.claim_due(NOW + 10, 10, 30)
    assert (claim.job_id, claim.payload, claim.deliveries, claim.lease_until) == ("job-1", b"orders/1", 1, NOW + 40)
    # Nobody else gets it while the lease runs; the lease over, it comes back (the worker died).
    assert schedule.claim_due(NOW + 39, 10, 30) == []
    (again,) = schedule.claim_due(NOW + 40, 10, 30)
    assert again.deliveries == 2
    assert schedule.ack("job-1") is True
    assert schedule.ack("job-1") is False
    assert len(schedule) == 0


def test_nack_runs_it_again_later_and_a_stop_is_not_scheduled(schedule: sr.RetrySchedule) -> None:
    engine = sr.Engine(clock=sr.ManualClock(NOW), max_attempts=2, seed=7)
    ep = engine.begin("emails")
    rec = engine.record(ep, ConnectionError("refused"))
    assert schedule.schedule_recommended("job-2", b"x", engine.now(), rec) is True
    (claim,) = schedule.claim_due(engine.now() + rec.delay, 1, 60)
    assert schedule.nack(claim.job_id, NOW + 500) is True
    assert schedule.claim_due(NOW + 499, 1, 60) == []
    assert [c.job_id for c in schedule.claim_due(NOW + 500, 1, 60)] == ["job-2"]
    stop = engine.record(ep, ConnectionError("refused"))
    assert not stop.should_retry
    assert schedule.schedule_recommended("job-3", b"x", engine.now(), stop) is False
    assert schedule.nack("unknown", NOW) is False
    assert len(schedule) == 1


def test_bad_input_is_a_typed_error(tmp_path: Path) -> None:
    q = sr.RetrySchedule(str(tmp_path / "retries.db"))
    with pytest.raises(sr.InvalidConfigError, match="job id"):
        q.schedule("", b"x", NOW)
    with pytest.raises(sr.InvalidDurationError):
        q.schedule("a", b"x", float("nan"))
    with pytest.raises(sr.InvalidConfigError, match="lease"):
        q.claim_due(NOW, 1, 0)
    with pytest.raises(sr.InvalidConfigError):
        sr.RetrySchedule("")
    with pytest.raises(sr.ScheduleStorageError) as e:
        sr.RetrySchedule(str(tmp_path / "missing-dir" / "retries.db"))
    assert e.value.code == "SCHEDULE_STORAGE"


def test_an_unreachable_redis_is_a_storage_error() -> None:
    q = sr.RetrySchedule(f"redis://127.0.0.1:{free_port()}", namespace="py")
    with pytest.raises(sr.ScheduleStorageError):
        q.claim_due(NOW, 1, 30)


def test_a_forked_child_uses_a_connection_of_its_own(schedule: sr.RetrySchedule) -> None:
    # A pre-forking server opens the schedule once and forks: parent and child then schedule
    # and claim at the same time. Sharing the inherited Redis socket would mix their replies;
    # sharing the inherited SQLite connection is what SQLite forbids.
    assert len(schedule) == 0  # the parent's connection is open before the fork

    def work(who: str) -> bool:
        for i in range(300):
            schedule.schedule(f"{who}-{i}", f"{who}-{i}".encode(), 0.0)
            if i % 10 == 9:
                for claim in schedule.claim_due(1.0, 5, 60.0):
                    if claim.payload != claim.job_id.encode() or not schedule.ack(claim.job_id):
                        return False
        return True

    child = os.fork()
    if child == 0:
        code = 1
        try:
            code = 0 if work("child") else 2
        finally:
            os._exit(code)
    parent_ok = work("parent")
    _, status = os.waitpid(child, 0)
    assert parent_ok and os.waitstatus_to_exitcode(status) == 0
    claimed = schedule.claim_due(1.0, 10_000, 60.0)
    assert all(c.payload == c.job_id.encode() for c in claimed)
    assert len(schedule) == len(claimed)
    # 600 scheduled, 5 claimed and acked per 10 by each process: 300 acked, 300 left.
    assert len(claimed) == 300
