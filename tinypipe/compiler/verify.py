"""Validate an untrusted .tflite before anything else reads it.

A model file comes from anywhere (model hubs, papers, colleagues), and later stages index arrays,
size C buffers and hand the bytes to the TFLM interpreter on the strength of what it says. So
every index, size, shape, quantization parameter and the order of the graph are checked here,
in two passes: `check_flatbuffer` on the decoded schema objects (indices and buffers, before
`graph.py` touches them) and `check_graph` on the IR (types, arity, options, order,
quantization). A failed check is a `TinypipeError` naming the tensor or operator; nothing is
ever silently defaulted or clamped.
"""

from __future__ import annotations

import math

import numpy as np

from tinypipe.errors import TinypipeError, UnsupportedModelError

# Every tensor must fit in C `int32_t` byte offsets with room for index arithmetic in kernels:
# 256 MiB per tensor and 2**31 - 1 bytes for all weights together.
MAX_TENSOR_BYTES = 1 << 28
MAX_TOTAL_BYTES = (1 << 31) - 1
MAX_RANK = 6

# Integer types a quantized tensor may have, with the zero-point range the TFLite spec allows.
_ZP_RANGE = {
    "int8": (-128, 127),
    "uint8": (0, 255),
    "int16": (-32768, 32767),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}

# builtin op -> (min inputs, max inputs, outputs, options table or None, options required).
# Optional inputs may be -1. Only ops tinypipe knows are listed; others get the generic checks.
ARITY: dict[str, tuple[int, int, int, str | None, bool]] = {
    "CONV_2D": (2, 3, 1, "Conv2DOptions", True),
    "DEPTHWISE_CONV_2D": (2, 3, 1, "DepthwiseConv2DOptions", True),
    "FULLY_CONNECTED": (2, 3, 1, "FullyConnectedOptions", True),
    "AVERAGE_POOL_2D": (1, 1, 1, "Pool2DOptions", True),
    "MAX_POOL_2D": (1, 1, 1, "Pool2DOptions", True),
    "ADD": (2, 2, 1, "AddOptions", False),
    "MUL": (2, 2, 1, "MulOptions", False),
    "SUB": (2, 2, 1, "SubOptions", False),
    "PAD": (2, 2, 1, "PadOptions", False),
    "PADV2": (2, 3, 1, "PadV2Options", False),
    "MIRROR_PAD": (2, 2, 1, "MirrorPadOptions", False),
    "CONCATENATION": (1, 1 << 10, 1, "ConcatenationOptions", True),
    "MEAN": (2, 2, 1, "ReducerOptions", True),
    "SOFTMAX": (1, 1, 1, "SoftmaxOptions", True),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": (24, 24, 1, "UnidirectionalSequenceLSTMOptions", True),
    "SVDF": (5, 5, 1, "SVDFOptions", True),
    "LOGISTIC": (1, 1, 1, None, False),
    "TANH": (1, 1, 1, None, False),
    "HARD_SWISH": (1, 1, 1, "HardSwishOptions", False),
    "RELU": (1, 1, 1, None, False),
    "RELU6": (1, 1, 1, None, False),
    "LEAKY_RELU": (1, 1, 1, "LeakyReluOptions", True),
    "QUANTIZE": (1, 1, 1, "QuantizeOptions", False),
    "DEQUANTIZE": (1, 1, 1, "DequantizeOptions", False),
    "RESHAPE": (1, 2, 1, "ReshapeOptions", False),
    "SQUEEZE": (1, 1, 1, "SqueezeOptions", False),
    "EXPAND_DIMS": (2, 2, 1, "ExpandDimsOptions", False),
    "TRANSPOSE_CONV": (3, 4, 1, "TransposeConvOptions", True),
}
# Inputs that may be omitted (-1), by op: (input position, ...).
_OPTIONAL_INPUTS = {
    # CIFG, peephole, projection and layer-norm tensors (lstm.py refuses those variants)
    "UNIDIRECTIONAL_SEQUENCE_LSTM": (1, 5, 9, 10, 11, 16, 17, 20, 21, 22, 23),
    "SVDF": (3,),
    "CONV_2D": (2,),
    "DEPTHWISE_CONV_2D": (2,),
    "FULLY_CONNECTED": (2,),
    "PADV2": (2,),
    "TRANSPOSE_CONV": (3,),
}


