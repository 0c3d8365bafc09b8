"""Shared fixtures: int8 models made by the real TF converter, cached for the session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def zoo_model(tmp_path_factory):
    """zoo_model(name, **kw) -> Path of an int8 .tflite of that zoo model (random weights)."""
    cache: dict[tuple, Path] = {}
    root = tmp_path_factory.mktemp("zoo")

    def make(name: str, **kw) -> Path:
        key = (name, tuple(sorted(kw.items())))
        if key not in cache:
            from tinypipe.model.zoo import make_int8_model

            path = root / f"{name}-{len(cache)}.tflite"
            path.write_bytes(make_int8_model(name, **kw))
            cache[key] = path
        return cache[key]

    return make


@pytest.fixture(scope="session")
def digits_tflite(zoo_model) -> Path:
    """The digits CNN shape (8x8x1 -> 10 classes), int8."""
    return zoo_model("tiny_cnn", input_shape=(8, 8, 1), num_classes=10)


@pytest.fixture(scope="session")
def float_tflite() -> Path:
    """A float model made elsewhere: the sine example shipped in the tflite-micro wheel."""
    import tflite_micro

    return Path(tflite_micro.__file__).parent / "python" / "tflite_micro" / "sine_float.tflite"


def random_int8(shape, n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, size=(n, *shape), dtype=np.int8)
