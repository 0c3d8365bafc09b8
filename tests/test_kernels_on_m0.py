"""The fast kernels' portable paths built for the emulated Cortex-M0 (micro:bit, Thumb-1, no DSP
extension, no 64-bit multiply instruction), bit for bit against the TFLM interpreter: CONV_2D on
int16-expanded weights (pixel pairs and a gathered, padded first-layer patch), DEPTHWISE_CONV_2D
on int16-expanded weights (3x3 and another window), FULLY_CONNECTED four outputs at a time, and
the generated pointwise, conv tile, depthwise and dense kernels' C paths (random layers drawn as on the M4, each
built until the generated kernel is chosen). The layer shapes are the M4 tests'
(test_kernels_on_m4.py)."""

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
    random_generated_depthwise_config,
    random_pointwise_config,
    random_tiled_conv_config,
)
from test_kernels_on_m4 import (
    CONV_CASES,
    DW_CASES,
    FC_CASES,
    _finish_dw,
    check_dense_limits_on_board,
)
from test_op_fully_connected import build_dense_fc, random_dense_fc_config
from test_op_pooling import build_pool

from tinypipe.compiler.codegen import lower_all
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.conv import conv_padding

BOARD = "microbit"
CASES = {
    "conv_w16_pointwise": lambda rng: build_conv(CONV_CASES["conv_w16_pointwise"], rng),
    "conv_w16_rgb_padded": lambda rng: build_conv(CONV_CASES["conv_w16_rgb_padded"], rng),
    "dw_w16_3x3": lambda rng: build_depthwise(_finish_dw(DW_CASES["dw_w16_3x3"]), rng),
    "dw_w16_2x5_stride2": lambda rng: build_depthwise(
        _finish_dw(DW_CASES["dw_w16_2x5_stride2"]), rng
    ),
    "fc_x4": lambda rng: build_fc(FC_CASES["fc_x4"], rng),
    "pointwise_generated": lambda rng: build_pointwise_conv(random_pointwise_config(rng), rng),
    "fc_generated": lambda rng: build_dense_fc(random_dense_fc_config(rng), rng),
    "depthwise_generated": lambda rng: build_generated_depthwise(
        random_generated_depthwise_config(rng), rng
    ),
    "conv_tile_generated": lambda rng: build_tiled_conv(random_tiled_conv_config(rng), rng),
}
FAST = {"tp_conv_w16_s8", "tp_depthwise_conv_w16_s8", "tp_fully_connected_x4_s8"}


@pytest.mark.slow
@pytest.mark.parametrize("label", list(CASES))
def test_fast_kernels_on_m0_bit_exact(label: str) -> None:
    seed = 500 + list(CASES).index(label)
    model = CASES[label](np.random.default_rng(seed))
    (low,) = [low for low in lower_all(read_tflite(model)) if low.emits_code]
    assert low.func in FAST
    check_bit_exact_on_board(model, seed, BOARD, 3)


POOLS = {  # window taps: 2 everywhere; 4 inside, 2 and 1 on padded edges; 16; 9 (a division)
    "1x2": {"in_h": 1, "in_w": 64, "depth": 1, "f_h": 1, "f_w": 2, "s_h": 1, "s_w": 1,
            "padding": "VALID"},
    "2x2_same": {"in_h": 7, "in_w": 9, "depth": 3, "f_h": 2, "f_w": 2, "s_h": 2, "s_w": 2,
                 "padding": "SAME"},
    "4x4": {"in_h": 8, "in_w": 8, "depth": 5, "f_h": 4, "f_w": 4, "s_h": 2, "s_w": 2,
            "padding": "VALID"},
    "3x3_same": {"in_h": 6, "in_w": 5, "depth": 2, "f_h": 3, "f_w": 3, "s_h": 1, "s_w": 2,
                 "padding": "SAME"},
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("label", list(POOLS))
def test_average_pool_on_m0_bit_exact(label: str) -> None:
    """AVERAGE_POOL_2D on the Cortex-M0, windows of 2^k taps by shifts, others by division:
    random inputs give sums of both signs, half of them on .5 for 2-tap windows."""
    cfg = {"batch": 1, "act": "NONE", "scale": 0.05, "zp": 3, **POOLS[label]}
    cfg["out_h"], _ = conv_padding(cfg["padding"], cfg["in_h"], cfg["f_h"], cfg["s_h"], 1)
    cfg["out_w"], _ = conv_padding(cfg["padding"], cfg["in_w"], cfg["f_w"], cfg["s_w"], 1)
    check_bit_exact_on_board(
        build_pool("AVERAGE_POOL_2D", cfg), 600 + list(POOLS).index(label), BOARD, 3
    )


@pytest.mark.slow
def test_dense_limits_on_m0_bit_exact() -> None:
    """The generated dense kernels' Thumb-1 calls for paired and plain weights at the paired
    layout's limits."""
    check_dense_limits_on_board(BOARD, 530)
