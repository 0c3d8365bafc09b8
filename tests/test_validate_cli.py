"""`tinypipe validate --board host`: verdicts, saved outputs, JSON, and the first divergent layer."""

from __future__ import annotations

import json
import re

import numpy as np
from click.testing import CliRunner

from tinypipe.check.reference import run_tflm
from tinypipe.check.validate import validate_host
from tinypipe.cli import main
from tinypipe.compiler import codegen
from tinypipe.compiler.graph import read_tflite


def _inputs(tmp_path, shape, n=24, dtype=np.int8):
    rng = np.random.default_rng(3)
    if dtype == np.int8:
        x = rng.integers(-128, 128, size=(n, *shape), dtype=np.int8)
    else:
        x = rng.uniform(0, 1, size=(n, *shape)).astype(np.float32)
    path = tmp_path / "x.npy"
    np.save(path, x)
    return path, x


def test_bit_exact_verdict_outputs_and_json(tmp_path, digits_tflite):
    path, x = _inputs(tmp_path, (8, 8, 1))
    res = CliRunner().invoke(
        main,
        [
            "validate",
            str(digits_tflite),
            "--board",
            "host",
            "--inputs",
            str(path),
            "--save-outputs",
            str(tmp_path / "y.npy"),
            "--json",
            str(tmp_path / "v.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "BIT-EXACT" in res.output
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.int8 and y.shape == (24, 1, 10)
    np.testing.assert_array_equal(
        y, run_tflm(digits_tflite.read_bytes(), x.reshape(24, 1, 8, 8, 1))
    )
    report = json.loads((tmp_path / "v.json").read_text())
    assert report["bit_exact"] and report["samples"] == 24 and report["elements"] == 240


def test_float_inputs_are_quantized_with_the_models_parameters(tmp_path, digits_tflite):
    path, x = _inputs(tmp_path, (8, 8, 1), dtype=np.float32)
    res = CliRunner().invoke(main, ["validate", str(digits_tflite), "--inputs", str(path)])
    assert res.exit_code == 0, res.output
    assert "24 samples" in res.output


def _tampered(graph, op_index: int):
    """The real generated C, with one (host-folded) bias value of op `op_index` changed."""
    cm = codegen.generate_c(graph)
    text = cm.files["model.c"]
    m = re.search(rf"model_op{op_index}_bias\[\d+\] = {{\n    (-?\d+)", text)
    assert m, "bias array not found"
    start, end = m.span(1)
    cm.files["model.c"] = text[:start] + str(int(m.group(1)) + 5000) + text[end:]
    return cm


def test_first_divergent_layer_is_named(tmp_path, digits_tflite):
    g = read_tflite(digits_tflite)
    conv2 = [op.index for op in g.operators if op.opcode == "CONV_2D"][1]
    x = np.random.default_rng(0).integers(-128, 128, size=(8, 1, 8, 8, 1), dtype=np.int8)
    verdict, _ = validate_host(g, x, cmodel=_tampered(g, conv2))
    assert not verdict.bit_exact
    assert verdict.first_divergence is not None
    assert verdict.first_divergence.op_index == conv2
    assert verdict.first_divergence.opcode == "CONV_2D"


def test_mismatch_exits_1_and_names_the_layer(tmp_path, digits_tflite, monkeypatch):
    g = read_tflite(digits_tflite)
    conv2 = [op.index for op in g.operators if op.opcode == "CONV_2D"][1]
    tampered = _tampered(g, conv2)
    monkeypatch.setattr(codegen, "generate_c", lambda graph, name="model": tampered)
    path, _ = _inputs(tmp_path, (8, 8, 1))
    res = CliRunner().invoke(main, ["validate", str(digits_tflite), "--inputs", str(path)])
    assert res.exit_code == 1, res.output
    assert f"first divergent layer: #{conv2} CONV_2D" in res.output


def test_bad_inputs_exit_2(tmp_path, digits_tflite):
    np.save(tmp_path / "wrong.npy", np.zeros((4, 7), dtype=np.int8))
    res = CliRunner().invoke(
        main, ["validate", str(digits_tflite), "--inputs", str(tmp_path / "wrong.npy")]
    )
    assert res.exit_code == 2 and "needs 64" in res.output
    res = CliRunner().invoke(
        main, ["validate", str(digits_tflite), "--inputs", str(tmp_path / "none.npy")]
    )
    assert res.exit_code == 2 and "does not exist" in res.output
