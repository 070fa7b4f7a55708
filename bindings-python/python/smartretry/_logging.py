"""Integration with ``logging``: the decorator, ``attempts()``, the batch helper and the adapters
log each retry (INFO) and give-up (WARNING) on the ``smartretry`` logger; ``log_events`` also
sends every engine event there."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from ._native import Engine


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
