"""Behaving like the libraries users know, checked side by side against them: stamina and
tenacity re-raise the last error on give-up, count ``attempts`` the same way, and tenacity
retries on results; policies read the way Python users write them."""

from __future__ import annotations

import logging
import sys
from typing import Any, Callable, Dict, List, Optional, Type

import backoff
import pytest
import stamina
import tenacity
import urllib3

import smartretry as sr
import smartretry.backoff as sb
from smartretry.tenacity import adaptive
from smartretry.urllib3 import AdaptiveRetry


class Failing:
    """Raises ``exc`` for the first ``failures`` calls, then returns the call number."""

    def __init__(self, failures: int, exc: Type[BaseException] = ConnectionResetError) -> None:
        self.failures = failures
        self.exc = exc
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc(f"call {self.calls}")
        return self.calls


def run_stamina(fn: Callable[[], Any], attempts: int) -> Any:
    with stamina.set_testing(True, attempts=1000, cap=True):  # no waiting, the decorator's cap
        return stamina.retry(on=ConnectionError, attempts=attempts)(fn)()


def run_tenacity(fn: Callable[[], Any], attempts: int) -> Any:
    return tenacity.retry(
        retry=tenacity.retry_if_exception_type(ConnectionError),
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_none(),
        reraise=True,
    )(fn)()


def run_smartretry(fn: Callable[[], Any], attempts: int, engine: sr.Engine) -> Any:
    return sr.retry(key="parity", on=ConnectionError, engine=engine, attempts=attempts)(fn)()


@pytest.mark.parametrize("attempts", [1, 2, 3, 6])
def test_give_up_reraises_the_last_error_after_the_same_attempts_as_stamina_and_tenacity(
    attempts: int, engine: sr.Engine
) -> None:
    raised: Dict[str, BaseException] = {}
    calls: Dict[str, int] = {}
    for name, run in [
        ("stamina", lambda f: run_stamina(f, attempts)),
        ("tenacity", lambda f: run_tenacity(f, attempts)),
        ("smartretry", lambda f: run_smartretry(f, attempts, engine)),
    ]:
        fn = Failing(100)
        with pytest.raises(ConnectionResetError) as info:
            run(fn)
        raised[name], calls[name] = info.value, fn.calls
    assert calls == {"stamina": attempts, "tenacity": attempts, "smartretry": attempts}
    assert {type(e) for e in raised.values()} == {ConnectionResetError}
    assert str(raised["smartretry"]) == f"call {attempts}"  # the last error itself
    rec = getattr(raised["smartretry"], "recommendation")
    assert rec.action == "give_up" and f"the limit is {attempts}" in rec.reason
    if sys.version_info >= (3, 11):
        notes = getattr(raised["smartretry"], "__notes__")
        assert notes == [f"smartretry: parity: give up after {attempts} attempt(s): {rec.reason}"]


@pytest.mark.parametrize("failures", [0, 1, 4])
def test_success_after_failures_returns_like_stamina_and_tenacity(
    failures: int, engine: sr.Engine
) -> None:
    results = []
    for run in (
        lambda f: run_stamina(f, 6),
        lambda f: run_tenacity(f, 6),
        lambda f: run_smartretry(f, 6, engine),
    ):
        results.append(run(Failing(failures)))
    assert results == [failures + 1] * 3


def test_reraise_false_wraps_the_error_with_the_reason(engine: sr.Engine) -> None:
    with pytest.raises(sr.RetryExhausted) as info:
        sr.retry(key="wrapped", engine=engine, attempts=2, reraise=False)(Failing(9))()
    err = info.value
    assert isinstance(err.__cause__, ConnectionResetError)
    assert str(err) == f"wrapped: give up after 2 attempt(s): {err.recommendation.reason}"
    assert not err.has_result


