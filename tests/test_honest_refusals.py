"""What real .tflite files meet: TFLM's Signal-library custom ops go to the TFLM backend (inspect
and export agree), a Vela-compiled model is named as such, an int16 model is called int16, the
firmware command only suggests options it has, and the TFLM arena says how it was measured."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner
from flatbuffers import flexbuffers

from tinypipe.check.reference import tflm_interpreter
from tinypipe.cli import main
from tinypipe.compiler.tflite_writer import ModelBuilder


def _energy_model() -> bytes:
    """TFLM's SignalEnergy (|re|^2 + |im|^2 of 8 interleaved int16 complex values)."""
    b = ModelBuilder()
    x = b.tensor((16,), dtype="int16", name="spectrum")
    y = b.tensor((8,), dtype="uint32", name="energy")
    opts = flexbuffers.Dumps({"start_index": 0, "end_index": 8})
    b.op("CUSTOM:SignalEnergy", [x], [y], custom_options=opts)
    return b.build([x], [y])


def _vela_model() -> bytes:
    """The shape Vela leaves: int8 in -> one CUSTOM:ethos-u op (command stream, flash, scratch)
    -> int8 out."""
    b = ModelBuilder()
    x = b.tensor((1, 8), scale=0.1, zero_point=0, name="input")
    cmd = b.tensor((16,), dtype="uint8", data=np.arange(16, dtype=np.uint8), name="command_stream")
    y = b.tensor((1, 4), scale=0.1, zero_point=0, name="output")
    b.op("CUSTOM:ethos-u", [cmd, x], [y], custom_options=b"\x00")
    return b.build([x], [y])


def _write(tmp_path, model: bytes):
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    return path


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_signal_op_exports_for_tflm_and_inspect_agrees(tmp_path):
    model = _energy_model()
    it = tflm_interpreter(model)  # the oracle runs it: TFLM's own kernel
    it.set_input(np.arange(16, dtype=np.int16), 0)
    it.invoke()
    assert it.get_output(0).tolist() == [a * a + (a + 1) ** 2 for a in range(0, 16, 2)]

    path = _write(tmp_path, model)
    res = _run("inspect", path)
    assert res.exit_code == 0, res.output
    assert "TFLM backend (--format tflm): every op supported" in res.output
    assert "#0 CUSTOM:SignalEnergy v1" in res.output  # the compiled C backend does not have it
    res = _run("export", path, "--format", "tflm", "-o", tmp_path / "out", "--name", "fe")
    assert res.exit_code == 0, res.output
    resolver = (tmp_path / "out" / "fe_op_resolver.h").read_text()
    assert "resolver.AddEnergy()" in resolver and "MicroMutableOpResolver<1>" in resolver


def test_unknown_custom_op_refused_by_both(tmp_path):
    b = ModelBuilder()
    x = b.tensor((4,), dtype="int8", scale=0.1, zero_point=0)
    y = b.tensor((4,), dtype="int8", scale=0.1, zero_point=0)
    b.op("CUSTOM:MyOp", [x], [y], custom_options=b"")
    path = _write(tmp_path, b.build([x], [y]))
    res = _run("inspect", path)
    assert res.exit_code == 0 and "TFLM backend (--format tflm): Operator #0 is the custom op 'MyOp'" in res.output
    res = _run("export", path, "--format", "tflm", "-o", tmp_path / "out")
    assert res.exit_code == 2 and "custom op 'MyOp'" in res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fmt", ["c", "tflm"])
def test_vela_model_named_as_such(tmp_path, fmt):
    path = _write(tmp_path, _vela_model())
    res = _run("export", path, "--format", fmt, "-o", tmp_path / "out")
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "compiled by Vela for an Arm Ethos-U NPU" in res.output
    assert "Give tinypipe the model before Vela" in res.output
    assert not (tmp_path / "out").exists()


def test_vela_model_in_inspect_and_firmware(tmp_path):
    path = _write(tmp_path, _vela_model())
    res = _run("inspect", path)
    assert res.exit_code == 0
    assert "#1 CUSTOM:ethos-u" not in res.output  # one op, index 0
    assert "before Vela" in res.output and "compiled by Vela" in res.output
    res = _run("firmware", path, "--board", "host", "-o", tmp_path / "fw")
    assert res.exit_code == 2 and "before Vela" in res.output


def test_int16_model_is_called_int16(tmp_path):
    b = ModelBuilder()
    x = b.tensor((1, 4), dtype="int16", scale=0.1, zero_point=0)
    y = b.tensor((1, 4), dtype="int16", scale=0.1, zero_point=0)
    b.op("LOG_SOFTMAX", [x], [y], "LogSoftmaxOptions")
    res = _run("export", _write(tmp_path, b.build([x], [y])), "--format", "c", "-o", tmp_path / "o")
    assert res.exit_code == 2
    assert "float model" not in res.output and "LOG_SOFTMAX" in res.output


def test_firmware_suggests_only_its_own_options(tmp_path):
    """Every --option a `tinypipe firmware` error mentions after `tinypipe firmware` is one that
    command has; advice for other commands names the command."""
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=0.1, zero_point=0)
    y = b.tensor((1, 4), scale=0.1, zero_point=0)
    b.op("GELU", [x], [y], "GeluOptions")
    res = _run("firmware", _write(tmp_path, b.build([x], [y])), "--board", "host", "-o", tmp_path / "fw")
    assert res.exit_code == 2
    own = set(re.findall(r"--[a-z][a-z-]*", _run("firmware", "--help").output))
    text = re.sub(r"`tinypipe (?!firmware)[a-z]+[^`]*`", "", res.output)  # other commands' advice
    assert set(re.findall(r"--[a-z][a-z-]*", text)) <= own, res.output


def test_tflm_arena_says_how_it_was_measured(tmp_path, digits_tflite):
    res = _run("export", digits_tflite, "--format", "tflm", "-o", tmp_path / "t", "--name", "d")
    assert res.exit_code == 0, res.output
    assert "measured with the 64-bit host interpreter: an upper bound on 32-bit targets" in res.output
    assert "64-bit host interpreter" in (tmp_path / "t" / "d_model_data.h").read_text()
