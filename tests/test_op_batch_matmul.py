"""BATCH_MATMUL: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized models built directly: ranks 2..5 with numpy-style broadcast batch dims, adj_x and
adj_y, the right operand a constant or the model input itself (x @ x^T, as attention does),
asymmetric zero points on both sides, output scales around the product's range.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import run_random_cases

from tinypipe.compiler.tflite_writer import ModelBuilder


def random_bmm(rng):
    rank = int(rng.integers(2, 5))
    batch = [int(d) for d in rng.integers(1, 4, rank - 2)]
    other = [d if rng.random() < 0.6 else 1 for d in batch][int(rng.integers(0, len(batch) + 1)) :]
    m, k, n = (int(d) for d in rng.integers(1, 7, 3))
    self_product = bool(rng.random() < 0.3)
    return {
        "batch": batch, "other": batch if self_product else other, "m": m, "k": k,
        "n": m if self_product else n, "adj_x": bool(rng.integers(0, 2)),
        "adj_y": bool(rng.integers(0, 2)), "self": self_product,
        "s": [float(10 ** rng.uniform(-2.5, -0.5)) for _ in range(2)],
        "zp": [int(z) for z in rng.integers(-128, 128, 3)], "f": float(10 ** rng.uniform(-1, 0.7)),
    }  # fmt: skip


def build_bmm(cfg, rng):
    m, k, n = cfg["m"], cfg["k"], cfg["n"]
    lhs_shape = cfg["batch"] + ([k, m] if cfg["adj_x"] else [m, k])
    rhs_shape = cfg["other"] + ([n, k] if cfg["adj_y"] else [k, n])
    (s1, s2), (z1, z2, z3) = cfg["s"], cfg["zp"]
    s_out = s1 * s2 * 60 * np.sqrt(k) * cfg["f"]
    b = ModelBuilder()
    if cfg["self"]:  # x @ x^T: both operands are the model input, read with different strides
        x = b.tensor(lhs_shape, scale=s1, zero_point=z1)
        operands = [x, x]
        cfg_adj = {"adj_x": cfg["adj_x"], "adj_y": not cfg["adj_x"]}
    else:
        x = b.tensor(lhs_shape, scale=s1, zero_point=z1)
        w = b.tensor(rhs_shape, scale=s2, zero_point=z2, data=rng.integers(-128, 128, rhs_shape))
        operands = [x, w]
        cfg_adj = {"adj_x": cfg["adj_x"], "adj_y": cfg["adj_y"]}
    batch = list(np.broadcast_shapes(tuple(cfg["batch"]), tuple(cfg["other"])))
    y = b.tensor(batch + [m, n], scale=s_out, zero_point=z3)
    b.op("BATCH_MATMUL", operands, [y], "BatchMatMulOptions", version=4, **cfg_adj)
    return b.build([x], [y])


@pytest.mark.parametrize("chunk", range(2))
def test_batch_matmul_random_bit_exact(chunk: int) -> None:
    run_random_cases(random_bmm, build_bmm, 9100 + 10 * chunk, 7)