def test_retry_if_result_like_tenacity(engine: sr.Engine) -> None:
    def maker(nones: int) -> Callable[[], Optional[int]]:
        state = {"n": 0}

        def fn() -> Optional[int]:
            state["n"] += 1
            return None if state["n"] <= nones else state["n"]

        return fn

    tenacious = tenacity.retry(
        retry=tenacity.retry_if_result(lambda r: r is None),
        stop=tenacity.stop_after_attempt(5),
        wait=tenacity.wait_none(),
    )
    ours = sr.retry(key="result", engine=engine, attempts=5, retry_if_result=lambda r: r is None)
    assert tenacious(maker(2))() == ours(maker(2))() == 3
    # Giving up on a result: tenacity raises RetryError holding it, smartretry RetryExhausted.
    with pytest.raises(tenacity.RetryError) as t_info:
        tenacious(maker(99))()
    with pytest.raises(sr.RetryExhausted) as info:
        ours(maker(99))()
    assert t_info.value.last_attempt.result() is None
    assert info.value.has_result and info.value.result is None and info.value.attempts == 5


def test_retry_if_result_async(engine: sr.Engine) -> None:
    import asyncio

    state = {"n": 0}

    @sr.retry(key="aresult", engine=engine, retry_if_result=lambda r: r < 3)
    async def fn() -> int:
        state["n"] += 1
        return state["n"]

    assert asyncio.run(fn()) == 3


def test_timeout_is_a_deadline_for_the_call(engine: sr.Engine, clock: sr.ManualClock) -> None:
    start = clock.now()
    fn = Failing(100)
    with pytest.raises(ConnectionResetError) as info:
        sr.retry(key="timed", engine=engine, attempts=1000, timeout=20.0)(fn)()
    rec = getattr(info.value, "recommendation")
    assert "20.0 s deadline" in rec.reason
    assert clock.now() - start <= 20.0 and fn.calls > 3  # more than the class's 3 attempts
    for bad in [0, -1.0, True]:
        with pytest.raises(ValueError):
            sr.retry(engine=engine, timeout=bad)(fn)
    for bad_attempts in [0, 2.5, False]:
        with pytest.raises(ValueError):
            sr.retry(engine=engine, attempts=bad_attempts)(fn)  # type: ignore[arg-type]


def test_attempts_block_takes_attempts_and_timeout(engine: sr.Engine) -> None:
    fn = Failing(100)
    with pytest.raises(ConnectionResetError):
        for attempt in sr.attempts("blk", engine=engine, attempts=4, timeout=3600):
            with attempt:
                fn()
    assert fn.calls == 4


def test_tenacity_and_backoff_adapters_reraise_with_the_recommendation(engine: sr.Engine) -> None:
    fn = Failing(100)
    with pytest.raises(ConnectionResetError) as t_info:
        tenacity.Retrying(**adaptive(engine, key="ten"))(fn)
    assert getattr(t_info.value, "recommendation").action == "give_up"

    plain, ours = Failing(100), Failing(100)

    def call_plain() -> int:  # backoff logs the target's __name__
        return plain()

    def call_ours() -> int:
        return ours()

    with pytest.raises(ConnectionResetError):
        backoff.on_exception(backoff.constant, ConnectionError, max_tries=3, interval=0)(call_plain)()
    with pytest.raises(ConnectionResetError) as b_info:
        sb.on_exception(engine, ConnectionError, key="bo")(call_ours)()
    assert plain.calls == ours.calls == 3  # the connection class's 3 attempts, backoff's 3 tries
    assert getattr(b_info.value, "recommendation").action == "give_up"


