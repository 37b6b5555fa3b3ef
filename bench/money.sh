#!/usr/bin/env bash
# bench/money.sh -- money throughput on SQLite with full durability (issue 6):
# ledger transfers through the store and complete fund + submit + approve
# flows through the HTTP API, beside the raw SQLite commit rate of the disk.
#
# Usage: bash bench/money.sh [OPX_BINARY]          (default: build/opx)
#
# Everything runs in a temp dir under build/, so on build/'s disk:
#   1. build/bench_money (bench/money_bench.c linked against build/libopx.a,
#      pinned to the server core):
#        raw     one connection, WAL, synchronous=FULL, BEGIN IMMEDIATE +
#                one small INSERT + COMMIT in a loop -> commits/s;
#        ledger  the store (store_open: the server's writer thread and its
#                batched commits) posting one ledger transaction per write
#                job (sqlite_ledger_post: fund, then release once the fund is
#                durable), K jobs kept in flight, for each K in
#                BENCH_MONEY_INFLIGHT -> transfers/s and transfers per commit;
#                the ledger is verified afterwards.
#   2. `opx seed --demo`, `opx serve --access-log off` pinned to the server
#      core; bench/money_flows.py (/usr/bin/python3 + httpx, pinned to the
#      client core) sets up BENCH_MONEY_CONTRACTS active fixed-price
#      contracts of BENCH_MONEY_MILESTONES milestones (the steps of
#      active_contract in tests/api/moneytest.py), then runs one flow per
#      milestone -- POST .../fund (Idempotency-Key, tok_visa), .../submit
#      (engineer), .../approve (Idempotency-Key) -- with
#      BENCH_MONEY_CONCURRENCY flows in flight -> flows/s, p50/p99 flow
#      latency. The server is stopped (SIGTERM, must exit 0), then
#      `opx ledger verify` must pass and the ledger must hold exactly one
#      fund and one release per flow.
#
# Target: ledger transfers >= 0.5x the raw commit rate, checked on every
# row with more than one transfer in flight (one in flight cannot be
# batched; that row is shown for the per-transaction cost). A miss is
# flagged BELOW TARGET. Failures (a failed job or flow, a ledger that does
# not verify, a wrong count, a non-zero server exit) make the script exit
# non-zero.
#
# Environment:
#   BENCH_MONEY_SECONDS      seconds per store measurement (default 5)
#   BENCH_MONEY_INFLIGHT     ledger jobs in flight, space separated (default "64 1")
#   BENCH_MONEY_CONTRACTS    contracts for the HTTP flows (default 20)
#   BENCH_MONEY_MILESTONES   milestones per contract, 1..20 (default 20)
#   BENCH_MONEY_CONCURRENCY  flows in flight (default 16)
#   BENCH_MONEY_PROCS        driver processes sharing them (default 1)
#   BENCH_MONEY_NODELAY=0    leave httpx's sockets without TCP_NODELAY (see money_flows.py)
#   BENCH_SERVER_CPU         core of the server and of bench_money (default 0)
#   BENCH_CLIENT_CPU         core of the HTTP driver (default 1)
#   BENCH_STRICT=1           exit non-zero when the target is missed
#
# Every process this script starts is stopped on exit and its temp dir
# removed. One line per row is appended to build/bench-results.txt.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

