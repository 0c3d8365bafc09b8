"""ADD and SUB through the input tables (tp_add_lut_s8) and MUL with the host's requantization
words (tp_mul_rq_s8), and small ADD/SUB layers' per-element kernels (tp_add_s8, tp_sub_s8), built for the emulated Cortex-M4F (mps2-an386: SMMLAR, four outputs at a
time clamped with SSUB8/SEL), Cortex-M3 (mps2-an385: the portable C with SMLAL) and Cortex-M0
(micro:bit: no 64-bit multiply, TP_SPLIT_MULTIPLY), bit for bit against the TFLM interpreter.

One firmware per board runs random one-op models side by side (op_cases.merge_models): same-shape
inputs (one contiguous row), a constant broadcast along H (contiguous rows) and along C (one
element at a time), each with random scales, zero points and fused activations; each layer is
checked to lower to the kernel and row layout it stands for.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import (
    build_binary,
    check_bit_exact_on_board,
    merge_models,
    random_binary_config,
    random_rows_binary_config,
    row_strides,
)

from tinypipe.compiler.codegen import lower_all
from tinypipe.compiler.graph import read_tflite

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

KERNEL = {"ADD": "tp_add_lut_s8", "SUB": "tp_add_lut_s8", "MUL": "tp_mul_rq_s8"}
# (opcode, layout): two same-shape ADDs, as residual blocks have them
CASES = [("ADD", "same"), ("ADD", "same"), ("ADD", "rows"), ("ADD", "inner"), ("SUB", "same"),
         ("SUB", "rows"), ("MUL", "same"), ("MUL", "rows"), ("MUL", "inner")]  # fmt: skip
# below 512 outputs: the per-element kernels, any broadcast (op_cases.random_binary_config)
SMALL = [("ADD", "tp_add_s8"), ("SUB", "tp_sub_s8")]


def _small(opcode: str, rng: np.random.Generator) -> bytes:
    while True:
        cfg = random_binary_config(rng, "ADD")
        if np.prod(cfg["full"]) < 512:
            return build_binary(opcode, cfg, rng)


@pytest.mark.parametrize(
    "board,seed", [("mps2-an386", 610), ("mps2-an385", 620), ("microbit", 630)]
)
def test_add_sub_mul_rows_on_board_bit_exact(board: str, seed: int) -> None:
    models = []
    for k, (opcode, layout) in enumerate(CASES):
        rng = np.random.default_rng(seed + k)
        models.append(build_binary(opcode, random_rows_binary_config(rng, opcode, layout), rng))
    models += [_small(opcode, np.random.default_rng(seed + 50 + k)) for k, (opcode, _) in
               enumerate(SMALL)]  # fmt: skip
    model = merge_models(models)
    lowered = [low for low in lower_all(read_tflite(model)) if low.func.startswith("tp_")]
    lowered = [low for low in lowered if low.emits_code and not low.func.startswith("tp_mean")]
    assert [low.func for low in lowered] == [KERNEL[op] for op, _ in CASES] + [
        func for _, func in SMALL
    ]
    layouts = [row_strides(low) == (1, 1) for low in lowered[: len(CASES)]]
    assert layouts == [layout != "inner" for _, layout in CASES]
    check_bit_exact_on_board(model, seed, board, 3)
