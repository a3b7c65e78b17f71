#!/usr/bin/env bash
# PostgreSQL 15 baseline for the nenep benchmarks: the same workloads as
# nenep-bench, run with pgbench against a private, durable cluster.
#
#   tools/bench/compare_postgres.sh               # prints a table
#   tools/bench/compare_postgres.sh --out DIR     # also DIR/pg-<name>.json
#
# Environment (defaults in brackets):
#   DURATION [10]        measured seconds per workload
#   WARMUP [2]           seconds of the same load before, not measured
#   SINGLE_CLIENTS [64]  clients of the single-row workload
#   BATCH_CLIENTS [4]    clients of the multi-row workload
#   BATCH_SIZE [1000]    rows per multi-row INSERT
#   PG_PORT [55432]      the private cluster's port (127.0.0.1 only)
#   TMPDIR [/tmp]        where the cluster lives; must be a real disk
#
# The cluster is created with initdb in a temporary directory (as the
# postgres user when run as root), started with synchronous_commit=on,
# fsync=on, wal_sync_method=fdatasync, and removed on exit. The table has
# the shape of the nenep log: a global position and a per-stream index.
#
# Workloads (each pgbench -n -M prepared -T DURATION, after a WARMUP run):
#   latency  1 client, one single-row INSERT per transaction (autocommit)
#   single   SINGLE_CLIENTS clients (-j 2), one single-row INSERT each
#   batch    BATCH_CLIENTS clients, one INSERT ... SELECT of BATCH_SIZE rows
#            per transaction
# Every row has a ~220-byte jsonb payload built from parameters and parsed
# by the server on every execution (not a constant folded into the
# prepared plan), and a stream 'sessions-bench.cbNNNNN' out of 10,000.
#
# Figures: events/s = pgbench tps x rows per transaction; latency per
# transaction from pgbench's per-transaction log (-l), so p50/p90/p99 are
# exact; busy = the whole machine (/proc/stat); server CPU = the postmaster
# and all its children; client CPU = pgbench's user + system time.
#
# Exit code: 0 if every workload ran without a failed transaction.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
SINGLE_CLIENTS=${SINGLE_CLIENTS:-64}
BATCH_CLIENTS=${BATCH_CLIENTS:-4}
BATCH_SIZE=${BATCH_SIZE:-1000}
PG_PORT=${PG_PORT:-55432}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    -h|--help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare_postgres.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "compare_postgres: $*" >&2; }

tools/setup.sh --bench >&2
for b in initdb pg_ctl postgres pgbench psql; do
  if [[ ! -x "$PGBIN/$b" && ! -x "$(command -v "$b" || true)" ]]; then
    log "$PGBIN/$b is missing (is postgresql-15 installed?)"; exit 1
  fi
done
PSQL_BIN=$PGBIN/psql; [[ -x $PSQL_BIN ]] || PSQL_BIN=$(command -v psql)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nenep-pg-XXXXXX")
if [[ $(id -u) -eq 0 ]]; then
  chown postgres:postgres "$WORK"
  AS=(runuser -u postgres --)
else
  AS=()
fi
chmod 700 "$WORK"
PGDATA_DIR=$WORK/data
STARTED=""
cleanup() {
  local rc=$?
  if [[ -n "$STARTED" ]]; then
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 ||
      "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $(df -T "$WORK" | awk 'NR==2 {print $2}') == tmpfs ]]; then
  log "WARNING: $WORK is on tmpfs; fsync costs nothing there (set TMPDIR)"
fi
if command -v ss >/dev/null && ss -Hltn "sport = :$PG_PORT" | grep -q .; then
  log "port $PG_PORT is in use; set PG_PORT"; exit 1
fi

# --- the cluster ---------------------------------------------------------------
"${AS[@]}" "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust -E UTF8 \
  --no-locale --no-sync >"$WORK/initdb.log" 2>&1 ||
  { cat "$WORK/initdb.log" >&2; exit 1; }
STARTED=1
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/postgres.log" -w -t 60 \
  start -o "-p $PG_PORT -c listen_addresses=127.0.0.1 \
  -c unix_socket_directories=$WORK -c synchronous_commit=on -c fsync=on \
  -c wal_sync_method=fdatasync -c full_page_writes=on -c shared_buffers=1GB \
  -c max_wal_size=8GB -c max_connections=200" >/dev/null ||
  { cat "$WORK/postgres.log" >&2; exit 1; }
PM_PID=$(head -1 "$PGDATA_DIR/postmaster.pid")
CONN=(-h 127.0.0.1 -p "$PG_PORT" -U postgres)
psql_do() { "${AS[@]}" "$PSQL_BIN" "${CONN[@]}" -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

psql_do -c "CREATE TABLE events (
  seq bigserial PRIMARY KEY,
  stream text NOT NULL,
  type text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  payload jsonb NOT NULL);
CREATE INDEX events_stream_seq ON events (stream, seq);"
PG_VERSION=$(psql_do -At -c "SHOW server_version")
SETTINGS=$(psql_do -At -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name)
  FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'wal_sync_method',
  'shared_buffers', 'max_wal_size', 'full_page_writes')")

