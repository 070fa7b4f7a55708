"""Structured logging of engine events: one JSON object per event, in the observers' schema
(``type`` first, snake_case keys, durations in seconds), through ``logging`` or structlog."""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, Optional

from ._native import Engine


def json_log_events(
    engine: Engine, logger: Optional[logging.Logger] = None, level: int = logging.INFO
) -> None:
    """Log every engine event as a one-line JSON message on ``logger`` (default
    ``smartretry.events``); the event dict is also in the record's ``smartretry_event``."""
    out = logger or logging.getLogger("smartretry.events")

    def observe(event: Dict[str, Any]) -> None:
        if out.isEnabledFor(level):
            # `type` first, as the core's own JSON lines have it.
            ordered = {"type": event.get("type"), **event}
            line = json.dumps(ordered, separators=(",", ":"))
            out.log(level, "%s", line, extra={"smartretry_event": event})

    engine.add_observer(observe)


def structlog_events(engine: Engine, logger: Optional[Any] = None) -> None:
    """Send every engine event to structlog: ``logger.info("smartretry.<type>", **event)``, so
    the event's keys become the entry's keys (``type`` included)."""
    if logger is None:
        import structlog

        logger = structlog.get_logger("smartretry")
    log = logger

    def observe(event: Dict[str, Any]) -> None:
        log.info(f"smartretry.{event['type']}", **event)

    engine.add_observer(observe)
