"""ADD: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized models built directly: broadcasting in every direction (constant operand first or
second, the model input itself broadcast, two activations of different shapes, scalars),
asymmetric zero points, input scale ratios up to 1000:1, every fused activation. Plus models
made by the real TF converter (Add of two branches with a ReLU, a bias vector added).

The helpers here are shared with test_op_mul.py, which builds the same cases for MUL.
"""

from __future__ import annotations

import numpy as np
import pytest
from tflite_builder import ModelBuilder

from tinypipe.errors import UnsupportedModelError
from tinypipe.graph import read_tflite
from tinypipe.ops.add import broadcast_layout
from tinypipe.validate import validate_host

ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
OPTIONS = {"ADD": "AddOptions", "MUL": "MulOptions"}
SAMPLES = 8


def check_bit_exact(model: bytes, seed: int, sanitize: bool) -> None:
    g = read_tflite(model)
    x = np.random.default_rng(seed).integers(
        -128, 128, (SAMPLES, *g.input_tensors[0].shape), dtype=np.int8
    )
    verdict, _ = validate_host(model, x, sanitize=sanitize)
    assert verdict.bit_exact, verdict.summary()
    assert verdict.samples == SAMPLES


def random_binary_config(rng: np.random.Generator, opcode: str) -> dict:
    """Shapes, operand kinds and quantization for one ADD/MUL case."""
    rank = int(rng.integers(1, 5))
    full = [int(d) for d in rng.integers(1, 7, rank)]
    if rank == 4:
        full[0] = int(rng.choice([1, 1, 2]))
    # The other operand: some dims broadcast (1), possibly fewer leading dims.
    small = [d if rng.random() < 0.5 else 1 for d in full]
    small = small[int(rng.integers(0, rank + 1)) :]
    kinds = ["const", "input_small", "activations", "same", "scalar"]
    mode = str(rng.choice(kinds, p=[0.3, 0.2, 0.3, 0.1, 0.1]))
    if mode == "scalar":
        small = [] if rng.random() < 0.5 else [1]
    if mode == "activations":  # MEAN makes the operand, so some dim of size > 1 must reduce
        padded = [1] * (rank - len(small)) + small
        wide = [i for i, d in enumerate(full) if d > 1]
        if not wide:
            mode = "same"
        elif padded == full:
            small = padded[: wide[0]] + [1] + padded[wide[0] + 1 :]
    s1 = float(10 ** rng.uniform(-3, 0))
    s2 = s1 if mode == "same" else float(s1 * 10 ** rng.uniform(-3, 3))
    z1 = int(rng.integers(-128, 128))
    z2 = z1 if mode == "same" else int(rng.integers(-128, 128))
    if opcode == "ADD":
        s_out = (s1 + s2) * float(10 ** rng.uniform(-0.5, 0.5))
    else:  # mostly M = s1 s2 / s_out < 1, sometimes > 1
        f = rng.uniform(0.5, 2.8) if rng.random() < 0.8 else rng.uniform(-0.5, 0.5)
        s_out = s1 * s2 * float(10**f)
    return {
        "full": full,
        "small": small,
        "mode": mode,
        "swap": bool(rng.integers(0, 2)),
        "scales": (s1, s2, s_out),
        "zero_points": (z1, z2, int(rng.integers(-128, 128))),
        "act": str(rng.choice(ACTIVATIONS)),
    }


def build_binary(opcode: str, cfg: dict, rng: np.random.Generator) -> bytes:
    """One ADD/MUL (plus a MEAN making the second activation in mode 'activations')."""
    (s1, s2, s_out), (z1, z2, z_out) = cfg["scales"], cfg["zero_points"]
    full, small, mode = cfg["full"], cfg["small"], cfg["mode"]
    b = ModelBuilder()
    if mode == "input_small":  # the model input is the broadcast operand
        x = b.tensor(small, scale=s1, zero_point=z1)
        other = b.tensor(full, scale=s2, zero_point=z2, data=rng.integers(-128, 128, full))
    else:
        x = b.tensor(full, scale=s1, zero_point=z1)
        if mode == "same":
            other = x
        elif mode == "activations":  # a second activation, broadcast: MEAN over its 1-dims
            padded = [1] * (len(full) - len(small)) + small
            axes = [i for i, (p, d) in enumerate(zip(padded, full)) if p != d]
            ax = b.tensor((len(axes),), "int32", data=np.array(axes, np.int32))
            other = b.tensor(padded, scale=s2, zero_point=z2)
            b.op("MEAN", [x, ax], [other], "ReducerOptions", keep_dims=True)
        else:
            other = b.tensor(small, scale=s2, zero_point=z2, data=rng.integers(-128, 128, small))
    y = b.tensor(full, scale=s_out, zero_point=z_out)
    operands = [other, x] if cfg["swap"] else [x, other]
    b.op(opcode, operands, [y], OPTIONS[opcode], fused_activation_function=cfg["act"])
    return b.build([x], [y])


