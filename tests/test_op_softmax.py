"""SOFTMAX int8 -> int8: tinypipe's kernel against the TFLM interpreter, bit for bit.

30 random one-op models: row lengths 1, 2, 10, 37, 128 (and 600), several rows per sample,
2-D and 4-D tensors, input scales log-uniform over 5 decades with extremes, any input zero
point, beta = 1 and random betas. The inputs mix uniform noise with rows of ties, constant rows
and rows at the int8 extremes. Plus the parameters TFLM refuses, and a converter-made model.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import convert_keras_int8, unary_model

from tinypipe.check.reference import run_tflm
from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops import lower as lower_op
from tinypipe.compiler.ops.softmax import softmax_input_params
from tinypipe.device.hostrun import build_host, run_host
from tinypipe.errors import UnsupportedModelError

DEPTHS = [1, 2, 10, 37, 128]
CONFIGS = 30
SAMPLES = 6


def softmax_model(shape, s_in: float, z_in: int, beta: float, s_out=1 / 256, z_out=-128) -> bytes:
    in_t, out_t = {"scale": s_in, "zero_point": z_in}, {"scale": s_out, "zero_point": z_out}
    return unary_model("SOFTMAX", shape, in_t, out_t, "SoftmaxOptions", version=2, beta=beta)


def random_inputs(rng: np.random.Generator, shape, n: int) -> np.ndarray:
    """Noise, plus rows that stress the fixed-point path: ties at the maximum, constant rows,
    rows spanning the whole int8 range, and narrow rows (small differences)."""
    x = rng.integers(-128, 128, size=(n, *shape)).astype(np.int8)
    rows = x.reshape(n, -1, shape[-1])
    depth = shape[-1]
    for s in range(n):
        r = int(rng.integers(0, rows.shape[1]))
        kind = s % 4
        if kind == 0:
            rows[s, r] = 127
            rows[s, r, : depth // 2] = rng.integers(-128, 128, size=depth // 2)
        elif kind == 1:
            rows[s, r] = rng.integers(-128, 128)
        elif kind == 2:
            rows[s, r] = rng.choice([-128, 127], size=depth)
        else:
            base = int(rng.integers(-128, 120))
            rows[s, r] = base + rng.integers(0, 8, size=depth)
    return x


def random_config(rng: np.random.Generator, k: int) -> dict:
    depth = DEPTHS[k % len(DEPTHS)]
    rows = int(rng.integers(1, 5))
    shape = (1, rows, 2, depth) if k % 3 == 0 else (rows, depth)
    extreme = rng.uniform()
    if extreme < 0.15:
        s_in = 10 ** rng.uniform(-6, -4)  # exps stay near 1: sums of many similar terms
    elif extreme < 0.3:
        s_in = 10 ** rng.uniform(0.5, 2)  # multiplier capped at 2^31 - 1: one-hot outputs
    else:
        s_in = 10 ** rng.uniform(-3, 0.5)
    beta = 1.0 if k % 2 == 0 else float(rng.choice([0.1, 0.5, 2.0, rng.uniform(0.05, 10)]))
    return {
        "shape": shape,
        "s_in": float(np.float32(s_in)),
        "z_in": int(rng.integers(-128, 128)),
        "beta": float(np.float32(beta)),
    }


def test_random_softmax_bit_exact():
    rng = np.random.default_rng(7)
    for k in range(CONFIGS):
        cfg = random_config(rng, k)
        model = softmax_model(cfg["shape"], cfg["s_in"], cfg["z_in"], cfg["beta"])
        x = random_inputs(rng, cfg["shape"], SAMPLES)
        verdict, _ = validate_host(model, x, sanitize=(k % 6 == 0))
        assert verdict.bit_exact, (cfg, verdict.summary())


def test_long_rows_bit_exact():
    """600 classes: the sum of exps spans more of the Q12.19 accumulator (random rows: TFLM
    itself aborts on rows with >= 512 values near the maximum, see tp_softmax.c)."""
    rng = np.random.default_rng(8)
    shape = (2, 600)
    x = rng.integers(-128, 128, size=(4, *shape)).astype(np.int8)
    x[1, 0] = rng.integers(60, 128, size=600)  # many large exps, sum still below TFLM's limit
    for s_in, beta in [(0.05, 1.0), (0.02, 1.0), (0.5, 0.3)]:
        verdict, _ = validate_host(softmax_model(shape, s_in, -3, beta), x)
        assert verdict.bit_exact, (s_in, beta, verdict.summary())


def test_rows_tflm_cannot_run_stay_defined(tmp_path):
    """Rows with >= 512 values near the maximum make TFLM's output exponent exceed 31 and the
    interpreter abort (TFLITE_CHECK), so there is no oracle: tinypipe's kernel keeps rounding
    (checked under ASan/UBSan) and stays within one level of the real softmax."""
    shape = (1, 1000)
    x = np.full((3, *shape), 50, dtype=np.int8)
    x[1, 0, :600] = 51
    x[2, 0, ::2] = 127
    s_in = 0.01
    g = read_tflite(softmax_model(shape, s_in, 0, 1.0))
    binary = build_host(generate_c(g), tmp_path / "build", sanitize=True)
    raw, _ = run_host(binary, x, tmp_path)
    ours = raw.view(np.int8).astype(np.float64).reshape(3, 1000)
    real = np.exp(s_in * x.reshape(3, 1000).astype(np.float64))
    real = real / real.sum(axis=1, keepdims=True) * 256 - 128
    assert np.abs(ours - real).max() <= 1.0


def test_exp_table_covers_tflm_skipped_differences():
    """Differences below diff_min are skipped by TFLM; they are zeros in tinypipe's table."""
    model = softmax_model((1, 8), 0.5, 0, 1.0)
    g = read_tflite(model)
    table = lower_op(g.operators[0], g).consts["exp"]
    _, _, diff_min = softmax_input_params(1.0, np.float32(0.5))
    assert table[0] == 2**31 - 1  # exp(0) is Q0.31's one
    assert np.all(table[-diff_min + 1 :] == 0) and np.all(table[: -diff_min + 1] > 0)
    x = np.array([[[0, -1, -5, -40, -41, -80, -128, 127]]], dtype=np.int8)
    verdict, _ = validate_host(model, x)
    assert verdict.bit_exact, verdict.summary()


