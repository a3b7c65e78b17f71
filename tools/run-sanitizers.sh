#!/usr/bin/env bash
# Builds nenep with sanitizers and runs what each is for (issue 7):
#
#   asan  NENEP_SANITIZE=address (ASan + UBSan + LeakSanitizer) in
#         build-asan: the whole test suite but one memory-bound test (see
#         ASAN_EXCLUDE below).
#   tsan  NENEP_SANITIZE=thread in build-tsan: the concurrency tests (the
#         log's committer, syncer, indexer and merkler threads; consumer
#         groups; live subscriptions), see TSAN_TESTS below.
#   fuzz  NENEP_FUZZ=ON in build-fuzz: every libFuzzer target of tests/fuzz
#         for FUZZ_SECONDS, two at a time, each from a copy of its seed
#         corpus (the repository's corpus is never written).
#
#   tools/run-sanitizers.sh              all three
#   tools/run-sanitizers.sh tsan fuzz    some of them, in this order
#
# Environment: JOBS (compile and test jobs, default 2), FUZZ_SECONDS
# (default 20), FUZZ_MAX_LEN (default 4096), SANITIZER_OUT (where logs,
# sanitizer reports and fuzzer findings go; default a new directory under
# /tmp, kept when something fails), NENEP_FUZZ_SKIP (passed to the
# fuzzers: invariants not to check while a reported finding is being
# fixed, see tests/fuzz/fuzz_util.h).
#
# Every part runs even if an earlier one failed; the exit status is 1 if
# any failed; the wall time of each part is printed at the end. (The parts
# are called as `run_x || ...`, where bash ignores set -e: every step that
# can fail says `|| return 1`.)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/setup.sh  # clang-14 and its sanitizer runtimes, like the normal build

JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_MAX_LEN=${FUZZ_MAX_LEN:-4096}
OUT=${SANITIZER_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/nenep-sanitizers-XXXXXX")}
mkdir -p "$OUT"

# Each entry is a ctest regular expression on test names.
# Under ASan: every test (labels unit, integration and crash) but
#  - OverloadTest.ShedsLoadKeepsMemoryBoundedAndAnswersHealth, which bounds
#    nenepd's resident memory (1400 MiB): ASan's shadow memory, redzones
#    and 256 MiB quarantine exceed that by design (1617 MiB seen);
#  - SubscribeTest.FromZeroWhileAppendingGetsEveryEventOnceInOrder (see
#    TSan below; under ASan it failed 1 run in 2, for the same reason).
# The crash tests (CrashTest.*, GroupsTest.SigkillDuringConsumptionLoses-
# NoEvent) pass under ASan and stay: LeakSanitizer never runs in the
# nenepd they SIGKILL, but the nenepd that recovers after each kill is
# checked like any other.
ASAN_LABELS='unit|integration|crash'
ASAN_EXCLUDE='^(OverloadTest\.ShedsLoadKeepsMemoryBoundedAndAnswersHealth|SubscribeTest\.FromZeroWhileAppendingGetsEveryEventOnceInOrder)$'
# Under TSan: the tests that drive several threads of nenep at once (the
# log's committer, syncer, indexer and merkler; the server's handlers and
# reactors, AppendSession's among them; consumer groups; subscriptions; backups, faults and shutdown
# under load; the tree signer). Not
#  - SubscribeTest.FromZeroWhileAppendingGetsEveryEventOnceInOrder: it
#    expects a subscriber to catch up with writers appending as fast as
#    they can, which a sanitizer's slowdown of the reader (TSan 5-15x) can
#    prevent for the whole test: a timing assumption, not a race;
#  - GroupsTest.SigkillDuringConsumptionLosesNoEvent: its heavy stream of
#    acks makes consumer-group state writes (EventLog::WriteState) join
#    the committer's RocksDB write group, whose leader copies the other
#    writers' batches; RocksDB (static, not instrumented) orders that with
#    atomics TSan cannot see, and no RocksDB frame shows in the report to
#    suppress it by (3 runs in 5 reported it).
TSAN_TESTS='^(Faults/)?(RocksDbEventLogTest|LogSlotTest|ServerTest|ServerLifecycleTest|ServerMetricsTest|AppendSessionTest|AppendSessionShutdownTest|GroupsTest|SubscribeTest|BackupTest|FaultTest|AuditTest|NenepdTest)\.'
TSAN_EXCLUDE='^(SubscribeTest\.FromZeroWhileAppendingGetsEveryEventOnceInOrder|GroupsTest\.SigkillDuringConsumptionLosesNoEvent)$'
TSAN_TARGETS=(rocksdb_event_log_test log_slot_test server_test append_session_test
  groups_test subscribe_test
  backup_test fault_test audit_test nenepd_test nenepd nenep
  nenep-verify-proof)
FUZZERS=(import_line validation log_format merkle_proof)

say() { echo "run-sanitizers: $*" >&2; }

# ASan and the fuzzers build at -O1 with line tables only: exact reports with
# file:line stacks at about half the compile time of -O2 -g. TSan keeps
# RelWithDebInfo's -O2 -g: its suppressions (tests/sanitizers/tsan.supp)
# match qualified function names, which line tables alone do not give
# inlined frames (two CI runs reported gRPC's and Abseil's races that way).
LIGHT_FLAGS='-O1 -gline-tables-only -DNDEBUG'
configure() {  # build dir, light (1) or full (0) debug info, cmake options...
  local dir=$1 light=$2
  shift 2
  local flags=()
  if [[ $light == 1 ]]; then
    flags=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$LIGHT_FLAGS"
      "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$LIGHT_FLAGS")
  fi
  if [[ ! -f "$dir/CMakeCache.txt" ]]; then
    cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_C_COMPILER=clang-14 \
      -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "${flags[@]}" "$@"
  fi
}

