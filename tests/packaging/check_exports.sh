#!/usr/bin/env bash
# Every symbol libiotkit.so exports must be public API: iotkit_*.
# Usage: check_exports.sh PATH/TO/libiotkit.so
set -euo pipefail
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//')
[ -n "$syms" ] || { echo "FAIL: no exported symbols in $lib"; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^iotkit_' || true)
if [ -n "$bad" ]; then
  echo "FAIL: non-API symbols exported from $lib:"; printf '  %s\n' $bad; exit 1
fi
internal=$(printf '%s\n' "$syms" | grep '^iotkit__' || true)
[ -z "$internal" ] || { echo "FAIL: internal iotkit__ symbols exported:"; printf '  %s\n' $internal; exit 1; }
echo "ok: $(printf '%s\n' "$syms" | wc -l) exported symbols, all iotkit_*"
