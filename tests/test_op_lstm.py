"""UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations, int16 gates and cell) against the TFLM
interpreter, bit for bit.

Randomized one-op models built from the schema: batch sizes, time steps, input and cell
widths, time-major and batch-major layouts, input/hidden/weight scales and zero points, cell
scales from 2^-15 to 2^-8 (and some that are not a power of two), cell clipping. Each sample
is a sequence of its own (the state reset before it, as tinypipe's runners do); streamed cases
carry the hidden and cell state from call to call. Variants TFLM's kernel does not run are
refused.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import check_stream_bit_exact, labelled_failure, random_int8_inputs

from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError

SAMPLES = 5


def random_lstm_config(rng: np.random.Generator) -> dict:
    return {
        "batches": int(rng.integers(1, 4)),
        "steps": int(rng.integers(1, 7)),
        "n_input": int(rng.integers(1, 20)),
        "n_cell": int(rng.integers(1, 18)),
        "time_major": bool(rng.random() < 0.4),
        "clip": float(rng.choice([0.0, 0.0, 1.0, 3.0])),
        "cell_scale": float(2.0 ** -int(rng.integers(8, 16)) * (1.3 if rng.random() < 0.1 else 1)),
        "version": int(rng.integers(1, 5)),
    }


def build_lstm(cfg: dict, rng: np.random.Generator, variant: dict | None = None) -> bytes:
    """One LSTM op; `variant` adds optional tensors by input position (e.g. {9: "peephole"})."""
    b = ModelBuilder()
    n_in, n_cell, batches, steps = cfg["n_input"], cfg["n_cell"], cfg["batches"], cfg["steps"]
    shape = (steps, batches, n_in) if cfg["time_major"] else (batches, steps, n_in)
    wide = cfg.get("activations") == "int16"  # 16x8: int16 activations, zero points 0
    act, bias_type, grow = ("int16", "int64", 1 / 256) if wide else ("int8", "int32", 1.0)
    x = b.tensor(
        shape, act, scale=float(10 ** rng.uniform(-2.5, -1)) * grow,
        zero_point=0 if wide else int(rng.integers(-40, 40)),
    )  # fmt: skip

    def weights(rows: int, cols: int) -> int:
        scale = float(10 ** rng.uniform(-2.8, -1.3)) / np.sqrt(cols)
        return b.tensor(
            (rows, cols), scale=scale, zero_point=0, data=rng.integers(-127, 128, (rows, cols))
        )

    in_w = [weights(n_cell, n_in) for _ in range(4)]
    rec_w = [weights(n_cell, n_cell) for _ in range(4)]
    biases = [
        b.tensor(
            (n_cell,), bias_type, scale=1e-5, zero_point=0, data=rng.integers(-20000, 20000, n_cell)
        )  # fmt: skip
        for _ in range(4)
    ]
    s_h, zp_h = float(10 ** rng.uniform(-2.5, -1.5)) * grow, int(rng.integers(-30, 30))
    zp_h = 0 if wide else zp_h
    h = b.tensor((batches, n_cell), act, scale=s_h, zero_point=zp_h, variable=True)
    c = b.tensor((batches, n_cell), "int16", scale=cfg["cell_scale"], zero_point=0, variable=True)
    y = b.tensor((*shape[:2], n_cell), act, scale=s_h, zero_point=zp_h)
    inputs = [x, *in_w, *rec_w, -1, -1, -1, *biases, -1, -1, h, c, -1, -1, -1, -1]
    for pos, kind in (variant or {}).items():
        inputs[pos] = (
            b.tensor((n_cell,), "int16", scale=1e-3, zero_point=0, data=np.ones(n_cell, np.int16))
            if kind != "projection"
            else weights(n_cell, n_cell)
        )
    b.op(
        "UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], "UnidirectionalSequenceLSTMOptions",
        fused_activation_function=cfg.get("act", "TANH"), cell_clip=cfg["clip"], proj_clip=0.0,
        time_major=cfg["time_major"], version=cfg.get("version", 1),
    )  # fmt: skip
    return b.build([x], [y])


def check_lstm(model: bytes, seed: int, sanitize: bool) -> None:
    g = read_tflite(model)
    verdict, _ = validate_host(model, random_int8_inputs(g, seed, SAMPLES), sanitize=sanitize)
    assert verdict.samples == SAMPLES
    assert verdict.bit_exact, verdict.summary()


@pytest.mark.parametrize("first_seed", [0, 100])
def test_lstm_random_bit_exact(first_seed: int) -> None:
    for k in range(5):
        seed = first_seed + k
        rng = np.random.default_rng(seed)
        cfg = random_lstm_config(rng)
        with labelled_failure(f"seed {seed} config {cfg}"):
            check_lstm(build_lstm(cfg, rng), seed, sanitize=k % 3 == 0)


def test_lstm_state_carries_over_like_tflm() -> None:
    """Streamed, the same input three times gives different outputs (the state moved on), in
    TFLM and in the C; run as separate sequences (tinypipe's default) it gives the same."""
    cfg = {"batches": 2, "steps": 3, "n_input": 4, "n_cell": 5, "time_major": False,
           "clip": 0.0, "cell_scale": 2.0**-11}  # fmt: skip
    model = build_lstm(cfg, np.random.default_rng(7))
    x = random_int8_inputs(read_tflite(model), 7, 1)
    repeated = np.concatenate([x, x, x])
    streamed = check_stream_bit_exact(model, repeated)
    assert not np.array_equal(streamed[0], streamed[1])
    verdict, outputs = validate_host(model, repeated)
    assert verdict.bit_exact, verdict.summary()
    np.testing.assert_array_equal(outputs[1], streamed[0])
    np.testing.assert_array_equal(outputs[2], streamed[0])


@pytest.mark.parametrize("first_seed", [300])
def test_lstm_random_streams_bit_exact(first_seed: int) -> None:
    for k in range(3):
        rng = np.random.default_rng(first_seed + k)
        cfg = random_lstm_config(rng)
        model = build_lstm(cfg, rng)
        with labelled_failure(f"seed {first_seed + k} config {cfg}"):
            check_stream_bit_exact(model, random_int8_inputs(read_tflite(model), k, SAMPLES))


def test_lstm_16x8_random_bit_exact() -> None:
    """int16 activations, int8 weights, int64 biases (TFLM's 16x8 LSTM), whole-range inputs,
    as separate sequences and streamed."""
    for seed in (600, 601, 602, 603):
        rng = np.random.default_rng(seed)
        cfg = {**random_lstm_config(rng), "activations": "int16"}
        model = build_lstm(cfg, rng)
        g = read_tflite(model)
        xs = (
            np.random.default_rng(seed)
            .integers(-32768, 32768, (SAMPLES, *g.input_tensors[0].shape))
            .astype(np.int16)
        )
        with labelled_failure(f"seed {seed} config {cfg}"):
            verdict, _ = validate_host(g, xs, sanitize=seed % 2 == 0)
            assert verdict.bit_exact, verdict.summary()
            check_stream_bit_exact(model, xs)


def test_lstm_state_starts_at_the_zero_point_and_resets() -> None:
    cfg = {"batches": 1, "steps": 2, "n_input": 3, "n_cell": 4, "time_major": True,
           "clip": 0.0, "cell_scale": 2.0**-11}  # fmt: skip
    cmodel = generate_c(read_tflite(build_lstm(cfg, np.random.default_rng(3))))
    hidden = next(t for t in cmodel.graph.tensors if t.is_variable and t.dtype == "int8")
    source = cmodel.files["model.c"]
    start = ", ".join([str(hidden.zero_point)] * 4)
    assert f"static int8_t model_s{hidden.index}[4] = {{ {start} }};" in source
    assert "void model_reset(void)" in source
    assert "#define MODEL_STATE_BYTES 12" in cmodel.files["model.h"]


@pytest.mark.parametrize(
    "variant, words",
    [
        ({9: "peephole", 10: "peephole", 11: "peephole"}, "peephole"),
        ({16: "projection"}, "projection"),
        ({20: "norm", 21: "norm", 22: "norm", 23: "norm"}, "layer normalization"),
        ({"act": "RELU"}, "only TANH"),
    ],
)
def test_lstm_variants_refused(variant: dict, words: str) -> None:
    cfg = random_lstm_config(np.random.default_rng(1))
    variant = dict(variant)
    cfg["act"] = variant.pop("act", "TANH")
    model = build_lstm(cfg, np.random.default_rng(1), variant)
    with pytest.raises(UnsupportedModelError, match=words):
        generate_c(read_tflite(model))


@pytest.mark.qemu
def test_lstm_16x8_on_m4_bit_exact() -> None:
    from tinypipe.check.validate import validate_on_board

    rng = np.random.default_rng(610)
    cfg = {"batches": 2, "steps": 4, "n_input": 7, "n_cell": 9, "time_major": True, "clip": 3.0,
           "cell_scale": 2.0**-11, "activations": "int16"}  # fmt: skip
    g = read_tflite(build_lstm(cfg, rng))
    xs = rng.integers(-32768, 32768, (3, *g.input_tensors[0].shape)).astype(np.int16)
    verdict, _ = validate_on_board(g, xs, "mps2-an386")
    assert verdict.samples == 3
    assert verdict.bit_exact, verdict.summary()
