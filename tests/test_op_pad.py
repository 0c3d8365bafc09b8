"""PAD: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized models built directly: ranks 1..4 (and a 5-D case that merges to 4), paddings
0..3 before and after every dim, asymmetric zero points (the fill value). Plus a
ZeroPadding2D model made by the real TF converter.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import check_bit_exact, labelled_failure

from tinypipe.check.validate import validate_host
from tinypipe.compiler import ops
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.pad import merge_pad_dims
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError


def build_pad(shape, pads, zp: int, scale: float = 0.05) -> bytes:
    pads = np.asarray(pads, np.int32).reshape(-1, 2)
    b = ModelBuilder()
    x = b.tensor(shape, scale=scale, zero_point=zp)
    p = b.tensor(pads.shape, "int32", data=pads)
    y = b.tensor(
        [d + int(a) + int(c) for d, (a, c) in zip(shape, pads)], scale=scale, zero_point=zp
    )
    b.op("PAD", [x, p], [y])
    return b.build([x], [y])


@pytest.mark.parametrize("chunk", range(2))
def test_pad_random_configs_bit_exact(chunk: int) -> None:
    """24 random configurations (12 per chunk), 8 random inputs each; every 3rd under ASan/UBSan."""
    for k in range(12):
        seed = 5000 + 12 * chunk + k
        rng = np.random.default_rng(seed)
        rank = int(rng.integers(1, 5))
        shape = [int(d) for d in rng.integers(1, 6, rank)]
        pads = rng.integers(0, 4, (rank, 2)) * (rng.random((rank, 1)) < 0.7)
        zp = int(rng.integers(-128, 128))
        with labelled_failure(f"seed {seed} shape {shape} pads {pads.tolist()}"):
            check_bit_exact(build_pad(shape, pads, zp), seed, sanitize=k % 3 == 0)


def test_pad_5d_merges_to_4_dims() -> None:
    pads = [[1, 0], [0, 0], [2, 1], [0, 0], [0, 2]]
    check_bit_exact(build_pad([2, 3, 2, 2, 3], pads, zp=-9), 1, sanitize=True)


def test_merge_pad_dims() -> None:
    # ZeroPadding2D on NHWC: batch dropped, C folded into W (its padding scaled by C).
    dims, out = merge_pad_dims((1, 4, 5, 3), np.array([[0, 0], [1, 2], [0, 1], [0, 0]]))
    assert dims == [(4, 1), (15, 0)] and out == [7, 18]


def test_pad_rejects_unmergeable_5d() -> None:
    model = build_pad([2, 2, 2, 2, 2], [[1, 0]] * 5, zp=0)
    with pytest.raises(UnsupportedModelError, match="at most 4"):
        validate_host(model, np.zeros((1, 2, 2, 2, 2, 2), np.int8))


def test_padv2_constant_value(monkeypatch) -> None:
    """PADV2 (fill value from a constant input) lowers to the same kernel once registered."""
    monkeypatch.setitem(ops.FAMILIES, "PADV2", ("pad", 1))
    b = ModelBuilder()
    x = b.tensor((1, 3, 2, 2), scale=0.05, zero_point=4)
    p = b.tensor((4, 2), "int32", data=np.array([[0, 0], [1, 1], [2, 0], [0, 1]], np.int32))
    v = b.tensor((), scale=0.05, zero_point=4, data=np.array(-77, np.int8))
    y = b.tensor((1, 5, 4, 3), scale=0.05, zero_point=4)
    b.op("PADV2", [x, p, v], [y])
    check_bit_exact(b.build([x], [y]), 2, sanitize=False)


def test_pad_converter_model_bit_exact() -> None:
    """ZeroPadding2D with asymmetric padding, as the TF converter emits it."""
    from tinypipe.model.zoo import convert_int8, import_keras

    keras = import_keras()
    layers = keras.layers
    inp = keras.Input((6, 5, 3), batch_size=1)
    x = layers.ZeroPadding2D(((1, 2), (0, 3)))(inp)
    x = layers.AveragePooling2D(2)(x)
    x = layers.ZeroPadding2D(1)(x)
    rep = np.random.default_rng(3).uniform(-1, 2, (16, 6, 5, 3)).astype(np.float32)
    tflite = convert_int8(keras.Model(inp, x), rep)
    g = read_tflite(tflite)
    assert [op.opcode for op in g.operators] == ["PAD", "AVERAGE_POOL_2D", "PAD"]
    check_bit_exact(tflite, 15, sanitize=True)
