"""Bad input: one clear paragraph, exit status 2, no traceback, nothing half-written."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tinypipe.cli import main


def _run(args):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit)  # no traceback
    assert "Traceback" not in res.output
    return res.output


@pytest.mark.parametrize("fmt", ["tflm", "c"])
def test_missing_file(tmp_path, fmt):
    out = _run(
        ["export", str(tmp_path / "nope.tflite"), "--format", fmt, "-o", str(tmp_path / "o")]
    )
    assert "does not exist" in out
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("cmd", ["inspect", "export"])
def test_not_a_tflite_file(tmp_path, cmd):
    bad = tmp_path / "notes.tflite"
    bad.write_text("these are not the weights you are looking for\n")
    args = [cmd, str(bad)] + (["-o", str(tmp_path / "o")] if cmd == "export" else [])
    out = _run(args)
    assert "not a readable TFLite model" in out
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("keep", [16, 200, 0.5])
def test_truncated_model(tmp_path, digits_tflite, keep):
    data = digits_tflite.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(data[:cut])
    out = _run(["export", str(bad), "--format", "c", "-o", str(tmp_path / "o")])
    assert "truncated" in out or "not a readable" in out
    assert not (tmp_path / "o").exists()


def test_float_model_where_int8_is_required(tmp_path, float_tflite):
    out = _run(["export", str(float_tflite), "--format", "c", "-o", str(tmp_path / "o")])
    assert "float model" in out and "tinypipe quantize" in out
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("fmt", ["tflm", "c"])
def test_non_empty_output_dir_needs_force(tmp_path, digits_tflite, fmt):
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    (out_dir / "mine.txt").write_text("keep me")
    out = _run(["export", str(digits_tflite), "--format", fmt, "-o", str(out_dir)])
    assert "not empty" in out and "--force" in out
    assert sorted(p.name for p in out_dir.iterdir()) == ["mine.txt"]
    res = CliRunner().invoke(
        main, ["export", str(digits_tflite), "--format", fmt, "-o", str(out_dir), "--force"]
    )
    assert res.exit_code == 0, res.output
    assert (out_dir / "mine.txt").read_text() == "keep me"


def test_bad_name(tmp_path, digits_tflite):
    out = _run(
        [
            "export",
            str(digits_tflite),
            "--format",
            "c",
            "-o",
            str(tmp_path / "o"),
            "--name",
            "9lives",
        ]
    )
    assert "C identifier" in out
    assert not (tmp_path / "o").exists()
