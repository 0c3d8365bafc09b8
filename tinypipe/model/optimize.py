"""`tinypipe optimize`: make a trained Keras model lighter, then quantize it to full int8.

Steps, in this order, each optional: structured pruning (prune.py) with fine-tuning, weight
clustering to K <= 16 levels (cluster.py) with fine-tuning, quantization-aware fine-tuning
(qat.py). Every fine-tuning learns from the labels and, given a teacher, from its softened
outputs (distill.py); a teacher alone fine-tunes the model by distillation. After each step the
model is converted to int8 and measured the way the device will run it: accuracy on the TFLM
interpreter, MACs, compiled weight bytes (4-bit packed where clustering allows), arena RAM and,
for each board asked for, the firmware's flash, RAM and instructions per inference, with the
device's outputs checked bit for bit against TFLM.

Writes DIR/model.tflite (full int8, runs on TFLM as is), DIR/model.keras (the optimized float
model) and DIR/optimize.json (the settings and every step's figures).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tinypipe.errors import DoesNotFitError, TinypipeError

from .cluster import MAX_LEVELS
from .datasets import Dataset

REPORT_FILE = "optimize.json"
TFLITE_FILE = "model.tflite"
BOARD_SAMPLES = 16  # test inputs run on each board per step (bit-exactness and instructions)


@dataclass
class OptimizeOptions:
    qat: bool = False
    prune: float = 0.0  # fraction of the channels of each prunable layer to remove
    cluster: int = 0  # 0: off, else at most this many int8 values per layer (2..16)
    distill_from: str | Path | None = None  # teacher .keras
    temperature: float = 4.0
    distill_weight: float = 0.7  # weight of the teacher's soft targets in the loss (0..1)
    # Unlabelled inputs (.npy, or .npz `x`) the teacher labels: the transfer set, learnt from the
    # teacher alone next to the labelled training split.
    distill_inputs: str | Path | None = None
    epochs: int = 5  # fine-tuning epochs per step
    learning_rate: float = 2e-3
    batch_size: int = 32
    seed: int | None = None  # default: the seed in model.json beside the model
    representative_samples: int = 200
    boards: list[str] = field(default_factory=list)  # measured after every step

    def check(self) -> None:
        bad = []
        if not 0.0 <= self.prune < 1.0:
            bad.append(f"--prune {self.prune} (a fraction of channels: 0 <= F < 1, e.g. 0.5)")
        if self.cluster and not 2 <= self.cluster <= MAX_LEVELS:
            bad.append(f"--cluster {self.cluster} (2..{MAX_LEVELS} values per layer)")
        if self.temperature <= 0:
            bad.append(f"--temperature {self.temperature} (must be positive, e.g. 4)")
        if not 0.0 <= self.distill_weight <= 1.0:
            bad.append(f"--distill-weight {self.distill_weight} (0..1)")
        if self.distill_inputs and not self.distill_from:
            bad.append(
                f"--distill-inputs {self.distill_inputs} without --distill-from (the teacher "
                "labels these inputs; pass the teacher .keras)"
            )
        if self.epochs < 1 or self.batch_size < 1 or self.learning_rate <= 0:
            bad.append(
                f"epochs {self.epochs}, batch size {self.batch_size}, learning rate "
                f"{self.learning_rate} (epochs and batch size >= 1, learning rate > 0)"
            )
        if bad:
            raise TinypipeError(
                "Invalid optimize settings: " + "; ".join(bad) + ".",
                "Fix the values named above.",
            )

    @property
    def steps(self) -> list[str]:
        names = []
        if self.prune:
            names.append(f"prune {self.prune:g}")
        elif self.distill_from:
            names.append("distill")
        if self.cluster:
            names.append(f"cluster {self.cluster}")
        if self.qat:
            names.append("qat")
        return names


@dataclass
class OptimizeResult:
    tflite_path: Path
    keras_path: Path
    report_path: Path
    baseline: dict
    final: dict
    steps: list[dict]
    report: dict


# ------------------------------------------------------------------ measuring


def _packed(low) -> bool:
    """A layer on 4-bit indices plus a codebook (tp_w4), run in place or not."""
    return "codebook" in (low.consts or {})


def compiled_weight_bytes(cmodel) -> int:
    """Bytes of the conv/dense/depthwise weights in the compiled C: the int8 tensors, or for
    4-bit packed layers the index bytes plus the codebook (requantization constants excluded)."""
    total = 0
    for op, low in zip(cmodel.graph.operators, cmodel.lowered):
        if op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        if _packed(low):
            total += low.consts["weights"].size + low.consts["codebook"].size
        else:
            total += cmodel.graph.tensors[op.inputs[1]].nbytes
    return total


def measure(
    tflite: bytes,
    data: Dataset,
    float_accuracy: float | None,
    boards: list[str],
    samples: int = BOARD_SAMPLES,
) -> dict:
    """The device-side figures of an int8 model (see the module docstring); the first `samples`
    test inputs run on each board."""
    from tinypipe.check import reference
    from tinypipe.check.validate import validate_on_board
    from tinypipe.compiler.codegen import generate_c
    from tinypipe.compiler.graph import read_tflite
    from tinypipe.compiler.summary import op_macs

    graph = read_tflite(tflite)
    tin = graph.input_tensors[0]
    x_q = reference.quantize_input(data.x_test, tin.scale, tin.zero_point)
    y = reference.run_tflm(tflite, x_q).reshape(len(x_q), -1)
    cmodel = generate_c(graph)
    figures = {
        "float_accuracy": None if float_accuracy is None else round(float_accuracy, 6),
        "int8_accuracy": round(float(np.mean(y.argmax(axis=1) == data.y_test)), 6),
        "macs": int(sum(op_macs(op, graph) for op in graph.operators)),
        "parameters_int8_bytes": int(
            sum(graph.tensors[op.inputs[1]].nbytes for op in graph.operators
                if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"))
        ),  # fmt: skip
        "compiled_weight_bytes": compiled_weight_bytes(cmodel),
        "compiled_const_bytes": cmodel.weight_bytes,
        "packed_layers": sum(_packed(low) for low in cmodel.lowered),
        "arena_bytes": cmodel.arena_size,
        "tflite_bytes": len(tflite),
        "boards": {},
    }
    for board in boards:
        try:
            verdict, _ = validate_on_board(graph, x_q[:samples], board)
        except DoesNotFitError:  # the estimate of the firmware's compile (its flash budget)
            from tinypipe.device.boards import get_board
            from tinypipe.device.firmware import budget_options

            budget = budget_options([get_board(board)])
            figures["boards"][board] = _estimated_fit(generate_c(graph, **budget), board)
            continue
        build = verdict.extra["build"]
        counts = verdict.instructions
        figures["boards"][board] = {
            "fits": True,
            "bit_exact": verdict.bit_exact,
            "samples": verdict.samples,
            "flash_used": build["flash_used"],
            "flash_size": build["flash_size"],
            "ram_used": build["ram_used"],
            "ram_size": build["ram_size"],
            "instructions": int(np.mean(counts)) if counts else None,
        }
    return figures


def _estimated_fit(cmodel, board_name: str) -> dict:
    """The fit check's estimate for a model the firmware refuses on `board_name` (too big)."""
    from tinypipe.device.boards import get_board
    from tinypipe.device.firmware import estimate_fit, model_size

    needs = {r.region.kind: r for r in estimate_fit(get_board(board_name), model_size(cmodel)).regions}
    return {
        "fits": False,
        "estimated": True,
        "bit_exact": None,
        "samples": 0,
        "flash_used": needs["flash"].needed,
        "flash_size": needs["flash"].region.size,
        "ram_used": needs["ram"].needed,
        "ram_size": needs["ram"].region.size,
        "instructions": None,
    }


