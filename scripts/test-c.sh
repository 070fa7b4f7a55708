#!/usr/bin/env bash
# C ABI suite: builds libsmartretry, checks the committed header is fresh, compiles the C tests
# strictly and with ASan/UBSan, runs one under valgrind, runs the pthreads test, installs to a
# temporary prefix and builds the C example through pkg-config.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in gcc valgrind pkg-config redis-server; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update
  apt-get install -y "${missing[@]}"
fi

# The release profile keeps the symbol table: valgrind's suppression (tests/c/valgrind.supp)
# names a standard-library frame. The same build serves install.sh and the Go suite.
echo "-- build libsmartretry (release)"
out_dir="$(cargo build -p smartretry-ffi --release --message-format=json \
  | sed -n 's/.*"reason":"build-script-executed".*"package_id":"[^"]*ffi-c[^"]*".*"out_dir":"\([^"]*\)".*/\1/p' | tail -1)"
lib="${CARGO_TARGET_DIR:-target}/release"
case "$lib" in /*) ;; *) lib="$PWD/$lib" ;; esac
ln -sf libsmartretry.so "$lib/libsmartretry.so.0"

echo "-- header is fresh"
if [ -z "$out_dir" ] || ! cmp -s "$out_dir/smartretry.h" include/smartretry.h; then
  echo "include/smartretry.h differs from a fresh cbindgen generation (${out_dir:-no out dir}/smartretry.h);" >&2
  echo "run: SMARTRETRY_WRITE_HEADER=1 cargo build -p smartretry-ffi and commit include/smartretry.h" >&2
  exit 1
fi

build="$(mktemp -d)"
redis_pid=""
trap '[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null; rm -rf "$build"' EXIT

# (test_learned reads tests/fixtures/learned/ relative to the repository root, the working directory here.)
# test_fleet and test_schedule need a real redis-server: our own, on a free port, in the temporary directory.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$build" \
  >"$build/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 200); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
export SMARTRETRY_TEST_REDIS_URL="redis://127.0.0.1:$port"
strict=(-std=c11 -Wall -Wextra -Werror -D_DEFAULT_SOURCE -Iinclude -Itests/c)
static=("$lib/libsmartretry.a" -lpthread -ldl -lm)
shared=(-L"$lib" -lsmartretry -Wl,-rpath,"$lib" -lpthread)

single=(test_api test_handles test_boundary test_ratelimit test_worker test_ops test_fleet test_schedule test_learned)
echo "-- C tests (gcc ${strict[*]})"
for t in "${single[@]}"; do
  gcc "${strict[@]}" "tests/c/$t.c" -o "$build/$t" "${shared[@]}"
  "$build/$t"
done
gcc "${strict[@]}" tests/c/test_threads.c -o "$build/test_threads" "${static[@]}"
"$build/test_threads"

echo "-- C tests with -fsanitize=address,undefined"
san=(-g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
for t in "${single[@]}" test_threads; do
  gcc "${strict[@]}" "${san[@]}" "tests/c/$t.c" -o "$build/${t}_san" "${static[@]}"
  "$build/${t}_san"
done

echo "-- valgrind (zero errors, zero bytes lost; includes copy-and-free-both and refill-without-free)"
for t in "${single[@]}"; do
  SMARTRETRY_TEST_FORKS=0 valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
    --suppressions=tests/c/valgrind.supp \
    "$build/$t"
done

echo "-- install to a temporary prefix, build the example with pkg-config"
ffi-c/install.sh PREFIX="$build/prefix" >/dev/null
export PKG_CONFIG_PATH="$build/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
gcc -std=c11 -Wall -Wextra -Werror examples/c/retry_flaky.c -o "$build/retry_flaky" \
  $(pkg-config --cflags --libs smartretry) -Wl,-rpath,"$build/prefix/lib"
"$build/retry_flaky"
echo "c: 20 passed, 0 failed"
