from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import smartretry as sr
from redis_helpers import redis_server

START = 1_700_000_000.0


@pytest.fixture
def clock() -> sr.ManualClock:
    return sr.ManualClock(START)


@pytest.fixture
def engine(clock: sr.ManualClock) -> sr.Engine:
    return sr.Engine(clock=clock, seed=7)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real redis-server on an ephemeral port, killed when the test ends."""
    with redis_server(tmp_path) as url:
        yield url
