"""Helpers shared by the op tests (test_op_*.py, test_kernels_on_m4.py).

One-op models built with tinypipe.compiler.tflite_writer (random quantization, the CONV_2D / DEPTHWISE_CONV_2D /
FULLY_CONNECTED / ADD / MUL builders), the "bit for bit against TFLM" checks on the host and on
a board, and the TF-converter path the Keras tests use.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tinypipe.check.validate import validate_host, validate_on_board
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.base import Raw
from tinypipe.compiler.ops.conv import conv_padding
from tinypipe.compiler.tflite_writer import ModelBuilder

ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]  # fused activations
SAMPLES = 8

# ----------------------------------------------------------------------------- checks


def check_bit_exact(model: bytes, seed: int, sanitize: bool) -> None:
    """SAMPLES random int8 inputs (from `seed`) through the compiled C on the host (under
    ASan/UBSan if `sanitize`), bit for bit against TFLM."""
    g = read_tflite(model)
    verdict, _ = validate_host(model, random_int8_inputs(g, seed, SAMPLES), sanitize=sanitize)
    assert verdict.bit_exact, verdict.summary()
    assert verdict.samples == SAMPLES


def check_bit_exact_on_board(model: bytes, seed: int, board: str, samples: int) -> None:
    """`samples` random int8 inputs (from `seed`; one array per model input) through firmware
    for `board`, against TFLM."""
    g = read_tflite(model)
    rng = np.random.default_rng(seed)
    x = [rng.integers(-128, 128, (samples, *t.shape), dtype=np.int8) for t in g.input_tensors]
    verdict, _ = validate_on_board(g, x if len(x) > 1 else x[0], board)
    assert verdict.samples == samples
    assert verdict.bit_exact, verdict.summary()


def check_stream_bit_exact(model: bytes, inputs: np.ndarray) -> np.ndarray:
    """The samples as one stream (a model with state continues from one to the next), through
    the compiled C on the host under ASan/UBSan and through TFLM, bit for bit; returns TFLM's
    outputs."""
    from tinypipe.check.reference import run_tflm
    from tinypipe.compiler.codegen import generate_c
    from tinypipe.device.hostrun import build_host, run_host

    expected = run_tflm(model, inputs, stream=True)
    with tempfile.TemporaryDirectory() as tmp:
        binary = build_host(generate_c(read_tflite(model)), Path(tmp), sanitize=True, stream=True)
        raw, _ = run_host(binary, inputs, Path(tmp))
    got = raw.view(expected.dtype).reshape(expected.shape)
    np.testing.assert_array_equal(got, expected)
    return expected


def random_int8_inputs(graph, seed: int, samples: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(
        -128, 128, (samples, *graph.input_tensors[0].shape), dtype=np.int8
    )


@contextlib.contextmanager
def labelled_failure(label: str) -> Iterator[None]:
    """Prefix an assertion failure inside the block with `label` (seed and config of a case)."""
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"{label}: {exc}") from None


def run_random_cases(random_config, build, first_seed: int, count: int) -> None:
    """`count` cases from consecutive seeds: cfg = random_config(rng), then build(cfg, rng) with
    the same generator; SAMPLES inputs each (check_bit_exact), every 3rd under ASan/UBSan."""
    for k in range(count):
        seed = first_seed + k
        rng = np.random.default_rng(seed)
        cfg = random_config(rng)
        with labelled_failure(f"seed {seed} config {cfg}"):
            check_bit_exact(build(cfg, rng), seed, sanitize=k % 3 == 0)


def merge_models(models: list[bytes]) -> bytes:
    """Several single-subgraph models side by side in one graph (no tensor shared): the inputs
    and then the outputs of each model in turn, so one firmware build runs them all."""
    from tinypipe.compiler.graph import schema

    merged = ModelBuilder()
    inputs: list[int] = []
    outputs: list[int] = []
    for k, data in enumerate(models):
        m = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
        (sg,) = m.subgraphs
        first = len(merged.tensors)
        for t in sg.tensors:
            if t.buffer:
                merged.buffers.append(m.buffers[t.buffer])
                t.buffer = len(merged.buffers) - 1
            t.name = f"m{k}_{t.name.decode() if isinstance(t.name, bytes) else t.name}"
            merged.tensors.append(t)
        for o in sg.operators:
            code = m.operatorCodes[o.opcodeIndex]
            key = (max(code.builtinCode, code.deprecatedBuiltinCode), code.version, None)
            if key not in merged.opcodes:
                merged.opcodes.append(key)
            o.opcodeIndex = merged.opcodes.index(key)
            o.inputs = [i + first if i >= 0 else i for i in o.inputs]
            o.outputs = [i + first for i in o.outputs]
            merged.ops.append(o)
        inputs += [i + first for i in sg.inputs]
        outputs += [i + first for i in sg.outputs]
    return merged.build(inputs, outputs)


# ----------------------------------------------------------------------------- one-op models


def unary_model(
    opcode: str, shape, in_t: dict, out_t: dict, options: str | None = None, out_shape=None, **kw
) -> bytes:
    """One op from the model input (tensor fields `in_t`) to the output (`out_t`, shaped
    `out_shape` or like the input); `options` and `kw` as for ModelBuilder.op."""
    b = ModelBuilder()
    x = b.tensor(shape, **in_t)
    y = b.tensor(shape if out_shape is None else out_shape, **out_t)
    b.op(opcode, [x], [y], options, **kw)
    return b.build([x], [y])


def random_quant(rng: np.random.Generator, act: str, taps: int, channels: int, per_channel: bool):
    """(input scale, weight scales, output scale, output zero point) for an accumulation of `taps`
    products: the output range suits the activation, and the multiplier s_in * s_w / s_out puts
    typical outputs near +-60 levels, times a random factor (sometimes extreme: tiny multipliers,
    or multipliers above 1 that take the left-shift path)."""
    if act == "RELU6":
        out_scale, out_zp = 6 / 255 * rng.uniform(0.8, 1.5), int(rng.integers(-128, -60))
    elif act == "RELU_N1_TO_1":
        out_scale, out_zp = 2 / 255 * rng.uniform(0.8, 1.5), int(rng.integers(-40, 40))
    elif act == "RELU":
        out_scale, out_zp = rng.uniform(0.01, 0.2), int(rng.integers(-128, 0))
    else:
        out_scale, out_zp = rng.uniform(0.01, 0.2), int(rng.integers(-128, 128))
    factor = rng.uniform(0.3, 3.0)
    extreme = rng.uniform()
    if extreme < 0.06:
        factor *= 2.0 ** rng.uniform(5, 12)
    elif extreme < 0.12:
        factor /= 2.0 ** rng.uniform(5, 12)
    multiplier = 60 / (74 * 74 * np.sqrt(taps)) * factor
    in_scale = float(rng.uniform(0.005, 0.1))
    spread = rng.uniform(0.5, 2.0, channels if per_channel else 1)
    w_scale = multiplier * out_scale / in_scale * spread
    return in_scale, w_scale, float(out_scale), out_zp


def random_weights(rng: np.random.Generator, shape, cfg: dict, channel_axis: int) -> np.ndarray:
    """Uniform int8 weights, or, if cfg["levels"] is set, weights taking at most that many
    distinct values: one set for the whole layer if cfg["shared_levels"], else one per channel
    (the shape weight clustering gives)."""
    levels = cfg.get("levels")
    if not levels:
        return rng.integers(-127, 128, shape)
    moved = np.moveaxis(np.empty(shape, np.int64), channel_axis, 0)
    shared = rng.choice(np.arange(-127, 128), levels, replace=False)
    for c in range(moved.shape[0]):
        book = shared if cfg.get("shared_levels") else rng.choice(np.arange(-127, 128), levels)
        moved[c] = rng.choice(book, moved.shape[1:])
    return np.moveaxis(moved, 0, channel_axis)


def conv_output_size(cfg: dict) -> tuple[int, int]:
    """(out_h, out_w) of a CONV_2D / DEPTHWISE_CONV_2D config, by TFLite's padding rule."""
    out_h, _ = conv_padding(cfg["padding"], cfg["in_h"], cfg["k_h"], cfg["stride_h"], cfg["dil_h"])
    out_w, _ = conv_padding(cfg["padding"], cfg["in_w"], cfg["k_w"], cfg["stride_w"], cfg["dil_w"])
    return out_h, out_w


