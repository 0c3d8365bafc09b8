"""One trial of `tinypipe search`, as a Ray worker runs it (nothing here imports Ray).

fit check -> train epoch by epoch -> optimize steps -> int8 -> compile -> firmware -> measure:

1. The fit check builds the candidate untrained, applies its pruning and clustering (they
   change the compiled sizes), converts it to int8 on a few training samples and compiles it:
   the arena and weight bytes are those of the trained model, so the firmware's own fit check
   (device.firmware.estimate_fit) decides in seconds, before any training, whether the
   candidate can fit the board. A candidate that cannot is rejected with the reason.
2. Training reports the float accuracy on a validation part of the training split after every
   epoch, so the scheduler (ASHA) can stop weak candidates early.
3. After the last epoch the optimize steps run, the model is quantized to full int8 and
   measured as `tinypipe optimize` measures: int8 accuracy on the test split with the TFLM
   interpreter, then the firmware for the board is built and run under QEMU on a few test
   inputs: instructions per inference, flash and RAM from the ELF, outputs bit for bit
   against TFLM.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from tinypipe.errors import TinypipeError
from tinypipe.model.datasets import Dataset, stratified_split, with_input_size

from .search_space import Candidate

Report = Callable[[dict], None]


@dataclass(frozen=True)
class TrialSettings:
    """What every trial of a search shares (from [search], [model], [data], [quantize])."""

    board: str
    epochs: int = 10
    finetune_epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 3e-3
    seed: int = 0
    representative_samples: int = 200
    validation_fraction: float = 0.2
    validate_samples: int = 8

    def as_dict(self) -> dict:
        return asdict(self)


def trial_data(cand: Candidate, data: Dataset) -> Dataset:
    """The dataset as the candidate sees it (inputs resampled to its input size)."""
    return with_input_size(data, cand.input_size) if cand.input_size else data


def _calibration(data: Dataset, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return data.x_train[rng.permutation(len(data.x_train))[:n]]


def fit_check(cand: Candidate, data: Dataset, settings: TrialSettings) -> dict:
    """Whether the candidate can fit the board, judged on its untrained int8 model.

    Returns {"fits", "reason", "flash_needed", "flash_size", "ram_needed", "ram_size",
    "tflite"} (the untrained .tflite, kept with a rejected trial as the evidence)."""
    from tinypipe.compiler.codegen import generate_c
    from tinypipe.compiler.graph import read_tflite
    from tinypipe.device.boards import get_board
    from tinypipe.device.firmware import budget_options, estimate_fit, model_size
    from tinypipe.model.zoo import build_model, convert_int8, import_keras

    keras = import_keras()
    keras.utils.set_random_seed(settings.seed)
    empty = {"flash_needed": None, "flash_size": None, "ram_needed": None, "ram_size": None}
    try:
        model = build_model(cand.model, data.input_shape, data.num_classes, 1, cand.knobs)
    except TinypipeError as exc:
        return {
            "fits": False,
            "reason": f"cannot build: {exc.message.splitlines()[0]}",
            **empty,
            "tflite": None,
        }
    except ValueError as exc:  # Keras: a layer that the shrunken input cannot feed
        return {
            "fits": False,
            "reason": f"cannot build: {str(exc).splitlines()[0]}",
            **empty,
            "tflite": None,
        }
    if cand.prune:
        from tinypipe.model.prune import prune_model

        model, _ = prune_model(model, cand.prune)
    if cand.cluster:
        from tinypipe.model.cluster import cluster_model

        cluster_model(model, cand.cluster)
    tflite = convert_int8(model, _calibration(data, 16, settings.seed))
    board = get_board(settings.board)
    # compiled as its firmware would be: int16 weights where the board's flash has room
    cmodel = generate_c(read_tflite(tflite), **budget_options([board]))
    fit = estimate_fit(board, model_size(cmodel))
    needs = {r.region.kind: r for r in fit.regions}
    return {
        "fits": fit.fits,
        "reason": None
        if fit.fits
        else "; ".join(f"{fit.board.name} {r.describe()}" for r in fit.regions if not r.fits),
        "flash_needed": needs["flash"].needed,
        "flash_size": needs["flash"].region.size,
        "ram_needed": needs["ram"].needed,
        "ram_size": needs["ram"].region.size,
        "tflite": tflite,
    }


def _limit_threads() -> None:
    """One TensorFlow thread pool thread per trial: the scheduler gives each trial one CPU."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # retracing notes from predicting on pruned copies
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already set in this worker process by an earlier trial
        pass


