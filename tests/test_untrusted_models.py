"""The validating reader (tinypipe/compiler/verify.py): each class of malformed model is refused
with one clear TinypipeError naming what is wrong, before any lowering, the planner or TFLM sees
it. Every model here used to crash, hang, write into constants or give a traceback."""

from __future__ import annotations

import flatbuffers
import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import TinypipeError, UnsupportedModelError


def _fc(**tweak) -> ModelBuilder:
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=0.05, zero_point=1)
    w = b.tensor((3, 4), scale=0.02, data=rng.integers(-127, 128, (3, 4)))
    bias = b.tensor((3,), "int32", scale=0.001, data=rng.integers(-50, 50, 3))
    y = b.tensor((1, 3), scale=0.1, zero_point=-2)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], "FullyConnectedOptions")
    return b


def _model(edit) -> bytes:
    """A valid one-op FULLY_CONNECTED model with `edit(ModelT)` applied."""
    m = schema.ModelT.InitFromPackedBuf(bytearray(_fc().build([0], [3])), 0)
    edit(m)
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _sg(m):
    return m.subgraphs[0]


def _set(obj, **kw):
    for k, v in kw.items():
        setattr(obj, k, v)


CASES = {
    # indices
    "op input out of range": (lambda m: _set(_sg(m).operators[0], inputs=[0, 1, 9]), "reads tensor 9"),
    "op input -2": (lambda m: _set(_sg(m).operators[0], inputs=[-2, 1, 2]), "reads tensor -2"),
    "required input omitted": (lambda m: _set(_sg(m).operators[0], inputs=[0, -1, 2]), "omits its required input 1"),
    "op output -1": (lambda m: _set(_sg(m).operators[0], outputs=[-1]), "writes tensor -1"),
    "opcode index": (lambda m: _set(_sg(m).operators[0], opcodeIndex=5), "uses opcode 5"),
    "buffer index": (lambda m: _set(_sg(m).tensors[1], buffer=99), "uses buffer 99"),
    "graph input index": (lambda m: _set(_sg(m), inputs=[-1]), "graph input -1"),
    "graph output index": (lambda m: _set(_sg(m), outputs=[4]), "graph output 4"),
    "no subgraph": (lambda m: _set(m, subgraphs=[]), "no subgraph"),
    # buffers
    "buffer too short": (lambda m: _set(m.buffers[1], data=np.zeros(11, np.uint8)), "needs 12 bytes"),
    "external buffer outside file": (
        lambda m: _set(m.buffers[1], data=None, offset=1 << 20, size=12), "of a"),
    "external buffer into the flatbuffer": (
        lambda m: _set(m.buffers[1], data=None, offset=24, size=12), "points into the flatbuffer"),
    # arity and options
    "too many inputs": (lambda m: _set(_sg(m).operators[0], inputs=[0, 1, 2, 0]), "4 inputs"),
    "two outputs": (lambda m: _set(_sg(m).operators[0], outputs=[3, 0]), "2 outputs"),
    "options missing": (
        lambda m: _set(_sg(m).operators[0], builtinOptions=None, builtinOptionsType=0), "has no FullyConnectedOptions"),
    "options of another op": (
        lambda m: _set(_sg(m).operators[0], builtinOptions=schema.Pool2DOptionsT(),
                       builtinOptionsType=schema.BuiltinOptions.Pool2DOptions), "carries Pool2DOptions"),
    # types and shapes
    "unknown tensor type": (lambda m: _set(_sg(m).tensors[0], type=99), "tensor type 99"),
    "zero dimension": (lambda m: _set(_sg(m).tensors[0], shape=[1, 0]), "at least 1"),
    "negative dimension": (lambda m: _set(_sg(m).tensors[3], shape=[1, -3]), "at least 1"),
    "huge tensor": (lambda m: _set(_sg(m).tensors[3], shape=[1 << 16, 1 << 14]), "caps a tensor"),
    "rank 7": (lambda m: _set(_sg(m).tensors[3], shape=[1] * 6 + [3]), "rank 7"),
    # quantization
    "NaN scale": (lambda m: _set(_sg(m).tensors[0].quantization, scale=[float("nan")]), "scale nan"),
    "zero scale": (lambda m: _set(_sg(m).tensors[0].quantization, scale=[0.0]), "scale 0.0"),
    "negative scale": (lambda m: _set(_sg(m).tensors[3].quantization, scale=[-0.1]), "finite and > 0"),
    "int8 zero point 128": (lambda m: _set(_sg(m).tensors[0].quantization, zeroPoint=[128]), "zero point 128"),
    "scales vs zero points": (lambda m: _set(_sg(m).tensors[1].quantization, zeroPoint=[0, 0]), "2 zero points"),
    "per-channel count": (
        lambda m: _set(_sg(m).tensors[1].quantization, scale=[0.1, 0.1], zeroPoint=[0, 0]), "per-channel"),
    "per-channel axis": (
        lambda m: _set(_sg(m).tensors[1].quantization, scale=[0.1] * 3, zeroPoint=[0] * 3,
                       quantizedDimension=5), "axis 5"),
    # graph order
    "op writes the graph input": (lambda m: _set(_sg(m).operators[0], outputs=[0]), "graph input"),
    "op writes a constant": (lambda m: _set(_sg(m).operators[0], outputs=[1]), "constant tensor #1"),
    "two writers": (lambda m: _set(_sg(m), operators=_sg(m).operators * 2), "written by operators #0 and #1"),
    "output never written": (lambda m: _set(_sg(m), outputs=[2]), "is a constant"),
    "input never read": (lambda m: _set(_sg(m), inputs=[0, 2][:1] + []) or _set(
        _sg(m).operators[0], inputs=[3, 1, 2]), "written only later"),
    "input listed twice": (lambda m: _set(_sg(m), inputs=[0, 0]), "listed twice"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_model_is_refused(case: str) -> None:
    edit, message = CASES[case]
    with pytest.raises(TinypipeError, match=message.replace("(", r"\(").replace("+", r"\+")) as info:
        generate_c(read_tflite(_model(edit)))
    assert "\n" not in info.value.what  # one paragraph


def test_read_before_write_and_cycles() -> None:
    """Ops out of execution order (a reads b's output before b runs) and a 2-op cycle."""
    for order in ("reversed", "cycle"):
        b = ModelBuilder()
        x = b.tensor((1, 4), scale=0.1)
        t = b.tensor((1, 4), scale=0.1)
        y = b.tensor((1, 4), scale=0.1)
        if order == "reversed":
            b.op("RELU", [t], [y])
            b.op("RELU", [x], [t])
        else:
            b.op("ADD", [x, y], [t], "AddOptions")
            b.op("RELU", [t], [y])
        with pytest.raises(TinypipeError, match="written only later"):
            read_tflite(b.build([x], [y]))


def test_unused_input_is_refused() -> None:
    b = ModelBuilder()
    x, x2 = b.tensor((1, 4), scale=0.1), b.tensor((1, 4), scale=0.1)
    y = b.tensor((1, 4), scale=0.1)
    b.op("RELU", [x], [y])
    with pytest.raises(TinypipeError, match="never read"):
        read_tflite(b.build([x, x2], [y]))


def test_accumulator_overflow_is_refused() -> None:
    """70,000 taps of |w| = 127 with an input offset of 255 overflow int32 (UB in C)."""
    n = 70000
    b = ModelBuilder()
    x = b.tensor((1, n), scale=0.05, zero_point=-128)
    w = b.tensor((1, n), scale=0.02, data=np.full((1, n), -127))
    y = b.tensor((1, 1), scale=0.1)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions")
    with pytest.raises(UnsupportedModelError, match="int32 accumulator"):
        read_tflite(b.build([x], [y]))


def test_constant_output_through_reshape_is_refused_deterministically() -> None:
    """A graph output that is a reshaped constant would never be written by the C (and the plan
    used to depend on PYTHONHASHSEED); the input feeds an op whose result is unused."""
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=0.1)
    r = b.tensor((1, 4), scale=0.1)
    c = b.tensor((2, 2), scale=0.1, data=np.arange(4))
    shape = b.tensor((2,), "int32", data=np.array([1, 4]))
    y = b.tensor((1, 4), scale=0.1)
    b.op("RELU", [x], [r])
    b.op("RESHAPE", [c, shape], [y], "ReshapeOptions", new_shape=[1, 4])
    model = b.build([x], [y])
    with pytest.raises(TinypipeError, match="constant"):
        generate_c(read_tflite(model))


def test_valid_model_still_reads() -> None:
    g = read_tflite(_fc().build([0], [3]))
    assert [op.options_type for op in g.operators] == ["FullyConnectedOptions"]


def test_tflm_abort_is_a_clear_error_not_a_crash(tmp_path) -> None:
    """SOFTMAX with beta * input scale below 2^-26 makes TFLM abort the process (a failed
    TFLITE_CHECK). `inspect` and the oracle run TFLM in a child: the CLI reports it and lives."""
    from click.testing import CliRunner
    from op_cases import unary_model

    from tinypipe.check.reference import OracleError, run_tflm
    from tinypipe.cli import main

    model = unary_model("SOFTMAX", (1, 10), {"scale": 1e-9, "zero_point": 0},
                        {"scale": 1 / 256, "zero_point": -128}, "SoftmaxOptions", version=2, beta=1.0)
    with pytest.raises(OracleError, match="crashed|refused"):
        run_tflm(model, np.zeros((1, 1, 10), np.int8))
    path = tmp_path / "abort.tflite"
    path.write_bytes(model)
    res = CliRunner().invoke(main, ["inspect", str(path)])
    assert res.exit_code == 0, res.output
    assert "TFLM interpreter" in res.output
