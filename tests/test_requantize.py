"""The kernels' requantization (tp_requantize_nonneg in tp_common.h: both of TFLM's roundings
folded into one 64-bit multiply-add) against TFLM's MultiplyByQuantizedMultiplier written out
from the spec on Python integers (tinypipe.compiler.ops.fixedpoint), on random and edge values,
compiled for this machine under UBSan. Each harness is built twice: with 64-bit products, and
with TP_SPLIT_MULTIPLY, the form for cores without a 64-bit multiply (ARMv6-M), whose high
words come from 16x16 products (tp_mul_high, checked on its own against Python integers)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from tinypipe.compiler.ops.conv import requant_records
from tinypipe.compiler.ops.fixedpoint import mul_by_quantized_multiplier
from tinypipe.compiler.thumb1 import SMALL_BOUND, small_records
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


SPLIT = {"int64": [], "split": ["-DTP_SPLIT_MULTIPLY"]}


def _build(tmp_path, source: str, flags: list[str]):
    """The harness compiled under UBSan with the runtime's headers and `flags`."""
    cc = shutil.which("cc") or shutil.which("gcc")
    src = tmp_path / "harness.c"
    src.write_text(source)
    exe = tmp_path / "harness"
    subprocess.run(
        [cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-fsanitize=undefined",
         "-fno-sanitize-recover", *flags, f"-I{firmware_dir() / 'runtime'}", str(src), "-o",
         str(exe)],
        check=True,
    )  # fmt: skip
    return exe


@pytest.mark.parametrize("form", list(SPLIT))
@pytest.mark.parametrize("seed", [0, 1])
def test_requantize_matches_tflm_arithmetic(tmp_path, seed: int, form: str) -> None:
    exe = _build(tmp_path, HARNESS, SPLIT[form])
    cases = _cases(np.random.default_rng(seed), 20000)
    stdin = "\n".join(f"{x} {m} {s}" for x, m, s in cases.tolist())
    out = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, check=True)
    got = [int(v) for v in out.stdout.split()]
    want = [mul_by_quantized_multiplier(x, m, s) for x, m, s in cases.tolist()]
    bad = [(tuple(c), g, w) for c, g, w in zip(cases.tolist(), got, want) if g != w]
    assert len(got) == len(want) and not bad, bad[:5]


HARNESS_RQ = r"""
#include <stdio.h>
#include "tp_common.h"
int main(void)
{
    long x, m, round, r1, lo, hi;
    while (scanf("%ld %ld %ld %ld %ld %ld", &x, &m, &round, &r1, &lo, &hi) == 6) {
        const int32_t rq[3] = {(int32_t)m, (int32_t)round, (int32_t)r1};
        printf("%d\n", (int)tp_output_rq_s8((int32_t)x, rq, (int32_t)lo, (int32_t)hi));
    }
    return 0;
}
"""


@pytest.mark.parametrize("form", list(SPLIT))
@pytest.mark.parametrize("seed", [0, 1])
def test_output_with_host_constants_matches_tflm_arithmetic(tmp_path, seed: int, form: str) -> None:
    """tp_output_rq_s8 with the words requant_records makes (zero point folded into the
    rounding constant) against clamp(MultiplyByQuantizedMultiplier + zp) from the spec, over
    accumulators up to the bound the host checked, every zero point and activation range."""
    rng = np.random.default_rng(seed)
    exe = _build(tmp_path, HARNESS_RQ, SPLIT[form])
    rows, want = [], []
    while len(rows) < 20000:
        bound = int(2 ** rng.uniform(4, 31)) - 1
        m = np.array([rng.integers(2**30, 2**31)], dtype=np.int64)
        shift = np.array([rng.integers(-31, -1)])
        zp = int(rng.integers(-128, 128))
        rec = requant_records(m, shift, zp, np.array([bound]))
        if rec is None:
            continue
        lo = int(rng.choice([-128, zp, max(zp - 5, -128)]))
        hi = int(rng.choice([127, min(zp + 6, 127), min(max(lo, zp + 1), 127)]))
        for x in [bound, -bound, 0, -1, *rng.integers(-bound, bound + 1, 8).tolist()]:
            rows.append(f"{x} {rec[0]} {rec[1]} {rec[2]} {lo} {hi}")
            q = mul_by_quantized_multiplier(int(x), int(m[0]), int(shift[0])) + zp
            want.append(min(max(q, lo), hi))
    out = subprocess.run(
        [str(exe)], input="\n".join(rows), capture_output=True, text=True, check=True
    )
    got = [int(v) for v in out.stdout.split()]
    bad = [(r, g, w) for r, g, w in zip(rows, got, want) if g != w]
    assert len(got) == len(want) and not bad, bad[:5]


