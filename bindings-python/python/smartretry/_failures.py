"""Building a ``Failure`` from what Python code has: an exception, an HTTP response
(``requests``, ``httpx``, ``urllib3``), a status code, an errno name, a message."""

from __future__ import annotations

import errno as _errno
import logging
from typing import Any, Dict, Optional, Tuple

from ._native import Failure, SmartRetryError

log = logging.getLogger("smartretry")

_type_names: Dict[type, str] = {}


def type_name(cls: type) -> str:
    """``module.QualName`` of an exception type (just ``QualName`` for builtins), cached."""
    name = _type_names.get(cls)
    if name is None:
        mod = getattr(cls, "__module__", "builtins")
        qual = getattr(cls, "__qualname__", cls.__name__)
        name = qual if mod == "builtins" else f"{mod}.{qual}"
        _type_names[cls] = name
    return name


def _status_and_retry_after(response: Any) -> Tuple[Optional[int], Optional[str]]:
    status = getattr(response, "status_code", None)
    if status is None:
        status = getattr(response, "status", None)
    if not isinstance(status, int):
        return None, None
    headers = getattr(response, "headers", None)
    retry_after = None
    if headers is not None:
        try:
            value = headers.get("Retry-After")
        except Exception:  # noqa: BLE001 - an odd headers object: no Retry-After
            value = None
        if isinstance(value, str) and value.strip():
            retry_after = value.strip()
    return status, retry_after


def _http_failure(
    status: int,
    retry_after: Optional[str],
    exception: Optional[str] = None,
    message: Optional[str] = None,
) -> Failure:
    try:
        return Failure(
            http_status=status, retry_after=retry_after, exception=exception, message=message
        )
    except SmartRetryError:
        # A Retry-After header that is neither delta-seconds nor an HTTP-date: ignore it.
        log.debug("ignoring invalid Retry-After %r", retry_after)
        return Failure(http_status=status, exception=exception, message=message)


def from_response(response: Any) -> Failure:
    """A failure from an HTTP response: its status and its Retry-After header."""
    status, retry_after = _status_and_retry_after(response)
    if status is None:
        raise TypeError(f"not an HTTP response (no integer status): {response!r}")
    return _http_failure(status, retry_after)


def from_exception(exc: BaseException) -> Failure:
    """A failure from an exception: its type name, message, errno name, and (for
    ``requests.HTTPError`` / ``httpx.HTTPStatusError``) the response's status and Retry-After."""
    name = type_name(type(exc))
    message = str(exc) or None
    response = getattr(exc, "response", None)
    if response is not None:
        status, retry_after = _status_and_retry_after(response)
        if status is not None:
            return _http_failure(status, retry_after, name, message)
    code: Optional[str] = None
    if isinstance(exc, OSError) and isinstance(exc.errno, int):
        code = _errno.errorcode.get(exc.errno)
    elif isinstance(getattr(exc, "code", None), str):
        code = getattr(exc, "code")
    grpc_code = _grpc_code(exc)
    if grpc_code is not None:
        return Failure(grpc_code=grpc_code, exception=name, message=message)
    return Failure.exception_type(name, message, code)


def _grpc_code(exc: BaseException) -> Optional[int]:
    code_fn = getattr(exc, "code", None)
    if not callable(code_fn) or "grpc" not in type(exc).__module__:
        return None
    try:
        code = code_fn()
        value = getattr(code, "value", None)
        if isinstance(value, tuple) and value and isinstance(value[0], int):
            return value[0]
    except Exception:  # noqa: BLE001 - not a grpc.RpcError after all
        return None
    return None


def failure_from(obj: Any) -> Failure:
    """A ``Failure`` from a Failure, an exception, an HTTP response, an HTTP status (int), or
    an errno / error-code name ("ECONNRESET") or message (str)."""
    if isinstance(obj, Failure):
        return obj
    if isinstance(obj, BaseException):
        return from_exception(obj)
    if isinstance(obj, bool):
        raise TypeError("cannot make a Failure from a bool")
    if isinstance(obj, int):
        return Failure.http(obj)
    if isinstance(obj, str):
        if obj.isupper() and obj.replace("_", "").isalnum():
            return Failure.code(obj)
        return Failure.message_text(obj)
    return from_response(obj)