def random_conv_geometry(rng: np.random.Generator, leading) -> dict:
    """A random CONV_2D / DEPTHWISE_CONV_2D config, always valid for TFLite: `leading(rng)` draws
    the op's own fields (batch, input size, channels), then the window, padding, quantization
    kind and activation; drawn again until the output is at least 1x1."""
    while True:
        cfg = leading(rng)
        cfg.update(
            {
                "k_h": int(rng.integers(1, 6)),
                "k_w": int(rng.integers(1, 6)),
                "stride_h": int(rng.integers(1, 4)),
                "stride_w": int(rng.integers(1, 4)),
                "dil_h": int(rng.choice([1, 1, 2, 3])),
                "dil_w": int(rng.choice([1, 1, 2])),
                "padding": str(rng.choice(["SAME", "VALID"])),
                "per_channel": bool(rng.integers(0, 2)),
                "bias": bool(rng.integers(0, 4) > 0),
                "act": str(rng.choice(ACTIVATIONS)),
                "in_zp": int(rng.integers(-128, 128)),
            }
        )
        out_h, out_w = conv_output_size(cfg)
        if out_h >= 1 and out_w >= 1:
            cfg["out_h"], cfg["out_w"] = out_h, out_w
            return cfg


def build_conv(cfg: dict, rng: np.random.Generator) -> bytes:
    """A one-op CONV_2D .tflite for `cfg`."""
    in_c = cfg["filter_c"] * cfg["groups"]
    out_c = cfg["out_per_group"] * cfg["groups"]
    filters = (out_c, cfg["k_h"], cfg["k_w"], cfg["filter_c"])
    return _build_conv_like("CONV_2D", "Conv2DOptions", cfg, rng, in_c, filters, channel_axis=0)


