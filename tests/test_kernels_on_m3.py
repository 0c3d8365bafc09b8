"""Every kernel variant as compiled for the emulated Cortex-M3 (mps2-an385: Thumb-2 without the
DSP extension, so no SMLAD/SXTB16 paths, but with SMULL and MLA), bit for bit against the TFLM
interpreter on random one-op models.

The host tests (test_op_*.py) run the portable C built for x86, and the M4/M0 tests the DSP
and Thumb-1 paths; here gcc compiles that C for ARMv7-M, where the requantization's 64-bit
products become SMULL/SMLAL, and the generated kernels take their ARMv7-M assembly (LDRSB,
SXTH/ASR and MLA in place of SXTB16 and the SMLAxy/SMLAD family). To keep the builds few, each test merges its random one-op models
into one graph (op_cases.merge_models: independent inputs and outputs) and checks that every
layer still lowers to the variant it stands for before running it once on the board.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from op_cases import (
    build_binary,
    build_conv,
    build_depthwise,
    build_fc,
    build_generated_depthwise,
    build_pointwise_conv,
    build_tiled_conv,
    check_bit_exact_on_board,
    merge_models,
    random_binary_config,
    random_generated_depthwise_config,
    random_pointwise_config,
    random_tiled_conv_config,
)
from test_kernels_on_m4 import (
    CONV_CASES,
    DENSE_SEEDS,
    DEPTHWISE_SEEDS,
    DW_CASES,
    FC_CASES,
    POINTWISE_SEEDS,
    TILE_SEEDS,
    _finish_dw,
    check_dense_limits_on_board,
)
from test_op_conv import build_w16_conv, random_conv_config, random_w16_conv_config
from test_op_depthwise_conv import (
    build_w16_depthwise,
    random_depthwise_config,
    random_w16_depthwise_config,
)
from test_op_fully_connected import (
    build_dense_fc,
    build_x4_fc,
    random_dense_fc_config,
    random_fc_config,
    random_x4_fc_config,
)
from test_op_pooling import build_pool, random_pool_config

from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder

pytestmark = pytest.mark.qemu

BOARD = "mps2-an385"
SAMPLES = 3

# A case: (label, build(rng) -> one-op model bytes, kind of kernel its layer must lower to).
Case = tuple[str, Callable[[np.random.Generator], bytes], str]


def _random(random_config, build) -> Callable[[np.random.Generator], bytes]:
    return lambda rng: build(random_config(rng), rng)


def _seeded(seed: int, random_config, build) -> Callable[[np.random.Generator], bytes]:
    """A random case drawn from its own seed (one the M4 tests chose for what it covers)."""

    def make(_: np.random.Generator) -> bytes:
        rng = np.random.default_rng(seed)
        return build(random_config(rng), rng)

    return make


def _fixed(cfg: dict, build) -> Callable[[np.random.Generator], bytes]:
    return lambda rng: build(cfg, rng)


def _x4_fc_config(rng: np.random.Generator) -> dict:
    """random_x4_fc_config with outputs not in eights, which the generated kernels leave to
    tp_fully_connected_x4_s8."""
    return {**random_x4_fc_config(rng), "out_features": int(rng.choice([4, 12, 20]))}


def _kind(func: str, cm) -> str:
    """The variant a lowered layer runs: the generated kernels by their family, the rest by name."""
    if func in {k.name for k in cm.pointwise}:
        return "generated pointwise"
    if func in {k.name for k in cm.dense}:
        return "generated dense"
    if func in {k.name for k in cm.convs}:
        return "generated conv tile"
    if func in {f"{k.name}_conv" for k in cm.depthwise}:
        return "generated depthwise"
    return func


def _run(cases: list[Case], seed: int) -> None:
    """Build every case from its own generator (seed + its position), check each layer's kernel
    on the merged graph, then run them all in one firmware against TFLM."""
    model = merge_models(
        [build(np.random.default_rng(seed + i)) for i, (_, build, _) in enumerate(cases)]
    )
    cm = generate_c(read_tflite(model))
    kinds: list[str] = []
    for low in cm.lowered:
        if low.emits_code and not low.func.startswith("tp_mean"):  # MEAN feeds some binary cases
            kinds.append(_kind(low.func, cm))
    want = [kind for _, _, kind in cases]
    assert kinds == want, list(zip([label for label, _, _ in cases], want, kinds))
    check_bit_exact_on_board(model, seed, BOARD, SAMPLES)


@pytest.mark.slow
def test_conv_variants_on_m3_bit_exact() -> None:
    """Generic CONV_2D (groups, dilation, strides, per-tensor and per-channel), int16-weight
    layers (in place and gathered, first layers over 1 channel and over 3 channels padded to
    whole words), which run on generated conv tiles (conv_gen.py), the M4 tests' tile draws, and
    the generated pointwise kernels' ARMv7-M assembly on the M4 tests' draws (the inner loop
    written out whole and in passes)."""
    cases: list[Case] = [
        *[(f"generic {k}", _random(random_conv_config, build_conv), "tp_conv_s8") for k in range(3)],
        *[(f"w16 {k}", _random(random_w16_conv_config, build_w16_conv), "generated conv tile")
          for k in range(2)],
        ("first layer", _fixed(CONV_CASES["conv_w16_first_layer"], build_conv),
         "generated conv tile"),
        ("rgb padded", _fixed(CONV_CASES["conv_w16_rgb_padded"], build_conv),
         "generated conv tile"),
        *[(f"pointwise seed {seed}", _seeded(seed, random_pointwise_config, build_pointwise_conv),
           "generated pointwise") for seed in POINTWISE_SEEDS],
        *[(f"tile seed {seed}", _seeded(seed, random_tiled_conv_config, build_tiled_conv),
           "generated conv tile") for seed in TILE_SEEDS[:3]],
    ]  # fmt: skip
    _run(cases, 3100)


@pytest.mark.slow
def test_depthwise_variants_on_m3_bit_exact() -> None:
    """Generic DEPTHWISE_CONV_2D (depth multipliers, dilation), a window over the tap table,
    int16-expanded weights (3x3 written out and the tap loop) and the generated 3x3 kernels'
    ARMv7-M assembly on the M4 tests' draws (every stride pair, odd widths, SAME and VALID)."""
    cases: list[Case] = [
        *[(f"generic {k}", _random(random_depthwise_config, build_depthwise),
           "tp_depthwise_conv_s8") for k in range(3)],
        ("huge window", _fixed(_finish_dw(DW_CASES["dw_huge_window"]), build_depthwise),
         "tp_depthwise_conv_s8"),
        *[(f"w16 {k}", _random(random_w16_depthwise_config, build_w16_depthwise),
           "tp_depthwise_conv_w16_s8") for k in range(2)],
        ("w16 2x5 stride 2", _fixed(_finish_dw(DW_CASES["dw_w16_2x5_stride2"]), build_depthwise),
         "tp_depthwise_conv_w16_s8"),
        *[(f"generated seed {seed}", _seeded(seed, random_generated_depthwise_config,
           build_generated_depthwise), "generated depthwise") for seed in DEPTHWISE_SEEDS],
    ]  # fmt: skip
    _run(cases, 3200)


