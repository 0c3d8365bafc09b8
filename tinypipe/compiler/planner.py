"""Static memory plan: tensor lifetimes from the execution order -> offsets in one arena.

Shape-only ops alias their input. The model's input and output live in the caller's buffers,
so the arena only holds intermediate tensors and per-op scratch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tinypipe.errors import UnsupportedModelError

from .graph import Graph
from .ops.base import Lowered

ALIGN = 4  # enough for int32/float tensors; int8 kernels need no more


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class Buffer:
    key: str  # "t<root tensor>" or "scratch<op>"
    size: int
    first: int  # first op index that writes it
    last: int  # last op index that reads it
    offset: int = 0

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class MemoryPlan:
    arena_size: int
    buffers: list[Buffer]
    storage: dict[int, tuple[str, int]]  # tensor -> (kind, value): ("arena", offset) |
    # ("input", k) | ("output", k) (k-th model input/output) | ("const", root tensor index)
    scratch: dict[int, int] = field(default_factory=dict)  # op index -> arena offset
    live_bytes: list[int] = field(default_factory=list)  # arena bytes live during each op


def _alias_roots(graph: Graph, lowered: list[Lowered]) -> dict[int, int]:
    parent = list(range(len(graph.tensors)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for op, low in zip(graph.operators, lowered):
        if low.alias:
            parent[find(op.outputs[0])] = find(op.inputs[0])
    return {i: find(i) for i in range(len(graph.tensors))}


def plan_memory(graph: Graph, lowered: list[Lowered]) -> MemoryPlan:
    roots = _alias_roots(graph, lowered)
    groups: dict[int, list[int]] = {}
    for t, r in roots.items():
        groups.setdefault(r, []).append(t)

    storage: dict[int, tuple[str, int]] = {}
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    # Results of folded shape arithmetic are never stored: no op reads their bytes.
    unstored = {t for op, low in zip(graph.operators, lowered) if low.folded for t in op.outputs}
    for k, (op, low) in enumerate(zip(graph.operators, lowered)):
        if low.folded:
            continue
        for t in op.inputs:
            if t >= 0 and t not in unstored:
                last[roots[t]] = k
                first.setdefault(roots[t], k)
        for t in op.outputs:
            first.setdefault(roots[t], k)
            last[roots[t]] = max(last.get(roots[t], k), k)

    buffers: list[Buffer] = []
    for root, members in groups.items():
        kinds = set()
        if any(m in graph.inputs for m in members):
            kinds.add("input")
        if any(m in graph.outputs for m in members):
            kinds.add("output")
        if graph.tensors[root].is_const:
            kinds.add("const")
        if {"input", "output"} <= kinds:
            raise UnsupportedModelError(
                "The model's output is its input reshaped, with no computation in between.",
                "There is nothing to compile; check that the right model file was given.",
            )
        outs = sorted({graph.outputs.index(m) for m in members if m in graph.outputs})
        if len(outs) > 1:
            raise UnsupportedModelError(
                f"The model's outputs {', '.join(str(k) for k in outs)} are the same data "
                "(one is a reshape of the other), so they cannot live in separate buffers.",
                "Keep one of them as the model output and reshape on the caller's side.",
            )
        if kinds:
            kind = kinds.pop()
            value = root
            if kind != "const":  # position among the model's inputs / outputs
                io = graph.inputs if kind == "input" else graph.outputs
                value = next(io.index(m) for m in members if m in io)
            for m in members:
                storage[m] = (kind, value)
            continue
        if root not in first:  # a tensor no op touches
            continue
        size = max(graph.tensors[m].nbytes for m in members)
        buffers.append(Buffer(f"t{root}", _align(size), first[root], last[root]))
    for k, low in enumerate(lowered):
        if low.scratch_bytes:
            buffers.append(Buffer(f"scratch{k}", _align(low.scratch_bytes), k, k))

    placed: list[Buffer] = []
    # Greedy by size: big buffers first, each at the lowest offset free over its lifetime.
    for buf in sorted(buffers, key=lambda b: (-b.size, b.first, b.key)):
        offset = 0
        for other in sorted((o for o in placed if o.overlaps_in_time(buf)), key=lambda o: o.offset):
            if offset + buf.size <= other.offset:
                break
            offset = max(offset, other.offset + other.size)
        buf.offset = offset
        placed.append(buf)

    by_key = {b.key: b for b in buffers}
    for root, members in groups.items():
        b = by_key.get(f"t{root}")
        if b is not None:
            for m in members:
                storage[m] = ("arena", b.offset)
    scratch = {
        k: by_key[f"scratch{k}"].offset for k, low in enumerate(lowered) if low.scratch_bytes
    }
    live = [sum(b.size for b in buffers if b.first <= k <= b.last) for k in range(len(lowered))]
    arena = max((b.offset + b.size for b in buffers), default=0)
    return MemoryPlan(arena, buffers, storage, scratch, live)
