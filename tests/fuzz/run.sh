#!/usr/bin/env bash
# run.sh: builds the libFuzzer targets with clang and runs each of them.
#   tests/fuzz/run.sh [target...]          each target for ${FUZZ_SECONDS:-60} s
#   tests/fuzz/run.sh --smoke [target...]  each over its seed corpus plus 5 s
# Everything goes to build-fuzz/: the binaries, objects, one log per target
# (logs/), crash inputs (artifacts/). Each run fuzzes a fresh copy of the
# seed corpus in build-fuzz/corpus-work/<target>, so the repo is never
# written. Prints "<target>: ok (N runs)" or "<target>: FAILED ..." per
# target, then "fuzz: N passed, M failed"; exits non-zero when any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

OUT=build-fuzz
CC=${CC:-clang}
secs=${FUZZ_SECONDS:-60}
if [ "${1:-}" = "--smoke" ]; then
  secs=5
  shift
fi
ALL=(fuzz_http_parser fuzz_json_body fuzz_cookie_path)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${ALL[@]}"); fi

declare -A DICT=([fuzz_http_parser]=http.dict [fuzz_json_body]=json.dict
                 [fuzz_cookie_path]=cookie_path.dict)

if ! command -v "$CC" >/dev/null; then
  echo "fuzz: $CC not found (apt-get install clang libclang-rt-dev)"
  echo "fuzz: 0 passed, ${#targets[@]} failed"
  exit 1
fi

SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
CFLAGS=(-g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
        -Wno-missing-field-initializers -Isrc)
read -r -a PKG_CFLAGS <<<"$(pkg-config --cflags libuv jansson sqlite3 libsodium)"
read -r -a PKG_LIBS <<<"$(pkg-config --libs libuv jansson sqlite3 libsodium)"
LIBS=("${PKG_LIBS[@]}" -lhttp_parser -lm -lpthread)
# the modules the targets reach; nothing of api/, store/ or app.c
LIB_SRC=(src/core/*.c src/http/*.c src/services/accounts.c)

mkdir -p "$OUT/obj" "$OUT/logs" "$OUT/artifacts" "$OUT/corpus-work"

# ---- build ------------------------------------------------------------------
build_log=$OUT/logs/build.log
: >"$build_log"
objs=()
pids=()
# static.c serves the embedded web app: generate it as meson does
if cc -O1 -o "$OUT/embed" tools/embed.c >>"$build_log" 2>&1 &&
   "$OUT/embed" --dir web "$OUT/web_files.c" web_embedded "$OUT/web_files.c.d" >>"$build_log" 2>&1; then
  objs+=("$OUT/obj/web_files.o")
  "$CC" -O0 -c "$OUT/web_files.c" -o "$OUT/obj/web_files.o" >>"$build_log" 2>&1 &
  pids+=($!)
else
  echo "fuzz: could not embed web/ (see $build_log)" >>"$build_log"
fi
for src in "${LIB_SRC[@]}"; do
  obj=$OUT/obj/$(echo "${src#src/}" | tr / _).o
  objs+=("$obj")
  "$CC" "${CFLAGS[@]}" "${PKG_CFLAGS[@]}" "${SAN[@]}" -fsanitize=fuzzer-no-link \
    -c "$src" -o "$obj" >>"$build_log" 2>&1 &
  pids+=($!)
done
build_ok=1
for p in "${pids[@]}"; do wait "$p" || build_ok=0; done
declare -A BUILT=()
if [ "$build_ok" -eq 1 ]; then
  for t in "${targets[@]}"; do
    if "$CC" "${CFLAGS[@]}" "${PKG_CFLAGS[@]}" "${SAN[@]}" -fsanitize=fuzzer \
         "tests/fuzz/$t.c" "${objs[@]}" "${LIBS[@]}" -o "$OUT/$t" >>"$build_log" 2>&1; then
      BUILT[$t]=1
    fi
  done
else
  cat "$build_log"
fi

# ---- run --------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0
failed=0
for t in "${targets[@]}"; do
  if [ -z "${BUILT[$t]:-}" ]; then
    echo "$t: FAILED (build, see $build_log)"
    grep -E "error|undefined reference" "$build_log" | head -5 | sed 's/^/    /'
    failed=$((failed + 1))
    continue
  fi
  work=$OUT/corpus-work/$t
  log=$OUT/logs/$t.log
  rm -rf "$work"
  mkdir -p "$work"
  if [ -d "tests/fuzz/corpus/$t" ]; then cp -R "tests/fuzz/corpus/$t/." "$work/"; fi
  dict=()
  if [ -n "${DICT[$t]:-}" ] && [ -f "tests/fuzz/${DICT[$t]}" ]; then
    dict=(-dict="tests/fuzz/${DICT[$t]}")
  fi
  "$OUT/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t-" "${dict[@]}" "$work" \
    >"$log" 2>&1
  rc=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  if [ "$rc" -eq 0 ]; then
    echo "$t: ok (${runs:-0} runs)"
    passed=$((passed + 1))
  else
    echo "$t: FAILED (exit $rc after ${runs:-?} runs, see $log)"
    grep -E "^==[0-9]+==ERROR|SUMMARY|runtime error|invariant broken|Test unit written" "$log" |
      head -6 | sed 's/^/    /'
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