# ------------------------------------------------------------------ Keras plumbing


def rebatch(model, batch: int | None):
    """The same model (same weights) on an input of batch size `batch`: None to train in
    mini-batches, 1 to convert without shape ops."""
    from .zoo import import_keras

    keras = import_keras()
    config = model.get_config()
    for spec in config["layers"]:
        if spec["class_name"] == "InputLayer":
            shape = spec["config"].get("batch_shape") or spec["config"].get("batch_input_shape")
            shape = [batch, *shape[1:]]
            spec["config"]["batch_shape"] = shape
            spec["config"].pop("batch_input_shape", None)
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def _accuracy(model, data: Dataset) -> float:
    from .train import predict

    pred = predict(model, data.x_test).reshape(len(data.x_test), -1)
    return float(np.mean(pred.argmax(axis=1) == data.y_test))


class Trainer:
    """Fine-tunes a model on the training split, by distillation when a teacher is given; with
    `transfer` (unlabelled inputs, the teacher's logits for them) also on those inputs."""

    def __init__(
        self,
        data: Dataset,
        opts: OptimizeOptions,
        teacher_logits: np.ndarray | None,
        transfer: tuple[np.ndarray, np.ndarray] | None = None,
    ):
        from .distill import distill_targets, distillation_loss

        self.opts = opts
        self.x = data.x_train
        if teacher_logits is None:
            self.targets, self.loss = data.y_train, "sparse_categorical_crossentropy"
        else:
            self.targets = distill_targets(data.y_train, teacher_logits)
            if transfer is not None:
                x_extra, logits_extra = transfer
                self.x = np.concatenate([self.x, x_extra])
                self.targets = np.concatenate([self.targets, distill_targets(None, logits_extra)])
            self.loss = distillation_loss(
                teacher_logits.shape[1], opts.temperature, opts.distill_weight
            )
        self.seconds = 0.0

    def fit(self, model, on_epoch_end: Callable[[], None] | None = None) -> None:
        from .zoo import import_keras

        keras = import_keras()
        model.compile(optimizer=keras.optimizers.Adam(self.opts.learning_rate), loss=self.loss)
        callbacks = []
        if on_epoch_end is not None:
            callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: on_epoch_end()))
        t0 = time.perf_counter()
        model.fit(
            self.x, self.targets, epochs=self.opts.epochs,
            batch_size=self.opts.batch_size, shuffle=True, verbose=0, callbacks=callbacks,
        )  # fmt: skip
        self.seconds += time.perf_counter() - t0


