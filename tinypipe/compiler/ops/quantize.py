"""QUANTIZE and DEQUANTIZE: the model's float boundary, and 8-bit requantization.

- QUANTIZE float32 -> int8 (a float model input): `tp_quantize_f32_s8`, the one kernel that
  divides by a float, exactly as TFLM's AffineQuantize does.
- QUANTIZE int8/uint8 -> int8/uint8 (requantize): TFLM's Requantize, out = clamp(zp_out +
  MBQM(x - zp_in, s_in / s_out)); it has 256 inputs, so it becomes a lookup table (tp_lut_*).
- DEQUANTIZE int8 -> float32 (a float model output): (float)((double)scale * (q - zp)) has 256
  possible values, computed here and looked up on the device (`tp_dequantize_s8_f32`).

Written-down tolerance (QUANTIZE float32 -> int8 only): where |x / scale| >= 2^31 or x is NaN,
TFLM converts an out-of-range float to int32, which is undefined behaviour: the x86 build of the
TFLM interpreter yields INT32_MIN there (so -128 even for +inf), Arm cores saturate. tinypipe
saturates (+huge -> 127, -huge -> -128, NaN -> the zero point), i.e. it agrees with TFLM on Arm
and can differ from the host interpreter for such inputs only.
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator, Tensor

from . import fixedpoint as fp
from .activations import lut_call
from .base import C, Lowered, T, io, unsupported

_RANGES = {"int8": (-128, 127), "uint8": (0, 255)}


def _per_tensor(op: Operator, t: Tensor) -> tuple[np.float32, int]:
    if t.quant is None:
        raise unsupported(op, f"tensor '{t.name}' has no quantization parameters")
    if t.quant.per_channel:
        raise unsupported(op, f"tensor '{t.name}' is quantized per channel")
    return np.float32(t.quant.scale[0]), int(t.quant.zero_point[0])


def _byte_values(dtype: str) -> np.ndarray:
    """The 256 values of an 8-bit type, in the order of their byte value (the table index)."""
    raw = np.arange(256, dtype=np.uint8)
    return (raw.view(np.int8) if dtype == "int8" else raw).astype(np.int64)


def requantize_table(
    in_dtype: str, in_scale: float, in_zp: int, out_dtype: str, out_scale: float, out_zp: int
) -> np.ndarray:
    """TFLM Requantize for 8-bit types: M = double(s_in) / double(s_out) split by
    QuantizeMultiplier; out = clamp(MBQM(x - zp_in, M) + zp_out) to the output type."""
    mult, shift = fp.quantize_multiplier(float(in_scale) / float(out_scale))
    if shift > 31:
        raise ValueError(
            f"the rescale factor {float(in_scale) / float(out_scale):g} is >= 2^31, where "
            "TFLM's integer math is undefined"
        )
    lo, hi = _RANGES[out_dtype]
    values = [
        min(max(fp.mul_by_quantized_multiplier(int(x) - in_zp, mult, shift) + out_zp, lo), hi)
        for x in _byte_values(in_dtype)
    ]
    return np.asarray(values, dtype=np.int64).astype(out_dtype)


def dequantize_table(scale: float, zero_point: int) -> np.ndarray:
    """TFLM Dequantize for int8: (float)((double)scale * (q - zero_point)) for every q."""
    q = _byte_values("int8")
    return (np.float64(np.float32(scale)) * (q - zero_point).astype(np.float64)).astype(np.float32)


def _lower_quantize(op: Operator, inp: Tensor, out: Tensor) -> Lowered:
    s_out, z_out = _per_tensor(op, out)
    if inp.dtype == "float32" and out.dtype == "int8":
        return Lowered(
            func="tp_quantize_f32_s8",
            source="tp_quantize",
            params_type="tp_quantize_params",
            params={"size": inp.size, "scale": float(s_out), "zero_point": z_out},
            args=[T(inp.index), T(out.index)],
        )
    if inp.dtype not in _RANGES or out.dtype not in _RANGES or inp.dtype == out.dtype == "uint8":
        raise unsupported(
            op,
            f"QUANTIZE from {inp.dtype} to {out.dtype} is not supported (supported: float32, "
            "int8 or uint8 to int8, and int8 to uint8)",
            "Convert the model with int8 (or float32) input and output types.",
        )
    s_in, z_in = _per_tensor(op, inp)
    try:
        table = requantize_table(inp.dtype, s_in, z_in, out.dtype, s_out, z_out)
    except ValueError as exc:
        raise unsupported(op, str(exc)) from None
    if inp.dtype == "int8" and out.dtype == "int8":
        return lut_call(op, inp, out, table)
    if inp.size != out.size:
        raise unsupported(op, f"input {list(inp.shape)} and output {list(out.shape)} differ")
    if out.dtype == "int8":  # uint8 -> int8
        func, params_type = "tp_lut_u8_s8", "tp_lut_params"
    else:  # int8 -> uint8
        func, params_type = "tp_lut_s8_u8", "tp_lut_u8_params"
    return Lowered(
        func=func,
        source="tp_lut",
        params_type=params_type,
        params={"size": inp.size, "table": C("table")},
        args=[T(inp.index), T(out.index)],
        consts={"table": table},
    )


def _lower_dequantize(op: Operator, inp: Tensor, out: Tensor) -> Lowered:
    if inp.dtype != "int8" or out.dtype != "float32":
        raise unsupported(
            op,
            f"DEQUANTIZE from {inp.dtype} to {out.dtype} is not supported (only int8 to float32)",
            "Convert the model with int8 (or float32) input and output types.",
        )
    s_in, z_in = _per_tensor(op, inp)
    return Lowered(
        func="tp_dequantize_s8_f32",
        source="tp_quantize",
        params_type="tp_dequantize_params",
        params={"size": inp.size, "table": C("table")},
        args=[T(inp.index), T(out.index)],
        consts={"table": dequantize_table(s_in, z_in)},
    )


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp = ins[0]
    if inp.size != out.size:
        raise unsupported(op, f"input {list(inp.shape)} and output {list(out.shape)} differ")
    if op.opcode == "QUANTIZE":
        return _lower_quantize(op, inp, out)
    return _lower_dequantize(op, inp, out)
