"""`tinypipe validate` on PlatformIO-built firmware: the digits CNN and an MLPerf-Tiny-shaped
model, on the host env and on an emulated Cortex-M4F, bit-exact with TFLM."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from tinypipe.check.reference import run_tflm
from tinypipe.cli import main
from tinypipe.compiler.graph import read_tflite
from tinypipe.model.zoo import REFERENCE_MODELS

CASES = {k: REFERENCE_MODELS[k] for k in ("digits_cnn", "fc_autoencoder")}


@pytest.mark.slow
@pytest.mark.parametrize("board", ["host", "mps2-an386"])
@pytest.mark.parametrize("label", list(CASES))
def test_firmware_is_bit_exact_on_board(zoo_model, tmp_path, label, board):
    name, kw = CASES[label]
    model = zoo_model(name, **kw)
    graph = read_tflite(model)
    x = np.random.default_rng(7).integers(-128, 128, size=(12, *graph.input_tensors[0].shape), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    fw = tmp_path / "fw"
    res = CliRunner().invoke(main, ["firmware", str(model), "--board", board, "-o", str(fw)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(
        main,
        ["validate", str(fw), "--board", board, "--inputs", str(tmp_path / "x.npy"),
         "--save-outputs", str(tmp_path / "y.npy"), "--json", str(tmp_path / "v.json")],
    )
    assert res.exit_code == 0, res.output
    assert "BIT-EXACT" in res.output
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), run_tflm(model.read_bytes(), x))
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert verdict["bit_exact"] and verdict["samples"] == 12
    build = verdict["extra"]["build"]
    assert build["flash_used"] > 0 and build["ram_used"] > 0
    if board == "mps2-an386":
        assert f"flash {build['flash_used']:,} / 4,194,304 B" in res.output
        # QEMU -icount: instructions are deterministic up to the 40-instruction SysTick tick
        counts = verdict["instructions"]
        assert len(counts) == 12 and min(counts) > 0
        assert max(counts) - min(counts) <= 0.01 * max(counts)
        # the weights are in flash: the image is at least as big as the model's parameters
        params = sum(t.nbytes for t in graph.tensors if t.is_const)
        assert build["flash_used"] > params
