"""Building a ``Failure`` from what Python code has: an exception, an HTTP response
(``requests``, ``httpx``, ``urllib3``), a status code, an errno name, a message."""

from __future__ import annotations

import errno as _errno
import logging
from typing import Any, Dict, List, Optional, Tuple

from ._native import Failure, InvalidRetryAfterError, SmartRetryError

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
    if not isinstance(status, int) or isinstance(status, bool):
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


def from_response(response: Any) -> Failure:
    """A failure from an HTTP response: its status (checked by the core: 100-599) and its
    Retry-After header (ignored when it is neither delta-seconds nor an HTTP-date)."""
    status, retry_after = _status_and_retry_after(response)
    if status is None:
        raise TypeError(f"not an HTTP response (no integer status): {response!r}")
    try:
        return Failure(http_status=status, retry_after=retry_after)
    except InvalidRetryAfterError:
        log.debug("ignoring invalid Retry-After %r", retry_after)
        return Failure(http_status=status)


#: Most causes read from ``__cause__`` / ``__context__`` (the core's bound: it reads no more).
MAX_CAUSES = 16


def _causes(exc: BaseException) -> List[BaseException]:
    """The exceptions behind ``exc``, outermost first: ``__cause__``, else ``__context__`` unless
    suppressed (``raise ... from None``); cycles and overly long chains are cut."""
    out: List[BaseException] = []
    seen = {id(exc)}
    cur: Optional[BaseException] = exc
    while cur is not None and len(out) < MAX_CAUSES:
        nxt = cur.__cause__
        if nxt is None and not cur.__suppress_context__:
            nxt = cur.__context__
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        out.append(nxt)
        cur = nxt
    return out


def _single(exc: BaseException, causes: Optional[List[Failure]] = None) -> Failure:
    """One exception's own signals (no chain): type name, message, errno / code name, gRPC code,
    and (``requests.HTTPError`` / ``httpx.HTTPStatusError``) the response's status and
    Retry-After. A signal the core refuses (an odd ``code`` attribute, a status outside
    100-599) is dropped rather than replacing the caller's exception with ours."""
    name = type_name(type(exc))
    message = str(exc) or None
    status: Optional[int] = None
    retry_after: Optional[str] = None
    response = getattr(exc, "response", None)
    if response is not None:
        status, retry_after = _status_and_retry_after(response)
    code: Optional[str] = None
    if isinstance(exc, OSError) and isinstance(exc.errno, int):
        code = _errno.errorcode.get(exc.errno)
    elif isinstance(getattr(exc, "code", None), str):
        code = getattr(exc, "code")
    fields: Dict[str, Any] = {
        "http_status": status,
        "grpc_code": _grpc_code(exc),
        "error_code": code,
        "exception": name,
        "message": message,
        "retry_after": retry_after,
        "causes": causes,
    }
    given = {k: v for k, v in fields.items() if v is not None}
    try:
        return Failure(**given)
    except (SmartRetryError, TypeError):
        pass
    # Keep only the signals the core accepts one by one (the slow path of an odd exception).
    kept: Dict[str, Any] = {}
    for k, v in given.items():
        try:
            Failure(**{k: v})
            kept[k] = v
        except (SmartRetryError, TypeError):
            log.debug("ignoring %s=%r of %r", k, v, exc)
    try:
        return Failure(**kept)
    except (SmartRetryError, TypeError):
        return Failure(message=message)


def from_exception(exc: BaseException) -> Failure:
    """A failure from an exception and its cause chain (``__cause__`` / ``__context__``), so
    the core's classifier sees the most specific signal anywhere in it: a ``requests``
    ``ConnectionError`` wrapping urllib3's wrapping ``ConnectionRefusedError`` is ``connection``
    by its errno even though the outer type name is generic."""
    causes = [_single(c) for c in _causes(exc)]
    return _single(exc, causes or None)


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
