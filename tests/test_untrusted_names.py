"""Names inside a .tflite (and the model's file name) are attacker-controlled text: they may only
reach generated C as inert comment text. A model whose names try to break out of a comment, splice
lines, define macros or smuggle non-ASCII must give the same code as a model with plain names."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
from click.testing import CliRunner

from tinypipe.check.validate import validate_host
from tinypipe.cli import main
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.ctext import c_comment_text
from tinypipe.compiler.export_tflm import render_tflm
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder

PAYLOAD = '__attribute__((constructor)) static void pwn(void) { system("touch PWNED"); }'
HOSTILE = [
    f"w */ {PAYLOAD} /* ",  # comment breakout
    f"b\n#define int8_t float\n{PAYLOAD}",  # newlines and a preprocessor line
    "in ??/\nint pwned = 1;",  # trigraph line splice (trigraphs are on under -std=c99)
    f"out \\\n{PAYLOAD} // \\",  # backslash-newline splice
    "é ω \u202e reversed \x00 nul \x1b[31m" + "x" * 300,  # non-ASCII, bidi, control, long
]
BREAKOUT_MARKERS = ("pwn", "constructor", "int8_t float", "system(")


def _fc_model(names: list[str]) -> bytes:
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    x = b.tensor((1, 6), scale=0.05, zero_point=3, name=names[2])
    w = b.tensor((4, 6), scale=0.02, data=rng.integers(-127, 128, (4, 6)), name=names[0])
    bias = b.tensor((4,), "int32", scale=0.001, data=rng.integers(-500, 500, 4), name=names[1])
    y = b.tensor((1, 4), scale=0.1, zero_point=-5, name=names[3])
    b.op("FULLY_CONNECTED", [x, w, bias], [y], "FullyConnectedOptions")
    return b.build([x], [y])


def _code(text: str) -> str:
    """The text with every /* */ comment removed: what the compiler actually sees."""
    return re.sub(r"/\*.*?\*/", "/**/", text, flags=re.S)


def test_comment_text_is_inert() -> None:
    for name in HOSTILE:
        safe = c_comment_text(name)
        assert len(safe) <= 48
        assert all(32 <= ord(c) < 127 for c in safe)
        for bad in ("*", "\\", "?", "\n", '"'):
            assert bad not in safe


def test_hostile_names_leave_no_trace_in_the_code(tmp_path) -> None:
    hostile = generate_c(read_tflite(_fc_model(HOSTILE)), "m").files
    plain = generate_c(read_tflite(_fc_model(["w", "b", "in", "out", "x"])), "m").files
    assert hostile.keys() == plain.keys()
    for fname in hostile:
        assert _code(hostile[fname]) == _code(plain[fname]), fname
        for marker in BREAKOUT_MARKERS:
            assert marker not in _code(hostile[fname]), (fname, marker)
        assert hostile[fname].isascii(), fname


def test_hostile_names_compile_and_run_bit_exact(tmp_path, monkeypatch) -> None:
    """The generated C compiles with -Werror (which also rejects a stray /* in a comment), runs
    under ASan/UBSan bit-exact with TFLM, and none of the injected code ran."""
    model = _fc_model(HOSTILE)
    x = np.random.default_rng(1).integers(-128, 128, (4, 1, 6), dtype=np.int8)
    monkeypatch.chdir(tmp_path)
    verdict, _ = validate_host(model, x, sanitize=True)
    assert verdict.bit_exact, verdict.summary()
    assert not list(tmp_path.rglob("PWNED"))


def test_hostile_file_name_in_export(tmp_path) -> None:
    # a file name cannot hold "/", but can hold "*", newlines, trigraphs and non-ASCII
    evil = tmp_path / f"m ??=??(\n* {PAYLOAD.replace('/', '')} é\n.tflite"
    evil.write_bytes(_fc_model(["w", "b", "in", "out"]))
    out = tmp_path / "c"
    res = CliRunner().invoke(main, ["export", str(evil), "--format", "c", "-o", str(out), "--name", "m"])
    assert res.exit_code == 0, res.output
    cc = shutil.which("cc") or shutil.which("gcc")
    for src in sorted(out.glob("*.c")):
        subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c", str(src),
                        f"-I{out}", "-o", str(tmp_path / (src.stem + ".o"))], check=True)
    for f in (f for f in out.rglob("*") if f.is_file()):  # sources and library manifests
        for marker in BREAKOUT_MARKERS:
            assert marker not in _code(f.read_text()), (f.name, marker)


def test_hostile_file_name_in_tflm_export() -> None:
    g = read_tflite(_fc_model(HOSTILE))
    g.source = f"'/tmp/x */ {PAYLOAD} /*\n.tflite'"
    for fname, text in render_tflm(g, "m", 1024).items():
        for marker in BREAKOUT_MARKERS:
            assert marker not in _code(text), (fname, marker)
        assert text.isascii(), fname
