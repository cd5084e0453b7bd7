#!/usr/bin/env bash
# Install the built tree into a temporary prefix, then build and run a consumer
# against it twice: with pkg-config and with CMake find_package(iotkit).
# Usage: check_install.sh SOURCE_DIR BINARY_DIR
set -euo pipefail
src=$1 bin=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$bin" --prefix "$prefix" >"$work/install.log"
libdir=$(find "$prefix" -name 'libiotkit.so.0' -printf '%h\n' | head -1)
[ -n "$libdir" ] || { echo "FAIL: libiotkit.so.0 not installed"; cat "$work/install.log"; exit 1; }
for f in include/iotkit/iotkit.h include/iotkit/error.h; do
  [ -f "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
soname=$(objdump -p "$libdir/libiotkit.so" | awk '/SONAME/ {print $2}')
[ "$soname" = libiotkit.so.0 ] || { echo "FAIL: SONAME is '$soname', want libiotkit.so.0"; exit 1; }
[ -f "$libdir/pkgconfig/iotkit.pc" ] || { echo "FAIL: iotkit.pc not installed"; exit 1; }
grep -q '^Requires.private: .*libcjson' "$libdir/pkgconfig/iotkit.pc" ||
  { echo "FAIL: iotkit.pc lacks Requires.private"; cat "$libdir/pkgconfig/iotkit.pc"; exit 1; }
[ -f "$libdir/cmake/iotkit/iotkitConfig.cmake" ] || { echo "FAIL: CMake package not installed"; exit 1; }
if [ -n "$(find "$prefix" -name iotkit -type f -perm -u+x -path '*/bin/*')" ]; then
  echo "ok: iotkit CLI installed"
fi

# 1. pkg-config
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror -o "$work/consumer-pc" "$src/tests/packaging/consumer/main.c" \
  $(pkg-config --cflags --libs iotkit)
LD_LIBRARY_PATH="$libdir" "$work/consumer-pc"
echo "ok: pkg-config consumer"

# 2. CMake find_package
cmake -S "$src/tests/packaging/consumer" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" >"$work/cm.log" 2>&1 ||
  { cat "$work/cm.log"; exit 1; }
cmake --build "$work/cm" >"$work/cmb.log" 2>&1 || { cat "$work/cmb.log"; exit 1; }
"$work/cm/consumer"   # RPATH from the imported target points at the prefix
echo "ok: find_package consumer"
