#!/usr/bin/env bash
# The C snippets of the README's "Security" section compile (warnings as errors) against the
# public headers and link against the built library. A snippet that starts with "static" is a
# definition and goes at file scope; any other is put in a function body that has the names the
# snippets use (hal, device_key, json, json_len, provider). The credentials hook must have the
# exact type iotkit_credentials_cb: the harness passes it to iotkit_device_on_credentials().
# Usage: check_readme_security.sh SOURCE_DIR LIBIOTKIT_SO
set -euo pipefail
src=$1 lib=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk -v dir="$work" '
  /^## / { sec = ($0 == "## Security") }
  sec && /^```c$/ { n++; f = sprintf("%s/snippet%d.c", dir, n); c = 1; next }
  c && /^```$/ { c = 0; close(f); next }
  c { print > f }
' "$src/README.md"
count=$(ls "$work"/snippet*.c 2>/dev/null | wc -l)
[ "$count" -ge 3 ] || { echo "FAIL: expected at least 3 C snippets under ## Security, found $count"; exit 1; }
{
  echo '#include <iotkit/iotkit.h>'
  echo '#include <stdint.h>'
  echo '#include <stddef.h>'
  i=0
  for f in $(ls "$work"/snippet*.c | sort -V); do
    i=$((i + 1))
    if grep -q '^static' "$f"; then
      cat "$f"
    else
      echo "void snippet$i(const iotkit_hal_t *hal, const uint8_t *device_key, const char *json, size_t json_len,"
      echo "               iotkit_jwt_provider_t *provider, iotkit_device_t *dev);"
      echo "void snippet$i(const iotkit_hal_t *hal, const uint8_t *device_key, const char *json, size_t json_len,"
      echo "               iotkit_jwt_provider_t *provider, iotkit_device_t *dev) {"
      echo "  (void)hal; (void)device_key; (void)json; (void)json_len; (void)provider; (void)dev;"
      cat "$f"
      echo "}"
    fi
  done
  echo 'int main(void) {'
  echo '  iotkit_credentials_cb cb = credentials; /* the README hook has the real type */'
  echo '  return iotkit_device_on_credentials(NULL, cb, NULL) == IOTKIT_ERR_INVALID_ARG ? 0 : 1;'
  echo '}'
} >"$work/security.c"
cc -std=c11 -Wall -Wextra -Werror -Wno-unused-variable -Wno-unused-but-set-variable -I"$src/include" \
  -o "$work/security" "$work/security.c" -L"$(dirname "$lib")" -liotkit \
  || { echo "FAIL: README Security snippets do not compile; the program was:"; cat -n "$work/security.c"; exit 1; }
echo "ok: $count README Security snippets compile and link"
