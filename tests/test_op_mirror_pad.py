"""MIRROR_PAD (REFLECT and SYMMETRIC, int8): tinypipe's kernel against the TFLM
interpreter, bit for bit, and the reflection maps against numpy.pad (written from the same spec).

Randomized one-op models: ranks 1..4, every dim padded 0..its largest legal reach on either side.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import check_bit_exact_on_board, run_random_cases

from tinypipe.check.reference import run_tflm
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.ops.mirror_pad import reflect
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import UnsupportedModelError


def random_mirror_pad(rng: np.random.Generator) -> dict:
    symmetric = bool(rng.integers(0, 2))
    shape = [int(d) for d in rng.integers(1, 6, int(rng.integers(1, 5)))]
    pads = []
    for n in shape:
        reach = n if symmetric else n - 1
        pads.append([int(rng.integers(0, reach + 1)), int(rng.integers(0, reach + 1))])
    q = {"scale": float(10 ** rng.uniform(-3, 0)), "zero_point": int(rng.integers(-128, 128))}
    return {"shape": shape, "pads": pads, "mode": int(symmetric), "q": q}


def build_mirror_pad(
    cfg: dict, rng: np.random.Generator | None = None, dtype: str = "int8"
) -> bytes:
    b = ModelBuilder()
    q = dict(cfg["q"], zero_point=0) if dtype == "int16" else cfg["q"]
    x = b.tensor(cfg["shape"], dtype, **q)
    out_shape = [n + a + z for n, (a, z) in zip(cfg["shape"], cfg["pads"])]
    y = b.tensor(out_shape, dtype, **q)
    pads = np.asarray(cfg["pads"], np.int32).reshape(-1, 2)
    p = b.tensor(pads.shape, "int32", data=pads)
    b.op("MIRROR_PAD", [x, p], [y], "MirrorPadOptions", mode=cfg["mode"])
    return b.build([x], [y])


@pytest.mark.parametrize("chunk", range(2))
def test_mirror_pad_random_bit_exact(chunk: int) -> None:
    """16 random layers (8 per chunk), every 3rd under ASan/UBSan."""
    run_random_cases(random_mirror_pad, build_mirror_pad, 7600 + 8 * chunk, 8)


def test_int16_mirror_pad_is_refused_like_tflm() -> None:
    """TFLM fails such a model at invocation; tinypipe says so before generating anything."""
    cfg = {
        "shape": [1, 4],
        "pads": [[0, 0], [1, 1]],
        "mode": 0,
        "q": {"scale": 0.1, "zero_point": 0},
    }
    with pytest.raises(UnsupportedModelError, match="int8"):
        from tinypipe.compiler.codegen import generate_c

        generate_c(read_tflite(build_mirror_pad(cfg, dtype="int16")))


def test_reflection_maps_match_numpy_pad() -> None:
    """The host's index maps are numpy.pad's 'reflect' and 'symmetric' modes, and TFLM agrees."""
    for n in range(1, 6):
        for symmetric in (False, True):
            reach = n if symmetric else n - 1
            for a in range(reach + 1):
                for z in range(reach + 1):
                    want = np.pad(
                        np.arange(n), (a, z), mode="symmetric" if symmetric else "reflect"
                    )
                    np.testing.assert_array_equal(reflect(n, a, z, symmetric), want)
    cfg = {"shape": [1, 3, 4, 2], "pads": [[0, 0], [2, 1], [1, 3], [0, 0]], "mode": 1,
           "q": {"scale": 0.1, "zero_point": 3}}  # fmt: skip
    x = np.random.default_rng(0).integers(-128, 128, (2, 1, 3, 4, 2), dtype=np.int8)
    got = run_tflm(build_mirror_pad(cfg), x).reshape(2, 1, 6, 8, 2)
    np.testing.assert_array_equal(got, np.pad(x, [[0, 0], *cfg["pads"]], mode="symmetric"))


@pytest.mark.parametrize("mode,pads", [(0, [[0, 0], [3, 0]]), (1, [[0, 0], [0, 4]])])
def test_padding_past_the_reflection_is_refused(mode: int, pads) -> None:
    """REFLECT reaches at most n - 1 elements past an edge, SYMMETRIC n: beyond that the model
    asks for data that does not exist."""
    cfg = {"shape": [1, 3], "pads": pads, "mode": mode, "q": {"scale": 0.1, "zero_point": 0}}
    with pytest.raises(UnsupportedModelError, match="reaches past the reflection"):
        from tinypipe.compiler.codegen import generate_c

        generate_c(read_tflite(build_mirror_pad(cfg)))


@pytest.mark.qemu
def test_mirror_pad_on_m4_bit_exact() -> None:
    cfg = {"shape": [1, 5, 6, 3], "pads": [[0, 0], [2, 3], [1, 2], [0, 0]], "mode": 0,
           "q": {"scale": 0.05, "zero_point": -3}}  # fmt: skip
    check_bit_exact_on_board(build_mirror_pad(cfg), 7660, "mps2-an386", samples=3)
