#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the whole test suite against the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PLATFORMIO_DISABLE_UPGRADE_CHECK=true PLATFORMIO_SETTING_ENABLE_TELEMETRY=no
echo "==> lint"
.venv/bin/ruff check tinypipe tests benchmarks
echo "==> tests"
# The console script (not `python -m pytest`) so the installed wheel, not the source tree, is tested.
.venv/bin/pytest -q -rfE -n auto "$@"
