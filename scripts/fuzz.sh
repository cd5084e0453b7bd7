#!/usr/bin/env bash
# Build the libFuzzer targets of tests/fuzz (clang, -fsanitize=fuzzer,address,undefined)
# and run them. Any crash, leak, sanitizer report or timeout fails the run; the input
# that caused it is left in <build>/fuzz-out/artifacts/ (copy it into the target's
# corpus and add a unit test: see README, "Fuzzing").
#
#   scripts/fuzz.sh --smoke          every target ~20 s (CI; 2 at a time on 2 cores)
#   scripts/fuzz.sh --minutes N      a campaign: every target N minutes
#   scripts/fuzz.sh --seconds N      every target N seconds
#   scripts/fuzz.sh [...] TARGET...  only these (names as in tests/fuzz: fuzz_jwt ...)
#   scripts/fuzz.sh --list           the targets
# Options: --build DIR (default build/fuzz), --jobs N (targets run at once; default:
# --smoke nproc, else 1), --no-build (use the tree as it is).
#
# Each target's working corpus is <build>/fuzz-out/corpus/<target> (new inputs go there;
# the committed seeds in tests/fuzz/corpus/<target> are read, never written). The summary
# gives per target: executions, executions per second, coverage (cov: edges, ft: features),
# corpus size and peak RSS. Run it niced on a shared machine: nice -n 10 scripts/fuzz.sh ...
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

secs=""
build=build/fuzz
jobs=""
do_build=1
list=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) secs=20 ;;
    --minutes) secs=$(( $2 * 60 )); shift ;;
    --seconds) secs=$2; shift ;;
    --build) build=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --no-build) do_build=0 ;;
    --list) list=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
    *) targets+=("$1") ;;
  esac
  shift
done

all=(fuzz_telemetry_decode fuzz_ota_manifest fuzz_jwt fuzz_base64 fuzz_envelope fuzz_uri fuzz_protocol
     fuzz_device_channels fuzz_queue_store fuzz_boot_record fuzz_fleet_ingest fuzz_hub_coap fuzz_hub_http
     fuzz_hub_files)
if [ $list = 1 ]; then printf '%s\n' "${all[@]}"; exit 0; fi
[ -n "$secs" ] || { echo "fuzz.sh: say how long: --smoke, --minutes N or --seconds N (see --help)" >&2; exit 1; }
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
if [ -z "$jobs" ]; then
  if [ "$secs" -le 30 ]; then jobs=$(nproc 2>/dev/null || echo 2); else jobs=1; fi
fi

dict_of() {
  case "$1" in
    fuzz_telemetry_decode|fuzz_ota_manifest|fuzz_protocol|fuzz_device_channels|fuzz_fleet_ingest|fuzz_queue_store)
      echo "$src/tests/fuzz/dict/json.dict" ;;
    fuzz_jwt) echo "$src/tests/fuzz/dict/jwt.dict" ;;
    fuzz_uri) echo "$src/tests/fuzz/dict/uri.dict" ;;
    fuzz_hub_http) echo "$src/tests/fuzz/dict/http.dict" ;;
    fuzz_hub_coap) echo "$src/tests/fuzz/dict/coap.dict" ;;
    fuzz_hub_files) echo "$src/tests/fuzz/dict/hub_files.dict" ;;
    *) echo "" ;;
  esac
}

if [ $do_build = 1 ]; then
  cc=${FUZZ_CC:-clang}
  if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz.sh: $cc not found: libFuzzer needs clang (Debian: apt-get install clang libclang-rt-14-dev," >&2
    echo "fuzz.sh: which scripts/install-deps.sh installs)" >&2
    exit 2
  fi
  mkdir -p "$(dirname "$build")"
  echo "=== fuzz.sh: building the fuzz targets in $build ($cc)"
  CC=$cc cmake -S . -B "$build" -DIOTKIT_FUZZ=ON -DIOTKIT_WERROR=ON -DIOTKIT_BUILD_TESTS=OFF \
    -DIOTKIT_BUILD_EXAMPLES=OFF -DIOTKIT_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
  cmake --build "$build" --target iotkit_fuzz -j "$(nproc 2>/dev/null || echo 2)"
fi

out=$build/fuzz-out
mkdir -p "$out/corpus" "$out/artifacts" "$out/logs"
# LeakSanitizer on (libFuzzer reports a leak as a failure); UBSan stops at the first report.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

run_one() {
  local t=$1 bin=$build/tests/fuzz/$1
  [ -x "$bin" ] || { echo "fuzz.sh: $t was not built (see $build.configure.log)" >"$out/logs/$t.log"; return 1; }
  mkdir -p "$out/corpus/$t"
  local dict args=()
  dict=$(dict_of "$t")
  [ -n "$dict" ] && args+=("-dict=$dict")
  # -timeout: one input taking over 10 s is a finding; -rss_limit_mb bounds a runaway allocation.
  "$bin" "${args[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
    "$out/corpus/$t" "$src/tests/fuzz/corpus/$t" >"$out/logs/$t.log" 2>&1
}

start=$(date +%s)
echo "=== fuzz.sh: ${#targets[@]} target(s), $secs s each, $jobs at a time; logs in $out/logs"
declare -A pid_of
failed=()
running=0
for t in "${targets[@]}"; do
  while [ "$running" -ge "$jobs" ]; do
    wait -n || true
    running=$(jobs -rp | wc -l)
  done
  run_one "$t" &
  pid_of[$t]=$!
  running=$(jobs -rp | wc -l)
done
for t in "${targets[@]}"; do
  if ! wait "${pid_of[$t]}"; then failed+=("$t"); fi
done

printf '%-24s %12s %9s %7s %7s %7s %6s  %s\n' target execs execs/s cov ft corpus rss_mb result
for t in "${targets[@]}"; do
  log=$out/logs/$t.log
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  res=ok
  for f in "${failed[@]}"; do [ "$f" = "$t" ] && res="FAILED (see $log)"; done
  printf '%-24s %12s %9s %7s %7s %7s %6s  %s\n' "$t" "$(stat number_of_executed_units)" \
    "$(stat average_exec_per_sec)" "${cov:--}" "${ft:--}" "${corp:--}" "$(stat peak_rss_mb)" "$res"
done
echo "fuzz.sh: finished in $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo "=== fuzz.sh: $t failed; the end of its log:"
    tail -40 "$out/logs/$t.log"
  done
  ls -l "$out/artifacts" || true
  exit 1
fi
