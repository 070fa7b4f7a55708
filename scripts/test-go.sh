#!/usr/bin/env bash
# Go module (bindings-go, a cgo wrapper of the C ABI) as a user builds it: install libsmartretry
# to a temporary prefix (`make install`'s script), point PKG_CONFIG_PATH at its smartretry.pc,
# then go vet and go test in bindings-go (its fleet test starts its own redis-server) and run the
# example in examples/go.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1; then
  apt-get update
  apt-get install -y golang-go
fi
missing=()
for tool in gcc pkg-config redis-server; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update
  apt-get install -y "${missing[@]}"
fi
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
ffi-c/install.sh PREFIX="$prefix"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# pkg-config's -lsmartretry links the shared library: the test binaries find it through an rpath.
export CGO_LDFLAGS="-Wl,-rpath,$prefix/lib"
(cd bindings-go && go vet ./... && go test -count=1 ./...)
(cd examples/go && go vet ./... && go run . >/dev/null)
