"""Errors raised by the Python layer."""

from __future__ import annotations

from ._native import Recommendation, SmartRetryError


class RetryExhausted(SmartRetryError):
    """The engine said stop (give up or escalate). The last error is ``__cause__``; the
    engine's answer is ``recommendation`` (its ``str()`` says why)."""

    code = "RETRY_EXHAUSTED"

    def __init__(self, key: str, recommendation: Recommendation, attempts: int) -> None:
        super().__init__(
            f"{key}: {recommendation.action.replace('_', ' ')} after {attempts} attempt(s): "
            f"{recommendation.reason}"
        )
        self.key = key
        self.recommendation = recommendation
        self.attempts = attempts

    @property
    def escalate(self) -> bool:
        """True when the engine says a person must look at it (captcha, consent, ...)."""
        return self.recommendation.action == "escalate"
