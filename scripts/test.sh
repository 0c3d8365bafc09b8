#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the test suite against the installed package.
#   bash scripts/test.sh            everything (what CI runs)
#   bash scripts/test.sh --quick    the fast loop: every test module, without the tests marked
#                                   slow (whole-pipeline runs, model training, QEMU model runs)
# Other arguments go to pytest, e.g. bash scripts/test.sh --quick tests/test_export_c.py
set -euo pipefail
cd "$(dirname "$0")/.."
marker=()
if [ "${1:-}" = "--quick" ]; then
    shift
    marker=(-m "not slow")
fi
bash scripts/setup.sh
export PLATFORMIO_DISABLE_UPGRADE_CHECK=true PLATFORMIO_SETTING_ENABLE_TELEMETRY=no
echo "==> lint"
.venv/bin/ruff check tinypipe tests benchmarks
echo "==> tests"
# The console script (not `python -m pytest`) so the installed wheel, not the source tree, is tested.
.venv/bin/pytest -q -rfE -n auto "${marker[@]}" "$@"
