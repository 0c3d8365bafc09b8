"""Compile a generated model for this machine with the system C compiler and run it in batch."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinypipe.compiler.codegen import CModel
from tinypipe.compiler.iolayout import Packing
from tinypipe.errors import TinypipeError
from tinypipe.resources import firmware_dir

WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
SANITIZERS = [
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
]


@dataclass
class HostBinary:
    exe: Path
    cmodel: CModel
    trace: bool


def find_cc() -> str:
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            return cc
    raise TinypipeError(
        "No C compiler found for --board host.",
        "Install one (Debian: apt-get install gcc) or set CC.",
    )


def build_host(
    cmodel: CModel,
    workdir: Path,
    trace: bool = False,
    sanitize: bool = False,
    opt: str = "-O2",
    arena_check: bool | None = None,
    stream: bool = False,
) -> HostBinary:
    """Write the model's sources into `workdir` and compile them with the batch main.

    `arena_check` (default: with `sanitize`) adds the run-time check of the memory plan
    (firmware/link/tp_arena_check.c): every layer may touch only the arena bytes the plan gives
    it, and must leave every live tensor unchanged. `stream`: a model with state carries it from
    one sample to the next instead of starting each from its initial state."""
    workdir = Path(workdir)
    src = workdir / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name, text in cmodel.files.items():
        (src / name).write_text(text)
    main = firmware_dir() / "link" / "tp_batch_main.c"
    exe = workdir / ("tp_batch_trace" if trace else "tp_batch")
    cmd = [find_cc(), opt, *WARNINGS, f'-DTP_MODEL_HEADER="{cmodel.name}.h"', f"-I{src}"]
    if trace:
        cmd.append("-DTP_TRACE")
    if stream:
        cmd.append("-DTP_STREAM")
    if sanitize:
        cmd += SANITIZERS
    extra = [main]
    if sanitize if arena_check is None else arena_check:
        cmd.append("-DTP_ARENA_CHECK")
        extra.append(firmware_dir() / "link" / "tp_arena_check.c")
    cmd += [str(p) for p in sorted(src.glob("*.c"))] + [str(p) for p in extra] + ["-o", str(exe)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"compiling the generated C failed:\n{' '.join(cmd)}\n{res.stderr}")
    return HostBinary(exe, cmodel, trace)


def run_host(binary: HostBinary, inputs, workdir: Path) -> tuple[np.ndarray, list]:
    """Run every sample; return (outputs as (N, output bytes) raw uint8, trace records).

    `inputs`: samples (first axis) of the model's input, or a list with one array per input;
    several inputs and outputs travel packed (`tinypipe.compiler.iolayout`).
    Trace records are (op_index, bytes) per layer per sample, in execution order.
    """
    workdir = Path(workdir)
    graph = binary.cmodel.graph
    arrays = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    inp, out, trc = workdir / "inputs.bin", workdir / "outputs.bin", workdir / "trace.bin"
    inp.write_bytes(Packing.of(graph.input_tensors).pack(arrays).tobytes())
    cmd = [str(binary.exe), str(inp), str(out)] + ([str(trc)] if binary.trace else [])
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(
            f"the compiled model failed (exit {res.returncode}):\n{res.stderr[-4000:]}"
        )
    out_bytes = Packing.of(graph.output_tensors).nbytes
    raw = np.frombuffer(out.read_bytes(), dtype=np.uint8).reshape(-1, out_bytes)
    records = []
    if binary.trace:
        data = trc.read_bytes()
        pos = 0
        while pos < len(data):
            op_index, nbytes = np.frombuffer(data, dtype=np.int32, count=2, offset=pos)
            pos += 8
            records.append((int(op_index), data[pos : pos + int(nbytes)]))
            pos += int(nbytes)
    return raw, records
