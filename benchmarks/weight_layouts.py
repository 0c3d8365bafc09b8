"""Instructions per MAC of convolutions on int8 weights and on int16-expanded weights: the
figures compiler/flash_budget.py ranks layers by (INSTRUCTIONS_PER_MAC).

Each kind of layer (1x1 CONV_2D, 3x3 CONV_2D, 3x3 DEPTHWISE_CONV_2D) is a one-op model with
ds_cnn-like channels on inputs small enough for the micro:bit's RAM and random weights (tests/op_cases.py builders, drawn until the
layer runs on a generated kernel). It runs under
QEMU (-icount: deterministic) twice: as compiled by default (int16 weights and the generated
kernels), and under a flash budget that leaves no room for int16 weights (the runtime's int8
kernels). Both runs are checked bit-exact against the TFLM interpreter; the layer's own count
(the firmware's per-layer profile) over its MACs is the figure.

Then whole models (--models, the zoo's MLPerf Tiny shapes with random weights) on the first
board under each budget of --budgets ("" for the board's flash): the layers on int8 weights,
the flash estimate and the ELF's flash, the instructions per inference, and the instructions
the ranking's figures say the int16 layers save against those measured with none of them.

    python benchmarks/weight_layouts.py [--boards mps2-an386,mps2-an385,microbit,mps2-an500]
                                        [--models mobilenet_v1 --budgets ,350K,300K]
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
from tinypipe.compiler.flash_budget import parse_flash_budget, per_mac  # noqa: E402
from tinypipe.compiler.graph import read_tflite  # noqa: E402
from tinypipe.compiler.summary import op_macs  # noqa: E402
from tinypipe.device.boards import get_board  # noqa: E402
from tinypipe.device.firmware import budget_options  # noqa: E402
from tinypipe.errors import DoesNotFitError  # noqa: E402
from tinypipe.model.zoo import REFERENCE_MODELS, make_int8_model  # noqa: E402

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


def layer_per_mac(graph, board: str, budget: int | None) -> tuple[float, str]:
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


def model_rows(label: str, board: str, budgets: list[str]) -> None:
    """One zoo model under each budget on `board`: layouts, flash and instructions."""
    name, kw = REFERENCE_MODELS[label]
    graph = read_tflite(make_int8_model(name, **kw))
    x = np.random.default_rng(0).integers(-128, 128, (1, *graph.input_tensors[0].shape[1:]))
    full = generate_c(graph)
    # no room for int16 weights: every layer's extra bytes off the whole model's estimate
    none = full.flash_estimate - sum(x.extra_bytes for x in full.layouts.layers)
    runs = []
    for text in [*budgets, str(none)]:
        budget = parse_flash_budget(text) if text else None
        try:
            verdict, _ = validate_on_board(graph, x.astype(np.int8), board, flash_budget=budget)
        except DoesNotFitError as exc:
            print(f"{board:<11} {label:<13} {text:>8} refused: {exc.what}")
            continue
        if not verdict.bit_exact:
            sys.exit(f"{label} not bit-exact with TFLM on {board}: {verdict.summary()}")
        cm = generate_c(graph, **budget_options([get_board(board)], budget))
        runs.append((text or "board", cm, verdict.instructions[0], verdict.extra["build"]))
    lowest = runs[-1][2]
    for text, cm, instr, build in runs:
        est = sum(x.instructions_saved for x in cm.layouts.int16)
        print(f"{board:<11} {label:<13} {text:>8} {len(cm.layouts.int8):>5} "
              f"{cm.flash_estimate:>10,} {build['flash_used']:>10,} {instr:>12,} {est:>12,} "
              f"{lowest - instr:>12,}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default=BOARDS)
    ap.add_argument("--models", default="", help="zoo models (REFERENCE_MODELS), comma-separated")
    ap.add_argument("--budgets", default=",300K", help='flash budgets, comma-separated ("": none)')
    args = ap.parse_args()
    if args.models:
        print(f"{'board':<11} {'model':<13} {'budget':>8} {'int8':>5} {'flash est':>10} "
              f"{'flash ELF':>10} {'instr':>12} {'saved est':>12} {'saved':>12}")  # fmt: skip
        for label in args.models.split(","):
            model_rows(label, args.boards.split(",")[0], args.budgets.split(","))
        print(
            "budget: the last row's is the model's flash less every layer's extra bytes (the code "
            "estimate may shrink too, so a layer can stay int16); int8: layers on int8 weights; "
            "saved est: the ranking's instructions saved by the int16 layers; saved: measured "
            "against the last row."
        )
        return
    print(f"{'board':<11} {'kind':<10} {'layer':<34} {'int8 i/MAC':>10} {'int16 i/MAC':>11} "
          f"{'saved':>6} {'in use':>13}")  # fmt: skip
    for board in args.boards.split(","):
        for kind, (what, build) in LAYERS.items():
            graph = read_tflite(build(np.random.default_rng(0)))
            cm = generate_c(graph)
            # no room for int16 weights: the flash of the model with its layer on int8 weights
            int8_need = cm.flash_estimate - cm.layouts.layers[0].extra_bytes
            wide, layout16 = layer_per_mac(graph, board, None)
            narrow, layout8 = layer_per_mac(graph, board, int8_need)
            assert (layout16, layout8) == ("int16", "int8"), (layout16, layout8)
            used = "{:.2f} / {:.2f}".format(*per_mac(get_board(board).cpu)[kind])
            print(f"{board:<11} {kind:<10} {what:<34} {narrow:10.2f} {wide:11.2f} "
                  f"{narrow - wide:6.2f} {used:>13}")  # fmt: skip
    print("i/MAC: the layer's instructions (QEMU -icount, per-layer profile of the firmware) per "
          "multiply-accumulate; in use: compiler/flash_budget.py INSTRUCTIONS_PER_MAC (int8 / "
          "int16).")  # fmt: skip


if __name__ == "__main__":
    main()
