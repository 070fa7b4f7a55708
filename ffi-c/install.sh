#!/usr/bin/env bash
# Build libsmartretry (release) and install the shared and static libraries, the header and
# smartretry.pc under PREFIX (default /usr/local):
#   ffi-c/install.sh PREFIX=/opt/smartretry      (or: PREFIX=/opt/smartretry ffi-c/install.sh)
# Afterwards: cc app.c $(PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig pkg-config --cflags --libs smartretry)
# PROFILE (default release) picks the cargo profile; PC_PREFIX overrides the prefix written into
# smartretry.pc (`make dist` writes '${pcfiledir}/../..' so that the tarball can be unpacked anywhere).
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  case "$arg" in
    PREFIX=*) PREFIX="${arg#PREFIX=}" ;;
    *) echo "usage: $0 [PREFIX=dir]" >&2; exit 2 ;;
  esac
done
PREFIX="${PREFIX:-/usr/local}"
case "$PREFIX" in /*) ;; *) PREFIX="$PWD/$PREFIX" ;; esac

PROFILE="${PROFILE:-release}"
# SMARTRETRY_PREBUILT=1: the caller already built it (`make dist` builds every crate in one go).
[ -n "${SMARTRETRY_PREBUILT:-}" ] || cargo build -p smartretry-ffi --profile "$PROFILE"
# CARGO_BUILD_TARGET (an explicit target triple, as `make dist` sets) moves cargo's output.
target="${CARGO_TARGET_DIR:-target}/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}$PROFILE"
version="$(sed -n 's/^#define SMARTRETRY_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' include/smartretry.h | paste -sd.)"
major="${version%%.*}"

install -d "$PREFIX/lib/pkgconfig" "$PREFIX/include"
install -m 644 include/smartretry.h "$PREFIX/include/smartretry.h"
install -m 644 "$target/libsmartretry.a" "$PREFIX/lib/libsmartretry.a"
# The archive carries the standard library's debug sections (about 60% of its size).
if command -v strip >/dev/null 2>&1; then strip --strip-debug "$PREFIX/lib/libsmartretry.a"; fi
install -m 755 "$target/libsmartretry.so" "$PREFIX/lib/libsmartretry.so.$version"
ln -sf "libsmartretry.so.$version" "$PREFIX/lib/libsmartretry.so.$major"
ln -sf "libsmartretry.so.$major" "$PREFIX/lib/libsmartretry.so"
sed -e "s|@PREFIX@|${PC_PREFIX:-$PREFIX}|" -e "s|@VERSION@|$version|" ffi-c/smartretry.pc.in >"$PREFIX/lib/pkgconfig/smartretry.pc"
echo "installed libsmartretry $version under $PREFIX"
