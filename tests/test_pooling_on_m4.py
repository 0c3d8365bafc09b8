"""AVERAGE_POOL_2D and MAX_POOL_2D built for the emulated Cortex-M4F (mps2-an386), bit for bit
against the TFLM interpreter.

On a core with the DSP extension the pooling kernels take four channels per 32-bit word: the
max by SSUB8/SEL (and the activation clamp the same way), the average by SXTAB16 into int16
lane sums while a window has at most 256 taps, 32-bit sums per channel beyond. The host tests
never compile that path, so one firmware runs these cases side by side (op_cases.merge_models):
channel counts in fours and not (words, then a per-channel tail), 2x2 windows (written out) and
others, windows spanning whole input rows (one run of taps), SAME borders, strides, every fused
activation, and global averages of 256 taps (the int16 lanes' limit) and 272 (32-bit sums).
Inputs all -128, all 127 and mixed with those extremes put the lane sums at their bounds. The
same merged model runs on the host under ASan/UBSan.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import merge_models
from test_op_pooling import build_pool, random_pool_config

from tinypipe.check.validate import validate_host, validate_on_board
from tinypipe.compiler.codegen import lower_all
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.conv import conv_padding

pytestmark = pytest.mark.qemu

BOARD = "mps2-an386"
SAMPLES = 4
KERNELS = {"MAX_POOL_2D": "tp_max_pool_s8", "AVERAGE_POOL_2D": "tp_average_pool_s8"}


def _pool(op: str, hw: tuple[int, int], depth: int, f: tuple[int, int], s: int, padding: str,
          act: str = "NONE", zp: int = 0) -> tuple[str, dict]:  # fmt: skip
    cfg = {"batch": 1, "in_h": hw[0], "in_w": hw[1], "depth": depth, "f_h": f[0], "f_w": f[1],
           "s_h": s, "s_w": s, "padding": padding, "act": act, "scale": 0.05, "zp": zp}  # fmt: skip
    cfg["out_h"], _ = conv_padding(padding, hw[0], f[0], s, 1)
    cfg["out_w"], _ = conv_padding(padding, hw[1], f[1], s, 1)
    return op, cfg


FIXED = {
    "max 2x2 over 16 channels": _pool("MAX_POOL_2D", (8, 8), 16, (2, 2), 2, "VALID"),
    "max 2x2 SAME, 8 channels, relu": _pool("MAX_POOL_2D", (7, 5), 8, (2, 2), 2, "SAME", "RELU", -9),
    "max 3x3 SAME, 12 channels, relu6": _pool(
        "MAX_POOL_2D", (9, 8), 12, (3, 3), 2, "SAME", "RELU6", 20
    ),
    "max whole rows 9x7, relu_n1_to_1": _pool(
        "MAX_POOL_2D", (9, 7), 8, (9, 7), 1, "VALID", "RELU_N1_TO_1", 3
    ),
    "max 4x4 > 9 taps, 6 channels": _pool("MAX_POOL_2D", (9, 10), 6, (4, 4), 3, "SAME"),
    "max 1x3, 7 channels": _pool("MAX_POOL_2D", (5, 9), 7, (1, 3), 1, "SAME", "RELU", 100),
    "average 256 taps": _pool("AVERAGE_POOL_2D", (16, 16), 4, (16, 16), 1, "VALID"),
    "average 272 taps": _pool("AVERAGE_POOL_2D", (17, 16), 8, (17, 16), 1, "VALID"),
    "average 16x17 in 17x18, 5 channels": _pool(
        "AVERAGE_POOL_2D", (17, 18), 5, (16, 17), 1, "VALID", "RELU", -4
    ),
    "average 3x3 SAME, 8 channels": _pool("AVERAGE_POOL_2D", (7, 9), 8, (3, 3), 2, "SAME"),
    "average 2x3, 7 channels, relu6": _pool(
        "AVERAGE_POOL_2D", (6, 7), 7, (2, 3), 1, "VALID", "RELU6", -30
    ),
    "average whole rows 25x5, 12 channels": _pool(
        "AVERAGE_POOL_2D", (25, 5), 12, (25, 5), 1, "VALID", "RELU_N1_TO_1", 1
    ),
}  # fmt: skip


def _random_cases(rng: np.random.Generator, count: int) -> list[tuple[str, dict]]:
    """random_pool_config with channel counts in fours about half the time."""
    cases = []
    for k in range(count):
        cfg = random_pool_config(rng)
        cfg["depth"] = int(rng.choice([4, 8, 12, 16, 1, 3, 5, 6, 9, 14]))
        cases.append(("MAX_POOL_2D" if k % 2 else "AVERAGE_POOL_2D", cfg))
    return cases


def _edge_inputs(graph, rng: np.random.Generator) -> list[np.ndarray]:
    """Per model input: all -128, all 127, then -128 / 127 / random values mixed."""
    xs = []
    for t in graph.input_tensors:
        x = rng.integers(-128, 128, (SAMPLES, *t.shape), dtype=np.int8)
        x[0], x[1] = -128, 127
        pick = rng.integers(0, 3, x[2:].shape)
        x[2:] = np.where(pick == 0, -128, np.where(pick == 1, 127, x[2:]))
        xs.append(x)
    return xs


def test_pooling_on_m4_bit_exact() -> None:
    rng = np.random.default_rng(7100)
    cases = list(FIXED.values()) + _random_cases(rng, 10)
    model = merge_models([build_pool(op, cfg) for op, cfg in cases])
    g = read_tflite(model)
    funcs = [low.func for low in lower_all(g) if low.emits_code]
    assert funcs == [KERNELS[op] for op, _ in cases]
    x = _edge_inputs(g, rng)
    verdict, _ = validate_host(model, x, sanitize=True)
    assert verdict.bit_exact, verdict.summary()
    verdict, _ = validate_on_board(g, x, BOARD)
    assert verdict.samples == SAMPLES
    assert verdict.bit_exact, verdict.summary()
