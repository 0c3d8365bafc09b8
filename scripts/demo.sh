#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the digits example end to end:
# train -> int8 -> compiled C -> PlatformIO firmware for host and an emulated Cortex-M4F ->
# bit-exact validation against TFLM -> report in examples/digits/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PLATFORMIO_DISABLE_UPGRADE_CHECK=true PLATFORMIO_SETTING_ENABLE_TELEMETRY=no
.venv/bin/tinypipe run examples/digits/tinypipe.toml "$@"
echo "==> open examples/digits/out/report.html (or report.md)"
