"""Instructions per element (per MAC for TRANSPOSE_CONV and BATCH_MATMUL) of the kernels added
for converter-made models, on the emulated Cortex-M4F (QEMU mps2-an386, -icount: deterministic).

The graph is the one the board tests check bit for bit (tests/op_cases.build_new_ops_chain);
each op's count is the instructions its kernel call took in the last inference. Its tensors are
small, so per-call and per-row overhead weigh in; the two matrix ops are then measured again
at decoder/attention-like sizes.

    python benchmarks/new_ops.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from op_cases import build_new_ops_chain  # noqa: E402

from tinypipe.check.validate import validate_on_board  # noqa: E402
from tinypipe.compiler.graph import read_tflite  # noqa: E402
from tinypipe.compiler.tflite_writer import ModelBuilder  # noqa: E402

BOARD = "mps2-an386"


def per_unit(graph, op) -> tuple[int, str]:
    """(work units, unit name) of one op: MACs for the matrix ops, output elements otherwise."""
    out = graph.tensors[op.outputs[0]]
    if op.opcode == "TRANSPOSE_CONV":
        w = graph.tensors[op.inputs[1]]
        inp = graph.tensors[op.inputs[2]]
        # nominal: every input element meets every tap of its channel (some fall off the edge)
        return inp.size * w.size // w.shape[3], "MAC"
    if op.opcode == "BATCH_MATMUL":
        lhs = graph.tensors[op.inputs[0]]
        return out.size * lhs.shape[-1], "MAC"
    if op.opcode in ("SUM", "REDUCE_MAX"):
        return graph.tensors[op.inputs[0]].size, "input element"
    if op.opcode in ("SPLIT", "UNPACK"):
        return sum(graph.tensors[t].size for t in op.outputs), "element"
    return out.size, "element"


def larger_matrix_ops(rng: np.random.Generator) -> bytes:
    """TRANSPOSE_CONV 8x8x16 -> 16x16x8 (3x3, stride 2), then BATCH_MATMUL [16, 128] x [128, 32]."""
    b = ModelBuilder()
    x = b.tensor((1, 8, 8, 16), scale=0.05, zero_point=-7)
    w = b.tensor((8, 3, 3, 16), scale=np.full(8, 0.01), zero_point=np.zeros(8, np.int64),
                 data=rng.integers(-127, 128, (8, 3, 3, 16)))  # fmt: skip
    shape = b.tensor((4,), "int32", data=np.array([1, 16, 16, 8], np.int32))
    tc = b.tensor((1, 16, 16, 8), scale=0.2, zero_point=3)
    b.op("TRANSPOSE_CONV", [shape, w, x], [tc], "TransposeConvOptions", padding="SAME",
         stride_h=2, stride_w=2)  # fmt: skip
    rows = b.tensor((1, 16, 128), scale=0.2, zero_point=3)
    b.op("RESHAPE", [tc], [rows])
    m = b.tensor((128, 32), scale=0.01, zero_point=0, data=rng.integers(-128, 128, (128, 32)))
    y = b.tensor((1, 16, 32), scale=0.5, zero_point=0)
    b.op("BATCH_MATMUL", [rows, m], [y], "BatchMatMulOptions")
    return b.build([x], [y])


def report(model: bytes) -> None:
    graph = read_tflite(model)
    x = np.random.default_rng(0).integers(
        -128, 128, (1, *graph.input_tensors[0].shape), dtype=np.int8
    )
    verdict, _ = validate_on_board(graph, x, BOARD)
    assert verdict.bit_exact, verdict.summary()
    counts = verdict.extra["layer_counts"]
    unit = verdict.extra["count_unit"]
    print(f"{'op':26} {'count':>9} {'work':>7} {unit + ' per unit':>20}")
    for op, n in zip(graph.operators, counts):
        if n is None:
            continue
        work, name = per_unit(graph, op)
        print(f"{op.opcode:26} {n:>9} {work:>7} {n / work:>14.1f} / {name}")


def main() -> None:
    rng = np.random.default_rng(0)
    report(build_new_ops_chain(rng))
    print()
    report(larger_matrix_ops(rng))


if __name__ == "__main__":
    main()
