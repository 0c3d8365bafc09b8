"""tp_add_lut_s8's arithmetic (tp_add.c) against TFLM's requantization written out from the spec
on Python integers (tinypipe.compiler.ops.fixedpoint), on tables made to hit the rounding ties
that random models almost never reach: sums whose product lands exactly on half of the last
shift, and their neighbours, for shifts 2..31, zero points and clamp ranges drawn at random.

Each layer runs twice: as one contiguous row (the four-at-a-time loop with DSP, then its tail)
and broadcast along the inner dim (element by element). The harness is compiled for this machine
under UBSan (64-bit products, and TP_SPLIT_MULTIPLY) and bare-metal for the Cortex-M4F
(mps2-an386: SMMLAR, SSUB8/SEL), Cortex-M3 (mps2-an385) and Cortex-M0 (micro:bit) under QEMU,
where it reports the first wrong output through semihosting."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from bare_metal import SEMIHOST_C, run_bare_metal

from tinypipe.compiler.ops.add import lut_output_record
from tinypipe.compiler.ops.fixedpoint import mul_by_quantized_multiplier
from tinypipe.resources import firmware_dir

N, ROWS = 259, 37  # outputs per run; the broadcast run's rows of N // ROWS = 7
LAYERS = 12

HARNESS = (
    r"""
#include "tp_add.h"
#include "cases.h"

#ifdef __arm__
"""
    + SEMIHOST_C
    + r"""#else
#include <stdio.h>
#include <stdlib.h>
static void tp_report(uint32_t index) { printf("%lu", (unsigned long)index); }
static void tp_exit(uint32_t code) { exit((int)code); }
#endif

int main(void)
{
    static int8_t out[TP_N];
    for (int32_t l = 0; l < TP_LAYERS; ++l) {
        tp_add_lut_params p = {{{1, 1, 1, TP_N}, {0, 0, 0, 1}, {0, 0, 0, 1}}, t1[l], t2[l],
                               record[l][0], record[l][1], record[l][2], record[l][3],
                               record[l][4]};
        for (int32_t run = 0; run < 2; ++run) {
            if (run == 1) { /* input 2 broadcast along the inner dim */
                const tp_broadcast b = {{1, 1, TP_ROWS, TP_N / TP_ROWS}, {0, 0, TP_N / TP_ROWS, 1},
                                        {0, 0, 1, 0}};
                p.broadcast = b;
            }
            tp_add_lut_s8(&p, x1, x2, out);
            for (int32_t i = 0; i < TP_N; ++i) {
                if (out[i] != want[l][run][i]) {
                    tp_report((uint32_t)((l * 2 + run) * TP_N + i));
                    tp_exit(1u);
                }
            }
        }
    }
    tp_exit(0u);
    return 0;
}
"""
)


def _layer(rng: np.random.Generator) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(record, table1, table2): the tables hold 2s, s around rounding ties of the record."""
    while True:
        r = int(rng.integers(2, 32))
        m = int(rng.integers(1 << 30, 1 << 31))
        zp = int(rng.integers(-128, 128))
        # t = floor((s m + 2^30) / 2^31) on a tie k 2^r + 2^(r-1), k small enough to matter
        ks = rng.integers(-300, 300, 128) >> max(0, 8 - r)
        ties = np.round(((ks << r) + (1 << (r - 1))) * 2.0**31 / m).astype(np.int64)
        s1 = np.concatenate([ties, -ties]) + rng.integers(-2, 3, 256)
        s2 = rng.integers(-2, 3, 256)
        s2[::5] = 0
        sums = (int(s1.min() + s2.min()), int(s1.max() + s2.max()))
        if lut_output_record(sums, m, -r, zp) is not None:
            break
    offset, _ = lut_output_record(sums, m, -r, zp)
    lo = int(rng.choice([-128, zp, max(zp - 5, -128)]))
    hi = int(rng.choice([127, min(zp + 6, 127), min(max(lo, zp + 1), 127)]))
    return [m, offset, r, lo, hi], 2 * s1, 2 * s2


