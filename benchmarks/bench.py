"""Benchmarks: tinypipe on the emulated Cortex-M4F (QEMU mps2-an386) against TFLM.

For the digits CNN and the four MLPerf-Tiny-shaped models it prints instructions per inference,
RAM and flash, and their ratios to TFLM's figures on the same emulated board (tflm_baselines.py)
and to TFLM's smallest host arena measured in this run; then the wall time of
`tinypipe run examples/digits`. Ratios below 1 mean tinypipe needs less.

    python benchmarks/bench.py [--samples 3] [--skip-run] [--model resnet8[,ds_cnn...]]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tflm_baselines import TFLM_M4  # noqa: E402

from tinypipe.check.reference import smallest_tflm_arena  # noqa: E402
from tinypipe.check.validate import validate_on_board  # noqa: E402
from tinypipe.compiler.codegen import generate_c  # noqa: E402
from tinypipe.compiler.graph import read_tflite  # noqa: E402
from tinypipe.compiler.summary import op_macs  # noqa: E402
from tinypipe.model.zoo import REFERENCE_MODELS, make_int8_model  # noqa: E402

BOARD = "mps2-an386"


def host_code_size(cm) -> int:
    """text+data bytes of the generated model and its kernels compiled for this machine (-O2)."""
    with tempfile.TemporaryDirectory() as tmp:
        objs = []
        for name, text in cm.files.items():
            (Path(tmp) / name).write_text(text)
        for name in cm.files:
            if name.endswith(".c"):
                obj = Path(tmp) / (name[:-2] + ".o")
                subprocess.run(
                    ["cc", "-std=c99", "-O2", "-c", str(Path(tmp) / name), "-o", str(obj)],
                    check=True,
                )
                objs.append(str(obj))
        out = subprocess.run(
            ["size", "-B", *objs], capture_output=True, text=True, check=True
        ).stdout
    rows = [line.split() for line in out.splitlines()[1:]]
    return sum(int(r[0]) + int(r[1]) for r in rows)


def bench_model(label: str, samples: int) -> dict:
    name, kw = REFERENCE_MODELS[label]
    model = make_int8_model(name, **kw)
    graph = read_tflite(model)
    cm = generate_c(graph)
    x = np.random.default_rng(0).integers(
        -128, 128, (samples, *graph.input_tensors[0].shape), dtype=np.int8
    )
    verdict, _ = validate_on_board(graph, x, BOARD)
    build = verdict.extra["build"]
    base = TFLM_M4[label]
    macs = sum(op_macs(op, graph) for op in graph.operators)
    instr = int(np.mean(verdict.instructions))
    ram = cm.arena_size + cm.io_bytes
    tflm_flash = (base["flash"][0] + len(model), base["flash"][1] + len(model))
    return {
        "model": label,
        "bit_exact": verdict.bit_exact,
        "macs": macs,
        "instr": instr,
        "instr_per_mac": instr / macs,
        "x_ref": instr / base["instr"][0],
        "x_cmsis": instr / base["instr"][1],
        "ram": ram,
        "ram_x_tflm_host": ram / smallest_tflm_arena(model),
        "ram_x_tflm_m4": ram / base["arena"][0],
        "flash": build["flash_used"],
        "flash_x_ref": build["flash_used"] / tflm_flash[0],
        "flash_x_cmsis": build["flash_used"] / tflm_flash[1],
        "tflm_host_arena": smallest_tflm_arena(model),
        "host_code": host_code_size(cm),
    }


def time_digits_run() -> float:
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "tinypipe.toml"
        shutil.copy(root / "examples" / "digits" / "tinypipe.toml", cfg)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tinypipe.cli", "run", str(cfg)], check=True, capture_output=True
        )
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--samples", type=int, default=3, help="inputs per model on the board")
    ap.add_argument(
        "--skip-run", action="store_true", help="do not time `tinypipe run examples/digits`"
    )
    ap.add_argument("--model", help="comma-separated models to run (default: all)")
    args = ap.parse_args()
    labels = args.model.split(",") if args.model else list(REFERENCE_MODELS)
    unknown = [m for m in labels if m not in REFERENCE_MODELS]
    if unknown:
        ap.error(f"unknown model {', '.join(unknown)}; choose from {', '.join(REFERENCE_MODELS)}")

    rows = [bench_model(m, args.samples) for m in labels]
    print(
        f"tinypipe on {BOARD} (QEMU -icount, Cortex-M4F, arm-none-eabi-gcc -O2) vs TFLM on the same board"
    )
    print("instr: instructions per inference; RAM: arena + input/output buffers; flash: whole ELF")
    print("TFLM flash = its runtime+libc (BASELINES.md) + this model's .tflite size\n")
    head = (
        f"{'model':<15}{'exact':>6}{'instr':>13}{'i/MAC':>7}{'x ref':>7}{'x cmsis':>8}"
        f"{'RAM B':>9}{'x host':>8}{'x M4':>7}{'flash B':>10}{'x ref':>7}{'x cmsis':>8}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['model']:<15}{'yes' if r['bit_exact'] else 'NO':>6}{r['instr']:>13,}{r['instr_per_mac']:>7.2f}"
            f"{r['x_ref']:>7.2f}{r['x_cmsis']:>8.2f}{r['ram']:>9,}{r['ram_x_tflm_host']:>8.2f}"
            f"{r['ram_x_tflm_m4']:>7.2f}{r['flash']:>10,}{r['flash_x_ref']:>7.2f}{r['flash_x_cmsis']:>8.2f}"
        )
    print(
        "\nx host: vs TFLM's smallest arena found with the tflite-micro host interpreter in this run "
        "(" + ", ".join(f"{r['model']} {r['tflm_host_arena']:,} B" for r in rows) + ")"
    )
    print("x M4: vs TFLM's smallest arena on the M4 (reference kernels, BASELINES.md)")
    print(
        "generated code + weights compiled for the host (cc -O2, text+data): "
        + ", ".join(f"{r['model']} {r['host_code']:,} B" for r in rows)
    )
    if not args.skip_run:
        print(
            f"\nwall time of `tinypipe run examples/digits` (train..report, fresh output): {time_digits_run():.1f} s"
        )


if __name__ == "__main__":
    main()
