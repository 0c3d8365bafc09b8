"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED built for the emulated Cortex-M4F
(mps2-an386), bit for bit against the TFLM interpreter.

The host tests (test_op_*.py) never compile the kernels' DSP path (SMLAD/SXTB16 under
__ARM_FEATURE_DSP), so these one-op models run on the board through QEMU: odd sizes and channel
counts (word-wide loops with byte tails), SAME/VALID padding (windows read in place, gathered
with zero-point padding, and pixel pairs mixing both), stride 2, groups, dilation, depth
multipliers, a window too big for the depthwise tap table, asymmetric input zero points; and the
ds_cnn zoo model end to end.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import (
    build_conv,
    build_depthwise,
    build_fc,
    build_generated_depthwise,
    build_pointwise_conv,
    build_tiled_conv,
    check_bit_exact_on_board,
    conv_output_size,
    random_generated_depthwise_config,
    random_pointwise_config,
    random_tiled_conv_config,
)
from test_op_fully_connected import (
    build_dense_fc,
    dense_limits_model,
    edge_inputs,
    random_dense_fc_config,
)

from tinypipe.check.validate import validate_on_board
from tinypipe.compiler.codegen import lower_all
from tinypipe.compiler.graph import read_tflite

BOARD = "mps2-an386"
SAMPLES = 4


def _conv(**kw) -> dict:
    cfg = {
        "batch": 1, "groups": 1, "stride_h": 1, "stride_w": 1, "dil_h": 1, "dil_w": 1,
        "padding": "SAME", "per_channel": True, "bias": True, "act": "NONE", "in_zp": -37,
    }  # fmt: skip
    cfg.update(kw)
    cfg["out_h"], cfg["out_w"] = conv_output_size(cfg)
    return cfg


CONV_CASES = {
    # 3x3 over 7 channels: 21-byte rows read in place inside, gathered at the border; 5 filters
    "conv_same_odd": _conv(in_h=9, in_w=7, filter_c=7, out_per_group=5, k_h=3, k_w=3, in_zp=-101),
    # stride 2, SAME with an odd padding total, short rows (always gathered), relu
    "conv_stride2_short_rows": _conv(
        in_h=11, in_w=10, filter_c=3, out_per_group=6, k_h=3, k_w=3, stride_h=2, stride_w=2,
        act="RELU", in_zp=5,
    ),
    # VALID 1x1 pointwise, per tensor, no bias, 19 input channels (word loop + 3-byte tail)
    "conv_pointwise_valid": _conv(
        in_h=5, in_w=5, filter_c=19, out_per_group=9, k_h=1, k_w=1, padding="VALID",
        per_channel=False, bias=False, in_zp=77,
    ),
    # grouped and dilated: every window gathered
    "conv_grouped_dilated": _conv(
        in_h=8, in_w=9, filter_c=5, groups=2, out_per_group=3, k_h=2, k_w=3, dil_h=2, dil_w=2,
        act="RELU6", in_zp=-128,
    ),
    # int16-expanded weights (tp_conv_w16_s8): 1x1 over 24 channels, odd output width (a
    # pixel alone at each row end), 12 filters (three 4-channel tiles)
    "conv_w16_pointwise": _conv(
        in_h=5, in_w=7, filter_c=24, out_per_group=12, k_h=1, k_w=1, act="RELU", in_zp=-3,
    ),
    # int16-expanded weights on gathered windows: 1 input channel, a 5x4 window, stride 2 (the
    # shape of a first layer), per tensor
    "conv_w16_first_layer": _conv(
        in_h=13, in_w=11, filter_c=1, out_per_group=8, k_h=5, k_w=4, stride_h=2, stride_w=2,
        per_channel=False, in_zp=90,
    ),
    # int16-expanded weights on gathered patches padded to whole words: a 3x3 window over 3
    # channels (27 bytes + 1 met by a zero weight), stride 2, the shape of an RGB first layer
    "conv_w16_rgb_padded": _conv(
        in_h=12, in_w=11, filter_c=3, out_per_group=8, k_h=3, k_w=3, stride_h=2, stride_w=2,
        act="RELU6", in_zp=-128,
    ),
}  # fmt: skip

