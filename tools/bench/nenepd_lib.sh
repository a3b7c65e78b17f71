# shellcheck shell=bash
# Sourced by the benchmark scripts: a work folder, the build, and one nenepd
# child at a time. The caller sets BUILD_DIR and WORK_NAME first; it gets
# WORK (removed on exit, with nenepd stopped), NENEPD, NENEP, ADDR,
# NENEPD_PID, STARTUP_MS and the functions below. NENEPD_LOG_FORMAT (json)
# is nenepd's --log_format; NENEP_FLAGS (an array, empty) are the flags
# `nenep status` needs to reach it (TLS).

WORK=$(mktemp -d "${TMPDIR:-/tmp}/$WORK_NAME-XXXXXX")
NENEPD_PID=""
ADDR=""
if [[ -z ${NENEP_FLAGS+x} ]]; then NENEP_FLAGS=(); fi
NENEPD="$BUILD_DIR/services/nenepd"
NENEP="$BUILD_DIR/tools/nenep"

cleanup() {
  if [[ -n "$NENEPD_PID" ]] && kill -0 "$NENEPD_PID" 2>/dev/null; then
    kill -TERM "$NENEPD_PID" 2>/dev/null || true
    wait "$NENEPD_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Configures BUILD_DIR if needed and builds the given targets.
build_targets() {
  if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_C_COMPILER=clang-14 \
      -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
  fi
  ninja -C "$BUILD_DIR" "$@" >&2
}

# start_nenepd DATA_DIR [FLAGS...]: starts nenepd on a free port, logging to
# $WORK/nenepd.log, and waits until it answers; STARTUP_MS is how long that
# took.
start_nenepd() {
  local dir=$1
  shift
  rm -f "$WORK/port"
  local t0
  t0=$(date +%s%N)
  "$NENEPD" --data_dir="$dir" --listen=127.0.0.1:0 --port_file="$WORK/port" \
    --metrics_listen= --log_format="${NENEPD_LOG_FORMAT:-json}" "$@" \
    2>>"$WORK/nenepd.log" &
  NENEPD_PID=$!
  for _ in $(seq 1 600); do
    [[ -s "$WORK/port" ]] && break
    kill -0 "$NENEPD_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [[ ! -s "$WORK/port" ]]; then
    tail "$WORK/nenepd.log" >&2
    echo "nenepd did not start" >&2
    exit 1
  fi
  ADDR="127.0.0.1:$(cat "$WORK/port")"
  for _ in $(seq 1 6000); do
    "$NENEP" --server="$ADDR" "${NENEP_FLAGS[@]}" --timeout=1s status \
      >/dev/null 2>&1 && break
    if ! kill -0 "$NENEPD_PID" 2>/dev/null; then
      tail "$WORK/nenepd.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  # shellcheck disable=SC2034  # read by the callers
  STARTUP_MS=$((($(date +%s%N) - t0) / 1000000))
}

stop_nenepd() {
  kill -TERM "$NENEPD_PID"
  wait "$NENEPD_PID" || true
  NENEPD_PID=""
}

# check LABEL VALUE OP LIMIT: prints PASS or FAIL.
check() {
  local r
  if awk -v v="$2" -v l="$4" "BEGIN { exit !(v $3 l) }"; then r=PASS; else r=FAIL; fi
  echo "$r  $1: $2 $3 $4"
}
