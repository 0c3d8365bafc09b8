"""PRELU: tinypipe's int8 kernel against the TFLM interpreter, bit for bit.

Randomized models built directly: per-channel slopes ([C] and [1, 1, C], as Keras PReLU
converts), one shared slope, and slopes over the full input shape, negative and above-one
slopes, asymmetric zero points, output scales finer and coarser than the input's.
"""

from __future__ import annotations

from op_cases import run_random_cases

from tinypipe.compiler.tflite_writer import ModelBuilder


def random_prelu(rng):
    shape = [1] + [int(d) for d in rng.integers(1, 6, int(rng.integers(1, 4)))]
    kind = str(rng.choice(["channel", "channel3", "shared", "full"]))
    alpha_shape = {"channel": shape[-1:], "channel3": [1] * (len(shape) - 2) + shape[-1:],
                   "shared": [1], "full": shape[1:]}[kind]  # fmt: skip
    return {
        "shape": shape, "alpha_shape": alpha_shape, "s_in": float(10 ** rng.uniform(-2, 0)),
        "zp_in": int(rng.integers(-128, 128)), "s_a": float(10 ** rng.uniform(-3, -1)),
        "zp_a": int(rng.integers(-128, 128)), "f": float(10 ** rng.uniform(-0.4, 0.4)),
        "zp_out": int(rng.integers(-128, 128)),
    }  # fmt: skip


def build_prelu(cfg, rng):
    b = ModelBuilder()
    x = b.tensor(cfg["shape"], scale=cfg["s_in"], zero_point=cfg["zp_in"])
    a = b.tensor(cfg["alpha_shape"], scale=cfg["s_a"], zero_point=cfg["zp_a"],
                 data=rng.integers(-128, 128, cfg["alpha_shape"]))  # fmt: skip
    y = b.tensor(cfg["shape"], scale=cfg["s_in"] * cfg["f"], zero_point=cfg["zp_out"])
    b.op("PRELU", [x, a], [y])
    return b.build([x], [y])


def test_prelu_random_bit_exact() -> None:
    run_random_cases(random_prelu, build_prelu, 9700, 9)
