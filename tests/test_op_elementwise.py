"""SUB, MAXIMUM, MINIMUM and SQUARED_DIFFERENCE: tinypipe's int8 kernels against the TFLM
interpreter, bit for bit.

The randomized cases are ADD's (op_cases.random_binary_config: broadcasting in every direction,
constant or activation operands, either order, scalars, asymmetric zero points, scale ratios up
to 1000:1), with each op's own quantization: SUB takes ADD's scales and every fused activation,
MAXIMUM/MINIMUM share one quantization (as the converter gives them), SQUARED_DIFFERENCE an
output scale sized for the squared range.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import build_binary, random_binary_config, run_random_cases

from tinypipe.check.validate import validate_host
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError


def _config(rng: np.random.Generator, opcode: str) -> dict:
    cfg = random_binary_config(rng, "ADD")
    (s1, s2, _), z1 = cfg["scales"], cfg["zero_points"][0]
    if opcode in ("MAXIMUM", "MINIMUM"):
        cfg["scales"], cfg["zero_points"], cfg["act"] = (s1, s1, s1), (z1, z1, z1), "NONE"
    elif opcode == "SQUARED_DIFFERENCE":
        s_out = 255 * max(s1, s2) ** 2 * float(10 ** rng.uniform(-2.5, 0.3))
        cfg["scales"], cfg["act"] = (s1, s2, s_out), "NONE"
    return cfg


def _run(opcode: str, first_seed: int, count: int) -> None:
    run_random_cases(
        lambda rng: _config(rng, opcode),
        lambda cfg, rng: build_binary(opcode, cfg, rng),
        first_seed,
        count,
    )


@pytest.mark.parametrize("chunk", range(2))
def test_sub_random_configs_bit_exact(chunk: int) -> None:
    _run("SUB", 8000 + 10 * chunk, 8)


@pytest.mark.parametrize("opcode", ["MAXIMUM", "MINIMUM"])
def test_maximum_minimum_random_configs_bit_exact(opcode: str) -> None:
    _run(opcode, 8100 if opcode == "MAXIMUM" else 8200, 6)


@pytest.mark.parametrize("chunk", range(2))
def test_squared_difference_random_configs_bit_exact(chunk: int) -> None:
    _run("SQUARED_DIFFERENCE", 8300 + 10 * chunk, 8)


def test_maximum_rejects_mixed_quantization() -> None:
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=0.1, zero_point=0)
    w = b.tensor((1, 4), scale=0.2, zero_point=0, data=np.ones((1, 4)))
    y = b.tensor((1, 4), scale=0.1, zero_point=0)
    b.op("MAXIMUM", [x, w], [y], "MaximumMinimumOptions")
    with pytest.raises(UnsupportedModelError, match="quantized differently"):
        validate_host(b.build([x], [y]), np.zeros((1, 1, 4), np.int8))
