"""UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations and weights with int16 gates and cell, as
TFLM's integer LSTM (the standard Keras cell: no peephole, projection, layer norm or CIFG), and
its 16x8 form (int16 activations, int8 weights, int64 biases; gate sums in int64, rescaled like
TFLM's 16x8 FULLY_CONNECTED).

TFLM fixes the gate pre-activations at scale 2^-12 (Q3.12) and the gate outputs at 2^-15
(Q0.15), and derives every rescale from those, the input, hidden and cell scales in double
precision (lstm_eval_common.cc). The hidden and cell states are
the op's variable tensors: they live in static memory, start at the hidden zero point and 0, and
carry over from one call to the next as in TFLM (codegen.py, planner.py).
"""

from __future__ import annotations

import math

import numpy as np

from tinypipe.compiler.graph import Graph, Operator, Tensor

from . import fixedpoint as fp
from .base import C, Lowered, T, c_array, io, require_state, unsupported
from .s16 import WIDE_ACC_LIMIT, require_s16
from .sigmoid_s16 import sigmoid_table, tanh_scaling

# Input positions of the op (TFLite's lstm_shared.h).
INPUT = 0
IN_WEIGHTS = (1, 2, 3, 4)  # input, forget, cell, output gates
REC_WEIGHTS = (5, 6, 7, 8)
PEEPHOLE = (9, 10, 11)
BIASES = (12, 13, 14, 15)
PROJECTION = (16, 17)
HIDDEN, CELL = 18, 19
LAYER_NORM = (20, 21, 22, 23)

# TFLM's nonlinear_input_scale and nonlinear_output_scale. Older TFLM releases wrote the second
# as float(0.00003051757), a little below 2^-15; the interpreter tinypipe checks against uses
# 2^-15 exactly, and a cell rounds differently now and then (seen on a converted Keras LSTM).
GATE_INPUT_SCALE = np.float32(2.0**-12)
GATE_OUTPUT_SCALE = np.float32(2.0**-15)


def _multiplier(op: Operator, real: float, what: str) -> tuple[int, int]:
    mult, shift = fp.quantize_multiplier(real)
    if shift > 30:
        raise unsupported(op, f"the {what} rescale {real:.3g} is too large")
    return mult, shift


def checked_log2(scale: float) -> tuple[int, bool]:
    """TFLite CheckedLog2 in float32: (round(log2(scale)), whether the scale is a power of two
    to 1e-3). TFLM's LSTM uses the rounded power even when it is not exact."""
    x = np.float32(np.log(np.float32(scale))) * np.float32(np.float32(1.0) / np.log(np.float32(2)))
    rounded = math.copysign(math.floor(abs(float(x)) + 0.5), float(x))
    return int(rounded), abs(float(np.float32(x - np.float32(rounded)))) < 1e-3


