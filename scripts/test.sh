#!/usr/bin/env bash
# Build libiotkit and run its whole test suite: once plainly, once under
# AddressSanitizer + UndefinedBehaviorSanitizer. Warnings are errors.
#
#   scripts/test.sh              both runs (what CI does)
#   scripts/test.sh --plain      plain run only
#   scripts/test.sh --sanitize   sanitizer run only
#   scripts/test.sh -- ARGS      extra arguments for ctest (e.g. -R unit/)
#
# The plain run also builds and tests the Python bindings (scripts/test-python.sh)
# and the demo's dashboard (scripts/test-dashboard.sh), unless ctest arguments are given.
#
# Build trees: build/test-plain and build/test-asan. Needs the packages of
# scripts/install-deps.sh (run it first on a fresh machine).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=(plain asan)
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --plain) runs=(plain) ;;
    --sanitize) runs=(asan) ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done

jobs=$(nproc 2>/dev/null || echo 2)
status=0
for run in "${runs[@]}"; do
  dir="build/test-$run"
  flags=(-DIOTKIT_WERROR=ON -DIOTKIT_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Debug)
  [ "$run" = asan ] && flags+=(-DIOTKIT_SANITIZE=ON)
  echo "=== test.sh: $run build in $dir"
  mkdir -p build
  cmake -S . -B "$dir" "${flags[@]}" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
  cmake --build "$dir" -j "$jobs"
  echo "=== test.sh: $run tests"
  if [ "$run" = asan ]; then
    # Criterion runs each test in a child process and does not fail a test whose
    # child reports a leak at exit; so every sanitizer report also goes to a file,
    # and any file at all fails the run.
    reports="$PWD/$dir/sanitizer-reports"
    rm -rf "$reports"; mkdir -p "$reports"
    export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:log_path=$reports/asan"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
  fi
  if ! ctest --test-dir "$dir" --output-on-failure -j "$jobs" "${ctest_args[@]}"; then
    status=1
  fi
  unset ASAN_OPTIONS UBSAN_OPTIONS
  if [ "$run" = plain ] && [ ${#ctest_args[@]} -eq 0 ]; then
    scripts/test-python.sh "$dir" || status=1
    # The demo's dashboard: the browser test (the demo run for real, headless chromium) and its API tests.
    scripts/test-dashboard.sh "$dir" || status=1
  fi
  if [ "$run" = asan ] && [ -n "$(ls -A "$reports")" ]; then
    echo "=== test.sh: sanitizer reports (each one fails the run):"
    for f in "$reports"/*; do echo "--- $f"; cat "$f"; done
    echo "test.sh: $(ls "$reports" | wc -l) sanitizer report(s): 0 passed, 1 failed"
    status=1
  fi
done
exit $status
