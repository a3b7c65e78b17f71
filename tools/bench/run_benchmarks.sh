#!/usr/bin/env bash
# Runs the nenep benchmarks and the same workloads against PostgreSQL 15 on
# this machine, in one run, and prints the figures, their ratios and the
# project's targets. See tools/bench/README.md.
#
#   tools/bench/run_benchmarks.sh                   # ~2 minutes after a build
#   DURATION=20 tools/bench/run_benchmarks.sh
#   BUILD_DIR=build-bench SKIP_POSTGRES=1 tools/bench/run_benchmarks.sh
#
# Environment (defaults in brackets):
#   BUILD_DIR [build]       configured (clang-14, RelWithDebInfo) if needed,
#                           then nenepd, nenep and nenep-bench are built
#   DURATION [10]           measured seconds per workload
#   WARMUP [2]              seconds of load before each measurement
#   SINGLE_CLIENTS [64]     concurrent callers of the single workload
#   BATCH_CLIENTS [4]       concurrent callers of the batch workload
#   BATCH_SIZE [1000]       events per BatchAppend / rows per INSERT
#   CHANNELS [4]            nenep-bench's TCP connections
#   CLIENT_API [cq]         nenep-bench --client_api (cq, callback, threads)
#                           of the latency, single and batch workloads; the
#                           latency_session and session workloads are latency
#                           and single on --client_api=session
#   REOPEN_EVENTS [1000000] store size of the reopen measurement; 0 skips it
#   SKIP_POSTGRES []        non-empty: nenep only
#   PG_PORT [55432]         port of the private PostgreSQL cluster
#   TMPDIR [/tmp]           where the stores live; must be a real disk
#
# Every acknowledgement is durable on both sides: nenepd answers after the
# fdatasync of its write-ahead log; PostgreSQL runs with
# synchronous_commit=on and fsync=on.
#
# Exit code: non-zero if a step failed (build, a server, a call or a
# transaction); a missed target is reported as FAIL but does not fail the
# script.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

BUILD_DIR=${BUILD_DIR:-build}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
SINGLE_CLIENTS=${SINGLE_CLIENTS:-64}
BATCH_CLIENTS=${BATCH_CLIENTS:-4}
BATCH_SIZE=${BATCH_SIZE:-1000}
CHANNELS=${CHANNELS:-4}
CLIENT_API=${CLIENT_API:-cq}
REOPEN_EVENTS=${REOPEN_EVENTS:-1000000}
SKIP_POSTGRES=${SKIP_POSTGRES:-}
export DURATION WARMUP SINGLE_CLIENTS BATCH_CLIENTS BATCH_SIZE PG_PORT=${PG_PORT:-55432}

say() { echo "run_benchmarks: $*" >&2; }
FAILED=0
STARTED_AT=$(date +%s)

# --- temporary directory (stores, logs), removed on exit --------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nenep-bench-XXXXXX")
NENEPD_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$NENEPD_PID" ]] && kill -0 "$NENEPD_PID" 2>/dev/null; then
    kill -TERM "$NENEPD_PID" 2>/dev/null || true
    wait "$NENEPD_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. dependencies and build -------------------------------------------------
if [[ -n "$SKIP_POSTGRES" ]]; then tools/setup.sh; else tools/setup.sh --bench; fi
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  say "configuring $BUILD_DIR"
  CC=${CC:-clang-14} CXX=${CXX:-clang++-14} cmake -S . -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/cmake.log" 2>&1 ||
    { cat "$WORK/cmake.log" >&2; say "cmake failed"; exit 1; }
fi
say "building nenepd, nenep, nenep-bench in $BUILD_DIR"
if ! BUILD_LOG=$(ninja -C "$BUILD_DIR" nenepd nenep nenep-bench 2>&1); then
  echo "$BUILD_LOG" >&2; say "build failed"; exit 1
fi
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
CXX_USED=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
NENEPD=$BUILD_DIR/services/nenepd
NENEP=$BUILD_DIR/tools/nenep
BENCH=$BUILD_DIR/tools/bench/nenep-bench
for b in "$NENEPD" "$NENEP" "$BENCH"; do [[ -x $b ]] || { say "$b was not built"; exit 1; }; done
[[ "$BUILD_TYPE" == Debug ]] && say "WARNING: $BUILD_DIR is a Debug build; figures will be low"

