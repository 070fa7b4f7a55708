"""Operator surfaces in one call: the attempt history file and the admin endpoint.

    import smartretry.ops
    ops = smartretry.ops.operate(engine, history="attempts.jsonl", admin=True)
    print(ops.admin.url)          # http://127.0.0.1:PORT  (/metrics, /decisions, ...)

``operate_from_env`` reads the same settings from ``SMARTRETRY_HISTORY``,
``SMARTRETRY_HISTORY_MAX_BYTES``, ``SMARTRETRY_ADMIN_LISTEN`` and ``SMARTRETRY_ADMIN_TOKEN``, so a
deployment turns them on without a code change. ``PrometheusCollector`` exposes the admin
metrics through ``prometheus_client``'s own registry."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, Mapping, Optional, Union

from ._config import default_engine
from ._native import Admin, Engine

#: Default size bound of the history file: 64 MiB, three older files kept.
DEFAULT_HISTORY_MAX_BYTES = 64 * 1024 * 1024


class Operations:
    """What ``operate`` turned on; ``close()`` (or ``with``) turns it off."""

    def __init__(self, engine: Engine, history: Optional[str], admin: Optional[Admin]) -> None:
        self.engine = engine
        self.history = history
        self.admin = admin

    def close(self) -> None:
        if self.history is not None:
            self.engine.stop_history()
        if self.admin is not None:
            self.admin.stop()

    def __enter__(self) -> "Operations":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def operate(
    engine: Optional[Engine] = None,
    *,
    history: Union[str, "os.PathLike[str]", None] = None,
    history_max_bytes: Optional[int] = DEFAULT_HISTORY_MAX_BYTES,
    history_max_files: int = 3,
    worker_version: Optional[str] = None,
    admin: bool = False,
    admin_listen: str = "127.0.0.1:0",
    admin_token: Optional[str] = None,
) -> Operations:
    """Log attempts to ``history`` (rotated at ``history_max_bytes``) and/or serve the admin
    endpoint (loopback only; overrides need ``admin_token``) for ``engine`` (default: the
    default engine)."""
    if engine is None:
        engine = default_engine()
    path = os.fspath(history) if history is not None else None
    if path is not None:
        engine.write_history(
            path,
            max_bytes=history_max_bytes,
            max_files=history_max_files,
            worker_version=worker_version,
        )
    server = None
    if admin:
        try:
            server = engine.serve_admin(listen=admin_listen, token=admin_token)
        except BaseException:
            if path is not None:
                engine.stop_history()
            raise
    return Operations(engine, path, server)


def operate_from_env(
    engine: Optional[Engine] = None, environ: Optional[Mapping[str, str]] = None
) -> Operations:
    """``operate`` configured by environment variables (nothing set: nothing turned on)."""
    env = os.environ if environ is None else environ
    max_bytes = env.get("SMARTRETRY_HISTORY_MAX_BYTES")
    listen = env.get("SMARTRETRY_ADMIN_LISTEN")
    return operate(
        engine,
        history=env.get("SMARTRETRY_HISTORY") or None,
        history_max_bytes=int(max_bytes) if max_bytes else DEFAULT_HISTORY_MAX_BYTES,
        worker_version=env.get("SMARTRETRY_WORKER_VERSION") or None,
        admin=bool(listen),
        admin_listen=listen or "127.0.0.1:0",
        admin_token=env.get("SMARTRETRY_ADMIN_TOKEN") or None,
    )


class PrometheusCollector:
    """A ``prometheus_client`` collector of an admin endpoint's metrics:
    ``REGISTRY.register(PrometheusCollector(admin))``. The families are those of ``/metrics``."""

    def __init__(self, admin: Admin) -> None:
        self._admin = admin

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        m: Dict[str, Any] = self._admin.metrics_dict()
        tiers = CounterMetricFamily(
            "smartretry_decisions", "Decisions by the tier that made them.", labels=["tier"]
        )
        for tier, n in m["decisions_by_tier"].items():
            tiers.add_metric([tier], n)
        yield tiers
        clamps = CounterMetricFamily(
            "smartretry_clamps", "Guardrail overrides by guardrail.", labels=["guardrail"]
        )
        for kind, n in m["clamps"].items():
            clamps.add_metric([kind], n)
        yield clamps
        yield CounterMetricFamily(
            "smartretry_fallbacks", "Fallbacks while learning.", value=m["fallbacks"]
        )
        avoided = CounterMetricFamily(
            "smartretry_calls_avoided", "Calls avoided vs the static schedule.", labels=["class"]
        )
        for cls, v in m["calls_avoided"].items():
            avoided.add_metric([cls], v["avoided"])
        yield avoided
        for name, key, help_text in (
            (
                "smartretry_recommendation_latency_seconds",
                "recommendation_latency_seconds",
                "Time from recording a failure to its recommendation.",
            ),
            (
                "smartretry_time_to_success_seconds",
                "time_to_success_seconds",
                "Seconds from the first failure to success.",
            ),
        ):
            h = m[key]
            buckets = [(str(b), c) for b, c in h["buckets"]] + [("+Inf", h["count"])]
            yield HistogramMetricFamily(name, help_text, buckets=buckets, sum_value=h["sum"])
        brier = GaugeMetricFamily(
            "smartretry_model_brier", "Brier score per model.", labels=["key", "class"]
        )
        drift = GaugeMetricFamily(
            "smartretry_model_drift", "Drift score per model.", labels=["key", "class"]
        )
        for model in m["models"]:
            if model["brier"] is not None:
                brier.add_metric([model["key"], model["class"]], model["brier"])
            drift.add_metric([model["key"], model["class"]], model["drift"])
        yield brier
        yield drift