def random_pointwise_config(rng: np.random.Generator) -> dict:
    """A random 1x1 stride-1 CONV_2D of the kind that gets a generated kernel (pointwise.py):
    input channels in fours, from one run of 4 to several unrolled passes; output channels in
    fours; an even or odd number of pixels (a last pixel alone), batch 1 or 2; every activation
    (clamps inside [-128, 127] on either side)."""
    while True:
        cfg = {
            "batch": int(rng.choice([1, 1, 2])),
            "in_h": int(rng.integers(2, 9)),
            "in_w": int(rng.integers(2, 9)),
            "filter_c": int(rng.choice([4, 8, 12, 20, 32, 48, 64, 96])),
            "groups": 1,
            "out_per_group": int(rng.choice([4, 8, 12, 16, 24])),
            "k_h": 1, "k_w": 1, "stride_h": 1, "stride_w": 1, "dil_h": 1, "dil_w": 1,
            "padding": str(rng.choice(["SAME", "VALID"])),
            "per_channel": bool(rng.integers(0, 2)),
            "bias": bool(rng.integers(0, 4) > 0),
            "act": str(rng.choice(ACTIVATIONS)),
            "in_zp": int(rng.integers(-128, 128)),
        }  # fmt: skip
        cfg["out_h"], cfg["out_w"] = cfg["in_h"], cfg["in_w"]
        if cfg["in_h"] * cfg["in_w"] >= 16:  # int16 weights pay from 16 pixels (ops/conv.py)
            return cfg


def build_pointwise_conv(cfg: dict, rng: np.random.Generator) -> bytes:
    """build_conv, drawn again until the layer runs on a generated pointwise kernel (which, like
    tp_conv_w16_s8, needs every channel's requantization as host-precomputed records)."""
    return _build_conv_until(
        cfg,
        rng,
        lambda cm: (
            [k.layers for k in cm.pointwise] == [[0]] and cm.lowered[0].func == cm.pointwise[0].name
        ),
        "generated pointwise kernel",
    )


