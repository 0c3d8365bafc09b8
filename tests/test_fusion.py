"""Fused layer pairs (conv / depthwise -> conv / depthwise) and residual blocks (the pair, then an
ADD with its input) computed row by row over their input, against the TFLM interpreter bit for
bit, on the host under the run-time plan check and on an emulated Cortex-M4."""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import (
    ACTIVATIONS,
    check_bit_exact,
    check_bit_exact_on_board,
    labelled_failure,
    random_quant,
)

from tinypipe.check.reference import smallest_tflm_arena
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.fusion import fused_order_safe
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops import add as add_ops
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.model.zoo import REFERENCE_MODELS


def _conv(b: ModelBuilder, rng, x: int, x_scale: float, shape, out_c: int, k: tuple, dil: int):
    """A stride-1 SAME CONV_2D from tensor `x` (NHWC `shape`) to `out_c` channels."""
    act = str(rng.choice(ACTIVATIONS))
    taps = k[0] * k[1] * shape[3]
    per_channel = bool(rng.integers(0, 2))
    in_scale, w_scale, out_scale, out_zp = random_quant(rng, act, taps, out_c, per_channel)
    w_scale = w_scale * in_scale / x_scale  # the same multipliers for the actual input scale
    w = b.tensor(
        (out_c, k[0], k[1], shape[3]),
        scale=w_scale,
        zero_point=np.zeros(w_scale.size, np.int64),
        data=rng.integers(-127, 128, (out_c, k[0], k[1], shape[3])),
        axis=0,
    )
    bias_scale = x_scale * np.broadcast_to(w_scale, (out_c,))
    bias = b.tensor(
        (out_c,),
        "int32",
        scale=bias_scale,
        zero_point=np.zeros(out_c, np.int64),
        data=np.round(rng.uniform(-0.5, 0.5, out_c) * 74 * 74 * np.sqrt(taps)),
    )
    y = b.tensor((*shape[:3], out_c), scale=out_scale, zero_point=out_zp)
    b.op(
        "CONV_2D",
        [x, w, bias],
        [y],
        "Conv2DOptions",
        version=3 if per_channel else 1,
        padding="SAME",
        stride_h=1,
        stride_w=1,
        dilation_h_factor=dil,
        dilation_w_factor=1,
        fused_activation_function=act,
    )
    return y, out_scale


def residual_block(rng: np.random.Generator, k1: tuple, k2: tuple, dil1: int = 1) -> bytes:
    """x -> QUANTIZE -> a; conv1(a) -> m; conv2(m) -> z; ADD(a, z) (either order) -> c;
    QUANTIZE c -> y: the block input a dies with the ADD, as in a ResNet block."""
    h, w, c = (int(v) for v in rng.integers((2, 1, 1), (12, 8, 9)))
    c1 = int(rng.integers(1, 9))
    shape = (1, h, w, c)
    b = ModelBuilder()
    s_x = float(rng.uniform(0.02, 0.1))
    x = b.tensor(shape, scale=s_x, zero_point=int(rng.integers(-50, 50)))
    s_a = s_x * float(rng.uniform(0.8, 1.3))
    a = b.tensor(shape, scale=s_a, zero_point=int(rng.integers(-60, 60)))
    b.op("QUANTIZE", [x], [a], version=2)
    m, s_m = _conv(b, rng, a, s_a, shape, c1, k1, dil1)
    z, s_z = _conv(b, rng, m, s_m, (*shape[:3], c1), c, k2, 1)
    s_c = max(s_a, s_z) * float(rng.uniform(1.0, 2.5))
    out = b.tensor(shape, scale=s_c, zero_point=int(rng.integers(-30, 30)))
    operands = [a, z] if rng.integers(0, 2) else [z, a]
    act = str(rng.choice(["NONE", "RELU"]))
    b.op("ADD", operands, [out], "AddOptions", version=2, fused_activation_function=act)
    y = b.tensor(shape, scale=s_c, zero_point=0)
    b.op("QUANTIZE", [out], [y], version=2)
    return b.build([x], [y])


