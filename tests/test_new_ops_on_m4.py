"""The kernels added for converter-made models, built for the emulated Cortex-M4F (mps2-an386)
and checked bit for bit against the TFLM interpreter.

One graph goes through every data-movement, elementwise, resize, reduce, TRANSPOSE_CONV,
BATCH_MATMUL, PRELU and ABS/RSQRT kernel (op_cases.build_new_ops_chain), so a single firmware
build covers them all; a second, small one ends in ARG_MAX, whose int32 indices come back
through the device link.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import build_new_ops_chain, check_bit_exact_on_board

from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder

BOARD = "mps2-an386"
pytestmark = pytest.mark.qemu


def test_new_ops_chain_on_m4_bit_exact() -> None:
    model = build_new_ops_chain(np.random.default_rng(0))
    new_ops = {
        "TRANSPOSE", "STRIDED_SLICE", "SLICE", "SPLIT", "SUB", "MAXIMUM", "MINIMUM", "GATHER",
        "SQUARED_DIFFERENCE", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "RESIZE_BILINEAR",
        "RESIZE_NEAREST_NEIGHBOR", "TRANSPOSE_CONV", "UNPACK", "PACK", "BATCH_MATMUL", "ABS", "RSQRT",
        "REDUCE_MAX", "SUM", "PRELU",
    }  # fmt: skip
    assert new_ops <= {op.opcode for op in read_tflite(model).operators}
    check_bit_exact_on_board(model, 11, BOARD, samples=3)


def test_arg_max_on_m4_bit_exact() -> None:
    b = ModelBuilder()
    x = b.tensor((1, 6, 10), scale=0.1, zero_point=5)
    floor = b.tensor((1,), scale=0.1, zero_point=5, data=np.array([60]))
    clamped = b.tensor((1, 6, 10), scale=0.1, zero_point=5)
    b.op("MINIMUM", [x, floor], [clamped], "MaximumMinimumOptions")  # ties at the top
    axis = b.tensor((1,), "int32", data=np.array([-1], np.int32))
    y = b.tensor((1, 6), "int32")
    b.op("ARG_MAX", [clamped, axis], [y], "ArgMaxOptions", output_type=2)  # INT32
    check_bit_exact_on_board(b.build([x], [y]), 12, BOARD, samples=3)
