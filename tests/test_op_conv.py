"""CONV_2D: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized one-op models built directly (per-tensor and per-channel weights, asymmetric input
zero points, SAME/VALID padding with odd totals, strides, dilation, groups, every fused
activation, batch 2), plus a model made by the real TF converter.
"""

from __future__ import annotations

import numpy as np
import pytest
from tflite_builder import ModelBuilder

from tinypipe.errors import UnsupportedModelError
from tinypipe.graph import read_tflite
from tinypipe.ops.conv import conv_padding
from tinypipe.validate import validate_host

ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
SAMPLES = 8


def random_conv_config(rng: np.random.Generator) -> dict:
    """One random CONV_2D geometry and quantization; always valid for TFLite."""
    while True:
        cfg = {
            "batch": int(rng.choice([1, 1, 1, 2])),
            "in_h": int(rng.integers(1, 13)),
            "in_w": int(rng.integers(1, 13)),
            "filter_c": int(rng.integers(1, 7)),
            "groups": int(rng.choice([1, 1, 1, 2, 3])),
            "out_per_group": int(rng.integers(1, 6)),
            "k_h": int(rng.integers(1, 6)),
            "k_w": int(rng.integers(1, 6)),
            "stride_h": int(rng.integers(1, 4)),
            "stride_w": int(rng.integers(1, 4)),
            "dil_h": int(rng.choice([1, 1, 2, 3])),
            "dil_w": int(rng.choice([1, 1, 2])),
            "padding": str(rng.choice(["SAME", "VALID"])),
            "per_channel": bool(rng.integers(0, 2)),
            "bias": bool(rng.integers(0, 4) > 0),
            "act": str(rng.choice(ACTIVATIONS)),
            "in_zp": int(rng.integers(-128, 128)),
        }
        out_h, _ = conv_padding(
            cfg["padding"], cfg["in_h"], cfg["k_h"], cfg["stride_h"], cfg["dil_h"]
        )
        out_w, _ = conv_padding(
            cfg["padding"], cfg["in_w"], cfg["k_w"], cfg["stride_w"], cfg["dil_w"]
        )
        if out_h >= 1 and out_w >= 1:
            cfg["out_h"], cfg["out_w"] = out_h, out_w
            return cfg


def random_quant(rng: np.random.Generator, act: str, taps: int, channels: int, per_channel: bool):
    """(input scale, weight scales, output scale, output zero point) for an accumulation of `taps`
    products: the output range suits the activation, and the multiplier s_in * s_w / s_out puts
    typical outputs near +-60 levels, times a random factor (sometimes extreme: tiny multipliers,
    or multipliers above 1 that take the left-shift path)."""
    if act == "RELU6":
        out_scale, out_zp = 6 / 255 * rng.uniform(0.8, 1.5), int(rng.integers(-128, -60))
    elif act == "RELU_N1_TO_1":
        out_scale, out_zp = 2 / 255 * rng.uniform(0.8, 1.5), int(rng.integers(-40, 40))
    elif act == "RELU":
        out_scale, out_zp = rng.uniform(0.01, 0.2), int(rng.integers(-128, 0))
    else:
        out_scale, out_zp = rng.uniform(0.01, 0.2), int(rng.integers(-128, 128))
    factor = rng.uniform(0.3, 3.0)
    extreme = rng.uniform()
    if extreme < 0.06:
        factor *= 2.0 ** rng.uniform(5, 12)
    elif extreme < 0.12:
        factor /= 2.0 ** rng.uniform(5, 12)
    multiplier = 60 / (74 * 74 * np.sqrt(taps)) * factor
    in_scale = float(rng.uniform(0.005, 0.1))
    spread = rng.uniform(0.5, 2.0, channels if per_channel else 1)
    w_scale = multiplier * out_scale / in_scale * spread
    return in_scale, w_scale, float(out_scale), out_zp


def build_conv(cfg: dict, rng: np.random.Generator) -> bytes:
    """A one-op CONV_2D .tflite for `cfg`."""
    in_c = cfg["filter_c"] * cfg["groups"]
    out_c = cfg["out_per_group"] * cfg["groups"]
    taps = cfg["k_h"] * cfg["k_w"] * cfg["filter_c"]
    in_scale, w_scale, out_scale, out_zp = random_quant(
        rng, cfg["act"], taps, out_c, cfg["per_channel"]
    )
    n_scales = w_scale.size
    weights = rng.integers(-127, 128, (out_c, cfg["k_h"], cfg["k_w"], cfg["filter_c"]))
    b = ModelBuilder()
    x = b.tensor(
        (cfg["batch"], cfg["in_h"], cfg["in_w"], in_c), scale=in_scale, zero_point=cfg["in_zp"]
    )
    w = b.tensor(
        weights.shape, scale=w_scale, zero_point=np.zeros(n_scales, np.int64), data=weights, axis=0
    )
    inputs = [x, w]
    if cfg["bias"]:
        bias_scale = in_scale * np.broadcast_to(w_scale, (out_c,))
        bias = np.round(rng.uniform(-0.5, 0.5, out_c) * 74 * 74 * np.sqrt(taps))
        inputs.append(
            b.tensor(
                (out_c,), "int32", scale=bias_scale, zero_point=np.zeros(out_c, np.int64), data=bias
            )
        )
    y = b.tensor(
        (cfg["batch"], cfg["out_h"], cfg["out_w"], out_c), scale=out_scale, zero_point=out_zp
    )
    b.op(
        "CONV_2D",
        inputs,
        [y],
        "Conv2DOptions",
        version=3 if cfg["per_channel"] else 1,
        padding=cfg["padding"],
        stride_h=cfg["stride_h"],
        stride_w=cfg["stride_w"],
        dilation_h_factor=cfg["dil_h"],
        dilation_w_factor=cfg["dil_w"],
        fused_activation_function=cfg["act"],
    )
    return b.build([x], [y])


