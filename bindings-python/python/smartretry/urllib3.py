"""urllib3 adapter: a ``Retry`` whose backoff and Retry-After handling ask the engine, so a
``requests`` session can mount it::

    from smartretry.urllib3 import AdaptiveRetry
    session.mount("https://", HTTPAdapter(max_retries=AdaptiveRetry(engine=engine, key="payments")))

urllib3's own counters still apply (``total`` defaults to 10, so normally the engine's caps
bind first). When the engine gives up, ``RetryGivenUp`` (a ``MaxRetryError``) is raised with
the ``recommendation`` attached and the engine's reason in its message, which ``requests``
shows in the ``RetryError`` / ``ConnectionError`` it raises from it; with
``raise_on_status=False`` the last response is returned. Log lines name the HTTP status.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Collection, Optional

from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from . import _config
from ._adapt import Tracker
from ._errors import give_up_message
from ._native import Engine, Recommendation
from ._retry import describe

DEFAULT_STATUS_FORCELIST = frozenset({408, 425, 429, 500, 502, 503, 504})


class RetryGivenUp(MaxRetryError):
    """The engine said stop; ``recommendation`` says why, and so does the message."""

    recommendation: Optional[Recommendation] = None

    def __init__(
        self,
        pool: Any,
        url: str,
        reason: Optional[Exception] = None,
        recommendation: Optional[Recommendation] = None,
        key: str = "http",
        last: object = None,
    ) -> None:
        super().__init__(pool, url, reason)
        if recommendation is None:
            return
        self.recommendation = recommendation
        told = (
            f"{give_up_message(key, recommendation, recommendation.attempt)} "
            f"(url: {url}; last: {describe(last if last is not None else reason)})"
        )
        self.args = (f"{pool}: {told}" if pool is not None else told,)


class AdaptiveRetry(Retry):
    """``urllib3.Retry`` deferring every delay and give-up to a smartretry engine."""

    def __init__(
        self,
        total: "bool | int | None" = 10,
        *,
        engine: Optional[Engine] = None,
        key: str = "http",
        tenant: Optional[str] = None,
        status_forcelist: Optional[Collection[int]] = DEFAULT_STATUS_FORCELIST,
        **kwargs: Any,
    ) -> None:
        super().__init__(total=total, status_forcelist=status_forcelist, **kwargs)
        self.engine = engine
        self.key = key
        self.tenant = tenant
        self.tracker: Optional[Tracker] = None
        self.recommendation: Optional[Recommendation] = None

    def new(self, **kw: Any) -> "AdaptiveRetry":
        r = super().new(**kw)
        r.engine = self.engine
        r.key = self.key
        r.tenant = self.tenant
        r.tracker = self.tracker
        r.recommendation = self.recommendation
        return r

    def _engine(self) -> Engine:
        return self.engine or _config.default_engine()

    def increment(
        self,
        method: Optional[str] = None,
        url: Optional[str] = None,
        response: Optional[BaseHTTPResponse] = None,
        error: Optional[Exception] = None,
        _pool: Any = None,
        _stacktrace: Optional[TracebackType] = None,
    ) -> "AdaptiveRetry":
        if error is None and response is not None and response.get_redirect_location():
            return super().increment(method, url, response, error, _pool, _stacktrace)
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        tracker = self.tracker or Tracker(self._engine(), self.key, self.tenant)
        new.tracker = tracker
        rec = tracker.failed(len(new.history), error if error is not None else response)
        new.recommendation = rec
        if not rec.should_retry:
            reason: Exception = error or ResponseError(
                ResponseError.SPECIFIC_ERROR.format(status_code=response.status)
                if response is not None
                else ResponseError.GENERIC_ERROR
            )
            last = error if error is not None else response
            raise RetryGivenUp(_pool, url or "", reason, rec, key=self.key, last=last) from reason
        return new

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        retry = super().is_retry(method, status_code, has_retry_after)
        if not retry:
            if status_code < 400:
                if self.tracker is None:
                    self._engine().record_first_success(self.key, self.tenant)
                else:
                    self.tracker.succeeded()
            elif self.tracker is not None:
                self.tracker.abandon()
        return retry

    def get_backoff_time(self) -> float:
        rec = self.recommendation
        return rec.delay if rec is not None and rec.should_retry else 0.0

    def sleep(self, response: Optional[BaseHTTPResponse] = None) -> None:
        # The engine already honoured Retry-After (as a floor) in its recommendation.
        _config.wait(self._engine(), self.get_backoff_time())

    def __repr__(self) -> str:
        return f"AdaptiveRetry(key={self.key!r}, total={self.total!r}, recommendation={self.recommendation!s})"


__all__ = ["AdaptiveRetry", "DEFAULT_STATUS_FORCELIST", "RetryGivenUp"]
