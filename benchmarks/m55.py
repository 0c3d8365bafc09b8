"""Cortex-M55 with Helium (mps3-an547) next to the Cortex-M4F (mps2-an386): instructions per
inference of the MLPerf Tiny shapes, bit-exact against TFLM on both, and where they go per
operator kind (the per-layer SysTick profile of the last inference).

    python benchmarks/m55.py [--model ds_cnn] [--samples 2]
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from tinypipe.check.validate import validate_on_board
from tinypipe.compiler.graph import read_tflite
from tinypipe.model.zoo import REFERENCE_MODELS, make_int8_model

BOARDS = ("mps2-an386", "mps3-an547")
MLPERF = ["ds_cnn", "mobilenet_v1", "resnet8", "fc_autoencoder"]


def run(label: str, samples: int) -> None:
    name, kw = REFERENCE_MODELS[label]
    graph = read_tflite(make_int8_model(name, **kw))
    x = np.random.default_rng(0).integers(
        -128, 128, (samples, *graph.input_tensors[0].shape), dtype=np.int8
    )
    total, per_kind, exact = {}, {}, {}
    for board in BOARDS:
        v, _ = validate_on_board(graph, x, board)
        exact[board] = v.bit_exact
        total[board] = int(np.mean(v.instructions))
        kinds = defaultdict(int)
        for op, n in zip(graph.operators, v.extra["layer_counts"] or []):
            kinds[op.opcode] += n or 0
        per_kind[board] = kinds
    m4, m55 = (total[b] for b in BOARDS)
    print(f"\n{label}: M4 {m4:,} ({'bit-exact' if exact[BOARDS[0]] else 'MISMATCH'}), "
          f"M55 {m55:,} ({'bit-exact' if exact[BOARDS[1]] else 'MISMATCH'}), M55/M4 {m55 / m4:.2f}")  # fmt: skip
    print(f"  {'op':<22}{'M4':>14}{'M55':>14}{'M55/M4':>8}")
    for kind in sorted(per_kind[BOARDS[0]], key=lambda k: -per_kind[BOARDS[0]][k]):
        a, b = per_kind[BOARDS[0]][kind], per_kind[BOARDS[1]][kind]
        print(f"  {kind:<22}{a:>14,}{b:>14,}{b / a if a else 0:>8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--model",
        action="append",
        choices=list(REFERENCE_MODELS),
        help="repeatable; default the four MLPerf Tiny shapes",
    )
    ap.add_argument("--samples", type=int, default=2)
    args = ap.parse_args()
    print(
        "instructions per inference under QEMU -icount (mean over the samples); per operator kind:"
    )
    print("the last inference's per-layer SysTick profile, summed by op (about 30 instructions of")
    print("profiling hook per layer included)")
    for label in args.model or MLPERF:
        run(label, args.samples)


if __name__ == "__main__":
    main()
