"""Patch-based execution of the first layers (patches.py, tp_patches_s8): random convolution
stacks from the model input (CONV_2D / DEPTHWISE_CONV_2D, strides 1 and 2, SAME and VALID)
against the TFLM interpreter bit for bit, on the host under ASan/UBSan and the run-time plan
check, and on an emulated Cortex-M4; the chosen plan against receptive fields recomputed here
from the tensor shapes."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from op_cases import (
    ACTIVATIONS,
    SAMPLES,
    check_bit_exact_on_board,
    labelled_failure,
    random_int8_inputs,
    random_quant,
)

from tinypipe.check.validate import validate_host, validate_on_board
from tinypipe.cli import main
from tinypipe.compiler import codegen, patches
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.conv import conv_padding
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.device.firmware import create_project


def _layer(b: ModelBuilder, rng, x: int, x_scale: float, x_zp: int, shape, spec: dict):
    """One CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D or MAX_POOL_2D from tensor `x` (NHWC
    `shape`) as `spec` says: kind, k (square filter), stride, padding, out_c (convs)."""
    act = str(rng.choice(ACTIVATIONS))
    k, s, pad = spec["k"], spec["stride"], spec["padding"]
    if spec["kind"] in POOLS:
        out_h = conv_padding(pad, shape[1], k, s, 1)[0]
        out_w = conv_padding(pad, shape[2], k, s, 1)[0]
        out_shape = (1, out_h, out_w, shape[3])
        y = b.tensor(out_shape, scale=x_scale, zero_point=x_zp)
        b.op(POOLS[spec["kind"]], [x], [y], "Pool2DOptions", version=2, padding=pad,
             stride_h=s, stride_w=s, filter_height=k, filter_width=k,
             fused_activation_function="NONE")  # fmt: skip
        return y, out_shape, x_scale, x_zp
    depthwise = spec["kind"] == "depthwise"
    out_c = shape[3] if depthwise else spec["out_c"]
    taps = k * k * (1 if depthwise else shape[3])
    per_channel = bool(rng.integers(0, 2)) or depthwise
    in_scale, w_scale, out_scale, out_zp = random_quant(rng, act, taps, out_c, per_channel)
    w_scale = w_scale * in_scale / x_scale  # the same multipliers for the actual input scale
    w_shape = (1, k, k, out_c) if depthwise else (out_c, k, k, shape[3])
    w = b.tensor(
        w_shape,
        scale=w_scale,
        zero_point=np.zeros(w_scale.size, np.int64),
        data=rng.integers(-127, 128, w_shape),
        axis=3 if depthwise else 0,
    )
    bias = b.tensor(
        (out_c,),
        "int32",
        scale=x_scale * np.broadcast_to(w_scale, (out_c,)),
        zero_point=np.zeros(out_c, np.int64),
        data=np.round(rng.uniform(-0.5, 0.5, out_c) * 74 * 74 * np.sqrt(taps)),
    )
    out_h = conv_padding(pad, shape[1], k, s, 1)[0]
    out_w = conv_padding(pad, shape[2], k, s, 1)[0]
    out_shape = (1, out_h, out_w, out_c)
    y = b.tensor(out_shape, scale=out_scale, zero_point=out_zp)
    opts = dict(padding=pad, stride_h=s, stride_w=s, dilation_h_factor=1, dilation_w_factor=1)
    opts["fused_activation_function"] = act
    if depthwise:
        b.op("DEPTHWISE_CONV_2D", [x, w, bias], [y], "DepthwiseConv2DOptions", version=3,
             depth_multiplier=1, **opts)  # fmt: skip
    else:
        b.op("CONV_2D", [x, w, bias], [y], "Conv2DOptions", version=3 if per_channel else 1,
             **opts)  # fmt: skip
    return y, out_shape, out_scale, out_zp


POOLS = {"avgpool": "AVERAGE_POOL_2D", "maxpool": "MAX_POOL_2D"}


def conv_stack(
    rng: np.random.Generator, specs: list[dict], hw: tuple[int, int], in_c: int, tail: str = "pool"
) -> bytes:
    """The model input (1, h, w, in_c) through the layers of `specs`, then (`tail`) "pool": a 2x2
    VALID stride-2 AVERAGE_POOL_2D (a low-resolution tail, so the stack is not the whole model);
    "none": the stack's output is the model's; "input_pool": that pool, and a second output
    MAX_POOL_2D of the model input computed after the stack (the input outlives the stack)."""
    b = ModelBuilder()
    shape = (1, *hw, in_c)
    s_x = float(rng.uniform(0.02, 0.1))
    zp = int(rng.integers(-50, 50))
    x = b.tensor(shape, scale=s_x, zero_point=zp)
    x_zp = zp
    t, scale = x, s_x
    for spec in specs:
        t, shape, scale, zp = _layer(b, rng, t, scale, zp, shape, spec)
    if tail == "none":
        return b.build([x], [t])
    pool = dict(padding="VALID", stride_h=2, stride_w=2, filter_height=2, filter_width=2)
    pool["fused_activation_function"] = "NONE"
    y = b.tensor((1, shape[1] // 2, shape[2] // 2, shape[3]), scale=scale, zero_point=zp)
    b.op("AVERAGE_POOL_2D", [t], [y], "Pool2DOptions", version=2, **pool)
    if tail == "pool":
        return b.build([x], [y])
    z = b.tensor((1, hw[0] // 2, hw[1] // 2, in_c), scale=s_x, zero_point=x_zp)
    b.op("MAX_POOL_2D", [x], [z], "Pool2DOptions", version=2, **pool)
    return b.build([x], [y, z])


def _random_stack(rng: np.random.Generator, case: int, tail: str = "pool") -> bytes:
    """Stack `case` with random sizes, channels and quantization: a high-resolution start that
    ends in a downsampling layer, the shape where patches pay."""
    c1, c2 = (int(v) for v in rng.integers((8, 8), (20, 24)))
    conv, dw = "conv", "depthwise"
    stacks = [
        [  # MobileNet-like: conv, depthwise, pointwise, strided depthwise, pointwise
            dict(kind=conv, k=3, stride=1, padding="SAME", out_c=c1),
            dict(kind=dw, k=3, stride=1, padding="SAME"),
            dict(kind=conv, k=1, stride=1, padding="SAME", out_c=c2),
            dict(kind=dw, k=3, stride=2, padding="SAME"),
            dict(kind=conv, k=1, stride=1, padding="VALID", out_c=8),
        ],
        [  # VALID and SAME convolutions, strides 1 then 2 then 1
            dict(kind=conv, k=3, stride=1, padding="VALID", out_c=c1),
            dict(kind=conv, k=3, stride=2, padding="SAME", out_c=c2),
            dict(kind=dw, k=5, stride=1, padding="SAME"),
            dict(kind=conv, k=1, stride=1, padding="SAME", out_c=8),
        ],
        [  # 5x5 VALID, then strided depthwise, then a 3x3 VALID conv
            dict(kind=conv, k=5, stride=1, padding="VALID", out_c=c1),
            dict(kind=dw, k=3, stride=1, padding="SAME"),
            dict(kind=dw, k=3, stride=2, padding="VALID"),
            dict(kind=conv, k=3, stride=1, padding="VALID", out_c=8),
        ],
        [  # poolings inside the chain: SAME max pool with a halo, VALID average pool
            dict(kind=conv, k=3, stride=1, padding="SAME", out_c=c1),
            dict(kind="maxpool", k=3, stride=2, padding="SAME"),
            dict(kind=dw, k=3, stride=1, padding="SAME"),
            dict(kind=conv, k=1, stride=1, padding="SAME", out_c=c2),
            dict(kind="avgpool", k=2, stride=2, padding="VALID"),
        ],
    ]
    hw = tuple(int(v) for v in rng.integers(16, 29, 2))
    return conv_stack(rng, stacks[case], hw, int(rng.integers(1, 4)), tail)


STACKS = 4


def _ram(cm) -> int:
    return cm.arena_size + cm.io_bytes


def _needed(graph, chain: list[int], rows: range, cols: range) -> list[np.ndarray]:
    """Brute force, from the tensors' shapes and the ops' options: per layer of the chain, the
    mask of its output pixels the given pixels of the last layer's output depend on, then the
    mask of the chain's input pixels they read."""
    masks = []
    need = np.zeros(graph.tensors[graph.operators[chain[-1]].outputs[0]].shape[1:3], bool)
    need[rows.start : rows.stop, cols.start : cols.stop] = True
    for k in reversed(chain):
        op = graph.operators[k]
        masks.append(need)
        inp, o = graph.tensors[op.inputs[0]], op.options
        if op.opcode.endswith("POOL_2D"):
            kh, kw = o["filter_height"], o["filter_width"]
        else:
            kh, kw = graph.tensors[op.inputs[1]].shape[1:3]
        _, pad_h = conv_padding(o["padding"], inp.shape[1], kh, o["stride_h"], 1)
        _, pad_w = conv_padding(o["padding"], inp.shape[2], kw, o["stride_w"], 1)
        prev = np.zeros(inp.shape[1:3], bool)
        for y, x in zip(*np.nonzero(need)):
            for ky in range(kh):
                for kx in range(kw):
                    iy, ix = y * o["stride_h"] - pad_h + ky, x * o["stride_w"] - pad_w + kx
                    if 0 <= iy < prev.shape[0] and 0 <= ix < prev.shape[1]:
                        prev[iy, ix] = True
        need = prev
    return [*masks[::-1], need]


