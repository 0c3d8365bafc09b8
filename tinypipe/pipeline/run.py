"""`tinypipe run`: data -> train -> quantize -> export -> firmware -> build -> validate -> report.

Each stage records a content hash of its inputs; a re-run skips a stage whose inputs did not
change and whose outputs are still there, and says so.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tinypipe import __version__
from tinypipe.errors import TinypipeError

from .config import RunConfig, load_config

Log = Callable[[str], None]


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def code_hash() -> str:
    """Hash of tinypipe's own code, templates and firmware sources: a new tinypipe (even an
    unreleased edit) invalidates every cached stage instead of reusing stale results."""
    from tinypipe.resources import firmware_dir, templates_dir

    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parents[1]  # the whole tinypipe package
    for root in (pkg, templates_dir(), firmware_dir()):
        for f in sorted(root.rglob("*")):
            if (
                f.is_file()
                and "__pycache__" not in f.parts
                and "_data" not in f.relative_to(root).parts[:1]
            ):
                h.update(str(f.relative_to(root)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Run:
    cfg: RunConfig
    log: Log
    force: bool = False
    results: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def out(self) -> Path:
        return self.cfg.output

    def _state_path(self) -> Path:
        return self.out / "state.json"

    def _state(self) -> dict:
        p = self._state_path()
        return json.loads(p.read_text()) if p.exists() else {}

    def stage(self, name: str, key: str, outputs: list[Path], fn: Callable[[], dict]) -> dict:
        """Run `fn` unless the recorded key matches and the outputs exist; persist its result."""
        state = self._state()
        rec = state.get(name)
        if not self.force and rec and rec["key"] == key and all(Path(p).exists() for p in outputs):
            self.log(f"[{name}] skipped: inputs unchanged (hash {key[:12]})")
            self.skipped.append(name)
            self.results[name] = rec["result"]
            return rec["result"]
        self.log(f"[{name}] running")
        t0 = time.perf_counter()
        result = fn()
        self.timings[name] = round(time.perf_counter() - t0, 2)
        self.log(f"[{name}] done in {self.timings[name]:.1f} s")
        state = self._state()
        state[name] = {"key": key, "result": result}
        self._state_path().write_text(json.dumps(state, indent=1, default=str))
        self.results[name] = result
        return result


def _toolchain() -> dict:
    def version(cmd: list[str]) -> str:
        exe = shutil.which(cmd[0])
        if not exe:
            return "not installed"
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            return (res.stdout or res.stderr).splitlines()[0].strip()
        except (OSError, subprocess.SubprocessError, IndexError):
            return "unknown"

    import tflite_micro

    info = {
        "tinypipe": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tflite_micro": getattr(tflite_micro, "__version__", "unknown"),
        "cc": version(["cc", "--version"]),
        "arm-none-eabi-gcc": version(["arm-none-eabi-gcc", "--version"]),
        "qemu-system-arm": version(["qemu-system-arm", "--version"]),
    }
    try:
        from importlib.metadata import version as pkg_version

        info["tensorflow"] = pkg_version("tensorflow-cpu")
    except Exception:  # the base install has no TensorFlow; the report says so
        info["tensorflow"] = "not installed"
    return info


def run_pipeline(config: str | Path, force: bool = False, log: Log = print) -> dict:
    """Run every stage of `config`; returns the report dict (also written to the output folder)."""
    from tinypipe.check.validate import load_inputs, load_inputs_array
    from tinypipe.compiler.graph import read_tflite

    cfg = load_config(config)
    dep_cfg = cfg.sections["deploy"]
    inputs_file = cfg.resolve("data", "inputs")
    if inputs_file and not inputs_file.is_file():
        raise TinypipeError(
            f"'{cfg.path}': [data] inputs = {cfg.get('data', 'inputs')!r} does not exist.",
            "Save the validation samples there with numpy.save() (numpy.savez() for several inputs).",
        )
    if cfg.optimizing:  # the [optimize] settings and files, before any training
        cfg.optimize_options([]).check()
    for key in ("distill_from", "distill_inputs"):
        path = cfg.resolve("optimize", key)
        if path and not path.is_file():
            raise TinypipeError(
                f"'{cfg.path}': [optimize] {key} = {cfg.get('optimize', key)!r} does not exist "
                f"(looked for {path}).",
                "Give the path relative to the tinypipe.toml: the teacher .keras for distill_from, "
                "the unlabelled inputs (.npy) for distill_inputs.",
            )
    boards = list(dep_cfg["boards"])
    _check_boards(boards)  # before anything is written
    accelerators = _check_accelerators(cfg.sections["npu"]["accelerators"])
    run = Run(cfg, log, force)
    run.out.mkdir(parents=True, exist_ok=True)
    log(f"tinypipe run: {cfg.path} -> {run.out}")

    tflite = run.out / "model.tflite"
    if cfg.given_model:
        ds, accuracy = None, {}
        data_key = [file_hash(cfg.given_model)]
        _given_model_stage(run, tflite)
    else:
        ds, data_key = _train_and_quantize(run, tflite, boards)
        # ---- evaluate on the test split (confusion matrix); export it for `validate --inputs`
        accuracy = _accuracy(tflite, ds, run.results["quantize"])
        from tinypipe.check.testdata import export_split

        export_split(ds, run.out / "data", "test", tflite, force=True)
    # the samples every board is validated on, checked against the model before any build
    n = dep_cfg["validate_samples"]
    graph = read_tflite(tflite)
    if inputs_file:
        x_val = [a[:n] for a in load_inputs(inputs_file, graph)]
        data_key.append(file_hash(inputs_file))
    else:
        x_val = load_inputs_array(ds.x_test[:n], graph)
    model_hash = file_hash(tflite)
    code = code_hash()

    # ---- export: compiled C and TFLM arrays
    c_dir, tflm_dir = run.out / "c", run.out / "tflm"
    name = cfg.get("project", "name")
    max_recompute = dep_cfg["max_recompute"] / 100  # percent in the config
    flash_budget = cfg.flash_budget  # None: the boards' flash

    def do_export() -> dict:
        from tinypipe.compiler.codegen import export_c
        from tinypipe.compiler.export_tflm import export_tflm

        c = export_c(
            tflite, c_dir, name=name, force=True, max_recompute=max_recompute,
            **_budget(flash_budget, boards),
        )  # fmt: skip
        t = export_tflm(tflite, tflm_dir, name=name, force=True)
        return {
            "arena_bytes": c.arena_size,
            "weight_bytes": c.weight_bytes,
            "tflm_arena_bytes": t.arena_size,
        }

    key = _key(code, model_hash, name, max_recompute, flash_budget, boards)
    run.stage("export", key, [c_dir, tflm_dir], do_export)

    # ---- firmware project + build
    fw_dir = run.out / "firmware"

    def do_firmware() -> dict:
        from tinypipe.device.firmware import create_project

        create_project(
            tflite, boards, fw_dir, name=name, force=True, max_recompute=max_recompute,
            flash_budget=flash_budget,
        )  # fmt: skip
        return {"boards": boards}

    key = _key(code, model_hash, boards, name, max_recompute, flash_budget)
    run.stage("firmware", key, [fw_dir], do_firmware)

    def do_build() -> dict:
        from tinypipe.device.elfsize import flash_split
        from tinypipe.device.firmware import build_project

        out = {}
        for b in boards:
            res = build_project(fw_dir, b, log=log)
            out[b] = {**res.to_dict(), "split": flash_split(res.program, name)}
        return out

    # the sources PlatformIO compiles: model and runtime (lib/), main (src/), platform, settings
    fw_key = _key(*(file_hash(fw_dir / p) for p in ("lib", "src", "platforms", "platformio.ini")))
    run.stage("build", _key(code, fw_key, boards), [fw_dir / ".pio"], do_build)

    # ---- validate on every board
    def do_validate() -> dict:
        from tinypipe.check.validate import validate_on_board

        out = {}
        for b in boards:
            verdict, _ = validate_on_board(graph, x_val, b, fw_dir)
            log(verdict.summary())
            out[b] = verdict.to_dict()
        return out

    run.stage("validate", _key(code, model_hash, fw_key, boards, n, data_key), [], do_validate)

    # ---- Ethos-U estimates (Vela), when [npu] asks for them
    if accelerators:

        def do_npu() -> dict:
            from tinypipe.device.npu import estimate_npu

            out = {}
            for acc in accelerators:
                est = estimate_npu(tflite, acc)
                log(est.summary())
                out[acc] = est.to_dict()
            return out

        run.stage("npu", _key(code, model_hash, accelerators), [], do_npu)

    # ---- report
    from .report import write_report

    report = build_report(run, tflite, accuracy, boards)
    paths = write_report(report, run.out)
    log("[report] " + ", ".join(str(p) for p in paths))
    for b in boards:
        v = run.results["validate"][b]
        log(f"  {b}: {'BIT-EXACT' if v['bit_exact'] else 'MISMATCH'} on {v['samples']} samples")
    return report


def _train_and_quantize(run: Run, tflite: Path, boards: list[str]):
    """train -> ([optimize] or quantize) into `tflite`; returns the dataset and its cache key."""
    from tinypipe.model.datasets import load_dataset

    cfg, log = run.cfg, run.log
    data_cfg, model_cfg, q_cfg = (cfg.sections[s] for s in ("data", "model", "quantize"))
    train_dir = run.out / "train"
    keras_path = train_dir / "model.keras"

    def do_train() -> dict:
        from tinypipe.model.train import train_model

        res = train_model(
            cfg.resolve_dataset(),
            model_cfg["name"],
            train_dir,
            epochs=model_cfg["epochs"] or None,
            seed=data_cfg["seed"],
            batch_size=model_cfg["batch_size"],
            learning_rate=model_cfg["learning_rate"],
            test_fraction=data_cfg["test_fraction"],
            force=True,
            verbose=0,
            log=log,
        )
        return {
            "float_accuracy": res.float_accuracy,
            "epochs": res.epochs,
            "seconds": round(res.seconds, 2),
        }

    data_key = [
        data_cfg,
        file_hash(Path(cfg.resolve_dataset())) if Path(cfg.resolve_dataset()).exists() else None,
    ]
    code = code_hash()
    run.stage("train", _key(code, data_key, model_cfg), [keras_path], do_train)

    def do_quantize() -> dict:
        from tinypipe.model.quantize import quantize_model

        res = quantize_model(
            keras_path,
            tflite,
            max_drop=q_cfg["max_drop"],
            representative_samples=q_cfg["representative_samples"],
            seed=data_cfg["seed"],
            log=log,
            activations=q_cfg["activations"],
        )
        return {
            "float_accuracy": res.float_accuracy,
            "int8_accuracy": res.int8_accuracy,
            "drop_points": res.drop_points,
            "size_bytes": res.size_bytes,
        }

    if cfg.optimizing:
        _optimize_stage(run, keras_path, tflite, boards, code, data_key)
    else:
        run.stage(
            "quantize", _key(code, file_hash(keras_path), q_cfg, data_key), [tflite], do_quantize
        )
    ds = load_dataset(
        cfg.resolve_dataset(), seed=data_cfg["seed"], test_fraction=data_cfg["test_fraction"]
    )
    return ds, data_key


def _given_model_stage(run: Run, tflite: Path) -> None:
    """[model] tflite: read (and so verify) the given model, then make it the run's model."""
    src = run.cfg.given_model

    def do_model() -> dict:
        from tinypipe.compiler.graph import read_tflite

        graph = read_tflite(src)  # an untrusted file: checked before anything uses it
        shutil.copyfile(src, tflite)
        return {"source": str(src), "inputs": len(graph.inputs), "outputs": len(graph.outputs)}

    run.stage("model", _key(code_hash(), file_hash(src)), [tflite], do_model)


