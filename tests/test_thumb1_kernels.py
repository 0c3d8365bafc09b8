"""The Cortex-M0 (ARMv6-M, Thumb-1) paths on the micro:bit, bit for bit against the TFLM
interpreter on random one-op models: the assembly loops of the convolution on int16-expanded
weights in the Thumb-1 order (thumb1.py), on int8 weights and of the generated pointwise
kernels (tp_conv_thumb1.c), the generated depthwise kernels' pixels (depthwise_thumb1.j2), the
generated dense kernels' 4-output passes (fully_connected.c.j2), and the requantization without 64-bit multiplies
(TP_SPLIT_MULTIPLY in tp_common.h). Each case checks in the linked firmware that its Thumb-1
loop is there and that libgcc's 64-bit multiply is not. The Thumb-1 weight orders are checked
on the host against the weights of the .tflite."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from op_cases import (
    build_conv,
    build_generated_depthwise,
    build_pointwise_conv,
    labelled_failure,
    random_generated_depthwise_config,
    random_int8_inputs,
    random_pointwise_config,
)
from test_op_conv import build_w16_conv, random_conv_config, random_w16_conv_config
from test_op_fully_connected import build_dense_fc, random_dense_fc_config

from tinypipe.check.validate import validate_on_board
from tinypipe.compiler.codegen import generate_c, lower_all
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.thumb1 import thumb1_filter16, thumb1_pointwise_blob
from tinypipe.device.firmware import create_project, program_path

BOARD = "microbit"


def firmware_symbols(model: bytes, seed: int, tmp_path: Path) -> set[str]:
    """Build `model` for the micro:bit, check 2 random inputs bit-exact against TFLM, and return
    the symbols of the linked firmware."""
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    project = tmp_path / "firmware"
    create_project(path, [BOARD], project)
    g = read_tflite(model)
    verdict, _ = validate_on_board(g, random_int8_inputs(g, seed, 2), BOARD, project=project)
    assert verdict.samples == 2
    assert verdict.bit_exact, verdict.summary()
    nm = subprocess.run(
        ["arm-none-eabi-nm", str(program_path(project, BOARD))],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {line.split()[-1] for line in nm.stdout.splitlines()}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1700, 1701, 1702, 1704])
def test_conv_w16_thumb1_random_configs_bit_exact(tmp_path, seed: int) -> None:
    """Random convs on int16-expanded weights (windows read in place and gathered, pixel pairs
    and a pixel alone, stride, dilation, clamps). A generated tile over one filter row takes
    every pixel and block of 4 channels in one Thumb-1 call (tp_t1_pixels_w16), any other the runs' loop."""
    rng = np.random.default_rng(seed)
    cfg = random_w16_conv_config(rng)
    with labelled_failure(f"seed {seed} config {cfg}"):
        model = build_w16_conv(cfg, rng)
        convs = generate_c(read_tflite(model)).convs
        one_row = bool(convs) and all(c.key.rows == 1 for c in convs)
        symbols = firmware_symbols(model, seed, tmp_path)
        assert ("tp_t1_pixels_w16" if one_row else "tp_t1_dot1x4_w16") in symbols
        assert "__aeabi_lmul" not in symbols


def random_int8_conv(rng: np.random.Generator) -> tuple[dict, bytes]:
    """A random CONV_2D (grouped or not) that runs on int8 weights (tp_conv_s8) with at least
    4 output channels per group, which the Thumb-1 loop takes 4 at a time."""
    while True:
        cfg = random_conv_config(rng)
        if cfg["out_per_group"] < 4:
            continue
        model = build_conv(cfg, rng)
        (low,) = [low for low in lower_all(read_tflite(model)) if low.emits_code]
        if low.func == "tp_conv_s8":
            return cfg, model


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1710, 1711, 1712])
def test_conv_s8_thumb1_random_configs_bit_exact(tmp_path, seed: int) -> None:
    """Random convs on int8 weights: groups, padding, stride, dilation, per-channel scales."""
    rng = np.random.default_rng(seed)
    cfg, model = random_int8_conv(rng)
    with labelled_failure(f"seed {seed} config {cfg}"):
        symbols = firmware_symbols(model, seed, tmp_path)
        assert "tp_t1_dot1x4_s8" in symbols
        assert "__aeabi_lmul" not in symbols


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1720, 1721, 1722])
def test_generated_pointwise_thumb1_random_configs_bit_exact(tmp_path, seed: int) -> None:
    """Random 1x1 convs on a generated pointwise kernel, each block of 4 channels of a pixel in
    one Thumb-1 call (products, requantization, every activation range's clamp)."""
    rng = np.random.default_rng(seed)
    cfg = random_pointwise_config(rng)
    with labelled_failure(f"seed {seed} config {cfg}"):
        symbols = firmware_symbols(build_pointwise_conv(cfg, rng), seed, tmp_path)
        assert "tp_t1_pixels_w16" in symbols
        assert "__aeabi_lmul" not in symbols


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1760, 1762, 1764])
def test_generated_dense_thumb1_random_configs_bit_exact(tmp_path, seed: int) -> None:
    """Random FULLY_CONNECTED layers on a generated dense kernel: 4 outputs per Thumb-1 pass over
    the row (one run of 4 inputs to many, one row or several), every activation range's clamp."""
    rng = np.random.default_rng(seed)
    cfg = random_dense_fc_config(rng)
    with labelled_failure(f"seed {seed} config {cfg}"):
        model = build_dense_fc(cfg, rng)
        (kernel,) = generate_c(read_tflite(model)).dense
        symbols = firmware_symbols(model, seed, tmp_path)
        assert f"{kernel.name}_t1" in symbols
        assert "__aeabi_lmul" not in symbols


