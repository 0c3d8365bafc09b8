"""The Cortex-M55 board (QEMU mps3-an547): boots with the same link, bit-exact with TFLM."""

from __future__ import annotations

import numpy as np
import pytest

from tinypipe.check.validate import validate_on_board
from tinypipe.compiler.graph import read_tflite
from tinypipe.device.boards import get_board

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("model", ["digits", "ds_cnn"])
def test_m55_is_bit_exact_and_counts_instructions(model, digits_tflite, zoo_model) -> None:
    path = digits_tflite if model == "digits" else zoo_model("ds_cnn")
    graph = read_tflite(path)
    x = np.random.default_rng(7).integers(
        -128, 128, (3, *graph.input_tensors[0].shape), dtype=np.int8
    )
    verdict, _ = validate_on_board(graph, x, "mps3-an547")
    assert verdict.bit_exact and verdict.samples == 3
    assert verdict.extra["count_unit"] == "instructions"
    build = verdict.extra["build"]
    board = get_board("mps3-an547")
    assert (
        build["flash_size"] == board.flash_region.size
        and build["ram_size"] == board.ram_region.size
    )
    # the per-layer counts add up to the last inference's count, less the tail after the last
    # kernel (under two SysTick ticks: 1e9 / 32 MHz = 31.25 instructions each)
    layers = [c for c in verdict.extra["layer_counts"] if c is not None]
    assert layers and all(c > 0 for c in layers)
    assert 0 <= verdict.extra["counts"][-1] - sum(layers) <= 2 * 31.25
