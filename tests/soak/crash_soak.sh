#!/usr/bin/env bash
# Longer crash soak: runs the SIGKILL crash test (tests/integration/
# crash_test.cc) with many more kill cycles, round after round, until a round
# fails or ROUNDS rounds have passed.
#
#   tests/soak/crash_soak.sh                 # 5 rounds of 200 cycles
#   CYCLES=1000 ROUNDS=20 tests/soak/crash_soak.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
CYCLES=${CYCLES:-200}
ROUNDS=${ROUNDS:-5}
ninja -C "$BUILD_DIR" crash_test nenepd >/dev/null
log=$(mktemp /tmp/nenep-soak-XXXXXX.log)
for round in $(seq 1 "$ROUNDS"); do
  echo "crash soak: round $round of $ROUNDS, $CYCLES SIGKILL cycles"
  if ! NENEP_CRASH_CYCLES="$CYCLES" "$BUILD_DIR/tests/crash_test" >"$log" 2>&1; then
    grep -v '^{"ts"' "$log" | grep -E -A5 "Failure|FAILED" >&2 || true
    echo "crash soak: round $round FAILED (full output: $log)" >&2
    exit 1
  fi
  grep "crash test:" "$log"
done
rm -f "$log"
echo "crash soak: $ROUNDS rounds of $CYCLES cycles passed"
