#!/usr/bin/env bash
# Lua publish throughput (issue 15, "Performance"): the Lua module (bench/lua/bench_pub.lua,
# a device driven by :poll() from the script) against the C benchmark bench_iotkit_pub
# (the same library, its background loop) at QoS 0 and 1, same private mosquitto, same run.
# Usage: bench/run_lua.sh [COUNT] [PAYLOAD_BYTES] [ROUNDS] [LUA]   (defaults 50000 64 3 lua5.4)
# Builds into build/bench-lua (Release, -DIOTKIT_WITH_LUA=ON, -j2). Prints messages/s per
# round, the medians and the ratio Lua / C (the issue's goal: >= 0.8).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-50000} size=${2:-64} rounds=${3:-3} lua=${4:-lua5.4}
build=build/bench-lua
mkdir -p "$build"
ver=$("$lua" -e 'print((_VERSION:gsub("Lua ", "")))')
jit=$("$lua" -e 'print(jit and "luajit" or "")')
[ -n "$jit" ] && ver=luajit
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DIOTKIT_BUILD_TESTS=OFF -DIOTKIT_WITH_LUA=ON \
  -DIOTKIT_LUA_VERSION="$ver" >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j 2 --target bench_iotkit_pub iotkit_lua >"$build/build.log" 2>&1 ||
  { tail -30 "$build/build.log"; exit 1; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n' "$port" >"$work/m.conf"
mosquitto -c "$work/m.conf" >"$work/m.log" 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate() { sed -n 's/.* rate=\([0-9]*\).*/\1/p'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

echo "Lua publish benchmark ($("$lua" -v 2>&1 | head -1)): $count messages of $size bytes, $rounds rounds, mosquitto on 127.0.0.1:$port"
printf '%-4s %-6s %12s %12s %8s %s\n' qos "" C/s Lua/s ratio goal
for qos in 0 1; do
  c=() l=()
  for _ in $(seq "$rounds"); do
    c+=("$("$build/bench/bench_iotkit_pub" "mqtt://127.0.0.1:$port" "$qos" "$count" "$size" | rate)")
    l+=("$(LUA_CPATH="$build/bindings/lua/lua-$ver/?.so" "$lua" bench/lua/bench_pub.lua "mqtt://127.0.0.1:$port" \
      "$qos" "$count" "$size" | rate)")
  done
  cm=$(printf '%s\n' "${c[@]}" | median) lm=$(printf '%s\n' "${l[@]}" | median)
  r=$(ratio "$lm" "$cm")
  goal=$(awk -v r="$r" 'BEGIN {print (r >= 0.8) ? "met (>= 0.8)" : "NOT met (< 0.8)"}')
  printf '%-4s %-6s %12s %12s %8s %s\n' "$qos" median "$cm" "$lm" "$r" "$goal"
  echo "     rounds: C ${c[*]} | Lua ${l[*]}"
done