# --- helpers -----------------------------------------------------------------------
# commas N: 1234567.8 -> 1,234,568.
commas() { awk -v x="$1" 'BEGIN { x = sprintf("%.0f", x); s = "";
  while (length(x) > 3) { s = "," substr(x, length(x) - 2) s; x = substr(x, 1, length(x) - 3) }
  print x s }'; }
# jget FILE KEY: a scalar field of a flat JSON object.
jget() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1"; }
# Jiffies (1/CLK_TCK s): the machine's busy and total, a process's CPU.
machine_jiffies() { awk '/^cpu / {b=$2+$3+$4+$7+$8+$9; print b, b+$5+$6; exit}' /proc/stat; }
proc_jiffies() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
snapshot() { echo "$(date +%s.%N) $(machine_jiffies) $(proc_jiffies "$1")"; }
HZ=$(getconf CLK_TCK)

# --- 2. nenep --------------------------------------------------------------------
if [[ $(df -T "$WORK" | awk 'NR==2 {print $2}') == tmpfs ]]; then
  say "WARNING: $WORK is on tmpfs; fsync costs nothing there (set TMPDIR)"
fi
say "starting nenepd on $WORK/nenep"
# The bare log (issue 2): nenep-bench's sessions name units the store does
# not hold; tools/bench/projection_bench.sh measures appends with projections.
"$NENEPD" --data_dir="$WORK/nenep" --listen=127.0.0.1:0 --port_file="$WORK/port" --projections=false \
  --metrics_listen= --log_format=text 2>"$WORK/nenepd.log" &
NENEPD_PID=$!
for _ in $(seq 1 300); do
  [[ -s "$WORK/port" ]] && break
  kill -0 "$NENEPD_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -s "$WORK/port" ]] || { cat "$WORK/nenepd.log" >&2; say "nenepd did not start"; exit 1; }
ADDR="127.0.0.1:$(cat "$WORK/port")"
for _ in $(seq 1 300); do
  "$NENEP" --server="$ADDR" --timeout=1s status >"$WORK/status.txt" 2>&1 && break
  sleep 0.1
done
"$NENEP" --server="$ADDR" --timeout=1s status >"$WORK/status.txt" 2>&1 ||
  { cat "$WORK/status.txt" "$WORK/nenepd.log" >&2; say "nenepd does not answer"; exit 1; }
NENEP_VERSION=$(awk '/^version/ {print $2}' "$WORK/status.txt")

