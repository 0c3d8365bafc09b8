"""Per-op knowledge: which builtin ops the compiled-C backend supports and how each is lowered.

Each op family lives in its own module with a `lower(op, graph) -> Lowered` function, and its C
kernel in firmware/runtime/<source>.c.
"""

from __future__ import annotations

import importlib

from tinypipe.compiler.graph import Graph, Operator

from ..shapes import shape_only_ops
from .base import Lowered, unsupported

# builtin op -> (family module, highest op version verified bit-exact against TFLM)
FAMILIES: dict[str, tuple[str, int]] = {
    "CONV_2D": ("conv", 8),
    "DEPTHWISE_CONV_2D": ("depthwise_conv", 7),
    "FULLY_CONNECTED": ("fully_connected", 12),
    "AVERAGE_POOL_2D": ("pooling", 4),
    "MAX_POOL_2D": ("pooling", 4),
    "ADD": ("add", 5),
    "MUL": ("mul", 7),
    "PAD": ("pad", 4),
    "PADV2": ("pad", 4),
    "CONCATENATION": ("concatenation", 4),
    "MEAN": ("mean", 3),
    "SOFTMAX": ("softmax", 3),
    "LOGISTIC": ("activations", 3),
    "TANH": ("activations", 3),
    "HARD_SWISH": ("activations", 1),
    "RELU": ("activations", 3),
    "RELU6": ("activations", 3),
    "LEAKY_RELU": ("activations", 2),
    "QUANTIZE": ("quantize", 3),
    "DEQUANTIZE": ("quantize", 5),
    "RESHAPE": ("reshape", 1),
    "SQUEEZE": ("reshape", 1),
    "EXPAND_DIMS": ("reshape", 1),
    "TRANSPOSE": ("transpose", 6),
    "DEPTH_TO_SPACE": ("transpose", 2),
    "SPACE_TO_DEPTH": ("transpose", 2),
    "SLICE": ("slice", 6),
    "STRIDED_SLICE": ("slice", 8),
    "SPLIT": ("split", 4),
    "SPLIT_V": ("split", 3),
    "UNPACK": ("split", 4),
    "PACK": ("pack", 4),
    "GATHER": ("gather", 7),
    "SUB": ("sub", 5),
    "MAXIMUM": ("minmax", 4),
    "MINIMUM": ("minmax", 4),
    "SQUARED_DIFFERENCE": ("squared_difference", 2),
    "ARG_MAX": ("arg_min_max", 3),
    "ARG_MIN": ("arg_min_max", 3),
    "RESIZE_NEAREST_NEIGHBOR": ("resize", 4),
    "RESIZE_BILINEAR": ("resize", 4),
    "TRANSPOSE_CONV": ("transpose_conv", 4),
    "BATCH_MATMUL": ("batch_matmul", 4),
    "ABS": ("unary_lut", 5),
    "RSQRT": ("unary_lut", 3),
    "SUM": ("reduce", 2),
    "REDUCE_MAX": ("reduce", 3),
    "PRELU": ("prelu", 1),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": ("lstm", 4),
    "SVDF": ("svdf", 4),
    "MIRROR_PAD": ("mirror_pad", 2),
}

# Keras-level advice for ops users commonly hit.
ADVICE: dict[str, str] = {
    "SHAPE": "Build the model on keras.Input(..., batch_size=1) so no dynamic shape ops are added.",
    "CUSTOM:ethos-u": "Give tinypipe the model before Vela: the int8 .tflite you passed to `vela`.",
    "GELU": "Use activation='relu' or 'hard_swish' instead of gelu.",
    "LOG_SOFTMAX": "Use layers.Softmax and take the log on the host.",
    "BATCH_TO_SPACE_ND": "Use dilation_rate=1 or padding='same' convolutions without dilation tricks.",
    "SPACE_TO_BATCH_ND": "Use dilation_rate=1 or padding='same' convolutions without dilation tricks.",
}


# 16x8 lowerings (int16 activations): builtin op -> "module:function", used instead of the
# family's int8 lowering when the op's first input or output is int16.
S16_LOWERINGS: dict[str, str] = {
    "CONV_2D": "conv_s16:lower_conv",
    "DEPTHWISE_CONV_2D": "conv_s16:lower_depthwise",
    "FULLY_CONNECTED": "fully_connected_s16:lower",
    "ADD": "add_s16:lower",
    "MUL": "mul_s16:lower",
    "TRANSPOSE_CONV": "transpose_conv_s16:lower",
    "SUB": "add_s16:lower",
    "AVERAGE_POOL_2D": "pooling_s16:lower",
    "MAX_POOL_2D": "pooling_s16:lower",
    "MEAN": "mean_s16:lower",
    "SOFTMAX": "softmax_s16:lower",
    "QUANTIZE": "quantize_s16:lower",
    "DEQUANTIZE": "quantize_s16:lower",
    "RELU": "relu_s16:lower",
    "LEAKY_RELU": "relu_s16:lower",
    "LOGISTIC": "act_s16:lower",
    "TANH": "act_s16:lower",
}


# The families whose lowering may expand int8 weights to int16 (tp_conv_w16_s8,
# tp_depthwise_conv_w16_s8); they take `int16_weights`.
EXPANDS_WEIGHTS = ("conv", "depthwise_conv")


def _int16_activations(op: Operator, graph: Graph) -> bool:
    first = [
        graph.tensors[i] for i in op.inputs[:1] + op.outputs[:1] if 0 <= i < len(graph.tensors)
    ]
    return any(t.dtype == "int16" for t in first)


def supported_ops() -> list[str]:
    return sorted(FAMILIES)


def is_supported(op: Operator) -> bool:
    fam = FAMILIES.get(op.opcode)
    return fam is not None and op.version <= fam[1]


def lower(op: Operator, graph: Graph, int16_weights: bool = True) -> Lowered:
    """The op's call. `int16_weights=False` keeps a convolution's int8 weights where the
    int16-expanded layout would apply (chosen under a flash budget, flash_budget.py)."""
    if op.index in shape_only_ops(graph):
        return Lowered(folded=True)
    fam = FAMILIES.get(op.opcode)
    if fam is None:
        advice = ADVICE.get(
            op.opcode,
            "Change the layer to one of the supported ops, or run the model with the TFLM "
            "interpreter (`tinypipe export MODEL --format tflm`).",
        )
        raise unsupported(
            op, f"the op is not supported. Supported ops: {', '.join(supported_ops())}", advice
        )
    module, max_version = fam
    if op.version > max_version:
        raise unsupported(
            op,
            f"only versions 1..{max_version} of {op.opcode} are supported",
            "Convert the model with a TensorFlow release whose converter emits a supported version.",
        )
    if op.opcode in S16_LOWERINGS and _int16_activations(op, graph):
        module, func = S16_LOWERINGS[op.opcode].split(":")
        return getattr(importlib.import_module(f"{__name__}.{module}"), func)(op, graph)
    family = importlib.import_module(f"{__name__}.{module}")
    if int16_weights or module not in EXPANDS_WEIGHTS:
        low = family.lower(op, graph)
    else:
        low = family.lower(op, graph, int16_weights=False)
    # Layers with at most 16 distinct weight values take 4-bit packed weights (see packed.py).
    from .packed import maybe_pack

    return maybe_pack(op, graph, low)
