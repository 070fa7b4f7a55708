"""The Pythonic front: ``@retry`` for sync and async functions, and ``attempts()`` for retry
blocks. Every decision is the engine's; this module only loops, waits and logs."""

from __future__ import annotations

import functools
import inspect
import logging
import types
from types import TracebackType
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Iterator,
    Optional,
    Set,
    Tuple,
    Type,
    TypeVar,
    Union,
    cast,
    overload,
)

from . import _config
from ._context import AttemptContext, ContextArg
from ._errors import RetryExhausted, attach
from ._native import Engine, Episode, Failure, Recommendation, check_key

log = logging.getLogger("smartretry")
_INFO = logging.INFO

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

    __slots__ = ("catch", "types", "pred", "classes", "transient", "asks")

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
        #: Whether a caught exception still needs `wants` (otherwise catching it said yes).
        self.asks = widened or self.pred is not None

    def wants(self, exc: BaseException, engine: Engine) -> bool:
        """Whether to hand ``exc`` to the engine (it still decides to retry or stop)."""
        if self.transient:
            return engine.disposition(exc) == "retry"
        if isinstance(exc, self.types):
            return self.pred is None or bool(self.pred(exc))
        return bool(self.classes) and engine.classify(exc)[0] in self.classes


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


#: What a sync function may not return: its body would not have run (see ``_not_a_value``).
_GENERATORS = (types.GeneratorType, types.AsyncGeneratorType)

#: Return types already seen to be plain values (neither awaitable nor a generator): the check
#: is then one set lookup, where ``hasattr(type, "__await__")`` builds and drops an
#: ``AttributeError`` (about 0.4 µs) on every call. Bounded: cleared when full.
_PLAIN_TYPES: Set[type] = set()
_PLAIN_TYPES_MAX = 512


def _not_a_value(result: Any) -> None:
    """A sync function that returned a coroutine or a generator did not run its body: refuse
    to count that as a success. Awaitables are told by their type's ``__await__`` (one lookup
    instead of ``inspect``'s ABC check); a plain value's type is remembered, so callers check
    ``type(result) in _PLAIN_TYPES`` first and call this only for a type not yet seen."""
    if isinstance(result, _GENERATORS) or hasattr(type(result), "__await__"):
        close = getattr(result, "close", None)
        if callable(close):
            close()
        raise TypeError(
            f"the retried function returned {type(result).__name__}, not a value: decorate "
            "the async function itself (async def) so that its awaited body is retried"
        )
    if len(_PLAIN_TYPES) >= _PLAIN_TYPES_MAX:
        _PLAIN_TYPES.clear()
    _PLAIN_TYPES.add(type(result))


def describe(outcome: object) -> str:
    """What failed, for a log line: an exception's repr, an HTTP response's status, a value."""
    if isinstance(outcome, BaseException):
        return repr(outcome)
    status = getattr(outcome, "status_code", None)
    if status is None:
        status = getattr(outcome, "status", None)
    if isinstance(status, int) and not isinstance(status, bool):
        return f"HTTP {status}"
    return f"result {outcome!r} rejected"


def log_decision(key: str, rec: Recommendation, outcome: object) -> None:
    """Log a retry at INFO and a give-up at WARNING on the ``smartretry`` logger; ``outcome`` is
    what failed (an exception, an HTTP response, a rejected value)."""
    level = logging.INFO if rec.should_retry else logging.WARNING
    if log.isEnabledFor(level):
        log.log(
            level,
            "%s: attempt %d failed (%s); %s",
            key,
            rec.attempt,
            describe(outcome),
            rec,
            extra={"smartretry_key": key, "smartretry_recommendation": rec},
        )


#: What a value rejected by ``retry_if_result`` is recorded as (the engine classifies it).
_REJECTED = "result rejected by retry_if_result"
_REJECTED_FAILURE = Failure(message=_REJECTED)


