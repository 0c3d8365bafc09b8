#!/usr/bin/env bash
# A plain `pip install .` (no extras, so no TensorFlow) into a fresh venv must inspect and export
# a .tflite made elsewhere (the float sine model shipped in the tflite-micro wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q .
if "$tmp/venv/bin/python" -c "import tensorflow" 2>/dev/null; then
    echo "base install pulled in TensorFlow" >&2
    exit 1
fi
model=$("$tmp/venv/bin/python" -c "import tflite_micro, pathlib; print(pathlib.Path(tflite_micro.__file__).parent / 'python/tflite_micro/sine_float.tflite')")
cd "$tmp"
venv/bin/tinypipe inspect "$model"
venv/bin/tinypipe export "$model" --format tflm -o "$tmp/out" --name sine
test -s "$tmp/out/sine_model_data.cc"
echo "base install: inspect and export work without TensorFlow ($(du -sh venv | cut -f1) venv)"