def _optimize_stage(
    run: Run, keras_path: Path, tflite: Path, boards: list[str], code: str, data_key
) -> None:
    """[optimize]: lighten the trained model, then its int8 .tflite is the run's model. Every
    step is measured on the first Cortex-M board of [deploy] (flash, RAM, instructions). The
    quantize results (and the max_drop gate) come from the optimized model."""
    cfg = run.cfg
    opt_dir = run.out / "optimize"
    devices = [b for b in boards if b != "host"][:1]
    opts = cfg.optimize_options(devices)
    teacher = [file_hash(Path(p)) for p in (opts.distill_from, opts.distill_inputs) if p]

    def do_optimize() -> dict:
        from tinypipe.model.optimize import optimize_model
        from tinypipe.model.quantize import AccuracyDropError

        res = optimize_model(
            keras_path,
            opt_dir,
            dataset=cfg.resolve_dataset(),
            options=opts,
            force=True,
            log=run.log,
        )
        final = res.final
        drop = 100.0 * (final["float_accuracy"] - final["int8_accuracy"])
        max_drop = cfg.get("quantize", "max_drop")
        if drop > max_drop + 1e-9:
            raise AccuracyDropError(
                f"The optimized model lost {drop:.2f} accuracy points in int8, more than max_drop {max_drop:g}.",
                "Fine-tune longer ([optimize] epochs), prune less, or turn on qat.",
            )
        shutil.copyfile(res.tflite_path, tflite)
        return {
            "float_accuracy": final["float_accuracy"],
            "int8_accuracy": final["int8_accuracy"],
            "drop_points": round(drop, 4),
            "size_bytes": final["tflite_bytes"],
            "steps": res.steps,
            "board": devices[0] if devices else None,
            "train_seconds": res.report["train_seconds"],
        }

    key = _key(
        code,
        file_hash(keras_path),
        cfg.sections["optimize"],
        cfg.sections["quantize"],
        teacher,
        devices,
        data_key,
    )
    result = run.stage("optimize", key, [tflite, opt_dir / "optimize.json"], do_optimize)
    run.results["quantize"] = result


