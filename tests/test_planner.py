"""Memory planner: no two live tensors share bytes, aliases share, and chains hit the lower bound."""

from __future__ import annotations

import numpy as np

from tinypipe.check.validate import validate_host
from tinypipe.compiler.codegen import lower_all
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.planner import (
    Buffer,
    MemoryPlan,
    Part,
    _first_fit,
    _place,
    check_plan,
    lower_bound,
    plan_memory,
)
from tinypipe.compiler.tflite_writer import ModelBuilder


def _fc(b: ModelBuilder, rng, x: int, n_in: int, n_out: int, act: str = "NONE") -> int:
    w = b.tensor(
        (n_out, n_in),
        scale=rng.uniform(0.002, 0.02, n_out),
        zero_point=np.zeros(n_out, int),
        data=rng.integers(-127, 128, (n_out, n_in)),
        axis=0,
    )
    y = b.tensor((1, n_out), scale=0.05, zero_point=int(rng.integers(-20, 20)))
    b.op(
        "FULLY_CONNECTED",
        [x, w, -1],
        [y],
        "FullyConnectedOptions",
        version=4,
        fused_activation_function=act,
    )
    return y


def _chain_model() -> bytes:
    rng = np.random.default_rng(1)
    b = ModelBuilder()
    x = b.tensor((1, 20), scale=0.1, zero_point=3)
    a = _fc(b, rng, x, 20, 64, "RELU")
    c = _fc(b, rng, a, 64, 32)
    shape = b.tensor((4,), dtype="int32", data=np.array([1, 2, 4, 4], dtype=np.int32))
    r = b.tensor((1, 2, 4, 4), scale=0.05, zero_point=b.tensors[c].quantization.zeroPoint[0])
    b.op("RESHAPE", [c, shape], [r], "ReshapeOptions", new_shape=[1, 2, 4, 4])
    r2 = b.tensor((1, 32), scale=0.05, zero_point=b.tensors[c].quantization.zeroPoint[0])
    b.op("RESHAPE", [r, shape], [r2], "ReshapeOptions", new_shape=[1, 32])
    d = _fc(b, rng, r2, 32, 16, "RELU6")
    y = _fc(b, rng, d, 16, 10)
    return b.build([x], [y])


def test_chain_plan_is_tight_and_correct():
    model = _chain_model()
    g = read_tflite(model)
    lowered = lower_all(g)
    plan = plan_memory(g, lowered)
    # reshapes alias their input: same offset, no extra bytes
    a_t, c_t, r_t, r2_t = (g.operators[k].outputs[0] for k in (0, 1, 2, 3))
    assert plan.storage[c_t] == plan.storage[r_t] == plan.storage[r2_t]
    # intermediates a(64) c(32) d(16); peak live pair is a+c = 96 bytes, the lower bound
    assert plan.arena_size == max(plan.live_bytes) == 96
    assert plan.describe() == "96 bytes (the least possible in this layer order)"
    # the model's input and output stay in the caller's buffers
    assert plan.storage[g.inputs[0]][0] == "input" and plan.storage[g.outputs[0]][0] == "output"
    verdict, _ = validate_host(
        model, np.random.default_rng(0).integers(-128, 128, (16, 1, 20), dtype=np.int8)
    )
    assert verdict.bit_exact, verdict.summary()


def test_no_live_buffers_overlap(digits_tflite):
    g = read_tflite(digits_tflite)
    plan = plan_memory(g, lower_all(g))
    bufs = plan.buffers
    for i, p in enumerate(bufs):
        assert p.offset % 4 == 0 and p.offset + p.size <= plan.arena_size
        for q in bufs[i + 1 :]:
            if p.overlaps_in_time(q):
                assert p.offset + p.size <= q.offset or q.offset + q.size <= p.offset, (p, q)
    assert plan.arena_size >= max(plan.live_bytes)


def _random_buffers(rng, n: int) -> list[Buffer]:
    """Tensors and in-place chains (a part per tensor, sizes changing over time) and scratch."""
    buffers = []
    for k in range(n):
        first = int(rng.integers(0, 12))
        parts = []
        for j in range(int(rng.integers(1, 4))):
            last = first + int(rng.integers(0, 4))
            parts.append(Part(f"b{k}p{j}", 4 * int(rng.integers(1, 65)), first, last))
            first = last  # the next tensor of a chain is written where this one was read
        buffers.append(
            Buffer(f"b{k}", max(p.size for p in parts), parts[0].first, parts[-1].last, parts=parts)
        )
    return buffers


def test_offset_search_never_loses_to_first_fit_and_stops_at_the_bound():
    """The placement search keeps the smallest of several first-fit plans: never above the
    biggest-first plan alone, below it on some random sets, never below the live-bytes bound,
    and every plan is valid (no two live buffers share a byte)."""
    rng = np.random.default_rng(7)
    better = at_bound = 0
    for _ in range(150):
        buffers = _random_buffers(rng, int(rng.integers(3, 14)))
        greedy = _first_fit(sorted(buffers, key=lambda b: (-b.size, b.first, b.key)))
        _place(buffers)
        arena = max(b.offset + b.size for b in buffers)
        steps = max(b.last for b in buffers) + 1
        live = [sum(b.size_at(k) for b in buffers) for k in range(steps)]
        check_plan(MemoryPlan(arena, buffers, {}, {}, live))
        assert lower_bound(buffers) == max(live) <= arena <= greedy
        better += arena < greedy
        at_bound += arena == max(live)
    assert better > 0 and at_bound > 75  # seed 7: 79 improved, 99 of 150 provably optimal
