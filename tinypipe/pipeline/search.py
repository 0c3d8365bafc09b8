"""`tinypipe search`: the most accurate model that fits a board, searched with Ray Tune.

    tinypipe search examples/search/tinypipe.toml              # an embedded Ray on this machine
    tinypipe search tinypipe.toml --address 10.0.0.5:6379      # an existing Ray cluster
    tinypipe search tinypipe.toml --resume                     # after an interrupt

Where the work runs: this process (the driver) reads the config, lists the candidates
(search_space), puts the dataset into Ray's object store once and hands Ray Tune one trial per
candidate. Each trial runs in a Ray worker process with one CPU (search_trial): the fit check,
training, the optimize steps, int8 conversion, compilation, the firmware build and the QEMU run
all happen there. What goes to a worker is the candidate's id (the candidates, settings and
dataset come once through the object store); what comes back is a small result dict per epoch
and, at the end, the figures with the int8 model (a few KB, base64). ASHA stops candidates
whose validation accuracy trails after `grace_epochs`.

The driver writes every finished trial to RUN/trials/<id>/ (report.json, the model) as it
completes: that folder is the ledger a resumed search reads, so finished trials are never run
again. At the end: RUN/search.json (every trial), RUN/search.md and RUN/pareto.png (the Pareto
front of accuracy against instructions, flash and RAM) and RUN/best/ (the most accurate model
that fits, ready for `tinypipe firmware`). RUN is the [project] output folder's `search/`.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tinypipe.errors import TinypipeError
from tinypipe.outdir import write_atomic

from .config import RunConfig, load_config
from .search_space import Candidate, draw, parse_space
from .search_trial import TrialSettings

Log = Callable[[str], None]
SEARCH_DIR = "search"
TRIALS_DIR = "trials"
TRIAL_REPORT = "report.json"
# Statuses a trial ends with: the ledger keeps these, a resumed search does not run them again.
FINISHED = ("measured", "rejected", "stopped")


@dataclass
class SearchPlan:
    cfg: RunConfig
    settings: TrialSettings
    trials: dict[str, Candidate]  # id -> candidate, in the space's order
    max_instructions: int  # 0: no limit (max_latency_ms is converted at the board's clock)
    space_size: int

    @property
    def out(self) -> Path:
        return self.cfg.output / SEARCH_DIR

    def trial_dir(self, trial_id: str) -> Path:
        return self.out / TRIALS_DIR / trial_id


def plan_search(config: str | Path) -> SearchPlan:
    """Read and check the config's [search] section; list the trials (nothing runs)."""
    from tinypipe.device.boards import get_board

    from .run import code_hash, file_hash

    cfg = load_config(config)
    s = cfg.sections["search"]
    if not s["board"]:
        raise TinypipeError(
            f"'{cfg.path}': [search] needs a board to fit, e.g. board = \"microbit\".",
            'Add board = "..." to [search] (see `tinypipe boards`).',
        )
    board = get_board(s["board"])
    if board.is_host or not board.emulated:
        raise TinypipeError(
            f"'{cfg.path}': [search] board = {board.name!r} cannot be measured here: the search "
            "counts instructions on a board emulated by QEMU.",
            "Use an emulated Cortex-M board (see `tinypipe boards`), e.g. microbit or mps2-an386.",
        )
    if cfg.get("model", "tflite"):
        raise TinypipeError(
            f"'{cfg.path}': [search] trains its own candidates, but [model] tflite names a "
            "model made elsewhere.",
            "Remove tflite from [model] to search, or use `tinypipe run` for that model.",
        )
    limit = s["max_instructions"]
    if s["max_latency_ms"]:
        by_latency = int(s["max_latency_ms"] * 1e-3 * board.clock_hz)
        limit = min(limit, by_latency) if limit else by_latency
    data, q, m = cfg.sections["data"], cfg.sections["quantize"], cfg.sections["model"]
    if q["activations"] != "int8":
        raise TinypipeError(
            f"'{cfg.path}': the search makes full-int8 models, but [quantize] activations = "
            f"{q['activations']!r}.",
            'Set activations = "int8" in [quantize] to search.',
        )
    settings = TrialSettings(
        board=board.name, epochs=s["epochs"], finetune_epochs=s["finetune_epochs"],
        batch_size=m["batch_size"], learning_rate=m["learning_rate"], seed=data["seed"],
        representative_samples=q["representative_samples"],
        validation_fraction=s["validation_fraction"], validate_samples=s["validate_samples"],
    )  # fmt: skip
    space = parse_space(s, m["name"])
    chosen = draw(space, s["trials"], data["seed"])
    dataset = cfg.resolve_dataset()
    context = {
        "data": [data, file_hash(Path(dataset)) if Path(dataset).exists() else dataset],
        "settings": settings.as_dict(),
        "code": code_hash(),
    }
    trials = {c.trial_id(context): c for c in chosen}
    return SearchPlan(cfg, settings, trials, limit, len(space))


# ---------------------------------------------------------------- the ledger


