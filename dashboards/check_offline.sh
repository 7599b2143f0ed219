#!/usr/bin/env bash
# Build the dashboards and open every page in headless Chromium inside a network namespace that
# has only loopback, proving that neither step needs (or reaches) the network.
#   dashboards/check_offline.sh [MARTS_FILE]     (default: warehouse/marts.duckdb)
# The Evidence install (npm ci) runs first, outside the namespace: it is the one step that needs
# the npm registry. Needs unshare and ip (util-linux, iproute2) and Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
MARTS=$(realpath "${1:-warehouse/marts.duckdb}")

"$BIN/python" - <<'PY'
from sentiment_assets.lib.dashboards.build import DASHBOARDS_DIR, ensure_node_modules
from sentiment_assets.lib.dashboards.node import NodeToolchain
(DASHBOARDS_DIR / ".evidence").mkdir(exist_ok=True)
ensure_node_modules(DASHBOARDS_DIR, NodeToolchain.from_wheel(),
                    log=DASHBOARDS_DIR / ".evidence" / "sentiment-install.log")
PY

UNSHARE=(unshare --net)
[ "$(id -u)" = 0 ] || UNSHARE+=(--map-root-user)
"${UNSHARE[@]}" env BIN="$BIN" MARTS="$MARTS" PYTHONPATH="$PWD" bash -euo pipefail -c '
  ip link set lo up
  echo "links in the namespace: $(ip -o link show | cut -d: -f2 | tr -d " " | paste -sd,)"
  if "$BIN/python" -c "import socket; socket.create_connection((\"1.1.1.1\", 443), timeout=3)" 2>/dev/null
  then echo "the namespace can reach 1.1.1.1: not offline" >&2; exit 1; fi
  "$BIN/sentiment" dashboards build --marts "$MARTS"
  "$BIN/python" -m sentiment_assets_tests.dashboards.browser dashboards/build > dashboards/.evidence/offline-check.json
  echo "browser check passed: $(grep -o "\"path\"" dashboards/.evidence/offline-check.json | wc -l) pages, no request left 127.0.0.1"
'
