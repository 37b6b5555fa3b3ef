#!/usr/bin/env bash
# install-deps: installs the Debian packages a target needs, only when some
# are missing (sudo when not root). Usage: tools/install-deps.sh run|test|bench|fuzz
set -euo pipefail
what=${1:-run}
build=(build-essential pkg-config meson ninja-build libuv1-dev libhttp-parser-dev
       libjansson-dev libsqlite3-dev libsodium-dev libcurl4-openssl-dev libpq-dev sqlite3 curl tzdata)
test=(libcriterion-dev python3-pytest python3-httpx python3-jsonschema clang
      libclang-rt-14-dev netcat-openbsd python3-aiosmtpd python3-icalendar chromium
      postgresql nginx-light)
bench=(wrk hyperfine python3-httpx chromium postgresql)
case "$what" in
  run) want=("${build[@]}") ;;
  test) want=("${build[@]}" "${test[@]}") ;;
  bench) want=("${build[@]}" "${bench[@]}") ;;
  fuzz) want=("${build[@]}" clang libclang-rt-14-dev) ;;
  *) echo "usage: $0 run|test|bench|fuzz" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# the browser tests' npm packages need node and npm: Debian's when the
# machine has none of its own
if [ "$what" = test ] && ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi
# npm packages for the browser tests, exactly as the committed lockfile says;
# again only when the lockfile changed since the last install
if [ "$what" = test ]; then
  cd "$(dirname "$0")/.."
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error </dev/null
  fi
fi