def read_ledger(plan: SearchPlan) -> dict[str, dict]:
    """The finished trials on disk, by id (only ids of this plan)."""
    done = {}
    for trial_id in plan.trials:
        path = plan.trial_dir(trial_id) / TRIAL_REPORT
        if path.is_file():
            try:
                report = json.loads(path.read_text())
            except ValueError:
                continue  # a torn write: the trial runs again
            if report.get("status") in FINISHED:
                done[trial_id] = report
    return done


def write_trial(plan: SearchPlan, trial_id: str, result: dict) -> dict:
    """Store a finished trial's result in its folder: report.json, and the model it made
    (model.tflite, trained) or was judged on (fit_check.tflite, untrained, when rejected)."""
    folder = plan.trial_dir(trial_id)
    folder.mkdir(parents=True, exist_ok=True)
    report = {k: v for k, v in result.items() if k not in ("tflite_b64", "score")}
    report["id"] = trial_id
    blob = result.get("tflite_b64")
    if blob:
        name = "model.tflite" if report["status"] == "measured" else "fit_check.tflite"
        write_atomic(folder / name, base64.b64decode(blob))
        report["model_file"] = name
    write_atomic(folder / TRIAL_REPORT, (json.dumps(report, indent=2) + "\n").encode())
    return report


# ---------------------------------------------------------------- Ray


def import_ray():
    try:
        import ray
        from ray import tune  # noqa: F401
    except ImportError:
        raise TinypipeError(
            "`tinypipe search` runs on Ray Tune, which is not installed.",
            "Install the search extra: pip install 'tinypipe[search]'.",
        ) from None
    return ray


def _trainable(config: dict, data, candidates: dict, settings: TrialSettings) -> None:
    """A Ray Tune function trainable: runs in a Ray worker, one trial per call."""
    import socket

    import ray
    from ray import tune

    from .search_trial import run_trial

    os.environ.setdefault("PLATFORMIO_DISABLE_UPGRADE_CHECK", "true")
    worker = {"host": socket.gethostname(), "node_ip": ray.util.get_node_ip_address(),
              "pid": os.getpid(), "started": time.time()}  # fmt: skip

    def report(metrics: dict) -> None:
        tune.report({**metrics, "worker": {**worker, "reported": time.time()}})

    run_trial(Candidate.from_dict(candidates[config["trial"]]), settings, data, report)


def _progress_callback(plan: SearchPlan, total: int, log: Log):
    from ray import tune

    class Ledger(tune.Callback):
        """Driver side: each finished trial goes to its folder at once, with a progress line."""

        def __init__(self) -> None:
            self.finished = 0
            self.errors: dict[str, str] = {}

        def on_trial_start(self, iteration, trials, trial, **info):
            trial_id = trial.config["trial"]
            log(f"  start  {trial_id}  {plan.trials[trial_id].label()}")

        def on_trial_complete(self, iteration, trials, trial, **info):
            trial_id = trial.config["trial"]
            result = dict(trial.last_result or {})
            if result.get("status") == "training":  # ASHA stopped it between epochs
                result = {
                    "candidate": plan.trials[trial_id].as_dict(),
                    "label": plan.trials[trial_id].label(), "status": "stopped",
                    "reason": f"stopped early by ASHA after {result['epoch']} epoch(s) "
                    f"(validation accuracy {100 * result['val_accuracy']:.1f} %)",
                    "epochs": result["epoch"], "val_accuracy": result["val_accuracy"],
                    "fit_check": result.get("fit_check"), "worker": result.get("worker"),
                }  # fmt: skip
            if result.get("status") not in FINISHED:
                return
            result = {k: v for k, v in result.items() if k in _KEEP or k in _FIGURES}
            write_trial(plan, trial_id, result)
            self.finished += 1
            log(f"  [{self.finished}/{total}] {trial_id}  {trial_line(result)}")

        def on_trial_error(self, iteration, trials, trial, **info):
            trial_id = trial.config["trial"]
            text = ""
            if trial.error_file and Path(trial.error_file).is_file():
                text = Path(trial.error_file).read_text().strip().splitlines()[-1]
            self.errors[trial_id] = text or "failed"
            log(f"  error  {trial_id}  {plan.trials[trial_id].label()}: {self.errors[trial_id]}")

    return Ledger()


# What a trial's final result keeps besides Ray's bookkeeping (time_this_iter_s, ...).
_KEEP = ("candidate", "label", "input_shape", "status", "reason", "epochs", "val_accuracy",
         "fit_check", "seconds", "worker", "tflite_b64")  # fmt: skip
_FIGURES = ("float_accuracy", "int8_accuracy", "macs", "parameters_int8_bytes",
            "compiled_weight_bytes", "compiled_const_bytes", "packed_layers", "arena_bytes",
            "tflite_bytes", "board")  # fmt: skip