def _macs_per_pixel(graph, k: int) -> int:
    op = graph.operators[k]
    if op.opcode.endswith("POOL_2D"):
        return 0
    w = graph.tensors[op.inputs[1]]
    out_c = graph.tensors[op.outputs[0]].shape[3]
    return out_c * w.shape[1] * w.shape[2] * (w.shape[3] if op.opcode == "CONV_2D" else 1)


def test_plan_within_max_recompute_and_lower_peak() -> None:
    """Per random stack and bound: a patched plan adds at most the bound's MACs and needs fewer
    bytes than the plan without patches. The MACs are recounted here by brute force from the
    shapes (each patch's dependency masks back from its output pixels), and every window the C
    driver gets (the windows table) is the bounding box of such a mask."""
    patched = 0
    for case in range(STACKS):
        for n in range(2):
            seed = 7100 + 10 * case + n
            g = read_tflite(_random_stack(np.random.default_rng(seed), case))
            plain = generate_c(g, max_recompute=0)
            assert plain.patches is None
            assert "tp_patches_s8" not in [low.func for low in plain.lowered]
            total = sum(_macs_per_pixel(g, k) * g.tensors[op.outputs[0]].size // g.tensors[op.outputs[0]].shape[3]
                        for k, op in enumerate(g.operators) if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"))  # fmt: skip
            for bound in (0.05, 0.2, 0.5):
                cm = generate_c(g, max_recompute=bound)
                p = cm.patches
                if p is None:
                    continue
                patched += 1
                chain = [la.op for la in p.layers]
                with labelled_failure(f"seed {seed} bound {bound} grid {p.grid} ops {chain}"):
                    assert _ram(cm) < _ram(plain)
                    assert p.ram_before == _ram(plain) and p.ram_after == _ram(cm)
                    out = g.tensors[g.operators[chain[-1]].outputs[0]].shape
                    table = cm.lowered[chain[-1]].consts["windows"].reshape(len(p.patches), -1)
                    macs = 0
                    last = 4 + 6 * (len(chain) - 1)
                    cover = np.zeros(out[1:3], int)
                    for entry in table:  # the patches tile the output, each pixel once
                        y0, x0, h, w = entry[2], entry[3], entry[last + 4], entry[last + 5]
                        cover[y0 : y0 + h, x0 : x0 + w] += 1
                        masks = _needed(g, chain, range(y0, y0 + h), range(x0, x0 + w))
                        iy, ix = np.nonzero(masks[-1])  # the input window: its bounding box
                        assert tuple(entry[:2]) == (iy.min(), ix.min())
                        assert tuple(entry[4:6]) == (np.ptp(iy) + 1, np.ptp(ix) + 1)
                        for i, (k, mask) in enumerate(zip(chain, masks)):
                            macs += int(mask.sum()) * _macs_per_pixel(g, k)
                            ys, xs = np.nonzero(mask)
                            out_h, out_w = entry[4 + 6 * i + 4], entry[4 + 6 * i + 5]
                            assert (out_h, out_w) == (np.ptp(ys) + 1, np.ptp(xs) + 1)
                            assert mask.sum() == out_h * out_w  # a rectangle
                    assert (cover == 1).all()
                    assert len(table) == p.grid[0] * p.grid[1]
                    plain_macs = sum(_macs_per_pixel(g, k) * out_size for k, out_size in
                                     ((k, int(np.prod(g.tensors[g.operators[k].outputs[0]].shape[1:3]))) for k in chain))  # fmt: skip
                    assert macs - plain_macs <= bound * total
                    assert abs(p.recompute - (macs - plain_macs) / total) < 1e-9
    assert patched >= 3


def _check_host(cm, seed: int) -> None:
    g = cm.graph
    verdict, _ = validate_host(g, random_int8_inputs(g, seed, SAMPLES), sanitize=True, cmodel=cm)
    assert verdict.bit_exact, verdict.summary()


@pytest.mark.parametrize("case", range(STACKS))
def test_patched_stack_bit_exact(case: int) -> None:
    """A random stack as the compiler patches it (within 50 % extra MACs), bit-exact with TFLM
    under ASan/UBSan and the run-time plan check (the buffers are in the plan)."""
    seed = 7200 + case
    g = read_tflite(_random_stack(np.random.default_rng(seed), case))
    cm = generate_c(g, max_recompute=0.5)
    with labelled_failure(f"seed {seed}"):
        assert cm.patches is not None
        assert "tp_patches_s8(" in cm.files["model.c"]
        _check_host(cm, seed)


def _forced_grid(grid: tuple[int, int], n: int):
    """choose_patches replaced by: the first `n` layers from the input as `grid` patches."""

    def choose(graph, lowered, max_recompute, plan):
        chain = patches.chains(graph, lowered)[0][:n]
        p = patches.patching([patches.chain_layer(k, lowered[k]) for k in chain], grid)
        return (*plan(patches.patch_call(graph, lowered, p)), p)

    return choose


# (stack, grid): both window copies (columns of patches), rows only (windows read and written
# where they lie), more patches than some layer has rows
# ... with the stack's output the model's, with the input read again after the stack
FORCED = [(0, (2, 3), "pool"), (1, (3, 1), "none"), (2, (4, 2), "input_pool"), (3, (3, 2), "none")]


@pytest.mark.parametrize("case, grid, tail", FORCED)
def test_any_grid_bit_exact(monkeypatch, case: int, grid: tuple[int, int], tail: str) -> None:
    """The whole stack run as a given grid of patches, whether or not it saves RAM, is bit-exact
    under ASan/UBSan and the plan check: the halo and the borders of every window are right."""
    seed = 7300 + case
    g = read_tflite(_random_stack(np.random.default_rng(seed), case, tail))
    layers = 5 if case in (0, 3) else 4  # the stack's own layers
    monkeypatch.setattr(codegen, "choose_patches", _forced_grid(grid, layers))
    cm = generate_c(g)
    with labelled_failure(f"seed {seed} grid {grid} tail {tail}"):
        assert cm.patches.grid == grid and len(cm.patches.layers) == layers
        assert cm.patches.gather_input == (grid[1] > 1)
        _check_host(cm, seed)


def test_cli_max_recompute(tmp_path) -> None:
    """`tinypipe export` patches within the default 10 % (this stack's first two layers pay
    for it) and says so on its summary line; --max-recompute 0 turns patches off."""
    model = tmp_path / "stack.tflite"
    model.write_bytes(_random_stack(np.random.default_rng(7201), 1))
    g = read_tflite(model)
    on = generate_c(g)
    assert on.patches is not None and on.patches.recompute <= 0.10
    for flag, patched in (([], True), (["--max-recompute", "0"], False)):
        out = tmp_path / f"c{len(flag)}"
        res = CliRunner().invoke(main, ["export", str(model), "-o", str(out), *flag])
        assert res.exit_code == 0, res.output
        assert ("tp_patches_s8(" in (out / "model.c").read_text()) == patched
        if patched:
            assert on.patches.summary() in res.output
            assert f"as {on.patches.grid[0]}x{on.patches.grid[1]} patches" in res.output
            assert f"RAM {on.patches.ram_before:,} -> {_ram(on):,} B" in res.output
        else:
            assert "Patches: off" in res.output
    res = CliRunner().invoke(main, ["export", str(model), "-o", str(tmp_path / "x"),
                                    "--max-recompute", "-1"])  # fmt: skip
    assert res.exit_code == 2 and "--max-recompute" in res.output


def test_run_takes_max_recompute_from_the_config(tmp_path) -> None:
    """`tinypipe run` with [deploy] max_recompute = 30: the exported C, the firmware project and
    the report's memory figures are the model compiled with that bound (a finer grid than the
    default's), and the host run is bit-exact."""
    g = read_tflite(_random_stack(np.random.default_rng(7201), 1))
    (tmp_path / "model.tflite").write_bytes(g.model_bytes)
    np.save(tmp_path / "x.npy", random_int8_inputs(g, 7201, 4))
    (tmp_path / "tinypipe.toml").write_text(
        '[model]\ntflite = "model.tflite"\n[data]\ninputs = "x.npy"\n'
        '[deploy]\nboards = ["host"]\nvalidate_samples = 4\nmax_recompute = 30\n'
    )
    res = CliRunner().invoke(main, ["run", str(tmp_path / "tinypipe.toml")])
    assert res.exit_code == 0, res.output
    assert "host: BIT-EXACT on 4 samples" in res.output
    g = read_tflite(tmp_path / "model.tflite")  # named as the run reads it
    cm, default = generate_c(g, max_recompute=0.3), generate_c(g)
    assert cm.patches.grid != default.patches.grid
    out = tmp_path / "out"
    assert (out / "c" / "model.c").read_text() == cm.files["model.c"]
    (firmware_c,) = (out / "firmware").rglob("model.c")
    assert firmware_c.read_text() == cm.files["model.c"]
    report = json.loads((out / "report.json").read_text())
    assert report["memory"]["arena_bytes"] == cm.arena_size


TINY_CNN = {"input_shape": (32, 32, 3), "num_classes": 10}


def test_tiny_cnn_patched_within_default_bound(zoo_model) -> None:
    """tiny_cnn on 32x32 RGB images (conv, depthwise, pointwise, max and average pool, all at
    high resolution, then dense layers), as the TF converter makes it: within the default 10 %
    extra MACs its first five layers run patch by patch, in less than half the RAM of the plan
    without patches, bit-exact with TFLM under ASan/UBSan and the plan check."""
    g = read_tflite(zoo_model("tiny_cnn", **TINY_CNN))
    cm = generate_c(g)
    p = cm.patches
    assert p is not None and p.recompute <= 0.10
    assert [g.operators[la.op].opcode for la in p.layers][-2:] == ["MAX_POOL_2D", "AVERAGE_POOL_2D"]
    assert 2 * _ram(cm) <= _ram(generate_c(g, max_recompute=0))
    _check_host(cm, 7400)


@pytest.mark.qemu
def test_tiny_cnn_patched_on_m4(zoo_model) -> None:
    """The same on mps2-an386 (its grid has columns: windows copied in and out)."""
    model = zoo_model("tiny_cnn", **TINY_CNN)
    p = generate_c(read_tflite(model)).patches
    assert p is not None and p.gather_input and p.scatter_output
    check_bit_exact_on_board(model.read_bytes(), 7401, "mps2-an386", samples=4)


@pytest.mark.qemu
@pytest.mark.slow
def test_patched_stack_on_m55() -> None:
    """The Helium kernels on windows: a depthwise stack patched within 50 % extra MACs, on
    mps3-an547, bit-exact with TFLM."""
    seed = 7200
    g = read_tflite(_random_stack(np.random.default_rng(seed), 0))
    cm = generate_c(g, max_recompute=0.5)
    assert cm.patches is not None
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "c"
        src.mkdir()
        for name, text in cm.files.items():
            (src / name).write_text(text)
        create_project(src, ["mps3-an547"], Path(tmp) / "fw")
        inputs = random_int8_inputs(g, seed, 4)
        verdict, _ = validate_on_board(g, inputs, "mps3-an547", project=Path(tmp) / "fw")
    assert verdict.samples == 4
    assert verdict.bit_exact, verdict.summary()
