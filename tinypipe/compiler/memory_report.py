"""What the in-place layers save, layer by layer: the arena timeline with and without them.

Both plans are made from the same lowering (codegen.generate_c with inplace=False and True), so
the difference at each layer is exactly what computing in place (and keeping the model's input
in the arena) saves there.
"""

from __future__ import annotations

from .codegen import CModel, generate_c
from .graph import Graph


def inplace_timeline(graph: Graph, after: CModel | None = None) -> list[dict]:
    """Per layer: live arena bytes without and with in-place layers (plus the input and output
    buffers outside the arena, which the caller holds throughout), and what the layer does."""
    before = generate_c(graph, inplace=False)
    after = after or generate_c(graph, inplace=True)
    rows = []
    for op, low, b, a in zip(
        graph.operators, after.lowered, before.plan.live_bytes, after.plan.live_bytes
    ):
        if low.inplace_of is None:
            how = ""
        elif low.func.endswith("inplace_s8"):
            how = "row window"
        else:
            how = "element-wise"
        rows.append(
            {
                "index": op.index,
                "op": op.opcode,
                "before": b + before.io_bytes,
                "after": a + after.io_bytes,
                "inplace": how,
            }
        )
    return rows


def timeline_markdown(rows: list[dict]) -> str:
    """The timeline as a Markdown section (for the run report)."""
    peak_b = max((r["before"] for r in rows), default=0)
    peak_a = max((r["after"] for r in rows), default=0)
    out = [
        "## Memory: in-place layers",
        "",
        f"Peak of live arena + input/output bytes: {peak_b:,} B laid out apart, {peak_a:,} B with "
        "in-place layers (each computed over its dying input; the model's input in the arena).",
        "",
        "| # | op | in place | live before (B) | live after (B) | saved (B) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['index']} | {r['op']} | {r['inplace'] or '-'} | {r['before']:,} "
            f"| {r['after']:,} | {r['before'] - r['after']:,} |"
        )
    return "\n".join(out) + "\n"