def trial_line(r: dict) -> str:
    """One line for a finished trial: its candidate, then what it measured or why it ended."""
    label = r["label"]
    if r["status"] != "measured":
        return f"{label}: {r['status']} ({r.get('reason')})"
    b = r["board"]
    return (
        f"{label}: int8 {100 * r['int8_accuracy']:.1f} %, {b['instructions'] or 0:,} instructions, "
        f"flash {b['flash_used']:,} B, RAM {b['ram_used']:,} B, "
        f"{'bit-exact' if b['bit_exact'] else 'MISMATCH'}"
    )


def _tune(plan: SearchPlan, pending: list[str], address: str | None, log: Log) -> dict:
    """Run the pending trials on Ray Tune; returns what the run did (errors, times, Ray)."""
    ray = import_ray()
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    from tinypipe.model.datasets import load_dataset

    s = plan.cfg.sections["search"]
    data_cfg = plan.cfg.sections["data"]
    data = load_dataset(
        plan.cfg.resolve_dataset(), seed=data_cfg["seed"], test_fraction=data_cfg["test_fraction"]
    )
    # Ray's own per-trial CSV/JSON/TensorBoard logs: the ledger already keeps what matters.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    address = address or os.environ.get("RAY_ADDRESS") or None
    started_here = not ray.is_initialized()
    if started_here:
        common = {"log_to_driver": False, "configure_logging": True, "logging_level": "ERROR"}
        if address:
            try:
                ray.init(address=address, **common)
            except (ConnectionError, RuntimeError) as exc:
                raise TinypipeError(
                    f"Could not connect to the Ray cluster at {address}: "
                    f"{str(exc).strip().splitlines()[-1]}",
                    "Check the address (`ray status` on the head prints it), that this machine "
                    "can reach it, and that RAY_AUTH_TOKEN holds the cluster's token if it uses one.",
                ) from None
        else:
            # "local": a new Ray of our own even when a `ray start` cluster runs on this machine
            ray.init(
                address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False, **common
            )
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        concurrent = s["concurrent"] or cpus
        where = f"Ray cluster at {address}" if address else "an embedded local Ray"
        log(f"Running {len(pending)} trials on {where} ({cpus} CPUs, {concurrent} trials at once)")
        candidates = {i: plan.trials[i].as_dict() for i in pending}
        trainable = tune.with_resources(
            tune.with_parameters(
                _trainable, data=data, candidates=candidates, settings=plan.settings
            ),
            {"cpu": 1},
        )
        ledger = _progress_callback(plan, len(pending), log)
        scheduler = ASHAScheduler(
            time_attr="training_iteration", max_t=plan.settings.epochs,
            grace_period=min(s["grace_epochs"], plan.settings.epochs),
            reduction_factor=s["reduction_factor"],
        )  # fmt: skip
        storage = plan.out / "ray"
        shutil.rmtree(storage, ignore_errors=True)  # Ray's scratch; the ledger is elsewhere
        tuner = tune.Tuner(
            trainable,
            param_space={"trial": tune.grid_search(pending)},
            tune_config=tune.TuneConfig(
                metric="score", mode="max", scheduler=scheduler,
                max_concurrent_trials=concurrent, reuse_actors=True,
            ),
            run_config=tune.RunConfig(
                name="tune", storage_path=str(storage), verbose=0, callbacks=[ledger],
            ),
        )  # fmt: skip
        t0 = time.perf_counter()
        tuner.fit()
        wall = time.perf_counter() - t0
        return {
            "address": address or "local",
            "cpus": cpus,
            "concurrent": concurrent,
            "seconds": round(wall, 2),
            "trials_run": ledger.finished,
            "errors": ledger.errors,
        }
    finally:
        if started_here:
            ray.shutdown()


# ---------------------------------------------------------------- the command


def run_search(
    config: str | Path,
    address: str | None = None,
    resume: bool = False,
    force: bool = False,
    log: Log = print,
) -> dict:
    """Run the search of `config` (see the module docstring); returns search.json's content."""
    from .search_report import write_results

    plan = plan_search(config)
    if force and plan.out.exists():
        shutil.rmtree(plan.out)
    done = read_ledger(plan)
    if done and not resume:
        raise TinypipeError(
            f"'{plan.out}' already holds {len(done)} finished trial(s) of this search.",
            "Pass --resume to run only the trials still missing, or --force to start over.",
        )
    pending = [i for i in plan.trials if i not in done]
    log(
        f"tinypipe search: {plan.cfg.path} -> {plan.out}\n"
        f"  {len(plan.trials)} of {plan.space_size} candidates, board {plan.settings.board}"
        + (f", at most {plan.max_instructions:,} instructions" if plan.max_instructions else "")
        + (f"; {len(done)} finished earlier" if done else "")
    )
    plan.out.mkdir(parents=True, exist_ok=True)
    ray_run = _tune(plan, pending, address, log) if pending else None
    summary = write_results(plan, read_ledger(plan), ray_run, log)
    missing = len(plan.trials) - len(summary["trials"])
    if missing:
        log(
            f"{missing} trial(s) did not finish; `tinypipe search {plan.cfg.path} --resume` runs them."
        )
    return summary