def _check_accelerators(names: list) -> list[str]:
    from tinypipe.device.npu import ACCELERATORS, vela_version

    for name in names:
        if name not in ACCELERATORS:
            raise TinypipeError(
                f"[npu] accelerators: unknown Ethos-U configuration {name!r}.",
                f"Use some of: {', '.join(ACCELERATORS)}.",
            )
    if names:
        vela_version()  # not installed -> how to install it, before anything runs
    return list(names)


def _check_boards(boards: list[str]) -> None:
    from tinypipe.device.boards import get_board

    for b in boards:
        get_board(b)  # raises a TinypipeError naming the known boards


def _accuracy(tflite: Path, ds, q: dict) -> dict:
    """int8 predictions of the test split by the TFLM interpreter, as a confusion matrix."""
    from tinypipe.check.reference import run_tflm
    from tinypipe.check.validate import load_inputs_array
    from tinypipe.compiler.graph import read_tflite

    graph = read_tflite(tflite)
    x = load_inputs_array(ds.x_test, graph)
    pred = run_tflm(graph.model_bytes, x).reshape(len(x), -1).argmax(axis=1)
    k = len(ds.class_names)
    cm = np.zeros((k, k), dtype=int)
    for t, p in zip(ds.y_test.astype(int), pred):
        cm[t, p] += 1
    return {
        "float": q.get("float_accuracy"),
        "int8": float(np.trace(cm) / max(1, cm.sum())),  # of the quantized model (int8 or 16x8)
        "activations": graph.input_tensors[0].dtype,
        "drop_points": q.get("drop_points"),
        "samples": int(len(x)),
        "classes": [str(c) for c in ds.class_names],
        "confusion_matrix": cm.tolist(),
    }


