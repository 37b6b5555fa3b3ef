#!/usr/bin/env bash
# bench/sse.sh -- fan-out of live events (GET /api/v1/events): memory per idle
# stream and delivery latency of message.created to many open streams.
#
# Usage: bash bench/sse.sh [OPX_BINARY]          (default: build/opx)
#
# Seeds a demo database (`opx seed --demo`) in a temp dir, starts
# `opx serve` pinned to one core, and with /usr/bin/python3 + httpx creates
# one conversation (client@demo.opx raises a request, the rank-1 engineer
# accepts) and signs in the stream owners. Then build/bench_sse (from
# bench/sse_bench.c, pinned to another core) opens BENCH_SSE_STREAMS event
# streams, measures the server's VmRSS before and after (idle 1 s), posts
# BENCH_SSE_MESSAGES messages as the client into the conversation at
# BENCH_SSE_RATE per second, and times every message.created delivery.
#
# Who owns the streams (default N = 10000):
#   - 100 streams (BENCH_SSE_PARTY_STREAMS) belong to the two parties of the
#     conversation, half each (client@demo.opx and the accepting engineer):
#     each of them must receive every message;
#   - the other N - 100 belong to other demo engineers, 100 per engineer
#     (9,900 streams = 99 engineers): they must receive nothing, and they
#     are the idle load (memory, heartbeats, the per-user lookup).
# Streams of the owners are interleaved (stream i = line i of the token file).
#
# Targets: < 16 KiB (16384 B) of server RSS per idle stream; p99 delivery
# latency < 50 ms. A miss is flagged BELOW TARGET. Lost deliveries, events
# on a bystander's stream, a stream cut off, streams left open in the server
# after the driver closed them, or a non-zero server exit are flagged
# WARNING and make the script exit non-zero.
#
# Environment:
#   BENCH_SSE_STREAMS        event streams to open (default 10000)
#   BENCH_SSE_MESSAGES       messages to post (default 1000)
#   BENCH_SSE_RATE           messages per second, one request in flight;
#                            0 = back to back (default 100)
#   BENCH_SSE_PARTY_STREAMS  streams of the two parties together (default 100)
#   BENCH_SERVER_CPU         core the server is pinned to (default 0)
#   BENCH_CLIENT_CPU         core the driver is pinned to (default 1)
#   BENCH_STRICT=1           exit non-zero when a target is missed
#
# Every process this script starts is stopped on exit and its temp dir
# removed. One line is appended to build/bench-results.txt.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

