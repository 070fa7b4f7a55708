#!/usr/bin/env bash
# C call overhead of recommend: the C benchmark through libsmartretry.a against the Rust-native
# median, same setup, same run. Prints both and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -p smartretry-ffi --release --example bench_native
lib="${CARGO_TARGET_DIR:-target}/release"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
gcc -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=199309L -Iinclude ffi-c/bench/bench_recommend.c \
  -o "$out/bench_recommend" "$lib/libsmartretry.a" -lpthread -ldl -lm
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
native="$("$lib/examples/bench_native")"
c="$("$out/bench_recommend")"
echo "$native"
echo "$c"
n="$(echo "$native" | grep -o '[0-9.]* ns' | cut -d' ' -f1)"
x="$(echo "$c" | grep -o '[0-9.]* ns' | cut -d' ' -f1)"
awk -v n="$n" -v c="$x" 'BEGIN { printf "ratio C/native: %.2fx (target <= 1.25x)\n", c / n }'
