"""Engines made with defaults draw their jitter from the operating system: replicas that fail
together do not retry together. Each engine lives in its own process, as replicas do."""

import subprocess
import sys

PROBE = (
    "import smartretry; e = smartretry.Engine(); "
    "print(repr(e.preview('payments', smartretry.Failure.http(503), steps=1)[0].delay))"
)


def test_100_default_engines_in_separate_processes_give_100_distinct_first_delays() -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", PROBE], stdout=subprocess.PIPE, text=True)
        for _ in range(100)
    ]
    delays = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        delays.append(float(out.strip()))
    assert len(set(delays)) == 100, sorted(delays)[:10]
    assert all(d >= 0.0 for d in delays)


def test_an_explicit_seed_is_reproducible() -> None:
    f = smartretry_failure()
    a = [r.delay for r in seeded().preview("q", f, steps=3)]
    b = [r.delay for r in seeded().preview("q", f, steps=3)]
    assert a == b


def seeded():  # type: ignore[no-untyped-def]
    import smartretry

    return smartretry.Engine(seed=7)


def smartretry_failure():  # type: ignore[no-untyped-def]
    import smartretry

    return smartretry.Failure.http(503)