@pytest.mark.slow
def test_dense_on_m3_bit_exact() -> None:
    """FULLY_CONNECTED: generic (with asymmetric weights), four outputs at a time, and the
    generated kernels' ARMv7-M assembly on the M4 tests' draws (the inner loop whole and in
    passes)."""
    cases: list[Case] = [
        *[(f"fc generic {k}", _random(random_fc_config, build_fc), "tp_fully_connected_s8")
          for k in range(2)],
        ("fc weight zp", _fixed(FC_CASES["fc_weight_zp"], build_fc), "tp_fully_connected_s8"),
        *[(f"fc x4 {k}", _random(_x4_fc_config, build_x4_fc), "tp_fully_connected_x4_s8")
          for k in range(2)],
        *[(f"fc generated seed {seed}", _seeded(seed, random_dense_fc_config, build_dense_fc),
           "generated dense") for seed in DENSE_SEEDS],
    ]  # fmt: skip
    _run(cases, 3300)


@pytest.mark.slow
def test_dense_limits_on_m3_bit_exact() -> None:
    """The generated dense kernels' ARMv7-M assembly for paired and plain weights at the paired
    layout's limits."""
    check_dense_limits_on_board(BOARD, 3310)


@pytest.mark.slow
def test_pool_add_mul_on_m3_bit_exact() -> None:
    """MAX/AVERAGE_POOL_2D, ADD (elementwise and through input tables) and MUL (with the
    host's requantization words and the general requantization) with broadcasting."""
    big_add = {
        "full": [1, 8, 8, 16], "small": [1, 8, 8, 16], "mode": "same", "swap": False,
        "scales": (0.1, 0.1, 0.17), "zero_points": (3, 3, -4), "act": "RELU",
    }  # fmt: skip
    cases: list[Case] = [
        *[(f"{op} {k}", lambda rng, op=op: build_pool(op, random_pool_config(rng)), kind)
          for op, kind in (("MAX_POOL_2D", "tp_max_pool_s8"),
                           ("AVERAGE_POOL_2D", "tp_average_pool_s8"))
          for k in range(2)],
        *[(f"{op} {k}", lambda rng, op=op: build_binary(op, random_binary_config(rng, op), rng),
           kind) for k, (op, kind) in enumerate((("ADD", "tp_add_s8"), ("ADD", "tp_add_s8"),
                                                 ("MUL", "tp_mul_rq_s8"), ("MUL", "tp_mul_s8")))],
        ("ADD tables", _fixed(big_add, lambda cfg, rng: build_binary("ADD", cfg, rng)),
         "tp_add_lut_s8"),
    ]  # fmt: skip
    _run(cases, 3350)