echo "== nenep: nenepd at $ADDR, nenep-bench --client_api=$CLIENT_API, ${DURATION}s per workload after ${WARMUP}s warm-up"
run_nenep() {  # name, nenep-bench flags...
  local name=$1; shift
  local rc=0 s0 s1
  (sleep "$WARMUP"; snapshot "$NENEPD_PID" >"$WORK/snap0-$name") &
  local sampler=$!
  "$BENCH" --server="$ADDR" --duration="${DURATION}s" --warmup="${WARMUP}s" \
    --channels="$CHANNELS" --client_api="$CLIENT_API" --json "$@" \
    >"$WORK/nenep-$name.json" 2>"$WORK/nenep-$name.err" || rc=$?
  wait "$sampler" || true
  snapshot "$NENEPD_PID" >"$WORK/snap1-$name"
  if [[ ! -s "$WORK/nenep-$name.json" ]]; then
    cat "$WORK/nenep-$name.err" >&2; say "nenep-bench $name could not run (exit $rc)"
    FAILED=1; return 0
  fi
  read -r -a s0 <"$WORK/snap0-$name"; read -r -a s1 <"$WORK/snap1-$name"
  awk -v t0="${s0[0]}" -v t1="${s1[0]}" -v mb="$((s1[1] - s0[1]))" -v mt="$((s1[2] - s0[2]))" \
    -v pj="$((s1[3] - s0[3]))" -v hz="$HZ" 'BEGIN {
      printf "{\"machine_busy_pct\":%.1f,\"server_cpu_pct\":%.1f}\n",
        (mt > 0 ? 100*mb/mt : 0), 100*pj/hz/(t1-t0) }' >"$WORK/cpu-$name.json"
  local f=$WORK/nenep-$name.json
  printf '%-8s clients=%-3s events/call=%-5s %10s events/s  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  errors %s\n' \
    "$name" "$(jget "$f" clients)" "$(jget "$f" batch_size)" "$(commas "$(jget "$f" events_per_s)")" \
    "$(awk -v v="$(jget "$f" p50_us)" 'BEGIN {print v/1000}')" \
    "$(awk -v v="$(jget "$f" p90_us)" 'BEGIN {print v/1000}')" \
    "$(awk -v v="$(jget "$f" p99_us)" 'BEGIN {print v/1000}')" \
    "$(awk -v v="$(jget "$f" p999_us)" 'BEGIN {print v/1000}')" \
    "$(awk -v v="$(jget "$f" max_us)" 'BEGIN {print v/1000}')" \
    "$(jget "$f" errors)"
  if [[ $rc -ne 0 || "$(jget "$f" errors)" != 0 ]]; then
    say "nenep-bench $name: failed calls by code: $(sed -n 's/.*"errors_by_code":{\([^}]*\)}.*/\1/p' "$f")"
    say "  first messages: $(sed -n 's/.*"error_examples":{\(.*\)}}$/\1/p' "$f")"
    FAILED=1
  fi
  local acked head
  acked=$(jget "$f" acknowledged_events); head=$(jget "$f" head_advance)
  if [[ "$head" != -1 && "$head" -lt "$acked" ]]; then
    say "nenep-bench $name: the head advanced by $head < $acked acknowledged events"; FAILED=1
  fi
}
# latency_session and session: the same loads with each client on one
# long-lived AppendSession call, sending one append and awaiting its answer
# before the next, as each pgbench connection does with its INSERTs.
run_nenep latency --mode=latency
run_nenep latency_session --mode=latency --client_api=session
run_nenep single --mode=single --clients="$SINGLE_CLIENTS"
run_nenep session --mode=single --clients="$SINGLE_CLIENTS" --client_api=session
run_nenep batch --mode=batch --clients="$BATCH_CLIENTS" --batch_size="$BATCH_SIZE"
HEAD=$("$NENEP" --server="$ADDR" --timeout=5s status | awk '/^head/ {print $2}' || true)
STORE_SIZE=$(du -sh "$WORK/nenep" | cut -f1)
kill -TERM "$NENEPD_PID"
if ! wait "$NENEPD_PID"; then say "nenepd did not stop cleanly"; tail -20 "$WORK/nenepd.log" >&2; FAILED=1; fi
NENEPD_PID=""
echo "   store after the run: $(commas "$HEAD") events, $STORE_SIZE on disk"

if [[ "$REOPEN_EVENTS" -gt 0 ]]; then
  if "$BENCH" --mode=reopen --nenepd="$NENEPD" --data_dir="$WORK/reopen" \
      --fill_events="$REOPEN_EVENTS" --runs=3 --json >"$WORK/reopen.json" 2>"$WORK/reopen.err"; then
    printf 'reopen   store of %s events: process start -> health SERVING in %s ms (median of 3; runs %s ms)\n' \
      "$(commas "$(jget "$WORK/reopen.json" events)")" "$(jget "$WORK/reopen.json" ready_ms_median)" \
      "$(sed -n 's/.*"ready_ms":\[\([^]]*\)\].*/\1/p' "$WORK/reopen.json")"
  else
    cat "$WORK/reopen.err" >&2; say "reopen failed"; FAILED=1; rm -f "$WORK/reopen.json"
  fi
  rm -rf "$WORK/reopen"
fi
echo

# --- 3. PostgreSQL ---------------------------------------------------------------
if [[ -z "$SKIP_POSTGRES" ]]; then
  mkdir -p "$WORK/pg"
  if ! tools/bench/compare_postgres.sh --out "$WORK/pg"; then
    say "the PostgreSQL run failed"; FAILED=1
  fi
  echo
fi