def _build_conv_until(cfg: dict, rng: np.random.Generator, chosen, what: str) -> bytes:
    """build_conv, drawn again (at most 50 times) until `chosen(generate_c(model))` holds."""
    from tinypipe.compiler.codegen import generate_c

    for _ in range(50):
        model = build_conv(cfg, rng)
        if chosen(generate_c(read_tflite(model))):
            return model
    raise AssertionError(f"no {what} for {cfg}")


def random_tiled_conv_config(rng: np.random.Generator) -> dict:
    """A random ungrouped CONV_2D of the kind that gets a generated tile (conv_gen.py): windows of
    1-4 rows and columns with filter rows of whole words read in place (windows inside, gathered
    at the borders, pairs and single pixels, vertical dilation), or rows of 1-3 channels gathered
    whole; strides 1-3 (2 and 3 wider than a 1-wide window); SAME/VALID; 4-24 output channels;
    odd and even output widths, batch 1 or 2; every activation."""
    while True:
        cfg = random_conv_geometry(
            rng,
            lambda r: {
                "batch": int(r.choice([1, 1, 2])),
                "in_h": int(r.integers(4, 12)),
                "in_w": int(r.integers(4, 12)),
                "filter_c": int(r.choice([1, 2, 3, 4, 8, 12, 16, 32])),
                "groups": 1,
                "out_per_group": int(r.choice([4, 8, 12, 24])),
            },
        )
        cfg["k_h"], cfg["k_w"] = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        cfg["dil_w"] = 1
        cfg["out_h"], cfg["out_w"] = conv_output_size(cfg)
        row = cfg["k_w"] * cfg["filter_c"]
        pointwise = cfg["k_h"] == cfg["k_w"] == cfg["stride_h"] == cfg["stride_w"] == 1
        if (
            min(cfg["out_h"], cfg["out_w"]) >= 1
            and cfg["out_h"] * cfg["out_w"] >= 16  # int16 weights pay from 16 pixels
            and (row % 4 == 0 or row < 16)
            and not pointwise
        ):
            return cfg


def build_tiled_conv(cfg: dict, rng: np.random.Generator) -> bytes:
    """build_conv, drawn again until the layer runs on a generated tile (which, like
    tp_conv_w16_s8, needs every channel's requantization as host-precomputed records)."""
    return _build_conv_until(
        cfg,
        rng,
        lambda cm: (
            [k.layers for k in cm.convs] == [[0]] and tiled_call(cm.lowered[0], cm.convs[0].name)
        ),
        "generated conv tile",
    )


def tiled_call(low, name: str) -> bool:
    """Whether layer `low` runs on generated tile `name`, directly or row by row in place."""
    return low.func == name or low.params.get("kernel") == Raw(f"{name}_conv")


def build_depthwise(cfg: dict, rng: np.random.Generator, depth_multiplier: int | None = None):
    """A one-op DEPTHWISE_CONV_2D .tflite for `cfg` (depth_multiplier overrides the option)."""
    filters = (1, cfg["k_h"], cfg["k_w"], cfg["in_c"] * cfg["mult"])
    return _build_conv_like(
        "DEPTHWISE_CONV_2D",
        "DepthwiseConv2DOptions",
        cfg,
        rng,
        cfg["in_c"],
        filters,
        channel_axis=3,
        depth_multiplier=cfg["mult"] if depth_multiplier is None else depth_multiplier,
    )


