"""Operator order: which branch of a graph runs first decides which maps are live together.

A .tflite lists its operators in one valid order; for a graph with branches (a residual block's
shortcut, an inception block's parallel convolutions) other orders are valid too, and the one
that finishes a small branch before a big map is made can need far fewer bytes at once. This is
the memory-aware scheduling problem: a dynamic program over the sets of operators already run
(each set's live bytes depend only on the set, not on the order that reached it), keeping per
set the order with the lowest peak so far. It is exact while every step has at most `MAX_STATES`
sets; above that each step keeps the `MAX_STATES` best (a beam search).

The peak it minimizes is a model of the plan (live tensors, scratch, and an output overlapping a
dying input of a kernel that can run in place); the candidates it finds are then planned for real
(`search_order`'s `evaluate`: fusion, in-place layers, patches and placement) and the file's order
is kept unless one needs fewer bytes. The order changes when values are computed, never how,
so the result stays bit for bit TFLM's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from .graph import Graph
from .inplace import CONCAT, ELEMENTWISE, ROWWISE
from .ops.base import Lowered
from .planner import _align, alias_roots

MAX_STATES = 4000  # sets of run operators kept per step: exact below, a beam above

R = TypeVar("R")


def dependencies(graph: Graph) -> list[set[int]]:
    """Per operator, the operators that must run before it: the producers of its inputs, and the
    operator before it among those touching the same variable (state) tensor."""
    producer: dict[int, int] = {}
    for k, op in enumerate(graph.operators):
        for t in op.outputs:
            producer.setdefault(t, k)
    deps: list[set[int]] = [set() for _ in graph.operators]
    last_state: dict[int, int] = {}
    for k, op in enumerate(graph.operators):
        for t in op.inputs + op.outputs:
            if t < 0:
                continue
            if t in producer and producer[t] != k and t in op.inputs:
                deps[k].add(producer[t])
            if graph.tensors[t].is_variable:
                if t in last_state and last_state[t] != k:
                    deps[k].add(last_state[t])
                last_state[t] = k
    return deps


def is_valid(graph: Graph, order: Sequence[int]) -> bool:
    """`order` runs every operator exactly once, each after the operators it depends on."""
    if sorted(order) != list(range(len(graph.operators))):
        return False
    at = {k: pos for pos, k in enumerate(order)}
    return all(at[d] < at[k] for k, ds in enumerate(dependencies(graph)) for d in ds)


def reorder(graph: Graph, order: Sequence[int]) -> Graph:
    """The graph with its operators in `order`, renumbered 0.. in that order (every later stage
    refers to operators by position). Tensors, inputs, outputs and the model bytes are shared."""
    if not is_valid(graph, order):
        raise ValueError(f"{list(order)} is not a valid order of the model's operators")
    ops = [replace(graph.operators[k], index=pos) for pos, k in enumerate(order)]
    return replace(graph, operators=ops)


class PeakModel:
    """Arena bytes while each operator runs, for any set of operators run before it.

    Shape-only operators share their input's bytes (one buffer per alias root); the model's
    input counts as arena bytes (the plan may keep it there); outputs, constants and state live
    elsewhere. With `inplace`, an operator whose kernel can run in place (inplace.py) writes over
    the largest input dying at it, so the two overlap."""

    def __init__(self, graph: Graph, lowered: list[Lowered], inplace: bool) -> None:
        roots = alias_roots(graph, lowered)
        out_roots = {roots[t] for t in graph.outputs}
        unstored = {
            t for op, low in zip(graph.operators, lowered) if low.stores_nothing for t in op.outputs
        }

        def arena(t: int) -> bool:
            tt = graph.tensors[t]
            return not (tt.is_const or tt.is_variable or roots[t] in out_roots or t in unstored)

        self.size: dict[int, int] = {}
        for t, r in roots.items():
            if arena(t):
                self.size[r] = max(self.size.get(r, 0), _align(graph.tensors[t].nbytes))
        n = len(graph.operators)
        self.readers: dict[int, set[int]] = {r: set() for r in self.size}
        self.made: list[set[int]] = [set() for _ in range(n)]  # roots each op makes
        self.reads: list[set[int]] = [set() for _ in range(n)]
        made_any = set()
        for k, (op, low) in enumerate(zip(graph.operators, lowered)):
            if low.stores_nothing:
                continue
            for t in op.inputs:
                if t >= 0 and roots[t] in self.size and t not in unstored:
                    self.readers[roots[t]].add(k)
                    self.reads[k].add(roots[t])
            for t in op.outputs:
                r = roots[t]
                if r in self.size and r not in made_any:
                    made_any.add(r)
                    self.made[k].add(r)
        self.initial = sum(self.size[r] for r in self.size if r not in made_any and self.readers[r])
        self.scratch = [low.scratch_bytes if low.emits_code else 0 for low in lowered]
        self.in_place = [
            inplace and low.emits_code and (low.func in ELEMENTWISE | set(ROWWISE) | {CONCAT})
            for low in lowered
        ]
        self.int8 = {r for r in self.size if graph.tensors[r].dtype == "int8"}

    def step(self, done: frozenset[int], live: int, k: int) -> tuple[int, int]:
        """(bytes while operator k runs after the set `done`, bytes live after it)."""
        made = sum(self.size[r] for r in self.made[k])
        after = done | {k}
        dying = [r for r in self.reads[k] if self.readers[r] <= after]
        freed = sum(self.size[r] for r in dying)
        freed += sum(self.size[r] for r in self.made[k] if self.readers[r] <= after)
        overlap = 0
        if self.in_place[k] and len(self.made[k]) == 1:
            (o,) = self.made[k]
            if o in self.int8:
                fits = [min(self.size[r], self.size[o]) for r in dying if r in self.int8]
                overlap = max(fits, default=0)
        return live + made + self.scratch[k] - overlap, live + made - freed

    def peak(self, order: Sequence[int]) -> int:
        done: frozenset[int] = frozenset()
        live, peak = self.initial, self.initial
        for k in order:
            during, live = self.step(done, live, k)
            peak, done = max(peak, during), done | {k}
        return peak


def best_order(graph: Graph, model: PeakModel) -> tuple[list[int], bool]:
    """The valid order with the lowest `model` peak (ties: the smallest sum of bytes over the
    steps, then the earliest in file order), and whether the search was exact (no step kept fewer
    sets than it reached)."""
    deps = dependencies(graph)
    n = len(graph.operators)
    # set of run operators -> ((peak so far, bytes summed over the steps, order), live bytes now)
    State = tuple[tuple[int, int, tuple[int, ...]], int]
    level: dict[frozenset[int], State] = {frozenset(): ((model.initial, 0, ()), model.initial)}
    exact = True
    for _ in range(n):
        nxt: dict[frozenset[int], State] = {}
        for done, ((peak, area, order), live) in level.items():
            for k in range(n):
                if k in done or not deps[k] <= done:
                    continue
                during, after = model.step(done, live, k)
                key = done | {k}
                cand = ((max(peak, during), area + during, order + (k,)), after)
                old = nxt.get(key)
                if old is None or cand[0] < old[0]:
                    nxt[key] = cand
        if len(nxt) > MAX_STATES:
            exact = False
            nxt = dict(sorted(nxt.items(), key=lambda kv: (kv[1][0][:2], kv[1][1]))[:MAX_STATES])
        level = nxt
    ((_, _, order), _), *_ = level.values()
    return list(order), exact


def all_orders(graph: Graph, limit: int) -> list[list[int]] | None:
    """Every valid order (the file's first), or None when there are more than `limit`."""
    deps = dependencies(graph)
    n = len(graph.operators)
    found: list[list[int]] = []
    stack: list[list[int]] = [[]]  # depth first without recursion: graphs may be deep
    while stack and len(found) <= limit:
        order = stack.pop()
        if len(order) == n:
            found.append(order)
            continue
        done = set(order)
        ready = [k for k in range(n) if k not in done and deps[k] <= done]
        stack += [order + [k] for k in reversed(ready)]  # the lowest index first
    return found if len(found) <= limit else None


def single_order(graph: Graph) -> bool:
    """The file's order is the only valid one: each operator depends on the one before it."""
    deps = dependencies(graph)
    return all(k - 1 in deps[k] for k in range(1, len(graph.operators)))


@dataclass
class OrderChoice(Generic[R]):
    order: list[int]  # the file's operator indices in the chosen execution order
    result: R  # `evaluate`'s result for that order
    file_bytes: int  # the file order's cost
    bytes: int  # the chosen order's cost
    planned: int = 1  # orders planned for real, the file's included
    exact: bool = True  # the peak model's optimum was found by a complete search
    single: bool = False  # the file's order is the only valid one
    complete: bool = False  # every valid order was planned: the real optimum

    @property
    def changed(self) -> bool:
        return self.order != sorted(self.order)

    def summary(self) -> str:
        """One line for the compile summary."""
        if self.single:
            return "Order: the file's (the only valid order of its layers)"
        planned = f"all {self.planned} valid orders" if self.complete else f"{self.planned} orders"
        if self.changed:
            moved = sum(1 for pos, k in enumerate(self.order) if pos != k)
            return (
                f"Order: searched, {moved} of {len(self.order)} layers moved; RAM "
                f"{self.file_bytes:,} -> {self.bytes:,} B (arena + I/O), {planned} planned"
            )
        if self.complete:
            return (
                f"Order: the file's ({planned} planned; none needs less than {self.file_bytes:,} B)"
            )
        how = "exhaustive" if self.exact else "beam"
        return (
            f"Order: the file's ({how} search over layer orders, {self.planned} planned; "
            f"none needs less than {self.file_bytes:,} B)"
        )


# Orders planned for real per model, the file's included: at most MAX_PLANS, fewer for a big
# graph (about PLANNED_OPS operators planned in all, at least 4 orders), so compile time stays
# bounded; a count, not a time, so the same model always gets the same order.
MAX_PLANS = 16
PLANNED_OPS = 600


def search_order(
    graph: Graph,
    lowered: list[Lowered],
    evaluate: Callable[[list[int]], tuple[int, list[Lowered], R]],
    max_plans: int | None = None,
) -> OrderChoice[R]:
    """The operator order whose real plan needs the fewest bytes. `evaluate(order) -> (bytes,
    planned lowering, result)` plans the graph in one valid order (fusion, in-place layers,
    patches, placement). When a graph has at most `max_plans` valid orders, all are planned. Otherwise,
    planned: the file's order; the optimum of the peak model on the file order's
    planned lowering (its fused layers store nothing), and on `lowered` with and without in-place
    layers; then, from the best, swaps of neighbouring independent operators while one needs
    fewer bytes (the lowest model peak first), up to `max_plans` plans in all (by default
    MAX_PLANS, fewer for big graphs). The file's order wins ties."""
    n = len(graph.operators)
    if max_plans is None:
        max_plans = max(4, min(MAX_PLANS, PLANNED_OPS // max(n, 1)))
    ident = list(range(n))
    cost, planned_low, result = evaluate(ident)
    best = OrderChoice(ident, result, cost, cost)
    if single_order(graph) or not is_valid(graph, ident):
        best.single = True
        return best
    deps = dependencies(graph)
    tried: dict[tuple[int, ...], int] = {tuple(ident): cost}
    every = all_orders(graph, max_plans)

    def attempt(order: list[int]) -> bool:
        """Plan `order` if new and within budget; True when it needs fewer bytes than the best."""
        key = tuple(order)
        if key in tried or len(tried) >= max_plans:
            return False
        cost, _, result = evaluate(order)
        tried[key] = cost
        if cost < best.bytes:
            best.order, best.result, best.bytes = list(order), result, cost
            return True
        return False

    if every is not None:
        for order in every:
            attempt(order)
        best.planned, best.complete = len(tried), True
        return best
    models = [PeakModel(graph, planned_low, True)]
    models += [PeakModel(graph, lowered, inplace) for inplace in (True, False)]
    for model in models:
        order, exact = best_order(graph, model)
        best.exact = best.exact and exact
        attempt(order)
    improved = True
    while improved and len(tried) < max_plans:
        current = best.order
        swaps = []
        for p in range(n - 1):
            if current[p] not in deps[current[p + 1]]:
                swaps.append(current[:p] + [current[p + 1], current[p]] + current[p + 2 :])
        swaps.sort(key=models[0].peak)
        improved = any(attempt(s) for s in swaps)
    best.planned = len(tried)
    return best