def _invalid(where: str, what: str) -> TinypipeError:
    return TinypipeError(
        f"{where or 'The model'} is not a valid TFLite model: {what}.",
        "The file is damaged or was not written by the TFLite converter; re-export it from the "
        "original model, and do not feed tinypipe models from sources you cannot check.",
    )


def _in_range(i: int, n: int) -> bool:
    return 0 <= i < n


# ----------------------------------------------------------------------------- pass 1: schema


def check_flatbuffer(m, raw: bytes, where: str, type_sizes: dict[int, int]) -> None:
    """Indices and buffers of the decoded ModelT `m`, before any of them is followed.

    `type_sizes` maps the TensorType enum values tinypipe can read to their element size.
    """
    if not m.subgraphs:
        raise _invalid(where, "it has no subgraph")
    buffers = m.buffers or []
    codes = m.operatorCodes or []
    _check_buffers(m, raw, where)
    for s, sg in enumerate(m.subgraphs):
        tag = "" if s == 0 else f"subgraph {s}: "
        tensors = sg.tensors or []
        n = len(tensors)
        scratch = _intermediates_only(sg)
        for k, t in enumerate(tensors):
            _check_tensor(t, k, tag, where, buffers, raw, type_sizes, k in scratch)
        for role, lst in (("input", sg.inputs), ("output", sg.outputs)):
            lst = [] if lst is None else [int(x) for x in lst]
            for i in lst:
                if not _in_range(i, n):
                    raise _invalid(where, f"{tag}graph {role} {i} is not a tensor (0..{n - 1})")
            if len(set(lst)) != len(lst):
                raise _invalid(where, f"{tag}a tensor is listed twice as a graph {role}")
        for k, o in enumerate(sg.operators or []):
            if not _in_range(int(o.opcodeIndex), len(codes)):
                raise _invalid(
                    where, f"{tag}operator #{k} uses opcode {o.opcodeIndex} of {len(codes)}"
                )
            for i in [] if o.inputs is None else o.inputs:
                if not (-1 <= int(i) < n):
                    raise _invalid(where, f"{tag}operator #{k} reads tensor {i} (0..{n - 1})")
            for i in [] if o.outputs is None else o.outputs:
                if not _in_range(int(i), n):
                    raise _invalid(where, f"{tag}operator #{k} writes tensor {i} (0..{n - 1})")
            for name in ("intermediates",):
                listed = getattr(o, name, None)
                for i in [] if listed is None else listed:
                    if not _in_range(int(i), n):
                        raise _invalid(where, f"{tag}operator #{k} {name} tensor {i} (0..{n - 1})")


def _check_buffers(m, raw: bytes, where: str) -> None:
    """External buffers (offset > 1) must lie inside the file, after the flatbuffer, disjoint."""
    spans = []
    for b, buf in enumerate(m.buffers or []):
        off, size = int(buf.offset or 0), int(buf.size or 0)
        if off > 1:
            if size <= 0 or off + size > len(raw):
                raise _invalid(
                    where, f"buffer {b} spans bytes {off}..{off + size} of a {len(raw)}-byte file"
                )
            spans.append((off, off + size, b))
    if not spans:
        return
    spans.sort()
    for (_, e0, b0), (s1, _, b1) in zip(spans, spans[1:]):
        if s1 < e0:
            raise _invalid(where, f"buffers {b0} and {b1} overlap in the file")
    first, _, b = spans[0]
    if first < _flatbuffer_extent(raw):
        raise _invalid(where, f"buffer {b} at byte {first} points into the flatbuffer itself")


def _flatbuffer_extent(raw: bytes) -> int:
    """A lower bound of where the flatbuffer ends: past its root table and every inline buffer."""
    from .graph import schema

    model = schema.Model.GetRootAs(raw, 0)
    end = int.from_bytes(raw[:4], "little") + 4
    for b in range(model.BuffersLength()):
        tab = model.Buffers(b)._tab
        o = tab.Offset(4)  # Buffer.data
        if o:
            end = max(end, tab.Vector(o) + tab.VectorLen(o))
    return end


