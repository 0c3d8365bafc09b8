"""QUANTIZE and DEQUANTIZE where int16 is involved (16x8 models): requantization between int8,
int16 and int32 (TFLM's Requantize), float32 -> int16 and int16 -> float32 (tp_quantize_s16.h).

Written-down tolerance, as for int8 (quantize.py): float32 -> int16 of a NaN or of a value
beyond 2^20 quantization steps saturates (NaN -> the zero point), where TFLM's float -> int cast
is undefined.
"""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from . import fixedpoint as fp
from .base import Lowered, T, io, unsupported
from .quantize import _per_tensor

_REQUANTIZE = {
    ("int16", "int8"): "tp_requantize_s16_s8",
    ("int8", "int16"): "tp_requantize_s8_s16",
    ("int16", "int16"): "tp_requantize_s16_s16",
    ("int16", "int32"): "tp_requantize_s16_s32",
}


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp = ins[0]
    if inp.size != out.size:
        raise unsupported(op, f"input {list(inp.shape)} and output {list(out.shape)} differ")
    pair = (inp.dtype, out.dtype)
    boundary = {("QUANTIZE", "float32", "int16"), ("DEQUANTIZE", "int16", "float32")}
    if (op.opcode, *pair) in boundary:
        q = out if op.opcode == "QUANTIZE" else inp
        scale, zp = _per_tensor(op, q)
        func = "tp_quantize_f32_s16" if q is out else "tp_dequantize_s16_f32"
        return Lowered(
            func=func,
            source="tp_quantize_s16",
            params_type="tp_quantize_s16_params",
            params={"size": inp.size, "scale": float(scale), "zero_point": zp},
            args=[T(inp.index), T(out.index)],
        )
    if op.opcode != "QUANTIZE" or pair not in _REQUANTIZE:
        raise unsupported(
            op,
            f"{op.opcode} from {inp.dtype} to {out.dtype} is not supported with int16 (supported: "
            "QUANTIZE float32->int16, int16->int8/int16/int32, int8->int16; DEQUANTIZE "
            "int16->float32)",
        )
    s_in, z_in = _per_tensor(op, inp)
    s_out, z_out = _per_tensor(op, out)
    mult, shift = fp.quantize_multiplier(float(s_in) / float(s_out))
    if shift > 31:
        raise unsupported(
            op, "the rescale factor is >= 2^31, where TFLM's integer math is undefined"
        )
    if out.dtype == "int32":
        # |MBQM(x - zp_in)| <= 65535 * 2^shift and the zero point must not push it past int32
        if 65535 * 2.0**shift + abs(z_out) >= 2**31:
            raise unsupported(op, "the rescaled int32 value could overflow")
    return Lowered(
        func=_REQUANTIZE[pair],
        source="tp_quantize_s16",
        params_type="tp_requantize_s16_params",
        params={
            "size": inp.size,
            "input_offset": -z_in,
            "multiplier": mult,
            "shift": shift,
            "output_offset": z_out,
        },
        args=[T(inp.index), T(out.index)],
    )
