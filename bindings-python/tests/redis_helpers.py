"""A real redis-server on an ephemeral port for the tests that need one (FleetStore, Celery,
the schedule); scripts/test-python.sh installs redis-server when it is missing."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """Start redis-server in `directory`, yield its URL, kill it on exit (failed test or not)."""
    server = shutil.which("redis-server")
    assert server, "redis-server missing: scripts/test-python.sh installs it"
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Readiness: poll until the port accepts (a process starting, not a timer).
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.005)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()
