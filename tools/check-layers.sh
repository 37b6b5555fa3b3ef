#!/usr/bin/env bash
# check-layers: the include graph of src/ runs one way, down (see
# CONTRIBUTING.md, "Layers"). Each directory has a rank; a file may include
# its own directory's headers and those of lower ranks, never a higher or
# an equal rank's other directory:
#
#   0 core      buffers, clock, JSON validation, logs, metrics, tokens
#   1 rules     pure rules: state tables, ledger postings, matching, time zones
#   2 store     transactions and their drivers (the only SQL)
#   2 ext       outbound clients: the gateway, SMTP, curl on the loop
#   2 http      the HTTP server and its parser glue
#   3 services  what runs on the loop over the store: SLA, email, events, jobs
#   4 api       the handlers, and app.h: the running app's context they read
#               (APP: its configuration, store, hub)
#   5 .         app.c and main.c
#
# Prints every include that breaks the order, then "layers: N passed, N
# failed" (files), and exits 1 if one breaks it.
set -euo pipefail
cd "$(dirname "$0")/../src"

rank() {
  case $1 in
    core) echo 0 ;; rules) echo 1 ;; store | ext | http) echo 2 ;; services) echo 3 ;;
    api) echo 4 ;; .) echo 5 ;; *) echo -1 ;;
  esac
}

passed=0 failed=0
while IFS= read -r f; do
  fbad=0
  dir=$(dirname "$f")
  dir=${dir%%/*} # store/sql/sqlite/x.c belongs to store
  [ "$f" = app.h ] && dir=api
  from=$(rank "$dir")
  if [ "$from" -lt 0 ]; then
    echo "check-layers: $f: src/$dir has no rank (add it to tools/check-layers.sh)"
    failed=$((failed + 1))
    continue
  fi
  while IFS= read -r inc; do
    # resolve the include against the file's own directory
    target=$(realpath -m --relative-to=. "$(dirname "$f")/$inc")
    tdir=$(dirname "$target")
    tdir=${tdir%%/*}
    [ "$target" = app.h ] && tdir=api
    [ "$tdir" = "$dir" ] && continue
    to=$(rank "$tdir")
    [ "$to" -lt 0 ] && continue # a generated or outside file (openapi_json.c)
    if [ "$to" -ge "$from" ]; then
      echo "check-layers: $f includes $target: $dir (rank $from) may not include $tdir (rank $to)"
      fbad=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
  if [ "$fbad" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done < <(find . -name '*.[ch]' | sed 's|^\./||' | sort)
# one line per file checked is too many: the count says it
echo "layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
