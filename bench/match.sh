#!/usr/bin/env bash
# bench/match.sh -- latency of one match and memory per engineer of the
# in-memory matching index (src/rules/matching.c).
#
# Usage: bash bench/match.sh [IGNORED]     (bench/run.sh passes the opx binary; not needed)
#
# Builds build/bench_match from bench/match_bench.c and the few sources it
# needs (-O2), pins it to one core and runs it: for 100,000 and 1,000,000
# generated engineers it times building the index and 10,000 random
# requests, one match_query each, and reports p50/p99/max latency and bytes
# per engineer (match_memory_bytes / engineers). Prints a table and appends
# one line per size to build/bench-results.txt.
#
# Targets (one core): p99 < 2 ms at 100k and < 20 ms at 1M; < 200 bytes per
# engineer. A miss is flagged BELOW TARGET.
#
# Environment:
#   BENCH_MATCH_QUERIES  requests per size (default 10000)
#   BENCH_MATCH_SIZES    engineers per index, space separated (default "100000 1000000")
#   BENCH_MATCH_CPU      core to pin to (default 0)
#   BENCH_STRICT=1       exit non-zero when a target is missed
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUERIES=${BENCH_MATCH_QUERIES:-10000}
SIZES=${BENCH_MATCH_SIZES:-"100000 1000000"}
CPU=${BENCH_MATCH_CPU:-0}
BIN=$ROOT/build/bench_match
RESULTS=$ROOT/build/bench-results.txt
SRCS=(bench/match_bench.c src/rules/matching.c src/rules/tzinfo.c src/rules/skills.c)

BENCH_NAME=match.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# ---------------------------------------------------------------- preflight
for tool in cc pkg-config taskset awk; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH"
done
pkg-config --exists jansson || die "jansson not found by pkg-config (Debian package libjansson-dev)"
[[ -f /usr/share/zoneinfo/tzdata.zi ]] || die "/usr/share/zoneinfo/tzdata.zi missing (Debian package tzdata)"
[[ $QUERIES =~ ^[1-9][0-9]*$ ]] || die "BENCH_MATCH_QUERIES must be a positive integer"
for s in $SIZES; do
    [[ $s =~ ^[1-9][0-9]*$ ]] || die "BENCH_MATCH_SIZES must be positive integers, got '$s'"
done
taskset -c "$CPU" true 2>/dev/null || die "cannot pin to CPU $CPU (BENCH_MATCH_CPU)"

# -------------------------------------------------------------------- build
mkdir -p "$ROOT/build"
stale=0
[[ -x $BIN ]] || stale=1
for f in "${SRCS[@]}" src/rules/matching.h src/rules/tzinfo.h src/rules/skills.h; do
    [[ $f -nt $BIN ]] && stale=1
done
if ((stale)); then
    echo "== building $BIN" >&2
    # shellcheck disable=SC2046
    cc -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Isrc "${SRCS[@]}" \
        -o "$BIN.tmp" $(pkg-config --cflags --libs jansson)
    mv -f -- "$BIN.tmp" "$BIN"
fi

# ---------------------------------------------------------------------- run
OUT=$(mktemp "${TMPDIR:-/tmp}/opx-bench-match.XXXXXX")
trap 'rm -f -- "$OUT"' EXIT
echo "== match_bench: $QUERIES requests per size, sizes $SIZES, cpu $CPU" >&2
# shellcheck disable=SC2086
if ! taskset -c "$CPU" "$BIN" "$QUERIES" $SIZES >"$OUT"; then
    cat "$OUT" >&2
    die "match_bench failed"
fi

STAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo none)
if [[ $GIT_REV != none ]] && ! git diff --quiet HEAD -- 2>/dev/null; then
    GIT_REV=$GIT_REV-dirty
fi


ROWS=()
FAILED=0
while IFS= read -r line; do
    [[ $line == RESULT* ]] || continue
    n=$(field "$line" engineers)
    build_ms=$(field "$line" build_ms)
    p50=$(field "$line" p50_us)
    p99=$(field "$line" p99_us)
    max=$(field "$line" max_us)
    mean=$(field "$line" mean_us)
    bpe=$(field "$line" bytes_per_engineer)
    avg=$(field "$line" avg_results)
    p50_ms=$(awk -v v="$p50" 'BEGIN { printf "%.3f", v / 1000 }')
    p99_ms=$(awk -v v="$p99" 'BEGIN { printf "%.3f", v / 1000 }')
    max_ms=$(awk -v v="$max" 'BEGIN { printf "%.3f", v / 1000 }')
    mean_ms=$(awk -v v="$mean" 'BEGIN { printf "%.3f", v / 1000 }')
    # the p99 target scales with the size: 2 ms per 100,000 engineers
    target=$(awk -v n="$n" 'BEGIN { t = 2 * n / 100000; if (t < 2) t = 2; printf "%g", t }')
    note="(p99 target < ${target} ms, < 200 B/engineer)"
    if awk -v p="$p99_ms" -v t="$target" -v b="$bpe" 'BEGIN { exit !(p >= t || b >= 200) }'; then
        note="$note BELOW TARGET"
        [[ ${BENCH_STRICT:-0} == 1 ]] && FAILED=1
    fi
    row=$(printf '%-10s %9s %9s %9s %9s %10s %10s   %s' "$n" "$p50_ms" "$p99_ms" "$max_ms" \
        "$mean_ms" "$bpe" "$build_ms" "$note")
    ROWS+=("$row")
    printf '%s bench=match engineers=%s queries=%s p50_ms=%s p99_ms=%s max_ms=%s mean_ms=%s bytes_per_engineer=%s build_ms=%s avg_results=%s cpu=%s git=%s\n' \
        "$STAMP" "$n" "$QUERIES" "$p50_ms" "$p99_ms" "$max_ms" "$mean_ms" "$bpe" "$build_ms" \
        "$avg" "$CPU" "$GIT_REV" >>"$RESULTS"
done <"$OUT"
((${#ROWS[@]})) || {
    cat "$OUT" >&2
    die "no RESULT lines from match_bench"
}

# ------------------------------------------------------------------ report
echo
printf '%-10s %9s %9s %9s %9s %10s %10s\n' engineers p50_ms p99_ms max_ms mean_ms B/engineer build_ms
printf '%s\n' "${ROWS[@]}"
echo
echo "(one match_query per sample, $QUERIES requests per size, pinned to cpu $CPU; appended to ${RESULTS#"$ROOT"/})"
exit "$FAILED"
