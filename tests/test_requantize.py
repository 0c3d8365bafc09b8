"""The kernels' requantization (tp_requantize_nonneg in tp_common.h: both of TFLM's roundings
folded into one 64-bit multiply-add) against TFLM's MultiplyByQuantizedMultiplier written out
from the spec on Python integers (tinypipe.compiler.ops.fixedpoint), on random and edge values,
compiled for this machine under UBSan."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from tinypipe.compiler.ops.fixedpoint import mul_by_quantized_multiplier
from tinypipe.resources import firmware_dir

HARNESS = r"""
#include <stdio.h>
#include "tp_common.h"
int main(void)
{
    long x, m, s;
    while (scanf("%ld %ld %ld", &x, &m, &s) == 3) {
        printf("%ld\n", (long)tp_requantize_nonneg((int32_t)x, (int32_t)m, (int32_t)s));
    }
    return 0;
}
"""


def _cases(rng: np.random.Generator, n: int) -> np.ndarray:
    """(x, multiplier, shift) rows: accumulators of every magnitude with both signs and the
    int32 extremes, multipliers in [0, 2^31) (mostly Q31 mantissas in [2^30, 2^31)), and every
    shift the host makes (-31..30), left shifts only where x << shift stays in int32 as they
    do for int8 layers; every fifth row is a tie for one of the two roundings."""
    bits = rng.integers(0, 32, n)
    x = rng.integers(-(2**31), 2**31, n, dtype=np.int64) >> bits
    x[:64] = [-(2**31), 2**31 - 1, 0, -1, 1, -(2**30), 2**30, -(2**30) - 1] * 8
    m = rng.integers(2**30, 2**31, n, dtype=np.int64)
    m[::7] = rng.integers(0, 2**31, m[::7].size)
    m[::11] = 2**31 - 1
    m[::13] = 0
    # Power-of-two-ish multipliers with small x land exactly on both rounding boundaries.
    ties = np.arange(n) % 5 == 1
    m[ties] = rng.choice([2**30, 3 * 2**29, 2**30 + 1, 2**31 - 2**29], ties.sum())
    x[ties] = rng.integers(-(2**12), 2**12, ties.sum())
    shift = rng.integers(-31, 1, n)
    shift[ties] = rng.integers(-8, 1, ties.sum())
    left = rng.random(n) < 0.1
    shift[left] = rng.integers(1, 8, left.sum())
    x[left] >>= shift[left] + 1  # x << shift fits in int32
    return np.stack([x, m, shift], axis=1)


@pytest.mark.parametrize("seed", [0, 1])
def test_requantize_matches_tflm_arithmetic(tmp_path, seed: int) -> None:
    cc = shutil.which("cc") or shutil.which("gcc")
    src = tmp_path / "harness.c"
    src.write_text(HARNESS)
    exe = tmp_path / "harness"
    subprocess.run(
        [cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-fsanitize=undefined",
         "-fno-sanitize-recover", f"-I{firmware_dir() / 'runtime'}", str(src), "-o", str(exe)],
        check=True,
    )  # fmt: skip
    cases = _cases(np.random.default_rng(seed), 20000)
    stdin = "\n".join(f"{x} {m} {s}" for x, m, s in cases.tolist())
    out = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, check=True)
    got = [int(v) for v in out.stdout.split()]
    want = [mul_by_quantized_multiplier(x, m, s) for x, m, s in cases.tolist()]
    bad = [(tuple(c), g, w) for c, g, w in zip(cases.tolist(), got, want) if g != w]
    assert len(got) == len(want) and not bad, bad[:5]
