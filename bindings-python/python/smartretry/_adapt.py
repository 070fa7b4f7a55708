"""State shared by the adapters: one episode per retry loop, recorded once per attempt."""

from __future__ import annotations

from typing import Optional

from . import _config
from ._context import AttemptContext, ContextArg
from ._errors import attach
from ._native import Engine, Episode, Recommendation
from ._retry import log_decision


class Tracker:
    """The engine's view of one retry loop run by another library."""

    __slots__ = ("engine", "key", "tenant", "context", "episode", "recommendation", "attempt", "finished")

    def __init__(
        self, engine: Optional[Engine], key: str, tenant: Optional[str], context: ContextArg = None
    ) -> None:
        self.engine = engine or _config.default_engine()
        self.key = key
        self.tenant = tenant
        # A dict is the episode's context; a callable is asked again before every decision.
        self.context = context
        self.episode: Optional[Episode] = None
        self.recommendation: Optional[Recommendation] = None
        self.attempt = 0
        self.finished = False

    def failed(self, attempt: int, error: object) -> Recommendation:
        """Record attempt number ``attempt``'s failure once; the decision for it."""
        if self.recommendation is not None and self.attempt == attempt:
            return self.recommendation
        ctx = self.context
        if self.episode is None:
            if ctx is None:
                self.episode = self.engine.begin(self.key, self.tenant)
            else:
                now: Optional[AttemptContext] = ctx() if callable(ctx) else ctx
                self.episode = self.engine.begin(self.key, self.tenant, context=now)
        elif callable(ctx):
            latest = ctx()
            if latest is not None:
                self.episode.set_context(latest)
        rec = self.engine.record(self.episode, error)
        log_decision(self.key, rec, error)
        self.recommendation = rec
        self.attempt = attempt
        if not rec.should_retry:
            self.finished = True
            # The other library re-raises the error itself: tell the give-up on it.
            if isinstance(error, BaseException):
                attach(error, self.key, rec, self.episode.attempts)
        return rec

    def succeeded(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self.episode is None:
            self.engine.record_first_success(self.key, self.tenant)
        else:
            self.engine.record_success(self.episode)

    def abandon(self) -> None:
        if not self.finished and self.episode is not None:
            self.engine.abandon(self.episode)
        self.finished = True
