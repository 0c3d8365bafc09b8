"""SVDF (int8 input and output, int16 or int8 activation state) against the TFLM interpreter,
bit for bit.

Randomized one-op models built from the schema: batch sizes, input widths, ranks, units, memory
lengths, state types, zero points and scales. Each case runs several samples through one
compiled program, each from the initial state, and streamed cases carry the memory from call
to call. The TF
converter has no Keras layer that becomes SVDF, so these models are the only source here.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import (
    check_bit_exact_on_board,
    check_stream_bit_exact,
    labelled_failure,
    random_int8_inputs,
)

from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError

SAMPLES = 6


def random_svdf_config(rng: np.random.Generator) -> dict:
    return {
        "batches": int(rng.integers(1, 4)),
        "n_input": int(rng.integers(1, 24)),
        "rank": int(rng.integers(1, 4)),
        "units": int(rng.integers(1, 9)),
        "memory": int(rng.integers(1, 11)),
        "state": "int16" if rng.random() < 0.7 else "int8",
        "version": int(rng.integers(1, 5)),
    }


def build_svdf(cfg: dict, rng: np.random.Generator, bias: bool = True) -> bytes:
    b = ModelBuilder()
    n_filter = cfg["rank"] * cfg["units"]
    batches, n_in, memory, st = cfg["batches"], cfg["n_input"], cfg["memory"], cfg["state"]
    s_x = float(10 ** rng.uniform(-2.5, -1))
    x = b.tensor((batches, n_in), scale=s_x, zero_point=int(rng.integers(-50, 50)))
    s_wf = float(10 ** rng.uniform(-2.5, -1.5))
    wf = b.tensor((n_filter, n_in), scale=s_wf, zero_point=0,
                  data=rng.integers(-127, 128, (n_filter, n_in)))  # fmt: skip
    w_lim = 32767 if st == "int16" else 127
    s_wt = float(10 ** rng.uniform(-2.5, -1.5)) * (127 / w_lim)
    wt = b.tensor((n_filter, memory), st, scale=s_wt, zero_point=0,
                  data=rng.integers(-w_lim, w_lim + 1, (n_filter, memory)))  # fmt: skip
    # the state's scale sized to the feature sums, sometimes too small (saturating)
    s_state = s_x * s_wf * 127 * np.sqrt(n_in) * 10 ** rng.uniform(-0.5, 0.5) / (w_lim / 8)
    zp_s = 0 if st == "int16" else int(rng.integers(-20, 20))
    b_scale = float(np.float32(np.float32(s_state) * np.float32(s_wt)))
    bias_t = (
        b.tensor(
            (cfg["units"],),
            "int32",
            scale=b_scale,
            zero_point=0,
            data=rng.integers(-(2**14), 2**14, cfg["units"]),
        )  # fmt: skip
        if bias
        else -1
    )
    state = b.tensor(
        (batches, n_filter * memory), st, scale=s_state, zero_point=zp_s, variable=True
    )
    s_out = (
        s_state * s_wt * w_lim * np.sqrt(memory * cfg["rank"]) * 10 ** rng.uniform(-0.7, 0.3) / 64
    )
    y = b.tensor((batches, cfg["units"]), scale=s_out, zero_point=int(rng.integers(-30, 30)))
    b.op(
        "SVDF", [x, wf, wt, bias_t, state], [y], "SVDFOptions", version=cfg.get("version", 1),
        rank=cfg["rank"], fused_activation_function="NONE",
    )  # fmt: skip
    return b.build([x], [y])


@pytest.mark.parametrize("first_seed", [0, 100])
def test_svdf_random_bit_exact(first_seed: int) -> None:
    for k in range(5):
        seed = first_seed + k
        rng = np.random.default_rng(seed)
        cfg = random_svdf_config(rng)
        model = build_svdf(cfg, rng)
        g = read_tflite(model)
        with labelled_failure(f"seed {seed} config {cfg}"):
            xs = random_int8_inputs(g, seed, SAMPLES)
            verdict, _ = validate_host(model, xs, sanitize=k % 3 == 0)
            assert verdict.samples == SAMPLES
            assert verdict.bit_exact, verdict.summary()


def test_svdf_random_streams_bit_exact() -> None:
    for seed in (500, 501, 502):
        rng = np.random.default_rng(seed)
        cfg = random_svdf_config(rng)
        model = build_svdf(cfg, rng)
        with labelled_failure(f"seed {seed} config {cfg}"):
            streamed = check_stream_bit_exact(
                model, random_int8_inputs(read_tflite(model), seed, SAMPLES)
            )
            assert len(np.unique(streamed.reshape(SAMPLES, -1), axis=0)) > 1


def test_svdf_without_bias_refused() -> None:
    cfg = random_svdf_config(np.random.default_rng(4))
    model = build_svdf(cfg, np.random.default_rng(4), bias=False)
    with pytest.raises(UnsupportedModelError, match="needs a bias"):
        generate_c(read_tflite(model))


@pytest.mark.qemu
def test_svdf_on_m4_bit_exact() -> None:
    """Both state types in one program on the emulated Cortex-M4, state carried between calls."""
    rng = np.random.default_rng(9)
    b = ModelBuilder()
    x = b.tensor((1, 10), scale=0.02, zero_point=3)
    outs = []
    for st, zp in (("int16", 0), ("int8", -5)):
        wf = b.tensor((6, 10), scale=0.01, zero_point=0, data=rng.integers(-127, 128, (6, 10)))
        lim = 32767 if st == "int16" else 127
        s_wt = 0.01 * 127 / lim
        wt = b.tensor(
            (6, 5), st, scale=s_wt, zero_point=0, data=rng.integers(-lim, lim + 1, (6, 5))
        )
        s_state = 0.02 * 0.01 * 127 * 3 / (lim / 8)
        bias = b.tensor((3,), "int32", scale=float(np.float32(np.float32(s_state) * np.float32(s_wt))),
                        zero_point=0, data=rng.integers(-3000, 3000, 3))  # fmt: skip
        state = b.tensor((1, 30), st, scale=s_state, zero_point=zp, variable=True)
        y = b.tensor((1, 3), scale=s_state * s_wt * lim * 2 / 64, zero_point=4)
        b.op("SVDF", [x, wf, wt, bias, state], [y], "SVDFOptions", rank=2)
        outs.append(y)
    check_bit_exact_on_board(b.build([x], outs), 5, "mps2-an386", samples=4)