def _memory_rows(build: dict) -> dict:
    """Flash (split into weights / kernels / rest) and RAM use against the board's budget."""
    used_f, size_f, used_r, size_r = (
        build.get(k) for k in ("flash_used", "flash_size", "ram_used", "ram_size")
    )
    split = build.get("split", {})
    flash = {"used": used_f, "budget": size_f, **split}
    if used_f is not None and split:
        flash["rest"] = used_f - split["weights"] - split["kernels"]
    fit: dict = {"verdict": "n/a (host)"}
    if size_f and size_r:
        fit = {"flash_margin": size_f - used_f, "ram_margin": size_r - used_r}
        ok = fit["flash_margin"] >= 0 and fit["ram_margin"] >= 0
        fit["verdict"] = (
            f"{'fits' if ok else 'DOES NOT FIT'}: flash margin {fit['flash_margin']:,} B, RAM margin {fit['ram_margin']:,} B"
        )
    return {
        "flash": flash,
        "ram": {"used": used_r, "budget": size_r, "stack": build.get("stack")},
        "fit": fit,
    }


def _arena_buffers(graph, plan, file_index) -> list[dict]:
    """The memory plan's buffers (tensor or scratch, bytes, arena offset, first and last step of
    the execution order; `file_index(step)`: that layer's operator index in the .tflite)."""
    out = []
    for b in plan.buffers:
        if b.key.startswith("t"):
            label = graph.tensors[int(b.key[1:])].name or b.key
            label = label if len(label) <= 28 else "…" + label[-27:]
        else:
            label = f"scratch of #{file_index(int(b.key.removeprefix('scratch')))}"
        out.append(
            {"label": label, "size": b.size, "offset": b.offset, "first": b.first, "last": b.last}
        )
    return out


def model_io(graph) -> dict:
    """Every model input and output: name, shape, type and quantization, in API order."""

    def row(t) -> dict:
        q = t.quant is not None
        return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype,
                "scale": t.scale if q else None, "zero_point": t.zero_point if q else None}  # fmt: skip

    return {
        "inputs": [row(t) for t in graph.input_tensors],
        "outputs": [row(t) for t in graph.output_tensors],
    }