def _intermediates_only(sg) -> set[int]:
    """Tensors only listed as some op's `intermediates` (the converter's quantized LSTM writes
    shape-[0] placeholders there), never read, written, a graph input/output or stored."""
    listed = {
        int(i)
        for o in sg.operators or []
        for i in (o.intermediates if o.intermediates is not None else [])
    }
    used = {
        int(i)
        for o in sg.operators or []
        for i in list(o.inputs if o.inputs is not None else [])
        + list(o.outputs if o.outputs is not None else [])
    }
    used |= {
        int(i)
        for i in list(sg.inputs if sg.inputs is not None else [])
        + list(sg.outputs if sg.outputs is not None else [])
    }
    tensors = sg.tensors or []
    return {i for i in listed - used if 0 <= i < len(tensors) and not tensors[i].buffer}


def _check_tensor(
    t, k: int, tag: str, where: str, buffers, raw: bytes, type_sizes, placeholder: bool = False
) -> None:
    label = f"{tag}tensor #{k}"
    shape = [] if t.shape is None else [int(d) for d in t.shape]
    if len(shape) > MAX_RANK:
        raise _invalid(where, f"{label} has rank {len(shape)} (at most {MAX_RANK})")
    if any(d < 0 for d in shape) or (any(d == 0 for d in shape) and not placeholder):
        raise _invalid(where, f"{label} has shape {shape}: every dimension must be at least 1")
    if t.shapeSignature is not None and len(t.shapeSignature):
        sig = [int(d) for d in t.shapeSignature]
        if len(sig) != len(shape) or any(d != s and d != -1 for d, s in zip(sig, shape)):
            raise _invalid(where, f"{label} has shape {shape} but shape signature {sig}")
    itemsize = type_sizes.get(int(t.type))
    if itemsize is None:
        raise _invalid(where, f"{label} has tensor type {t.type}, which tinypipe cannot read")
    count = math.prod(shape)
    # INT4 constants are packed two per byte (low nibble first); itemsize 0 marks that type.
    stored = (count + 1) // 2 if itemsize == 0 else count * itemsize
    if count * max(itemsize, 1) > MAX_TENSOR_BYTES:
        raise _invalid(
            where,
            f"{label} has {count:,} elements ({count * itemsize:,} bytes); tinypipe caps a "
            f"tensor at {MAX_TENSOR_BYTES:,} bytes so every size fits a C int32",
        )
    b = int(t.buffer)
    if not _in_range(b, max(len(buffers), 1)):
        raise _invalid(where, f"{label} uses buffer {b} of {len(buffers)}")
    nbytes = 0
    if b > 0 and b < len(buffers):
        buf = buffers[b]
        nbytes = (
            int(buf.size)
            if (buf.offset or 0) > 1
            else len(buf.data if buf.data is not None else [])
        )
        if nbytes and nbytes != stored:
            raise _invalid(
                where,
                f"{label} of shape {shape} needs {stored} bytes, its buffer {b} holds {nbytes}",
            )
    if itemsize == 0 and not nbytes:
        raise _invalid(
            where, f"{label} is INT4 without data: tinypipe reads INT4 only as constant weights"
        )
    q = t.quantization
    if q is not None:
        _check_quant(q, label, shape, where)


def _check_quant(q, label: str, shape: list[int], where: str) -> None:
    scale = [] if q.scale is None else [float(s) for s in q.scale]
    zps = [] if q.zeroPoint is None else [int(z) for z in q.zeroPoint]
    if not scale and not zps:
        return
    if not scale:  # zero points alone carry no quantization: the tensor is not quantized
        return
    if zps and len(zps) != len(scale):
        raise _invalid(where, f"{label} has {len(scale)} scales but {len(zps)} zero points")
    if len(scale) > 1:
        axis = int(q.quantizedDimension)
        if not _in_range(axis, len(shape)) or shape[axis] != len(scale):
            raise _invalid(
                where,
                f"{label} of shape {shape} has {len(scale)} per-channel scales on axis {axis}",
            )


# ----------------------------------------------------------------------------- pass 2: the IR


def check_graph(graph, where: str) -> None:
    """Types, quantization, arity, options and order of the main subgraph's ops."""
    total = 0
    for t in graph.tensors:
        if t.is_const:
            total += t.nbytes
        if t.quant is not None:
            _check_quant_values(t, where)
    if total > MAX_TOTAL_BYTES:
        raise _invalid(where, f"its constants total {total:,} bytes (at most {MAX_TOTAL_BYTES:,})")
    for op in graph.operators:
        _check_op(graph, op, where)
    _check_order(graph, where)
    for op in graph.operators:
        _check_shapes(graph, op, where)
        _check_accumulator(graph, op, where)
        _check_requant(graph, op, where)


