#!/usr/bin/env bash
# run.sh: the browser suites (tests/browser/test_*.mjs, node:test) against
# the real binary with the web app embedded in it, in Debian's chromium.
#   tests/browser/run.sh [test_file.mjs...]
# Two files at a time (two cores); each file starts and stops its own
# server and browser. Each file's output goes to build/test-logs/browser/,
# screenshots to build/test-logs/screens/. Ends with "browser: N passed,
# M failed"; exits non-zero when any failed or a file could not run.
set -uo pipefail
cd "$(dirname "$0")/../.."
LOGS=${BUILD:-build}/test-logs/browser
mkdir -p "$LOGS" "${BUILD:-build}/test-logs/screens"
if [ ! -d node_modules/playwright-core ] || [ ! -x /usr/bin/chromium ]; then
  echo "browser: node_modules or /usr/bin/chromium missing (make test installs them: npm ci, apt chromium)"
  echo "browser: 0 passed, 1 failed"
  exit 1
fi
if [ $# -gt 0 ]; then files=("$@"); else files=(tests/browser/test_*.mjs); fi
# a whole file is bounded: a hung browser fails its file, never the run
FILE_TIMEOUT=${BROWSER_FILE_TIMEOUT:-600}
pass=0 fail=0 skip=0
run_one() {
  local f=$1 log=$LOGS/$(basename "$f" .mjs).tap
  timeout -k 10 "$FILE_TIMEOUT" node --test --test-reporter=tap --test-timeout=240000 "$f" >"$log" 2>&1
  echo $? >"$log.rc"
}
pids=()
for f in "${files[@]}"; do
  run_one "$f" &
  pids+=($!)
  while [ "$(jobs -rp | wc -l)" -ge "${BROWSER_JOBS:-2}" ]; do wait -n; done
done
wait
for f in "${files[@]}"; do
  log=$LOGS/$(basename "$f" .mjs).tap
  rc=$(cat "$log.rc" 2>/dev/null || echo 1)
  p=$(grep -E '^# pass [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  fl=$(grep -E '^# fail [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  sk=$(grep -E '^# skipped [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  p=${p:-0}; fl=${fl:-0}; sk=${sk:-0}
  if [ "$rc" -ne 0 ] && [ "$fl" -eq 0 ]; then fl=1; fi
  printf '%-28s %3d passed, %d failed, %d skipped%s\n' "$(basename "$f")" "$p" "$fl" "$sk" \
    "$([ "$rc" -ne 0 ] && echo "  (exit $rc, see $log)")"
  if [ "$fl" -gt 0 ]; then
    grep -E '^not ok|^ +not ok|error:|message:' "$log" | head -12 | sed 's/^/    /'
  fi
  if [ "$sk" -gt 0 ]; then grep -E '# SKIP' "$log" | head -5 | sed 's/^ */    /'; fi
  pass=$((pass + p)); fail=$((fail + fl)); skip=$((skip + sk))
done
echo "browser: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
