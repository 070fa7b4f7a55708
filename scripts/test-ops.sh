#!/usr/bin/env bash
# Operations files: the Prometheus alerting rules pass `promtool check rules` and their unit
# tests (`promtool test rules`). promtool comes with Debian's `prometheus` package.
set -euo pipefail
cd "$(dirname "$0")/../ops/prometheus"
if ! command -v promtool >/dev/null 2>&1; then
  echo "installing: prometheus (for promtool)"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus
fi
promtool check rules alerts.yml
promtool test rules alerts.test.yml
echo "ops: alert rules checked and tested"
