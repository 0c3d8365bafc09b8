"""`tinypipe inspect`: per-operator shapes, quantization, parameters, MACs and backend support."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinypipe.errors import TinypipeError

from . import ops
from .codegen import check_graph
from .export_tflm import tflm_status
from .graph import Graph, Operator, Tensor, read_tflite


def op_macs(op: Operator, g: Graph) -> int:
    """Multiply-accumulates of one op (convolutions and matrix products; 0 for the rest)."""
    ins, outs = g.op_inputs(op), g.op_outputs(op)
    if not outs or len(ins) < 2 or ins[1] is None:
        return 0
    out, w = outs[0], ins[1]
    if op.opcode == "CONV_2D":  # filter [O, KH, KW, I]
        return out.size * int(np.prod(w.shape[1:]))
    if op.opcode == "DEPTHWISE_CONV_2D":  # filter [1, KH, KW, O]
        return out.size * w.shape[1] * w.shape[2]
    if op.opcode == "FULLY_CONNECTED":  # filter [O, I]
        return out.size * w.shape[-1]
    if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM":  # 4 gates on the input and the hidden state
        n_cell, n_input = w.shape
        return out.size // n_cell * 4 * n_cell * (n_input + n_cell)
    if op.opcode == "SVDF" and ins[2] is not None:  # features, then filters x memory
        n_filter, memory = ins[2].shape
        return ins[0].shape[0] * n_filter * (w.shape[1] + memory)
    return 0


def _quant_desc(t: Tensor | None) -> str:
    if t is None or t.quant is None:
        return "-" if t is None else t.dtype
    if t.quant.per_channel:
        return f"{t.dtype} per-channel({t.quant.scale.size}, axis {t.quant.axis})"
    return f"{t.dtype} s={t.scale:.6g} zp={t.zero_point}"


def _c_backend_status(op: Operator, g: Graph) -> str | None:
    """None when the compiled C backend takes this op, else the reason it does not."""
    try:
        ops.lower(op, g)
        return None
    except TinypipeError as exc:
        return exc.message


def _c_model_status(g: Graph) -> str | None:
    """The compiled C backend's model-level refusal (what `export --format c` says before it
    looks at any op), or None."""
    try:
        check_graph(g)
        return None
    except TinypipeError as exc:
        return exc.message


def summarize(model: str | Path | Graph) -> dict:
    g = model if isinstance(model, Graph) else read_tflite(model)
    rows = []
    unsupported_c = []
    for op in g.operators:
        ins, outs = g.op_inputs(op), g.op_outputs(op)
        params = sum(t.nbytes for t in ins if t is not None and t.is_const)
        c_reason = _c_backend_status(op, g)
        if c_reason:
            unsupported_c.append(
                {"index": op.index, "op": op.opcode, "version": op.version, "reason": c_reason}
            )
        weights = [t for t in ins[1:] if t is not None and t.is_const]
        rows.append(
            {
                "index": op.index,
                "op": op.opcode,
                "version": op.version,
                "inputs": [list(t.shape) for t in ins if t is not None and not t.is_const],
                "outputs": [list(t.shape) for t in outs],
                "input_quant": _quant_desc(ins[0] if ins else None),
                "weight_quant": _quant_desc(weights[0]) if weights else "-",
                "output_quant": _quant_desc(outs[0] if outs else None),
                "param_bytes": params,
                "macs": op_macs(op, g),
                "backends": {"c": c_reason is None},
            }
        )
    tflm_reason = tflm_status(g)
    model_reason = _c_model_status(g)
    for r in rows:
        r["backends"]["tflm"] = tflm_reason is None
        r["backends"]["c"] = r["backends"]["c"] and model_reason is None

    def io(t: Tensor) -> dict:
        return {"name": t.name, "shape": list(t.shape), "quant": _quant_desc(t)}

    return {
        "model": g.source.strip("'"),
        "model_bytes": len(g.model_bytes),
        "inputs": [io(t) for t in g.input_tensors],
        "outputs": [io(t) for t in g.output_tensors],
        "operators": rows,
        "totals": {
            "operators": len(rows),
            "distinct_ops": g.distinct_ops(),
            "param_bytes": sum(r["param_bytes"] for r in rows),
            "macs": sum(r["macs"] for r in rows),
        },
        "support": {
            "c": {
                "supported": not unsupported_c and model_reason is None,
                "unsupported": unsupported_c,
                "reason": model_reason,  # a model-level refusal (dynamic shapes, Vela, ...)
            },
            "tflm": {"supported": tflm_reason is None, "reason": tflm_reason},
            "c_supported_ops": ops.supported_ops(),
        },
    }


def format_summary(info: dict) -> str:
    lines = [
        f"{info['model']}  ({info['model_bytes']:,} bytes)",
        *(
            f"{kind} {k} '{t['name']}' {t['shape']} {t['quant']}"
            for kind in ("input", "output")
            for k, t in enumerate(info[kind + "s"])
        ),
        "",
        f"{'#':>3}  {'op':<20}{'v':>2}  {'in -> out':<34}{'weights':<32}{'params B':>9}{'MACs':>11}  c tflm",
    ]
    for r in info["operators"]:
        shapes = f"{'x'.join(map(str, r['inputs'][0])) if r['inputs'] else '-'} -> " + "x".join(
            map(str, r["outputs"][0])
        )
        mark = {True: "y", False: "-"}
        lines.append(
            f"{r['index']:>3}  {r['op']:<20}{r['version']:>2}  {shapes:<34}{r['weight_quant']:<32}"
            f"{r['param_bytes']:>9,}{r['macs']:>11,}  {mark[r['backends']['c']]} {mark[r['backends']['tflm']]}"
        )
    t = info["totals"]
    lines += [
        "",
        f"total: {t['operators']} operators ({len(t['distinct_ops'])} distinct), "
        f"{t['param_bytes']:,} parameter bytes, {t['macs']:,} MACs",
    ]
    c = info["support"]["c"]
    if c["supported"]:
        lines.append("compiled C backend (--format c): every op supported")
    elif c.get("reason") and not c["unsupported"]:
        lines.append(f"compiled C backend (--format c): {c['reason']}")
    else:
        if c.get("reason"):
            lines.append(f"compiled C backend (--format c): {c['reason']}")
        lines.append(f"compiled C backend (--format c): {len(c['unsupported'])} unsupported op(s):")
        lines += [
            f"  #{u['index']} {u['op']} v{u['version']}: {u['reason']}" for u in c["unsupported"]
        ]
    tf = info["support"]["tflm"]
    lines.append(
        "TFLM backend (--format tflm): "
        + ("every op supported" if tf["supported"] else tf["reason"])
    )
    return "\n".join(lines)