def _check_quant_values(t, where: str) -> None:
    label = f"tensor #{t.index} '{t.name}'"
    scale = np.asarray(t.quant.scale, dtype=np.float64)
    if not np.all(np.isfinite(scale)) or not np.all(scale > 0):
        bad = scale[~(np.isfinite(scale) & (scale > 0))][0]
        raise _invalid(
            where, f"{label} has quantization scale {bad}: scales must be finite and > 0"
        )
    f32 = scale.astype(np.float32)
    if not np.all(np.isfinite(f32)) or not np.all(f32 > 0):
        raise _invalid(where, f"{label} has a quantization scale outside float32's range")
    lo_hi = _ZP_RANGE.get(t.dtype)
    zp = t.quant.zero_point
    if lo_hi is not None and zp.size and (zp.min() < lo_hi[0] or zp.max() > lo_hi[1]):
        bad = int(zp[(zp < lo_hi[0]) | (zp > lo_hi[1])][0])
        raise _invalid(
            where, f"{label} ({t.dtype}) has zero point {bad}, outside {lo_hi[0]}..{lo_hi[1]}"
        )


def _check_op(graph, op, where: str) -> None:
    label = f"operator #{op.index} {op.opcode}"
    if not op.outputs:
        raise _invalid(where, f"{label} has no output")
    if len(set(op.outputs)) != len(op.outputs):
        raise _invalid(where, f"{label} writes the same tensor twice")
    rule = ARITY.get(op.opcode)
    if rule is None:
        return
    lo, hi, nout, opt_type, required = rule
    if not lo <= len(op.inputs) <= hi or len(op.outputs) != nout:
        want = f"{lo}" if lo == hi else f"{lo}..{hi}"
        raise _invalid(
            where,
            f"{label} has {len(op.inputs)} inputs and {len(op.outputs)} outputs "
            f"({want} inputs and {nout} output expected)",
        )
    optional = _OPTIONAL_INPUTS.get(op.opcode, ())
    for pos, i in enumerate(op.inputs):
        if i < 0 and pos not in optional:
            raise _invalid(where, f"{label} omits its required input {pos}")
    _check_geometry(graph, op, label, where)
    got = getattr(op, "options_type", None)
    if got is not None:
        if got and got != opt_type:
            raise _invalid(where, f"{label} carries {got}, not {opt_type or 'no options'}")
        if required and not got:
            raise _invalid(where, f"{label} has no {opt_type}, which it needs")


# Weighted-sum ops and the axis of their weights that holds the output channel.
_CHANNEL_AXIS = {"CONV_2D": 0, "FULLY_CONNECTED": 0, "DEPTHWISE_CONV_2D": -1}


def _check_accumulator(graph, op, where: str) -> None:
    """int8 weighted sums accumulate in int32 (in TFLM and in tinypipe's kernels): refuse weights
    whose worst-case sum, 255 * sum|w - zp_w| + |bias| per output channel, overflows it."""
    axis = _CHANNEL_AXIS.get(op.opcode)
    if axis is None or len(op.inputs) < 2 or min(op.inputs[:2]) < 0:
        return
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    if x.dtype != "int8" or w.dtype != "int8" or not w.is_const or w.data.ndim == 0:
        return
    zw = int(w.quant.zero_point[0]) if w.quant is not None and w.quant.zero_point.size else 0
    mag = np.abs(np.moveaxis(w.data.astype(np.int64), axis, 0) - zw).reshape(w.data.shape[axis], -1)
    worst = 255 * mag.sum(axis=1)
    b = op.inputs[2] if len(op.inputs) > 2 else -1
    if b >= 0 and graph.tensors[b].is_const and graph.tensors[b].data.size == worst.size:
        worst = worst + np.abs(graph.tensors[b].data.astype(np.int64).ravel())
    # The requantization M = s_in * s_w / s_out scales the accumulator up by 2^(exponent of M)
    # before its high half is taken, in int32: that too must not overflow.
    out = graph.tensors[op.outputs[0]]
    if x.quant is not None and w.quant is not None and out.quant is not None:
        s_w = np.broadcast_to(w.quant.scale.astype(np.float64), worst.shape)
        real = float(x.quant.scale[0]) * s_w / float(out.quant.scale[0])
        up = np.exp2(np.maximum(np.frexp(real)[1], 0).astype(np.float64))
        if np.max(np.maximum(worst, 1) * up) > 2**31 - 1:
            raise UnsupportedModelError(
                f"Operator #{op.index} {op.opcode} of {where or 'the model'} rescales its int32 "
                f"accumulator by up to {float(real.max()):.3g} (input scale x weight scale / "
                "output scale), which overflows int32 before rounding, in TFLM's kernels as in "
                "tinypipe's.",
                "Check the output tensor's quantization; the converter never writes such scales.",
            )
    if worst.max() > 2**31 - 1:
        raise UnsupportedModelError(
            f"Operator #{op.index} {op.opcode} of {where or 'the model'} can overflow its int32 "
            f"accumulator (worst case {int(worst.max()):,}): its weights are too large for an "
            "int8 weighted sum, in tinypipe's kernels as in TFLM's.",
            "Split the layer, or retrain with weight regularization.",
        )