def _budget(flash_budget: int | None, boards: list[str]) -> dict:
    """generate_c's flash budget arguments for the run's boards, as its firmware is compiled:
    [deploy] flash_budget, else the boards' flash (firmware.budget_options)."""
    from tinypipe.device.boards import get_board
    from tinypipe.device.firmware import budget_options

    return budget_options([get_board(b) for b in boards], flash_budget)


def build_report(run: Run, tflite: Path, accuracy: dict, boards: list[str]) -> dict:
    from tinypipe.compiler.codegen import generate_c
    from tinypipe.compiler.graph import read_tflite
    from tinypipe.compiler.memory_report import inplace_timeline
    from tinypipe.compiler.summary import op_macs

    cfg = run.cfg
    graph = read_tflite(tflite)
    max_recompute = cfg.get("deploy", "max_recompute") / 100
    cm = generate_c(
        graph, cfg.get("project", "name"), max_recompute=max_recompute,
        **_budget(cfg.flash_budget, boards),
    )  # fmt: skip
    layers = []  # in execution order (cm.order); "index" is the operator's in the .tflite
    for op, live in zip(cm.graph.operators, cm.plan.live_bytes):
        ins = [t for t in graph.op_inputs(op) if t is not None]
        layers.append(
            {
                "index": cm.file_index(op.index),
                "op": op.opcode,
                "input": list(ins[0].shape) if ins else [],
                "inputs": [list(t.shape) for t in ins if not t.is_const],
                "output": list(graph.tensors[op.outputs[0]].shape),
                "macs": op_macs(op, graph),
                "param_bytes": sum(t.nbytes for t in ins if t.is_const),
                "live_bytes": live,
                "instructions": None,
            }
        )
    from tinypipe.device.boards import get_board
    from tinypipe.device.energy import estimate, layer_estimates

    # per-layer instructions from the first board that counts instructions (QEMU -icount)
    layer_board = None
    for b in boards:
        v = run.results["validate"][b]
        extra = v.get("extra", {})
        if extra.get("count_unit") == "instructions" and extra.get("layer_counts"):
            per_layer = layer_estimates(get_board(b), extra["layer_counts"])
            for row in layers:  # the counts are per operator of the .tflite
                row["instructions"] = extra["layer_counts"][row["index"]]
                row.update(per_layer[row["index"]])
            layer_board = b
            break
    board_rows = {}
    for b in boards:
        build = run.results["build"][b]
        v = run.results["validate"][b]
        mean = int(np.mean(v["instructions"])) if v.get("instructions") else None
        est = estimate(get_board(b), mean)
        board_rows[b] = {
            "bit_exact": v["bit_exact"],
            "samples": v["samples"],
            "elements": v["elements"],
            "mismatches": v["mismatches"],
            "instructions": mean,
            "clock_hz": get_board(b).clock_hz or None,
            "estimate": est.to_dict() if est else None,
            **_memory_rows(build),
        }
    export = run.results["export"]
    return {
        "name": cfg.get("project", "name"),
        "run_date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "config": {k: v for k, v in cfg.sections.items()},
        "model": {
            "tflite": tflite.name,
            "sha256": file_hash(tflite),
            "keras_sha256": file_hash(keras)
            if (keras := run.out / "train" / "model.keras").exists()
            else None,
            "source": str(cfg.given_model) if cfg.given_model else None,
            "macs": sum(r["macs"] for r in layers),
            "param_bytes": sum(r["param_bytes"] for r in layers),
        },
        "generated_sources": {
            n: hashlib.sha256(t.encode()).hexdigest() for n, t in sorted(cm.files.items())
        },
        "toolchain": _toolchain(),
        "accuracy": accuracy,
        "io": model_io(graph),
        "memory": {
            "arena_bytes": cm.arena_size,
            "io_bytes": cm.io_bytes,
            "order": cm.order_summary,
            "tflm_arena_bytes": export["tflm_arena_bytes"],
            "weight_bytes": cm.weight_bytes,
        },
        "weights": {"summary": cm.layouts.summary(), **cm.layouts.to_dict()},
        "layers": layers,
        "arena_buffers": _arena_buffers(graph, cm.plan, cm.file_index),
        "inplace_timeline": inplace_timeline(graph, cm),
        "layer_instructions_board": layer_board,
        "boards": board_rows,
        "stages": {"seconds": run.timings, "skipped": run.skipped},
        "optimize": run.results.get("optimize"),
        "npu": run.results.get("npu"),
    }
