#!/usr/bin/env bash
# Run one Lua test script against a private mosquitto on 127.0.0.1 on a free port.
#   run_with_broker.sh LUA MODULE_DIR SCRIPT [ARGS...]
# The script finds the broker in IOTKIT_TEST_PORT / IOTKIT_TEST_URI, a scratch
# directory in IOTKIT_TEST_DIR, and the module through LUA_CPATH (MODULE_DIR) and
# the test helpers through LUA_PATH (this directory). IOTKIT_TEST_WRAP, if set,
# is a command line put before LUA (e.g. valgrind and its options). The broker's config is
# written here; it is stopped when the script ends, whatever happens.
set -euo pipefail
lua=$1 moddir=$2 script=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/iotkit-lua-XXXXXX")
broker=
cleanup() {
  [ -n "$broker" ] && kill "$broker" 2>/dev/null && wait "$broker" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
for attempt in 1 2 3 4 5; do
  port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n' "$port" \
    >"$work/mosquitto.conf"
  "$mosq" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
  broker=$!
  up=0
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
    kill -0 "$broker" 2>/dev/null || break
    sleep 0.05
  done
  [ $up = 1 ] && break
  kill "$broker" 2>/dev/null || true
  wait "$broker" 2>/dev/null || true
  broker=
done
[ -n "$broker" ] || { echo "run_with_broker: mosquitto did not start" >&2; cat "$work/mosquitto.log" >&2; exit 1; }
export IOTKIT_TEST_PORT=$port IOTKIT_TEST_URI="mqtt://127.0.0.1:$port" IOTKIT_TEST_DIR="$work"
export LUA_CPATH="$moddir/?.so;;" LUA_PATH="$here/?.lua;;"
set +e
# shellcheck disable=SC2086
${IOTKIT_TEST_WRAP:-} "$lua" "$script" "$@"
rc=$?
set -e
exit $rc
