#!/usr/bin/env bash
# `make dist`: the artefacts a user installs without Rust, written to dist/ (or $DIST_DIR):
#   smartretry-<v>-cp39-abi3-manylinux*.whl   the Python wheel (abi3, manylinux2014 via zig)
#   smartretry-<v>.tar.gz                      the Python sdist (builds with maturin; needs Rust)
#   smartretry-<v>.tgz                         the npm package (loader, lib/, types; no binary)
#   smartretry-linux-x64-gnu-<v>.tgz           its binary package, an optionalDependency (napi-rs layout)
#   libsmartretry-<v>-linux-x86_64.tar.gz      libsmartretry.so/.a, smartretry.h, smartretry.pc
#   smartretry-cli-<v>-linux-x86_64.tar.gz     the `smartretry` command-line tool
# Binaries need glibc >= 2.17 (linked through zig).
# Options: --profile P (cargo profile; default `dist`, LTO; scripts/test-dist.sh uses the
# lightly optimised `dist-check`, which compiles fast). Tools (maturin, ziglang) go into a venv
# under the cargo target directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
profile=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    *) echo "usage: $0 [--profile dist|dist-check|release]" >&2; exit 2 ;;
  esac
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
out="${DIST_DIR:-$root/dist}"
case "$out" in /*) ;; *) out="$root/$out" ;; esac
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
rm -rf "$out"
mkdir -p "$out"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

tools="$CARGO_TARGET_DIR/dist-tools"
if [ ! -x "$tools/bin/maturin" ] || [ ! -x "$tools/bin/python-zig" ]; then
  echo "-- tools: maturin, ziglang (venv $tools)"
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check 'maturin>=1.5,<2' ziglang
fi

# Every binary links through zig against glibc 2.17 (manylinux2014's floor), so that it runs on
# older distributions than the build machine's; cargo then writes to target/<triple>/<profile>.
triple=x86_64-unknown-linux-gnu
# zig also compiles the C parts (SQLite, ring): the host's glibc headers would bind newer symbol
# versions (fcntl64@GLIBC_2.28). The cc crate adds its own --target for clang-like compilers,
# which would drop the glibc floor, so the wrapper removes it.
zigcc="$tools/zigcc-glibc2.17" # a stable path: cargo rebuilds C parts when CC changes
cat >"$zigcc" <<EOF_ZIGCC
#!/bin/sh
for arg do
  shift
  case "\$arg" in --target=*) ;; *) set -- "\$@" "\$arg" ;; esac
done
exec "$tools/bin/python-zig" cc -target x86_64-linux-gnu.2.17 "\$@"
EOF_ZIGCC
chmod +x "$zigcc"
export CARGO_BUILD_TARGET="$triple" CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER="$zigcc" \
  CC_x86_64_unknown_linux_gnu="$zigcc"
built="$CARGO_TARGET_DIR/$triple/$profile"

echo "-- python: abi3 wheel (manylinux2014 through zig) and sdist"
# maturin finds zig through `python -m ziglang` with the venv's python first on PATH.
# maturin sets up zig and the target itself.
PATH="$tools/bin:$PATH" env -u CARGO_BUILD_TARGET -u CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER \
  -u CC_x86_64_unknown_linux_gnu maturin build -q -m bindings-python/Cargo.toml --profile "$profile" \
  --zig --compatibility manylinux2014 --out "$out"
PATH="$tools/bin:$PATH" maturin sdist -m bindings-python/Cargo.toml --out "$out" >/dev/null

echo "-- rust: the node addon, libsmartretry and the CLI (one cargo build: dependencies built once)"
cargo build -p smartretry-node -p smartretry-ffi -p smartretry-cli --lib --bins --profile "$profile" \
  --message-format=json-render-diagnostics >"$stage/cargo.json"
node_lib="$(node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) {
  if (!l.startsWith("{")) continue; const m = JSON.parse(l);
  if (m.reason === "compiler-artifact" && m.target.name === "smartretry_node")
    console.log(m.filenames.find((f) => f.endsWith(".so")));
}' "$stage/cargo.json")"

echo "-- node: the package and its linux-x64-gnu binary package"
node scripts/dist-npm.cjs bindings-node "$node_lib" linux-x64-gnu "$stage/npm"
for pkg in "$stage"/npm/*/; do
  (cd "$pkg" && npm pack --silent --pack-destination "$out" >/dev/null)
done

echo "-- c: libsmartretry tarball (relocatable smartretry.pc)"
c_name="libsmartretry-$version-linux-x86_64"
# shellcheck disable=SC2016 # ${pcfiledir} is pkg-config's variable, written literally
PROFILE="$profile" SMARTRETRY_PREBUILT=1 PC_PREFIX='${pcfiledir}/../..' \
  ffi-c/install.sh PREFIX="$stage/$c_name" >/dev/null
cp LICENSE ffi-c/README.md "$stage/$c_name/"
tar -C "$stage" -czf "$out/$c_name.tar.gz" "$c_name"

echo "-- cli: the smartretry binary"
cli_name="smartretry-cli-$version-linux-x86_64"
mkdir -p "$stage/$cli_name"
cp "$built/smartretry" cli/README.md LICENSE "$stage/$cli_name/"
tar -C "$stage" -czf "$out/$cli_name.tar.gz" "$cli_name"

echo "-- $out"
(cd "$out" && ls -l | sed 1d)
