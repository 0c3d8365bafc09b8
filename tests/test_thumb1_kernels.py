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
    conv_output_size,
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
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.compiler.thumb1 import (
    SMALL_BOUND,
    SMALL_FLAG,
    small_records,
    thumb1_depthwise_blob,
    thumb1_filter16,
    thumb1_pointwise_blob,
)
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


def small_form(model: bytes) -> bool:
    """Whether the layer's blob takes the small-accumulator requantization on the Cortex-M0."""
    g = read_tflite(model)
    cm = generate_c(g)
    blob = np.asarray(cm.lowered[0].consts["pointwise"])
    taps = (blob.size // (g.tensors[g.operators[0].inputs[1]].shape[0] // 4) - 16) // 2
    return bool(thumb1_pointwise_blob(blob, taps)[4 + 2 * taps + 2] & SMALL_FLAG)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1720, 1721, 1722])
def test_generated_pointwise_thumb1_random_configs_bit_exact(tmp_path, seed: int) -> None:
    """Random 1x1 convs on a generated pointwise kernel, every pixel and block of 4 channels in
    one Thumb-1 call (products, requantization, every activation range's clamp): seeds 1720
    and 1722 with accumulators below SMALL_BOUND (three products per output), 1721 above."""
    rng = np.random.default_rng(seed)
    cfg = random_pointwise_config(rng)
    with labelled_failure(f"seed {seed} config {cfg}"):
        model = build_pointwise_conv(cfg, rng)
        assert small_form(model) == (seed != 1721)
        symbols = firmware_symbols(model, seed, tmp_path)
        assert ("tp_t1_pixels_w16_small" if seed != 1721 else "tp_t1_pixels_w16") in symbols
        assert "__aeabi_lmul" not in symbols


TIES_MULT = np.array([2.0**-3, 2.0**-3 * 1.5, 2.0**-4, 0.2, 2.0**-5 * 1.999, 2.0**-6,
                      2.0**-7 * 1.25, 2.0**-8])  # fmt: skip


def ties_layer(depthwise: bool, k: int, big_channel: bool = False) -> bytes:
    """8 output channels over 8x8 pixels whose multipliers s_in * s_w / s_out are TIES_MULT:
    exact powers of two (rounding ties for many accumulators, both signs) or just off them,
    with weights small enough that most outputs stay inside int8, so the shifts of 1 to 6 bits
    after the high word make every rounding step show. A 1x1 CONV_2D over k channels, or a 3x3
    DEPTHWISE_CONV_2D (k = 9 taps). With big_channel, channel 0's weights of +-127 and bias of
    SMALL_BOUND put its accumulator bound above it (the four-product requantization for the
    layer)."""
    rng = np.random.default_rng(1790 + k)
    most = np.maximum(1, (4 * 127 / (TIES_MULT * 128 * k)).astype(np.int64))
    weights = rng.integers(-most, most + 1, (k, 8)).T  # [channel, tap]
    bias = np.round(rng.uniform(-32, 32, 8) / TIES_MULT)
    if big_channel:
        weights[0] = rng.choice([-127, 127], k)
        bias[0] = SMALL_BOUND
    s_io = 2.0**-6  # input and output scale: the multiplier is the weight scale
    b = ModelBuilder()
    x = b.tensor((1, 8, 8, 8 if depthwise else k), scale=s_io, zero_point=0)
    if depthwise:
        w_data, axis = weights.T.reshape(1, 3, 3, 8), 3
    else:
        w_data, axis = weights.reshape(8, 1, 1, k), 0
    w = b.tensor(w_data.shape, scale=TIES_MULT, zero_point=np.zeros(8, np.int64), data=w_data,
                 axis=axis)  # fmt: skip
    bt = b.tensor((8,), "int32", scale=s_io * TIES_MULT, zero_point=np.zeros(8, np.int64),
                  data=bias)  # fmt: skip
    y = b.tensor((1, 8, 8, 8), scale=s_io, zero_point=-3)
    geometry = {"stride_h": 1, "stride_w": 1, "dilation_h_factor": 1, "dilation_w_factor": 1}
    if depthwise:
        b.op("DEPTHWISE_CONV_2D", [x, w, bt], [y], "DepthwiseConv2DOptions", version=3,
             padding="SAME", depth_multiplier=1, **geometry)  # fmt: skip
    else:
        b.op("CONV_2D", [x, w, bt], [y], "Conv2DOptions", version=3, padding="VALID", **geometry)
    return b.build([x], [y])


