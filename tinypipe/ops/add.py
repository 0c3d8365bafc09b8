"""ADD lowering: int8 elementwise add with TFLite's rescaling and broadcasting.

Also home of what ADD and MUL share: the broadcast layout (merged dims and per-input strides)
and the reading of the two operands (either may be a constant, e.g. a bias vector).
"""

from __future__ import annotations

from ..graph import Graph, Operator, Tensor
from .base import Lowered, Raw, T, io, require_int8, unsupported
from .pooling import fused_activation_range
from .quantmath import quantize_multiplier

LEFT_SHIFT = 20  # TFLite's headroom shift for int8 ADD
MAX_DIMS = 4  # the kernels' loop nest


def broadcast_layout(
    op: Operator, shape1: tuple[int, ...], shape2: tuple[int, ...], out_shape: tuple[int, ...]
) -> tuple[list[int], list[int], list[int]]:
    """Output dims and the two inputs' element strides for a broadcast elementwise op.

    Shapes are right-aligned (numpy rules). Output dims of size 1 are dropped and neighbouring
    dims where each input is either full or broadcast in the same way are merged, so a plain
    elementwise op becomes one dim and (1,H,W,C) + (C,) becomes two. The result is padded with
    leading 1s to MAX_DIMS dims; a stride is 0 where that input is broadcast."""
    rank = len(out_shape)
    if len(shape1) > rank or len(shape2) > rank:
        raise unsupported(op, f"an input has more dims than the output {list(out_shape)}")
    a = (1,) * (rank - len(shape1)) + tuple(shape1)
    b = (1,) * (rank - len(shape2)) + tuple(shape2)
    groups: list[list] = []  # [size, input1 is full, input2 is full]
    for da, db, do in zip(a, b, out_shape):
        if do != max(da, db) or da not in (1, do) or db not in (1, do):
            raise unsupported(
                op,
                f"shapes {list(shape1)} and {list(shape2)} do not broadcast to {list(out_shape)}",
            )
        if do == 1:
            continue
        kind = [da == do, db == do]
        if groups and groups[-1][1:] == kind:
            groups[-1][0] *= do
        else:
            groups.append([do, *kind])
    if len(groups) > MAX_DIMS:
        raise unsupported(
            op,
            f"broadcasting {list(shape1)} with {list(shape2)} needs {len(groups)} loop dims, "
            f"at most {MAX_DIMS} are supported",
            "Reshape the operands so that broadcast and full dims alternate less often.",
        )
    groups = [[1, False, False]] * (MAX_DIMS - len(groups)) + groups
    dims = [g[0] for g in groups]

    def strides(k: int) -> list[int]:
        out, step = [0] * MAX_DIMS, 1
        for d in reversed(range(MAX_DIMS)):
            if groups[d][k]:
                out[d] = step
                step *= groups[d][0]
        return out

    return dims, strides(1), strides(2)


def c_array(values: list[int]) -> Raw:
    """A fixed-size array member initializer, e.g. {1, 2, 3, 4}."""
    return Raw("{" + ", ".join(str(int(v)) for v in values) + "}")


def binary_operands(op: Operator, g: Graph) -> tuple[Tensor, Tensor, Tensor]:
    ins, outs = io(g, op)
    if len(ins) != 2 or len(outs) != 1 or ins[0] is None or ins[1] is None:
        raise unsupported(op, "expected two inputs and one output")
    in1, in2, out = ins[0], ins[1], outs[0]
    require_int8(op, in1, in2, out)
    for t in (in1, in2, out):
        if t.quant.scale.size != 1:
            raise unsupported(op, f"tensor '{t.name}' is quantized per channel, not per tensor")
    return in1, in2, out


def lower(op: Operator, g: Graph) -> Lowered:
    in1, in2, out = binary_operands(op, g)
    dims, s1, s2 = broadcast_layout(op, in1.shape, in2.shape, out.shape)
    # TFLM's Prepare: float scales widened to double, the larger one doubled.
    twice_max = 2.0 * max(in1.scale, in2.scale)
    real1 = in1.scale / twice_max
    real2 = in2.scale / twice_max
    real_out = twice_max / ((1 << LEFT_SHIFT) * out.scale)
    m1, sh1 = quantize_multiplier(real1)
    m2, sh2 = quantize_multiplier(real2)
    mo, sho = quantize_multiplier(real_out)
    # TFLM aborts (QuantizeMultiplierSmallerThanOneExp) unless every multiplier is below one.
    if not real_out < 1.0 or max(sh1, sh2, sho) > 0:
        raise unsupported(
            op,
            f"the output scale {out.scale:g} is about 2^{LEFT_SHIFT - 1} times smaller than "
            "the input scales or more, which TFLite's int8 ADD cannot represent",
            "Recalibrate the model so the output range is not this much narrower.",
        )
    lo, hi = fused_activation_range(op, out.scale, out.zero_point)
    return Lowered(
        func="tp_add_s8",
        source="tp_add",
        params_type="tp_add_params",
        params={
            "dims": c_array(dims),
            "in1_stride": c_array(s1),
            "in2_stride": c_array(s2),
            "input1_offset": -in1.zero_point,
            "input2_offset": -in2.zero_point,
            "left_shift": LEFT_SHIFT,
            "input1_multiplier": m1,
            "input1_shift": sh1,
            "input2_multiplier": m2,
            "input2_shift": sh2,
            "output_multiplier": mo,
            "output_shift": sho,
            "output_offset": out.zero_point,
            "act_min": lo,
            "act_max": hi,
        },
        args=[T(in1.index), T(in2.index), T(out.index)],
    )
