#!/usr/bin/env bash
# The hierarchy and rollup benchmarks (issue 3), against a real nenepd:
#   1. load SCALE (default national: ~20 million events, ~250,000 cells,
#      5.7 million members) with BatchAppend; nenepd's memory after it;
#   2. rollup latencies: every root, the bloc of ~5,200 cells, the children
#      breakdown of its 61 đảng bộ; both attributions;
#   3. a full rebuild (nenep rebuild) and its events/s;
#   4. moving a subtree of 5,000 cells to another root, backdated;
#   5. a restart: time until SERVING (the projections replay the log), memory;
#   6. append throughput with and without projections: the bloc data set in
#      order, and nenep-bench batch and single (sessions on random dates of
#      random cells) on fresh stores seeded with the units they name.
# Prints a summary against the targets; a FAIL does not fail the script.
#
# Environment: BUILD_DIR [build], SCALE [national], DURATION [10] seconds per
# append workload, ITERATIONS [1000] calls per query, TMPDIR for the stores.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ${1:-} == --help || ${1:-} == -h ]]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

BUILD_DIR=${BUILD_DIR:-build}
SCALE=${SCALE:-national}
DURATION=${DURATION:-10}
ITERATIONS=${ITERATIONS:-1000}
WORK_NAME=nenep-projbench
NENEPD_LOG_FORMAT=text
# shellcheck source=tools/bench/nenepd_lib.sh
source "$(dirname "$0")/nenepd_lib.sh"
say() { echo "projection_bench: $*" >&2; }

