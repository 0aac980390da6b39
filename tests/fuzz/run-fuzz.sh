#!/usr/bin/env bash
# One fuzzing session of the case reader (tests/fuzz/README.md).
#   run-fuzz.sh FUZZ_CASE_BINARY WORK_DIR [SECONDS] [extra libFuzzer flags]
# Seeds: tests/fuzz/corpus, tests/fuzz/crashes, cases/, tests/bad_cases(/sweeps).
# New inputs are kept in WORK_DIR/fuzz-corpus (reused by the next session);
# a crash, leak, timeout or out-of-memory is written to WORK_DIR/fuzz-crash-*
# and makes the script exit non-zero.
set -euo pipefail
fuzzer="${1:?usage: run-fuzz.sh FUZZ_CASE WORK_DIR [SECONDS] [flags]}"
work="${2:?usage: run-fuzz.sh FUZZ_CASE WORK_DIR [SECONDS] [flags]}"
seconds="${3:-30}"
shift $(($# < 3 ? $# : 3))
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
mkdir -p "$work/fuzz-corpus"
# UBSan findings must stop the run (the build already sets no-recover).
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp:print_suppressions=0}"
exec "$fuzzer" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=16384 -print_final_stats=1 \
  -dict="$here/case.dict" \
  -artifact_prefix="$work/fuzz-crash-" \
  "$@" \
  "$work/fuzz-corpus" "$here/corpus" "$here/crashes" "$src/cases" "$src/tests/bad_cases" \
  "$src/tests/bad_cases/sweeps"
