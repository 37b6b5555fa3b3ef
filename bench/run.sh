#!/usr/bin/env bash
# bench/run.sh -- run every benchmark in bench/, in order (used by `make bench`).
#
# Usage: bench/run.sh [OPX_BINARY]    (default: build/opx; passed to each script)
#
# Add new benchmark scripts to BENCHES below. Every script is run even if an
# earlier one fails; the exit status is non-zero if any of them failed.
set -euo pipefail

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
BENCHES=(
    http.sh
    match.sh
    sse.sh
    money.sh
    web.sh
    nodes.sh
)

failed=()
for b in "${BENCHES[@]}"; do
    echo "===== bench/$b =====" >&2
    if bash "$BENCH_DIR/$b" "$@"; then
        :
    else
        rc=$?
        echo "bench/run.sh: bench/$b failed (exit $rc)" >&2
        failed+=("$b")
    fi
    echo >&2
done

if ((${#failed[@]})); then
    echo "bench/run.sh: failed: ${failed[*]}" >&2
    exit 1
fi
echo "bench/run.sh: all ${#BENCHES[@]} benchmark(s) finished" >&2
