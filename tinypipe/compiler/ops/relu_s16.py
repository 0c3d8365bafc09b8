"""RELU and LEAKY_RELU, int16 (16x8 models): TFLM's rescaling formulas evaluated on the
device, since an int16 table would have 65536 entries.

The multipliers are computed in double from the float32 scales and alpha: the tflite-micro
interpreter does so (a float32 alpha multiplier is one step off on some inputs; test_op_s16
holds such a case), where activations.py computes int8 LEAKY_RELU's in float32."""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .activations import _multiplier
from .base import Lowered, T, io, unsupported
from .quantize import _per_tensor


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp = ins[0]
    if inp.dtype != "int16" or out.dtype != "int16" or inp.size != out.size:
        raise unsupported(
            op, f"expected int16 input and output of one size, got {inp.dtype} -> {out.dtype}"
        )
    s_in, z_in = _per_tensor(op, inp)
    s_out, z_out = _per_tensor(op, out)
    try:
        pos = neg = _multiplier(float(s_in) / float(s_out), "input-to-output")
        act_min = max(-32768, z_out)
        if op.opcode == "LEAKY_RELU":
            alpha = float(np.float32(op.options.get("alpha", 0.0)))
            neg = _multiplier(float(s_in) * alpha / float(s_out), "alpha")
            act_min = -32768
    except ValueError as exc:
        raise unsupported(op, str(exc)) from None
    return Lowered(
        func="tp_relu_s16",
        source="tp_relu_s16",
        params_type="tp_relu_s16_params",
        params={
            "size": inp.size,
            "input_offset": -z_in,
            "pos_multiplier": pos[0],
            "pos_shift": pos[1],
            "neg_multiplier": neg[0],
            "neg_shift": neg[1],
            "output_offset": z_out,
            "act_min": act_min,
        },
        args=[T(inp.index), T(out.index)],
    )
