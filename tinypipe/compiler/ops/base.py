"""What an op lowering hands to code generation: one C kernel call with precomputed constants."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinypipe.compiler.graph import Graph, Operator, Tensor
from tinypipe.errors import UnsupportedModelError

from .quantmath import activation_range, quantize_multipliers


@dataclass(frozen=True)
class T:
    """A tensor of the graph: resolves to a weight array or to the tensor's place in the arena."""

    index: int


@dataclass(frozen=True)
class C:
    """An op-local constant array (see `Lowered.consts`), by name; of op `op` when given (a fused
    call reading the constants of a layer it computes), else of the op being emitted."""

    name: str
    op: int | None = None


@dataclass(frozen=True)
class P:
    """The address of op `op`'s layer parameters: a layer computed inside a fused call keeps
    its own parameter struct, `<model>_op<op>_layer`."""

    op: int


@dataclass(frozen=True)
class Raw:
    """A C expression printed as is (e.g. an enum constant)."""

    text: str


@dataclass
class Lowered:
    """One kernel call.

    `func(&params, *args)` is emitted, where `params` is a `static const params_type` built from
    `params` (field -> int/float/T/C/Raw; a field may be a designator path such as
    "broadcast.dims") and `args` are tensor/const references. Shape-only ops set
    `alias=True` and emit no call: their output shares the input's storage. Run-time shape
    arithmetic whose result nothing uses sets `folded=True`: no call and no storage.
    """

    func: str = ""
    source: str = ""  # runtime file stem holding func, e.g. "tp_fully_connected"
    params_type: str | None = None
    params: dict[str, object] = field(default_factory=dict)
    args: list[object] = field(default_factory=list)
    consts: dict[str, np.ndarray] = field(
        default_factory=dict
    )  # name -> array (dtype decides C type)
    scratch_bytes: int = 0  # op-lifetime scratch in the arena, passed as the last argument
    alias: bool = False
    folded: bool = False
    # The input tensor whose memory the output takes over (an in-place kernel, see inplace.py).
    inplace_of: int | None = None
    requires: tuple[str, ...] = ()  # more runtime file stems the call needs besides `source`
    # The op whose call computes this one row by row (fusion.py): no call and no storage here.
    fused_into: int | None = None
    # A fused call standing in for this op's own layer keeps that layer here (fusion.py).
    inner: Lowered | None = None

    @property
    def emits_code(self) -> bool:
        return not (self.alias or self.folded or self.fused_into is not None)

    @property
    def stores_nothing(self) -> bool:
        """Its outputs never exist in memory: folded shape arithmetic, or fused into a later op."""
        return self.folded or self.fused_into is not None


def unsupported(op: Operator, why: str, fix: str | None = None) -> UnsupportedModelError:
    return UnsupportedModelError(
        f"Operator #{op.index} {op.opcode} (version {op.version}) cannot be compiled: {why}.",
        fix
        or "Change the model so that this layer is expressible in full int8, or run it with the "
        "TFLM interpreter (`tinypipe export MODEL --format tflm`).",
    )


def require_int8(op: Operator, *tensors: Tensor | None) -> None:
    for t in tensors:
        if t is None:
            continue
        if t.dtype != "int8":
            raise unsupported(
                op,
                f"tensor '{t.name}' is {t.dtype}, tinypipe's kernels need int8",
                "Quantize the model to full int8 (`tinypipe quantize`, or the TFLite converter with "
                "TFLITE_BUILTINS_INT8 and int8 input/output types).",
            )
        if t.quant is None:
            raise unsupported(op, f"tensor '{t.name}' has no quantization parameters")


def require_state(op: Operator, g: Graph, t: Tensor) -> None:
    """`t` is state the op keeps across calls: a variable tensor, internal to the model."""
    if not t.is_variable or t.is_const:
        raise unsupported(
            op,
            f"the state tensor '{t.name}' is not a variable tensor",
            f"Convert the model with the TFLite converter, which makes {op.opcode} state a "
            "variable.",
        )
    if t.index in g.inputs or t.index in g.outputs:
        raise unsupported(op, f"the state tensor '{t.name}' is a model input or output")


def fused_activation_range(op: Operator, scale: float, zero_point: int) -> tuple[int, int]:
    """Quantized clamp range of the op's fused activation, or a clear error for exotic ones."""
    act = op.options.get("fused_activation_function", "NONE")
    try:
        return activation_range(act, scale, zero_point)
    except ValueError:
        raise unsupported(
            op,
            f"the fused activation {act} is not supported (NONE, RELU, RELU6, RELU_N1_TO_1 are)",
            "Apply the activation as a separate layer.",
        ) from None


def c_array(values: list[int]) -> Raw:
    """A fixed-size array member initializer, e.g. {1, 2, 3, 4}."""
    return Raw("{" + ", ".join(str(int(v)) for v in values) + "}")


def io(g: Graph, op: Operator) -> tuple[list[Tensor | None], list[Tensor]]:
    return g.op_inputs(op), g.op_outputs(op)


def channel_multipliers(
    inp: Tensor, weights: Tensor, out: Tensor, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel requantization (multiplier, shift) for conv-like ops:
    M[c] = s_in * s_w[c] / s_out, in double precision as TFLM computes it."""
    w_scale = weights.quant.scale.astype(np.float64)
    if w_scale.size == 1:
        w_scale = np.repeat(w_scale, channels)
    if w_scale.size != channels:
        raise ValueError(f"{weights.name}: {w_scale.size} scales for {channels} channels")
    reals = np.float64(inp.quant.scale[0]) * w_scale / np.float64(out.quant.scale[0])
    return quantize_multipliers(reals)
