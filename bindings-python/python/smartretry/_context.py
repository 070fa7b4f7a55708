"""The attempt context's shape, for editors and type checkers: what the caller knows about an
attempt that the engine cannot see. Pass it as a plain dict to ``Engine.begin(context=...)`` or
``Episode.set_context``; the engine reads it in the core's JSON form (the attempt history's field
names), so an unknown key or an impossible value is a typed error (``InvalidConfigError``,
``InvalidDurationError``), never a silently neutral feature."""

from __future__ import annotations

from typing import Callable, Optional, TypedDict, Union


class AttemptContext(TypedDict, total=False):
    """Every key is optional; a missing one is a neutral feature."""

    hour_of_day: float  # UTC, [0, 24); default: the engine's clock
    day_of_week: int  # UTC, 0 = Monday ... 6 = Sunday; default: the engine's clock
    payload_size: int  # bytes
    queue_depth: int  # jobs waiting when the attempt ran
    downstream_latency: float  # seconds, the dependency's latest observed latency
    worker_version: str
    tenant: str  # when not given to ``begin``


#: What the adapters take as ``context=``: a context, or a callable giving the context in force
#: before each decision (e.g. the current queue depth), or None.
ContextArg = Union[AttemptContext, Callable[[], Optional[AttemptContext]], None]

__all__ = ["AttemptContext", "ContextArg"]