DW_CASES = {
    # depth multiplier 1 over 11 channels: 4-channel SMLABB/SMLATT blocks plus a scalar tail
    "dw_same_stride2": {
        "batch": 1, "in_h": 10, "in_w": 9, "in_c": 11, "mult": 1, "k_h": 3, "k_w": 3,
        "stride_h": 2, "stride_w": 2, "dil_h": 1, "dil_w": 1, "padding": "SAME",
        "per_channel": True, "bias": True, "act": "RELU", "in_zp": 19,
    },
    "dw_mult2_valid": {
        "batch": 1, "in_h": 7, "in_w": 6, "in_c": 3, "mult": 2, "k_h": 3, "k_w": 2,
        "stride_h": 1, "stride_w": 2, "dil_h": 2, "dil_w": 1, "padding": "VALID",
        "per_channel": False, "bias": True, "act": "NONE", "in_zp": -90,
    },
    # int16-expanded weights (tp_depthwise_conv_w16_s8): 3x3 written out in assembly, 12
    # channels, SAME padding on every border, RELU6 (a clamp below 127)
    "dw_w16_3x3": {
        "batch": 1, "in_h": 7, "in_w": 5, "in_c": 12, "mult": 1, "k_h": 3, "k_w": 3,
        "stride_h": 1, "stride_w": 1, "dil_h": 1, "dil_w": 1, "padding": "SAME",
        "per_channel": True, "bias": True, "act": "RELU6", "in_zp": -21,
    },
    # int16-expanded weights, a 2x5 window (the tap loop), stride 2, dilation, no activation
    "dw_w16_2x5_stride2": {
        "batch": 2, "in_h": 9, "in_w": 12, "in_c": 8, "mult": 1, "k_h": 2, "k_w": 5,
        "stride_h": 2, "stride_w": 2, "dil_h": 2, "dil_w": 1, "padding": "SAME",
        "per_channel": False, "bias": False, "act": "NONE", "in_zp": 64,
    },
    # a 9x8 window (72 taps) is over TP_DW_MAX_TAPS: the plain per-tap path
    "dw_huge_window": {
        "batch": 1, "in_h": 10, "in_w": 9, "in_c": 5, "mult": 1, "k_h": 9, "k_w": 8,
        "stride_h": 1, "stride_w": 1, "dil_h": 1, "dil_w": 1, "padding": "SAME",
        "per_channel": True, "bias": False, "act": "NONE", "in_zp": 3,
    },
}  # fmt: skip

FC_CASES = {
    # 3 rows, 45 inputs (word loop + tail), 7 outputs (pairs + one left over)
    "fc_odd": {
        "rows": 3, "in_features": 45, "out_features": 7, "layout": "2d", "per_channel": True,
        "bias": True, "act": "RELU", "in_zp": -55, "w_zp": False,
    },
    # 4 outputs per pass on interleaved weights (tp_fully_connected_x4_s8): 2 rows, 36 inputs,
    # 12 outputs, RELU6
    "fc_x4": {
        "rows": 2, "in_features": 36, "out_features": 12, "layout": "2d", "per_channel": True,
        "bias": True, "act": "RELU6", "in_zp": 9, "w_zp": False,
    },
    # asymmetric per-tensor weights: the sum(x) term
    "fc_weight_zp": {
        "rows": 1, "in_features": 64, "out_features": 12, "layout": "2d", "per_channel": False,
        "bias": False, "act": "NONE", "in_zp": 100, "w_zp": True,
    },
}  # fmt: skip


def _check_on_board(model: bytes, seed: int) -> None:
    check_bit_exact_on_board(model, seed, BOARD, SAMPLES)


def _finish_dw(cfg: dict) -> dict:
    cfg = dict(cfg)
    cfg["out_h"], cfg["out_w"] = conv_output_size(cfg)
    return cfg


@pytest.mark.parametrize("label", list(CONV_CASES))
def test_conv_on_m4_bit_exact(label: str) -> None:
    seed = 100 + list(CONV_CASES).index(label)
    model = build_conv(CONV_CASES[label], np.random.default_rng(seed))
    (low,) = [low for low in lower_all(read_tflite(model)) if low.emits_code]
    assert (low.func == "tp_conv_w16_s8") == ("w16" in label)
    _check_on_board(model, seed)


