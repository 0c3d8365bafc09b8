"""Compile a generated model for this machine with the system C compiler and run it in batch."""

from __future__ import annotations

import functools
import hashlib
import os
import re
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
    sources = sorted(src.glob("*.c")) + [Path(p) for p in extra]
    cache = os.environ.get(OBJECT_CACHE_ENV)
    if cache:
        objects = [_cached_object(cmd, s, Path(cache), workdir) for s in sources]
        link = cmd[:2] + (SANITIZERS if sanitize else [])
        _run_cc(link + [str(o) for o in objects] + ["-o", str(exe)])
    else:
        _run_cc(cmd + [str(p) for p in sources] + ["-o", str(exe)])
    return HostBinary(exe, cmodel, trace)


# Set to a directory to keep compiled objects there, keyed by the compiler, its flags and the
# bytes of the source and every header it includes, so an unchanged kernel is compiled once
# (the test suite builds hundreds of models from the same runtime files).
OBJECT_CACHE_ENV = "TINYPIPE_OBJECT_CACHE"
_INCLUDE = re.compile(rb"^[ \t]*#[ \t]*include[ \t]*(\S[^\r\n]*)", re.M)


def _run_cc(cmd: list[str]) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"compiling the generated C failed:\n{' '.join(cmd)}\n{res.stderr}")


@functools.cache
def _compiler_id(cc: str) -> bytes:
    res = subprocess.run([cc, "--version"], capture_output=True)
    return (shutil.which(cc) or cc).encode() + b"\0" + res.stdout


def _object_key(flags: list[str], source: Path) -> str | None:
    """Hash of everything the object depends on, or None when an include cannot be followed
    (computed or missing), in which case the file is compiled without the cache."""
    include_dirs = [Path(f[2:]) for f in flags if f.startswith("-I")]
    # Include directories count by the headers found in them, not by their (per-build) paths.
    named = [f for f in flags if not f.startswith("-I")]
    h = hashlib.sha256(_compiler_id(flags[0]) + "\0".join(named).encode())
    todo, seen = [source], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        data = path.read_bytes()
        h.update(b"\0" + path.name.encode() + b"\0" + data)
        for match in _INCLUDE.finditer(data):
            target = match.group(1).strip()
            if target.startswith(b"<"):
                continue  # system headers: fixed by the compiler's identity
            if not (target.startswith(b'"') and target.count(b'"') == 2):
                return None
            name = target.split(b'"')[1].decode()
            found = [d / name for d in (path.parent, *include_dirs) if (d / name).is_file()]
            if not found:
                return None
            todo.append(found[0])
    return h.hexdigest()


def _cached_object(flags: list[str], source: Path, cache: Path, workdir: Path) -> Path:
    key = _object_key(flags, source)
    obj = cache / f"{key}.o" if key else workdir / "obj" / f"{source.stem}.o"
    if key is None or not obj.exists():
        obj.parent.mkdir(parents=True, exist_ok=True)
        tmp = obj.with_name(f"{obj.name}.{os.getpid()}.tmp")
        _run_cc(flags + ["-c", str(source), "-o", str(tmp)])
        os.replace(tmp, obj)  # atomic: parallel test workers share the cache
    return obj


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
