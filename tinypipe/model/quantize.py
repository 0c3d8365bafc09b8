"""Full-integer int8 post-training quantization of a Keras model, measured with the TFLM oracle.

Float accuracy comes from Keras; int8 accuracy from the TFLM host interpreter (reference
kernels), i.e. the numbers the microcontroller will reproduce bit for bit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinypipe.errors import TinypipeError
from tinypipe.outdir import write_atomic as _write_atomic

from .datasets import Dataset, load_dataset, split_files
from .zoo import SUPPORTED_INT8_OPS, convert_int8, import_keras, with_batch_one

REPORT_FILE = "quant.json"
DEFAULT_REPRESENTATIVE_SAMPLES = 200


class AccuracyDropError(TinypipeError):
    """Int8 lost more accuracy than `max_drop` allows (a failed quality gate, not bad input)."""

    exit_code = 1


@dataclass
class QuantResult:
    tflite_path: Path
    report_path: Path
    task: str  # "classification" or "autoencoder"
    float_accuracy: float | None  # 0..1 on the test split (classification)
    int8_accuracy: float | None  # 0..1, measured with the TFLM interpreter
    drop_points: float | None  # (float - int8) accuracy in percentage points
    float_mse: float | None  # reconstruction error (autoencoder)
    int8_mse: float | None
    size_bytes: int
    ops: list[str]
    report: dict = field(default_factory=dict)


def _check_paths(keras_path: Path, out_path: Path) -> None:
    if not keras_path.exists():
        raise TinypipeError(
            f"Keras model '{keras_path}' does not exist.",
            "Pass the model.keras written by `tinypipe train` (or your own .keras file).",
        )
    if keras_path.is_dir() or keras_path.suffix.lower() not in (".keras", ".h5"):
        raise TinypipeError(
            f"'{keras_path}' is not a Keras model file.",
            "Pass a .keras (or legacy .h5) file saved by Keras 3.",
        )
    if out_path.suffix.lower() != ".tflite":
        raise TinypipeError(
            f"Output '{out_path}' should end in .tflite.",
            "Name the output file like runs/digits/model.tflite.",
        )
    if out_path.is_dir():
        raise TinypipeError(f"Output '{out_path}' is a directory.", "Pass a .tflite file name.")


def _resolve_dataset(
    dataset: Dataset | str | Path | None,
    meta: dict | None,
    keras_path: Path,
    seed: int | None,
) -> Dataset:
    if isinstance(dataset, Dataset):
        return dataset
    info = (meta or {}).get("dataset") or {}
    fraction = float(info.get("test_fraction", 0.2))
    if seed is None:
        seed = int(info.get("seed", 0))
    if dataset is None:
        if not info.get("name"):
            raise TinypipeError(
                f"No dataset given and no model.json beside '{keras_path}' to say which one "
                "the model was trained on.",
                "Pass --dataset (digits, vibration, or a .npz/.csv file) so tinypipe has "
                "calibration and test data.",
            )
        dataset = info["name"]
    return load_dataset(dataset, seed=seed, test_fraction=fraction)


def check_input_shape(model, data: Dataset) -> tuple[int, ...]:
    """The model's input shape (batch left out); refuses a dataset whose samples differ."""
    model_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    if model_shape != tuple(data.input_shape):
        raise TinypipeError(
            f"The model expects inputs of shape {model_shape} but dataset '{data.name}' has "
            f"samples of shape {tuple(data.input_shape)}.",
            "Pass the dataset the model was trained on with --dataset.",
        )
    return model_shape


def _load_keras(path: Path):
    from .svdf import svdf_layer_class

    keras = import_keras()
    svdf_layer_class()  # registers the SVDF layer a saved model may hold
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for damaged or foreign files
        raise TinypipeError(
            f"Keras could not load '{path}': {type(exc).__name__}: {exc}",
            "Pass a model saved with Keras 3 `model.save('model.keras')` using builtin layers.",
        ) from None


