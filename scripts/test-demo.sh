#!/usr/bin/env bash
# The demo a person reads: a quick simulation must end with the plain summary (per scenario the
# engine against the best static schedule, then the tally), write the cost plots, and produce a
# report.html that a headless Chromium renders: its DOM holds the summary and every inlined
# plot, and its screenshot is a real page (not blank). Chromium comes from apt (Debian package
# `chromium`); only where apt-get is unavailable is the browser check skipped, and it says so.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

cargo run --release -q -p smartretry-cli -- simulate --quick --seeds 1 --out "$out/sim" >"$out/stdout.txt"
grep -q '^Summary: the engine against the best static schedule$' "$out/stdout.txt"
grep -Eq '^1\. .*: the engine costs .* s per job, .* the best static schedule \(' "$out/stdout.txt"
grep -Eq '^Over [0-9]+ scenarios the engine costs less per job than the best static schedule in [0-9]+' "$out/stdout.txt"
if grep -Eiq 'issue-?[0-9]' "$out/stdout.txt"; then
  echo "the demo's output still names an issue" >&2; exit 1
fi
scenarios="$(ls "$out"/sim/*-time-to-success.svg | wc -l)"
costs="$(ls "$out"/sim/*-cost.svg | wc -l)"
[ "$scenarios" -gt 0 ] && [ "$costs" -eq "$scenarios" ] || { echo "expected one cost plot per scenario" >&2; exit 1; }
test -s "$out/sim/cost-vs-best-static.svg"
test -s "$out/sim/report.html"

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "SKIPPED: no Chromium and no apt-get to install it; report.html not rendered"
    exit 0
  fi
  apt-get update
  apt-get install -y --no-install-recommends chromium
  browser=chromium
fi
chrome=("$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars)
"${chrome[@]}" --dump-dom "file://$out/sim/report.html" 2>/dev/null >"$out/dom.html"
grep -q 'id="summary"' "$out/dom.html"
rendered_svgs="$(grep -o '<svg' "$out/dom.html" | wc -l)"
# Every scenario's cost plot, time-to-success and failed-attempts plots, plus the overview.
[ "$rendered_svgs" -ge $((3 * scenarios + 1)) ] || {
  echo "report.html rendered $rendered_svgs plots, expected at least $((3 * scenarios + 1))" >&2; exit 1; }
"${chrome[@]}" --window-size=1200,1800 --screenshot="$out/report.png" "file://$out/sim/report.html" 2>/dev/null
"${chrome[@]}" --window-size=1200,1800 --screenshot="$out/blank.png" "data:text/html,<html></html>" 2>/dev/null
# The page is drawn: its screenshot holds far more detail (compresses worse) than a blank page.
report_size="$(stat -c %s "$out/report.png")"
blank_size="$(stat -c %s "$out/blank.png")"
[ "$report_size" -gt $((10 * blank_size)) ] || {
  echo "report.png ($report_size bytes) looks blank next to an empty page ($blank_size bytes)" >&2; exit 1; }
echo "demo: summary printed, $costs cost plots, report.html rendered by $browser ($rendered_svgs plots, screenshot $report_size bytes)"
