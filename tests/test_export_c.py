"""`tinypipe export --format c`: the folder compiles alone with a C99 compiler and its documented
API gives TFLM's output."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
from click.testing import CliRunner

from tinypipe.check.reference import run_tflm
from tinypipe.cli import main

USER_MAIN = r"""
#include <stdio.h>
#include "digits.h"

int main(void)
{
    static int8_t in[DIGITS_INPUT_ELEMENTS], out[DIGITS_OUTPUT_ELEMENTS];
    int i;
    if (fread(in, 1, sizeof in, stdin) != sizeof in) return 3;
    if (digits_invoke(in, out) != 0) return 4;
    for (i = 0; i < DIGITS_OUTPUT_ELEMENTS; ++i) printf("%d\n", out[i]);
    return 0;
}
"""


def test_exported_folder_compiles_alone_and_matches_tflm(tmp_path, digits_tflite):
    out = tmp_path / "c"
    res = CliRunner().invoke(main, ["export", str(digits_tflite), "--format", "c", "-o", str(out), "--name", "digits"])
    assert res.exit_code == 0, res.output
    header = (out / "digits.h").read_text()
    for macro in ("DIGITS_INPUT_SHAPE { 1, 8, 8, 1 }", "DIGITS_OUTPUT_ELEMENTS 10", "DIGITS_ARENA_BYTES",
                  "DIGITS_INPUT_SCALE", "DIGITS_OUTPUT_ZERO_POINT"):
        assert macro in header, macro
    (tmp_path / "main.c").write_text(USER_MAIN)
    exe = tmp_path / "app"
    cc = shutil.which("cc") or shutil.which("gcc")
    subprocess.run(
        [cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", f"-I{out}",
         *map(str, sorted(out.glob("*.c"))), str(tmp_path / "main.c"), "-o", str(exe)],
        check=True,
    )
    x = np.random.default_rng(4).integers(-128, 128, size=(1, 1, 8, 8, 1), dtype=np.int8)
    got = subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout.split()
    np.testing.assert_array_equal(np.array([int(v) for v in got], dtype=np.int8),
                                  run_tflm(digits_tflite.read_bytes(), x).ravel())
