"""CONCATENATION: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized models built directly: ranks 1..4, every axis (negative ones too), 1..10 inputs
mixing the model input (repeated) with constants of other sizes along the axis. TFLM requires
every input to share the output's scale and zero point; models that do not are reported.
Plus a Concatenate model made by the real TF converter.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import check_bit_exact, labelled_failure

from tinypipe.check.validate import validate_host
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError


def build_concat(rng: np.random.Generator, shape, axis: int, kinds, scale=0.05, zp=-3) -> bytes:
    """CONCATENATION of the model input ('x') and constants ('c', random size on the axis)."""
    b = ModelBuilder()
    q = {"scale": scale, "zero_point": zp}
    x = b.tensor(shape, **q)
    inputs, total = [], 0
    for kind in kinds:
        if kind == "x":
            inputs.append(x)
            total += shape[axis]
        else:
            s = list(shape)
            s[axis] = int(rng.integers(1, 4))
            inputs.append(b.tensor(s, **q, data=rng.integers(-128, 128, s)))
            total += s[axis]
    out_shape = list(shape)
    out_shape[axis] = total
    y = b.tensor(out_shape, **q)
    neg = axis - len(shape) if rng.random() < 0.5 else axis
    b.op("CONCATENATION", inputs, [y], "ConcatenationOptions", axis=neg)
    return b.build([x], [y])


@pytest.mark.parametrize("chunk", range(2))
def test_concatenation_random_configs_bit_exact(chunk: int) -> None:
    """24 random configurations (12 per chunk), 8 random inputs each; every 3rd under ASan/UBSan."""
    for k in range(12):
        seed = 6000 + 12 * chunk + k
        rng = np.random.default_rng(seed)
        rank = int(rng.integers(1, 5))
        shape = [int(d) for d in rng.integers(1, 5, rank)]
        axis = int(rng.integers(0, rank))
        n = int(rng.integers(1, 11)) if k != 0 else 10
        kinds = ["x"] + [str(rng.choice(["x", "c"])) for _ in range(n - 1)]
        rng.shuffle(kinds)
        zp = int(rng.integers(-128, 128))
        with labelled_failure(f"seed {seed} {shape} axis {axis} {kinds}"):
            model = build_concat(rng, shape, axis, kinds, scale=float(rng.uniform(0.01, 1)), zp=zp)
            check_bit_exact(model, seed, sanitize=k % 3 == 0)


def test_concatenation_rejects_mismatched_quantization() -> None:
    """TFLM refuses this at Prepare; tinypipe names the input and what the spec requires."""
    b = ModelBuilder()
    x = b.tensor((1, 2, 3), scale=0.1, zero_point=0)
    c = b.tensor((1, 2, 2), scale=0.2, zero_point=0, data=np.ones((1, 2, 2)))
    y = b.tensor((1, 2, 5), scale=0.1, zero_point=0)
    b.op("CONCATENATION", [x, c], [y], "ConcatenationOptions", axis=2)
    with pytest.raises(UnsupportedModelError, match="quantized differently"):
        validate_host(b.build([x], [y]), np.zeros((1, 1, 2, 3), np.int8))


def test_concatenation_rejects_more_than_10_inputs() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(UnsupportedModelError, match="at most 10"):
        validate_host(build_concat(rng, [2, 3], 1, ["x"] * 11), np.zeros((1, 2, 3), np.int8))


def test_concatenation_converter_model_bit_exact() -> None:
    """Concatenate on channels of two pooling branches and the input itself."""
    from tinypipe.model.zoo import convert_int8, import_keras

    keras = import_keras()
    layers = keras.layers
    inp = keras.Input((6, 6, 2), batch_size=1)
    a = layers.MaxPooling2D(2, strides=1, padding="same")(inp)
    c = layers.AveragePooling2D(3, strides=1, padding="same")(inp)
    x = layers.Concatenate()([a, inp, c])
    x = layers.Concatenate(axis=1)([x, x])
    rep = np.random.default_rng(4).uniform(-1, 1, (16, 6, 6, 2)).astype(np.float32)
    tflite = convert_int8(keras.Model(inp, x), rep)
    g = read_tflite(tflite)
    assert [op.opcode for op in g.operators].count("CONCATENATION") == 2
    check_bit_exact(tflite, 16, sanitize=True)
