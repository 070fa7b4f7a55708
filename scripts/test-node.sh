#!/usr/bin/env bash
# Node binding: install from the npm registry (committed lock file), build the napi-rs addon,
# check the generated index.d.ts/index.js against the committed ones, run the node --test suite.
set -euo pipefail
cd "$(dirname "$0")/../bindings-node"
# The FleetStore tests start a real redis-server.
if ! command -v redis-server >/dev/null 2>&1; then
  apt-get update
  apt-get install -y redis-server
fi

npm ci --no-audit --no-fund
# A private copy: engineers sharing a machine run this script at the same time.
committed="$(mktemp -d)"
trap 'rm -rf "$committed"' EXIT
cp index.d.ts index.js "$committed/"
npm run build
if ! diff -u "$committed/index.d.ts" index.d.ts; then
  echo "bindings-node/index.d.ts differs from the build: run 'npm run build' and commit it" >&2
  exit 1
fi
if ! diff -q "$committed/index.js" index.js >/dev/null; then
  echo "bindings-node/index.js differs from the build: run 'npm run build' and commit it" >&2
  exit 1
fi
# The published types accept the documented usage and reject misspelt policies.
npx tsc -p test/types/tsconfig.json
npm test
( cd ../examples/node && node example.mjs >/dev/null && node example.cjs >/dev/null )
