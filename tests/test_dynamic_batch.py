"""Dynamic batch: shape_signature -1 in the batch position, as the TF converter writes it when the
Keras batch size is left open, compiles like batch 1 (TFLM ignores the signature); any other
dynamic dimension is refused with a message for someone holding only the .tflite."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from op_cases import check_bit_exact

from tinypipe.cli import main
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.shapes import shape_only_ops
from tinypipe.compiler.tflite_writer import ModelBuilder


def _relu(sig_in, sig_out, shape=(1, 6)) -> bytes:
    b = ModelBuilder()
    x = b.tensor(shape, scale=0.05, zero_point=-3, shape_signature=sig_in)
    y = b.tensor(shape, scale=0.05, zero_point=-3, shape_signature=sig_out)
    b.op("RELU", [x], [y])
    return b.build([x], [y])


def test_open_batch_compiles_bit_exact():
    check_bit_exact(_relu((-1, 6), (-1, 6)), seed=3, sanitize=True)


@pytest.mark.parametrize(
    "shape, sig, dims",
    [((1, 6), (1, -1), "1"), ((1, 6), (-1, -1), "0, 1"), ((2, 6), (-1, 6), "0")],
)
def test_other_dynamic_dims_refused(tmp_path, shape, sig, dims):
    path = tmp_path / "m.tflite"
    path.write_bytes(_relu(sig, sig, shape))
    res = CliRunner().invoke(main, ["export", str(path), "--format", "c", "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert f"leaves dimension(s) {dims} open" in res.output
    assert "only in the batch position" in res.output and "If you only have the .tflite" in res.output
    assert not (tmp_path / "o").exists()
    res = CliRunner().invoke(main, ["inspect", str(path)])  # inspect says the same
    assert res.exit_code == 0 and "compiled C backend (--format c): Tensor #0 't0' has a dynamic shape" in res.output


def _reshape_with_shape_arithmetic() -> bytes:
    """RELU -> RESHAPE whose new shape is computed at run time, as Keras 3 Flatten with an open
    batch emits it: SHAPE -> STRIDED_SLICE (batch) -> PACK(batch, 12)."""
    b = ModelBuilder()
    q = {"scale": 0.1, "zero_point": 5}
    x = b.tensor((1, 2, 2, 3), shape_signature=(-1, 2, 2, 3), **q)
    r = b.tensor((1, 2, 2, 3), shape_signature=(-1, 2, 2, 3), **q)
    shp = b.tensor((4,), dtype="int32")
    one = np.array([1], np.int32)
    begin = b.tensor((1,), dtype="int32", data=np.array([0], np.int32))
    end = b.tensor((1,), dtype="int32", data=one)
    stride = b.tensor((1,), dtype="int32", data=one)
    batch = b.tensor((), dtype="int32")
    width = b.tensor((), dtype="int32", data=np.array(12, np.int32))
    new_shape = b.tensor((2,), dtype="int32")
    y = b.tensor((1, 12), shape_signature=(-1, 12), **q)
    b.op("RELU", [x], [r])
    b.op("SHAPE", [r], [shp], "ShapeOptions", out_type=2)  # INT32
    b.op("STRIDED_SLICE", [shp, begin, end, stride], [batch], "StridedSliceOptions", shrink_axis_mask=1)
    b.op("PACK", [batch, width], [new_shape], "PackOptions", values_count=2, axis=0)
    b.op("RESHAPE", [r, new_shape], [y])
    return b.build([x], [y])


def test_run_time_shape_arithmetic_is_dropped():
    model = _reshape_with_shape_arithmetic()
    g = read_tflite(model)
    assert shape_only_ops(g) == {1, 2, 3}
    c = generate_c(g)
    assert c.plan.arena_size == 0  # RELU writes straight into the output it shares with RESHAPE
    assert "shape arithmetic nothing uses" in c.files["model.c"]
    check_bit_exact(model, seed=4, sanitize=False)


def test_shape_arithmetic_that_feeds_data_is_kept():
    """The same int32 ops are real work when their result is a model output."""
    g = read_tflite(_reshape_with_shape_arithmetic())
    g.outputs = [g.operators[3].outputs[0]]
    assert shape_only_ops(g) == set()


def test_keras_model_without_batch_size(zoo_model):
    """The digits CNN built on keras.Input without batch_size: every tensor's signature starts
    with -1 and Flatten computes the batch at run time; compiled C is bit-exact with TFLM."""
    path = zoo_model("tiny_cnn", input_shape=(8, 8, 1), num_classes=10, batch_size=None)
    g = read_tflite(path)
    assert g.input_tensors[0].shape_signature == (-1, 8, 8, 1)
    assert {"SHAPE", "STRIDED_SLICE", "PACK"} <= set(g.distinct_ops())
    check_bit_exact(path.read_bytes(), seed=5, sanitize=True)