def random_generated_depthwise_config(rng: np.random.Generator) -> dict:
    """A random 3x3 DEPTHWISE_CONV_2D of the kind that gets a generated kernel (depthwise_gen.py):
    depth multiplier 1, channels in fours, strides 1 or 2 on each axis, SAME padding (borders
    on every side, odd totals) or VALID, even and odd output widths (a last pixel alone), batch
    1 or 2, every activation."""
    while True:
        cfg = {
            "batch": int(rng.choice([1, 1, 2])),
            "in_h": int(rng.integers(1, 11)),
            "in_w": int(rng.integers(1, 11)),
            "in_c": int(rng.choice([4, 8, 12, 16, 24, 32])),
            "mult": 1,
            "k_h": 3, "k_w": 3, "dil_h": 1, "dil_w": 1,
            "stride_h": int(rng.integers(1, 3)),
            "stride_w": int(rng.integers(1, 3)),
            "padding": str(rng.choice(["SAME", "SAME", "VALID"])),
            "per_channel": bool(rng.integers(0, 2)),
            "bias": bool(rng.integers(0, 4) > 0),
            "act": str(rng.choice(ACTIVATIONS)),
            "in_zp": int(rng.integers(-128, 128)),
        }  # fmt: skip
        cfg["out_h"], cfg["out_w"] = conv_output_size(cfg)
        if cfg["out_h"] >= 1 and cfg["out_w"] >= 1:
            return cfg


def build_generated_depthwise(cfg: dict, rng: np.random.Generator) -> bytes:
    """build_depthwise, drawn again until the layer runs on a generated depthwise kernel (which,
    like tp_depthwise_conv_w16_s8, needs every channel's requantization as host-precomputed
    records)."""
    from tinypipe.compiler.codegen import generate_c

    for _ in range(50):
        model = build_depthwise(cfg, rng)
        cm = generate_c(read_tflite(model))
        (kern,) = cm.depthwise or [None]
        if kern is not None and kern.layers == [0] and cm.lowered[0].func == f"{kern.name}_conv":
            return model
    raise AssertionError(f"no generated depthwise kernel for {cfg}")


def _build_conv_like(
    opcode: str, options: str, cfg: dict, rng, in_c: int, filters, channel_axis: int, **fields
) -> bytes:
    """CONV_2D or DEPTHWISE_CONV_2D with random `filters` (output channels on `channel_axis`),
    quantization from random_quant and, if cfg["bias"], a random bias."""
    out_c = filters[channel_axis]
    taps = int(np.prod(filters)) // out_c
    in_scale, w_scale, out_scale, out_zp = random_quant(
        rng, cfg["act"], taps, out_c, cfg["per_channel"]
    )
    out_zp = cfg.get("out_zp", out_zp)  # a fixed one, e.g. for a clamp range above zero
    weights = random_weights(rng, filters, cfg, channel_axis)
    b = ModelBuilder()
    x = b.tensor(
        (cfg["batch"], cfg["in_h"], cfg["in_w"], in_c), scale=in_scale, zero_point=cfg["in_zp"]
    )
    w = b.tensor(
        weights.shape,
        scale=w_scale,
        zero_point=np.zeros(w_scale.size, np.int64),
        data=weights,
        axis=channel_axis,
    )
    inputs = [x, w]
    if cfg["bias"]:
        bias_scale = in_scale * np.broadcast_to(w_scale, (out_c,))
        bias = np.round(rng.uniform(-0.5, 0.5, out_c) * 74 * 74 * np.sqrt(taps))
        inputs.append(
            b.tensor(
                (out_c,), "int32", scale=bias_scale, zero_point=np.zeros(out_c, np.int64), data=bias
            )
        )
    y = b.tensor(
        (cfg["batch"], cfg["out_h"], cfg["out_w"], out_c), scale=out_scale, zero_point=out_zp
    )
    b.op(
        opcode,
        inputs,
        [y],
        options,
        version=3 if cfg["per_channel"] else 1,
        padding=cfg["padding"],
        stride_h=cfg["stride_h"],
        stride_w=cfg["stride_w"],
        dilation_h_factor=cfg["dil_h"],
        dilation_w_factor=cfg["dil_w"],
        fused_activation_function=cfg["act"],
        **fields,
    )
    return b.build([x], [y])


