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

# Jobs run beside the sections, each in its own process group (so that stopping one stops its
# children too), logged under target/, stopped if the suite stops early.
mkdir -p target
background_pids=()
beside() { # beside NAME COMMAND...: start COMMAND in the background, its output in target/NAME.log
  local name=$1
  shift
  setsid "$@" >"$PWD/target/$name.log" 2>&1 &
  background_pids+=("$!")
  eval "${name//-/_}_pid=$!"
}
# joined NAME: wait for a job started by `beside`; its status, its log shown if it failed.
joined() {
  local pid_var="${1//-/_}_pid" status=0
  wait "${!pid_var}" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "$1 failed (status $status):" >&2
    cat "$PWD/target/$1.log" >&2
  fi
  return "$status"
}
stop_background() {
  for pid in "${background_pids[@]}"; do
    kill -- -"$pid" 2>/dev/null || true
  done
}
trap stop_background EXIT

# The Debian packages of every part (tmux for the console's test, redis-server, valgrind, go,
# promtool, chromium) install while Rust compiles; a part whose tools are still missing
# installs them itself.
beside system-packages scripts/system-packages.sh

# The fuzz smoke runs beside the rest: its sanitised builds compile mostly on one core
# (codegen-units=1), so on its own it would leave the other idle for minutes. Its output is
# shown, and its status checked, at the end; if the suite stops early, it is stopped too.
beside fuzz-smoke scripts/fuzz-smoke.sh

section "rust: fmt, clippy, tests"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The console's test needs tmux: the packages' install must have ended (a failed install is
# shown, and the part's own check installs what is missing).
joined system-packages || true
command -v tmux >/dev/null 2>&1 || { apt-get update && apt-get install -y tmux; }
# The Python and Node crates are tested through their own suites (they link against the host runtime);
# the Redis crate through scripts/test-redis.sh (it installs redis-server).
cargo test --workspace --exclude smartretry-python --exclude smartretry-node --exclude smartretry-redis

section "decision quality: the simulation suite must keep every figure in sim/figures-floor.tsv, random shapes those in sim/random-floor.tsv, the learned tier those in sim/ml-floor.tsv"
cargo run --release -q -p smartretry-cli -- simulate --out target/sim-check --check sim/figures-floor.tsv
# And over 60 outage shapes the suite does not contain, drawn at random (the same 60 every run).
cargo run --release -q -p smartretry-cli -- simulate --random-shapes 60 --seeds 2 --out target/sim-random --check sim/random-floor.tsv
# And the learned tier's figures (train on one seed's history, roll out from shadow on evidence,
# evaluate on another): the maintenance window and the load-dependent scenario.
cargo run --release -q -p smartretry-cli -- simulate --ml --scenario 5,20 --seeds 1 --out target/sim-ml --check sim/ml-floor.tsv

# The release artefacts (cross-linked for glibc 2.17 through zig) build beside the parts below,
# which spend much of their time in one-threaded tests; the dist part then installs them.
dist_dir="$PWD/target/dist-artefacts"
beside dist-build env DIST_DIR="$dist_dir" scripts/dist.sh --profile dist-check

for part in redis c go python node ops dist readme demo; do
  if [ -x "scripts/test-$part.sh" ]; then
    section "$part"
    if [ "$part" = dist ]; then
      joined dist-build
      SMARTRETRY_DIST_DIR="$dist_dir" "scripts/test-$part.sh"
    else
      "scripts/test-$part.sh"
    fi
  fi
done

section "fuzz smoke: every fuzz target for a few seconds, run beside the sections above (its time here is only the wait for its end; the long runs are in BENCHMARKS.md)"
joined fuzz-smoke
cat "$PWD/target/fuzz-smoke.log"
section "all tests passed"