def test_host_constants_refused_when_they_could_overflow() -> None:
    """requant_records declines shifts above -2 and constants whose high word could leave int32
    (the kernels then keep the general requantization)."""
    m = np.array([2**31 - 1], dtype=np.int64)
    assert requant_records(m, np.array([-1]), 0, np.array([1000])) is None
    assert requant_records(m, np.array([-31]), 127, np.array([1000])) is None
    assert requant_records(m, np.array([-12]), 127, np.array([1000])) is not None


HARNESS_HIGH = r"""
#include <stdio.h>
#include "tp_common.h"
int main(void)
{
    long a, b, lo, hi;
    while (scanf("%ld %ld %ld %ld", &a, &b, &lo, &hi) == 4) {
        printf("%ld %ld %ld\n", (long)tp_mul_high((int32_t)a, (int32_t)b),
               (long)tp_mul_add_high((int32_t)a, (int32_t)b, (uint32_t)lo, (int32_t)hi),
               b >= 0 ? (long)tp_mul_round_high_nonneg((int32_t)a, (int32_t)b) : 0L);
    }
    return 0;
}
"""


def test_split_high_word_matches_python_integers(tmp_path) -> None:
    """tp_mul_high(a, b) = floor(a * b / 2^32), tp_mul_add_high = the high word of
    a * b + hi * 2^32 + lo wrapped to int32, and for b >= 0 tp_mul_round_high_nonneg =
    floor((a * b + 2^30 - [a < 0] * 2^31) / 2^32), for every pair of int32 edge values and
    random words of every magnitude."""
    rng = np.random.default_rng(7)
    edges = [-(2**31), -(2**31) + 1, -(2**16) - 1, -(2**16), -(2**15), -1, 0, 1, 2**15 - 1,
             2**15, 2**16 - 1, 2**16, 2**30, 2**31 - 1]  # fmt: skip
    pairs = [(a, b) for a in edges for b in edges]
    bits = rng.integers(0, 32, (20000, 2))
    words = rng.integers(-(2**31), 2**31, (20000, 2), dtype=np.int64) >> bits
    pairs += [tuple(p) for p in words.tolist()]
    lo = rng.integers(0, 2**32, len(pairs), dtype=np.int64)
    lo[::3] = rng.choice([0, 2**30, 3 * 2**30, 2**32 - 1], lo[::3].size)
    hi = rng.integers(-(2**31), 2**31, len(pairs), dtype=np.int64) >> rng.integers(
        0, 32, len(pairs)
    )
    exe = _build(tmp_path, HARNESS_HIGH, [])
    rows = [f"{a} {b} {lo_} {hi_}" for (a, b), lo_, hi_ in zip(pairs, lo.tolist(), hi.tolist())]
    out = subprocess.run(
        [str(exe)], input="\n".join(rows), capture_output=True, text=True, check=True
    ).stdout.split("\n")
    for row, line, (a, b), lo_, hi_ in zip(rows, out, pairs, lo.tolist(), hi.tolist()):
        wrapped = ((((a * b + (hi_ << 32) + lo_) >> 32) + 2**31) % 2**32) - 2**31
        rounded = (a * b + 2**30 - (2**31 if a < 0 else 0)) >> 32 if b >= 0 else 0
        assert line.split() == [str((a * b) >> 32), str(wrapped), str(rounded)], row


