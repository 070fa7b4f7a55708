"""backoff adapter: a ``wait_gen`` that asks the engine, and the handlers that feed successes
back::

    import backoff, smartretry.backoff as sb
    @sb.on_exception(engine, requests.RequestException, key="payments")
    # or, by hand:
    @backoff.on_exception(sb.wait_adaptive, requests.RequestException, jitter=None,
                          on_success=sb.on_success, engine=engine, key="payments")

When the engine gives up, the generator ends and backoff re-raises the last error. Pass
``jitter=None``: the engine's delays are already jittered. On a ManualClock engine (or under
``smartretry.testing()``) the generator advances the clock and yields 0.
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable, Generator, Optional, Tuple, Type, TypeVar, Union, cast

import backoff

from . import _config
from ._adapt import Tracker
from ._context import ContextArg
from ._native import Engine

F = TypeVar("F", bound=Callable[..., Any])
ExcTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]

_current: "contextvars.ContextVar[Optional[Tracker]]" = contextvars.ContextVar(
    "smartretry_backoff", default=None
)


def wait_adaptive(
    engine: Optional[Engine] = None,
    key: str = "backoff",
    tenant: Optional[str] = None,
    context: ContextArg = None,
) -> Generator[float, Any, None]:
    """backoff wait generator: receives each failure (exception or value) and yields the engine's
    delay; returns (so backoff gives up) when the engine says stop. ``context``: the attempt
    context, a dict or a callable giving it before each decision."""
    tr = Tracker(engine, key, tenant, context)
    token = _current.set(tr)
    try:
        error = yield 0.0  # backoff primes the generator with send(None)
        attempt = 1
        while True:
            rec = tr.failed(attempt, error)
            if not rec.should_retry:
                return
            error = yield _config.effective_delay(tr.engine, rec.delay)
            attempt += 1
    finally:
        if not tr.finished:
            tr.abandon()
        try:
            _current.reset(token)
        except ValueError:  # closed from another context: nothing to restore
            pass


def on_success(details: Any) -> None:
    """backoff ``on_success`` handler: tells the engine the call succeeded."""
    tr = _current.get()
    if tr is not None:
        tr.succeeded()


def on_exception(
    engine: Optional[Engine],
    exception: ExcTypes,
    *,
    key: str,
    tenant: Optional[str] = None,
    context: ContextArg = None,
    **kwargs: Any,
) -> Callable[[F], F]:
    """``backoff.on_exception`` wired to the engine (wait, give-up, successes, no extra jitter);
    ``context`` as for ``wait_adaptive``."""
    handlers = kwargs.pop("on_success", None)
    success: Any = [on_success] + (list(handlers) if isinstance(handlers, (list, tuple)) else [handlers] if handlers else [])
    kwargs.setdefault("jitter", None)
    deco: Callable[[F], F] = backoff.on_exception(
        wait_adaptive,
        cast(Any, exception),
        on_success=success,
        engine=engine,
        key=key,
        tenant=tenant,
        context=context,
        **kwargs,
    )
    return deco


__all__ = ["on_exception", "on_success", "wait_adaptive"]
