#!/usr/bin/env bash
# `luarocks make` of bindings/lua/iotkit-scm-1.rockspec into a temporary tree, offline
# (--only-server points at nothing, so any download would fail), then a smoke run
# of the installed module.
#   luarocks_make.sh SOURCE_DIR BUILD_DIR LUA_VERSION LUA
set -euo pipefail
src=$1 build=$2 ver=$3 lua=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/iotkit-rock-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cp "$src/bindings/lua/iotkit-scm-1.rockspec" "$work/"
cp "$src"/bindings/lua/src/*.c "$src"/bindings/lua/src/*.h "$work/src/"
cd "$work"
luarocks --lua-version "$ver" --tree "$work/tree" --only-server "file://$work/no-server" make iotkit-scm-1.rockspec \
  IOTKIT_INCDIR="$src/include" IOTKIT_LIBDIR="$build" >"$work/luarocks.log" 2>&1 ||
  { cat "$work/luarocks.log"; exit 1; }
so="$work/tree/lib/lua/$ver/iotkit.so"
[ -f "$so" ] || { echo "luarocks_make: $so not installed"; cat "$work/luarocks.log"; exit 1; }
LUA_CPATH="$work/tree/lib/lua/$ver/?.so" "$lua" -e '
  local iotkit = require "iotkit"
  assert(type(iotkit.version) == "string", "version")
  local d = assert(iotkit.device{id = "rock-1", uri = "mqtt://127.0.0.1:1"})
  assert(d:report{installed = true})
  d:close()
  print("luarocks_make: installed " .. iotkit.version .. " for " .. iotkit.lua_version)'
