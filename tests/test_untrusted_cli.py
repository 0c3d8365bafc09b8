"""The command line and tinypipe.toml with hostile or careless arguments: each is one clear
paragraph with exit status 2, before any work, and no folder is left behind."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from click.testing import CliRunner

from tinypipe.cli import main
from tinypipe.compiler.tflite_writer import ModelBuilder
from tinypipe.errors import TinypipeError
from tinypipe.pipeline.config import load_config


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=0.1, zero_point=2)
    y = b.tensor((1, 4), scale=0.1, zero_point=2)
    b.op("RELU", [x], [y])
    path = tmp_path_factory.mktemp("cli") / "relu.tflite"
    path.write_bytes(b.build([x], [y]))
    return path


def _refused(args, *gone) -> str:
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit), res.exception  # no traceback
    for path in gone:
        assert not path.exists(), path
    return res.output


def test_output_under_a_file(tmp_path, model) -> None:
    (tmp_path / "f").write_text("x")
    out = _refused(["export", model, "-o", tmp_path / "f" / "sub" / "o"])
    assert "is a file" in out


@pytest.mark.parametrize(
    "name, why",
    [
        ("tp_conv", "runtime"), ("tp_common", "runtime"), ("TPL_LINK", "runtime"),
        ("int", "keyword"), ("main", "keyword"), ("model\n", "C identifier"),
        ("a" * 300, "300 characters"), ("_model", "C identifier"), ("m-1", "C identifier"),
    ],
)
@pytest.mark.parametrize("fmt", ["c", "tflm"])
def test_bad_names(tmp_path, model, name, why, fmt) -> None:
    out = _refused(["export", model, "--format", fmt, "-o", tmp_path / "o", "--name", name],
                   tmp_path / "o")
    assert why in out


def test_exported_folder_has_normal_permissions(tmp_path, model) -> None:
    old = os.umask(0o022)
    try:
        res = CliRunner().invoke(main, ["export", str(model), "-o", str(tmp_path / "o")])
    finally:
        os.umask(old)
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE((tmp_path / "o").stat().st_mode) == 0o755


@pytest.mark.parametrize(
    "data, why",
    [
        (np.array([["a", "b", "c", "d"]]), "not numbers"),
        (np.ones((1, 4), dtype=np.complex64), "not numbers"),
        (np.zeros(1, dtype=[("a", "i1", 4)]), "not numbers"),
        (np.array([["2020-01-01"] * 4], dtype="datetime64[D]"), "not numbers"),
        (np.ones((1, 4), dtype=bool), "not numbers"),
        (np.array([[0.1, np.nan, 0.2, 0.3]], dtype=np.float32), "NaN"),
        (np.array([[0.1, np.inf, 0.2, 0.3]]), "NaN"),
    ],
)
def test_bad_inputs(tmp_path, model, data, why) -> None:
    np.save(tmp_path / "x.npy", data)
    out = _refused(["validate", model, "--inputs", tmp_path / "x.npy"])
    assert why in out


def test_npz_with_non_numbers(tmp_path, model) -> None:
    np.savez(tmp_path / "x.npz", x=np.array([["a", "b", "c", "d"]]))
    assert "not numbers" in _refused(["validate", model, "--inputs", tmp_path / "x.npz"])


def test_output_files_checked_before_running(tmp_path, model) -> None:
    np.save(tmp_path / "x.npy", np.zeros((2, 1, 4), np.int8))
    out = _refused(["validate", model, "--inputs", tmp_path / "x.npy",
                    "--save-outputs", tmp_path / "missing" / "y.npy"], tmp_path / "missing")
    assert "does not exist" in out
    (tmp_path / "d").mkdir()
    assert "is a folder" in _refused(
        ["validate", model, "--inputs", tmp_path / "x.npy", "--json", tmp_path / "d"])


@pytest.mark.parametrize(
    "toml, why",
    [
        ('[deploy]\nboards = [["host"]]\n', "flat list"),
        ('[deploy]\nvalidate_samples = -3\n', "out of range"),
        ('[quantize]\nrepresentative_samples = 0\n', "out of range"),
        ('[model]\nbatch_size = -1\n', "out of range"),
        ('[data]\ntest_fraction = 1.5\n', "out of range"),
        ('[data]\ntest_fraction = nan\n', "out of range"),
        ('[project]\noutput = "../../elsewhere"\n', "outside the project"),
        ('[project]\noutput = "/tmp/abs"\n', "outside the project"),
        ('[data]\ndataset = "../x.npz"\n', "outside the project"),
        ('[project]\nname = "tp_conv"\n', "runtime"),
        ('[project]\nname = "m\\n"\n', "C identifier"),
    ],
)
def test_bad_config(tmp_path, toml, why) -> None:
    cfg = tmp_path / "proj" / "tinypipe.toml"
    cfg.parent.mkdir()
    cfg.write_text(toml)
    with pytest.raises(TinypipeError, match=why):
        load_config(cfg)
    out = _refused(["run", cfg], cfg.parent / "out")
    assert why in out
