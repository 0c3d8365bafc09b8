"""4-bit packed weights (tp_w4): CONV_2D and FULLY_CONNECTED layers whose weights take at most
16 distinct values compile to nibble indices plus a codebook, bit for bit equal to TFLM.

Randomized one-op models (shared and per-channel codebooks, 2..16 levels, odd weight counts,
the conv geometries and quantizations of test_op_conv / test_op_fully_connected), checked
against the TFLM interpreter; plus the lowering choice itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import build_conv, build_fc, check_bit_exact, labelled_failure
from test_op_conv import random_conv_config
from test_op_fully_connected import random_fc_config

from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.packed import codebook_of, pack_nibbles


def _levels(rng: np.random.Generator, cfg: dict) -> dict:
    cfg.update(levels=int(rng.integers(2, 17)), shared_levels=bool(rng.integers(0, 2)))
    return cfg


def _kernels(model: bytes) -> list[str]:
    cm = generate_c(read_tflite(model))
    return [low.func for low in cm.lowered]


@pytest.mark.parametrize("opcode", ["CONV_2D", "FULLY_CONNECTED"])
def test_w4_random_configs_bit_exact(opcode: str) -> None:
    """12 random clustered layers per op, 8 random inputs each; every 3rd under ASan/UBSan.
    Layers too small for packing to pay keep the plain kernel (and must stay exact too)."""
    packed = 0
    for k in range(12):
        seed = 7000 + k + (100 if opcode == "CONV_2D" else 0)
        rng = np.random.default_rng(seed)
        if opcode == "CONV_2D":
            cfg = _levels(rng, random_conv_config(rng))
            cfg["filter_c"] = max(cfg["filter_c"], 4)  # enough taps for packing to pay
            model = build_conv(cfg, rng)
        else:
            cfg = _levels(rng, random_fc_config(rng))
            cfg["w_zp"] = False
            cfg["in_features"] = max(cfg["in_features"], 33)
            model = build_fc(cfg, rng)
        with labelled_failure(f"seed {seed} config {cfg}"):
            funcs = _kernels(model)
            packed += funcs[0].endswith("_w4_s8")
            check_bit_exact(model, seed, sanitize=k % 3 == 0)
    assert packed >= 6, f"only {packed} of 12 layers took the packed kernel"


def test_w4_chosen_only_when_smaller() -> None:
    rng = np.random.default_rng(5)
    base = {"rows": 1, "out_features": 8, "layout": "2d", "per_channel": True, "w_zp": False,
            "bias": True, "act": "NONE", "in_zp": 3}  # fmt: skip
    # 16 shared levels over 64 inputs: 32 index bytes + 16 codebook bytes per 64 weights.
    big = build_fc({**base, "in_features": 64, "levels": 16, "shared_levels": True}, rng)
    assert _kernels(big) == ["tp_fully_connected_w4_s8"]
    # Per-channel codebooks of 16 bytes cost more than 24 weights save.
    small = build_fc({**base, "in_features": 24, "levels": 16}, rng)
    # (an int8 kernel: the runtime's, or one generated for the layer)
    assert "w4" not in _kernels(small)[0]
    # Uniform int8 weights have far more than 16 values per channel.
    plain = build_fc({**base, "in_features": 200}, rng)
    assert "w4" not in _kernels(plain)[0]
    cm_big = generate_c(read_tflite(big))
    assert cm_big.weight_bytes < 64 * 8 * 0.6 + 8 * 12


def test_codebook_and_nibbles_round_trip() -> None:
    rng = np.random.default_rng(1)
    for shared in (True, False):
        w = rng.choice([-127, -3, 0, 9, 100], (6, 11)).astype(np.int8)
        if not shared:
            w[2] = rng.choice(np.arange(-127, 128), 11, replace=False)[:11] % 16 - 8
        book, idx, stride = codebook_of(w)
        rows = book.reshape(-1, 16) if stride else np.tile(book, (6, 1))
        decoded = np.take_along_axis(rows, idx.astype(np.int64), axis=1)
        np.testing.assert_array_equal(decoded, w)
        packed = pack_nibbles(idx)
        flat = idx.ravel()
        low_high = np.stack([packed & 15, packed >> 4], axis=1).ravel()[: flat.size]
        np.testing.assert_array_equal(low_high, flat)
    assert codebook_of(np.arange(-20, 20, dtype=np.int8).reshape(2, 20)) is None


def _int4_conv(rng: np.random.Generator, in_c: int, out_c: int, k: int, size: int) -> bytes:
    """A CONV_2D whose filter is a TFLite INT4 tensor (two weights per byte, low nibble first)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    from tinypipe.compiler.tflite_writer import ModelBuilder

    w = rng.integers(-8, 8, (out_c, k, k, in_c))
    b = ModelBuilder()
    x = b.tensor((1, size, size, in_c), scale=0.05, zero_point=int(rng.integers(-20, 20)))
    scales = rng.uniform(0.01, 0.03, out_c)
    wt = b.tensor(w.shape, scale=scales, zero_point=np.zeros(out_c, np.int64), data=w, axis=0)
    nibbles = (w.ravel() & 15).astype(np.uint8)
    if nibbles.size % 2:
        nibbles = np.append(nibbles, np.uint8(0))
    b.tensors[wt].type = schema.TensorType.INT4
    b.buffers[b.tensors[wt].buffer].data = nibbles[0::2] | (nibbles[1::2] << 4)
    bias = b.tensor((out_c,), "int32", scale=0.05 * scales, zero_point=np.zeros(out_c, np.int64),
                    data=rng.integers(-500, 500, out_c))  # fmt: skip
    y = b.tensor((1, size, size, out_c), scale=0.08, zero_point=-3)
    b.op("CONV_2D", [x, wt, bias], [y], "Conv2DOptions", version=7, padding="SAME",
         stride_h=1, stride_w=1, dilation_h_factor=1, dilation_w_factor=1,
         fused_activation_function="RELU")  # fmt: skip
    return b.build([x], [y])


@pytest.mark.parametrize("in_c,out_c,k,size", [(8, 6, 3, 5), (3, 4, 1, 4), (5, 7, 3, 6)])
def test_tflite_int4_conv_weights_bit_exact(in_c: int, out_c: int, k: int, size: int) -> None:
    """TFLite's own INT4 filters (which TFLM runs for CONV_2D) are read as their int8 values and
    compiled to the 4-bit packed kernel where that is smaller; bit-exact with TFLM."""
    model = _int4_conv(np.random.default_rng(in_c * 100 + k), in_c, out_c, k, size)
    g = read_tflite(model)
    w = g.tensors[g.operators[0].inputs[1]]
    assert w.dtype == "int8" and w.data.min() >= -8 and w.data.max() <= 7
    taps = k * k * in_c
    if (out_c * taps + 1) // 2 + 16 < out_c * taps:
        assert _kernels(model) == ["tp_conv_w4_s8"]
    else:  # the unpacked kernels: int8, int16-expanded, or a generated tile on int16 weights
        assert _kernels(model) in (["tp_conv_s8"], ["tp_conv_w16_s8"], ["model_conv0"])
    check_bit_exact(model, in_c + k, sanitize=True)
