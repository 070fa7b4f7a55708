"""smartretry: a retry engine that learns (Rust core, PyO3 binding).

    import smartretry

    @smartretry.retry(key="payments", on=ConnectionError)
    def charge(order): ...

Every decision (the delay, or stop) is the engine's, with its reason: ``str(recommendation)``.
"""

import os as _os

from ._policy_types import Policy as Policy  # the policy dict's keys, for editors (generated)
from ._batch import BatchResult, retry_batch, retry_batch_async
from ._context import AttemptContext
from ._config import default_engine, is_testing, set_default_engine, testing
from ._errors import RetryExhausted
from ._logging import log_events
from ._structured import json_log_events, structlog_events
from ._native import (
    ERROR_CLASSES,
    Admin,
    Claim,
    Engine,
    Episode,
    Failure,
    FleetStore,
    FleetUnavailableError,
    InvalidConfigError,
    InvalidDurationError,
    InvalidJsonError,
    InvalidKeyError,
    InvalidRetryAfterError,
    InvalidRuleError,
    InvalidStateError,
    InvalidFailureError,
    InvalidModelError,
    InvalidPolicyError,
    ManualClock,
    PolicyError,
    Recommendation,
    RetrySchedule,
    ScheduleStorageError,
    SmartRetryError,
    SnapshotCorruptError,
    SnapshotError,
    SnapshotIOError,
    SnapshotVersionError,
    SystemClock,
    UnknownClassError,
    __version__,
    check_key,
    failure_from,
    from_exception,
    from_response,
    parse_retry_after,
)
from ._retry import TRANSIENT, Attempt, attempts, retry
from . import _native as _native_module

# A forked child must not inherit a model lock held by a plan worker thread it does not have:
# around every fork the workers pause between rebuilds, and the child's engines rebuild inline.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(
        before=_native_module._before_fork,
        after_in_parent=_native_module._after_fork_in_parent,
        after_in_child=_native_module._after_fork_in_child,
    )

__all__ = [
    "ERROR_CLASSES",
    "TRANSIENT",
    "Admin",
    "AttemptContext",
    "Claim",
    "Attempt",
    "BatchResult",
    "Engine",
    "Episode",
    "Failure",
    "FleetStore",
    "FleetUnavailableError",
    "InvalidConfigError",
    "InvalidDurationError",
    "InvalidJsonError",
    "InvalidKeyError",
    "InvalidRetryAfterError",
    "InvalidRuleError",
    "InvalidStateError",
    "InvalidFailureError",
    "InvalidModelError",
    "InvalidPolicyError",
    "ManualClock",
    "PolicyError",
    "Recommendation",
    "RetrySchedule",
    "ScheduleStorageError",
    "RetryExhausted",
    "SmartRetryError",
    "SnapshotCorruptError",
    "SnapshotError",
    "SnapshotIOError",
    "SnapshotVersionError",
    "SystemClock",
    "UnknownClassError",
    "__version__",
    "attempts",
    "check_key",
    "default_engine",
    "failure_from",
    "from_exception",
    "from_response",
    "is_testing",
    "json_log_events",
    "log_events",
    "parse_retry_after",
    "retry",
    "retry_batch",
    "retry_batch_async",
    "set_default_engine",
    "structlog_events",
    "testing",
]
