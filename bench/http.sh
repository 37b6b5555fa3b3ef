#!/usr/bin/env bash
# bench/http.sh -- HTTP throughput of opx compared with a bare libuv responder.
#
# Usage: bash bench/http.sh [OPX_BINARY]          (default: build/opx)
#
# Runs wrk (pinned to one core) against, in order:
#   1. build/bench_bare  -- bench/bare_libuv.c, the throughput ceiling
#   2. opx GET /healthz  -- no database, no auth
#   3. opx GET /api/v1/me with a bearer token -- auth + SQLite lookup per request
# and prints req/s, ratio to the ceiling and p50/p99 latency. One line per
# target is appended to build/bench-results.txt.
#
# Environment:
#   BENCH_SECONDS      wrk duration per target (default 10)
#   BENCH_CONNECTIONS  wrk connections (default 64)
#   BENCH_SERVER_CPU   core the server is pinned to (default 0)
#   BENCH_CLIENT_CPU   core wrk is pinned to (default 1)
#   BENCH_STRICT=1     exit non-zero when a ratio is below its target
#
# Every process this script starts is killed on exit, and its temp dir removed.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

# The binary path is taken relative to the caller's directory.
OPX_ARG=${1:-$ROOT/build/opx}
case $OPX_ARG in
/*) OPX=$OPX_ARG ;;
*) OPX=$PWD/$OPX_ARG ;;
esac
cd "$ROOT"

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
PY=/usr/bin/python3
BARE=$ROOT/build/bench_bare
RESULTS=$ROOT/build/bench-results.txt

BENCH_NAME=http.sh
STOP_WAIT_S=5
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# ---------------------------------------------------------------- preflight
if [[ ! -e $OPX ]]; then
    die "opx binary not found: $OPX_ARG (build it first, e.g. 'make', or pass its path)"
fi
[[ -f $OPX && -x $OPX ]] || die "opx binary is not an executable file: $OPX_ARG"
for tool in wrk curl taskset cc pkg-config; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH"
done
[[ -x $PY ]] || die "$PY not found"
[[ $SECONDS_PER_RUN =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
[[ $CONNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_CONNECTIONS must be a positive integer"
taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot pin to CPU $SERVER_CPU (BENCH_SERVER_CPU)"
taskset -c "$CLIENT_CPU" true 2>/dev/null || die "cannot pin to CPU $CLIENT_CPU (BENCH_CLIENT_CPU)"
if [[ $SERVER_CPU == "$CLIENT_CPU" ]]; then
    warn "server and wrk share CPU $SERVER_CPU; numbers will not be comparable"
fi
if others=$(pgrep -x wrk 2>/dev/null); then
    warn "another wrk is already running (pid ${others//$'\n'/ }); results will be noisy"
fi

# ------------------------------------------------------- process management
bench_tmp "${TMPDIR:-/tmp}/opx-bench.XXXXXX"

# ------------------------------------------------------------------ wrk runs
# run_wrk KEY URL [wrk args...] -- sets R_RPS R_P50 R_P99 (as printed by wrk),
# R_P50_MS R_P99_MS, R_NON2XX, R_SOCKERR (sum of connect/read/write/timeout).
run_wrk() {
    local key=$1 url=$2
    shift 2
    local out=$BENCH_TMP/wrk-$key.txt pid
    echo "== wrk $key: $url (${SECONDS_PER_RUN}s, $CONNS connections, cpu $CLIENT_CPU)" >&2
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency "$@" "$url" \
        >"$out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    if ! wait "$pid"; then
        forget_pid "$pid"
        cat "$out" >&2
        die "wrk failed for $key"
    fi
    forget_pid "$pid"
    sed 's/^/   /' "$out" >&2

    R_RPS=$(awk '/^Requests\/sec:/ {printf "%d", $2 + 0.5}' "$out")
    R_P50=$(awk '$1 == "50%" {print $2}' "$out")
    R_P99=$(awk '$1 == "99%" {print $2}' "$out")
    R_NON2XX=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    R_NON2XX=${R_NON2XX:-0}
    R_SOCKERR=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out")
    R_SOCKERR=${R_SOCKERR:-0}
    [[ -n $R_RPS && -n $R_P50 && -n $R_P99 ]] || {
        cat "$out" >&2
        die "could not parse wrk output for $key"
    }
    R_P50_MS=$(to_ms "$R_P50")
    R_P99_MS=$(to_ms "$R_P99")
}

to_ms() { # wrk latency (e.g. 241.00us, 1.23ms, 2.00s) -> milliseconds
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
        if (f < 0) print "nan"; else printf "%.3f", n * f
    }'
}

# ------------------------------------------------------------- results table
ROWS=()
FAILED=0
STAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo none)
if [[ $GIT_REV != none ]] && ! git diff --quiet HEAD -- 2>/dev/null; then
    GIT_REV=$GIT_REV-dirty
fi
BARE_RPS=

record() { # record KEY LABEL MIN_RATIO(or -) -- uses R_* from the last run_wrk
    local key=$1 label=$2 min=$3 ratio note=""
    ratio=$(awk -v a="$R_RPS" -v b="$BARE_RPS" 'BEGIN { printf "%.2f", a / b }')
    if [[ $min != - ]]; then
        note="(target >= $min)"
        if awk -v r="$ratio" -v m="$min" 'BEGIN { exit !(r < m) }'; then
            note="$note BELOW TARGET"
            [[ ${BENCH_STRICT:-0} == 1 ]] && FAILED=1
        fi
    fi
    if [[ $key != bare && ($R_NON2XX != 0 || $R_SOCKERR != 0) ]]; then
        note="$note WARNING: non-2xx=$R_NON2XX socket-errors=$R_SOCKERR"
        FAILED=1
    fi
    local row
    row=$(printf '%-16s %8s %7s %9s %9s   %s' "$label" "$R_RPS" "$ratio" "$R_P50" "$R_P99" "$note")
    ROWS+=("${row%"${row##*[! ]}"}") # without trailing blanks
    mkdir -p "$(dirname "$RESULTS")"
    printf '%s bench=http target=%s rps=%s ratio=%s p50_ms=%s p99_ms=%s non2xx=%s socket_errors=%s seconds=%s connections=%s server_cpu=%s client_cpu=%s git=%s\n' \
        "$STAMP" "$key" "$R_RPS" "$ratio" "$R_P50_MS" "$R_P99_MS" "$R_NON2XX" "$R_SOCKERR" \
        "$SECONDS_PER_RUN" "$CONNS" "$SERVER_CPU" "$CLIENT_CPU" "$GIT_REV" >>"$RESULTS"
}

# --------------------------------------------------------- 1. bare ceiling
mkdir -p "$ROOT/build"
if [[ ! -x $BARE || bench/bare_libuv.c -nt $BARE ]]; then
    echo "== building $BARE" >&2
    # shellcheck disable=SC2046
    cc -O2 -Wall -Wextra -Werror bench/bare_libuv.c -o "$BARE.tmp" $(pkg-config --cflags --libs libuv)
    mv -f -- "$BARE.tmp" "$BARE"
fi

PORT=$(free_port)
taskset -c "$SERVER_CPU" "$BARE" "$PORT" >"$BENCH_TMP/bare.log" 2>&1 &
SRV=$!
PIDS+=("$SRV")
wait_ready "$SRV" "$PORT" "$BENCH_TMP/bare.log" "bench_bare"
run_wrk bare "http://127.0.0.1:$PORT/healthz"
BARE_RPS=$R_RPS
[[ $BARE_RPS -gt 0 ]] || die "bare responder served 0 req/s"
record bare "bare libuv" -
stop_pid "$SRV"
forget_pid "$SRV"

# ------------------------------------------------------------------ 2. opx
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
taskset -c "$SERVER_CPU" "$OPX" serve --listen "127.0.0.1:$PORT" --db "$BENCH_TMP/bench.db" \
    --access-log off >"$BENCH_TMP/opx.log" 2>&1 &
SRV=$!
PIDS+=("$SRV")
wait_ready "$SRV" "$PORT" "$BENCH_TMP/opx.log" "opx"

run_wrk opx_healthz "$BASE/healthz"
record opx_healthz "opx /healthz" 0.85

# ------------------------------------------------------- 3. authenticated
EMAIL=bench@example.com
PASSWORD=bench-pass-123
code=$(curl -s -o "$BENCH_TMP/register.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"name\":\"Bench\",\"role\":\"client\"}" \
    "$BASE/api/v1/auth/register") || code=000
if [[ $code != 2?? && $code != 409 ]]; then
    cat "$BENCH_TMP/register.json" >&2 2>/dev/null || true
    die "register returned HTTP $code"
fi

code=$(curl -s -o "$BENCH_TMP/login.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" \
    "$BASE/api/v1/auth/login") || code=000
if [[ $code != 2?? ]]; then
    cat "$BENCH_TMP/login.json" >&2 2>/dev/null || true
    die "login returned HTTP $code"
fi
TOKEN=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' \
    "$BENCH_TMP/login.json") || {
    cat "$BENCH_TMP/login.json" >&2
    die "login response has no \"token\""
}
[[ -n $TOKEN ]] || die "login returned an empty token"

code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "$BASE/api/v1/me") || code=000
[[ $code == 200 ]] || die "GET /api/v1/me with the token returned HTTP $code, expected 200"

run_wrk opx_me "$BASE/api/v1/me" -H "Authorization: Bearer $TOKEN"
record opx_me "opx /api/v1/me" 0.50

stop_pid "$SRV"
forget_pid "$SRV"

# ------------------------------------- 4. the default config: access log on
# The same two requests with one JSON log line per request (the default),
# for the record; the targets above are for the HTTP core.
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
taskset -c "$SERVER_CPU" "$OPX" serve --listen "127.0.0.1:$PORT" --db "$BENCH_TMP/bench.db" \
    >"$BENCH_TMP/opx-logged.log" 2>&1 &
SRV=$!
PIDS+=("$SRV")
wait_ready "$SRV" "$PORT" "$BENCH_TMP/opx-logged.log" "opx (access log on)"
run_wrk opx_healthz_logged "$BASE/healthz"
record opx_healthz_logged "/healthz +log" -
run_wrk opx_me_logged "$BASE/api/v1/me" -H "Authorization: Bearer $TOKEN"
record opx_me_logged "/me +log" -
stop_pid "$SRV"
forget_pid "$SRV"

# ------------------------------------------------------------------ report
echo
printf '%-16s %8s %7s %9s %9s\n' target req/s ratio p50 p99
printf '%s\n' "${ROWS[@]}"
echo
echo "(server on cpu $SERVER_CPU, wrk -t1 -c$CONNS -d${SECONDS_PER_RUN}s on cpu $CLIENT_CPU; appended to ${RESULTS#"$ROOT"/})"
exit "$FAILED"
