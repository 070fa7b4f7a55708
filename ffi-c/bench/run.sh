#!/usr/bin/env bash
# C call overhead of recommend: the C benchmark through libsmartretry.a against the Rust-native
# median, same setup, in PAIRS paired runs (default 10), interleaved and alternating which goes
# first. Prints each pair's ratio, then the median ratio and the spread. Then the same calls from
# 1 up to `nproc` threads at once on one engine, and whole episodes, handles made and freed, from
# as many threads (bench_threads.c): what the boundary shares between threads shows as contention.
set -euo pipefail
cd "$(dirname "$0")/../.."
PAIRS="${PAIRS:-10}"
cargo build -p smartretry-ffi --release --lib --example bench_native
lib="${CARGO_TARGET_DIR:-target}/release"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
gcc -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Iinclude ffi-c/bench/bench_recommend.c \
  -o "$out/bench_recommend" "$lib/libsmartretry.a" -lpthread -ldl -lm
gcc -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Iinclude ffi-c/bench/bench_threads.c \
  -o "$out/bench_threads" "$lib/libsmartretry.a" -lpthread -ldl -lm
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1 /proc/loadavg)"
ns() { grep -o '[0-9.]* ns' | cut -d' ' -f1; }
"$lib/examples/bench_native" >/dev/null # warm-up
"$out/bench_recommend" >/dev/null
for i in $(seq 1 "$PAIRS"); do
  if [ $((i % 2)) -eq 1 ]; then
    n="$("$lib/examples/bench_native" | ns)"
    c="$("$out/bench_recommend" | ns)"
  else
    c="$("$out/bench_recommend" | ns)"
    n="$("$lib/examples/bench_native" | ns)"
  fi
  awk -v i="$i" -v n="$n" -v c="$c" 'BEGIN { printf "pair %2d: native %.1f ns, C %.1f ns, ratio %.2fx\n", i, n, c, c / n }'
done | tee "$out/pairs"
sed 's/.*ratio \([0-9.]*\)x/\1/' "$out/pairs" | sort -n | awk '{ r[NR] = $1 } END {
  m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
  printf "ratio C/native over %d pairs: median %.2fx, range %.2f-%.2fx (target <= 1.25x)\n", NR, m, r[1], r[NR]
}'
for threads in $(seq 1 "$(nproc)"); do
  "$out/bench_threads" "$threads"
  "$out/bench_threads" "$threads" episodes
done
