"""Per-board figures: instructions per inference, flash and RAM of the firmware, for the digits
CNN and an MLPerf-Tiny-shaped model on every board (or the fit check's refusal), with the
estimated time at the board clock and energy per inference (tinypipe.device.energy: instructions
taken as cycles; energy only where the board registry holds a published figure: a chip's datasheet
run current, or for an FPGA image the core's dynamic power per MHz in silicon or the run current of
a production chip with the same core).

    python benchmarks/boards.py [--model ds_cnn] [--samples 3] [--cycles]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from tinypipe.check.validate import cycles_on_board, validate_on_board
from tinypipe.compiler.graph import read_tflite
from tinypipe.device.boards import BOARDS
from tinypipe.device.cycles import timing_for
from tinypipe.errors import DoesNotFitError
from tinypipe.model.zoo import REFERENCE_MODELS, make_int8_model


def run(label: str, samples: int, cycles: bool = False) -> None:
    name, kw = REFERENCE_MODELS[label]
    graph = read_tflite(make_int8_model(name, **kw))
    x = np.random.default_rng(0).integers(-128, 128, (samples, *graph.input_tensors[0].shape), dtype=np.int8)
    print(f"\n{label}")
    print(f"{'board':<15}{'exact':>6}{'per inference':>26}{'flash B':>10}{'RAM B':>9}{'ms est.':>10}{'µJ est.':>10}")
    for board in BOARDS:
        try:
            v, _ = validate_on_board(graph, x, board)
        except DoesNotFitError as exc:
            print(f"{board:<15}  refused by the fit check: {exc.message}")
            continue
        b = v.extra["build"]
        count = f"{int(np.mean(v.extra['counts'])):,} {v.extra['count_unit']}"
        e = v.extra.get("estimate") or {}
        ms = "-" if not e else f"{e['time_ms']:,.2f}"
        uj = "-" if e.get("energy_uj") is None else f"{e['energy_uj']:,.1f}"
        print(f"{board:<15}{'yes' if v.bit_exact else 'NO':>6}{count:>26}{b['flash_used']:>10,}{b['ram_used']:>9,}{ms:>10}{uj:>10}")
    if cycles:
        print_cycles(graph, x)


def print_cycles(graph, x) -> None:
    """The first sample again on the boards with a cycle model (tinypipe.device.cycles)."""
    print(f"{'cycles, TRM model':<21}{'instructions':>15}{'cycles':>14}{'CPI':>7}{'ms est.':>10}{'µJ est.':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        model, inputs = Path(tmp) / "m.tflite", Path(tmp) / "x.npy"
        model.write_bytes(graph.model_bytes)
        np.save(inputs, x[:1])
        for name, b in BOARDS.items():
            if timing_for(b.cpu) is None or not b.emulated:
                continue
            try:
                r = cycles_on_board(model, name, inputs)
            except DoesNotFitError:
                continue
            e = r.estimate
            uj = "-" if e.energy_uj is None else f"{e.energy_uj:,.1f}"
            print(f"{name:<21}{r.traced_instructions:>15,}{r.cycles:>14,}{r.cycles / r.traced_instructions:>7.2f}{e.time_ms:>10,.2f}{uj:>10}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", choices=list(REFERENCE_MODELS), help="repeatable; default digits_cnn + ds_cnn")
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--cycles", action="store_true", help="also model the cycles of one inference on the Cortex-M3/M4 boards (tinypipe cycles)")
    args = ap.parse_args()
    print("RAM includes each board's stack reservation; counts are instructions under QEMU -icount")
    print("ms est.: instructions taken as cycles at the board clock; µJ est.: a chip's datasheet run")
    print("power, or (FPGA images) the core's dynamic power per MHz in silicon, core only, or the")
    print("run power of a production chip with the same core (AN386: STM32F405, AN500: PIC32CZ CA70)")
    print("(see `tinypipe boards` for each figure's source; '-': no figure for that board)")
    for label in args.model or ["digits_cnn", "ds_cnn"]:
        run(label, args.samples, args.cycles)


if __name__ == "__main__":
    main()
