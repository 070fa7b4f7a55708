#!/usr/bin/env bash
# Python binding: make a venv, install the test tools and `pip install ./bindings-python` (the
# README's path), check the stubs (mypy stubtest) and types, run pytest and the examples.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
# The FleetStore tests start a real redis-server.
if ! command -v redis-server >/dev/null 2>&1; then
  apt-get update
  apt-get install -y redis-server
fi
VENV=bindings-python/.venv
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PY="$PWD/$VENV/bin/python"
"$PY" -m pip install -q --disable-pip-version-check --upgrade pip
"$PY" -m pip install -q --disable-pip-version-check \
  maturin pytest mypy tenacity backoff urllib3 requests httpx stamina prometheus_client structlog \
  "celery[redis]"
echo "-- pip install ./bindings-python"
"$PY" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./bindings-python
# Check the installed package, not the source tree.
cd bindings-python/tests
echo "-- stubtest"
"$PY" -m mypy.stubtest smartretry._native
echo "-- mypy"
"$PY" -m mypy --strict -p smartretry
echo "-- pytest"
"$PY" -m pytest -q -p no:cacheprovider .
echo "-- examples"
"$PY" ../../examples/python/quickstart.py >/dev/null
"$PY" ../../examples/python/adapters.py >/dev/null
