#!/usr/bin/env bash
# Fleet on Redis (crate smartretry-redis): its tests start, kill, restart, flush and pause real
# redis-server processes on ephemeral ports, so redis-server must be installed (Debian package).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null 2>&1; then
  apt-get update
  apt-get install -y redis-server
fi
cargo test -p smartretry-redis
