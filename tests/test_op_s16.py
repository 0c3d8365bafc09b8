"""16x8 kernels (int16 activations, int8 weights) against the TFLM interpreter, bit for bit.

Randomized one-op models built from the schema: FULLY_CONNECTED, CONV_2D and
DEPTHWISE_CONV_2D with int64, int32 or no bias (TFLM accumulates in int64 or int32 and rescales
the two differently), per-tensor and per-channel weights, every fused activation, odd shapes,
strides, dilations and padding; ADD with broadcasting. Inputs cover the whole int16 range.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import ACTIVATIONS, labelled_failure

from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.conv import conv_padding
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError

SAMPLES = 6


def random_int16_inputs(model: bytes, seed: int, samples: int = SAMPLES) -> np.ndarray:
    """Half the samples uniform over all of int16, half small (typical activations)."""
    shape = read_tflite(model).input_tensors[0].shape
    rng = np.random.default_rng(seed)
    full = rng.integers(-32768, 32768, (samples - samples // 2, *shape))
    small = rng.normal(0, 2000, (samples // 2, *shape)).clip(-32768, 32767)
    return np.concatenate([full, small]).astype(np.int16)


def check_s16(model: bytes, seed: int, sanitize: bool = False) -> None:
    verdict, _ = validate_host(model, random_int16_inputs(model, seed), sanitize=sanitize)
    assert verdict.samples == SAMPLES
    assert verdict.bit_exact, verdict.summary()


def _quant(rng, taps: int, channels: int, per_channel: bool):
    """(input scale, weight scales, output scale): outputs mostly inside int16, sometimes
    saturating or tiny."""
    in_scale = float(10 ** rng.uniform(-4, -2))
    out_scale = float(10 ** rng.uniform(-3, -1))
    factor = float(10 ** rng.uniform(-1.5, 1.0))
    multiplier = 2000 / (127 * 8000 * np.sqrt(taps)) * factor
    spread = rng.uniform(0.5, 2.0, channels if per_channel else 1)
    return in_scale, multiplier * out_scale / in_scale * spread, out_scale


def _bias(b: ModelBuilder, rng, kind: str, channels: int, scale, taps: int):
    if kind == "none":
        return []
    magnitude = 127 * 8000 * np.sqrt(taps)
    if kind == "int64" and rng.random() < 0.3:
        magnitude *= 2.0 ** rng.uniform(4, 14)  # beyond what an int32 bias could hold
    values = np.round(rng.uniform(-1, 1, channels) * magnitude)
    if kind == "int32":
        values = values.clip(-(2**31) + 1, 2**31 - 1)
    return [
        b.tensor(
            (channels,), kind, scale=scale, zero_point=np.zeros(np.size(scale), np.int64),
            data=values.astype(kind),
        )
    ]  # fmt: skip


def build_fc_s16(cfg: dict, rng) -> bytes:
    rows, d_in, d_out = cfg["rows"], cfg["in"], cfg["out"]
    s_in, s_w, s_out = _quant(rng, d_in, d_out, cfg["per_channel"])
    b = ModelBuilder()
    x = b.tensor((rows, d_in), "int16", scale=s_in, zero_point=0)
    w = b.tensor(
        (d_out, d_in), scale=s_w, zero_point=np.zeros(s_w.size, np.int64),
        data=rng.integers(-127, 128, (d_out, d_in)), axis=0,
    )  # fmt: skip
    bias = _bias(b, rng, cfg["bias"], d_out, s_in * s_w, d_in) or [-1]
    y = b.tensor((rows, d_out), "int16", scale=s_out, zero_point=0)
    b.op(
        "FULLY_CONNECTED", [x, w, *bias], [y], "FullyConnectedOptions", version=7,
        fused_activation_function=cfg["act"],
    )  # fmt: skip
    return b.build([x], [y])


def random_conv_cfg(rng, depthwise: bool) -> dict:
    while True:
        cfg = {
            "batch": int(rng.choice([1, 1, 2])),
            "in_h": int(rng.integers(1, 9)), "in_w": int(rng.integers(1, 9)),
            "in_c": int(rng.integers(1, 6)),
            "k_h": int(rng.integers(1, 4)), "k_w": int(rng.integers(1, 4)),
            "stride_h": int(rng.integers(1, 3)), "stride_w": int(rng.integers(1, 3)),
            "dil_h": int(rng.choice([1, 1, 2])), "dil_w": int(rng.choice([1, 1, 2])),
            "padding": str(rng.choice(["SAME", "VALID"])),
            "per_channel": bool(rng.integers(0, 2)),
            # TFLM's 16x8 depthwise reads any bias as int64 (tinypipe refuses int32 there)
            "bias": str(rng.choice(["int64", "int64", "none"] + ["int32"] * (not depthwise))),
            "act": str(rng.choice(ACTIVATIONS)),
            "depthwise": depthwise,
            "mult": int(rng.choice([1, 1, 2])) if depthwise else 1,
            "out_c": int(rng.integers(1, 7)),
            "groups": 1 if depthwise else int(rng.choice([1, 1, 1, 2])),
        }  # fmt: skip
        if not depthwise:
            cfg["in_c"] *= cfg["groups"]
            cfg["out_c"] *= cfg["groups"]
        out_h, _ = conv_padding(
            cfg["padding"], cfg["in_h"], cfg["k_h"], cfg["stride_h"], cfg["dil_h"]
        )
        out_w, _ = conv_padding(
            cfg["padding"], cfg["in_w"], cfg["k_w"], cfg["stride_w"], cfg["dil_w"]
        )
        if out_h >= 1 and out_w >= 1:
            cfg["out_h"], cfg["out_w"] = out_h, out_w
            return cfg


def build_conv_s16(cfg: dict, rng) -> bytes:
    if cfg["depthwise"]:
        out_c = cfg["in_c"] * cfg["mult"]
        filters, axis = (1, cfg["k_h"], cfg["k_w"], out_c), 3
    else:
        out_c = cfg["out_c"]
        filters, axis = (out_c, cfg["k_h"], cfg["k_w"], cfg["in_c"] // cfg["groups"]), 0
    taps = int(np.prod(filters)) // out_c
    s_in, s_w, s_out = _quant(rng, taps, out_c, cfg["per_channel"])
    b = ModelBuilder()
    x = b.tensor((cfg["batch"], cfg["in_h"], cfg["in_w"], cfg["in_c"]), "int16", scale=s_in)
    w = b.tensor(
        filters, scale=s_w, zero_point=np.zeros(s_w.size, np.int64),
        data=rng.integers(-127, 128, filters), axis=axis,
    )  # fmt: skip
    bias = _bias(b, rng, cfg["bias"], out_c, s_in * np.broadcast_to(s_w, (out_c,)), taps)
    y = b.tensor((cfg["batch"], cfg["out_h"], cfg["out_w"], out_c), "int16", scale=s_out)
    common = {
        "padding": cfg["padding"], "stride_h": cfg["stride_h"], "stride_w": cfg["stride_w"],
        "dilation_h_factor": cfg["dil_h"], "dilation_w_factor": cfg["dil_w"],
        "fused_activation_function": cfg["act"],
    }  # fmt: skip
    if cfg["depthwise"]:
        b.op("DEPTHWISE_CONV_2D", [x, w, *bias], [y], "DepthwiseConv2DOptions", version=5,
             depth_multiplier=cfg["mult"], **common)  # fmt: skip
    else:
        b.op("CONV_2D", [x, w, *bias], [y], "Conv2DOptions", version=4, **common)
    return b.build([x], [y])


def _run_cases(config, build, first_seed: int, count: int) -> None:
    for k in range(count):
        seed = first_seed + k
        rng = np.random.default_rng(seed)
        cfg = config(rng)
        with labelled_failure(f"seed {seed} config {cfg}"):
            check_s16(build(cfg, rng), seed, sanitize=k % 4 == 0)


def test_fc_s16_random_bit_exact() -> None:
    def config(rng):
        return {
            "rows": int(rng.choice([1, 1, 3])),
            "in": int(rng.choice([1, 5, 16, 33, 200, 700])),
            "out": int(rng.choice([1, 4, 9, 20])),
            "per_channel": bool(rng.integers(0, 2)),
            "bias": str(rng.choice(["int64", "int64", "int32", "none"])),
            "act": str(rng.choice(ACTIVATIONS)),
        }

    _run_cases(config, build_fc_s16, 16000, 9)


@pytest.mark.parametrize("depthwise", [False, True], ids=["conv", "depthwise"])
def test_conv_s16_random_bit_exact(depthwise: bool) -> None:
    _run_cases(
        lambda rng: random_conv_cfg(rng, depthwise), build_conv_s16, 16100 + 100 * depthwise, 8
    )


def build_add_s16(cfg: dict, rng) -> bytes:
    s1, s2, s_out = cfg["scales"]
    b = ModelBuilder()
    x = b.tensor(cfg["full"], "int16", scale=s1)
    other = b.tensor(
        cfg["small"], "int16", scale=s2, data=rng.integers(-32768, 32768, cfg["small"])
    )
    y = b.tensor(cfg["full"], "int16", scale=s_out)
    operands = [other, x] if cfg["swap"] else [x, other]
    if cfg["op"] == "ADD":
        b.op("ADD", operands, [y], "AddOptions", version=3, pot_scale_int16=False,
             fused_activation_function=cfg["act"])  # fmt: skip
    else:
        b.op("SUB", operands, [y], "SubOptions", version=3, pot_scale_int16=False,
             fused_activation_function=cfg["act"])  # fmt: skip
    return b.build([x], [y])


def test_add_sub_s16_random_bit_exact() -> None:
    def config(rng):
        rank = int(rng.integers(1, 5))
        full = [int(d) for d in rng.integers(1, 6, rank)]
        small = [d if rng.random() < 0.5 else 1 for d in full][int(rng.integers(0, rank + 1)) :]
        s1 = float(10 ** rng.uniform(-4, -1))
        s2 = float(s1 * 10 ** rng.uniform(-2, 2))
        return {
            "op": str(rng.choice(["ADD", "SUB"])),
            "full": full, "small": small, "swap": bool(rng.integers(0, 2)),
            "scales": (s1, s2, (s1 + s2) * float(10 ** rng.uniform(-0.7, 0.7))),
            "act": str(rng.choice(ACTIVATIONS)),
        }  # fmt: skip

    _run_cases(config, build_add_s16, 16300, 9)


def test_s16_nonzero_zero_point_refused() -> None:
    rng = np.random.default_rng(1)
    b = ModelBuilder()
    x = b.tensor((1, 8), "int16", scale=0.01, zero_point=3)
    w = b.tensor((4, 8), scale=0.02, data=rng.integers(-127, 128, (4, 8)))
    y = b.tensor((1, 4), "int16", scale=0.05)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions", version=7)
    with pytest.raises(UnsupportedModelError, match="zero point 3"):
        generate_c(read_tflite(b.build([x], [y])))


def test_s16_depthwise_int32_bias_refused() -> None:
    rng = np.random.default_rng(3)
    cfg = random_conv_cfg(rng, depthwise=True)
    cfg["bias"] = "int32"
    with pytest.raises(UnsupportedModelError, match="int64 tensor, not int32"):
        generate_c(read_tflite(build_conv_s16(cfg, rng)))


def test_s16_bias_beyond_tflm_range_refused() -> None:
    rng = np.random.default_rng(2)
    b = ModelBuilder()
    x = b.tensor((1, 8), "int16", scale=0.01)
    w = b.tensor((4, 8), scale=0.02, data=rng.integers(-127, 128, (4, 8)))
    bias = b.tensor((4,), "int64", scale=0.0002, data=np.full(4, 2**50, np.int64))
    y = b.tensor((1, 4), "int16", scale=0.05)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], "FullyConnectedOptions", version=7)
    with pytest.raises(UnsupportedModelError, match="2\\^47"):
        generate_c(read_tflite(b.build([x], [y])))


def build_pool_s16(cfg: dict, rng) -> bytes:
    b = ModelBuilder()
    shape = (cfg["batch"], cfg["in_h"], cfg["in_w"], cfg["c"])
    x = b.tensor(shape, "int16", scale=cfg["scale"])
    out_h, _ = conv_padding(cfg["padding"], cfg["in_h"], cfg["k_h"], cfg["stride_h"], 1)
    out_w, _ = conv_padding(cfg["padding"], cfg["in_w"], cfg["k_w"], cfg["stride_w"], 1)
    y = b.tensor((cfg["batch"], out_h, out_w, cfg["c"]), "int16", scale=cfg["scale"])
    b.op(
        cfg["op"], [x], [y], "Pool2DOptions", version=3, padding=cfg["padding"],
        stride_h=cfg["stride_h"], stride_w=cfg["stride_w"], filter_height=cfg["k_h"],
        filter_width=cfg["k_w"], fused_activation_function=cfg["act"],
    )  # fmt: skip
    return b.build([x], [y])


def test_pool_s16_random_bit_exact() -> None:
    def config(rng):
        cfg = {
            "op": str(rng.choice(["AVERAGE_POOL_2D", "MAX_POOL_2D"])),
            "batch": int(rng.choice([1, 2])), "in_h": int(rng.integers(1, 9)),
            "in_w": int(rng.integers(1, 9)), "c": int(rng.integers(1, 5)),
            "k_h": int(rng.integers(1, 4)), "k_w": int(rng.integers(1, 4)),
            "stride_h": int(rng.integers(1, 3)), "stride_w": int(rng.integers(1, 3)),
            "padding": "SAME", "scale": float(10 ** rng.uniform(-4, -1)),
            "act": str(rng.choice(ACTIVATIONS)),
        }  # fmt: skip
        if cfg["k_h"] <= cfg["in_h"] and cfg["k_w"] <= cfg["in_w"] and rng.random() < 0.5:
            cfg["padding"] = "VALID"
        return cfg

    _run_cases(config, build_pool_s16, 16400, 6)


def build_mean_s16(cfg: dict, rng) -> bytes:
    b = ModelBuilder()
    shape, axes = cfg["shape"], cfg["axes"]
    x = b.tensor(shape, "int16", scale=cfg["scales"][0])
    ax = b.tensor((len(axes),), "int32", data=np.array(axes, np.int32))
    out_shape = [1 if i in axes else d for i, d in enumerate(shape)]
    y = b.tensor(out_shape, "int16", scale=cfg["scales"][1])
    b.op("MEAN", [x, ax], [y], "ReducerOptions", version=2, keep_dims=True)
    return b.build([x], [y])


def test_mean_s16_random_bit_exact() -> None:
    def config(rng):
        shape = [1, int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 6))]
        axes = [[1, 2], [1], [2], [3], [1, 2, 3]][int(rng.integers(0, 5))]
        s = float(10 ** rng.uniform(-4, -1))
        return {"shape": shape, "axes": axes, "scales": (s, s * float(10 ** rng.uniform(-1, 1)))}

    _run_cases(config, build_mean_s16, 16500, 6)


def build_softmax_s16(cfg: dict, rng) -> bytes:
    b = ModelBuilder()
    x = b.tensor(cfg["shape"], "int16", scale=cfg["scale"])
    y = b.tensor(cfg["shape"], "int16", scale=1 / 32768)
    b.op("SOFTMAX", [x], [y], "SoftmaxOptions", version=3, beta=cfg["beta"])
    return b.build([x], [y])


def test_softmax_s16_random_bit_exact() -> None:
    """Input scales from tiny (every exp near 1) to large (most exps in the table's tail)."""

    def config(rng):
        return {
            "shape": [int(rng.integers(1, 4)), int(rng.choice([1, 2, 10, 37, 300]))],
            "scale": float(10 ** rng.uniform(-5, -2)),
            "beta": float(rng.choice([1.0, 1.0, 0.5, 2.0])),
        }

    _run_cases(config, build_softmax_s16, 16600, 8)


# Data movement: TRANSPOSE, SLICE and STRIDED_SLICE on int16 reuse the int8 views (strided.py);
# the int8 tests' random cases, with int16 tensors.
def _int16_q(config):
    def make(rng):
        cfg = config(rng)
        cfg["q"] = {"dtype": "int16", "scale": cfg["q"]["scale"], "zero_point": 0}
        return cfg

    return make


@pytest.mark.parametrize("kind", ["transpose", "slice", "strided_slice"])
def test_data_movement_s16_random_bit_exact(kind: str) -> None:
    import test_op_data_movement as dm

    config, build = getattr(dm, f"random_{kind}"), getattr(dm, f"build_{kind}")
    _run_cases(_int16_q(config), build, 16700 + 100 * len(kind), 5)


def build_quantize_s16(cfg: dict, rng) -> bytes:
    (t_in, s_in, z_in), (t_out, s_out, z_out) = cfg["in"], cfg["out"]
    b = ModelBuilder()
    q_in = {} if t_in == "float32" else {"scale": s_in, "zero_point": z_in}
    q_out = {} if t_out == "float32" else {"scale": s_out, "zero_point": z_out}
    x = b.tensor(cfg["shape"], t_in, **q_in)
    y = b.tensor(cfg["shape"], t_out, **q_out)
    b.op("DEQUANTIZE" if t_out == "float32" else "QUANTIZE", [x], [y])
    return b.build([x], [y])


@pytest.mark.parametrize(
    "pair",
    [("int16", "int8"), ("int8", "int16"), ("int16", "int16"), ("int16", "int32"),
     ("float32", "int16"), ("int16", "float32")],
    ids=lambda p: "-".join(p),
)  # fmt: skip
def test_quantize_s16_bit_exact(pair) -> None:
    """Every int16 (or int8) value, or floats spanning the int16 range and beyond it, through
    random rescales; outputs compared exactly (floats bit for bit)."""
    for k in range(3):
        seed = 16900 + 10 * k + len("".join(pair))
        rng = np.random.default_rng(seed)
        zp = {"int8": int(rng.integers(-128, 128)), "int16": 0, "int32": int(rng.integers(-99, 99))}
        s_in = float(10 ** rng.uniform(-4, -1))
        s_out = s_in * float(
            10 ** rng.uniform(-2.5, 2.5) if pair[1] != "int32" else 10 ** rng.uniform(-3, 0)
        )
        cfg = {"shape": [4, 64], "in": (pair[0], s_in, zp.get(pair[0], 0)),
               "out": (pair[1], s_out, zp.get(pair[1], 0))}  # fmt: skip
        model = build_quantize_s16(cfg, rng)
        n = int(np.prod(cfg["shape"]))
        if pair[0] == "float32":
            x = (rng.normal(0, 1, (8, n)) * 32768 * s_out * 10 ** rng.uniform(-1, 0.5)).astype(
                np.float32
            )
        else:
            info = np.iinfo(pair[0])
            values = np.arange(info.min, info.max + 1)
            x = np.resize(rng.permutation(values), (max(1, values.size // n), n)).astype(pair[0])
        with labelled_failure(f"seed {seed} config {cfg}"):
            verdict, _ = validate_host(model, x.reshape(len(x), *cfg["shape"]), sanitize=k == 0)
            assert verdict.bit_exact, verdict.summary()


@pytest.mark.parametrize("opcode", ["RELU", "LEAKY_RELU"])
def test_relu_s16_every_input_bit_exact(opcode: str) -> None:
    """All 65536 int16 inputs through random rescales (and alphas)."""
    for k in range(3):
        seed = 17000 + 10 * k + len(opcode)
        rng = np.random.default_rng(seed)
        s_in = float(10 ** rng.uniform(-4, -1))
        s_out = s_in * float(10 ** rng.uniform(-1, 1))
        b = ModelBuilder()
        x = b.tensor([4, 64], "int16", scale=s_in)
        y = b.tensor([4, 64], "int16", scale=s_out)
        if opcode == "RELU":
            b.op("RELU", [x], [y])
        else:
            alpha = float(rng.choice([0.01, 0.2, 0.3, 1.5]))
            b.op("LEAKY_RELU", [x], [y], "LeakyReluOptions", version=2, alpha=alpha)
        values = rng.permutation(np.arange(-32768, 32768)).astype(np.int16).reshape(-1, 4, 64)
        with labelled_failure(f"seed {seed}"):
            verdict, _ = validate_host(b.build([x], [y]), values, sanitize=k == 0)
            assert verdict.bit_exact, verdict.summary()


def test_concatenation_s16_random_bit_exact() -> None:
    """The model input and int16 constants, any axis, up to 10 inputs."""
    for k in range(6):
        seed = 17100 + k
        rng = np.random.default_rng(seed)
        rank = int(rng.integers(1, 5))
        shape = [int(d) for d in rng.integers(1, 5, rank)]
        axis = int(rng.integers(0, rank))
        kinds = ["x"] + [str(rng.choice(["x", "c"])) for _ in range(int(rng.integers(0, 10)))]
        q = {"dtype": "int16", "scale": float(10 ** rng.uniform(-4, -1)), "zero_point": 0}
        b = ModelBuilder()
        x = b.tensor(shape, **q)
        inputs, total = [], 0
        for kind in kinds:
            s = list(shape)
            if kind == "c":
                s[axis] = int(rng.integers(1, 4))
            inputs.append(
                x if kind == "x" else b.tensor(s, **q, data=rng.integers(-32768, 32768, s))
            )
            total += s[axis]
        y = b.tensor([total if i == axis else d for i, d in enumerate(shape)], **q)
        b.op("CONCATENATION", inputs, [y], "ConcatenationOptions", axis=axis - rank * (k % 2))
        with labelled_failure(f"seed {seed} {shape} axis {axis} {kinds}"):
            check_s16(b.build([x], [y]), seed, sanitize=k == 0)


@pytest.mark.parametrize("opcode", ["PAD", "PADV2"])
def test_pad_s16_random_bit_exact(opcode: str) -> None:
    for k in range(4):
        seed = 17200 + 10 * k + len(opcode)
        rng = np.random.default_rng(seed)
        shape = [int(d) for d in rng.integers(1, 5, int(rng.integers(1, 5)))]
        pads = rng.integers(0, 3, (len(shape), 2)) * (rng.random((len(shape), 1)) < 0.6)
        q = {"dtype": "int16", "scale": float(10 ** rng.uniform(-4, -1))}
        b = ModelBuilder()
        x = b.tensor(shape, **q)
        ins = [x, b.tensor(pads.shape, "int32", data=pads.astype(np.int32))]
        if opcode == "PADV2":
            ins.append(b.tensor([1], **q, data=rng.integers(-32768, 32768, [1])))
        y = b.tensor([d + int(p.sum()) for d, p in zip(shape, pads)], **q)
        b.op(opcode, ins, [y])
        with labelled_failure(f"seed {seed} {shape} {pads.tolist()}"):
            check_s16(b.build([x], [y]), seed, sanitize=k == 0)