def lighten(
    work,
    opts: OptimizeOptions,
    trainer: Trainer,
    after_step: Callable[[str, object], None] | None = None,
    log: Callable[[str], None] | None = None,
):
    """Apply the steps of `opts` to the float model `work` in order (pruning or distillation,
    clustering, QAT), fine-tuning after each with `trainer`; `after_step(name, model)` sees the
    model after every step. Returns the final model (pruning makes a new one)."""
    say = log or (lambda _msg: None)
    step = after_step or (lambda _name, _m: None)
    if opts.prune:
        from .prune import prune_model

        work, kept = prune_model(work, opts.prune)
        say(f"Pruned {len(kept)} layers by {opts.prune:g}; fine-tuning {opts.epochs} epochs")
        trainer.fit(work)
        step(opts.steps[0], work)
    elif opts.distill_from:
        say(f"Distilling from {opts.distill_from} for {opts.epochs} epochs")
        trainer.fit(work)
        step("distill", work)
    if opts.cluster:
        from .cluster import cluster_model

        cluster_model(work, opts.cluster)
        say(f"Clustered to {opts.cluster} values per layer; fine-tuning {opts.epochs} epochs")
        trainer.fit(work, lambda: cluster_model(work, opts.cluster, refit=False))
        cluster_model(work, opts.cluster, refit=False)
        step(f"cluster {opts.cluster}", work)
    if opts.qat:
        from .cluster import cluster_model
        from .qat import quant_aware, snap_weights

        say(f"Quantization-aware fine-tuning for {opts.epochs} epochs")
        project = (lambda: cluster_model(work, opts.cluster, refit=False)) if opts.cluster else None
        trainer.fit(quant_aware(work), project)
        if opts.cluster:
            cluster_model(work, opts.cluster, refit=False)  # clustered levels are on the grid
        else:
            snap_weights(work)
        step("qat", work)
    return work


# ------------------------------------------------------------------ the command


def _load_checked(path: Path):
    """A Keras model file, with quantize's checks and messages for a missing or foreign file."""
    from .quantize import _check_paths, _load_keras

    _check_paths(path, Path(TFLITE_FILE))
    return _load_keras(path)


