#!/usr/bin/env bash
# Seconds-long smoke of the C ABI call-sequence fuzz target (ffi-c/fuzz, cargo-fuzz on nightly):
# replays the committed corpus, then fuzzes for FUZZ_SECONDS (default 5) on a copy of it, so the
# committed corpus is not changed. Skips with a message when no nightly toolchain is installed.
# The long run and its figures: ffi-c/FUZZ.md.
set -euo pipefail
cd "$(dirname "$0")/../ffi-c"
seconds="${FUZZ_SECONDS:-5}"
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzz-cabi-smoke: skipped (no nightly toolchain; install one with: rustup toolchain install nightly)"
  exit 0
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "-- installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp fuzz/corpus/cabi_calls/* "$work/"
echo "-- cargo fuzz run cabi_calls for ${seconds}s"
cargo +nightly fuzz run -O cabi_calls "$work" -- -max_total_time="$seconds" \
  -artifact_prefix="$work/crash-" -print_final_stats=1 2>&1 | tee "$work/log" | grep -E '^(Done|#[0-9]+ +DONE)|ERROR|SUMMARY' || true
if ls "$work"/crash-* >/dev/null 2>&1 || ! grep -q '^Done' "$work/log"; then
  tail -40 "$work/log" >&2
  echo "fuzz-cabi-smoke: 0 passed, 1 failed"
  exit 1
fi
echo "fuzz-cabi-smoke: 1 passed, 0 failed"
