"""Datasets for training: bundled (`digits`), synthetic (`vibration`) and user files (.npz, .csv).

Everything here is plain numpy so that reading data never pulls in TensorFlow; scikit-learn is
imported only when the `digits` dataset is asked for.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinypipe.errors import TinypipeError

ACCEPTED = (
    "Accepted: 'digits' (scikit-learn's 8x8 handwritten digits), 'vibration' (synthetic 3-axis "
    "machine accelerometer windows), or a path to a .npz file (arrays `x` and `y`) or a .csv file "
    "(one sample per row, numeric features, label in the last column)."
)


@dataclass
class Dataset:
    """A classification dataset, already split into train and test parts."""

    name: str  # builtin name or the file path as given
    x_train: np.ndarray  # float32, shape (n_train, *input_shape)
    y_train: np.ndarray  # int32 class indices
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    input_shape: tuple[int, ...]
    seed: int = 0
    test_fraction: float = 0.2

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def summary(self) -> dict:
        """JSON-friendly description (used in model.json)."""
        return {
            "name": self.name,
            "classes": list(self.class_names),
            "input_shape": list(self.input_shape),
            "train_samples": int(len(self.y_train)),
            "test_samples": int(len(self.y_test)),
            "seed": self.seed,
            "test_fraction": self.test_fraction,
        }


# ------------------------------------------------------------------ split

SPLITS = ("test", "train")


def npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def split_files(ds: Dataset, split: str = "test", x_int8: np.ndarray | None = None) -> dict[str, bytes]:
    """A split as .npy files: `x_<split>.npy` (float32 inputs, (N, *input_shape), what the model
    was trained on), `y_<split>.npy` (int32 labels) and, when given, `x_<split>_int8.npy` (the
    inputs quantized with the model's input scale and zero point; `_int16.npy` for a 16x8
    model). Inputs go as they are to `tinypipe validate --inputs`."""
    if split not in SPLITS:
        raise TinypipeError(f"Unknown split '{split}'.", f"Choose one of: {', '.join(SPLITS)}.")
    x, y = (ds.x_test, ds.y_test) if split == "test" else (ds.x_train, ds.y_train)
    files = {f"x_{split}.npy": npy_bytes(x.astype(np.float32)), f"y_{split}.npy": npy_bytes(y.astype(np.int32))}
    if x_int8 is not None:
        xq = np.asarray(x_int8)
        files = {f"x_{split}_{xq.dtype.name}.npy": npy_bytes(xq.reshape(x.shape)), **files}
    return files


def stratified_split(
    y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) with each class split in the same proportion; same seed, same split.

    Every class keeps at least one sample on each side.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = min(max(1, int(round(len(idx) * test_fraction))), len(idx) - 1)
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    # Shuffle across classes so batches are mixed even before Keras shuffles.
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _finish(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    class_names: list[str],
    seed: int,
    test_fraction: float,
) -> Dataset:
    tr, te = stratified_split(y, test_fraction, seed)
    x = x.astype(np.float32, copy=False)
    y = y.astype(np.int32, copy=False)
    return Dataset(
        name=name,
        x_train=x[tr],
        y_train=y[tr],
        x_test=x[te],
        y_test=y[te],
        class_names=class_names,
        input_shape=tuple(int(d) for d in x.shape[1:]),
        seed=seed,
        test_fraction=test_fraction,
    )


# ------------------------------------------------------------------ digits


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """scikit-learn's 1797 handwritten digits as (N, 8, 8, 1) floats in [0, 1]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - depends on the install
        raise TinypipeError(
            "The 'digits' dataset needs scikit-learn, which is not installed.",
            "Install the training extras: pip install 'tinypipe[train]'.",
        ) from None
    d = load_digits()
    # Pixel values are 0..16 in the original data.
    x = (d.images / 16.0).astype(np.float32)[..., None]
    return x, d.target.astype(np.int32), [str(i) for i in range(10)]


# ------------------------------------------------------------------ vibration

