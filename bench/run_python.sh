#!/usr/bin/env bash
# Python MQTT benchmark (issue 13, "Performance"): publish throughput of iotkit.Device and
# iotkit.aio.Device against paho-mqtt and awscrt at QoS 0 and 1, the receive rate of an
# iotkit.Device subscriber against a paho subscriber, and the telemetry receive rate of
# iotkit.Fleet and iotkit.aio.Fleet against a paho subscriber counting the same stream (the
# telemetry of FLEET_DEVICES devices, --fleet-devices), same private mosquitto, same run.
# Usage: bench/run_python.sh [COUNT0] [COUNT1] [PAYLOAD_BYTES] [ROUNDS] [DRIVER_OPTIONS...]
#   COUNT0: messages per QoS 0 run and per receive run (default 50000); COUNT1: per QoS 1 run
#   (default 20000); PAYLOAD_BYTES (default 64); ROUNDS (default 3). Further options go to
#   bench/python/bench_driver.py, e.g. --only iotkit-bg,paho,awscrt, --skip-recv (every receive
#   row), --fleet-only (only the Fleet rows), --fleet-devices 100.
# Builds libiotkit and the C bench programs into build/bench-py (Release, -j2), installs the
# bindings into the venv build/bench-py/py-venv (Debian's python3 with --system-site-packages,
# pip --no-build-isolation --no-index, as scripts/test-python.sh), starts mosquitto on
# 127.0.0.1 on a free port, prints medians, ratios and whether the issue's goals are met.
# Needs what scripts/install-deps.sh installs (python3-paho-mqtt, python3-awscrt, mosquitto).
set -euo pipefail
cd "$(dirname "$0")/.."
count0=${1:-50000} count1=${2:-20000} size=${3:-64} rounds=${4:-3}
shift $(($# < 4 ? $# : 4))
build=build/bench-py
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
mkdir -p "$build"
"$py" -c 'import paho.mqtt, awscrt.mqtt, cffi' 2>/dev/null ||
  { echo "run_python: $py lacks paho-mqtt, awscrt or cffi (run scripts/install-deps.sh)" >&2; exit 1; }

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DIOTKIT_BUILD_TESTS=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
targets="iotkit bench_raw_mosquitto_pub bench_iotkit_pub"
# bench_mqtt_count is declared only when CoAP is built too; otherwise compile it here
have_count=0
cmake --build "$build" --target help 2>/dev/null | grep -q bench_mqtt_count && { have_count=1; targets="$targets bench_mqtt_count"; }
# shellcheck disable=SC2086
cmake --build "$build" -j 2 --target $targets >"$build/build.log" 2>&1 || { tail -30 "$build/build.log"; exit 1; }
if [ $have_count = 0 ]; then
  mkdir -p "$build/bench"
  # shellcheck disable=SC2046
  cc -O2 -o "$build/bench/bench_mqtt_count" bench/mqtt_count.c $(pkg-config --cflags --libs libmosquitto)
fi

# The bindings, built from a copy (a stale bindings/python/build of another build tree is never reused)
venv="$build/py-venv"
[ -x "$venv/bin/python" ] || "$py" -m venv --system-site-packages "$venv"
rm -rf "$build/py-src"
mkdir -p "$build/py-src"
(cd bindings/python && tar --exclude=./build --exclude='*.egg-info' --exclude=__pycache__ -cf - .) |
  (cd "$build/py-src" && tar -xf -)
IOTKIT_BUILD_DIR="$PWD/$build" "$venv/bin/pip" install --quiet --no-build-isolation --no-index --force-reinstall \
  --no-deps "./$build/py-src" >"$build/pip.log" 2>&1 || { tail -30 "$build/pip.log"; exit 1; }

work=$(mktemp -d)
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n' "$port" >"$work/m.conf"
mosquitto -c "$work/m.conf" >"$work/m.log" 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

"$venv/bin/python" bench/python/bench_driver.py --port "$port" --cbin "$build/bench" --count0 "$count0" \
  --count1 "$count1" --recv-count "$count0" --size "$size" --rounds "$rounds" --workdir "$work" "$@"
