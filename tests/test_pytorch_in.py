"""A model converted from PyTorch: litert-torch keeps PyTorch's NCHW input and puts a TRANSPOSE
to NHWC in front of the first convolution (and one back before the flatten). The checked-in
file was made by scripts/pytorch_nchw_model.py with litert-torch; it compiles with no edits and
matches TFLM bit for bit on the host and on a Cortex-M4."""

from __future__ import annotations

from pathlib import Path

import pytest
from op_cases import check_bit_exact, check_bit_exact_on_board

from tinypipe.compiler.graph import read_tflite

MODEL = Path(__file__).parent / "data" / "pytorch_nchw.tflite"


def test_converter_output_has_the_pytorch_layout():
    g = read_tflite(MODEL)
    assert g.input_tensors[0].shape == (1, 3, 8, 8) and g.input_tensors[0].dtype == "int8"
    first = g.operators[0]
    assert first.opcode == "TRANSPOSE" and first.inputs[0] == g.inputs[0]
    assert g.tensors[first.inputs[1]].data.tolist() == [0, 2, 3, 1]
    assert g.operators[1].opcode == "CONV_2D"


def test_pytorch_model_bit_exact_on_host():
    check_bit_exact(MODEL.read_bytes(), seed=21, sanitize=True)


@pytest.mark.qemu
def test_pytorch_model_bit_exact_on_m4():
    check_bit_exact_on_board(MODEL.read_bytes(), seed=22, board="mps2-an386", samples=4)
