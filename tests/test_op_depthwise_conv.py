"""DEPTHWISE_CONV_2D: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized one-op models built directly (depth multipliers 1..3, per-tensor and per-channel
weights, asymmetric input zero points, SAME/VALID padding with odd totals, strides, dilation,
every fused activation, batch 2), plus a model made by the real TF converter.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import (
    ACTIVATIONS,
    build_depthwise,
    build_generated_depthwise,
    check_bit_exact,
    conv_output_size,
    random_conv_geometry,
    random_generated_depthwise_config,
    run_random_cases,
)

from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import lower_all
from tinypipe.compiler.depthwise_gen import depthwise_blob
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.depthwise_conv import interleave_dw_w16
from tinypipe.errors import UnsupportedModelError


def random_depthwise_config(rng: np.random.Generator) -> dict:
    """One random DEPTHWISE_CONV_2D geometry; always valid for TFLite."""

    def leading(rng: np.random.Generator) -> dict:
        return {
            "batch": int(rng.choice([1, 1, 1, 2])),
            "in_h": int(rng.integers(1, 14)),
            "in_w": int(rng.integers(1, 14)),
            "in_c": int(rng.integers(1, 9)),
            "mult": int(rng.choice([1, 1, 2, 3])),
        }

    return random_conv_geometry(rng, leading)


@pytest.mark.parametrize("chunk", range(3))
def test_depthwise_random_configs_bit_exact(chunk: int) -> None:
    """30 random configurations (10 per chunk), 8 random inputs each; every 3rd under ASan/UBSan."""
    run_random_cases(random_depthwise_config, build_depthwise, 2000 + 10 * chunk, 10)


def random_w16_depthwise_config(rng: np.random.Generator) -> dict:
    """A random DEPTHWISE_CONV_2D that runs on int16-expanded weights
    (tp_depthwise_conv_w16_s8): depth multiplier 1, channels in fours, 3x3 windows (the
    written-out path) half of the time, any other window size otherwise."""
    cfg = random_conv_geometry(
        rng,
        lambda r: {
            "batch": int(r.choice([1, 1, 2])),
            "in_h": int(r.integers(3, 11)),
            "in_w": int(r.integers(3, 11)),
            "in_c": int(r.choice([4, 8, 12, 16])),
            "mult": 1,
        },
    )
    if rng.random() < 0.5:
        cfg.update(k_h=3, k_w=3)
        cfg["out_h"], cfg["out_w"] = conv_output_size(cfg)
        if cfg["out_h"] < 1 or cfg["out_w"] < 1:
            cfg.update(padding="SAME")
            cfg["out_h"], cfg["out_w"] = conv_output_size(cfg)
    return cfg


def build_w16_depthwise(cfg: dict, rng: np.random.Generator) -> bytes:
    """build_depthwise, drawn again until the kernel on int16-expanded weights is chosen: it also
    needs every channel's requantization in the form of host-precomputed constants (shifts of
    -2 or less, the usual case), which some random scales miss."""
    for _ in range(50):
        model = build_depthwise(cfg, rng)
        (low,) = [low for low in lower_all(read_tflite(model)) if low.emits_code]
        if low.func == "tp_depthwise_conv_w16_s8":
            return model
    raise AssertionError(f"tp_depthwise_conv_w16_s8 never chosen for {cfg}")


@pytest.mark.parametrize("chunk", range(2))
def test_depthwise_w16_random_configs_bit_exact(chunk: int) -> None:
    """12 random depthwise layers on int16-expanded weights (the portable loop on this machine;
    the SMLABB/SMLATT path runs in test_kernels_on_m4.py)."""
    run_random_cases(random_w16_depthwise_config, build_w16_depthwise, 2500 + 6 * chunk, 6)


@pytest.mark.parametrize("chunk", range(2))
def test_depthwise_generated_random_configs_bit_exact(chunk: int) -> None:
    """12 random 3x3 layers on a generated kernel (its portable path here; the assembly runs in
    test_kernels_on_m4.py), every 3rd under ASan/UBSan."""
    run_random_cases(
        random_generated_depthwise_config, build_generated_depthwise, 2600 + 6 * chunk, 6
    )


def test_depthwise_blob_layout() -> None:
    """The words the generated kernel reads, element by element from depthwise_blob's
    definition, starting from a filter in tp_depthwise_conv_w16_s8's layout."""
    rng = np.random.default_rng(11)
    channels, taps = 8, 9
    w = rng.integers(-128, 128, (channels, taps)).astype(np.int8)
    bias = rng.integers(-(2**20), 2**20, channels).astype(np.int32)
    requant = rng.integers(-(2**30), 2**30, 3 * channels).astype(np.int32)
    blob = depthwise_blob(interleave_dw_w16(w), bias, requant)
    assert blob.dtype == np.int32 and blob.size == (channels // 4) * (4 + 2 * taps + 12)

    def pair(t: int, lo: int, hi: int) -> int:
        return int(np.int32((int(w[lo, t]) & 0xFFFF) | (int(w[hi, t]) << 16)))

    pos = 0
    for c in range(0, channels, 4):
        assert list(blob[pos : pos + 4]) == list(bias[c : c + 4])
        pos += 4
        for t in range(taps):
            assert list(blob[pos : pos + 2]) == [pair(t, c, c + 2), pair(t, c + 1, c + 3)]
            pos += 2
        assert list(blob[pos : pos + 12]) == list(requant[3 * c : 3 * c + 12])
        pos += 12
    assert pos == blob.size


def test_interleave_dw_w16_layout() -> None:
    """The layout tp_depthwise_conv_w16_s8 reads (tp_depthwise_conv.h), from its definition."""
    w = np.random.default_rng(3).integers(-128, 128, (8, 5)).astype(np.int8)  # [channels, taps]
    got = interleave_dw_w16(w)
    want = [int(w[4 * g + lane, t]) for g in range(2) for t in range(5) for lane in (0, 2, 1, 3)]
    assert got.dtype == np.int16 and got.tolist() == want


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
    from tinypipe.model.zoo import convert_int8, import_keras

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
