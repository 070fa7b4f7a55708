"""Integration with ``logging``: the decorator, ``attempts()``, the batch helper and the adapters
log each retry (INFO) and give-up (WARNING) on the ``smartretry`` logger, naming what failed
(the exception, or the HTTP status); ``log_events`` also sends every engine event there. The
logger has a ``NullHandler``: configure logging to see the lines."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from ._native import Engine

# A library logs, the application decides where it goes: without a handler of the application's,
# nothing is printed (not even WARNING through logging's last resort).
logging.getLogger("smartretry").addHandler(logging.NullHandler())


def log_events(
    engine: Engine, logger: Optional[logging.Logger] = None, level: int = logging.DEBUG
) -> None:
    """Log every engine event (attempt, decision, success, exhausted, breaker, clamp)."""
    out = logger or logging.getLogger("smartretry.events")

    def observe(event: Dict[str, Any]) -> None:
        if out.isEnabledFor(level):
            kind = event.get("type", "?")
            rest = ", ".join(f"{k}={v}" for k, v in event.items() if k != "type")
            out.log(level, "%s: %s", kind, rest, extra={"smartretry_event": event})

    engine.add_observer(observe)