def quantize_model(
    keras_path: str | Path,
    out_path: str | Path | None = None,
    dataset: Dataset | str | Path | None = None,
    max_drop: float | None = None,
    representative_samples: int = DEFAULT_REPRESENTATIVE_SAMPLES,
    seed: int | None = None,
    log: Callable[[str], None] | None = print,
    activations: str = "int8",
) -> QuantResult:
    """Quantize `keras_path` to a full-int8 .tflite at `out_path` (default: beside it).

    `activations="int16"` quantizes in the converter's 16x8 mode (int16 activations, int8
    weights); accuracy is measured the same way, and the report's "int8_*" figures are then
    those of the int16 model (its "activations" field says which).

    `dataset` defaults to the one named in the model.json beside the model (same seed, same split).
    Calibration uses `representative_samples` samples of the *training* split; accuracy is
    measured on the test split. `max_drop` is in percentage points (2.0 allows 95.0% -> 93.0%);
    a larger drop raises AccuracyDropError and writes nothing. On success writes the .tflite and
    a `quant.json` report beside it, each via a temporary file and a rename.
    """
    from tinypipe.check import reference
    from tinypipe.compiler.graph import read_tflite

    from .train import predict, read_meta

    keras_path = Path(keras_path)
    out_path = Path(out_path) if out_path is not None else keras_path.with_suffix(".tflite")
    say = log or (lambda _msg: None)
    _check_paths(keras_path, out_path)
    if max_drop is not None and max_drop < 0:
        raise TinypipeError(
            f"--max-drop must be zero or positive, got {max_drop}.",
            "It is the allowed accuracy loss in percentage points, e.g. 2.0.",
        )
    if representative_samples < 1:
        raise TinypipeError(
            f"The number of representative samples must be at least 1, got {representative_samples}.",
            "Use a few hundred training samples, e.g. 200.",
        )
    meta = read_meta(keras_path)
    data = _resolve_dataset(dataset, meta, keras_path, seed)
    seed = data.seed if seed is None else seed

    t0 = time.perf_counter()
    loaded = _load_keras(keras_path)
    model = with_batch_one(loaded)
    model_shape = check_input_shape(model, data)
    out_shape = tuple(int(d) for d in model.outputs[0].shape[1:])
    task = (meta or {}).get("task") or (
        "autoencoder" if out_shape == model_shape else "classification"
    )
    if task == "classification" and (len(out_shape) != 1 or out_shape[0] < data.num_classes):
        raise TinypipeError(
            f"The model outputs shape {out_shape}, which cannot score the {data.num_classes} "
            f"classes of dataset '{data.name}'.",
            "Pass the dataset the model was trained on with --dataset.",
        )
    if task == "autoencoder" and max_drop is not None:
        raise TinypipeError(
            "--max-drop applies to classifiers; this model is an autoencoder.",
            "Leave out --max-drop; compare the float and int8 reconstruction errors instead.",
        )

    rng = np.random.default_rng(seed)
    n_rep = min(representative_samples, len(data.x_train))
    rep = data.x_train[rng.permutation(len(data.x_train))[:n_rep]]
    kind = "int8" if activations == "int8" else "16x8 (int16 activations, int8 weights)"
    say(f"Quantizing {keras_path} to {kind} with {n_rep} representative training samples")
    tflite = convert_int8(model, rep, activations=activations)
    say(f"Converted in {time.perf_counter() - t0:.1f} s")

    graph = read_tflite(tflite)
    tin, tout = graph.input_tensors[0], graph.output_tensors[0]
    ops = graph.distinct_ops()
    x_q = reference.quantize_input(data.x_test, tin.scale, tin.zero_point, np.dtype(tin.dtype))
    q = tin.dtype  # the integer type the accuracy is reported for
    say(f"Measuring float (Keras) and {q} (TFLM) on {len(data.x_test)} test samples")
    y_float = predict(loaded if loaded.inputs[0].shape[0] != 1 else model, data.x_test)
    y_int8 = reference.run_tflm(tflite, x_q).reshape(len(x_q), -1)

    float_acc = int8_acc = drop = float_mse = int8_mse = None
    if task == "classification":
        y_float = y_float.reshape(len(y_float), -1)
        float_acc = float(np.mean(y_float.argmax(axis=1) == data.y_test))
        # Dequantization is monotonic (scale > 0), so the int8 argmax is the class.
        int8_acc = float(np.mean(y_int8.argmax(axis=1) == data.y_test))
        drop = 100.0 * (float_acc - int8_acc)
        summary = (
            f"Float accuracy {100 * float_acc:.2f}%, {q} accuracy (TFLM) {100 * int8_acc:.2f}%, "
            f"drop {drop:+.2f} points"
        )
    else:
        target = data.x_test.reshape(len(data.x_test), -1)
        deq = (y_int8.astype(np.float64) - tout.zero_point) * tout.scale
        float_mse = float(np.mean((y_float.reshape(len(target), -1) - target) ** 2))
        int8_mse = float(np.mean((deq - target) ** 2))
        summary = f"Float reconstruction MSE {float_mse:.5f}, {q} (TFLM) {int8_mse:.5f}"
    say(summary)

    if drop is not None and max_drop is not None and drop > max_drop + 1e-9:
        raise AccuracyDropError(
            f"{q.capitalize()} quantization lost {drop:.2f} accuracy points "
            f"({100 * float_acc:.2f}% float -> {100 * int8_acc:.2f}% {q} on the TFLM "
            f"interpreter), more than --max-drop {max_drop:g}. Nothing was written.",
            "Try more representative samples (--samples), train longer, or allow a larger drop.",
        )
    unsupported = sorted(set(ops) - SUPPORTED_INT8_OPS)
    if unsupported:
        say(f"Note: ops outside tinypipe's int8 set: {', '.join(unsupported)}")

    report = {
        "model": out_path.name,
        "source": keras_path.name,
        "task": task,
        "dataset": data.summary(),
        "representative_samples": n_rep,
        "activations": activations,
        "float_test_accuracy": None if float_acc is None else round(float_acc, 6),
        "int8_test_accuracy": None if int8_acc is None else round(int8_acc, 6),
        "accuracy_drop_points": None if drop is None else round(drop, 4),
        "max_drop_points": max_drop,
        "float_test_mse": None if float_mse is None else round(float_mse, 8),
        "int8_test_mse": None if int8_mse is None else round(int8_mse, 8),
        "int8_reference": "tflite_micro (TFLM reference kernels)",
        "size_bytes": len(tflite),
        "ops": ops,
        "input": {
            "shape": list(tin.shape),
            "scale": float(tin.scale),
            "zero_point": int(tin.zero_point),
        },
        "output": {
            "shape": list(tout.shape),
            "scale": float(tout.scale),
            "zero_point": int(tout.zero_point),
        },
    }
    # No timings or absolute paths in the report: same model and data, same bytes.
    report_path = out_path.with_name(REPORT_FILE)
    _write_atomic(out_path, tflite)
    _write_atomic(report_path, (json.dumps(report, indent=2) + "\n").encode())
    say(f"Wrote {out_path} ({len(tflite)} bytes) and {report_path}")
    # the test split as the model takes it, ready for `tinypipe validate --inputs`
    for name, blob in split_files(data, "test", x_int8=x_q).items():
        _write_atomic(out_path.with_name(name), blob)
    say(f"Wrote the test split beside it: x_test.npy (float), x_test_{x_q.dtype.name}.npy, y_test.npy")
    return QuantResult(
        tflite_path=out_path,
        report_path=report_path,
        task=task,
        float_accuracy=float_acc,
        int8_accuracy=int8_acc,
        drop_points=drop,
        float_mse=float_mse,
        int8_mse=int8_mse,
        size_bytes=len(tflite),
        ops=ops,
        report=report,
    )
