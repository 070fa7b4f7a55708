"""Real client errors classify right (issue 10): requests and httpx raised against a closed port
on 127.0.0.1, their cause chains read from ``__cause__`` / ``__context__``, and ``on=`` filters
that catch them although they do not subclass the builtin ``ConnectionError``."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, List

import httpx
import pytest
import requests

import smartretry as sr


@pytest.fixture(scope="module")
def closed_url() -> str:
    """A URL on 127.0.0.1 whose port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _raised(call: Any) -> BaseException:
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the error is the point
        return e
    raise AssertionError("expected an error")


def test_requests_connection_error_is_connection(engine: sr.Engine, closed_url: str) -> None:
    exc = _raised(lambda: requests.get(closed_url, timeout=5))
    assert isinstance(exc, requests.ConnectionError) and not isinstance(exc, ConnectionError)
    failure = sr.failure_from(exc)
    assert engine.classify(failure)[0] == "connection"
    assert failure.causes, "the urllib3 errors behind it are part of the failure"


def test_httpx_connect_error_is_connection(engine: sr.Engine, closed_url: str) -> None:
    exc = _raised(lambda: httpx.get(closed_url, timeout=5))
    assert isinstance(exc, httpx.ConnectError) and not isinstance(exc, ConnectionError)
    assert engine.classify(sr.failure_from(exc))[0] == "connection"


@pytest.mark.parametrize("on", [ConnectionError, (ConnectionError, TimeoutError), sr.TRANSIENT])
@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_on_connection_error_catches_client_errors(
    engine: sr.Engine, closed_url: str, on: Any, client: str
) -> None:
    calls: List[int] = []

    @sr.retry(key=f"closed-{client}", engine=engine, on=on)
    def get() -> None:
        calls.append(1)
        if client == "requests":
            requests.get(closed_url, timeout=5)
        else:
            httpx.get(closed_url, timeout=5)

    with pytest.raises(Exception) as info:
        get()
    # The client's own error, re-raised, with the engine's verdict on it.
    assert type(info.value).__module__.split(".")[0] == client
    rec = getattr(info.value, "recommendation")
    assert len(calls) > 1 and rec.error_class == "connection"


def test_transient_reraises_permanent_errors_untouched(engine: sr.Engine) -> None:
    calls: List[int] = []

    @sr.retry(key="perm", engine=engine, on=sr.TRANSIENT)
    def bad() -> None:
        calls.append(1)
        raise PermissionError("denied")

    with pytest.raises(PermissionError):
        bad()
    assert calls == [1] and engine.stats()["failures"] == 0


def test_builtin_filter_still_skips_other_classes(engine: sr.Engine) -> None:
    calls: List[int] = []

    @sr.retry(key="other", engine=engine, on=ConnectionError)
    def bad() -> None:
        calls.append(1)
        raise KeyError("x")

    with pytest.raises(KeyError):
        bad()
    assert calls == [1]


def test_cause_chain_decides_and_from_none_hides_it(engine: sr.Engine) -> None:
    def wrapped(suppress: bool) -> BaseException:
        try:
            try:
                raise ConnectionResetError(104, "reset")
            except OSError as inner:
                if suppress:
                    raise RuntimeError("wrapper") from None
                raise RuntimeError("wrapper") from inner
        except RuntimeError as e:
            return e
        raise AssertionError

    chained = sr.failure_from(wrapped(False))
    assert [c.error_code for c in chained.causes] == ["ECONNRESET"]
    assert engine.classify(chained)[0] == "connection"
    assert sr.failure_from(wrapped(True)).causes == []


def test_odd_exception_attributes_never_replace_the_error(engine: sr.Engine) -> None:
    class Odd(Exception):
        code = "\x00bad"  # refused by the core as an error code: dropped, not raised
        response = type("R", (), {"status_code": 70000, "headers": {}})()

    failure = sr.failure_from(Odd("odd"))
    assert failure.error_code is None and failure.http_status is None
    assert failure.exception is not None and failure.exception.endswith("Odd")


def test_async_callable_object_is_retried(engine: sr.Engine) -> None:
    class Fetch:
        calls = 0

        async def __call__(self) -> str:
            self.calls += 1
            if self.calls < 3:
                raise TimeoutError("slow")
            return "ok"

    fetch = Fetch()
    wrapped = sr.retry(key="acall", engine=engine)(fetch)
    assert asyncio.run(wrapped()) == "ok" and fetch.calls == 3
    assert engine.stats()["successes_after_retry"] == 1
