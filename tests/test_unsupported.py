"""Models the compiled C backend cannot take are refused before anything is written, with the
op, its index and version, the supported list, and what to change."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from tinypipe.cli import main
from tinypipe.compiler.tflite_writer import ModelBuilder


def _export(tmp_path, model: bytes):
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    res = CliRunner().invoke(main, ["export", str(path), "--format", "c", "-o", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit) and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()
    return res.output


def _relu_then(op: str, version: int = 1, options: str | None = None, **fields):
    """RELU (supported) followed by `op`: the error must name the second op, index 1."""
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=0.1, zero_point=0)
    y = b.tensor((1, 4), scale=0.1, zero_point=0)
    z = b.tensor((1, 4), scale=0.1, zero_point=0)
    b.op("RELU", [x], [y], version=1)
    b.op(op, [y], [z], options, version=version, **fields)
    return b.build([x], [z])


def test_unsupported_op_names_op_index_version_list_and_fix(tmp_path):
    out = _export(tmp_path, _relu_then("GELU", options="GeluOptions"))
    assert "Operator #1 GELU (version 1)" in out
    listed = out.split("Supported ops: ")[1].split(".")[0].split(", ")
    assert listed == sorted(listed) and {"ADD", "CONV_2D", "SOFTMAX"} <= set(listed)
    assert "activation='relu'" in out  # the Keras change that avoids it


def test_unsupported_op_version(tmp_path):
    out = _export(tmp_path, _relu_then("RELU6", version=9))
    assert "Operator #1 RELU6 (version 9)" in out and "versions 1..3" in out


def test_dynamic_shape(tmp_path):
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=0.1, zero_point=0, shape_signature=(1, -1))
    y = b.tensor((1, 4), scale=0.1, zero_point=0, shape_signature=(1, -1))
    b.op("RELU", [x], [y])
    out = _export(tmp_path, b.build([x], [y]))
    assert "dynamic shape" in out and "keras.Input a full shape" in out


def test_several_subgraphs(tmp_path):
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=0.1, zero_point=0)
    y = b.tensor((1, 4), scale=0.1, zero_point=0)
    b.op("RELU", [x], [y])
    out = _export(tmp_path, b.build([x], [y], subgraphs=2))
    assert "2 subgraphs" in out


def test_int16_activations(tmp_path):
    b = ModelBuilder()
    x = b.tensor((1, 4), dtype="int16", scale=0.1, zero_point=0)
    y = b.tensor((1, 4), dtype="int16", scale=0.1, zero_point=0)
    w = b.tensor((1, 4), dtype="int8", scale=0.1, zero_point=0, data=np.ones((1, 4), np.int8))
    k = b.tensor((1, 4), dtype="int8", scale=0.1, zero_point=0)
    b.op("HARD_SWISH", [x], [y])  # an op without an int16 (16x8) kernel
    b.op("ADD", [w, w], [k], "AddOptions")
    out = _export(tmp_path, b.build([x], [y]))
    assert "Operator #0 HARD_SWISH" in out and "int16" in out and "int8" in out


def test_inspect_lists_what_export_refuses(tmp_path):
    model = _relu_then("GELU", options="GeluOptions")
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    res = CliRunner().invoke(main, ["inspect", str(path)])
    assert res.exit_code == 0 and "#1 GELU v1" in res.output
