#!/usr/bin/env bash
# The dashboard's front-end build step: install the pinned npm packages
# (package-lock.json) and copy uPlot into the app's static files
# (dashboard/iotkit_dashboard/static/vendor/), which are committed, so that a
# machine without npm serves the same page and nothing is fetched at run time.
#
#   dashboard/web/build.sh          npm ci, then copy
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
out=../iotkit_dashboard/static/vendor
mkdir -p "$out"
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css "$out/"
cp node_modules/uplot/LICENSE "$out/uPlot.LICENSE"
echo "build.sh: uPlot $(node -p 'require("./node_modules/uplot/package.json").version') -> $out"