class _Call:
    """One retry loop's settings (from ``retry`` or ``attempts``), and how it ends."""

    __slots__ = ("key", "tenant", "filter", "max_attempts", "timeout", "rejects", "reraise", "context")

    def __init__(
        self,
        key: str,
        tenant: Optional[str],
        on: "On",
        attempts: Optional[int],
        timeout: Optional[float],
        retry_if_result: Optional[Callable[[Any], bool]],
        reraise: bool,
        context: ContextArg = None,
    ) -> None:
        check_key(key, tenant)  # a bad key fails here, not after the body ran
        if attempts is not None and (isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1):
            raise ValueError(f"attempts must be an int >= 1 (1 = no retries), not {attempts!r}")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        if retry_if_result is not None and not callable(retry_if_result):
            raise TypeError(f"retry_if_result must be callable, not {retry_if_result!r}")
        self.key = key
        self.tenant = tenant
        self.filter = _Filter(on)
        self.max_attempts = attempts
        self.timeout = None if timeout is None else float(timeout)
        self.rejects = retry_if_result
        self.reraise = reraise
        # The attempt context: a dict for the episode, or a callable asked before each decision.
        self.context = context

    def settle(self, ep: Episode, wait: float, exc: Optional[BaseException], value: Any) -> None:
        """After a decision taken with ``Engine.fail``: log it; on stop (``wait`` < 0) re-raise
        ``exc`` with the recommendation attached (or ``RetryExhausted`` from it when
        ``reraise=False``), or raise ``RetryExhausted`` with a rejected ``value``."""
        rec = cast(Recommendation, ep.recommendation)
        log_decision(self.key, rec, value if exc is None else exc)
        if wait >= 0.0:
            return
        if exc is None:
            raise RetryExhausted(self.key, rec, ep.attempts, result=value)
        if self.reraise:
            attach(exc, self.key, rec, ep.attempts)
            raise exc
        raise RetryExhausted(self.key, rec, ep.attempts) from exc


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
    attempts: Optional[int] = None,
    timeout: Optional[float] = None,
    retry_if_result: Optional[Callable[[Any], bool]] = None,
    reraise: bool = True,
    context: ContextArg = None,
) -> Callable[[F], F]: ...


def retry(
    fn: Optional[F] = None,
    *,
    key: Optional[str] = None,
    on: On = Exception,
    engine: Optional[Engine] = None,
    tenant: Optional[str] = None,
    attempts: Optional[int] = None,
    timeout: Optional[float] = None,
    retry_if_result: Optional[Callable[[Any], bool]] = None,
    reraise: bool = True,
    context: ContextArg = None,
) -> Union[F, Callable[[F], F]]:
    """Retry a function (sync or ``async``) on the exceptions in ``on`` (a type, a tuple, a
    predicate ``exc -> bool``, or ``smartretry.TRANSIENT``: whatever the engine classifies as
    retryable), waiting as the engine recommends. The builtin ``ConnectionError`` and
    ``TimeoutError`` in ``on`` also match errors the engine classifies as ``connection`` /
    ``timeout`` (``requests``' and ``httpx``'s do not subclass the builtins). Generator
    functions are refused (``TypeError``): their errors happen after the call returns.

    When the engine says stop, the last exception is re-raised as it was (like stamina and
    ``tenacity.retry(reraise=True)``), carrying ``exc.recommendation`` and, on Python 3.11+, a
    note with the engine's reason. ``reraise=False`` raises ``RetryExhausted`` from it instead.

    Per call, as stamina names them: ``attempts`` (total attempts, first included) and
    ``timeout`` (seconds from the first failure; no retry is scheduled past it) replace the
    policy's ``max_attempts`` and ``deadline`` for this call. ``retry_if_result`` (tenacity's
    name) is a predicate on the return value: a value it accepts is a failed attempt; when the
    engine gives up on one, ``RetryExhausted`` is raised with it as ``result``.

    ``key`` names the queue / job type the engine learns for (default: the function's qualified
    name); ``engine`` defaults to ``smartretry.default_engine()``. ``context`` is the attempt
    context for the learned tier and the attempt history (``smartretry.AttemptContext``): a dict,
    or a callable giving it before each decision (e.g. ``lambda: {"queue_depth": q.qsize()}``).
    """

    def deco(f: F) -> F:
        k = _default_key(f) if key is None else key
        call = _Call(k, tenant, on, attempts, timeout, retry_if_result, reraise, context)
        return _decorate(f, call, engine)

    return deco(fn) if fn is not None else deco


def _first_context(ctx: ContextArg) -> Optional[AttemptContext]:
    """The context an episode begins with: the dict, or what the callable gives now."""
    if ctx is None or not callable(ctx):
        return ctx
    return ctx()


def _update_context(ep: Episode, ctx_fn: Callable[[], Optional[AttemptContext]]) -> None:
    """Before a later decision: the callable's context now (None keeps the one in force)."""
    latest = ctx_fn()
    if latest is not None:
        ep.set_context(latest)


