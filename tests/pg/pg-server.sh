#!/usr/bin/env bash
# pg-server: a throwaway PostgreSQL for tests. It owns one cluster in a
# temp directory: initdb, a server listening only on 127.0.0.1 on a free
# port with its unix socket in the same directory (fsync off: nothing in it
# is worth keeping), one database, and a watchdog that stops the server and
# removes the directory once the process that asked for it is gone.
#
#   tests/pg/pg-server.sh start [--watch PID] [--durable]
#       starts a cluster; stdout gets two lines: the URL of its database
#       (postgres://opx@127.0.0.1:PORT/opx) and the cluster's directory.
#       The watchdog follows PID (default: the caller, $PPID; 0: none).
#       --durable keeps fsync, synchronous_commit and full_page_writes on,
#       as a production server has them (bench/nodes.sh).
#   tests/pg/pg-server.sh db DIR NAME
#       creates database NAME on the cluster in DIR; prints its URL.
#   tests/pg/pg-server.sh stop DIR
#       stops the cluster in DIR and removes DIR (harmless if already gone).
#
# From bash:
#   { read -r url; read -r pgdir; } < <(tests/pg/pg-server.sh start --watch $$)
#   trap 'tests/pg/pg-server.sh stop "$pgdir"' EXIT
#   OPX_TEST_PG=$url ./build/unit-tests --filter 'sql_pg/*'
# From Python (pytest):
#   url, pgdir = subprocess.check_output([script, "start", "--watch",
#                                         str(os.getpid())], text=True).split()
#   ... finally: subprocess.run([script, "stop", pgdir])
# Criterion tests do not start one: they read OPX_TEST_PG and skip without it.
#
# Run as root, the cluster belongs to the postgres user (initdb refuses
# root): its commands run through runuser. PG_BIN overrides where the
# server binaries are (default: the newest /usr/lib/postgresql/*/bin).
set -euo pipefail

die() { echo "pg-server: $*" >&2; exit 1; }

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server binaries (apt-get install postgresql; or set PG_BIN)"

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_cluster() {
  local dir=$1
  [ -n "$dir" ] || die "stop: no directory"
  # only ever a directory this script made: it holds our marker
  [ -d "$dir" ] || return 0
  [ -f "$dir/pg-server" ] || die "stop: $dir is not a pg-server cluster"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || {
      local pid
      pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)
      [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null || true
      sleep 1
    }
  fi
  rm -rf "$dir"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start_cluster() {
  local watch=$PPID durability="fsync = off
synchronous_commit = off
full_page_writes = off"
  while [ $# -gt 0 ]; do
    case "$1" in
      --watch) watch=${2:?--watch needs a pid}; shift 2 ;;
      --durable) durability="# durable, as in production (benchmarks)"; shift ;;
      *) die "start: unknown argument $1" ;;
    esac
  done
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/opx-pg.XXXXXX")
  : >"$dir/pg-server"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  # from here on, a failure removes what was made
  trap 'stop_cluster "$dir" 2>/dev/null || true' ERR
  as_owner "$PG_BIN/initdb" -D "$dir/data" -U opx --auth=trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; false; }
  printf '%s\n' "listen_addresses = '127.0.0.1'" "unix_socket_directories = '$dir'" \
    "$durability" "max_connections = 300" "shared_buffers = 32MB" |
    as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
  local port tries=0
  while :; do
    port=$(free_port)
    if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -s \
        -o "-p $port" start >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    # another process took the port between the probe and the bind: retry
    if [ $tries -ge 5 ] || ! grep -q 'could not bind\|could not create any TCP' "$dir/server.log"; then
      cat "$dir/server.log" >&2
      false
    fi
  done
  "$PG_BIN/createdb" -h "$dir" -p "$port" -U opx opx
  echo "$port" >"$dir/port"
  trap - ERR
  if [ "$watch" != 0 ]; then
    # the watchdog: detached, its output nowhere (a $(...) around this
    # script would otherwise wait for it), gone with the directory
    setsid bash -c '
      while kill -0 '"$watch"' 2>/dev/null && [ -d "$1" ]; do sleep 1; done
      exec "$0" stop "$1"' "$(readlink -f "$0")" "$dir" </dev/null >/dev/null 2>&1 &
  fi
  echo "postgres://opx@127.0.0.1:$port/opx"
  echo "$dir"
}

new_db() {
  local dir=${1:?db: no directory} name=${2:?db: no name}
  [ -f "$dir/port" ] || die "db: no cluster in $dir"
  local port
  port=$(cat "$dir/port")
  "$PG_BIN/createdb" -h "$dir" -p "$port" -U opx "$name"
  echo "postgres://opx@127.0.0.1:$port/$name"
}

case "${1:-}" in
  start) shift; start_cluster "$@" ;;
  db) shift; new_db "$@" ;;
  stop) stop_cluster "${2:-}" ;;
  *) echo "usage: $0 start [--watch PID] [--durable] | db DIR NAME | stop DIR" >&2; exit 2 ;;
esac
