#!/usr/bin/env bash
# Fleet ingest: telemetry from DEVICES devices (raw libmosquitto publishers,
# fleet_flood_pub.c, payloads built before the clock starts, QoS 0) into a
# libiotkit fleet (fleet_ingest.c, its own thread, a database file on disk), in
# three configurations: (a) monitoring only, (b) telemetry history on with the
# library's batched writes, (c) history on with one transaction per message;
# in the same run, against the same private mosquitto, a raw libmosquitto
# subscriber (mqtt_count.c) counting the same stream.
# Usage: bench/run_fleet_ingest.sh [COUNT] [DEVICES] [ROUNDS] [PUBLISHERS] [COUNT_C]
#        (defaults 200000 1000 3 2 3000; COUNT_C is the count of mode c, one commit each)
# FLEET_BENCH_WRAP: a command to run the fleet under (e.g. "perf record -g -o /tmp/p.data").
# FLEET_BENCH_MODES: the fleet modes to run (default "a b c").
# Builds into build/bench (Release). Prints messages/s per round, the medians, the ratios
# to the raw subscriber, the goals, and the fleet's peak RSS per 1,000 devices.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-200000} devices=${2:-1000} rounds=${3:-3} pubs=${4:-2} count_c=${5:-3000}
mkdir -p build
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DIOTKIT_BUILD_TESTS=OFF >build/bench.configure.log 2>&1 ||
  { cat build/bench.configure.log; exit 1; }
cmake --build build/bench -j "$(nproc)" --target bench_fleet_flood_pub bench_fleet_ingest bench_mqtt_count \
  >build/bench.build.log 2>&1 || { tail -30 build/bench.build.log; exit 1; }

# The databases live on the build's disk, not in a tmpfs, so that commits cost what they cost.
work=$(mktemp -d "$PWD/build/bench-fleet.XXXXXX")
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
port=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\nmax_queued_bytes 0\n' \
  "$port" >"$work/m.conf"
mosquitto -c "$work/m.conf" >"$work/m.log" 2>&1 &
broker=$!
sub=
trap 'kill $broker $sub 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

b=build/bench/bench
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
base() { echo $(($(date +%s%3N) - 10000000)); }
flood() { $b/bench_fleet_flood_pub 127.0.0.1 "$port" "$devices" "$1" "$pubs" "$2" >>"$work/pub.log"; }

# Raw subscriber: subscribed ("ready"), flood, its rate (first to last arrival).
raw_round() {
  local fifo="$work/raw.fifo"
  rm -f "$fifo"
  mkfifo "$fifo"
  timeout 300 $b/bench_mqtt_count 127.0.0.1 "$port" 'iotkit/v1/+/telemetry' "$count" >"$fifo" &
  sub=$!
  exec 4<"$fifo"
  read -r _ <&4
  flood "$count" "$(base)"
  cat <&4
  exec 4<&-
  wait $sub || true
  sub=
}

# One fleet run in mode $1 over $2 messages: prints its result line.
fleet_round() {
  local mode=$1 n=$2 fifo="$work/fleet.fifo" db="$work/fleet-$1.db" t
  rm -f "$fifo" "$db" "$db-wal" "$db-shm"
  mkfifo "$fifo"
  timeout 600 ${FLEET_BENCH_WRAP:-} $b/bench_fleet_ingest "mqtt://127.0.0.1:$port" "$db" "$mode" "$devices" "$n" >"$fifo" 2>"$work/fleet.err" &
  sub=$!
  exec 4<"$fifo"
  read -r _ <&4 || { cat "$work/fleet.err" >&2; exit 1; } # subscribed
  t=$(base)
  flood 0 "$t"
  read -r _ <&4 || { cat "$work/fleet.err" >&2; exit 1; } # ready: registered
  flood "$n" "$t"
  cat <&4
  exec 4<&-
  wait $sub || {
    echo "fleet mode $mode did not see every message:" >&2
    cat "$work/fleet.err" >&2
    grep -i "dropped" "$work/m.log" | tail -3 >&2 || true # the broker's word, if it dropped them
  }
  sub=
}