def _default_key(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{getattr(fn, '__module__', None) or type(fn).__module__}.{name}"


def _decorate(fn: F, call: _Call, engine: Optional[Engine]) -> F:
    flt = call.filter
    catch, asks = flt.catch, flt.asks
    k, tenant, rejects = call.key, call.tenant, call.rejects
    # The call's caps, replacing the policy's for its episode.
    cap_n, cap_t = call.max_attempts, call.timeout
    # The attempt context: a dict for the episode, or a callable asked before each decision.
    ctx = call.context
    ctx_fn: Optional[Callable[[], Optional[AttemptContext]]] = ctx if callable(ctx) else None
    ctx_dict: Optional[AttemptContext] = None if callable(ctx) else ctx
    default_engine = _config.default_engine
    info_on = log.isEnabledFor  # a retry is logged at INFO: its Recommendation only then
    plain = _PLAIN_TYPES
    if _check_callable(fn):
        afn = cast(Callable[..., Awaitable[Any]], fn)

        async def _aslow(eng: Engine, exc: Optional[BaseException], value: Any, args: Any, kwargs: Any) -> Any:
            # One native call per failed attempt: it records the failure and answers the wait
            # (-1.0: stop); the Recommendation object is built only to be logged or attached.
            first = ctx_dict if ctx_fn is None else ctx_fn()
            ep, wait = eng.begin_fail(k, _REJECTED_FAILURE if exc is None else exc, tenant, cap_n, cap_t, first)
            while True:
                if wait < 0.0 or info_on(_INFO):
                    call.settle(ep, wait, exc, value)
                if wait > 0.0:  # a zero wait costs no coroutine
                    await _config.wait_async(eng, wait)
                # rate limiter token: no call while the policy has no rate limiting
                token = eng.acquire(k) if eng.rate_limit_on else 0.0
                if token > 0.0:
                    await _config.wait_async(eng, token)
                try:
                    value = await afn(*args, **kwargs)
                except catch as e:
                    if asks and not flt.wants(e, eng):
                        eng.abandon(ep)
                        raise
                    exc = e
                except BaseException:
                    eng.abandon(ep)
                    raise
                else:
                    exc = None
                    if rejects is None or not rejects(value):
                        eng.record_success(ep)
                        return value
                if ctx_fn is not None:
                    _update_context(ep, ctx_fn)
                wait = eng.fail(ep, _REJECTED_FAILURE if exc is None else exc)

        @functools.wraps(fn)
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            eng = engine or default_engine()
            # rate limiter token: no call while the policy has no rate limiting
            token = eng.acquire(k) if eng.rate_limit_on else 0.0
            if token > 0.0:
                await _config.wait_async(eng, token)
            try:
                result = await afn(*args, **kwargs)
            except catch as exc:
                if asks and not flt.wants(exc, eng):
                    raise
                return await _aslow(eng, exc, None, args, kwargs)
            if rejects is not None and rejects(result):
                return await _aslow(eng, None, result, args, kwargs)
            eng.record_first_success(k, tenant)
            return result

        return cast(F, awrapper)

    def _slow(eng: Engine, exc: Optional[BaseException], value: Any, args: Any, kwargs: Any) -> Any:
        # One native call per failed attempt: it records the failure and answers the wait
        # (-1.0: stop); the Recommendation object is built only to be logged or attached.
        first = ctx_dict if ctx_fn is None else ctx_fn()
        ep, wait = eng.begin_fail(k, _REJECTED_FAILURE if exc is None else exc, tenant, cap_n, cap_t, first)
        while True:
            if wait < 0.0 or info_on(_INFO):
                call.settle(ep, wait, exc, value)
            if wait > 0.0:  # a zero wait costs no call
                _config.wait(eng, wait)
            # rate limiter token: no call while the policy has no rate limiting
            token = eng.acquire(k) if eng.rate_limit_on else 0.0
            if token > 0.0:
                _config.wait(eng, token)
            try:
                value = fn(*args, **kwargs)
                if type(value) not in plain:
                    _not_a_value(value)
            except catch as e:
                if asks and not flt.wants(e, eng):
                    eng.abandon(ep)
                    raise
                exc = e
            except BaseException:
                eng.abandon(ep)
                raise
            else:
                exc = None
                if rejects is None or not rejects(value):
                    eng.record_success(ep)
                    return value
            if ctx_fn is not None:
                _update_context(ep, ctx_fn)
            wait = eng.fail(ep, _REJECTED_FAILURE if exc is None else exc)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        eng = engine or default_engine()
        # rate limiter token: no call while the policy has no rate limiting
        token = eng.acquire(k) if eng.rate_limit_on else 0.0
        if token > 0.0:
            _config.wait(eng, token)
        try:
            result = fn(*args, **kwargs)
        except catch as exc:
            if asks and not flt.wants(exc, eng):
                raise
            return _slow(eng, exc, None, args, kwargs)
        if type(result) not in plain:
            _not_a_value(result)
        if rejects is not None and rejects(result):
            return _slow(eng, None, result, args, kwargs)
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
        return f"<Attempt {self.number} of {self._run.call.key}>"


class _Run:
    """The state of one ``attempts()`` loop: the episode and the pending delay."""

    __slots__ = ("engine", "call", "episode", "delay", "done")

    def __init__(self, engine: Engine, call: _Call) -> None:
        self.engine = engine
        self.call = call
        self.episode: Optional[Episode] = None
        self.delay: Optional[float] = None
        self.done = False

    def finish(self, exc: Optional[BaseException]) -> bool:
        eng = self.engine
        ep = self.episode
        call = self.call
        if exc is None:
            self.done = True
            if ep is None:
                eng.record_first_success(call.key, call.tenant)
            else:
                eng.record_success(ep)
            return False
        if not isinstance(exc, call.filter.catch) or not call.filter.wants(exc, eng):
            self.done = True
            if ep is not None:
                eng.abandon(ep)
            return False
        self.done = True  # until the engine says retry
        try:
            # One native call per failed attempt, as in `retry`.
            ctx = call.context
            if ep is None:
                ep, wait = eng.begin_fail(
                    call.key, exc, call.tenant, call.max_attempts, call.timeout, _first_context(ctx)
                )
                self.episode = ep
            else:
                if callable(ctx):
                    _update_context(ep, ctx)
                wait = eng.fail(ep, exc)
            if wait < 0.0 or log.isEnabledFor(_INFO):
                call.settle(ep, wait, exc, None)
        except BaseException as stop:
            if stop is exc:
                return False  # the block's own exception goes on, recommendation attached
            raise
        self.done = False
        self.delay = wait
        return True


class attempts:
    """Retry a block: ``for attempt in smartretry.attempts("key"): with attempt: ...`` (or
    ``async for``). The loop ends when the block succeeds. When the engine says stop, the
    block's last exception goes on, with ``recommendation`` attached (``reraise=False``: the
    ``with`` raises ``RetryExhausted`` chained to it). ``attempts`` and ``timeout`` replace the
    policy's ``max_attempts`` and ``deadline`` for this loop, as in ``retry``."""

    def __init__(
        self,
        key: str,
        *,
        on: On = Exception,
        engine: Optional[Engine] = None,
        tenant: Optional[str] = None,
        attempts: Optional[int] = None,
        timeout: Optional[float] = None,
        reraise: bool = True,
        context: ContextArg = None,
    ) -> None:
        # A bad key, on=, attempts= or timeout= fails here, before the block runs.
        self.call = _Call(key, tenant, on, attempts, timeout, None, reraise, context)
        self.key = key
        self.engine = engine

    def _run(self) -> _Run:
        return _Run(self.engine or _config.default_engine(), self.call)

    def __iter__(self) -> Iterator[Attempt]:
        run = self._run()
        number = 1
        eng = run.engine
        while True:
            if eng.rate_limit_on:  # rate limiter token: no call while there is no rate limiting
                _config.wait(eng, eng.acquire(self.key))
            yield Attempt(run, number)
            if run.done or run.delay is None:
                return
            delay, run.delay = run.delay, None
            _config.wait(run.engine, delay)
            number += 1

    async def __aiter__(self) -> AsyncIterator[Attempt]:
        run = self._run()
        number = 1
        eng = run.engine
        while True:
            if eng.rate_limit_on:  # rate limiter token: no call while there is no rate limiting
                await _config.wait_async(eng, eng.acquire(self.key))
            yield Attempt(run, number)
            if run.done or run.delay is None:
                return
            delay, run.delay = run.delay, None
            await _config.wait_async(run.engine, delay)
            number += 1
