"""QUANTIZE and DEQUANTIZE against the TFLM interpreter, bit for bit.

- float32 -> int8 (model input): 20 random scales/zero points on floats around the whole int8
  range and well beyond it, exact .5 rounding boundaries and their float neighbours, +-0.
- int8 -> float32 (model output): 20 random scales/zero points on all 256 inputs.
- int8 -> int8, uint8 -> int8, int8 -> uint8 (requantize): 30 random configs each on all 256
  inputs (the lowered table against TFLM), a subset through the compiled C.
- converter-made models with float32 and with uint8 input/output.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import convert_keras_int8, unary_model

from tinypipe.check.reference import run_tflm
from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops import lower as lower_op
from tinypipe.device.hostrun import build_host, run_host
from tinypipe.errors import UnsupportedModelError

CONFIGS = 20
REQUANT_CONFIGS = 30
BYTES = np.arange(256, dtype=np.uint8)


def one_op(op: str, shape, in_t: dict, out_t: dict) -> bytes:
    return unary_model(op, shape, in_t, out_t, version=2 if op == "DEQUANTIZE" else 1)


def random_qparams(rng: np.random.Generator, dtype: str = "int8") -> dict:
    lo = -128 if dtype == "int8" else 0
    return {
        "dtype": dtype,
        "scale": float(np.float32(10 ** rng.uniform(-4, 1.5))),
        "zero_point": int(rng.integers(lo, lo + 256)),
    }


def boundary_floats(rng: np.random.Generator, scale: float, zp: int) -> np.ndarray:
    """Values whose x / scale lands on or next to k + 0.5 for every level, the int8 range edges
    and far beyond them, random values, and signed zeros."""
    s = np.float32(scale)
    k = np.arange(-140 - zp, 140 - zp)
    halves = ((k + 0.5) * np.float64(s)).astype(np.float32)
    near = np.concatenate(
        [
            halves,
            np.nextafter(halves, np.float32(np.inf)),
            np.nextafter(halves, np.float32(-np.inf)),
        ]
    )
    exact = (k.astype(np.float32) + np.float32(0.5)) * s  # float32 products, as users compute
    wide = (rng.uniform(-1, 1, 200) * 10 ** rng.uniform(0, 6, 200) * s).astype(np.float32)
    edges = np.float32([0.0, -0.0, 1e-30, -1e-30])
    return np.concatenate([near, exact, wide, edges]).astype(np.float32)


def test_quantize_float_to_int8_bit_exact():
    rng = np.random.default_rng(11)
    for k in range(CONFIGS):
        q = random_qparams(rng)
        vals = boundary_floats(rng, q["scale"], q["zero_point"])
        n = vals.size
        model = one_op("QUANTIZE", (1, n), {"dtype": "float32"}, q)
        verdict, _ = validate_host(model, vals.reshape(1, 1, n), sanitize=(k % 5 == 0))
        assert verdict.bit_exact, (q, verdict.summary())


def test_quantize_beyond_int32_saturates(tmp_path):
    """|x / scale| >= 2^31 and NaN: TFLM's float -> int32 cast is undefined there (x86 gives
    INT32_MIN, so the host interpreter says -128 even for +inf; Arm saturates). tinypipe
    saturates: +huge -> 127, -huge -> -128, NaN -> the zero point. Written-down tolerance."""
    vals = np.float32([1e10, 3e38, np.inf, -1e10, -np.inf, np.nan]).reshape(1, 1, 6)
    g = read_tflite(
        one_op("QUANTIZE", (1, 6), {"dtype": "float32"}, {"scale": 0.01, "zero_point": 5})
    )
    binary = build_host(generate_c(g), tmp_path / "build", sanitize=True)
    raw, _ = run_host(binary, vals, tmp_path)
    assert raw.view(np.int8).tolist() == [[127, 127, 127, -128, -128, 5]]


def test_dequantize_int8_to_float_bit_exact():
    rng = np.random.default_rng(12)
    x = BYTES.view(np.int8).reshape(1, 1, 256)
    for k in range(CONFIGS):
        q = random_qparams(rng)
        if k == 0:
            q["scale"] = 1e-30  # denormal-range products
        model = one_op("DEQUANTIZE", (1, 256), q, {"dtype": "float32"})
        verdict, out = validate_host(model, x, sanitize=(k % 5 == 0))
        assert verdict.bit_exact, (q, verdict.summary())
        assert out.dtype == np.float32


@pytest.mark.parametrize(
    "in_dtype, out_dtype", [("int8", "int8"), ("uint8", "int8"), ("int8", "uint8")]
)
def test_requantize_table_matches_tflm(in_dtype, out_dtype):
    rng = np.random.default_rng({"int8": 1, "uint8": 2}[in_dtype] * 10 + len(out_dtype))
    x = BYTES.view(in_dtype).reshape(1, 1, 256)
    for k in range(REQUANT_CONFIGS):
        qi, qo = random_qparams(rng, in_dtype), random_qparams(rng, out_dtype)
        if k % 5 == 0:  # same scale, zero points 128 apart: TFLM's xor-0x80 fast path
            qo["scale"] = qi["scale"]
            qo["zero_point"] = qi["zero_point"] + (128 if out_dtype == "uint8" else -128)
            lo = -128 if out_dtype == "int8" else 0
            if not lo <= qo["zero_point"] < lo + 256:
                qo["zero_point"] = qi["zero_point"]
        model = one_op("QUANTIZE", (1, 256), qi, qo)
        g = read_tflite(model)
        table = lower_op(g.operators[0], g).consts["table"]
        expected = run_tflm(model, x).ravel()
        assert table.dtype == np.dtype(out_dtype)
        assert np.array_equal(table, expected), (qi, qo)
        if k < 3:
            verdict, _ = validate_host(model, x, sanitize=(k == 0))
            assert verdict.bit_exact, (qi, qo, verdict.summary())


@pytest.mark.parametrize(
    "op, in_t, out_t, why",
    [
        # int16 <-> float32 / int8 / int32 have 16x8 kernels (test_op_s16); these do not
        (
            "DEQUANTIZE",
            {"dtype": "int16", "scale": 0.1},
            {"dtype": "int8", "scale": 0.1},
            "int16 to int8",
        ),
        (
            "QUANTIZE",
            {"dtype": "int8", "scale": 0.1},
            {"dtype": "int32", "scale": 0.1},
            "int8 to int32",
        ),
        (
            "QUANTIZE",
            {"dtype": "float32"},
            {"dtype": "int8", "scale": [0.1, 0.2], "zero_point": [0, 0], "axis": 1},
            "per channel",
        ),
    ],
)
def test_unsupported_variants_are_refused(op, in_t, out_t, why):
    g = read_tflite(one_op(op, (1, 2), in_t, out_t))
    with pytest.raises(UnsupportedModelError, match=why) as info:
        lower_op(g.operators[0], g)
    assert f"#0 {op}" in str(info.value)


def _convert(io_type: str | None) -> bytes:
    """Dense -> Dense -> Softmax, converted with `io_type` input/output (None: float32)."""
    import keras

    keras.utils.set_random_seed(9)
    inp = keras.Input((12,), batch_size=1)
    out = keras.layers.Softmax()(
        keras.layers.Dense(10)(keras.layers.Dense(12, activation="relu")(inp))
    )
    return convert_keras_int8(keras.Model(inp, out), (1, 12), spread=2, io_type=io_type)


def test_keras_float_io_model_bit_exact():
    """Full-int8 inside, float32 at the boundary: QUANTIZE v1 in, DEQUANTIZE v2 out."""
    model = _convert(None)
    g = read_tflite(model)
    ops = [(op.opcode, op.version) for op in g.operators]
    assert ops[0] == ("QUANTIZE", 1) and ops[-1] == ("DEQUANTIZE", 2)
    inp = g.input_tensors[0]
    assert inp.dtype == "float32" and g.output_tensors[0].dtype == "float32"
    q = g.tensors[g.operators[0].outputs[0]]
    rng = np.random.default_rng(2)
    x = rng.normal(0, 3, (30, 1, 12)).astype(np.float32)
    levels = rng.integers(-140, 140, size=(10, 1, 12))
    x[:10] = ((levels - q.zero_point + 0.5) * np.float64(q.scale)).astype(np.float32)  # ties
    x[0, 0, :4] = [1e4, -1e4, 0.0, -0.0]
    verdict, out = validate_host(model, x, sanitize=True)
    assert verdict.bit_exact, verdict.summary()
    assert out.dtype == np.float32


def test_keras_uint8_io_model_bit_exact():
    """uint8 at the boundary: QUANTIZE uint8 -> int8 in, QUANTIZE int8 -> uint8 out."""
    model = _convert("uint8")
    g = read_tflite(model)
    kinds = [
        (op.opcode, g.tensors[op.inputs[0]].dtype, g.tensors[op.outputs[0]].dtype)
        for op in g.operators
    ]
    assert kinds[0] == ("QUANTIZE", "uint8", "int8") and kinds[-1] == ("QUANTIZE", "int8", "uint8")
    x = np.random.default_rng(3).integers(0, 256, size=(30, 1, 12)).astype(np.uint8)
    verdict, out = validate_host(model, x)
    assert verdict.bit_exact, verdict.summary()
    assert out.dtype == np.uint8
