#!/usr/bin/env bash
# The README's test command: Rust checks and tests, then each language's suite
# (scripts/test-<part>.sh, each installing what it needs). Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# A suite run is not edited in between: incremental compilation would only write caches.
export CARGO_INCREMENTAL=0

# The console's test drives `smartretry tui` through tmux.
if ! command -v tmux >/dev/null 2>&1; then
  apt-get update && apt-get install -y tmux
fi

echo "== rust: fmt, clippy, tests"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The Python and Node crates are tested through their own suites (they link against the host runtime);
# the Redis crate through scripts/test-redis.sh (it installs redis-server).
cargo test --workspace --exclude smartretry-python --exclude smartretry-node --exclude smartretry-redis

echo "== decision quality: the simulation suite must keep every figure in sim/figures-floor.tsv"
cargo run --release -q -p smartretry-cli -- simulate --out target/sim-check --check sim/figures-floor.tsv

echo "== fuzz smoke: every fuzz target for a few seconds (the long runs are in BENCHMARKS.md)"
scripts/fuzz-smoke.sh

for part in redis c go python node ops dist readme demo; do
  if [ -x "scripts/test-$part.sh" ]; then
    echo "== $part"
    "scripts/test-$part.sh"
  fi
done
echo "== all tests passed"
