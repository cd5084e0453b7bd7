#!/usr/bin/env bash
# Edge analytics benchmark (issue 14, "Performance"): points per second on one core
# through deadband + sliding window (mean, std) + EWMA z-score + one rule, the
# allocations made per point, and in the same run the same windows in pandas
# (Debian's python3-pandas: rolling mean and std, ewm). Goals: >= 10 million points/s,
# 0 allocations per point, >= 5x pandas.
# Usage: bench/run_edge.sh [POINTS] [ROUNDS]   (default 10000000 points, 3 rounds)
# Builds into build/bench-edge (Release, -j2). Needs python3-pandas (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
points=${1:-10000000} rounds=${2:-3}
build=build/bench-edge
py=/usr/bin/python3
"$py" -c 'import pandas' 2>/dev/null || { echo "run_edge: $py lacks pandas (run scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DIOTKIT_BUILD_TESTS=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j 2 --target bench_edge >"$build/build.log" 2>&1 || { tail -30 "$build/build.log"; exit 1; }
data="$build/edge_points.f64"
best=0 allocs=0
for _ in $(seq "$rounds"); do
  out=$(taskset -c 0 "$build/bench/bench_edge" "$points" "$data" 2>&1 || "$build/bench/bench_edge" "$points" "$data")
  echo "$out" | grep -v '^EDGE_'
  pps=$(echo "$out" | awk '/^EDGE_PPS/ {print $2}')
  allocs=$(echo "$out" | awk '/^EDGE_ALLOCS/ {print $2}')
  [ "${pps%.*}" -gt "${best%.*}" ] && best=$pps
done
pout=$(taskset -c 0 "$py" bench/edge_pandas.py "$data" "$rounds" 2>&1 || "$py" bench/edge_pandas.py "$data" "$rounds")
echo "$pout" | grep -v '^PANDAS_'
ppps=$(echo "$pout" | awk '/^PANDAS_PPS/ {print $2}')
rm -f "$data"
awk -v c="$best" -v p="$ppps" -v a="$allocs" -v n="$points" 'BEGIN {
  printf "best libiotkit: %.2f million points/s (goal >= 10): %s\n", c / 1e6, (c >= 1e7 ? "met" : "NOT met")
  printf "allocations per point: %.6f (goal 0): %s\n", a / n, (a == 0 ? "met" : "NOT met")
  printf "libiotkit / pandas: %.1fx (goal >= 5x): %s\n", c / p, (c >= 5 * p ? "met" : "NOT met")
}'