# --- 4. report -------------------------------------------------------------------
DISK=$(df -T "$WORK" | awk 'NR==2 {printf "%s on %s (%s)", $2, $1, $7}')
DEV=$(df "$WORK" | awk 'NR==2 {print $1}')
ROT=$(lsblk -ndo ROTA "$DEV" 2>/dev/null | tr -d ' ' || true)
MODEL=$(lsblk -ndo MODEL "$DEV" 2>/dev/null | sed 's/ *$//' || true)
VIRT=$(systemd-detect-virt 2>/dev/null || true)
GIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]] && GIT="$GIT (with uncommitted changes)"
dpkgv() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
echo "== machine"
echo "cpu:      $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')${VIRT:+ (virtualization: $VIRT)}"
echo "memory:   $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "disk:     $DISK${ROT:+, rotational=$ROT}${MODEL:+, model $MODEL}; stores in $WORK"
echo "os:       $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
echo "nenep:    $NENEP_VERSION, commit $GIT, $BUILD_TYPE build with $(basename "$CXX_USED")"
echo "packages: RocksDB $(dpkgv librocksdb-dev), gRPC $(dpkgv libgrpc++-dev), Protobuf $(dpkgv libprotobuf-dev), Abseil $(dpkgv libabsl-dev), PostgreSQL $(dpkgv postgresql-15)"
echo

# The PostgreSQL workload a nenep workload is compared with.
pg_json() {
  case $1 in
    latency | latency_session) echo "$WORK/pg/pg-latency.json" ;;
    single | session) echo "$WORK/pg/pg-single.json" ;;
    *) echo "$WORK/pg/pg-$1.json" ;;
  esac
}
WORKLOADS="latency latency_session single session batch"

fmt_results() {
  local name label nf pf cf
  printf '%-36s | %-29s | %-38s | %s\n' "" "nenep (gRPC, fdatasync)" "PostgreSQL 15 (pgbench, fsync)" "nenep/PG"
  printf '%-36s | %11s %8s %8s | %11s %8s %8s %8s | %8s\n' workload events/s "p50 ms" "p99 ms" events/s "avg ms" "p50 ms" "p99 ms" events/s
  for name in $WORKLOADS; do
    case $name in
      latency) label="latency: 1 client, 1 event/call" ;;
      latency_session) label="latency, on one AppendSession" ;;
      single) label="single: $SINGLE_CLIENTS clients, 1 event/call" ;;
      session) label="single, on $SINGLE_CLIENTS AppendSessions" ;;
      batch) label="batch: $BATCH_CLIENTS clients, $(commas "$BATCH_SIZE") events/call" ;;
    esac
    nf=$WORK/nenep-$name.json; pf=$(pg_json "$name")
    awk -v label="$label" \
      -v ne="$([[ -s $nf ]] && jget "$nf" events_per_s)" -v n50="$([[ -s $nf ]] && jget "$nf" p50_us)" \
      -v n99="$([[ -s $nf ]] && jget "$nf" p99_us)" \
      -v pe="$([[ -s $pf ]] && jget "$pf" events_per_s)" -v pa="$([[ -s $pf ]] && jget "$pf" avg_ms)" \
      -v p50="$([[ -s $pf ]] && jget "$pf" p50_us)" -v p99="$([[ -s $pf ]] && jget "$pf" p99_us)" '
      function c(x,   s, neg) { x = sprintf("%.0f", x); s = ""; while (length(x) > 3) {
          s = "," substr(x, length(x) - 2) s; x = substr(x, 1, length(x) - 3) } return x s }
      BEGIN {
        printf "%-36s | ", label
        if (ne != "") printf "%11s %8.3f %8.3f | ", c(ne), n50/1000, n99/1000; else printf "%29s | ", "-"
        if (pe != "") printf "%11s %8.3f %8.3f %8.3f | ", c(pe), pa, p50/1000, p99/1000; else printf "%38s | ", "-"
        if (ne != "" && pe != "" && pe > 0) printf "%7.2fx\n", ne/pe; else print "-"
      }'
  done
  echo
  echo "CPU during each measured window (busy: the whole machine, 100% = all $(nproc) cores; server, client: % of one core)"
  printf '%-36s | %-22s | %s\n' "" "nenep" "PostgreSQL"
  printf '%-36s | %6s %7s %7s | %6s %7s %7s\n' workload busy server client busy server client
  for name in $WORKLOADS; do
    local cf=$WORK/cpu-$name.json nf=$WORK/nenep-$name.json pf
    pf=$(pg_json "$name")
    awk -v name="$name" \
      -v nb="$([[ -s $cf ]] && jget "$cf" machine_busy_pct)" -v ns="$([[ -s $cf ]] && jget "$cf" server_cpu_pct)" \
      -v nc="$([[ -s $nf ]] && jget "$nf" client_cpu_pct)" \
      -v pb="$([[ -s $pf ]] && jget "$pf" machine_busy_pct)" -v ps="$([[ -s $pf ]] && jget "$pf" server_cpu_pct)" \
      -v pc="$([[ -s $pf ]] && jget "$pf" client_cpu_pct)" 'BEGIN {
        printf "%-36s | ", name
        if (nb != "") printf "%5.0f%% %6.0f%% %6.0f%% | ", nb, ns, nc; else printf "%22s | ", "-"
        if (pb != "") printf "%5.0f%% %6.0f%% %6.0f%%\n", pb, ps, pc; else printf "%22s\n", "-"
      }'
  done
}
echo "== results: durable appends, ${DURATION}s per workload after ${WARMUP}s warm-up, same machine, same run"
fmt_results
echo

