"""A dataset split as files `tinypipe validate --inputs` takes: float inputs, the same inputs in
the model's int8 form, and the labels (`tinypipe data`, and the `data/` folder of a run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinypipe.compiler.graph import Graph, read_tflite
from tinypipe.errors import TinypipeError
from tinypipe.model.datasets import SPLITS, Dataset, load_dataset, split_files
from tinypipe.outdir import write_files

from .validate import load_inputs_array


def int8_inputs(x: np.ndarray, graph: Graph) -> np.ndarray:
    """`x` (float samples) in the model's input form, shape kept: what validate would feed."""
    return load_inputs_array(x, graph, where="the dataset's samples").reshape(x.shape)


def export_split(
    dataset: Dataset | str | Path,
    out_dir: str | Path,
    split: str = "test",
    model: str | Path | None = None,
    seed: int = 0,
    test_fraction: float = 0.2,
    force: bool = False,
) -> list[Path]:
    """Write `x_<split>.npy`, `y_<split>.npy` and, with a .tflite `model`, `x_<split>_int8.npy`
    into `out_dir`; the split is the one `train` uses for the same seed and test fraction."""
    if split not in SPLITS:
        raise TinypipeError(f"Unknown split '{split}'.", f"Choose one of: {', '.join(SPLITS)}.")
    graph = read_tflite(model) if model is not None else None  # a bad model fails before any work
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset, seed, test_fraction)
    x = ds.x_test if split == "test" else ds.x_train
    x_int8 = None
    if graph is not None:
        t = graph.input_tensors[0]
        if int(np.prod(ds.input_shape)) != t.size:
            raise TinypipeError(
                f"Dataset '{ds.name}' has samples of shape {tuple(ds.input_shape)}, but model "
                f"'{model}' takes inputs of shape {list(t.shape)}.",
                "Pass the dataset the model was trained on.",
            )
        if t.dtype not in ("int8", "int16"):
            raise TinypipeError(
                f"Model '{model}' takes {t.dtype} inputs, not int8 (or int16).",
                "Pass a full-int8 model (`tinypipe quantize`), or leave out --model for float inputs.",
            )
        x_int8 = int8_inputs(x, graph)
    names = write_files(Path(out_dir), split_files(ds, split, x_int8), force=force)
    return [Path(out_dir) / n for n in names]