VIBRATION_CLASSES = ["normal", "imbalance", "bearing_wear", "misalignment"]
VIBRATION_RATE_HZ = 1000.0  # sample rate of the simulated accelerometer
_BPFO_RATIO = 3.05  # outer-race fault frequency / shaft frequency (8 balls, d/D = 0.24)


def vibration_arrays(
    samples_per_class: int = 300, window: int = 128, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Simulate 3-axis accelerometer windows (in g) from a rotating machine.

    Returns x of shape (4 * samples_per_class, window, 3) with axes (x radial, y radial, z axial),
    y class indices into VIBRATION_CLASSES. Deterministic for a given seed.

    The physics is simplified but keeps the features a classifier should rely on:
      * every machine: shaft speed 20-45 Hz, a small residual 1x/2x component, gravity (1 g on z),
        broadband sensor noise;
      * imbalance: a strong rotating 1x force, so x and y see it 90 degrees apart, growing
        with speed squared (centrifugal force);
      * misalignment: strong 2x (and some 3x) radially plus a large axial 1x/2x;
      * bearing wear (outer race): short impulses at the ball-pass frequency (~3x shaft speed,
        with a little slip jitter) that ring a structural resonance at 250-400 Hz, modulated by
        the shaft rotation through the load zone.

    Like data from a real plant it is not cleanly separable, so a classifier (and its int8
    version) stays below 100 %:
      * faults come at every severity, down to incipient ones buried in the healthy residual
        (severity is skewed towards mild);
      * healthy machines have looser or tighter mounts: their residual 1x/2x varies widely;
      * sensor noise varies from machine to machine and some windows catch a knock from
        nearby equipment (a resonance burst on a healthy machine);
      * drift: per-axis gain error, a tilted mount (gravity leaks into the radial axes) and a
        slow baseline wander (temperature) over the window.
    """
    rng = np.random.default_rng(seed)
    n = samples_per_class
    t = np.arange(window) / VIBRATION_RATE_HZ  # seconds, (T,)
    xs, ys = [], []
    for label in range(len(VIBRATION_CLASSES)):
        f = rng.uniform(20.0, 45.0, size=(n, 1))  # shaft frequency, Hz
        phase = rng.uniform(0.0, 2 * np.pi, size=(n, 1))
        w = 2 * np.pi * f * t[None, :] + phase  # shaft angle over time, (n, T)
        speed2 = (f / 30.0) ** 2  # centrifugal force scales with speed squared
        # Fault severity in [0, 1], mostly mild: many faulty windows look almost healthy.
        severity = rng.beta(2.0, 2.0, size=(n, 1))
        sig = np.zeros((n, window, 3))
        # Healthy baseline: residual imbalance and 2x, from a tight to a loose mount.
        a1 = rng.uniform(0.01, 0.08, size=(n, 1)) * speed2
        a2 = rng.uniform(0.005, 0.05, size=(n, 1))
        sig[:, :, 0] += a1 * np.cos(w) + a2 * np.cos(2 * w + 0.3)
        sig[:, :, 1] += a1 * np.sin(w) + a2 * np.sin(2 * w + 0.3)
        sig[:, :, 2] += 0.3 * a1 * np.cos(w + 1.0) + 0.3 * a2 * np.cos(2 * w)
        name = VIBRATION_CLASSES[label]
        if name == "imbalance":
            amp = (0.04 + 0.36 * severity) * speed2
            ellipse = rng.uniform(0.6, 1.0, size=(n, 1))  # supports are stiffer in one direction
            sig[:, :, 0] += amp * np.cos(w)
            sig[:, :, 1] += amp * ellipse * np.sin(w)
        elif name == "misalignment":
            r2 = (0.03 + 0.22 * severity) * rng.uniform(0.8, 1.2, size=(n, 1))
            r3 = rng.uniform(0.0, 0.08, size=(n, 1)) * severity
            ax1 = (0.03 + 0.22 * severity) * rng.uniform(0.8, 1.2, size=(n, 1))
            ax2 = (0.02 + 0.13 * severity) * rng.uniform(0.8, 1.2, size=(n, 1))
            sig[:, :, 0] += r2 * np.cos(2 * w) + r3 * np.cos(3 * w)
            sig[:, :, 1] += r2 * np.sin(2 * w + 0.5) + r3 * np.sin(3 * w)
            sig[:, :, 2] += ax1 * np.cos(w) + ax2 * np.cos(2 * w + 0.7)
        elif name == "bearing_wear":
            sig += _bearing_impulses(rng, f, phase, t, 0.08 + 0.72 * severity[:, 0])
        else:
            # A knock from nearby equipment rings the structure once on some healthy windows.
            knock = rng.random(n) < 0.15
            sig[knock] += _knock(rng, int(knock.sum()), t)
        sig = _sensor(rng, sig, t)
        xs.append(sig)
        ys.append(np.full(n, label, dtype=np.int32))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys), list(VIBRATION_CLASSES)


def _knock(rng: np.random.Generator, n: int, t: np.ndarray) -> np.ndarray:
    """One decaying resonance burst at a random time: an impact from outside the machine."""
    t0 = rng.uniform(0.0, t[-1], size=(n, 1))
    f_res = rng.uniform(250.0, 400.0, size=(n, 1))
    tau = rng.uniform(0.002, 0.005, size=(n, 1))
    amp = rng.uniform(0.1, 0.5, size=(n, 1))
    dt = t[None, :] - t0
    burst = np.where(dt >= 0, amp * np.exp(-np.maximum(dt, 0) / tau) * np.sin(2 * np.pi * f_res * dt), 0.0)
    return burst[:, :, None] * np.array([0.5, 1.0, 0.2])[None, None, :]


def _sensor(rng: np.random.Generator, sig: np.ndarray, t: np.ndarray) -> np.ndarray:
    """What the accelerometer reports: gravity through a tilted mount, per-axis gain error,
    slow baseline wander (temperature drift) and broadband noise, all varying per window."""
    n, window, _ = sig.shape
    tilt = rng.normal(0.0, 0.08, size=(n, 2))  # radians about x and y
    gravity = np.stack([np.sin(tilt[:, 0]), np.sin(tilt[:, 1]), np.cos(tilt[:, 0]) * np.cos(tilt[:, 1])], axis=1)
    gain = rng.normal(1.0, 0.06, size=(n, 1, 3))
    slope = rng.normal(0.0, 0.15, size=(n, 1, 3))  # g per second of window
    wander_f = rng.uniform(0.5, 3.0, size=(n, 1, 1))
    wander = rng.uniform(0.0, 0.06, size=(n, 1, 3)) * np.sin(
        2 * np.pi * wander_f * t[None, :, None] + rng.uniform(0, 2 * np.pi, size=(n, 1, 3))
    )
    noise = rng.uniform(0.02, 0.08, size=(n, 1, 1)) * rng.standard_normal((n, window, 3))
    drift = slope * (t - t.mean())[None, :, None] + wander
    return gain * (sig + gravity[:, None, :]) + drift + noise


def _bearing_impulses(
    rng: np.random.Generator, f: np.ndarray, phase: np.ndarray, t: np.ndarray, amp: np.ndarray
) -> np.ndarray:
    """Outer-race defect: decaying resonance bursts at the ball-pass frequency."""
    n, window = f.shape[0], t.shape[0]
    out = np.zeros((n, window, 3))
    bpfo = f[:, 0] * _BPFO_RATIO
    f_res = rng.uniform(250.0, 400.0, size=n)  # structural resonance excited by each impact
    tau = rng.uniform(0.002, 0.005, size=n)  # ring-down time constant, s
    direction = np.stack([rng.uniform(0.3, 0.6, n), np.ones(n), rng.uniform(0.1, 0.3, n)], axis=1)
    duration = t[-1] + 1.0 / VIBRATION_RATE_HZ
    for i in range(n):
        period = 1.0 / bpfo[i]
        start = rng.uniform(-period, 0.0)
        count = int(np.ceil((duration - start) / period)) + 1
        # Rollers slip a little, so impacts are not perfectly periodic.
        times = start + period * (np.arange(count) + rng.normal(0.0, 0.02, count))
        burst = np.zeros(window)
        for t0 in times:
            dt = t - t0
            on = dt >= 0
            # Impacts are harder when the defect passes through the load zone: 1x modulation.
            load = 0.6 + 0.4 * np.cos(2 * np.pi * f[i, 0] * t0 + phase[i, 0])
            burst[on] += load * np.exp(-dt[on] / tau[i]) * np.sin(2 * np.pi * f_res[i] * dt[on])
        out[i] = amp[i] * burst[:, None] * direction[i][None, :]
    return out


# ------------------------------------------------------------------ user files


def _bad_file(path: Path, what: str) -> TinypipeError:
    return TinypipeError(f"Dataset file '{path}' {what}.", ACCEPTED)


def _labels(raw: np.ndarray, path: Path) -> tuple[np.ndarray, list[str]]:
    """Turn labels (ints, integral floats, strings or one-hot rows) into indices + class names."""
    if raw.ndim == 2 and raw.shape[1] > 1 and np.issubdtype(raw.dtype, np.number):
        return raw.argmax(axis=1).astype(np.int32), [str(i) for i in range(raw.shape[1])]
    raw = raw.reshape(-1)
    if np.issubdtype(raw.dtype, np.number):
        if not np.all(np.isfinite(raw)) or not np.all(raw == np.round(raw)):
            raise _bad_file(path, "has non-integer class labels in `y`")
        values = np.unique(raw.astype(np.int64))
        if np.array_equal(values, np.arange(len(values))):
            # Labels 0..K-1 keep their meaning: class k is output k.
            return raw.astype(np.int32), [str(i) for i in range(len(values))]
        names = [str(v) for v in values]
        return np.searchsorted(values, raw.astype(np.int64)).astype(np.int32), names
    names_arr, idx = np.unique(raw.astype(str), return_inverse=True)
    return idx.astype(np.int32), [str(s) for s in names_arr]


def _check_arrays(path: Path, x: np.ndarray, y: np.ndarray, names: list[str]) -> None:
    if len(x) != len(y):
        raise _bad_file(path, f"has {len(x)} samples in `x` but {len(y)} labels in `y`")
    if x.ndim < 2 or x.shape[0] == 0:
        raise _bad_file(path, f"has `x` of shape {x.shape}; expected (samples, features...)")
    if not np.all(np.isfinite(x)):
        raise _bad_file(path, "contains NaN or infinite values in `x`")
    counts = np.bincount(y, minlength=len(names))
    present = counts[counts > 0]
    if len(present) < 2:
        raise _bad_file(path, "has fewer than two classes")
    if present.min() < 2:
        rare = [names[i] for i in np.flatnonzero((counts > 0) & (counts < 2))]
        raise _bad_file(
            path,
            f"has classes with a single sample ({', '.join(rare)}), too few for a train/test split",
        )


def load_npz_arrays(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read `x` (samples, ...) and `y` (samples,) from an .npz; optional `class_names`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.keys())
            if "x" not in keys or "y" not in keys:
                raise _bad_file(path, f"has arrays {keys or 'none'} but needs `x` and `y`")
            x, y_raw = data["x"], data["y"]
            given_names = data["class_names"] if "class_names" in keys else None
    except TinypipeError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise _bad_file(path, f"is not a readable .npz archive ({exc})") from None
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise _bad_file(path, f"has `x` of dtype {x.dtype}; expected numbers")
    y, names = _labels(y_raw, path)
    if given_names is not None:
        given = [str(s) for s in np.asarray(given_names).reshape(-1)]
        if len(given) < len(names):
            raise _bad_file(
                path, f"lists {len(given)} `class_names` but its labels need {len(names)}"
            )
        names = given
    _check_arrays(path, x, y, names)
    return x.astype(np.float32), y, names


def load_csv_arrays(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read numeric feature columns and a label in the last column; a header row is optional."""
    try:
        with open(path, newline="") as fh:
            rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad_file(path, f"could not be read as text ({exc})") from None
    if rows and not _is_number(rows[0][0]):
        rows = rows[1:]  # a header: its first cell is not a number
    if len(rows) < 2:
        raise _bad_file(path, "has no data rows")
    width = len(rows[0])
    if width < 2:
        raise _bad_file(path, "has a single column; it needs feature columns and a label column")
    feats = np.empty((len(rows), width - 1), dtype=np.float64)
    labels = []
    for i, row in enumerate(rows):
        if len(row) != width:
            raise _bad_file(path, f"has {len(row)} columns in data row {i + 1}, expected {width}")
        for j, cell in enumerate(row[:-1]):
            try:
                feats[i, j] = float(cell)
            except ValueError:
                raise _bad_file(
                    path, f"has a non-numeric feature {cell!r} in data row {i + 1}, column {j + 1}"
                ) from None
        labels.append(row[-1].strip())
    raw = np.array(labels)
    if all(_is_number(s) for s in labels):
        raw = raw.astype(np.float64)
    y, names = _labels(raw, path)
    _check_arrays(path, feats, y, names)
    return feats.astype(np.float32), y, names


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------ entry point

BUILTIN: dict[str, Callable[[int], tuple[np.ndarray, np.ndarray, list[str]]]] = {
    "digits": lambda seed: load_digits_arrays(),
    "vibration": lambda seed: vibration_arrays(seed=seed),
}


def load_dataset(name: str | Path, seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """Load a builtin dataset by name or a user .npz/.csv file, split stratified by `seed`."""
    if not 0.0 < test_fraction < 1.0:
        raise TinypipeError(
            f"The test fraction must be between 0 and 1, got {test_fraction}.",
            "Use for example 0.2 to keep 20% of each class for testing.",
        )
    key = str(name)
    if key in BUILTIN:
        x, y, names = BUILTIN[key](seed)
        return _finish(key, x, y, names, seed, test_fraction)
    path = Path(key)
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".csv"):
        if path.is_file():
            raise TinypipeError(f"Dataset file '{path}' has an unsupported type.", ACCEPTED)
        raise TinypipeError(f"Unknown dataset '{key}'.", ACCEPTED)
    if not path.exists():
        raise TinypipeError(f"Dataset file '{path}' does not exist.", ACCEPTED)
    if path.is_dir():
        raise TinypipeError(f"Dataset path '{path}' is a directory, not a file.", ACCEPTED)
    loader = load_npz_arrays if suffix == ".npz" else load_csv_arrays
    x, y, names = loader(path)
    return _finish(key, x, y, names, seed, test_fraction)


# ------------------------------------------------------------------ input size


def resample(x: np.ndarray, size: int) -> np.ndarray:
    """Samples (N, *spatial, channels) resampled to `size` along every spatial axis by linear
    interpolation between pixel centres: images become size x size, windows `size` steps.
    The same function must run on the device side before the model (or the sensor be read at
    that resolution)."""
    out = np.asarray(x, dtype=np.float32)
    for axis in range(1, out.ndim - 1):
        n = out.shape[axis]
        if n == size:
            continue
        pos = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        shape = [1] * out.ndim
        shape[axis] = size
        frac = (pos - lo).reshape(shape).astype(np.float32)
        out = np.take(out, lo, axis=axis) * (1 - frac) + np.take(out, hi, axis=axis) * frac
    return out


def with_input_size(ds: Dataset, size: int) -> Dataset:
    """`ds` with its inputs resampled to `size` along each spatial axis (see `resample`)."""
    if len(ds.input_shape) < 2:
        raise TinypipeError(
            f"Dataset '{ds.name}' has feature vectors {ds.input_shape}; only images and "
            "windows (height/time axes) can change input size.",
            "Leave input_size out of the search space for this dataset.",
        )
    if size < 1:
        raise TinypipeError(f"input_size = {size} must be at least 1.", "Use e.g. input_size = 8.")
    x_train, x_test = resample(ds.x_train, size), resample(ds.x_test, size)
    return Dataset(
        name=ds.name, x_train=x_train, y_train=ds.y_train, x_test=x_test, y_test=ds.y_test,
        class_names=ds.class_names, input_shape=tuple(x_train.shape[1:]), seed=ds.seed,
        test_fraction=ds.test_fraction,
    )  # fmt: skip
