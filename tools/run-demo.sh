#!/usr/bin/env bash
# Builds nenepd, starts it on its embedded default store (./data), loads the
# demo data set (tools/demo/demo.jsonl, facts from the seed documents) and
# keeps serving until Ctrl-C. Installs what it needs first. Running it again
# on the same ./data loads nothing twice.
#
# DATA_DIR (default ./data), LISTEN (default 127.0.0.1:50051) and
# BUILD_DIR (default build) can be set in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
DATA_DIR=${DATA_DIR:-./data}
LISTEN=${LISTEN:-127.0.0.1:50051}
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C "$BUILD_DIR" nenepd nenep

NENEP="$BUILD_DIR/tools/nenep --server=$LISTEN"
"$BUILD_DIR/services/nenepd" --data_dir="$DATA_DIR" --listen="$LISTEN" \
  --log_format=text &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
for _ in $(seq 1 300); do
  if $NENEP --timeout=1s status >/dev/null 2>&1; then break; fi
  if ! kill -0 $pid 2>/dev/null; then
    wait $pid || true
    echo "run-demo: nenepd did not start (see its messages above)" >&2
    exit 1
  fi
  sleep 0.1
done
if ! $NENEP --timeout=1s status >/dev/null 2>&1; then
  echo "run-demo: nenepd is not serving after 30 s" >&2
  kill -TERM $pid; wait $pid || true
  exit 1
fi

echo
echo "== loading the demo data set (tools/demo/demo.jsonl) =="
$NENEP import tools/demo/demo.jsonl
echo
echo "== the store now holds =="
$NENEP status
echo
echo "== the latest events =="
$NENEP read --backward --limit=5
echo
echo "== a cell of seed 003: 1/1/2021-15/3/2024 (39 regular, 13 thematic sessions) =="
$NENEP rollup cb-bdv-dongnai --from_date=01/01/2021 --to_date=15/03/2024
echo
echo "== Đảng bộ Khối các cơ quan Trung ương in the 2021-2023 phase, by đảng bộ =="
$NENEP rollup dbk --phase=2021-2023 --children --sort_by=members --descending
cat <<MSG

nenepd is serving the demo store in $DATA_DIR at $LISTEN. Try:
  $NENEP units --find="bo tu phap" --all      # find units, accents optional
  $NENEP units dbk --as_of=01/01/2024         # a unit and its children then
  $NENEP rollup cb-cthads-tn --period=2020    # a cell's year (seed 001)
  $NENEP rollup db-chinhphu --phase=2021-2023 --as_of_structure=01/03/2025
                                              # history restated, 2025 tree
  $NENEP rebuild                              # projections == the log?
  $NENEP read --stream=sessions-cb-cthads-tn  # one stream: a cell's sessions
  $NENEP get 1                                # one event in full
  $NENEP tail --from=350                      # the log's end, then live (Ctrl-C)
  $NENEP groups create reports --types=SessionHeld && $NENEP groups consume reports --member=me --count=5
  $NENEP audit head --fresh                   # a signed Merkle tree head of the log
  $NENEP export --subtree=cb-cthads-tn --out=thads.jsonl   # with proofs, for auditors
Ctrl-C stops the server cleanly.
MSG
wait $pid
