"""Errors raised by the Python layer, and how a give-up is told on the caller's own exception."""

from __future__ import annotations

from typing import Any, Optional

from ._native import Recommendation, SmartRetryError

#: Not yet given: tells ``RetryExhausted(result=None)`` (a rejected ``None``) from no result.
_NO_RESULT: Any = object()


def give_up_message(key: str, recommendation: Recommendation, attempts: int) -> str:
    """``payments: give up after 4 attempt(s): <the engine's reason>``."""
    return (
        f"{key}: {recommendation.action.replace('_', ' ')} after {attempts} attempt(s): "
        f"{recommendation.reason}"
    )


class RetryExhausted(SmartRetryError):
    """The engine said stop (give up or escalate), raised instead of the last error when a loop
    is asked for it (``reraise=False``), or when the last attempt returned a value that
    ``retry_if_result`` rejected (``result``). The last error, if any, is ``__cause__``; the
    engine's answer is ``recommendation``; the message ends with its reason."""

    code = "RETRY_EXHAUSTED"

    def __init__(
        self,
        key: str,
        recommendation: Recommendation,
        attempts: int,
        result: Any = _NO_RESULT,
    ) -> None:
        super().__init__(give_up_message(key, recommendation, attempts))
        self.key = key
        self.recommendation = recommendation
        self.attempts = attempts
        self._result = result

    @property
    def escalate(self) -> bool:
        """True when the engine says a person must look at it (captcha, consent, ...)."""
        return self.recommendation.action == "escalate"

    @property
    def has_result(self) -> bool:
        """Whether the last attempt returned a value (rejected by ``retry_if_result``)."""
        return self._result is not _NO_RESULT

    @property
    def result(self) -> Any:
        """The value the last attempt returned (``AttributeError`` when it raised instead)."""
        if self._result is _NO_RESULT:
            raise AttributeError("the last attempt raised; see __cause__")
        return self._result


def attach(exc: BaseException, key: str, recommendation: Recommendation, attempts: int) -> None:
    """Tell the engine's give-up on the caller's own exception before it is re-raised (as stamina
    and ``tenacity(reraise=True)`` re-raise it): ``exc.recommendation``, and on Python 3.11+ a
    note that tracebacks print. Exceptions that refuse attributes keep only the note."""
    try:
        exc.recommendation = recommendation  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass
    add_note = getattr(exc, "add_note", None)
    if add_note is None:
        return
    note = "smartretry: " + give_up_message(key, recommendation, attempts)
    notes: Optional[Any] = getattr(exc, "__notes__", None)
    if not (isinstance(notes, list) and note in notes):
        add_note(note)
