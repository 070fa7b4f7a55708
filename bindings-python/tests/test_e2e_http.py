"""End to end: a real HTTP server on 127.0.0.1 with scripted outages on the engine's manual clock,
and requests / httpx clients retried by the decorator, tenacity and the urllib3 Retry subclass."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest
import requests
import tenacity
from requests.adapters import HTTPAdapter

import smartretry as sr
from smartretry.tenacity import adaptive
from smartretry.urllib3 import AdaptiveRetry, RetryGivenUp

Script = Callable[[float], Tuple[int, Dict[str, str]]]


class Server:
    """Answers each path by its script, as a function of manual-clock seconds since `arm()`."""

    def __init__(self) -> None:
        self.scripts: Dict[str, Script] = {}
        self.clock: Optional[sr.ManualClock] = None
        self.t0 = 0.0
        self.hits: Dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = self.path
                outer.hits[path] = outer.hits.get(path, 0) + 1
                assert outer.clock is not None
                status, headers = outer.scripts[path](outer.clock.now() - outer.t0)
                body = b"ok" if status == 200 else b"busy"
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def arm(self, clock: sr.ManualClock, **scripts: Script) -> None:
        self.clock = clock
        self.t0 = clock.now()
        self.scripts = {f"/{k}": v for k, v in scripts.items()}
        self.hits = {}


def outage(until: float, status: int, retry_after: Optional[str] = None) -> Script:
    def script(t: float) -> Tuple[int, Dict[str, str]]:
        if t < until:
            return status, ({"Retry-After": retry_after} if retry_after else {})
        return 200, {}

    return script


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def decisions(engine: sr.Engine) -> List[Dict[str, Any]]:
    """The recommendations of the engine's decision events (the core's JSON schema, as dicts)."""
    out: List[Dict[str, Any]] = []
    engine.add_observer(lambda e: out.append(e["recommendation"]) if e["type"] == "decision" else None)
    return out


def test_decorator_with_requests(server: Server, clock: sr.ManualClock) -> None:
    engine = sr.Engine(clock=clock, seed=1)
    recs = decisions(engine)
    server.arm(clock, pay=outage(8.0, 503), limited=outage(10.0, 429, "10"), gone=outage(1e9, 404))

    @sr.retry(key="pay", engine=engine, on=requests.HTTPError)
    def get(path: str) -> str:
        r = requests.get(server.url + path, timeout=5)
        r.raise_for_status()
        return r.text

    assert get("/pay") == "ok"
    n = server.hits["/pay"]
    assert n >= 2 and all(r["class"] == "unavailable" and r["action"] == "retry" for r in recs)
    s = engine.stats()
    assert s["failures"] == n - 1 and s["successes_after_retry"] == 1 and s["retries"] == n - 1

    recs.clear()
    server.arm(clock, limited=outage(10.0, 429, "10"), gone=outage(1e9, 404))
    assert get("/limited") == "ok"
    assert server.hits["/limited"] == 2  # Retry-After honoured: one retry, right after the window
    assert recs[0]["delay"] >= 10.0 and "Retry-After" in recs[0]["reason"]

    recs.clear()
    with pytest.raises(requests.HTTPError) as info:
        get("/gone")
    rec = getattr(info.value, "recommendation")
    assert server.hits["/gone"] == 1 and "permanent" in rec.reason


def test_tenacity_with_httpx(server: Server, clock: sr.ManualClock) -> None:
    engine = sr.Engine(clock=clock, seed=2)
    recs = decisions(engine)
    server.arm(clock, busy=outage(3.0, 503), limited=outage(45.0, 429))

    def get(path: str) -> int:
        r = httpx.get(server.url + path, timeout=5)
        r.raise_for_status()
        return r.status_code

    assert tenacity.Retrying(**adaptive(engine, key="busy"))(get, "/busy") == 200
    busy_hits = server.hits["/busy"]
    server.arm(clock, limited=outage(45.0, 429))
    assert tenacity.Retrying(**adaptive(engine, key="limited"))(get, "/limited") == 200
    # 429 without Retry-After: the rate-limit class backs off far longer than the 503s did
    assert {r["class"] for r in recs} == {"unavailable", "rate_limited"}
    assert all("Retry-After" not in r["reason"] for r in recs)
    s = engine.stats()
    assert s["successes_after_retry"] == 2
    assert s["failures"] == busy_hits + server.hits["/limited"] - 2


def test_urllib3_retry_mounted_on_requests(server: Server, clock: sr.ManualClock) -> None:
    engine = sr.Engine(clock=clock, seed=3)
    recs = decisions(engine)
    server.arm(clock, a=outage(6.0, 503), b=outage(20.0, 429, "20"), c=outage(1e9, 503), d=outage(0, 200))
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=AdaptiveRetry(engine=engine, key="u3")))

    assert session.get(server.url + "/a", timeout=5).status_code == 200
    assert all(r["class"] == "unavailable" for r in recs)

    recs.clear()
    server.arm(clock, b=outage(20.0, 429, "20"), c=outage(1e9, 503), d=outage(0, 200))
    assert session.get(server.url + "/b", timeout=5).status_code == 200
    assert server.hits["/b"] == 2 and recs[0]["delay"] >= 20.0 and "Retry-After" in recs[0]["reason"]

    recs.clear()
    with pytest.raises(requests.exceptions.RetryError) as info:
        session.get(server.url + "/c", timeout=5)
    assert isinstance(info.value.args[0], RetryGivenUp)
    # The engine's reason is in the message requests shows, not only in e.args[0].
    assert "gave up after 4 attempts: the limit is 4" in str(info.value), str(info.value)
    assert "last: HTTP 503" in str(info.value)
    assert recs[-1]["action"] == "give_up" and server.hits["/c"] == 4  # the 503 class's 4 attempts

    assert session.get(server.url + "/d", timeout=5).status_code == 200
    s = engine.stats()
    assert s["give_ups"] == 1 and s["successes"] == 3 and s["successes_after_retry"] == 2
