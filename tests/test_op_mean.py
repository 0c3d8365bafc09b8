"""MEAN: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized models built directly: ranks 1..4, any set of axes (negative and repeated ones
too), keep_dims on and off, input/output quantization equal or different (scale ratios
1/30..30), asymmetric zero points. Plus GlobalAveragePooling2D models (keepdims off and on)
made by the real TF converter.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import check_bit_exact, labelled_failure

from tinypipe.check.validate import validate_host
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.mean import mean_multiplier
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError


def build_mean(shape, axes, keep_dims: bool, in_q, out_q) -> bytes:
    rank = len(shape)
    resolved = {a % rank for a in axes}
    if keep_dims:
        out_shape = [1 if i in resolved else d for i, d in enumerate(shape)]
    else:
        out_shape = [d for i, d in enumerate(shape) if i not in resolved]
    b = ModelBuilder()
    x = b.tensor(shape, scale=in_q[0], zero_point=in_q[1])
    ax = b.tensor((len(axes),), "int32", data=np.array(axes, np.int32))
    y = b.tensor(out_shape, scale=out_q[0], zero_point=out_q[1])
    b.op("MEAN", [x, ax], [y], "ReducerOptions", keep_dims=keep_dims)
    return b.build([x], [y])


def random_mean_case(rng: np.random.Generator) -> tuple:
    rank = int(rng.integers(1, 5))
    shape = [int(d) for d in rng.integers(1, 8, rank)]
    count = int(rng.integers(1, rank + 1))
    axes = [int(a) for a in rng.choice(rank, count, replace=False)]
    axes = [a - rank if rng.random() < 0.3 else a for a in axes]
    if rng.random() < 0.15:
        axes.append(axes[0])  # TFLM ignores duplicates
    in_q = (float(10 ** rng.uniform(-3, 0)), int(rng.integers(-128, 128)))
    if rng.random() < 0.25:
        out_q = in_q
    else:
        out_q = (in_q[0] * float(10 ** rng.uniform(-1.5, 1.5)), int(rng.integers(-128, 128)))
    return shape, axes, bool(rng.integers(0, 2)), in_q, out_q


@pytest.mark.parametrize("chunk", range(2))
def test_mean_random_configs_bit_exact(chunk: int) -> None:
    """24 random configurations (12 per chunk), 8 random inputs each; every 3rd under ASan/UBSan."""
    for k in range(12):
        seed = 7000 + 12 * chunk + k
        case = random_mean_case(np.random.default_rng(seed))
        with labelled_failure(f"seed {seed} case {case}"):
            check_bit_exact(build_mean(*case), seed, sanitize=k % 3 == 0)


def test_mean_global_pool_large_window() -> None:
    """A 16x16 window: 1/256 folds into the multiplier with a large shift."""
    check_bit_exact(build_mean([1, 16, 16, 3], [1, 2], False, (0.02, -20), (0.004, 7)), 3, True)


def test_mean_multiplier_folds_count_like_tflm() -> None:
    # s_in / s_out = 1 -> (2^30, 1); N = 6 -> k = 2: (2^30 << 2) // 6, shift 1 - 2.
    assert mean_multiplier(0.5, 0.5, 6) == ((1 << 32) // 6, -1)
    assert mean_multiplier(0.5, 0.5, 1) == (1 << 30, 1)


def test_mean_rejects_three_way_interleaving() -> None:
    model = build_mean([2, 3, 2, 3, 2], [1, 3], True, (0.1, 0), (0.1, 0))
    with pytest.raises(UnsupportedModelError, match="interleaves"):
        validate_host(model, np.zeros((1, 2, 3, 2, 3, 2), np.int8))


@pytest.mark.parametrize("keepdims", [False, True])
def test_mean_converter_global_average_pooling_bit_exact(keepdims: bool) -> None:
    """GlobalAveragePooling2D: MEAN over axes [1, 2], with and without keep_dims."""
    from tinypipe.model.zoo import convert_int8, import_keras

    keras = import_keras()
    layers = keras.layers
    inp = keras.Input((7, 5, 4), batch_size=1)
    x = layers.GlobalAveragePooling2D(keepdims=keepdims)(inp)
    rep = np.random.default_rng(5).uniform(-1, 3, (16, 7, 5, 4)).astype(np.float32)
    tflite = convert_int8(keras.Model(inp, x), rep)
    g = read_tflite(tflite)
    (op,) = g.operators
    assert op.opcode == "MEAN" and op.options["keep_dims"] == keepdims
    assert g.tensors[op.inputs[1]].data.tolist() == [1, 2]
    check_bit_exact(tflite, 17, sanitize=keepdims)
