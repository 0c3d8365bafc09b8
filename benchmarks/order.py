"""Operator order benchmark: what running a graph's branches in the searched order saves.

For resnet8 (MLPerf Tiny shape: a 1x1 shortcut convolution beside two 3x3 ones per stage) and a
small inception network (two blocks of four parallel branches: 1x1; 1x1 -> 3x3; 1x1 -> 3x3 ->
3x3; 3x3 max pool -> 1x1; joined by CONCATENATION), both made by the TFLite converter with
random weights, it compiles the default build (in-place layers, fused blocks, patches) twice:
in the operator order the converter wrote, and in the order tinypipe searches for (order.py).
Both are built for QEMU mps2-an386 and run on the same inputs, bit for bit against TFLM; it
prints static RAM without the stack (.data + .bss), the planner's arena + I/O bytes, and the
instructions per inference of each.

    python benchmarks/order.py [--samples 64] [--models resnet8 inception]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from ram import BOARD, run_c, static_ram

from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.model.zoo import convert_int8, import_keras, make_int8_model, unit_variance_init


def inception(seed: int = 0) -> bytes:
    """32x32x3 -> 3x3 conv (16) -> two inception blocks (the second after a 2x2 max pool) ->
    global average pool -> 10 classes; int8 by the TFLite converter."""
    keras = import_keras()
    L = keras.layers
    keras.utils.set_random_seed(seed)

    def block(x, widths):
        b1 = L.Conv2D(widths[0], 1, activation="relu")(x)
        b2 = L.Conv2D(widths[1] // 2, 1, activation="relu")(x)
        b2 = L.Conv2D(widths[1], 3, padding="same", activation="relu")(b2)
        b3 = L.Conv2D(widths[2] // 2, 1, activation="relu")(x)
        b3 = L.Conv2D(widths[2], 3, padding="same", activation="relu")(b3)
        b3 = L.Conv2D(widths[2], 3, padding="same", activation="relu")(b3)
        b4 = L.MaxPooling2D(3, strides=1, padding="same")(x)
        b4 = L.Conv2D(widths[3], 1, activation="relu")(b4)
        return L.Concatenate()([b1, b2, b3, b4])

    inp = keras.Input((32, 32, 3), batch_size=1)
    x = L.Conv2D(16, 3, padding="same", activation="relu")(inp)
    x = block(x, (8, 16, 8, 8))
    x = L.MaxPooling2D(2)(x)
    x = block(x, (16, 24, 8, 8))
    x = L.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, L.Dense(10)(x))
    rep = np.random.default_rng(seed).uniform(0, 1, (8, 32, 32, 3)).astype(np.float32)
    unit_variance_init(model, rep)
    return convert_int8(model, rep)


MODELS = {"resnet8": lambda: make_int8_model("resnet8"), "inception": inception}


def run(graph, cm, x: np.ndarray) -> dict:
    verdict = run_c(graph, cm, x, BOARD)
    return {
        "exact": verdict.bit_exact,
        "instr": int(np.mean(verdict.instructions)),
        "ram": static_ram(verdict.extra["build"]),
        "plan": cm.arena_size + cm.io_bytes,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--samples", type=int, default=64, help="inputs per model and build")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = ap.parse_args()
    print(
        f"default build on {BOARD}, file order vs searched order, {args.samples} inputs per "
        "build, all checked bit for bit against TFLM; static RAM without stack (.data + .bss)"
    )
    head = (
        f"{'model':<10}{'ops':>5}{'exact':>7}{'plan file':>11}{'searched':>10}"
        f"{'RAM file':>10}{'searched':>10}{'ratio':>7}{'instr file':>12}{'searched':>11}"
        f"{'search s':>10}"
    )
    print(head)
    print("-" * len(head))
    for label in args.models:
        graph = read_tflite(MODELS[label]())
        x = np.random.default_rng(0).integers(
            -128, 128, (args.samples, *graph.input_tensors[0].shape), dtype=np.int8
        )
        t0 = time.perf_counter()
        searched = generate_c(graph)
        seconds = time.perf_counter() - t0
        kept = generate_c(graph, order=list(range(len(graph.operators))))
        a = run(graph, kept, x)
        b = run(graph, searched, x) if searched.order != kept.order else a
        print(
            f"{label:<10}{len(graph.operators):>5}{'yes' if a['exact'] and b['exact'] else 'NO':>7}"
            f"{a['plan']:>11,}{b['plan']:>10,}{a['ram']:>10,}{b['ram']:>10,}"
            f"{b['ram'] / a['ram']:>7.2f}{a['instr']:>12,}{b['instr']:>11,}{seconds:>10.2f}"
        )
        print(f"{'':<10}{searched.order_summary}")
        print(f"{'':<10}order: {' '.join(f'#{k}' for k in searched.order)}")
    print(
        "\nplan: the compiler's arena + input/output bytes; RAM: the firmware's static RAM; "
        "search s: seconds generate_c took with the search (file-order builds: the same C "
        "otherwise)"
    )


if __name__ == "__main__":
    main()
