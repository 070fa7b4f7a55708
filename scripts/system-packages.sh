#!/usr/bin/env bash
# The Debian packages the suite's parts need, in one apt run: `make test` starts this in the
# background while Rust compiles, so the parts find their tools installed. Each part still
# checks for its own tools and installs what is missing, so a part run alone needs nothing from
# here. Installs only what is missing; a machine with no apt-get is left to the parts.
set -euo pipefail
command -v apt-get >/dev/null 2>&1 || { echo "no apt-get: each part installs its own tools"; exit 0; }
# As the parts install them: the first list with its recommended packages, the second without.
want=()
lean=()
need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || want+=("$2")
}
need tmux tmux
need gcc gcc
need pkg-config pkg-config
need valgrind valgrind
need redis-server redis-server
need go golang-go
command -v promtool >/dev/null 2>&1 || lean+=(prometheus)
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
  && ! command -v google-chrome >/dev/null 2>&1; then
  lean+=(chromium)
fi
if [ "${#want[@]}" -eq 0 ] && [ "${#lean[@]}" -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${want[*]} ${lean[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
[ "${#want[@]}" -eq 0 ] || apt-get install -y "${want[@]}"
[ "${#lean[@]}" -eq 0 ] || apt-get install -y --no-install-recommends "${lean[@]}"
