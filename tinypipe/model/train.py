"""Train a zoo model on a dataset and save `model.keras` plus `model.json` metadata.

Training runs on a copy of the architecture with a free batch dimension (fast mini-batches);
the weights are then copied into the batch-1 model that is saved, so conversion stays clean.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinypipe.errors import TinypipeError
from tinypipe.outdir import write_atomic

from .datasets import Dataset, load_dataset, split_files
from .zoo import build_model, import_keras, model_info

MODEL_FILE = "model.keras"
META_FILE = "model.json"

# Enough for the bundled datasets to converge on 2 cores in well under a minute.
DEFAULT_EPOCHS = {"tiny_cnn": 30, "conv1d": 20, "mlp": 60, "fc_autoencoder": 30}
FALLBACK_EPOCHS = 20


@dataclass
class TrainResult:
    model_path: Path
    meta_path: Path
    task: str  # "classification" or "autoencoder"
    float_accuracy: float | None  # test accuracy of the float model, 0..1 (classification)
    float_mse: float | None  # test reconstruction error (autoencoder)
    epochs: int
    seconds: float
    meta: dict = field(default_factory=dict)


def check_output_dir(out_dir: Path, force: bool) -> None:
    """Refuse to write into a non-empty folder (or over a file) unless `force`."""
    if out_dir.exists() and not out_dir.is_dir():
        raise TinypipeError(
            f"Output path '{out_dir}' exists and is a file, not a folder.",
            "Choose a folder name with -o.",
        )
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise TinypipeError(
            f"Output folder '{out_dir}' is not empty.",
            "Choose another folder with -o, or pass --force to overwrite its model files.",
        )


def seed_everything(seed: int) -> None:
    """Same seed, same weights: seed Python, numpy and TensorFlow, and make TF ops deterministic
    (a process-wide TensorFlow setting; it costs little for models this small)."""
    keras = import_keras()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # seeds Python's random, numpy and TensorFlow
    tf.config.experimental.enable_op_determinism()


def train_model(
    dataset: Dataset | str | Path,
    model_name: str,
    out_dir: str | Path,
    epochs: int | None = None,
    seed: int = 0,
    batch_size: int = 32,
    learning_rate: float = 3e-3,
    test_fraction: float = 0.2,
    force: bool = False,
    verbose: int = 2,
    log: Callable[[str], None] | None = print,
) -> TrainResult:
    """Train `model_name` (a zoo name) on `dataset` and save it into `out_dir`.

    `dataset` is a loaded Dataset or a name/path for `load_dataset(name, seed, test_fraction)`.
    `verbose` is Keras' fit verbosity: 2 prints one line per epoch, 1 a progress bar, 0 nothing.
    Writes `model.keras` (batch size 1) and `model.json`; both appear only once training succeeded.
    """
    out_dir = Path(out_dir)
    say = log or (lambda _msg: None)
    # Cheap checks first: nothing is loaded or trained when the request cannot succeed.
    info = model_info(model_name)
    check_output_dir(out_dir, force)
    if epochs is None:
        epochs = DEFAULT_EPOCHS.get(model_name, FALLBACK_EPOCHS)
    if epochs < 1 or batch_size < 1 or learning_rate <= 0:
        raise TinypipeError(
            f"Invalid training settings: epochs={epochs}, batch size={batch_size}, "
            f"learning rate={learning_rate}.",
            "Epochs and batch size must be at least 1 and the learning rate positive.",
        )
    if not isinstance(dataset, Dataset):
        dataset = load_dataset(dataset, seed=seed, test_fraction=test_fraction)
    autoencoder = info.task == "autoencoder"
    say(
        f"Dataset {dataset.name}: {len(dataset.y_train)} train / {len(dataset.y_test)} test "
        f"samples, input {dataset.input_shape}, {dataset.num_classes} classes"
    )

    keras = import_keras()
    seed_everything(seed)
    # Build (and validate against the data shape) before any long work.
    net = build_model(model_name, dataset.input_shape, dataset.num_classes, batch_size=None)
    if autoencoder:
        net.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
        targets_train = dataset.x_train
    else:
        net.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        targets_train = dataset.y_train
    say(f"Training {model_name} ({net.count_params()} parameters) for {epochs} epochs, seed {seed}")

    t0 = time.perf_counter()
    net.fit(
        dataset.x_train,
        targets_train,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=verbose,
    )
    train_seconds = time.perf_counter() - t0
    pred = predict(net, dataset.x_test)
    if autoencoder:
        loss = float(np.mean((pred - dataset.x_test) ** 2))
        float_acc = None
    else:
        picked = pred[np.arange(len(pred)), dataset.y_test]
        loss = float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))
        float_acc = float(np.mean(pred.argmax(axis=1) == dataset.y_test))

    # The saved model has batch size 1 so conversion adds no shape ops.
    final = build_model(model_name, dataset.input_shape, dataset.num_classes, batch_size=1)
    final.set_weights(net.get_weights())

    meta = {
        "tinypipe_model": 1,
        "model": model_name,
        "task": info.task,
        "dataset": dataset.summary(),
        "input_shape": list(dataset.input_shape),
        "classes": list(dataset.class_names),
        "seed": seed,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "parameters": int(final.count_params()),
        "float_test_loss": round(loss, 6),
        "float_test_accuracy": None if float_acc is None else round(float_acc, 6),
        "float_test_mse": round(loss, 6) if autoencoder else None,
        "train_seconds": round(train_seconds, 2),
    }
    model_path, meta_path = _save(final, meta, out_dir)
    for name, blob in split_files(dataset, "test").items():
        write_atomic(out_dir / name, blob)
    if autoencoder:
        say(f"Float test reconstruction MSE: {loss:.5f}  ({train_seconds:.1f} s training)")
    else:
        say(f"Float test accuracy: {100 * float_acc:.2f}%  ({train_seconds:.1f} s training)")
    say(f"Wrote {model_path}, {meta_path} and the test split (x_test.npy, y_test.npy)")
    return TrainResult(
        model_path=model_path,
        meta_path=meta_path,
        task=info.task,
        float_accuracy=float_acc,
        float_mse=loss if autoencoder else None,
        epochs=epochs,
        seconds=train_seconds,
        meta=meta,
    )


def predict(model, x: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Float outputs in chunks through Keras' compiled predict step (no tf.data pipeline, which
    is slower for small arrays and logs noise). A batch-1 model is fed one sample at a time."""
    step = 1 if model.inputs[0].shape[0] == 1 else chunk
    outs = [np.asarray(model.predict_on_batch(x[i : i + step])) for i in range(0, len(x), step)]
    return np.concatenate(outs) if outs else np.zeros((0,))


def _save(model, meta: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write both files under temporary names, then rename: never a half-written model."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path, meta_path = out_dir / MODEL_FILE, out_dir / META_FILE
    tmp_model = out_dir / f".{MODEL_FILE}.tmp.keras"  # Keras insists on the .keras suffix
    tmp_meta = out_dir / f".{META_FILE}.tmp"
    try:
        model.save(tmp_model)
        tmp_meta.write_text(json.dumps(meta, indent=2) + "\n")
        os.replace(tmp_model, model_path)
        os.replace(tmp_meta, meta_path)
    finally:
        for tmp in (tmp_model, tmp_meta):
            tmp.unlink(missing_ok=True)
    return model_path, meta_path


def read_meta(keras_path: Path) -> dict | None:
    """The model.json written by `train_model` beside a .keras file, if there is one."""
    meta_path = Path(keras_path).with_name(META_FILE)
    if not meta_path.is_file():
        return None
    try:
        return json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:
        raise TinypipeError(
            f"'{meta_path}' is not valid JSON ({exc}).",
            "Delete it and pass --dataset explicitly, or re-run `tinypipe train`.",
        ) from None