def build_fc(cfg: dict, rng: np.random.Generator) -> bytes:
    """A one-op FULLY_CONNECTED .tflite for `cfg` (its weights cfg["weights"] if given, else
    random).

    layouts: "2d" input [rows, in] -> [rows, out]; "flatten" input [rows, 1, in] (flattened to
    rows) -> [rows, out]; "keep_num_dims" input [1, rows, in] -> [1, rows, out].
    """
    rows, d_in, d_out = cfg["rows"], cfg["in_features"], cfg["out_features"]
    in_scale, w_scale, out_scale, out_zp = random_quant(
        rng, cfg["act"], d_in, d_out, cfg["per_channel"]
    )
    weights = cfg["weights"] if "weights" in cfg else random_weights(rng, (d_out, d_in), cfg, 0)
    w_zp = np.zeros(w_scale.size, np.int64)
    if cfg["w_zp"] and not cfg["per_channel"]:
        w_zp[:] = rng.integers(-20, 21)
    if cfg["layout"] == "2d":
        in_shape, out_shape = (rows, d_in), (rows, d_out)
    elif cfg["layout"] == "flatten":
        in_shape, out_shape = (rows, 1, d_in), (rows, d_out)
    else:
        in_shape, out_shape = (1, rows, d_in), (1, rows, d_out)
    b = ModelBuilder()
    x = b.tensor(in_shape, scale=in_scale, zero_point=cfg["in_zp"])
    w = b.tensor(weights.shape, scale=w_scale, zero_point=w_zp, data=weights, axis=0)
    inputs = [x, w]
    if cfg["bias"]:
        bias = np.round(rng.uniform(-0.5, 0.5, d_out) * 74 * 74 * np.sqrt(d_in))
        bias_scale = in_scale * w_scale  # one scale when the weights are per tensor
        inputs.append(
            b.tensor(
                (d_out,),
                "int32",
                scale=bias_scale,
                zero_point=np.zeros(bias_scale.size, np.int64),
                data=bias,
            )
        )
    else:
        inputs.append(-1)
    y = b.tensor(out_shape, scale=out_scale, zero_point=out_zp)
    b.op(
        "FULLY_CONNECTED",
        inputs,
        [y],
        "FullyConnectedOptions",
        version=4,
        fused_activation_function=cfg["act"],
        keep_num_dims=cfg["layout"] == "keep_num_dims",
    )
    return b.build([x], [y])


# ----------------------------------------------------------------------------- ADD / MUL

BINARY_OPTIONS = {
    "ADD": "AddOptions",
    "MUL": "MulOptions",
    "SUB": "SubOptions",
    "MAXIMUM": "MaximumMinimumOptions",
    "MINIMUM": "MaximumMinimumOptions",
    "SQUARED_DIFFERENCE": "SquaredDifferenceOptions",
}


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
    """One ADD/MUL/... (plus a MEAN making the second activation in mode 'activations')."""
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
    act = {} if cfg["act"] == "NONE" else {"fused_activation_function": cfg["act"]}
    b.op(opcode, operands, [y], BINARY_OPTIONS[opcode], **act)
    return b.build([x], [y])


LUT_LAYOUTS = ("same", "rows", "inner")


def random_rows_binary_config(rng: np.random.Generator, opcode: str, layout: str) -> dict:
    """An ADD, SUB or MUL large enough for ADD's table kernel (tp_add_lut_s8, 512 outputs or
    more), with the second operand a constant laid out as `layout`: "same" (the full shape: one contiguous
    dim), "rows" (broadcast along H: rows of W*C contiguous in both inputs) or "inner" (one value
    per pixel, broadcast along C: elements one at a time). 512 to 800 outputs (small enough for
    several in a micro:bit's RAM), often not a multiple of 4."""
    while True:
        h, w, c = (int(d) for d in rng.integers(3, 14, 3))
        if 512 <= h * w * c <= 800:
            break
    full = [1, h, w, c]
    small = {"same": full, "rows": [1, 1, w, c], "inner": [1, h, w, 1]}[layout]
    cfg = random_binary_config(rng, "MUL" if opcode == "MUL" else "ADD")  # SUB: ADD's scales
    if opcode == "MUL":  # M = s1 s2 / s_out below 1/4: a right shift of 2 or more
        s1, s2, _ = cfg["scales"]
        cfg["scales"] = (s1, s2, s1 * s2 * float(10 ** rng.uniform(0.7, 2.8)))
    return {**cfg, "full": full, "small": small, "mode": "const"}


