"""The Helium requantization (tp_mve_requantize in tp_mve.h: VSHL, VQRDMULH, a sign fix-up and
VRSHL on four lanes) against TFLM's MultiplyByQuantizedMultiplier written out from the spec on
Python integers, on the random and tie cases of test_requantize.py, each lane with its own
multiplier and shift as per-channel layers have them. The harness runs bare-metal on the
Cortex-M55 under QEMU (mps3-an547); through semihosting it prints the index of the first wrong
lane and exits with status 1, or exits with 0."""

from __future__ import annotations

import numpy as np
import pytest
from bare_metal import SEMIHOST_C, run_bare_metal
from test_requantize import _cases

from tinypipe.compiler.ops.fixedpoint import mul_by_quantized_multiplier
from tinypipe.resources import firmware_dir

pytestmark = pytest.mark.qemu

CASES = 4000  # a multiple of 4: one vector a step

HARNESS = (
    r"""
#include <stdint.h>
#include "tp_mve.h"
#include "cases.h"
"""
    + SEMIHOST_C
    + r"""
int main(void)
{
    for (int32_t i = 0; i < TP_CASES; i += 4) {
        int32_t got[4];
        vstrwq_s32(got, tp_mve_requantize(vldrwq_s32(xs + i), vldrwq_s32(ms + i), vldrwq_s32(ss + i)));
        for (int32_t k = 0; k < 4; ++k) {
            if (got[k] != want[i + k]) {
                tp_report((uint32_t)(i + k));
                tp_exit(1u);
            }
        }
    }
    tp_exit(0);
    return 0;
}
"""
)


def _c_array(name: str, values) -> str:
    return f"static const int32_t {name}[] __attribute__((aligned(16))) = {{{', '.join(map(str, values))}}};\n"


@pytest.mark.parametrize("seed", [0, 1])
def test_helium_requantize_matches_tflm_arithmetic(tmp_path, seed: int) -> None:
    cases = _cases(np.random.default_rng(seed), CASES)
    want = [mul_by_quantized_multiplier(x, m, s) for x, m, s in cases.tolist()]
    (tmp_path / "cases.h").write_text(
        f"#define TP_CASES {CASES}\n"
        + _c_array("xs", cases[:, 0])
        + _c_array("ms", cases[:, 1])
        + _c_array("ss", cases[:, 2])
        + _c_array("want", want)
    )
    (tmp_path / "harness.c").write_text(HARNESS)
    printed, code = run_bare_metal(
        "mps3-an547",
        [tmp_path / "harness.c"],
        [tmp_path, firmware_dir() / "runtime"],
        tmp_path,
        ["-Wl,--defsym=__stack_size=8192"],
    )
    if code != 0:
        assert printed.isdigit(), printed  # QEMU's semihosting console
        bad = int(printed)
        raise AssertionError(
            f"lane {bad}: (x, multiplier, shift) = {tuple(cases[bad])}, want {want[bad]}"
        )
