from __future__ import annotations

import pytest

import smartretry as sr

START = 1_700_000_000.0


@pytest.fixture
def clock() -> sr.ManualClock:
    return sr.ManualClock(START)


@pytest.fixture
def engine(clock: sr.ManualClock) -> sr.Engine:
    return sr.Engine(clock=clock, seed=7)
