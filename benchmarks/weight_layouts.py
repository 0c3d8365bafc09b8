"""Instructions per MAC of convolutions on int8 weights and on int16-expanded weights: the
figures compiler/flash_budget.py ranks layers by (INSTRUCTIONS_PER_MAC).

Each kind of layer (1x1 CONV_2D, 3x3 CONV_2D, 3x3 DEPTHWISE_CONV_2D) is a one-op model with
ds_cnn-like channels on inputs small enough for the micro:bit's RAM and random weights (tests/op_cases.py builders, drawn until the
layer runs on a generated kernel). It runs under
QEMU (-icount: deterministic) twice: as compiled by default (int16 weights and the generated
kernels), and under a flash budget that leaves no room for int16 weights (the runtime's int8
kernels). Both runs are checked bit-exact against the TFLM interpreter; the layer's own count
(the firmware's per-layer profile) over its MACs is the figure.

    python benchmarks/weight_layouts.py [--boards mps2-an386,mps2-an385,microbit,mps2-an500]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from op_cases import build_generated_depthwise, build_pointwise_conv, build_tiled_conv  # noqa: E402

from tinypipe.check.validate import validate_on_board  # noqa: E402
from tinypipe.compiler.codegen import generate_c  # noqa: E402
from tinypipe.compiler.flash_budget import INSTRUCTIONS_PER_MAC  # noqa: E402
from tinypipe.compiler.graph import read_tflite  # noqa: E402
from tinypipe.compiler.summary import op_macs  # noqa: E402

BOARDS = "mps2-an386,mps2-an385,microbit"


def _cfg(**kw) -> dict:
    base = {"batch": 1, "groups": 1, "mult": 1, "stride_h": 1, "stride_w": 1, "dil_h": 1,
            "dil_w": 1, "padding": "SAME", "per_channel": True, "bias": True, "act": "RELU",
            "in_zp": -5}  # fmt: skip
    base.update(kw)
    base["out_h"], base["out_w"] = base["in_h"], base["in_w"]
    return base


# kind -> (description, one-op model)
LAYERS = {
    "pointwise": (
        "1x1 CONV_2D 64->64 on 8x5",
        lambda rng: build_pointwise_conv(
            _cfg(in_h=8, in_w=5, filter_c=64, out_per_group=64, k_h=1, k_w=1), rng
        ),
    ),
    "conv": (
        "3x3 CONV_2D 16->32 on 8x8",
        lambda rng: build_tiled_conv(
            _cfg(in_h=8, in_w=8, filter_c=16, out_per_group=32, k_h=3, k_w=3), rng
        ),
    ),
    "depthwise": (
        "3x3 DEPTHWISE_CONV_2D 64 on 8x5",
        lambda rng: build_generated_depthwise(_cfg(in_h=8, in_w=5, in_c=64, k_h=3, k_w=3), rng),
    ),
}


def per_mac(graph, board: str, budget: int | None) -> tuple[float, str]:
    """Instructions per MAC of the one layer of `graph` on `board` under `budget`, and its
    layout; exits unless bit-exact."""
    x = np.random.default_rng(1).integers(-128, 128, (2, *graph.input_tensors[0].shape[1:]))
    x = x.astype(np.int8)
    verdict, _ = validate_on_board(graph, x, board, flash_budget=budget)
    if not verdict.bit_exact:
        sys.exit(f"not bit-exact with TFLM on {board}: {verdict.summary()}")
    layout = generate_c(graph, flash_budget=budget).layouts.layers[0]
    count = verdict.extra["layer_counts"][0]
    return count / op_macs(graph.operators[0], graph), "int16" if layout.int16 else "int8"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default=BOARDS)
    args = ap.parse_args()
    print(f"{'board':<11} {'kind':<10} {'layer':<34} {'int8 i/MAC':>10} {'int16 i/MAC':>11} "
          f"{'saved':>6} {'in use':>13}")  # fmt: skip
    for board in args.boards.split(","):
        for kind, (what, build) in LAYERS.items():
            graph = read_tflite(build(np.random.default_rng(0)))
            cm = generate_c(graph)
            # no room for int16 weights: the flash of the model with its layer on int8 weights
            int8_need = cm.flash_estimate - cm.layouts.layers[0].extra_bytes
            wide, layout16 = per_mac(graph, board, None)
            narrow, layout8 = per_mac(graph, board, int8_need)
            assert (layout16, layout8) == ("int16", "int8"), (layout16, layout8)
            used = "{:.2f} / {:.2f}".format(*INSTRUCTIONS_PER_MAC[kind])
            print(f"{board:<11} {kind:<10} {what:<34} {narrow:10.2f} {wide:11.2f} "
                  f"{narrow - wide:6.2f} {used:>13}")  # fmt: skip
    print("i/MAC: the layer's instructions (QEMU -icount, per-layer profile of the firmware) per "
          "multiply-accumulate; in use: compiler/flash_budget.py INSTRUCTIONS_PER_MAC (int8 / "
          "int16).")  # fmt: skip


if __name__ == "__main__":
    main()