OPX_ARG=${1:-$ROOT/build/opx}
case $OPX_ARG in
/*) OPX=$OPX_ARG ;;
*) OPX=$PWD/$OPX_ARG ;;
esac
cd "$ROOT"

SECS=${BENCH_MONEY_SECONDS:-5}
INFLIGHT=${BENCH_MONEY_INFLIGHT:-"64 1"}
CONTRACTS=${BENCH_MONEY_CONTRACTS:-20}
MILESTONES=${BENCH_MONEY_MILESTONES:-20}
CONC=${BENCH_MONEY_CONCURRENCY:-16}
PROCS=${BENCH_MONEY_PROCS:-1}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
TARGET_RATIO=0.5
DRIVER_BUSY_PCT=85 # a driver core busier than this bounds the flows figure
PY=/usr/bin/python3
LIB=$ROOT/build/libopx.a
BIN=$ROOT/build/bench_money
RESULTS=$ROOT/build/bench-results.txt
LIBS=(libuv jansson sqlite3 libsodium libcurl)

BENCH_NAME=money.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# ---------------------------------------------------------------- preflight
if [[ ! -e $OPX ]]; then
    die "opx binary not found: $OPX_ARG (build it first, e.g. 'ninja -C build', or pass its path)"
fi
[[ -f $OPX && -x $OPX ]] || die "opx binary is not an executable file: $OPX_ARG"
[[ -f $LIB ]] || die "$LIB not found (build it first: 'ninja -C build')"
for tool in curl taskset cc pkg-config awk; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH"
done
[[ -x $PY ]] || die "$PY not found"
"$PY" -c 'import httpx' 2>/dev/null || die "$PY cannot import httpx (Debian package python3-httpx)"
for l in "${LIBS[@]}"; do
    pkg-config --exists "$l" || die "$l not found by pkg-config (see meson.build's dependencies)"
done
[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "BENCH_MONEY_SECONDS must be a positive integer"
for k in $INFLIGHT; do
    [[ $k =~ ^[1-9][0-9]*$ ]] || die "BENCH_MONEY_INFLIGHT must be positive integers, got '$k'"
done
[[ -n ${INFLIGHT// /} ]] || die "BENCH_MONEY_INFLIGHT is empty"
[[ $CONTRACTS =~ ^[1-9][0-9]*$ ]] || die "BENCH_MONEY_CONTRACTS must be a positive integer"
[[ $MILESTONES =~ ^[1-9][0-9]*$ ]] && ((MILESTONES <= 20)) || die "BENCH_MONEY_MILESTONES must be 1..20"
[[ $CONC =~ ^[1-9][0-9]*$ ]] || die "BENCH_MONEY_CONCURRENCY must be a positive integer"
[[ $PROCS =~ ^[1-9][0-9]*$ ]] && ((CONC % PROCS == 0)) ||
    die "BENCH_MONEY_PROCS must be a positive divisor of BENCH_MONEY_CONCURRENCY"
taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot pin to CPU $SERVER_CPU (BENCH_SERVER_CPU)"
taskset -c "$CLIENT_CPU" true 2>/dev/null || die "cannot pin to CPU $CLIENT_CPU (BENCH_CLIENT_CPU)"
if [[ $SERVER_CPU == "$CLIENT_CPU" ]]; then
    warn "server and driver share CPU $SERVER_CPU; numbers will not be comparable"
fi
if others=$(pgrep -x opx 2>/dev/null); then
    warn "other opx processes are running (pid ${others//$'\n'/ }); if busy, results will be noisy"
fi

# ------------------------------------------------------- process management
mkdir -p "$ROOT/build"
# under build/: the databases live on the disk the results are about
bench_tmp "$ROOT/build/.bench-money.XXXXXX"

# -------------------------------------------------------------------- build
if [[ ! -x $BIN || bench/money_bench.c -nt $BIN || $LIB -nt $BIN ]]; then
    echo "== building $BIN (against $LIB)" >&2
    # shellcheck disable=SC2046
    cc -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Isrc bench/money_bench.c "$LIB" \
        -o "$BIN.tmp" $(pkg-config --cflags --libs "${LIBS[@]}") -lhttp_parser -lm -lpthread
    mv -f -- "$BIN.tmp" "$BIN"
fi

# ------------------------------------------------- 1. raw commits, ledger transfers
echo "== bench_money: raw SQLite commits, then ledger transfers with ${INFLIGHT// /, } in flight;" \
    "${SECS} s each, cpu $SERVER_CPU, in ${BENCH_TMP#"$ROOT"/}" >&2
STORE_OUT=$BENCH_TMP/store.out
# in the background, so that a signal to this script stops it at once (trap)
taskset -c "$SERVER_CPU" "$BIN" --dir "$BENCH_TMP" --seconds "$SECS" --inflight "${INFLIGHT// /,}" \
    --contracts "$CONTRACTS" >"$STORE_OUT" &
BM=$!
PIDS+=("$BM")
if ! wait "$BM"; then
    forget_pid "$BM"
    cat "$STORE_OUT" >&2
    die "bench_money failed"
fi
forget_pid "$BM"
mapfile -t RAW < <(grep '^RESULT kind=raw ' "$STORE_OUT" || true)
mapfile -t LEDGER < <(grep '^RESULT kind=ledger ' "$STORE_OUT" || true)
((${#RAW[@]} > 0 && ${#LEDGER[@]} > 0)) || {
    cat "$STORE_OUT" >&2
    die "no RESULT lines from bench_money"
}
RAW_RATES=()
for line in "${RAW[@]}"; do
    RAW_RATES+=("$(field "$line" rate)")
done
# every raw run: mean, min, max (each ledger row is compared with the two around it)
read -r RAW_RATE RAW_MIN RAW_MAX < <(printf '%s\n' "${RAW_RATES[@]}" |
    awk 'NR == 1 { lo = hi = $1 } { s += $1; if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 }
         END { printf "%.1f %.0f %.0f\n", s / NR, lo, hi }')

# ------------------------------------------------------------ 2. HTTP flows
echo "== seeding a demo database" >&2
"$OPX" seed --demo --db "$BENCH_TMP/opx.db" >"$BENCH_TMP/seed.log" 2>&1 || {
    cat "$BENCH_TMP/seed.log" >&2
    die "opx seed --demo failed"
}
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
taskset -c "$SERVER_CPU" "$OPX" serve --listen "127.0.0.1:$PORT" --db "$BENCH_TMP/opx.db" \
    --access-log off --login-ip-burst 100000 >"$BENCH_TMP/opx.log" 2>&1 &
SRV=$!
PIDS+=("$SRV")
wait_ready "$SRV" "$PORT" "$BENCH_TMP/opx.log" opx
echo "== opx pid $SRV on 127.0.0.1:$PORT (cpu $SERVER_CPU); money_flows: $CONTRACTS contracts x" \
    "$MILESTONES milestones, $CONC in flight, cpu $CLIENT_CPU" >&2
FLOWS_OUT=$BENCH_TMP/flows.out
taskset -c "$CLIENT_CPU" "$PY" bench/money_flows.py "$BASE" "$SRV" "$CONTRACTS" "$MILESTONES" "$CONC" "$PROCS" \
    >"$FLOWS_OUT" 2>"$BENCH_TMP/flows.err" &
DRV=$!
PIDS+=("$DRV")
if ! wait "$DRV"; then
    forget_pid "$DRV"
    cat "$FLOWS_OUT" "$BENCH_TMP/flows.err" >&2
    kill -0 "$SRV" 2>/dev/null || warn "the server is not running any more"
    log_tail "$BENCH_TMP/opx.log" opx
    die "money_flows failed"
fi
forget_pid "$DRV"
sed 's/^/   /' "$BENCH_TMP/flows.err" >&2
FLOWS=$(grep '^RESULT ' "$FLOWS_OUT" || true)
[[ -n $FLOWS ]] || {
    cat "$FLOWS_OUT" >&2
    die "no RESULT line from money_flows"
}

# stop the server: it must drain and exit 0
kill -0 "$SRV" 2>/dev/null || {
    log_tail "$BENCH_TMP/opx.log" opx
    die "the server died during the run"
}
kill -TERM "$SRV"
for ((i = 0; i < 150; i++)); do
    kill -0 "$SRV" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$SRV" 2>/dev/null; then
    warn "opx ignored SIGTERM for 15 s; sending SIGKILL"
    kill -KILL "$SRV" 2>/dev/null || true
fi
if wait "$SRV"; then SRV_RC=0; else SRV_RC=$?; fi
forget_pid "$SRV"
LOG_WARNINGS=$(grep -c '"level":"\(warn\|error\)"' "$BENCH_TMP/opx.log" || true)

# the ledger after the flows: verified, and one fund + one release per flow
if "$OPX" ledger verify --db "$BENCH_TMP/opx.db" >"$BENCH_TMP/verify.out" 2>&1; then VERIFY_RC=0; else VERIFY_RC=$?; fi
VERIFY_LAST=$(tail -n 1 "$BENCH_TMP/verify.out")
COUNTS=$("$PY" - "$BENCH_TMP/opx.db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
n = dict(db.execute("SELECT kind, count(*) FROM ledger_txns GROUP BY kind").fetchall())
print(f"fund={n.pop('fund', 0)} release={n.pop('release', 0)} other={sum(n.values())}")
PYEOF
)

# ------------------------------------------------------------------ report
STAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo none)
if [[ $GIT_REV != none ]] && ! git diff --quiet HEAD -- 2>/dev/null; then
    GIT_REV=$GIT_REV-dirty
fi
FAILED=0
problems=()
ROWS=()
ratio() { awk -v a="$1" -v b="$RAW_RATE" 'BEGIN { printf "%.2f", a / b }'; }
row() { # label rate per_commit ratio p50 p99 note
    ROWS+=("$(printf '%-34s %9s %10s %6s %9s %9s   %s' "$@")")
}

row "raw SQLite commits (1 row each)" "$(printf '%.0f' "$RAW_RATE")" 1.00 1.00 - - \
    "(mean of ${#RAW_RATES[@]} runs: $RAW_MIN..$RAW_MAX)"
RAW_LIST=$(IFS=,; echo "${RAW_RATES[*]}")
printf '%s bench=money target=raw_commits rate=%s runs=%s min=%s max=%s seconds=%s write_kib_per_commit=%s cpu=%s git=%s\n' \
    "$STAMP" "$RAW_RATE" "$RAW_LIST" "$RAW_MIN" "$RAW_MAX" "$SECS" "$(field "${RAW[0]}" write_kib_per_commit)" \
    "$SERVER_CPU" "$GIT_REV" >>"$RESULTS"

for line in "${LEDGER[@]}"; do
    k=$(field "$line" inflight)
    rate=$(field "$line" rate)
    r=$(printf '%.2f' "$(field "$line" ratio)") # against the raw runs just before and after
    note=""
    if ((k > 1)); then
        note="(target >= ${TARGET_RATIO}x raw)"
        if awk -v r="$r" -v t="$TARGET_RATIO" 'BEGIN { exit !(r < t) }'; then
            note="$note BELOW TARGET"
            [[ ${BENCH_STRICT:-0} == 1 ]] && FAILED=1
        fi
    else
        note="(no batching possible)"
    fi
    [[ $(field "$line" failed) == 0 ]] || problems+=("ledger-k$k-failed-jobs=$(field "$line" failed)")
    [[ $(field "$line" violations) == 0 ]] || problems+=("ledger-k$k-violations=$(field "$line" violations)")
    row "ledger transfers, $k in flight" "$(printf '%.0f' "$rate")" "$(field "$line" per_commit)" "$r" \
        "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" "$note"
    printf '%s bench=money target=ledger_k%s rate=%s ratio=%s raw_before=%s raw_after=%s transfers=%s commits=%s per_commit=%s p50_ms=%s p99_ms=%s seconds=%s write_kib_per_transfer=%s violations=%s cpu=%s git=%s\n' \
        "$STAMP" "$k" "$rate" "$r" "$(field "$line" raw_before)" "$(field "$line" raw_after)" \
        "$(field "$line" transfers)" "$(field "$line" commits)" \
        "$(field "$line" per_commit)" "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" \
        "$(field "$line" seconds)" "$(field "$line" write_kib_per_transfer)" "$(field "$line" violations)" \
        "$SERVER_CPU" "$GIT_REV" >>"$RESULTS"
done

NFLOWS=$(field "$FLOWS" flows)
FRATE=$(field "$FLOWS" rate)
DRV_PCT=$(field "$FLOWS" driver_cpu_pct)
note="(fund+submit+approve, $CONC in flight)"
if ((DRV_PCT >= DRIVER_BUSY_PCT)); then
    note="$note driver-bound: its core ${DRV_PCT}% busy"
fi
row "HTTP flows" "$(printf '%.0f' "$FRATE")" - "$(ratio "$FRATE")" "$(field "$FLOWS" p50_ms)" \
    "$(field "$FLOWS" p99_ms)" "$note"
[[ $(field "$FLOWS" errors) == 0 ]] || problems+=("flow-errors=$(field "$FLOWS" errors)")
[[ $SRV_RC == 0 ]] || problems+=("server-exit=$SRV_RC")
[[ $VERIFY_RC == 0 ]] || problems+=("ledger-verify-exit=$VERIFY_RC")
[[ $COUNTS == "fund=$NFLOWS release=$NFLOWS other=0" ]] || problems+=("ledger-txns:$COUNTS-for-$NFLOWS-flows")
printf '%s bench=money target=http_flows rate=%s flows=%s concurrency=%s processes=%s p50_ms=%s p99_ms=%s max_ms=%s seconds=%s server_cpu_pct=%s driver_cpu_pct=%s server_cpu_ms_per_flow=%s server_write_kib_per_flow=%s ledger_verify=%s server_exit=%s server_cpu=%s client_cpu=%s git=%s\n' \
    "$STAMP" "$FRATE" "$NFLOWS" "$CONC" "$PROCS" "$(field "$FLOWS" p50_ms)" "$(field "$FLOWS" p99_ms)" \
    "$(field "$FLOWS" max_ms)" "$(field "$FLOWS" seconds)" "$(field "$FLOWS" server_cpu_pct)" "$DRV_PCT" \
    "$(field "$FLOWS" server_cpu_ms_per_flow)" "$(field "$FLOWS" server_write_kib_per_flow)" "$VERIFY_RC" "$SRV_RC" "$SERVER_CPU" "$CLIENT_CPU" \
    "$GIT_REV" >>"$RESULTS"
if ((${#problems[@]})); then
    ROWS+=("WARNING: ${problems[*]}")
    FAILED=1
fi

echo
printf '%-34s %9s %10s %6s %9s %9s\n' measure "per s" per_commit ratio p50_ms p99_ms
printf '%s\n' "${ROWS[@]}"
echo
echo "raw SQLite commits/s, in order: ${RAW_RATES[*]} ($(field "${RAW[0]}" write_kib_per_commit) KiB written" \
    "per commit)"
echo "ratio: ledger rows against the mean of the raw runs just before and after each; HTTP flows against" \
    "the mean of all raw runs"
for line in "${LEDGER[@]}"; do
    echo "ledger, $(field "$line" inflight) in flight: $(field "$line" transfers) transfers" \
        "($(field "$line" funds) funds, $(field "$line" releases) releases) in $(field "$line" commits) commits" \
        "over $(field "$line" seconds) s; max $(field "$line" max_ms) ms; $(field "$line" write_kib_per_transfer) KiB" \
        "written per transfer; verify: $(field "$line" violations) violations in $(field "$line" txns_in_db)" \
        "transactions ($(field "$line" verify_s) s)"
done
echo "HTTP: $NFLOWS flows ($(field "$FLOWS" requests) requests) in $(field "$FLOWS" seconds) s, max" \
    "$(field "$FLOWS" max_ms) ms; per request p50/p99 ms: fund $(field "$FLOWS" fund_p50_ms)/$(field "$FLOWS" fund_p99_ms)," \
    "submit $(field "$FLOWS" submit_p50_ms)/$(field "$FLOWS" submit_p99_ms)," \
    "approve $(field "$FLOWS" approve_p50_ms)/$(field "$FLOWS" approve_p99_ms)"
echo "      server core $(field "$FLOWS" server_cpu_pct)% busy ($(field "$FLOWS" server_cpu_ms_per_flow) ms of" \
    "server CPU and $(field "$FLOWS" server_write_kib_per_flow) KiB written by the server per flow), driver core" \
    "${DRV_PCT}% busy; server exit $SRV_RC; warn/error log lines: ${LOG_WARNINGS:-0}"
echo "      ledger after the flows: $COUNTS; opx ledger verify: $VERIFY_LAST"
echo
echo "(bench_money and the server on cpu $SERVER_CPU, the HTTP driver on cpu $CLIENT_CPU; databases in build/;" \
    "appended to ${RESULTS#"$ROOT"/})"
if ((${LOG_WARNINGS:-0} > 0)); then
    echo "---- warn/error lines in the server log ----" >&2
    grep '"level":"\(warn\|error\)"' "$BENCH_TMP/opx.log" | head -n 20 >&2
fi
exit "$FAILED"
