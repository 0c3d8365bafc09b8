"""ADD: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized models built directly: broadcasting in every direction (constant operand first or
second, the model input itself broadcast, two activations of different shapes, scalars),
asymmetric zero points, input scale ratios up to 1000:1, every fused activation. Plus models
made by the real TF converter (Add of two branches with a ReLU, a bias vector added).

The cases are built by op_cases.py, shared with test_op_mul.py (the same cases for MUL).
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import (
    ACTIVATIONS,
    LUT_LAYOUTS,
    build_binary,
    check_bit_exact,
    random_binary_config,
    random_rows_binary_config,
    row_strides,
    run_random_binary_cases,
    run_random_cases,
)

from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import lower_all
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops import add as add_ops
from tinypipe.compiler.ops.add import broadcast_layout, lut_output_record
from tinypipe.compiler.ops.fixedpoint import INT32_MAX, INT32_MIN, mul_by_quantized_multiplier
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError


@pytest.mark.parametrize("chunk", range(3))
def test_add_random_configs_bit_exact(chunk: int) -> None:
    """30 random configurations (10 per chunk), 8 random inputs each; every 3rd under ASan/UBSan."""
    run_random_binary_cases("ADD", 2000 + 10 * chunk, 10)


@pytest.fixture
def lut_everywhere(monkeypatch):
    """Every ADD lowered to the table kernel (tp_add_lut_s8), whatever its size."""
    monkeypatch.setattr(add_ops, "LUT_MIN_ELEMENTS", 0)


def _add_funcs(model: bytes) -> list[str]:
    return [low.func for low in lower_all(read_tflite(model)) if low.func.startswith("tp_add")]


def _lut_lowered(model: bytes) -> bytes:
    funcs = _add_funcs(model)
    assert funcs == ["tp_add_lut_s8"], funcs
    return model


@pytest.mark.parametrize("chunk", range(2))
def test_add_lut_random_configs_bit_exact(chunk: int, lut_everywhere) -> None:
    """16 random configurations through the input tables (every 3rd under ASan/UBSan)."""
    run_random_cases(
        lambda rng: random_binary_config(rng, "ADD"),
        lambda cfg, rng: _lut_lowered(build_binary("ADD", cfg, rng)),
        2100 + 8 * chunk,
        8,
    )


def lowered_lut(model: bytes, layout: str) -> bytes:
    """Assert the ADD/SUB runs on the table kernel with the row layout `layout` asks for."""
    (low,) = [low for low in lower_all(read_tflite(model)) if low.emits_code]
    assert low.func == "tp_add_lut_s8", low.func
    contiguous = row_strides(low) == (1, 1)
    assert contiguous == (layout != "inner"), (layout, row_strides(low))
    if layout == "same":
        assert low.params["broadcast.dims"].text.startswith("{1, 1, 1, ")
    return model


@pytest.mark.parametrize("opcode", ["ADD", "SUB"])
def test_lut_layouts_bit_exact(opcode: str) -> None:
    """Outputs of 512+ elements through the tables: same shape (one row), broadcast along H
    (contiguous rows) and along C (element by element), 3 of each (every 3rd under ASan/UBSan)."""
    first = 2200 if opcode == "ADD" else 2300
    for k, layout in enumerate(LUT_LAYOUTS):
        run_random_cases(
            lambda rng, layout=layout: random_rows_binary_config(rng, opcode, layout),
            lambda cfg, rng, layout=layout: lowered_lut(build_binary(opcode, cfg, rng), layout),
            first + 10 * k,
            3,
        )


def _device_requant(s: int, multiplier: int, shift: int, zero_point: int, split: bool) -> int:
    """tp_add_lut_s8's output requantization of s = a + b (tp_add.c), on Python integers:
    SMMLAR's form, or the form for cores without a 64-bit multiply (TP_SPLIT_MULTIPLY)."""
    offset, r = lut_output_record((s, s), multiplier, shift, zero_point)
    s2 = 2 * s
    if split:  # tp_mul_round_high_nonneg(s, Mo), then the halved offset and shift
        high = (s * multiplier + (1 << 30) - (1 << 31) * (s < 0)) >> 32
        return (high + offset // 2) >> (r - 1)
    t_plus_offset = (s2 * multiplier + (offset << 32) + (1 << 31)) >> 32
    return (t_plus_offset - (s2 < 0)) >> r


@pytest.mark.parametrize("split", [False, True])
def test_lut_output_requantization_matches_tflm_arithmetic(split: bool) -> None:
    """The device's one-multiply requantization against TFLM's two roundings
    (MultiplyByQuantizedMultiplier, fixedpoint.py), over random multipliers, shifts and zero
    points, and sums at and next to every rounding tie of the last shift."""
    rng = np.random.default_rng(77)
    for _ in range(300):
        shift = -int(rng.integers(2, 32))
        multiplier = int(rng.integers(1 << 30, 1 << 31))
        zp = int(rng.integers(-128, 128))
        sums = [int(v) for v in rng.integers(-(1 << 27), 1 << 27, 20)]
        # a sum whose doubling high product lands on t = k 2^r + 2^(r-1) (a tie), and neighbours
        k = int(rng.integers(-50, 50))
        tie = round(((k << -shift) + (1 << (-shift - 1))) * 2.0**31 / multiplier)
        sums += [tie + d for d in range(-2, 3)] + [-tie + d for d in range(-2, 3)] + [0, -1, 1]
        for s in sums:
            if lut_output_record((s, s), multiplier, shift, zp) is None:
                continue
            want = mul_by_quantized_multiplier(s, multiplier, shift) + zp
            assert _device_requant(s, multiplier, shift, zp, split) == want, (s, multiplier, shift)


def test_lut_output_record_refuses_int32_overflow() -> None:
    """Shifts outside [2, 31] and sums whose doubled value or rounded product leaves int32 keep
    the per-element kernel (lut_call gives None)."""
    m = 1 << 30
    assert lut_output_record((-100, 100), m, -1, 0) is None
    assert lut_output_record((-100, 100), m, 0, 0) is None
    assert lut_output_record((-100, 100), m, -20, 0) is not None
    assert lut_output_record((INT32_MIN // 2 - 1, 0), m, -20, 0) is None
    assert lut_output_record((0, INT32_MAX // 2 + 1), m, -20, 0) is None
    # offset = 2^30 + zp 2^31 at r = 31 fits only for zp in {-1, 0}
    assert lut_output_record((-100, 100), m, -31, 0) is not None
    assert lut_output_record((-100, 100), m, -31, 1) is None


def test_add_lut_extreme_scale_ratio(lut_everywhere) -> None:
    test_add_extreme_scale_ratio_every_activation(lut=True)


def test_add_lut_only_for_large_outputs() -> None:
    rng = np.random.default_rng(4)
    for full, func in (([1, 4, 4, 8], "tp_add_s8"), ([1, 8, 8, 16], "tp_add_lut_s8")):
        cfg = {
            "full": full, "small": full, "mode": "same", "swap": False, "scales": (0.1, 0.1, 0.2),
            "zero_points": (3, 3, -4), "act": "NONE",
        }  # fmt: skip
        graph = read_tflite(build_binary("ADD", cfg, rng))
        assert [low.func for low in lower_all(graph) if low.emits_code] == [func]


def test_add_extreme_scale_ratio_every_activation(lut: bool = False) -> None:
    """Input scales 1000:1 apart, an output scale near TFLite's limit, and a bias-style operand."""
    for k, act in enumerate(ACTIVATIONS):
        rng = np.random.default_rng(50 + k)
        cfg = {
            "full": [1, 3, 4, 5], "small": [5], "mode": "const", "swap": k % 2 == 1,
            "scales": (0.5, 0.0005, 0.5 * 2 / (1 << 20) * 1.01 if k == 0 else 0.02),
            "zero_points": (-100, 90, 17), "act": act,
        }  # fmt: skip
        model = build_binary("ADD", cfg, rng)
        # k = 0: output multiplier in [1/2, 1), no right shift for the table kernel's record
        check_bit_exact(_lut_lowered(model) if lut and k > 0 else model, k, sanitize=False)
        if lut and k == 0:
            assert _add_funcs(model) == ["tp_add_s8"]


@pytest.mark.parametrize(
    "a,b,out,expect",
    [
        ((1, 4, 5, 3), (1, 4, 5, 3), (1, 4, 5, 3), ([1, 1, 1, 60], [0, 0, 0, 1], [0, 0, 0, 1])),
        ((1, 4, 5, 3), (3,), (1, 4, 5, 3), ([1, 1, 20, 3], [0, 0, 3, 1], [0, 0, 0, 1])),
        ((2, 1, 3), (1, 4, 1), (2, 4, 3), ([1, 2, 4, 3], [0, 3, 0, 1], [0, 0, 1, 0])),
        ((), (2, 3), (2, 3), ([1, 1, 1, 6], [0, 0, 0, 0], [0, 0, 0, 1])),
    ],
)
def test_broadcast_layout_merges_dims(a, b, out, expect) -> None:
    from tinypipe.compiler.graph import Operator

    op = Operator(0, "ADD", 1, [0, 1], [2])
    assert broadcast_layout(op, a, b, out) == expect


def test_add_rejects_unmergeable_5d_broadcast() -> None:
    b = ModelBuilder()
    x = b.tensor((2, 1, 2, 1, 2), scale=0.1, zero_point=0)
    w = b.tensor((1, 2, 1, 2, 1), scale=0.1, zero_point=0, data=np.ones((1, 2, 1, 2, 1)))
    y = b.tensor((2, 2, 2, 2, 2), scale=0.2, zero_point=0)
    b.op("ADD", [x, w], [y], "AddOptions")
    with pytest.raises(UnsupportedModelError, match="loop dims"):
        validate_host(b.build([x], [y]), np.zeros((1, 2, 1, 2, 1, 2), np.int8))


def test_add_rejects_output_scale_tflite_cannot_represent() -> None:
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=1.0, zero_point=0)
    w = b.tensor((1, 4), scale=1.0, zero_point=0, data=np.ones((1, 4)))
    y = b.tensor((1, 4), scale=1e-7, zero_point=0)
    b.op("ADD", [x, w], [y], "AddOptions")
    with pytest.raises(UnsupportedModelError, match="output scale"):
        validate_host(b.build([x], [y]), np.zeros((1, 1, 4), np.int8))


def test_add_converter_models_bit_exact() -> None:
    """Add of two pooling branches with a fused ReLU, and a Keras bias vector (constant operand)."""
    from tinypipe.model.zoo import convert_int8, import_keras

    keras = import_keras()
    layers = keras.layers

    class Bias(layers.Layer):
        def build(self, shape):
            self.b = self.add_weight(shape=(shape[-1],), initializer="random_normal")

        def call(self, x):
            return x + self.b

    keras.utils.set_random_seed(5)
    inp = keras.Input((6, 7, 3), batch_size=1)
    a = layers.MaxPooling2D(2, strides=1, padding="same")(inp)
    c = layers.AveragePooling2D(3, strides=1, padding="same")(inp)
    x = layers.ReLU()(layers.Add()([a, c]))
    x = Bias()(x)
    rep = np.random.default_rng(0).uniform(-1, 1, (16, 6, 7, 3)).astype(np.float32)
    tflite = convert_int8(keras.Model(inp, x), rep)
    g = read_tflite(tflite)
    adds = [op for op in g.operators if op.opcode == "ADD"]
    assert len(adds) == 2 and adds[0].options["fused_activation_function"] == "RELU"
    assert any(g.tensors[i].is_const and g.tensors[i].shape == (3,) for i in adds[1].inputs)
    check_bit_exact(tflite, 12, sanitize=True)
