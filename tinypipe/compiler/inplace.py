"""In-place kernels: a layer whose input dies with it writes its output over that input.

Two kinds, chosen per layer after lowering:

- element-wise ops (ADD, MUL, table lookups such as RELU/LOGISTIC, int8 requantize) whose output
  has the shape and size of an input: each output element is written after the input element at
  the same index is read, so the unchanged kernel runs with output == that input;
- CONCATENATION (and PACK) over its largest input, written from its last row to its first
  (tp_concatenation_inplace_s8): each output row lies past the input rows still to be read;
- convolutions (CONV_2D, DEPTHWISE_CONV_2D) run one output row at a time by
  tp_conv_inplace_s8 / tp_depthwise_conv_inplace_s8 (firmware/runtime/tp_row_window.c): each input
  row is copied into a window of `extent_h` rows before any output row is written over it.
  `row_sequence_safe` replays that kernel's exact copy/write order and only proven-safe layers are
  changed.

The planner then puts both tensors at one offset (planner.py), so a chain of in-place layers needs
the largest of its tensors instead of two at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .graph import Graph
from .ops.base import Lowered, Raw, T
from .planner import alias_roots, lifetimes

# int8 kernels whose loop reads element i of every input before it writes element i of the output.
ELEMENTWISE = {"tp_add_s8", "tp_add_lut_s8", "tp_mul_s8", "tp_mul_rq_s8", "tp_lut_s8"}
CONCAT = "tp_concatenation_s8"  # copies rows of its inputs; in place over one of them
# kernel -> (its in-place driver, the driver's params type, the runtime file holding it)
ROWWISE = {
    "tp_conv_s8": ("tp_conv_inplace_s8", "tp_conv_inplace_params", "tp_conv_inplace"),
    "tp_conv_w16_s8": ("tp_conv_w16_inplace_s8", "tp_conv_w16_inplace_params", "tp_conv_inplace"),
    "tp_conv_w4_s8": ("tp_conv_w4_inplace_s8", "tp_conv_w4_inplace_params", "tp_conv_w4_inplace"),
    "tp_depthwise_conv_s8": (
        "tp_depthwise_conv_inplace_s8",
        "tp_depthwise_conv_inplace_params",
        "tp_depthwise_conv_inplace",
    ),
    "tp_depthwise_conv_w16_s8": (
        "tp_depthwise_conv_w16_inplace_s8",
        "tp_depthwise_conv_w16_inplace_params",
        "tp_depthwise_conv_inplace",
    ),
}


@dataclass(frozen=True)
class RowWindow:
    """The geometry tp_row_window holds (see tp_inplace.h)."""

    input_h: int
    input_row_bytes: int
    output_h: int
    output_row_bytes: int
    stride_h: int
    pad_h: int
    extent_h: int
    backward: int = 0

    @property
    def window_rows(self) -> int:
        return min(self.extent_h, self.input_h)

    def rows_read(self, y: int) -> tuple[int, int]:
        """Input rows [lo, hi) output row y reads, as the C driver clips them."""
        top = y * self.stride_h - self.pad_h
        lo = max(top, 0)
        return lo, max(min(top + self.extent_h, self.input_h), lo)

    def order(self) -> range:
        return range(self.output_h - 1, -1, -1) if self.backward else range(self.output_h)


def row_sequence_safe(g: RowWindow) -> bool:
    """Replay the driver: every input row it copies must still hold input (not yet an output
    row) at that moment. Outputs written so far cover one contiguous byte range."""
    wlo = whi = 0
    written_lo = written_hi = g.output_h * g.output_row_bytes if g.backward else 0
    for y in g.order():
        lo, hi = g.rows_read(y)
        for r in range(lo, hi):
            if wlo <= r < whi:
                continue  # already in the window
            start, end = r * g.input_row_bytes, (r + 1) * g.input_row_bytes
            if start < written_hi and written_lo < end:
                return False
        wlo, whi = lo, hi
        if g.backward:
            written_lo = y * g.output_row_bytes
        else:
            written_hi = (y + 1) * g.output_row_bytes
    return True


def _window(low: Lowered) -> RowWindow | None:
    p = low.params
    if p.get("batches") != 1:
        return None
    out_c = p.get("output_c", p["input_c"] * p.get("depth_multiplier", 1))
    base = RowWindow(
        input_h=p["input_h"],
        input_row_bytes=p["input_w"] * p["input_c"],
        output_h=p["output_h"],
        output_row_bytes=p["output_w"] * out_c,
        stride_h=p["stride_h"],
        pad_h=p["pad_h"],
        extent_h=(p["filter_h"] - 1) * p["dilation_h"] + 1,
    )
    for g in (base, replace(base, backward=1)):
        if row_sequence_safe(g):
            return g
    return None


def _rowwise(low: Lowered, inp: int, out: int, g: RowWindow) -> Lowered:
    func, params_type, stem = ROWWISE[low.func]
    kernel_scratch = (low.scratch_bytes + 3) // 4 * 4
    rows = {
        "input_h": g.input_h,
        "input_row_bytes": g.input_row_bytes,
        "output_h": g.output_h,
        "output_row_bytes": g.output_row_bytes,
        "stride_h": g.stride_h,
        "pad_h": g.pad_h,
        "extent_h": g.extent_h,
        "window_rows": g.window_rows,
        "backward": g.backward,
        "kernel_scratch_bytes": kernel_scratch if low.scratch_bytes else 0,
    }
    weights = low.args[1]
    return Lowered(
        func=func,
        source=stem,
        requires=(low.source, "tp_row_window"),
        params_type=params_type,
        params={
            **{f"conv.{k}": v for k, v in low.params.items()},
            "kernel": Raw(low.func),
            **{f"rows.{k}": v for k, v in rows.items()},
        },
        args=[T(out), weights],
        consts=low.consts,
        scratch_bytes=rows["kernel_scratch_bytes"] + g.window_rows * g.input_row_bytes,
        inplace_of=inp,
    )


def _concat_inplace(graph: Graph, low: Lowered, k: int, roots: dict[int, int], dies_at) -> Lowered:
    """The concatenation over its largest input that dies with it (read by no other operand, so
    no byte is read after it is overwritten), or `low` unchanged."""
    ins = [a.index for a in low.args[:-1] if isinstance(a, T)]
    cands = [
        (graph.tensors[t].nbytes, -i, i, t)
        for i, t in enumerate(ins)
        if dies_at(t, k) and sum(roots[u] == roots[t] for u in ins) == 1
    ]
    if not cands:
        return low
    _, _, i, t = max(cands)
    return replace(
        low,
        func="tp_concatenation_inplace_s8",
        params_type="tp_concatenation_inplace_params",
        params={**{f"concat.{f}": v for f, v in low.params.items()}, "in_place": i},
        inplace_of=t,
    )


def choose_inplace(
    graph: Graph, lowered: list[Lowered], input_in_arena: bool = False
) -> list[Lowered]:
    """Return `lowered` with every layer that can safely run in place changed to do so (over the
    model's input too when it lives in the arena)."""
    roots = alias_roots(graph, lowered)
    _, last = lifetimes(graph, lowered, roots)
    io_roots = {roots[t] for t in graph.outputs}
    if not input_in_arena:
        io_roots |= {roots[t] for t in graph.inputs}

    def dies_at(t: int, k: int) -> bool:
        """t is an int8 arena tensor no op after k reads."""
        tt = graph.tensors[t]
        return (
            t >= 0
            and not tt.is_const
            and roots[t] not in io_roots
            and last.get(roots[t]) == k
            and tt.dtype == "int8"
        )

    result = []
    for k, (op, low) in enumerate(zip(graph.operators, lowered)):
        out = op.outputs[0] if op.outputs else -1
        if not low.emits_code or out < 0 or roots[out] in io_roots:
            result.append(low)
            continue
        ot = graph.tensors[out]

        if low.func in ELEMENTWISE and ot.dtype == "int8":
            cands = [
                a.index
                for a in low.args
                if isinstance(a, T)
                and a.index != out
                and dies_at(a.index, k)
                and graph.tensors[a.index].shape == ot.shape
            ]
            result.append(replace(low, inplace_of=cands[0]) if cands else low)
            continue
        if low.func == CONCAT:
            result.append(_concat_inplace(graph, low, k, roots, dies_at))
            continue
        if low.func in ROWWISE and low.args and isinstance(low.args[0], T):
            inp = low.args[0].index
            g = _window(low) if dies_at(inp, k) and ot.dtype == "int8" else None
            result.append(_rowwise(low, inp, out, g) if g else low)
            continue
        result.append(low)
    return result