HARNESS_SMALL = r"""
#include <stdio.h>
#include "tp_common.h"
/* Per line (multiplier, shift, zero point, clamp, the small-form records): every accumulator
 * with |acc| < bound through tp_output_rq_s8 against TFLM's two roundings (tp_requantize);
 * prints the mismatches' count and the first one. */
int main(void)
{
    long m, shift, zp, lo, hi, w0, w1, w2, bound;
    while (scanf("%ld %ld %ld %ld %ld %ld %ld %ld %ld", &m, &shift, &zp, &lo, &hi, &w0, &w1, &w2,
                 &bound) == 9) {
        const int32_t rq[3] = {(int32_t)w0, (int32_t)w1, (int32_t)w2};
        long bad = 0, first = 0;
        for (long x = -bound + 1; x < bound; ++x) {
            const int32_t want = tp_clamp_i32(
                tp_requantize((int32_t)x, (int32_t)m, (int32_t)shift) + (int32_t)zp,
                (int32_t)lo, (int32_t)hi);
            if (tp_output_rq_s8((int32_t)x, rq, (int32_t)lo, (int32_t)hi) != want && bad++ == 0) {
                first = x;
            }
        }
        printf("%ld %ld\n", bad, first);
    }
    return 0;
}
"""


def test_small_accumulator_records_exhaustive(tmp_path) -> None:
    """tp_output_rq_s8 on small_records' words (three products, the Cortex-M0 blobs' form for
    accumulators below SMALL_BOUND) against TFLM's MultiplyByQuantizedMultiplier + zero point +
    clamp for every accumulator in (-SMALL_BOUND, SMALL_BOUND): Q31 mantissas of every kind
    (2^30, 2^31 - 1, ties-prone 3 * 2^29, random), every shift -31..-2 the records take, zero
    points and clamps on both sides."""
    rng = np.random.default_rng(11)
    exe = _build(tmp_path, HARNESS_SMALL, SPLIT["split"])
    mantissas = [2**30, 2**30 + 1, 3 * 2**29, 2**31 - 2**29, 2**31 - 1]
    mantissas += rng.integers(2**30, 2**31, 19).tolist()
    rows = []
    for k, m in enumerate(mantissas):
        for shift in (-2 - k % 3, -9 - k % 5, -16 - k % 7, -31 + k % 4):
            zp = int(rng.integers(-128, 128))
            rec = requant_records(np.array([m]), np.array([shift]), zp, np.array([SMALL_BOUND]))
            if rec is None:  # a rounding word outside int32: no records, no kernel reads them
                continue
            lo, hi = [(-128, 127), (zp, 127), (max(zp - 7, -128), min(zp + 9, 127))][k % 3]
            w = small_records(rec.reshape(1, 3).astype(np.int64))[0]
            rows.append(f"{m} {shift} {zp} {lo} {hi} {w[0]} {w[1]} {w[2]} {SMALL_BOUND}")
    assert len(rows) > 60
    out = subprocess.run(
        [str(exe)], input="\n".join(rows), capture_output=True, text=True, check=True
    ).stdout.split("\n")
    bad = [(row, line) for row, line in zip(rows, out) if line.split()[0] != "0"]
    assert len(out) >= len(rows) and not bad, bad[:3]


def test_small_records_hold_the_multiplier() -> None:
    """small_records' words: the pieces give back the multiplier, the rounding word is kept, the
    third word's low byte is still r - 1 with the flag above it."""
    rng = np.random.default_rng(12)
    m = np.concatenate([[0, 1, 2**30, 2**31 - 1], rng.integers(0, 2**31, 200)])
    rec = np.stack([m, rng.integers(-(2**31), 2**31, m.size), rng.integers(1, 31, m.size)], 1)
    w = small_records(rec)
    assert np.array_equal((w[:, 0] & 0x7FF) + ((w[:, 0] >> 16) << 11) + ((w[:, 2] >> 16) << 22), m)
    assert np.array_equal(w[:, 1], rec[:, 1])
    assert np.array_equal(w[:, 2] & 0xFF, rec[:, 2]) and np.all(w[:, 2] & 0x100)
    assert np.all(w < 2**31) and np.all(w[:, [0, 2]] >= 0)
    with pytest.raises(ValueError, match="multipliers"):
        small_records(np.array([[-1, 0, 3]]))
