"""In-place layers and the plan that proves them: against the TFLM interpreter, bit for bit.

Each random layer is put between two int8 QUANTIZE ops (identity requantizations), so its input
dies with it and its output is not the model's: exactly the case where tinypipe computes it over
its own input. The models then run on the host (every 3rd under ASan/UBSan) and must equal TFLM.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from op_cases import (
    build_conv,
    build_depthwise,
    conv_output_size,
    labelled_failure,
    random_conv_geometry,
)
from op_cases import check_bit_exact as check_host

from tinypipe.compiler.codegen import generate_c, lower_all
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.inplace import RowWindow, choose_inplace, row_sequence_safe
from tinypipe.compiler.memory_report import inplace_timeline, timeline_markdown
from tinypipe.compiler.planner import check_plan, plan_memory
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.model.zoo import REFERENCE_MODELS

try:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema
except ImportError:  # pragma: no cover
    schema = None


def between_requantize(model: bytes) -> bytes:
    """The one-op `model` with an int8 -> int8 QUANTIZE (same scale and zero point) in front of
    its input and after its output."""
    import flatbuffers

    m = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    sg = m.subgraphs[0]
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.QUANTIZE
    code.version = 2
    m.operatorCodes.append(code)

    def twin(i: int) -> int:
        t = copy.deepcopy(sg.tensors[i])
        t.name = (t.name.decode() if isinstance(t.name, bytes) else t.name) + "_io"
        sg.tensors.append(t)
        return len(sg.tensors) - 1

    def quantize(src: int, dst: int):
        op = schema.OperatorT()
        op.opcodeIndex = len(m.operatorCodes) - 1
        op.inputs, op.outputs = [src], [dst]
        return op

    x, y = sg.inputs[0], sg.outputs[0]
    x_io, y_io = twin(x), twin(y)
    sg.operators = [quantize(x_io, x), *sg.operators, quantize(y, y_io)]
    sg.inputs, sg.outputs = [x_io], [y_io]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _geometry(leading):
    def config(rng: np.random.Generator) -> dict:
        return random_conv_geometry(rng, leading)

    return config


def _conv_leading(rng: np.random.Generator) -> dict:
    return {
        "batch": 1,
        "in_h": int(rng.integers(1, 12)),
        "in_w": int(rng.integers(1, 9)),
        "filter_c": int(rng.integers(1, 7)),
        "groups": 1,
        "out_per_group": int(rng.integers(1, 9)),
    }


def _depthwise_leading(rng: np.random.Generator) -> dict:
    return {
        "batch": 1,
        "in_h": int(rng.integers(1, 12)),
        "in_w": int(rng.integers(1, 9)),
        "in_c": int(rng.integers(1, 9)),
        "mult": int(rng.choice([1, 1, 2])),
    }


def _run_inplace_cases(leading, build, drivers: tuple, first_seed: int, count: int) -> int:
    """Random layers between requantizations, bit-exact on the host; returns how many ran in place."""
    inplace = 0
    for k in range(count):
        seed = first_seed + k
        rng = np.random.default_rng(seed)
        cfg = _geometry(leading)(rng)
        model = between_requantize(build(cfg, rng))
        with labelled_failure(f"seed {seed} config {cfg}"):
            g = read_tflite(model)
            funcs = [low.func for low in generate_c(g).lowered]
            inplace += funcs[1] in drivers
            check_host(model, seed, sanitize=k % 3 == 0)
    return inplace


@pytest.mark.parametrize("chunk", range(2))
def test_inplace_conv_random_bit_exact(chunk: int) -> None:
    """12 random CONV_2D layers (6 per chunk), computed over their own input where proven safe."""
    n = _run_inplace_cases(
        _conv_leading,
        build_conv,
        ("tp_conv_inplace_s8", "tp_conv_w16_inplace_s8"),
        6000 + 6 * chunk,
        6,
    )
    assert n >= 4  # most random geometries can run in place (either direction)


@pytest.mark.parametrize("chunk", range(2))
def test_inplace_depthwise_random_bit_exact(chunk: int) -> None:
    """12 random DEPTHWISE_CONV_2D layers (6 per chunk), over their own input where proven safe."""
    n = _run_inplace_cases(
        _depthwise_leading, build_depthwise, ("tp_depthwise_conv_inplace_s8",), 6100 + 6 * chunk, 6
    )
    assert n >= 4


def _add_between_requantize(rng: np.random.Generator, shape) -> bytes:
    """x -> QUANTIZE -> a, x -> QUANTIZE -> b (another scale), ADD(a, b) -> c, QUANTIZE c -> y:
    both inputs of the ADD die with it."""
    b = ModelBuilder()
    s_x, z_x = float(rng.uniform(0.02, 0.1)), int(rng.integers(-50, 50))
    x = b.tensor(shape, scale=s_x, zero_point=z_x)
    a = b.tensor(shape, scale=s_x * rng.uniform(0.8, 1.3), zero_point=int(rng.integers(-60, 60)))
    bb = b.tensor(shape, scale=s_x * rng.uniform(0.5, 2.0), zero_point=int(rng.integers(-60, 60)))
    s_c = s_x * rng.uniform(1.0, 2.5)
    c = b.tensor(shape, scale=s_c, zero_point=int(rng.integers(-30, 30)))
    y = b.tensor(shape, scale=s_c, zero_point=0)
    b.op("QUANTIZE", [x], [a], version=2)
    b.op("QUANTIZE", [x], [bb], version=2)
    b.op("ADD", [a, bb], [c], "AddOptions", version=2, fused_activation_function="NONE")
    b.op("QUANTIZE", [c], [y], version=2)
    return b.build([x], [y])


@pytest.mark.parametrize("seed", range(3))
def test_inplace_add_bit_exact(seed: int) -> None:
    rng = np.random.default_rng(7000 + seed)
    shape = (1, int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 9)))
    model = _add_between_requantize(rng, shape)
    g = read_tflite(model)
    lowered = generate_c(g).lowered
    add = next(k for k, op in enumerate(g.operators) if op.opcode == "ADD")
    assert lowered[add].inplace_of in g.operators[add].inputs
    check_host(model, seed, sanitize=seed == 0)


def test_row_sequence_replay() -> None:
    """The replay refuses exactly what would read an overwritten row."""
    same = RowWindow(
        input_h=8,
        input_row_bytes=12,
        output_h=8,
        output_row_bytes=12,
        stride_h=1,
        pad_h=1,
        extent_h=3,
    )
    assert row_sequence_safe(same)
    wider = RowWindow(8, 12, 8, 24, 1, 1, 3)  # each output row is twice an input row
    assert not row_sequence_safe(wider)
    assert row_sequence_safe(RowWindow(8, 12, 8, 24, 1, 1, 3, backward=1))
    # stride 2 halving the rows: fine top down, but bottom up row 3 lands on unread input row 1
    assert row_sequence_safe(RowWindow(8, 24, 4, 12, 2, 0, 2))
    assert not row_sequence_safe(RowWindow(8, 24, 4, 12, 2, 0, 2, backward=1))


@pytest.mark.parametrize("label", ["ds_cnn", "resnet8"])
def test_plan_proof_on_reference_models(zoo_model, label: str) -> None:
    """The planner's proof holds with in-place chains, the arena shrinks, and a corrupted plan
    is caught by the proof."""
    name, kw = REFERENCE_MODELS[label]
    g = read_tflite(zoo_model(name, **kw))
    lowered = lower_all(g)
    before = plan_memory(g, lowered)
    after = plan_memory(g, choose_inplace(g, lowered))  # plan_memory runs check_plan itself
    assert after.arena_size < before.arena_size
    assert after.arena_size >= max(after.live_bytes)
    chains = [b for b in after.buffers if len(b.parts) > 1]
    assert chains
    other = next(b for b in after.buffers if b is not chains[0] and b.overlaps_in_time(chains[0]))
    other.offset = chains[0].offset
    with pytest.raises(AssertionError, match="overlaps"):
        check_plan(after)


@pytest.mark.parametrize("stride", [1, 2])
def test_inplace_conv_on_int16_weights_bit_exact(stride: int) -> None:
    """A conv whose kernel takes int16-expanded weights (tp_conv_w16_s8), run in place."""
    rng = np.random.default_rng(6200 + stride)
    cfg = {
        "batch": 1, "in_h": 9, "in_w": 6, "filter_c": 8, "groups": 1, "out_per_group": 8,
        "k_h": 3, "k_w": 3, "stride_h": stride, "stride_w": 1, "dil_h": 1, "dil_w": 1,
        "padding": "SAME", "per_channel": True, "bias": True, "act": "RELU", "in_zp": -7,
    }  # fmt: skip
    cfg["out_h"], cfg["out_w"] = conv_output_size(cfg)
    model = between_requantize(build_conv(cfg, rng))
    assert generate_c(read_tflite(model)).lowered[1].func == "tp_conv_w16_inplace_s8"
    check_host(model, 6200 + stride, sanitize=True)


@pytest.mark.parametrize("stride", [1, 2])
def test_inplace_conv_on_4bit_weights_bit_exact(stride: int) -> None:
    """A clustered conv (16 weight values: tp_conv_w4_s8) keeps the in-place layer, so weight
    clustering costs no RAM; its arena is the in-place one, not input + output."""
    rng = np.random.default_rng(6300 + stride)
    cfg = {
        "batch": 1, "in_h": 11, "in_w": 5, "filter_c": 12, "groups": 1, "out_per_group": 12,
        "k_h": 3, "k_w": 3, "stride_h": stride, "stride_w": 1, "dil_h": 1, "dil_w": 1,
        "padding": "SAME", "per_channel": True, "bias": True, "act": "NONE", "in_zp": 5,
        "levels": 16, "shared_levels": False,
    }  # fmt: skip
    cfg["out_h"], cfg["out_w"] = conv_output_size(cfg)
    model = between_requantize(build_conv(cfg, rng))
    g = read_tflite(model)
    cm = generate_c(g)
    assert cm.lowered[1].func == "tp_conv_w4_inplace_s8"
    out_place = generate_c(g, inplace=False)
    assert out_place.lowered[1].func == "tp_conv_w4_s8"
    assert cm.arena_size < out_place.arena_size
    check_host(model, 6300 + stride, sanitize=True)


def test_inplace_timeline_report(zoo_model) -> None:
    """The report's per-layer timeline: one row per layer, the in-place peak below the other."""
    name, kw = REFERENCE_MODELS["ds_cnn"]
    g = read_tflite(zoo_model(name, **kw))
    rows = inplace_timeline(g)
    assert [r["index"] for r in rows] == list(range(len(g.operators)))
    assert max(r["after"] for r in rows) < max(r["before"] for r in rows)
    assert {r["inplace"] for r in rows} >= {"row window", ""}
    text = timeline_markdown(rows)
    assert text.count("\n| ") == len(rows) + 1  # header + one row per layer
