"""What the native ``failure_from`` reads from an exception, a response, a status or a name, and
that ``Engine.record`` reads an exception the same way (the decorator's one native call)."""

from __future__ import annotations

import enum
import errno
from typing import Any, Dict, Optional

import pytest

import smartretry as sr


class Response:
    def __init__(self, status: Any, headers: Optional[Any] = None) -> None:
        self.status_code = status
        self.headers = {} if headers is None else headers


class HTTPError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def test_a_failure_is_returned_as_is() -> None:
    f = sr.Failure.http(503)
    assert sr.failure_from(f) is f


def test_exception_with_response_carries_status_and_retry_after() -> None:
    f = sr.failure_from(HTTPError(Response(429, {"Retry-After": " 7 "})))
    assert f.http_status == 429 and f.retry_after_header == "7"
    assert f.exception == f"{__name__}.HTTPError" and f.message == "HTTP 429"


def test_invalid_retry_after_is_dropped_not_raised() -> None:
    assert sr.failure_from(HTTPError(Response(503, {"Retry-After": "soon"}))).retry_after_header is None
    assert sr.from_response(Response(503, {"Retry-After": "soon"})).http_status == 503


def test_odd_headers_and_bool_status() -> None:
    class Headers:
        def get(self, name: str) -> str:
            raise RuntimeError("no")

    assert sr.from_response(Response(502, Headers())).retry_after_header is None
    with pytest.raises(TypeError):
        sr.from_response(Response(True))
    f = sr.failure_from(HTTPError(Response(True)))
    assert f.http_status is None


def test_response_status_attribute_and_range() -> None:
    class Urllib3Like:
        status = 503
        headers: Dict[str, str] = {"Retry-After": "2"}

    assert sr.from_response(Urllib3Like()).retry_after_header == "2"
    with pytest.raises(sr.InvalidFailureError):
        sr.failure_from(Response(2**70))


def test_errno_names_and_code_attributes() -> None:
    assert sr.failure_from(ConnectionRefusedError(errno.ECONNREFUSED, "refused")).error_code == "ECONNREFUSED"
    assert sr.failure_from(OSError("no errno")).error_code is None

    class Coded(Exception):
        code = "ETIMEDOUT"

    assert sr.failure_from(Coded()).error_code == "ETIMEDOUT"


def test_grpc_like_code_is_read_only_from_grpc_modules() -> None:
    class Code(enum.Enum):
        UNAVAILABLE = (14, "unavailable")

    class RpcError(Exception):
        def code(self) -> Code:
            return Code.UNAVAILABLE

    assert sr.failure_from(RpcError()).grpc_code is None
    RpcError.__module__ = "grpc._channel"
    f = sr.failure_from(RpcError())
    assert f.grpc_code == 14


def test_cause_chain_is_cut_at_cycles_and_sixteen() -> None:
    a, b = ValueError("a"), KeyError("b")
    a.__cause__, b.__cause__ = b, a
    assert [c.exception for c in sr.failure_from(a).causes] == ["KeyError"]
    outer: BaseException = ValueError("0")
    cur = outer
    for i in range(40):
        nxt = ValueError(str(i + 1))
        cur.__context__ = nxt
        cur = nxt
    assert len(sr.failure_from(outer).causes) == 16


def test_names_messages_and_refusals() -> None:
    assert sr.failure_from("ECONNRESET").error_code == "ECONNRESET"
    assert sr.failure_from("it broke").message == "it broke"
    assert sr.failure_from(ValueError()).message is None
    with pytest.raises(TypeError):
        sr.failure_from(True)
    with pytest.raises(TypeError):
        sr.failure_from(object())


def test_record_reads_an_exception_like_failure_from(engine: sr.Engine) -> None:
    exc = ConnectionResetError(errno.ECONNRESET, "reset")
    ep1, ep2 = engine.begin("reads"), engine.begin("reads")
    direct = engine.record(ep1, exc)
    read = engine.record(ep2, sr.failure_from(exc))
    assert (direct.error_class, direct.should_retry) == (read.error_class, read.should_retry) == ("connection", True)
    assert engine.classify(exc) == engine.classify(sr.failure_from(exc))
    assert engine.disposition(exc) == "retry"
