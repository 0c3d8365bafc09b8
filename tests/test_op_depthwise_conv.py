"""DEPTHWISE_CONV_2D: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized one-op models built directly (depth multipliers 1..3, per-tensor and per-channel
weights, asymmetric input zero points, SAME/VALID padding with odd totals, strides, dilation,
every fused activation, batch 2), plus a model made by the real TF converter.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_op_conv import ACTIVATIONS, check_bit_exact, random_quant
from tflite_builder import ModelBuilder

from tinypipe.errors import UnsupportedModelError
from tinypipe.graph import read_tflite
from tinypipe.ops.conv import conv_padding
from tinypipe.validate import validate_host


def random_depthwise_config(rng: np.random.Generator) -> dict:
    """One random DEPTHWISE_CONV_2D geometry; always valid for TFLite."""
    while True:
        cfg = {
            "batch": int(rng.choice([1, 1, 1, 2])),
            "in_h": int(rng.integers(1, 14)),
            "in_w": int(rng.integers(1, 14)),
            "in_c": int(rng.integers(1, 9)),
            "mult": int(rng.choice([1, 1, 2, 3])),
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


def build_depthwise(cfg: dict, rng: np.random.Generator, depth_multiplier: int | None = None):
    """A one-op DEPTHWISE_CONV_2D .tflite for `cfg` (depth_multiplier overrides the option)."""
    out_c = cfg["in_c"] * cfg["mult"]
    taps = cfg["k_h"] * cfg["k_w"]
    in_scale, w_scale, out_scale, out_zp = random_quant(
        rng, cfg["act"], taps, out_c, cfg["per_channel"]
    )
    weights = rng.integers(-127, 128, (1, cfg["k_h"], cfg["k_w"], out_c))
    b = ModelBuilder()
    x = b.tensor(
        (cfg["batch"], cfg["in_h"], cfg["in_w"], cfg["in_c"]),
        scale=in_scale,
        zero_point=cfg["in_zp"],
    )
    w = b.tensor(
        weights.shape,
        scale=w_scale,
        zero_point=np.zeros(w_scale.size, np.int64),
        data=weights,
        axis=3,
    )
    inputs = [x, w]
    if cfg["bias"]:
        bias_scale = in_scale * np.broadcast_to(w_scale, (out_c,))
        bias = np.round(rng.uniform(-0.5, 0.5, out_c) * 74 * 74 * np.sqrt(taps))
        inputs.append(
            b.tensor(
                (out_c,),
                "int32",
                scale=bias_scale,
                zero_point=np.zeros(out_c, np.int64),
                data=bias,
            )
        )
    y = b.tensor(
        (cfg["batch"], cfg["out_h"], cfg["out_w"], out_c), scale=out_scale, zero_point=out_zp
    )
    b.op(
        "DEPTHWISE_CONV_2D",
        inputs,
        [y],
        "DepthwiseConv2DOptions",
        version=3 if cfg["per_channel"] else 1,
        padding=cfg["padding"],
        stride_h=cfg["stride_h"],
        stride_w=cfg["stride_w"],
        dilation_h_factor=cfg["dil_h"],
        dilation_w_factor=cfg["dil_w"],
        depth_multiplier=cfg["mult"] if depth_multiplier is None else depth_multiplier,
        fused_activation_function=cfg["act"],
    )
    return b.build([x], [y])


@pytest.mark.parametrize("chunk", range(3))
def test_depthwise_random_configs_bit_exact(chunk: int) -> None:
    """30 random configurations (10 per chunk), 8 random inputs each; every 3rd under ASan/UBSan."""
    for k in range(10):
        seed = 2000 + chunk * 10 + k
        rng = np.random.default_rng(seed)
        cfg = random_depthwise_config(rng)
        model = build_depthwise(cfg, rng)
        try:
            check_bit_exact(model, seed, sanitize=k % 3 == 0)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed} config {cfg}: {exc}") from None


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("mult", [1, 2])
def test_depthwise_odd_same_padding_stride2(act: str, mult: int) -> None:
    """Even input, stride 2, SAME: TFLite pads 0 rows on top and 1 at the bottom."""
    rng = np.random.default_rng(17)
    cfg = {
        "batch": 1, "in_h": 10, "in_w": 8, "in_c": 4, "mult": mult, "k_h": 3, "k_w": 3,
        "stride_h": 2, "stride_w": 2, "dil_h": 1, "dil_w": 1, "padding": "SAME",
        "per_channel": True, "bias": True, "act": act, "in_zp": 12, "out_h": 5, "out_w": 4,
    }  # fmt: skip
    check_bit_exact(build_depthwise(cfg, rng), 17, sanitize=False)


def test_depthwise_rejects_inconsistent_depth_multiplier() -> None:
    rng = np.random.default_rng(0)
    cfg = random_depthwise_config(rng)
    cfg["mult"] = 2
    model = build_depthwise(cfg, rng, depth_multiplier=3)
    with pytest.raises(UnsupportedModelError, match="depth_multiplier 3"):
        validate_host(model, np.zeros((1, *read_tflite(model).input_tensors[0].shape), np.int8))


def test_depthwise_converter_model_bit_exact() -> None:
    """DepthwiseConv2D variants as the TF converter emits them."""
    from tinypipe.zoo import convert_int8, import_keras

    keras = import_keras()
    layers = keras.layers
    keras.utils.set_random_seed(5)
    inp = keras.Input((12, 11, 3), batch_size=1)
    x = layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6")(inp)
    x = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu")(x)
    x = layers.DepthwiseConv2D((3, 2), dilation_rate=2, padding="valid", use_bias=False)(x)
    model = keras.Model(inp, x)
    rep = np.random.default_rng(0).uniform(-1, 1, (16, 12, 11, 3)).astype(np.float32)
    tflite = convert_int8(model, rep)
    g = read_tflite(tflite)
    assert [op.opcode for op in g.operators] == ["DEPTHWISE_CONV_2D"] * 3
    assert g.operators[1].options["depth_multiplier"] == 2
    check_bit_exact(tflite, 13, sanitize=True)
