"""What the in-place layers, fused layers and patches save, layer by layer: the arena timeline
laid out apart, with in-place layers, with fused blocks too, and with the first layers run patch
by patch.

The four plans are made from the same lowering (codegen.generate_c with inplace=False, with
fuse=False and no patches, with no patches, and the default), so the differences at each layer
are exactly what computing in place (and keeping the model's input in the arena), fusing and
patches save there. All four run the layers in the default build's order (order.py), the rows'.
"""

from __future__ import annotations

from .codegen import CModel, generate_c
from .graph import Graph


def inplace_timeline(graph: Graph, after: CModel | None = None) -> list[dict]:
    """Per layer: live arena bytes laid out apart ("before"), with in-place layers only
    ("inplace_only"), with fused blocks too ("fused") and with patches as well ("after", the
    default build or `after`), each plus the input and output buffers outside the arena, which
    the caller holds throughout; and what the layer does."""
    after = after or generate_c(graph)
    order = after.order
    before = generate_c(graph, inplace=False, order=order)
    middle = generate_c(graph, fuse=False, max_recompute=0, order=order)
    fused = generate_c(graph, max_recompute=0, order=order)
    rows = []
    for op, low, b, m, f, a in zip(
        after.graph.operators,
        after.lowered,
        before.plan.live_bytes,
        middle.plan.live_bytes,
        fused.plan.live_bytes,
        after.plan.live_bytes,
    ):
        if low.fused_into is not None:
            into = after.file_index(low.fused_into)
            how = f"fused into #{into}"
            if after.lowered[low.fused_into].func == "tp_patches_s8":
                how = f"patch by patch in #{into}"
        elif low.func == "tp_patches_s8" and after.patches is not None:
            p = after.patches
            how = f"{p.grid[0]}x{p.grid[1]} patches, +{100 * p.recompute:.1f} % MACs"
        elif low.func == "tp_fused_rows_s8":
            how = "fused, row by row" + (" with the ADD" if "add_row" in low.params else "")
        elif low.inplace_of is None:
            how = ""
        elif low.func == "tp_concatenation_inplace_s8":
            how = "over its largest input"
        elif low.func.endswith("inplace_s8"):
            how = "row window"
        else:
            how = "element-wise"
        rows.append(
            {
                "index": after.file_index(op.index),
                "op": op.opcode,
                "before": b + before.io_bytes,
                "inplace_only": m + middle.io_bytes,
                "fused": f + fused.io_bytes,
                "after": a + after.io_bytes,
                "inplace": how,
            }
        )
    return rows


def timeline_markdown(rows: list[dict]) -> str:
    """The timeline as a Markdown section (for the run report)."""

    def peak(key: str) -> int:
        return max((r.get(key, r["after"]) for r in rows), default=0)

    out = [
        "## Memory: in-place layers, fused blocks and patches",
        "",
        f"Peak of live arena + input/output bytes: {peak('before'):,} B laid out apart, "
        f"{peak('inplace_only'):,} B with in-place layers (each computed over its dying input; "
        f"the model's input in the arena), {peak('fused'):,} B with layer pairs and residual "
        "blocks fused too (computed row by row over their input), "
        f"{peak('after'):,} B with the first layers run patch by patch where that needs less "
        "(their halo computed again: the MACs it adds are given on the patched layer). "
        "Rows in execution order; # is the operator's index in the .tflite.",
        "",
        "| # | op | in place / fused / patches | live apart (B) | in place (B) | fused (B) "
        "| patches (B) | saved by in place (B) | saved by fusion (B) | saved by patches (B) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        m = r.get("inplace_only", r["after"])
        f = r.get("fused", r["after"])
        out.append(
            f"| {r['index']} | {r['op']} | {r['inplace'] or '-'} | {r['before']:,} | {m:,} "
            f"| {f:,} | {r['after']:,} | {r['before'] - m:,} | {m - f:,} | {f - r['after']:,} |"
        )
    return "\n".join(out) + "\n"