def run_random_cases(opcode: str, first_seed: int, count: int) -> None:
    for k in range(count):
        seed = first_seed + k
        rng = np.random.default_rng(seed)
        cfg = random_binary_config(rng, opcode)
        try:
            check_bit_exact(build_binary(opcode, cfg, rng), seed, sanitize=k % 3 == 0)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed} config {cfg}: {exc}") from None


@pytest.mark.parametrize("chunk", range(3))
def test_add_random_configs_bit_exact(chunk: int) -> None:
    """30 random configurations (10 per chunk), 8 random inputs each; every 3rd under ASan/UBSan."""
    run_random_cases("ADD", 2000 + 10 * chunk, 10)


def test_add_extreme_scale_ratio_every_activation() -> None:
    """Input scales 1000:1 apart, an output scale near TFLite's limit, and a bias-style operand."""
    for k, act in enumerate(ACTIVATIONS):
        rng = np.random.default_rng(50 + k)
        cfg = {
            "full": [1, 3, 4, 5], "small": [5], "mode": "const", "swap": k % 2 == 1,
            "scales": (0.5, 0.0005, 0.5 * 2 / (1 << 20) * 1.01 if k == 0 else 0.02),
            "zero_points": (-100, 90, 17), "act": act,
        }  # fmt: skip
        check_bit_exact(build_binary("ADD", cfg, rng), k, sanitize=False)


@pytest.mark.parametrize(
    "a,b,out,expect",
    [
        ((1, 4, 5, 3), (1, 4, 5, 3), (1, 4, 5, 3), ([1, 1, 1, 60], [0, 0, 0, 1], [0, 0, 0, 1])),
        ((1, 4, 5, 3), (3,), (1, 4, 5, 3), ([1, 1, 20, 3], [0, 0, 3, 1], [0, 0, 0, 1])),
        ((2, 1, 3), (1, 4, 1), (2, 4, 3), ([1, 2, 4, 3], [0, 3, 0, 1], [0, 0, 1, 0])),
        ((), (2, 3), (2, 3), ([1, 1, 1, 6], [0, 0, 0, 0], [0, 0, 0, 1])),
    ],
)
def test_broadcast_layout_merges_dims(a, b, out, expect) -> None:
    from tinypipe.graph import Operator

    op = Operator(0, "ADD", 1, [0, 1], [2])
    assert broadcast_layout(op, a, b, out) == expect


def test_add_rejects_unmergeable_5d_broadcast() -> None:
    b = ModelBuilder()
    x = b.tensor((2, 1, 2, 1, 2), scale=0.1, zero_point=0)
    w = b.tensor((1, 2, 1, 2, 1), scale=0.1, zero_point=0, data=np.ones((1, 2, 1, 2, 1)))
    y = b.tensor((2, 2, 2, 2, 2), scale=0.2, zero_point=0)
    b.op("ADD", [x, w], [y], "AddOptions")
    with pytest.raises(UnsupportedModelError, match="loop dims"):
        validate_host(b.build([x], [y]), np.zeros((1, 2, 1, 2, 1, 2), np.int8))


def test_add_rejects_output_scale_tflite_cannot_represent() -> None:
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=1.0, zero_point=0)
    w = b.tensor((1, 4), scale=1.0, zero_point=0, data=np.ones((1, 4)))
    y = b.tensor((1, 4), scale=1e-7, zero_point=0)
    b.op("ADD", [x, w], [y], "AddOptions")
    with pytest.raises(UnsupportedModelError, match="output scale"):
        validate_host(b.build([x], [y]), np.zeros((1, 1, 4), np.int8))


def test_add_converter_models_bit_exact() -> None:
    """Add of two pooling branches with a fused ReLU, and a Keras bias vector (constant operand)."""
    from tinypipe.zoo import convert_int8, import_keras

    keras = import_keras()
    layers = keras.layers

    class Bias(layers.Layer):
        def build(self, shape):
            self.b = self.add_weight(shape=(shape[-1],), initializer="random_normal")

        def call(self, x):
            return x + self.b

    keras.utils.set_random_seed(5)
    inp = keras.Input((6, 7, 3), batch_size=1)
    a = layers.MaxPooling2D(2, strides=1, padding="same")(inp)
    c = layers.AveragePooling2D(3, strides=1, padding="same")(inp)
    x = layers.ReLU()(layers.Add()([a, c]))
    x = Bias()(x)
    rep = np.random.default_rng(0).uniform(-1, 1, (16, 6, 7, 3)).astype(np.float32)
    tflite = convert_int8(keras.Model(inp, x), rep)
    g = read_tflite(tflite)
    adds = [op for op in g.operators if op.opcode == "ADD"]
    assert len(adds) == 2 and adds[0].options["fused_activation_function"] == "RELU"
    assert any(g.tensors[i].is_const and g.tensors[i].shape == (3,) for i in adds[1].inputs)
    check_bit_exact(tflite, 12, sanitize=True)
