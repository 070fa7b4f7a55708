"""The Pythonic front: ``@retry`` for sync and async functions, and ``attempts()`` for retry
blocks. Every decision is the engine's; this module only loops, waits and logs."""

from __future__ import annotations

import functools
import inspect
import logging
from types import TracebackType
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Optional,
    Tuple,
    Type,
    TypeVar,
    Union,
    cast,
    overload,
)

from . import _config
from ._errors import RetryExhausted
from ._failures import failure_from
from ._native import Engine, Episode, Recommendation

log = logging.getLogger("smartretry")

F = TypeVar("F", bound=Callable[..., Any])
ExcTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]
On = Union[ExcTypes, Callable[[BaseException], bool]]


def _split_on(on: On) -> Tuple[Tuple[Type[BaseException], ...], Optional[Callable[[BaseException], bool]]]:
    """Exception types to catch, and an optional predicate deciding whether to retry."""
    if isinstance(on, type) and issubclass(on, BaseException):
        return (on,), None
    if isinstance(on, tuple):
        return on, None
    if callable(on):
        return (Exception,), cast(Callable[[BaseException], bool], on)
    raise TypeError("on= must be an exception type, a tuple of them, or a predicate")


def log_decision(key: str, rec: Recommendation, exc: Optional[BaseException]) -> None:
    """Log a retry at INFO and a give-up at WARNING on the ``smartretry`` logger."""
    if rec.should_retry:
        if log.isEnabledFor(logging.INFO):
            log.info(
                "%s: attempt %d failed (%r); %s",
                key,
                rec.attempt,
                exc,
                rec,
                extra={"smartretry_key": key, "smartretry_recommendation": rec},
            )
    elif log.isEnabledFor(logging.WARNING):
        log.warning(
            "%s: attempt %d failed (%r); %s",
            key,
            rec.attempt,
            exc,
            rec,
            extra={"smartretry_key": key, "smartretry_recommendation": rec},
        )


def _decide(
    engine: Engine, key: str, ep: Episode, exc: BaseException
) -> Recommendation:
    rec = engine.record(ep, failure_from(exc))
    log_decision(key, rec, exc)
    if not rec.should_retry:
        raise RetryExhausted(key, rec, ep.attempts) from exc
    return rec


@overload
def retry(fn: F) -> F: ...


@overload
def retry(
    fn: None = None,
    *,
    key: Optional[str] = None,
    on: On = Exception,
    engine: Optional[Engine] = None,
    tenant: Optional[str] = None,
) -> Callable[[F], F]: ...


def retry(
    fn: Optional[F] = None,
    *,
    key: Optional[str] = None,
    on: On = Exception,
    engine: Optional[Engine] = None,
    tenant: Optional[str] = None,
) -> Union[F, Callable[[F], F]]:
    """Retry a function (sync or ``async``) on the exceptions in ``on`` (a type, a tuple, or a
    predicate ``exc -> bool``), waiting as the engine recommends. When the engine says stop,
    raises ``RetryExhausted`` with the last error as ``__cause__``.

    ``key`` names the queue / job type the engine learns for (default: the function's qualified
    name); ``engine`` defaults to ``smartretry.default_engine()``.
    """
    if fn is not None:
        return _decorate(fn, key, on, engine, tenant)

    def deco(f: F) -> F:
        return _decorate(f, key, on, engine, tenant)

    return deco