def _expected_words(w: np.ndarray) -> np.ndarray:
    """The Thumb-1 order from its definition: per group of 4 output channels of the
    [output_c, taps] filter w and per tap k, w[c0][k] + 2^16 w[c1][k], w[c2][k] + 2^16 w[c3][k]."""
    rows = []
    for b in range(w.shape[0] // 4):
        c0, c1, c2, c3 = (w[4 * b + c].astype(np.int64) for c in range(4))
        rows += [
            v for k in range(w.shape[1]) for v in (c0[k] + c1[k] * 65536, c2[k] + c3[k] * 65536)
        ]
    return np.array(rows, np.int64)


@pytest.mark.parametrize("seed", [1730, 1731, 1732])
def test_thumb1_weight_orders_hold_the_model_weights(seed: int) -> None:
    """The filter16 of a random int16-weight conv and the blob of a random generated pointwise
    kernel, in the Thumb-1 order, against the .tflite's own weights."""
    rng = np.random.default_rng(seed)
    model = build_w16_conv(random_w16_conv_config(rng), rng)
    g = read_tflite(model)
    (low,) = [low for low in lower_all(g) if low.emits_code]
    w = g.tensors[g.operators[0].inputs[1]].data.reshape(low.params["output_c"], -1)
    w = np.pad(w, ((0, 0), (0, low.params["patch_pad"])))
    words = thumb1_filter16(low.consts["filter16"], w.shape[0]).astype("<i2").view("<i4")
    assert np.array_equal(words.astype(np.int64), _expected_words(w))

    model = build_pointwise_conv(random_pointwise_config(rng), rng)
    g = read_tflite(model)
    cm = generate_c(g)
    blob = cm.lowered[0].consts["pointwise"]
    w = g.tensors[g.operators[0].inputs[1]].data.reshape(cm.lowered[0].args[-1], -1)
    k = w.shape[1]
    got = thumb1_pointwise_blob(blob, k).reshape(-1, 4 + 2 * k + 12).astype(np.int64)
    want = _expected_words(w).reshape(-1, 2 * k)
    assert np.array_equal(got[:, 4 : 4 + 2 * k], want)
    plain = np.asarray(blob, np.int64).reshape(-1, 4 + 2 * k + 12)
    assert np.array_equal(got[:, :4], plain[:, :4])  # bias
    assert np.array_equal(got[:, 4 + 2 * k :], plain[:, 4 + 2 * k :])  # requantization words


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1740, 1741, 1746, 1749])
def test_generated_depthwise_thumb1_random_configs_bit_exact(tmp_path, seed: int) -> None:
    """Random 3x3 depthwise layers on a generated kernel, each block of 4 channels of a pixel in
    one Thumb-1 call (products, requantization, clamp): clamp ranges below 255 levels (RELU,
    RELU6) and the whole int8 range (seed 1746); seed 1749 with a RELU whose output zero point
    is above zero, so the clamp's lower bound is positive."""
    rng = np.random.default_rng(seed)
    cfg = random_generated_depthwise_config(rng)
    if seed == 1749:
        cfg.update(act="RELU", out_zp=37)
    with labelled_failure(f"seed {seed} config {cfg}"):
        symbols = firmware_symbols(build_generated_depthwise(cfg, rng), seed, tmp_path)
        assert {"model_depthwise0_t1_p0", "model_depthwise0_t1_p1"} <= symbols
        assert "__aeabi_lmul" not in symbols
