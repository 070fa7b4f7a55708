#!/usr/bin/env bash
# The release artefacts install and run without Rust. Builds them with `scripts/dist.sh --profile
# dist-check` (lightly optimised, to compile fast; `make dist` uses the LTO profile) unless
# SMARTRETRY_DIST_DIR names a folder that already holds them, then installs each one where no
# cargo or rustc is on PATH: the wheel into a fresh venv, the two npm packages into a fresh npm
# project (CommonJS and ESM), the C tarball into a fresh folder compiled against through
# pkg-config (shared and static), and the CLI binary; each runs a call.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
for tool in gcc pkg-config node npm python3; do
  command -v "$tool" >/dev/null 2>&1 || { apt-get update; apt-get install -y gcc pkg-config; break; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -n "${SMARTRETRY_DIST_DIR:-}" ]; then
  dist="$SMARTRETRY_DIST_DIR"
else
  dist="$work/dist"
  DIST_DIR="$dist" scripts/dist.sh --profile dist-check >/dev/null
fi
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
one() { # the single artefact matching a glob
  local matches=("$dist"/$1)
  [ "${#matches[@]}" -eq 1 ] && [ -f "${matches[0]}" ] || { echo "expected one $1 in $dist" >&2; exit 1; }
  echo "${matches[0]}"
}
wheel="$(one "smartretry-$version-cp39-abi3-manylinux*_x86_64.whl")"
sdist="$(one "smartretry-$version.tar.gz")"
npm_main="$(one "smartretry-$version.tgz")"
npm_bin="$(one "smartretry-linux-x64-gnu-$version.tgz")"
ctar="$(one "libsmartretry-$version-linux-x86_64.tar.gz")"
clitar="$(one "smartretry-cli-$version-linux-x86_64.tar.gz")"

# A PATH with the system tools only: no ~/.cargo/bin, no rustup.
python="$(python3 -c 'import sys; print(sys.executable)')"
"$python" -m venv "$work/venv"
norust() {
  env -i HOME="$HOME" PATH="$work/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    TMPDIR="${TMPDIR:-/tmp}" "$@"
}
if norust sh -c 'command -v cargo || command -v rustc'; then
  echo "the clean PATH still has a Rust toolchain" >&2
  exit 1
fi
elapsed() { echo "$(( $(date +%s%N) / 1000000 - $1 )) ms"; }

echo "-- sizes"
for f in "$wheel" "$sdist" "$npm_main" "$npm_bin" "$ctar" "$clitar"; do
  printf '%9d  %s\n' "$(stat -c %s "$f")" "$(basename "$f")"
done

echo "-- binaries need at most glibc 2.17 (manylinux2014)"
mkdir "$work/glibc"
(cd "$work/glibc" && python3 -m zipfile -e "$wheel" wheel && tar xzf "$npm_bin" && tar xzf "$ctar" && tar xzf "$clitar")
for bin in "$work"/glibc/wheel/smartretry/*.so "$work"/glibc/package/*.node \
  "$work/glibc/libsmartretry-$version-linux-x86_64/lib/libsmartretry.so" \
  "$work/glibc/smartretry-cli-$version-linux-x86_64/smartretry"; do
  newest="$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)"
  if [ "$(printf '%s\n2.17\n' "$newest" | sort -V | tail -1)" != "2.17" ]; then
    echo "$(basename "$bin") needs glibc $newest (> 2.17)" >&2; exit 1
  fi
done

echo "-- python: the wheel into a fresh venv"
t0=$(( $(date +%s%N) / 1000000 ))
norust pip install -q --disable-pip-version-check --no-index "$wheel"
echo "installed in $(elapsed $t0)"
(cd "$work" && norust python - <<'PY')
import smartretry
engine = smartretry.Engine(preset="request", seed=1)
recs = list(engine.preview("payments", smartretry.Failure.http(503), steps=2))
assert recs and recs[0].should_retry, recs
print("python:", recs[0])
PY
# The sdist is the source fallback (it needs Rust to build): it must carry the core's sources.
tar tzf "$sdist" >"$work/sdist.txt"
grep -qx "smartretry-$version/core/src/lib.rs" "$work/sdist.txt"
grep -qx "smartretry-$version/pyproject.toml" "$work/sdist.txt"

echo "-- node: the package and its binary package into a fresh npm project"
mkdir "$work/npm-app"
t0=$(( $(date +%s%N) / 1000000 ))
(cd "$work/npm-app" && norust npm init -y >/dev/null && \
  norust npm install --no-audit --no-fund --offline --loglevel=error "$npm_main" "$npm_bin")
echo "installed in $(elapsed $t0)"
[ ! -e "$work/npm-app/node_modules/smartretry/smartretry.linux-x64-gnu.node" ] || {
  echo "the main npm package must not carry the binary" >&2; exit 1; }
cat >"$work/npm-app/check.cjs" <<'JS'
const { Engine, ManualClock } = require('smartretry');
const engine = new Engine({ preset: 'request' }, { clock: new ManualClock() });
const rec = engine.preview('payments', { status: 503 })[0];
if (!rec || rec.action !== 'retry') throw new Error(`unexpected ${rec}`);
console.log('node cjs:', String(rec));
JS
cat >"$work/npm-app/check.mjs" <<'JS'
import { Engine } from 'smartretry';
import { Engine as NativeEngine } from 'smartretry/native';
const rec = new Engine({ preset: 'request' }).preview('payments', { status: 429 })[0];
if (rec.action !== 'retry' || typeof NativeEngine !== 'function') throw new Error('esm import failed');
console.log('node esm:', String(rec));
JS
(cd "$work/npm-app" && norust node check.cjs && norust node check.mjs)

echo "-- c: the tarball unpacked anywhere, built through its relocatable smartretry.pc"
mkdir "$work/c"
tar -C "$work/c" -xzf "$ctar"
cprefix="$work/c/libsmartretry-$version-linux-x86_64"
cp examples/c/retry_flaky.c "$work/c/"
t0=$(( $(date +%s%N) / 1000000 ))
(cd "$work/c" && norust env PKG_CONFIG_PATH="$cprefix/lib/pkgconfig" sh -c \
  'gcc -std=c11 -Wall -Werror retry_flaky.c -o flaky_shared $(pkg-config --cflags --libs smartretry) -Wl,-rpath,'"$cprefix"'/lib &&
   gcc -std=c11 -Wall -Werror retry_flaky.c -o flaky_static $(pkg-config --cflags smartretry) '"$cprefix"'/lib/libsmartretry.a $(pkg-config --static --libs-only-l smartretry | sed "s/-lsmartretry//")')
echo "compiled and linked in $(elapsed $t0)"
norust "$work/c/flaky_shared" >/dev/null
norust "$work/c/flaky_static" >/dev/null
if ldd "$work/c/flaky_static" | grep libsmartretry; then
  echo "the static build links libsmartretry.so" >&2; exit 1
fi

echo "-- cli: the binary outside the repository"
mkdir "$work/cli"
tar -C "$work/cli" -xzf "$clitar"
(cd "$work/cli" && norust "./smartretry-cli-$version-linux-x86_64/smartretry" --version &&
  norust "./smartretry-cli-$version-linux-x86_64/smartretry" simulate --scenario 4 --quick --seeds 1 --out sim >/dev/null &&
  test -s sim/REPORT.md)
echo "dist: 6 artefacts installed and ran without Rust"
