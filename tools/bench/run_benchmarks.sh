#!/usr/bin/env bash
# Runs the nenep benchmarks and the same workloads against PostgreSQL 15 on
# this machine, in one run, and prints the figures and their ratios.
#
#   tools/bench/run_benchmarks.sh            # everything, ~4 minutes
#   DURATION=20 tools/bench/run_benchmarks.sh
#   SKIP_POSTGRES=1 tools/bench/run_benchmarks.sh
#
# Workloads (every acknowledgement is durable on both sides):
#   latency  one client appending one event at a time
#   single   64 concurrent clients, one event per call
#   batch    4 concurrent clients, 1,000 events per call
#   reopen   time from starting nenepd on a store of 1,000,000 events to
#            health SERVING
# PostgreSQL: private cluster on 127.0.0.1:55432, synchronous_commit=on,
# fsync=on; table events(seq bigserial primary key, stream, type,
# recorded_at, payload jsonb) with an index on (stream, seq); pgbench with
# prepared single-row INSERTs and 1,000-row multi-row INSERTs.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10}
BUILD_DIR=${BUILD_DIR:-build}
REOPEN_EVENTS=${REOPEN_EVENTS:-1000000}
PG_PORT=${PG_PORT:-55432}
PGBIN=/usr/lib/postgresql/15/bin

if [[ -z "${SKIP_POSTGRES:-}" ]]; then tools/setup.sh --bench; else tools/setup.sh; fi
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$BUILD_DIR" nenepd nenep nenep-bench >/dev/null

WORK=$(mktemp -d /tmp/nenep-bench-XXXXXX)
NENEPD_PID=""
cleanup() {
  [[ -n "$NENEPD_PID" ]] && kill -TERM "$NENEPD_PID" 2>/dev/null && wait "$NENEPD_PID" 2>/dev/null
  if [[ -f "$WORK/pg/postmaster.pid" ]]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

BENCH="$BUILD_DIR/tools/bench/nenep-bench"
echo "== machine"
echo "cpu:    $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "memory: $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "disk:   $(df -hT "$WORK" | awk 'NR==2 {print $2, $3, "on", $7}')"
echo "os:     $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
echo "nenep:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown); RocksDB $(dpkg-query -W -f='${Version}' librocksdb-dev), gRPC $(dpkg-query -W -f='${Version}' libgrpc++-dev)"
echo "duration per workload: ${DURATION}s (after 2s warm-up)"
echo

# --- nenep -------------------------------------------------------------------
"$BUILD_DIR/services/nenepd" --data_dir="$WORK/nenep" --listen=127.0.0.1:0 \
  --port_file="$WORK/port" --metrics_listen= --log_format=text 2>"$WORK/nenepd.log" &
NENEPD_PID=$!
for _ in $(seq 1 300); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
ADDR="127.0.0.1:$(cat "$WORK/port")"
for _ in $(seq 1 300); do
  "$BUILD_DIR/tools/nenep" --server="$ADDR" --timeout=1s status >/dev/null 2>&1 && break
  sleep 0.1
done

echo "== nenep (durable: acknowledged after fdatasync)"
run() {  # name, nenep-bench flags...
  local name=$1; shift
  "$BENCH" --server="$ADDR" --duration="${DURATION}s" --json "$@" > "$WORK/$name.json"
  "$BENCH" --server="$ADDR" --duration=1s --warmup=0s "$@" >/dev/null 2>&1 || true
  python3 - "$WORK/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{r['mode']:8} clients={r['clients']:<3} batch={r['batch_size']:<5} "
      f"{r['events_per_s']:>10,.0f} events/s  p50 {r['p50_us']/1000:.2f} ms  "
      f"p99 {r['p99_us']/1000:.2f} ms  errors {r['errors'] or 'none'}")
PY
}
run latency --mode=latency
run single --mode=single --clients=64
run batch --mode=batch --clients=4 --batch_size=1000
kill -TERM "$NENEPD_PID"; wait "$NENEPD_PID" || true; NENEPD_PID=""

"$BENCH" --mode=reopen --nenepd="$BUILD_DIR/services/nenepd" \
  --data_dir="$WORK/reopen" --fill_events="$REOPEN_EVENTS" --runs=3 --json > "$WORK/reopen.json"
python3 - "$WORK/reopen.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"reopen   store of {r['events']:,} events: ready (health SERVING) in "
      f"{r['ready_ms_median']:.0f} ms (median; runs {r['ready_ms']} ms)")
PY
echo