# Largest input scale / output scale an op may have: beyond it, the integer requantization
# (shifting a sum of up to 2^29 left before taking its high half) overflows int32.
_RATIO_LIMIT = {"ADD": 2.0**19, "SUB": 2.0**19, "MUL": 2.0**14}
_DEFAULT_RATIO_LIMIT = 2.0**22


def _check_requant(graph, op, where: str) -> None:
    if op.opcode in _CHANNEL_AXIS or not op.outputs or not op.inputs or op.inputs[0] < 0:
        return
    out = graph.tensors[op.outputs[0]]
    ins = [graph.tensors[i] for i in op.inputs if i >= 0]
    if out.quant is None or out.dtype not in ("int8", "int16"):
        return
    scales = [float(t.quant.scale[0]) for t in ins if t.quant is not None and not t.is_const]
    if not scales:
        return
    s_in = float(np.prod(scales)) if op.opcode == "MUL" else max(scales)
    ratio = s_in / float(out.quant.scale[0])
    limit = _RATIO_LIMIT.get(op.opcode, _DEFAULT_RATIO_LIMIT)
    if ratio > limit:
        raise UnsupportedModelError(
            f"Operator #{op.index} {op.opcode} of {where or 'the model'} scales its input up by "
            f"{ratio:.3g} (input scale / output scale; at most {limit:g}), which overflows its "
            "int32 requantization, in TFLM's kernels as in tinypipe's.",
            "Check the output tensor's quantization; the converter never writes such scales.",
        )


_GEOMETRY = (
    "stride_w",
    "stride_h",
    "dilation_w_factor",
    "dilation_h_factor",
    "filter_width",
    "filter_height",
)
_MAX_EXTENT = (1 << 15) - 1  # TFLM keeps convolution and pooling padding in int16


def _check_geometry(graph, op, label: str, where: str) -> None:
    """Strides, dilations and filter sizes of convolutions and pools: at least 1, and a dilated
    filter whose padding fits the int16 TFLM stores it in (TFLM silently truncates beyond)."""
    if op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"):
        return
    for key in _GEOMETRY:
        v = op.options.get(key)
        if v is not None and not 1 <= int(v) <= _MAX_EXTENT:
            raise _invalid(where, f"{label} has {key} = {v} (1..{_MAX_EXTENT})")
    w = graph.tensors[op.inputs[1]] if op.opcode.endswith("CONV_2D") else None
    for axis in ("w", "h"):
        dil = int(op.options.get(f"dilation_{axis}_factor", 1) or 1)
        filt = int(op.options.get(f"filter_{'width' if axis == 'w' else 'height'}", 1) or 1)
        if w is not None and len(w.shape) == 4:  # [., kh, kw, .]
            filt = w.shape[2 if axis == "w" else 1]
        if filt * dil > _MAX_EXTENT:
            raise _invalid(
                where, f"{label} spans {filt} x dilation {dil} along {axis}, beyond {_MAX_EXTENT}"
            )


_SAME_SHAPE = {
    "SOFTMAX",
    "LOGISTIC",
    "TANH",
    "RELU",
    "RELU6",
    "LEAKY_RELU",
    "HARD_SWISH",
    "QUANTIZE",
    "DEQUANTIZE",
}


