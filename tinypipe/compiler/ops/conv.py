"""CONV_2D lowering: int8 NHWC convolution with per-channel requantization.

Also home of the pieces CONV_2D and DEPTHWISE_CONV_2D share: TFLite's padding rule, the checks
on weights, bias and quantization parameters, and the shape of the kernel call.
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator, Tensor

from .base import (
    C,
    Lowered,
    T,
    channel_multipliers,
    fused_activation_range,
    io,
    require_int8,
    unsupported,
)


def conv_padding(
    padding: str, in_size: int, filter_size: int, stride: int, dilation: int
) -> tuple[int, int]:
    """(output size, leading padding) along one spatial axis, as TFLite's
    ComputePaddingHeightWidth: SAME pads by half the total (rounded down), so an odd total
    puts the extra row/column at the bottom/right; VALID never pads."""
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size + stride - effective) // stride
    total = max((out - 1) * stride + effective - in_size, 0)
    return out, total // 2


def check_conv_op(
    op: Operator,
    inp: Tensor,
    weights: Tensor,
    bias: Tensor | None,
    out: Tensor,
    channel_axis: int,
) -> tuple[dict[str, object], np.ndarray, np.ndarray]:
    """Checks and precomputation common to the convolutions. Returns the params shared by
    tp_conv_params and tp_depthwise_conv_params (geometry, offsets, clamp range) and the
    per-output-channel requantization multipliers and shifts."""
    require_int8(op, inp, weights, out)
    if weights.data is None:
        raise unsupported(
            op, "the filter is not constant", "Use a Conv2D layer with fixed (trained) weights."
        )
    if len(inp.shape) != 4 or len(weights.shape) != 4 or len(out.shape) != 4:
        raise unsupported(
            op,
            f"input {list(inp.shape)}, filter {list(weights.shape)} and output "
            f"{list(out.shape)} must all be 4-D (NHWC)",
        )
    if inp.quant.scale.size != 1 or out.quant.scale.size != 1:
        raise unsupported(op, "the input and output must be quantized per tensor")
    channels = out.shape[3]
    wq = weights.quant
    if wq.scale.size not in (1, channels) or (wq.scale.size > 1 and wq.axis != channel_axis):
        raise unsupported(
            op,
            f"the filter has {wq.scale.size} scales on axis {wq.axis}; expected 1 (per tensor) "
            f"or {channels} on axis {channel_axis} (per output channel)",
        )
    if np.any(wq.zero_point != 0):
        raise unsupported(
            op,
            "the filter has a nonzero zero point; TFLite's int8 spec (and TFLM, which ignores it) "
            "requires symmetric weights",
            "Quantize the model with the TFLite converter, which makes int8 weights symmetric.",
        )
    if bias is not None:
        if bias.data is None or bias.dtype != "int32":
            raise unsupported(op, f"the bias must be a constant int32 tensor, not {bias.dtype}")
        if bias.size != channels:
            raise unsupported(op, f"the bias has {bias.size} values for {channels} channels")

    opts = op.options
    padding = opts.get("padding", "SAME")
    stride_h, stride_w = int(opts.get("stride_h", 1)), int(opts.get("stride_w", 1))
    dil_h = int(opts.get("dilation_h_factor", 1))
    dil_w = int(opts.get("dilation_w_factor", 1))
    if padding not in ("SAME", "VALID"):
        raise unsupported(op, f"padding {padding} is not SAME or VALID")
    if min(stride_h, stride_w, dil_h, dil_w) < 1:
        raise unsupported(op, "strides and dilation factors must be at least 1")
    batches, in_h, in_w, _ = inp.shape
    filter_h, filter_w = weights.shape[1], weights.shape[2]
    out_h, pad_h = conv_padding(padding, in_h, filter_h, stride_h, dil_h)
    out_w, pad_w = conv_padding(padding, in_w, filter_w, stride_w, dil_w)
    if out.shape[:3] != (batches, out_h, out_w):
        raise unsupported(
            op,
            f"the output shape {list(out.shape)} does not match the {padding} convolution of "
            f"input {list(inp.shape)} (expected [{batches}, {out_h}, {out_w}, {channels}])",
        )
    lo, hi = fused_activation_range(op, out.scale, out.zero_point)
    mult, shift = channel_multipliers(inp, weights, out, channels)
    params = {
        "batches": batches,
        "input_h": in_h,
        "input_w": in_w,
        "input_c": inp.shape[3],
        "filter_h": filter_h,
        "filter_w": filter_w,
        "output_h": out_h,
        "output_w": out_w,
        "stride_h": stride_h,
        "stride_w": stride_w,
        "dilation_h": dil_h,
        "dilation_w": dil_w,
        "pad_h": pad_h,
        "pad_w": pad_w,
        "input_offset": -inp.zero_point,
        "output_offset": out.zero_point,
        "act_min": lo,
        "act_max": hi,
    }
    return params, mult, shift.astype(np.int32)


# Shorter filter rows are gathered (im2col) rather than read in place: a dot product per
# short row would cost more than copying the window once for all output channels.
MIN_IN_PLACE_ROW = 16


def window_inside(pad: int, in_size: int, out_size: int, k: int, stride: int, dil: int) -> bool:
    """Whether every output position's window along one axis lies inside the input."""
    origins = np.arange(out_size) * stride - pad
    return bool(np.all((origins >= 0) & (origins + (k - 1) * dil < in_size)))


