"""`tinypipe export --format tflm`: the array, the resolver and the exact arena, checked against
gcc and the TFLM interpreter."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from tinypipe.check.reference import tflm_interpreter
from tinypipe.cli import main
from tinypipe.compiler.graph import read_tflite

READBACK = r"""
#include <cstdio>
#include "digits_model_data.h"
int main() {
    if (((unsigned long)digits_model_data) % 16 != 0) return 3;
    fwrite(digits_model_data, 1, digits_model_data_len, stdout);
    return 0;
}
"""


@pytest.fixture(scope="module")
def exported(digits_tflite, tmp_path_factory):
    out = tmp_path_factory.mktemp("tflm") / "out"
    res = CliRunner().invoke(
        main, ["export", str(digits_tflite), "--format", "tflm", "-o", str(out), "--name", "digits"]
    )
    assert res.exit_code == 0, res.output
    return out


def test_array_compiles_and_reads_back_identical(exported, digits_tflite, tmp_path):
    cxx = shutil.which("g++")
    assert cxx, "g++ is needed to compile the exported array"
    (tmp_path / "readback.cc").write_text(READBACK)
    exe = tmp_path / "readback"
    subprocess.run(
        [
            cxx,
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{exported}",
            str(tmp_path / "readback.cc"),
            str(exported / "digits_model_data.cc"),
            "-o",
            str(exe),
        ],
        check=True,
    )
    out = subprocess.run([str(exe)], capture_output=True, check=True).stdout
    assert out == digits_tflite.read_bytes()


def _arena(exported) -> int:
    text = (exported / "digits_model_data.h").read_text()
    return int(re.search(r"DIGITS_ARENA_SIZE_EXACT (\d+)", text).group(1))


def _runs(model: bytes, arena: int) -> bool:
    try:
        interp = tflm_interpreter(model, arena)
        d = interp.get_input_details(0)
        interp.set_input(np.zeros(d["shape"], dtype=d["dtype"]), 0)
        interp.invoke()
        return True
    except (RuntimeError, ValueError):
        return False


def test_exact_arena_works_and_16_bytes_less_fails(exported, digits_tflite):
    arena = _arena(exported)
    model = digits_tflite.read_bytes()
    assert arena % 16 == 0
    assert _runs(model, arena)
    assert not _runs(model, arena - 16)


def test_resolver_lists_exactly_the_models_ops(exported, digits_tflite):
    text = (exported / "digits_op_resolver.h").read_text()
    registered = re.findall(r"resolver\.Add(\w+)\(\)", text)
    ops = read_tflite(digits_tflite).distinct_ops()
    camel = {
        "CONV_2D": "Conv2D",
        "DEPTHWISE_CONV_2D": "DepthwiseConv2D",
        "MAX_POOL_2D": "MaxPool2D",
        "AVERAGE_POOL_2D": "AveragePool2D",
        "RESHAPE": "Reshape",
        "FULLY_CONNECTED": "FullyConnected",
        "SOFTMAX": "Softmax",
    }
    assert sorted(registered) == sorted(camel[o] for o in ops)
    assert f"MicroMutableOpResolver<{len(ops)}>" in text


def test_output_is_deterministic_and_margin_is_added(digits_tflite, tmp_path):
    runner = CliRunner()
    for d in ("a", "b"):
        res = runner.invoke(
            main,
            [
                "export",
                str(digits_tflite),
                "--format",
                "tflm",
                "-o",
                str(tmp_path / d),
                "--name",
                "digits",
                "--arena-margin",
                "256",
            ],
        )
        assert res.exit_code == 0, res.output
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()
        assert str(tmp_path) not in f.read_text()
    assert "#define DIGITS_ARENA_MARGIN 256" in (tmp_path / "a" / "digits_model_data.h").read_text()