echo "== targets (a FAIL here does not fail the script)"
target() {  # ok? text
  if [[ "$1" == 1 ]]; then echo "PASS  $2"; else echo "FAIL  $2"; fi
}
check() {  # awk-condition text  (with variables from JSON)
  awk "BEGIN { exit !($1) }" && echo 1 || echo 0
}
N_S=$WORK/nenep-single.json; N_SS=$WORK/nenep-session.json; N_B=$WORK/nenep-batch.json
N_L=$WORK/nenep-latency.json; N_LS=$WORK/nenep-latency_session.json
P_S=$WORK/pg/pg-single.json; P_B=$WORK/pg/pg-batch.json
single_targets() {  # json, how the clients append
  local e p99 pe r
  e=$(jget "$1" events_per_s); p99=$(jget "$1" p99_us)
  target "$(check "$e >= 25000")" "single-event appends ($2), $SINGLE_CLIENTS clients: $(commas "$e") events/s >= 25,000"
  target "$(check "$p99 <= 10000")" "single-event appends ($2), $SINGLE_CLIENTS clients: p99 $(awk -v v="$p99" 'BEGIN {printf "%.2f", v/1000}') ms <= 10 ms"
  if [[ -s $P_S ]]; then
    pe=$(jget "$P_S" events_per_s); r=$(awk -v a="$e" -v b="$pe" 'BEGIN {printf "%.2f", a/b}')
    target "$(check "$r >= 1.5")" "single-event appends ($2) vs PostgreSQL single-row INSERTs, $SINGLE_CLIENTS clients each: ${r}x >= 1.5x"
  else
    echo "n/a   single-event appends ($2) vs PostgreSQL: no PostgreSQL figure"
  fi
}
[[ -s $N_S ]] && single_targets "$N_S" "a unary Append per event"
[[ -s $N_SS ]] && single_targets "$N_SS" "one AppendSession per client"
if [[ -s $N_B ]]; then
  e=$(jget "$N_B" events_per_s)
  target "$(check "$e >= 300000")" "batch appends of $(commas "$BATCH_SIZE") events, $BATCH_CLIENTS clients: $(commas "$e") events/s >= 300,000"
  if [[ -s $P_B ]]; then
    pe=$(jget "$P_B" events_per_s); r=$(awk -v a="$e" -v b="$pe" 'BEGIN {printf "%.2f", a/b}')
    target "$(check "$r >= 3")" "batch appends vs PostgreSQL $(commas "$BATCH_SIZE")-row INSERTs, $BATCH_CLIENTS clients each: ${r}x >= 3x"
  else
    echo "n/a   batch appends vs PostgreSQL: no PostgreSQL figure"
  fi
fi
latency_target() {  # json, how the client appends
  local p50
  p50=$(jget "$1" p50_us)
  target "$(check "$p50 <= 500")" "one client, one event at a time ($2): p50 $(awk -v v="$p50" 'BEGIN {printf "%.3f", v/1000}') ms <= 0.5 ms"
}
[[ -s $N_L ]] && latency_target "$N_L" "a unary Append per event"
[[ -s $N_LS ]] && latency_target "$N_LS" "on one AppendSession"
if [[ -s $WORK/reopen.json ]]; then
  m=$(jget "$WORK/reopen.json" ready_ms_median)
  target "$(check "$m < 2000")" "reopen a store of $(commas "$(jget "$WORK/reopen.json" events)") events: $m ms < 2,000 ms (docs/benchmarks.md)"
fi
echo
if [[ $FAILED -ne 0 ]]; then
  say "some steps FAILED (see above); total $(($(date +%s) - STARTED_AT)) s"
  exit 1
fi
say "done in $(($(date +%s) - STARTED_AT)) s"
