#!/usr/bin/env bash
# The libiotkit demo: the whole system in one command. Installs what is missing
# (scripts/install-deps.sh), builds (build/demo), then starts on 127.0.0.1:
#   a private mosquitto on a free port (unless --broker is given),
#   iotkit-hub (CoAP/DTLS-PSK and HTTP fronts, bridged to the broker),
#   six simulated devices (`iotkit device simulate`): four over MQTT, one over
#   coaps:// and one over http:// through the hub; two run edge rules
#   (dashboard/demo/edge.json), all report positions a few hundred metres apart
#   and accept signed OTA updates,
#   the fleet service and web dashboard (dashboard/, on iotkit.Fleet),
# prints the dashboard's address and how long it took, and runs until Ctrl-C
# (or SIGTERM), which stops every process it started.
#
#   scripts/demo.sh                             everything private, on loopback
#   scripts/demo.sh --broker mqtt://HOST:PORT   use your own broker instead
#   scripts/demo.sh --port N                    dashboard port (default: a free one)
#   scripts/demo.sh --work DIR                  keep logs, keys and state in DIR (kept at exit)
#   scripts/demo.sh --interval-ms MS            time between readings (default 1000)
#   scripts/demo.sh --build-dir DIR             use the binaries of an existing build tree
#                                               (e.g. build/test-plain) instead of building build/demo
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s.%N)

broker="" dash_port="" work="" interval=1000 build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --broker) broker=$2; shift ;;
    --port) dash_port=$2; shift ;;
    --work) work=$2; shift ;;
    --interval-ms) interval=$2; shift ;;
    --build-dir) build=$2; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "demo: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done