def _default_key(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{getattr(fn, '__module__', None) or type(fn).__module__}.{name}"


def _decorate(fn: F, key: Optional[str], on: On, engine: Optional[Engine], tenant: Optional[str]) -> F:
    k = key or _default_key(fn)
    catch, pred = _split_on(on)
    default_engine = _config.default_engine
    if inspect.iscoroutinefunction(fn):
        afn = cast(Callable[..., Awaitable[Any]], fn)

        async def _aslow(eng: Engine, exc: BaseException, args: Any, kwargs: Any) -> Any:
            ep = eng.begin(k, tenant)
            while True:
                rec = _decide(eng, k, ep, exc)
                await _config.wait_async(eng, rec.delay)
                try:
                    result = await afn(*args, **kwargs)
                except catch as e:
                    if pred is not None and not pred(e):
                        eng.abandon(ep)
                        raise
                    exc = e
                    continue
                except BaseException:
                    eng.abandon(ep)
                    raise
                eng.record_success(ep)
                return result

        @functools.wraps(fn)
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            eng = engine or default_engine()
            try:
                result = await afn(*args, **kwargs)
            except catch as exc:
                if pred is not None and not pred(exc):
                    raise
                return await _aslow(eng, exc, args, kwargs)
            eng.record_first_success(k, tenant)
            return result

        return cast(F, awrapper)

    def _slow(eng: Engine, exc: BaseException, args: Any, kwargs: Any) -> Any:
        ep = eng.begin(k, tenant)
        while True:
            rec = _decide(eng, k, ep, exc)
            _config.wait(eng, rec.delay)
            try:
                result = fn(*args, **kwargs)
            except catch as e:
                if pred is not None and not pred(e):
                    eng.abandon(ep)
                    raise
                exc = e
                continue
            except BaseException:
                eng.abandon(ep)
                raise
            eng.record_success(ep)
            return result

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        eng = engine or default_engine()
        try:
            result = fn(*args, **kwargs)
        except catch as exc:
            if pred is not None and not pred(exc):
                raise
            return _slow(eng, exc, args, kwargs)
        eng.record_first_success(k, tenant)
        return result

    return cast(F, wrapper)


class Attempt:
    """One attempt of an ``attempts()`` loop: use it as ``with attempt: ...``."""

    __slots__ = ("_run", "number")

    def __init__(self, run: "_Run", number: int) -> None:
        self._run = run
        self.number = number

    def __enter__(self) -> "Attempt":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool:
        return self._run.finish(exc)

    def __repr__(self) -> str:
        return f"<Attempt {self.number} of {self._run.key}>"


class _Run:
    """The state of one ``attempts()`` loop: the episode and the pending delay."""

    __slots__ = ("engine", "key", "tenant", "catch", "pred", "episode", "delay", "done")

    def __init__(self, engine: Engine, key: str, tenant: Optional[str], on: On) -> None:
        self.engine = engine
        self.key = key
        self.tenant = tenant
        self.catch, self.pred = _split_on(on)
        self.episode: Optional[Episode] = None
        self.delay: Optional[float] = None
        self.done = False

    def finish(self, exc: Optional[BaseException]) -> bool:
        eng = self.engine
        ep = self.episode
        if exc is None:
            self.done = True
            if ep is None:
                eng.record_first_success(self.key, self.tenant)
            else:
                eng.record_success(ep)
            return False
        if not isinstance(exc, self.catch) or (self.pred is not None and not self.pred(exc)):
            self.done = True
            if ep is not None:
                eng.abandon(ep)
            return False
        if ep is None:
            ep = self.episode = eng.begin(self.key, self.tenant)
        self.done = True  # until the engine says retry
        rec = _decide(eng, self.key, ep, exc)
        self.done = False
        self.delay = rec.delay
        return True


class attempts:
    """Retry a block: ``for attempt in smartretry.attempts("key"): with attempt: ...`` (or
    ``async for``). The loop ends when the block succeeds; when the engine says stop, the
    ``with`` raises ``RetryExhausted`` chained to the last error."""

    def __init__(
        self,
        key: str,
        *,
        on: On = Exception,
        engine: Optional[Engine] = None,
        tenant: Optional[str] = None,
    ) -> None:
        self.key = key
        self.on = on
        self.engine = engine
        self.tenant = tenant

    def _run(self) -> _Run:
        return _Run(self.engine or _config.default_engine(), self.key, self.tenant, self.on)

    def __iter__(self) -> Iterator[Attempt]:
        run = self._run()
        number = 1
        while True:
            yield Attempt(run, number)
            if run.done or run.delay is None:
                return
            delay, run.delay = run.delay, None
            _config.wait(run.engine, delay)
            number += 1

    async def __aiter__(self) -> AsyncIterator[Attempt]:
        run = self._run()
        number = 1
        while True:
            yield Attempt(run, number)
            if run.done or run.delay is None:
                return
            delay, run.delay = run.delay, None
            await _config.wait_async(run.engine, delay)
            number += 1