def _reduced(op: Operator, rq: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(multiplier, shift) pairs as TFLM's int64 MultiplyByQuantizedMultiplier uses them: the
    multiplier rounded to Q15 and the total right shift 15 - shift (tp_requantize_s64)."""
    out = []
    for m, shift in rq:
        reduced = (m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF
        if 15 - shift < 1:
            raise unsupported(op, "a gate rescale is too large for TFLM's 16x8 rescaling")
        out.append((reduced, 15 - shift))
    return out


def _require_weights(op: Operator, w: Tensor | None, rows: int, cols: int, pos: int) -> Tensor:
    if w is None:
        raise unsupported(
            op,
            f"input {pos} (a gate weight) is missing: the coupled input-forget gate (CIFG) "
            "variant is not supported",
            "Use a standard Keras LSTM layer.",
        )
    if w.dtype != "int8" or w.quant is None or w.data is None:
        raise unsupported(op, f"weights '{w.name}' must be constant int8")
    if w.quant.scale.size != 1:
        raise unsupported(
            op,
            f"weights '{w.name}' are quantized per channel; TFLM's LSTM uses one scale per gate",
            "Quantize the LSTM's weights per tensor (the TFLite converter does).",
        )
    if int(w.quant.zero_point[0]) != 0:
        raise unsupported(op, f"weights '{w.name}' have a nonzero zero point")
    if tuple(w.shape) != (rows, cols):
        raise unsupported(op, f"weights '{w.name}' are {list(w.shape)}, expected [{rows}, {cols}]")
    return w


def _refuse_variants(op: Operator) -> None:
    variants = (
        (PEEPHOLE, "peephole connections"),
        (PROJECTION, "a projection layer"),
        (LAYER_NORM, "layer normalization"),
    )
    for positions, what in variants:
        if any(op.inputs[p] >= 0 for p in positions):
            raise unsupported(
                op,
                f"LSTMs with {what} are not supported (neither by TFLM's LSTM kernel)",
                "Use a standard Keras LSTM layer.",
            )
    if op.options.get("diagonal_recurrent_tensors"):
        raise unsupported(op, "diagonal recurrent weights are not supported")


def lower(op: Operator, g: Graph) -> Lowered:
    if len(op.inputs) != 24:
        raise unsupported(op, f"it has {len(op.inputs)} inputs, TFLM's LSTM takes 24")
    _refuse_variants(op)
    ins, (out,) = io(g, op)
    x, hidden, cell = ins[INPUT], ins[HIDDEN], ins[CELL]
    if x is None or hidden is None or cell is None:
        raise unsupported(op, "the input, hidden state or cell state is missing")
    act_type = "int16" if x.dtype == "int16" else "int8"  # 16x8 or int8 activations
    if act_type == "int16":
        require_s16(op, x, hidden, out)
    for t, dtype in ((x, act_type), (hidden, act_type), (out, act_type), (cell, "int16")):
        if t.dtype != dtype or t.quant is None or t.quant.scale.size != 1:
            raise unsupported(op, f"tensor '{t.name}' must be {dtype} quantized per tensor")
    for t in (hidden, cell):
        require_state(op, g, t)
    if cell.zero_point != 0:
        raise unsupported(op, f"the cell state '{cell.name}' has a nonzero zero point")
    if len(x.shape) != 3 or len(out.shape) != 3:
        raise unsupported(op, f"input {list(x.shape)} and output {list(out.shape)} must be 3-D")
    time_major = bool(op.options.get("time_major", False))
    steps, batches = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    n_input = x.shape[2]
    w_forget = ins[IN_WEIGHTS[1]]
    if w_forget is None or len(w_forget.shape) != 2:
        raise unsupported(op, "the input-to-forget weights are missing or not 2-D")
    n_cell = w_forget.shape[0]
    in_w = [_require_weights(op, ins[p], n_cell, n_input, p) for p in IN_WEIGHTS]
    rec_w = [_require_weights(op, ins[p], n_cell, n_cell, p) for p in REC_WEIGHTS]
    if len(hidden.shape) != 2 or tuple(hidden.shape) != (batches, n_cell):
        raise unsupported(op, f"hidden state {list(hidden.shape)}, expected [{batches}, {n_cell}]")
    if cell.size != batches * n_cell:
        raise unsupported(op, f"cell state {list(cell.shape)} has not {batches * n_cell} values")
    if tuple(out.shape) != (x.shape[0], x.shape[1], n_cell):
        raise unsupported(op, f"output {list(out.shape)} does not match the input and cell size")
    biases = []
    bias_type = "int64" if act_type == "int16" else "int32"  # what TFLM reads them as
    for p in BIASES:
        b = ins[p]
        if b is None or b.dtype != bias_type or b.data is None or tuple(b.shape) != (n_cell,):
            raise unsupported(
                op, f"input {p} (a gate bias) must be a constant {bias_type} [{n_cell}]"
            )
        biases.append(b.data.astype(np.int64))
    act = op.options.get("fused_activation_function", "NONE")
    if act != "TANH":  # TFLM stops on any other (a flatbuffer cannot even say sigmoid)
        raise unsupported(op, f"the cell activation is {act}; TFLM's LSTM runs only TANH")

    # Effective biases: the input and hidden zero points folded in (sums wrap as TFLM's int32).
    zp_x, zp_h = x.zero_point, hidden.zero_point
    in_bias = np.concatenate(
        [b - zp_x * w.data.astype(np.int64).sum(axis=1) for b, w in zip(biases, in_w)]
    )
    rec_bias = np.concatenate([-zp_h * w.data.astype(np.int64).sum(axis=1) for w in rec_w])
    # The accumulators (TFLM's too) must not overflow: int32 sums for int8, and for 16x8 the
    # int64 ones within 2^47, which TFLM's int64 rescale assumes.
    x_max, limit = (128, 2**31) if act_type == "int8" else (32768, WIDE_ACC_LIMIT)
    for name, bias, ws in (("input", in_bias, in_w), ("recurrent", rec_bias, rec_w)):
        mags = np.concatenate([np.abs(w.data.astype(np.int64)).sum(axis=1) for w in ws])
        if (np.abs(bias) + x_max * mags).max(initial=0) >= limit:
            raise unsupported(op, f"an {name}-to-gate sum could overflow its accumulator")

    gate_in = float(GATE_INPUT_SCALE)
    in_rq = [
        _multiplier(op, float(x.scale) * float(w.scale) / gate_in, "input-to-gate") for w in in_w
    ]
    rec_rq = [
        _multiplier(op, float(hidden.scale) * float(w.scale) / gate_in, "recurrent-to-gate")
        for w in rec_w
    ]
    if act_type == "int16":  # TFLM's 16x8 rescale: the multiplier rounded to Q15, one shift
        in_rq, rec_rq = _reduced(op, in_rq), _reduced(op, rec_rq)
    gate_out, s_cell, s_h = float(GATE_OUTPUT_SCALE), float(cell.scale), float(hidden.scale)
    forget = _multiplier(op, gate_out * s_cell / s_cell, "forget")
    update = _multiplier(op, gate_out * gate_out / s_cell, "cell update")
    hid = _multiplier(op, gate_out * gate_out / s_h, "hidden state")

    power, _ = checked_log2(s_cell)
    if not -43 <= power <= 2:
        raise unsupported(op, f"the cell state scale 2^{power} is outside TFLM's tanh range")
    tanh_mult, tanh_shift = tanh_scaling(power)
    clip = float(np.float32(op.options.get("cell_clip", 0.0)))
    quant_clip = 0
    if clip > 0:
        quant_clip = int(min(max(clip / float(np.float32(s_cell)), -32768.0), 32767.0))
    elif clip < 0 or not math.isfinite(clip):
        raise unsupported(op, f"the cell clip {clip} is not a finite value >= 0")

    params: dict[str, object] = {
        "cell.batches": batches,
        "cell.steps": steps,
        "cell.n_input": n_input,
        "cell.n_cell": n_cell,
        "cell.time_major": int(time_major),
        "cell.forget_multiplier": forget[0],
        "cell.forget_shift": forget[1],
        "cell.update_multiplier": update[0],
        "cell.update_shift": update[1],
        "cell.hidden_multiplier": hid[0],
        "cell.hidden_shift": hid[1],
        "cell.hidden_zp": zp_h,
        "cell.hidden_min": -128 if act_type == "int8" else -32768,
        "cell.hidden_max": 127 if act_type == "int8" else 32767,
        "cell.cell_clip": quant_clip,
        "cell.cell_tanh_multiplier": tanh_mult,
        "cell.cell_tanh_shift": tanh_shift,
        "cell.sigmoid_table": C("sigmoid_table"),
        "in_bias": C("in_bias"),
        "in_multiplier": c_array([m for m, _ in in_rq]),
        "in_shift": c_array([s for _, s in in_rq]),
        "rec_multiplier": c_array([m for m, _ in rec_rq]),
        "rec_shift": c_array([s for _, s in rec_rq]),
    }
    for k in range(4):
        params[f"in_weights[{k}]"] = T(in_w[k].index)
        params[f"rec_weights[{k}]"] = T(rec_w[k].index)
    consts = {"sigmoid_table": sigmoid_table()}
    if act_type == "int8":
        params["rec_bias"] = C("rec_bias")
        consts.update(in_bias=in_bias.astype(np.int32), rec_bias=rec_bias.astype(np.int32))
    else:  # zero points are 0: the biases as they are, none on the recurrent side
        consts["in_bias"] = in_bias
    suffix = "s8" if act_type == "int8" else "s16"
    return Lowered(
        func=f"tp_lstm_{suffix}",
        source="tp_lstm",
        params_type=f"tp_lstm_{suffix}_params",
        params=params,
        args=[T(x.index), T(out.index), T(hidden.index), T(cell.index)],
        consts=consts,
        scratch_bytes=4 * n_cell * 2,
        requires=("tp_act_s16",),
    )
