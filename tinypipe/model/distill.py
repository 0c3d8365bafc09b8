"""Knowledge distillation: train a student on its labels and on a teacher's softened outputs.

loss = (1 - weight) * CE(labels, p_student) + weight * T^2 * KL(softmax(z_t / T) || softmax(z_s / T))

with z the logits (Hinton et al.). tinypipe's classifiers end in a Softmax, so logits are
recovered as log-probabilities, which softmax(. / T) treats the same (they differ from the
logits by a constant per sample). T^2 keeps the soft term's gradients on the scale of the
hard one as T grows.

Unlabelled inputs (a transfer set) learn from the teacher alone: their one-hot row is zero, so
the label term vanishes and only the teacher's soft targets remain. This is how a small model
gains from a teacher in practice: the teacher, trained on the labelled data, labels a larger
pool of inputs nobody labelled, which training alone cannot use.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from tinypipe.errors import TinypipeError

from .zoo import import_keras

EPS = 1e-7


def teacher_logits(teacher, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The teacher's log-probabilities for `x`, computed once before training."""
    probs = np.concatenate(
        [np.asarray(teacher(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    )
    return np.log(np.clip(probs.reshape(len(x), -1), EPS, 1.0)).astype(np.float32)


def distill_targets(y: np.ndarray | None, logits: np.ndarray) -> np.ndarray:
    """Training targets for `distillation_loss`: one-hot labels next to the teacher's logits;
    `y` None for unlabelled inputs (all-zero one-hot rows: the teacher's term only)."""
    classes = logits.shape[1]
    if y is None:
        onehot = np.zeros_like(logits, dtype=np.float32)
    else:
        onehot = np.eye(classes, dtype=np.float32)[y]
    return np.concatenate([onehot, logits], axis=1)


def load_transfer_inputs(path: str | Path, input_shape: tuple[int, ...]) -> np.ndarray:
    """Unlabelled inputs for distillation from a .npy array (or the `x` array of a .npz), shaped
    (samples, *input_shape) and scaled like the training data."""
    path = Path(path)
    what = f"Distillation inputs '{path}'"
    fix = (
        f"Pass a .npy file (or a .npz with an array `x`) of shape (samples, "
        f"{', '.join(str(d) for d in input_shape)}), scaled like the training data."
    )
    if not path.is_file():
        raise TinypipeError(f"{what} do not exist or are not a file.", fix)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".npz"):
        raise TinypipeError(f"{what} are not a .npy or .npz file.", fix)
    try:
        if suffix == ".npy":
            x = np.load(path, allow_pickle=False)
        else:
            with np.load(path, allow_pickle=False) as archive:
                if "x" not in archive:
                    raise TinypipeError(f"{what} hold no array `x` (found {list(archive)}).", fix)
                x = archive["x"]
    except TinypipeError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise TinypipeError(f"{what} could not be read ({exc}).", fix) from None
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise TinypipeError(f"{what} are not a numeric array.", fix)
    if x.ndim < 1 or tuple(x.shape[1:]) != tuple(input_shape) or len(x) == 0:
        raise TinypipeError(
            f"{what} have shape {tuple(x.shape)}; the model takes samples of shape "
            f"{tuple(input_shape)}.",
            fix,
        )
    if not np.all(np.isfinite(x)):
        raise TinypipeError(f"{what} contain NaN or infinite values.", fix)
    return x.astype(np.float32)


def distillation_loss(classes: int, temperature: float, weight: float):
    """A Keras loss on (distill_targets, student probabilities)."""
    ops = import_keras().ops

    def loss(targets, probs):
        onehot, t_logits = targets[:, :classes], targets[:, classes:]
        log_p = ops.log(ops.clip(probs, EPS, 1.0))
        hard = -ops.sum(onehot * log_p, axis=-1)
        t_soft = ops.softmax(t_logits / temperature, axis=-1)
        s_log_soft = ops.log_softmax(log_p / temperature, axis=-1)
        kl = ops.sum(t_soft * (ops.log(ops.clip(t_soft, EPS, 1.0)) - s_log_soft), axis=-1)
        return (1.0 - weight) * hard + weight * temperature**2 * kl

    return loss
