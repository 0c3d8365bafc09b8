"""TRANSPOSE_CONV, 16x8 (int16 input and output, int8 weights): tinypipe's kernel against the
TFLM interpreter, bit for bit.

Random one-op models: SAME and VALID padding, strides 1..3 per axis, windows 1..5, every output
size whose convolution gives back the input size (TFLite's output_padding), batches, channels,
per-channel and per-tensor weights, an int64, int16 or no bias (int64 ones sometimes beyond
int32), every fused activation; inputs over the whole int16 range and around zero. Plus the
refusals (an int32 bias, an accumulator that could pass TFLM's 2^47, missing options) and one
case on the emulated Cortex-M4. The TF converter's 16x8 Conv2DTranspose is checked in
test_s16_models.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import ACTIVATIONS, labelled_failure
from test_op_s16 import _quant, check_s16, random_int16_inputs

from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError


def random_tconv_s16(rng) -> dict:
    cfg = {
        "n": int(rng.choice([1, 1, 2])), "in_h": int(rng.integers(1, 6)),
        "in_w": int(rng.integers(1, 6)), "in_c": int(rng.integers(1, 6)),
        "out_c": int(rng.integers(1, 6)), "k_h": int(rng.integers(1, 6)),
        "k_w": int(rng.integers(1, 6)), "s_h": int(rng.integers(1, 4)),
        "s_w": int(rng.integers(1, 4)), "padding": str(rng.choice(["SAME", "VALID"])),
        "per_channel": bool(rng.integers(0, 2)),
        "bias": str(rng.choice(["int64", "int64", "int16", "none"])),
        "act": str(rng.choice(ACTIVATIONS)),
    }  # fmt: skip
    # Every output size whose convolution (same padding and strides) is the input size.
    for axis in ("h", "w"):
        i, k, s = cfg[f"in_{axis}"], cfg[f"k_{axis}"], cfg[f"s_{axis}"]
        smallest = (i - 1) * s + (1 if cfg["padding"] == "SAME" else k)
        cfg[f"out_{axis}"] = smallest + int(rng.integers(0, s))
    return cfg


def build_tconv_s16(cfg: dict, rng) -> bytes:
    n, in_c, out_c = cfg["n"], cfg["in_c"], cfg["out_c"]
    taps = max(1, cfg["k_h"] * cfg["k_w"] * in_c // (cfg["s_h"] * cfg["s_w"]))
    s_in, s_w, s_out = _quant(rng, taps, out_c, cfg["per_channel"])
    b = ModelBuilder()
    out_shape = [n, cfg["out_h"], cfg["out_w"], out_c]
    shape = b.tensor([4], "int32", data=np.array(out_shape, np.int32))
    wshape = (out_c, cfg["k_h"], cfg["k_w"], in_c)
    w = b.tensor(
        wshape, scale=s_w, zero_point=np.zeros(s_w.size, np.int64),
        data=rng.integers(-127, 128, wshape),
    )  # fmt: skip
    x = b.tensor([n, cfg["in_h"], cfg["in_w"], in_c], "int16", scale=s_in)
    ins = [shape, w, x]
    if cfg["bias"] != "none":
        magnitude = {"int16": 30000.0, "int64": 127 * 8000 * np.sqrt(taps)}[cfg["bias"]]
        if cfg["bias"] == "int64" and rng.random() < 0.3:
            magnitude *= 2.0 ** rng.uniform(4, 14)  # beyond what an int32 bias could hold
        values = np.round(rng.uniform(-1, 1, out_c) * magnitude).astype(cfg["bias"])
        scale = s_in * np.broadcast_to(s_w, (out_c,))
        ins.append(
            b.tensor((out_c,), cfg["bias"], scale=scale, zero_point=np.zeros(out_c, np.int64),
                     data=values)
        )  # fmt: skip
    y = b.tensor(out_shape, "int16", scale=s_out)
    b.op("TRANSPOSE_CONV", ins, [y], "TransposeConvOptions", version=3, padding=cfg["padding"],
         stride_h=cfg["s_h"], stride_w=cfg["s_w"],
         fused_activation_function=cfg["act"])  # fmt: skip
    return b.build([x], [y])


@pytest.mark.parametrize("chunk", range(2))
def test_transpose_conv_s16_random_bit_exact(chunk: int) -> None:
    """16 random cases (8 per chunk), every 4th under ASan/UBSan."""
    for k in range(8):
        seed = 18200 + 8 * chunk + k
        rng = np.random.default_rng(seed)
        cfg = random_tconv_s16(rng)
        with labelled_failure(f"seed {seed} config {cfg}"):
            check_s16(build_tconv_s16(cfg, rng), seed, sanitize=k % 4 == 0)


def _base_cfg(**changes) -> dict:
    cfg = {
        "n": 1, "in_h": 3, "in_w": 2, "in_c": 3, "out_c": 2, "k_h": 3, "k_w": 3, "s_h": 2,
        "s_w": 1, "padding": "SAME", "per_channel": True, "bias": "int64", "act": "NONE",
        "out_h": 6, "out_w": 2,
    }  # fmt: skip
    return {**cfg, **changes}


def test_transpose_conv_s16_int32_bias_refused() -> None:
    """TFLM's 16x8 kernel reads the bias as int64: an int32 one would be read past its end."""
    rng = np.random.default_rng(1)
    model = build_tconv_s16(_base_cfg(bias="int64"), rng)
    g = read_tflite(model)
    bias = g.tensors[g.operators[0].inputs[3]]
    bias.dtype, bias.data = "int32", bias.data.astype(np.int32)
    with pytest.raises(UnsupportedModelError, match="int16 or int64 tensor, not int32"):
        generate_c(g)


