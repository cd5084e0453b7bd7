#!/usr/bin/env bash
# The libiotkit demo: install what is missing, build, start a private mosquitto
# on 127.0.0.1 (unless --broker is given), run a simulated sensor device and
# show what an independent subscriber (mosquitto_sub) receives.
#
#   scripts/demo.sh                       private broker on a free loopback port
#   scripts/demo.sh --broker mqtt://HOST:PORT   use your own broker instead
#   scripts/demo.sh --count N --interval-ms MS --id DEVICE
set -euo pipefail
cd "$(dirname "$0")/.."

broker="" count=10 interval=500 id="demo-sensor-1"
while [ $# -gt 0 ]; do
  case "$1" in
    --broker) broker=$2; shift ;;
    --count) count=$2; shift ;;
    --interval-ms) interval=$2; shift ;;
    --id) id=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "demo: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

say "checking dependencies"
scripts/install-deps.sh
say "building (build/demo)"
mkdir -p build
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOTKIT_BUILD_TESTS=OFF >build/demo.configure.log 2>&1 ||
  { cat build/demo.configure.log; exit 1; }
cmake --build build/demo -j "$(nproc 2>/dev/null || echo 2)" >build/demo.build.log 2>&1 ||
  { tail -40 build/demo.build.log; exit 1; }
cli=build/demo/tools/iotkit/iotkit

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -z "$broker" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$work/mosquitto.conf"
  mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  broker="mqtt://127.0.0.1:$port"
  say "private mosquitto listening on 127.0.0.1:$port"
fi

# Split the URI for mosquitto_sub (host and port only; credentials stay with the user).
hostport=${broker#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
host=${hostport%:*}; port=${hostport##*:}; [ "$port" = "$hostport" ] && port=1883

say "subscriber: mosquitto_sub -h $host -p $port -v -t 'iotkit/v1/$id/#'"
mosquitto_sub -h "$host" -p "$port" -v -t "iotkit/v1/$id/#" >"$work/sub.log" 2>&1 &
pids+=($!)
sleep 0.5

say "device: iotkit device simulate --uri $broker --id $id --count $count --interval-ms $interval"
"$cli" device simulate --uri "$broker" --id "$id" --count "$count" --interval-ms "$interval"
sleep 0.5

say "what the subscriber received"
cat "$work/sub.log"
n=$(grep -c "^iotkit/v1/$id/telemetry " "$work/sub.log" || true)
say "$n telemetry messages seen by the subscriber"
