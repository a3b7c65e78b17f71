#!/usr/bin/env bash
# Slow subscribers against append throughput (issue 4): do subscriptions
# that read one event per second slow appends down, or grow the server's
# memory? Runs each append workload three times, A (no subscriber),
# B (SLOW subscribers open: half catching up from position 1 over a log of
# PREFILL events, half following the head), A again, and compares B with
# the mean of the two A runs. nenepd's resident memory is sampled every
# second throughout.
#
#   tools/bench/subscribe_bench.sh                 # ~2.5 minutes after a build
#   DURATION=20 SLOW=16 tools/bench/subscribe_bench.sh
#
# Environment (defaults in brackets):
#   BUILD_DIR [build]   DURATION [10] s per run   WARMUP [2] s
#   SLOW [1]            slow subscribers during B runs (half, rounded up,
#                       from position 1; the rest at the head)
#   SETTLE [8]          seconds the subscribers are open before B is measured:
#                       each first receives what its flow-control windows
#                       hold (~30,000 events, a one-time catch-up burst);
#                       B measures the steady state after it
#   PREFILL [1000000]   events in the log before the first run
#   TMPDIR [/tmp]       where the store lives; must be a real disk
#
# Exit code: non-zero if a step failed; a missed target prints FAIL.
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD_DIR=${BUILD_DIR:-build}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
SLOW=${SLOW:-1}
SETTLE=${SETTLE:-8}
PREFILL=${PREFILL:-1000000}
say() { echo "subscribe_bench: $*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nenep-subbench-XXXXXX")
NENEPD_PID="" SAMPLER_PID="" SLOW_PID=""
cleanup() {
  local rc=$?
  for p in "$SLOW_PID" "$SAMPLER_PID"; do
    [[ -n "$p" ]] && kill "$p" 2>/dev/null || true
  done
  if [[ -n "$NENEPD_PID" ]] && kill -0 "$NENEPD_PID" 2>/dev/null; then
    kill -TERM "$NENEPD_PID" 2>/dev/null || true
    wait "$NENEPD_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tools/setup.sh >/dev/null
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/cmake.log" 2>&1 ||
    { cat "$WORK/cmake.log" >&2; exit 1; }
fi
say "building nenepd, nenep-bench, nenep-slow-subscriber in $BUILD_DIR"
ninja -C "$BUILD_DIR" nenepd nenep nenep-bench nenep-slow-subscriber >"$WORK/build.log" 2>&1 ||
  { cat "$WORK/build.log" >&2; exit 1; }
NENEPD=$BUILD_DIR/services/nenepd
BENCH=$BUILD_DIR/tools/bench/nenep-bench
SLOWSUB=$BUILD_DIR/tools/bench/nenep-slow-subscriber

jget() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1"; }
rss_mib() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

"$NENEPD" --data_dir="$WORK/store" --listen=127.0.0.1:0 --port_file="$WORK/port" \
  --projections=false --metrics_listen= --log_format=text 2>"$WORK/nenepd.log" &
NENEPD_PID=$!
for _ in $(seq 1 300); do
  [[ -s "$WORK/port" ]] && break
  kill -0 "$NENEPD_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -s "$WORK/port" ]] || { cat "$WORK/nenepd.log" >&2; say "nenepd did not start"; exit 1; }
ADDR="127.0.0.1:$(cat "$WORK/port")"

say "prefilling $PREFILL events"
"$BENCH" --server="$ADDR" --mode=batch --clients=4 --batch_size=1000 \
  --events="$PREFILL" --warmup=0s --json >"$WORK/prefill.json" 2>"$WORK/prefill.err" ||
  { cat "$WORK/prefill.err" >&2; say "prefill failed"; exit 1; }

# RSS sampler: one line per second, "<epoch> <MiB>".
( while kill -0 "$NENEPD_PID" 2>/dev/null; do
    echo "$(date +%s) $(rss_mib "$NENEPD_PID")"; sleep 1
  done ) >"$WORK/rss.txt" &
SAMPLER_PID=$!

# run NAME MODE ARGS...: one measured workload, JSON in $WORK/NAME.json.
run() {
  local name=$1; shift
  "$BENCH" --server="$ADDR" --warmup="${WARMUP}s" --duration="${DURATION}s" \
    --json "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" ||
    { cat "$WORK/$name.err" >&2; say "$name failed"; exit 1; }
}
# with_slow NAME ARGS...: the same with SLOW subscribers open.
with_slow() {
  local name=$1; shift
  local secs=$((SETTLE + WARMUP + DURATION + 5))
  "$SLOWSUB" --server="$ADDR" --subscribers=$(((SLOW + 1) / 2)) --from_start \
    --duration="${secs}s" >"$WORK/$name-slow-start.txt" 2>&1 &
  local a=$!
  "$SLOWSUB" --server="$ADDR" --subscribers=$((SLOW / 2)) --nofrom_start \
    --duration="${secs}s" >"$WORK/$name-slow-head.txt" 2>&1 &
  local b=$!
  SLOW_PID="$a $b"
  sleep "$SETTLE"
  run "$name" "$@"
  # What the server has sent each subscriber (it buffers nothing itself).
  "$BUILD_DIR/tools/nenep" --server="$ADDR" groups >"$WORK/$name-subscribers.txt" 2>&1 || true
  wait "$a" || { cat "$WORK/$name-slow-start.txt" >&2; say "slow subscribers failed"; exit 1; }
  wait "$b" || { cat "$WORK/$name-slow-head.txt" >&2; say "slow subscribers failed"; exit 1; }
  SLOW_PID=""
}

RSS_BEFORE=$(rss_mib "$NENEPD_PID")
declare -A RSS
for w in single batch; do
  if [[ $w == single ]]; then args=(--mode=single --clients=64); else
    args=(--mode=batch --clients=4 --batch_size=1000); fi
  say "$w: A (no subscriber)"; run "$w-a1" "${args[@]}"
  RSS[$w-a1]=$(rss_mib "$NENEPD_PID")
  say "$w: B ($SLOW slow subscribers)"; with_slow "$w-b" "${args[@]}"
  RSS[$w-b]=$(rss_mib "$NENEPD_PID")
  say "$w: A again"; run "$w-a2" "${args[@]}"
  RSS[$w-a2]=$(rss_mib "$NENEPD_PID")
done
RSS_AFTER=$(rss_mib "$NENEPD_PID")
RSS_MAX=$(awk 'NF == 2 && $2 > m {m = $2} END {print m}' "$WORK/rss.txt")

echo "== slow subscribers vs durable appends: $SLOW subscribers reading 1 event/s" \
  "($(((SLOW + 1) / 2)) from position 1 of a ${PREFILL}-event log, $((SLOW / 2)) at the head)," \
  "open ${SETTLE}s before B; ${DURATION}s per run after ${WARMUP}s warm-up"
printf "%-8s %14s %14s %14s %10s\n" workload "A events/s" "B events/s" "A' events/s" "B/mean(A)"
STATUS=0
for w in single batch; do
  a1=$(jget "$WORK/$w-a1.json" events_per_s); b=$(jget "$WORK/$w-b.json" events_per_s)
  a2=$(jget "$WORK/$w-a2.json" events_per_s)
  r=$(awk -v a="$a1" -v b="$b" -v c="$a2" 'BEGIN {printf "%.3f", b / ((a + c) / 2)}')
  printf "%-8s %14.0f %14.0f %14.0f %10s\n" "$w" "$a1" "$b" "$a2" "$r"
  if awk -v r="$r" 'BEGIN {exit !(r >= 0.9)}'; then
    echo "PASS  $w appends with slow subscribers: ${r}x of without (>= 0.90)"
  else
    echo "FAIL  $w appends with slow subscribers: ${r}x of without (>= 0.90)"
  fi
done
for w in single batch; do
  echo "   $w B, subscribers as the server saw them at the end (nenep groups):"
  sed -n '/^SUB/,$p' "$WORK/$w-b-subscribers.txt" | sed 's/^/     /'
  echo "   $w B, what they read:"
  cat "$WORK/$w-b-slow-start.txt" "$WORK/$w-b-slow-head.txt" | sort | sed 's/^/     /'
done
echo "nenepd resident memory (MiB): ${RSS_BEFORE} before; after each run:" \
  "single A ${RSS[single-a1]}, B ${RSS[single-b]}, A' ${RSS[single-a2]};" \
  "batch A ${RSS[batch-a1]}, B ${RSS[batch-b]}, A' ${RSS[batch-a2]}; max ${RSS_MAX} sampled each second"
exit $STATUS
