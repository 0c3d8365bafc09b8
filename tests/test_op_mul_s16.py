"""MUL, 16x8 (int16 operands and output): tinypipe's kernel against the TFLM interpreter, bit for
bit.

Random cases over ranks 1..5 with broadcasting in either direction (a constant operand, the model
input as the broadcast operand, two model inputs, x * x), input scales three decades apart,
output scales from saturating to tiny multipliers, every fused activation; inputs over the whole
int16 range and around zero. Plus the refusals: an int8 output, a rescale of one or more, a
nonzero zero point.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import ACTIVATIONS, labelled_failure
from test_op_s16 import SAMPLES, random_int16_inputs

from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError

MODES = ["const", "input_small", "two_inputs", "same"]


def random_mul_cfg(rng) -> dict:
    rank = int(rng.integers(1, 6))
    full = [int(d) for d in rng.integers(1, 5, rank)]
    small = [d if rng.random() < 0.5 else 1 for d in full][int(rng.integers(0, rank + 1)) :]
    mode = str(rng.choice(MODES, p=[0.35, 0.2, 0.35, 0.1]))
    # Real ranges 32768 s of about 0.3 to 30, so that every fused activation bites.
    s1 = float(10 ** rng.uniform(-5, -3))
    s2 = s1 if mode == "same" else float(s1 * 10 ** rng.uniform(-1, 1))
    # M = s1 s2 / s_out = 2^-15 / 10^u: u < 0 saturates large products, u > 0 shrinks them.
    s_out = s1 * s2 * 32768 * float(10 ** rng.uniform(-1, 1.5))
    return {
        "full": full, "small": small if mode != "same" else full, "mode": mode,
        "swap": bool(rng.integers(0, 2)), "scales": (s1, s2, s_out),
        "act": str(rng.choice(ACTIVATIONS)), "out_type": "int16",
    }  # fmt: skip


def build_mul_s16(cfg: dict, rng) -> tuple[bytes, int]:
    """The model and its number of inputs."""
    (s1, s2, s_out), full, small, mode = cfg["scales"], cfg["full"], cfg["small"], cfg["mode"]
    b = ModelBuilder()
    if mode == "input_small":  # the model input is the broadcast operand
        x = b.tensor(small, "int16", scale=s1)
        other = b.tensor(full, "int16", scale=s2, data=rng.integers(-32768, 32768, full))
    else:
        x = b.tensor(full, "int16", scale=s1)
        if mode == "same":
            other = x
        elif mode == "two_inputs":
            other = b.tensor(small, "int16", scale=s2)
        else:
            other = b.tensor(small, "int16", scale=s2, data=rng.integers(-32768, 32768, small))
    y = b.tensor(full, cfg["out_type"], scale=s_out)
    operands = [other, x] if cfg["swap"] else [x, other]
    b.op("MUL", operands, [y], "MulOptions", version=4, fused_activation_function=cfg["act"])
    inputs = [x, other] if mode == "two_inputs" else [x]
    return b.build(inputs, [y]), len(inputs)


def check_mul_s16(cfg: dict, seed: int, sanitize: bool) -> None:
    rng = np.random.default_rng(seed)
    model, n_inputs = build_mul_s16(cfg, rng)
    g = read_tflite(model)
    inputs = [random_int16_inputs(model, seed)]
    if n_inputs == 2:
        shape = g.input_tensors[1].shape
        inputs.append(rng.integers(-32768, 32768, (SAMPLES, *shape)).astype(np.int16))
    verdict, _ = validate_host(model, inputs, sanitize=sanitize)
    assert verdict.samples == SAMPLES
    assert verdict.bit_exact, verdict.summary()


@pytest.mark.parametrize("chunk", range(2))
def test_mul_s16_random_bit_exact(chunk: int) -> None:
    """16 random cases (8 per chunk), every 4th under ASan/UBSan."""
    for k in range(8):
        seed = 18000 + 8 * chunk + k
        cfg = random_mul_cfg(np.random.default_rng(seed))
        with labelled_failure(f"seed {seed} config {cfg}"):
            check_mul_s16(cfg, seed, sanitize=k % 4 == 0)


def test_mul_s16_multipliers_near_one_bit_exact() -> None:
    """s1 * s2 / s_out in [1/4, 1) (shift -1 and 0, the kernel's two-step rescale), operands
    small enough not to saturate as well as over the whole int16 range."""
    for k, (real, act) in enumerate([(0.3, "NONE"), (0.9, "RELU"), (0.26, "RELU_N1_TO_1")]):
        seed = 18050 + k
        rng = np.random.default_rng(seed)
        cfg = {
            "full": [3, 8], "small": [8], "mode": "two_inputs", "swap": k == 1,
            "scales": (0.004, 0.002, 0.004 * 0.002 / real), "act": act, "out_type": "int16",
        }  # fmt: skip
        model, _ = build_mul_s16(cfg, rng)
        shapes = [t.shape for t in read_tflite(model).input_tensors]
        inputs = [
            np.concatenate([rng.integers(-32768, 32768, (2, *sh)), rng.integers(-300, 300, (4, *sh))])
            .astype(np.int16)
            for sh in shapes
        ]  # fmt: skip
        with labelled_failure(f"seed {seed} config {cfg}"):
            verdict, _ = validate_host(model, inputs, sanitize=k == 0)
            assert verdict.bit_exact, verdict.summary()


def _refusal(cfg: dict, match: str) -> None:
    model, _ = build_mul_s16(cfg, np.random.default_rng(0))
    with pytest.raises(UnsupportedModelError, match=match):
        generate_c(read_tflite(model))


def _plain(**changes) -> dict:
    cfg = {
        "full": [2, 5], "small": [5], "mode": "const", "swap": False,
        "scales": (0.01, 0.02, 0.05), "act": "NONE", "out_type": "int16",
    }  # fmt: skip
    return {**cfg, **changes}


def test_mul_s16_int8_output_refused() -> None:
    _refusal(_plain(out_type="int8"), "only into an int16 output")


def test_mul_s16_rescale_of_one_or_more_refused() -> None:
    """s1 * s2 / s_out >= 1: TFLM would shift a product of up to 2^30 left."""
    _refusal(_plain(scales=(0.5, 0.25, 0.125)), "overflows int32")


def test_mul_s16_zero_point_refused() -> None:
    b = ModelBuilder()
    x = b.tensor([4], "int16", scale=0.01, zero_point=5)
    y = b.tensor([4], "int16", scale=0.01)
    b.op("MUL", [x, x], [y], "MulOptions", version=4)
    with pytest.raises(UnsupportedModelError, match="zero point 5"):
        generate_c(read_tflite(b.build([x], [y])))


@pytest.mark.qemu
def test_mul_s16_on_m4_bit_exact() -> None:
    """Two model inputs broadcast over rank 5 with a fused RELU6, on the emulated Cortex-M4."""
    from tinypipe.check.validate import validate_on_board

    cfg = {
        "full": [2, 3, 1, 4, 5], "small": [3, 1, 4, 1], "mode": "two_inputs", "swap": True,
        "scales": (2e-4, 5e-4, 2e-4 * 5e-4 * 32768 * 0.4), "act": "RELU6", "out_type": "int16",
    }  # fmt: skip
    rng = np.random.default_rng(18100)
    g = read_tflite(build_mul_s16(cfg, rng)[0])
    inputs = [rng.integers(-32768, 32768, (3, *t.shape)).astype(np.int16) for t in g.input_tensors]
    verdict, _ = validate_on_board(g, inputs, "mps2-an386")
    assert verdict.samples == 3
    assert verdict.bit_exact, verdict.summary()
