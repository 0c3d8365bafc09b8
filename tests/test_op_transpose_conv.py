"""TRANSPOSE_CONV: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized models built directly: SAME and VALID padding, strides 1..3 (each axis), windows
1..5, channels, batches, per-channel and per-tensor weights, with and without bias, asymmetric
input zero points, every fused activation, quantization from op_cases.random_quant (tiny and large multipliers too).
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import ACTIVATIONS, random_quant, run_random_cases

from tinypipe.compiler.tflite_writer import ModelBuilder


def random_tconv(rng):
    return {
        "n": int(rng.choice([1, 1, 2])), "in_h": int(rng.integers(1, 6)), "in_w": int(rng.integers(1, 6)),
        "in_c": int(rng.integers(1, 6)), "out_c": int(rng.integers(1, 6)),
        "k_h": int(rng.integers(1, 6)), "k_w": int(rng.integers(1, 6)),
        "s_h": int(rng.integers(1, 4)), "s_w": int(rng.integers(1, 4)),
        "padding": str(rng.choice(["SAME", "VALID"])), "per_channel": bool(rng.integers(0, 2)),
        "bias": bool(rng.integers(0, 3) > 0), "in_zp": int(rng.integers(-128, 128)),
        "act": str(rng.choice(ACTIVATIONS)),
    }  # fmt: skip


def build_tconv(cfg, rng):
    n, in_c, out_c, act = cfg["n"], cfg["in_c"], cfg["out_c"], cfg["act"]
    if cfg["padding"] == "SAME":
        out_h, out_w = cfg["in_h"] * cfg["s_h"], cfg["in_w"] * cfg["s_w"]
    else:
        out_h = (cfg["in_h"] - 1) * cfg["s_h"] + cfg["k_h"]
        out_w = (cfg["in_w"] - 1) * cfg["s_w"] + cfg["k_w"]
    taps = max(1, cfg["k_h"] * cfg["k_w"] * in_c // (cfg["s_h"] * cfg["s_w"]))
    in_scale, w_scale, out_scale, out_zp = random_quant(rng, act, taps, out_c, cfg["per_channel"])
    b = ModelBuilder()
    shape = b.tensor([4], "int32", data=np.array([n, out_h, out_w, out_c], np.int32))
    wdata = rng.integers(-127, 128, (out_c, cfg["k_h"], cfg["k_w"], in_c))
    w = b.tensor(
        wdata.shape, scale=w_scale, zero_point=np.zeros(w_scale.size, np.int64), data=wdata
    )
    x = b.tensor([n, cfg["in_h"], cfg["in_w"], in_c], scale=in_scale, zero_point=cfg["in_zp"])
    ins = [shape, w, x]
    if cfg["bias"]:
        bias_scale = in_scale * np.broadcast_to(w_scale, (out_c,))
        bias = np.round(rng.uniform(-0.5, 0.5, out_c) * 74 * 74 * np.sqrt(taps))
        ins.append(
            b.tensor(
                (out_c,), "int32", scale=bias_scale, zero_point=np.zeros(out_c, np.int64), data=bias
            )
        )
    y = b.tensor([n, out_h, out_w, out_c], scale=out_scale, zero_point=out_zp)
    fields = {"fused_activation_function": act} if act != "NONE" else {}
    b.op("TRANSPOSE_CONV", ins, [y], "TransposeConvOptions", version=3, padding=cfg["padding"],
         stride_h=cfg["s_h"], stride_w=cfg["s_w"], **fields)  # fmt: skip
    return b.build([x], [y])


@pytest.mark.parametrize("chunk", range(2))
def test_transpose_conv_random_bit_exact(chunk: int) -> None:
    run_random_cases(random_tconv, build_tconv, 8900 + 10 * chunk, 8)