def all_windows_inside(params: dict[str, object]) -> bool:
    """Whether no window of the convolution reaches the padding (e.g. VALID, or 1x1 SAME)."""
    p = params
    return window_inside(
        p["pad_h"], p["input_h"], p["output_h"], p["filter_h"], p["stride_h"], p["dilation_h"]
    ) and window_inside(
        p["pad_w"], p["input_w"], p["output_w"], p["filter_w"], p["stride_w"], p["dilation_w"]
    )


def fold_input_offset(
    op: Operator, inp: Tensor, bias: Tensor | None, w: np.ndarray, channels: int
) -> np.ndarray:
    """bias[c] + input_offset * sum(w[c]) per output channel, from `w` shaped [channels, taps]:
    with it the kernels compute sum w*(x - zp_in) + bias as the plain int8 dot product
    sum w*x, plus this constant. Refuses (rather than overflow int32) if some partial sum of
    that dot product could leave int32: |folded| + 128 * sum |w| is a bound for any order."""
    w = w.astype(np.int64)
    folded = -int(inp.zero_point) * w.sum(axis=1)
    if bias is not None:
        folded = folded + bias.data.astype(np.int64).reshape(channels)
    bound = np.abs(folded) + 128 * np.abs(w).sum(axis=1)
    if bound.max(initial=0) >= 2**31:
        raise unsupported(op, "the accumulator of a channel could exceed int32")
    return folded.astype(np.int32)


