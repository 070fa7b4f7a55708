"""Importing smartretry must stay cheap: asyncio is loaded only by the async paths that use it."""

import subprocess
import sys


def test_import_does_not_load_asyncio() -> None:
    # A fresh interpreter: the test runner itself has asyncio loaded already.
    code = "import sys, smartretry; print('asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr

