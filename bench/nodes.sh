#!/usr/bin/env bash
# bench/nodes.sh -- SQLite, PostgreSQL with one node and PostgreSQL with two
# nodes side by side in one run, on the demo data (`opx seed --demo`):
#   me      GET /api/v1/me with a bearer token (wrk): an authenticated read
#   message POST /api/v1/conversations/{id}/messages (wrk with a Lua body):
#           a write that also commits an event for the other party's streams
#   flows   fund + submit + approve through the API (bench/money_flows.py,
#           BENCH_NODES_CONCURRENCY flows in flight): durable money moves
#   jobs    a backlog of BENCH_NODES_JOBS due `email.send` jobs (mails to the
#           log transport), put in the database while no node runs; the
#           nodes start and the figure is jobs done a second until none is
#           left (each job: claimed under a lease, its mail rendered, the
#           mail and the job marked in one transaction)
# With two nodes, each target is driven on both nodes at once (one wrk or
# one flow driver per node, half the connections each) and the figure is
# their sum; p99 is the worse of the two.
#
# Usage: bash bench/nodes.sh [OPX_BINARY]          (default: build/opx)
#
# PostgreSQL is a throwaway cluster made by tests/pg/pg-server.sh --durable
# (fsync, synchronous_commit and full_page_writes on, as in production),
# on this machine's disk under build/. Cores: PostgreSQL, every opx node and
# SQLite's writer share BENCH_SERVER_CPU (default 0); wrk and the drivers
# run on BENCH_CLIENT_CPU (default 1). On a 2-core machine two nodes share
# one core with the database, so the two-node rows show what spreading over
# nodes costs (NOTIFY, the pool's round trips), not what more machines add.
#
# Environment:
#   BENCH_SECONDS            wrk duration per target (default 5)
#   BENCH_CONNECTIONS        wrk connections in all (default 64)
#   BENCH_NODES_CONTRACTS    contracts per flow driver (default 10)
#   BENCH_NODES_MILESTONES   milestones per contract (default 20)
#   BENCH_NODES_CONCURRENCY  flows in flight in all (default 16)
#   BENCH_NODES_JOBS         jobs in the backlog (default 2000)
#   BENCH_SERVER_CPU, BENCH_CLIENT_CPU   as above
#
# Every process this script starts is stopped on exit (the cluster by its
# watchdog too) and its temp dir removed; a node that does not exit 0, a
# non-2xx answer or a ledger that does not verify fails the run. One line
# per row is appended to build/bench-results.txt.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
OPX_ARG=${1:-$ROOT/build/opx}
case $OPX_ARG in
/*) OPX=$OPX_ARG ;;
*) OPX=$PWD/$OPX_ARG ;;
esac
cd "$ROOT"

SECONDS_PER_RUN=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNECTIONS:-64}
CONTRACTS=${BENCH_NODES_CONTRACTS:-10}
MILESTONES=${BENCH_NODES_MILESTONES:-20}
CONC=${BENCH_NODES_CONCURRENCY:-16}
JOBS=${BENCH_NODES_JOBS:-2000}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
PY=/usr/bin/python3
RESULTS=$ROOT/build/bench-results.txt
BENCH_NAME=nodes.sh
STOP_WAIT_S=15
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

[[ -x $OPX ]] || die "opx binary not found: $OPX_ARG"
for tool in wrk taskset curl; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH (tools/install-deps.sh bench)"
done
[[ $CONNS =~ ^[1-9][0-9]*$ && $((CONNS % 2)) == 0 ]] || die "BENCH_CONNECTIONS must be an even positive number"

mkdir -p "$ROOT/build"
bench_tmp "$ROOT/build/opx-bench-nodes.XXXXXX"
STAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo none)

# ---------------------------------------------------------------- PostgreSQL
echo "== a durable PostgreSQL cluster" >&2
{ read -r PGURL; read -r PGDIR; } < <(tests/pg/pg-server.sh start --watch $$ --durable)
[[ -n ${PGURL:-} && -d ${PGDIR:-} ]] || die "no PostgreSQL cluster"
# the postmaster and every backend it forks from now on share the server core
taskset -a -p -c "$SERVER_CPU" "$(head -1 "$PGDIR/data/postmaster.pid")" >/dev/null

# ------------------------------------------------------------------- nodes
NODES=()
start_node() { # start_node DB: one more node on the server core
    local port log pid
    port=$(free_port)
    log=$BENCH_TMP/node-${#NODES[@]}-$port.log
    taskset -c "$SERVER_CPU" "$OPX" serve --listen "127.0.0.1:$port" --db "$1" --access-log off \
        --login-ip-burst 100000 >"$log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_ready "$pid" "$port" "$log" "opx node"
    NODES+=("$pid:$port")
}

stop_nodes() { # every node: SIGTERM, and each must exit 0
    local n pid
    for n in "${NODES[@]}"; do
        pid=${n%%:*}
        kill -TERM "$pid"
        if ! wait "$pid"; then
            forget_pid "$pid"
            die "a node did not exit 0 (logs in $BENCH_TMP)"
        fi
        forget_pid "$pid"
    done
    NODES=()
}

# wrk_all KEY PATH [wrk args]: one wrk per node at once, the connections
# split; sets R_RPS (sum) and R_P99_MS (the worst)
wrk_all() {
    local key=$1 path=$2 n i=0 pids=() out
    shift 2
    local per=$((CONNS / ${#NODES[@]}))
    for n in "${NODES[@]}"; do
        out=$BENCH_TMP/wrk-$key-$i.txt
        taskset -c "$CLIENT_CPU" wrk -t1 -c"$per" -d"${SECONDS_PER_RUN}s" --latency "$@" \
            "http://127.0.0.1:${n#*:}$path" >"$out" 2>&1 &
        pids+=($!)
        PIDS+=($!)
        i=$((i + 1))
    done
    for n in "${pids[@]}"; do
        wait "$n" || die "wrk failed for $key: $(cat "$BENCH_TMP"/wrk-"$key"-*.txt)"
        forget_pid "$n"
    done
    R_RPS=0 R_P99_MS=0
    for out in "$BENCH_TMP"/wrk-"$key"-*.txt; do
        sed 's/^/   /' "$out" >&2
        if grep -q 'Non-2xx\|Socket errors' "$out"; then die "$key: errors under wrk (see above)"; fi
        R_RPS=$(awk -v s="$R_RPS" '/^Requests\/sec:/ {printf "%d", s + $2 + 0.5}' "$out")
        R_P99_MS=$(awk -v m="$R_P99_MS" '$1 == "99%" {
            v = $2 + 0; u = $2; sub(/^[0-9.]+/, "", u)
            f = (u == "us") ? 0.001 : (u == "ms") ? 1 : 1000
            v *= f; printf "%.2f", (v > m) ? v : m }' "$out")
    done
}

# flows_all: one money_flows driver per node at once; sets F_RATE (sum of
# flows/s) and F_P99_MS (the worst)
flows_all() {
    local n i=0 pids=() per=$((CONC / ${#NODES[@]}))
    for n in "${NODES[@]}"; do
        taskset -c "$CLIENT_CPU" "$PY" bench/money_flows.py "http://127.0.0.1:${n#*:}" "${n%%:*}" "$CONTRACTS" \
            "$MILESTONES" "$per" >"$BENCH_TMP/flows-$i.out" 2>"$BENCH_TMP/flows-$i.err" &
        pids+=($!)
        PIDS+=($!)
        i=$((i + 1))
    done
    i=0
    for n in "${pids[@]}"; do
        wait "$n" || die "money_flows failed: $(cat "$BENCH_TMP/flows-$i.out" "$BENCH_TMP/flows-$i.err")"
        forget_pid "$n"
        i=$((i + 1))
    done
    F_RATE=0 F_P99_MS=0
    for out in "$BENCH_TMP"/flows-*.out; do
        sed 's/^/   /' "$out" >&2
        F_RATE=$(awk -v s="$F_RATE" '/^RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^rate=/) {
            sub(/rate=/, "", $i); printf "%.1f", s + $i } }' "$out")
        F_P99_MS=$(awk -v m="$F_P99_MS" '/^RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^p99_ms=/) {
            sub(/p99_ms=/, "", $i); printf "%.1f", ($i + 0 > m) ? $i : m } }' "$out")
    done
    rm -f "$BENCH_TMP"/flows-*.out
}

# sql DB STATEMENT: one statement on either database, its rows on stdout
sql() {
    case $1 in
    postgres://* | postgresql://*) psql -qAtX -v ON_ERROR_STOP=1 "$1" -c "$2" ;;
    *) sqlite3 -batch "$1" "$2" ;;
    esac
}

# jobs_all DB COUNT: a backlog of JOBS due jobs, then COUNT nodes started to
# run them; sets J_RATE (jobs done a second, from the first node up to the
# moment none is left)
jobs_all() {
    local db=$1 count=$2 now i left t0 t1 n sum
    now=$(date +%s)
    # the same statement on both: a recursive count, one mail and its job a row
    sql "$db" "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $JOBS)
        INSERT INTO outbox(id, user_id, to_addr, to_name, kind, data, status, created_at, next_attempt_at)
        SELECT 'bench-mail-$now-' || i, NULL, 'bench' || i || '@example.test', 'Bench', 'bench.notice',
               '{\"subject\":\"A benchmark mail\",\"text\":\"One of a backlog.\"}', 'queued', $now, $now
        FROM g" >/dev/null
    sql "$db" "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $JOBS)
        INSERT INTO jobs(id, kind, ref, run_at) SELECT 'bench-job-$now-' || i, 'email.send',
               'bench-mail-$now-' || i, $now FROM g" >/dev/null
    t0=$(date +%s.%N)
    for ((i = 0; i < count; i++)); do start_node "$db"; done
    for ((i = 0; i < 6000; i++)); do
        left=$(sql "$db" "SELECT count(*) FROM jobs WHERE id LIKE 'bench-job-$now-%' AND done_at IS NULL")
        [[ $left == 0 ]] && break
        sleep 0.05
    done
    t1=$(date +%s.%N)
    [[ $left == 0 ]] || die "$left of $JOBS jobs still pending after 300 s"
    sum=0
    for n in "${NODES[@]}"; do
        sum=$((sum + $(curl -sf "http://127.0.0.1:${n#*:}/metrics" | awk '$1 == "opx_jobs_done_total" {print int($2)}')))
    done
    ((sum >= JOBS)) || die "the nodes report $sum jobs done of $JOBS"
    sent=$(sql "$db" "SELECT count(*) FROM outbox WHERE id LIKE 'bench-mail-$now-%' AND status = 'sent'")
    [[ $sent == "$JOBS" ]] || die "$sent of $JOBS bench mails were sent"
    J_RATE=$(awk -v n="$JOBS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) + 0.5 }')
    echo "   $JOBS jobs in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s on $count node(s)" >&2
    stop_nodes
}

ROWS=()
measure() { # measure LABEL DB NODES: every target on NODES nodes of DB
    local label=$1 db=$2 count=$3 i token conv
    echo "== $label" >&2
    for ((i = 0; i < count; i++)); do start_node "$db"; done
    read -r token conv < <("$PY" bench/nodes_setup.py "http://127.0.0.1:${NODES[0]#*:}") ||
        die "setting up the conversation failed"
    [[ -n $conv ]] || die "no conversation to write to"
    wrk_all "me-$label" /api/v1/me -H "Authorization: Bearer $token"
    local me=$R_RPS me99=$R_P99_MS
    BENCH_TOKEN=$token wrk_all "msg-$label" "/api/v1/conversations/$conv/messages" -s "$BENCH_TMP/message.lua"
    local msg=$R_RPS msg99=$R_P99_MS
    flows_all
    stop_nodes
    "$OPX" ledger verify --db "$db" >"$BENCH_TMP/verify.txt" 2>&1 || {
        cat "$BENCH_TMP/verify.txt" >&2
        die "$label: the ledger does not verify"
    }
    rm -f "$BENCH_TMP"/wrk-*.txt
    jobs_all "$db" "$count"
    ROWS+=("$(printf '%-18s %9s %9s %11s %9s %9s %9s %9s' "$label" "$me" "$me99" "$msg" "$msg99" "$F_RATE" "$F_P99_MS" \
        "$J_RATE")")
    printf '%s bench=nodes target=%s me_rps=%s me_p99_ms=%s message_rps=%s message_p99_ms=%s flows_per_s=%s flow_p99_ms=%s jobs_per_s=%s jobs=%s seconds=%s connections=%s git=%s\n' \
        "$STAMP" "${label// /_}" "$me" "$me99" "$msg" "$msg99" "$F_RATE" "$F_P99_MS" "$J_RATE" "$JOBS" \
        "$SECONDS_PER_RUN" "$CONNS" "$GIT_REV" >>"$RESULTS"
}

cat >"$BENCH_TMP/message.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"body":"a message from the benchmark"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
LUA

"$OPX" seed --demo --db "$BENCH_TMP/sqlite.db" >/dev/null
"$OPX" seed --demo --db "$PGURL" >/dev/null
measure "sqlite" "$BENCH_TMP/sqlite.db" 1
measure "postgres 1 node" "$PGURL" 1
measure "postgres 2 nodes" "$PGURL" 2
tests/pg/pg-server.sh stop "$PGDIR"

echo
printf '%-18s %9s %9s %11s %9s %9s %9s %9s\n' "" "me req/s" "me p99" "message/s" "msg p99" "flows/s" "flow p99" \
    "jobs/s"
printf '%s\n' "${ROWS[@]}"
echo
echo "(servers and PostgreSQL on cpu $SERVER_CPU, drivers on cpu $CLIENT_CPU; wrk ${SECONDS_PER_RUN}s, $CONNS connections" \
    "in all; flows: $CONC in flight; jobs: a backlog of $JOBS; p99 in ms; appended to ${RESULTS#"$ROOT"/})"