# --- the workloads -------------------------------------------------------------
# The payload: the facts of nenep-bench's SessionHeld event as JSON, kept to
# about the same size (~220 bytes; the protobuf event is ~210).
json_head='{"sessionId":"bench.pg.s'
json_mid1='","unitId":"bench.cb'
json_mid2='","kind":"REGULAR","forPeriod":"2024-'
json_mid3='","businessDate":"2024-'
json_tail='","topic":"Tư tưởng Hồ Chí Minh","attendance":{"convened":20,"present":18,"absent":2}}'
# Its size, for one example row.
SAMPLE="${json_head}000000000042${json_mid1}04242${json_mid2}03${json_mid3}03-04${json_tail}"
PAYLOAD_BYTES=$(printf '%s' "$SAMPLE" | wc -c)

cat >"$WORK/single.sql" <<SQL
\\set u random(0, 9999)
\\set n random(1, 999999999999)
\\set m random(1, 12)
\\set d random(1, 28)
INSERT INTO events (stream, type, payload) VALUES ('sessions-bench.cb' || lpad(:u::text, 5, '0'), 'SessionHeld', ('${json_head}' || lpad(:n::text, 12, '0') || '${json_mid1}' || lpad(:u::text, 5, '0') || '${json_mid2}' || lpad(:m::text, 2, '0') || '${json_mid3}' || lpad(:m::text, 2, '0') || '-' || lpad(:d::text, 2, '0') || '${json_tail}')::jsonb);
SQL
cat >"$WORK/batch.sql" <<SQL
\\set base random(1, 999999999)
INSERT INTO events (stream, type, payload)
SELECT 'sessions-bench.cb' || u, 'SessionHeld', ('${json_head}' || lpad((:base::bigint * ${BATCH_SIZE} + g)::text, 12, '0') || '${json_mid1}' || u || '${json_mid2}' || lpad(m::text, 2, '0') || '${json_mid3}' || lpad(m::text, 2, '0') || '-' || lpad(d::text, 2, '0') || '${json_tail}')::jsonb
FROM (SELECT g, lpad(((:base::bigint * 7 + g * 7919) % 10000)::text, 5, '0') AS u,
             1 + g % 12 AS m, 1 + g % 28 AS d
      FROM generate_series(1, ${BATCH_SIZE}) AS g) AS r;
