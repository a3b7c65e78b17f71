#!/usr/bin/env bash
# The nightly job's benchmark (issue 6), against a real nenepd, per scale:
#   1. load the generated scale (tools/gen: bloc ~290,000 events and ~5,300
#      cells; national ~20 million events and ~250,000 cells; one year of
#      activity, 2024) with BatchAppend;
#   2. `nenep nightly --date=31/12/2024`: wall time, the job's peak memory,
#      nenepd's snapshot time (its log) and peak memory, the report's size;
#   3. the same date again (the snapshot is stored: files only);
#   4. appends while a snapshot is computed: the longest append wait.
# Prints a summary against the targets; a FAIL does not fail the script.
#
# Environment: BUILD_DIR [build], SCALES ["bloc national"], TMPDIR for the
# stores (national needs ~15 GB).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ${1:-} == --help || ${1:-} == -h ]]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

BUILD_DIR=${BUILD_DIR:-build}
SCALES=${SCALES:-bloc national}
WORK_NAME=nenep-nightlybench
# shellcheck source=tools/bench/nenepd_lib.sh
source "$(dirname "$0")/nenepd_lib.sh"
say() { echo "nightly_bench: $*" >&2; }

say "building in $BUILD_DIR"
build_targets nenepd nenep nenep-bench nenep-projection-bench
BENCH="$BUILD_DIR/tools/bench/nenep-bench"
PBENCH="$BUILD_DIR/tools/bench/nenep-projection-bench"
peak_mib() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

declare -A WALL RERUN JOB_MIB SERVER_MIB SNAP_S ROWS OVERDUE SIZE STALL
for scale in $SCALES; do
  : >"$WORK/nenepd.log"
  start_nenepd "$WORK/data-$scale"
  say "$scale: loading"
  "$PBENCH" --server="$ADDR" --scale="$scale" --year=2024 \
    --meta="$WORK/meta-$scale" load | tee "$WORK/load-$scale.txt"
  say "$scale: nightly --date=31/12/2024"
  /usr/bin/time -f '%e %M' -o "$WORK/time-$scale" "$NENEP" --server="$ADDR" \
    --progress=false --timeout=3600s nightly --date=31/12/2024 \
    --out_dir="$WORK/reports-$scale" 2>"$WORK/nightly-$scale.log"
  read -r wall kib <"$WORK/time-$scale"
  WALL[$scale]=$wall
  JOB_MIB[$scale]=$((kib / 1024))
  SERVER_MIB[$scale]=$(peak_mib "$NENEPD_PID")
  SNAP_S[$scale]=$(grep '"msg":"snapshot stored"' "$WORK/nenepd.log" | tail -1 |
    sed 's/.*"seconds":\([0-9.]*\).*/\1/')
  ROWS[$scale]=$(grep '"msg":"snapshot stored"' "$WORK/nenepd.log" | tail -1 |
    sed 's/.*"units":\([0-9]*\).*/\1/')
  OVERDUE[$scale]=$(grep '"msg":"snapshot stored"' "$WORK/nenepd.log" | tail -1 |
    sed 's/.*"overdue_items":\([0-9]*\).*/\1/')
  SIZE[$scale]=$(du -sh "$WORK/reports-$scale/2024-12-31" | cut -f1)
  echo "   report of $scale: ${SIZE[$scale]} in all"
  ls -l "$WORK/reports-$scale/2024-12-31" | awk 'NR > 1 {printf "     %10d  %s\n", $5, $9}'

  say "$scale: the same date again"
  /usr/bin/time -f '%e' -o "$WORK/rerun-$scale" "$NENEP" --server="$ADDR" \
    --progress=false --timeout=3600s nightly --date=31/12/2024 \
    --out_dir="$WORK/reports-$scale" 2>>"$WORK/nightly-$scale.log"
  RERUN[$scale]=$(cat "$WORK/rerun-$scale")

  say "$scale: single appends while a snapshot of 30/12/2024 is computed"
  "$PBENCH" --server="$ADDR" seed >/dev/null  # the cells nenep-bench names
  "$BENCH" --server="$ADDR" --mode=latency --clients=1 --duration=20s \
    --warmup=0s --json >"$WORK/stall-$scale.json" 2>/dev/null &
  bench=$!
  sleep 2
  "$NENEP" --server="$ADDR" --progress=false --timeout=3600s nightly \
    --date=30/12/2024 --out_dir="$WORK/reports-$scale" 2>>"$WORK/nightly-$scale.log" >/dev/null
  wait "$bench" || true
  STALL[$scale]=$(sed 's/.*"max_us":\([0-9.]*\).*/\1/' "$WORK/stall-$scale.json" |
    awk '{printf "%.1f", $1 / 1000}')
  stop_nenepd
  rm -rf "$WORK/data-$scale"
done

echo
echo "== nightly runs of 31/12/2024 (one year of generated activity)"
printf "%-9s %9s %8s %9s %10s %10s %8s %8s %12s\n" scale rows overdue "job s" \
  "snapshot s" "rerun s" "job MiB" "nenepd" "append max"
for scale in $SCALES; do
  printf "%-9s %9s %8s %9s %10s %10s %8s %8s %9s ms\n" "$scale" "${ROWS[$scale]}" \
    "${OVERDUE[$scale]}" "${WALL[$scale]}" "${SNAP_S[$scale]}" "${RERUN[$scale]}" \
    "${JOB_MIB[$scale]}" "${SERVER_MIB[$scale]}" "${STALL[$scale]}"
done
echo "   (job s: the whole nenep nightly run; snapshot s: nenepd computing and"
echo "    storing it; nenepd: its peak memory, MiB, loading included; append"
echo "    max: the slowest single append while a snapshot was computed)"

echo
echo "== targets (a FAIL here does not fail the script)"
for scale in $SCALES; do
  limit=10
  [[ $scale == national ]] && limit=600
  check "$scale nightly run, seconds" "${WALL[$scale]}" "<=" "$limit"
  check "$scale nightly job peak memory, MiB" "${JOB_MIB[$scale]}" "<" 4096
  check "$scale nenepd peak memory, MiB" "${SERVER_MIB[$scale]}" "<" 4096
done
