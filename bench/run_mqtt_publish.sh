#!/usr/bin/env bash
# MQTT publish throughput: raw libmosquitto vs libiotkit (direct) vs libiotkit with
# the durable telemetry queue (POSIX HAL in a temporary state dir, default fsync
# policy), same private mosquitto, same run.
# Usage: bench/run_mqtt_publish.sh [COUNT] [PAYLOAD_BYTES] [ROUNDS]   (defaults 50000 64 3)
# Builds into build/bench (Release). Prints messages/s per round, the median, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-50000} size=${2:-64} rounds=${3:-3}
mkdir -p build
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DIOTKIT_BUILD_TESTS=OFF >build/bench.configure.log 2>&1 ||
  { cat build/bench.configure.log; exit 1; }
cmake --build build/bench -j "$(nproc)" --target bench_raw_mosquitto_pub bench_iotkit_pub >build/bench.build.log 2>&1 ||
  { tail -30 build/bench.build.log; exit 1; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n' "$port" >"$work/m.conf"
mosquitto -c "$work/m.conf" >"$work/m.log" 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate() { sed -n 's/.* rate=\([0-9]*\).*/\1/p'; }

echo "MQTT publish benchmark: $count messages of $size bytes, $rounds rounds, mosquitto on 127.0.0.1:$port"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
printf '%-8s %-6s %12s %12s %8s %12s %8s\n' qos "" raw/s iotkit/s ratio durable/s ratio
for qos in 0 1; do
  raw=() iot=() dur=()
  for r in $(seq "$rounds"); do
    raw+=("$(build/bench/bench/bench_raw_mosquitto_pub 127.0.0.1 "$port" "$qos" "$count" "$size" | rate)")
    iot+=("$(build/bench/bench/bench_iotkit_pub "mqtt://127.0.0.1:$port" "$qos" "$count" "$size" | rate)")
    rm -rf "$work/state"
    dur+=("$(build/bench/bench/bench_iotkit_pub "mqtt://127.0.0.1:$port" "$qos" "$count" "$size" "$work/state" | rate)")
  done
  rm=$(printf '%s\n' "${raw[@]}" | median) im=$(printf '%s\n' "${iot[@]}" | median)
  dm=$(printf '%s\n' "${dur[@]}" | median)
  printf '%-8s %-6s %12s %12s %8s %12s %8s\n' "$qos" median "$rm" "$im" "$(ratio "$im" "$rm")" "$dm" "$(ratio "$dm" "$rm")"
  echo "         rounds: raw ${raw[*]} | iotkit ${iot[*]} | durable ${dur[*]}"
done