def test_transpose_conv_s16_accumulator_beyond_tflm_range_refused() -> None:
    rng = np.random.default_rng(2)
    g = read_tflite(build_tconv_s16(_base_cfg(), rng))
    bias = g.tensors[g.operators[0].inputs[3]]
    bias.data = np.full(bias.data.shape, 2**47, np.int64)
    with pytest.raises(UnsupportedModelError, match="2\\^47"):
        generate_c(g)


@pytest.mark.qemu
def test_transpose_conv_s16_on_m4_bit_exact() -> None:
    """Stride 2x1 SAME with an extra output row, int16 bias and RELU, two batches, on the
    emulated Cortex-M4."""
    from tinypipe.check.validate import validate_on_board

    rng = np.random.default_rng(18300)
    cfg = _base_cfg(n=2, in_h=4, in_w=3, in_c=5, out_c=4, out_h=8, out_w=3, bias="int16",
                    act="RELU")  # fmt: skip
    model = build_tconv_s16(cfg, rng)
    inputs = random_int16_inputs(model, 18300, 3)
    verdict, _ = validate_on_board(read_tflite(model), inputs, "mps2-an386")
    assert verdict.samples == 3
    assert verdict.bit_exact, verdict.summary()


def test_transpose_conv_without_options_is_invalid() -> None:
    """Padding and strides live in TransposeConvOptions; a model without them is refused
    rather than read with defaults."""
    from tinypipe.errors import TinypipeError

    b = ModelBuilder()
    shape = b.tensor([4], "int32", data=np.array([1, 2, 2, 1], np.int32))
    w = b.tensor((1, 1, 1, 1), scale=0.1, data=np.ones((1, 1, 1, 1)))
    x = b.tensor([1, 2, 2, 1], "int16", scale=0.01)
    y = b.tensor([1, 2, 2, 1], "int16", scale=0.01)
    b.op("TRANSPOSE_CONV", [shape, w, x], [y])
    with pytest.raises(TinypipeError, match="has no TransposeConvOptions"):
        read_tflite(b.build([x], [y]))
