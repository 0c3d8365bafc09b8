"""Static memory plan: tensor lifetimes from the execution order -> offsets in one arena.

Shape-only ops alias their input. The model's input and output live in the caller's buffers,
so the arena only holds intermediate tensors and per-op scratch.

An in-place kernel (see inplace.py) writes its output where its input was: the two tensors form a
chain placed at one offset, whose size changes over time (each member needs its own bytes only
while it is live). Placement searches: first fit against every placed buffer met in time, under
several buffer orders, keeping the smallest arena and stopping at the lower bound (the bytes live
at the busiest step); `check_plan` proves afterwards that no two live buffers share a byte.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tinypipe.errors import UnsupportedModelError

from .graph import Graph
from .ops.base import Lowered, T

ALIGN = 4  # enough for int32/float tensors; int8 kernels need no more
MAX_ARENA_BYTES = (1 << 31) - 1


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class Part:
    key: str  # "t<root tensor>" or "scratch<op>"
    size: int
    first: int  # first op index that writes it
    last: int  # last op index that reads it


@dataclass
class Buffer:
    """One or more parts at the same offset: a tensor, a chain of in-place tensors, or scratch."""

    key: str
    size: int  # the largest part
    first: int
    last: int
    offset: int = 0
    parts: list[Part] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.parts:
            self.parts = [Part(self.key, self.size, self.first, self.last)]

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last

    def size_at(self, k: int) -> int:
        return max((p.size for p in self.parts if p.first <= k <= p.last), default=0)

    def size_during(self, first: int, last: int) -> int:
        """Bytes from the offset this buffer needs at some step in [first, last]."""
        return max((p.size for p in self.parts if p.first <= last and first <= p.last), default=0)


@dataclass
class MemoryPlan:
    arena_size: int
    buffers: list[Buffer]
    storage: dict[int, tuple[str, int]]  # tensor -> (kind, value): ("arena", offset) |
    # ("input", k) | ("output", k) (k-th model input/output) | ("const", root tensor index) |
    # ("state", root tensor index): a variable tensor, kept in static memory across calls
    scratch: dict[int, int] = field(default_factory=dict)  # op index -> arena offset
    live_bytes: list[int] = field(default_factory=list)  # arena bytes live during each op

    def describe(self) -> str:
        """The arena against its lower bound (the bytes live at the busiest layer)."""
        peak = max(self.live_bytes, default=0)
        if self.arena_size <= peak:
            return f"{self.arena_size} bytes (the least possible in this layer order)"
        return f"{self.arena_size} bytes ({self.arena_size - peak} above the {peak} live at once)"


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, child: int, into: int) -> None:
        self.parent[self.find(child)] = self.find(into)


def alias_roots(graph: Graph, lowered: list[Lowered]) -> dict[int, int]:
    """tensor -> the tensor whose storage it shares through shape-only ops."""
    uf = _UnionFind(len(graph.tensors))
    for op, low in zip(graph.operators, lowered):
        if low.alias:
            uf.union(op.outputs[0], op.inputs[0])
    return {i: uf.find(i) for i in range(len(graph.tensors))}


def lifetimes(
    graph: Graph, lowered: list[Lowered], roots: dict[int, int]
) -> tuple[dict[int, int], dict[int, int]]:
    """(first, last) op index touching each alias root."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    # Results of folded shape arithmetic and of fused layers are never stored.
    unstored = {
        t for op, low in zip(graph.operators, lowered) if low.stores_nothing for t in op.outputs
    }
    for k, (op, low) in enumerate(zip(graph.operators, lowered)):
        if low.stores_nothing:
            continue
        # an in-place call reads the tensor it writes over (a fused one need not list it); a
        # patch-by-patch call reads its chain's input, an input of its first layer
        reads = [*op.inputs, *([] if low.inplace_of is None else [low.inplace_of])]
        reads += [a.index for a in low.args if isinstance(a, T)]
        for t in reads:
            if t >= 0 and t not in unstored:
                last[roots[t]] = k
                first.setdefault(roots[t], k)
        for t in op.outputs:
            first.setdefault(roots[t], k)
            last[roots[t]] = max(last.get(roots[t], k), k)
    return first, last


