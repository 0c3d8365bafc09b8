"""Datasets: builtin digits, the synthetic vibration machine, user .npz/.csv files, the split."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tinypipe.errors import TinypipeError
from tinypipe.model.datasets import (
    VIBRATION_CLASSES,
    VIBRATION_RATE_HZ,
    load_dataset,
    stratified_split,
    vibration_arrays,
)


def test_digits_shapes_and_range() -> None:
    d = load_dataset("digits", seed=0)
    assert d.input_shape == (8, 8, 1)
    assert d.class_names == [str(i) for i in range(10)]
    assert len(d.y_train) + len(d.y_test) == 1797
    assert d.x_train.dtype == np.float32 and d.x_train.shape[1:] == (8, 8, 1)
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0 and d.x_train.max() > 0.9
    assert abs(len(d.y_test) / 1797 - 0.2) < 0.01


def test_vibration_is_deterministic_for_a_seed() -> None:
    a = load_dataset("vibration", seed=7)
    b = load_dataset("vibration", seed=7)
    c = load_dataset("vibration", seed=8)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)


def test_vibration_shapes_and_classes() -> None:
    x, y, names = vibration_arrays(samples_per_class=50, window=128, seed=0)
    assert names == VIBRATION_CLASSES == ["normal", "imbalance", "bearing_wear", "misalignment"]
    assert x.shape == (200, 128, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50, 50])
    assert np.all(np.isfinite(x))
    # The accelerometer's axial (z) axis carries gravity.
    np.testing.assert_allclose(x[..., 2].mean(), 1.0, atol=0.05)
    d = load_dataset("vibration", seed=0)
    assert d.input_shape == (128, 3) and d.num_classes == 4


def _band_energy(x: np.ndarray, lo: float, hi: float) -> float:
    """Mean spectral energy of the radial axes between lo and hi Hz."""
    spec = np.abs(np.fft.rfft(x[..., :2] - x[..., :2].mean(axis=1, keepdims=True), axis=1)) ** 2
    freqs = np.fft.rfftfreq(x.shape[1], 1.0 / VIBRATION_RATE_HZ)
    band = (freqs >= lo) & (freqs < hi)
    return float(spec[:, band].mean())


def test_vibration_classes_have_their_physical_signatures() -> None:
    x, y, names = vibration_arrays(samples_per_class=40, seed=1)
    by = {name: x[y == i] for i, name in enumerate(names)}
    # Bearing impacts ring a 250-400 Hz resonance: more high-frequency energy than healthy (which
    # also sees the odd knock from outside, and faults are often mild).
    assert _band_energy(by["bearing_wear"], 240, 420) > 2.5 * _band_energy(by["normal"], 240, 420)
    # Imbalance is a strong radial 1x (20-45 Hz) component.
    assert _band_energy(by["imbalance"], 15, 50) > 5 * _band_energy(by["normal"], 15, 50)
    # Misalignment shows up axially (z).
    axial_std = {n: float(v[..., 2].std(axis=1).mean()) for n, v in by.items()}
    assert axial_std["misalignment"] > 2 * axial_std["normal"]
    assert axial_std["misalignment"] > 2 * axial_std["imbalance"]


def test_vibration_classes_overlap_and_sensors_drift() -> None:
    """Not a clean textbook set: mild faults hide in the healthy spread, and every window sees
    its own mount tilt, gain error and baseline wander."""
    x, y, names = vibration_arrays(samples_per_class=100, seed=2)
    def rms(lo: float, hi: float) -> np.ndarray:
        return np.sqrt(np.array([_band_energy(w[None], lo, hi) for w in x]))

    # the mildest imbalanced machines are within the healthy machines' 1x range
    one_x, healthy = rms(15, 50), y == 0
    imbalance = one_x[y == names.index("imbalance")]
    assert np.quantile(imbalance, 0.05) < np.quantile(one_x[healthy], 0.95)
    assert np.median(imbalance) > 2 * np.median(one_x[healthy])
    # a tenth of worn bearings ring no louder than the healthy machine at the 90th percentile
    ring = rms(240, 420)
    assert np.quantile(ring[y == names.index("bearing_wear")], 0.1) < np.quantile(ring[healthy], 0.9)
    # tilt: gravity leaks into the radial axes, differently per window
    radial_mean = x[..., :2].mean(axis=1)
    assert 0.03 < radial_mean.std() < 0.2
    # drift: the first and last quarter of a window disagree by more than noise alone would make
    quarter = x.shape[1] // 4
    step = x[:, -quarter:, :].mean(axis=1) - x[:, :quarter, :].mean(axis=1)
    assert np.abs(step).mean() > 0.01


def test_split_is_stratified_reproducible_and_disjoint() -> None:
    y = np.repeat(np.arange(3), [50, 30, 20])
    tr, te = stratified_split(y, 0.2, seed=3)
    tr2, te2 = stratified_split(y, 0.2, seed=3)
    np.testing.assert_array_equal(tr, tr2)
    np.testing.assert_array_equal(te, te2)
    assert set(tr).isdisjoint(te) and len(tr) + len(te) == 100
    np.testing.assert_array_equal(np.bincount(y[te]), [10, 6, 4])
    tr3, _ = stratified_split(y, 0.2, seed=4)
    assert not np.array_equal(tr, tr3)


def test_npz_with_string_labels(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5, 2)).astype(np.float32)
    y = np.array(["cat", "dog"] * 20)
    path = tmp_path / "d.npz"
    np.savez(path, x=x, y=y)
    d = load_dataset(path, seed=1)
    assert d.class_names == ["cat", "dog"]
    assert d.input_shape == (5, 2)
    assert len(d.y_train) == 32 and len(d.y_test) == 8
    # Each sample keeps its label through the split.
    lookup = {x[i].tobytes(): y[i] for i in range(40)}
    for xi, yi in zip(d.x_test, d.y_test, strict=True):
        assert lookup[xi.tobytes()] == d.class_names[yi]


def test_npz_with_int_labels_and_class_names(tmp_path) -> None:
    x = np.arange(60, dtype=np.float32).reshape(30, 2)
    path = tmp_path / "d.npz"
    np.savez(path, x=x, y=np.arange(30) % 3, class_names=np.array(["a", "b", "c"]))
    d = load_dataset(str(path))
    assert d.class_names == ["a", "b", "c"] and d.num_classes == 3


def test_csv_with_header_and_label_column(tmp_path) -> None:
    rows = ["f1,f2,f3,label"] + [
        f"{i},{i * 2}.5,{-i},{'on' if i % 2 else 'off'}" for i in range(20)
    ]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(rows) + "\n")
    d = load_dataset(path)
    assert d.input_shape == (3,) and d.class_names == ["off", "on"]
    assert len(d.y_train) + len(d.y_test) == 20
    row = d.x_train[0]
    assert row[1] == row[0] * 2 + 0.5 and row[2] == -row[0]
    assert d.class_names[d.y_train[0]] == ("on" if int(row[0]) % 2 else "off")


def test_csv_without_header_numeric_labels(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("".join(f"{i * 0.1},{i % 2}\n" for i in range(10)))
    d = load_dataset(path)
    assert d.class_names == ["0", "1"] and d.input_shape == (1,)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("nope", None, "Unknown dataset 'nope'"),
        ("missing.npz", None, "does not exist"),
        ("bad.npz", b"not a zip file", "not a readable .npz"),
        ("bad.csv", "1,2,a\n3,x,b\n", "non-numeric feature 'x' in data row 2, column 2"),
        ("ragged.csv", "1,2,a\n3,b\n", "2 columns in data row 2, expected 3"),
        ("one.csv", "1,a\n2,a\n3,a\n", "fewer than two classes"),
        ("notes.txt", "hello", "unsupported type"),
    ],
)
def test_bad_dataset_is_a_clear_error(tmp_path, name, content, message) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(TinypipeError) as err:
        load_dataset(path if content is not None or name.endswith(".npz") else name)
    assert message in err.value.message
    assert "Accepted:" in err.value.message  # says what would work


def test_npz_missing_arrays_and_mismatch(tmp_path) -> None:
    p = tmp_path / "a.npz"
    np.savez(p, features=np.zeros((4, 2)), labels=np.zeros(4))
    with pytest.raises(TinypipeError, match=r"needs `x` and `y`"):
        load_dataset(p)
    np.savez(p, x=np.zeros((4, 2)), y=np.zeros(3))
    with pytest.raises(TinypipeError, match="4 samples in `x` but 3 labels"):
        load_dataset(p)
    np.savez(p, x=np.full((4, 2), np.nan), y=np.array([0, 1, 0, 1]))
    with pytest.raises(TinypipeError, match="NaN"):
        load_dataset(p)


def test_bad_test_fraction() -> None:
    with pytest.raises(TinypipeError, match="between 0 and 1"):
        load_dataset("digits", test_fraction=1.0)


def test_loading_data_does_not_import_tensorflow() -> None:
    code = (
        "import sys, tinypipe.cli, tinypipe.model.datasets, tinypipe.model.zoo, tinypipe.model.train, "
        "tinypipe.model.quantize\n"
        "from tinypipe.model.datasets import load_dataset\n"
        "load_dataset('vibration'); load_dataset('digits')\n"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
