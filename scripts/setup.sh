#!/usr/bin/env bash
# Set up everything tinypipe needs on a fresh Debian/Ubuntu machine:
#   system: a C compiler, the Arm cross toolchain (gcc-arm-none-eabi + newlib), QEMU, CMake
#           (the exported model as a CMake library), Chromium (screenshots of report.html) and
#           ccache (the test suite's firmware builds share compiled kernels through it)
#   python: a virtual environment in .venv with tinypipe[train,npu,search,dev] installed from this checkout
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc g++ gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm python3-venv cmake chromium ccache)
missing=()
for tool in gcc g++ arm-none-eabi-gcc qemu-system-arm cmake chromium ccache; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ -f /usr/lib/arm-none-eabi/newlib/libc.a ] || [ -d /usr/lib/arm-none-eabi/newlib ] || missing+=(newlib)
python3 -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing system packages (missing: ${missing[*]})"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PY" -m venv .venv
fi
echo "==> installing tinypipe[train,npu,search,dev] into .venv"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q ".[train,npu,search,dev]"
# The TF converter fuses Keras LSTM layers into UNIDIRECTIONAL_SEQUENCE_LSTM only when they come
# from tf-keras (Keras 3's LSTM becomes a WHILE loop). tf-keras pins the `tensorflow` package;
# the tensorflow-cpu build installed above is the same release, so it goes in without
# dependencies, matched to the installed TensorFlow.
TF_MINOR=$(.venv/bin/python -c "import tensorflow as tf; print('.'.join(tf.__version__.split('.')[:2]))")
.venv/bin/python -m pip install -q --no-deps "tf-keras~=${TF_MINOR}.0"
echo "==> ready: $(.venv/bin/tinypipe --version)"
