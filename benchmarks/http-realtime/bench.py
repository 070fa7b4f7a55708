"""Real-time HTTP benchmark (issue 9): real `requests` calls against a real HTTP server on
127.0.0.1 with scripted ~100 ms outages, retried (a) by tenacity with
`wait_random_exponential(multiplier=0.05, max=1)` and a 30 s stop, and (b) by the project's
tenacity adapter on its defaults (the `request` preset, learning on, learning during the run).

Outage script (the same for both arms): episode i of an arm is its own outage, starting at the
arm's first call of that episode and lasting L_i seconds, with L_i drawn from a log-normal of
median 100 ms and sigma 0.4 by a generator seeded with (seed, i), so both arms meet the same
outage lengths in the same order. The server runs in a separate process (no GIL shared with the
clients). The arms alternate episode by episode so that load on a shared machine hits both
alike. A figure, not a test: nothing here asserts.

    python benchmarks/http-realtime/bench.py [--episodes 300] [--warmup 100] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Tuple

MEDIAN = 0.100  # seconds
SIGMA = 0.4


def outage_length(seed: int, episode: int) -> float:
    return random.Random(seed * 1_000_003 + episode).lognormvariate(math.log(MEDIAN), SIGMA)


def serve(seed: int) -> None:
    """The server process: GET /<arm>/<episode> answers 503 until the episode's outage is over."""
    starts: Dict[str, float] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            _, arm, ep = self.path.split("/")
            now = time.monotonic()
            with lock:
                t0 = starts.setdefault(self.path, now)
            down = now - t0 < outage_length(seed, int(ep))
            body = b"busy" if down else b"ok"
            self.send_response(503 if down else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def run_arm(name: str, session: Any, retrying: Any, url: str, ep: int) -> Tuple[int, float, bool]:
    """One episode: (failed attempts, seconds to success or give-up, gave up)."""
    failures = 0

    def call() -> str:
        nonlocal failures
        r = session.get(f"{url}/{name}/{ep}", timeout=5)
        if r.status_code != 200:
            failures += 1
        r.raise_for_status()
        return str(r.text)

    t0 = time.perf_counter()
    try:
        retrying(call)
        gave_up = False
    except Exception:  # noqa: BLE001 - the last HTTPError after a give-up
        gave_up = True
    return failures, time.perf_counter() - t0, gave_up


def summary(rows: List[Tuple[int, float, bool]]) -> Dict[str, float]:
    times = sorted(t for _, t, _ in rows)
    n = len(rows)
    return {
        "episodes": n,
        "wasted_retries_per_episode": sum(max(f - 1, 0) for f, _, _ in rows) / n,
        "failed_attempts_per_episode": sum(f for f, _, _ in rows) / n,
        "mean_s": statistics.fmean(times),
        "p50_s": times[n // 2],
        "p99_s": times[min(n - 1, math.ceil(0.99 * n) - 1)],
        "give_up_rate": sum(g for _, _, g in rows) / n,
    }


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.seed)
        return

    import requests
    import tenacity

    import smartretry
    from smartretry.tenacity import adaptive

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--seed", str(args.seed)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}"
        tenacity_arm = tenacity.Retrying(
            wait=tenacity.wait_random_exponential(multiplier=0.05, max=1),
            stop=tenacity.stop_after_delay(30),
            retry=tenacity.retry_if_exception_type(requests.RequestException),
            reraise=True,
        )
        smartretry.set_default_engine(None)  # the adapter's default: a fresh `request` engine
        engine_arm = tenacity.Retrying(**adaptive(key="http-realtime"))
        arms = {"tenacity": (requests.Session(), tenacity_arm), "smartretry": (requests.Session(), engine_arm)}
        rows: Dict[str, List[Tuple[int, float, bool]]] = {a: [] for a in arms}
        total = args.warmup + args.episodes
        for ep in range(total):
            for name, (session, retrying) in arms.items():
                row = run_arm(name, session, retrying, url, ep)
                if ep >= args.warmup:
                    rows[name].append(row)
        result = {
            "machine": {"nproc": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version()},
            "outages": {"median_s": MEDIAN, "sigma": SIGMA, "seed": args.seed},
            "warmup": args.warmup,
            "arms": {name: summary(r) for name, r in rows.items()},
            "engine_stats": smartretry.default_engine().stats(),
        }
        t, s = result["arms"]["tenacity"], result["arms"]["smartretry"]
        result["ratios"] = {
            "wasted_retries": s["wasted_retries_per_episode"] / max(t["wasted_retries_per_episode"], 1e-12),
            "mean_time": s["mean_s"] / t["mean_s"],
        }
        print(json.dumps(result, indent=2))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