say "building in $BUILD_DIR"
build_targets nenepd nenep nenep-bench nenep-projection-bench
BENCH="$BUILD_DIR/tools/bench/nenep-bench"
PBENCH="$BUILD_DIR/tools/bench/nenep-projection-bench"
rss() {  # "VmRSS x kB, VmHWM y kB" of nenepd, in MiB
  awk '/^VmRSS|^VmHWM/ {printf "%s %.0f MiB  ", $1, $2 / 1024}' "/proc/$NENEPD_PID/status"
}
rss_mib() { awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$NENEPD_PID/status"; }

echo "== hierarchy and rollups: $SCALE scale, $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
start_nenepd "$WORK/national"
"$PBENCH" --server="$ADDR" --scale="$SCALE" --meta="$WORK/meta" load
echo "   roots: $(grep -c '^root' "$WORK/meta"); bloc: $(grep '^bloc' "$WORK/meta" | cut -d' ' -f2-)"
echo "   nenepd after the load: $(rss)"
LOAD_RSS=$(rss_mib)
"$PBENCH" --server="$ADDR" --meta="$WORK/meta" --iterations="$ITERATIONS" queries | tee "$WORK/queries.txt"
"$NENEP" --server="$ADDR" rebuild | tee "$WORK/rebuild.txt"
"$PBENCH" --server="$ADDR" move | tee "$WORK/move.txt"
EVENTS=$("$NENEP" --server="$ADDR" status | awk '/^head/ {print $2}')
stop_nenepd
start_nenepd "$WORK/national"
echo "restart: $EVENTS events replayed into the projections, health SERVING after $STARTUP_MS ms; nenepd: $(rss)"
REPLAY_LINE=$(grep "projections built" "$WORK/nenepd.log" | tail -1)
echo "   server log: ${REPLAY_LINE#*info }"
RESTART_RSS=$(rss_mib)
stop_nenepd
rm -rf "$WORK/national"

# In-order appends of realistic data (the bloc data set, one BatchAppend of
# 10,000 at a time, each checked against the state its predecessors left).
declare -A LOAD
for projections in true false; do
  start_nenepd "$WORK/load-$projections" --projections=$projections
  LOAD[$projections]=$("$PBENCH" --server="$ADDR" --scale=bloc --meta="$WORK/meta-$projections" load |
    grep -o '[0-9]* events/s' | tr -dc '0-9')
  printf 'append in order, bloc data set, --projections=%-5s %10s events/s\n' "$projections" "${LOAD[$projections]}"
  stop_nenepd
  rm -rf "$WORK/load-$projections"
done

declare -A THROUGHPUT
for projections in true false; do
  start_nenepd "$WORK/append-$projections" --projections=$projections
  "$PBENCH" --server="$ADDR" seed >/dev/null
  for mode in batch single; do
    "$BENCH" --server="$ADDR" --mode=$mode --duration="${DURATION}s" --json \
      >"$WORK/$mode-$projections.json"
    THROUGHPUT[$mode-$projections]=$(grep -o '"events_per_s":[0-9.]*' "$WORK/$mode-$projections.json" | cut -d: -f2)
    errors=$(grep -o '"errors":[0-9]*' "$WORK/$mode-$projections.json" | head -1 | cut -d: -f2)
    printf 'append %-6s --projections=%-5s %10.0f events/s  errors %s\n' \
      "$mode" "$projections" "${THROUGHPUT[$mode-$projections]}" "${errors:-?}"
  done
  stop_nenepd
  rm -rf "$WORK/append-$projections"
done

# --- summary ------------------------------------------------------------------
p99_of() { grep "$1" "$WORK/queries.txt" | awk '{for (i = 1; i <= NF; i++) if ($i == "p99") print $(i + 1)}' | sort -g | tail -1; }
check() {  # label, value, op, target
  if awk -v v="$2" -v t="$4" -v op="$3" 'BEGIN { exit !((op == "<=" && v <= t) || (op == ">=" && v >= t) || (op == "<" && v < t)) }'; then
    printf 'PASS  %-62s %s %s %s\n' "$1" "$2" "$3" "$4"
  else
    printf 'FAIL  %-62s %s %s %s\n' "$1" "$2" "$3" "$4"
  fi
}
ROOT_P99=$(p99_of "rollup, largest root")
WORST_ROOT=$(grep "each of the" "$WORK/queries.txt" | awk '{for (i = 1; i <= NF; i++) if ($i == "p99") print $(i + 1)}')
BLOC_P99=$(p99_of "rollup, bloc")
CHILDREN_P99=$(p99_of "children of bloc (")
REBUILD=$(grep -o '([0-9]* events/s' "$WORK/rebuild.txt" | tr -dc '0-9')
MOVE_MS=$(grep -o 'acknowledged in [0-9.]* ms' "$WORK/move.txt" | awk '{print $3}')
BATCH_RATIO=$(awk -v a="${THROUGHPUT[batch-true]}" -v b="${THROUGHPUT[batch-false]}" 'BEGIN {printf "%.2f", a / b}')
LOAD_RATIO=$(awk -v a="${LOAD[true]}" -v b="${LOAD[false]}" 'BEGIN {printf "%.2f", a / b}')
SINGLE_RATIO=$(awk -v a="${THROUGHPUT[single-true]}" -v b="${THROUGHPUT[single-false]}" 'BEGIN {printf "%.2f", a / b}')
echo
echo "== targets ($SCALE scale; ms are p99 over all ranges measured)"
check "rollup of the largest root, any range, p99 ms" "$ROOT_P99" "<=" 2
check "rollup of every root, year, worst p99 ms" "$WORST_ROOT" "<=" 2
check "rollup of the bloc, any range, p99 ms" "$BLOC_P99" "<=" 0.5
check "children breakdown of the bloc's đảng bộ, p99 ms" "$CHILDREN_P99" "<=" 5
check "append with projections / without, in-order data set" "$LOAD_RATIO" ">=" 0.8
check "append with projections / without, batch, random dates" "$BATCH_RATIO" ">=" 0.8
check "append with projections / without, single" "$SINGLE_RATIO" ">=" 0.8
check "full rebuild, events/s" "$REBUILD" ">=" 1000000
check "move of a 5,000-cell subtree, ms" "$MOVE_MS" "<=" 1000
check "nenepd peak memory after the load, MiB" "$LOAD_RSS" "<" 4096
check "nenepd peak memory after a restart, MiB" "$RESTART_RSS" "<" 4096