@pytest.mark.parametrize(
    "kwargs, why",
    [({"s_out": 1 / 128}, "requires scale 1/256"), ({"z_out": 0}, "zero point -128")],
)
def test_output_quantization_tflm_refuses_is_refused(kwargs, why):
    model = softmax_model((1, 10), 0.1, 0, 1.0, **kwargs)
    g = read_tflite(model)
    with pytest.raises(UnsupportedModelError, match=why) as info:
        lower_op(g.operators[0], g)
    assert "#0 SOFTMAX" in str(info.value)
    with pytest.raises(RuntimeError):  # TFLM's Prepare refuses the same models
        run_tflm(model, np.zeros((1, 1, 10), dtype=np.int8))


def test_tiny_input_scale_refused():
    """beta * input scale <= 2^-26 fails a TFLITE_CHECK in TFLM (the interpreter aborts)."""
    g = read_tflite(softmax_model((1, 10), 1e-9, 0, 1.0))
    with pytest.raises(UnsupportedModelError, match="TFLM's int8 SOFTMAX rejects"):
        lower_op(g.operators[0], g)


def test_too_many_classes_refused():
    g = read_tflite(softmax_model((1, 5000), 0.1, 0, 1.0))
    with pytest.raises(UnsupportedModelError, match="5000 elements"):
        lower_op(g.operators[0], g)


def test_keras_softmax_bit_exact():
    """Dense -> Softmax as the TF converter emits it (int8 I/O): SOFTMAX version 2."""
    import keras

    keras.utils.set_random_seed(5)
    inp = keras.Input((20,), batch_size=1)
    out = keras.layers.Softmax()(keras.layers.Dense(37)(inp))
    model = convert_keras_int8(keras.Model(inp, out), (1, 20), spread=3)
    g = read_tflite(model)
    assert [(op.opcode, op.version) for op in g.operators][-1] == ("SOFTMAX", 2)
    x = np.random.default_rng(1).integers(-128, 128, size=(40, 1, 20)).astype(np.int8)
    verdict, _ = validate_host(model, x, sanitize=True)
    assert verdict.bit_exact, verdict.summary()