def plan_memory(graph: Graph, lowered: list[Lowered], input_in_arena: bool = False) -> MemoryPlan:
    """`input_in_arena`: the model's (single) input gets a place in the arena too (the caller
    writes it there, see model.h's *_input_buffer), so its bytes are reused once it is dead."""
    roots = alias_roots(graph, lowered)
    groups: dict[int, list[int]] = {}
    for t, r in roots.items():
        groups.setdefault(r, []).append(t)
    first, last = lifetimes(graph, lowered, roots)
    if input_in_arena:  # written by the caller before the first op
        for t in graph.inputs:
            first[roots[t]] = 0

    storage: dict[int, tuple[str, int]] = {}
    parts: dict[int, Part] = {}
    for root, members in groups.items():
        # An ordered list, not a set: the plan must not depend on hash order.
        kinds = [
            kind
            for kind, hit in (
                ("input", any(m in graph.inputs for m in members) and not input_in_arena),
                ("output", any(m in graph.outputs for m in members)),
                ("const", graph.tensors[root].is_const),
                ("state", graph.tensors[root].is_variable),
            )
            if hit
        ]
        if "output" in kinds and any(m in graph.inputs for m in members):
            raise UnsupportedModelError(
                "The model's output is its input reshaped, with no computation in between.",
                "There is nothing to compile; check that the right model file was given.",
            )
        if "state" in kinds and len(kinds) > 1:
            raise UnsupportedModelError(
                f"The variable tensor '{graph.tensors[root].name}' is also a model input, output "
                "or constant.",
                "Re-convert the model so that its state tensors are internal to the model.",
            )
        if "const" in kinds and len(kinds) > 1:  # constants are never written at run time
            raise UnsupportedModelError(
                "The model's output is a constant reshaped, with no computation in between.",
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
            kind = kinds[0]
            value = root
            if kind in ("input", "output"):  # position among the model's inputs / outputs
                io = graph.inputs if kind == "input" else graph.outputs
                value = next(io.index(m) for m in members if m in io)
            for m in members:
                storage[m] = (kind, value)
            continue
        if root not in first:  # a tensor no op touches
            continue
        size = max(graph.tensors[m].nbytes for m in members)
        parts[root] = Part(f"t{root}", _align(size), first[root], last[root])

    # In-place ops join their output's part to their input's chain.
    chain = _UnionFind(len(graph.tensors))
    for op, low in zip(graph.operators, lowered):
        if low.inplace_of is not None:
            a, b = roots[op.outputs[0]], roots[low.inplace_of]
            if a not in parts or b not in parts:
                raise AssertionError(f"op {op.index}: in-place between non-arena tensors")
            chain.union(a, b)
    chains: dict[int, list[Part]] = {}
    for root, part in parts.items():
        chains.setdefault(chain.find(root), []).append(part)
    buffers = [_buffer(ps) for _, ps in sorted(chains.items())]
    for k, low in enumerate(lowered):
        if low.scratch_bytes and low.emits_code:
            buffers.append(Buffer(f"scratch{k}", _align(low.scratch_bytes), k, k))

    _place(buffers)

    by_part = {p.key: b for b in buffers for p in b.parts}
    for root, members in groups.items():
        b = by_part.get(f"t{root}")
        if b is not None:
            for m in members:
                storage[m] = ("arena", b.offset)
    scratch = {
        k: by_part[f"scratch{k}"].offset
        for k, low in enumerate(lowered)
        if low.scratch_bytes and low.emits_code
    }
    live = [sum(b.size_at(k) for b in buffers) for k in range(len(lowered))]
    arena = max((b.offset + b.size for b in buffers), default=0)
    if arena > MAX_ARENA_BYTES:  # offsets into the arena are C int32 expressions
        raise UnsupportedModelError(
            f"The model needs a {arena:,}-byte activation arena; tinypipe caps it at "
            f"{MAX_ARENA_BYTES:,} bytes so every offset fits a C int32.",
            "Use a smaller input resolution or fewer channels.",
        )
    plan = MemoryPlan(arena, buffers, storage, scratch, live)
    check_plan(plan)
    return plan


def _buffer(parts: list[Part]) -> Buffer:
    parts = sorted(parts, key=lambda p: (p.first, p.key))
    return Buffer(
        parts[0].key,
        max(p.size for p in parts),
        min(p.first for p in parts),
        max(p.last for p in parts),
        parts=parts,
    )


# Orders tried for first fit: biggest first, then longest-lived, earliest, largest
# size x lifetime; then seeded shuffles. Each is a valid plan; the smallest arena wins.
_ORDERS = (
    lambda b: (-b.size, b.first, b.key),
    lambda b: (b.first - b.last, -b.size, b.key),
    lambda b: (b.first, -b.size, b.key),
    lambda b: (-b.size * (b.last - b.first + 1), b.key),
)
SHUFFLES = 24


def lower_bound(buffers: list[Buffer]) -> int:
    """The bytes live at the busiest step: no placement of these buffers needs less."""
    steps = range(
        min((b.first for b in buffers), default=0), max((b.last for b in buffers), default=-1) + 1
    )
    return max((sum(b.size_at(k) for b in buffers) for k in steps), default=0)


def _place(buffers: list[Buffer]) -> None:
    """Offsets for every buffer: first fit under several orders, keeping the smallest arena.
    The search stops as soon as a plan reaches the lower bound, which is then optimal."""
    bound = lower_bound(buffers)
    rng = random.Random(0)  # deterministic: the same model always gets the same plan
    orders = [sorted(buffers, key=key) for key in _ORDERS]
    best: tuple[int, list[int]] | None = None
    for attempt in range(len(orders) + SHUFFLES):
        if attempt < len(orders):
            order = orders[attempt]
        else:
            order = sorted(buffers, key=lambda b: b.key)
            rng.shuffle(order)
        arena = _first_fit(order)
        if best is None or arena < best[0]:
            best = (arena, [b.offset for b in buffers])
        if arena <= bound:
            break
    if best is not None:
        for b, offset in zip(buffers, best[1]):
            b.offset = offset


def _first_fit(order: list[Buffer]) -> int:
    """Each buffer, in `order`, at the lowest offset free over its lifetime; returns the arena."""
    placed: list[Buffer] = []
    for buf in order:
        # (start, end) of the bytes each placed buffer holds while this one needs them.
        taken = []
        for o in placed:
            need = buf.size_during(o.first, o.last)
            held = o.size_during(buf.first, buf.last)
            if need and held:
                taken.append((o.offset, o.offset + held, need))
        offset = 0
        while True:  # the lowest offset: jump past the nearest blocker until none is left
            ends = [end for start, end, need in taken if offset < end and start < offset + need]
            if not ends:
                break
            offset = min(ends)
        buf.offset = offset
        placed.append(buf)
    return max((b.offset + b.size for b in order), default=0)


def check_plan(plan: MemoryPlan) -> None:
    """The proof of the plan: at every step, the live bytes of distinct buffers are disjoint and
    inside the arena. Raises AssertionError (a planner bug) otherwise."""
    steps = len(plan.live_bytes)
    for k in range(steps):
        spans = sorted(
            (b.offset, b.offset + b.size_at(k), b.key) for b in plan.buffers if b.size_at(k)
        )
        for (s0, e0, k0), (s1, e1, k1) in zip(spans, spans[1:]):
            if s1 < e0:
                raise AssertionError(f"op {k}: {k0} [{s0}, {e0}) overlaps {k1} [{s1}, {e1})")
        if spans and max(e for _, e, _ in spans) > plan.arena_size:
            raise AssertionError(f"op {k}: a buffer ends past the arena ({plan.arena_size} B)")
        if any(s % ALIGN for s, _, _ in spans):
            raise AssertionError(f"op {k}: a buffer is not {ALIGN}-byte aligned")
