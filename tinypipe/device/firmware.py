"""PlatformIO projects for a compiled model: create (with a fit check), build offline, upload.
Sizes read from the built ELF are in elfsize.py.

    create_project("model.tflite", ["host", "mps2-an386"], "fw")   # writes fw/, nothing if it won't fit
    build("fw")                                                    # pio run, offline; flash/RAM per env
    upload("fw", "mps2-an386", dry_run=True)                       # the exact upload command

A project is self-contained: `platformio.ini` with one env per board, the model and runtime
in `lib/model/`, the device link in `src/`, the `tinypipe` PlatformIO platform (board
support) in `platforms/tinypipe/`, and PlatformIO's SCons package as a shim in
`pio-packages/tool-scons/`. `[platformio] core_dir` keeps PlatformIO's state in the project
(`.pio-core/`), so nothing is looked up in a registry: builds work with no network.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from tinypipe.compiler.ctext import check_c_name
from tinypipe.compiler.flash_budget import code_flash_estimate
from tinypipe.errors import DoesNotFitError, TinypipeError
from tinypipe.outdir import check_outdir, staging_dir
from tinypipe.resources import firmware_dir, template_env

from .boards import Board, MemoryRegion, get_board
from .elfsize import MemoryUsage, elf_usage

CORE_DIR = ".pio-core"
PACKAGES_DIR = "pio-packages"
PLATFORM_DIR = "platforms/tinypipe"
MODEL_DIR = "lib/model"
SRC_DIR = "src"
# The entries tinypipe writes at the top of a project (replaced as a whole by --force).
MANAGED = (
    "platformio.ini",
    "README.md",
    ".gitignore",
    "tinypipe.json",
    "model.tflite",
    SRC_DIR,
    "lib",
    "platforms",
    PACKAGES_DIR,
)
MANIFEST = "tinypipe.json"  # what the project was made from: model name, boards, sizes

# Fit estimate: flash as compiler/flash_budget.py estimates the code (the flash budget weighs
# the same figure). RAM beyond the arena: the input and output buffers, and ~200 B of link
# state plus the per-op profile ticks.
LINK_RAM_BYTES = 256


# ----------------------------------------------------------------------------- fit check


@dataclass
class RegionNeed:
    """What the firmware needs in one memory region of a board, and what is there."""

    region: MemoryRegion
    needed: int
    parts: dict[str, int]

    @property
    def available(self) -> int:
        return self.region.size

    @property
    def fits(self) -> bool:
        return self.needed <= self.available

    def describe(self) -> str:
        parts = " + ".join(f"{k} {v:,}" for k, v in self.parts.items() if v)
        verdict = "fits" if self.fits else f"short by {self.needed - self.available:,} B"
        return (
            f"{self.region.name} @0x{self.region.origin:08x} needs {self.needed:,} B "
            f"({parts}), has {self.available:,} B: {verdict}"
        )


@dataclass
class FitReport:
    board: Board
    regions: list[RegionNeed]

    @property
    def fits(self) -> bool:
        return all(r.fits for r in self.regions)

    def describe(self, sep: str = "; ") -> str:
        return sep.join(f"{self.board.name} {r.describe()}" for r in self.regions)


@dataclass
class ModelSize:
    """The numbers the fit check needs, from the generated code."""

    name: str
    arena_bytes: int
    weight_bytes: int
    input_bytes: int
    output_bytes: int
    kernel_sources: int  # runtime .c files besides the model's own
    num_ops: int = 0  # the link keeps one 8-byte profile tick per op

    @property
    def code_estimate(self) -> int:
        return code_flash_estimate(self.kernel_sources)


def estimate_fit(board: Board, size: ModelSize) -> FitReport:
    """Estimate flash and RAM per region for `size` on `board` (empty for `host`)."""
    needs = []
    flash, ram = board.flash_region, board.ram_region
    if flash is not None:
        parts = {"weights": size.weight_bytes, "code (est.)": size.code_estimate}
        needs.append(RegionNeed(flash, sum(parts.values()), parts))
    if ram is not None:
        parts = {
            "arena": size.arena_bytes,
            "input+output": size.input_bytes + size.output_bytes,
            "stack": board.stack_size,
            "link": LINK_RAM_BYTES + 8 * size.num_ops,
        }
        needs.append(RegionNeed(ram, sum(parts.values()), parts))
    return FitReport(board, needs)


def check_fit(boards: list[Board], size: ModelSize) -> list[FitReport]:
    """Raise DoesNotFitError naming every board and region that is too small."""
    reports = [estimate_fit(b, size) for b in boards]
    bad = [r for r in reports if not r.fits]
    if bad:
        lines = "\n".join("  " + r.describe("\n  ") for r in bad)
        raise DoesNotFitError(
            f"Model '{size.name}' does not fit "
            f"{', '.join(r.board.name for r in bad)} (nothing was written):\n{lines}\n",
            "Pick a board with more memory (`tinypipe boards`), or shrink the model: a smaller "
            "input, fewer channels or layers.",
        )
    return reports


def budget_options(boards: list[Board], flash_budget: int | None = None) -> dict[str, object]:
    """generate_c's flash budget arguments for firmware on `boards`: `flash_budget`, a bound of
    its own, else the smallest flash among the boards (none for `host`; not strict: a model over
    it is the fit check's to report), and the boards' core when they share one (whose figures
    rank the layers, compiler/flash_budget.py)."""
    chips = [b for b in boards if b.flash_region is not None]
    cpus = {b.cpu for b in chips}
    if flash_budget is None and chips:
        return {
            "flash_budget": min(b.flash_region.size for b in chips),
            "strict_budget": False,
            "cpu": cpus.pop() if len(cpus) == 1 else None,
        }
    return {"flash_budget": flash_budget, "cpu": cpus.pop() if len(cpus) == 1 else None}


# ----------------------------------------------------------------------------- the model


def _model_size_from_header(name: str, files: dict[str, str]) -> ModelSize:
    header = files[f"{name}.h"]

    def define(key: str) -> int:
        m = re.search(rf"#define\s+{key}\s+(\w+)", header)
        if not m:
            raise TinypipeError(f"{name}.h does not define {key}.")
        val = m.group(1)
        if not val.isdigit():  # an alias such as NAME_INPUT_BYTES
            return define(val)
        return int(val)

    kernels = [f for f in files if f.endswith(".c") and f != f"{name}.c"]
    return ModelSize(
        name=name,
        arena_bytes=define("TP_MODEL_ARENA_BYTES"),
        weight_bytes=0,
        input_bytes=define("TP_MODEL_INPUT_BYTES"),
        output_bytes=define("TP_MODEL_OUTPUT_BYTES"),
        kernel_sources=len(kernels),
        num_ops=define("TP_MODEL_NUM_OPS"),
    )


def generate_model(
    model: str | Path,
    name: str,
    max_recompute: float | None = None,
    generated: bool = True,
    flash_budget: int | None = None,
    strict_budget: bool = True,
    cpu: str | None = None,
) -> tuple[dict[str, str], ModelSize, bytes | None, str]:
    """The model's C files (name -> text) and sizes, from a .tflite (compiled by tinypipe's
    codegen, `max_recompute`, `generated`, `flash_budget`, `strict_budget` and `cpu` as
    generate_c takes them) or from a folder already holding an exported C model (`NAME.h` + sources); the
    .tflite bytes and the compile summary's weight layout, patch and order lines (None and ""
    for a C folder)."""
    path = Path(model)
    if path.is_dir():
        if flash_budget is not None and strict_budget:
            raise TinypipeError(
                f"'{path}' holds C compiled already, so a flash budget does not apply to it.",
                "Give the .tflite with --flash-budget, or export the C again with "
                "`tinypipe export --format c --flash-budget ...`.",
            )
        header = path / f"{name}.h"
        if not header.is_file():
            raise TinypipeError(
                f"Folder '{path}' has no {name}.h.",
                "Pass the .tflite file, or the folder written by `tinypipe export --format c` "
                "with the same --name.",
            )
        files = {f.name: f.read_text() for f in sorted(path.iterdir()) if f.suffix in (".c", ".h")}
        return files, _model_size_from_header(name, files), None, ""
    if not path.is_file():
        raise TinypipeError(f"Model file '{path}' does not exist.")
    from tinypipe.compiler.codegen import generate_c
    from tinypipe.compiler.graph import read_tflite

    extra = {} if max_recompute is None else {"max_recompute": max_recompute}
    cmodel = generate_c(
        read_tflite(path),
        name,
        generated=generated,
        flash_budget=flash_budget,
        strict_budget=strict_budget,
        cpu=cpu,
        **extra,
    )
    summary = "\n".join((cmodel.layouts.summary(), cmodel.patches_summary, cmodel.order_summary))
    return dict(cmodel.files), model_size(cmodel), cmodel.graph.model_bytes, summary


def model_size(cmodel) -> ModelSize:
    """The fit check's numbers for a model compiled by tinypipe's codegen (`generate_c`)."""
    from tinypipe.compiler.iolayout import Packing

    graph, name = cmodel.graph, cmodel.name
    return ModelSize(
        name=name,
        arena_bytes=cmodel.arena_size,
        weight_bytes=cmodel.weight_bytes,
        input_bytes=Packing.of(graph.input_tensors).nbytes,  # what the link buffers hold
        output_bytes=Packing.of(graph.output_tensors).nbytes,
        kernel_sources=sum(1 for f in cmodel.files if f.endswith(".c") and f != f"{name}.c"),
        num_ops=len(graph.operators),
    )


# ----------------------------------------------------------------------------- the project


@dataclass
class Project:
    path: Path
    name: str
    boards: list[Board]
    size: ModelSize
    fit: list[FitReport]
    files: list[str] = field(default_factory=list)
    patches_summary: str = ""  # the compile summary's patch and order lines (a .tflite model)

    @property
    def envs(self) -> list[str]:
        return [b.name for b in self.boards]


def _jinja() -> jinja2.Environment:
    return template_env()


def _board_context(b: Board) -> dict:
    mem = f"{b.flash_size // 1024} KB flash, {b.ram_size // 1024} KB RAM" if b.flash_size else ""
    summary = ", ".join(x for x in (b.cpu, b.fpu and f"FPU {b.fpu}", mem, b.console) if x)
    return {
        "name": b.name,
        "title": b.title,
        "summary": summary,
        "protocol": b.default_protocol,
        "protocols": ", ".join(b.upload_protocols),
        "runs": "host process" if b.is_host else f"QEMU `-M {b.qemu_machine}`",
    }


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


SCONS_SHIM_META = {
    "type": "tool",
    "name": "tool-scons",
    "version": "4.41101.0",
    "spec": {
        "owner": "platformio",
        "id": None,
        "name": "tool-scons",
        "requirements": None,
        "uri": None,
    },
}


def _write_project(root: Path, name: str, boards: list[Board], model_files: dict[str, str],
                   size: ModelSize, tflite: bytes | None, protocol: str = "tinypipe",
                   output_quant: tuple[float, int] = (1.0, 0)) -> list[str]:  # fmt: skip
    env = _jinja()
    ctx = {
        "name": name,
        "protocol": protocol,
        "output_scale": repr(float(output_quant[0])),
        "output_zero_point": int(output_quant[1]),
        "boards": [_board_context(b) for b in boards],
        "input_bytes": size.input_bytes,
        "output_bytes": size.output_bytes,
        "arena_size": size.arena_bytes,
        "weight_bytes": size.weight_bytes,
    }
    text = {
        "platformio.ini": env.get_template("platformio.ini.j2").render(ctx),
        "README.md": env.get_template("firmware_README.md.j2").render(ctx),
        ".gitignore": env.get_template("firmware_gitignore.j2").render(ctx),
        f"{SRC_DIR}/tpl_model.h": env.get_template("firmware_model.h.j2").render(ctx),
    }
    for fname, content in model_files.items():
        text[f"{MODEL_DIR}/{fname}"] = content
    fw = firmware_dir()
    link = fw / "link" / "mlperf" if protocol == "mlperf" else fw / "link"
    for f in sorted(link.glob("tpl_*.[ch]")):
        text[f"{SRC_DIR}/{f.name}"] = f.read_text()
    manifest = {
        "name": name,
        "boards": [b.name for b in boards],
        "model": "model.tflite" if tflite is not None else None,
        "model_sha256": hashlib.sha256(tflite).hexdigest() if tflite is not None else None,
        "input_bytes": size.input_bytes,
        "output_bytes": size.output_bytes,
        "arena_bytes": size.arena_bytes,
        "weight_bytes": size.weight_bytes,
        "protocol": protocol,
    }
    text[MANIFEST] = json.dumps(manifest, indent=2) + "\n"
    if tflite is not None:
        (root / "model.tflite").write_bytes(tflite)
    for rel, content in text.items():
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(content)
    _copy_tree(fw / "platforms" / "tinypipe", root / PLATFORM_DIR)
    scons = root / PACKAGES_DIR / "tool-scons"
    _copy_tree(fw / "platforms" / "tool-scons", scons)
    (scons / ".piopm").write_text(json.dumps(SCONS_SHIM_META, sort_keys=True) + "\n")
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def create_project(
    model: str | Path,
    boards: list[str] | str,
    out_dir: str | Path,
    name: str = "model",
    force: bool = False,
    protocol: str = "tinypipe",
    max_recompute: float | None = None,
    flash_budget: int | None = None,
) -> Project:
    """Write a PlatformIO project for `model` with one env per board into `out_dir`.

    `max_recompute`: the MACs patch-based execution may add, as a fraction of the model's
    (codegen.generate_c; its default if None, 0 never patches).

    `flash_budget`: the flash (bytes) the firmware may take, weights and code as the fit check
    estimates them; layers go from int16-expanded to int8 weights until it fits
    (compiler/flash_budget.py). Default: the smallest flash of the boards (none for `host`).

    `protocol` is what the firmware speaks on its console: "tinypipe" (the CRC-checked link
    that `validate` uses) or "mlperf" (the MLPerf Tiny / EEMBC device-under-test protocol).

    `model` is a .tflite file (compiled with tinypipe's codegen) or a folder holding an
    exported C model. Every board is checked first: a model that does not fit a board's
    RAM or flash raises DoesNotFitError with the numbers per region, and nothing is written.
    A non-empty `out_dir` needs `force=True`; then the entries tinypipe writes are replaced
    and anything else (such as the `.pio` build cache) is kept.
    """
    if isinstance(boards, str):
        boards = [boards]
    if not boards:
        raise TinypipeError("No board given.", "Pass at least one --board (see `tinypipe boards`).")
    board_objs = [get_board(b) for b in dict.fromkeys(boards)]
    check_c_name(name)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise TinypipeError(
            f"Output path '{out}' exists and is a file.", "Choose a folder with -o."
        )
    if out.is_dir() and any(out.iterdir()) and not force:
        raise TinypipeError(
            f"Output folder '{out}' exists and is not empty.",
            "Choose another folder with -o, or pass --force to replace the project files.",
        )
    check_outdir(out, force=True)  # a path that can be created at all

    if protocol not in PROTOCOLS:
        raise TinypipeError(
            f"Unknown firmware protocol '{protocol}'.", f"Use one of: {', '.join(PROTOCOLS)}."
        )
    # The generated per-layer kernels are tuned for the DSP extension; on a Helium core the
    # runtime kernels' MVE paths are faster (fc_autoencoder 4x, resnet8 1.19x on mps3-an547),
    # so a project only for such cores keeps them.
    generated = not all(b.cpu == "cortex-m55" for b in board_objs)
    model_files, size, tflite, patches_summary = generate_model(
        model,
        name,
        max_recompute,
        generated=generated,
        **budget_options(board_objs, flash_budget),
    )
    output_quant = _mlperf_output_quant(tflite) if protocol == "mlperf" else (1.0, 0)
    fit = check_fit(board_objs, size)

    staging = staging_dir(out)
    try:
        files = _write_project(
            staging, name, board_objs, model_files, size, tflite, protocol, output_quant
        )
        if not out.exists() or not any(out.iterdir()):
            if out.exists():
                out.rmdir()
            os.replace(staging, out)
        else:
            for entry in MANAGED:
                old = out / entry
                if old.is_dir():
                    shutil.rmtree(old)
                elif old.exists():
                    old.unlink()
            for entry in MANAGED:
                if (staging / entry).exists():
                    os.replace(staging / entry, out / entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Project(out, name, board_objs, size, fit, files, patches_summary)


PROTOCOLS = ("tinypipe", "mlperf")


def _mlperf_output_quant(tflite: bytes | None) -> tuple[float, int]:
    """The MLPerf Tiny protocol carries one input buffer and one float result vector: the
    model must be a .tflite with one input and one quantized output (dequantized on device)."""
    from tinypipe.compiler.graph import read_tflite

    if tflite is None:
        raise TinypipeError(
            "MLPerf firmware is made from a .tflite model, not from exported C.",
            "Pass the .tflite file to `tinypipe firmware --protocol mlperf`.",
        )
    graph = read_tflite(tflite)
    if len(graph.input_tensors) != 1 or len(graph.output_tensors) != 1:
        raise TinypipeError(
            f"The MLPerf Tiny protocol carries one input and one output; this model has "
            f"{len(graph.input_tensors)} and {len(graph.output_tensors)}.",
            "Use the tinypipe link (the default --protocol) for this model.",
        )
    out = graph.output_tensors[0]
    if out.dtype not in ("int8", "int16"):
        raise TinypipeError(
            f"The model's output is {out.dtype}; MLPerf firmware dequantizes an int8 or int16 output.",
            "Quantize the model to full int8 (`tinypipe quantize`).",
        )
    return float(out.scale), int(out.zero_point)


def project_manifest(project_dir: str | Path) -> dict:
    """The `tinypipe.json` of a project made by `create_project`."""
    path = Path(project_dir) / MANIFEST
    if not path.is_file():
        raise TinypipeError(
            f"'{project_dir}' is not a tinypipe firmware project (no {MANIFEST}).",
            "Create one with `tinypipe firmware MODEL.tflite --board BOARD -o DIR`.",
        )
    return json.loads(path.read_text())


def project_model(project_dir: str | Path) -> Path:
    """The .tflite a project was made from (kept in the project as model.tflite)."""
    manifest = project_manifest(project_dir)
    if not manifest.get("model"):
        raise TinypipeError(
            f"Project '{project_dir}' was made from C sources, not a .tflite model.",
            "Validate against the .tflite file itself.",
        )
    return Path(project_dir) / manifest["model"]


# ----------------------------------------------------------------------------- PlatformIO


def project_envs(project_dir: str | Path) -> dict[str, Board]:
    """The envs of a tinypipe project (env name -> board), in platformio.ini order."""
    ini = Path(project_dir) / "platformio.ini"
    if not Path(project_dir).exists():
        raise TinypipeError(
            f"Project folder '{project_dir}' does not exist.",
            "Check the path, or create the project with "
            "`tinypipe firmware MODEL.tflite --board BOARD -o DIR`.",
        )
    if not ini.is_file():
        raise TinypipeError(
            f"'{project_dir}' is not a PlatformIO project (no platformio.ini).",
            "Create one with `tinypipe firmware MODEL.tflite --board BOARD -o DIR`.",
        )
    cfg = configparser.ConfigParser(inline_comment_prefixes=(";",), interpolation=None)
    cfg.read(ini)
    envs = {}
    for section in cfg.sections():
        if section.startswith("env:"):
            env = section[4:]
            board = cfg.get(section, "board", fallback=None) or cfg.get(
                "env", "board", fallback=env
            )
            envs[env] = get_board(board)
    return envs


def resolve_env(project_dir: str | Path, env: str | None) -> tuple[str, Board]:
    envs = project_envs(project_dir)
    if env is None:
        if len(envs) != 1:
            raise TinypipeError(
                f"The project has {len(envs)} envs ({', '.join(envs)}).", "Choose one with -e ENV."
            )
        env = next(iter(envs))
    if env not in envs:
        raise TinypipeError(f"The project has no env '{env}'.", f"Its envs: {', '.join(envs)}.")
    return env, envs[env]


def pio_environ(project_dir: str | Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for running PlatformIO on a tinypipe project: project-local core dir,
    no upgrade check, no telemetry (nothing that would reach for the network)."""
    _forget_moved_platform(Path(project_dir))
    env = dict(os.environ)
    env.update(
        PLATFORMIO_CORE_DIR=str(Path(project_dir).resolve() / CORE_DIR),
        PLATFORMIO_DISABLE_UPGRADE_CHECK="true",
        PLATFORMIO_SETTING_ENABLE_TELEMETRY="no",
        PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL="3650",
        PLATFORMIO_NO_ANSI="true",
    )
    if extra:
        env.update(extra)
    return env


def _forget_moved_platform(project_dir: Path) -> None:
    """PlatformIO records where a `symlink://` platform was linked from (with the absolute
    project path) in <core_dir>/platforms/*.pio-link. In a project that was moved or copied
    with its .pio-core, that link still points at the old folder: drop it so PlatformIO
    links this project's own platforms/tinypipe again."""
    for link in (project_dir / CORE_DIR / "platforms").glob("*.pio-link"):
        try:
            cwd = Path(json.loads(link.read_text()).get("cwd", ""))
        except (OSError, ValueError):
            cwd = Path()
        if cwd.resolve() != project_dir.resolve():
            link.unlink()


def pio_command(project_dir: str | Path, args: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "platformio",
        "run",
        "-d",
        str(Path(project_dir).resolve()),
        *args,
    ]


def program_path(project_dir: str | Path, env: str) -> Path:
    """The ELF (Cortex-M) or executable (host) that `pio run -e env` builds."""
    board = project_envs(project_dir)[env]
    name = "program" if board.is_host else "firmware.elf"
    return Path(project_dir) / ".pio" / "build" / env / name


@dataclass
class BuildResult:
    env: str
    board: Board
    program: Path
    seconds: float  # as PlatformIO reports it for the env
    usage: MemoryUsage

    def to_dict(self) -> dict:
        return {
            "env": self.env,
            "board": self.board.name,
            "program": str(self.program),
            "seconds": round(self.seconds, 3),
            **self.usage.to_dict(),
        }


class BuildError(TinypipeError):
    """PlatformIO could not build the project."""


def build(
    project_dir: str | Path,
    envs: list[str] | None = None,
    verbose: bool = False,
    timeout: float = 900,
) -> list[BuildResult]:
    """`pio run` on the project (offline), then flash/RAM use per env from each ELF."""
    project_dir = Path(project_dir)
    all_envs = project_envs(project_dir)
    envs = list(envs) if envs else list(all_envs)
    for e in envs:
        resolve_env(project_dir, e)
    args = [a for e in envs for a in ("-e", e)]
    if verbose:
        args.append("-v")
    t0 = time.monotonic()
    res = subprocess.run(
        pio_command(project_dir, args),
        cwd=project_dir,
        env=pio_environ(project_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    total = time.monotonic() - t0
    output = res.stdout + res.stderr
    if res.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-40:])
        raise BuildError(
            f"PlatformIO failed to build {project_dir} (exit {res.returncode}):\n{tail}\n",
            "Fix the error above; `tinypipe build -v` shows every compiler command.",
        )
    took: dict[str, float] = {}
    for m in re.finditer(r"^(\S+)\s+SUCCESS\s+(\d+):(\d+):([\d.]+)", output, re.M):
        took[m.group(1)] = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
    results = []
    for e in envs:
        board = all_envs[e]
        prog = program_path(project_dir, e)
        results.append(
            BuildResult(e, board, prog, took.get(e, total / len(envs)), elf_usage(prog, board))
        )
    return results


def build_project(project_dir: str | Path, env: str, log=None) -> BuildResult:
    """Build one env (`build(project_dir, [env])`), logging a one-line summary to `log`."""
    (res,) = build(project_dir, [env])
    if log is not None:
        log(f"[build] {env}: built in {res.seconds:.1f} s; {res.usage.describe()}")
    return res


def _pick_protocol(board: Board, port: str | None, protocol: str | None) -> str | None:
    """An explicit protocol, else a real board's hardware flasher when a port is given."""
    if protocol is None and port and board.hardware_protocol:
        return board.hardware_protocol
    return protocol


def upload_command(
    project_dir: str | Path,
    env: str | None = None,
    port: str | None = None,
    protocol: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The PlatformIO invocation for uploading `env`, and the extra environment it needs.

    `protocol` overrides the env's upload_protocol (e.g. stlink, openocd, dfu for a real
    STM32F405); with a `port` and no protocol, a board with real-hardware support uses it.
    """
    env, board = resolve_env(project_dir, env)
    protocol = _pick_protocol(board, port, protocol)
    if protocol is not None and protocol not in board.upload_protocols:
        raise TinypipeError(
            f"Board {board.name} cannot upload with '{protocol}'.",
            f"Choose one of: {', '.join(board.upload_protocols)}.",
        )
    args = ["-e", env, "-t", "upload"]
    if port:
        args += ["--upload-port", port]
    extra = {"TINYPIPE_UPLOAD_PROTOCOL": protocol} if protocol else {}
    return pio_command(project_dir, args), extra


def upload(
    project_dir: str | Path,
    env: str | None = None,
    port: str | None = None,
    protocol: str | None = None,
    dry_run: bool = False,
) -> str | int:
    """Upload through PlatformIO: boot in QEMU (emulated boards), run the program (host), or
    flash real hardware (st-flash / openocd / dfu-util). With `dry_run`, return the exact
    command the upload would run, as PlatformIO's build script composes it, without running
    it; otherwise run it attached to this terminal and return its exit status."""
    cmd, extra = upload_command(project_dir, env, port, protocol)
    if dry_run:
        res = subprocess.run(
            cmd,
            cwd=project_dir,
            env=pio_environ(project_dir, {**extra, "TINYPIPE_DRY_RUN": "1"}),
            capture_output=True,
            text=True,
        )
        m = re.search(r"^tinypipe-upload: (.*)$", res.stdout, re.M)
        if res.returncode != 0 or not m:
            tail = "\n".join((res.stdout + res.stderr).strip().splitlines()[-30:])
            raise BuildError(f"PlatformIO could not prepare the upload:\n{tail}\n")
        return m.group(1)
    env_name, board = resolve_env(project_dir, env)
    if (_pick_protocol(board, port, protocol) or board.default_protocol) == "qemu":
        from .console import HINT, run_console

        print(HINT.format(board=board.name), file=sys.stderr, flush=True)
        return run_console(cmd, project_dir, pio_environ(project_dir, extra))
    return subprocess.run(cmd, cwd=project_dir, env=pio_environ(project_dir, extra)).returncode
