#!/usr/bin/env bash
# The README's test command: Rust checks and tests, then each language's suite
# (scripts/test-<part>.sh, each installing what it needs). Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# A suite run is not edited in between: incremental compilation would only write caches.
export CARGO_INCREMENTAL=0

# Each section prints how long it took, so a slow CI run shows where its time went.
section_start=$SECONDS
section() {
  if [ -n "${section_name:-}" ]; then
    echo "-- $section_name took $((SECONDS - section_start)) s"
  fi
  section_name=$1
  section_start=$SECONDS
  echo "== $1"
}

# The console's test drives `smartretry tui` through tmux.
if ! command -v tmux >/dev/null 2>&1; then
  apt-get update && apt-get install -y tmux
fi

# The fuzz smoke runs beside the rest: its sanitised builds compile mostly on one core
# (codegen-units=1), so on its own it would leave the other idle for minutes. Its output is
# shown, and its status checked, at the end; if the suite stops early, it is stopped too.
mkdir -p target
fuzz_log="$PWD/target/fuzz-smoke.log"
# Its own process group, so that stopping it stops its cargo and rustc too.
setsid scripts/fuzz-smoke.sh >"$fuzz_log" 2>&1 &
fuzz_pid=$!
stop_fuzz() {
  kill -- -"$fuzz_pid" 2>/dev/null || true
}
trap stop_fuzz EXIT

section "rust: fmt, clippy, tests"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The Python and Node crates are tested through their own suites (they link against the host runtime);
# the Redis crate through scripts/test-redis.sh (it installs redis-server).
cargo test --workspace --exclude smartretry-python --exclude smartretry-node --exclude smartretry-redis

section "decision quality: the simulation suite must keep every figure in sim/figures-floor.tsv"
cargo run --release -q -p smartretry-cli -- simulate --out target/sim-check --check sim/figures-floor.tsv

for part in redis c go python node ops dist readme demo; do
  if [ -x "scripts/test-$part.sh" ]; then
    section "$part"
    "scripts/test-$part.sh"
  fi
done

section "fuzz smoke: every fuzz target for a few seconds, run beside the sections above (its time here is only the wait for its end; the long runs are in BENCHMARKS.md)"
fuzz_status=0
wait "$fuzz_pid" || fuzz_status=$?
cat "$fuzz_log"
if [ "$fuzz_status" -ne 0 ]; then
  echo "fuzz smoke failed (status $fuzz_status)" >&2
  exit 1
fi
section "all tests passed"