echo "Fleet ingest: $count messages (mode c: $count_c) from $devices devices, $pubs publishers, QoS 0, $rounds rounds,"
echo "mosquitto $(mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version //p') on 127.0.0.1:$port, $(nproc) cores"
raw=() rawcpu=() a=() adb=() b_=() bdb=() c=() cdb=() rss=() acpu=() bcpu=() ccpu=()
for r in $(seq "$rounds"); do
  line=$(raw_round); echo "  raw: $line"
  raw+=("$(field rate <<<"$line")") rawcpu+=("$(field cpu_us <<<"$line")")
  for mode in ${FLEET_BENCH_MODES:-a b c}; do
    line=$(fleet_round "$mode" "$([ "$mode" = c ] && echo "$count_c" || echo "$count")") || line=
    echo "  ${line:-fleet mode $mode: no result}"
    [ -n "$line" ] || continue
    case $mode in
      a) a+=("$(field rate <<<"$line")") adb+=("$(field db_rate <<<"$line")") acpu+=("$(field cpu_us <<<"$line")")
         rss+=("$(field rss_kib_per_1000 <<<"$line")") ;;
      b) b_+=("$(field rate <<<"$line")") bdb+=("$(field db_rate <<<"$line")") bcpu+=("$(field cpu_us <<<"$line")")
         rss+=("$(field rss_kib_per_1000 <<<"$line")") ;;
      c) c+=("$(field rate <<<"$line")") cdb+=("$(field db_rate <<<"$line")") ccpu+=("$(field cpu_us <<<"$line")") ;;
    esac
  done
  echo "round $r: raw ${raw[-1]}/s"
done
med() { [ $# -gt 0 ] && printf '%s\n' "$@" | median || echo 0; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
rm_=$(med "${raw[@]}") am=$(med "${a[@]}") adm=$(med "${adb[@]}") bm=$(med "${b_[@]}") bdm=$(med "${bdb[@]}")
cm=$(med "${c[@]}") cdm=$(med "${cdb[@]}") rssm=$( (printf '%s\n' "${rss[@]}"; echo 0) | sort -n | tail -1)
rcm=$(med "${rawcpu[@]}") acm=$(med "${acpu[@]}") bcm=$(med "${bcpu[@]}") ccm=$(med "${ccpu[@]}")
echo
printf '%-44s %12s %12s %8s %12s\n' "medians" "arrived/s" "committed/s" "vs raw" "CPU us/msg"
printf '%-44s %12s %12s %8s %12s\n' "raw libmosquitto subscriber (mqtt_count.c)" "$rm_" "-" "1.00" "$rcm"
printf '%-44s %12s %12s %8s %12s\n' "(a) fleet, monitoring only" "$am" "$adm" "$(ratio "$am" "$rm_")" "$acm"
printf '%-44s %12s %12s %8s %12s\n' "(b) fleet, history, batched transactions" "$bm" "$bdm" "$(ratio "$bm" "$rm_")" "$bcm"
printf '%-44s %12s %12s %8s %12s\n' "(c) fleet, history, one transaction/message" "$cm" "$cdm" "$(ratio "$cm" "$rm_")" "$ccm"
echo "CPU per message, fleet (a) / raw subscriber: $(ratio "$acm" "$rcm") (the machine's load does not change it much)"
printf 'batched vs one transaction per message (committed): %s x\n' "$(ratio "$bdm" "$cdm")"
printf "fleet's peak RSS per 1,000 devices: %s KiB (largest of modes a and b)\n" "$rssm"
goal() { awk -v v="$1" -v g="$2" 'BEGIN {print (v >= g ? "met" : "NOT met")}'; }
echo "goal (a) >= 0.80 of raw: $(ratio "$am" "$rm_") $(goal "$(ratio "$am" "$rm_")" 0.8)"
echo "goal (b) >= 50000 messages/s committed: $bdm $(goal "$bdm" 50000)"
echo "rounds: raw ${raw[*]} | a ${a[*]} | b ${b_[*]} (committed ${bdb[*]}) | c ${c[*]}"