def _fused(model: bytes) -> bool:
    return "tp_fused_rows_s8" in [low.func for low in generate_c(read_tflite(model)).lowered]


def _residual_adds(model: bytes) -> list[str]:
    """The ADD row call of each fused residual block (tp_fused_add_s8 / tp_fused_add_lut_s8)."""
    lowered = generate_c(read_tflite(model)).lowered
    return [low.params["add_row"].text for low in lowered if "add_row" in low.params]


# (conv1 window, conv2 window, conv1 vertical dilation): all fusable, stride 1 SAME
GEOMETRIES = [((3, 3), (3, 3), 1), ((1, 1), (3, 3), 1), ((3, 1), (5, 3), 1), ((1, 3), (3, 3), 2)]


@pytest.mark.parametrize("case", range(len(GEOMETRIES)))
def test_residual_block_fused_bit_exact(case: int) -> None:
    """Random residual blocks (sizes, channels, quantization, activations, operand order),
    fused and bit-exact with TFLM under ASan/UBSan and the run-time plan check."""
    k1, k2, dil = GEOMETRIES[case]
    for n in range(2):
        seed = 9000 + 10 * case + n
        model = residual_block(np.random.default_rng(seed), k1, k2, dil)
        with labelled_failure(f"seed {seed} conv1 {k1} conv2 {k2} dilation {dil}"):
            assert _fused(model)
            check_bit_exact(model, seed, sanitize=True)


def test_block_that_would_overwrite_unread_rows_stays_apart() -> None:
    """conv1 5x5 then conv2 1x1: the conv1 row produced for output row y reads input rows y-2
    and y-1, already replaced by output rows, so the replay refuses and the layers run apart
    (still bit-exact)."""
    g1 = {"stride_h": 1, "pad_h": 2, "extent_h": 5, "input_h": 8, "input_row_bytes": 12}
    g2 = {"stride_h": 1, "pad_h": 0, "extent_h": 1, "input_h": 8, "output_h": 8}
    g2["output_row_bytes"] = 12
    assert not fused_order_safe(g1, g2)
    assert fused_order_safe({**g1, "pad_h": 1, "extent_h": 3}, {**g2, "pad_h": 1, "extent_h": 3})
    # a first layer that halves the rows leaves room: output row y lands on spent input
    halves = {**g1, "stride_h": 2, "pad_h": 0, "extent_h": 2}
    assert fused_order_safe(halves, {**g2, "input_h": 4, "output_h": 4})
    model = residual_block(np.random.default_rng(9100), (5, 5), (1, 1))
    assert not _fused(model)
    check_bit_exact(model, 9100, sanitize=True)