def _want(record, t1, t2, x1, x2) -> list[int]:
    """clamp(MultiplyByQuantizedMultiplier(s, Mo, -r) + zp) for s = (t1[x1] + t2[x2]) / 2, the
    zero point read back from the record's offset = 2^(r-1) + zp 2^r."""
    m, offset, r, lo, hi = record
    zp = (offset - (1 << (r - 1))) >> r
    out = []
    for a, b in zip(x1, x2):
        s = (int(t1[a + 128]) + int(t2[b + 128])) // 2
        out.append(min(max(mul_by_quantized_multiplier(s, m, -r) + zp, lo), hi))
    return out


def _carr(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def _cases_h(seed: int) -> tuple[str, list]:
    rng = np.random.default_rng(seed)
    x1 = rng.permutation(np.concatenate([np.arange(-128, 128), [-128, 127, 0]]))
    x2 = rng.integers(-128, 128, N)
    x2_row = np.repeat(x2[:ROWS], N // ROWS)  # run 1: input 2 is one value per row
    layers = [_layer(rng) for _ in range(LAYERS)]
    text = f"#define TP_LAYERS {LAYERS}\n#define TP_N {N}\n#define TP_ROWS {ROWS}\n"
    text += f"static const int8_t x1[TP_N] = {_carr(x1)};\n"
    text += f"static const int8_t x2[TP_N] = {_carr(x2)};\n"
    text += "static const int32_t record[TP_LAYERS][5] = {"
    text += ", ".join(_carr(rec) for rec, _, _ in layers) + "};\n"
    for name, k in (("t1", 1), ("t2", 2)):
        text += f"static const int32_t {name}[TP_LAYERS][256] = {{"
        text += ", ".join(_carr(layer[k]) for layer in layers) + "};\n"
    wants = [[_want(rec, t1, t2, x1, x2), _want(rec, t1, t2, x1, x2_row)] for rec, t1, t2 in layers]
    text += "static const int8_t want[TP_LAYERS][2][TP_N] = {"
    text += ", ".join("{" + ", ".join(_carr(w) for w in pair) + "}" for pair in wants) + "};\n"
    return text, layers


def _check(printed: str, code: int, layers: list) -> None:
    if code != 0:
        assert printed.isdigit(), printed
        bad = int(printed)
        layer, run, i = bad // (2 * N), bad // N % 2, bad % N
        raise AssertionError(f"layer {layer} {layers[layer][0]}, run {run}, output {i}")


CC = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]
RUNTIME = firmware_dir() / "runtime"


@pytest.mark.parametrize("flags", [[], ["-DTP_SPLIT_MULTIPLY"]], ids=["int64", "split"])
def test_lut_kernel_on_host_matches_tflm_arithmetic(tmp_path, flags: list[str]) -> None:
    text, layers = _cases_h(900)
    (tmp_path / "cases.h").write_text(text)
    (tmp_path / "harness.c").write_text(HARNESS)
    exe = tmp_path / "harness"
    cc = shutil.which("cc") or shutil.which("gcc")
    subprocess.run(
        [cc, *CC, "-fsanitize=undefined,address", "-fno-sanitize-recover", *flags,
         f"-I{tmp_path}", f"-I{RUNTIME}", str(tmp_path / "harness.c"), str(RUNTIME / "tp_add.c"),
         "-o", str(exe)],
        check=True,
    )  # fmt: skip
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    _check(run.stdout.strip(), run.returncode, layers)


@pytest.mark.qemu
@pytest.mark.parametrize("machine", ["mps2-an386", "mps2-an385", "microbit"])
def test_lut_kernel_on_board_matches_tflm_arithmetic(tmp_path, machine: str) -> None:
    text, layers = _cases_h(901)
    (tmp_path / "cases.h").write_text(text)
    (tmp_path / "harness.c").write_text(HARNESS)
    printed, code = run_bare_metal(
        machine, [tmp_path / "harness.c", RUNTIME / "tp_add.c"], [tmp_path, RUNTIME], tmp_path
    )
    _check(printed, code, layers)
