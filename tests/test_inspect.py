"""`tinypipe inspect`: per-op facts checked against the TFLM interpreter and shape arithmetic."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from tinypipe.check.reference import tflm_interpreter
from tinypipe.cli import main
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder


def _inspect_json(path) -> dict:
    res = CliRunner().invoke(main, ["inspect", str(path), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_graph_matches_the_tflm_interpreter(digits_tflite):
    g = read_tflite(digits_tflite)
    interp = tflm_interpreter(digits_tflite.read_bytes())
    d_in, d_out = interp.get_input_details(0), interp.get_output_details(0)
    assert list(g.input_tensors[0].shape) == list(d_in["shape"])
    assert list(g.output_tensors[0].shape) == list(d_out["shape"])
    assert np.isclose(g.input_tensors[0].scale, d_in["quantization_parameters"]["scales"][0])
    assert g.input_tensors[0].zero_point == d_in["quantization_parameters"]["zero_points"][0]


def test_inspect_reports_ops_macs_and_params(digits_tflite):
    info = _inspect_json(digits_tflite)
    g = read_tflite(digits_tflite)
    assert [r["op"] for r in info["operators"]] == [op.opcode for op in g.operators]
    conv = next(r for r in info["operators"] if r["op"] == "CONV_2D")
    # 8x8 output, 8 filters of 3x3x1: MACs from the definition of a convolution
    assert conv["macs"] == 8 * 8 * 8 * 3 * 3 * 1
    assert conv["weight_quant"].startswith("int8 per-channel(8")
    fc = [r for r in info["operators"] if r["op"] == "FULLY_CONNECTED"]
    assert fc[0]["macs"] == 32 * 64 and fc[1]["macs"] == 10 * 32
    # parameter bytes: int8 weights + int32 biases of every op
    expected = sum(
        t.nbytes for op in g.operators for t in g.op_inputs(op) if t is not None and t.is_const
    )
    assert info["totals"]["param_bytes"] == expected
    assert info["totals"]["macs"] == sum(r["macs"] for r in info["operators"])
    assert info["support"]["tflm"]["supported"]


def test_inspect_lists_unsupported_ops(tmp_path):
    b = ModelBuilder()
    x = b.tensor((1, 4), scale=0.1, zero_point=0)
    y = b.tensor((1, 4), scale=0.1, zero_point=0)
    z = b.tensor((1, 4), scale=0.2, zero_point=0)
    b.op("POW", [x, y], [z], "PowOptions")
    path = tmp_path / "pow.tflite"
    path.write_bytes(b.build([x, y], [z]))
    info = _inspect_json(path)
    (u,) = info["support"]["c"]["unsupported"]
    assert u["index"] == 0 and u["op"] == "POW"
    assert "Supported ops" in u["reason"]
    text = CliRunner().invoke(main, ["inspect", str(path)]).output
    assert "1 unsupported op(s)" in text and "#0 POW" in text


def test_inspect_needs_no_tensorflow(digits_tflite):
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "from click.testing import CliRunner\nfrom tinypipe.cli import main\n"
        f"r = CliRunner().invoke(main, ['inspect', r'{digits_tflite}'])\n"
        "assert r.exit_code == 0, r.output\nprint('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr
