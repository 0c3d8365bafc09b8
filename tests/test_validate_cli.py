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
    """The real generated C, with one (host-folded) bias value of op `op_index` raised far
    enough to saturate that output channel."""
    cm = codegen.generate_c(graph, generated=False)  # the runtime kernels read a bias array
    text = cm.files["model.c"]
    m = re.search(rf"model_op{op_index}_bias\[\d+\] = {{\n    (-?\d+)", text)
    assert m, "bias array not found"
    start, end = m.span(1)
    cm.files["model.c"] = text[:start] + str(int(m.group(1)) + 1_000_000) + text[end:]
    return cm


def _own_call(graph, opcode: str) -> int:
    """The first `opcode` layer computed by a call of its own (not inside a fused or patched
    call, whose intermediate results never exist in memory)."""
    lowered = codegen.generate_c(graph).lowered
    return next(
        op.index
        for op, low in zip(graph.operators, lowered)
        if op.opcode == opcode and low.emits_code and low.fused_into is None
    )


def test_first_divergent_layer_is_named(tmp_path, digits_tflite):
    g = read_tflite(digits_tflite)
    fc = _own_call(g, "FULLY_CONNECTED")
    x = np.random.default_rng(0).integers(-128, 128, size=(8, 1, 8, 8, 1), dtype=np.int8)
    verdict, _ = validate_host(g, x, cmodel=_tampered(g, fc))
    assert not verdict.bit_exact
    assert verdict.first_divergence is not None
    assert verdict.first_divergence.op_index == fc
    assert verdict.first_divergence.opcode == "FULLY_CONNECTED"


def test_mismatch_exits_1_and_names_the_layer(tmp_path, digits_tflite, monkeypatch):
    g = read_tflite(digits_tflite)
    fc = _own_call(g, "FULLY_CONNECTED")
    tampered = _tampered(g, fc)
    monkeypatch.setattr(codegen, "generate_c", lambda graph, name="model", **options: tampered)
    path, _ = _inputs(tmp_path, (8, 8, 1))
    res = CliRunner().invoke(main, ["validate", str(digits_tflite), "--inputs", str(path)])
    assert res.exit_code == 1, res.output
    assert f"first divergent layer: #{fc} FULLY_CONNECTED" in res.output


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


def test_data_command_exports_a_split_that_validates_as_is(tmp_path, digits_tflite):
    """`tinypipe data` writes the split train uses, in float and in the model's int8 form; both
    files go to `validate --inputs` as they are and are bit-exact."""
    from tinypipe.check.reference import quantize_input
    from tinypipe.model.datasets import load_dataset

    out = tmp_path / "data"
    res = CliRunner().invoke(main, ["data", "digits", "-o", str(out), "--model", str(digits_tflite)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["x_test.npy", "x_test_int8.npy", "y_test.npy"]
    ds = load_dataset("digits", seed=0)
    t = read_tflite(digits_tflite).input_tensors[0]
    np.testing.assert_array_equal(np.load(out / "x_test.npy"), ds.x_test)
    np.testing.assert_array_equal(np.load(out / "y_test.npy"), ds.y_test)
    np.testing.assert_array_equal(
        np.load(out / "x_test_int8.npy"), quantize_input(ds.x_test, t.scale, t.zero_point)
    )
    for name in ("x_test_int8.npy", "x_test.npy"):
        res = CliRunner().invoke(main, ["validate", str(digits_tflite), "--inputs", str(out / name)])
        assert res.exit_code == 0 and "BIT-EXACT" in res.output, res.output

    # another seed, the train split, no model: float inputs and labels only
    res = CliRunner().invoke(main, ["data", "digits", "--split", "train", "--seed", "3", "-o", str(tmp_path / "tr")])
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(np.load(tmp_path / "tr" / "y_train.npy"), load_dataset("digits", seed=3).y_train)
    assert sorted(p.name for p in (tmp_path / "tr").iterdir()) == ["x_train.npy", "y_train.npy"]


def test_data_command_refuses_a_model_of_another_shape(tmp_path, digits_tflite):
    res = CliRunner().invoke(main, ["data", "vibration", "-o", str(tmp_path / "d"), "--model", str(digits_tflite)])
    assert res.exit_code == 2 and "shape (128, 3)" in res.output and "[1, 8, 8, 1]" in res.output
    assert not (tmp_path / "d").exists()
