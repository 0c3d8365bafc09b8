"""MUL: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

The same randomized cases as ADD (see test_op_add.py): broadcasting in every direction,
constant operands, asymmetric zero points, scale ratios up to 1000:1, effective multipliers
below and above one, every fused activation. Plus a model made by the real TF converter.
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

from tinypipe.compiler.codegen import lower_all
from tinypipe.compiler.graph import read_tflite


def _mul_lowered(model: bytes):
    """The MUL's lowered call (some random cases have a MEAN make the second operand)."""
    (low,) = [low for low in lower_all(read_tflite(model)) if low.func.startswith("tp_mul")]
    return low


@pytest.mark.parametrize("chunk", range(3))
def test_mul_random_configs_bit_exact(chunk: int) -> None:
    """30 random configurations (10 per chunk), 8 random inputs each; every 3rd under ASan/UBSan."""
    run_random_binary_cases("MUL", 3000 + 10 * chunk, 10)


def test_mul_multiplier_above_one_every_activation() -> None:
    """s1 * s2 / s_out > 1 (positive shift), so the kernel shifts left before the high multiply."""
    for k, act in enumerate(ACTIVATIONS):
        rng = np.random.default_rng(70 + k)
        cfg = {
            "full": [2, 3, 4], "small": [3, 1], "mode": "const", "swap": k % 2 == 1,
            "scales": (0.05, 0.02, 0.05 * 0.02 / (3.0 + k)),
            "zero_points": (-3, 120, -128 + 40 * k), "act": act,
        }  # fmt: skip
        model = build_binary("MUL", cfg, rng)
        assert _mul_lowered(model).func == "tp_mul_s8"  # no requantization words for a left shift
        check_bit_exact(model, k, sanitize=k == 0)


def test_mul_random_configs_take_both_kernels() -> None:
    """The random configurations above run both kernels: tp_mul_rq_s8 (the host's requantization
    words) where the shift is -2 or less, tp_mul_s8 (the general requantization) elsewhere."""
    funcs = set()
    for seed in range(3000, 3030):
        rng = np.random.default_rng(seed)
        low = _mul_lowered(build_binary("MUL", random_binary_config(rng, "MUL"), rng))
        funcs.add(low.func)
        if low.func == "tp_mul_s8":
            assert low.params["output_shift"] > -2
    assert funcs == {"tp_mul_s8", "tp_mul_rq_s8"}


def _rows_lowered(model: bytes, layout: str) -> bytes:
    low = _mul_lowered(model)
    assert low.func == "tp_mul_rq_s8"
    assert (row_strides(low) == (1, 1)) == (layout != "inner")
    return model


def test_mul_requant_words_layouts_bit_exact() -> None:
    """tp_mul_rq_s8 over same-shape inputs, contiguous broadcast rows and a constant broadcast
    along C, 2 of each (every 3rd under ASan/UBSan)."""
    for k, layout in enumerate(LUT_LAYOUTS):
        run_random_cases(
            lambda rng, layout=layout: random_rows_binary_config(rng, "MUL", layout),
            lambda cfg, rng, layout=layout: _rows_lowered(build_binary("MUL", cfg, rng), layout),
            3100 + 10 * k,
            2,
        )


def test_mul_converter_model_bit_exact() -> None:
    """Multiply of two pooling branches, then a per-channel constant scale (Keras weight)."""
    from tinypipe.model.zoo import convert_int8, import_keras

    keras = import_keras()
    layers = keras.layers

    class Scale(layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(1, 1, shape[-1]), initializer="random_normal")

        def call(self, x):
            return x * self.w

    keras.utils.set_random_seed(6)
    inp = keras.Input((5, 6, 4), batch_size=1)
    a = layers.MaxPooling2D(2, strides=1, padding="same")(inp)
    c = layers.AveragePooling2D(3, strides=1, padding="same")(inp)
    x = Scale()(layers.Multiply()([a, c]))
    rep = np.random.default_rng(1).uniform(-1, 1, (16, 5, 6, 4)).astype(np.float32)
    tflite = convert_int8(keras.Model(inp, x), rep)
    g = read_tflite(tflite)
    muls = [op for op in g.operators if op.opcode == "MUL"]
    assert len(muls) == 2
    assert any(g.tensors[i].is_const for i in muls[1].inputs)
    check_bit_exact(tflite, 13, sanitize=True)
