#!/usr/bin/env bash
# Fuzz smoke, part of `make test`: every cargo-fuzz target of both fuzz crates (fuzz/: snapshot
# loader, policy JSON, classifier, Retry-After; ffi-c/fuzz/: sequences of C ABI calls) for a few
# seconds each (FUZZ_SECONDS, default 5), starting from the committed corpus, read only (new
# inputs go to a temporary folder). Needs a nightly toolchain and installs cargo-fuzz if absent;
# without nightly it says so and exits 0. A crash fails the script and leaves its input under
# <crate>/artifacts/<target>/. The long runs and their figures: BENCHMARKS.md, section 6.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${FUZZ_SECONDS:-5}"
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "fuzz-smoke: skipped: no nightly toolchain (rustup toolchain install nightly)"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz"
    if ! cargo install cargo-fuzz --locked; then
        echo "fuzz-smoke: skipped: cargo-fuzz could not be installed"
        exit 0
    fi
fi
# One target directory for both fuzz crates: the second reuses the first's sanitised build of the
# core and its dependencies.
export CARGO_TARGET_DIR="$root/target/fuzz"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for crate in fuzz ffi-c/fuzz; do
    cd "$root/$crate"
    for target in $(cargo +nightly fuzz list); do
        mkdir -p "$work/$target" "corpus/$target"
        echo "fuzz-smoke: $crate $target for ${seconds}s"
        # grep hides libFuzzer's progress lines; the status that counts is cargo fuzz's, taken
        # before anything else runs (with pipefail, `|| true` would replace it with 0).
        set +e
        cargo +nightly fuzz run -O "$target" "$work/$target" "corpus/$target" -- \
            -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 |
            grep -E '^(Done|stat::number_of_executed_units)|ERROR|SUMMARY|panicked'
        status=("${PIPESTATUS[@]}")
        set -e
        [ "${status[0]}" -eq 0 ] || { echo "fuzz-smoke: $crate $target FAILED"; exit 1; }
    done
done
echo "fuzz-smoke: all targets ran clean"
