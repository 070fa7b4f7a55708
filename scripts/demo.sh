#!/usr/bin/env bash
# The README's main command: run the simulation suite if the simulator is built into the
# workspace, else the core's learning example.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f cli/Cargo.toml ] && grep -q '"cli"' Cargo.toml; then
  exec cargo run --release -q -p smartretry-cli -- simulate "$@"
fi
exec cargo run --release -q -p smartretry --example learn