say() { printf '\033[1m== %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_tcp() { # port [tries]: until something accepts on 127.0.0.1:port
  for _ in $(seq "${2:-100}"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

say "checking dependencies"
scripts/install-deps.sh
if [ -z "$build" ]; then
  build=build/demo
  say "building ($build)"
  mkdir -p build
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOTKIT_BUILD_TESTS=OFF >build/demo.configure.log 2>&1 ||
    { cat build/demo.configure.log; exit 1; }
  cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >build/demo.build.log 2>&1 ||
    { tail -40 build/demo.build.log; exit 1; }
fi
build=$(cd "$build" && pwd)
cli=$build/tools/iotkit/iotkit
hubd=$build/tools/iotkit-hub/iotkit-hub
[ -x "$cli" ] && [ -x "$hubd" ] || { echo "demo: $build has no iotkit and iotkit-hub (not a libiotkit build tree?)" >&2; exit 1; }

# The Python binding in a venv of its own (Debian's python3 with its packages:
# cffi, FastAPI, uvicorn), reinstalled when the library or the binding changed.
venv=$build/demo-venv
stamp=$venv/.iotkit-stamp
want=$(stat -c %Y "$build"/libiotkit.so* bindings/python/src/iotkit/*.py bindings/python/src/iotkit/_cdef/* 2>/dev/null | sort -n | tail -1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing the Python binding into $venv"
  rm -rf "$venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  IOTKIT_BUILD_DIR=$build "$venv/bin/pip" install --quiet --no-build-isolation --no-index ./bindings/python \
    >"$build/demo.pip.log" 2>&1 || { tail -40 "$build/demo.pip.log"; exit 1; }
  echo "$want" >"$stamp"
fi

keep_work=1
if [ -z "$work" ]; then work=$(mktemp -d); keep_work=0; fi
mkdir -p "$work/logs" "$work/pids" "$work/state" "$work/files"
work=$(cd "$work" && pwd)
pids=()
stopping=0
cleanup() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap '' INT TERM
  # Devices first (they disconnect cleanly, saying offline), then the hub, the dashboard and the broker.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  [ "$keep_work" = 1 ] || rm -rf "$work"
  echo "demo: stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start() { # name command...: run in the background, log and pid in $work
  local name=$1; shift
  "$@" >"$work/logs/$name.log" 2>&1 &
  pids+=($!)
  echo $! >"$work/pids/$name.pid"
}

if [ -z "$broker" ]; then
  port=$(free_port)
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$work/mosquitto.conf"
  start mosquitto mosquitto -c "$work/mosquitto.conf"
  wait_tcp "$port" || { cat "$work/logs/mosquitto.log"; exit 1; }
  broker="mqtt://127.0.0.1:$port"
  say "private mosquitto on 127.0.0.1:$port"
fi

# Keys: one pre-shared key per hub device. coaps://: the DTLS-PSK key is the text
# $coap_key (the file holds its bytes in hex); http://: the bearer token is the hex text.
coap_key=$(openssl rand -hex 12) http_key=$(openssl rand -hex 16)
printf 'field-1 %s\ngate-1 %s\n' "$(printf '%s' "$coap_key" | od -An -tx1 | tr -d ' \n')" "$http_key" >"$work/psk.txt"
chmod 600 "$work/psk.txt"
coaps_port=$(free_port) http_port=$(free_port)
start hub "$hubd" --coaps-listen "127.0.0.1:$coaps_port" --http-listen "127.0.0.1:$http_port" --allow-insecure-http \
  --psk-file "$work/psk.txt" --mqtt-uri "$broker"
wait_tcp "$http_port" || { cat "$work/logs/hub.log"; exit 1; }
say "iotkit-hub: coaps://127.0.0.1:$coaps_port, http://127.0.0.1:$http_port -> $broker"

# OTA: the demo's signing key; devices trust its public key.
"$cli" keygen --type ed25519 --out "$work/ota-key.pem" --pub "$work/ota-pub.pem" >/dev/null

# The devices: id transport uri extra-args, positions around one point (a farm).
devices=(
  "greenhouse-1 mqtt $broker 52.5200,13.4050 edge"
  "greenhouse-2 mqtt $broker 52.5215,13.4070 edge"
  "barn-1 mqtt $broker 52.5190,13.4020 -"
  "tractor-1 mqtt $broker 52.5225,13.4010 -"
  "field-1 coaps coaps://field-1:$coap_key@127.0.0.1:$coaps_port 52.5180,13.4085 -"
  "gate-1 http http://127.0.0.1:$http_port 52.5235,13.4095 -"
)
json="["
for d in "${devices[@]}"; do
  read -r id transport uri loc edge <<<"$d"
  args=(device simulate --uri "$uri" --id "$id" --interval-ms "$interval" --reconnect
        --state-dir "$work/state/$id" --trust-key "$work/ota-pub.pem" --location "$loc")
  [ "$transport" = http ] && args+=(--password "$http_key")
  # A device that dies: the broker says so (its last will) about 7 s later.
  [ "$transport" = mqtt ] && args+=(--keepalive 5)
  [ "$edge" = edge ] && args+=(--edge dashboard/demo/edge.json)
  start "$id" "$cli" "${args[@]}"
  tags="\"$transport\""; [ "$edge" = edge ] && tags="$tags,\"edge\""
  json="$json{\"id\":\"$id\",\"transport\":\"$transport\",\"edge\":$([ "$edge" = edge ] && echo true || echo false),\"tags\":[$tags]},"
done
echo "${json%,}]" >"$work/devices.json"
say "${#devices[@]} devices: $(for d in "${devices[@]}"; do set -- $d; printf '%s (%s) ' "$1" "$2"; done)"

dash_port=${dash_port:-$(free_port)}
start dashboard env PYTHONPATH="$PWD/dashboard" "$venv/bin/python" -m iotkit_dashboard --broker "$broker" \
  --devices "$work/devices.json" --db "$work/fleet.db" --port "$dash_port" --files "$work/files"
url="http://127.0.0.1:$dash_port/"
wait_tcp "$dash_port" 300 || { cat "$work/logs/dashboard.log"; exit 1; }

# Populated: every device online with telemetry, as the dashboard's API says.
populated=0
for _ in $(seq 300); do
  if "$venv/bin/python" - "$url" "${#devices[@]}" <<'EOF'
import json, sys, urllib.request
devs = json.load(urllib.request.urlopen(sys.argv[1] + "api/devices", timeout=2))
sys.exit(0 if len([d for d in devs if d["online"] and d["latest"]]) >= int(sys.argv[2]) else 1)
EOF
  then populated=1; break; fi
  sleep 0.2
done
t1=$(date +%s.%N)
[ "$populated" = 1 ] || echo "demo: not every device was online with telemetry within 60 s (logs: $work/logs)" >&2
say "dashboard: $url"
printf 'demo: ready in %.1f s (from the command to a populated dashboard)\n' "$(python3 -c "print($t1 - $t0)")"
echo "demo: logs in $work/logs; Ctrl-C stops everything"
# Runs until a signal, or until the dashboard stops.
wait "$(cat "$work/pids/dashboard.pid")" || true
