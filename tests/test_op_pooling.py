"""AVERAGE_POOL_2D and MAX_POOL_2D: tinypipe's int8 kernels against TFLM, bit for bit.

Randomized one-op models built directly: filter sizes 1..5, strides 1..3, SAME (with odd total
padding) and VALID, batch 2, asymmetric zero points, every fused activation. The average's
rounding (half away from zero, dividing by the number of taps inside the input) is exercised
by SAME windows at the borders. Plus models made by the real TF converter.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import ACTIVATIONS, check_bit_exact, labelled_failure, unary_model

from tinypipe.check.validate import validate_host
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.conv import conv_padding
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError

POOLS = ["AVERAGE_POOL_2D", "MAX_POOL_2D"]


def random_pool_config(rng: np.random.Generator) -> dict:
    while True:
        cfg = {
            "batch": int(rng.choice([1, 1, 2])),
            "in_h": int(rng.integers(1, 11)),
            "in_w": int(rng.integers(1, 11)),
            "depth": int(rng.integers(1, 6)),
            "f_h": int(rng.integers(1, 6)),
            "f_w": int(rng.integers(1, 6)),
            "s_h": int(rng.integers(1, 4)),
            "s_w": int(rng.integers(1, 4)),
            "padding": str(rng.choice(["SAME", "VALID"])),
            "act": str(rng.choice(ACTIVATIONS)),
            "scale": float(10 ** rng.uniform(-3, 0)),
            "zp": int(rng.integers(-128, 128)),
        }
        out_h, _ = conv_padding(cfg["padding"], cfg["in_h"], cfg["f_h"], cfg["s_h"], 1)
        out_w, _ = conv_padding(cfg["padding"], cfg["in_w"], cfg["f_w"], cfg["s_w"], 1)
        if out_h >= 1 and out_w >= 1:
            cfg["out_h"], cfg["out_w"] = out_h, out_w
            return cfg


def build_pool(opcode: str, cfg: dict) -> bytes:
    q = {"scale": cfg["scale"], "zero_point": cfg["zp"]}
    return unary_model(
        opcode,
        (cfg["batch"], cfg["in_h"], cfg["in_w"], cfg["depth"]),
        q,
        q,
        "Pool2DOptions",
        out_shape=(cfg["batch"], cfg["out_h"], cfg["out_w"], cfg["depth"]),
        padding=cfg["padding"],
        stride_h=cfg["s_h"],
        stride_w=cfg["s_w"],
        filter_height=cfg["f_h"],
        filter_width=cfg["f_w"],
        fused_activation_function=cfg["act"],
    )


@pytest.mark.parametrize("opcode", POOLS)
@pytest.mark.parametrize("chunk", range(2))
def test_pool_random_configs_bit_exact(opcode: str, chunk: int) -> None:
    """24 random configurations per op (12 per chunk), 8 random inputs each; every 3rd under
    ASan/UBSan."""
    for k in range(12):
        seed = 4000 + 100 * POOLS.index(opcode) + 12 * chunk + k
        cfg = random_pool_config(np.random.default_rng(seed))
        with labelled_failure(f"{opcode} seed {seed} config {cfg}"):
            check_bit_exact(build_pool(opcode, cfg), seed, sanitize=k % 3 == 0)


def test_average_pool_rounds_half_away_from_zero() -> None:
    """2-tap windows whose sums are odd land exactly on .5, on both signs."""
    cfg = {
        "batch": 1, "in_h": 1, "in_w": 16, "depth": 1, "f_h": 1, "f_w": 2, "s_h": 1, "s_w": 1,
        "padding": "VALID", "act": "NONE", "scale": 0.1, "zp": 0, "out_h": 1, "out_w": 15,
    }  # fmt: skip
    model = build_pool("AVERAGE_POOL_2D", cfg)
    x = np.array([-128, -127, -3, -2, -1, 0, 1, 2, 3, 126, 127, -5, 4, -7, 8, 9], np.int8)
    verdict, out = validate_host(model, x.reshape(1, 1, 1, 16, 1))
    assert verdict.bit_exact, verdict.summary()
    assert out.ravel()[:8].tolist() == [-128, -65, -3, -2, -1, 1, 2, 3]  # -0.5 -> -1, 0.5 -> 1


def test_pool_rejects_requantizing_output() -> None:
    b = ModelBuilder()
    x = b.tensor((1, 4, 4, 1), scale=0.1, zero_point=0)
    y = b.tensor((1, 2, 2, 1), scale=0.2, zero_point=0)
    b.op("MAX_POOL_2D", [x], [y], "Pool2DOptions", padding="VALID", stride_h=2, stride_w=2,
         filter_height=2, filter_width=2)  # fmt: skip
    with pytest.raises(UnsupportedModelError, match="quantization differ"):
        validate_host(b.build([x], [y]), np.zeros((1, 1, 4, 4, 1), np.int8))


def test_pool_converter_models_bit_exact() -> None:
    """AveragePooling2D and MaxPooling2D as the TF converter emits them."""
    from tinypipe.model.zoo import convert_int8, import_keras

    keras = import_keras()
    layers = keras.layers
    inp = keras.Input((9, 8, 3), batch_size=1)
    x = layers.AveragePooling2D(3, strides=2, padding="same")(inp)
    x = layers.MaxPooling2D(2, padding="valid")(x)
    x = layers.AveragePooling2D((2, 1), strides=1, padding="valid")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    rep = np.random.default_rng(2).uniform(-1, 1, (16, 9, 8, 3)).astype(np.float32)
    tflite = convert_int8(keras.Model(inp, x), rep)
    g = read_tflite(tflite)
    assert [op.opcode for op in g.operators] == [
        "AVERAGE_POOL_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"
    ]  # fmt: skip
    check_bit_exact(tflite, 14, sanitize=True)
