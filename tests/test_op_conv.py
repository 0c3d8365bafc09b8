"""CONV_2D: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized one-op models built directly (per-tensor and per-channel weights, asymmetric input
zero points, SAME/VALID padding with odd totals, strides, dilation, groups, every fused
activation, batch 2), plus a model made by the real TF converter.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import (
    ACTIVATIONS,
    build_conv,
    build_pointwise_conv,
    build_tiled_conv,
    check_bit_exact,
    random_conv_geometry,
    random_pointwise_config,
    random_tiled_conv_config,
    run_random_cases,
)

from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import lower_all
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.conv import conv_padding, interleave_w16
from tinypipe.compiler.pointwise import pointwise_blob
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError


def random_conv_config(rng: np.random.Generator) -> dict:
    """One random CONV_2D geometry and quantization; always valid for TFLite."""

    def leading(rng: np.random.Generator) -> dict:
        return {
            "batch": int(rng.choice([1, 1, 1, 2])),
            "in_h": int(rng.integers(1, 13)),
            "in_w": int(rng.integers(1, 13)),
            "filter_c": int(rng.integers(1, 7)),
            "groups": int(rng.choice([1, 1, 1, 2, 3])),
            "out_per_group": int(rng.integers(1, 6)),
        }

    return random_conv_geometry(rng, leading)


@pytest.mark.parametrize("chunk", range(3))
def test_conv_random_configs_bit_exact(chunk: int) -> None:
    """30 random configurations (10 per chunk), 8 random inputs each; every 3rd under ASan/UBSan."""
    run_random_cases(random_conv_config, build_conv, 1000 + 10 * chunk, 10)


def random_w16_conv_config(rng: np.random.Generator) -> dict:
    """A random ungrouped CONV_2D that runs on int16-expanded weights (tp_conv_w16_s8): filter
    rows of whole words, or short rows that are gathered into patches padded to whole words (1-3
    input channels, like first layers),
    output channels in fours, enough output pixels; odd output widths (a pixel alone at the row
    end), windows read in place and gathered, stride, dilation."""
    while True:
        cfg = random_conv_geometry(
            rng,
            lambda r: {
                "batch": int(r.choice([1, 1, 2])),
                "in_h": int(r.integers(4, 12)),
                "in_w": int(r.integers(4, 12)),
                "filter_c": int(r.choice([1, 2, 3, 4, 8, 12, 20])),
                "groups": 1,
                "out_per_group": int(r.choice([4, 8, 12])),
            },
        )
        row = cfg["k_w"] * cfg["filter_c"]
        if (row % 4 == 0 or row < 16) and cfg["out_h"] * cfg["out_w"] >= 16:
            return cfg


def build_w16_conv(cfg: dict, rng: np.random.Generator) -> bytes:
    """build_conv, drawn again until the kernel on int16-expanded weights is chosen: it also
    needs every channel's requantization in the form of host-precomputed constants (shifts of
    -2 or less, the usual case), which some random scales miss."""
    for _ in range(50):
        model = build_conv(cfg, rng)
        (low,) = [low for low in lower_all(read_tflite(model)) if low.emits_code]
        if low.func == "tp_conv_w16_s8":
            return model
    raise AssertionError(f"tp_conv_w16_s8 never chosen for {cfg}")


@pytest.mark.parametrize("chunk", range(2))
def test_conv_w16_random_configs_bit_exact(chunk: int) -> None:
    """10 random convs on int16-expanded weights (the portable loop on this machine; the SMLAD
    loop runs in test_kernels_on_m4.py)."""
    run_random_cases(random_w16_conv_config, build_w16_conv, 1500 + 5 * chunk, 5)


@pytest.mark.parametrize("chunk", range(2))
def test_conv_generated_pointwise_random_configs_bit_exact(chunk: int) -> None:
    """12 random 1x1 convs on a generated kernel (its portable path here; the assembly runs in
    test_kernels_on_m4.py), every 3rd under ASan/UBSan."""
    run_random_cases(random_pointwise_config, build_pointwise_conv, 1600 + 6 * chunk, 6)


@pytest.mark.parametrize("chunk", range(2))
def test_conv_generated_tile_random_configs_bit_exact(chunk: int) -> None:
    """12 random KxK / strided convs on a generated tile (conv_gen.py; its portable path here, the
    assembly runs in test_kernels_on_m4.py), every 3rd under ASan/UBSan."""
    run_random_cases(random_tiled_conv_config, build_tiled_conv, 900 + 6 * chunk, 6)


def test_pointwise_blob_layout() -> None:
    """The words the generated kernel reads, element by element from pointwise_blob's
    definition, starting from a filter in tp_conv_w16_s8's layout."""
    rng = np.random.default_rng(7)
    k, n = 8, 8
    w = rng.integers(-128, 128, (n, k)).astype(np.int8)
    bias = rng.integers(-(2**20), 2**20, n).astype(np.int32)
    requant = rng.integers(-(2**30), 2**30, 3 * n).astype(np.int32)
    blob = pointwise_blob(interleave_w16(w), bias, requant, k, n)
    assert blob.dtype == np.int32 and blob.size == (n // 4) * (2 * k + 16)

    def pair(c: int, a: int, b: int) -> int:
        return int(np.int32((int(w[c, a]) & 0xFFFF) | (int(w[c, b]) << 16)))

    pos = 0
    for oc in range(0, n, 4):
        assert list(blob[pos : pos + 4]) == list(bias[oc : oc + 4])
        pos += 4
        for i in range(0, k, 4):
            for taps in ((i, i + 2), (i + 1, i + 3)):
                assert list(blob[pos : pos + 4]) == [pair(oc + c, *taps) for c in range(4)]
                pos += 4
        assert list(blob[pos : pos + 12]) == list(requant[3 * oc : 3 * oc + 12])
        pos += 12
    assert pos == blob.size


def test_interleave_w16_layout() -> None:
    """The layout tp_conv_w16_s8 reads (tp_conv.h), element by element from its definition."""
    w = np.random.default_rng(3).integers(-128, 128, (8, 12)).astype(np.int8)
    got = interleave_w16(w)
    want = [
        w[g + c, k + j] for g in (0, 4) for k in (0, 4, 8) for c in range(4) for j in (0, 2, 1, 3)
    ]
    assert got.dtype == np.int16 and got.tolist() == [int(v) for v in want]


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
    from tinypipe.model.zoo import convert_int8, import_keras

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
