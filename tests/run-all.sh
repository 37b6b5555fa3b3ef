#!/usr/bin/env bash
# run-all: every test suite there is, then one closing count.
#   layers    the include graph runs down (tools/check-layers.sh)
#   unit      Criterion unit tests (release build)
#   store     the store conformance suite (tests/store) on SQLite
#   store-pg  the same suite, and the PostgreSQL driver's own tests, on a
#             PostgreSQL server started for the run (tests/pg/pg-server.sh);
#             the unit suite's PostgreSQL tests (sql_pg/*) use it too
#   api       pytest black-box tests against the real binary on SQLite
#   api-pg    the same tests with every server on the PostgreSQL above
#             (beside api, fakes and browser)
#   fakes     the test doubles' own tests (tests/fakes: the fake Stripe)
#   asan-*    the same two against an AddressSanitizer+UBSan build
#   browser   the web app in Debian's chromium (tests/browser/run.sh):
#             every journey by clicking, axe at 375 and 1280 px, screenshots
#             in build/test-logs/screens/
#   fuzz      each libFuzzer target over its seed corpus plus a few seconds
# Logs go to build/test-logs/. Exit status is non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
PY=/usr/bin/python3
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"
total_pass=0 total_fail=0
summary=()

# count NAME LOGFILE EXIT: adds the suite's counts from its own summary line
count() {
  local name=$1 log=$2 rc=$3 p=0 f=0 line
  if line=$(grep -E "Synthesis: Tested:" "$log" | tail -1) && [ -n "$line" ]; then
    p=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
    f=$(sed -E 's/.*Failing: ([0-9]+) \| Crashing: ([0-9]+).*/\1+\2/' <<<"$line")
    f=$((f))
  elif line=$(grep -E "^(fuzz|[a-z-]+): [0-9]+ passed, [0-9]+ failed" "$log" | tail -1) && [ -n "$line" ]; then
    p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  elif line=$(grep -E "[0-9]+ (passed|failed|error)" "$log" | grep -E "^=+ |^[0-9]+ (passed|failed)" | tail -1) && [ -n "$line" ]; then
    p=$(grep -oE "[0-9]+ passed" <<<"$line" | grep -oE "[0-9]+" || echo 0)
    local fl er
    fl=$(grep -oE "[0-9]+ failed" <<<"$line" | grep -oE "[0-9]+" || echo 0)
    er=$(grep -oE "[0-9]+ errors?" <<<"$line" | grep -oE "[0-9]+" || echo 0)
    f=$((fl + er))
  fi
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi  # crashed or ran nothing countable
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  summary+=("$(printf '%-10s %5d passed, %d failed%s' "$name" "$p" "$f" "$([ "$rc" -ne 0 ] && echo "  (exit $rc, see $log)")")")
}

suite() { # suite NAME CMD...
  local name=$1; shift
  local log=$LOGS/$name.log
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  count "$name" "$log" "$rc"
}

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1

# one throwaway PostgreSQL for every suite that runs on it; its watchdog
# stops it if this script dies, the trap when it ends
pgurl= pgdir=
if { read -r pgurl; read -r pgdir; } < <(tests/pg/pg-server.sh start --watch $$ 2>"$LOGS/pg-server.log") \
    && [ -n "$pgurl" ]; then
  trap 'tests/pg/pg-server.sh stop "$pgdir"' EXIT
  echo "=== PostgreSQL for the tests: $pgurl"
else
  cat "$LOGS/pg-server.log"
  count pg-server "$LOGS/pg-server.log" 1
fi

suite layers tools/check-layers.sh
suite unit env OPX_TEST_PG="$pgurl" "$BUILD/unit-tests" --jobs 2
suite store "$BUILD/store-tests" --jobs 1 --filter 'sqlite/*'
if [ -n "$pgurl" ]; then
  suite store-pg env OPX_TEST_PG="$pgurl" "$BUILD/store-tests" --jobs 1 --filter 'postgres*/*'
fi
# the API suite on PostgreSQL runs beside the next suites (it mostly waits
# on its servers and their clocks), counted when they are done
bg=()
bg_suite() { # bg_suite NAME CMD...: like suite, in the background
  local name=$1; shift
  echo "=== $name (in the background, log $LOGS/$name.log): $*"
  ( "$@" >"$LOGS/$name.log" 2>&1; echo $? >"$LOGS/$name.rc" ) &
  bg+=("$!:$name")
}
bg_wait() {
  local e name
  for e in "${bg[@]}"; do
    name=${e#*:}
    wait "${e%%:*}"
    echo "=== $name (background) ended: exit $(cat "$LOGS/$name.rc")"
    tail -n 15 "$LOGS/$name.log"
    count "$name" "$LOGS/$name.log" "$(cat "$LOGS/$name.rc")"
  done
  bg=()
}
if [ -n "$pgurl" ]; then
  bg_suite api-pg env OPX_BIN="$BUILD/opx" OPX_TEST_PG="$pgurl" $PY -m pytest tests/api -q -p no:cacheprovider \
    --basetemp="$LOGS/api-pg-tmp"
fi
suite api env OPX_BIN="$BUILD/opx" $PY -m pytest tests/api -q -p no:cacheprovider
suite fakes $PY -m pytest tests/fakes -q -p no:cacheprovider
suite browser env OPX_BIN="$BUILD/opx" BUILD="$BUILD" tests/browser/run.sh
bg_wait

echo "=== building the sanitizer build in $ASAN_BUILD"
if [ ! -f "$ASAN_BUILD/build.ninja" ]; then
  meson setup "$ASAN_BUILD" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
    >"$LOGS/asan-setup.log" 2>&1 || { cat "$LOGS/asan-setup.log"; }
fi
if ninja -C "$ASAN_BUILD" >"$LOGS/asan-build.log" 2>&1; then
  suite asan-unit "$ASAN_BUILD/unit-tests" --jobs 2
  suite asan-api env OPX_BIN="$ASAN_BUILD/opx" $PY -m pytest tests/api -q -p no:cacheprovider
else
  cat "$LOGS/asan-build.log"
  count asan-build "$LOGS/asan-build.log" 1
fi

if [ -x tests/fuzz/run.sh ]; then
  suite fuzz tests/fuzz/run.sh --smoke
fi

echo
echo "=== summary"
for s in "${summary[@]}"; do echo "  $s"; done
echo
echo "total: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
