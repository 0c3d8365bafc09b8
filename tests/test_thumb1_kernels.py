"""The Cortex-M0 (ARMv6-M, Thumb-1) paths on the micro:bit, bit for bit against the TFLM
interpreter on random one-op models: the assembly loops of the convolution on int16-expanded
weights, on int8 weights and of the generated pointwise kernels (tp_conv_thumb1.c), and the
requantization without 64-bit multiplies (TP_SPLIT_MULTIPLY in tp_common.h). Each case checks
in the linked firmware that its Thumb-1 loop is there and that libgcc's 64-bit multiply is
not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from op_cases import (
    build_conv,
    build_pointwise_conv,
    labelled_failure,
    random_int8_inputs,
    random_pointwise_config,
)
from test_op_conv import build_w16_conv, random_conv_config, random_w16_conv_config

from tinypipe.check.validate import validate_on_board
from tinypipe.compiler.codegen import lower_all
from tinypipe.compiler.graph import read_tflite
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
@pytest.mark.parametrize("seed", [1700, 1701, 1702])
def test_conv_w16_thumb1_random_configs_bit_exact(tmp_path, seed: int) -> None:
    """Random convs on int16-expanded weights (windows read in place and gathered, pixel pairs
    and a pixel alone, stride, dilation, clamps)."""
    rng = np.random.default_rng(seed)
    cfg = random_w16_conv_config(rng)
    with labelled_failure(f"seed {seed} config {cfg}"):
        symbols = firmware_symbols(build_w16_conv(cfg, rng), seed, tmp_path)
        assert "tp_t1_dot1x4_w16_conv" in symbols
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
@pytest.mark.parametrize("seed", [1720, 1721])
def test_generated_pointwise_thumb1_random_configs_bit_exact(tmp_path, seed: int) -> None:
    """Random 1x1 convs on a generated pointwise kernel, whose C path calls the Thumb-1 loop."""
    rng = np.random.default_rng(seed)
    cfg = random_pointwise_config(rng)
    with labelled_failure(f"seed {seed} config {cfg}"):
        symbols = firmware_symbols(build_pointwise_conv(cfg, rng), seed, tmp_path)
        assert "tp_t1_dot1x4_w16_pointwise" in symbols
        assert "__aeabi_lmul" not in symbols
