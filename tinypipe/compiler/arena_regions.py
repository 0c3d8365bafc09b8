"""What the memory plan allows each layer to do in the arena, for the run-time plan check.

Per layer, a list of arena byte ranges with flags:

- ACCESS: the layer may read or write them (its arena inputs, outputs and scratch);
- WRITE: the layer may change them (its outputs, its scratch, the input it computes over);
- KEEP: bytes of a tensor written before the layer and read after it (or by it) that the layer
  must leave as they are.

A host build with -DTP_ARENA_CHECK hands the list to tp_arena_enter()/tp_arena_leave() around
each kernel call (firmware/link/tp_arena_check.c). The harness fills every other byte with a
canary, poisons everything but ACCESS for AddressSanitizer, and afterwards proves that no byte
outside WRITE and no KEEP byte changed. So a layer that touches memory the plan says is free,
or a plan that lets a live tensor be overwritten, fails at run time, not only in check_plan.
"""

from __future__ import annotations

from .graph import Graph
from .ops.base import Lowered, T
from .planner import MemoryPlan, alias_roots, lifetimes

ACCESS, WRITE, KEEP = 1, 2, 4

Region = tuple[int, int, int]  # (offset, bytes, flags)


def arena_regions(
    graph: Graph, lowered: list[Lowered], plan: MemoryPlan
) -> dict[int, list[Region]]:
    """op index -> its regions (only for layers that emit a kernel call)."""
    roots = alias_roots(graph, lowered)
    _, last = lifetimes(graph, lowered, roots)

    def place(t: int) -> tuple[int, int] | None:
        where = plan.storage.get(t)
        if t < 0 or where is None or where[0] != "arena":
            return None
        return where[1], graph.tensors[t].nbytes

    # When each arena root gets its value: the model's input before the first layer.
    written: dict[int, int] = {roots[t]: -1 for t in graph.inputs}
    for k, (op, low) in enumerate(zip(graph.operators, lowered)):
        if low.emits_code:
            for t in op.outputs:
                written.setdefault(roots[t], k)
    extent = {}  # root -> (offset, largest member's bytes)
    for t in range(len(graph.tensors)):
        p = place(t)
        if p is not None:
            r = roots[t]
            extent[r] = (p[0], max(p[1], extent.get(r, (0, 0))[1]))

    table: dict[int, list[Region]] = {}
    for k, (op, low) in enumerate(zip(graph.operators, lowered)):
        if not low.emits_code:
            continue
        reads = set(op.inputs) | {a.index for a in low.args if isinstance(a, T)}
        writes = set(op.outputs) | ({low.inplace_of} if low.inplace_of is not None else set())
        regions: dict[tuple[int, int], int] = {}
        for t in sorted(reads | writes):
            p = place(t)
            if p is not None and p[1]:
                regions[p] = regions.get(p, 0) | ACCESS | (WRITE if t in writes else 0)
        if low.scratch_bytes:
            s = (plan.scratch[k], low.scratch_bytes)
            regions[s] = regions.get(s, 0) | ACCESS | WRITE
        changed = {roots[t] for t in writes}
        for r, (off, size) in sorted(extent.items()):
            if size and r not in changed and written.get(r, k) < k <= last.get(r, -1):
                regions[(off, size)] = regions.get((off, size), 0) | KEEP
        table[k] = [(off, size, flags) for (off, size), flags in sorted(regions.items())]
    return table


def regions_c_array(regions: list[Region]) -> list[int]:
    """The flat int32 table the C hook reads: count, then (offset, bytes, flags) per region."""
    return [len(regions), *(v for r in regions for v in r)]