# --- PostgreSQL --------------------------------------------------------------
if [[ -z "${SKIP_POSTGRES:-}" ]]; then
  echo "== PostgreSQL 15 (synchronous_commit=on, fsync=on)"
  mkdir -p "$WORK/pg" && chown postgres "$WORK" "$WORK/pg" && chmod 700 "$WORK/pg"
  runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" -A trust --no-locale -E UTF8 >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w start -o \
    "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK \
     -c synchronous_commit=on -c fsync=on -c wal_sync_method=fdatasync \
     -c shared_buffers=1GB -c max_wal_size=8GB -c max_connections=200" >/dev/null
  PSQL=(runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -q -X -v ON_ERROR_STOP=1)
  "${PSQL[@]}" -c "CREATE TABLE events (seq bigserial PRIMARY KEY, stream text NOT NULL,
     type text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), payload jsonb NOT NULL);
     CREATE INDEX events_stream ON events (stream, seq);"
  PAYLOAD='{"sessionHeld":{"sessionId":"bench.s1","unitId":"bench.cb00042","kind":"SESSION_KIND_REGULAR","forPeriod":{"year":2024,"month":3},"topic":"Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh","attendance":{"convened":20,"present":18,"absentExcused":1,"absentUnexcused":1}},"businessDate":{"year":2024,"month":3,"day":4}}'
  cat > "$WORK/single.sql" <<SQL
\set s random(1, 10000)
INSERT INTO events (stream, type, payload) VALUES ('sessions-bench.cb' || :s, 'SessionHeld', '$PAYLOAD');
SQL
  python3 - "$WORK/batch.sql" "$PAYLOAD" <<'PY'
import sys
path, payload = sys.argv[1], sys.argv[2].replace("'", "''")
rows = ",\n".join(f"('sessions-bench.cb{i % 10000:05d}', 'SessionHeld', '{payload}')" for i in range(1000))
open(path, "w").write(f"INSERT INTO events (stream, type, payload) VALUES\n{rows};\n")
PY
  chown postgres "$WORK"/*.sql
  pgrun() {  # name, rows per transaction, pgbench flags...
    local name=$1 rows=$2; shift 2
    runuser -u postgres -- "$PGBIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -n -M prepared \
      -T 2 "$@" postgres >/dev/null 2>&1 || true   # warm-up
    (cd "$WORK" && runuser -u postgres -- "$PGBIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -n \
      -M prepared -T "$DURATION" -l --log-prefix="$WORK/pglog-$name" "$@" postgres) > "$WORK/pg-$name.txt" 2>&1
    python3 - "$WORK" "$name" "$rows" <<'PY'
import glob, json, re, sys
work, name, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(f"{work}/pg-{name}.txt").read()
tps = float(re.search(r"tps = ([0-9.]+)", text).group(1))
lat = []
for f in glob.glob(f"{work}/pglog-{name}*"):
    for line in open(f):
        parts = line.split()
        if len(parts) >= 3: lat.append(int(parts[2]))
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000 if lat else 0
r = {"events_per_s": tps * rows, "p50_ms": p(0.5), "p99_ms": p(0.99)}
json.dump(r, open(f"{work}/pg-{name}.json", "w"))
clients = re.search(r"number of clients: (\d+)", text).group(1)
print(f"{name:8} clients={clients:<3} rows={rows:<5} {r['events_per_s']:>11,.0f} events/s  "
      f"p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms")
PY
  }
  pgrun latency 1 -c 1 -j 1 -f "$WORK/single.sql"
  pgrun single 1 -c 64 -j 2 -f "$WORK/single.sql"
  pgrun batch 1000 -c 4 -j 2 -f "$WORK/batch.sql"
  echo
fi

# --- comparison --------------------------------------------------------------
echo "== targets (issue 2) and ratios"
python3 - "$WORK" "${SKIP_POSTGRES:-}" <<'PY'
import json, os, sys
work, skip_pg = sys.argv[1], sys.argv[2]
n = {k: json.load(open(f"{work}/{k}.json")) for k in ("latency", "single", "batch", "reopen")}
pg = {} if skip_pg else {k: json.load(open(f"{work}/pg-{k}.json")) for k in ("latency", "single", "batch")}
def line(ok, text): print(f"{'PASS' if ok else 'FAIL'}  {text}")
s, b, l, r = n["single"], n["batch"], n["latency"], n["reopen"]
line(s["events_per_s"] >= 25000, f"single, 64 clients: {s['events_per_s']:,.0f} events/s >= 25,000")
line(s["p99_us"] <= 10000, f"single, 64 clients: p99 {s['p99_us']/1000:.2f} ms <= 10 ms")
line(b["events_per_s"] >= 300000, f"batch of 1,000: {b['events_per_s']:,.0f} events/s >= 300,000")
line(l["p50_us"] <= 500, f"one client: p50 {l['p50_us']/1000:.3f} ms <= 0.5 ms")
line(r["ready_ms_median"] < 2000, f"reopen {r['events']:,} events: {r['ready_ms_median']:.0f} ms < 2,000 ms")
if pg:
    rs = s["events_per_s"] / pg["single"]["events_per_s"]
    rb = b["events_per_s"] / pg["batch"]["events_per_s"]
    rl = pg["latency"]["p50_ms"] / (l["p50_us"] / 1000)
    line(rs >= 1.5, f"single vs PostgreSQL single-row INSERT, 64 clients: {rs:.2f}x >= 1.5x")
    line(rb >= 3.0, f"batch vs PostgreSQL 1,000-row INSERT, 4 clients: {rb:.2f}x >= 3x")
    print(f"info  one client p50: PostgreSQL {pg['latency']['p50_ms']:.3f} ms, nenep {l['p50_us']/1000:.3f} ms ({rl:.2f}x)")
PY
