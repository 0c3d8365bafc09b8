"""Per-layer counts from the device: the model calls tp_profile(i) after each kernel (built with
-DTP_PROFILE), the link answers "P" with the cumulative tick at the end of every operator of the
last inference, and Runner.profile() turns that into per-operator counts."""

from __future__ import annotations

import numpy as np
import pytest

from tinypipe.check.validate import validate_on_board
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.device.boards import get_board
from tinypipe.device.firmware import build, create_project
from tinypipe.device.runners import LinkError, frame, open_runner, unframe


@pytest.fixture(scope="module")
def graph(digits_tflite):
    return read_tflite(digits_tflite)


@pytest.fixture(scope="module")
def no_call(graph) -> list[int]:
    """Operators with no kernel call of their own: RESHAPE, and the layers computed inside
    another call (row by row or patch by patch); the profile has no count for them."""
    skipped = [k for k, low in enumerate(generate_c(graph).lowered) if not low.emits_code]
    assert [op.opcode for op in graph.operators].index("RESHAPE") in skipped
    return skipped


@pytest.fixture(scope="module")
def mps2_verdict(graph):
    x = np.random.default_rng(11).integers(-128, 128, (3, *graph.input_tensors[0].shape))
    verdict, _ = validate_on_board(graph, x.astype(np.int8), "mps2-an386", name="digits")
    return verdict


def test_layer_counts_on_mps2(graph, mps2_verdict, no_call) -> None:
    v = mps2_verdict
    assert v.bit_exact
    ops = [op.opcode for op in graph.operators]
    layers = v.extra["layer_counts"]
    assert v.extra["count_unit"] == "instructions"
    assert len(layers) == len(ops)
    assert [k for k, c in enumerate(layers) if c is None] == no_call
    assert all(c > 0 for c in layers if c is not None)
    # One SysTick tick is 40 instructions on mps2: every count is whole ticks, and the layers
    # add up to the last inference's count, less the tail after the last kernel (under a tick
    # or two: the return from the model and the final counter read).
    tick = round(1e9 / get_board("mps2-an386").qemu_systick_hz)
    assert all(c % tick == 0 for c in layers if c is not None)
    whole = v.extra["counts"][-1]
    assert 0 <= whole - sum(c for c in layers if c is not None) <= 2 * tick, (whole, layers)
    # the calls computing convolutions (their own, or fused into another call) cost the most
    lowered = generate_c(graph).lowered
    conv_calls = {
        k if low.fused_into is None else low.fused_into
        for k, (low, op) in enumerate(zip(lowered, ops))
        if op == "CONV_2D"
    }
    (softmax,) = [c for c, op in zip(layers, ops) if op == "SOFTMAX"]
    assert min(layers[k] for k in conv_calls) > softmax, list(zip(ops, layers))


def _answer(runner, line: bytes) -> str:
    """Send a raw line, return the next framed answer that is not a (late) hello."""
    runner.transport.write(line)
    while True:
        body = unframe(runner.transport.readline(5))
        if not body.startswith("H "):
            return body


def test_profile_protocol_on_host(graph, digits_tflite, tmp_path, no_call) -> None:
    """The "P" line itself (host build: ns), and Runner.profile() around it."""
    project = tmp_path / "fw"
    create_project(digits_tflite, ["host"], project, name="digits")
    build(project, ["host"])
    n = len(graph.operators)
    with open_runner(project, "host") as r:
        with pytest.raises(LinkError, match="No inference"):
            r.profile()
        # before any inference: nothing recorded
        assert _answer(r, b"P\n") == f"P 0 {n}" + " -" * n
        x = bytes(r.info.in_bytes)
        r.infer(x)
        _, count = r.infer(x)
        parts = _answer(r, b"P\n").split()
        assert parts[:3] == ["P", "2", str(n)]
        assert [k for k, t in enumerate(parts[3:]) if t == "-"] == no_call
        ticks = [int(t) for k, t in enumerate(parts[3:]) if k not in no_call]
        assert ticks == sorted(ticks) and ticks[-1] <= count
        layers = r.profile()
        assert r.count_unit == "ns" and len(layers) == n
        assert [k for k, c in enumerate(layers) if c is None] == no_call
        assert sum(c for c in layers if c is not None) == ticks[-1]
        # a rejected request leaves the profile alone
        assert _answer(r, frame("I 1 zz")) == "E hex 0 0"
        assert r.profile() == layers
