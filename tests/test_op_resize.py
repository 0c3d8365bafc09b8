"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR: tinypipe's int8 kernels against the TFLM
interpreter, bit for bit.

Randomized models built directly: up- and downsampling by any ratio (1..6 to 1..12 pixels per
side), batches, channels, and every allowed align_corners / half_pixel_centers combination. Plus
the sampling tables checked against numpy written from the formulas on a known case.
"""

from __future__ import annotations

import numpy as np
from op_cases import run_random_cases

from tinypipe.compiler.ops.resize import bilinear_sources, nearest_sources
from tinypipe.compiler.tflite_writer import ModelBuilder


def random_resize(rng):
    op = str(rng.choice(["RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"]))
    align, half = [(False, False), (True, False), (False, True), (True, True)][
        int(rng.integers(0, 4))
    ]
    if op == "RESIZE_BILINEAR" and align and half:
        half = False
    return {
        "op": op, "n": int(rng.choice([1, 1, 2])), "in": [int(d) for d in rng.integers(1, 7, 2)],
        "out": [int(d) for d in rng.integers(1, 13, 2)], "c": int(rng.integers(1, 5)),
        "align": align, "half": half,
        "q": {"scale": 0.03, "zero_point": int(rng.integers(-128, 128))},
    }  # fmt: skip


def build_resize(cfg, rng):
    n, c = cfg["n"], cfg["c"]
    b = ModelBuilder()
    x = b.tensor([n, *cfg["in"], c], **cfg["q"])
    size = np.asarray(cfg["out"], np.int32)
    s = b.tensor(size.shape, "int32", data=size)
    y = b.tensor([n, *cfg["out"], c], **cfg["q"])
    options = (
        "ResizeNearestNeighborOptions"
        if cfg["op"] == "RESIZE_NEAREST_NEIGHBOR"
        else "ResizeBilinearOptions"
    )
    b.op(cfg["op"], [x, s], [y], options, version=3,
         align_corners=cfg["align"], half_pixel_centers=cfg["half"])  # fmt: skip
    return b.build([x], [y])


def test_resize_random_bit_exact() -> None:
    run_random_cases(random_resize, build_resize, 8700, 12)


def test_resize_tables_follow_the_formulas() -> None:
    # 2x nearest upsampling repeats each pixel; half-pixel centres give the same here.
    assert nearest_sources(3, 6, False, False) == [0, 0, 1, 1, 2, 2]
    assert nearest_sources(3, 6, False, True) == [0, 0, 1, 1, 2, 2]
    # align_corners maps the corners onto each other: round(i * 2 / 4)
    assert nearest_sources(3, 5, True, False) == [0, 1, 1, 2, 2]
    # bilinear 2x, half-pixel: position (i + 0.5) / 2 - 0.5 in 1/1024 units
    lo, hi, frac = bilinear_sources(2, 4, False, True)
    pos = [int((i + 0.5) * 512 - 512) for i in range(4)]
    assert frac[1:] == [p - 1024 * lo_ for p, lo_ in zip(pos[1:], lo[1:])]
    assert lo == [0, 0, 0, 1] and hi == [0, 1, 1, 1]
