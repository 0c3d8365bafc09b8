#!/usr/bin/env bash
# Screenshot a report page with headless Chromium (Debian's `chromium`), offline.
#   bash scripts/screenshot.sh runs/out/report.html report.png [WIDTH,HEIGHT]
set -euo pipefail
page=$(realpath "$1")
out=$(realpath -m "$2")
size=${3:-1280,2000}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
    --hide-scrollbars --screenshot="$out" --window-size="$size" "file://$page" >/dev/null 2>&1
test -s "$out"