OPX_ARG=${1:-$ROOT/build/opx}
case $OPX_ARG in
/*) OPX=$OPX_ARG ;;
*) OPX=$PWD/$OPX_ARG ;;
esac
cd "$ROOT"

STREAMS=${BENCH_SSE_STREAMS:-10000}
MESSAGES=${BENCH_SSE_MESSAGES:-1000}
RATE=${BENCH_SSE_RATE:-100}
PARTY_STREAMS=${BENCH_SSE_PARTY_STREAMS:-100}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
PER_USER=100 # streams per bystander engineer (grows if 199 engineers are not enough)
TARGET_BYTES=16384
TARGET_P99_MS=50
PY=/usr/bin/python3
DRIVER=$ROOT/build/bench_sse
RESULTS=$ROOT/build/bench-results.txt

BENCH_NAME=sse.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# ---------------------------------------------------------------- preflight
if [[ ! -e $OPX ]]; then
    die "opx binary not found: $OPX_ARG (build it first, e.g. 'ninja -C build', or pass its path)"
fi
[[ -f $OPX && -x $OPX ]] || die "opx binary is not an executable file: $OPX_ARG"
for tool in curl taskset cc pkg-config awk; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH"
done
[[ -x $PY ]] || die "$PY not found"
"$PY" -c 'import httpx' 2>/dev/null || die "$PY cannot import httpx (Debian package python3-httpx)"
pkg-config --exists libuv || die "libuv not found by pkg-config (Debian package libuv1-dev)"
[[ $STREAMS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SSE_STREAMS must be a positive integer"
[[ $MESSAGES =~ ^[0-9]+$ ]] || die "BENCH_SSE_MESSAGES must be a non-negative integer"
[[ $RATE =~ ^[0-9]+$ ]] || die "BENCH_SSE_RATE must be a non-negative integer (0: back to back)"
[[ $PARTY_STREAMS =~ ^[0-9]+$ ]] || die "BENCH_SSE_PARTY_STREAMS must be a non-negative integer"
((PARTY_STREAMS <= STREAMS)) || PARTY_STREAMS=$STREAMS
((PARTY_STREAMS <= 2000)) || die "BENCH_SSE_PARTY_STREAMS: at most 2000 (1000 per party, the server's cap)"
OTHERS=$((STREAMS - PARTY_STREAMS))
if ((OTHERS > 199 * PER_USER)); then
    PER_USER=$(((OTHERS + 198) / 199))
fi
((PER_USER <= 1000)) || die "BENCH_SSE_STREAMS too large: $OTHERS bystander streams over 199 engineers exceed 1000 per user"
taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot pin to CPU $SERVER_CPU (BENCH_SERVER_CPU)"
taskset -c "$CLIENT_CPU" true 2>/dev/null || die "cannot pin to CPU $CLIENT_CPU (BENCH_CLIENT_CPU)"
if [[ $SERVER_CPU == "$CLIENT_CPU" ]]; then
    warn "server and driver share CPU $SERVER_CPU; numbers will not be comparable"
fi
if others=$(pgrep -x opx 2>/dev/null); then
    warn "other opx processes are running (pid ${others//$'\n'/ }); if busy, results will be noisy"
fi
if others=$(pgrep -x wrk 2>/dev/null); then
    warn "wrk is running (pid ${others//$'\n'/ }); results will be noisy"
fi

# Open files: every stream is a socket on both sides. Raise the soft limit
# for this shell and its children (server and driver); containers often cap
# the hard limit, so fall back to the hard limit and check it is enough.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
if [[ $NOFILE != unlimited ]] && ((NOFILE < STREAMS + 256)); then
    die "open files limit is $NOFILE (hard $(ulimit -Hn)); $STREAMS streams need at least $((STREAMS + 256))"
fi
MAX_CONN=$((STREAMS + 1000 > 30000 ? STREAMS + 1000 : 30000))

# ------------------------------------------------------- process management
bench_tmp "${TMPDIR:-/tmp}/opx-bench-sse.XXXXXX"

# -------------------------------------------------------------------- build
mkdir -p "$ROOT/build"
if [[ ! -x $DRIVER || bench/sse_bench.c -nt $DRIVER ]]; then
    echo "== building $DRIVER" >&2
    # shellcheck disable=SC2046
    cc -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow bench/sse_bench.c -o "$DRIVER.tmp" \
        $(pkg-config --cflags --libs libuv)
    mv -f -- "$DRIVER.tmp" "$DRIVER"
fi

# ------------------------------------------------------------------- server
echo "== seeding a demo database" >&2
"$OPX" seed --demo --db "$BENCH_TMP/opx.db" >"$BENCH_TMP/seed.log" 2>&1 || {
    cat "$BENCH_TMP/seed.log" >&2
    die "opx seed --demo failed"
}

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
taskset -c "$SERVER_CPU" "$OPX" serve --listen "127.0.0.1:$PORT" --db "$BENCH_TMP/opx.db" \
    --access-log off --login-ip-burst 100000 --max-connections "$MAX_CONN" \
    --max-streams "$MAX_CONN" --streams-per-user 1000 >"$BENCH_TMP/opx.log" 2>&1 &
SRV=$!
PIDS+=("$SRV")
wait_ready "$SRV" "$PORT" "$BENCH_TMP/opx.log" opx
echo "== opx pid $SRV on 127.0.0.1:$PORT (cpu $SERVER_CPU, open files $NOFILE)" >&2

# ---------------------------------------------- conversation and stream owners
echo "== creating the conversation and signing in the stream owners" >&2
if ! "$PY" - "$BASE" "$STREAMS" "$PARTY_STREAMS" "$PER_USER" "$BENCH_TMP" >"$BENCH_TMP/setup.log" 2>&1 <<'PYEOF'; then
import datetime, sys
import httpx

base, n, party_n, per_user, tmp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
PASSWORD = "demo-pass-123"
c = httpx.Client(base_url=base, timeout=30)

def login(email):
    r = c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, (email, r.status_code, r.text)
    return r.json()

def bearer(t):
    return {"Authorization": f"Bearer {t}"}

admin = login("admin@demo.opx")
client = login("client@demo.opx")
# the request of tests/api/opxtest.py request_body()
body = {
    "title": "Async payments API",
    "description": "Harden a FastAPI service on asyncpg: timeouts, cancellation, backpressure.",
    "frameworks": ["fastapi"], "must_have": ["asyncpg", "cancellation"], "nice_to_have": ["httpx"],
    "seniority": "senior", "engagement": "hourly", "budget": {"amount": 20000, "currency": "USD"},
    "hours_per_week": 20, "timezone": "Europe/Berlin", "min_overlap_hours": 2,
    "start_date": (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=7)).isoformat(),
}
r = c.post("/api/v1/requests", json=body, headers=bearer(client["token"]))
assert r.status_code == 201, r.text
cand = r.json()["candidates"][0]
r = c.get(f"/api/v1/engineers/{cand['engineer_id']}", headers=bearer(admin["token"]))
assert r.status_code == 200, r.text
eng_email = r.json()["engineer"]["email"]
eng = login(eng_email)
r = c.post(f"/api/v1/candidates/{cand['id']}/accept", headers=bearer(eng["token"]))
assert r.status_code == 200, r.text
r = c.get("/api/v1/conversations", headers=bearer(client["token"]))
assert r.status_code == 200, r.text
conv = [v for v in r.json()["items"] if v["candidate_id"] == cand["id"]]
assert len(conv) == 1, r.text

# owners and their stream quotas: the parties split party_n (the client gets
# the odd one), bystander engineers per_user each
owners = []
if party_n:
    owners.append(("party", client["token"], (party_n + 1) // 2))
    if party_n // 2:
        owners.append(("party", eng["token"], party_n // 2))
others = n - party_n
emails = [f"engineer{i}@demo.opx" for i in range(1, 201) if f"engineer{i}@demo.opx" != eng_email]
k = 0
while others > 0:
    q = min(per_user, others)
    owners.append(("other", login(emails[k])["token"], q))
    k += 1
    others -= q

# one line per stream, the owners interleaved (round robin while quota lasts)
lines, left = [], [o[2] for o in owners]
while len(lines) < n:
    for i, (kind, tok, _) in enumerate(owners):
        if left[i]:
            lines.append(f"{kind} {tok}\n")
            left[i] -= 1
with open(f"{tmp}/tokens.txt", "w") as f:
    f.writelines(lines)
with open(f"{tmp}/setup.env", "w") as f:
    f.write(f"CONV={conv[0]['id']}\nPOST_TOKEN={client['token']}\nENGINEER={eng_email}\nBYSTANDERS={k}\n")
print(f"conversation {conv[0]['id']}: client@demo.opx and {eng_email}; {k} bystander engineers")
PYEOF
    cat "$BENCH_TMP/setup.log" >&2
    log_tail "$BENCH_TMP/opx.log" opx
    die "setting up the conversation and logins failed"
fi
sed 's/^/   /' "$BENCH_TMP/setup.log" >&2
CONV=$(awk -F= '$1 == "CONV" {print $2}' "$BENCH_TMP/setup.env")
POST_TOKEN=$(awk -F= '$1 == "POST_TOKEN" {print $2}' "$BENCH_TMP/setup.env")
BYSTANDERS=$(awk -F= '$1 == "BYSTANDERS" {print $2}' "$BENCH_TMP/setup.env")
[[ -n $CONV && -n $POST_TOKEN ]] || die "setup wrote no conversation id or token"

# ------------------------------------------------------------------- driver
echo "== bench_sse: $STREAMS streams ($PARTY_STREAMS party, $OTHERS over $BYSTANDERS engineers), $MESSAGES messages at ${RATE}/s, cpu $CLIENT_CPU" >&2
OUT=$BENCH_TMP/driver.out
taskset -c "$CLIENT_CPU" "$DRIVER" --port "$PORT" --pid "$SRV" --tokens "$BENCH_TMP/tokens.txt" \
    --streams "$STREAMS" --conversation "$CONV" --post-token "$POST_TOKEN" --messages "$MESSAGES" \
    --rate "$RATE" >"$OUT" &
DRV=$!
PIDS+=("$DRV")
if ! wait "$DRV"; then
    forget_pid "$DRV"
    cat "$OUT" >&2
    kill -0 "$SRV" 2>/dev/null || warn "the server is not running any more"
    log_tail "$BENCH_TMP/opx.log" opx
    die "bench_sse failed"
fi
forget_pid "$DRV"

RESULT=$(grep '^RESULT ' "$OUT" || true)
[[ -n $RESULT ]] || {
    cat "$OUT" >&2
    die "no RESULT line from bench_sse"
}

# ------------------------------------------------------------- stop the server
kill -0 "$SRV" 2>/dev/null || {
    log_tail "$BENCH_TMP/opx.log" opx
    die "the server died during the run"
}
kill -TERM "$SRV"
SRV_RC=
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

# ------------------------------------------------------------------ report
N=$(field "$RESULT" streams)
PARTY=$(field "$RESULT" party_streams)
EXPECTED=$(field "$RESULT" expected)
DELIVERIES=$(field "$RESULT" deliveries)
RECEIVING=$(field "$RESULT" streams_receiving)
COMPLETE=$(field "$RESULT" streams_complete)
P50=$(field "$RESULT" p50_ms)
P99=$(field "$RESULT" p99_ms)
MAX=$(field "$RESULT" max_ms)
BPS=$(field "$RESULT" bytes_per_stream)
STRAY=$(field "$RESULT" stray)
ORDER=$(field "$RESULT" order_errors)
LOST=$(field "$RESULT" lost_streams)
BAD=$(field "$RESULT" bad_payload)
LEFT_OPEN=$(field "$RESULT" sse_streams_after_close)

FAILED=0
note="(targets: p99 < $TARGET_P99_MS ms, < $TARGET_BYTES B/stream)"
if awk -v p="$P99" -v b="$BPS" -v tp="$TARGET_P99_MS" -v tb="$TARGET_BYTES" \
    'BEGIN { exit !(p >= tp || b >= tb) }'; then
    note="$note BELOW TARGET"
    [[ ${BENCH_STRICT:-0} == 1 ]] && FAILED=1
fi
problems=()
[[ $DELIVERIES == "$EXPECTED" ]] || problems+=("deliveries=$DELIVERIES/$EXPECTED")
[[ $STRAY == 0 ]] || problems+=("events-on-bystander-streams=$STRAY")
[[ $ORDER == 0 ]] || problems+=("id-order-errors=$ORDER")
[[ $LOST == 0 ]] || problems+=("streams-lost=$LOST")
[[ $BAD == 0 ]] || problems+=("unparsable-message-events=$BAD")
[[ $LEFT_OPEN == 0 ]] || problems+=("opx_sse_streams-after-close=$LEFT_OPEN")
[[ $SRV_RC == 0 ]] || problems+=("server-exit=$SRV_RC")
if ((${#problems[@]})); then
    note="$note WARNING: ${problems[*]}"
    FAILED=1
fi

STAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo none)
if [[ $GIT_REV != none ]] && ! git diff --quiet HEAD -- 2>/dev/null; then
    GIT_REV=$GIT_REV-dirty
fi
printf '%s bench=sse streams=%s party_streams=%s messages=%s rate=%s deliveries=%s expected=%s streams_receiving=%s p50_ms=%s p99_ms=%s max_ms=%s bytes_per_stream=%s rss_before_kb=%s rss_open_kb=%s open_s=%s post_p99_ms=%s lost_streams=%s stray=%s server_exit=%s server_cpu=%s client_cpu=%s git=%s\n' \
    "$STAMP" "$N" "$PARTY" "$MESSAGES" "$RATE" "$DELIVERIES" "$EXPECTED" "$RECEIVING" "$P50" "$P99" \
    "$MAX" "$BPS" "$(field "$RESULT" rss_before_kb)" "$(field "$RESULT" rss_open_kb)" "$(field "$RESULT" open_s)" "$(field "$RESULT" post_p99_ms)" \
    "$LOST" "$STRAY" "$SRV_RC" "$SERVER_CPU" "$CLIENT_CPU" "$GIT_REV" >>"$RESULTS"

echo
printf '%-8s %-11s %-15s %9s %9s %9s %9s\n' streams receiving deliveries p50_ms p99_ms max_ms B/stream
printf '%-8s %-11s %-15s %9s %9s %9s %9s   %s\n' "$N" "$RECEIVING/$PARTY" "$DELIVERIES/$EXPECTED" \
    "$P50" "$P99" "$MAX" "$BPS" "$note"
echo
echo "server VmRSS: $(field "$RESULT" rss_before_kb) KiB before the streams, $(field "$RESULT" rss_open_kb) KiB with $N idle," \
    "$(field "$RESULT" rss_msgs_kb) KiB after the messages, $(field "$RESULT" rss_closed_kb) KiB after closing them all"
echo "streams opened in $(field "$RESULT" open_s) s; $MESSAGES messages posted in $(field "$RESULT" send_s) s" \
    "(POST p50 $(field "$RESULT" post_p50_ms) ms, p99 $(field "$RESULT" post_p99_ms) ms); $COMPLETE of $PARTY party streams got every message"
echo "heartbeats received: $(field "$RESULT" heartbeats); opx_sse_streams after the driver closed all: $LEFT_OPEN;" \
    "server exit status $SRV_RC; warn/error lines in the server log: ${LOG_WARNINGS:-0}"
echo "server metrics with the streams open:"
grep '^METRIC ' "$OUT" | sed 's/^METRIC /  /'
echo
echo "(server on cpu $SERVER_CPU, driver on cpu $CLIENT_CPU; appended to ${RESULTS#"$ROOT"/})"
if ((${LOG_WARNINGS:-0} > 0)); then
    echo "---- warn/error lines in the server log ----" >&2
    grep '"level":"\(warn\|error\)"' "$BENCH_TMP/opx.log" | head -n 20 >&2
fi
exit "$FAILED"
