#!/usr/bin/env bash
# HTTP telemetry throughput into iotkit-hub: a minimal raw libcurl keep-alive loop
# vs a libiotkit device (http://, bearer token, one request in flight each), same
# hub, same private mosquitto, same run; plus the end-to-end rate into MQTT.
# Usage: bench/run_http.sh [COUNT] [PAYLOAD_BYTES] [ROUNDS]   (defaults 5000 64 3)
# Builds into build/bench (Release). Prints requests/s per round, the medians and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5000} size=${2:-64} rounds=${3:-3}
mkdir -p build
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DIOTKIT_BUILD_TESTS=OFF >build/bench.configure.log 2>&1 ||
  { cat build/bench.configure.log; exit 1; }
cmake --build build/bench -j "$(nproc)" --target bench_raw_curl_post bench_iotkit_pub bench_mqtt_count iotkit_hub \
  >build/bench.build.log 2>&1 || { tail -30 build/bench.build.log; exit 1; }

work=$(mktemp -d)
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
mport=$(free_port) hport=$(free_port)
raw_token=72617700 iot_token=696f746b6974
printf 'bench-raw %s\nbench-iotkit %s\n' "$raw_token" "$iot_token" >"$work/keys"
chmod 600 "$work/keys"
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n' "$mport" >"$work/m.conf"
mosquitto -c "$work/m.conf" >"$work/m.log" 2>&1 &
broker=$!
hub=
trap 'kill $broker $hub 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$mport") 2>/dev/null && break; sleep 0.1; done
build/bench/tools/iotkit-hub/iotkit-hub --http-listen "127.0.0.1:$hport" --allow-insecure-http \
  --psk-file "$work/keys" --mqtt-uri "mqtt://127.0.0.1:$mport" --log-level warn >"$work/hub.log" 2>&1 &
hub=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$hport") 2>/dev/null && break; sleep 0.1; done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate() { sed -n 's/.* rate=\([0-9]*\).*/\1/p'; }
b=build/bench/bench

echo "HTTP benchmark: $count telemetry requests of $size bytes, $rounds rounds, iotkit-hub on 127.0.0.1:$hport"
raw=() iot=() e2e=()
for r in $(seq "$rounds"); do
  raw+=("$($b/bench_raw_curl_post "http://127.0.0.1:$hport/iotkit/v1/bench-raw/telemetry" "$raw_token" "$count" "$size" | rate)")
  fifo="$work/count.$r"
  mkfifo "$fifo"
  $b/bench_mqtt_count 127.0.0.1 "$mport" iotkit/v1/bench-iotkit/telemetry "$count" >"$fifo" &
  exec 4<"$fifo"
  read -r _ <&4 # subscribed
  iot+=("$($b/bench_iotkit_pub "http://:$iot_token@127.0.0.1:$hport" 1 "$count" "$size" | rate)")
  e2e+=("$(rate <&4)")
  exec 4<&-
done
rm_=$(printf '%s\n' "${raw[@]}" | median) im=$(printf '%s\n' "${iot[@]}" | median) em=$(printf '%s\n' "${e2e[@]}" | median)
printf '%12s %12s %8s %14s\n' raw/s iotkit/s ratio "into MQTT/s"
printf '%12s %12s %8s %14s\n' "$rm_" "$im" "$(awk -v a="$im" -v b="$rm_" 'BEGIN {printf "%.2f", a/b}')" "$em"
echo "rounds: raw ${raw[*]} | iotkit ${iot[*]} | into MQTT ${e2e[*]}"