def _depthwise(b: ModelBuilder, rng, x: int, x_scale: float, shape, k: int, stride: int):
    """A SAME DEPTHWISE_CONV_2D (multiplier 1) from tensor `x` (NHWC `shape`)."""
    act = str(rng.choice(ACTIVATIONS))
    c = shape[3]
    in_scale, w_scale, out_scale, out_zp = random_quant(rng, act, k * k, c, True)
    w_scale = w_scale * in_scale / x_scale
    w = b.tensor(
        (1, k, k, c),
        scale=w_scale,
        zero_point=np.zeros(c, np.int64),
        data=rng.integers(-127, 128, (1, k, k, c)),
        axis=3,
    )
    out_h, out_w = -(-shape[1] // stride), -(-shape[2] // stride)
    y = b.tensor((1, out_h, out_w, c), scale=out_scale, zero_point=out_zp)
    b.op(
        "DEPTHWISE_CONV_2D",
        [x, w],
        [y],
        "DepthwiseConv2DOptions",
        version=3,
        padding="SAME",
        stride_h=stride,
        stride_w=stride,
        dilation_h_factor=1,
        dilation_w_factor=1,
        depth_multiplier=1,
        fused_activation_function=act,
    )
    return y, (1, out_h, out_w, c), out_scale


def pointwise_depthwise(rng: np.random.Generator, k: int, stride: int) -> bytes:
    """x -> QUANTIZE -> a; 1x1 conv(a) -> m (more channels); depthwise k x k, stride (m) -> d;
    QUANTIZE d -> y: a MobileNet block's first two layers, a dying with the pointwise conv."""
    h, w, c = (int(v) for v in rng.integers((2, 1, 1), (14, 8, 9)))
    shape = (1, h, w, c)
    b = ModelBuilder()
    s_x = float(rng.uniform(0.02, 0.1))
    x = b.tensor(shape, scale=s_x, zero_point=int(rng.integers(-50, 50)))
    a = b.tensor(shape, scale=s_x, zero_point=int(rng.integers(-60, 60)))
    b.op("QUANTIZE", [x], [a], version=2)
    c1 = int(rng.integers(1, 3 * c + 1))
    m, s_m = _conv(b, rng, a, s_x, shape, c1, (1, 1), 1)
    d, d_shape, s_d = _depthwise(b, rng, m, s_m, (*shape[:3], c1), k, stride)
    y = b.tensor(d_shape, scale=s_d, zero_point=0)
    b.op("QUANTIZE", [d], [y], version=2)
    return b.build([x], [y])


@pytest.mark.parametrize("k, stride", [(3, 1), (3, 2), (5, 2)])
def test_pointwise_depthwise_fused_bit_exact(k: int, stride: int) -> None:
    """Random pointwise -> depthwise pairs (sizes, channel growth, quantization, activations)
    fused where the replay allows, bit-exact with TFLM under the run-time plan check."""
    fused = 0
    for n in range(3):
        seed = 9300 + 10 * k + stride + 100 * n
        model = pointwise_depthwise(np.random.default_rng(seed), k, stride)
        with labelled_failure(f"seed {seed} depthwise {k}x{k} stride {stride}"):
            fused += _fused(model)
            check_bit_exact(model, seed, sanitize=True)
    assert fused >= 1


def test_resnet8_fused_needs_half_of_tflm_arena(zoo_model) -> None:
    """resnet8's first block fuses; its arena plus I/O buffers are at most half of the smallest
    arena the TFLM interpreter runs it in (measured here)."""
    name, kw = REFERENCE_MODELS["resnet8"]
    g = read_tflite(zoo_model(name, **kw))
    fused = generate_c(g)
    assert "tp_fused_rows_s8" in [low.func for low in fused.lowered]
    fused_away = [k for k, low in enumerate(fused.lowered) if low.fused_into is not None]
    assert len(fused_away) >= 2
    assert (
        f"computed row by row inside #{fused.lowered[fused_away[0]].fused_into}"
        in fused.files["model.c"]
    )
    ours = fused.arena_size + fused.io_bytes
    assert ours * 2 <= smallest_tflm_arena(g.model_bytes)


def test_residual_block_fused_with_table_add(monkeypatch) -> None:
    """The random blocks are small, so their ADD is tp_add_s8; with every ADD on the input
    tables, the fused call runs tp_add_lut_s8 on each output row (a resnet8 block's case)."""
    assert _residual_adds(residual_block(np.random.default_rng(9000), (3, 3), (3, 3))) == [
        "tp_fused_add_s8"
    ]
    monkeypatch.setattr(add_ops, "LUT_MIN_ELEMENTS", 0)
    for seed in (9040, 9041):
        model = residual_block(np.random.default_rng(seed), (3, 3), (3, 3))
        with labelled_failure(f"seed {seed}"):
            assert _residual_adds(model) == ["tp_fused_add_lut_s8"]
            check_bit_exact(model, seed, sanitize=True)


@pytest.mark.qemu
@pytest.mark.parametrize("tables", [False, True])
def test_residual_block_fused_on_m4(tables: bool, monkeypatch) -> None:
    if tables:  # every ADD on the input tables: four outputs of a row at a time on the M4
        monkeypatch.setattr(add_ops, "LUT_MIN_ELEMENTS", 0)
    model = residual_block(np.random.default_rng(9200), (3, 3), (3, 3))
    assert _residual_adds(model) == ["tp_fused_add_lut_s8" if tables else "tp_fused_add_s8"]
    check_bit_exact_on_board(model, 9200, "mps2-an386", samples=4)