def _extreme_fc(rng: np.random.Generator) -> bytes:
    """FULLY_CONNECTED whose 16 per-channel multipliers s_in * s_w / s_out run from 2^-30 to 4
    (right shifts up to 30 and left shifts up to 2), with exact powers of two (every rounding a
    tie for some inputs) next to mantissas just below one, and biases up to +-2^28 so that
    accumulators reach the int32 range SMULL must carry and outputs saturate on both sides."""
    d_in, d_out = 40, 16
    mult = np.array(
        [2.0**-30, 2.0**-24, 2.0**-20 * 1.999, 2.0**-16, 2.0**-12, 2.0**-10 * 1.5, 2.0**-8,
         2.0**-7 * 0.5000001, 2.0**-6, 2.0**-4 * 1.9999, 2.0**-3, 0.5, 0.999999, 1.0, 2.0, 4.0]
    )  # fmt: skip
    s_in, s_out = 0.02, 0.05
    w_scale = mult * s_out / s_in
    weights = rng.integers(-127, 128, (d_out, d_in))
    bias = np.round(rng.uniform(-1, 1, d_out) * np.where(mult < 2.0**-12, 2.0**28, 2.0**10))
    b = ModelBuilder()
    x = b.tensor((2, d_in), scale=s_in, zero_point=-128)
    w = b.tensor(weights.shape, scale=w_scale, zero_point=np.zeros(d_out, np.int64),
                 data=weights, axis=0)  # fmt: skip
    bt = b.tensor((d_out,), "int32", scale=s_in * w_scale, zero_point=np.zeros(d_out, np.int64),
                  data=bias)  # fmt: skip
    y = b.tensor((2, d_out), scale=s_out, zero_point=7)
    b.op("FULLY_CONNECTED", [x, w, bt], [y], "FullyConnectedOptions", version=4)
    return b.build([x], [y])


def _extreme_conv(rng: np.random.Generator) -> bytes:
    """CONV_2D 1x1 with a per-tensor multiplier above 1 (a left shift before the high multiply)
    and a zero point at the int8 extreme, RELU_N1_TO_1 clamping well inside [-128, 127]."""
    cfg = {
        "batch": 1, "in_h": 3, "in_w": 5, "filter_c": 3, "groups": 1, "out_per_group": 5,
        "k_h": 1, "k_w": 1, "stride_h": 1, "stride_w": 1, "dil_h": 1, "dil_w": 1,
        "padding": "VALID", "per_channel": False, "bias": True, "act": "RELU_N1_TO_1",
        "in_zp": 127, "out_h": 3, "out_w": 5,
    }  # fmt: skip
    b = ModelBuilder()
    x = b.tensor((1, 3, 5, 3), scale=0.5, zero_point=cfg["in_zp"])
    w = b.tensor((5, 1, 1, 3), scale=0.5, zero_point=0, data=rng.integers(-127, 128, (5, 1, 1, 3)))
    bt = b.tensor((5,), "int32", scale=0.25, zero_point=0, data=rng.integers(-300, 300, 5))
    y = b.tensor((1, 3, 5, 5), scale=2 / 255 * 0.07, zero_point=-3)  # multiplier ~ 35.7
    b.op("CONV_2D", [x, w, bt], [y], "Conv2DOptions", padding="VALID", stride_h=1, stride_w=1,
         fused_activation_function=cfg["act"])  # fmt: skip
    return b.build([x], [y])


def test_requantization_edges_on_m3_bit_exact() -> None:
    """The requantization compiled for ARMv7-M (64-bit products as SMULL) on the multipliers,
    shifts and accumulators at the edges of its range."""
    cases: list[Case] = [
        ("extreme multipliers", _extreme_fc, "tp_fully_connected_s8"),
        ("multiplier above 1", _extreme_conv, "tp_conv_s8"),
    ]
    _run(cases, 3400)


@pytest.mark.slow
def test_digits_cnn_on_m3_bit_exact(digits_tflite) -> None:
    """A whole model: the generated depthwise and pointwise kernels through the fused row
    windows, pooling, dense layers and softmax."""
    check_bit_exact_on_board(digits_tflite.read_bytes(), 3500, BOARD, SAMPLES)