def test_engine_shortcuts() -> None:
    p = sr.Engine(max_attempts=6).policy()
    assert p["classes"]["unavailable"]["max_attempts"] == 6
    assert p["classes"]["not_found"]["max_attempts"] == 1  # permanent classes keep theirs
    p = sr.Engine(failure_cost=1).policy()
    assert p["learning"]["failure_cost"] == 1.0
    p = sr.Engine(preset="request", deadline=5, max_attempts=2).policy()
    assert p["preset"] == "request" and p["deadline"] == 5.0
    assert p["classes"]["connection"]["max_attempts"] == 2
    # A class's own value in the same layer wins over the shortcut.
    p = sr.Engine(max_attempts=6, classes={"timeout": {"max_attempts": 2}}).policy()
    assert p["classes"]["timeout"]["max_attempts"] == 2
    assert p["classes"]["unavailable"]["max_attempts"] == 6


def test_keywords_merge_deeply_over_the_policy_dict() -> None:
    base = {
        "learning": {"min_episodes": 5, "half_life_episodes": 50},
        "classes": {"unavailable": {"max_attempts": 7}},
        "deadline": 60,
    }
    p = sr.Engine(base, learning={"exploration": 0.0}, classes={"timeout": {"max_attempts": 2}}).policy()
    assert p["learning"]["min_episodes"] == 5 and p["learning"]["half_life_episodes"] == 50
    assert p["learning"]["exploration"] == 0.0
    assert p["classes"]["unavailable"]["max_attempts"] == 7
    assert p["classes"]["timeout"]["max_attempts"] == 2
    assert p["deadline"] == 60.0
    # A keyword's value that is not a dict replaces; None is "none" (no deadline).
    assert sr.Engine(base, deadline=None).policy()["deadline"] is None
    # Same through JSON text.
    import json

    assert sr.Engine(json.dumps(base), learning={"exploration": 0.0}).policy()["learning"]["min_episodes"] == 5


@pytest.mark.parametrize(
    "kwargs, path",
    [
        ({"classes": {"unavailable": {"strategy": {"kind": "full_jitter", "base": 1, "factr": 2}}}},
         "classes.unavailable.strategy.factr"),
        ({"classes": {"unavailable": {"max_atempts": 6}}}, "classes.unavailable.max_atempts"),
        ({"learning": {"min_episodes": "five"}}, "learning.min_episodes"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"dedline": 5}, "dedline"),
        ({"classes": {"unavailabel": {}}}, "classes.unavailabel"),
    ],
)
def test_policy_errors_name_the_field_path(kwargs: Dict[str, Any], path: str) -> None:
    with pytest.raises(sr.PolicyError) as info:
        sr.Engine(**kwargs)
    err = info.value
    assert isinstance(err, sr.InvalidPolicyError) and err.code == "INVALID_POLICY"
    assert getattr(err, "path") == path and str(err).startswith(f"{path}: ")
    assert "JSON" not in str(err)


def test_the_logger_has_a_null_handler() -> None:
    handlers = logging.getLogger("smartretry").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_urllib3_adapter_logs_the_status(engine: sr.Engine, caplog: pytest.LogCaptureFixture) -> None:
    retry = AdaptiveRetry(engine=engine, key="u3log")
    response = urllib3.response.HTTPResponse(status=503, headers={}, preload_content=False)
    with caplog.at_level(logging.INFO, logger="smartretry"):
        retry.increment(method="GET", url="/x", response=response)
    lines = [r.getMessage() for r in caplog.records]
    assert any("u3log: attempt 1 failed (HTTP 503); retry in" in m for m in lines), lines
    assert not any("(None)" in m for m in lines)


def test_urllib3_give_up_message_carries_the_reason(engine: sr.Engine) -> None:
    retry: Any = AdaptiveRetry(engine=engine, key="u3msg")
    response = urllib3.response.HTTPResponse(status=404, headers={}, preload_content=False)
    errors: List[BaseException] = []
    try:
        retry.increment(method="GET", url="/gone", response=response)
    except urllib3.exceptions.MaxRetryError as e:
        errors.append(e)
    (err,) = errors
    assert "u3msg: give up after 1 attempt(s): not_found is permanent" in str(err)
    assert "url: /gone; last: HTTP 404" in str(err)
