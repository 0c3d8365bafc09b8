"""LOGISTIC, TANH, HARD_SWISH, RELU, RELU6, LEAKY_RELU: lookup tables against TFLM, bit for bit.

Each op is lowered to a 256-entry table computed from TFLM's integer math (never by running
TFLM). For every op, 40 random quantizations (log-uniform scales over 8 decades, any zero
points, random alphas) are checked on all 256 int8 inputs: the table that codegen emits against
the TFLM interpreter. A subset runs through the compiled C (some under ASan/UBSan), and a model
made by the real TF converter chains all six ops.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from op_cases import convert_keras_int8, unary_model

from tinypipe.check.reference import run_tflm
from tinypipe.check.validate import validate_host
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops import lower as lower_op
from tinypipe.errors import UnsupportedModelError

OPS = ["RELU", "RELU6", "LEAKY_RELU", "LOGISTIC", "TANH", "HARD_SWISH"]
TABLE_CONFIGS = 40
ALL_INT8 = np.arange(256, dtype=np.uint8).view(np.int8)  # table order: byte value


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.float32(10 ** rng.uniform(np.log10(lo), np.log10(hi))))


def random_config(op: str, rng: np.random.Generator) -> dict:
    """Quantization for one op: log-uniform input/output scales (1e-5 .. 1e2, i.e. up to ~1e7
    between input and output), any zero points; LOGISTIC/TANH get their fixed output params."""
    cfg = {
        "s_in": log_uniform(rng, 1e-5, 1e2),
        "z_in": int(rng.integers(-128, 128)),
        "s_out": log_uniform(rng, 1e-5, 1e2),
        "z_out": int(rng.integers(-128, 128)),
        "options": {},
    }
    if op == "LOGISTIC":
        cfg["s_out"], cfg["z_out"] = 1 / 256, -128
    elif op == "TANH":
        cfg["s_out"], cfg["z_out"] = 1 / 128, 0
    elif op == "HARD_SWISH":
        # TFLM needs s_out >= s_in / 128; keep the ratio within the ranges models use
        cfg["s_out"] = float(np.float32(cfg["s_in"] * 10 ** rng.uniform(-2, 1)))
    elif op == "LEAKY_RELU":
        cfg["options"] = {
            "alpha": float(np.float32(rng.choice([0.0, 0.01, 0.2, rng.uniform(-2, 2)])))
        }
    elif op in ("RELU", "RELU6") and rng.uniform() < 0.5:
        cfg["s_out"], cfg["z_out"] = cfg["s_in"], cfg["z_in"]  # what converters usually emit
    return cfg


def one_op_model(op: str, cfg: dict, shape=(1, 256)) -> bytes:
    return unary_model(
        op,
        shape,
        {"scale": cfg["s_in"], "zero_point": cfg["z_in"]},
        {"scale": cfg["s_out"], "zero_point": cfg["z_out"]},
        "LeakyReluOptions" if op == "LEAKY_RELU" else None,
        **cfg["options"],
    )


def lowered_table(model: bytes) -> np.ndarray:
    g = read_tflite(model)
    low = lower_op(g.operators[0], g)
    assert low.func == "tp_lut_s8"
    return low.consts["table"]


@pytest.mark.parametrize("op", OPS)
def test_table_matches_tflm_on_all_inputs(op):
    rng = np.random.default_rng(OPS.index(op) + 100)
    distinct = set()
    for _ in range(TABLE_CONFIGS):
        cfg = random_config(op, rng)
        model = one_op_model(op, cfg)
        expected = run_tflm(model, ALL_INT8.reshape(1, 1, 256)).ravel()
        table = lowered_table(model)
        assert np.array_equal(table, expected), (cfg, np.flatnonzero(table != expected))
        distinct.add(len(np.unique(table)))
    assert max(distinct) > 100  # the configs are not all degenerate (saturated) tables


@pytest.mark.parametrize("op", OPS)
def test_compiled_kernel_bit_exact(op):
    """The generated C on a 4-D tensor of random values (and all 256 values), 4 configs."""
    rng = np.random.default_rng(OPS.index(op) + 200)
    for k in range(4):
        cfg = random_config(op, rng)
        shape = (1, 3, 5, 18)
        x = rng.integers(-128, 128, size=(3, *shape)).astype(np.int8)
        x[0].ravel()[:256] = ALL_INT8
        verdict, _ = validate_host(one_op_model(op, cfg, shape), x, sanitize=(k == 0))
        assert verdict.bit_exact, (cfg, verdict.summary())


def test_relu6_follows_tflm_input_scale_only():
    """TFLM's RELU6 clamps in the input's quantization and ignores the output's (the converter
    can emit different ones: see the Keras test). tinypipe reproduces that exactly."""
    cfg = {"s_in": 0.05, "z_in": 13, "s_out": 6 / 255, "z_out": -128, "options": {}}
    table = lowered_table(one_op_model("RELU6", cfg))
    values = ALL_INT8.astype(int)
    six = 13 + round(6 / np.float32(0.05))
    assert np.array_equal(table, np.clip(values, 13, six))


@pytest.mark.parametrize(
    "op, cfg, why",
    [
        ("LOGISTIC", {"s_in": 0.1, "z_in": 0, "s_out": 1 / 256, "z_out": 0}, "zero point is 0"),
        ("HARD_SWISH", {"s_in": 0.5, "z_in": 0, "s_out": 0.001, "z_out": 0}, "rejects"),
        ("RELU", {"s_in": 10.0, "z_in": 0, "s_out": 1e-9, "z_out": 0}, "overflows its int32 requantization"),
        ("LEAKY_RELU", {"s_in": 10.0, "z_in": 0, "s_out": 1e-9, "z_out": 0}, "overflows its int32 requantization"),
        ("TANH", {"s_in": 1e-9, "z_in": 0, "s_out": 1 / 128, "z_out": 0}, "below 2^-28"),
    ],
)
def test_unsupported_quantization_is_refused(op, cfg, why):
    model = one_op_model(op, {**cfg, "options": {}})
    with pytest.raises(UnsupportedModelError, match=re.escape(why)) as info:
        g = read_tflite(model)  # scales that overflow are refused when the graph is read
        lower_op(g.operators[0], g)
    assert f"#0 {op}" in str(info.value)


def test_int16_activation_takes_the_int16_kernel():
    """(test_op_act_s16.py checks the int16 kernels bit for bit)"""
    x = {"dtype": "int16", "scale": 1 / 4096, "zero_point": 0}
    y = {"dtype": "int16", "scale": 1 / 32768, "zero_point": 0}
    g = read_tflite(unary_model("LOGISTIC", (1, 8), x, y, version=3))
    assert lower_op(g.operators[0], g).func == "tp_act_logistic_s16"
    y["scale"] = 1 / 256  # TFLM's int16 LOGISTIC needs an output scale of 2^-15
    g = read_tflite(unary_model("LOGISTIC", (1, 8), x, y, version=3))
    with pytest.raises(UnsupportedModelError, match="int16"):
        lower_op(g.operators[0], g)


def test_keras_activation_chain_bit_exact():
    """All six ops as the TF converter emits them (int8 I/O), chained through Dense layers."""
    import keras

    keras.utils.set_random_seed(3)
    inp = keras.Input((16,), batch_size=1)
    h = keras.layers.ReLU(max_value=6)(inp)  # standalone RELU6 (on the input)
    h = keras.layers.Activation("sigmoid")(keras.layers.Dense(16)(h))
    h = keras.layers.Activation("tanh")(keras.layers.Dense(16)(h))
    h = keras.layers.Activation("hard_swish")(keras.layers.Dense(16)(h))
    h = keras.layers.LeakyReLU(negative_slope=0.2)(keras.layers.Dense(16)(h))
    h = keras.layers.Activation("relu")(h)  # standalone RELU (LEAKY_RELU has nothing to fuse)
    out = keras.layers.Dense(4)(h)
    model = convert_keras_int8(keras.Model(inp, out), (1, 16), spread=3)
    g = read_tflite(model)
    versions = {op.opcode: op.version for op in g.operators}
    assert {k: versions.get(k) for k in OPS} == {
        "RELU": 2,
        "RELU6": 2,
        "LEAKY_RELU": 1,
        "LOGISTIC": 2,
        "TANH": 2,
        "HARD_SWISH": 1,
    }
    x = np.random.default_rng(1).integers(-128, 128, size=(32, 1, 16)).astype(np.int8)
    verdict, _ = validate_host(model, x, sanitize=True)
    assert verdict.bit_exact, verdict.summary()
