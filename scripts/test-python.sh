#!/usr/bin/env bash
# Build and test the Python bindings against a libiotkit build tree:
# a fresh venv (Debian's python3 with --system-site-packages: cffi, setuptools,
# pytest, pytest-asyncio, paho-mqtt come from Debian, no package index needed),
# `pip install --no-build-isolation` of bindings/python, `pip wheel`, then pytest.
#
#   scripts/test-python.sh [BUILD_DIR] [-- PYTEST_ARGS]   (default build/test-plain)
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/test-plain
if [ $# -gt 0 ] && [ "$1" != "--" ]; then build=$1; shift; fi
[ "${1:-}" = "--" ] && shift
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "test-python: $build is not a libiotkit build tree (run scripts/test.sh --plain first)" >&2
  exit 1
fi
build=$(cd "$build" && pwd)
venv="$build/py-venv"
echo "=== test-python: venv in $venv"
rm -rf "$venv" "$build/py-wheel"
"$py" -m venv --system-site-packages "$venv"
export IOTKIT_BUILD_DIR="$build"
"$venv/bin/pip" install --quiet --no-build-isolation --no-index ./bindings/python
"$venv/bin/pip" wheel --quiet --no-build-isolation --no-index --no-deps -w "$build/py-wheel" ./bindings/python
ls "$build"/py-wheel/iotkit-*.whl >/dev/null
echo "=== test-python: pytest"
cd bindings/python/tests
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
