"""The Helium (MVE) kernels of the Cortex-M55 (mps3-an547), bit for bit against the TFLM
interpreter.

The host never compiles the `_mve.c` files, so these one-op models run on the board through
QEMU, on the random geometries and quantizations of the host tests: tails of every length
(tail predication), windows read in place and gathered, groups, dilation, strides, depth
multipliers other than 1 and windows bigger than the tap table (left to the generic kernel),
per-tensor and per-channel requantization including multipliers above 1 (the left-shift path),
asymmetric FULLY_CONNECTED weights and every fused activation. The requantization itself is
checked lane by lane in test_requantize_mve.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import (
    build_conv,
    build_depthwise,
    build_fc,
    check_bit_exact_on_board,
    labelled_failure,
)
from test_kernels_on_m4 import CONV_CASES
from test_op_conv import build_w16_conv, random_conv_config, random_w16_conv_config
from test_op_depthwise_conv import (
    build_w16_depthwise,
    random_depthwise_config,
    random_w16_depthwise_config,
)
from test_op_fully_connected import build_x4_fc, random_fc_config, random_x4_fc_config

pytestmark = pytest.mark.qemu

BOARD = "mps3-an547"
SAMPLES = 4


def _random_cases(random_config, build, first_seed: int, count: int) -> None:
    for seed in range(first_seed, first_seed + count):
        rng = np.random.default_rng(seed)
        cfg = random_config(rng)
        with labelled_failure(f"seed {seed} config {cfg}"):
            check_bit_exact_on_board(build(cfg, rng), seed, BOARD, SAMPLES)


@pytest.mark.slow
def test_fully_connected_helium_random_configs() -> None:
    _random_cases(random_fc_config, build_fc, 5000, 4)


def test_fully_connected_x4_helium_random_configs() -> None:
    _random_cases(random_x4_fc_config, build_x4_fc, 5050, 3)


@pytest.mark.slow
def test_depthwise_helium_random_configs() -> None:
    _random_cases(random_depthwise_config, build_depthwise, 5100, 4)


def test_depthwise_w16_helium_random_configs() -> None:
    _random_cases(random_w16_depthwise_config, build_w16_depthwise, 5150, 3)


@pytest.mark.slow
def test_conv_helium_random_configs() -> None:
    _random_cases(random_conv_config, build_conv, 5200, 4)


@pytest.mark.slow
def test_conv_w16_helium_random_configs() -> None:
    _random_cases(random_w16_conv_config, build_w16_conv, 5300, 3)


def test_conv_w16_helium_padded_first_layer() -> None:
    """3x3 over 3 channels: every window gathered into a 27-byte patch plus one byte met by a
    zero weight (patch_pad), the shape of an RGB first layer."""
    check_bit_exact_on_board(
        build_w16_conv(CONV_CASES["conv_w16_rgb_padded"], np.random.default_rng(5400)),
        5400,
        BOARD,
        SAMPLES,
    )