def accumulator_bound(folded_bias: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per output channel, a bound on |accumulator| of the kernels' dot product (any order):
    |folded bias| + 128 * sum |w|, from `w` shaped [channels, taps]."""
    return np.abs(folded_bias.astype(np.int64)) + 128 * np.abs(w.astype(np.int64)).sum(axis=1)


def requant_records(
    mult: np.ndarray, shift: np.ndarray, zero_point: int, bound: np.ndarray
) -> np.ndarray | None:
    """The 3 words per channel tp_output_rq_s8 reads (tp_common.h): multiplier,
    2^(r-2) + zero_point * 2^(r-1) and r - 1, with r = -shift; None when some channel does not
    qualify: a shift above -2, or a high word (at most |acc| * M / 2^32 + 1, plus that
    constant and the sign term) that could leave int32 for an accumulator within `bound`."""
    r = -shift.astype(np.int64)
    if r.size == 0 or np.any(r < 2):
        return None
    m = mult.astype(np.int64)
    rounding = np.left_shift(1, r - 2) + int(zero_point) * np.left_shift(1, r - 1)
    high = (bound.astype(np.int64) * m >> 32) + 2 + np.abs(rounding)
    if np.any(high >= 2**31 - 1):
        return None
    return np.stack([m, rounding, r - 1], axis=1).astype(np.int32).reshape(-1)


def use_requant_records(low: Lowered, rq: np.ndarray) -> None:
    """Switch a conv-like call to the requantization records `rq` (requant_records), dropping
    the multiplier and shift arrays the fast kernels do not read (NULL in the params)."""
    for name in ("multiplier", "shift"):
        del low.consts[name]
        del low.params[name]
    low.consts["requant"] = rq
    low.params["requant"] = C("requant")


def conv_call(
    source: str,
    inp: Tensor,
    weights: Tensor,
    out: Tensor,
    params: dict[str, object],
    mult: np.ndarray,
    shift: np.ndarray,
    folded_bias: np.ndarray,
    scratch_bytes: int,
) -> Lowered:
    """The call `<source>_s8(&params, input, filter, output, scratch or NULL)`, with the folded
    bias and the per-output-channel requantization as op-local constant arrays."""
    # The kernels' tp_requantize_nonneg needs multipliers >= 0, which positive scales give.
    assert np.all(mult >= 0), "requantization multipliers must be >= 0"
    return Lowered(
        func=f"{source}_s8",
        source=source,
        params_type=f"{source}_params",
        params={
            **params,
            "bias": C("bias"),
            "multiplier": C("multiplier"),
            "shift": C("shift"),
        },
        # The scratch pointer is appended by codegen when scratch_bytes > 0; NULL otherwise.
        args=[T(inp.index), T(weights.index), T(out.index)] + ([] if scratch_bytes else [None]),
        consts={"bias": folded_bias, "multiplier": mult, "shift": shift},
        scratch_bytes=scratch_bytes,
    )


def lower(op: Operator, g: Graph, int16_weights: bool = True) -> Lowered:
    """The layer's call; with `int16_weights=False` it keeps its int8 weights even where the
    int16-expanded layout would apply (a flash budget's choice, flash_budget.py)."""
    ins, (out,) = io(g, op)
    inp, weights = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    common, mult, shift = check_conv_op(op, inp, weights, bias, out, channel_axis=0)
    input_c, filter_c, output_c = inp.shape[3], weights.shape[3], out.shape[3]
    if weights.shape[0] != output_c:
        raise unsupported(op, f"the filter has {weights.shape[0]} filters for {output_c} channels")
    if filter_c < 1 or input_c % filter_c:
        raise unsupported(
            op,
            f"{input_c} input channels cannot be split into groups of {filter_c} (the filter depth)",
        )
    groups = input_c // filter_c
    if output_c % groups:
        raise unsupported(
            op, f"{output_c} output channels cannot be split evenly into {groups} groups"
        )
    params = {**common, "filter_c": filter_c, "output_c": output_c, "groups": groups}
    folded = fold_input_offset(op, inp, bias, weights.data.reshape(output_c, -1), output_c)
    # Windows inside the input are read where they lie when their filter rows are contiguous
    # input bytes (ungrouped, no horizontal dilation) and either long enough to be worth a
    # dot product each or back to back; every other window is gathered into a scratch patch,
    # two pixels at a time (see tp_conv.c).
    filter_row = weights.shape[2] * filter_c
    read_in_place = (
        groups == 1
        and common["dilation_w"] == 1
        and (
            weights.shape[1] == 1
            or filter_row >= MIN_IN_PLACE_ROW
            or common["dilation_h"] * common["input_w"] * input_c == filter_row
        )
    )
    params["read_in_place"] = int(read_in_place)
    params["patch_pad"] = 0
    gathers = not (read_in_place and all_windows_inside(params))
    scratch = 2 * int(np.prod(weights.shape[1:])) if gathers else 0
    low = conv_call("tp_conv", inp, weights, out, params, mult, shift, folded, scratch)
    w = weights.data.reshape(output_c, -1)
    rq = requant_records(mult, shift, out.zero_point, accumulator_bound(folded, w))
    if groups != 1 or rq is None or not int16_weights:
        return low
    # Short filter rows that are not whole words (a 3x3 window over 1-3 channels) are always
    # gathered, and the gathered patch, padded with up to 3 bytes met by zero weights, runs on
    # the int16 tile too.
    gather_all = filter_row % 4 != 0 and filter_row < MIN_IN_PLACE_ROW
    # Weights of -128 (outside TFLite's symmetric int8 range) would overflow the int16 sums of
    # two products the Cortex-M0 order of these weights relies on (thumb1.py).
    if expand_weights_pays(params, 4 if gather_all else filter_row) and w.min() > -128:
        if gather_all:
            pad = (-w.shape[1]) % 4
            low.params.update(read_in_place=0, patch_pad=pad)
            low.scratch_bytes = 2 * (w.shape[1] + pad)
            if low.args[-1] is None:  # no scratch before: every window is gathered now
                low.args.pop()
            w = np.pad(w, ((0, 0), (0, pad)))
        low.func = "tp_conv_w16_s8"
        low.consts["filter16"] = interleave_w16(w)
        use_requant_records(low, rq)
        low.args[1] = C("filter16")
    return low


# An int16-expanded filter costs one extra flash byte per weight and saves about a third of the
# instructions of every MAC on that weight, once per output pixel: worth it when the filter is
# reused over at least this many output pixels.
W16_MIN_PIXELS = 16


def expand_weights_pays(params: dict[str, object], filter_row: int) -> bool:
    """Whether an ungrouped conv runs on int16-expanded weights (tp_conv_w16_s8): the kernel
    needs filter rows of whole words and output channels in fours, and the flash it costs pays
    when the filter is reused over enough output pixels."""
    return (
        filter_row % 4 == 0
        and params["output_c"] % 4 == 0
        and params["output_h"] * params["output_w"] >= W16_MIN_PIXELS
    )


def interleave_w16(w: np.ndarray) -> np.ndarray:
    """The [output_c, taps] int8 filter as tp_conv_w16_s8 reads it (tp_conv.h): per group of 4
    output channels and run of 4 taps k..k+3, for each channel w[k], w[k+2], w[k+1], w[k+3]
    as int16, which is what SMLAD pairs with SXTB16's (x[k], x[k+2]) and (x[k+1], x[k+3])."""
    channels, taps = w.shape
    t = w.astype(np.int16).reshape(channels // 4, 4, taps // 4, 4)[..., [0, 2, 1, 3]]
    return np.ascontiguousarray(t.transpose(0, 2, 1, 3)).reshape(-1)
