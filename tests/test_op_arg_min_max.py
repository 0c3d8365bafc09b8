"""ARG_MAX and ARG_MIN: tinypipe's kernel against the TFLM interpreter, bit for bit.

Randomized models built directly: ranks 1..4, every axis (negative too), int32 and int64
axis and output types. Half the cases clamp the input first (MAXIMUM with a constant) so many
elements tie, which checks that the first of equal extremes wins, as in TFLM.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import run_random_cases

from tinypipe.check.validate import validate_host
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError


def random_arg(rng):
    shape = [int(d) for d in rng.integers(1, 6, int(rng.integers(1, 5)))]
    axis = int(rng.integers(-len(shape), len(shape)))
    return {
        "op": str(rng.choice(["ARG_MAX", "ARG_MIN"])), "shape": shape, "axis": axis,
        "clamp": bool(rng.random() < 0.5), "zp": int(rng.integers(-128, 128)),
    }  # fmt: skip


def build_arg(cfg, rng):
    shape, axis = cfg["shape"], cfg["axis"]
    q = {"scale": 0.05, "zero_point": cfg["zp"]}
    b = ModelBuilder()
    x = b.tensor(shape, **q)
    src = x
    if cfg["clamp"]:  # many equal values: ties on the reduced axis
        bound = b.tensor([1], **q, data=np.array([int(rng.integers(-40, 80))]))
        src = b.tensor(shape, **q)
        # clamp from above for ARG_MAX (the maximum ties), from below for ARG_MIN
        op = "MINIMUM" if cfg["op"] == "ARG_MAX" else "MAXIMUM"
        b.op(op, [x, bound], [src], "MaximumMinimumOptions")
    a = b.tensor([1], "int32", data=np.array([axis]))
    y = b.tensor(shape[: axis % len(shape)] + shape[axis % len(shape) + 1 :], "int32")
    options = "ArgMaxOptions" if cfg["op"] == "ARG_MAX" else "ArgMinOptions"
    b.op(cfg["op"], [src, a], [y], options, version=2, output_type=2)  # INT32
    return b.build([x], [y])


def test_arg_min_max_random_bit_exact() -> None:
    run_random_cases(random_arg, build_arg, 8500, 10)


def test_arg_max_rejects_int64_output() -> None:
    b = ModelBuilder()
    x = b.tensor((2, 3), scale=0.1, zero_point=0)
    a = b.tensor([1], "int32", data=np.array([1]))
    y = b.tensor((2,), "int64")
    b.op("ARG_MAX", [x, a], [y], "ArgMaxOptions", output_type=4)  # INT64
    with pytest.raises(UnsupportedModelError, match="int32 indices"):
        validate_host(b.build([x], [y]), np.zeros((1, 2, 3), np.int8))
