#!/usr/bin/env bash
# Compares nenepd builds on the batch workload: alternating runs on fresh
# stores (--projections=false), each printing events/s, the cores nenepd
# used and its CPU microseconds per event over the measured window.
#
#   tools/bench/ab_cpu.sh [-n PAIRS] LABEL=NENEPD LABEL=NENEPD ...
#
# e.g. tools/bench/ab_cpu.sh -n 6 notree=/tmp/nenepd.notree tree=build/services/nenepd
# Env: BUILD_DIR (for nenep-bench; default build), DURATION (s, default 8),
# MODE (batch: 4 clients x 1,000 events; single: 64 clients x 1; latency).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ ${1:-} == --help || ${1:-} == -h || $# == 0 ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
PAIRS=4
if [[ $1 == -n ]]; then PAIRS=$2; shift 2; fi
BENCH="${BUILD_DIR:-build}/tools/bench/nenep-bench"
DURATION=${DURATION:-8}
case ${MODE:-batch} in
  batch) WORKLOAD=(--mode=batch --clients=4 --batch_size=1000) ;;
  single) WORKLOAD=(--mode=single --clients=64) ;;
  latency) WORKLOAD=(--mode=latency) ;;
  *) echo "ab_cpu: MODE is batch, single or latency" >&2; exit 2 ;;
esac
[[ -x $BENCH ]] || { echo "ab_cpu: $BENCH is not built" >&2; exit 2; }

one() {  # label binary
  local dir pid port bench t0 t1
  dir=$(mktemp -d /tmp/nenep-ab-XXXXXX)
  "$2" --data_dir="$dir/data" --listen=127.0.0.1:0 --port_file="$dir/port" \
    --projections=false --metrics_listen= --log_level=warn >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [[ -s $dir/port ]] && break; sleep 0.1; done
  port=$(cat "$dir/port")
  "$BENCH" --server="127.0.0.1:$port" "${WORKLOAD[@]}" \
    --duration="${DURATION}s" --warmup=2s --json >"$dir/out" 2>/dev/null &
  bench=$!
  sleep 2
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep "$DURATION"
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  wait "$bench"
  python3 - "$1" "$dir/out" "$t0" "$t1" "$DURATION" <<'PY'
import json, os, sys
label, out, t0, t1, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
ev = json.load(open(out))["events_per_s"]
cores = (t1 - t0) / os.sysconf("SC_CLK_TCK") / secs
print(f"{label:12s} {ev:10.0f} events/s  cores {cores:.2f}  CPU {cores * 1e6 / ev:.2f} us/event")
PY
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

for ((i = 0; i < PAIRS; i++)); do
  for arg in "$@"; do one "${arg%%=*}" "${arg#*=}"; done
done
