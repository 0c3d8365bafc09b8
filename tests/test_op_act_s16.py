"""LOGISTIC and TANH on int16 tensors against the TFLM interpreter, bit for bit, over every
int16 input value, at input scales on TFLM's power-of-two path (2^-12, and 2^-11 for TANH) and
off it (other powers of two, arbitrary scales), in one multi-input program (and under
ASan/UBSan)."""

from __future__ import annotations

import numpy as np
import pytest

from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError

SCALES = [2.0**-12, 2.0**-11, 2.0**-10, 2.0**-13, 2.0**-8, 3.1e-4, 1.7e-5, 0.011]
EVERY_INT16 = np.arange(-32768, 32768, dtype=np.int16).reshape(256, 1, 256)  # 256 samples


def test_logistic_and_tanh_s16_every_value_bit_exact() -> None:
    b = ModelBuilder()
    inputs, outputs = [], []
    for scale in SCALES:
        x = b.tensor((1, 256), "int16", scale=scale, zero_point=0)
        inputs.append(x)
        for opcode in ("LOGISTIC", "TANH"):
            y = b.tensor((1, 256), "int16", scale=2.0**-15, zero_point=0)
            b.op(opcode, [x], [y])
            outputs.append(y)
    model = b.build(inputs, outputs)
    g = read_tflite(model)
    verdict, _ = validate_host(g, [EVERY_INT16] * len(SCALES), sanitize=True)
    assert verdict.elements == len(outputs) * 65536
    assert verdict.bit_exact, verdict.summary()


@pytest.mark.parametrize("opcode", ["LOGISTIC", "TANH"])
def test_s16_output_scale_other_than_2_pow_minus_15_refused(opcode: str) -> None:
    b = ModelBuilder()
    x = b.tensor((1, 8), "int16", scale=2.0**-12, zero_point=0)
    y = b.tensor((1, 8), "int16", scale=2.0**-14, zero_point=0)
    b.op(opcode, [x], [y])
    with pytest.raises(UnsupportedModelError, match="needs 2\\^-15"):
        generate_c(read_tflite(b.build([x], [y])))
