#!/usr/bin/env bash
# CoAP telemetry throughput into iotkit-hub: a minimal raw libcoap client vs a
# libiotkit device (coap://, confirmable, one request in flight each), same hub,
# same private mosquitto, same run; plus the end-to-end rate into MQTT.
# Usage: bench/run_coap.sh [COUNT] [PAYLOAD_BYTES] [ROUNDS]   (defaults 5000 64 3)
# Builds into build/bench (Release). Prints messages/s per round, the medians and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5000} size=${2:-64} rounds=${3:-3}
mkdir -p build
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DIOTKIT_BUILD_TESTS=OFF >build/bench.configure.log 2>&1 ||
  { cat build/bench.configure.log; exit 1; }
cmake --build build/bench -j "$(nproc)" --target bench_raw_coap_post bench_iotkit_pub bench_mqtt_count iotkit_hub \
  >build/bench.build.log 2>&1 || { tail -30 build/bench.build.log; exit 1; }

work=$(mktemp -d)
free_port() { python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.$1); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
mport=$(free_port SOCK_STREAM) cport=$(free_port SOCK_DGRAM)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n' "$mport" >"$work/m.conf"
mosquitto -c "$work/m.conf" >"$work/m.log" 2>&1 &
broker=$!
hub=
trap 'kill $broker $hub 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$mport") 2>/dev/null && break; sleep 0.1; done
build/bench/tools/iotkit-hub/iotkit-hub --coap-listen "127.0.0.1:$cport" --allow-insecure-coap \
  --mqtt-uri "mqtt://127.0.0.1:$mport" --log-level warn >"$work/hub.log" 2>&1 &
hub=$!
sleep 1

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate() { sed -n 's/.* rate=\([0-9]*\).*/\1/p'; }
b=build/bench/bench

echo "CoAP benchmark: $count confirmable messages of $size bytes, $rounds rounds, iotkit-hub on 127.0.0.1:$cport"
raw=() iot=() e2e=()
for r in $(seq "$rounds"); do
  raw+=("$($b/bench_raw_coap_post 127.0.0.1 "$cport" "$count" "$size" | rate)")
  fifo="$work/count.$r"
  mkfifo "$fifo"
  $b/bench_mqtt_count 127.0.0.1 "$mport" iotkit/v1/bench-iotkit/telemetry "$count" >"$fifo" &
  exec 4<"$fifo"
  read -r _ <&4 # subscribed
  iot+=("$($b/bench_iotkit_pub "coap://127.0.0.1:$cport" 1 "$count" "$size" | rate)")
  e2e+=("$(rate <&4)")
  exec 4<&-
done
rm_=$(printf '%s\n' "${raw[@]}" | median) im=$(printf '%s\n' "${iot[@]}" | median) em=$(printf '%s\n' "${e2e[@]}" | median)
printf '%12s %12s %8s %14s\n' raw/s iotkit/s ratio "into MQTT/s"
printf '%12s %12s %8s %14s\n' "$rm_" "$im" "$(awk -v a="$im" -v b="$rm_" 'BEGIN {printf "%.2f", a/b}')" "$em"
echo "rounds: raw ${raw[*]} | iotkit ${iot[*]} | into MQTT ${e2e[*]}"