def _b64(blob: bytes | None) -> str | None:
    return None if blob is None else base64.b64encode(blob).decode()


def run_trial(cand: Candidate, settings: TrialSettings, data: Dataset, report: Report) -> dict:
    """Run one trial; `report(metrics)` after every training epoch (metrics["score"] is the
    validation accuracy) and once at the end with the final figures, which are also returned.
    The final figures carry the int8 model as base64 ("tflite_b64"): a few KB, so the trial
    needs no shared file system with the machine that drives the search."""
    from tinypipe.model.optimize import (
        OptimizeOptions,
        Trainer,
        _accuracy,
        lighten,
        measure,
        rebatch,
    )
    from tinypipe.model.train import predict, seed_everything
    from tinypipe.model.zoo import build_model, convert_int8, import_keras

    keras = import_keras()
    _limit_threads()
    keras.backend.clear_session()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    data = trial_data(cand, data)
    check = fit_check(cand, data, settings)
    seconds["fit_check"] = round(time.perf_counter() - t0, 3)
    base = {
        "candidate": cand.as_dict(),
        "label": cand.label(),
        "input_shape": list(data.input_shape),
    }
    fit = {k: v for k, v in check.items() if k != "tflite"}
    if not check["fits"]:
        final = {**base, "status": "rejected", "reason": check["reason"], "epochs": 0, "fit_check": fit,
                 "seconds": seconds, "tflite_b64": _b64(check["tflite"]), "score": 0.0}  # fmt: skip
        report(final)
        return final

    # A validation part of the training split steers early stopping; the test split is kept
    # for the final figures.
    fit_idx, val_idx = stratified_split(data.y_train, settings.validation_fraction, settings.seed)
    x_fit, y_fit = data.x_train[fit_idx], data.y_train[fit_idx]
    x_val, y_val = data.x_train[val_idx], data.y_train[val_idx]
    seed_everything(settings.seed)
    t0 = time.perf_counter()
    net = build_model(cand.model, data.input_shape, data.num_classes, None, cand.knobs)
    net.compile(
        optimizer=keras.optimizers.Adam(settings.learning_rate),
        loss="sparse_categorical_crossentropy",
    )
    val_acc = 0.0
    for epoch in range(1, settings.epochs + 1):
        net.fit(x_fit, y_fit, epochs=epoch, initial_epoch=epoch - 1, batch_size=settings.batch_size,
                shuffle=True, verbose=0)  # fmt: skip
        pred = predict(net, x_val).reshape(len(x_val), -1)
        val_acc = float(np.mean(pred.argmax(axis=1) == y_val))
        if epoch < settings.epochs:
            report(
                {"status": "training", "epoch": epoch, "score": val_acc, "val_accuracy": val_acc,
                 "fit_check": fit}
            )  # fmt: skip

    work = net
    if cand.optimizing:
        opts = OptimizeOptions(
            qat=cand.qat, prune=cand.prune, cluster=cand.cluster, epochs=settings.finetune_epochs,
            learning_rate=settings.learning_rate, batch_size=settings.batch_size, seed=settings.seed,
        )  # fmt: skip
        fit_data = Dataset(
            data.name, x_fit, y_fit, x_val, y_val, data.class_names, data.input_shape
        )
        work = lighten(work, opts, Trainer(fit_data, opts, None))
    seconds["train"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    rep = _calibration(data, settings.representative_samples, settings.seed)
    tflite = convert_int8(rebatch(work, 1), rep)
    figures = measure(
        tflite, data, _accuracy(work, data), [settings.board], settings.validate_samples
    )
    seconds["measure"] = round(time.perf_counter() - t0, 3)
    on_board = figures.pop("boards")[settings.board]
    final = {
        **base,
        "status": "measured" if on_board["fits"] else "rejected",
        "reason": None if on_board["fits"] else "the trained model does not fit the board",
        "epochs": settings.epochs,
        "val_accuracy": val_acc,
        **figures,
        "board": on_board,
        "fit_check": fit,
        "seconds": seconds,
        "tflite_b64": _b64(tflite),
        "score": figures["int8_accuracy"],
    }
    report(final)
    return final
