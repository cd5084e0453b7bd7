#!/usr/bin/env bash
# The C example in the README compiles (warnings as errors) and links against the built library.
# Usage: check_readme_example.sh SOURCE_DIR LIBIOTKIT_SO
set -euo pipefail
src=$1 lib=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk '/^## Twenty lines of C/ {s=1} s && /^```c$/ {c=1; next} c && /^```$/ {exit} c {print}' \
  "$src/README.md" >"$work/example.c"
lines=$(grep -c . "$work/example.c" || true)
[ "$lines" -gt 10 ] || { echo "FAIL: no C example found in README.md"; exit 1; }
cc -std=c11 -Wall -Wextra -Werror -I"$src/include" -o "$work/example" "$work/example.c" \
  -L"$(dirname "$lib")" -liotkit
echo "ok: README example ($lines lines) compiles and links"