def optimize_model(
    keras_path: str | Path,
    out_dir: str | Path,
    dataset: Dataset | str | Path | None = None,
    options: OptimizeOptions | None = None,
    force: bool = False,
    log: Callable[[str], None] | None = print,
) -> OptimizeResult:
    """Optimize `keras_path` (see the module docstring) into `out_dir`.

    `dataset` defaults to the one named in the model.json beside the model (same seed, split).
    Classifiers only: accuracy is what the steps trade against size.
    """
    from .quantize import _resolve_dataset, check_input_shape
    from .train import check_output_dir, read_meta, seed_everything
    from .zoo import convert_int8

    opts = options or OptimizeOptions()
    say = log or (lambda _msg: None)
    keras_path, out_dir = Path(keras_path), Path(out_dir)
    opts.check()
    check_output_dir(out_dir, force)
    for board in opts.boards:
        from tinypipe.device.boards import get_board

        get_board(board)
    model = _load_checked(keras_path)
    teacher = _load_checked(Path(opts.distill_from)) if opts.distill_from else None
    meta = read_meta(keras_path)
    data = _resolve_dataset(dataset, meta, keras_path, opts.seed)
    seed = data.seed if opts.seed is None else opts.seed
    shape = check_input_shape(model, data)
    out_shape = tuple(int(d) for d in model.outputs[0].shape[1:])
    if len(out_shape) != 1 or out_shape[0] < data.num_classes:
        raise TinypipeError(
            f"'{keras_path}' outputs shape {out_shape}, not class scores for the "
            f"{data.num_classes} classes of '{data.name}'; optimize handles classifiers.",
            "Pass a classifier trained by `tinypipe train` and its dataset.",
        )
    if teacher is not None:
        t_shape = tuple(int(d) for d in teacher.outputs[0].shape[1:])
        if tuple(int(d) for d in teacher.inputs[0].shape[1:]) != shape or t_shape != out_shape:
            raise TinypipeError(
                f"The teacher '{opts.distill_from}' does not take the student's inputs {shape} "
                f"or give its outputs {out_shape}.",
                "Distil from a model trained on the same dataset (e.g. a larger zoo model).",
            )
    x_extra = None
    if opts.distill_inputs:
        from .distill import load_transfer_inputs

        x_extra = load_transfer_inputs(opts.distill_inputs, shape)

    seed_everything(seed)
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # retracing notes from predicting on pruned copies
    rng = np.random.default_rng(seed)
    rep = data.x_train[rng.permutation(len(data.x_train))[: opts.representative_samples]]

    def convert(m) -> bytes:
        return convert_int8(rebatch(m, 1), rep)

    work = rebatch(model, None)
    say(f"Baseline: {keras_path} as full int8 (post-training quantization)")
    t_start = time.perf_counter()
    baseline = {"step": "baseline", **measure(convert(work), data, _accuracy(work, data), opts.boards)}
    say(_line(baseline))
    steps = [baseline]
    logits, transfer = None, None
    if teacher is not None:
        from .distill import teacher_logits

        logits = teacher_logits(teacher, data.x_train)
        if x_extra is not None:
            transfer = (x_extra, teacher_logits(teacher, x_extra))
            say(f"The teacher labels {len(x_extra)} unlabelled inputs from {opts.distill_inputs}")
    trainer = Trainer(data, opts, logits, transfer)

    def record(name: str, m) -> dict:
        tflite = convert(m)
        figures = {"step": name, **measure(tflite, data, _accuracy(m, data), opts.boards)}
        figures["train_seconds"] = round(trainer.seconds, 2)
        say(_line(figures))
        steps.append(figures)
        return {"tflite": tflite, **figures}

    done: list[dict] = []
    work = lighten(work, opts, trainer, lambda name, m: done.append(record(name, m)), say)
    last = done[-1] if done else None
    if last is None:
        last = {"tflite": convert(work), **baseline}

    final = {k: v for k, v in last.items() if k != "tflite"}
    report = {
        "source": keras_path.name,
        "teacher": Path(opts.distill_from).name if opts.distill_from else None,
        "transfer_samples": 0 if x_extra is None else len(x_extra),
        "dataset": data.summary(),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(opts).items()},
        "steps": steps,
        "baseline": baseline,
        "final": final,
        "train_seconds": round(trainer.seconds, 2),
        "int8_reference": "tflite_micro (TFLM reference kernels)",
    }
    report["options"]["distill_from"] = report["teacher"]
    if opts.distill_inputs:
        report["options"]["distill_inputs"] = Path(opts.distill_inputs).name
    out_dir.mkdir(parents=True, exist_ok=True)
    from .quantize import _write_atomic
    from .train import _save

    keras_out, _ = _save(
        rebatch(work, 1),
        {**(meta or {}), "dataset": data.summary(), "optimized_from": keras_path.name},
        out_dir,
    )
    tflite_path, report_path = out_dir / TFLITE_FILE, out_dir / REPORT_FILE
    _write_atomic(tflite_path, last["tflite"])
    _write_atomic(report_path, (json.dumps(report, indent=2) + "\n").encode())
    say(f"Wrote {tflite_path}, {keras_out} and {report_path} ({time.perf_counter() - t_start:.1f} s)")
    return OptimizeResult(tflite_path, keras_out, report_path, baseline, final, steps, report)


def _line(f: dict) -> str:
    acc = "" if f["float_accuracy"] is None else f"float {100 * f['float_accuracy']:.2f}%, "
    text = (
        f"  {f['step']:<12} {acc}int8 {100 * f['int8_accuracy']:.2f}% (TFLM), "
        f"{f['macs']:,} MACs, weights {f['compiled_weight_bytes']:,} B compiled, "
        f"arena {f['arena_bytes']:,} B"
    )
    for board, b in f["boards"].items():
        if not b["fits"]:
            text += f"; {board}: does not fit (flash {b['flash_used']:,} B, RAM {b['ram_used']:,} B est.)"
            continue
        text += (
            f"; {board}: flash {b['flash_used']:,} B, RAM {b['ram_used']:,} B, "
            f"{b['instructions'] or 0:,} instr, {'bit-exact' if b['bit_exact'] else 'MISMATCH'}"
        )
    return text