SQL
[[ ${#AS[@]} -gt 0 ]] && chown postgres "$WORK"/*.sql

# Jiffies: the whole machine (busy, total) and the cluster's processes.
machine_jiffies() { awk '/^cpu / {b=$2+$3+$4+$7+$8+$9; print b, b+$5+$6; exit}' /proc/stat; }
cluster_jiffies() {
  local total=0 pid st
  # The postmaster's own time and that of its reaped children (backends
  # that have exited), plus the time of its live children.
  read -r -a st < <(sed 's/^.*) //' "/proc/$PM_PID/stat")
  total=$((st[11] + st[12] + st[13] + st[14]))
  for pid in $(pgrep -P "$PM_PID" || true); do
    if read -r -a st < <(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null); then
      total=$((total + st[11] + st[12]))
    fi
  done
  echo "$total"
}
now() { date +%s.%N; }
HZ=$(getconf CLK_TCK)

run_pgbench() {  # name rows clients threads script
  local name=$1 rows=$2 clients=$3 threads=$4 script=$5
  local common=(-n -M prepared "${CONN[@]}" -c "$clients" -j "$threads" -f "$script" postgres)
  if ! "${AS[@]}" "$PGBIN/pgbench" -T "$WARMUP" "${common[@]}" >"$WORK/warm-$name.txt" 2>&1; then
    cat "$WORK/warm-$name.txt" >&2; return 1
  fi
  sleep 0.3  # let the postmaster reap the warm-up's backends
  local m0 c0 t0 m1 c1 t1 rc=0
  read -r -a m0 < <(machine_jiffies); c0=$(cluster_jiffies); t0=$(now)
  local TIMEFORMAT='%U %S'
  { time (cd "$WORK" && "${AS[@]}" "$PGBIN/pgbench" -T "$DURATION" -l \
      --log-prefix="$WORK/txlog-$name" "${common[@]}" >"$WORK/run-$name.txt" 2>&1); } \
    2>"$WORK/time-$name.txt" || rc=$?
  t1=$(now); read -r -a m1 < <(machine_jiffies)
  sleep 0.3; c1=$(cluster_jiffies)
  if [[ $rc -ne 0 ]]; then
    log "pgbench $name failed:"; cat "$WORK/run-$name.txt" >&2; return 1
  fi
  local out=$WORK/run-$name.txt
  local tps avg failed processed
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out" | tail -1)
  avg=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out")
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
  processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
  [[ -n "$tps" && -n "$processed" ]] || { log "cannot parse pgbench output:"; cat "$out" >&2; return 1; }
  read -r cu cs <"$WORK/time-$name.txt"
  # Latencies (us) of every transaction: third field of the logs.
  cat "$WORK"/txlog-"$name"* | awk '{print $3}' | sort -n >"$WORK/lat-$name.txt"
  local pct
  pct=$(awk '{a[NR]=$1} END {
      n=NR; if (n==0) {print "0 0 0 0 0"; exit}
      split("0.5 0.9 0.99 0.999", q, " ");
      for (i=1; i<=4; i++) { r=int(q[i]*n); if (r<q[i]*n) r++; if (r<1) r=1; printf "%d ", a[r] }
      print a[n] }' "$WORK/lat-$name.txt")
  local p50 p90 p99 p999 max
  read -r p50 p90 p99 p999 max <<<"$pct"
  awk -v name="$name" -v rows="$rows" -v clients="$clients" -v tps="$tps" \
    -v avg="${avg:-0}" -v failed="${failed:-0}" -v tx="$processed" \
    -v p50="$p50" -v p90="$p90" -v p99="$p99" -v p999="$p999" -v max="$max" \
    -v mb="$((m1[0] - m0[0]))" -v mt="$((m1[1] - m0[1]))" \
    -v cj="$((c1 - c0))" -v hz="$HZ" -v secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b-a}')" \
    -v cu="$cu" -v cs="$cs" -v bytes="$PAYLOAD_BYTES" 'BEGIN {
      printf "{\"name\":\"%s\",\"clients\":%d,\"rows_per_tx\":%d,\"payload_bytes\":%d,", name, clients, rows, bytes
      printf "\"transactions\":%d,\"tps\":%.1f,\"events_per_s\":%.1f,\"avg_ms\":%.3f,", tx, tps, tps*rows, avg
      printf "\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"p999_us\":%d,\"max_us\":%d,", p50, p90, p99, p999, max
      printf "\"failed\":%d,\"machine_busy_pct\":%.1f,\"server_cpu_pct\":%.1f,\"client_cpu_pct\":%.1f}\n", failed,
        (mt > 0 ? 100*mb/mt : 0), 100*cj/hz/secs, 100*(cu+cs)/secs }' >"$WORK/pg-$name.json"
  [[ -n "$OUT" ]] && cp "$WORK/pg-$name.json" "$OUT/pg-$name.json"
  if [[ "${failed:-0}" != 0 ]]; then log "$name: $failed failed transactions"; return 1; fi
}

jget() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1"; }

[[ -n "$OUT" ]] && mkdir -p "$OUT"
log "PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT ($SETTINGS); ${DURATION}s per workload after ${WARMUP}s warm-up"
run_pgbench latency 1 1 1 "$WORK/single.sql"
run_pgbench single 1 "$SINGLE_CLIENTS" 2 "$WORK/single.sql"
run_pgbench batch "$BATCH_SIZE" "$BATCH_CLIENTS" "$((BATCH_CLIENTS < 2 ? 1 : 2))" "$WORK/batch.sql"
ROWS=$(psql_do -At -c "SELECT count(*) FROM events")
SIZE=$(psql_do -At -c "SELECT pg_size_pretty(pg_total_relation_size('events'))")
STREAMS=$(psql_do -At -c "SELECT count(DISTINCT stream) FROM events")
LAST_ROW=$(psql_do -At -c "SELECT stream || ' ' || payload::text FROM events ORDER BY seq DESC LIMIT 1")

echo "== PostgreSQL $PG_VERSION ($SETTINGS)"
echo "   payload ~${PAYLOAD_BYTES} bytes of JSON; table after the run: $ROWS rows in $STREAMS streams, $SIZE"
echo "   last row: $LAST_ROW"
printf '%-8s %7s %5s %12s %8s %8s %8s %8s %8s | %5s %6s %6s\n' workload clients rows \
  events/s "avg ms" "p50 ms" "p90 ms" "p99 ms" "max ms" busy% server client
for name in latency single batch; do
  f=$WORK/pg-$name.json
  awk -v c="$(jget "$f" clients)" -v r="$(jget "$f" rows_per_tx)" -v e="$(jget "$f" events_per_s)" \
    -v a="$(jget "$f" avg_ms)" -v p50="$(jget "$f" p50_us)" -v p90="$(jget "$f" p90_us)" \
    -v p99="$(jget "$f" p99_us)" -v mx="$(jget "$f" max_us)" -v b="$(jget "$f" machine_busy_pct)" \
    -v s="$(jget "$f" server_cpu_pct)" -v cl="$(jget "$f" client_cpu_pct)" -v n="$name" 'BEGIN {
      printf "%-8s %7d %5d %12.0f %8.3f %8.3f %8.3f %8.3f %8.3f | %4.0f%% %5.0f%% %5.0f%%\n",
        n, c, r, e, a, p50/1000, p90/1000, p99/1000, mx/1000, b, s, cl }'
done
echo "   (busy: both cores together; server and client CPU: % of one core)"
