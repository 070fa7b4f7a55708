"""Process-wide settings: the default engine, the testing switch, and waiting."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Optional, Type

from ._native import Engine

_lock = threading.Lock()
_default: Optional[Engine] = None


class _State:
    __slots__ = ("no_wait",)

    def __init__(self) -> None:
        self.no_wait = False


STATE = _State()


def default_engine() -> Engine:
    """The engine used when none is given: created on first use, on the system clock, with the
    ``request`` preset (sub-second backoff, a 30 s deadline), since the decorator and the
    tenacity / backoff / urllib3 adapters mostly wrap calls made on a request path. Queued jobs
    should pass their own ``Engine(preset="background")``."""
    global _default
    engine = _default
    if engine is None:
        with _lock:
            if _default is None:
                _default = Engine(preset="request")
            engine = _default
    return engine


def set_default_engine(engine: Optional[Engine]) -> None:
    """Replace the default engine (None: a fresh one is created on next use)."""
    global _default
    with _lock:
        _default = engine


class testing:
    """Disable waiting between attempts (decorator, ``attempts()``, batch, and the adapters).

    Call it to switch the mode on for the process, or use it as a context manager to restore
    the previous mode on exit::

        with smartretry.testing():
            flaky()            # retries without sleeping

    ``smartretry.testing(False)`` switches waiting back on. Engines on a ``ManualClock`` never
    sleep: their clock is advanced by each delay instead.
    """

    def __init__(self, enabled: bool = True) -> None:
        self._previous = STATE.no_wait
        STATE.no_wait = bool(enabled)

    def __enter__(self) -> "testing":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        STATE.no_wait = self._previous


def is_testing() -> bool:
    """Whether waiting is disabled."""
    return STATE.no_wait


def effective_delay(engine: Engine, delay: float) -> float:
    """How long to really wait for ``delay``: advances a manual clock (then 0), honours testing."""
    if delay <= 0.0:
        return 0.0
    if engine.manual_clock:
        engine.clock.sleep(delay)
        return 0.0
    if STATE.no_wait:
        return 0.0
    return delay


def wait(engine: Engine, delay: float) -> None:
    """Wait ``delay`` seconds as the engine's clock and the testing switch say (never sleep(0))."""
    d = effective_delay(engine, delay)
    if d > 0.0:
        time.sleep(d)


async def wait_async(engine: Engine, delay: float) -> None:
    """Async ``wait``: ``asyncio.sleep`` only when there is something to wait for."""
    d = effective_delay(engine, delay)
    if d > 0.0:
        import asyncio  # imported on first use: `import smartretry` stays free of asyncio

        await asyncio.sleep(d)
