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
    Dict,
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
from ._native import Engine, Episode, Recommendation, check_key

log = logging.getLogger("smartretry")

F = TypeVar("F", bound=Callable[..., Any])
ExcTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]
On = Union[ExcTypes, Callable[[BaseException], bool], "_Transient"]


class _Transient:
    """``on=smartretry.TRANSIENT``: retry whatever the engine classifies as worth retrying (its
    class's disposition is ``retry``), whatever the exception's type. ``requests`` and ``httpx``
    connection errors do not subclass the builtin ``ConnectionError``, but the engine reads their
    names and cause chains; errors it deems permanent are re-raised untouched, at once."""

    def __repr__(self) -> str:
        return "smartretry.TRANSIENT"


TRANSIENT = _Transient()

#: Builtin types in ``on=`` that also match errors the engine puts in the same class: the
#: client libraries' connection and timeout errors are not subclasses of the builtins.
_CLASS_OF_BUILTIN: Dict[Type[BaseException], str] = {
    ConnectionError: "connection",
    TimeoutError: "timeout",
}


class _Filter:
    """Which exceptions a retry loop catches (``on=``): types, a predicate, or TRANSIENT."""

    __slots__ = ("catch", "types", "pred", "classes", "transient")

    def __init__(self, on: "On") -> None:
        self.pred: Optional[Callable[[BaseException], bool]] = None
        self.transient = on is TRANSIENT
        types: Tuple[Type[BaseException], ...] = ()
        if self.transient:
            types = ()
        elif isinstance(on, type) and issubclass(on, BaseException):
            types = (on,)
        elif isinstance(on, tuple) and all(
            isinstance(t, type) and issubclass(t, BaseException) for t in on
        ):
            types = on
        elif callable(on):
            self.pred = cast(Callable[[BaseException], bool], on)
            types = (Exception,)
        else:
            raise TypeError(
                "on= must be an exception type, a tuple of them, a predicate, or smartretry.TRANSIENT"
            )
        self.types = types
        self.classes = frozenset(c for t, c in _CLASS_OF_BUILTIN.items() if t in types)
        widened = self.transient or bool(self.classes)
        self.catch: Tuple[Type[BaseException], ...] = (Exception,) + types if widened else types

    def wants(self, exc: BaseException, engine: Engine) -> bool:
        """Whether to hand ``exc`` to the engine (it still decides to retry or stop)."""
        if self.transient:
            return engine.disposition(failure_from(exc)) == "retry"
        if isinstance(exc, self.types):
            return self.pred is None or bool(self.pred(exc))
        return bool(self.classes) and engine.classify(failure_from(exc))[0] in self.classes


def _check_callable(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` is async (an ``async def``, or an object whose ``__call__`` is one);
    ``TypeError`` for generators, whose errors happen after the call has "succeeded"."""
    call = getattr(fn, "__call__", None)
    if any(inspect.isgeneratorfunction(f) or inspect.isasyncgenfunction(f) for f in (fn, call)):
        raise TypeError(
            f"cannot retry a generator function ({fn!r}): its body runs while it is iterated, "
            "after the call returned; retry a function that consumes it instead"
        )
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(call)


def _not_a_value(result: Any) -> None:
    """A sync function that returned a coroutine or a generator did not run its body: refuse
    to count that as a success."""
    if inspect.isawaitable(result) or inspect.isgenerator(result) or inspect.isasyncgen(result):
        close = getattr(result, "close", None)
        if callable(close):
            close()
        raise TypeError(
            f"the retried function returned {type(result).__name__}, not a value: decorate "
            "the async function itself (async def) so that its awaited body is retried"
        )


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
    """Retry a function (sync or ``async``) on the exceptions in ``on`` (a type, a tuple, a
    predicate ``exc -> bool``, or ``smartretry.TRANSIENT``: whatever the engine classifies as
    retryable), waiting as the engine recommends. The builtin ``ConnectionError`` and
    ``TimeoutError`` in ``on`` also match errors the engine classifies as ``connection`` /
    ``timeout`` (``requests``' and ``httpx``'s do not subclass the builtins). When the engine
    says stop, raises ``RetryExhausted`` with the last error as ``__cause__``. Generator
    functions are refused (``TypeError``): their errors happen after the call returns.

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
    k = _default_key(fn) if key is None else key
    check_key(k, tenant)  # a bad key fails here, not after the body ran
    flt = _Filter(on)
    catch = flt.catch
    default_engine = _config.default_engine
    if _check_callable(fn):
        afn = cast(Callable[..., Awaitable[Any]], fn)

        async def _aslow(eng: Engine, exc: BaseException, args: Any, kwargs: Any) -> Any:
            ep = eng.begin(k, tenant)
            while True:
                rec = _decide(eng, k, ep, exc)
                await _config.wait_async(eng, rec.delay)
                await _config.wait_async(eng, eng.acquire(k))  # rate limiter token
                try:
                    result = await afn(*args, **kwargs)
                except catch as e:
                    if not flt.wants(e, eng):
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
            await _config.wait_async(eng, eng.acquire(k))  # rate limiter token
            try:
                result = await afn(*args, **kwargs)
            except catch as exc:
                if not flt.wants(exc, eng):
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
            _config.wait(eng, eng.acquire(k))  # rate limiter token
            try:
                result = fn(*args, **kwargs)
                _not_a_value(result)
            except catch as e:
                if not flt.wants(e, eng):
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
        _config.wait(eng, eng.acquire(k))  # rate limiter token
        try:
            result = fn(*args, **kwargs)
        except catch as exc:
            if not flt.wants(exc, eng):
                raise
            return _slow(eng, exc, args, kwargs)
        _not_a_value(result)
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

    __slots__ = ("engine", "key", "tenant", "filter", "episode", "delay", "done")

    def __init__(self, engine: Engine, key: str, tenant: Optional[str], on: On) -> None:
        self.engine = engine
        self.key = key
        self.tenant = tenant
        self.filter = _Filter(on)
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
        if not isinstance(exc, self.filter.catch) or not self.filter.wants(exc, eng):
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
        check_key(key, tenant)  # a bad key fails here, before the block runs
        _Filter(on)  # and so does a bad on=
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
            _config.wait(run.engine, run.engine.acquire(self.key))  # rate limiter token
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
            await _config.wait_async(run.engine, run.engine.acquire(self.key))
            yield Attempt(run, number)
            if run.done or run.delay is None:
                return
            delay, run.delay = run.delay, None
            await _config.wait_async(run.engine, delay)
            number += 1