@pytest.mark.slow
@pytest.mark.parametrize("k, big", [(8, False), (64, True)])
def test_pointwise_requantization_ties_bit_exact(tmp_path, k: int, big: bool) -> None:
    """Both Thumb-1 requantizations of the generated pointwise kernel (three products for
    accumulators below SMALL_BOUND, four otherwise) on outputs at and next to rounding ties."""
    model = ties_layer(False, k, big)
    assert small_form(model) != big
    symbols = firmware_symbols(model, 1790 + k, tmp_path)
    assert ("tp_t1_pixels_w16" if big else "tp_t1_pixels_w16_small") in symbols


def depthwise_small_form(model: bytes) -> bool:
    """Whether the depthwise layer's blob takes the small-accumulator records on the M0."""
    g = read_tflite(model)
    blob = np.asarray(generate_c(g).lowered[0].consts["depthwise"])
    return thumb1_depthwise_blob(blob, 9) is not None


@pytest.mark.slow
@pytest.mark.parametrize("big", [False, True])
def test_depthwise_requantization_ties_bit_exact(tmp_path, big: bool) -> None:
    """Both Thumb-1 requantizations of the generated depthwise kernel (three products for
    accumulators below SMALL_BOUND, four otherwise) on outputs at and next to rounding ties."""
    model = ties_layer(True, 9, big)
    assert depthwise_small_form(model) != big
    (kern,) = generate_c(read_tflite(model)).depthwise
    symbols = firmware_symbols(model, 1799, tmp_path)
    assert {f"{kern.name}_t1_p0", f"{kern.name}_t1_p1"} <= symbols


def test_thumb1_depthwise_blob_records() -> None:
    """thumb1_depthwise_blob: the weights and bias as they were, the records in small_records'
    form, and None when a channel's bound (|bias| + 128 * sum |w|) reaches SMALL_BOUND."""
    rng = np.random.default_rng(1798)
    for big in (False, True):
        model = ties_layer(True, 9, big)
        g = read_tflite(model)
        blob = np.asarray(generate_c(g).lowered[0].consts["depthwise"], np.int64)
        got = thumb1_depthwise_blob(blob, 9)
        assert (got is None) == big
        if got is None:
            continue
        plain, got = blob.reshape(-1, 34), got.reshape(-1, 34)
        assert np.array_equal(got[:, :22], plain[:, :22])
        assert np.array_equal(
            got[:, 22:].reshape(-1, 3), small_records(plain[:, 22:].reshape(-1, 3))
        )
    blob = rng.integers(-(2**15), 2**15, (2, 34)) & 0xFFFF  # weights of up to 2^15
    blob[:, 22:] = [2**30, 1, 3] * 4
    assert thumb1_depthwise_blob(blob.reshape(-1), 9) is None


@pytest.mark.slow
def test_conv_tile_rows_small_records_bit_exact(tmp_path) -> None:
    """A 2x2 conv over 8 channels read in place: a tile over 2 filter rows, whose Cortex-M0 path
    is the runs' loop and tp_output_rq_s8 in C, on records in the small-accumulator form."""
    rng = np.random.default_rng(1702)
    cfg = random_w16_conv_config(rng)
    cfg.update(k_h=2, k_w=2, filter_c=8, in_h=7, in_w=6, dil_h=1, dil_w=1)
    cfg["out_h"], cfg["out_w"] = conv_output_size(cfg)
    with labelled_failure(f"config {cfg}"):
        model = build_w16_conv(cfg, rng)
        assert [c.key.rows for c in generate_c(read_tflite(model)).convs] == [2]
        assert small_form(model)
        symbols = firmware_symbols(model, 1702, tmp_path)
        assert "tp_t1_dot1x4_w16" in symbols and "__aeabi_lmul" not in symbols


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
    records, want = got[:, 4 + 2 * k :].reshape(-1, 3), plain[:, 4 + 2 * k :].reshape(-1, 3)
    bound = np.abs(plain[:, :4]).reshape(-1) + 128 * np.abs(w).sum(axis=1)
    if bound.max() < SMALL_BOUND:  # the three-product form, which holds the same numbers
        want = small_records(want)
    assert np.array_equal(records, want)


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