def row_strides(low) -> tuple[int, int]:
    """The innermost element strides of a lowered two-input kernel's inputs (1: contiguous rows,
    which the row kernels step through directly, with DSP the table kernel four outputs at a
    time; 0: broadcast, one element at a time)."""
    last = [
        int(low.params[f"broadcast.in{i}_stride"].text.strip("{}").split(",")[-1]) for i in (1, 2)
    ]
    return last[0], last[1]


def run_random_binary_cases(opcode: str, first_seed: int, count: int) -> None:
    run_random_cases(
        lambda rng: random_binary_config(rng, opcode),
        lambda cfg, rng: build_binary(opcode, cfg, rng),
        first_seed,
        count,
    )


# ----------------------------------------------------------------------------- TF converter


def convert_keras_int8(
    keras_model, sample_shape, spread: float, io_type: str | None = "int8"
) -> bytes:
    """Full-integer quantization with the TF converter, calibrated on 64 normal(0, `spread`)
    samples of `sample_shape` (drawn from seed 0); model input/output types `io_type` (None:
    float32, as the converter leaves them)."""
    import tensorflow as tf

    rng = np.random.default_rng(0)

    def representative():
        for _ in range(64):
            yield [rng.normal(0, spread, sample_shape).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if io_type is not None:
        conv.inference_input_type = getattr(tf, io_type)
        conv.inference_output_type = getattr(tf, io_type)
    return conv.convert()


# ----------------------------------------------------------------------------- the new-ops chain


def build_new_ops_chain(rng: np.random.Generator) -> bytes:
    """One int8 graph through every data-movement, elementwise, resize, reduce, TRANSPOSE_CONV,
    BATCH_MATMUL, PRELU and ABS/RSQRT kernel, for the board tests and the per-op instruction counts
    (benchmarks/new_ops.py). Input [1, 8, 8, 6], output [1, 5, 12, 7]."""
    b = ModelBuilder()
    q = {"scale": 0.05, "zero_point": -3}

    def t(shape, **quant):
        return b.tensor(shape, **(quant or q))

    def ints(values) -> int:
        arr = np.asarray(values, np.int32)
        return b.tensor(arr.shape, "int32", data=arr)

    x = t([1, 8, 8, 6])
    tr = t([1, 8, 8, 6])
    b.op("TRANSPOSE", [x, ints([0, 2, 1, 3])], [tr])
    ss = t([1, 7, 4, 6])
    b.op("STRIDED_SLICE", [tr, ints([0, 1, 0, 0]), ints([1, 8, 8, 6]), ints([1, 1, 2, 1])], [ss],
         "StridedSliceOptions")  # fmt: skip
    sl = t([1, 6, 4, 6])
    b.op("SLICE", [ss, ints([0, 1, 0, 0]), ints([1, 6, 4, 6])], [sl])
    a, c = t([1, 6, 4, 3]), t([1, 6, 4, 3])
    b.op("SPLIT", [ints([3]), sl], [a, c], "SplitOptions", num_splits=2)
    sub = t([1, 6, 4, 3], scale=0.08, zero_point=0)
    b.op("SUB", [a, c], [sub], "SubOptions")
    sub_q = t([1, 6, 4, 3])  # back to the shared quantization for the concatenation
    floor = t([1], scale=0.08, zero_point=0, data=np.array([-30]))
    sub_max = t([1, 6, 4, 3], scale=0.08, zero_point=0)
    b.op("MAXIMUM", [sub, floor], [sub_max], "MaximumMinimumOptions")
    zero = t([1], scale=0.08, zero_point=0, data=np.array([0]))
    b.op("ADD", [sub_max, zero], [sub_q], "AddOptions")
    mx = t([1, 6, 4, 3])
    b.op("MINIMUM", [a, c], [mx], "MaximumMinimumOptions")
    g = t([1, 6, 4, 3])
    b.op("GATHER", [mx, ints([2, 0, 1])], [g], "GatherOptions", axis=3)
    sq = t([1, 6, 4, 3], scale=0.02, zero_point=-128)
    b.op("SQUARED_DIFFERENCE", [a, c], [sq], "SquaredDifferenceOptions")
    sq_q = t([1, 6, 4, 3])
    sq_zero = t([1], scale=0.02, zero_point=-128, data=np.array([-128]))
    b.op("ADD", [sq, sq_zero], [sq_q], "AddOptions")
    cat = t([1, 6, 4, 9])
    b.op("CONCATENATION", [sub_q, g, sq_q], [cat], "ConcatenationOptions", axis=3)
    d2s = t([1, 18, 12, 1])
    b.op("DEPTH_TO_SPACE", [cat], [d2s], "DepthToSpaceOptions", block_size=3)
    s2d = t([1, 9, 6, 4])
    b.op("SPACE_TO_DEPTH", [d2s], [s2d], "SpaceToDepthOptions", block_size=2)
    up = t([1, 12, 8, 4])
    b.op(
        "RESIZE_BILINEAR",
        [s2d, ints([12, 8])],
        [up],
        "ResizeBilinearOptions",
        half_pixel_centers=True,
    )
    down = t([1, 6, 4, 4])
    b.op("RESIZE_NEAREST_NEIGHBOR", [up, ints([6, 4])], [down], "ResizeNearestNeighborOptions")
    w_scale = rng.uniform(0.005, 0.02, 5)
    w = b.tensor((5, 3, 3, 4), scale=w_scale, zero_point=np.zeros(5, np.int64),
                 data=rng.integers(-127, 128, (5, 3, 3, 4)))  # fmt: skip
    bias = b.tensor((5,), "int32", scale=0.05 * w_scale, zero_point=np.zeros(5, np.int64),
                    data=rng.integers(-500, 500, 5))  # fmt: skip
    tc = t([1, 12, 8, 5], scale=0.1, zero_point=4)
    b.op("TRANSPOSE_CONV", [ints([1, 12, 8, 5]), w, down, bias], [tc], "TransposeConvOptions",
         padding="SAME", stride_h=2, stride_w=2)  # fmt: skip
    col_max = t([1, 12, 1, 5], scale=0.1, zero_point=4)
    b.op("REDUCE_MAX", [tc, ints([2])], [col_max], "ReducerOptions", keep_dims=True)
    below_max = t([1, 12, 8, 5], scale=0.1, zero_point=4)
    b.op("SUB", [tc, col_max], [below_max], "SubOptions")
    planes = [t([1, 12, 8], scale=0.1, zero_point=4) for _ in range(5)]
    b.op("UNPACK", [below_max], planes, "UnpackOptions", num=5, axis=3)
    packed = t([1, 5, 12, 8], scale=0.1, zero_point=4)
    b.op("PACK", planes[::-1], [packed], "PackOptions", values_count=5, axis=1)
    m = b.tensor((8, 7), scale=0.01, zero_point=0, data=rng.integers(-128, 128, (8, 7)))
    mm = t([1, 5, 12, 7], scale=0.3, zero_point=-10)
    b.op("BATCH_MATMUL", [packed, m], [mm], "BatchMatMulOptions")
    row_sum = t([1, 5, 12, 1], scale=1.0, zero_point=0)
    b.op("SUM", [mm, ints([3])], [row_sum], "ReducerOptions", keep_dims=True)
    centred = t([1, 5, 12, 7], scale=0.3, zero_point=-10)
    b.op("ADD", [mm, row_sum], [centred], "AddOptions")
    slopes = b.tensor((7,), scale=0.01, zero_point=3, data=rng.integers(-128, 128, 7))
    leaky = t([1, 5, 12, 7], scale=0.3, zero_point=-10)
    b.op("PRELU", [centred, slopes], [leaky])
    ab = t([1, 5, 12, 7], scale=0.2, zero_point=-128)
    b.op("ABS", [leaky], [ab])
    y = t([1, 5, 12, 7], scale=0.01, zero_point=-128)
    b.op("RSQRT", [ab], [y])
    return b.build([x], [y])
