"""`tinypipe run` on a .tflite made elsewhere ([model] tflite, [data] inputs): no training, the
rest of the pipeline as usual, and a report that names every input and output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_multi_io import _two_in_two_out

from tinypipe.cli import main
from tinypipe.compiler.graph import read_tflite


def _project(tmp_path: Path, boards: list[str], extra: str = "", inputs: bool = True) -> Path:
    model = _two_in_two_out()
    (tmp_path / "model.tflite").write_bytes(model)
    g = read_tflite(model)
    rng = np.random.default_rng(7)
    a, b = (rng.integers(-128, 128, (12, *t.shape), dtype=np.int8) for t in g.input_tensors)
    np.savez(tmp_path / "x.npz", in_a=a, **{"1": b})  # one keyed by name, one by index
    cfg = tmp_path / "tinypipe.toml"
    data = '[data]\ninputs = "x.npz"\n' if inputs else ""
    cfg.write_text(
        f'[project]\nname = "twoio"\n[model]\ntflite = "model.tflite"\n{data}'
        f"[deploy]\nboards = {json.dumps(boards)}\nvalidate_samples = 8\n{extra}"
    )
    return cfg


@pytest.mark.slow
def test_given_two_input_two_output_model_runs_and_reports_its_io(tmp_path) -> None:
    cfg = _project(tmp_path, ["host", "mps2-an386"])
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "[model] running" in res.output and "[train]" not in res.output
    assert "host: BIT-EXACT on 8 samples" in res.output
    assert "mps2-an386: BIT-EXACT on 8 samples" in res.output

    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    g = read_tflite(tmp_path / "model.tflite")
    for key, tensors in (("inputs", g.input_tensors), ("outputs", g.output_tensors)):
        got = report["io"][key]
        assert [t["name"] for t in got] == [t.name for t in tensors]
        assert [t["shape"] for t in got] == [list(t.shape) for t in tensors]
        assert [(t["scale"], t["zero_point"]) for t in got] == [(t.scale, t.zero_point) for t in tensors]
    assert report["accuracy"] == {} and report["model"]["keras_sha256"] is None
    assert all(b["bit_exact"] and b["samples"] == 8 for b in report["boards"].values())
    concat = next(row for row in report["layers"] if row["op"] == "CONCATENATION")
    assert concat["inputs"] == [[1, 2, 3, 5], [1, 2, 3, 5]]

    md = (out / "report.md").read_text()
    assert "| in1 | in_b | 1x2x3x5 | int8 |" in md and "| out0 | cat | 1x2x3x10 | int8 |" in md
    assert "| CONCATENATION | 1x2x3x5 + 1x2x3x5 | 1x2x3x10 |" in md
    assert "accuracy not measured" in md
    page = (out / "report.html").read_text()
    assert 'id="io"' in page and "given as" in page

    # a re-run reuses every stage: the model and the inputs did not change
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 0 and "[model] skipped" in res.output and "[validate] skipped" in res.output


@pytest.mark.parametrize(
    "extra,inputs,message",
    [
        ("", False, "no samples to validate it on"),
        ("[optimize]\nprune = 0.5\n", True, "[optimize] needs the Keras model"),
        ('[data]\ninputs = "nope.npz"\n', False, "'nope.npz' does not exist"),
        ('[model]\ntflite = "../elsewhere.tflite"\n', True, "points outside the project folder"),
        ("max_recompute = 150\n", True, "[deploy] max_recompute = 150 is out of range"),
    ],
)
def test_given_model_config_errors_write_nothing(tmp_path, extra, inputs, message) -> None:
    cfg = _project(tmp_path, ["host"], inputs=inputs)
    if extra.startswith("[model]"):
        cfg.write_text(cfg.read_text().replace('[model]\ntflite = "model.tflite"\n', extra))
    else:
        cfg.write_text(cfg.read_text() + extra)
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()


def test_inputs_that_do_not_fit_the_model_are_refused_before_any_build(tmp_path) -> None:
    cfg = _project(tmp_path, ["host"])
    np.savez(tmp_path / "x.npz", in_a=np.zeros((3, 1, 2, 3, 5), np.int8))  # no second input
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 2, res.output
    assert "no array for model input 1 'in_b'" in res.output
    assert not (tmp_path / "out" / "firmware").exists()
