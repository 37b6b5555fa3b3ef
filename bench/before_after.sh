#!/usr/bin/env bash
# bench/before_after.sh -- two opx binaries side by side in one run: did a
# change make the HTTP figures worse?
#
# Usage: bash bench/before_after.sh OLD_OPX NEW_OPX [ROUNDS]
#
# Runs bench/http.sh with OLD, then NEW, ROUNDS times (default 2) in turn,
# so drift of the machine falls on both alike, and prints for each target
# (bare libuv, /healthz, /api/v1/me, and both with the access log) the mean
# req/s of each binary and NEW/OLD. BENCH_SECONDS and the other variables
# of http.sh apply (default here: 5 s per target). The rows http.sh appends
# to build/bench-results.txt stay there; this script reads them back.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
[[ $# -ge 2 ]] || { echo "usage: $0 OLD_OPX NEW_OPX [ROUNDS]" >&2; exit 2; }
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
OLD=$(abs "$1") NEW=$(abs "$2") ROUNDS=${3:-2}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 2; }
for b in "$OLD" "$NEW"; do
    [[ -x $b ]] || { echo "not an executable: $b" >&2; exit 2; }
done
export BENCH_SECONDS=${BENCH_SECONDS:-5}
RESULTS=$ROOT/build/bench-results.txt
mkdir -p "$ROOT/build"
touch "$RESULTS"
ROWS=$(mktemp)
trap 'rm -f "$ROWS"' EXIT

for ((r = 1; r <= ROUNDS; r++)); do
    for which in old new; do
        bin=$OLD
        [[ $which == new ]] && bin=$NEW
        echo "== round $r/$ROUNDS: $which ($bin)" >&2
        before=$(wc -l <"$RESULTS")
        bash "$ROOT/bench/http.sh" "$bin" >&2
        tail -n +"$((before + 1))" "$RESULTS" | sed "s/^/$which /" >>"$ROWS"
    done
done

echo
printf '%-20s %10s %10s %8s\n' target "old req/s" "new req/s" new/old
awk '
    { which = $1; target = ""; rps = ""
      for (i = 2; i <= NF; i++) {
          if ($i ~ /^target=/) target = substr($i, 8)
          if ($i ~ /^rps=/) rps = substr($i, 5)
      }
      if (target == "" || rps == "") next
      if (!(target in seen)) { seen[target] = 1; order[++n] = target }
      sum[which, target] += rps; cnt[which, target]++ }
    END {
      for (k = 1; k <= n; k++) {
          t = order[k]
          o = cnt["old", t] ? sum["old", t] / cnt["old", t] : 0
          w = cnt["new", t] ? sum["new", t] / cnt["new", t] : 0
          printf "%-20s %10.0f %10.0f %8.2f\n", t, o, w, o ? w / o : 0
      }
    }' "$ROWS"
echo
echo "(bench/http.sh, ${BENCH_SECONDS} s per target, $ROUNDS rounds alternating; old=$OLD new=$NEW)"
