#!/usr/bin/env bash
# Test the demo's web dashboard (dashboard/) against a libiotkit build tree:
# the browser test (scripts/demo.sh run for real, driven in Debian's headless
# chromium with playwright-core from dashboard/web's package-lock.json; no
# browser download), then the API's pytest suite (FastAPI's test client).
# Screenshots and logs: BUILD_DIR/dashboard-e2e/.
#
#   scripts/test-dashboard.sh [BUILD_DIR]      (default build/test-plain)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/test-plain}
[ -f "$build/CMakeCache.txt" ] || { echo "test-dashboard: $build is not a libiotkit build tree" >&2; exit 1; }
build=$(cd "$build" && pwd)
[ -x /usr/bin/chromium ] || { echo "test-dashboard: /usr/bin/chromium missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
if [ ! -d dashboard/web/node_modules/playwright-core ] ||
   [ dashboard/web/package-lock.json -nt dashboard/web/node_modules/.package-lock.json ]; then
  echo "=== test-dashboard: npm ci (dashboard/web)"
  (cd dashboard/web && npm ci --no-audit --no-fund --loglevel=error)
fi
status=0
echo "=== test-dashboard: browser test"
node dashboard/tests/browser.test.mjs "$build" "$build/dashboard-e2e" || status=1
echo "=== test-dashboard: API tests"
(cd dashboard && IOTKIT_BUILD_DIR="$build" "$build/demo-venv/bin/python" -m pytest -q -p no:cacheprovider tests) || status=1
exit $status
