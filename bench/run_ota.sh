#!/usr/bin/env bash
# OTA download benchmark: libiotkit (download + SHA-256 on the fly + write into the POSIX HAL's
# inactive slot + signature check, bench/iotkit_ota.c) vs `curl -o FILE` then
# `openssl dgst -sha256 FILE`, from the same private nginx on 127.0.0.1, same run.
# Usage: bench/run_ota.sh [ROUNDS] [SIZES_MIB...]   (defaults: 3 rounds, 16 and 256 MiB)
# libiotkit runs twice per round: with the library's defaults (16 KiB chunks, a durable
# checkpoint after every chunk, so an interruption refetches at most 16 KiB) and tuned for
# throughput: IOTKIT_OTA_CHUNK (default 65536) bytes per chunk and a checkpoint every
# IOTKIT_OTA_CHECKPOINT chunks (default 64, i.e. every 4 MiB).
# Builds into build/bench (Release). Prints seconds per round, medians, the ratios
# libiotkit / (curl + openssl) and libiotkit's peak RSS (getrusage).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(16 256)
chunk=${IOTKIT_OTA_CHUNK:-65536} checkpoint=${IOTKIT_OTA_CHECKPOINT:-64}
mkdir -p build
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DIOTKIT_BUILD_TESTS=OFF >build/bench.configure.log 2>&1 ||
  { cat build/bench.configure.log; exit 1; }
cmake --build build/bench -j "$(nproc)" --target bench_iotkit_ota >build/bench.build.log 2>&1 ||
  { tail -30 build/bench.build.log; exit 1; }
bin=build/bench/bench/bench_iotkit_ota

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/www"
cat >"$work/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 64; }
http {
  client_body_temp_path $work/t1; proxy_temp_path $work/t2; fastcgi_temp_path $work/t3;
  uwsgi_temp_path $work/t4; scgi_temp_path $work/t5; access_log off; sendfile on;
  server { listen 127.0.0.1:$port; location / { root $work/www; } }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.out" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

echo "OTA download benchmark: nginx on 127.0.0.1:$port, $rounds rounds"
echo "  libiotkit defaults: 16 KiB chunks, durable checkpoint every chunk"
echo "  libiotkit tuned:    $chunk B chunks, durable checkpoint every $checkpoint chunks"
printf '%-8s %14s %12s %7s %12s %7s %14s\n' image curl+openssl/s defaults/s ratio tuned/s ratio iotkit_rss_KiB
for mib in "${sizes[@]}"; do
  head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/www/fw-$mib.bin"
  size=$(stat -c %s "$work/www/fw-$mib.bin")
  sha=$(openssl dgst -sha256 -r "$work/www/fw-$mib.bin" | cut -d' ' -f1)
  url="http://127.0.0.1:$port/fw-$mib.bin"
  pair=() def=() iot=() rss=()
  run_iotkit() { # [CHUNK CHECKPOINT]: appends seconds to the named array's caller via stdout "SECONDS RSS"
    rm -rf "$work/state"
    local line
    line=$("$bin" "$url" "$size" "$sha" "$work/state" "$@")
    echo "$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line") $(sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p' <<<"$line")"
  }
  for _ in $(seq "$rounds"); do
    rm -f "$work/dl.bin"
    t0=$(now)
    curl -sS -o "$work/dl.bin" "$url"
    got=$(openssl dgst -sha256 -r "$work/dl.bin" | cut -d' ' -f1)
    t1=$(now)
    [ "$got" = "$sha" ] || { echo "curl download hash mismatch" >&2; exit 1; }
    pair+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b-a}')")
    rm -f "$work/dl.bin"
    read -r s r < <(run_iotkit)
    def+=("$s") rss+=("$r")
    read -r s r < <(run_iotkit "$chunk" "$checkpoint")
    iot+=("$s") rss+=("$r")
  done
  pm=$(printf '%s\n' "${pair[@]}" | median) dm=$(printf '%s\n' "${def[@]}" | median)
  im=$(printf '%s\n' "${iot[@]}" | median)
  rm_=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
  printf '%-8s %14s %12s %7s %12s %7s %14s\n' "${mib}MiB" "$pm" "$dm" "$(ratio "$dm" "$pm")" "$im" "$(ratio "$im" "$pm")" "$rm_"
  echo "         rounds: curl+openssl ${pair[*]} | defaults ${def[*]} | tuned ${iot[*]} | rss ${rss[*]}"
  rm -f "$work/www/fw-$mib.bin"
done
