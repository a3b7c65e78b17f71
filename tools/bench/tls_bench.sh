#!/usr/bin/env bash
# What TLS costs appends (issue 7): the issue-2 workloads of nenep-bench
# (batch: 4 clients x 1,000 events; single: 64 clients x 1 event) against
# nenepd in plaintext and with mutual TLS plus an access file (the client an
# admin by its certificate), on fresh stores (--projections=false, as in
# run_benchmarks.sh), in alternating pairs so that the machine's drift
# falls on both. Certificates are made with OpenSSL in a temporary folder.
# Prints each run, the means and the TLS/plaintext ratios against the
# target (TLS costs at most 30 %); a FAIL does not fail the script.
#
# Environment: BUILD_DIR [build], PAIRS [3], DURATION [10] seconds per run.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ${1:-} == --help || ${1:-} == -h ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

BUILD_DIR=${BUILD_DIR:-build}
PAIRS=${PAIRS:-3}
DURATION=${DURATION:-10}
WORK_NAME=nenep-tlsbench
# shellcheck source=tools/bench/nenepd_lib.sh
source "$(dirname "$0")/nenepd_lib.sh"
say() { echo "tls_bench: $*" >&2; }

say "building in $BUILD_DIR"
build_targets nenepd nenep nenep-bench
BENCH="$BUILD_DIR/tools/bench/nenep-bench"

# A CA, nenepd's certificate for localhost / 127.0.0.1, a client's.
pki="$WORK/pki"
mkdir -p "$pki"
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 -subj "/CN=bench CA"
echo "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$pki/server.ext"
for name in server bench-admin; do
  cn=$name
  [[ $name == server ]] && cn=localhost
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$pki/$name.key" -out "$pki/$name.csr" -subj "/CN=$cn"
  ext=()
  [[ $name == server ]] && ext=(-extfile "$pki/server.ext")
  ossl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
    -CAcreateserial -out "$pki/$name.pem" -days 2 "${ext[@]}"
done
echo "name=bench role=admin cert_cn=bench-admin" >"$pki/access"
TLS_SERVER=(--tls_cert_file="$pki/server.pem" --tls_key_file="$pki/server.key"
  --tls_client_ca_file="$pki/ca.pem" --auth_file="$pki/access")
TLS_CLIENT=(--tls_ca_file="$pki/ca.pem" --tls_cert_file="$pki/bench-admin.pem"
  --tls_key_file="$pki/bench-admin.key" --tls_server_name=localhost)

# run KIND MODE: one fresh nenepd, one measured nenep-bench run; prints
# "events/s p50 p99".
run() {
  local kind=$1 mode=$2 server=() client=()
  if [[ $kind == tls ]]; then server=("${TLS_SERVER[@]}"); client=("${TLS_CLIENT[@]}"); fi
  rm -rf "$WORK/data"
  NENEP_FLAGS=("${client[@]}")
  start_nenepd "$WORK/data" --projections=false "${server[@]}"
  "$BENCH" --server="$ADDR" "${client[@]}" --mode="$mode" \
    --duration="${DURATION}s" --json >"$WORK/out.json"
  stop_nenepd
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("%.0f %.3f %.3f" % (r["events_per_s"], r["p50_us"] / 1000, r["p99_us"] / 1000))
' "$WORK/out.json"
}

declare -A SUM
echo "== appends in plaintext and with mutual TLS, $DURATION s each, $PAIRS alternating pairs"
printf "%-6s %-6s %12s %9s %9s\n" mode kind events/s "p50 ms" "p99 ms"
for mode in batch single; do
  for pair in $(seq 1 "$PAIRS"); do
    for kind in plain tls; do
      read -r eps p50 p99 < <(run "$kind" "$mode")
      printf "%-6s %-6s %12s %9s %9s\n" "$mode" "$kind" "$eps" "$p50" "$p99"
      SUM[$mode.$kind]=$(awk -v a="${SUM[$mode.$kind]:-0}" -v b="$eps" 'BEGIN {print a + b}')
    done
    : "$pair"
  done
done

echo
echo "== means and targets (a FAIL here does not fail the script)"
for mode in batch single; do
  plain=$(awk -v s="${SUM[$mode.plain]}" -v n="$PAIRS" 'BEGIN {printf "%.0f", s / n}')
  tls=$(awk -v s="${SUM[$mode.tls]}" -v n="$PAIRS" 'BEGIN {printf "%.0f", s / n}')
  ratio=$(awk -v a="$tls" -v b="$plain" 'BEGIN {printf "%.2f", a / b}')
  echo "$mode: plaintext $plain events/s, mutual TLS $tls events/s (${ratio}x)"
  check "$mode appends with mutual TLS / plaintext" "$ratio" ">=" 0.70
done
