#!/usr/bin/env bash
# bench/web.sh -- what the web app's first screen costs a browser (requests,
# bytes, time to drawn), cold and warm, against a bare navigation; see
# bench/web_first_screen.mjs. Needs node_modules (npm ci) and /usr/bin/chromium,
# which `make test` installs.   Usage: bench/web.sh [OPX_BINARY]
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
bin=${1:-build/opx}
[ -x "$bin" ] || { echo "bench/web.sh: $bin not built (make)" >&2; exit 1; }
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
OPX_BIN=$bin exec node bench/web_first_screen.mjs
