"""SUM and REDUCE_MAX: tinypipe's int8 kernels against the TFLM interpreter, bit for bit.

Randomized models built directly: ranks 1..4, random axis sets (negative axes too), keep_dims
on and off, asymmetric zero points; SUM with output scales around the sum's range (its
multiplier s_in / s_out is above one when the output is finer than the input), REDUCE_MAX with
the shared quantization the converter gives it.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import run_random_cases

from tinypipe.compiler.tflite_writer import ModelBuilder


def random_reduce(rng):
    while True:
        shape = [int(d) for d in rng.integers(1, 6, int(rng.integers(1, 5)))]
        axes = [a for a in range(len(shape)) if rng.random() < 0.5]
        if axes:
            break
    return {
        "op": str(rng.choice(["SUM", "REDUCE_MAX"])), "shape": shape,
        "axes": [a - len(shape) if rng.random() < 0.3 else a for a in axes],
        "keep": bool(rng.integers(0, 2)), "s_in": float(10 ** rng.uniform(-2, 0)),
        "zp_in": int(rng.integers(-128, 128)), "f": float(10 ** rng.uniform(-0.5, 1.2)),
        "zp_out": int(rng.integers(-128, 128)),
    }  # fmt: skip


def build_reduce(cfg, rng):
    shape, axes = cfg["shape"], [a % len(cfg["shape"]) for a in cfg["axes"]]
    n = int(np.prod([shape[a] for a in set(axes)]))
    out = [1 if a in axes else d for a, d in enumerate(shape)]
    if not cfg["keep"]:
        out = [d for a, d in enumerate(shape) if a not in axes]
    b = ModelBuilder()
    x = b.tensor(shape, scale=cfg["s_in"], zero_point=cfg["zp_in"])
    ax = b.tensor([len(axes)], "int32", data=np.asarray(cfg["axes"], np.int32))
    if cfg["op"] == "SUM":
        y = b.tensor(out, scale=cfg["s_in"] * np.sqrt(n) * cfg["f"], zero_point=cfg["zp_out"])
    else:
        y = b.tensor(out, scale=cfg["s_in"], zero_point=cfg["zp_in"])
    b.op(cfg["op"], [x, ax], [y], "ReducerOptions", keep_dims=cfg["keep"])
    return b.build([x], [y])


@pytest.mark.parametrize("chunk", range(2))
def test_sum_reduce_max_random_bit_exact(chunk: int) -> None:
    run_random_cases(random_reduce, build_reduce, 9500 + 10 * chunk, 7)
