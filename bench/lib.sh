# bench/lib.sh -- what the benchmark scripts share; sourced, never run.
#   die, warn             messages named after the script (BENCH_NAME)
#   bench_tmp TEMPLATE    makes BENCH_TMP (mktemp -d TEMPLATE) and arms the
#                         exit trap: every pid in PIDS is stopped (SIGTERM,
#                         STOP_WAIT_S seconds, then SIGKILL) and reaped, and
#                         BENCH_TMP removed, however the script ends
#   forget_pid PID        a pid the script reaped itself
#   free_port             a free TCP port on 127.0.0.1 (needs PY)
#   log_tail LOG NAME     the last 30 lines of a server's log, to stderr
#   wait_ready PID PORT LOG NAME
#                         a bounded (20 s) wait for http://127.0.0.1:PORT/healthz;
#                         dies with the log's tail if the server exits or stays silent
#   field LINE KEY        the value of KEY=value in LINE
# shellcheck shell=bash

BENCH_NAME=${BENCH_NAME:-$(basename -- "$0")}
STOP_WAIT_S=${STOP_WAIT_S:-15}
PIDS=()

die() {
    echo "bench/$BENCH_NAME: error: $*" >&2
    exit 1
}
warn() {
    echo "bench/$BENCH_NAME: warning: $*" >&2
}

# shellcheck disable=SC2317  # invoked via cleanup (trap)
stop_pid() { # stop_pid PID: SIGTERM, wait up to STOP_WAIT_S, then SIGKILL; always reaps
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || {
        wait "$pid" 2>/dev/null || true
        return 0
    }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_WAIT_S * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "pid $pid ignored SIGTERM for $STOP_WAIT_S s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # invoked via trap
cleanup() {
    local rc=$? pid
    set +e
    trap - EXIT INT TERM HUP
    for pid in "${PIDS[@]}"; do
        stop_pid "$pid"
    done
    [[ -n ${BENCH_TMP:-} ]] && rm -rf -- "$BENCH_TMP"
    exit "$rc"
}

bench_tmp() {
    BENCH_TMP=$(mktemp -d "$1")
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

forget_pid() { # drop a pid the script reaped itself from PIDS
    local p keep=()
    for p in "${PIDS[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

log_tail() { # log_tail LOG NAME
    echo "---- $2 log ($1, last 30 lines) ----" >&2
    tail -n 30 "$1" >&2 || true
}

wait_ready() { # wait_ready PID PORT LOG NAME
    local pid=$1 port=$2 log=$3 name=$4 i
    for ((i = 0; i < 200; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log_tail "$log" "$name"
            die "$name exited before answering on port $port"
        fi
        curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" && return 0
        sleep 0.1
    done
    log_tail "$log" "$name"
    die "$name did not answer http://127.0.0.1:$port/healthz within 20 s"
}

field() { # field LINE KEY -> value of KEY=value in LINE
    awk -v k="$2" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' <<<"$1"
}