def check_bit_exact(model: bytes, seed: int, sanitize: bool) -> None:
    g = read_tflite(model)
    x = np.random.default_rng(seed).integers(
        -128, 128, (SAMPLES, *g.input_tensors[0].shape), dtype=np.int8
    )
    verdict, out = validate_host(model, x, sanitize=sanitize)
    assert verdict.bit_exact, verdict.summary()
    assert verdict.samples == SAMPLES


@pytest.mark.parametrize("chunk", range(3))
def test_conv_random_configs_bit_exact(chunk: int) -> None:
    """30 random configurations (10 per chunk), 8 random inputs each; every 3rd under ASan/UBSan."""
    for k in range(10):
        seed = 1000 + chunk * 10 + k
        rng = np.random.default_rng(seed)
        cfg = random_conv_config(rng)
        model = build_conv(cfg, rng)
        try:
            check_bit_exact(model, seed, sanitize=k % 3 == 0)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed} config {cfg}: {exc}") from None


@pytest.mark.parametrize(
    "padding,in_size,k,stride,dil,expect",
    [
        ("SAME", 8, 3, 2, 1, (4, 0)),  # total padding 1 (odd): nothing on top, 1 at the bottom
        ("SAME", 9, 3, 2, 1, (5, 1)),
        ("SAME", 10, 4, 2, 1, (5, 1)),  # total 2: 1 on each side
        ("SAME", 7, 3, 1, 2, (7, 2)),
        ("VALID", 7, 3, 2, 1, (3, 0)),
        ("VALID", 9, 3, 1, 3, (3, 0)),
        ("SAME", 1, 5, 3, 1, (1, 2)),
    ],
)
def test_conv_padding_matches_tflite_rule(padding, in_size, k, stride, dil, expect) -> None:
    assert conv_padding(padding, in_size, k, stride, dil) == expect


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_conv_odd_same_padding_stride2_every_activation(act: str) -> None:
    """Even input, stride 2, SAME: TFLite pads 0 rows on top and 1 at the bottom."""
    rng = np.random.default_rng(7)
    cfg = {
        "batch": 1, "in_h": 8, "in_w": 6, "filter_c": 3, "groups": 1, "out_per_group": 5,
        "k_h": 3, "k_w": 3, "stride_h": 2, "stride_w": 2, "dil_h": 1, "dil_w": 1,
        "padding": "SAME", "per_channel": True, "bias": True, "act": act,
        "in_zp": -5, "out_h": 4, "out_w": 3,
    }  # fmt: skip
    check_bit_exact(build_conv(cfg, rng), 7, sanitize=False)


def test_conv_rejects_asymmetric_weights() -> None:
    b = ModelBuilder()
    x = b.tensor((1, 4, 4, 2), scale=0.05, zero_point=0)
    w = b.tensor((3, 1, 1, 2), scale=0.01, zero_point=4, data=np.ones((3, 1, 1, 2)))
    y = b.tensor((1, 4, 4, 3), scale=0.1, zero_point=0)
    b.op("CONV_2D", [x, w], [y], "Conv2DOptions", padding="SAME", stride_h=1, stride_w=1)
    with pytest.raises(UnsupportedModelError, match="zero point"):
        validate_host(b.build([x], [y]), np.zeros((1, 1, 4, 4, 2), np.int8))


def test_conv_rejects_wrong_output_shape() -> None:
    b = ModelBuilder()
    x = b.tensor((1, 5, 5, 2), scale=0.05, zero_point=0)
    w = b.tensor((3, 3, 3, 2), scale=0.01, zero_point=0, data=np.ones((3, 3, 3, 2)))
    y = b.tensor((1, 5, 5, 3), scale=0.1, zero_point=0)
    b.op("CONV_2D", [x, w], [y], "Conv2DOptions", padding="VALID", stride_h=1, stride_w=1)
    with pytest.raises(UnsupportedModelError, match=r"expected \[1, 3, 3, 3\]"):
        validate_host(b.build([x], [y]), np.zeros((1, 1, 5, 5, 2), np.int8))


def test_conv_converter_model_bit_exact() -> None:
    """Conv2D variants as the TF converter emits them (strided SAME, dilated VALID, grouped)."""
    from tinypipe.zoo import convert_int8, import_keras

    keras = import_keras()
    layers = keras.layers
    keras.utils.set_random_seed(3)
    inp = keras.Input((10, 9, 4), batch_size=1)
    x = layers.Conv2D(6, 3, strides=2, padding="same", activation="relu")(inp)
    x = layers.Conv2D(6, (2, 3), dilation_rate=2, padding="valid", activation="relu6")(x)
    x = layers.Conv2D(4, 3, groups=2, padding="same", use_bias=False)(x)
    model = keras.Model(inp, x)
    rep = np.random.default_rng(0).uniform(-1, 1, (16, 10, 9, 4)).astype(np.float32)
    tflite = convert_int8(model, rep)
    g = read_tflite(tflite)
    assert [op.opcode for op in g.operators] == ["CONV_2D"] * 3
    assert g.tensors[g.operators[2].inputs[1]].shape[3] == 3  # grouped: 6 input channels, 2 groups
    check_bit_exact(tflite, 11, sanitize=True)
