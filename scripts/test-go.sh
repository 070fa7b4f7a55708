#!/usr/bin/env bash
# Go package (cgo wrapper of the C ABI): builds the static library it links, then go vet and
# go test in examples/go.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1; then
  apt-get update
  apt-get install -y golang-go
fi
command -v gcc >/dev/null 2>&1 || { apt-get update; apt-get install -y gcc; }
cargo build -p smartretry-ffi --release
cd examples/go
go vet ./...
go test -count=1 ./...