# Sanitizer reports of the processes a test starts (nenepd, nenep) go to
# files as well, so that one in a child whose output a test does not show
# still fails the run.
reports_in() {  # directory: prints the reports found, fails if any
  local dir=$1 found=0 f
  for f in "$dir"/*; do
    [[ -s "$f" ]] || continue
    found=1
    say "sanitizer report in $f:"
    cat "$f" >&2
  done
  return "$found"
}

run_asan() {
  local dir=build-asan logs=$OUT/asan-reports
  rm -rf "$logs" && mkdir -p "$logs" || return 1
  configure "$dir" 1 -DNENEP_SANITIZE=address || return 1
  say "asan: building everything in $dir"
  ninja -C "$dir" -j "$JOBS" || return 1
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=0:print_summary=1:log_path=$logs/asan"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
  export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitizers/lsan.supp:print_suppressions=0"
  local status=0
  ctest --test-dir "$dir" -L "$ASAN_LABELS" -E "$ASAN_EXCLUDE" \
    --output-on-failure --timeout 900 -j "$JOBS" \
    --output-log "$OUT/asan-ctest.log" || status=1
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
  reports_in "$logs" || status=1
  return "$status"
}

run_tsan() {
  local dir=build-tsan logs=$OUT/tsan-reports
  rm -rf "$logs" && mkdir -p "$logs" || return 1
  configure "$dir" 0 -DNENEP_SANITIZE=thread || return 1
  say "tsan: building ${TSAN_TARGETS[*]} in $dir"
  ninja -C "$dir" -j "$JOBS" "${TSAN_TARGETS[@]}" || return 1
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$ROOT/tests/sanitizers/tsan.supp:log_path=$logs/tsan"
  local status=0
  ctest --test-dir "$dir" -R "$TSAN_TESTS" -E "$TSAN_EXCLUDE" \
    --output-on-failure --timeout 900 -j "$JOBS" \
    --output-log "$OUT/tsan-ctest.log" || status=1
  unset TSAN_OPTIONS
  reports_in "$logs" || status=1
  return "$status"
}

fuzz_one() {  # name: runs one fuzzer for FUZZ_SECONDS
  local name=$1 dir=build-fuzz
  local corpus findings=$OUT/fuzz-findings/$name
  corpus=$(mktemp -d "$OUT/corpus-$name-XXXXXX") || return 1
  rm -rf "$findings" && mkdir -p "$findings" || return 1
  cp -r "$ROOT/tests/fuzz/corpus/$name/." "$corpus/" || return 1
  local dict=()
  if [[ -f "$ROOT/tests/fuzz/$name.dict" ]]; then
    dict=("-dict=$ROOT/tests/fuzz/$name.dict")
  fi
  local status=0
  "$dir/tests/${name}_fuzzer" "$corpus" "${dict[@]}" \
    -max_total_time="$FUZZ_SECONDS" -max_len="$FUZZ_MAX_LEN" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" >"$OUT/fuzz-$name.log" 2>&1 || status=1
  rm -rf "$corpus"
  local runs
  runs=$(grep -m1 '^stat::number_of_executed_units' "$OUT/fuzz-$name.log" |
    awk '{print $2}')
  local final
  final=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$OUT/fuzz-$name.log" | tail -1)
  if [[ $status -ne 0 ]]; then
    say "fuzz: $name FAILED after ${runs:-?} runs; input kept in $findings"
    grep -E 'FUZZ INVARIANT|ERROR:|SUMMARY:' "$OUT/fuzz-$name.log" >&2 || true
    return 1
  fi
  rmdir "$findings" 2>/dev/null || true
  say "fuzz: $name ok, ${runs:-?} runs: ${final:-}"
}

run_fuzz() {
  local dir=build-fuzz
  configure "$dir" 1 -DNENEP_FUZZ=ON || return 1
  say "fuzz: building the fuzzers in $dir"
  ninja -C "$dir" -j "$JOBS" nenep_fuzzers || return 1
  # ASan and UBSan findings are the fuzzers' crashes; libFuzzer checks for
  # leaks itself.
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
  local status=0 pids=() name i pid
  for ((i = 0; i < ${#FUZZERS[@]}; i += JOBS)); do
    pids=()
    for name in "${FUZZERS[@]:i:JOBS}"; do
      fuzz_one "$name" &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do
      wait "$pid" || status=1
    done
  done
  unset ASAN_OPTIONS UBSAN_OPTIONS
  return "$status"
}

parts=("$@")
if [[ ${#parts[@]} -eq 0 ]]; then parts=(asan tsan fuzz); fi
for part in "${parts[@]}"; do
  case "$part" in
    asan | tsan | fuzz) ;;
    *)
      echo "usage: $0 [asan] [tsan] [fuzz]" >&2
      exit 2
      ;;
  esac
done

say "logs, reports and findings in $OUT"
failed=()
summary=()
start_all=$SECONDS
for part in "${parts[@]}"; do
  start=$SECONDS
  result=ok
  "run_$part" || result=FAILED
  [[ $result == ok ]] || failed+=("$part")
  summary+=("$(printf '%-5s %-7s %4ds' "$part" "$result" $((SECONDS - start)))")
done
say "summary:"
printf '  %s\n' "${summary[@]}" >&2
say "total $((SECONDS - start_all))s"
if [[ ${#failed[@]} -gt 0 ]]; then
  say "FAILED: ${failed[*]} (see $OUT)"
  exit 1
fi
[[ -n ${SANITIZER_OUT:-} ]] || rm -rf "$OUT"
