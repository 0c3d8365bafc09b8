"""Dynamic-batch models: what the TF converter writes when the Keras batch size is left open.

Such a model's tensors carry `shape_signature` [-1, ...] while their static `shape` is [1, ...].
TFLM allocates every tensor from the static shape and never looks at the signature, so a -1 in
the batch position, where the shape says 1, changes nothing: tinypipe accepts it. Any other
dynamic dimension would need shapes chosen at run time, which compiled C cannot have.

Keras 3 also computes the batch size at run time in front of Flatten: SHAPE -> STRIDED_SLICE ->
PACK -> RESHAPE's new-shape operand. TFLM's RESHAPE takes its output shape from the output
tensor's static dims and ignores that operand, so those int32 ops compute a value nobody uses;
tinypipe drops them (`shape_only_ops`) instead of running them on the device.
"""

from __future__ import annotations

from tinypipe.errors import UnsupportedModelError

from .graph import Graph

# Ops without side effects that the converter uses for run-time shape arithmetic.
_SHAPE_ARITHMETIC = {
    "SHAPE",
    "STRIDED_SLICE",
    "SLICE",
    "PACK",
    "CONCATENATION",
    "GATHER",
    "CAST",
    "MUL",
    "ADD",
    "SUB",
    "FLOOR_DIV",
    "REDUCE_PROD",
    "RESHAPE",
    "SQUEEZE",
    "EXPAND_DIMS",
    "FILL",
}
_INDEX_DTYPES = {"int32", "int64"}


def check_static_shapes(graph: Graph) -> None:
    """Accept a -1 batch where the static shape says 1; refuse every other dynamic dimension."""
    for t in graph.tensors:
        sig = t.shape_signature
        if sig is None or not any(d < 0 for d in sig):
            continue
        dynamic = [k for k, d in enumerate(sig) if d < 0]
        batch_only = (
            len(sig) == len(t.shape)
            and dynamic == [0]
            and t.shape[0] == 1
            and all(s == d for s, d in zip(sig[1:], t.shape[1:]))
        )
        if batch_only:
            continue
        where = ", ".join(str(k) for k in dynamic)
        raise UnsupportedModelError(
            f"Tensor #{t.index} '{t.name}' has a dynamic shape: shape_signature "
            f"{list(sig)} leaves dimension(s) {where} open (its static shape is {list(t.shape)}). "
            "tinypipe compiles fixed shapes only; it accepts -1 only in the batch position "
            "(dimension 0) where the static shape says 1, as TFLM does.",
            "Re-convert the model with every dimension fixed: in Keras give keras.Input a full "
            "shape (the batch may stay open), in TF a tf.TensorSpec with no None besides the "
            "batch, in PyTorch export with a fixed-size sample input. If you only have the "
            ".tflite, ask its author for a fixed-shape export: what its static shape records "
            "for an open dimension is a placeholder the converter wrote (usually 1).",
        )


def shape_only_ops(graph: Graph) -> set[int]:
    """Indices of ops whose results only feed RESHAPE's new-shape operand (directly or through
    other such ops): pure integer shape arithmetic that TFLM's RESHAPE ignores."""
    consumers: dict[int, list[tuple[int, int]]] = {}
    for op in graph.operators:
        for slot, t in enumerate(op.inputs):
            if t >= 0:
                consumers.setdefault(t, []).append((op.index, slot))
    outputs = set(graph.outputs)
    by_index = {op.index: op for op in graph.operators}
    dead: set[int] = set()
    # Walk backwards so an op's consumers are decided before the op itself.
    for op in reversed(graph.operators):
        if op.opcode not in _SHAPE_ARITHMETIC:
            continue
        outs = [graph.tensors[t] for t in op.outputs]
        if not outs or any(t.dtype not in _INDEX_DTYPES or t.index in outputs for t in outs):
            continue
        uses = [u for t in op.outputs for u in consumers.get(t, [])]
        if uses and all(
            (by_index[c].opcode == "RESHAPE" and slot == 1) or c in dead for c, slot in uses
        ):
            dead.add(op.index)
    return dead
