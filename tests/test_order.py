"""Operator order search (compiler/order.py): graphs with parallel branches, written in a random
valid order, compiled in the order whose plan needs the fewest bytes, bit-exact with TFLM."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner
from op_cases import check_bit_exact, labelled_failure, random_int8_inputs, random_quant

from tinypipe.check.validate import validate_on_board
from tinypipe.cli import main
from tinypipe.compiler.codegen import generate_c, lower_all
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.memory_report import inplace_timeline
from tinypipe.compiler.order import (
    MAX_PLANS,
    PeakModel,
    best_order,
    dependencies,
    is_valid,
    search_order,
)
from tinypipe.compiler.tflite_writer import ModelBuilder


class _Net:
    """A ModelBuilder with NHWC shapes and scales tracked per tensor."""

    def __init__(self) -> None:
        self.b = ModelBuilder()
        self.shape: dict[int, tuple[int, ...]] = {}
        self.quant: dict[int, tuple[float, int]] = {}

    def tensor(self, shape, scale: float, zp: int) -> int:
        t = self.b.tensor(shape, scale=scale, zero_point=zp)
        self.shape[t], self.quant[t] = tuple(shape), (scale, zp)
        return t

    def conv(
        self, rng, x: int, out_c: int, k, stride: int = 1, out_q=None, padding: str = "SAME"
    ) -> int:
        """A CONV_2D from `x` with a k or (kh, kw) window; its output quantized as `out_q`
        (scale, zero point) if given."""
        shape, (x_scale, _) = self.shape[x], self.quant[x]
        act = str(rng.choice(["NONE", "RELU"]))
        kh, kw = (k, k) if isinstance(k, int) else k
        taps = kh * kw * shape[3]
        in_scale, w_scale, out_scale, out_zp = random_quant(rng, act, taps, out_c, True)
        if out_q is not None:  # the same multipliers for the given output scale
            w_scale, (out_scale, out_zp) = w_scale * out_q[0] / out_scale, out_q
        w_scale = w_scale * in_scale / x_scale
        w = self.b.tensor(
            (out_c, kh, kw, shape[3]),
            scale=w_scale,
            zero_point=np.zeros(out_c, np.int64),
            data=rng.integers(-127, 128, (out_c, kh, kw, shape[3])),
        )
        bias = self.b.tensor(
            (out_c,),
            "int32",
            scale=x_scale * w_scale,
            zero_point=np.zeros(out_c, np.int64),
            data=np.round(rng.uniform(-0.5, 0.5, out_c) * 74 * 74 * np.sqrt(taps)),
        )
        if padding == "VALID":
            h, wd = (shape[1] - kh) // stride + 1, (shape[2] - kw) // stride + 1
        else:
            h, wd = -(-shape[1] // stride), -(-shape[2] // stride)
        y = self.tensor((1, h, wd, out_c), out_scale, out_zp)
        self.b.op(
            "CONV_2D",
            [x, w, bias],
            [y],
            "Conv2DOptions",
            version=3,
            padding=padding,
            stride_h=stride,
            stride_w=stride,
            dilation_h_factor=1,
            dilation_w_factor=1,
            fused_activation_function=act,
        )
        return y

    def max_pool(self, x: int) -> int:
        y = self.tensor(self.shape[x], *self.quant[x])
        self.b.op(
            "MAX_POOL_2D",
            [x],
            [y],
            "Pool2DOptions",
            padding="SAME",
            stride_w=1,
            stride_h=1,
            filter_width=3,
            filter_height=3,
            fused_activation_function="NONE",
        )
        return y

    def build(self, rng, inputs: list[int], outputs: list[int]) -> bytes:
        """The model with its operators written in a random valid order (as added: rng None)."""
        ops = self.b.ops
        if rng is None:
            return self.b.build(inputs, outputs)
        made = {t: k for k, o in enumerate(ops) for t in o.outputs}
        deps = [{made[t] for t in o.inputs if t in made} for o in ops]
        order: list[int] = []
        while len(order) < len(ops):
            ready = [k for k in range(len(ops)) if k not in order and deps[k] <= set(order)]
            order.append(int(rng.choice(ready)))
        self.b.ops = [ops[k] for k in order]
        return self.b.build(inputs, outputs)


def branchy_model(rng: np.random.Generator, branches: int, join: str) -> bytes:
    """input -> QUANTIZE -> a; `branches` parallel branches from a (1-3 convolutions of random
    widths, 1x1 or 3x3, one branch maybe starting with a 3x3 max pool, as in an inception block);
    joined by CONCATENATION on channels or by ADD (then all branches end at a's channels); then a
    1x1 convolution to the output. The operators are written in a random valid order."""
    h, w, c = (int(v) for v in rng.integers((3, 3, 1), (11, 11, 9)))
    net = _Net()
    s = float(rng.uniform(0.02, 0.1))
    x = net.tensor((1, h, w, c), s, int(rng.integers(-50, 50)))
    a = net.tensor((1, h, w, c), s * float(rng.uniform(0.8, 1.3)), int(rng.integers(-60, 60)))
    net.b.op("QUANTIZE", [x], [a], version=2)
    join_q = (float(rng.uniform(0.03, 0.2)), int(rng.integers(-60, 60)))
    ends = []
    for n in range(branches):
        t = a
        if n == branches - 1 and rng.integers(0, 2):
            t = net.max_pool(t)
        depth = int(rng.integers(1, 4))
        for d in range(depth):
            last = d == depth - 1
            out_c = c if last and join == "ADD" else int(rng.integers(1, 25))
            t = net.conv(rng, t, out_c, int(rng.choice([1, 3])), out_q=join_q if last else None)
        ends.append(t)
    if join == "ADD":
        joined = ends[0]
        for t in ends[1:]:
            out = net.tensor(
                (1, h, w, c), float(rng.uniform(0.05, 0.3)), int(rng.integers(-30, 30))
            )
            net.b.op("ADD", [joined, t], [out], "AddOptions", version=2)
            joined = out
    else:
        width = sum(net.shape[t][3] for t in ends)
        joined = net.tensor((1, h, w, width), *join_q)
        net.b.op("CONCATENATION", ends, [joined], "ConcatenationOptions", axis=3)
    y = net.conv(rng, joined, int(rng.integers(1, 9)), 1)
    return net.build(rng, [x], [y])


def _ram(cm) -> int:
    return cm.arena_size + cm.io_bytes


def _file_order(g):
    return list(range(len(g.operators)))


CASES = [(2, "CONCATENATION"), (3, "CONCATENATION"), (2, "ADD"), (3, "ADD")]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_searched_order_valid_never_worse_and_bit_exact(case: int) -> None:
    """Random branchy graphs in random file orders: the chosen order is valid, needs no more
    bytes than the file's (the plan proven by check_plan), and the least of all valid orders
    (enumerated here) when there are at most MAX_PLANS; the C is bit-exact with TFLM under
    ASan/UBSan and the run-time arena check."""
    branches, join = CASES[case]
    better = 0
    for n in range(4):
        seed = 7100 + 10 * case + n
        model = branchy_model(np.random.default_rng(seed), branches, join)
        g = read_tflite(model)
        with labelled_failure(f"seed {seed} {branches} branches {join}"):
            cm = generate_c(g)
            kept = generate_c(g, order=_file_order(g))
            assert is_valid(g, cm.order)
            at = {k: pos for pos, k in enumerate(cm.order)}
            for k, ds in enumerate(dependencies(g)):  # every op after its producers
                assert all(at[d] < at[k] for d in ds)
            assert [op.index for op in cm.graph.operators] == _file_order(g)
            assert [op.outputs for op in cm.graph.operators] == [
                g.operators[k].outputs for k in cm.order
            ]
            assert _ram(cm) <= _ram(kept)
            assert cm.order_choice.file_bytes == _ram(kept)
            assert cm.order_choice.bytes == _ram(cm)
            orders = list(_all_orders(dependencies(g)))
            if len(orders) <= MAX_PLANS:  # all planned: the least any order needs
                assert cm.order_choice.complete
                assert _ram(cm) == min(_ram(generate_c(g, order=o)) for o in orders)
            better += _ram(cm) < _ram(kept)
            if n < 2 or cm.order != _file_order(g):
                check_bit_exact(model, seed, sanitize=True)
    print(f"{better} of 4 cases need fewer bytes in the searched order")


def interleaved_model(seed: int = 7300) -> bytes:
    """Two branches of two convolutions each (wide then narrow) written interleaved, A1 B1 A2 B2,
    so that both wide maps are live at once; run branch by branch, never."""
    rng = np.random.default_rng(seed)
    net = _Net()
    x = net.tensor((1, 8, 8, 4), 0.05, 3)
    a = net.tensor((1, 8, 8, 4), 0.06, -5)
    net.b.op("QUANTIZE", [x], [a], version=2)
    join_q = (0.1, 7)
    a1 = net.conv(rng, a, 24, 1)
    b1 = net.conv(rng, a, 24, 3)
    a2 = net.conv(rng, a1, 2, 3, out_q=join_q)
    b2 = net.conv(rng, b1, 2, 1, out_q=join_q)
    joined = net.tensor((1, 8, 8, 4), *join_q)
    net.b.op("CONCATENATION", [a2, b2], [joined], "ConcatenationOptions", axis=3)
    y = net.conv(rng, joined, 3, 1)
    return net.build(None, [x], [y])


def test_interleaved_branches_never_hold_both_wide_maps(tmp_path) -> None:
    """The constructed case: in the searched order the two wide maps are never live together
    (a branch runs to its end first, or its pair of layers is fused so that its wide map is
    never stored) and the model needs strictly fewer bytes; `tinypipe
    export` says so and its model.c calls the layers in that order under their .tflite numbers;
    the memory report's rows follow the execution order, numbered as in the .tflite."""
    model = interleaved_model()
    path = tmp_path / "branches.tflite"
    path.write_bytes(model)
    g = read_tflite(model)
    cm = generate_c(g)
    kept = generate_c(g, order=_file_order(g))
    wide = 8 * 8 * 24
    assert max(kept.plan.live_bytes) >= 2 * wide  # the file's order: both wide maps at once
    assert max(cm.plan.live_bytes) < 2 * wide  # never both (or one never stored: fused)
    assert _ram(cm) < _ram(kept) - wide / 2
    assert cm.order_summary.startswith("Order: searched")
    assert f"{_ram(kept):,} -> {_ram(cm):,} B" in cm.order_summary
    assert "Order: the file's" in kept.order_summary
    res = CliRunner().invoke(main, ["export", str(path), "-o", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    assert cm.order_summary in res.output
    called = re.findall(r"/\* #(\d+) ", (tmp_path / "c" / "model.c").read_text())
    assert [int(k) for k in called] == cm.order
    rows = inplace_timeline(g, cm)
    assert [r["index"] for r in rows] == cm.order
    assert [r["op"] for r in rows] == [g.operators[k].opcode for k in cm.order]
    check_bit_exact(model, 7300, sanitize=True)


def _all_orders(deps: list[set[int]], done: tuple[int, ...] = ()):
    n = len(deps)
    if len(done) == n:
        yield list(done)
        return
    for k in range(n):
        if k not in done and deps[k] <= set(done):
            yield from _all_orders(deps, done + (k,))


def test_dynamic_program_finds_the_lowest_model_peak() -> None:
    """On small random branchy graphs the search over sets of run operators finds the lowest
    peak of the model among all valid orders (enumerated by brute force), with and without
    in-place layers; and a single-chain graph has just its file order."""
    for seed in range(7400, 7412):
        rng = np.random.default_rng(seed)
        g = read_tflite(branchy_model(rng, int(rng.integers(2, 4)), str(rng.choice(CASES)[1])))
        low = lower_all(g)
        orders = list(_all_orders(dependencies(g)))
        assert len(orders) > 1
        for inplace in (True, False):
            model = PeakModel(g, low, inplace)
            order, exact = best_order(g, model)
            assert exact and is_valid(g, order)
            assert model.peak(order) == min(model.peak(o) for o in orders), seed


@pytest.mark.qemu
def test_searched_order_on_m4() -> None:
    """The constructed case on mps2-an386 (reordered, its concatenation in place): bit-exact
    with TFLM, and the per-layer counts of the reordered firmware (indexed by the .tflite's
    operators) are positive and add up to the inference's count."""
    model = interleaved_model()
    g = read_tflite(model)
    cm = generate_c(g)
    assert cm.order != _file_order(g)
    assert "tp_concatenation_inplace_s8" in [low.func for low in cm.lowered]
    verdict, _ = validate_on_board(g, random_int8_inputs(g, 7301, 4), "mps2-an386")
    assert verdict.samples == 4 and verdict.bit_exact, verdict.summary()
    layers = verdict.extra["layer_counts"]
    calls = {cm.file_index(k) for k, low in enumerate(cm.lowered) if low.emits_code}
    assert {k for k, c in enumerate(layers) if c is not None} == calls
    assert all(layers[k] > 0 for k in calls), layers
    whole = verdict.extra["counts"][-1]
    spent = sum(layers[k] for k in calls)
    assert 0 <= whole - spent <= 2 * 40, (whole, layers)  # one SysTick tick: 40 instructions


def test_beam_above_the_state_cap_and_plan_budget(monkeypatch) -> None:
    """Above MAX_STATES sets per step the search keeps the best (a beam): still a valid order,
    marked inexact, never worse than the file's; the real planner runs at most `max_plans`
    times."""
    import tinypipe.compiler.order as order_mod

    model = branchy_model(np.random.default_rng(7132), 3, "ADD")
    g = read_tflite(model)
    low = lower_all(g)
    exact_order, exact = best_order(g, PeakModel(g, low, True))
    assert exact
    monkeypatch.setattr(order_mod, "MAX_STATES", 2)
    order, exact = best_order(g, PeakModel(g, low, True))
    assert not exact and is_valid(g, order)
    cm = generate_c(g)
    kept = generate_c(g, order=_file_order(g))
    assert is_valid(g, cm.order) and _ram(cm) <= _ram(kept)
    assert not cm.order_choice.exact
    calls = []

    def evaluate(order):
        calls.append(order)
        return 0, low, None

    assert search_order(g, low, evaluate, max_plans=3).planned == len(calls) <= 3


def concat_model(rng: np.random.Generator, axis: int, repeat: bool) -> bytes:
    """input -> QUANTIZE -> a; 2-4 VALID convolutions of a whose windows differ along `axis`
    (or whose widths differ, on channels), CONCATENATION of them on `axis` (the first one twice
    if `repeat`), then a 1x1 convolution to the output."""
    h, w, c = (int(v) for v in rng.integers((5, 5, 1), (12, 12, 6)))
    net = _Net()
    x = net.tensor((1, h, w, c), 0.05, int(rng.integers(-50, 50)))
    a = net.tensor((1, h, w, c), 0.06, int(rng.integers(-50, 50)))
    net.b.op("QUANTIZE", [x], [a], version=2)
    join_q = (float(rng.uniform(0.03, 0.2)), int(rng.integers(-60, 60)))
    out_c = int(rng.integers(1, 9))
    parts = []
    for _ in range(int(rng.integers(2, 5))):
        k = [1, 1]
        if axis in (1, 2):
            k[axis - 1] = int(rng.integers(1, 5))
        width = int(rng.integers(1, 17)) if axis == 3 else out_c
        parts.append(net.conv(rng, a, width, tuple(k), out_q=join_q, padding="VALID"))
    if repeat:
        parts.append(parts[0])
    shape = list(net.shape[parts[0]])
    shape[axis] = sum(net.shape[t][axis] for t in parts)
    joined = net.tensor(shape, *join_q)
    net.b.op("CONCATENATION", parts, [joined], "ConcatenationOptions", axis=axis)
    y = net.conv(rng, joined, int(rng.integers(1, 5)), 1)
    return net.build(rng, [x], [y])


@pytest.mark.parametrize("axis", [1, 2, 3])
def test_concatenation_in_place_bit_exact(axis: int) -> None:
    """CONCATENATION written over its largest input (the input that dies with it, each row of
    the output past the input rows still to read) that no other operand repeats, bit-exact with TFLM under ASan/UBSan and the run-time arena check, which sees every byte
    it reads and writes."""
    for n, repeat in enumerate((False, True)):
        seed = 7500 + 10 * axis + n
        model = concat_model(np.random.default_rng(seed), axis, repeat)
        g = read_tflite(model)
        with labelled_failure(f"seed {seed} axis {axis} repeat {repeat}"):
            cm = generate_c(g)
            (low,) = [low for low in cm.lowered if "concatenation" in low.func]
            (op,) = [op for op in cm.graph.operators if op.opcode == "CONCATENATION"]
            once = [t for t in op.inputs if op.inputs.count(t) == 1]  # the repeated one: never
            assert low.func == "tp_concatenation_inplace_s8"
            assert low.inplace_of == op.inputs[low.params["in_place"]]
            assert low.inplace_of in once
            assert g.tensors[low.inplace_of].nbytes == max(g.tensors[t].nbytes for t in once)
            check_bit_exact(model, seed, sanitize=True)