@pytest.mark.parametrize("label", list(DW_CASES))
def test_depthwise_on_m4_bit_exact(label: str) -> None:
    seed = 200 + list(DW_CASES).index(label)
    model = build_depthwise(_finish_dw(DW_CASES[label]), np.random.default_rng(seed))
    (low,) = [low for low in lower_all(read_tflite(model)) if low.emits_code]
    assert (low.func == "tp_depthwise_conv_w16_s8") == ("w16" in label)
    _check_on_board(model, seed)


@pytest.mark.parametrize("label", list(FC_CASES))
def test_fully_connected_on_m4_bit_exact(label: str) -> None:
    seed = 300 + list(FC_CASES).index(label)
    model = build_fc(FC_CASES[label], np.random.default_rng(seed))
    (low,) = [low for low in lower_all(read_tflite(model)) if low.emits_code]
    assert (low.func == "tp_fully_connected_x4_s8") == ("x4" in label)
    _check_on_board(model, seed)


# Random generated pointwise kernels (pointwise.py, their assembly): seeds whose draws cover an
# inner loop written out whole (8, 20 channels) and in passes (48, 64, 96), an odd pixel count
# (the last pixel alone: 508, 522), and clamps inside [-128, 127] (RELU, RELU_N1_TO_1).
POINTWISE_SEEDS = [500, 501, 503, 508, 522]


@pytest.mark.parametrize("seed", POINTWISE_SEEDS)
def test_generated_pointwise_on_m4_bit_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = build_pointwise_conv(random_pointwise_config(rng), rng)
    _check_on_board(model, seed)


# Random generated conv tiles (conv_gen.py, their assembly): seeds whose draws cover filter rows
# looped in passes over 3 rows (902, batch 2, VALID) and written out over 4 rows with vertical
# dilation (913), windows gathered whole (910, 3 channels), stride 2 with padded borders and an
# odd output width (916), and a stride wider than the window (923: border pixels one at a time).
TILE_SEEDS = [902, 910, 913, 916, 923]


@pytest.mark.parametrize("seed", TILE_SEEDS)
def test_generated_conv_tile_on_m4_bit_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = build_tiled_conv(random_tiled_conv_config(rng), rng)
    _check_on_board(model, seed)


# Random generated FULLY_CONNECTED kernels (fully_connected_gen.py, their assembly): seeds whose
# draws cover, with plain weights (a -128 among them: 700, 701, 704) and paired ones (706, 714,
# 718), one run of 4 inputs, the inner loop whole (12) and in passes (36, 192), several rows, 8
# to 24 outputs, and clamps inside [-128, 127].
DENSE_SEEDS = [700, 701, 704, 706, 714, 718]


@pytest.mark.parametrize("seed", DENSE_SEEDS)
def test_generated_fully_connected_on_m4_bit_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = build_dense_fc(random_dense_fc_config(rng), rng)
    _check_on_board(model, seed)


def check_dense_limits_on_board(board: str, seed: int) -> None:
    """The layers at the paired layout's limits (test_op_fully_connected.DENSE_LIMITS: paired
    and plain kernels side by side), inputs at the int8 extremes included, in one firmware."""
    model = dense_limits_model(seed)
    g = read_tflite(model)
    verdict, _ = validate_on_board(g, edge_inputs(g, seed, 3), board)
    assert verdict.samples == 3
    assert verdict.bit_exact, verdict.summary()


def test_dense_limits_on_m4_bit_exact() -> None:
    check_dense_limits_on_board(BOARD, 710)


# Random generated 3x3 depthwise kernels (depthwise_gen.py, their assembly): seeds whose draws
# cover strides (1, 1), (2, 2), (2, 1) and (1, 2), odd and even output widths (a last pixel
# alone), SAME borders on every side and VALID, batch 2, and clamps inside [-128, 127].
DEPTHWISE_SEEDS = [802, 803, 804, 807, 815]


@pytest.mark.parametrize("seed", DEPTHWISE_SEEDS)
def test_generated_depthwise_on_m4_bit_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = build_generated_depthwise(random_generated_depthwise_config(rng), rng)
    _check_on_board(model, seed)


def test_ds_cnn_on_m4_bit_exact() -> None:
    from tinypipe.model.zoo import make_int8_model

    _check_on_board(make_int8_model("ds_cnn"), 400)