def _check_shapes(graph, op, where: str) -> None:
    """Shapes TFLM reads differently from what they say (it takes the output's last dimension
    as the FULLY_CONNECTED unit count, the input's as the SOFTMAX row...): they must agree."""
    if (
        op.opcode not in _SAME_SHAPE
        and op.opcode not in _CHANNEL_AXIS
        and op.opcode not in ("AVERAGE_POOL_2D", "MAX_POOL_2D")
    ):
        return
    label = f"operator #{op.index} {op.opcode}"
    ins = [graph.tensors[i] if i >= 0 else None for i in op.inputs]
    x, out = ins[0], graph.tensors[op.outputs[0]]

    def bad(what: str) -> TinypipeError:
        return _invalid(where, f"{label}: {what}")

    if op.opcode in _SAME_SHAPE:
        if x.shape != out.shape:
            raise bad(f"output shape {list(out.shape)} differs from input shape {list(x.shape)}")
        return
    if op.opcode in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        if len(x.shape) != 4 or len(out.shape) != 4 or x.shape[::3] != out.shape[::3]:
            raise bad(f"input {list(x.shape)} and output {list(out.shape)} are not NHWC alike")
        return
    w, b = ins[1], ins[2] if len(ins) > 2 else None
    if op.opcode == "FULLY_CONNECTED":
        if len(w.shape) != 2 or not out.shape:
            raise bad(f"weights {list(w.shape)} are not 2-D [units, depth]")
        units, depth = w.shape
        if out.shape[-1] != units or x.size % depth or out.size != x.size // depth * units:
            raise bad(
                f"input {list(x.shape)}, weights {list(w.shape)} and output {list(out.shape)} "
                "do not describe one matrix product"
            )
    else:
        units = w.shape[0] if op.opcode == "CONV_2D" else w.shape[-1]
        if len(w.shape) != 4 or len(x.shape) != 4 or len(out.shape) != 4 or out.shape[3] != units:
            raise bad(
                f"input {list(x.shape)}, weights {list(w.shape)} and output {list(out.shape)} "
                "are not NHWC / OHWI alike"
            )
        if out.shape[0] != x.shape[0]:
            raise bad(f"batch {out.shape[0]} of the output differs from the input's {x.shape[0]}")
    if b is not None and (len(b.shape) != 1 or b.shape[0] != units):
        raise bad(f"bias shape {list(b.shape)} does not hold one value per output ({units})")


def _check_order(graph, where: str) -> None:
    """Ops run in file order: each tensor is written once, before it is read, and never a graph
    input or a constant; every graph output is computed by an op."""
    inputs = set(graph.inputs)
    written = set(inputs)
    writer: dict[int, int] = {}
    read: set[int] = set()
    for t in graph.tensors:
        if t.is_const or t.is_variable:
            written.add(t.index)
    for i in graph.inputs:
        if graph.tensors[i].is_const:
            raise _invalid(where, f"graph input tensor #{i} is a constant")
    for op in graph.operators:
        label = f"operator #{op.index} {op.opcode}"
        for i in op.inputs:
            if i < 0:
                continue
            read.add(i)
            if i not in written:
                later = next((o.index for o in graph.operators if i in o.outputs), None)
                why = (
                    f"written only later, by operator #{later} (the ops are not in execution "
                    "order, or form a cycle)"
                    if later is not None
                    else "never written by any operator"
                )
                raise _invalid(where, f"{label} reads tensor #{i} '{graph.tensors[i].name}', {why}")
        for i in op.outputs:
            t = graph.tensors[i]
            if i in inputs:
                raise _invalid(where, f"{label} writes the graph input tensor #{i}")
            if t.is_const:
                raise _invalid(where, f"{label} writes the constant tensor #{i} '{t.name}'")
            if i in writer:
                raise _invalid(
                    where,
                    f"tensor #{i} '{t.name}' is written by operators #{writer[i]} and #{op.index}",
                )
            writer[i] = op.index
            written.add(i)
    for i in graph.outputs:
        if i not in writer:
            t = graph.tensors[i]
            what = (
                "a constant" if t.is_const else "a graph input" if i in inputs else "never written"
            )
            raise _invalid(
                where, f"graph output tensor #{i} '{t.name}' is {what}, not computed by an operator"
            )
    for i in graph.inputs:
        if i not in read:
            raise _invalid(
                where, f"graph input tensor #{i} '{graph.tensors[i].name}' is never read"
            )
